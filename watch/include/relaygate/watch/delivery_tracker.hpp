// delivery_tracker.hpp: turns parsed log records into delivery events, keeping
// per queue id what later lines need (Message-ID from cleanup, envelope sender
// from qmgr, first From domain from relaygate-milter's accept/tag line,
// recipients still deferred). Pure: no I/O, time comes from the
// records. Produces failure records for the ledger (bounced, expired, and
// deferrals older than long_deferred) and the queue ids to requeue after a
// flip. Called by the watch daemon for every parsed line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relaygate/egress/egress_topology.hpp"

#include "relaygate/watch/maillog_line.hpp"
#include "relaygate/watch/reply_classifier.hpp"

namespace relaygate::watch {

// What a syslog_name's service ("postfix/msft-out") means.
struct transport_info {
    std::string transport;  // master.cf service name, "msft-out"
    std::string family;     // "microsoft"
    std::string source_ip;  // the transport's smtp_bind_address, "192.0.2.10"
};

class transport_map {
public:
    // spec: "postfix/msft-out=msft-out,microsoft,192.0.2.10"; false when malformed.
    bool add(std::string_view spec);
    void add(const egress::transport_binding& binding);
    // Unknown services: family "other", transport = the program ("smtp").
    // The reference stays valid for the map's life.
    const transport_info& lookup(std::string_view service, std::string_view program) const;

private:
    std::map<std::string, transport_info, std::less<>> by_service_;
    mutable std::map<std::string, transport_info, std::less<>> unknown_;  // by program
};

// One delivery attempt, as the alert windows and metrics see it.
struct delivery_event {
    std::string queue_id;
    std::string family;
    std::string transport;
    std::string sender_domain;  // of the envelope sender; "" for the null sender or when unknown
    delivery_status status = delivery_status::deferred;
    reply_class cls = reply_class::unknown;
};

// One row of the failure ledger.
struct failure_record {
    std::int64_t time = 0;
    std::string queue_id;
    std::string message_id;
    std::string sender;
    std::string from_domain;  // first From domain of the milter's decision line; "" when not seen
    std::string recipient;
    std::string family;
    std::string transport;
    std::string status;  // bounced, expired, deferred (long), undeliverable
    std::string dsn;
    std::string reply;
    std::string cls;
};

struct tracker_options {
    double long_deferred_seconds = 3600;  // a deferral this old goes to the ledger (once per recipient)
    std::size_t max_queue_ids = 200000;   // oldest forgotten beyond this (bounded memory)
};

struct observation {
    std::optional<delivery_event> event;      // for delivery lines
    std::vector<failure_record> failures;     // to record in the ledger
    std::optional<failure_record> delivered;  // a sent recipient: closes its open ledger rows (queue id or Message-ID)
};

class delivery_tracker {
public:
    delivery_tracker(tracker_options options, transport_map transports);

    observation observe(const maillog_record& record);

    // Queue ids with a recipient of this family still deferred (for postsuper -r).
    std::vector<std::string> deferred_queue_ids(std::string_view family) const;
    // postsuper -r was given these ids: they stop being requeue candidates
    // (their deferred recipients are dropped). The rest of what is known
    // (Message-ID, sender, From domain) stays: a message qmgr had already
    // moved to the active queue is not requeued and logs on under its id; one
    // that was requeued (new id) is evicted in time like any other.
    void requeued(const std::vector<std::string>& queue_ids);
    std::size_t tracked() const { return messages_.size(); }

private:
    struct pending {
        failure_record last;    // the last deferral of this recipient (status "deferred")
        bool ledgered = false;  // long deferral already recorded
    };
    struct message {
        std::string message_id;
        std::string sender;
        std::string sender_domain;  // lower case, computed once
        std::string from_domain;    // lower case, first of the milter's from_domains
        bool sender_known = false;
        std::map<std::string, pending, std::less<>> deferred;  // recipient -> its last deferral
    };
    message& entry(std::string_view queue_id);
    void on_expired(const maillog_record& r, observation& out);   // qmgr expired: every deferral fails
    void on_delivery(const maillog_record& r, observation& out);  // a delivery agent's status line
    static void fill_failure(failure_record& f, const maillog_record& r, const message& m, const transport_info& t,
                             reply_class cls);

    tracker_options options_;
    transport_map transports_;
    std::unordered_map<std::string, message> messages_;
    std::deque<std::string> order_;  // insertion order, for eviction
};

std::string sender_domain(std::string_view sender);
// The first domain of a milter from_domains value ("a.example,b.example", maybe
// quoted), lower case, at most 255 bytes; "" when none.
std::string first_from_domain(std::string_view from_domains);

}  // namespace relaygate::watch
