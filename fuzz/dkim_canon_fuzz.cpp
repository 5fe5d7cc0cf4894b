// dkim_canon_fuzz.cpp: libFuzzer target for the DKIM canonicalizer. The input
// is a message (headers, blank line, body) with the first byte choosing the
// chunk size the body is streamed in. Checks the canonicalizer's promises:
// streaming in any chunks gives the one-shot result; output lines all end in
// CRLF with no bare CR/LF; relaxed has no WSP runs and none before CRLF;
// trailing empty lines are gone; both forms are idempotent; relaxed headers
// are one line; header selection hashes each signed header exactly once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relaygate/milter/dkim_canon.hpp"

using namespace relaygate::milter;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_lines(std::string_view out, dkim_canon c) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\r') check(i + 1 < out.size() && out[i + 1] == '\n');
        if (out[i] == '\n') check(i > 0 && out[i - 1] == '\r');
        if (c == dkim_canon::relaxed && (out[i] == ' ' || out[i] == '\t')) {
            check(out[i] == ' ');                                                  // WSP runs became one SP
            check(i + 1 < out.size() && out[i + 1] != ' ' && out[i + 1] != '\r');  // none before CRLF
        }
    }
    check(out.empty() || out.ends_with("\r\n"));
}

void check_body(std::string_view body, std::size_t chunk) {
    for (auto c : {dkim_canon::relaxed, dkim_canon::simple}) {
        const std::string whole = canonical_body(c, body);
        std::string streamed;
        body_canonicalizer b(c);
        for (std::size_t at = 0; at < body.size(); at += chunk) b.feed(body.substr(at, chunk), streamed);
        b.finish(streamed);
        check(streamed == whole);
        check_lines(whole, c);
        check(!whole.ends_with("\r\n\r\n"));  // trailing empty lines dropped
        if (c == dkim_canon::simple) check(!whole.empty());
        check(canonical_body(c, whole) == whole);  // idempotent
    }
}

void check_headers(std::string_view block) {
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t at = 0;
    while (at < block.size() && headers.size() < 1000) {
        std::size_t end = block.find('\n', at);
        std::string_view line = block.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? block.size() : end + 1;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
    for (const auto& [name, value] : headers) {
        std::string relaxed;
        canonical_header(dkim_canon::relaxed, name, value, relaxed);
        check(relaxed.ends_with("\r\n") && relaxed.find_first_of("\r\n") == relaxed.size() - 2);
        check(relaxed.find("  ") == std::string::npos && relaxed.find(" \r\n") == std::string::npos);
        std::string simple;
        canonical_header(dkim_canon::simple, name, value, simple);
        check_lines(simple, dkim_canon::simple);
    }
    auto sel = select_headers(headers);
    std::set<std::size_t> seen(sel.order.begin(), sel.order.end());
    check(seen.size() == sel.order.size());  // each instance hashed once
    std::size_t signed_count = 0;
    for (const auto& h : headers) signed_count += is_signed_header(h.first);
    check(sel.order.size() == signed_count);
    for (std::size_t i : sel.order) check(i < headers.size() && is_signed_header(headers[i].first));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = data[0] % 64 + 1;
    std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
    auto split = message.find("\r\n\r\n");
    if (split == std::string_view::npos) {
        check_body(message, chunk);
        return 0;
    }
    check_headers(message.substr(0, split));
    check_body(message.substr(split + 4), chunk);
    return 0;
}
