// dkim_canon.cpp: RFC 6376 §3.4 canonicalization and header selection (see dkim_canon.hpp).
#include "relaygate/milter/dkim_canon.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace relaygate::milter {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// RFC 6376 §5.4 "should sign" (libopendkim's dkim_should_signhdrs, in its order).
constexpr std::array<std::string_view, 20> signed_names = {
    "from",        "reply-to",         "subject",        "date",      "to",          "cc",          "resent-date",
    "resent-from", "resent-sender",    "resent-to",      "resent-cc", "in-reply-to", "references",  "list-id",
    "list-help",   "list-unsubscribe", "list-subscribe", "list-post", "list-owner",  "list-archive"};

// Appends text with every line end (CRLF, bare LF, lone CR) written as CRLF.
void append_crlf_normalised(std::string_view text, std::string& out) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
}

}  // namespace

std::string_view to_string(dkim_canon c) { return c == dkim_canon::simple ? "simple" : "relaxed"; }

void canonical_header(dkim_canon c, std::string_view name, std::string_view value, std::string& out) {
    if (c == dkim_canon::simple) {
        for (char ch : name) {
            if (ch != '\r' && ch != '\n') out += ch;  // a field name has no line breaks (RFC 5322 ftext)
        }
        out += ": ";
        append_crlf_normalised(value, out);
        out += "\r\n";
        return;
    }
    // relaxed (§3.4.2): lower-case name, no WSP around the colon, unfolded value,
    // WSP runs as one SP, none at either end.
    for (char ch : name) {
        if (!is_wsp(ch) && ch != '\r' && ch != '\n') out += lower(ch);
    }
    out += ':';
    bool pending_space = false;
    bool started = false;
    for (char ch : value) {
        if (ch == '\r' || ch == '\n') continue;  // unfold
        if (is_wsp(ch)) {
            pending_space = started;
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        started = true;
        out += ch;
    }
    out += "\r\n";
}

bool is_signed_header(std::string_view name) {
    for (auto n : signed_names) {
        if (iequals(n, name)) return true;
    }
    return false;
}

header_selection select_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    header_selection sel;
    std::map<std::string, std::vector<std::size_t>> by_name;  // lower-case name -> indices, message order
    std::vector<const std::string*> listed;                   // h= names in message order
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const std::string& name = headers[i].first;
        if (!is_signed_header(name)) continue;
        by_name[lower(name)].push_back(i);
        listed.push_back(&name);
    }
    for (const std::string* name : listed) {
        if (!sel.h_tag.empty()) sel.h_tag += ':';
        sel.h_tag += *name;
        auto& unused = by_name[lower(*name)];  // never empty: one index per listed name
        sel.order.push_back(unused.back());    // the last unused instance first (§5.4.2)
        unused.pop_back();
    }
    sel.h_tag += sel.h_tag.empty() ? "From" : ":From";  // oversigned
    return sel;
}

void body_canonicalizer::line_end(std::string& out) {
    if (line_has_data_) {
        out += "\r\n";
    } else {
        ++blank_lines_;
    }
    line_has_data_ = false;
    pending_wsp_ = false;
}

void body_canonicalizer::content(char c, std::string& out) {
    if (canon_ == dkim_canon::relaxed && is_wsp(c)) {
        pending_wsp_ = true;  // written only if more than WSP follows on this line
        return;
    }
    if (!line_has_data_) {
        for (; blank_lines_ > 0; --blank_lines_) out += "\r\n";  // blank lines inside the body stay
        line_has_data_ = true;
        wrote_any_ = true;
    }
    if (pending_wsp_) out += ' ';
    pending_wsp_ = false;
    out += c;
}

void body_canonicalizer::feed(std::string_view chunk, std::string& out) {
    const char* special = canon_ == dkim_canon::relaxed ? "\r\n \t" : "\r\n";
    for (std::size_t i = 0; i < chunk.size();) {
        char c = chunk[i];
        if (after_cr_) {
            after_cr_ = false;
            if (c == '\n') {  // the LF of a CRLF: the line already ended at the CR
                ++i;
                continue;
            }
        }
        if (c == '\r') {
            line_end(out);
            after_cr_ = true;
        } else if (c == '\n') {
            line_end(out);
        } else if (canon_ == dkim_canon::relaxed && is_wsp(c)) {
            content(c, out);
        } else {
            content(c, out);
            // The plain bytes that follow a written one go out in one piece.
            std::size_t end = std::min(chunk.find_first_of(special, i + 1), chunk.size());
            out.append(chunk.data() + i + 1, end - i - 1);
            i = end;
            continue;
        }
        ++i;
    }
}

void body_canonicalizer::finish(std::string& out) {
    if (line_has_data_) out += "\r\n";  // a last line without CRLF gets one
    line_has_data_ = false;
    blank_lines_ = 0;                                                // empty lines at the end of the body are dropped
    if (canon_ == dkim_canon::simple && !wrote_any_) out += "\r\n";  // simple: an empty body is one CRLF
}

std::string canonical_body(dkim_canon c, std::string_view body) {
    std::string out;
    body_canonicalizer b(c);
    b.feed(body, out);
    b.finish(out);
    return out;
}

}  // namespace relaygate::milter
