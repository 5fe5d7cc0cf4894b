// from_header.cpp: RFC 5322 address-list parser for From:/Sender: (see from_header.hpp).
// Two passes: a lexer turns the value into atoms, quoted strings, domain
// literals and specials (dropping whitespace, folding and comments), then a
// recursive-descent parser reads address / group / name-addr / addr-spec.
#include "relaygate/milter/from_header.hpp"

#include <optional>

#include "relaygate/registry/domain_name.hpp"

namespace relaygate::milter {
namespace {

enum class tok { atom, quoted, literal, special };

struct token {
    tok kind = tok::atom;
    char special = 0;  // for tok::special: one of < > @ , : ; .
    std::string text;  // atom text, unquoted string content, or "[literal]"
    std::size_t offset = 0;
};

bool is_atext(unsigned char c) {
    if (c >= 0x80) return true;  // UTF-8 (RFC 6532)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    static constexpr std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~";
    return atext_specials.find(static_cast<char>(c)) != std::string_view::npos;
}

from_parse_error fail(from_error code, std::size_t offset, std::string detail) {
    return from_parse_error{code, offset, std::move(detail)};
}

class lexer {
public:
    lexer(std::string_view s, const from_header_limits& limits) : s_(s), limits_(limits) {}

    expected<std::vector<token>, from_parse_error> run() {
        std::vector<token> out;
        while (pos_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == ' ' || c == '\t') {
                ++pos_;
            } else if (c == '\r' || c == '\n') {
                if (auto e = newline()) return unexpected(*e);
            } else if (c == '(') {
                if (auto e = comment()) return unexpected(*e);
            } else if (c == '"') {
                auto t = quoted();
                if (!t) return unexpected(t.error());
                out.push_back(std::move(*t));
            } else if (c == '[') {
                auto t = literal();
                if (!t) return unexpected(t.error());
                out.push_back(std::move(*t));
            } else if (c == '<' || c == '>' || c == '@' || c == ',' || c == ':' || c == ';' || c == '.') {
                out.push_back(token{tok::special, static_cast<char>(c), {}, pos_});
                ++pos_;
            } else if (is_atext(c)) {
                std::size_t start = pos_;
                while (pos_ < s_.size() && is_atext(static_cast<unsigned char>(s_[pos_]))) ++pos_;
                out.push_back(token{tok::atom, 0, std::string(s_.substr(start, pos_ - start)), start});
            } else {
                return unexpected(bad_byte(c));
            }
        }
        return out;
    }

private:
    from_parse_error bad_byte(unsigned char c) const {
        if (c == 0) return fail(from_error::nul_byte, pos_, "NUL byte in header");
        if (c < 0x20 || c == 0x7f) return fail(from_error::control_byte, pos_, "control byte in header");
        return fail(from_error::syntax, pos_, std::string("unexpected '") + static_cast<char>(c) + "'");
    }

    // Folding: CRLF (or a bare LF/CR, as some MTAs pass it) must be followed by
    // WSP, or end the value; a line break elsewhere would start a new header.
    std::optional<from_parse_error> newline() {
        std::size_t at = pos_;
        if (s_[pos_] == '\r') ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '\n') ++pos_;
        if (pos_ == s_.size() || s_[pos_] == ' ' || s_[pos_] == '\t') return std::nullopt;
        return fail(from_error::bad_folding, at, "line break not followed by white space");
    }

    // Reads one content byte of a quoted string / comment / literal, or a quoted-pair.
    // Appends it to out (when given) and returns an error for bytes never allowed.
    std::optional<from_parse_error> content_byte(std::string* out) {
        auto c = static_cast<unsigned char>(s_[pos_]);
        if (c == '\r' || c == '\n') return newline();  // the break is removed (unfolding), the WSP kept
        if (c == '\\') {
            if (pos_ + 1 == s_.size()) return fail(from_error::unterminated, pos_, "backslash at end of header");
            c = static_cast<unsigned char>(s_[pos_ + 1]);
            if (c == '\r' || c == '\n' || c == 0) return bad_byte(c == 0 ? 0 : 0x01);
            ++pos_;
        } else if (c == 0 || (c < 0x20 && c != '\t') || c == 0x7f) {
            return bad_byte(c);
        }
        if (out) *out += static_cast<char>(c);
        ++pos_;
        return std::nullopt;
    }

    std::optional<from_parse_error> comment() {
        std::size_t start = pos_, depth = 0;
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == '(') {
                if (++depth > limits_.max_comment_depth) {
                    return fail(from_error::comment_too_deep, pos_, "comments nested too deeply");
                }
                ++pos_;
            } else if (c == ')') {
                ++pos_;
                if (--depth == 0) return std::nullopt;
            } else if (auto e = content_byte(nullptr)) {
                return e;
            }
        }
        return fail(from_error::unterminated, start, "unterminated comment");
    }

    expected<token, from_parse_error> quoted() {
        token t{tok::quoted, 0, {}, pos_++};
        while (pos_ < s_.size()) {
            if (s_[pos_] == '"') {
                ++pos_;
                return t;
            }
            if (auto e = content_byte(&t.text)) return unexpected(*e);
        }
        return unexpected(fail(from_error::unterminated, t.offset, "unterminated quoted string"));
    }

    expected<token, from_parse_error> literal() {
        token t{tok::literal, 0, "[", pos_++};
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == ']') {
                ++pos_;
                t.text += ']';
                return t;
            }
            if (c == '[') return unexpected(fail(from_error::syntax, pos_, "'[' inside a domain literal"));
            if (c == ' ' || c == '\t') {
                ++pos_;  // FWS inside a literal carries no meaning
                continue;
            }
            if (auto e = content_byte(&t.text)) return unexpected(*e);
        }
        return unexpected(fail(from_error::unterminated, t.offset, "unterminated domain literal"));
    }

    std::string_view s_;
    const from_header_limits& limits_;
    std::size_t pos_ = 0;
};

class parser {
public:
    parser(const std::vector<token>& t, std::size_t size, const from_header_limits& limits)
        : t_(t), size_(size), limits_(limits) {}

    expected<std::vector<mailbox>, from_parse_error> run() {
        while (true) {
            while (is(',')) ++i_;  // obs-addr-list: empty elements
            if (at_end()) break;
            if (auto e = address(true)) return unexpected(*e);
            if (at_end()) break;
            if (!is(',')) return unexpected(error_here("expected ',' between addresses"));
        }
        return std::move(out_);
    }

private:
    bool at_end() const { return i_ == t_.size(); }
    bool is(char special) const { return !at_end() && t_[i_].kind == tok::special && t_[i_].special == special; }
    bool is_word() const { return !at_end() && (t_[i_].kind == tok::atom || t_[i_].kind == tok::quoted); }
    std::size_t offset() const { return at_end() ? size_ : t_[i_].offset; }
    from_parse_error error_here(std::string detail) const {
        return fail(at_end() ? from_error::unterminated : from_error::syntax, offset(), std::move(detail));
    }

    // phrase / obs-phrase / local-part words: atoms, quoted strings and dots.
    std::vector<const token*> words() {
        std::vector<const token*> w;
        while (is_word() || is('.')) w.push_back(&t_[i_++]);
        return w;
    }

    static std::string display_name(const std::vector<const token*>& w) {
        std::string name;
        for (const token* t : w) {
            if (t->kind == tok::special) {
                name += '.';
                continue;
            }
            if (!name.empty()) name += ' ';
            name += t->text;
        }
        return name;
    }

    // local-part = word *("." word) (dot-atom, quoted-string and obs-local-part alike)
    expected<std::string, from_parse_error> local_part(const std::vector<const token*>& w, std::size_t at) const {
        std::string local;
        for (std::size_t k = 0; k < w.size(); ++k) {
            bool want_word = k % 2 == 0;
            if (want_word != (w[k]->kind != tok::special)) {
                return unexpected(fail(from_error::syntax, w[k]->offset, "malformed local part"));
            }
            local += want_word ? w[k]->text : ".";
        }
        if (w.empty() || w.size() % 2 == 0) return unexpected(fail(from_error::syntax, at, "malformed local part"));
        return local;
    }

    expected<mailbox, from_parse_error> domain() {
        mailbox m;
        if (!at_end() && t_[i_].kind == tok::literal) {
            m.domain_literal = true;
            for (char c : t_[i_++].text) m.domain += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            return m;
        }
        std::size_t start = offset();
        std::string name;
        while (!at_end() && t_[i_].kind == tok::atom) {
            name += t_[i_++].text;
            if (!is('.')) break;
            ++i_;
            name += '.';  // a trailing dot ("example.com.") is allowed and removed by normalisation
        }
        if (name.empty()) return unexpected(error_here("missing domain"));
        auto norm = registry::normalise_domain(name);
        if (!norm) return unexpected(fail(from_error::bad_domain, start, "bad domain: " + norm.error()));
        m.domain = std::move(*norm);
        return m;
    }

    std::optional<from_parse_error> addr_spec(const std::vector<const token*>& w, std::string name, std::size_t at) {
        auto local = local_part(w, at);
        if (!local) return local.error();
        if (!is('@')) return error_here("expected '@'");
        ++i_;
        auto m = domain();
        if (!m) return m.error();
        m->local_part = std::move(*local);
        m->display_name = std::move(name);
        if (out_.size() == limits_.max_mailboxes) {
            return fail(from_error::too_many_mailboxes, at,
                        "more than " + std::to_string(limits_.max_mailboxes) + " mailboxes in one header");
        }
        out_.push_back(std::move(*m));
        return std::nullopt;
    }

    // angle-addr = "<" [obs-route] addr-spec ">"; obs-route = obs-domain-list ":"
    std::optional<from_parse_error> angle_addr(std::string name) {
        ++i_;  // '<'
        if (is('>')) return error_here("empty address <>");
        if (is('@') || is(',')) {
            while (is(',') || is('@')) {
                if (is(',')) {
                    ++i_;
                    continue;
                }
                ++i_;
                auto route = domain();  // the route is obsolete and ignored, but must be well formed
                if (!route) return route.error();
            }
            if (!is(':')) return error_here("expected ':' after source route");
            ++i_;
        }
        std::size_t at = offset();
        if (auto e = addr_spec(words(), std::move(name), at)) return e;
        if (!is('>'))
            return at_end() ? fail(from_error::unterminated, offset(), "missing '>'") : error_here("expected '>'");
        ++i_;
        return std::nullopt;
    }

    std::optional<from_parse_error> group() {
        ++i_;  // ':'
        while (true) {
            while (is(',')) ++i_;
            if (is(';')) break;
            if (at_end()) return fail(from_error::unterminated, size_, "group without ';'");
            if (auto e = address(false)) return e;
            if (is(';')) break;
            if (!is(',')) return error_here("expected ',' or ';' in group");
        }
        ++i_;  // ';'
        return std::nullopt;
    }

    std::optional<from_parse_error> address(bool allow_group) {
        std::size_t at = offset();
        auto w = words();
        if (is('<')) return angle_addr(display_name(w));
        if (is(':') && !w.empty()) {
            if (!allow_group) return error_here("group inside a group");
            return group();
        }
        if (is('@')) return addr_spec(w, {}, at);
        return error_here(at_end() ? "incomplete address" : "expected '<', '@' or ':'");
    }

    const std::vector<token>& t_;
    std::size_t size_;
    const from_header_limits& limits_;
    std::size_t i_ = 0;
    std::vector<mailbox> out_;
};

}  // namespace

std::string_view to_string(from_error e) {
    switch (e) {
        case from_error::empty:
            return "empty";
        case from_error::too_long:
            return "too_long";
        case from_error::too_many_mailboxes:
            return "too_many_mailboxes";
        case from_error::nul_byte:
            return "nul_byte";
        case from_error::control_byte:
            return "control_byte";
        case from_error::bad_folding:
            return "bad_folding";
        case from_error::unterminated:
            return "unterminated";
        case from_error::comment_too_deep:
            return "comment_too_deep";
        case from_error::syntax:
            return "syntax";
        case from_error::bad_domain:
            return "bad_domain";
    }
    return "syntax";
}

expected<std::vector<mailbox>, from_parse_error> parse_address_list(std::string_view value,
                                                                    const from_header_limits& limits) {
    if (value.size() > limits.max_bytes) {
        return unexpected(fail(from_error::too_long, limits.max_bytes,
                               "header longer than " + std::to_string(limits.max_bytes) + " bytes"));
    }
    auto tokens = lexer(value, limits).run();
    if (!tokens) return unexpected(tokens.error());
    if (tokens->empty()) return unexpected(fail(from_error::empty, 0, "empty header"));
    return parser(*tokens, value.size(), limits).run();
}

}  // namespace relaygate::milter
