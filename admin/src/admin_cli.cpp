// admin_cli.cpp: relaygate-admin's command line — reads the operator config
// (file + global options) into a context over the injected environment, then
// dispatches to one subcommand of the table in admin_commands.cpp.
//   relaygate-admin [--config FILE] [REGISTRY OPTIONS] COMMAND [ARGS]   (see --help)
// Exit codes: 0 ok, 1 not verified, 2 usage/config error, 3 temporary failure.
// Called by main.cpp with the real streams and clock, and by tests/admin.
#include <algorithm>
#include <filesystem>
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/config_file.hpp"

namespace relaygate::admin {
namespace {

namespace po = boost::program_options;

constexpr const char* default_config = "/etc/relaygate/relaygate.conf";

void print_help(std::ostream& os, const po::options_description& global) {
    os << "usage: relaygate-admin [GLOBAL OPTIONS] COMMAND [ARGS]\n"
          "       relaygate-admin COMMAND --help\n\n"
          "Manages the relaygate domain registry: verification against DNS, state, records to publish.\n\n"
          "commands:\n";
    for (const auto& c : commands()) {
        std::string head = std::string(c.name) + " " + std::string(c.synopsis);
        os << "  " << head << std::string(head.size() < 30 ? 30 - head.size() : 1, ' ') << c.summary << "\n";
    }
    os << "\n"
       << global << "\n"
       << "exit codes:\n"
          "  0  ok (verified / valid)\n"
          "  1  some domain is not verified\n"
          "  2  usage, config, admin-file or state-file error\n"
          "  3  temporary failure only (DNS, state file I/O): try again later\n";
}

// Index of the command word in args: the first argument that is neither an
// option nor the value of a global option that takes one; -1 when none.
int find_command(const std::vector<std::string>& args, const po::options_description& global) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--") return i + 1 < args.size() ? static_cast<int>(i + 1) : -1;
        if (!a.starts_with("-") || a == "-") return static_cast<int>(i);
        if (!a.starts_with("--")) {
            if (a == "-c") ++i;  // the only short global option with a value ("-cFILE" carries its own)
            continue;
        }
        std::string name(a.substr(2));
        if (name.find('=') != std::string::npos) continue;
        const auto* opt = global.find_nothrow(name, false, false, false);
        if (opt != nullptr && opt->semantic()->max_tokens() > 0) ++i;  // skip its value
    }
    return -1;
}

// The global options: the config file, the log sink and every registry key.
struct global_options {
    std::string config;
    std::string log_sink = "syslog";
    po::options_description all{"global options"};
    po::options_description registry_keys{"registry options (config file keys, also accepted here)"};

    explicit global_options(registry::registry_options& opts) {
        all.add_options()("help,h", "print this help")(
            "config,c", po::value(&config)->default_value(default_config),
            "operator config file (registry keys; [milter], [policy], [watch] sections are skipped)")(
            "log-sink", po::value(&log_sink)->default_value(log_sink),
            "where decision log lines go: syslog, stderr or both");
        registry::add_registry_options(registry_keys, opts);
        all.add(registry_keys);
    }
};

// Reads and validates the config into ctx (the default path may be absent:
// command-line keys only; a named one must exist). nullopt = go on.
std::optional<int> read_config(context& ctx, global_options& g, po::variables_map& vm, bool wants_help) {
    g.config = vm["config"].as<std::string>();
    ctx.config_from_default = vm["config"].defaulted() && !std::filesystem::exists(g.config);
    if (!ctx.config_from_default && !wants_help) {
        auto parsed =
            registry::parse_config_file(g.config, g.registry_keys, vm, registry::config_scope::for_program("admin"));
        if (!parsed) {
            ctx.err << "relaygate-admin: " << parsed.error() << "\n";
            return exit_usage;
        }
        ctx.config_file = g.config;
    }
    try {
        po::notify(vm);
    } catch (const po::error& e) {
        ctx.err << "relaygate-admin: " << e.what() << "\n";
        return exit_usage;
    }
    if (wants_help) return std::nullopt;
    const registry::config_source source =
        ctx.config_file.empty()
            ? registry::config_source{}
            : registry::config_source{ctx.config_file, registry::config_scope::for_program("admin")};
    auto valid = registry::validate(ctx.opts, source);
    if (!valid) {
        ctx.err << "relaygate-admin: " << valid.error() << "\n";
        return exit_usage;
    }
    return std::nullopt;
}

// Sends the log lines where --log-sink says; nullopt = go on.
std::optional<int> configure_log(const std::string& log_sink, std::ostream& err) {
    if (log_sink != "stderr" && log_sink != "both" && log_sink != "syslog") {
        err << "relaygate-admin: --log-sink: '" << log_sink << "' is not syslog, stderr or both\n";
        return exit_usage;
    }
    const auto sink = log_sink == "stderr" ? log::sink::stderr_only
                      : log_sink == "both" ? log::sink::both
                                           : log::sink::syslog;
    log::configure("relaygate-admin", sink, log::level::info);
    return std::nullopt;
}

bool asks_for_help(const std::vector<std::string>& args) {
    return std::find(args.begin(), args.end(), "--help") != args.end() ||
           std::find(args.begin(), args.end(), "-h") != args.end();
}

// Runs the command named by args[cmd_index] once the global options are stored in vm.
int dispatch(const std::vector<std::string>& all, int cmd_index, context& ctx, global_options& g,
             po::variables_map& vm) {
    std::string name = all[cmd_index];
    std::vector<std::string> args(all.begin() + cmd_index + 1, all.end());
    if (name == "help") {  // "relaygate-admin help verify" == "relaygate-admin verify --help"
        if (args.empty()) {
            print_help(ctx.out, g.all);
            return exit_ok;
        }
        name = args.front();
        args = {"--help"};
    }
    const auto table = commands();
    const auto cmd = std::find_if(table.begin(), table.end(), [&](const command& c) { return c.name == name; });
    if (cmd == table.end()) {
        ctx.err << "relaygate-admin: unknown command '" << name << "' (see relaygate-admin --help)\n";
        return exit_usage;
    }
    if (auto stop = read_config(ctx, g, vm, asks_for_help(args))) return *stop;
    if (auto stop = configure_log(g.log_sink, ctx.err)) return *stop;
    try {
        return cmd->run(args, ctx);
    } catch (const std::exception& e) {
        ctx.err << "relaygate-admin " << name << ": " << e.what() << "\n";
        return exit_temporary;
    }
}

}  // namespace

int run(const std::vector<std::string>& args, const environment& env) {
    context ctx{.out = env.out, .err = env.err, .now = env.now};
    global_options g(ctx.opts);
    const int cmd_index = find_command(args, g.all);
    const auto global_end = cmd_index < 0 ? args.end() : args.begin() + cmd_index;
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(std::vector<std::string>(args.begin(), global_end)).options(g.all).run(), vm);
    } catch (const po::error& e) {
        ctx.err << "relaygate-admin: " << e.what() << " (see relaygate-admin --help)\n";
        return exit_usage;
    }
    if (vm.count("help") || cmd_index < 0) {
        print_help(cmd_index < 0 && !vm.count("help") ? ctx.err : ctx.out, g.all);
        return vm.count("help") ? exit_ok : exit_usage;
    }
    return dispatch(args, cmd_index, ctx, g, vm);
}

}  // namespace relaygate::admin
