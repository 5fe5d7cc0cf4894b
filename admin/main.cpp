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

std::string usage() {
    std::string u =
        "usage: relaygate-admin [GLOBAL OPTIONS] COMMAND [ARGS]\n"
        "       relaygate-admin COMMAND --help\n\n"
        "Manages the relaygate domain registry: verification against DNS, state, records to publish.\n"
        "--config defaults to " +
        std::string(default_config) + " when it exists.\n\ncommands:\n";
    for (const auto& c : admin::commands()) {
        std::string head = std::string(c.name) + " " + std::string(c.synopsis);
        u += "  " + head + std::string(head.size() < 30 ? 30 - head.size() : 1, ' ') + std::string(c.summary) + "\n";
    }
    return u +
           "\nexit codes:\n"
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

// Runs one command ("help COMMAND" is "COMMAND --help"); an exception is a temporary failure.
int dispatch(std::string name, std::vector<std::string> args, admin::context& ctx) {
    if (name == "help") {
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
    try {
        return cmd->run(args, ctx);
    } catch (const std::exception& e) {
        std::cerr << "relaygate-admin " << name << ": " << e.what() << "\n";
        return admin::exit_temporary;
    }
}

}  // namespace

int main(int argc, char** argv) {
    admin::context ctx{.out = std::cout, .err = std::cerr, .now = [] {
                           return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                                std::chrono::system_clock::now().time_since_epoch())
                                                                .count());
                       }};
    std::string log_sink = "syslog";
    po::options_description cli("global options");
    cli.add_options()("log-sink", po::value(&log_sink)->default_value(log_sink), "decision lines: syslog|stderr|both");
    po::options_description keys("registry options (config file keys, also accepted here)");
    registry::add_registry_options(keys, ctx.opts);
    po::options_description global;  // to find the command word: every global option, --config included
    global.add_options()("config,c", po::value<std::string>(), "");
    global.add(cli).add(keys);

    const int cmd_index = find_command(argc, argv, global);
    std::vector<std::string> args(argv + (cmd_index < 0 ? argc : cmd_index + 1), argv + argc);
    const bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                            std::find(args.begin(), args.end(), "-h") != args.end();
    auto read = registry::read_config(cmd_index < 0 ? argc : cmd_index, argv,
                                      {.program = "admin",
                                       .keys = &keys,
                                       .cli_only = &cli,
                                       .usage = usage(),
                                       .default_file = wants_help ? "" : default_config});
    if (!read) {
        std::cerr << "relaygate-admin: " << read.error() << " (see relaygate-admin --help)\n";
        return admin::exit_usage;
    }
    if (read->help || cmd_index < 0 || (argv[cmd_index] == std::string("help") && args.empty())) {
        (read->help || cmd_index >= 0 ? std::cout : std::cerr) << read->help_text;
        return read->help || cmd_index >= 0 ? admin::exit_ok : admin::exit_usage;
    }
    ctx.config_file = read->source.file();
    ctx.config_from_default = ctx.config_file.empty();
    if (auto valid = registry::validate(ctx.opts, read->source); !valid && !wants_help) {
        std::cerr << "relaygate-admin: " << valid.error() << "\n";
        return admin::exit_usage;
    }
    auto sink = log::parse_sink(log_sink);
    if (!sink || sink->where == log::sink::postlog) {
        std::cerr << "relaygate-admin: --log-sink: '" << log_sink << "' is not syslog, stderr or both\n";
        return admin::exit_usage;
    }
    log::configure("relaygate-admin", *sink, log::level::info);
    return dispatch(argv[cmd_index], std::move(args), ctx);
}
