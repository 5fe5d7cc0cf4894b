// spf_record.cpp: see spf_record.hpp. The ABNF of RFC 7208 §4.6.1, §5, §6, §7.1
// checked term by term; each check names the rule it enforces.
#include "relaygate/verify/spf_record.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace relaygate::registry::spf {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_delimiter(char c) { return std::string_view(".-+,/_=").find(c) != std::string_view::npos; }
bool all_digits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

// One "%{...}" after its "%{": letter, digits, optional r, delimiters, "}".
struct macro_expand {
    char letter = 0;
    bool url_escape = false;
    int keep = 0;  // 0 = all parts
    bool reverse = false;
    std::string delimiters;
    std::size_t end = 0;  // index after "}"
};

// Parses "%{...}" starting at s[at] == '%' and s[at+1] == '{'.
expected<macro_expand, std::string> parse_macro(std::string_view s, std::size_t at) {
    macro_expand m;
    std::size_t i = at + 2;
    if (i >= s.size()) return unexpected(std::string("macro without a letter"));
    char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    // c, r and t belong to explanation strings only (§7.2); domain-specs may not use them.
    if (std::string_view("slodiphv").find(letter) == std::string_view::npos) {
        return unexpected("invalid macro letter '" + std::string(1, s[i]) + "'");
    }
    m.letter = letter;
    m.url_escape = std::isupper(static_cast<unsigned char>(s[i])) != 0;
    ++i;
    std::size_t digits_from = i;
    while (i < s.size() && is_digit(s[i]) && i - digits_from < 4) ++i;
    if (i > digits_from) {
        int n = std::stoi(std::string(s.substr(digits_from, i - digits_from)));
        if (n == 0) return unexpected(std::string("macro transformer 0 (must be nonzero, §7.3)"));
        m.keep = std::min(n, 128);  // more parts than a domain can have
    }
    if (i < s.size() && (s[i] == 'r' || s[i] == 'R')) {
        m.reverse = true;
        ++i;
    }
    while (i < s.size() && is_delimiter(s[i])) m.delimiters += s[i++];
    if (i >= s.size() || s[i] != '}') return unexpected(std::string("unterminated or malformed macro"));
    m.end = i + 1;
    return m;
}

// Walks a macro-string (§7.1); returns the index where its trailing literal starts
// (== size when it ends in a macro-expand) or an error.
expected<std::size_t, std::string> check_macro_string(std::string_view s) {
    std::size_t literal_from = 0;
    for (std::size_t i = 0; i < s.size();) {
        char c = s[i];
        if (c != '%') {
            if (c < 0x21 || c > 0x7e) return unexpected(std::string("invalid character in macro-string"));
            ++i;
            continue;
        }
        if (i + 1 >= s.size()) return unexpected(std::string("'%' at the end of a macro-string"));
        char n = s[i + 1];
        if (n == '%' || n == '_' || n == '-') {
            i += 2;
        } else if (n == '{') {
            auto m = parse_macro(s, i);
            if (!m) return unexpected(m.error());
            i = m->end;
        } else {
            return unexpected("'%' followed by '" + std::string(1, n) + "' (only %{, %%, %_, %- are macros)");
        }
        literal_from = i;
    }
    return literal_from;
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view l) {
    if (l.empty() || !std::all_of(l.begin(), l.end(), [](char c) { return is_alnum(c) || c == '-'; })) return false;
    if (l.find('-') != std::string_view::npos) return is_alnum(l.front()) && is_alnum(l.back());
    return std::any_of(l.begin(), l.end(), is_alpha);
}

// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
std::optional<std::string> check_domain_spec(std::string_view s) {
    if (s.empty()) return "empty domain-spec";
    auto literal_from = check_macro_string(s);
    if (!literal_from) return literal_from.error();
    if (*literal_from == s.size()) return std::nullopt;
    std::string_view tail = s.substr(*literal_from);
    if (tail.ends_with('.')) tail.remove_suffix(1);
    auto dot = tail.rfind('.');
    if (dot == std::string_view::npos || !is_toplabel(tail.substr(dot + 1))) {
        return "'" + std::string(s) + "' does not end in a valid top label";
    }
    return std::nullopt;
}

// ip4-cidr-length / ip6-cidr-length digits: no leading zero, at most max.
std::optional<int> parse_cidr(std::string_view digits, int max) {
    if (!all_digits(digits) || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    int v = std::stoi(std::string(digits));
    return v <= max ? std::optional<int>(v) : std::nullopt;
}

// ip4-network = qnum "." qnum "." qnum "." qnum, qnum 0..255 without leading zeros.
bool parse_ip4(std::string_view s, std::array<std::uint8_t, 16>& out) {
    for (int part = 0; part < 4; ++part) {
        auto dot = part < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return false;
        auto q = s.substr(0, dot);
        auto v = parse_cidr(q, 255);
        if (!v) return false;
        out[part] = static_cast<std::uint8_t>(*v);
        s.remove_prefix(part < 3 ? dot + 1 : dot);
    }
    return s.empty();
}

std::string term_error(std::string_view term, std::string_view why) {
    return "'" + std::string(term) + "': " + std::string(why);
}

// a / mx argument: [ ":" domain-spec ] [ dual-cidr-length ].
std::optional<std::string> parse_a_mx(std::string_view arg, mechanism& m) {
    if (auto p = arg.rfind("//"); p != std::string_view::npos && all_digits(arg.substr(p + 2))) {
        auto v = parse_cidr(arg.substr(p + 2), 128);
        if (!v) return "invalid IPv6 prefix length";
        m.cidr6 = *v;
        arg = arg.substr(0, p);
    }
    if (auto p = arg.rfind('/'); p != std::string_view::npos && all_digits(arg.substr(p + 1))) {
        auto v = parse_cidr(arg.substr(p + 1), 32);
        if (!v) return "invalid IPv4 prefix length";
        m.cidr4 = *v;
        arg = arg.substr(0, p);
    }
    if (arg.empty()) return std::nullopt;
    if (arg[0] != ':') return "unexpected text after the mechanism name";
    m.domain_spec = std::string(arg.substr(1));
    return check_domain_spec(m.domain_spec);
}

std::optional<std::string> parse_ip(std::string_view arg, mechanism& m) {
    bool v6 = m.kind == mechanism_kind::ip6;
    if (arg.empty() || arg[0] != ':') return "missing address";
    arg.remove_prefix(1);
    if (auto p = arg.find('/'); p != std::string_view::npos) {
        auto v = parse_cidr(arg.substr(p + 1), v6 ? 128 : 32);
        if (!v) return "invalid prefix length";
        (v6 ? m.cidr6 : m.cidr4) = *v;
        arg = arg.substr(0, p);
    }
    if (!v6) return parse_ip4(arg, m.network) ? std::nullopt : std::optional<std::string>("invalid IPv4 address");
    std::string text(arg);
    if (text.size() > 45 || inet_pton(AF_INET6, text.c_str(), m.network.data()) != 1) return "invalid IPv6 address";
    return std::nullopt;
}

constexpr std::pair<std::string_view, mechanism_kind> mechanism_names[] = {
    {"all", mechanism_kind::all}, {"include", mechanism_kind::include}, {"a", mechanism_kind::a},
    {"mx", mechanism_kind::mx},   {"ptr", mechanism_kind::ptr},         {"ip4", mechanism_kind::ip4},
    {"ip6", mechanism_kind::ip6}, {"exists", mechanism_kind::exists}};

// directive = [ qualifier ] mechanism
std::optional<std::string> parse_directive(std::string_view term, record& r) {
    mechanism m;
    std::string_view body = term;
    if (std::string_view("+-~?").find(body[0]) != std::string_view::npos) {
        m.q = static_cast<qualifier>(body[0]);
        body.remove_prefix(1);
    }
    auto name_end = std::min(body.find_first_of(":/"), body.size());
    auto name = body.substr(0, name_end);
    auto arg = body.substr(name_end);
    auto kind = std::find_if(std::begin(mechanism_names), std::end(mechanism_names),
                             [&](const auto& n) { return iequals(n.first, name); });
    if (kind == std::end(mechanism_names)) return term_error(term, "unknown mechanism");
    m.kind = kind->second;
    std::optional<std::string> error;
    switch (m.kind) {
        case mechanism_kind::all:
            if (!arg.empty()) error = "'all' takes no argument";
            break;
        case mechanism_kind::include:
        case mechanism_kind::exists:
            if (arg.empty() || arg[0] != ':') {
                error = "needs ':' and a domain";
            } else {
                m.domain_spec = std::string(arg.substr(1));
                error = check_domain_spec(m.domain_spec);
            }
            break;
        case mechanism_kind::ptr:
            if (!arg.empty()) {
                if (arg[0] != ':') {
                    error = "unexpected text after 'ptr'";
                } else {
                    m.domain_spec = std::string(arg.substr(1));
                    error = check_domain_spec(m.domain_spec);
                }
            }
            break;
        case mechanism_kind::a:
        case mechanism_kind::mx:
            error = parse_a_mx(arg, m);
            break;
        case mechanism_kind::ip4:
        case mechanism_kind::ip6:
            error = parse_ip(arg, m);
            break;
    }
    if (error) return term_error(term, *error);
    r.mechanisms.push_back(std::move(m));
    return std::nullopt;
}

// modifier = redirect / explanation / unknown-modifier; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
std::optional<std::string> parse_modifier(std::string_view term, std::size_t eq, record& r) {
    auto name = term.substr(0, eq);
    auto value = term.substr(eq + 1);
    if (name.empty() || !is_alpha(name[0]) || !std::all_of(name.begin(), name.end(), [](char c) {
            return is_alnum(c) || c == '-' || c == '_' || c == '.';
        })) {
        return term_error(term, "invalid modifier name");
    }
    bool redirect = iequals(name, "redirect");
    if (redirect || iequals(name, "exp")) {
        auto& slot = redirect ? r.redirect : r.exp;
        if (slot) return term_error(term, "modifier given twice (§6)");
        if (auto e = check_domain_spec(value)) return term_error(term, *e);
        slot = std::string(value);
        return std::nullopt;
    }
    auto checked = check_macro_string(value);  // unknown modifiers are ignored, but must parse
    if (!checked) return term_error(term, checked.error());
    return std::nullopt;
}

constexpr char hex_digits[] = "0123456789abcdef";

std::string url_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            auto b = static_cast<unsigned char>(c);
            out += '%';
            out += static_cast<char>(std::toupper(hex_digits[b >> 4]));
            out += static_cast<char>(std::toupper(hex_digits[b & 15]));
        }
    }
    return out;
}

std::string macro_value(char letter, const macro_context& c) {
    switch (letter) {
        case 's':
            return c.local_part + "@" + c.sender_domain;
        case 'l':
            return c.local_part;
        case 'o':
            return c.sender_domain;
        case 'd':
            return c.domain;
        case 'h':
            return c.helo;
        case 'p':
            return c.validated_ptr;
        case 'v':
            return c.ip.size() == 16 ? "ip6" : "in-addr";
        default:  // 'i'
            break;
    }
    std::string out;
    for (std::size_t k = 0; k < c.ip.size(); ++k) {
        if (c.ip.size() == 4) {
            out += (k > 0 ? "." : "") + std::to_string(c.ip[k]);
        } else {
            out += (k > 0 ? "." : "") + std::string(1, hex_digits[c.ip[k] >> 4]) + "." + hex_digits[c.ip[k] & 15];
        }
    }
    return out;
}

// §7.3: split on the delimiters, optionally reverse, keep the rightmost parts, join with ".".
std::string transform(const std::string& value, const macro_expand& m) {
    std::string delims = m.delimiters.empty() ? "." : m.delimiters;
    std::vector<std::string> parts;
    std::string part;
    for (char ch : value) {
        if (delims.find(ch) != std::string::npos) {
            parts.push_back(std::move(part));
            part.clear();
        } else {
            part += ch;
        }
    }
    parts.push_back(std::move(part));
    if (m.reverse) std::reverse(parts.begin(), parts.end());
    std::size_t from = m.keep > 0 && static_cast<std::size_t>(m.keep) < parts.size() ? parts.size() - m.keep : 0;
    std::string out;
    for (std::size_t k = from; k < parts.size(); ++k) out += (k > from ? "." : "") + parts[k];
    return out;
}

}  // namespace

bool is_spf_record(std::string_view txt) {
    return txt.size() >= 6 && iequals(txt.substr(0, 6), "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

expected<record, std::string> parse_record(std::string_view text) {
    if (text.size() > max_record_length) return unexpected(std::string("record longer than 4096 bytes"));
    if (!is_spf_record(text)) return unexpected(std::string("not an SPF record (no v=spf1)"));
    // §3.1/§4.6.1: terms are separated by spaces (0x20) only; other bytes must be visible ASCII.
    for (char c : text) {
        if (c != ' ' && (c < 0x21 || c > 0x7e)) return unexpected(std::string("non-ASCII or control character"));
    }
    record r;
    std::size_t terms = 0;
    std::string_view rest = text.substr(6);
    while (!rest.empty()) {
        auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        auto end = std::min(rest.find(' '), rest.size());
        auto term = rest.substr(0, end);
        rest.remove_prefix(end);
        if (++terms > max_terms) return unexpected(std::string("more than 256 terms"));
        auto separator = term.find_first_of(":/=");
        auto error = separator != std::string_view::npos && term[separator] == '=' ? parse_modifier(term, separator, r)
                                                                                   : parse_directive(term, r);
        if (error) return unexpected(*error);
    }
    return r;
}

bool uses_ptr_macro(std::string_view s) {
    return s.find("%{p") != std::string_view::npos || s.find("%{P") != std::string_view::npos;
}

expected<std::string, std::string> expand_domain(std::string_view spec, const macro_context& context) {
    std::string out;
    for (std::size_t i = 0; i < spec.size();) {
        if (spec[i] != '%' || i + 1 >= spec.size()) {
            out += spec[i++];
        } else if (spec[i + 1] == '{') {
            auto m = parse_macro(spec, i);
            if (!m) return unexpected(m.error());
            auto value = transform(macro_value(m->letter, context), *m);
            out += m->url_escape ? url_escape(value) : value;
            i = m->end;
        } else {
            out += spec[i + 1] == '%' ? "%" : spec[i + 1] == '_' ? " " : "%20";
            i += 2;
        }
        if (out.size() > max_expansion) return unexpected(std::string("macro expansion too long"));
    }
    if (out.ends_with('.')) out.pop_back();
    // §4.8: a name longer than 253 loses labels from the left until it fits.
    while (out.size() > max_domain_length) {
        auto dot = out.find('.');
        out = dot == std::string::npos ? std::string() : out.substr(dot + 1);
    }
    return out;
}

bool is_valid_domain(std::string_view d) {
    if (d.ends_with('.')) d.remove_suffix(1);
    if (d.empty() || d.size() > max_domain_length || d.find('.') == std::string_view::npos) return false;
    std::size_t label = 0;
    for (char c : d) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '@' || ++label > 63) return false;
    }
    return label > 0;
}

}  // namespace relaygate::registry::spf
