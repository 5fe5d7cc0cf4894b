// egress_state.cpp: the two egress_store back ends (see egress_state.hpp).
// File: {"families":{"microsoft":{"active_transport":..,"reason":..,"since":..}}},
// written temp+fsync+rename under an flock on "<path>.lock"; readers re-stat at
// most every 100 ms. Redis: hash "<prefix>egress", field = family, value = the
// same JSON object. Both are thread-safe (one mutex each) and never throw.
#include "relaygate/egress/egress_state.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
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

    std::optional<family_route> active(std::string_view family) override {
        std::lock_guard lock(mutex_);
        refresh();
        auto it = routes_.find(std::string(family));
        if (it == routes_.end()) return std::nullopt;
        return it->second;
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
            routes_.clear();  // no file: never set, the designated transport applies
            have_stat_ = false;
            return;
        }
        if (have_stat_ && st.st_ino == stat_.st_ino && st.st_mtim.tv_sec == stat_.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == stat_.st_mtim.tv_nsec && st.st_size == stat_.st_size)
            return;
        std::map<std::string, family_route> routes;
        if (!read_file(routes)) {
            routes_.clear();  // unreadable: nullopt for every family (documented fail-open)
            have_stat_ = false;
            return;
        }
        routes_ = std::move(routes);
        stat_ = st;
        have_stat_ = true;
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
    struct stat stat_ {};
    bool have_stat_ = false;
    steady::time_point next_check_{};
};

// Redis back end: one synchronous hiredis connection with 500 ms timeouts;
// after a failure it reconnects at most once per second (so a dead Redis
// costs callers a fast nullopt, not a connect timeout per call).
class redis_egress_store final : public egress_store {
public:
    redis_egress_store(std::string host, int port, std::string prefix)
        : host_(std::move(host)), port_(port), key_(std::move(prefix) + "egress") {}
    ~redis_egress_store() override {
        if (ctx_ != nullptr) redisFree(ctx_);
    }

    std::optional<family_route> active(std::string_view family) override {
        std::lock_guard lock(mutex_);
        std::string f(family);
        redisReply* reply = command({"HGET", key_, f});
        if (reply == nullptr) return std::nullopt;
        std::optional<family_route> r;
        if (reply->type == REDIS_REPLY_STRING) r = parse(f, std::string(reply->str, reply->len));
        freeReplyObject(reply);
        return r;
    }

    bool set_active(const family_route& route) override {
        std::lock_guard lock(mutex_);
        redisReply* reply = command({"HSET", key_, route.family, to_json(route).dump()});
        if (reply == nullptr) return false;
        bool ok = reply->type == REDIS_REPLY_INTEGER;
        freeReplyObject(reply);
        return ok;
    }

    std::vector<family_route> all() override {
        std::lock_guard lock(mutex_);
        std::vector<family_route> out;
        redisReply* reply = command({"HGETALL", key_});
        if (reply == nullptr) return out;
        if (reply->type == REDIS_REPLY_ARRAY) {
            for (size_t i = 0; i + 1 < reply->elements; i += 2) {
                std::string f(reply->element[i]->str, reply->element[i]->len);
                if (auto r = parse(f, std::string(reply->element[i + 1]->str, reply->element[i + 1]->len)))
                    out.push_back(*r);
            }
        }
        freeReplyObject(reply);
        return out;
    }

private:
    static std::optional<family_route> parse(const std::string& family, const std::string& text) {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) return std::nullopt;
        return from_json(family, j);
    }

    bool connect() {
        if (ctx_ != nullptr) return true;
        auto now = steady::now();
        if (now < retry_after_) return false;
        retry_after_ = now + std::chrono::seconds(1);
        timeval tv{0, 500000};
        ctx_ = host_.starts_with("/") ? redisConnectUnixWithTimeout(host_.c_str(), tv)
                                      : redisConnectWithTimeout(host_.c_str(), port_, tv);
        if (ctx_ == nullptr || ctx_->err != 0) {
            log::warning("- egress_redis_unreachable host=" + log::quote(host_) + " port=" + std::to_string(port_) +
                         " error=" + log::quote(ctx_ != nullptr ? ctx_->errstr : "alloc"));
            if (ctx_ != nullptr) redisFree(ctx_);
            ctx_ = nullptr;
            return false;
        }
        redisSetTimeout(ctx_, tv);
        return true;
    }

    // Runs one command; nullptr (and the connection dropped) on any I/O error.
    redisReply* command(std::initializer_list<std::string> args) {
        if (!connect()) return nullptr;
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* reply =
            static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
            log::warning("- egress_redis_failed key=" + key_ +
                         " error=" + log::quote(reply != nullptr ? std::string(reply->str, reply->len) : ctx_->errstr));
            if (reply != nullptr) freeReplyObject(reply);
            redisFree(ctx_);
            ctx_ = nullptr;
            return nullptr;
        }
        return reply;
    }

    std::string host_;
    int port_;
    std::string key_;
    std::mutex mutex_;
    redisContext* ctx_ = nullptr;
    steady::time_point retry_after_{};
};

}  // namespace

std::unique_ptr<egress_store> make_file_egress_store(std::string path) {
    return std::make_unique<file_egress_store>(std::move(path));
}

std::unique_ptr<egress_store> make_redis_egress_store(std::string host, int port, std::string prefix) {
    return std::make_unique<redis_egress_store>(std::move(host), port, std::move(prefix));
}

}  // namespace relaygate::egress
