// dns_outage_fault.cpp: the DNS server stops in the middle of 2,000 messages
// of a verified domain and stays down for 30 s, while relaygate-watch
// re-verifies every 2 s (tick 1 s) with a 300 ms DNS timeout and the zone's
// TTL is 1 s: every cached answer has expired many times over, so each pass
// in the outage meets a dead server (compressed from the 2 minutes:
// what matters is that caches are empty, not the wall time). Proves: the
// domain stays verified, its mail keeps flowing and every message is signed
// (d=good.rv.test); the temporary failures are logged and counted; nothing
// lost or duplicated. Postfix itself needs no DNS here (relayhost by IP).
#include <gtest/gtest.h>

#include <thread>

#include "fault_fixture.hpp"
#include "milter_fixture.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "relaygate/registry/state_store.hpp"
#include "reverify_zone.hpp"

namespace relaygate::fault {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;
namespace zone = relaygate::watch::testing_zone;

double metric(const std::string& text, const std::string& series) {
    const auto p = text.find("\n" + series + " ");  // a sample line, not its # HELP line
    return p == std::string::npos ? 0 : std::stod(text.substr(p + series.size() + 2));
}

class dns_fault : public netns_test {};

TEST_F(dns_fault, a_dns_outage_keeps_verified_domains_flowing_and_signed) {
    temp_dir dir("fault-dns");
    const std::vector<std::string> ips{"192.0.2.10", "192.0.2.11"};
    auto dns = std::make_unique<dns_server>(std::vector<std::string>{}, 53,
                                            zone::zone_lines("rv.test", {"good.rv.test"}, ips));
    smtp_sink sink;
    const auto milter_socket = dir / "milter.sock";
    postfix_instance postfix(postfix_options{
        .dir = dir / "pf",
        .relayhost = sink.nexthop(),
        .main_cf = {"smtpd_milters = unix:" + milter_socket.string(), "milter_default_action = tempfail"}});
    write_file(dir / "domains.conf", zone::admin_lines({"good.rv.test"}));
    const std::string registry_keys = "admin-file = " + (dir / "domains.conf").string() +
                                      "\nstate-file = " + (dir / "state.json").string() +
                                      "\noutbound-ip = 192.0.2.10, 192.0.2.11\noperator-domain = relay.example.net\n";
    write_file(dir / "milter.conf", registry_keys + "socket = unix:" + milter_socket.string() +
                                        "\nsocket-mode = 0666\nrejection-log = " + (dir / "rejections.log").string() +
                                        "\nlog-sink = stderr\n");
    const auto metrics_port = free_port();
    write_file(dir / "relaygate.conf",
               registry_keys + "dns-timeout-ms = 300\nreverify-interval = 2\ngrace-period = 3600\n[watch]\nmaillog = " +
                   postfix.maillog_path().string() + "\nstate-dir = " + (dir / "watch").string() +
                   "\negress-state-file = " + (dir / "egress.json").string() + "\nalert-hook = cat >> " +
                   (dir / "hook.jsonl").string() + "\nmetrics-listen = 127.0.0.1:" + std::to_string(metrics_port) +
                   "\nlog-sink = stderr\nreverify-tick = 1\n");
    child_process watch(
        {.argv = {binary_dir + "/watch/relaygate-watch", "--config=" + (dir / "relaygate.conf").string()},
         .stderr_path = dir / "watch.err"});
    auto verified = [&] {
        auto s = registry::read_state_file((dir / "state.json").string());
        return s && s->count("good.rv.test") && s->at("good.rv.test").state == registry::verification_state::verified;
    };
    ASSERT_TRUE(wait_until(verified, 30s)) << read_file(dir / "watch.err");
    child_process milter({.argv = {milter::testing::milter_binary, "--config", (dir / "milter.conf").string()},
                          .stderr_path = dir / "milter.err"});
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(milter_socket); }, 10s))
        << read_file(dir / "milter.err");

    fault_sender sender({.port = postfix.smtp_port(), .prefix = "dns", .header_from = "news@good.rv.test"}, dir.path());
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= 300; }, 60s)) << "no traffic reached the sink";
    dns->stop();
    const auto arrived_at_stop = files_in(sink.dir());
    std::this_thread::sleep_for(30s);  // the outage (its length, not an assertion)
    const auto arrived_in_outage = files_in(sink.dir()) - arrived_at_stop;
    EXPECT_TRUE(verified()) << "a DNS outage must not demote a verified domain";
    const auto metrics = run_command(
        {"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
    dns = std::make_unique<dns_server>(std::vector<std::string>{}, 53,
                                       zone::zone_lines("rv.test", {"good.rv.test"}, ips));

    const auto sent = sender.wait();
    ASSERT_TRUE(postfix.wait_queue_empty(120s)) << postfix.queue_listing();
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= static_cast<std::size_t>(sent.accepted); }, 30s));
    const auto got = read_smtp_sink(sink.dir());
    const auto t = count(sent, got);
    report("dns_outage_30s", sent, t);
    std::cout << "fault dns_outage_30s: delivered_during_outage=" << arrived_in_outage << std::endl;
    EXPECT_EQ(sent.accepted, 2000) << sent.output;
    EXPECT_EQ(t.delivered, 2000);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.duplicated, 0);
    EXPECT_GT(arrived_in_outage, 0u) << "mail stopped during the outage";
    int unsigned_messages = 0;
    for (const auto& m : read_sink_dir(sink.dir(), 0)) {
        const auto sig = m.header("DKIM-Signature");
        unsigned_messages += sig && sig->find("d=good.rv.test") != std::string::npos ? 0 : 1;
    }
    EXPECT_EQ(unsigned_messages, 0);
    EXPECT_GT(metric(metrics.output, "relaygate_watch_reverify_temporary_total"), 0) << metrics.output;
    EXPECT_NE(read_file(dir / "watch.err").find("registry_temporary_failure domain=good.rv.test"), std::string::npos);
    EXPECT_TRUE(verified());
}

}  // namespace
}  // namespace relaygate::fault
