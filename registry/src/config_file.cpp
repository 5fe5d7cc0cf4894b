// config_file.cpp: the one config reader and its error format (see config_file.hpp).
// The file is split by parse_config_text() (pure, bounded), then each entry is
// checked against the program's scope and stored through Program_options one
// line at a time, so every error carries the line of the value that caused it.
#include "relaygate/registry/config_file.hpp"

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace po = boost::program_options;

namespace relaygate::registry {
namespace {

constexpr std::array<std::string_view, 4> program_sections = {"milter", "policy", "watch", "admin"};
// The shared keys' own section: the same as the top level.
constexpr std::string_view shared_section = "registry";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool is_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
}

enum class section_role { read, skipped, foreign };

section_role role_of(const config_scope& scope, const std::string& section) {
    if (section.empty() || section == shared_section || section == scope.section) return section_role::read;
    if (std::find(scope.skipped.begin(), scope.skipped.end(), section) != scope.skipped.end()) {
        return section_role::skipped;
    }
    return section_role::foreign;
}

// The key as an error names it: bare when read by this program, "section.key" otherwise.
std::string shown_key(const config_scope& scope, const config_entry& e) {
    return role_of(scope, e.section) == section_role::read ? e.key : e.section + "." + e.key;
}

// Keys only the command line may set.
bool command_line_only(std::string_view key) { return key == "help" || key == "config"; }

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

std::string option_name(const po::error_with_option_name& e) {
    auto key = e.get_option_name();
    while (key.starts_with("-")) key.erase(0, 1);
    return key;
}

// Stores one entry into vm; a bad value is an error naming its line.
expected<bool, std::string> store_entry(const std::string& path, const po::options_description& desc,
                                        po::variables_map& vm, const config_entry& e, const std::string& key) {
    po::parsed_options one(&desc);
    one.options.emplace_back(e.key, std::vector<std::string>{e.value});
    try {
        po::store(one, vm);
    } catch (const po::error& err) {
        return unexpected(config_error(at(path, e.line), key, err.what()));
    }
    return true;
}

}  // namespace

config_scope config_scope::for_program(std::string_view name) {
    config_scope scope{.section = std::string(name), .skipped = {}};
    for (auto s : program_sections) {
        if (s != name) scope.skipped.emplace_back(s);
    }
    return scope;
}

std::string config_error(std::string_view where, std::string_view key, std::string_view message,
                         std::string_view value) {
    std::string out(where);
    out += ": key '";
    out += key;
    out += "': ";
    if (!value.empty()) {
        out += "'";
        out += value;
        out += "': ";
    }
    out += message;
    return out;
}

expected<std::vector<config_entry>, std::string> parse_config_text(std::string_view text) {
    if (text.size() > max_config_bytes) {
        return unexpected(": longer than " + std::to_string(max_config_bytes) + " bytes");
    }
    std::vector<config_entry> entries;
    std::string section;
    int number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++number;
        if (line.size() > max_config_line) {
            return unexpected(std::to_string(number) + ": line longer than " + std::to_string(max_config_line));
        }
        line = trim(line.substr(0, line.find('#')));  // "#" starts a comment anywhere, as in Program_options
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']' || !is_name(trim(line.substr(1, line.size() - 2)))) {
                return unexpected(std::to_string(number) + ": bad section header '" + std::string(line) + "'");
            }
            section = std::string(trim(line.substr(1, line.size() - 2)));
            continue;
        }
        auto eq = line.find('=');
        auto key = trim(line.substr(0, eq));
        if (eq == std::string_view::npos || !is_name(key)) {
            return unexpected(std::to_string(number) + ": not 'key = value': '" + std::string(line) + "'");
        }
        if (entries.size() == max_config_entries) {
            return unexpected(std::to_string(number) + ": more than " + std::to_string(max_config_entries) + " keys");
        }
        entries.push_back({number, section, std::string(key), std::string(trim(line.substr(eq + 1)))});
    }
    return entries;
}

std::string config_source::where(std::string_view key, std::string_view value) const {
    if (file_.empty()) return "command line";
    std::ifstream in(file_);
    std::stringstream text;
    text << in.rdbuf();
    auto entries = parse_config_text(text.str());
    if (!entries) return file_;
    for (const auto& e : *entries) {
        if (e.key != key || role_of(scope_, e.section) != section_role::read) continue;
        if (value.empty() || e.value.find(value) != std::string::npos) return at(file_, e.line);
    }
    return file_;
}

std::string config_source::error(std::string_view key, std::string_view message, std::string_view value) const {
    return config_error(where(key, value), key, message, value);
}

expected<bool, std::string> parse_config_file(const std::string& path, const po::options_description& desc,
                                              po::variables_map& vm, const config_scope& scope) {
    std::ifstream in(path);
    if (!in) return unexpected(path + ": cannot open config file");
    std::error_code ec;
    if (auto size = std::filesystem::file_size(path, ec); !ec && size > max_config_bytes) {
        return unexpected(path + ": longer than " + std::to_string(max_config_bytes) + " bytes");
    }
    std::stringstream text;
    text << in.rdbuf();
    auto entries = parse_config_text(text.str());
    if (!entries) return unexpected(path + ":" + entries.error());
    std::map<std::string, int> first_line;  // single-valued key -> where it was set
    for (const auto& e : *entries) {
        auto role = role_of(scope, e.section);
        if (role == section_role::skipped) continue;
        const std::string key = shown_key(scope, e);
        const auto* known = desc.find_nothrow(e.key, false);
        if (role == section_role::foreign || known == nullptr || command_line_only(e.key)) {
            return unexpected(config_error(at(path, e.line), key, "unknown key"));
        }
        if (!known->semantic()->is_composing()) {
            auto [it, fresh] = first_line.emplace(e.key, e.line);
            if (!fresh) {
                return unexpected(config_error(at(path, e.line), key,
                                               "given twice (first at line " + std::to_string(it->second) + ")"));
            }
        }
        if (auto ok = store_entry(path, desc, vm, e, key); !ok) return ok;
    }
    return true;
}

expected<bool, std::string> parse_command_line(int argc, const char* const argv[], const po::options_description& desc,
                                               po::variables_map& vm) {
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
    } catch (const po::error_with_option_name& e) {
        return unexpected(config_error("command line", option_name(e), e.what()));
    } catch (const po::error& e) {
        return unexpected(std::string("command line: ") + e.what());
    }
    return true;
}

expected<config_read, std::string> read_config(int argc, const char* const argv[], const config_request& request) {
    config_read out;
    std::string file;
    po::options_description general("general");
    general.add_options()("help,h", "print this help and exit")(
        "config,c", po::value(&file),
        "config file: key = value lines, the same keys as below (shared keys at the top, this program's at the top "
        "or in its own [section])");
    po::options_description all;
    all.add(general);
    if (request.cli_only != nullptr) all.add(*request.cli_only);
    all.add(*request.keys);
    po::variables_map vm;
    std::ostringstream help;
    help << request.usage << "\n" << all;
    out.help_text = help.str();
    if (auto ok = parse_command_line(argc, argv, all, vm); !ok) return unexpected(ok.error());
    if (vm.count("help")) {
        out.help = true;
        return out;
    }
    if (vm.count("config")) {
        file = vm["config"].as<std::string>();
    } else if (!request.default_file.empty() && std::filesystem::exists(request.default_file)) {
        file = request.default_file;
    }
    auto scope = config_scope::for_program(request.program);
    if (!file.empty()) {
        if (auto ok = parse_config_file(file, *request.keys, vm, scope); !ok) return unexpected(ok.error());
    }
    try {
        po::notify(vm);
    } catch (const po::error_with_option_name& e) {
        return unexpected(config_error(file.empty() ? "command line" : file, option_name(e), e.what()));
    } catch (const po::error& e) {
        return unexpected(std::string(file.empty() ? "command line" : file) + ": " + e.what());
    }
    if (!file.empty()) out.source = config_source(file, std::move(scope));
    return out;
}

}  // namespace relaygate::registry
