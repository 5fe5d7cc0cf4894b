// url_command.cpp: `relaygate-admin check-url URL` and `relaygate-admin scan
// FILE.eml` — what relaygate-milter's URL check would find and why, with the
// milter's own code: its config (the url-* keys of the same config file, read by
// the milter's parser; --set KEY=VALUE overrides one), url_checker, the project's
// resolver for the blocklist zones. Exit 0 = pass/warn, 1 = hold/reject,
// 3 = tempfail, 2 = usage. Two rows of the table in admin_commands.cpp.
#include <fstream>
#include <ostream>
#include <sstream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/milter/milter_config.hpp"
#include "relaygate/milter/url_checker.hpp"
#include "relaygate/milter/url_normaliser.hpp"

namespace relaygate::admin {
namespace {

// The milter's config as relaygate-milter would read it, url-check forced on.
std::optional<milter::milter_config> milter_config_for(const std::vector<std::string>& sets, context& ctx) {
    std::vector<std::string> args{"relaygate-milter"};
    if (!ctx.config_file.empty()) args.insert(args.end(), {"--config", ctx.config_file});
    for (const auto& s : sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) {
            ctx.err << "relaygate-admin: --set expects KEY=VALUE, got '" << s << "'\n";
            return std::nullopt;
        }
        args.push_back("--" + s.substr(0, eq));
        args.push_back(s.substr(eq + 1));
    }
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const auto& a : args) argv.push_back(a.c_str());
    auto parsed = milter::parse_milter_config(static_cast<int>(argv.size()), argv.data(), false);
    if (parsed.what != milter::config_result::outcome::run) {
        ctx.err << "relaygate-admin: " << parsed.text << "\n";
        return std::nullopt;
    }
    parsed.config.url.enabled = true;
    return parsed.config;
}

int exit_for(milter::url_action a) {
    switch (a) {
        case milter::url_action::pass:
        case milter::url_action::warn:
            return exit_ok;
        case milter::url_action::tempfail:
            return exit_temporary;
        case milter::url_action::hold:
        case milter::url_action::reject:
            return exit_not_verified;
    }
    return exit_not_verified;
}

void print_report(const milter::url_report& r, const milter::url_checker& checker, std::ostream& out) {
    for (const auto& u : r.scan.urls) {
        out << "url: " << u << "\n";
        auto h = milter::normalise_url(u, checker.suffixes());
        if (!h) {
            out << "  not checked: " << h.error() << "\n";
        } else if (h->ip_literal) {
            out << "  host: " << h->host << " (IP literal: not asked of domain lists)\n";
        } else {
            out << "  host: " << h->host << "  registrable domain: "
                << (h->registrable_domain.empty() ? "(none: a public suffix)" : h->registrable_domain) << "\n";
        }
    }
    out << "scanned: "
        << (r.scan.fully_scanned() ? "fully" : "not fully (limit: " + std::string(to_string(r.scan.stopped)) + ")")
        << ", " << r.scan.urls.size() << " URLs, " << r.plan.query_domains.size() << " domains";
    if (r.plan.allowed > 0) out << ", " << r.plan.allowed << " allow-listed";
    out << "\n";
    if (checker.config().zones.empty()) out << "blocklists: none configured (url-blocklist)\n";
    for (const auto& a : r.answers) {
        const char* what = a.answer == milter::zone_answer::listed    ? "listed"
                           : a.answer == milter::zone_answer::unknown ? "unknown"
                                                                      : "not listed";
        out << "blocklist " << a.zone << ": " << a.domain << " " << what << " (" << a.code << ")\n";
    }
    for (const auto& f : r.verdict.findings) {
        out << "finding: " << to_string(f.risk) << (f.domain.empty() ? "" : " " + f.domain)
            << (f.detail.empty() ? "" : " (" + f.detail + ")") << "\n";
    }
    out << "action: " << to_string(r.verdict.action) << "\n";
    if (!r.verdict.header.empty()) out << "header: " << milter::url_header_name << ": " << r.verdict.header << "\n";
    if (!r.verdict.reply.empty()) out << "reply: " << r.verdict.reply.to_string() << "\n";
}

// Parses the command's options, builds the checker (and its resolver), runs fn.
int run_url_command(const char* name, const std::vector<std::string>& args, context& ctx, bool is_file) {
    namespace po = boost::program_options;
    po::options_description desc(std::string(name) + " options");
    std::string target, from_domain;
    std::vector<std::string> sets;
    desc.add_options()(is_file ? "file" : "url", po::value(&target)->required(),
                       is_file ? "the message (RFC 5322, as a .eml file)" : "the URL, as it appears in a message")(
        "from-domain", po::value(&from_domain), "the sender's From domain (for url-sender-action)")(
        "set", po::value(&sets)->composing(), "KEY=VALUE: a relaygate-milter key for this run (repeatable)");
    po::positional_options_description pos;
    pos.add(is_file ? "file" : "url", 1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named(name), args, desc, pos, vm, ctx)) return *stop;
    auto cfg = milter_config_for(sets, ctx);
    if (!cfg) return exit_usage;
    std::unique_ptr<dns::resolver> resolver;
    if (!cfg->url.zones.empty()) {
        resolver = std::make_unique<dns::resolver>(dns::resolver_options{
            .forwarders = ctx.opts.dns_forwarders,  // the shared dns-forwarder key, as read and checked by admin
            .timeout = std::chrono::milliseconds(cfg->url.dns_deadline_ms),
        });
    }
    auto checker = milter::url_checker::load(cfg->url, resolver.get());
    if (!checker) {
        ctx.err << "relaygate-admin: " << checker.error() << "\n";
        return exit_usage;
    }
    milter::url_report report;
    if (is_file) {
        std::ifstream f(target, std::ios::binary);
        if (!f) {
            ctx.err << "relaygate-admin: cannot read " << target << "\n";
            return exit_usage;
        }
        std::string message((*checker)->config().limits.max_bytes + 1, '\0');
        f.read(message.data(), static_cast<std::streamsize>(message.size()));
        message.resize(static_cast<std::size_t>(f.gcount()));
        const bool truncated = message.size() > (*checker)->config().limits.max_bytes;
        if (truncated) message.resize((*checker)->config().limits.max_bytes);
        report = (*checker)->check(message, truncated, from_domain);
    } else {
        report = (*checker)->check_url(target, from_domain);
    }
    print_report(report, **checker, ctx.out);
    return exit_for(report.verdict.action);
}

}  // namespace

int run_check_url(const std::vector<std::string>& args, context& ctx) {
    return run_url_command("check-url", args, ctx, false);
}

int run_scan(const std::vector<std::string>& args, context& ctx) { return run_url_command("scan", args, ctx, true); }

}  // namespace relaygate::admin
