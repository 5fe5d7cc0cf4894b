// admin_commands.cpp: the dispatch table of relaygate-admin, and the helpers
// every command shares (argument parsing with --help, loading the snapshot,
// selecting domains). Adding a command = a new <name>_command.cpp + one row here.
#include <ctime>
#include <ostream>
#include <stdexcept>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/registry/domain_name.hpp"
#include "relaygate/registry/registry_loader.hpp"

namespace relaygate::admin {

int run_verify(const std::vector<std::string>& args, context& ctx);
int run_status(const std::vector<std::string>& args, context& ctx);
int run_records(const std::vector<std::string>& args, context& ctx);
int run_lint(const std::vector<std::string>& args, context& ctx);
int run_rotate(const std::vector<std::string>& args, context& ctx);
int run_check(const std::vector<std::string>& args, context& ctx);      // check_command.cpp (milter part)
int run_egress(const std::vector<std::string>& args, context& ctx);     // egress_command.cpp (policy part)
int run_failures(const std::vector<std::string>& args, context& ctx);   // failures_command.cpp (watch part)
int run_check_url(const std::vector<std::string>& args, context& ctx);  // url_command.cpp (milter part)
int run_scan(const std::vector<std::string>& args, context& ctx);       // url_command.cpp (milter part)

namespace {

const command table[] = {
    {"verify", "[DOMAIN...]", "verify domains against DNS now (all when none given) and record the result", run_verify},
    {"status", "[--json] [DOMAIN...]", "show each domain's verification state and reasons", run_status},
    {"records", "DOMAIN", "print the DNS records the domain owner must publish (DKIM and SPF)", run_records},
    {"rotate", "DOMAIN [--type rsa|ed25519] [--selector NAME]",
     "start a DKIM key rotation: new key, the record to publish, the admin-file line", run_rotate},
    {"lint", "[--no-keys]", "validate the config, the admin file, the state file and the held keys", run_lint},
    {"check", "FROM [--sasl LOGIN] [--client IP] [--sender SENDER]",
     "show relaygate-milter's verdict and SMTP reply for a From: address", run_check},
    {"check-url", "URL [--from-domain D] [--set KEY=VALUE]",
     "show what relaygate-milter's URL check finds for one URL, and why", run_check_url},
    {"scan", "FILE.eml [--from-domain D] [--set KEY=VALUE]",
     "show every URL relaygate-milter's URL check finds in a message, and its verdict", run_scan},
    {"egress", "show | set FAMILY TRANSPORT", "show or flip the transport (source IP) each destination family uses",
     run_egress},
    {"failures", "[--since T] [--family F] [--json] [--all] [--ledger FILE]",
     "list what must be resent: relaygate-watch's failure ledger", run_failures},
};

}  // namespace

std::span<const command> commands() { return table; }

const command& command_named(std::string_view name) {
    for (const auto& c : table) {
        if (c.name == name) return c;
    }
    throw std::logic_error("relaygate-admin: no command " + std::string(name));
}

std::optional<int> parse_command_line(const command& cmd, const std::vector<std::string>& args,
                                      boost::program_options::options_description desc,
                                      const boost::program_options::positional_options_description& positional,
                                      boost::program_options::variables_map& vm, context& ctx) {
    namespace po = boost::program_options;
    desc.add_options()("help,h", "print this help");
    auto usage = [&](std::ostream& os) {
        os << "usage: relaygate-admin [GLOBAL OPTIONS] " << cmd.name << " " << cmd.synopsis << "\n"
           << cmd.summary << "\n\n"
           << desc;
    };
    try {
        po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
        if (vm.count("help")) {
            usage(ctx.out);
            return exit_ok;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        ctx.err << "relaygate-admin " << cmd.name << ": " << e.what() << "\n";
        usage(ctx.err);
        return exit_usage;
    }
    return std::nullopt;
}

std::shared_ptr<const registry::domain_registry> load_or_report(context& ctx) {
    auto snap = registry::load_snapshot(ctx.opts);
    if (!snap) {
        ctx.err << "relaygate-admin: " << snap.error() << "\n";
        return nullptr;
    }
    return *snap;
}

std::optional<std::vector<const registry::domain_entry*>> select_domains(const registry::domain_registry& reg,
                                                                         const std::vector<std::string>& names,
                                                                         context& ctx) {
    std::vector<const registry::domain_entry*> selected;
    if (names.empty()) {
        for (const auto& e : reg.entries()) selected.push_back(&e);
        return selected;
    }
    for (const auto& name : names) {
        auto normal = registry::normalise_domain(name);
        if (!normal) {
            ctx.err << "relaygate-admin: '" << name << "': " << normal.error() << "\n";
            return std::nullopt;
        }
        const auto* entry = reg.find(*normal);
        if (entry == nullptr) {
            ctx.err << "relaygate-admin: " << *normal << " is not registered in " << ctx.opts.admin_file << "\n";
            return std::nullopt;
        }
        selected.push_back(entry);
    }
    return selected;
}

std::optional<domain_selection> load_domains(const std::vector<std::string>& names, context& ctx) {
    auto reg = load_or_report(ctx);
    if (!reg) return std::nullopt;
    auto selected = select_domains(*reg, names, ctx);
    if (!selected) return std::nullopt;
    return domain_selection{.registry = std::move(reg), .entries = std::move(*selected)};
}

std::string format_time(std::int64_t unix_seconds) {
    if (unix_seconds == 0) return "never";
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace relaygate::admin
