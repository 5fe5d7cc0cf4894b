// wait.hpp: bounded polling, the only way fixtures wait (no bare sleeps).
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace relaygate::harness {

using namespace std::chrono_literals;

// Calls `done` every `step` until it returns true (-> true) or `timeout` passes (-> false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = 20ms);

// True once a TCP connection to address:port succeeds (connects and closes at once).
bool tcp_connects(const std::string& address, unsigned port);

}  // namespace relaygate::harness
