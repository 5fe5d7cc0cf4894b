// policy_socketmap_load.cpp: load generator for relaygate-policy's socketmap
// (transport_maps) listener. C persistent connections, one request in flight
// per connection (as trivial-rewrite does), single-threaded epoll. Keys cycle
// over listed Microsoft domains, MX-detected tenants and ordinary domains
// (bench/policy_bench.sh serves their MX from the test DNS, so after the
// warm-up every answer comes from memory). Bounded by -n and -t.
//   policy_socketmap_load --tcp 127.0.0.1:10061 -c 16 -n 300000 -w 5000 -t 60
// Prints one "RESULT ..." line; exit 1 on malformed replies or a cut-short run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

const char* const keys[] = {
    "Bob@Hotmail.com",
    "carol@outlook.jp",
    "dave@live.com",
    "erin@msn.com",
    "x@hotmail.co.uk",
    "t1@tenant.test",
    "t2@consumer.test",
    "t3@dane.test",
    "alice@gmail.test",
    "a@backup.test",
    "b@nomx.test",
    "news@brand.example",
    "c@gmail.test",
    "d@gmail.test",
    "e@lookalike.test",
    "f@nonexistent.example",
    "*",
    "g@Tenant.Test",
    "h@gmail.test",
    "i@outlook.com",
};

struct conn {
    int fd = -1;
    std::string in;
    clock_type::time_point sent;
    std::size_t next_key = 0;
};

std::string netstring(const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; }

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 10061, conns = 16;
    long n = 100000, warmup = 2000;
    double max_s = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--tcp") {
            host = v.substr(0, v.rfind(':'));
            port = std::atoi(v.substr(v.rfind(':') + 1).c_str());
        } else if (a == "-c") {
            conns = std::atoi(v.c_str());
        } else if (a == "-n") {
            n = std::atol(v.c_str());
        } else if (a == "-w") {
            warmup = std::atol(v.c_str());
        } else if (a == "-t") {
            max_s = std::atof(v.c_str());
        } else {
            std::fprintf(stderr, "usage: %s --tcp HOST:PORT -c CONNS -n REQUESTS -w WARMUP -t MAX_SECONDS\n", argv[0]);
            return 2;
        }
    }
    int ep = epoll_create1(0);
    std::vector<conn> cs(static_cast<std::size_t>(conns));
    const std::size_t nkeys = sizeof keys / sizeof keys[0];
    for (int i = 0; i < conns; ++i) {
        auto& c = cs[static_cast<std::size_t>(i)];
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, host.c_str(), &a.sin_addr);
        if (connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            std::perror("connect");
            return 1;
        }
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c.next_key = static_cast<std::size_t>(i * 7) % nkeys;
        epoll_event ev{EPOLLIN, {.u32 = static_cast<uint32_t>(i)}};
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }
    auto send_one = [&](conn& c) {
        std::string req = netstring(std::string("transport ") + keys[c.next_key]);
        c.next_key = (c.next_key + 1) % nkeys;
        c.sent = clock_type::now();
        if (send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) std::abort();
    };
    for (auto& c : cs) send_one(c);
    long sent = conns, done = 0, malformed = 0;
    std::map<std::string, long> kinds;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(n));
    auto start = clock_type::now(), measured_start = start;
    bool cut = false;
    epoll_event evs[64];
    while (done < warmup + n) {
        if (std::chrono::duration<double>(clock_type::now() - start).count() > max_s) {
            cut = true;
            break;
        }
        int k = epoll_wait(ep, evs, 64, 1000);
        for (int e = 0; e < k; ++e) {
            auto& c = cs[evs[e].data.u32];
            char buf[4096];
            ssize_t r = recv(c.fd, buf, sizeof buf, 0);
            if (r <= 0) {
                std::fprintf(stderr, "connection closed by the server\n");
                return 1;
            }
            c.in.append(buf, static_cast<std::size_t>(r));
            auto colon = c.in.find(':');
            if (colon == std::string::npos) continue;
            std::size_t len = std::strtoul(c.in.c_str(), nullptr, 10);
            if (c.in.size() < colon + len + 2) continue;
            std::string payload = c.in.substr(colon + 1, len);
            if (c.in[colon + 1 + len] != ',' || c.in.size() != colon + len + 2) ++malformed;
            c.in.clear();
            auto now = clock_type::now();
            ++done;
            if (done == warmup) measured_start = now;
            if (done > warmup) {
                lat.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
                ++kinds[payload.substr(0, payload.find(' '))];
            }
            if (sent < warmup + n) {
                send_one(c);
                ++sent;
            }
        }
    }
    double secs = std::chrono::duration<double>(clock_type::now() - measured_start).count();
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))];
    };
    std::printf(
        "RESULT bench=socketmap conns=%d n=%zu lookups_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
        "malformed=%ld",
        conns, lat.size(), static_cast<double>(lat.size()) / secs, pct(0.5), pct(0.99), pct(0.999),
        lat.empty() ? 0.0 : lat.back(), malformed);
    for (auto& [kind, count] : kinds) std::printf(" %s=%ld", kind.c_str(), count);
    std::printf("%s\n", cut ? " truncated=1" : "");
    return (malformed > 0 || cut) ? 1 : 0;
}
