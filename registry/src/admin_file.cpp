// admin_file.cpp: the admin-file parser (see admin_file.hpp and docs/admin.md).
// A line is tokenised once (domain, then key=value with optional "quoted"
// values), each field is checked against its limits, and duplicates are found
// with one hash index at the end. Errors accumulate up to limits.max_errors.
#include "relaygate/registry/admin_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "admin_file_fields.hpp"
#include "relaygate/registry/domain_name.hpp"

namespace relaygate::registry {

std::string admin_file_error::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    if (!field.empty()) out += field + ": ";
    out += message;
    return out;
}

std::string admin_file_result::summary() const {
    if (errors.empty()) return {};
    std::string out = errors.front().to_string();
    if (errors.size() > 1) out += " (and " + std::to_string(errors.size() - 1) + " more errors)";
    return out;
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// One key=value pair of a line; value has its quotes and escapes removed.
struct token {
    std::string_view key;
    std::string value;
};

class parser {
public:
    parser(std::string_view file, const admin_file_limits& limits)
        : file_(file), file_name_(std::make_shared<const std::string>(file)), limits_(limits) {}

    // Parses one line (without its newline); false once parsing should stop.
    bool line(std::string_view text, int lineno) {
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (text.size() > limits_.max_line_bytes) {
            return error(lineno, "line", "longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
        }
        for (unsigned char c : text) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return error(lineno, "line", "control character " + fields::hex_byte(c) + " not allowed");
            }
        }
        std::size_t pos = 0;
        skip_blanks(text, pos);
        if (pos == text.size() || text[pos] == '#') return true;  // blank or comment line

        auto start = pos;
        while (pos < text.size() && !is_blank(text[pos])) ++pos;
        auto raw_domain = text.substr(start, pos - start);
        if (raw_domain.find('=') != std::string_view::npos || raw_domain.find('"') != std::string_view::npos) {
            return error(lineno, "domain", "a line starts with the domain, then key=value fields");
        }
        auto domain = normalise_domain(raw_domain);
        if (!domain) return error(lineno, "domain", "'" + fields::printable(raw_domain) + "': " + domain.error());

        domain_entry entry;
        entry.domain = std::move(*domain);
        entry.source_file = file_name_;
        entry.source_line = lineno;
        unsigned seen = 0;                     // bit per field, to refuse repeats
        std::vector<std::string> names, keys;  // selector= and key= pair in order (key rotation)
        while (true) {
            skip_blanks(text, pos);
            if (pos == text.size() || text[pos] == '#') break;
            auto tok = next_token(text, pos, lineno);
            if (!tok) return !stopped_;
            auto field = fields::find_field(tok->key);
            if (!field) {
                return error(lineno, fields::printable(tok->key),
                             "unknown field (known: selector, key, owner, sasl, networks)");
            }
            const bool repeatable = *field == fields::field::selector || *field == fields::field::key;
            if (!repeatable && (seen & (1u << static_cast<unsigned>(*field)))) {
                return error(lineno, std::string(tok->key), "given twice on one line");
            }
            seen |= 1u << static_cast<unsigned>(*field);
            if (repeatable) {
                if (auto problem = selector_or_key(*field, std::move(tok->value), names, keys)) {
                    return error(lineno, std::string(tok->key), *problem);
                }
                continue;
            }
            if (auto problem = fields::apply(*field, std::move(tok->value), entry, limits_)) {
                return error(lineno, std::string(tok->key), *problem);
            }
        }
        return complete(std::move(entry), seen, names, keys, lineno);
    }

    // The line's fields are all read: required ones present, selector=/key= paired, entry kept.
    bool complete(domain_entry entry, unsigned seen, std::vector<std::string>& names, std::vector<std::string>& keys,
                  int lineno) {
        for (auto required : {fields::field::selector, fields::field::key, fields::field::owner}) {
            if (!(seen & (1u << static_cast<unsigned>(required)))) {
                return error(lineno, std::string(fields::name_of(required)), "missing (required for every domain)");
            }
        }
        if (keys.size() != names.size()) {
            return error(lineno, keys.size() < names.size() ? "key" : "selector",
                         std::to_string(names.size()) + " selector= but " + std::to_string(keys.size()) +
                             " key= (each selector has its own key, paired in order)");
        }
        entry.selector = std::move(names.front());
        entry.key_path = std::move(keys.front());
        for (std::size_t i = 1; i < names.size(); ++i) {
            entry.newer_selectors.push_back({std::move(names[i]), std::move(keys[i])});
        }
        for (std::size_t i = 0; i < selector_count(entry); ++i) {
            domain_entry probe{.domain = entry.domain, .selector = selector_name(entry, i)};
            if (auto problem = fields::check_record_name(probe)) return error(lineno, "selector", *problem);
        }
        if (entries_.size() >= limits_.max_entries) {
            error(lineno, "line", "more than " + std::to_string(limits_.max_entries) + " domains");
            stopped_ = true;
            return false;
        }
        entries_.push_back(std::move(entry));
        return true;
    }

    // One selector= or key= of a line, checked and appended to its list (paired in order later).
    std::optional<std::string> selector_or_key(fields::field f, std::string value, std::vector<std::string>& names,
                                               std::vector<std::string>& keys) {
        domain_entry scratch;
        if (auto problem = fields::apply(f, std::move(value), scratch, limits_)) return problem;
        const bool is_selector = f == fields::field::selector;
        auto& list = is_selector ? names : keys;
        auto& item = is_selector ? scratch.selector : scratch.key_path;
        if (list.size() >= limits_.max_selectors) {
            return "more than " + std::to_string(limits_.max_selectors) + (is_selector ? " selectors" : " keys") +
                   " (a rotation needs two)";
        }
        if (std::find(list.begin(), list.end(), item) != list.end()) {
            return "'" + fields::printable(item) + "' is listed twice";
        }
        list.push_back(std::move(item));
        return std::nullopt;
    }

    // Reports a whole-file problem (cannot open/read, too large).
    void file_error(std::string message) {
        errors_.push_back({std::string(file_), 0, "", std::move(message)});
        stopped_ = true;
    }

    bool stopped() const { return stopped_; }
    void reserve(std::size_t lines) { entries_.reserve(std::min(lines, limits_.max_entries)); }

    admin_file_result finish() {
        if (!stopped_ && limits_.report_duplicates) find_duplicates();
        admin_file_result result;
        result.errors = std::move(errors_);
        if (result.errors.empty()) result.entries = std::move(entries_);
        return result;
    }

private:
    static void skip_blanks(std::string_view text, std::size_t& pos) {
        while (pos < text.size() && is_blank(text[pos])) ++pos;
    }

    // Reads key=value or key="quoted value" at pos; nullopt after reporting an error.
    std::optional<token> next_token(std::string_view text, std::size_t& pos, int lineno) {
        auto start = pos;
        while (pos < text.size() && text[pos] != '=' && !is_blank(text[pos])) ++pos;
        token tok{text.substr(start, pos - start), {}};
        if (tok.key.empty()) {
            error(lineno, "field", "'=' without a field name");
            return std::nullopt;
        }
        if (pos == text.size() || text[pos] != '=') {
            error(lineno, "field", "'" + fields::printable(tok.key) + "' is not key=value");
            return std::nullopt;
        }
        ++pos;  // '='
        if (pos < text.size() && text[pos] == '"') {
            ++pos;
            bool closed = false;
            while (pos < text.size()) {
                char c = text[pos++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (pos == text.size() || (text[pos] != '"' && text[pos] != '\\')) {
                        error(lineno, std::string(tok.key), "only \\\" and \\\\ are escapes inside quotes");
                        return std::nullopt;
                    }
                    c = text[pos++];
                }
                tok.value += c;
            }
            if (!closed) {
                error(lineno, std::string(tok.key), "unterminated quoted value");
                return std::nullopt;
            }
            if (pos < text.size() && !is_blank(text[pos])) {
                error(lineno, std::string(tok.key), "a closing quote must be followed by a space");
                return std::nullopt;
            }
        } else {
            start = pos;
            while (pos < text.size() && !is_blank(text[pos])) ++pos;
            tok.value.assign(text.substr(start, pos - start));
            if (tok.value.find('"') != std::string::npos) {
                error(lineno, std::string(tok.key), "a quote may only open a value");
                return std::nullopt;
            }
        }
        if (tok.value.empty()) {
            error(lineno, std::string(tok.key), "empty value");
            return std::nullopt;
        }
        tok.value.shrink_to_fit();  // quoted values grew by appending; 1M owners would keep the slack
        return tok;
    }

    // Records an error; returns false once max_errors is reached (stop parsing).
    bool error(int lineno, std::string field, std::string message) {
        errors_.push_back({std::string(file_), lineno, std::move(field), std::move(message)});
        if (errors_.size() >= limits_.max_errors) stopped_ = true;
        return !stopped_;
    }

    void find_duplicates() {
        std::unordered_map<std::string_view, std::size_t> first;
        first.reserve(entries_.size());
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            auto [it, inserted] = first.emplace(entries_[i].domain, i);
            if (!inserted) {
                const auto& earlier = entries_[it->second];
                if (!error(entries_[i].source_line, "domain",
                           entries_[i].domain + " is already defined at line " + std::to_string(earlier.source_line))) {
                    return;
                }
            }
        }
    }

    std::string_view file_;
    std::shared_ptr<const std::string> file_name_;  // shared by every entry
    const admin_file_limits& limits_;
    std::vector<domain_entry> entries_;
    std::vector<admin_file_error> errors_;
    bool stopped_ = false;
};

// Splits text into lines and feeds them; returns the offset of an unfinished last line.
std::size_t feed_lines(parser& p, std::string_view text, int& lineno, bool final_chunk) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            if (!final_chunk) return pos;
            nl = text.size();
        }
        if (!p.line(text.substr(pos, nl - pos), ++lineno)) return text.size();
        pos = nl + 1;
    }
    return text.size();
}

}  // namespace

admin_file_result parse_admin_text(std::string_view text, std::string_view file_name, const admin_file_limits& limits) {
    parser p(file_name, limits);
    int lineno = 0;
    feed_lines(p, text, lineno, true);
    return p.finish();
}

namespace {

// Lines in the open file (then back at its start), so the entries vector is
// allocated once (no doubling at 1M domains).
std::size_t count_lines(int fd) {
    std::size_t lines = 1;
    char count_buf[1 << 16];
    ssize_t n;
    while ((n = ::read(fd, count_buf, sizeof count_buf)) > 0) {
        lines += static_cast<std::size_t>(std::count(count_buf, count_buf + n, '\n'));
    }
    ::lseek(fd, 0, SEEK_SET);
    return lines;
}

// Feeds the file to p in 1 MiB chunks; a partial last line is carried to the next chunk.
// The carry is bounded: a line past max_line_bytes is reported, then skipped to its newline.
void feed_file(parser& p, int fd, const admin_file_limits& limits) {
    constexpr std::size_t chunk = 1 << 20;
    std::string buffer;
    int lineno = 0;
    std::size_t total = 0;
    bool skipping = false;
    while (!p.stopped()) {
        auto old = buffer.size();
        buffer.resize(old + chunk);
        ssize_t n = ::read(fd, buffer.data() + old, chunk);
        if (n < 0 && errno == EINTR) {
            buffer.resize(old);
            continue;
        }
        if (n < 0) return p.file_error(std::string("read failed: ") + std::strerror(errno));
        buffer.resize(old + static_cast<std::size_t>(n));
        total += static_cast<std::size_t>(n);
        if (total > limits.max_file_bytes)
            return p.file_error("larger than " + std::to_string(limits.max_file_bytes) + " bytes");
        const bool eof = n == 0;
        if (skipping) {
            auto nl = buffer.find('\n');
            if (nl == std::string::npos) {
                buffer.clear();
                if (eof) return;
                continue;
            }
            buffer.erase(0, nl + 1);
            skipping = false;
        }
        buffer.erase(0, feed_lines(p, buffer, lineno, eof));
        if (eof) return;
        if (buffer.size() > limits.max_line_bytes + 2) {
            p.line(std::string_view(buffer).substr(0, limits.max_line_bytes + 2), ++lineno);  // reports it
            buffer.clear();
            skipping = true;
        }
    }
}

}  // namespace

admin_file_result read_admin_file(const std::string& path, const admin_file_limits& limits) {
    parser p(path, limits);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        p.file_error(std::string("cannot open: ") + std::strerror(errno));
        return p.finish();
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > limits.max_file_bytes) {
        ::close(fd);
        p.file_error("larger than " + std::to_string(limits.max_file_bytes) + " bytes");
        return p.finish();
    }
    p.reserve(count_lines(fd));
    feed_file(p, fd, limits);
    ::close(fd);
    return p.finish();
}

}  // namespace relaygate::registry
