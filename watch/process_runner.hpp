// process_runner.hpp: runs an external command with data on its stdin and a
// hard timeout (the alert hook "/bin/sh -c CMD", and "postsuper -c DIR -r -").
// The child gets its own process group, which is killed (SIGKILL) when the
// timeout passes; stdout/stderr go to /dev/null unless captured. Called by the
// watch daemon; never throws. Ignores SIGPIPE process-wide (first call).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace relaygate::watch {

struct run_result {
    bool started = false;
    bool timed_out = false;
    int exit_code = -1;  // -1 when killed by a signal or not started
    std::string output;  // stdout+stderr, first 64 KiB, when captured
};

run_result run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                       std::chrono::milliseconds timeout, bool capture_output = false);

}  // namespace relaygate::watch
