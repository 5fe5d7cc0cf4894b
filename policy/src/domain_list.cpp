// domain_list.cpp: see domain_list.hpp.
#include "relaygate/policy/domain_list.hpp"

#include <fstream>
#include <sstream>

namespace relaygate::policy {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// True when tail ("fr", "co.jp") looks like a public suffix for "label.*" entries.
bool suffix_like(std::string_view tail) {
    std::size_t dot = tail.find('.');
    if (dot == std::string_view::npos) return !tail.empty();
    if (tail.find('.', dot + 1) != std::string_view::npos) return false;
    return dot > 0 && dot <= 3 && dot + 1 < tail.size();
}

}  // namespace

std::string normalize_domain(std::string_view domain) {
    if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    if (domain.empty() || domain.size() > 253) return {};
    std::string out;
    out.reserve(domain.size());
    char prev = '.';
    for (char c : domain) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok || (c == '.' && prev == '.')) return {};
        out += c;
        prev = c;
    }
    if (prev == '.') return {};
    return out;
}

expected<domain_list, std::string> domain_list::parse(std::string_view text, std::string_view source) {
    domain_list list;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;
        auto fail = [&](std::string_view why) {
            return unexpected(std::string(source) + ":" + std::to_string(line_no) + ": " + std::string(why) + " '" +
                              std::string(line.substr(0, 80)) + "'");
        };
        if (list.size() >= domain_list_max_entries) return fail("too many entries (limit 100000) at");
        if (line.size() > 2 && line.ends_with(".*")) {
            std::string label = normalize_domain(line.substr(0, line.size() - 2));
            if (label.empty() || label.find('.') != std::string::npos) return fail("bad wildcard entry");
            list.wildcard_.insert(std::move(label));
        } else if (line.front() == '.') {
            std::string parent = normalize_domain(line.substr(1));
            if (parent.empty()) return fail("bad subdomain entry");
            list.subdomain_.insert(std::move(parent));
        } else {
            std::string domain = normalize_domain(line);
            if (domain.empty() || domain.find('.') == std::string::npos) return fail("bad domain");
            list.exact_.insert(std::move(domain));
        }
    }
    return list;
}

expected<domain_list, std::string> domain_list::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return unexpected(path + ": cannot open the Microsoft-family domain list");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    if (text.size() > 16 * 1024 * 1024) return unexpected(path + ": larger than 16 MiB");
    return parse(text, path);
}

bool domain_list::matches(std::string_view domain) const {
    if (exact_.contains(domain)) return true;
    // Walk the parents: a.b.example.com -> b.example.com -> example.com -> com.
    for (std::size_t dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.', dot + 1)) {
        if (!subdomain_.empty() && subdomain_.contains(domain.substr(dot + 1))) return true;
    }
    if (!wildcard_.empty()) {
        std::size_t dot = domain.find('.');
        if (dot != std::string_view::npos && wildcard_.contains(domain.substr(0, dot)) &&
            suffix_like(domain.substr(dot + 1)))
            return true;
    }
    return false;
}

}  // namespace relaygate::policy
