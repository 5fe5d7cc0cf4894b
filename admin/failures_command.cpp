// failures_command.cpp: `relaygate-admin failures --since T [--family F] [--json]
// [--all] [--ledger FILE]` -- what must be resent: the rows of relaygate-watch's
// failure ledger (bounced, expired, long-deferred deliveries) not yet closed by
// a later delivery (--all: those too). Read-only; the format is the watch's
// (format_failure, docs/watch.md "Failure ledger"). Exit 0, 2 on bad options
// or an unreadable ledger.
#include <iostream>

#include "admin_command.hpp"
#include "watch/failure_ledger.hpp"

namespace relaygate::admin {

int run_failures(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("failures options");
    std::string since = "24h", family, ledger = "/var/lib/relaygate/watch/ledger.sqlite";
    desc.add_options()("since", po::value(&since)->default_value(since),
                       "unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, or 30m/2h/7d before now")(
        "family", po::value(&family), "only this destination family (e.g. microsoft)")(
        "json", "one JSON object per line")("all", "also rows closed by a later delivery")(
        "ledger", po::value(&ledger)->default_value(ledger), "relaygate-watch's ledger (STATE_DIR/ledger.sqlite)");
    po::positional_options_description pos;
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("failures"), args, desc, pos, vm, ctx)) return *stop;
    const auto from = watch::parse_since(since, ctx.now());
    if (!from) {
        ctx.err << "relaygate-admin failures: " << from.error() << "\n";
        return exit_usage;
    }
    auto db = watch::failure_ledger::open(ledger, true);
    if (!db) {
        ctx.err << "relaygate-admin failures: " << db.error() << "\n";
        return exit_usage;
    }
    for (const auto& row : (*db)->list({.since = *from, .family = family, .include_delivered = vm.count("all") > 0})) {
        ctx.out << watch::format_failure(row, vm.count("json") > 0) << "\n";
    }
    return exit_ok;
}

}  // namespace relaygate::admin
