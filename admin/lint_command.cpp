// lint_command.cpp: `relaygate-admin lint [--no-keys]` — validates what a
// daemon would load, without touching a running one: the config (already
// validated by main), every line of the admin file (all errors, not just the
// first), the state file, and each held private key (readable, RSA of
// min-rsa-bits..4096 bits or Ed25519). Exit 0 when clean, 2 otherwise.
#include <iostream>
#include <map>

#include "admin_command.hpp"
#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::admin {

int run_lint(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("lint options");
    desc.add_options()("no-keys", "do not read the held private keys");
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

    auto states = registry::read_state_file(o.state_file);
    if (!states) {
        ctx.err << states.error() << "\n";
        ++problems;
    } else if (admin.ok()) {
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
    }

    if (!vm.count("no-keys") && admin.ok()) {
        std::map<std::string, std::string> checked;  // key path -> problem ("" = fine); keys are often shared
        std::size_t key_problems = 0;
        for (const auto& e : admin.entries) {
            auto [it, fresh] = checked.try_emplace(e.key_path);
            if (fresh) {
                auto key = registry::load_held_key(e.key_path);
                if (!key) {
                    it->second = key.error();
                } else if (key->algorithm == registry::key_algorithm::rsa &&
                           (key->bits < o.min_rsa_bits || key->bits > 4096)) {
                    it->second = "RSA key of " + std::to_string(key->bits) +
                                 " bits (allowed: " + std::to_string(o.min_rsa_bits) + " to 4096)";
                }
            }
            if (!it->second.empty()) {
                ctx.err << registry::admin_file_error{*e.source_file, e.source_line, "key", it->second}.to_string()
                        << "\n";
                ++key_problems;
            }
        }
        problems += key_problems;
        if (key_problems == 0) ctx.out << "keys: " << checked.size() << " held keys: ok\n";
    }
    if (problems) {
        ctx.err << "lint: " << problems << " problem" << (problems == 1 ? "" : "s") << "\n";
        return exit_usage;
    }
    ctx.out << "lint: ok\n";
    return exit_ok;
}

}  // namespace relaygate::admin
