// redis_counter_store.cpp: the shared counter_store (see counter_store.hpp).
// One EVAL per apply(): the script computes every op's sliding estimate,
// stops at the first one over its limit, else INCRBYs them all (with EXPIRE
// of two windows), atomically on the Redis server, so several relaygate-policy
// daemons enforce one quota. Fail-open: any error returns failed=true.
#include <hiredis/hiredis.h>

#include <chrono>
#include <string>
#include <vector>

#include "relaygate/log/log.hpp"
#include "relaygate/policy/counter_store.hpp"

namespace relaygate::policy {
namespace {

// KEYS[i] = base key of op i; ARGV = now_ms, then per op: window_s limit check add enforce.
constexpr const char* script = R"lua(
local now = tonumber(ARGV[1])
local n = #KEYS
local idx, cur = {}, {}
for i = 1, n do
  local a = 1 + (i - 1) * 5
  local w = tonumber(ARGV[a + 1]) * 1000
  local limit, check, enforce = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 5]
  local k = math.floor(now / w)
  idx[i] = k
  local c = tonumber(redis.call('GET', KEYS[i] .. ':' .. k) or '0')
  local p = tonumber(redis.call('GET', KEYS[i] .. ':' .. (k - 1)) or '0')
  local est = math.ceil(p * (w - (now - k * w)) / w) + c
  if enforce == '1' and est + check > limit then return {i, est} end
end
for i = 1, n do
  local a = 1 + (i - 1) * 5
  local add = tonumber(ARGV[a + 4])
  if add > 0 then
    local key = KEYS[i] .. ':' .. idx[i]
    redis.call('INCRBY', key, add)
    redis.call('EXPIRE', key, 2 * tonumber(ARGV[a + 1]))
  end
end
return {0, 0}
)lua";

class redis_counter_store final : public counter_store {
public:
    redis_counter_store(std::string host, int port, std::string prefix, int timeout_ms)
        : host_(std::move(host)), port_(port), prefix_(std::move(prefix)), timeout_ms_(timeout_ms) {}
    ~redis_counter_store() override {
        if (ctx_ != nullptr) redisFree(ctx_);
    }

    counter_result apply(std::span<const counter_op> ops, std::int64_t now_ms) override {
        counter_result r;
        if (!connect()) {
            r.failed = true;
            ++failures_;
            return r;
        }
        std::vector<std::string> args{"EVAL", script, std::to_string(ops.size())};
        for (const auto& op : ops) {
            args.push_back(prefix_ + "rate:" + op.key + ":" + std::string(metric_name(op.what)) + ":" +
                           std::to_string(op.window_s));
        }
        args.push_back(std::to_string(now_ms));
        for (const auto& op : ops) {
            args.push_back(std::to_string(op.window_s));
            args.push_back(std::to_string(op.limit));
            args.push_back(std::to_string(op.check));
            args.push_back(std::to_string(op.add));
            args.push_back(op.enforce ? "1" : "0");
        }
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* reply =
            static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_INTEGER) {
            log::warning("- counters_redis_failed error=" + log::quote(reply == nullptr ? std::string(ctx_->errstr)
                                                                       : reply->type == REDIS_REPLY_ERROR
                                                                           ? std::string(reply->str, reply->len)
                                                                           : std::string("unexpected reply")));
            if (reply != nullptr) freeReplyObject(reply);
            drop();
            r.failed = true;
            ++failures_;
            return r;
        }
        long long over = reply->element[0]->integer;
        if (over > 0) {
            r.over = static_cast<int>(over - 1);
            r.estimate = static_cast<std::uint64_t>(reply->element[1]->integer);
        }
        freeReplyObject(reply);
        return r;
    }

    std::size_t keys() const override { return 0; }
    std::uint64_t failures() const override { return failures_; }

private:
    static std::string_view metric_name(metric m) {
        static constexpr std::string_view names[] = {"messages", "recipients", "bytes"};
        return names[static_cast<int>(m)];
    }

    bool connect() {
        if (ctx_ != nullptr) return true;
        auto now = std::chrono::steady_clock::now();
        if (now < retry_after_) return false;
        retry_after_ = now + std::chrono::seconds(1);
        timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
        ctx_ = host_.starts_with("/") ? redisConnectUnixWithTimeout(host_.c_str(), tv)
                                      : redisConnectWithTimeout(host_.c_str(), port_, tv);
        if (ctx_ == nullptr || ctx_->err != 0) {
            log::warning("- counters_redis_unreachable host=" + log::quote(host_) + " port=" + std::to_string(port_) +
                         " error=" + log::quote(ctx_ != nullptr ? ctx_->errstr : "alloc") + " fail_open=dunno");
            drop();
            return false;
        }
        redisSetTimeout(ctx_, tv);
        return true;
    }
    void drop() {
        if (ctx_ != nullptr) redisFree(ctx_);
        ctx_ = nullptr;
    }

    std::string host_;
    int port_;
    std::string prefix_;
    int timeout_ms_;
    redisContext* ctx_ = nullptr;
    std::chrono::steady_clock::time_point retry_after_{};
    std::uint64_t failures_ = 0;
};

}  // namespace

std::unique_ptr<counter_store> make_redis_counter_store(std::string host, int port, std::string prefix,
                                                        int timeout_ms) {
    return std::make_unique<redis_counter_store>(std::move(host), port, std::move(prefix), timeout_ms);
}

}  // namespace relaygate::policy
