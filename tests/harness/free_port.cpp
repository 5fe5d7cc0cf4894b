// free_port.cpp: picks a random port in 20000-32767 that binds on INADDR_ANY
// (so it is free on every local address) and that no other relaygate test
// process holds the lock file for; the lock stays held until we exit. Free
// for TCP and UDP alike (a DNS server needs both).
#include "relaygate/harness/free_port.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

namespace relaygate::harness {
namespace {

bool binds(int type, std::uint16_t port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

// Holds the port's lock file open (and flock'ed) for the rest of the process.
bool reserve(std::uint16_t port) {
    const char* dir = "/tmp/relaygate-ports";
    ::mkdir(dir, 01777);
    std::string file = std::string(dir) + "/" + std::to_string(port);
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return false;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return false;
    }
    return true;  // fd intentionally kept open: the reservation lives as long as we do
}

}  // namespace

std::uint16_t free_port() {
    static std::mutex mu;
    static std::mt19937 rng(std::random_device{}());
    std::lock_guard lock(mu);
    std::uniform_int_distribution<int> dist(20000, 32767);
    for (int attempt = 0; attempt < 500; ++attempt) {
        auto port = static_cast<std::uint16_t>(dist(rng));
        if (binds(SOCK_STREAM, port) && binds(SOCK_DGRAM, port) && reserve(port)) return port;
    }
    throw std::runtime_error("free_port: no free port in 20000-32767 after 500 tries");
}

}  // namespace relaygate::harness
