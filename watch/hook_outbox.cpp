// hook_outbox.cpp: see hook_outbox.hpp. Names are 20-digit sequence numbers,
// so their lexical order is the order the payloads were added in.
#include "watch/hook_outbox.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "watch/durable_file.hpp"

namespace relaygate::watch {
namespace {

bool is_outbox_name(const std::string& n) {
    return n.size() == 25 && n.ends_with(".json") &&
           std::all_of(n.begin(), n.begin() + 20, [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

hook_outbox::hook_outbox(std::string dir) : dir_(std::move(dir)) {}

std::vector<std::string> hook_outbox::names() {
    std::vector<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        auto n = it->path().filename().string();
        if (is_outbox_name(n)) out.push_back(std::move(n));
    }
    std::sort(out.begin(), out.end());
    return out;
}

expected<std::string, std::string> hook_outbox::add(std::string_view payload) {
    if (payload.size() > max_payload_bytes) return unexpected(std::string("hook payload over 64 KiB"));
    std::lock_guard lock(mu_);
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return unexpected(dir_ + ": " + ec.message());
    const auto existing = names();
    if (existing.size() >= max_files) return unexpected(dir_ + ": outbox full (" + std::to_string(max_files) + ")");
    if (next_ == 0) next_ = existing.empty() ? 1 : std::stoull(existing.back().substr(0, 20)) + 1;
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.json", static_cast<unsigned long long>(next_));
    auto ok = write_durable(dir_ + "/" + name, payload);
    if (!ok) return unexpected(ok.error());
    ++next_;
    return std::string(name);
}

expected<bool, std::string> hook_outbox::remove(const std::string& name) {
    if (!is_outbox_name(name)) return unexpected("not an outbox file: " + name);
    return remove_durable(dir_ + "/" + name);
}

std::vector<std::pair<std::string, std::string>> hook_outbox::pending(std::vector<std::string>& errors) {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& n : names()) {
        auto text = read_small_file(dir_ + "/" + n, max_payload_bytes);
        if (!text || !*text) {
            errors.push_back(text ? dir_ + "/" + n + ": vanished" : text.error());
            continue;
        }
        auto payload = std::move(**text);
        while (!payload.empty() && payload.back() == '\n') payload.pop_back();
        out.emplace_back(std::move(n), std::move(payload));
    }
    return out;
}

}  // namespace relaygate::watch
