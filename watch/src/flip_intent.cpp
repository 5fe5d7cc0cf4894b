// flip_intent.cpp: the JSON codec of flip_intent.hpp:
// {"intents":[{"family":..,"from":..,"to":..,"reason":..,"time":..,"queue_ids":[..],"hook":".."}]}
#include "relaygate/watch/flip_intent.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace relaygate::watch {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_field_bytes = 4096;

// Postfix queue ids: short (hex) or long (base 52 + 'z' separators) ids, 5-32 alphanumerics.
bool is_queue_id(std::string_view id) {
    return id.size() >= 5 && id.size() <= 32 &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

expected<std::string, std::string> text_field(const json& j, const char* name, bool required) {
    if (!j.contains(name)) {
        if (required) return unexpected(std::string("missing '") + name + "'");
        return std::string();
    }
    if (!j[name].is_string()) return unexpected(std::string("'") + name + "' is not a string");
    auto s = j[name].get<std::string>();
    if (s.size() > max_field_bytes) return unexpected(std::string("'") + name + "' is too long");
    if (required && s.empty()) return unexpected(std::string("'") + name + "' is empty");
    return s;
}

expected<flip_intent, std::string> decode_one(const json& j) {
    if (!j.is_object()) return unexpected(std::string("not an object"));
    flip_intent in;
    for (auto [name, field, required] :
         {std::tuple{"family", &in.family, true}, std::tuple{"from", &in.from, true}, std::tuple{"to", &in.to, true},
          std::tuple{"reason", &in.reason, false}, std::tuple{"hook", &in.hook_payload, false}}) {
        auto v = text_field(j, name, required);
        if (!v) return unexpected(v.error());
        *field = std::move(*v);
    }
    if (!j.contains("time") || !j["time"].is_number_integer())
        return unexpected(std::string("'time' is not an integer"));
    in.time = j["time"].get<std::int64_t>();
    if (j.contains("queue_ids")) {
        const auto& ids = j["queue_ids"];
        if (!ids.is_array()) return unexpected(std::string("'queue_ids' is not an array"));
        if (ids.size() > max_intent_queue_ids) return unexpected(std::string("too many queue ids"));
        in.queue_ids.reserve(ids.size());
        for (const auto& id : ids) {
            if (!id.is_string() || !is_queue_id(id.get_ref<const std::string&>())) {
                return unexpected("queue id " + id.dump().substr(0, 64) + " is not a Postfix queue id");
            }
            in.queue_ids.push_back(id.get<std::string>());
        }
    }
    return in;
}

}  // namespace

std::string encode_flip_intents(const std::vector<flip_intent>& intents) {
    json list = json::array();
    for (const auto& in : intents) {
        list.push_back(json{{"family", in.family},
                            {"from", in.from},
                            {"to", in.to},
                            {"reason", in.reason},
                            {"time", in.time},
                            {"queue_ids", in.queue_ids},
                            {"hook", in.hook_payload}});
    }
    return json{{"intents", list}}.dump() + "\n";
}

expected<std::vector<flip_intent>, std::string> decode_flip_intents(std::string_view text) {
    if (text.size() > max_intent_bytes) return unexpected(std::string("larger than the intent limit"));
    const json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("intents") || !doc["intents"].is_array()) {
        return unexpected(std::string("not an intent file (bad JSON)"));
    }
    const auto& list = doc["intents"];
    if (list.size() > max_intents) return unexpected(std::string("too many intents"));
    std::vector<flip_intent> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto one = decode_one(list[i]);
        if (!one) return unexpected("intent " + std::to_string(i) + ": " + one.error());
        out.push_back(std::move(*one));
    }
    return out;
}

}  // namespace relaygate::watch
