// lint_command.cpp: `relaygate-admin lint [--no-keys] [--no-dns]` — validates
// what a daemon would load, without touching a running one: the config (already
// validated by main), every line of the admin file (all errors, not just the
// first), the state file, each held private key (readable, RSA of
// min-rsa-bits..4096 bits or Ed25519), and through DNS the operator's SPF record
// that owners include: (spf-include-name), which must pass for every outbound IP.
// Exit 0 when clean, 2 otherwise.
#include <algorithm>
#include <map>
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/dkim_verifier.hpp"
#include "relaygate/verify/spf_verifier.hpp"

namespace relaygate::admin {
namespace {

// The state file: readable, and how many registered domains it holds in each state. Returns the problems.
std::size_t lint_state_file(context& ctx, const registry::admin_file_result& admin) {
    const auto& o = ctx.opts;
    auto states = registry::read_state_file(o.state_file);
    if (!states) {
        ctx.err << states.error() << "\n";
        return 1;
    }
    if (!admin.ok()) return 0;
    std::size_t counts[3] = {0, 0, 0}, stale = 0;
    std::unordered_map<std::string_view, bool> registered;
    for (const auto& e : admin.entries) registered.emplace(e.domain, true);
    for (const auto& [domain, st] : *states) {
        if (!registered.count(domain)) {
            ++stale;
            continue;
        }
        ++counts[static_cast<int>(st.state)];
    }
    ctx.out << "state file: " << o.state_file << ": ok, " << counts[1] << " verified, " << counts[2] << " failed, "
            << admin.entries.size() - counts[1] - counts[2] << " pending";
    if (stale) ctx.out << " (" << stale << " states of domains no longer registered, ignored)";
    ctx.out << "\n";
    return 0;
}

// One held key of entry e, checked once per path.
void lint_key(context& ctx, const registry::domain_entry& e, const std::string& path,
              std::map<std::string, std::string>& checked, std::size_t& key_problems) {
    const auto& o = ctx.opts;
    auto [it, fresh] = checked.try_emplace(path);
    if (fresh) {
        auto key = registry::load_held_key(path);
        if (!key) {
            it->second = key.error();
        } else if (key->algorithm == registry::key_algorithm::rsa && (key->bits < o.min_rsa_bits || key->bits > 4096)) {
            it->second = "RSA key of " + std::to_string(key->bits) +
                         " bits (allowed: " + std::to_string(o.min_rsa_bits) + " to 4096)";
        }
    }
    if (!it->second.empty()) {
        ctx.err << registry::admin_file_error{*e.source_file, e.source_line, "key", it->second}.to_string() << "\n";
        ++key_problems;
    }
}

// Each held key once: readable, RSA of min-rsa-bits..4096 bits or Ed25519. Returns the problems.
std::size_t lint_keys(context& ctx, const registry::admin_file_result& admin) {
    std::map<std::string, std::string> checked;  // key path -> problem ("" = fine); keys are often shared
    std::size_t key_problems = 0;
    for (const auto& e : admin.entries) {
        for (std::size_t i = 0; i < registry::selector_count(e); ++i) {  // every selector's key (key rotation)
            lint_key(ctx, e, registry::selector_key(e, i), checked, key_problems);
        }
    }
    if (key_problems == 0) ctx.out << "keys: " << checked.size() << " held keys: ok\n";
    return key_problems;
}

// The record owners include: must pass for every outbound IP, spares included.
// Set by spf-include-name it is required; the default name (_spf.<operator-domain>)
// may be absent (owners then use the ip4:/ip6: form). Returns the problems found.
std::size_t lint_spf_include(context& ctx) {
    const auto& o = ctx.opts;
    const std::string name = o.spf_include();
    if (name.empty()) {
        ctx.out << "spf include: no operator-domain or spf-include-name, not checked\n";
        return 0;
    }
    dns::resolver resolver(dns::resolver_options{.forwarders = o.dns_forwarders, .timeout = o.dns_timeout});
    registry::spf_verifier spf(resolver);
    auto results = spf.check_all(name, o.all_outbound_ips());
    bool absent = std::all_of(results.begin(), results.end(),
                              [](const auto& r) { return r.outcome == registry::spf_outcome::none; });
    if (absent && o.spf_include_name.empty()) {
        ctx.out << "spf include: " << name << ": not published (owners must list the IPs themselves)\n";
        return 0;
    }
    std::size_t problems = 0;
    for (const auto& r : results) {
        if (r.outcome == registry::spf_outcome::pass) continue;
        ctx.err << "spf include: " << name << ": " << r.ip << ": " << registry::to_string(r.outcome) << " (" << r.detail
                << ")\n";
        ++problems;
    }
    if (problems == 0) ctx.out << "spf include: " << name << ": pass for all " << results.size() << " outbound IPs\n";
    return problems;
}

}  // namespace

int run_lint(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("lint options");
    desc.add_options()("no-keys", "do not read the held private keys")(
        "no-dns", "do not check the operator's SPF include record through DNS");
    po::positional_options_description pos;
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("lint"), args, desc, pos, vm, ctx)) return *stop;

    std::size_t problems = 0;
    const auto& o = ctx.opts;
    if (ctx.config_file.empty()) {
        ctx.out << "config: no config file (defaults and command line)\n";
    } else {
        ctx.out << "config: " << ctx.config_file << ": ok\n";
    }
    ctx.out << "  outbound IPs (SPF must pass for each): " << o.all_outbound_ips().size()
            << ", operator domains: " << o.operator_domains.size() << "\n";

    auto admin = registry::read_admin_file(o.admin_file);
    for (const auto& e : admin.errors) {
        ctx.err << e.to_string() << "\n";
        ++problems;
    }
    if (admin.ok()) ctx.out << "admin file: " << o.admin_file << ": ok, " << admin.entries.size() << " domains\n";

    problems += lint_state_file(ctx, admin);
    if (!vm.count("no-keys") && admin.ok()) problems += lint_keys(ctx, admin);
    if (!vm.count("no-dns")) problems += lint_spf_include(ctx);
    if (problems) {
        ctx.err << "lint: " << problems << " problem" << (problems == 1 ? "" : "s") << "\n";
        return exit_usage;
    }
    ctx.out << "lint: ok\n";
    return exit_ok;
}

}  // namespace relaygate::admin
