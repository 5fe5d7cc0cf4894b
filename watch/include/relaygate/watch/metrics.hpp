// metrics.hpp: the watch's counters and gauges, rendered in the Prometheus
// text exposition format (version 0.0.4). Thread-safe (one mutex): the daemon
// loop writes, the metrics_server thread renders. Metric names are listed in
// docs/watch.md "Metrics".
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace relaygate::watch {

class metrics {
public:
    using labels = std::vector<std::pair<std::string, std::string>>;

    // name must be declared first (help + type).
    void declare(const std::string& name, const std::string& help, bool gauge);
    void add(const std::string& name, const labels& l, double delta = 1);
    void set(const std::string& name, const labels& l, double value);
    // Removes every series of name (gauges rebuilt from scratch, e.g. after a sweep).
    void clear(const std::string& name);
    double value(const std::string& name, const labels& l) const;
    std::string render() const;

private:
    struct family {
        std::string help;
        bool gauge = false;
        std::map<std::string, double> series;  // rendered label set -> value
    };
    static std::string render_labels(const labels& l);
    mutable std::mutex mu_;
    std::map<std::string, family> families_;
};

// The watch's standard metric families, declared at once.
void declare_watch_metrics(metrics& m);

}  // namespace relaygate::watch
