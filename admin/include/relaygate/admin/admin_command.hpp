// admin_command.hpp: relaygate-admin as a library (admin_core). run() reads
// the global options (config file + registry keys) into a context over the
// injected environment and dispatches by name; each command lives in
// admin/src/<name>_command.cpp and is one row of the table in
// admin_commands.cpp. main.cpp only builds the real environment; tests/admin
// builds its own (string streams, a fixed clock). Exit codes are shared.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/registry_options.hpp"

namespace relaygate::admin {

// Documented in docs/admin.md and in `relaygate-admin --help`.
enum exit_code : int {
    exit_ok = 0,            // done; every domain asked about is verified / the files are valid
    exit_not_verified = 1,  // some domain is not verified (failed or pending), or would be rejected
    exit_usage = 2,         // bad command line, config, admin file or state file
    exit_temporary = 3,     // only temporary failures (DNS, state file I/O): try again later
};

// What a run is given from outside: main.cpp passes the standard streams and
// the system clock, tests string streams and a fixed clock.
struct environment {
    std::ostream& out;
    std::ostream& err;
    std::function<std::int64_t()> now;  // unix seconds
};

// Runs one command line (without the program name); returns the exit code.
int run(const std::vector<std::string>& args, const environment& env);

struct context {
    registry::registry_options opts;   // validated
    std::string config_file;           // the config read, "" when none
    bool config_from_default = false;  // config_file is the default path and did not exist
    std::ostream& out;
    std::ostream& err;
    std::function<std::int64_t()> now;  // unix seconds (injected for tests of the commands)
};

struct command {
    std::string_view name;
    std::string_view synopsis;  // after the name, e.g. "[DOMAIN...]"
    std::string_view summary;   // one line for the command list
    int (*run)(const std::vector<std::string>& args, context& ctx);
};

// The dispatch table (admin_commands.cpp), in the order `--help` lists them.
std::span<const command> commands();
const command& command_named(std::string_view name);  // a row of the table; throws when absent

// Parses a command's arguments with desc (adds --help) and positional names.
// Returns an exit code to stop with (help printed = exit_ok, error = exit_usage) or nullopt to run.
std::optional<int> parse_command_line(const command& cmd, const std::vector<std::string>& args,
                                      boost::program_options::options_description desc,
                                      const boost::program_options::positional_options_description& positional,
                                      boost::program_options::variables_map& vm, context& ctx);

// Loads the snapshot (admin file + state) or prints why not ("relaygate-admin: file:line: ...").
std::shared_ptr<const registry::domain_registry> load_or_report(context& ctx);

// Normalises each DOMAIN argument and checks it is registered; prints the problem and returns nullopt otherwise.
std::optional<std::vector<const registry::domain_entry*>> select_domains(const registry::domain_registry& reg,
                                                                         const std::vector<std::string>& names,
                                                                         context& ctx);

// The lookup records, status and verify share: the snapshot and the entries for names (all when empty);
// nullopt when either failed (the reason already printed), which those commands answer with exit_usage.
struct domain_selection {
    std::shared_ptr<const registry::domain_registry> registry;  // owns the entries below
    std::vector<const registry::domain_entry*> entries;
};
std::optional<domain_selection> load_domains(const std::vector<std::string>& names, context& ctx);

std::string format_time(std::int64_t unix_seconds);  // "2026-12-01T18:00:00Z", "never" for 0

// One selector of a domain under DKIM key rotation, as status and records show it.
struct selector_view {
    std::string name;
    std::string outcome;            // its last check ("match", "no_record", ...; "" = not checked yet)
    bool signing = false;           // the milter signs with it
    bool removable = false;         // older than the signing one, and the overlap has passed
    std::int64_t removable_at = 0;  // older than the signing one: when it becomes removable (0 = n/a)
};
// The selectors of e with what the state says of them; empty when e has one selector
// (status_command.cpp, through registry::removable_selectors and rotation-overlap).
std::vector<selector_view> rotation_of(const registry::domain_entry& e, const registry::verification_status& s,
                                       std::int64_t now, std::chrono::seconds overlap);
// "[DKIM rotation: s1=match (removable ...) s2=match (signing since ...)]"
std::string rotation_text(const std::vector<selector_view>& selectors, std::int64_t signing_since);

}  // namespace relaygate::admin
