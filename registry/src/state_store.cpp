// state_store.cpp: JSON encoding and atomic replacement of the verification
// state file (see state_store.hpp). Parsing uses nlohmann's SAX interface so a
// state of 1,000,000 domains is read without building a document tree.
#include "relaygate/registry/state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "relaygate/registry/domain_name.hpp"

namespace relaygate::registry {

std::string_view to_string(verification_state s) {
    switch (s) {
        case verification_state::pending:
            return "pending";
        case verification_state::verified:
            return "verified";
        case verification_state::failed:
            return "failed";
    }
    return "pending";
}

std::optional<verification_state> parse_verification_state(std::string_view text) {
    for (auto s : {verification_state::pending, verification_state::verified, verification_state::failed}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

std::string encode_state(const state_map& states) {
    std::vector<const state_map::value_type*> sorted;
    sorted.reserve(states.size());
    for (const auto& kv : states) sorted.push_back(&kv);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::string out = "{\"version\":1,\"domains\":{";
    bool first = true;
    auto str = [](const std::string& s) {
        return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    for (const auto* kv : sorted) {
        const auto& st = kv->second;
        out += first ? "\n" : ",\n";
        first = false;
        out += str(kv->first) + ":{\"state\":\"" + std::string(to_string(st.state)) + "\"";
        if (st.temporary_failure) out += ",\"temporary\":true";
        if (!st.reason_code.empty()) out += ",\"reason\":" + str(st.reason_code);
        if (!st.reason_text.empty()) out += ",\"detail\":" + str(st.reason_text);
        if (st.last_checked) out += ",\"last_checked\":" + std::to_string(st.last_checked);
        if (st.verified_since) out += ",\"verified_since\":" + std::to_string(st.verified_since);
        if (st.failing_since) out += ",\"failing_since\":" + std::to_string(st.failing_since);
        if (st.pending_since) out += ",\"pending_since\":" + std::to_string(st.pending_since);
        if (!st.signing_selector.empty()) out += ",\"signing_selector\":" + str(st.signing_selector);
        if (st.signing_since) out += ",\"signing_since\":" + std::to_string(st.signing_since);
        if (!st.selectors.empty()) {
            out += ",\"selectors\":{";
            for (std::size_t i = 0; i < st.selectors.size(); ++i) {
                out += (i ? "," : "") + str(st.selectors[i].selector) + ":" + str(st.selectors[i].outcome);
            }
            out += "}";
        }
        out += "}";
    }
    out += "\n}}\n";
    return out;
}

namespace {

constexpr std::size_t max_text_field = 4096;     // reason / detail bytes
constexpr std::size_t max_domains = 10'000'000;  // twice the admin file's limit
constexpr std::size_t max_selectors = 16;        // per domain (the admin file allows 4)

// SAX handler for the layout encode_state writes. Depth 1: the top object,
// 2: "domains", 3: one domain, 4: its "selectors" (selector -> outcome). Unknown keys at depth 1 and 3 are skipped
// (forward compatibility) as long as they hold scalars.
class state_sax : public nlohmann::json_sax<nlohmann::json> {
public:
    // Receives each finished domain; false = refuse it (the message is in problem).
    using sink = std::function<bool(std::string&& domain, verification_status&& status)>;
    state_sax(sink s, bool check_names) : sink_(std::move(s)), check_names_(check_names) {}
    std::string problem;
    std::size_t count = 0;
    bool fail(std::string message) {
        if (problem.empty()) problem = std::move(message);
        return false;
    }

    bool null() override { return scalar("null"); }
    bool boolean(bool v) override {
        if (in_domain() && !in_selectors_ && key_ == "temporary") {
            current().temporary_failure = v;
            return true;
        }
        return scalar("a boolean");
    }
    bool number_integer(number_integer_t v) override { return number(v); }
    bool number_unsigned(number_unsigned_t v) override {
        if (v > static_cast<number_unsigned_t>(INT64_MAX)) return fail("number out of range for '" + key_ + "'");
        return number(static_cast<std::int64_t>(v));
    }
    bool number_float(number_float_t, const string_t&) override { return scalar("a fractional number"); }
    bool string(string_t& v) override {
        if (!in_domain()) {
            return scalar("a string");
        }
        if (v.size() > max_text_field) return fail("field '" + key_ + "' of " + domain_ + " is too long");
        if (in_selectors_) {
            if (current().selectors.size() >= max_selectors) {
                return fail("more than " + std::to_string(max_selectors) + " selectors for " + domain_);
            }
            current().selectors.push_back({key_, std::move(v)});
            return true;
        }
        if (key_ == "state") {
            auto s = parse_verification_state(v);
            if (!s) return fail("unknown state '" + v + "' for " + domain_);
            current().state = *s;
            has_state_ = true;
        } else if (key_ == "reason") {
            current().reason_code = std::move(v);
        } else if (key_ == "detail") {
            current().reason_text = std::move(v);
        } else if (key_ == "signing_selector") {
            current().signing_selector = std::move(v);
        }
        return true;
    }
    bool binary(binary_t&) override { return fail("binary value"); }
    bool start_object(std::size_t) override {
        ++depth_;
        if (depth_ == 1) return true;
        if (depth_ == 2 && key_ == "domains") {
            seen_domains_ = true;
            return true;
        }
        if (depth_ == 3 && seen_domains_) {
            // The registry loader skips this (an odd name simply matches no registered domain).
            if (check_names_) {
                auto normal = normalise_domain(key_);
                if (!normal || *normal != key_) return fail("'" + key_ + "' is not a normalised domain name");
            }
            if (count >= max_domains) return fail("more than " + std::to_string(max_domains) + " domains");
            domain_.assign(key_);  // copies into kept capacity: no allocation per domain
            status_ = verification_status{};
            in_domain_ = true;
            has_state_ = false;
            return true;
        }
        if (depth_ == 4 && in_domain_ && key_ == "selectors" && !in_selectors_) {
            in_selectors_ = true;
            return true;
        }
        return fail("unexpected object at '" + key_ + "'");
    }
    bool key(string_t& k) override {
        key_.assign(k);  // the lexer keeps its buffer, key_ keeps its capacity
        return true;
    }
    bool end_object() override {
        if (depth_ == 4) in_selectors_ = false;
        if (depth_ == 3) {
            if (!has_state_) return fail("domain " + domain_ + " has no \"state\"");
            in_domain_ = false;
            ++count;
            if (!sink_(std::move(domain_), std::move(status_))) return false;
        }
        if (depth_ == 1) {
            if (!version_ok_) return fail("missing or unsupported \"version\" (expected 1)");
            if (!seen_domains_) return fail("missing \"domains\"");
        }
        --depth_;
        return true;
    }
    bool start_array(std::size_t) override { return fail("unexpected array at '" + key_ + "'"); }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        if (problem.empty()) problem = "not valid JSON at byte " + std::to_string(position) + " (" + ex.what() + ")";
        return false;
    }

private:
    bool in_domain() const { return (depth_ == 3 || in_selectors_) && in_domain_; }
    verification_status& current() { return status_; }
    bool number(std::int64_t v) {
        if (depth_ == 1 && key_ == "version") {
            version_ok_ = v == 1;
            return version_ok_ ? true : fail("unsupported version " + std::to_string(v) + " (expected 1)");
        }
        if (!in_domain() || in_selectors_) return scalar("a number");
        if (v < 0) return fail("negative timestamp in '" + key_ + "' of " + domain_);
        if (key_ == "last_checked") current().last_checked = v;
        if (key_ == "verified_since") current().verified_since = v;
        if (key_ == "failing_since") current().failing_since = v;
        if (key_ == "pending_since") current().pending_since = v;
        if (key_ == "signing_since") current().signing_since = v;
        return true;
    }
    // A scalar where only known keys are allowed: skipped at depth 1 and 3, refused elsewhere.
    bool scalar(const char* what) {
        if (depth_ == 1 || depth_ == 3) return true;
        return fail(std::string("unexpected ") + what + " at '" + key_ + "'");
    }
    sink sink_;
    bool check_names_;
    int depth_ = 0;
    std::string key_;
    std::string domain_;
    verification_status status_;
    bool in_domain_ = false, seen_domains_ = false, version_ok_ = false, has_state_ = false;
    bool in_selectors_ = false;  // inside a domain's "selectors" object (depth 4)
};

template <class Input>
expected<std::size_t, std::string> parse_with(Input&& input, std::string_view file_name, state_sax::sink sink,
                                              bool check_names = true) {
    state_sax sax(std::move(sink), check_names);
    bool ok = false;
    try {
        ok = nlohmann::json::sax_parse(std::forward<Input>(input), &sax);
    } catch (const std::exception& e) {
        if (sax.problem.empty()) sax.problem = e.what();
    }
    if (!ok) {
        return unexpected(std::string(file_name) + ": corrupt state file: " +
                          (sax.problem.empty() ? std::string("not a relaygate state file") : sax.problem));
    }
    return sax.count;
}

// A sink that collects into a map and refuses a domain given twice.
state_sax::sink map_sink(state_map& states, std::string& problem) {
    return [&states, &problem](std::string&& domain, verification_status&& status) {
        auto [it, inserted] = states.try_emplace(std::move(domain), std::move(status));
        if (!inserted && problem.empty()) problem = "domain " + it->first + " appears twice";
        return inserted;
    };
}

template <class Input>
expected<state_map, std::string> parse_into_map(Input&& input, std::string_view file_name) {
    state_map states;
    std::string duplicate;
    auto r = parse_with(std::forward<Input>(input), file_name, map_sink(states, duplicate));
    if (!duplicate.empty()) return unexpected(std::string(file_name) + ": corrupt state file: " + duplicate);
    if (!r) return unexpected(r.error());
    return states;
}

std::string errno_text(const char* what, const std::string& path) {
    return path + ": " + what + ": " + std::strerror(errno);
}

struct fd_closer {
    int fd;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

expected<state_map, std::string> parse_state_text(std::string_view text, std::string_view file_name) {
    return parse_into_map(text, file_name);
}

namespace {

// Opens path for streaming; nullopt when it does not exist.
expected<std::optional<std::ifstream>, std::string> open_state(const std::string& path) {
    std::optional<std::ifstream> in(std::in_place);
    in->open(path, std::ios::binary);
    if (!*in) {
        if (errno == ENOENT) return std::optional<std::ifstream>{};  // never verified yet: every domain pending
        return unexpected(errno_text("cannot open state file", path));
    }
    return in;
}

}  // namespace

expected<state_map, std::string> read_state_file(const std::string& path) {
    auto in = open_state(path);
    if (!in) return unexpected(in.error());
    if (!in->has_value()) return state_map{};
    return parse_into_map(**in, path);
}

expected<std::size_t, std::string> visit_state_file(const std::string& path, const state_visitor& each) {
    auto in = open_state(path);
    if (!in) return unexpected(in.error());
    if (!in->has_value()) return std::size_t{0};
    return parse_with(
        **in, path,
        [&each](std::string&& domain, verification_status&& status) {
            each(domain, status);
            return true;
        },
        /*check_names=*/false);
}

expected<bool, std::string> write_state_file(const std::string& path, const state_map& states) {
    const std::string text = encode_state(states);
    auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) return unexpected(errno_text("cannot create temporary file", tmp));
    fd_closer closer{fd};
    ::fchmod(fd, 0644);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = errno_text("write failed", tmp);
            ::unlink(tmp.c_str());
            return unexpected(err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto err = errno_text("fsync failed", tmp);
        ::unlink(tmp.c_str());
        return unexpected(err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto err = errno_text("rename failed", path);
        ::unlink(tmp.c_str());
        return unexpected(err);
    }
    // The rename itself is durable only once the folder is synced: a failure there means the
    // new file is visible but may vanish on a crash, so the caller must not count it as written.
    auto synced = sync_directory(dir);
    if (!synced) return unexpected(path + ": replaced, but not durable: " + synced.error());
    return true;
}

expected<bool, std::string> sync_directory(const std::string& dir) {
    fd_closer dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (dir_fd.fd < 0) return unexpected(errno_text("cannot open folder to sync it", dir));
    if (::fsync(dir_fd.fd) != 0) return unexpected(errno_text("fsync of folder failed", dir));
    return true;
}

expected<bool, std::string> update_state_file(const std::string& path, const std::function<void(state_map&)>& change) {
    const std::string lock_path = path + ".lock";
    fd_closer lock{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
    if (lock.fd < 0) return unexpected(errno_text("cannot open lock file", lock_path));
    while (::flock(lock.fd, LOCK_EX) != 0) {
        if (errno != EINTR) return unexpected(errno_text("cannot lock", lock_path));
    }
    auto states = read_state_file(path);
    if (!states) return unexpected(states.error());
    change(*states);
    return write_state_file(path, *states);  // the lock is released when lock.fd closes
}

}  // namespace relaygate::registry
