// metrics_server_itest.cpp: the Prometheus responder scraped by a real HTTP
// client (curl) on loopback; non-loopback listen addresses are refused.
#include "watch/metrics_server.hpp"

#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"

namespace relaygate::watch {
namespace {

TEST(metrics_server, curl_scrapes_the_text_format) {
    metrics m;
    declare_watch_metrics(m);
    m.add("relaygate_watch_deliveries_total",
          {{"family", "microsoft"}, {"transport", "msft-out"}, {"status", "deferred"}}, 3);
    m.set("relaygate_watch_active_transport", {{"family", "microsoft"}, {"transport", "msft-spare"}}, 1);
    m.set("relaygate_watch_ip_listed", {{"ip", "127.0.0.2"}, {"zone", "a\"b"}}, 1);
    auto s = metrics_server::start("127.0.0.1:0", m);
    ASSERT_TRUE(s.has_value()) << s.error();
    const std::string url = "http://127.0.0.1:" + std::to_string((*s)->port());
    const auto r = harness::run_command({"curl", "-sS", "-i", "--max-time", "5", url + "/metrics"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("HTTP/1.0 200 OK"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(r.output.find("# TYPE relaygate_watch_deliveries_total counter"), std::string::npos);
    EXPECT_NE(
        r.output.find(
            "relaygate_watch_deliveries_total{family=\"microsoft\",transport=\"msft-out\",status=\"deferred\"} 3"),
        std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("relaygate_watch_active_transport{family=\"microsoft\",transport=\"msft-spare\"} 1"),
              std::string::npos);
    EXPECT_NE(r.output.find("zone=\"a\\\"b\""), std::string::npos);  // escaped label value
    const auto nf = harness::run_command({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url + "/other"});
    EXPECT_EQ(nf.output, "404");
    const auto post =
        harness::run_command({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url + "/metrics"});
    EXPECT_EQ(post.output, "405");
    (*s)->stop();
    EXPECT_NE(harness::run_command({"curl", "-sS", "--max-time", "2", url + "/metrics"}).exit_code, 0);
}

TEST(metrics_server, only_loopback_addresses) {
    metrics m;
    for (const char* bad : {"0.0.0.0:0", "192.0.2.1:0", "[::]:0", "localhost:0", "127.0.0.1", "127.0.0.1:99999"}) {
        EXPECT_FALSE(metrics_server::start(bad, m).has_value()) << bad;
    }
    auto v6 = metrics_server::start("[::1]:0", m);
    EXPECT_TRUE(v6.has_value()) << v6.error();
}

}  // namespace
}  // namespace relaygate::watch
