// Golden request -> reply files (tests/testdata/policy/) through the real
// relaygate-policy over loopback TCP: each NAME.{policy,socketmap}.in is sent
// on one connection which is then half-closed; the daemon must answer exactly
// NAME.*.out and close (malformed input: no reply, close at once).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy_daemon.hpp"

namespace relaygate::policy::testing {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(RELAYGATE_SOURCE_DIR) / "tests/testdata/policy"; }

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> golden_names() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(golden_dir())) {
        std::string n = e.path().filename().string();
        if (n.ends_with(".in")) names.push_back(n.substr(0, n.size() - 3));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> golden_config() {
    std::vector<std::string> lines;
    std::istringstream in(slurp(golden_dir() / "golden.conf"));
    for (std::string l; std::getline(in, l);)
        if (!l.empty() && l[0] != '#') lines.push_back(l);
    return lines;
}

class golden : public ::testing::TestWithParam<std::string> {};

TEST_P(golden, the_daemon_answers_exactly_the_expected_bytes_then_closes) {
    const std::string& name = GetParam();
    ASSERT_FALSE(golden_config().empty());
    policy_daemon daemon({.config = golden_config()});
    bool socketmap = name.ends_with(".socketmap");
    client c(socketmap ? daemon.socketmap_port() : daemon.policy_port());
    c.send(slurp(golden_dir() / (name + ".in")));
    c.shutdown_write();
    std::string got;
    EXPECT_TRUE(c.wait_closed(&got)) << "the daemon did not close the connection";
    EXPECT_EQ(got, slurp(golden_dir() / (name + ".out")));
}

INSTANTIATE_TEST_SUITE_P(files, golden, ::testing::ValuesIn(golden_names()), [](const auto& info) {
    std::string n = info.param;
    for (auto& ch : n)
        if (ch == '.') ch = '_';
    return n;
});

}  // namespace
}  // namespace relaygate::policy::testing
