// mx_lookup_e2e.cpp: inside in-netns, Postfix's own MX lookups (libc resolver,
// /etc/resolv.conf -> 127.0.0.1) reach the test DNS server on 127.0.0.1:53:
// a transport with an empty next hop delivers to the MX the test zone names,
// from the transport's bind address (postfix-tech.md §5 option A).
#include <netdb.h>

#include <gtest/gtest.h>

#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"

namespace relaygate::harness {
namespace {

const std::vector<std::string> zone = {
    "local-zone: \"outlook.test.\" static",
    "local-data: \"outlook.test. 300 IN MX 10 mx.outlook.test.\"",
    "local-data: \"mx.outlook.test. 300 IN A 127.0.0.3\"",
};

class MxLookup : public netns_test {};

TEST_F(MxLookup, TheLibcResolverInsideSeesTheTestZone) {
    dns_server dns({}, 53, zone);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* res = nullptr;
    ASSERT_EQ(::getaddrinfo("mx.outlook.test", nullptr, &hints, &res), 0);
    char host[64] = {};
    ::getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST);
    ::freeaddrinfo(res);
    EXPECT_STREQ(host, "127.0.0.3");
}

TEST_F(MxLookup, PostfixDeliversToTheMxOfTheTestZoneFromTheBoundAddress) {
    dns_server dns({}, 53, zone);
    smtp_sink mx(sink_options{.address = "127.0.0.3", .port = 25});  // port 25 of the private namespace only
    smtp_sink other;
    postfix_options options{.relayhost = other.nexthop()};
    // "msft-out:" with no next hop: the recipient domain, looked up by MX (relayhost is not used).
    options.smtp_transport("msft-out", "127.0.0.2").main("transport_maps = inline:{ outlook.test=msft-out: }");
    postfix_instance postfix(options);

    auto sent = swaks_send({.port = postfix.smtp_port(), .to = {"bob@outlook.test"}});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;
    ASSERT_TRUE(mx.wait_for_messages(1));
    auto m = mx.messages().at(0);
    EXPECT_EQ(m.client_addr, "127.0.0.2");
    EXPECT_EQ(m.rcpts, std::vector<std::string>{"bob@outlook.test"});
    EXPECT_TRUE(
        postfix.wait_for_log("postfix/msft-out/smtp.*to=<bob@outlook.test>, "
                             "relay=mx\\.outlook\\.test\\[127\\.0\\.0\\.3\\]:25,.*status=sent"));
    EXPECT_TRUE(other.messages().empty());
}

}  // namespace
}  // namespace relaygate::harness
