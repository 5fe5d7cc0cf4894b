// config_file.hpp: the one reader of relaygate's sectioned config file, used by
// every program (milter, policy, watch, admin), and the one error format:
//   FILE:LINE: key 'KEY': MESSAGE            (or "command line: key 'KEY': ...")
// Layout: "key = value" lines, "#" starts a comment, "[section]" starts a
// section. The top level and [registry] hold the shared keys and may hold the
// program's own; [milter], [policy], [watch], [admin] hold one program's keys
// and the other programs skip them. The command line (Boost.Program_options)
// wins over the file. Implemented in config_file.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/expected.hpp"

namespace boost::program_options {
class options_description;
class variables_map;
}  // namespace boost::program_options

namespace relaygate::registry {

inline constexpr std::size_t max_config_bytes = 1 << 20;  // a longer file is refused
inline constexpr std::size_t max_config_line = 8192;      // a longer line is refused
inline constexpr std::size_t max_config_entries = 10000;  // more key lines are refused

// Which sections of the file a program reads.
struct config_scope {
    std::string section;               // the program's own section ("" = top level and [registry] only)
    std::vector<std::string> skipped;  // sections of other programs: skipped unread
    // The scope of program NAME (milter, policy, watch, admin): its own section, the others skipped.
    static config_scope for_program(std::string_view name);
};

// One "key = value" line of the file.
struct config_entry {
    int line = 0;
    std::string section;  // "" = top level
    std::string key;
    std::string value;
};

// Pure: splits config text into entries (comments and blank lines dropped).
// An error is "LINE: message" or, for the limits, ": message".
expected<std::vector<config_entry>, std::string> parse_config_text(std::string_view text);

// The one error format: "WHERE: key 'KEY': MESSAGE", with "'VALUE': " before
// the message when a value is given.
std::string config_error(std::string_view where, std::string_view key, std::string_view message,
                         std::string_view value = {});

// Where a program's values came from, to name the line of an error found after
// parsing (a bad IP, an unknown mode). Default-constructed = command line only.
class config_source {
public:
    config_source() = default;
    config_source(std::string file, config_scope scope) : file_(std::move(file)), scope_(std::move(scope)) {}
    const std::string& file() const { return file_; }
    // "FILE:LINE" of the first line in scope setting key (to a value containing
    // value, when given); "FILE" when none; "command line" without a file.
    std::string where(std::string_view key, std::string_view value = {}) const;
    // config_error(where(key, value), key, message, value).
    std::string error(std::string_view key, std::string_view message, std::string_view value = {}) const;

private:
    std::string file_;
    config_scope scope_;
};

// Reads the config file at path into vm (not notified): keys in scope must be
// in desc (else "unknown key"), a single-valued key may appear once, values go
// through desc's validators one line at a time so the error names the line.
// Values already in vm (the command line) win.
expected<bool, std::string> parse_config_file(const std::string& path,
                                              const boost::program_options::options_description& desc,
                                              boost::program_options::variables_map& vm, const config_scope& scope);

// Stores argv into vm (not notified); the error is "command line: key 'k': ...".
expected<bool, std::string> parse_command_line(int argc, const char* const argv[],
                                               const boost::program_options::options_description& desc,
                                               boost::program_options::variables_map& vm);

// What read_config() found.
struct config_read {
    bool help = false;      // --help was given: print help_text, exit 0
    std::string help_text;  // "usage: ...\n" + the options (always filled)
    config_source source;   // for errors found after reading
};

// The whole read every program does: argv (keys + --help + --config), then the
// --config file (or default_file when it exists), then notify. keys are the
// config keys (file and command line); cli_only are flags of the command line
// only (may be null). usage is the help's first line.
struct config_request {
    std::string_view program;                                       // own section: milter, policy, watch, admin
    const boost::program_options::options_description* keys;        // config keys
    const boost::program_options::options_description* cli_only{};  // command-line-only flags
    std::string usage;                                              // first line of --help
    std::string default_file;                                       // read when present and no --config
};
expected<config_read, std::string> read_config(int argc, const char* const argv[], const config_request& request);

}  // namespace relaygate::registry
