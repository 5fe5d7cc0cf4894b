// redis_connection.cpp: see redis_connection.hpp. Every hiredis call of
// relaygate is in this file.
#include "relaygate/egress/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "relaygate/log/log.hpp"

namespace relaygate::egress {
namespace {

redis_value to_value(const redisReply* r, int depth = 0) {
    redis_value v;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            v.type = redis_value::kind::string;
            v.text.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            v.type = redis_value::kind::status;
            v.text.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            v.type = redis_value::kind::integer;
            v.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            v.type = redis_value::kind::array;
            if (depth < 8) {  // relaygate's replies are at most two levels deep
                for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(to_value(r->element[i], depth + 1));
            }
            break;
        default:
            break;
    }
    return v;
}

timeval to_timeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

std::optional<redis_endpoint> redis_endpoint::parse(std::string_view spec) {
    if (spec.starts_with("/")) return redis_endpoint{std::string(spec), 0};
    auto colon = spec.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    int port = 0;
    auto digits = spec.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535) {
        return std::nullopt;
    }
    return redis_endpoint{std::string(spec.substr(0, colon)), port};
}

std::string redis_endpoint::text() const { return port == 0 ? host : host + ":" + std::to_string(port); }

redis_connection::redis_connection(options opts)
    : opts_(std::move(opts)), breaker_({.failure_threshold = 1, .open_for = opts_.retry_after}, [] {
          return std::chrono::steady_clock::now();
      }) {
    if (opts_.probe_timeout.count() <= 0) opts_.probe_timeout = opts_.timeout;
}

redis_connection::~redis_connection() { drop(); }

void redis_connection::drop() {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
}

bool redis_connection::connect(std::chrono::milliseconds timeout, std::string& error) {
    if (ctx_ != nullptr) return true;
    const timeval tv = to_timeval(timeout);
    const auto& ep = opts_.endpoint;
    ctx_ = ep.port == 0 ? redisConnectUnixWithTimeout(ep.host.c_str(), tv)
                        : redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
    if (ctx_ == nullptr || ctx_->err != 0) {
        error = ctx_ != nullptr ? ctx_->errstr : "alloc";
        drop();
        return false;
    }
    redisSetTimeout(ctx_, to_timeval(opts_.timeout));
    return true;
}

// The half-open probe: a fresh connection and a PING, each within probe_timeout.
bool redis_connection::probe(std::string& error) {
    drop();
    if (!connect(opts_.probe_timeout, error)) return false;
    redisSetTimeout(ctx_, to_timeval(opts_.probe_timeout));
    auto* reply = static_cast<redisReply*>(redisCommand(ctx_, "PING"));
    const bool ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (!ok) error = reply != nullptr ? std::string(reply->str, reply->len) : std::string(ctx_->errstr);
    if (reply != nullptr) freeReplyObject(reply);
    if (!ok) {
        drop();
        return false;
    }
    redisSetTimeout(ctx_, to_timeval(opts_.timeout));
    return true;
}

void redis_connection::failed(const std::string& error) {
    drop();
    note(breaker_.on_failure(), error);
}

// One line per breaker change, with the counts; nothing per command.
void redis_connection::note(const std::optional<circuit_breaker::transition>& t, const std::string& error) {
    if (!t) return;
    const auto& ep = opts_.endpoint;
    if (t->to == circuit_breaker::state::open) {
        log::warning("- " + opts_.log_name + "_unreachable host=" + log::quote(ep.host) +
                     " port=" + std::to_string(ep.port) + " error=" + log::quote(error) +
                     " breaker=open retry_ms=" + std::to_string(opts_.retry_after.count()) +
                     " opened_total=" + std::to_string(breaker_.opened_total()) +
                     (opts_.unreachable_note.empty() ? "" : " " + opts_.unreachable_note));
    } else {
        log::notice("- " + opts_.log_name + "_reachable host=" + log::quote(ep.host) +
                    " port=" + std::to_string(ep.port) + " breaker=closed refused=" + std::to_string(t->refused));
    }
}

expected<redis_value, redis_error> redis_connection::command(std::span<const std::string> args) {
    std::string error;
    switch (breaker_.before()) {
        case circuit_breaker::permit::refuse:
            return unexpected(redis_error{.unreachable = true, .message = "circuit open"});
        case circuit_breaker::permit::probe:
            if (!probe(error)) {
                failed(error);
                return unexpected(redis_error{.unreachable = true, .message = error});
            }
            break;
        case circuit_breaker::permit::call:
            if (!connect(opts_.timeout, error)) {
                failed(error);
                return unexpected(redis_error{.unreachable = true, .message = error});
            }
            break;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* reply =
        static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (reply == nullptr) {  // I/O error or timeout: the store is unavailable
        redis_error e{.unreachable = false, .message = ctx_->errstr};
        failed(e.message);
        return unexpected(std::move(e));
    }
    note(breaker_.on_success(), {});  // an error reply still proves Redis answers
    if (reply->type == REDIS_REPLY_ERROR) {
        redis_error e{.unreachable = false, .message = std::string(reply->str, reply->len)};
        freeReplyObject(reply);
        drop();
        return unexpected(std::move(e));
    }
    redis_value v = to_value(reply);
    freeReplyObject(reply);
    return v;
}

}  // namespace relaygate::egress
