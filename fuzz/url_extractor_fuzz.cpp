// url_extractor_fuzz.cpp: libFuzzer target for extract_urls (GMime MIME walk and
// the text/HTML finders) and normalise_url on every URL it finds. Checks the
// promises: limits hold, URLs are bounded, hosts come out lower case without a
// trailing dot, a registrable domain is a suffix of its host.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relaygate/milter/url_extractor.hpp"
#include "relaygate/milter/url_normaliser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace relaygate::milter;
    static const public_suffix_list suffixes = *public_suffix_list::parse("com\nexample\nco.uk\n*.ck\n!www.ck\n");
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const url_scan_limits limits{.max_bytes = 32768, .max_urls = 50, .max_depth = 8};
    const url_scan scan = extract_urls(text, limits);
    if (scan.urls.size() > limits.max_urls) std::abort();
    for (const auto& u : scan.urls) {
        if (u.empty() || u.size() > max_url_bytes) std::abort();
        auto h = normalise_url(u, suffixes);
        if (!h) continue;
        if (h->host.empty() || h->host.ends_with('.')) std::abort();
        for (char c : h->host) {
            if (c >= 'A' && c <= 'Z') std::abort();
        }
        if (!h->registrable_domain.empty() && !h->host.ends_with(h->registrable_domain)) std::abort();
    }
    return 0;
}
