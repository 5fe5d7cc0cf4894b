// state_store.hpp: the verification state file (JSON), apart from the admin
// file. Written atomically (temp file + fsync + rename + fsync of the folder)
// by the re-verification scheduler and relaygate-admin verify, under an
// exclusive lock (<state>.lock) for read-modify-write; read by load_snapshot.
// A missing file means "every domain pending"; a corrupt one is an error.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::registry {

using state_map = std::unordered_map<std::string, verification_status>;

std::string_view to_string(verification_state s);  // "pending", "verified", "failed"
std::optional<verification_state> parse_verification_state(std::string_view text);

// {"version":1,"domains":{"example.com":{"state":"verified",...}}}; domains sorted, defaults omitted.
std::string encode_state(const state_map& states);
// Parses state text (streaming: no document tree); errors name file_name and what is wrong.
expected<state_map, std::string> parse_state_text(std::string_view text, std::string_view file_name);

// Reads the file; a missing file is an empty map (all pending), an unreadable or corrupt one an error.
expected<state_map, std::string> read_state_file(const std::string& path);
// Streams the file without building a map: each(domain, status) per domain, in file order
// (a domain given twice is passed twice; names are not re-normalised). Missing file = no
// calls. Returns the count.
using state_visitor = std::function<void(std::string_view domain, const verification_status& status)>;
expected<std::size_t, std::string> visit_state_file(const std::string& path, const state_visitor& each);
// Replaces the file atomically; readers see the old or the new file, never a mix. Succeeds
// only once the replacement is durable (file and folder synced); when the folder sync fails
// the error says so ("replaced, but not durable"): the new file is visible but a crash may
// bring the old one back, so callers treat the write as failed.
expected<bool, std::string> write_state_file(const std::string& path, const state_map& states);
// fsync of a folder (a rename in it becomes durable); an error names the folder and errno.
expected<bool, std::string> sync_directory(const std::string& dir);
// Locks <path>.lock, reads, lets change() edit the map, writes it back atomically.
expected<bool, std::string> update_state_file(const std::string& path, const std::function<void(state_map&)>& change);

}  // namespace relaygate::registry
