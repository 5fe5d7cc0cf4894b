// dns_resolver.hpp: the project's one DNS layer, over libunbound.
// Asynchronous, caching, with configurable forwarders ("127.0.0.1@5353") and a
// per-query deadline enforced here (libunbound has none; a timed-out query
// keeps its slot until libunbound ends it, so memory stays bounded). Every DNS lookup of
// relaygate goes through it: DKIM and SPF verification (registry), MX lookups
// (policy), DNSBL checks (watch). Thread-safe: any thread may start queries;
// callbacks run on the resolver's own event thread and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relaygate::dns {

enum class rr_type : std::uint16_t { a = 1, ns = 2, cname = 5, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

// How a query ended. nodata = the name exists but has no record of that type.
enum class status { ok, nxdomain, nodata, servfail, timeout, error };
// Inline so that pure cores (policy's MX cache, watch's DNSBL verdicts) can name
// a status without linking the resolver.
constexpr std::string_view to_string(status s) {
    switch (s) {
        case status::ok:
            return "ok";
        case status::nxdomain:
            return "nxdomain";
        case status::nodata:
            return "nodata";
        case status::servfail:
            return "servfail";
        case status::timeout:
            return "timeout";
        case status::error:
            return "error";
    }
    return "error";
}

struct mx_record {
    std::uint16_t preference = 0;
    std::string exchange;  // lower case, no trailing dot
};

struct answer {
    status result = status::error;
    std::string qname;                   // the name asked for
    std::string canonical_name;          // after CNAMEs (== qname when none)
    std::uint32_t ttl = 0;               // of the answer; negative TTL for nxdomain/nodata
    std::vector<std::string> txt;        // one entry per TXT record, its strings joined
    std::vector<mx_record> mx;           // sorted by preference
    std::vector<std::string> addresses;  // A/AAAA in text form
    std::vector<std::string> names;      // PTR/NS/CNAME targets
    std::vector<unsigned char> packet;   // raw wire reply (libopendkim's query hook wants it)
    std::string error_text;              // for servfail/timeout/error, what went wrong
};

struct resolver_options {
    std::vector<std::string> forwarders;      // "IP" or "IP@PORT"; empty = /etc/resolv.conf
    std::chrono::milliseconds timeout{5000};  // per query, after which it ends with status::timeout
    std::size_t max_in_flight = 4096;         // in libunbound at once, timed-out ones included until they end;
                                              // more are queued (answered timeout if not sent within timeout)
    bool remove_builtin_test_zone = true;     // libunbound serves "test." (RFC 6761) and the documentation
                                              // and 192.168 reverse zones (RFC 6303) itself unless removed
};

class resolver {
public:
    using callback = std::function<void(const answer&)>;

    explicit resolver(resolver_options options);
    ~resolver();
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    // Starts a query and returns at once; cb runs exactly once on the event thread.
    void resolve_async(std::string_view name, rr_type type, callback cb);
    // Blocking convenience for tools and tests; bounded by the per-query timeout.
    answer resolve(std::string_view name, rr_type type);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relaygate::dns
