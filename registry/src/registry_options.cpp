// registry_options.cpp: Boost.Program_options binding and validation of the
// operator config shared by every relaygate program (see registry_options.hpp).
// Durations and numbers are checked while parsing (so the error names the key
// and, for a file, its line); lists, IPs and domains are checked by validate().
#include "relaygate/registry/registry_options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>

#include "relaygate/registry/domain_name.hpp"
#include "relaygate/registry/ip_network.hpp"

namespace po = boost::program_options;

namespace relaygate::registry {
namespace detail {

// A duration in the config: "3600", "3600s", "90m", "12h", "1d".
struct duration_value {
    std::chrono::seconds value{0};
};
// A bounded unsigned number.
template <unsigned Min, unsigned Max>
struct bounded_value {
    unsigned value = Min;
};

std::optional<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return n;
}

void validate(boost::any& v, const std::vector<std::string>& values, duration_value*, int) {
    po::validators::check_first_occurrence(v);
    const std::string& text = po::validators::get_single_string(values);
    std::string_view digits = text;
    std::uint64_t unit = 1;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 's':
                unit = 1, digits.remove_suffix(1);
                break;
            case 'm':
                unit = 60, digits.remove_suffix(1);
                break;
            case 'h':
                unit = 3600, digits.remove_suffix(1);
                break;
            case 'd':
                unit = 86400, digits.remove_suffix(1);
                break;
            default:
                break;
        }
    }
    auto n = parse_number(digits);
    // 0 is refused (an interval of 0 would spin) and so is anything past ten years.
    if (!n || *n == 0 || *n > 10ull * 365 * 86400 / unit) {
        throw po::invalid_option_value(text + " (a duration > 0 such as 3600, 90m, 12h, 1d)");
    }
    v = duration_value{std::chrono::seconds(static_cast<std::int64_t>(*n * unit))};
}

template <unsigned Min, unsigned Max>
void validate(boost::any& v, const std::vector<std::string>& values, bounded_value<Min, Max>*, int) {
    po::validators::check_first_occurrence(v);
    const std::string& text = po::validators::get_single_string(values);
    auto n = parse_number(text);
    if (!n || *n < Min || *n > Max) {
        throw po::invalid_option_value(text + " (a number from " + std::to_string(Min) + " to " + std::to_string(Max) +
                                       ")");
    }
    v = bounded_value<Min, Max>{static_cast<unsigned>(*n)};
}

}  // namespace detail

std::vector<std::string> registry_options::all_outbound_ips() const {
    std::vector<std::string> all;
    for (const auto* list : {&outbound_ips, &designated_ips, &spare_ips}) {
        for (const auto& ip : *list) {
            if (std::find(all.begin(), all.end(), ip) == all.end()) all.push_back(ip);
        }
    }
    return all;
}

std::string registry_options::spf_include() const {
    if (!spf_include_name.empty()) return spf_include_name;
    return operator_domains.empty() ? std::string() : "_spf." + operator_domains.front();
}

void add_registry_options(po::options_description& desc, registry_options& opts) {
    using detail::bounded_value;
    using detail::duration_value;
    auto& o = opts;
    desc.add_options()  //
        ("admin-file", po::value<std::string>(&o.admin_file)->default_value(o.admin_file),
         "admin file of customer domains (read only)")  //
        ("state-file", po::value<std::string>(&o.state_file)->default_value(o.state_file),
         "verification state (JSON, written atomically)")  //
        ("operator-domain", po::value<std::vector<std::string>>(&o.operator_domains)->composing(),
         "operator's own From domain, always allowed with its subdomains (repeatable)")  //
        ("outbound-ip", po::value<std::vector<std::string>>(&o.outbound_ips)->composing(),
         "outbound IP of the default pool; SPF must pass for each (repeatable)")  //
        ("designated-ip", po::value<std::vector<std::string>>(&o.designated_ips)->composing(),
         "outbound IP designated for Microsoft-family mail (repeatable)")  //
        ("spare-ip", po::value<std::vector<std::string>>(&o.spare_ips)->composing(),
         "spare outbound IP for failover (repeatable)")  //
        ("dns-forwarder", po::value<std::vector<std::string>>(&o.dns_forwarders)->composing(),
         "DNS server as IP or IP@PORT (repeatable; none = /etc/resolv.conf)")  //
        ("dns-timeout-ms",
         po::value<bounded_value<1, 60000>>()
             ->default_value(bounded_value<1, 60000>{static_cast<unsigned>(o.dns_timeout.count())},
                             std::to_string(o.dns_timeout.count()))
             ->notifier([&o](const bounded_value<1, 60000>& v) { o.dns_timeout = std::chrono::milliseconds(v.value); }),
         "per-query DNS timeout in milliseconds")  //
        ("reverify-interval",
         po::value<duration_value>()
             ->default_value(duration_value{o.reverify_interval}, std::to_string(o.reverify_interval.count()))
             ->notifier([&o](const duration_value& v) { o.reverify_interval = v.value; }),
         "how often each domain is verified again (3600, 90m, 1h, 1d)")  //
        ("grace-period",
         po::value<duration_value>()
             ->default_value(duration_value{o.grace_period}, std::to_string(o.grace_period.count()))
             ->notifier([&o](const duration_value& v) { o.grace_period = v.value; }),
         "a verified domain that starts failing is demoted only after this long")  //
        ("min-rsa-bits",
         po::value<bounded_value<1024, 4096>>()
             ->default_value(bounded_value<1024, 4096>{o.min_rsa_bits}, std::to_string(o.min_rsa_bits))
             ->notifier([&o](const bounded_value<1024, 4096>& v) { o.min_rsa_bits = v.value; }),
         "shortest DKIM RSA key accepted (1024..4096)")  //
        ("rotation-overlap",
         po::value<duration_value>()
             ->default_value(duration_value{o.rotation_overlap}, std::to_string(o.rotation_overlap.count()))
             ->notifier([&o](const duration_value& v) { o.rotation_overlap = v.value; }),
         "after a DKIM key rotation switched, the old selector is reported removable after this long")  //
        ("spf-include-name", po::value<std::string>(&o.spf_include_name),
         "name of the operator's SPF record owners include: (default _spf.<first operator-domain>)");
}

namespace {

// "a, b c" -> {"a", "b", "c"}: lists may be repeated keys or separated by commas/spaces.
std::vector<std::string> split_list(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) {
        std::string item;
        for (char c : v + ",") {
            if (c == ',' || c == ' ' || c == '\t') {
                if (!item.empty()) out.push_back(std::move(item));
                item.clear();
            } else {
                item += c;
            }
        }
    }
    return out;
}

// Canonical text of a single IP address ("2001:DB8::1" -> "2001:db8::1"), or nullopt.
std::optional<std::string> canonical_ip(const std::string& text) {
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
    return std::nullopt;
}

struct bad_value {
    std::string key, value, message;
};

std::optional<bad_value> check(registry_options& opts) {
    for (auto [key, list] :
         {std::pair{"outbound-ip", &opts.outbound_ips}, std::pair{"designated-ip", &opts.designated_ips},
          std::pair{"spare-ip", &opts.spare_ips}}) {
        *list = split_list(*list);
        for (auto& ip : *list) {
            auto canonical = canonical_ip(ip);
            if (!canonical) return bad_value{key, ip, "not an IPv4 or IPv6 address"};
            ip = *canonical;
        }
    }
    if (opts.all_outbound_ips().empty()) {
        return bad_value{"outbound-ip", "", "at least one outbound IP is required (SPF must authorize every one)"};
    }
    opts.dns_forwarders = split_list(opts.dns_forwarders);
    for (const auto& fwd : opts.dns_forwarders) {
        auto at = fwd.find('@');
        bool ok = canonical_ip(fwd.substr(0, at)).has_value();
        if (ok && at != std::string::npos) {
            auto port = detail::parse_number(std::string_view(fwd).substr(at + 1));
            ok = port && *port >= 1 && *port <= 65535;
        }
        if (!ok) return bad_value{"dns-forwarder", fwd, "not IP or IP@PORT (e.g. 127.0.0.1@5353)"};
    }
    opts.operator_domains = split_list(opts.operator_domains);
    for (auto& domain : opts.operator_domains) {
        auto normal = normalise_domain(domain);
        if (!normal) return bad_value{"operator-domain", domain, normal.error()};
        domain = std::move(*normal);
    }
    if (auto& n = opts.spf_include_name; !n.empty()) {  // "_spf.…": a DNS name, not a host name (LDH)
        std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
        if (n.ends_with('.')) n.pop_back();
        bool ok = !n.empty() && n.size() <= 253 && n.find('.') != n.npos && n.find("..") == n.npos &&
                  n.front() != '.' && n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == n.npos;
        for (std::size_t from = 0, dot = 0; ok && from < n.size(); from = dot + 1) {
            dot = std::min(n.find('.', from), n.size());
            ok = dot - from <= 63;
        }
        if (!ok) {
            return bad_value{"spf-include-name", n, "not a DNS name of letters, digits, '-', '_' and dots"};
        }
    }
    if (opts.admin_file.empty()) return bad_value{"admin-file", "", "must not be empty"};
    if (opts.state_file.empty()) return bad_value{"state-file", "", "must not be empty"};
    if (opts.state_file == opts.admin_file) {
        return bad_value{"state-file", opts.state_file, "must differ from admin-file (relaygate never writes that)"};
    }
    return std::nullopt;
}

}  // namespace

expected<bool, std::string> validate(registry_options& opts, const config_source& source) {
    if (auto bad = check(opts)) return unexpected(source.error(bad->key, bad->message, bad->value));
    return true;
}

}  // namespace relaygate::registry
