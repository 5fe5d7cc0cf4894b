// flip_intent.hpp: what the watch must finish after a flip (docs/watch.md
// "Crash consistency"): the flip itself, the queue ids to requeue and the hook
// payload that tells the operator. The daemon writes it durably before it
// writes the egress store and removes it once the requeue has run and the
// payload is in the hook outbox; a restart finds it and replays it. Pure codec
// (JSON), with hard limits: it is read back from a file on disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/expected.hpp"

namespace relaygate::watch {

struct flip_intent {
    std::string family;
    std::string from;
    std::string to;
    std::string reason;
    std::int64_t time = 0;
    std::vector<std::string> queue_ids;  // to requeue after a flip to the spare (may be empty)
    std::string hook_payload;            // the flip's alert hook JSON
};

inline constexpr std::size_t max_intent_bytes = 8 << 20;
inline constexpr std::size_t max_intent_queue_ids = 200'000;  // the tracker's own cap
inline constexpr std::size_t max_intents = 64;                // one per family

std::string encode_flip_intents(const std::vector<flip_intent>& intents);
// Errors name what is wrong ("intent 0: queue id 'x/y' is not a Postfix queue id").
expected<std::vector<flip_intent>, std::string> decode_flip_intents(std::string_view text);

}  // namespace relaygate::watch
