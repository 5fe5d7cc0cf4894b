// records_command.cpp: `relaygate-admin records DOMAIN [--zone]` — the exact
// DNS records the domain owner must publish, the way Amazon SES and SendGrid
// show them: the DKIM TXT at selector._domainkey.domain with p= derived from
// the held private key, and an SPF TXT with an ip4:/ip6: mechanism for every
// outbound IP (pool, designated, spares). Besides, the forms that survive a
// change of the relay's IPs or keys: SPF by include: of the operator's record
// (spf-include-name) and DKIM by a CNAME to a name the operator hosts.
// --zone prints zone-file lines only (--delegated: of those two forms).
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::admin {
namespace {

// A TXT value as zone-file strings of at most 255 bytes each.
std::string quoted_strings(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); i += 255) {
        if (!out.empty()) out += ' ';
        out += '"' + value.substr(i, 255) + '"';
    }
    return out;
}

std::string spf_mechanisms(const std::vector<std::string>& ips) {
    std::string out;
    for (const auto& ip : ips)
        out += (out.empty() ? "" : " ") + std::string(ip.find(':') == std::string::npos ? "ip4:" : "ip6:") + ip;
    return out;
}

// Where the operator hosts an owner's DKIM key in the CNAME form:
// <selector>.<domain>.dkim.<first operator domain>; "" without an operator domain.
std::string dkim_delegation_target(const registry::domain_entry& e, const registry::registry_options& o) {
    if (o.operator_domains.empty()) return "";
    return e.selector + "." + e.domain + ".dkim." + o.operator_domains.front();
}

// The include and CNAME forms, for the human-readable output.
void print_delegated_forms(std::ostream& out, const registry::domain_entry& e, const std::string& dkim_name,
                           const std::string& mechanisms, const registry::registry_options& o) {
    const std::string include = o.spf_include();
    const std::string target = dkim_delegation_target(e, o);
    if (include.empty() || target.empty()) return;
    out << "\nOr, so that a new outbound IP or a new key of this relay needs nothing from " << e.domain << ":\n"
        << "1b. DKIM by CNAME (instead of 1)\n"
        << "   Type:  CNAME\n"
        << "   Name:  " << dkim_name << "\n"
        << "   Value: " << target << "\n"
        << "   (the relay publishes the TXT of 1. at " << target << ")\n"
        << "2b. SPF by include (instead of 2)\n"
        << "   Type:  TXT\n"
        << "   Name:  " << e.domain << "\n"
        << "   Value: v=spf1 include:" << include << " ~all\n"
        << "   (the relay publishes " << include << " TXT \"v=spf1 " << mechanisms
        << " -all\"; relaygate-admin lint checks it)\n";
}

// --zone --delegated: the owner's lines, then the operator's.
int print_delegated_zone(std::ostream& out, std::ostream& err, const registry::domain_entry& e,
                         const std::string& dkim_name, const std::string& dkim_value, const std::string& mechanisms,
                         const registry::registry_options& o) {
    const std::string include = o.spf_include();
    const std::string target = dkim_delegation_target(e, o);
    if (include.empty() || target.empty()) {
        err << "relaygate-admin: --delegated needs operator-domain (and optionally spf-include-name)\n";
        return exit_usage;
    }
    out << "; published by " << e.domain << "\n"
        << dkim_name << ". IN CNAME " << target << ".\n"
        << e.domain << ". IN TXT " << quoted_strings("v=spf1 include:" + include + " ~all") << "\n"
        << "; published by the relay operator\n"
        << target << ". IN TXT ( " << quoted_strings(dkim_value) << " )\n"
        << include << ". IN TXT " << quoted_strings("v=spf1 " + mechanisms + " -all") << "\n";
    return exit_ok;
}

// The guided form: each record with type, name, value and zone-file line, the delegated forms, DMARC.
void print_guide(context& ctx, const registry::domain_entry& entry, const registry::held_key& key,
                 const std::string& dkim_name, const std::string& dkim_value, const std::string& mechanisms) {
    const std::string spf_value = "v=spf1 " + mechanisms + " ~all";
    ctx.out << "DNS records " << entry.domain << " must publish (owner: " << entry.owner << ")\n\n"
            << "1. DKIM (required)\n"
            << "   Type:  TXT\n"
            << "   Name:  " << dkim_name << "\n"
            << "   Value: " << dkim_value << "\n"
            << "   Zone file (strings of at most 255 bytes):\n"
            << "   " << dkim_name << ". IN TXT ( " << quoted_strings(dkim_value) << " )\n";
    if (key.algorithm == registry::key_algorithm::rsa && key.bits < ctx.opts.min_rsa_bits) {
        ctx.out << "   WARNING: this RSA key has " << key.bits << " bits; verification requires at least "
                << ctx.opts.min_rsa_bits << ". Generate a 2048-bit key.\n";
    }
    ctx.out << "\n2. SPF (required): must pass for every outbound IP of this relay\n"
            << "   Type:  TXT\n"
            << "   Name:  " << entry.domain << "\n"
            << "   Value: " << spf_value << "\n"
            << "   Zone file:\n"
            << "   " << entry.domain << ". IN TXT " << quoted_strings(spf_value) << "\n"
            << "   If " << entry.domain << " already has a v=spf1 record, add \"" << mechanisms << "\" to it instead:\n"
            << "   a domain may publish only one SPF record.\n";
    print_delegated_forms(ctx.out, entry, dkim_name, mechanisms, ctx.opts);
    ctx.out << "\n3. DMARC (recommended, not required)\n"
            << "   Type:  TXT\n"
            << "   Name:  _dmarc." << entry.domain << "\n"
            << "   Value: v=DMARC1; p=none   (tighten to quarantine/reject once reports look clean)\n"
            << "\nThen run: relaygate-admin verify " << entry.domain << "\n";
}

// During a key rotation: every selector's record with what to do with it (publish, keep, remove).
// zone: zone-file lines only (the removable ones as comments).
int print_rotation(context& ctx, const registry::domain_entry& e, const registry::verification_status& status,
                   bool zone) {
    const auto views = rotation_of(e, status, ctx.now(), ctx.opts.rotation_overlap);
    if (views.empty()) return exit_ok;
    if (!zone) ctx.out << "\nDKIM key rotation under way: " << rotation_text(views, status.signing_since) << "\n";
    for (std::size_t i = 1; i < views.size() + 1; ++i) {
        const auto& v = views[i - 1];
        auto key = registry::load_held_key(registry::selector_key(e, i - 1));
        if (!key) {
            ctx.err << "relaygate-admin: " << e.domain << ": " << key.error() << "\n";
            return exit_usage;
        }
        const std::string name = v.name + "._domainkey." + e.domain;
        const std::string value = registry::dkim_record_for(*key);
        if (zone) {
            if (i == 1) continue;  // the first selector's line is printed above
            ctx.out << (v.removable ? "; removable: " : "") << name << ". IN TXT ( " << quoted_strings(value) << " )\n";
            continue;
        }
        const std::string what = v.removable ? "REMOVABLE: the owner may delete it now (and you its selector= key=)"
                                 : v.signing ? "signing now: keep it published"
                                 : v.removable_at != 0
                                     ? "old key: keep it published until " + format_time(v.removable_at)
                                     : "new key: publish it; relaygate switches once it verifies";
        ctx.out << "1." << i << " DKIM selector " << v.name << " (" << what << ")\n"
                << "   Type:  TXT\n"
                << "   Name:  " << name << "\n"
                << "   Value: " << value << "\n"
                << "   Zone file:\n"
                << "   " << name << ". IN TXT ( " << quoted_strings(value) << " )\n";
    }
    return exit_ok;
}

}  // namespace

int run_records(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("records options");
    std::string domain;
    desc.add_options()("zone", "print only zone-file lines (for pasting into a BIND-style zone)")(
        "delegated", "with --zone: the include/CNAME forms, the owner's lines and the relay's")(
        "domain", po::value(&domain)->required(), "the registered domain");
    po::positional_options_description pos;
    pos.add("domain", 1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("records"), args, desc, pos, vm, ctx)) return *stop;

    auto selected = load_domains({domain}, ctx);
    if (!selected) return exit_usage;
    const auto& entry = *selected->entries.front();
    auto key = registry::load_held_key(entry.key_path);
    if (!key) {
        ctx.err << "relaygate-admin: " << entry.domain << ": " << key.error() << "\n";
        return exit_usage;
    }
    const std::string dkim_name = entry.selector + "._domainkey." + entry.domain;
    const std::string dkim_value = registry::dkim_record_for(*key);
    const std::string mechanisms = spf_mechanisms(ctx.opts.all_outbound_ips());
    const std::string spf_value = "v=spf1 " + mechanisms + " ~all";

    if (vm.count("zone") && vm.count("delegated")) {
        return print_delegated_zone(ctx.out, ctx.err, entry, dkim_name, dkim_value, mechanisms, ctx.opts);
    }
    const auto status = selected->registry->status_of(entry.domain);
    if (vm.count("zone")) {
        ctx.out << dkim_name << ". IN TXT ( " << quoted_strings(dkim_value) << " )\n"
                << entry.domain << ". IN TXT " << quoted_strings(spf_value) << "\n";
        return print_rotation(ctx, entry, status, true);
    }
    print_guide(ctx, entry, *key, dkim_name, dkim_value, mechanisms);
    return print_rotation(ctx, entry, status, false);
}

}  // namespace relaygate::admin
