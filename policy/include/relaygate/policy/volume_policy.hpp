// volume_policy.hpp: the check_policy_service decision, pure over its inputs
// (request, config, counter store, registry snapshot, clock). Limits per
// sender domain, SASL login and client address on messages, recipients and
// bytes in sliding windows, plus a size cap per sender class (seed 004).
// Counting: RCPT enforces every limit and counts one recipient (bytes checked
// with the client's declared SIZE); END-OF-MESSAGE counts one message and its
// real size and enforces only the size cap. Verdicts are an enum; the wire
// text is made in format_action() alone. Called by policy_server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/policy/counter_store.hpp"
#include "relaygate/policy/policy_request.hpp"
#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::policy {

// sender = the full envelope sender address, lower-cased (postfwd's "sender").
enum class dimension : std::uint8_t { sender_domain, sasl_username, client_address, sender };
std::string_view to_string(dimension d);
std::string_view to_string(metric m);

struct rate_rule {
    dimension dim = dimension::sender_domain;
    metric what = metric::recipients;
    std::uint64_t max = 0;
    std::uint32_t window_s = 3600;
};
// "sender_domain:recipients:1000/3600" (window in seconds, or with s/m/h/d).
expected<rate_rule, std::string> parse_rate_rule(std::string_view text);
// Parses every `limit` value: at most 16, and no two with the same
// dimension, metric and window (they would share one counter key, so each
// request would count twice).
expected<std::vector<rate_rule>, std::string> parse_rate_rules(const std::vector<std::string>& texts);

// Sender classes for size caps: operator (operator domain), registered
// (a registry customer domain), other; "default" applies when a class has no cap.
enum class sender_class : std::uint8_t { operator_domain, registered, other };
std::string_view to_string(sender_class c);
// "registered:10485760", "default:52428800", "operator:0" (0 = no cap).
expected<std::pair<std::string, std::uint64_t>, std::string> parse_size_cap(std::string_view text);

struct volume_config {
    std::vector<rate_rule> rules;
    std::map<std::string, std::uint64_t> size_caps;  // class name or "default" -> bytes
};

enum class verdict { dunno, defer_rate, defer_size, fail_open, filter };
std::string_view to_string(verdict v);

struct policy_decision {
    verdict what = verdict::dunno;
    std::string text;    // clear text after the enhanced code (defer) / transport (filter)
    std::string detail;  // key=value pairs for the log line
};

// Classifies the sender domain against the registry snapshot (may be null).
sender_class classify_sender(std::string_view sender_domain, const registry::domain_registry* reg);
// The lower-cased domain of an address ("" for the null sender).
std::string address_domain(std::string_view address);

policy_decision decide_volume(const policy_request& req, const volume_config& cfg, counter_store& counters,
                              const registry::domain_registry* reg, std::int64_t now_ms);

// "action=DUNNO\n\n", "action=DEFER_IF_PERMIT 4.7.1 <text>\n\n", "action=FILTER <text>\n\n".
std::string format_action(const policy_decision& d);

}  // namespace relaygate::policy
