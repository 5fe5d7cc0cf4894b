// redis_server.hpp: a real redis-server on 127.0.0.1 and a free port, with no
// persistence (no RDB, no AOF), its dir in a temp dir. Started by the
// constructor (waits for PONG), stopped by the destructor. Callers: policy and
// watch tests, harness_ctl redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

class redis_server {
public:
    explicit redis_server(std::uint16_t port = 0, std::filesystem::path dir = {});
    ~redis_server();
    redis_server(redis_server&&) = default;

    std::string address() const { return "127.0.0.1"; }
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return process_.pid(); }
    const std::filesystem::path& dir() const { return dir_; }
    // Sends one command (RESP array) and returns the raw reply, e.g. "+PONG\r\n".
    std::string command(const std::vector<std::string>& args) const;
    void stop();
    pid_t release();

private:
    std::uint16_t port_;
    std::optional<temp_dir> own_dir_;
    std::filesystem::path dir_;
    child_process process_;
};

}  // namespace relaygate::harness
