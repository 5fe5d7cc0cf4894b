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

redis_connection::redis_connection(options opts) : opts_(std::move(opts)) {}

redis_connection::~redis_connection() { drop(); }

void redis_connection::drop() {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
}

bool redis_connection::connect() {
    if (ctx_ != nullptr) return true;
    auto now = std::chrono::steady_clock::now();
    if (now < retry_at_) return false;
    retry_at_ = now + opts_.retry_after;
    const timeval tv = to_timeval(opts_.timeout);
    const auto& ep = opts_.endpoint;
    ctx_ = ep.port == 0 ? redisConnectUnixWithTimeout(ep.host.c_str(), tv)
                        : redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
    if (ctx_ == nullptr || ctx_->err != 0) {
        log::warning("- " + opts_.log_name + "_unreachable host=" + log::quote(ep.host) + " port=" +
                     std::to_string(ep.port) + " error=" + log::quote(ctx_ != nullptr ? ctx_->errstr : "alloc") +
                     (opts_.unreachable_note.empty() ? "" : " " + opts_.unreachable_note));
        drop();
        return false;
    }
    redisSetTimeout(ctx_, tv);
    return true;
}

expected<redis_value, redis_error> redis_connection::command(std::span<const std::string> args) {
    if (!connect()) return unexpected(redis_error{.unreachable = true, .message = "not connected"});
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* reply =
        static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
        redis_error e{.unreachable = false,
                      .message = reply != nullptr ? std::string(reply->str, reply->len) : std::string(ctx_->errstr)};
        if (reply != nullptr) freeReplyObject(reply);
        drop();
        return unexpected(std::move(e));
    }
    redis_value v = to_value(reply);
    freeReplyObject(reply);
    return v;
}

}  // namespace relaygate::egress
