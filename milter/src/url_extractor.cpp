// url_extractor.cpp: the MIME walk over GMime 3 (see url_extractor.hpp). GMime
// decodes transfer encodings and converts charsets (g_mime_text_part_get_text);
// this file decides which parts are read, in what budget, and stops at the limits.
// GMime's parser recurses once per nesting level with no limit of its own, so a
// message with more container parts than max_container_parts is not handed to it
// (scanned as raw text instead and marked "not fully scanned": depth).
#include "relaygate/milter/url_extractor.hpp"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

namespace relaygate::milter {
namespace {

constexpr std::size_t max_container_parts = 256;  // GMime recursion bound (see the file comment)

void ensure_gmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

struct gobject_unref {
    void operator()(void* p) const { g_object_unref(p); }
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Upper bound of the nesting depth: lines that declare a multipart or message
// content type ("content-type:" then optional blanks then "multipart/" or "message/").
std::size_t container_declarations(std::string_view m) {
    std::size_t n = 0;
    for (std::size_t at = m.find(':'); at != std::string_view::npos; at = m.find(':', at + 1)) {
        if (at < 12) continue;
        std::string_view name = m.substr(at - 12, 12);
        bool is_ct = true;
        for (std::size_t i = 0; i < 12 && is_ct; ++i) is_ct = lower(name[i]) == "content-type"[i];
        if (!is_ct) continue;
        std::size_t v = at + 1;
        while (v < m.size() && (m[v] == ' ' || m[v] == '\t' || m[v] == '\r' || m[v] == '\n')) ++v;
        auto starts = [&](std::string_view w) {
            if (m.size() - v < w.size()) return false;
            for (std::size_t i = 0; i < w.size(); ++i) {
                if (lower(m[v + i]) != w[i]) return false;
            }
            return true;
        };
        if (starts("multipart/") || starts("message/")) ++n;
    }
    return n;
}

struct walker {
    const url_scan_limits& limits;
    url_scan& scan;
    std::size_t text_budget;
    url_collector found;

    bool over() const { return scan.stopped != scan_limit::none; }

    // Runs a finder on one text; over the URL limit the scan stops.
    void scan_text(std::string_view t, bool (*finder)(std::string_view, url_collector&)) {
        if (!finder(t, found)) scan.stopped = scan_limit::urls;
    }

    void text_part(GMimeObject* obj) {
        GMimeContentType* ct = g_mime_object_get_content_type(obj);
        const bool html = g_mime_content_type_is_type(ct, "text", "html");
        if (!html && !g_mime_content_type_is_type(ct, "text", "plain")) return;
        std::unique_ptr<char, decltype(&g_free)> text(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)), &g_free);
        if (!text) return;
        std::string_view t(text.get());
        ++scan.text_parts;
        if (t.size() > text_budget) {
            t = t.substr(0, text_budget);
            scan.stopped = scan_limit::bytes;
        }
        text_budget -= t.size();
        if (html) {
            scan_text(t, find_html_urls);
        } else {
            scan_text(t, find_text_urls);
        }
    }

    void walk(GMimeObject* obj, std::size_t depth) {
        if (obj == nullptr || over()) return;
        if (depth > limits.max_depth) {
            scan.stopped = scan_limit::depth;
            return;
        }
        if (GMIME_IS_MULTIPART(obj)) {
            GMimeMultipart* mp = GMIME_MULTIPART(obj);
            const int n = g_mime_multipart_get_count(mp);
            for (int i = 0; i < n && !over(); ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1);
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
            if (inner != nullptr) walk(g_mime_message_get_mime_part(inner), depth + 1);
        } else if (GMIME_IS_TEXT_PART(obj)) {
            text_part(obj);
        }
    }
};

// Without usable MIME structure (no message parsed, or too many containers to
// hand to GMime): the raw bytes as text and as HTML, undecoded.
void scan_raw(std::string_view message, walker& w) { w.scan_text(message.substr(0, w.text_budget), find_html_urls); }

}  // namespace

std::string_view to_string(scan_limit l) {
    switch (l) {
        case scan_limit::none:
            return "none";
        case scan_limit::bytes:
            return "bytes";
        case scan_limit::urls:
            return "urls";
        case scan_limit::depth:
            return "depth";
    }
    return "none";
}

url_scan extract_urls(std::string_view message, const url_scan_limits& limits) {
    ensure_gmime();
    url_scan scan;
    walker w{limits, scan, limits.max_bytes, {.max_urls = limits.max_urls, .urls = {}, .seen = {}}};
    if (message.size() > limits.max_bytes) {
        message = message.substr(0, limits.max_bytes);
        scan.stopped = scan_limit::bytes;
    }
    if (container_declarations(message) > max_container_parts) {
        scan_raw(message, w);
        if (scan.stopped == scan_limit::none) scan.stopped = scan_limit::depth;
    } else {
        const scan_limit cut = scan.stopped;
        scan.stopped = scan_limit::none;  // the walk runs on what was kept
        std::unique_ptr<GMimeStream, gobject_unref> stream(
            g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
        std::unique_ptr<GMimeParser, gobject_unref> parser(g_mime_parser_new_with_stream(stream.get()));
        std::unique_ptr<GMimeMessage, gobject_unref> parsed(g_mime_parser_construct_message(parser.get(), nullptr));
        if (parsed) {
            w.walk(g_mime_message_get_mime_part(parsed.get()), 0);
        } else {
            scan_raw(message, w);
        }
        if (scan.stopped == scan_limit::none) scan.stopped = cut;
    }
    scan.urls = std::move(w.found.urls);
    return scan;
}

}  // namespace relaygate::milter
