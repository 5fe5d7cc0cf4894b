// decision.hpp: the milter's verdict for one message — a pure function of the
// registry snapshot, the From:/Sender: header values and the submitter. Every
// From mailbox (and Sender) must be an operator domain (or subdomain) or a
// registered domain that is verified and that this submitter may use.
// Called by the milter shell at end of message and by relaygate-admin check.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/milter/from_header.hpp"
#include "relaygate/milter/smtp_reply.hpp"
#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::milter {

// reject: enforce (550 / 451); tempfail: answer 451 even for permanent
// findings (soft rollout); tag: accept everything, add tag_header_name, log.
enum class enforcement_mode { reject, tempfail, tag };
enum class missing_from_policy { reject, accept };
std::string_view to_string(enforcement_mode m);
std::optional<enforcement_mode> parse_enforcement_mode(std::string_view text);
std::string_view to_string(missing_from_policy p);
std::optional<missing_from_policy> parse_missing_from_policy(std::string_view text);

inline constexpr std::string_view tag_header_name = "X-Relaygate-Verdict";

struct decision_policy {
    enforcement_mode mode = enforcement_mode::reject;
    missing_from_policy missing_from = missing_from_policy::reject;
    from_header_limits limits;
};

struct submitter {
    std::string sasl_login;      // {auth_authen}; empty = not authenticated
    std::string client_address;  // IP in text form; empty = unknown (local submission)
};

// The From:/Sender: values of one message. The milter fills it with add() as
// each header arrives, so what it holds is bounded whatever the message
// carries: at most max_kept_values of each kind (the count goes on: "Message
// has 1000 From headers"), each cut to the parser's max_bytes + 1 bytes (still
// too long for the parser, so the verdict is the one the whole value gets).
struct message_headers {
    static constexpr std::size_t max_kept_values = 2;  // two already make "multiple_from"
    std::vector<std::string> from;                     // From: values, in order (at most max_kept_values via add())
    std::vector<std::string> sender;                   // Sender: values, likewise
    std::size_t from_seen = 0;                         // From: headers seen by add(); the count when above from.size()
    std::size_t sender_seen = 0;                       // Sender: headers seen by add()

    // Keeps a header if it is From: or Sender: (names case-insensitive), within the bounds above.
    void add(std::string_view name, std::string_view value, const from_header_limits& limits);
};

enum class verdict { accept, reject, tempfail, tag };
std::string_view to_string(verdict v);

// How bad the worst finding is, independent of the mode.
enum class severity { none, temporary, permanent };

struct decision {
    verdict action = verdict::accept;
    severity worst = severity::none;
    std::string reason_code = "ok";           // "not_registered", "dkim_no_record", "multiple_from", ...
    std::string reason_text;                  // e.g. "From domain example.com is not registered"
    std::string domain;                       // the domain the reason is about; "" for header-level reasons
    smtp_reply reply;                         // set for reject and tempfail
    std::vector<std::string> from_domains;    // every From mailbox's domain, in order (logs)
    std::string signing_domain;               // verified customer or operator domain of the first From mailbox
    bool signing_domain_is_operator = false;  // operator domains are signed only when a key is configured
    std::string tag_header;                   // tag mode: value for tag_header_name; else empty
};

decision decide(const registry::domain_registry& snapshot, const message_headers& headers, const submitter& who,
                const decision_policy& policy);

}  // namespace relaygate::milter
