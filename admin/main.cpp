// main.cpp: relaygate-admin — reads the operator config (file + command line),
// then dispatches to one subcommand of the table in admin_commands.cpp.
//   relaygate-admin [--config FILE] [REGISTRY OPTIONS] COMMAND [ARGS]   (see --help)
// Exit codes: 0 ok, 1 not verified, 2 usage/config error, 3 temporary failure.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "admin_command.hpp"
#include "relaygate/log/log.hpp"

namespace po = boost::program_options;
using namespace relaygate;

namespace {

constexpr const char* default_config = "/etc/relaygate/relaygate.conf";
// Sections of the shared config file that belong to the daemons, not to the registry.
const std::vector<std::string> daemon_sections = {"milter", "policy", "watch"};

void print_help(std::ostream& os, const po::options_description& global) {
    os << "usage: relaygate-admin [GLOBAL OPTIONS] COMMAND [ARGS]\n"
          "       relaygate-admin COMMAND --help\n\n"
          "Manages the relaygate domain registry: verification against DNS, state, records to publish.\n\n"
          "commands:\n";
    for (const auto& c : admin::commands()) {
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

// Index of the command word in argv: the first argument that is neither an
// option nor the value of a global option that takes one.
int find_command(int argc, char** argv, const po::options_description& global) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") return i + 1 < argc ? i + 1 : -1;
        if (!a.starts_with("-") || a == "-") return i;
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

}  // namespace

int main(int argc, char** argv) {
    admin::context ctx{.out = std::cout, .err = std::cerr, .now = [] {
                           return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                                std::chrono::system_clock::now().time_since_epoch())
                                                                .count());
                       }};
    std::string config;
    std::string log_sink = "syslog";
    po::options_description global("global options");
    global.add_options()("help,h", "print this help")(
        "config,c", po::value(&config)->default_value(default_config),
        "operator config file (registry keys; [milter], [policy], [watch] sections are skipped)")(
        "log-sink", po::value(&log_sink)->default_value(log_sink),
        "where decision log lines go: syslog, stderr or both");
    po::options_description registry_keys("registry options (config file keys, also accepted here)");
    registry::add_registry_options(registry_keys, ctx.opts);
    global.add(registry_keys);

    const int cmd_index = find_command(argc, argv, global);
    const int global_argc = cmd_index < 0 ? argc : cmd_index;
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(global_argc, argv).options(global).run(), vm);
    } catch (const po::error& e) {
        std::cerr << "relaygate-admin: " << e.what() << " (see relaygate-admin --help)\n";
        return admin::exit_usage;
    }
    if (vm.count("help") || cmd_index < 0) {
        print_help(cmd_index < 0 && !vm.count("help") ? std::cerr : std::cout, global);
        return vm.count("help") ? admin::exit_ok : admin::exit_usage;
    }
    std::string name = argv[cmd_index];
    std::vector<std::string> args(argv + cmd_index + 1, argv + argc);
    if (name == "help") {  // "relaygate-admin help verify" == "relaygate-admin verify --help"
        if (args.empty()) {
            print_help(std::cout, global);
            return admin::exit_ok;
        }
        name = args.front();
        args = {"--help"};
    }
    const admin::command* cmd = nullptr;
    for (const auto& c : admin::commands()) {
        if (c.name == name) cmd = &c;
    }
    if (cmd == nullptr) {
        std::cerr << "relaygate-admin: unknown command '" << name << "' (see relaygate-admin --help)\n";
        return admin::exit_usage;
    }
    const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                            std::find(args.begin(), args.end(), "-h") != args.end();

    // The config file: the default path may be absent (command-line keys only); a named one must exist.
    config = vm["config"].as<std::string>();
    ctx.config_from_default = vm["config"].defaulted() && !std::filesystem::exists(config);
    if (!ctx.config_from_default && !wants_help) {
        auto parsed = registry::parse_config_file(config, registry_keys, vm, daemon_sections);
        if (!parsed) {
            std::cerr << "relaygate-admin: " << parsed.error() << "\n";
            return admin::exit_usage;
        }
        ctx.config_file = config;
    }
    try {
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "relaygate-admin: " << e.what() << "\n";
        return admin::exit_usage;
    }
    if (!wants_help) {
        auto valid = registry::validate(ctx.opts, ctx.config_file);
        if (!valid) {
            std::cerr << "relaygate-admin: " << valid.error() << "\n";
            return admin::exit_usage;
        }
    }
    const auto sink = log_sink == "stderr" ? log::sink::stderr_only
                      : log_sink == "both" ? log::sink::both
                                           : log::sink::syslog;
    if (log_sink != "stderr" && log_sink != "both" && log_sink != "syslog") {
        std::cerr << "relaygate-admin: --log-sink: '" << log_sink << "' is not syslog, stderr or both\n";
        return admin::exit_usage;
    }
    log::configure("relaygate-admin", sink, log::level::info);
    try {
        return cmd->run(args, ctx);
    } catch (const std::exception& e) {
        std::cerr << "relaygate-admin " << name << ": " << e.what() << "\n";
        return admin::exit_temporary;
    }
}
