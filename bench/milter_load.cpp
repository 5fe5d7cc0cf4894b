// milter_load: a load client that speaks the milter protocol (version 6) the
// way Postfix's smtpd does — negotiate, connect, helo, then per message
// macros, MAIL, RCPT, DATA, headers, EOH, body, end of message — over C
// parallel connections (one thread each), honouring the steps and replies the
// milter declined in negotiation. Reports messages/s and the verdicts seen.
// Bounded by -n MESSAGES and -t SECONDS. Run by bench/milter_bench.sh.
//   milter_load --unix PATH [-c 4] [-n 20000] [-t 60] [--from news@verified.example] [--body-bytes 2048]
//               [--html-links 40]   (an HTML body of --body-bytes with that many links: the URL check)
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct options {
    std::string path;
    int connections = 4;
    long messages = 20000;
    double max_seconds = 60;
    std::string from = "news@verified.example";
    std::size_t body_bytes = 2048;
    std::size_t html_links = 0;  // > 0: an HTML body of body_bytes with this many links (URL check bench)
};

struct counts {
    std::atomic<long> done{0}, accepted{0}, signed_{0}, url_header{0}, rejected{0}, tempfailed{0}, other{0}, errors{0};
};

class milter_conn {
public:
    explicit milter_conn(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
        }
    }
    ~milter_conn() {
        if (fd_ >= 0) ::close(fd_);
    }

    void send(char cmd, const std::string& data) {
        std::uint32_t len = htonl(static_cast<std::uint32_t>(data.size() + 1));
        std::string pkt(reinterpret_cast<char*>(&len), 4);
        pkt += cmd;
        pkt += data;
        for (std::size_t off = 0; off < pkt.size();) {
            ssize_t n = ::write(fd_, pkt.data() + off, pkt.size() - off);
            if (n <= 0) throw std::runtime_error("write failed");
            off += static_cast<std::size_t>(n);
        }
    }
    // One reply packet: command byte and data.
    std::pair<char, std::string> receive() {
        std::uint32_t len = 0;
        read_exact(reinterpret_cast<char*>(&len), 4);
        len = ntohl(len);
        if (len == 0 || len > (1u << 20)) throw std::runtime_error("bad reply length");
        std::string buf(len, '\0');
        read_exact(buf.data(), len);
        return {buf[0], buf.substr(1)};
    }

private:
    void read_exact(char* p, std::size_t n) {
        while (n > 0) {
            ssize_t r = ::read(fd_, p, n);
            if (r <= 0) throw std::runtime_error("milter closed the connection");
            p += r;
            n -= static_cast<std::size_t>(r);
        }
    }
    int fd_ = -1;
};

std::string u32(std::uint32_t v) {
    v = htonl(v);
    return std::string(reinterpret_cast<char*>(&v), 4);
}
std::string z(const std::string& s) { return s + '\0'; }

void run_connection(const options& o, long quota, int id, counts& c, std::chrono::steady_clock::time_point deadline) {
    milter_conn m(o.path);
    // Offer what Postfix 3.7 offers: every action, every step and no-reply flag.
    m.send(SMFIC_OPTNEG, u32(6) + u32(0x1ff) + u32(0x1fffff));
    auto [cmd, data] = m.receive();
    if (cmd != SMFIC_OPTNEG || data.size() < 12) throw std::runtime_error("no option negotiation reply");
    std::uint32_t proto = 0;
    std::memcpy(&proto, data.data() + 8, 4);
    proto = ntohl(proto);
    auto step = [&](std::uint32_t no_flag, std::uint32_t no_reply_flag, char command, const std::string& payload) {
        if (proto & no_flag) return;
        m.send(command, payload);
        if (proto & no_reply_flag) return;
        auto [r, _] = m.receive();
        if (r != SMFIR_CONTINUE) throw std::runtime_error(std::string("unexpected reply ") + r);
    };
    step(SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT,
         z("client.example") + '4' + std::string("\0\x19", 2) + z("192.0.2.9"));
    step(SMFIP_NOHELO, SMFIP_NR_HELO, SMFIC_HELO, z("client.example"));
    const std::string body = std::string(o.body_bytes - o.body_bytes % 64, 'x');
    std::string chunk;
    for (std::size_t i = 0; i + 64 <= body.size(); i += 64) chunk += body.substr(i, 62) + "\r\n";
    if (o.html_links > 0) {  // 40 links to 8 domains (one a shortener), then filler paragraphs
        chunk = "<html><body>\r\n";
        for (std::size_t l = 0; l < o.html_links; ++l) {
            chunk += "<p><a href=\"https://www" + std::to_string(l % 7) + ".shop" + std::to_string(l % 7) +
                     ".example/item?id=" + std::to_string(l) + "&amp;ref=mail\">Item " + std::to_string(l) +
                     "</a></p>\r\n";
        }
        chunk += "<p>Short: <a href=\"https://bit.ly/3bench\">link</a></p>\r\n";
        while (chunk.size() + 80 < o.body_bytes)
            chunk += "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\r\n";
        chunk += "</body></html>\r\n";
    }
    const std::string content_type = o.html_links > 0 ? "text/html; charset=utf-8" : "text/plain; charset=us-ascii";
    const std::string domain = o.from.substr(o.from.find('@') + 1);
    for (long i = 0; i < quota && std::chrono::steady_clock::now() < deadline; ++i) {
        const std::string qid = std::to_string(id) + "Q" + std::to_string(i);
        m.send(SMFIC_MACRO, std::string(1, SMFIC_MAIL) + z("i") + z(qid) + z("{auth_authen}") + z("bench"));
        step(SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL, z("<bounce@" + domain + ">") + z("SIZE=3000"));
        step(SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT, z("<user" + std::to_string(i) + "@example.net>"));
        step(SMFIP_NODATA, SMFIP_NR_DATA, SMFIC_DATA, "");
        const std::pair<const char*, std::string> headers[] = {
            {"From", "Bench <" + o.from + ">"},
            {"To", "<user" + std::to_string(i) + "@example.net>"},
            {"Subject", "relaygate milter bench message " + std::to_string(i)},
            {"Date", "Tue, 01 Dec 2026 18:00:00 +0000"},
            {"Message-ID", "<" + qid + "@" + domain + ">"},
            {"MIME-Version", "1.0"},
            {"Content-Type", content_type}};
        for (const auto& [name, value] : headers) step(SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER, z(name) + z(value));
        step(SMFIP_NOEOH, SMFIP_NR_EOH, SMFIC_EOH, "");
        step(SMFIP_NOBODY, SMFIP_NR_BODY, SMFIC_BODY, chunk);
        m.send(SMFIC_BODYEOB, "");
        bool signed_ = false;
        while (true) {  // modifications, then the final verdict
            auto [r, d] = m.receive();
            if (r == SMFIR_INSHEADER || r == SMFIR_ADDHEADER) {
                auto name = d.substr(r == SMFIR_INSHEADER ? 4 : 0);
                if (name.rfind("DKIM-Signature", 0) == 0) signed_ = true;
                if (name.rfind("X-Relaygate-URL-Risk", 0) == 0) ++c.url_header;
                continue;
            }
            if (r == SMFIR_ACCEPT || r == SMFIR_CONTINUE) {
                ++c.accepted;
                if (signed_) ++c.signed_;
            } else if (r == SMFIR_REPLYCODE) {
                (d[0] == '5' ? c.rejected : c.tempfailed)++;
            } else if (r == SMFIR_REJECT) {
                ++c.rejected;
            } else if (r == SMFIR_TEMPFAIL) {
                ++c.tempfailed;
            } else {
                ++c.other;
            }
            break;
        }
        ++c.done;
    }
    m.send(SMFIC_QUIT, "");
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
            return argv[++i];
        };
        if (a == "--unix")
            o.path = next();
        else if (a == "-c")
            o.connections = std::stoi(next());
        else if (a == "-n")
            o.messages = std::stol(next());
        else if (a == "-t")
            o.max_seconds = std::stod(next());
        else if (a == "--from")
            o.from = next();
        else if (a == "--body-bytes")
            o.body_bytes = std::stoul(next());
        else if (a == "--html-links")
            o.html_links = std::stoul(next());
        else {
            std::fprintf(stderr,
                         "usage: milter_load --unix PATH [-c C] [-n N] [-t S] [--from ADDR] [--body-bytes B] "
                         "[--html-links L]\n");
            return 2;
        }
    }
    if (o.path.empty() || o.connections < 1 || o.messages < 1) {
        std::fprintf(stderr, "milter_load: --unix PATH is required; -c and -n must be positive\n");
        return 2;
    }
    counts c;
    auto t0 = std::chrono::steady_clock::now();
    auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(o.max_seconds));
    std::vector<std::thread> threads;
    for (int k = 0; k < o.connections; ++k) {
        long quota = o.messages / o.connections + (k < o.messages % o.connections ? 1 : 0);
        threads.emplace_back([&, quota, k] {
            try {
                run_connection(o, quota, k, c, deadline);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "milter_load: connection %d: %s\n", k, e.what());
                ++c.errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "MILTERLOAD connections=%d messages=%ld seconds=%.3f msgs_per_s=%.0f accepted=%ld signed=%ld url_header=%ld "
        "rejected=%ld tempfailed=%ld other=%ld errors=%ld\n",
        o.connections, c.done.load(), secs, c.done.load() / secs, c.accepted.load(), c.signed_.load(),
        c.url_header.load(), c.rejected.load(), c.tempfailed.load(), c.other.load(), c.errors.load());
    return (c.errors || c.other || c.done.load() < o.messages) ? 1 : 0;
}
