// status_command.cpp: `relaygate-admin status [--json] [DOMAIN...]` — every
// (or each named) domain with its state, since when, last check and reason,
// as read from the admin file + state file. Exit 0 when all shown are
// verified, 1 otherwise (usable from monitoring).
#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/signing_selector.hpp"

namespace relaygate::admin {
namespace {

using registry::verification_state;
using registry::verification_status;

bool in_grace(const verification_status& s) { return s.state == verification_state::verified && s.failing_since != 0; }

std::string since_of(const verification_status& s) {
    if (s.state == verification_state::verified) return format_time(s.verified_since);
    if (s.state == verification_state::failed) return format_time(s.failing_since);
    return "-";
}

// The --json document; true when every domain shown is verified.
bool print_json(context& ctx, const registry::domain_registry& reg,
                const std::vector<const registry::domain_entry*>& selected) {
    const auto grace = ctx.opts.grace_period.count();
    bool all_verified = true;
    std::size_t counts[3] = {0, 0, 0};
    nlohmann::json list = nlohmann::json::array();
    for (const auto* e : selected) {
        auto s = reg.status_of(e->domain);
        all_verified &= s.state == verification_state::verified;
        ++counts[static_cast<int>(s.state)];
        nlohmann::json j = {{"domain", e->domain},
                            {"selector", e->selector},
                            {"owner", e->owner},
                            {"state", registry::to_string(s.state)},
                            {"temporary", s.temporary_failure},
                            {"reason", s.reason_code},
                            {"detail", s.reason_text},
                            {"last_checked", s.last_checked},
                            {"verified_since", s.verified_since},
                            {"failing_since", s.failing_since},
                            {"in_grace", in_grace(s)}};
        if (in_grace(s)) j["demote_at"] = s.failing_since + grace;
        if (auto rot = rotation_of(*e, s, ctx.now(), ctx.opts.rotation_overlap); !rot.empty()) {
            j["signing_selector"] = s.signing_selector;
            j["signing_since"] = s.signing_since;
            nlohmann::json sel = nlohmann::json::array();
            for (const auto& v : rot) {
                sel.push_back({{"selector", v.name},
                               {"outcome", v.outcome},
                               {"signing", v.signing},
                               {"removable", v.removable},
                               {"removable_at", v.removable_at}});
            }
            j["selectors"] = std::move(sel);
        }
        list.push_back(std::move(j));
    }
    nlohmann::json doc = {{"domains", std::move(list)},
                          {"summary", {{"pending", counts[0]}, {"verified", counts[1]}, {"failed", counts[2]}}}};
    ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return all_verified;
}

// The table and its summary line; true when every domain shown is verified.
bool print_table(context& ctx, const registry::domain_registry& reg,
                 const std::vector<const registry::domain_entry*>& selected) {
    const auto grace = ctx.opts.grace_period.count();
    bool all_verified = true;
    std::size_t counts[3] = {0, 0, 0};
    ctx.out << std::left << std::setw(32) << "DOMAIN"
            << " " << std::setw(9) << "STATE"
            << " " << std::setw(20) << "SINCE"
            << " " << std::setw(20) << "LAST CHECK"
            << " REASON\n";
    for (const auto* e : selected) {
        auto s = reg.status_of(e->domain);
        all_verified &= s.state == verification_state::verified;
        ++counts[static_cast<int>(s.state)];
        std::string reason = s.reason_code.empty() ? "-" : s.reason_code;
        if (!s.reason_text.empty()) reason += ": " + s.reason_text;
        ctx.out << std::setw(32) << e->domain << " " << std::setw(9) << registry::to_string(s.state) << " "
                << std::setw(20) << since_of(s) << " " << std::setw(20) << format_time(s.last_checked) << " " << reason;
        if (in_grace(s)) ctx.out << " [in grace period; demoted at " << format_time(s.failing_since + grace) << "]";
        if (s.temporary_failure) ctx.out << " [last check hit a temporary failure]";
        if (auto rot = rotation_of(*e, s, ctx.now(), ctx.opts.rotation_overlap); !rot.empty()) {
            ctx.out << " " << rotation_text(rot, s.signing_since);
        }
        ctx.out << "\n";
    }
    ctx.out << "\n"
            << selected.size() << " domains: " << counts[1] << " verified, " << counts[2] << " failed, " << counts[0]
            << " pending\n";
    return all_verified;
}

}  // namespace

std::vector<selector_view> rotation_of(const registry::domain_entry& e, const verification_status& s, std::int64_t now,
                                       std::chrono::seconds overlap) {
    std::vector<selector_view> out;
    if (registry::selector_count(e) < 2) return out;
    auto signing = registry::selector_index(e, s.signing_selector);
    if (signing == std::string::npos) signing = 0;
    const auto removable = registry::removable_selectors(signing, s.signing_since, now, overlap);
    for (std::size_t i = 0; i < registry::selector_count(e); ++i) {
        selector_view v{.name = registry::selector_name(e, i), .signing = i == signing};
        for (const auto& r : s.selectors) {
            if (r.selector == v.name) v.outcome = r.outcome;
        }
        v.removable = std::find(removable.begin(), removable.end(), i) != removable.end();
        if (i < signing && !v.removable && s.signing_since != 0) v.removable_at = s.signing_since + overlap.count();
        out.push_back(std::move(v));
    }
    return out;
}

std::string rotation_text(const std::vector<selector_view>& selectors, std::int64_t signing_since) {
    std::string out = "[DKIM rotation:";
    for (const auto& v : selectors) {
        out += " " + v.name + "=" + (v.outcome.empty() ? "unchecked" : v.outcome);
        if (v.signing) out += signing_since ? " (signing since " + format_time(signing_since) + ")" : " (signing)";
        if (v.removable) out += " (removable: unpublish it and delete it from the admin file)";
        if (v.removable_at) out += " (removable at " + format_time(v.removable_at) + ")";
    }
    return out + "]";
}

int run_status(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("status options");
    std::vector<std::string> names;
    desc.add_options()("json", "print JSON instead of a table")("domain", po::value(&names)->composing(),
                                                                "a domain to show (default: all)");
    po::positional_options_description pos;
    pos.add("domain", -1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("status"), args, desc, pos, vm, ctx)) return *stop;

    auto selected = load_domains(names, ctx);
    if (!selected) return exit_usage;
    const auto& reg = *selected->registry;
    const bool all_verified =
        vm.count("json") ? print_json(ctx, reg, selected->entries) : print_table(ctx, reg, selected->entries);
    return all_verified ? exit_ok : exit_not_verified;
}

}  // namespace relaygate::admin
