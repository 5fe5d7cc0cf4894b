// redis_counter_store.cpp: the shared counter_store (see redis_counter_store.hpp).
// One EVAL per apply(): the script computes every op's sliding estimate,
// stops at the first one over its limit, else INCRBYs them all (with EXPIRE
// of two windows), atomically on the Redis server, so several relaygate-policy
// daemons enforce one quota. Fail-open: any error returns failed=true.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "policy/redis_counter_store.hpp"
#include "relaygate/egress/redis_connection.hpp"
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
    redis_counter_store(egress::redis_endpoint endpoint, std::string prefix, int timeout_ms)
        : redis_({.endpoint = std::move(endpoint),
                  .timeout = std::chrono::milliseconds(timeout_ms),
                  // The probe runs on the event loop: a hung Redis may cost it
                  // this much once per retry interval, never a command timeout.
                  .probe_timeout = std::chrono::milliseconds(std::min(timeout_ms, 5)),
                  .log_name = "counters_redis",
                  .unreachable_note = "fail_open=dunno"}),
          prefix_(std::move(prefix)) {}

    counter_result apply(std::span<const counter_op> ops, std::int64_t now_ms) override {
        counter_result r;
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
        auto reply = redis_.command(args);
        const bool shaped = reply && reply->type == egress::redis_value::kind::array && reply->elements.size() == 2 &&
                            reply->elements[0].type == egress::redis_value::kind::integer;
        if (!shaped) {
            if (!reply && reply.error().unreachable) {
                ++failures_;
                r.failed = true;
                return r;
            }
            log::warning("- counters_redis_failed error=" +
                         log::quote(reply ? std::string("unexpected reply") : reply.error().message));
            redis_.drop();
            r.failed = true;
            ++failures_;
            return r;
        }
        long long over = reply->elements[0].integer;
        if (over > 0) {
            r.over = static_cast<int>(over - 1);
            r.estimate = static_cast<std::uint64_t>(reply->elements[1].integer);
        }
        return r;
    }

    std::size_t keys() const override { return 0; }
    std::uint64_t failures() const override { return failures_; }
    bool healthy() const override { return redis_.breaker().current() == egress::circuit_breaker::state::closed; }

private:
    static std::string_view metric_name(metric m) {
        static constexpr std::string_view names[] = {"messages", "recipients", "bytes"};
        return names[static_cast<int>(m)];
    }

    egress::redis_connection redis_;
    std::string prefix_;
    std::uint64_t failures_ = 0;
};

}  // namespace

std::unique_ptr<counter_store> make_redis_counter_store(egress::redis_endpoint endpoint, std::string prefix,
                                                        int timeout_ms) {
    return std::make_unique<redis_counter_store>(std::move(endpoint), std::move(prefix), timeout_ms);
}

}  // namespace relaygate::policy
