// dns_message.cpp: pure RFC 1035 wire decoding/encoding (see dns_message.hpp).
// Every read is bounds-checked; a malformed input gives nullopt, never UB.
#include "relaygate/dns/dns_message.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace relaygate::dns::wire {
namespace {

constexpr std::size_t max_name_length = 255;
constexpr int max_jumps = 128;

std::uint16_t u16(bytes b, std::size_t pos) { return static_cast<std::uint16_t>((b[pos] << 8) | b[pos + 1]); }
std::uint32_t u32(bytes b, std::size_t pos) {
    return (static_cast<std::uint32_t>(b[pos]) << 24) | (static_cast<std::uint32_t>(b[pos + 1]) << 16) |
           (static_cast<std::uint32_t>(b[pos + 2]) << 8) | b[pos + 3];
}

// Skips one question (name + type + class) or resource record at pos.
bool skip_question(bytes msg, std::size_t& pos) {
    if (!read_name(msg, pos) || pos + 4 > msg.size()) return false;
    pos += 4;
    return true;
}

}  // namespace

std::optional<std::string> read_name(bytes msg, std::size_t& pos) {
    std::string out;
    std::size_t p = pos;
    std::size_t wire_length = 0;
    bool jumped = false;
    int jumps = 0;
    while (true) {
        if (p >= msg.size()) return std::nullopt;
        unsigned len = msg[p];
        if ((len & 0xC0) == 0xC0) {  // compression pointer
            if (p + 1 >= msg.size() || ++jumps > max_jumps) return std::nullopt;
            std::size_t target = ((len & 0x3F) << 8) | msg[p + 1];
            if (!jumped) pos = p + 2;
            jumped = true;
            p = target;
            continue;
        }
        if ((len & 0xC0) != 0) return std::nullopt;  // reserved label types
        if (len == 0) {
            if (!jumped) pos = p + 1;
            return out;
        }
        wire_length += len + 1;
        if (wire_length > max_name_length || p + 1 + len > msg.size()) return std::nullopt;
        if (!out.empty()) out.push_back('.');
        for (unsigned i = 0; i < len; ++i) {
            out.push_back(static_cast<char>(std::tolower(msg[p + 1 + i])));
        }
        p += 1 + len;
    }
}

std::optional<std::vector<std::string>> txt_strings(bytes rdata) {
    std::vector<std::string> out;
    std::size_t p = 0;
    while (p < rdata.size()) {
        std::size_t len = rdata[p];
        if (p + 1 + len > rdata.size()) return std::nullopt;
        out.emplace_back(reinterpret_cast<const char*>(rdata.data() + p + 1), len);
        p += 1 + len;
    }
    return out;
}

std::optional<mx_record> mx(bytes rdata) {
    if (rdata.size() < 3) return std::nullopt;
    std::size_t pos = 2;
    auto exchange = read_name(rdata, pos);
    if (!exchange || pos != rdata.size()) return std::nullopt;
    return mx_record{.preference = u16(rdata, 0), .exchange = std::move(*exchange)};
}

std::optional<std::string> address(bytes rdata) {
    char text[INET6_ADDRSTRLEN] = {};
    if (rdata.size() == 4) {
        inet_ntop(AF_INET, rdata.data(), text, sizeof text);
    } else if (rdata.size() == 16) {
        inet_ntop(AF_INET6, rdata.data(), text, sizeof text);
    } else {
        return std::nullopt;
    }
    return std::string(text);
}

std::optional<std::string> name(bytes rdata) {
    std::size_t pos = 0;
    auto n = read_name(rdata, pos);
    if (!n || pos != rdata.size()) return std::nullopt;
    return n;
}

std::optional<int> rcode(bytes packet) {
    if (packet.size() < 12) return std::nullopt;
    return packet[3] & 0x0F;
}

std::optional<std::uint32_t> negative_ttl(bytes packet) {
    if (packet.size() < 12) return std::nullopt;
    unsigned qd = u16(packet, 4), an = u16(packet, 6), ns = u16(packet, 8);
    std::size_t pos = 12;
    for (unsigned i = 0; i < qd; ++i) {
        if (!skip_question(packet, pos)) return std::nullopt;
    }
    for (unsigned i = 0; i < an + ns; ++i) {
        if (!read_name(packet, pos) || pos + 10 > packet.size()) return std::nullopt;
        std::uint16_t type = u16(packet, pos);
        std::uint32_t ttl = u32(packet, pos + 4);
        std::size_t rdlen = u16(packet, pos + 8);
        pos += 10;
        if (pos + rdlen > packet.size()) return std::nullopt;
        if (i >= an && type == 6) {  // SOA: mname rname serial refresh retry expire minimum
            std::size_t p = pos;
            if (!read_name(packet, p) || !read_name(packet, p) || p + 20 > pos + rdlen) return std::nullopt;
            std::uint32_t minimum = u32(packet, p + 16);
            return ttl < minimum ? ttl : minimum;
        }
        pos += rdlen;
    }
    return std::nullopt;
}

std::vector<unsigned char> build_query(std::string_view qname, rr_type type, std::uint16_t id) {
    std::vector<unsigned char> q = {
        static_cast<unsigned char>(id >> 8), static_cast<unsigned char>(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    if (!qname.empty() && qname.back() == '.') qname.remove_suffix(1);
    if (qname.size() > 253) return {};
    while (!qname.empty()) {
        auto dot = qname.find('.');
        auto label = qname.substr(0, dot);
        if (label.empty() || label.size() > 63) return {};
        q.push_back(static_cast<unsigned char>(label.size()));
        q.insert(q.end(), label.begin(), label.end());
        qname = dot == std::string_view::npos ? std::string_view{} : qname.substr(dot + 1);
        if (dot != std::string_view::npos && qname.empty()) return {};  // "a..b" or trailing double dot
    }
    auto t = static_cast<std::uint16_t>(type);
    q.insert(q.end(), {0, static_cast<unsigned char>(t >> 8), static_cast<unsigned char>(t & 0xFF), 0, 1});
    return q;
}

}  // namespace relaygate::dns::wire
