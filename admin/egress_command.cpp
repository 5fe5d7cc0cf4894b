// egress_command.cpp: `relaygate-admin egress show|set` — the operator's hand
// on the egress state that relaygate-policy reads on every steered lookup
// (and relaygate-watch writes on a blocklisting): show which transport each
// family uses, or flip a family to a transport by hand (switch-over and
// switch-back). Same back ends and keys as the daemons: the JSON file
// (--egress-state-file) or Redis (--redis HOST:PORT, --redis-prefix).
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "admin_command.hpp"
#include "relaygate/egress/egress_state.hpp"

namespace relaygate::admin {
namespace {

// Transport and family names as master.cf allows them (no spaces, no ':').
bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.';
        if (!ok) return false;
    }
    return true;
}

std::unique_ptr<egress::egress_store> open_store(const std::string& file, const std::string& redis,
                                                 const std::string& prefix, context& ctx) {
    if (redis.empty()) return egress::make_file_egress_store(file);
    if (redis.starts_with("/")) return egress::make_redis_egress_store(redis, 0, prefix);
    auto colon = redis.rfind(':');
    int port = 0;
    try {
        port = colon == std::string::npos ? 0 : std::stoi(redis.substr(colon + 1));
    } catch (...) {
        port = 0;
    }
    if (port <= 0 || port > 65535) {
        ctx.err << "relaygate-admin egress: --redis: want HOST:PORT or /path.sock, got '" << redis << "'\n";
        return nullptr;
    }
    return egress::make_redis_egress_store(redis.substr(0, colon), port, prefix);
}

}  // namespace

int run_egress(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("egress options");
    std::string file = "/var/lib/relaygate/egress.json", redis, prefix = "relaygate:", reason;
    std::vector<std::string> words;
    desc.add_options()("egress-state-file", po::value(&file)->default_value(file), "egress state JSON file")(
        "redis", po::value(&redis), "Redis HOST:PORT or /path.sock (instead of the file)")(
        "redis-prefix", po::value(&prefix)->default_value(prefix), "Redis key prefix")(
        "reason", po::value(&reason), "why (set): recorded with the flip")("json", "show: print JSON")(
        "words", po::value(&words)->composing(), "show | set FAMILY TRANSPORT");
    po::positional_options_description pos;
    pos.add("words", -1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("egress"), args, desc, pos, vm, ctx)) return *stop;
    bool show = !words.empty() && words[0] == "show" && words.size() == 1;
    bool set = !words.empty() && words[0] == "set" && words.size() == 3;
    if (!show && !set) {
        ctx.err << "relaygate-admin egress: want 'show' or 'set FAMILY TRANSPORT'\n";
        return exit_usage;
    }
    auto store = open_store(file, redis, prefix, ctx);
    if (!store) return exit_usage;
    std::string where = redis.empty() ? file : "redis " + redis + " " + prefix + "egress";

    if (set) {
        if (!valid_name(words[1]) || !valid_name(words[2])) {
            ctx.err << "relaygate-admin egress set: bad family or transport name\n";
            return exit_usage;
        }
        egress::family_route r{words[1], words[2], reason.empty() ? "set by relaygate-admin" : reason, ctx.now()};
        if (!store->set_active(r)) {
            ctx.err << "relaygate-admin egress set: could not write " << where << "\n";
            return exit_temporary;
        }
        ctx.out << r.family << " -> " << r.active_transport << " (" << where
                << "); relaygate-policy applies it to lookups within 100 ms\n";
        return exit_ok;
    }
    auto routes = store->all();
    if (vm.count("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : routes)
            out.push_back({{"family", r.family},
                           {"active_transport", r.active_transport},
                           {"reason", r.reason},
                           {"since", r.since}});
        ctx.out << out.dump(2) << "\n";
        return exit_ok;
    }
    if (routes.empty()) {
        ctx.out << "no family set in " << where << ": every family uses its designated transport"
                << (redis.empty() ? "" : " (or Redis could not be read: see the warning above)") << "\n";
        return exit_ok;
    }
    ctx.out << std::left << std::setw(12) << "FAMILY" << std::setw(16) << "TRANSPORT" << std::setw(22) << "SINCE"
            << "REASON\n";
    for (const auto& r : routes)
        ctx.out << std::left << std::setw(12) << r.family << std::setw(16) << r.active_transport << std::setw(22)
                << format_time(r.since) << r.reason << "\n";
    return exit_ok;
}

}  // namespace relaygate::admin
