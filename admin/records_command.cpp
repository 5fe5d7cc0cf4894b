// records_command.cpp: `relaygate-admin records DOMAIN [--zone]` — the exact
// DNS records the domain owner must publish, the way Amazon SES and SendGrid
// show them: the DKIM TXT at selector._domainkey.domain with p= derived from
// the held private key, and an SPF TXT with an ip4:/ip6: mechanism for every
// outbound IP (pool, designated, spares). --zone prints zone-file lines only.
#include <iostream>

#include "admin_command.hpp"
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

}  // namespace

int run_records(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("records options");
    std::string domain;
    desc.add_options()("zone", "print only zone-file lines (for pasting into a BIND-style zone)")(
        "domain", po::value(&domain)->required(), "the registered domain");
    po::positional_options_description pos;
    pos.add("domain", 1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("records"), args, desc, pos, vm, ctx)) return *stop;

    auto reg = load_or_report(ctx);
    if (!reg) return exit_usage;
    auto selected = select_domains(*reg, {domain}, ctx);
    if (!selected) return exit_usage;
    const auto& entry = *selected->front();
    auto key = registry::load_held_key(entry.key_path);
    if (!key) {
        ctx.err << "relaygate-admin: " << entry.domain << ": " << key.error() << "\n";
        return exit_usage;
    }
    const std::string dkim_name = entry.selector + "._domainkey." + entry.domain;
    const std::string dkim_value = registry::dkim_record_for(*key);
    const std::string mechanisms = spf_mechanisms(ctx.opts.all_outbound_ips());
    const std::string spf_value = "v=spf1 " + mechanisms + " ~all";

    if (vm.count("zone")) {
        ctx.out << dkim_name << ". IN TXT ( " << quoted_strings(dkim_value) << " )\n"
                << entry.domain << ". IN TXT " << quoted_strings(spf_value) << "\n";
        return exit_ok;
    }
    ctx.out << "DNS records " << entry.domain << " must publish (owner: " << entry.owner << ")\n\n"
            << "1. DKIM (required)\n"
            << "   Type:  TXT\n"
            << "   Name:  " << dkim_name << "\n"
            << "   Value: " << dkim_value << "\n"
            << "   Zone file (strings of at most 255 bytes):\n"
            << "   " << dkim_name << ". IN TXT ( " << quoted_strings(dkim_value) << " )\n";
    if (key->algorithm == registry::key_algorithm::rsa && key->bits < ctx.opts.min_rsa_bits) {
        ctx.out << "   WARNING: this RSA key has " << key->bits << " bits; verification requires at least "
                << ctx.opts.min_rsa_bits << ". Generate a 2048-bit key.\n";
    }
    ctx.out << "\n2. SPF (required): must pass for every outbound IP of this relay\n"
            << "   Type:  TXT\n"
            << "   Name:  " << entry.domain << "\n"
            << "   Value: " << spf_value << "\n"
            << "   Zone file:\n"
            << "   " << entry.domain << ". IN TXT " << quoted_strings(spf_value) << "\n"
            << "   If " << entry.domain << " already has a v=spf1 record, add \"" << mechanisms << "\" to it instead:\n"
            << "   a domain may publish only one SPF record.\n"
            << "\n3. DMARC (recommended, not required)\n"
            << "   Type:  TXT\n"
            << "   Name:  _dmarc." << entry.domain << "\n"
            << "   Value: v=DMARC1; p=none   (tighten to quarantine/reject once reports look clean)\n"
            << "\nThen run: relaygate-admin verify " << entry.domain << "\n";
    return exit_ok;
}

}  // namespace relaygate::admin
