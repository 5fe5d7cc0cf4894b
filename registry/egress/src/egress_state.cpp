// egress_state.cpp: the two egress_store back ends (see egress_state.hpp).
// File: {"families":{"microsoft":{"active_transport":..,"reason":..,"since":..}}},
// written temp+fsync+rename under an flock on "<path>.lock"; readers re-stat at
// most every 100 ms. Redis: hash "<prefix>egress", field = family, value = the
// same JSON object. Both are thread-safe (one mutex each) and never throw.
#include "relaygate/egress/egress_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/log/log.hpp"

namespace relaygate::egress {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

json to_json(const family_route& r) {
    return json{{"active_transport", r.active_transport}, {"reason", r.reason}, {"since", r.since}};
}

// Parses one route object; nullopt when a field is missing or mistyped.
std::optional<family_route> from_json(std::string_view family, const json& j) {
    if (!j.is_object() || !j.contains("active_transport") || !j["active_transport"].is_string()) return std::nullopt;
    family_route r;
    r.family = std::string(family);
    r.active_transport = j["active_transport"].get<std::string>();
    if (r.active_transport.empty()) return std::nullopt;
    if (j.contains("reason") && j["reason"].is_string()) r.reason = j["reason"].get<std::string>();
    if (j.contains("since") && j["since"].is_number_integer()) r.since = j["since"].get<std::int64_t>();
    return r;
}

class file_egress_store final : public egress_store {
public:
    explicit file_egress_store(std::string path) : path_(std::move(path)) {}

    std::optional<family_route> active(std::string_view family) override { return read(family).route; }

    route_read read(std::string_view family) override {
        std::lock_guard lock(mutex_);
        refresh();
        if (!error_.empty()) return {read_status::unavailable, std::nullopt, error_};
        auto it = routes_.find(std::string(family));
        if (it == routes_.end()) return {};
        return {read_status::found, it->second, {}};
    }

    bool set_active(const family_route& route) override {
        std::lock_guard lock(mutex_);
        int lock_fd = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
            if (lock_fd >= 0) ::close(lock_fd);
            log::error("- egress_write_failed path=" + log::quote(path_) + " reason=lock");
            return false;
        }
        // Read-modify-write under the lock so two writers never lose a family.
        std::map<std::string, family_route> routes;
        bool readable = read_file(routes);
        bool ok = false;
        if (readable) {
            routes[route.family] = route;
            ok = write_file(routes);
        }
        ::flock(lock_fd, LOCK_UN);
        ::close(lock_fd);
        if (ok) {
            routes_ = std::move(routes);
            next_check_ = steady::now();  // pick up the new inode on the next read
            have_stat_ = false;
        }
        return ok;
    }

    std::vector<family_route> all() override {
        std::lock_guard lock(mutex_);
        refresh();
        std::vector<family_route> out;
        for (const auto& [_, r] : routes_) out.push_back(r);
        return out;
    }

private:
    // Re-reads the file when its identity changed; at most one stat() per 100 ms.
    void refresh() {
        auto now = steady::now();
        if (now < next_check_) return;
        next_check_ = now + std::chrono::milliseconds(100);
        struct stat st {};
        if (::stat(path_.c_str(), &st) != 0) {
            routes_.clear();
            have_stat_ = false;
            // No file: never set. Any other stat error: unknown, not "designated".
            error_ = errno == ENOENT ? std::string() : "stat: " + std::string(std::strerror(errno));
            return;
        }
        if (have_stat_ && st.st_ino == stat_.st_ino && st.st_mtim.tv_sec == stat_.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == stat_.st_mtim.tv_nsec && st.st_size == stat_.st_size)
            return;
        std::map<std::string, family_route> routes;
        // Remembered with its stat, so a corrupt file is read (and logged) once per change, not every 100 ms.
        stat_ = st;
        have_stat_ = true;
        if (!read_file(routes)) {
            routes_.clear();
            error_ = "unreadable or bad JSON";
            return;
        }
        routes_ = std::move(routes);
        error_.clear();
    }

    // false when the file exists but cannot be parsed; a missing file is empty.
    bool read_file(std::map<std::string, family_route>& out) const {
        std::ifstream in(path_);
        if (!in) return errno == ENOENT;
        std::stringstream buf;
        buf << in.rdbuf();
        json doc = json::parse(buf.str(), nullptr, false);
        if (doc.is_discarded() || !doc.is_object() || !doc.contains("families") || !doc["families"].is_object()) {
            log::error("- egress_read_failed path=" + log::quote(path_) + " reason=bad_json");
            return false;
        }
        for (const auto& [family, value] : doc["families"].items()) {
            if (auto r = from_json(family, value)) out[family] = *r;
        }
        return true;
    }

    bool write_file(const std::map<std::string, family_route>& routes) const {
        json families = json::object();
        for (const auto& [family, r] : routes) families[family] = to_json(r);
        std::string text = json{{"families", families}}.dump(2) + "\n";
        std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            log::error("- egress_write_failed path=" + log::quote(tmp) + " reason=open");
            return false;
        }
        bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
        ok = (::close(fd) == 0) && ok;
        if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
            ::unlink(tmp.c_str());
            log::error("- egress_write_failed path=" + log::quote(path_) + " reason=write");
            return false;
        }
        return true;
    }

    std::string path_;
    std::mutex mutex_;
    std::map<std::string, family_route> routes_;
    std::string error_;  // why the file is unusable ("" = routes_ is what it says)
    struct stat stat_ {};
    bool have_stat_ = false;
    steady::time_point next_check_{};
};

// Redis back end over the one redis_connection, with 500 ms timeouts; after a
// failure it reconnects at most once per second (so a dead Redis costs callers
// a fast nullopt, not a connect timeout per call).
class redis_egress_store final : public egress_store {
public:
    redis_egress_store(redis_endpoint endpoint, std::string prefix)
        : redis_({.endpoint = std::move(endpoint), .log_name = "egress_redis"}), key_(std::move(prefix) + "egress") {}

    std::optional<family_route> active(std::string_view family) override { return read(family).route; }

    route_read read(std::string_view family) override {
        std::lock_guard lock(mutex_);
        std::string f(family);
        std::string error;
        auto reply = command({"HGET", key_, f}, &error);
        if (!reply) return {read_status::unavailable, std::nullopt, error};
        if (reply->type == redis_value::kind::nil) return {};
        if (reply->type != redis_value::kind::string) return {read_status::unavailable, std::nullopt, "not a string"};
        auto r = parse(f, reply->text);
        if (!r) return {read_status::unavailable, std::nullopt, "bad JSON in " + key_ + " " + f};
        return {read_status::found, std::move(r), {}};
    }

    bool set_active(const family_route& route) override {
        std::lock_guard lock(mutex_);
        auto reply = command({"HSET", key_, route.family, to_json(route).dump()});
        return reply && reply->type == redis_value::kind::integer;
    }

    std::vector<family_route> all() override {
        std::lock_guard lock(mutex_);
        std::vector<family_route> out;
        auto reply = command({"HGETALL", key_});
        if (!reply || reply->type != redis_value::kind::array) return out;
        const auto& e = reply->elements;
        for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
            if (auto r = parse(e[i].text, e[i + 1].text)) out.push_back(*r);
        }
        return out;
    }

private:
    static std::optional<family_route> parse(const std::string& family, const std::string& text) {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) return std::nullopt;
        return from_json(family, j);
    }

    // Runs one command; nullopt (logged) on any error.
    std::optional<redis_value> command(std::initializer_list<std::string> args, std::string* error = nullptr) {
        std::vector<std::string> argv(args);
        auto reply = redis_.command(argv);
        if (reply) return std::move(*reply);
        if (error != nullptr) *error = reply.error().message;
        if (!reply.error().unreachable) {
            log::warning("- egress_redis_failed key=" + key_ + " error=" + log::quote(reply.error().message));
        }
        return std::nullopt;
    }

    redis_connection redis_;
    std::string key_;
    std::mutex mutex_;
};

}  // namespace

std::unique_ptr<egress_store> make_file_egress_store(std::string path) {
    return std::make_unique<file_egress_store>(std::move(path));
}

std::unique_ptr<egress_store> make_redis_egress_store(redis_endpoint endpoint, std::string prefix) {
    return std::make_unique<redis_egress_store>(std::move(endpoint), std::move(prefix));
}

}  // namespace relaygate::egress
