// dkim_dump_verify.hpp: verifies the first DKIM signature of a message as
// smtp-sink dumped it, with libopendkim's own resolver (resolv.conf -> the
// fixture unbound in the test's netns). Shared by the milter e2e tests.
#pragma once

#include <filesystem>
#include <string>

namespace relaygate::milter::testing {

// "ok", or libopendkim's result text and error.
std::string verify_dump(const std::filesystem::path& file);

}  // namespace relaygate::milter::testing
