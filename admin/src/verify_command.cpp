// verify_command.cpp: `relaygate-admin verify [--dry-run] [DOMAIN...]` —
// verifies the named (or all) domains against DNS now, prints the DKIM, SPF
// (per outbound IP) and DMARC results of each, and records them in the state
// file through verification_policy (unless --dry-run); running daemons pick
// the new state up by themselves. Exit 0 all verified, 1 some failed,
// 3 only temporary failures (or the state file could not be written).
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/domain_verifier.hpp"
#include "relaygate/verify/reverify_scheduler.hpp"

namespace relaygate::admin {
namespace {

void print_report(std::ostream& out, const registry::domain_report& r) {
    auto dkim_line = [&out](const registry::dkim_result& d, std::string_view note) {
        out << "  DKIM   " << d.record_name << ": " << registry::to_string(d.outcome);
        if (!d.detail.empty() && d.outcome != registry::dkim_outcome::match) out << " (" << d.detail << ")";
        out << note << "\n";
    };
    if (r.selectors.empty()) dkim_line(r.dkim, "");
    for (const auto& s : r.selectors) {  // key rotation: every selector, the verdict rests on the signing one
        dkim_line(s.dkim, s.selector == r.signing_selector ? " [signing]" : "");
    }
    for (const auto& ip : r.spf) {
        out << "  SPF    " << ip.ip << ": " << registry::to_string(ip.outcome);
        if (!ip.detail.empty() && ip.outcome != registry::spf_outcome::pass) out << " (" << ip.detail << ")";
        out << "\n";
    }
    out << "  DMARC  "
        << (r.dmarc.present ? "p=" + r.dmarc.policy : std::string("no record (recommended, not required)")) << "\n";
}

// Records the reports in the state file and prints each transition; false (printed) when not written.
bool record(context& ctx, const std::vector<registry::domain_report>& reports) {
    auto recorded = registry::record_reports(ctx.opts.state_file, reports, ctx.now(), ctx.opts.grace_period);
    if (!recorded) {
        ctx.err << "relaygate-admin verify: state not recorded: " << recorded.error() << "\n";
        return false;
    }
    for (const auto& r : *recorded) {
        ctx.out << r.domain << ": state " << registry::to_string(r.previous.state) << " -> "
                << registry::to_string(r.result.next.state) << " (" << registry::to_string(r.result.change);
        if (r.result.change == registry::transition::grace_started ||
            r.result.change == registry::transition::in_grace) {
            ctx.out << ", demoted at " << format_time(r.result.next.failing_since + ctx.opts.grace_period.count())
                    << " unless fixed";
        }
        ctx.out << ")\n";
    }
    return true;
}

}  // namespace

int run_verify(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("verify options");
    std::vector<std::string> names;
    unsigned parallel = 64;
    desc.add_options()("dry-run", "verify and print, but do not record the result in the state file")(
        "parallel", po::value(&parallel)->default_value(parallel), "domains verified at once")(
        "domain", po::value(&names)->composing(), "a domain to verify (default: all)");
    po::positional_options_description pos;
    pos.add("domain", -1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("verify"), args, desc, pos, vm, ctx)) return *stop;
    if (parallel == 0 || parallel > 4096) {
        ctx.err << "relaygate-admin verify: --parallel must be 1..4096\n";
        return exit_usage;
    }

    auto selected = load_domains(names, ctx);
    if (!selected) return exit_usage;
    std::vector<registry::domain_entry> entries;
    entries.reserve(selected->entries.size());
    for (const auto* e : selected->entries) entries.push_back(*e);

    dns::resolver_options dns_opts;
    dns_opts.forwarders = ctx.opts.dns_forwarders;
    dns_opts.timeout = ctx.opts.dns_timeout;
    dns::resolver resolver(dns_opts);
    registry::domain_verifier verifier(resolver, ctx.opts.all_outbound_ips(), ctx.opts.min_rsa_bits);
    const auto& reg = selected->registry;
    auto reports = verifier.verify_all(entries, parallel, [&reg](const registry::domain_entry& e) {
        return reg->status_of(e.domain).signing_selector;
    });

    bool any_definitive = false, any_temporary = false;
    for (const auto& r : reports) {
        auto summary = registry::summarise(r);
        any_definitive |= summary.definitive_failure;
        any_temporary |= !summary.verified && !summary.definitive_failure;
        ctx.out << r.domain << ": "
                << (summary.verified             ? "verified"
                    : summary.definitive_failure ? "NOT verified: " + summary.reason_code
                                                 : "temporary failure: " + summary.reason_code)
                << "\n";
        print_report(ctx.out, r);
    }
    if (!vm.count("dry-run") && !record(ctx, reports)) return exit_temporary;
    if (any_definitive) return exit_not_verified;
    if (any_temporary) return exit_temporary;
    return exit_ok;
}

}  // namespace relaygate::admin
