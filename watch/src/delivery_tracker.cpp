// delivery_tracker.cpp: per queue id state machine over the log records (see
// delivery_tracker.hpp). A message is forgotten at "removed" or when
// max_queue_ids newer ones have arrived.
#include "relaygate/watch/delivery_tracker.hpp"

#include <algorithm>

namespace relaygate::watch {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

bool transport_map::add(std::string_view spec) {
    auto binding = egress::transport_binding::parse(spec);
    if (binding) add(*binding);
    return binding.has_value();
}

void transport_map::add(const egress::transport_binding& b) {
    by_service_[b.service] = transport_info{b.transport, b.family, b.source_ip};
}

const transport_info& transport_map::lookup(std::string_view service, std::string_view program) const {
    if (const auto it = by_service_.find(service); it != by_service_.end()) return it->second;
    auto it = unknown_.find(program);
    if (it == unknown_.end()) {
        it = unknown_.emplace(std::string(program), transport_info{std::string(program), "other", ""}).first;
    }
    return it->second;
}

std::string sender_domain(std::string_view sender) {
    const auto at = sender.rfind('@');
    if (at == std::string_view::npos) return {};
    return lower(sender.substr(at + 1));
}

std::string first_from_domain(std::string_view from_domains) {
    std::string all = log::unquote(from_domains);
    std::string first = lower(std::string_view(all).substr(0, all.find(',')));
    if (first.size() > 255) return {};
    return first;
}

delivery_tracker::delivery_tracker(tracker_options options, transport_map transports)
    : options_(options), transports_(std::move(transports)) {}

delivery_tracker::message& delivery_tracker::entry(std::string_view queue_id) {
    auto [it, inserted] = messages_.try_emplace(std::string(queue_id));
    if (inserted) {
        order_.emplace_back(queue_id);
        while (messages_.size() > options_.max_queue_ids && !order_.empty()) {
            messages_.erase(order_.front());
            order_.pop_front();
        }
        // The deque may hold ids already removed: trim it when it grows far beyond the map.
        if (order_.size() > 2 * options_.max_queue_ids + 16) {
            std::deque<std::string> kept;
            for (auto& id : order_) {
                if (messages_.count(id)) kept.push_back(std::move(id));
            }
            order_.swap(kept);
        }
        return messages_[std::string(queue_id)];
    }
    return it->second;
}

// Assigns into f's strings (reusing their capacity: deferrals repeat often).
void delivery_tracker::fill_failure(failure_record& f, const maillog_record& r, const message& m,
                                    const transport_info& t, reply_class cls) {
    f.time = r.time;
    f.queue_id.assign(r.queue_id);
    f.message_id.assign(m.message_id);
    f.sender.assign(m.sender);
    f.from_domain.assign(m.from_domain);
    f.recipient.assign(r.to);
    f.family.assign(t.family);
    f.transport.assign(t.transport);
    f.status.assign(to_string(r.status));
    f.dsn.assign(r.dsn);
    f.reply.assign(r.reply);
    f.cls.assign(to_string(cls));
}

observation delivery_tracker::observe(const maillog_record& r) {
    observation out;
    if (r.queue_id.empty()) return out;
    switch (r.kind) {
        case line_kind::message_id:
            entry(r.queue_id).message_id = std::string(r.message_id);
            return out;
        case line_kind::qmgr_from: {
            auto& m = entry(r.queue_id);
            m.sender = std::string(r.from);
            m.sender_domain = sender_domain(m.sender);
            m.sender_known = true;
            return out;
        }
        case line_kind::qmgr_removed:
            messages_.erase(std::string(r.queue_id));
            return out;
        case line_kind::milter_decision:
            // A rejected or tempfailed message never enters the queue (cleanup
            // discards it, no "removed" line follows): forget what cleanup logged.
            if (r.action == "accept" || r.action == "tag") {
                entry(r.queue_id).from_domain = first_from_domain(r.from_domains);
            } else {
                messages_.erase(std::string(r.queue_id));
            }
            return out;
        case line_kind::policy_decision:
        case line_kind::policy_steering:
            return out;
        case line_kind::qmgr_expired:
            on_expired(r, out);
            return out;
        case line_kind::delivery:
            on_delivery(r, out);
            return out;
        case line_kind::other:
            return out;
    }
    return out;
}

void delivery_tracker::on_expired(const maillog_record& r, observation& out) {
    auto& m = entry(r.queue_id);
    if (!m.sender_known) m.sender = std::string(r.from);
    for (auto& [rcpt, p] : m.deferred) {
        failure_record f = p.last;
        f.time = r.time;
        f.status = "expired";
        f.sender = m.sender;
        f.from_domain = m.from_domain;
        f.message_id = m.message_id;
        out.failures.push_back(std::move(f));
    }
    m.deferred.clear();
}

void delivery_tracker::on_delivery(const maillog_record& r, observation& out) {
    auto& m = entry(r.queue_id);
    const transport_info& t = transports_.lookup(r.service, r.program);
    const reply_class cls = classify_reply(r.status, r.dsn, r.reply);
    out.event = delivery_event{.queue_id = std::string(r.queue_id),
                               .family = t.family,
                               .transport = t.transport,
                               .sender_domain = m.sender_domain,
                               .status = r.status,
                               .cls = cls};
    const std::string_view rcpt = r.to;
    switch (r.status) {
        case delivery_status::sent:
            if (const auto it = m.deferred.find(rcpt); it != m.deferred.end()) m.deferred.erase(it);
            out.delivered.emplace();
            fill_failure(*out.delivered, r, m, t, cls);
            break;
        case delivery_status::deferred: {
            auto it = m.deferred.find(rcpt);
            if (it == m.deferred.end()) it = m.deferred.emplace(std::string(rcpt), pending{}).first;
            auto& p = it->second;
            fill_failure(p.last, r, m, t, cls);
            if (!p.ledgered && r.delay >= options_.long_deferred_seconds) {
                p.ledgered = true;
                out.failures.push_back(p.last);
            }
            break;
        }
        case delivery_status::bounced:
        case delivery_status::expired:
        case delivery_status::undeliverable:
            if (const auto it = m.deferred.find(rcpt); it != m.deferred.end()) m.deferred.erase(it);
            fill_failure(out.failures.emplace_back(), r, m, t, cls);
            break;
    }
}

std::vector<std::string> delivery_tracker::deferred_queue_ids(std::string_view family) const {
    std::vector<std::string> ids;
    for (const auto& [id, m] : messages_) {
        const bool match = std::any_of(m.deferred.begin(), m.deferred.end(),
                                       [&](const auto& kv) { return kv.second.last.family == family; });
        if (match) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace relaygate::watch

namespace relaygate::watch {

void delivery_tracker::requeued(const std::vector<std::string>& queue_ids) {
    for (const auto& id : queue_ids) {
        if (const auto it = messages_.find(id); it != messages_.end()) it->second.deferred.clear();
    }
}

}  // namespace relaygate::watch
