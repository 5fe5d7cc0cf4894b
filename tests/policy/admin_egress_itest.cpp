// relaygate-admin egress show|set against the real daemon: a hand flip
// through the file or Redis back end moves steered lookups to the spare and
// back (switch-over and switch-back), and show reports what is active.
#include <gtest/gtest.h>

#include "policy_daemon.hpp"
#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::policy::testing {
namespace {

using namespace std::chrono_literals;

harness::command_result admin(std::vector<std::string> args) {
    std::vector<std::string> argv{std::string(RELAYGATE_BINARY_DIR) + "/admin/relaygate-admin", "--outbound-ip",
                                  "192.0.2.1", "egress"};
    argv.insert(argv.end(), args.begin(), args.end());
    return harness::run_command(argv, 10s);
}

bool steered_to(const policy_daemon& d, const std::string& reply) {
    return harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport Bob@Hotmail.com") == reply; }, 3s);
}

TEST(admin_egress, a_hand_flip_in_the_file_moves_steering_to_the_spare_and_back) {
    policy_daemon d;
    std::string file = (d.dir() / "egress.json").string();
    auto shown = admin({"show", "--egress-state-file", file});
    EXPECT_EQ(shown.exit_code, 0) << shown.output;
    EXPECT_NE(shown.output.find("every family uses its designated transport"), std::string::npos) << shown.output;

    auto set = admin({"set", "microsoft", "msft-spare", "--reason", "listed on S3140", "--egress-state-file", file});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    EXPECT_TRUE(steered_to(d, "OK msft-spare:"));
    shown = admin({"show", "--egress-state-file", file});
    EXPECT_NE(shown.output.find("microsoft   msft-spare"), std::string::npos) << shown.output;
    EXPECT_NE(shown.output.find("listed on S3140"), std::string::npos) << shown.output;

    ASSERT_EQ(admin({"set", "microsoft", "msft-out", "--egress-state-file", file}).exit_code, 0);
    EXPECT_TRUE(steered_to(d, "OK msft-out:"));
}

TEST(admin_egress, a_hand_flip_in_redis_reaches_the_daemon) {
    harness::redis_server redis;
    std::string where = "127.0.0.1:" + std::to_string(redis.port());
    policy_daemon d({.config = {"redis = " + where}});
    ASSERT_EQ(admin({"set", "microsoft", "msft-spare", "--redis", where}).exit_code, 0);
    EXPECT_TRUE(steered_to(d, "OK msft-spare:"));
    auto shown = admin({"show", "--json", "--redis", where});
    EXPECT_NE(shown.output.find("\"active_transport\": \"msft-spare\""), std::string::npos) << shown.output;
}

TEST(admin_egress, bad_input_and_unwritable_state_have_distinct_exit_codes) {
    EXPECT_EQ(admin({"set", "microsoft"}).exit_code, 2);
    EXPECT_EQ(admin({"set", "microsoft", "bad name"}).exit_code, 2);
    EXPECT_EQ(admin({"set", "microsoft", "msft-out", "--egress-state-file", "/nonexistent/dir/egress.json"}).exit_code,
              3);
}

}  // namespace
}  // namespace relaygate::policy::testing
