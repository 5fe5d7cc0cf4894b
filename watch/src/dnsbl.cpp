// dnsbl.cpp: query names, zone codes and the sweep of dnsbl.hpp.
#include "relaygate/watch/dnsbl.hpp"

#include <arpa/inet.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace relaygate::watch {
namespace {

std::optional<std::uint32_t> parse_v4(std::string_view s) {
    in_addr a{};
    if (s.size() > 15 || inet_pton(AF_INET, std::string(s).c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

using ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

// "127.0.0.2-127.0.0.11,127.0.0.4" -> ranges; nullopt when malformed.
std::optional<ranges> parse_ranges(std::string_view text) {
    ranges out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto dash = item.find('-');
        const auto lo = parse_v4(item.substr(0, dash));
        const auto hi = dash == std::string_view::npos ? lo : parse_v4(item.substr(dash + 1));
        if (!lo || !hi || *hi < *lo) return std::nullopt;
        out.emplace_back(*lo, *hi);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

bool in(const ranges& r, std::uint32_t v) {
    for (const auto& [lo, hi] : r) {
        if (v >= lo && v <= hi) return true;
    }
    return false;
}

dnsbl_zone known_zone(const std::string& name) {
    dnsbl_zone z{.name = name};
    if (name == "zen.spamhaus.org") {
        // SBL 2-3, XBL 4-7, DROP 9, PBL 10-11; 127.255.255.252 typo, .254 public/open resolver, .255 excessive queries.
        z.listed = *parse_ranges("127.0.0.2-127.0.0.7,127.0.0.9-127.0.0.11");
        z.unknown = *parse_ranges("127.255.255.252,127.255.255.254,127.255.255.255");
    } else if (name == "bl.spamcop.net" || name == "b.barracudacentral.org") {
        z.listed = *parse_ranges("127.0.0.2");
    } else {
        z.listed = *parse_ranges("127.0.0.2-127.0.0.254");
        z.unknown = *parse_ranges("127.255.255.0-127.255.255.255");
    }
    return z;
}

}  // namespace

std::optional<dnsbl_zone> dnsbl_zone::parse(std::string_view spec) {
    const auto semi = spec.find(';');
    std::string name(spec.substr(0, semi));
    while (!name.empty() && name.back() == '.') name.pop_back();
    if (name.empty() || name.find_first_of(" =,") != std::string::npos || name.size() > 200) return std::nullopt;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dnsbl_zone z = known_zone(name);
    std::string_view rest = semi == std::string_view::npos ? std::string_view{} : spec.substr(semi + 1);
    while (!rest.empty()) {
        const auto next = rest.find(';');
        const std::string_view item = rest.substr(0, next);
        rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        const auto r = parse_ranges(item.substr(eq + 1));
        if (!r) return std::nullopt;
        if (item.substr(0, eq) == "listed") {
            z.listed = *r;
        } else if (item.substr(0, eq) == "unknown") {
            z.unknown = *r;
        } else {
            return std::nullopt;
        }
    }
    return z;
}

std::vector<dnsbl_zone> default_dnsbl_zones() {
    return {known_zone("zen.spamhaus.org"), known_zone("bl.spamcop.net"), known_zone("b.barracudacentral.org")};
}

std::optional<std::string> dnsbl_query_name(std::string_view ip, std::string_view zone) {
    const std::string text(ip);
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        const auto* b = reinterpret_cast<const unsigned char*>(&v4.s_addr);
        return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
               std::to_string(b[0]) + "." + std::string(zone);
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string name;
        name.reserve(64 + zone.size());
        for (int i = 15; i >= 0; --i) {
            name += hex[v6.s6_addr[i] & 0xf];
            name += '.';
            name += hex[v6.s6_addr[i] >> 4];
            name += '.';
        }
        return name + std::string(zone);
    }
    return std::nullopt;
}

dnsbl_result interpret(const dns::answer& a, const dnsbl_zone& zone, std::string ip) {
    dnsbl_result r{.ip = std::move(ip), .zone = zone.name};
    if (a.result == dns::status::nxdomain) {
        r.verdict = dnsbl_verdict::clean;
        r.detail = "nxdomain";
        return r;
    }
    if (a.result != dns::status::ok || a.addresses.empty()) {
        r.detail = std::string(dns::to_string(a.result));
        return r;
    }
    // Several A records: any listing code lists; else the first one explains.
    r.detail = a.addresses.front();
    for (const auto& addr : a.addresses) {
        const auto v = parse_v4(addr);
        if (v && (*v >> 24) == 127 && !in(zone.unknown, *v) && in(zone.listed, *v)) {
            r.verdict = dnsbl_verdict::listed;
            r.detail = addr;
            return r;
        }
    }
    return r;  // unknown: error codes, answers outside 127/8 (a wildcarding resolver), ...
}

std::vector<dnsbl_result> dnsbl_sweep(const std::vector<std::string>& ips, const std::vector<dnsbl_zone>& zones,
                                      const async_query& query, std::chrono::milliseconds deadline) {
    struct shared_state {
        std::mutex mu;
        std::condition_variable cv;
        std::vector<dnsbl_result> results;
        std::vector<bool> done;
        std::size_t pending = 0;
    };
    auto st = std::make_shared<shared_state>();
    st->results.resize(ips.size() * zones.size());
    st->done.resize(st->results.size(), false);
    for (std::size_t i = 0; i < ips.size(); ++i) {
        for (std::size_t j = 0; j < zones.size(); ++j) {
            const std::size_t slot = i * zones.size() + j;
            st->results[slot] = {.ip = ips[i], .zone = zones[j].name, .detail = "timeout"};
            const auto name = dnsbl_query_name(ips[i], zones[j].name);
            if (!name) {
                st->results[slot].detail = "bad_ip";
                st->done[slot] = true;
                continue;
            }
            {
                std::lock_guard lock(st->mu);
                ++st->pending;
            }
            // The callback may outlive this call (deadline passed): it holds st.
            query(*name, [st, slot, zone = zones[j], ip = ips[i]](const dns::answer& a) {
                auto r = interpret(a, zone, ip);
                std::lock_guard lock(st->mu);
                if (!st->done[slot]) {
                    st->results[slot] = std::move(r);
                    st->done[slot] = true;
                }
                --st->pending;
                st->cv.notify_all();
            });
        }
    }
    std::unique_lock lock(st->mu);
    st->cv.wait_for(lock, deadline, [&] { return st->pending == 0; });
    for (std::size_t k = 0; k < st->done.size(); ++k) st->done[k] = true;  // late answers are ignored
    return st->results;
}

ip_status combine(const std::vector<dnsbl_result>& results, std::string_view ip) {
    ip_status s{.verdict = dnsbl_verdict::clean};
    bool any = false;
    for (const auto& r : results) {
        if (r.ip != ip) continue;
        any = true;
        if (r.verdict == dnsbl_verdict::listed) {
            if (s.verdict != dnsbl_verdict::listed) s.detail = r.zone + "=" + r.detail;
            s.verdict = dnsbl_verdict::listed;
        } else if (r.verdict == dnsbl_verdict::unknown && s.verdict == dnsbl_verdict::clean) {
            s.verdict = dnsbl_verdict::unknown;
            s.detail = r.zone + "=" + r.detail;
        }
    }
    if (!any) return {dnsbl_verdict::unknown, "not_checked"};
    return s;
}

}  // namespace relaygate::watch
