// url_extractor.hpp: every URL a reader could follow in a message: the
// text/plain and text/html parts at any depth (multipart, message/rfc822),
// transfer encoding (quoted-printable, base64) undone and the charset converted
// to UTF-8 by GMime 3; in HTML, href/src/action/background attributes (entities
// decoded, tabs and newlines removed as browsers do) and bare URLs in the text;
// in plain text, bare http/https/ftp URLs and "www." names. Hard limits on bytes
// scanned, URLs and nesting depth: over one, scanning stops and the result says
// "not fully scanned" (the message is never dropped for it). Pure (no I/O);
// called by the milter's URL check, relaygate-admin scan and the fuzz target.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace relaygate::milter {

struct url_scan_limits {
    std::size_t max_bytes = 4 << 20;  // message bytes parsed and decoded text bytes scanned, each
    std::size_t max_urls = 200;       // distinct URLs kept
    std::size_t max_depth = 16;       // nesting of multipart and message/rfc822 parts
};

// Why scanning stopped early; none = the whole message was scanned.
enum class scan_limit { none, bytes, urls, depth };
std::string_view to_string(scan_limit l);

struct url_scan {
    std::vector<std::string> urls;  // distinct, in the order found, each at most max_url_bytes
    scan_limit stopped = scan_limit::none;
    std::size_t text_parts = 0;  // text/plain + text/html parts scanned
    bool fully_scanned() const { return stopped == scan_limit::none; }
};

// message: the whole RFC 5322 message (headers, blank line, body), CRLF or LF.
url_scan extract_urls(std::string_view message, const url_scan_limits& limits);

// Distinct URLs in the order found, at most max_urls of them.
struct url_collector {
    std::size_t max_urls = 200;
    std::vector<std::string> urls;
    std::unordered_set<std::string> seen;
    // Keeps url (cut at max_url_bytes) unless already kept; false when it is new and there is no room.
    bool add(std::string_view url);
};

// The finders the extractor runs on one decoded part; exposed for the tests.
// Each adds to out and returns false once a URL found no room (the URL limit).
bool find_text_urls(std::string_view text, url_collector& out);
bool find_html_urls(std::string_view html, url_collector& out);
// HTML character references (&amp; &#104; &#x68; and the few named ones URLs use) decoded.
std::string decode_html_entities(std::string_view html);

}  // namespace relaygate::milter
