// public_suffix_list.cpp: Public Suffix List rules and lookup (see public_suffix_list.hpp).
#include "relaygate/milter/public_suffix_list.hpp"

#include <vector>

#include "relaygate/registry/domain_name.hpp"

namespace relaygate::milter {

expected<public_suffix_list, std::string> public_suffix_list::parse(std::string_view text) {
    public_suffix_list list;
    std::size_t line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        // A rule is the first whitespace-delimited word; comments start with "//".
        auto end = line.find_first_of(" \t\r");
        line = line.substr(0, end);
        if (line.empty() || line.starts_with("//")) continue;
        auto* set = &list.rules_;
        if (line.starts_with("!")) {
            set = &list.exceptions_;
            line.remove_prefix(1);
        } else if (line.starts_with("*.")) {
            set = &list.wildcards_;
            line.remove_prefix(2);
        }
        auto name = registry::normalise_domain(line);
        if (!name) {
            return unexpected("public suffix list line " + std::to_string(line_no) + ": " + name.error());
        }
        set->insert(std::move(*name));
    }
    if (list.size() == 0) return unexpected(std::string("public suffix list has no rules"));
    return list;
}

std::string public_suffix_list::registrable_domain(std::string_view host) const {
    if (host.empty()) return {};
    // Start offsets of every label, left to right: suffix i is host.substr(starts[i]).
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i < host.size(); ++i) {
        if (host[i] == '.') starts.push_back(i + 1);
    }
    std::string key;
    // The longest matching rule wins; an exception beats every other rule.
    std::size_t suffix_labels = 1;  // the implicit "*" rule
    for (std::size_t i = 0; i < starts.size(); ++i) {
        key.assign(host.substr(starts[i]));
        if (exceptions_.contains(key)) {
            suffix_labels = starts.size() - i - 1;
            break;
        }
        const bool rule = rules_.contains(key);
        bool wildcard = false;
        if (!rule && i + 1 < starts.size()) {
            key.assign(host.substr(starts[i + 1]));
            wildcard = wildcards_.contains(key);
        }
        if (rule || wildcard) {
            suffix_labels = starts.size() - i;
            // Keep looking for an exception that is longer? Exceptions sit one label
            // under a wildcard, i.e. at a longer suffix, already visited: stop here.
            break;
        }
    }
    if (suffix_labels >= starts.size()) return {};  // the host is a public suffix
    return std::string(host.substr(starts[starts.size() - suffix_labels - 1]));
}

}  // namespace relaygate::milter
