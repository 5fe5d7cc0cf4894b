// demo_e2e.cpp: runs scripts/demo exactly as README.md tells a user (as root,
// `scripts/demo` in the checkout) once for the whole suite, then checks its exit
// code and the key lines each scenario prints (scripts/demo.d/*.sh). Runs in
// the host namespace, not in in-netns: the demo makes one namespace per
// scenario itself, and a nested in-netns breaks it (tests/demo/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {
namespace {

using namespace std::chrono_literals;

class Demo : public testing::Test {
protected:
    static void SetUpTestSuite() {
        temp_dir log_dir("demo-e2e");
        const auto log = log_dir / "demo.out";
        child_process demo({.argv = {"scripts/demo"},
                            .stdout_path = log,
                            .stderr_path = log,
                            .working_directory = RELAYGATE_SOURCE_DIR});
        auto status = demo.wait_for_exit(900s);
        if (!status) demo.stop();
        exit_code_ = status.value_or(-1);
        output_ = read_file(log);
        // The demo leaves its scratch dir for the user to look at; the test does not.
        std::smatch work;
        if (std::regex_search(output_, work, std::regex("/tmp/relaygate-demo\\.[A-Za-z0-9]+")) &&
            std::getenv("RELAYGATE_KEEP_TMP") == nullptr) {
            std::filesystem::remove_all(work.str());
        }
    }

    // The lines of one message's report: from "[label]" up to the next report or blank line.
    static std::string report(const std::string& label) {
        auto from = output_.find("  [" + label + "]");
        if (from == std::string::npos) return "";
        auto end = output_.find("\n  [", from + 1);
        end = std::min(end, output_.find("\n\n", from));
        return output_.substr(from, end == std::string::npos ? std::string::npos : end - from);
    }

    // On failure, names the regex and shows the text searched: a report, or the
    // whole output (once per run, it is long).
    static testing::AssertionResult shows(const std::string& regex, const std::string& text = output_) {
        if (std::regex_search(text, std::regex(regex))) return testing::AssertionSuccess();
        auto failure = testing::AssertionFailure() << "no line matching /" << regex << "/ in ";
        if (&text != &output_) return failure << "this report:\n" << text;
        if (std::exchange(output_shown_, true)) return failure << "the demo's output (shown above)";
        return failure << "the demo's output:\n" << output_;
    }

    // One row per line the demo must print: in the report of message `label`
    // (see report()), or anywhere when the label is empty.
    struct expected_line {
        std::string label, regex;
    };
    static void expect_lines(const std::vector<expected_line>& lines) {
        for (const auto& l : lines) {
            if (l.label.empty()) {
                EXPECT_TRUE(shows(l.regex));
            } else {
                EXPECT_TRUE(shows(l.regex, report(l.label))) << "(the report of [" << l.label << "])";
            }
        }
    }

    static inline int exit_code_ = -1;
    static inline std::string output_;
    static inline bool output_shown_ = false;
};

TEST_F(Demo, ExitsZeroAndLeavesNothingBehind) {
    EXPECT_EQ(exit_code_, 0) << (std::exchange(output_shown_, true) ? "" : output_);
    EXPECT_TRUE(shows("\ndemo: done \\(scratch files in /tmp/relaygate-demo\\."));
    const auto leak = output_.find("in-netns: killed");  // a scenario left processes running
    EXPECT_EQ(leak, std::string::npos) << output_.substr(leak, output_.find('\n', leak) - leak);
}

TEST_F(Demo, BaselineRelaysSteersAndBounces) {
    expect_lines({
        {"1 ordinary", "delivery <alice@gmail\\.test>: sent via 127\\.0\\.0\\.1"},
        {"2 microsoft", "delivery <bob@outlook\\.test>: sent via 127\\.0\\.0\\.2"},
        {"3 refused", "delivery <dave@refusing\\.test>: bounced via 127\\.0\\.0\\.3.*blocked using zen\\.example"},
    });
}

TEST_F(Demo, MilterAcceptsOperatorAndVerifiedFromsAndRejectsTheOthers) {
    expect_lines({
        {"a: operator From", "DATA: 250 2\\.0\\.0 Ok: queued as"},
        {"a: operator From", "delivery <alice@example\\.net>: sent"},
        {"b: verified customer From", "DATA: 250 2\\.0\\.0 Ok: queued as"},
        {"b: verified customer From", "delivery <alice@example\\.net>: sent"},
        {"", "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=verified\\.example;"},
        {"", "accept reason=ok from_domains=verified\\.example .* dkim=signed"},
        {"c: unregistered From", "DATA: 550 5\\.7\\.1 From domain unknown\\.example is not registered(\n|$)"},
        {"d: SPF misses an outbound IP",
         "DATA: 550 5\\.7\\.1 From domain spf\\.example is not verified: SPF of spf\\.example does not authorize "
         "192\\.0\\.2\\.12(\n|$)"},
        {"", "\"queue_id\":\"[0-9A-F]+\",\"action\":\"reject\".*\"reason_code\":\"not_registered\""},
        {"", "\"queue_id\":\"[0-9A-F]+\",\"action\":\"reject\".*\"reason_code\":\"spf_fail\""},
    });
}

TEST_F(Demo, PolicySplitsOneMessageByRecipientFollowsTheFlipAndDefersOverQuota) {
    expect_lines({
        {"", "sink plain from 127\\.0\\.0\\.1 +to alice@gmail\\.test\n"},
        {"", "sink msft  from 127\\.0\\.0\\.2 +to [^\n]*Bob@Hotmail\\.com"},
        {"", "sink msft  from 127\\.0\\.0\\.2 +to [^\n]*carol@tenant\\.test"},
        {"",
         "policy: socketmap key=carol@tenant\\.test domain=tenant\\.test reply=\"OK msft-out:\\[127\\.0\\.0\\.1\\]:"
         "[0-9]+\" reason=mx_microsoft"},
        {"", "admin: microsoft +msft-spare +[0-9T:-]+Z +demo: designated IP listed"},
        {"", "sink msft  from 127\\.0\\.0\\.3 +to dave@outlook\\.jp"},
        {"",
         "client got: 450 4\\.7\\.1 <d@gmail\\.test>: Recipient address rejected: Sender domain bulk\\.test is "
         "over its limit of 3 recipients per 4 s"},
        {"", "policy log: [0-9A-F]+ policy action=defer_rate .*sender=flood@bulk\\.test"},
    });
}

TEST_F(Demo, WatchDetectsTheBlocklistingFlipsRequeuesAndSwitchesBack) {
    expect_lines({
        {"", "msft-out/smtp\\[[0-9]+\\]: [0-9A-F]+: to=<reader@outlook\\.test>.*status=deferred"},
        {"", "\\.\\.\\. 20 deferred, 0 bounced"},
        {"", "alert family=microsoft transport=msft-out sender_domain=\\(all\\) .*class=ip_blocklisted"},
        // The DNSBL sweep runs beside the log monitor: its verdict is logged before or
        // after the alert, but the metric shows it once the requeued mail is out.
        {"",
         "dnsbl ip=127\\.0\\.0\\.2 verdict=listed|relaygate_watch_ip_listed\\{ip=\"127\\.0\\.0\\.2\","
         "zone=\"zen\\.dnsbl\\.test\"\\} 1"},
        {"", "flip family=microsoft from=msft-out to=msft-spare"},
        {"", "requeue family=microsoft queue_ids=20 exit=0"},
        {"", "hook got: \\{.*\"type\":\"alert\""},
        {"", "delivered by source IP: \\{'127\\.0\\.0\\.3': 20\\}"},
        {"", "relaygate_watch_requeued_total\\{family=\"microsoft\"\\} 20"},
        {"", "flip family=microsoft from=msft-spare to=msft-out"},
        {"", "delivered by source IP: \\{'127\\.0\\.0\\.3': 20, '127\\.0\\.0\\.2': 3\\}"},
        {"", "failure ledger \\(what must be resent\\): 0 rows"},
    });
}

}  // namespace
}  // namespace relaygate::harness
