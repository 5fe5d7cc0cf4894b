// config_programs_itest: the four real programs read one bad shared config
// file and refuse it with the same message, "FILE:LINE: key 'KEY': ...",
// byte for byte (they share the registry's one config reader): an unknown
// key, a bad value of a shared key, a key given twice, and a key of an
// unknown section; a file of the shared keys plus every program's section is
// accepted by each of them as far as the config goes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;

struct program {
    const char* name;
    std::vector<std::string> tail;  // arguments after --config FILE
};
const std::vector<program> programs = {{"milter/relaygate-milter", {}},
                                       {"policy/relaygate-policy", {}},
                                       {"watch/relaygate-watch", {}},
                                       {"admin/relaygate-admin", {"lint"}}};

std::string run(const program& p, const std::string& config) {
    std::vector<std::string> argv{std::string(RELAYGATE_BINARY_DIR) + "/" + p.name, "--config", config};
    argv.insert(argv.end(), p.tail.begin(), p.tail.end());
    auto r = harness::run_command(argv, 30s);
    EXPECT_EQ(r.exit_code, 2) << p.name << ": " << r.output;
    return r.output;
}

struct bad_file {
    const char* name;
    std::string text;
    std::string message;  // after "<file>:"
};
void PrintTo(const bad_file& c, std::ostream* os) { *os << c.name; }
class every_program_refuses : public testing::TestWithParam<bad_file> {};

TEST_P(every_program_refuses, with_the_same_message) {
    harness::temp_dir dir("config-programs");
    const auto file = (dir / "relaygate.conf").string();
    harness::write_file(file, GetParam().text);
    const std::string expected = file + ":" + GetParam().message;
    for (const auto& p : programs) {
        const auto out = run(p, file);
        EXPECT_NE(out.find(expected), std::string::npos) << p.name << " said: " << out << "\nwanted: " << expected;
    }
}

INSTANTIATE_TEST_SUITE_P(
    config_programs, every_program_refuses,
    testing::Values(bad_file{"unknown_key", "outbound-ip = 192.0.2.1\n# c\ngrace-priod = 1d\n",
                             "3: key 'grace-priod': unknown key"},
                    bad_file{"bad_shared_value", "outbound-ip = 192.0.2.1\n[registry]\ndns-timeout-ms = 0\n",
                             "3: key 'dns-timeout-ms': the argument ('0 (a number from 1 to 60000)') for option "
                             "'dns-timeout-ms' is invalid"},
                    bad_file{"key_given_twice", "state-file = /a.json\noutbound-ip = 192.0.2.1\nstate-file = /b.json\n",
                             "3: key 'state-file': given twice (first at line 1)"},
                    bad_file{"key_of_an_unknown_section", "outbound-ip = 192.0.2.1\n[mitler]\nmode = tag\n",
                             "3: key 'mitler.mode': unknown key"},
                    bad_file{"bad_section_header", "outbound-ip = 192.0.2.1\n[milter\n",
                             "2: bad section header '[milter'"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace relaygate::registry
