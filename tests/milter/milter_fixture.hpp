// milter_fixture.hpp: starts the real relaygate-milter for integration and e2e
// tests — the standard registry (standard_registry.hpp) written as admin file
// and state file, a unix socket and a rejection log in a temp dir, stderr
// logging at debug. Always stopped by the destructor.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "standard_registry.hpp"

namespace relaygate::milter::testing {

inline const std::string milter_binary = std::string(RELAYGATE_BINARY_DIR) + "/milter/relaygate-milter";

class milter_process {
public:
    explicit milter_process(std::vector<std::string> extra_args = {}, const std::string& tag = "milter");
    ~milter_process();

    std::string socket_spec() const { return "unix:" + socket_path().string(); }
    std::filesystem::path socket_path() const { return dir_ / "milter.sock"; }
    std::filesystem::path state_file() const { return dir_ / "state.json"; }
    std::filesystem::path rejection_log() const { return dir_ / "rejections.log"; }
    std::filesystem::path log_file() const { return dir_ / "milter.log"; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    harness::child_process& process() { return process_; }

    void start();  // (re)starts with the same files; waits for "started" in the log
    std::string log() const;
    std::vector<std::string> rejection_lines() const;
    // miltertest -s <testdata>/<script> -D SOCK=... -D k=v...; bounded.
    harness::command_result miltertest(const std::string& script, const std::vector<std::string>& vars) const;

private:
    harness::temp_dir dir_;
    std::vector<std::string> extra_args_;
    harness::child_process process_;
};

}  // namespace relaygate::milter::testing
