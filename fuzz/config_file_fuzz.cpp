// config_file_fuzz.cpp: libFuzzer target for the one config reader's text
// splitter. Nothing may crash on hostile text; every entry it accepts has a
// name-like key, a line number inside the text and a value without a newline
// or '#'; re-rendering the entries as "key = value" lines must parse back to
// the same entries (sections included).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relaygate/registry/config_file.hpp"

using namespace relaygate::registry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto entries = parse_config_text(text);
    if (!entries) {
        if (entries.error().empty()) std::abort();
        return 0;
    }
    std::string again;
    std::string section;
    int lines = 1;
    for (char c : text) lines += c == '\n';
    for (const auto& e : *entries) {
        if (e.key.empty() || e.line < 1 || e.line > lines) std::abort();
        if (e.value.find_first_of("\n#") != std::string::npos) std::abort();
        if (e.section != section) again += "[" + e.section + "]\n";
        section = e.section;
        again += e.key + " = " + e.value + "\n";
    }
    auto reparsed = parse_config_text(again);
    if (!reparsed || reparsed->size() != entries->size()) std::abort();
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto& a = (*entries)[i];
        const auto& b = (*reparsed)[i];
        if (a.section != b.section || a.key != b.key || a.value != b.value) std::abort();
    }
    return 0;
}
