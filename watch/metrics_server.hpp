// metrics_server.hpp: a minimal HTTP/1.0 responder for Prometheus scrapes.
// Binds a loopback address only (127.0.0.0/8 or ::1; anything else is
// refused), serves GET /metrics with metrics::render(), 404 for other paths,
// one request per connection, 2 s read timeout, requests capped at 8 KiB.
// Runs on its own thread; stop() or the destructor joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "relaygate/registry/expected.hpp"
#include "relaygate/watch/metrics.hpp"

namespace relaygate::watch {

class metrics_server {
public:
    // listen: "127.0.0.1:9465", "[::1]:9465"; port 0 = any free port.
    static expected<std::unique_ptr<metrics_server>, std::string> start(const std::string& listen, const metrics& m);
    ~metrics_server();
    metrics_server(const metrics_server&) = delete;
    metrics_server& operator=(const metrics_server&) = delete;

    std::uint16_t port() const { return port_; }
    void stop();

private:
    metrics_server(int fd, std::uint16_t port, const metrics& m);
    void run();
    void serve(int client);

    int fd_;
    std::uint16_t port_;
    const metrics& metrics_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace relaygate::watch
