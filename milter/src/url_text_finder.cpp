// url_text_finder.cpp: the URL finders run on one decoded text part, and HTML
// entity decoding (see url_extractor.hpp). Pure string scanning, no allocation
// per byte; every candidate is cut at max_url_bytes.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "relaygate/milter/url_extractor.hpp"
#include "relaygate/milter/url_normaliser.hpp"

namespace relaygate::milter {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool at_nocase(std::string_view s, std::size_t at, std::string_view word) {
    if (s.size() - at < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        if (lower(s[at + i]) != word[i]) return false;
    }
    return true;
}

// Bytes that end a URL in running text (RFC 3986 appendix C delimiters and blanks).
bool ends_url(unsigned char c) {
    return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == '{' ||
           c == '}' || c == '|' || c == '^';
}

// Length of the scheme that starts a URL at text[at] ("http://" ...), 0 if none.
std::size_t scheme_at(std::string_view text, std::size_t at) {
    for (std::string_view s : {"http://", "https://", "ftp://", "www."}) {
        if (at_nocase(text, at, s)) return s.size();
    }
    return 0;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

struct named_entity {
    std::string_view name;
    std::string_view text;
};
// The named references that matter inside URLs (and nbsp, which ends one).
constexpr std::array<named_entity, 13> named_entities{{{"amp", "&"},
                                                       {"lt", "<"},
                                                       {"gt", ">"},
                                                       {"quot", "\""},
                                                       {"apos", "'"},
                                                       {"sol", "/"},
                                                       {"colon", ":"},
                                                       {"period", "."},
                                                       {"commat", "@"},
                                                       {"percnt", "%"},
                                                       {"nbsp", " "},
                                                       {"Tab", "\t"},
                                                       {"NewLine", "\n"}}};

// The attributes whose value a mail client or browser fetches or follows.
constexpr std::array<std::string_view, 6> url_attributes{"href", "src", "action", "background", "formaction", "poster"};

// An attribute value as a browser takes it: tabs and newlines removed, blanks trimmed.
std::string clean_attribute(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c != '\t' && c != '\n' && c != '\r') out += c;
    }
    auto first = out.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    out.erase(0, first);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

bool url_collector::add(std::string_view url) {
    std::string u(url.substr(0, max_url_bytes));
    if (seen.contains(u)) return true;
    if (urls.size() >= max_urls) return false;
    seen.insert(u);
    urls.push_back(std::move(u));
    return true;
}

bool find_text_urls(std::string_view text, url_collector& out) {
    std::size_t at = 0;
    while (true) {
        at = text.find_first_of("hHfFwW", at);
        if (at == std::string_view::npos) return true;
        const std::size_t scheme = scheme_at(text, at);
        // A URL starts at a word boundary ("xhttp://" is not one, "www." inside a name neither).
        if (scheme == 0 || (at > 0 && (alnum(text[at - 1]) || text[at - 1] == '.' || text[at - 1] == '-'))) {
            ++at;
            continue;
        }
        std::size_t end = at + scheme;
        while (end < text.size() && end - at < max_url_bytes && !ends_url(static_cast<unsigned char>(text[end]))) ++end;
        std::size_t stop = end;
        // Sentence punctuation after a URL is not part of it.
        while (stop > at + scheme && std::string_view(".,;:!?)]}*").find(text[stop - 1]) != std::string_view::npos) {
            --stop;
        }
        if (stop > at + scheme && !out.add(text.substr(at, stop - at))) return false;
        at = std::max(end, at + 1);
    }
}

std::string decode_html_entities(std::string_view html) {
    std::string out;
    out.reserve(html.size());
    std::size_t i = 0;
    while (i < html.size()) {
        auto amp = html.find('&', i);
        if (amp == std::string_view::npos) {
            out.append(html.substr(i));
            break;
        }
        out.append(html.substr(i, amp - i));
        i = amp + 1;
        if (i < html.size() && html[i] == '#') {  // numeric: &#104; &#x68; (the ';' may be missing)
            std::size_t j = i + 1;
            const bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
            if (hex) ++j;
            std::uint32_t cp = 0;
            std::size_t digits = 0;
            while (j < html.size() && digits < 8) {
                char c = lower(html[j]);
                int d = (c >= '0' && c <= '9') ? c - '0' : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
                if (d < 0) break;
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
                ++j;
                ++digits;
            }
            if (digits == 0) {
                out += '&';
                continue;
            }
            while (j < html.size() && digits >= 8 && std::isxdigit(static_cast<unsigned char>(html[j]))) ++j;
            if (j < html.size() && html[j] == ';') ++j;
            append_utf8(out, cp);
            i = j;
            continue;
        }
        bool matched = false;
        for (const auto& e : named_entities) {
            if (html.substr(i).starts_with(e.name)) {
                std::size_t j = i + e.name.size();
                if (j < html.size() && html[j] == ';') {
                    ++j;
                } else if (e.name.size() > 4) {
                    continue;  // only the legacy short names may go without ';'
                }
                out.append(e.text);
                i = j;
                matched = true;
                break;
            }
        }
        if (!matched) out += '&';
    }
    return out;
}

bool find_html_urls(std::string_view raw_html, url_collector& out) {
    const std::string html = decode_html_entities(raw_html);
    std::string_view h = html;
    for (std::size_t eq = h.find('='); eq != std::string_view::npos; eq = h.find('=', eq + 1)) {
        std::size_t name_end = eq;
        while (name_end > 0 && (h[name_end - 1] == ' ' || h[name_end - 1] == '\t' || h[name_end - 1] == '\n' ||
                                h[name_end - 1] == '\r'))
            --name_end;
        std::size_t name_start = name_end;
        while (name_start > 0 && alnum(h[name_start - 1])) --name_start;
        if (name_start == name_end || name_end - name_start > 10) continue;
        bool wanted = false;
        for (auto a : url_attributes) {
            wanted = wanted || (a.size() == name_end - name_start && at_nocase(h, name_start, a));
        }
        if (!wanted) continue;
        std::size_t v = eq + 1;
        while (v < h.size() && (h[v] == ' ' || h[v] == '\t' || h[v] == '\n' || h[v] == '\r')) ++v;
        if (v >= h.size()) break;
        std::size_t v_end;
        if (h[v] == '"' || h[v] == '\'') {
            v_end = h.find(h[v], v + 1);
            ++v;
        } else {
            v_end = h.find_first_of(" \t\r\n>", v);
        }
        if (v_end == std::string_view::npos) v_end = h.size();
        std::string value = clean_attribute(h.substr(v, std::min(v_end - v, 4 * max_url_bytes)));
        std::string_view val = value;
        if (scheme_at(val, 0) > 0 || val.starts_with("//") || at_nocase(val, 0, "http:") ||
            at_nocase(val, 0, "https:")) {
            if (!out.add(val)) return false;
        }
    }
    return find_text_urls(h, out);
}

}  // namespace relaygate::milter
