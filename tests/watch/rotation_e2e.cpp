// rotation_e2e.cpp: a DKIM key rotation end to end through a real Postfix in a
// private network namespace, driven only by relaygate-watch's schedule: a
// domain verified with selector s1 -> `relaygate-admin rotate` writes a new
// key and prints the record and the admin-file line -> the line is put in
// place, the record NOT yet published: s2 is checked, fails, and mail stays
// signed with s1 -> the record is published in the DNS fixture -> s2 verifies
// and the milter switches to s2. Every delivered message is checked with an
// independent verifier (dkimpy's dkimverify, against the fixture's DNS), and
// after rotation-overlap `status` and `records` call s1 removable.
// Compressed clock: tick 1 s, interval 2 s, overlap 3 s.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <ctime>
#include <sstream>

#include "milter_fixture.hpp"
#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "relaygate/registry/state_store.hpp"
#include "reverify_zone.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

const std::string bin = RELAYGATE_BINARY_DIR;
const std::string domain = "rot.rv.test";

// A TXT value as unbound local-data strings of at most 255 bytes.
std::string txt_strings(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); i += 255)
        out += (out.empty() ? "\"" : " \"") + value.substr(i, 255) + '"';
    return out;
}

// The line after the first line of text that starts with prefix ("" when none).
std::string line_after(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l.starts_with(prefix)) {
            std::getline(in, l);
            return l;
        }
    }
    return "";
}

class rotation_e2e : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }

    temp_dir dir{"rotation-e2e"};
    std::unique_ptr<dns_server> dns;
    std::uint16_t metrics_port = free_port();

    // The zone: s1 (the test RSA key), SPF for both outbound IPs, and s2 once its record is given.
    void serve(const std::string& s2_record) {
        if (dns) dns->stop();
        dns.reset();
        auto lines = testing_zone::zone_lines("rv.test", {domain}, {"192.0.2.10", "192.0.2.11"});
        if (!s2_record.empty()) {
            lines.push_back("local-data: 's2._domainkey." + domain + ". 1 IN TXT " + txt_strings(s2_record) + "'");
        }
        dns = std::make_unique<dns_server>(std::vector<std::string>{}, 53, lines);
    }
    registry::verification_status state() {
        auto s = registry::read_state_file((dir / "state.json").string());
        return s && s->count(domain) ? s->at(domain) : registry::verification_status{};
    }
    std::string outcome_of(const std::string& selector) {
        for (const auto& r : state().selectors) {
            if (r.selector == selector) return r.outcome;
        }
        return "";
    }
    command_result admin(std::vector<std::string> args) {
        args.insert(args.begin(), {bin + "/admin/relaygate-admin", "--config", (dir / "relaygate.conf").string()});
        return run_command(args, 60s);
    }
    // dkimpy's verdict on a delivered dump, with the keys the fixture publishes right now.
    std::string dkimverify(const sink_message& m) {
        std::string crlf;
        for (char c : read_file(m.file)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        const auto path = dir / (m.file.filename().string() + ".eml");
        write_file(path, crlf);
        return run_command({"/bin/sh", "-c", "/usr/bin/dkimverify < '" + path.string() + "'"}, 30s).output;
    }
    // The alert-hook line of event (one JSON object per line), "" when not called.
    std::string hook(const std::string& event) {
        std::istringstream in(read_file(dir / "hook.jsonl"));
        for (std::string l; std::getline(in, l);) {
            if (l.find("\"event\":\"" + event + "\"") != std::string::npos) return l;
        }
        return "";
    }
    std::string logs() {
        return "--- watch:\n" + read_file(dir / "watch.err") + "--- milter:\n" + read_file(dir / "milter.err");
    }
};

TEST_F(rotation_e2e, signs_with_the_old_selector_until_the_new_one_is_published_and_verified_then_switches) {
    serve("");
    smtp_sink sink;
    const auto milter_socket = dir / "milter.sock";
    postfix_instance postfix(postfix_options{.dir = dir / "pf",
                                             .relayhost = sink.nexthop(),
                                             .main_cf = {"smtpd_milters = unix:" + milter_socket.string(),
                                                         "milter_default_action = tempfail", "milter_protocol = 6"}});
    write_file(dir / "domains.conf", testing_zone::admin_lines({domain}));
    const std::string registry_keys =
        "admin-file = " + (dir / "domains.conf").string() + "\nstate-file = " + (dir / "state.json").string() +
        "\noutbound-ip = 192.0.2.10, 192.0.2.11\noperator-domain = relay.example.net\n" + "rotation-overlap = 3\n";
    write_file(dir / "milter.conf", registry_keys + "socket = unix:" + milter_socket.string() +
                                        "\nsocket-mode = 0666\nrejection-log = " + (dir / "rejections.log").string() +
                                        "\nlog-sink = stderr\n");
    write_file(dir / "relaygate.conf",
               registry_keys + "dns-timeout-ms = 300\nreverify-interval = 2\ngrace-period = 60\n[watch]\nmaillog = " +
                   postfix.maillog_path().string() + "\nstate-dir = " + (dir / "watch").string() +
                   "\negress-state-file = " + (dir / "egress.json").string() + "\nalert-hook = cat >> " +
                   (dir / "hook.jsonl").string() + "\nmetrics-listen = 127.0.0.1:" + std::to_string(metrics_port) +
                   "\nlog-sink = stderr\nreverify-tick = 1\n");
    child_process milter({.argv = {milter::testing::milter_binary, "--config", (dir / "milter.conf").string()},
                          .stderr_path = dir / "milter.err"});
    child_process watch({.argv = {bin + "/watch/relaygate-watch", "--config=" + (dir / "relaygate.conf").string()},
                         .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", metrics_port); }, 10s)) << logs();

    std::size_t sent = 0;
    // Sends one message and returns its delivered copy's selector (s=), after dkimpy verified it.
    auto send_and_verify = [&]() -> std::string {
        auto r =
            swaks_send({.port = postfix.smtp_port(),
                        .from = "bounce@relay.example.net",
                        .to = {"alice@example.net"},
                        .headers = {"From: News <news@" + domain + ">", "Subject: rotation " + std::to_string(sent)},
                        .body = "rotation e2e"});
        if (!r.data_reply().value_or("").starts_with("250 ")) return "not accepted: " + r.transcript;
        ++sent;
        if (!sink.wait_for_messages(sent, 30s)) return "not delivered";
        const auto m = sink.messages().back();
        const auto sig = m.header("DKIM-Signature");
        if (!sig) return "unsigned";
        const auto verdict = dkimverify(m);
        EXPECT_NE(verdict.find("signature ok"), std::string::npos) << verdict << "\n" << *sig;
        for (const char* s : {"s1", "s2"}) {
            if (sig->find(std::string("s=") + s + ";") != std::string::npos) return s;
        }
        return "other selector: " + *sig;
    };

    // 1. Verified with s1 by the schedule; mail is signed with s1.
    ASSERT_TRUE(wait_until([&] { return state().state == registry::verification_state::verified; }, 30s)) << logs();
    std::string selector;
    ASSERT_TRUE(wait_until([&] { return (selector = send_and_verify()) == "s1"; }, 30s, 500ms)) << selector << "\n"
                                                                                                << logs();

    // 2. rotate: a new key (0600), the record to publish and the line to put in the admin file.
    const auto key_file = dir / "rot.rv.test.s2.pem";
    const auto rotated = admin({"rotate", domain, "--selector", "s2", "--key-file", key_file.string()});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
    struct stat st {};
    ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    const auto value_line = line_after(rotated.output, "   Name:  s2._domainkey." + domain);
    ASSERT_TRUE(value_line.starts_with("   Value: v=DKIM1; k=rsa; p=")) << rotated.output;
    const std::string s2_record = value_line.substr(std::string("   Value: ").size());
    const auto new_line = line_after(rotated.output, "2. Replace the line of " + domain);
    ASSERT_TRUE(new_line.starts_with(domain + " selector=s1 key=")) << rotated.output;
    EXPECT_NE(new_line.find(" selector=s2 key=" + key_file.string()), std::string::npos) << new_line;

    // 3. The line in place, the record not yet published: s2 fails its check, s1 keeps signing.
    write_file(dir / "domains.conf", new_line + "\n");
    ASSERT_TRUE(wait_until([&] { return outcome_of("s2") == "no_record"; }, 30s)) << logs();
    EXPECT_EQ(state().signing_selector, "s1");
    EXPECT_EQ(state().state, registry::verification_state::verified);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(send_and_verify(), "s1") << logs();

    // 4. Published: s2 verifies, the milter switches. Every message meanwhile verifies with s1 or s2.
    const auto published_at = static_cast<std::int64_t>(std::time(nullptr));
    serve(s2_record);
    std::vector<std::string> seen;
    ASSERT_TRUE(wait_until(
        [&] {
            seen.push_back(send_and_verify());
            return seen.back() == "s2";
        },
        40s, 300ms))
        << ::testing::PrintToString(seen) << "\n"
        << logs();
    for (const auto& s : seen) EXPECT_TRUE(s == "s1" || s == "s2") << s;
    const auto after = state();
    EXPECT_EQ(after.signing_selector, "s2");
    EXPECT_GE(after.signing_since, published_at) << "switched before the new key was published";
    EXPECT_EQ(outcome_of("s1"), "match");
    EXPECT_EQ(outcome_of("s2"), "match");
    EXPECT_NE(read_file(dir / "watch.err").find("registry_dkim_selector_switched domain=" + domain + " from=s1 to=s2"),
              std::string::npos)
        << logs();
    for (int i = 0; i < 2; ++i) EXPECT_EQ(send_and_verify(), "s2") << logs();
    ASSERT_TRUE(wait_until(
        [&] { return hook("dkim_selector_switched").find("\"from_selector\":\"s1\"") != std::string::npos; }, 10s))
        << read_file(dir / "hook.jsonl");

    // 5. After rotation-overlap (3 s), status and records say s1 may go.
    command_result status;
    ASSERT_TRUE(wait_until(
        [&] {
            status = admin({"status", domain});
            return status.output.find("s1=match (removable:") != std::string::npos;
        },
        20s, 500ms))
        << status.output;
    EXPECT_NE(status.output.find("s2=match (signing since"), std::string::npos) << status.output;
    const auto records = admin({"records", domain});
    EXPECT_EQ(records.exit_code, 0) << records.output;
    EXPECT_NE(records.output.find("DKIM selector s1 (REMOVABLE"), std::string::npos) << records.output;
    // The watch told the operator too (log line + alert hook), once.
    ASSERT_TRUE(wait_until(
        [&] { return hook("dkim_selector_removable").find("\"removable\":\"s1\"") != std::string::npos; }, 20s))
        << read_file(dir / "hook.jsonl");
    EXPECT_NE(read_file(dir / "watch.err").find("event=dkim_selector_removable domain=" + domain), std::string::npos);

    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(20s), 0) << logs();
}

}  // namespace
}  // namespace relaygate::watch
