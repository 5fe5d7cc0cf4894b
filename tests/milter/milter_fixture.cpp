// milter_fixture.cpp: the relaygate-milter test process (see milter_fixture.hpp).
#include "milter_fixture.hpp"

#include <sstream>
#include <stdexcept>

#include "relaygate/harness/wait.hpp"

namespace relaygate::milter::testing {

using namespace std::chrono_literals;

registry::state_map standard_states() {
    registry::state_map s;
    using registry::verification_state;
    for (auto d : {"verified.example", "ed.example", "sasl.example", "net.example"})
        s[d].state = verification_state::verified;
    s["failed.example"] = {.state = verification_state::failed,
                           .reason_code = "dkim_no_record",
                           .reason_text = "no DKIM key at s1._domainkey.failed.example"};
    s["spf.example"] = {.state = verification_state::failed,
                        .reason_code = "spf_fail",
                        .reason_text = "SPF of spf.example does not authorize 192.0.2.12"};
    s["tempfail.example"] = {.state = verification_state::failed,
                             .temporary_failure = true,
                             .reason_code = "dkim_temporary",
                             .reason_text = "DNS timeout for s1._domainkey.tempfail.example"};
    return s;  // pending.example: never checked
}

std::string admin_file_text() {
    const std::string k = testdata + "keys/";
    std::ostringstream a;
    a << "# relaygate-milter test registry\n"
      << "verified.example selector=s1 key=" << k << "rsa-s1.pem owner=test\n"
      << "ed.example selector=s2 key=" << k << "ed-s2.pem owner=test\n"
      << "pending.example selector=s1 key=" << k << "rsa-s1.pem owner=test\n"
      << "failed.example selector=s1 key=" << k << "rsa-s1.pem owner=test\n"
      << "spf.example selector=s1 key=" << k << "rsa-s1.pem owner=test\n"
      << "tempfail.example selector=s1 key=" << k << "rsa-s1.pem owner=test\n"
      << "sasl.example selector=s1 key=" << k << "rsa-s1.pem owner=test sasl=alice,carol\n"
      << "net.example selector=s1 key=" << k << "rsa-s1.pem owner=test networks=198.51.100.0/24\n";
    return a.str();
}

milter_process::milter_process(std::vector<std::string> extra_args, const std::string& tag)
    : dir_(tag), extra_args_(std::move(extra_args)) {
    harness::write_file(dir_ / "domains.conf", admin_file_text());
    auto ok = registry::write_state_file(state_file().string(), standard_states());
    if (!ok) throw std::runtime_error(ok.error());
    std::ostringstream c;
    c << "# relaygate-milter test config\n"
      << "socket = " << socket_spec() << "\n"
      << "admin-file = " << (dir_ / "domains.conf").string() << "\n"
      << "state-file = " << state_file().string() << "\n"
      << "operator-domain = relay.example.net\n"
      << "outbound-ip = 192.0.2.11\n"
      << "outbound-ip = 192.0.2.12\n"
      << "rejection-log = " << rejection_log().string() << "\n"
      << "operator-dkim-key = relay.example.net:op1:" << testdata << "keys/operator-op1.pem\n"
      << "log = stderr\n"
      << "log-level = debug\n";
    harness::write_file(dir_ / "milter.conf", c.str());
    start();
}

milter_process::~milter_process() { process_.stop(); }

void milter_process::start() {
    process_.stop();
    std::vector<std::string> argv{milter_binary, "--config", (dir_ / "milter.conf").string()};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    const auto before = log().size();
    process_ = harness::child_process({.argv = argv, .stdout_path = log_file(), .stderr_path = log_file()});
    bool up = harness::wait_until(
        [&] { return log().find("- started", before) != std::string::npos || !process_.running(); }, 10s);
    if (!up || !process_.running()) throw std::runtime_error("relaygate-milter did not start:\n" + log());
}

std::string milter_process::log() const { return harness::read_file(log_file()); }

std::vector<std::string> milter_process::rejection_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(harness::read_file(rejection_log()));
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

harness::command_result milter_process::miltertest(const std::string& script,
                                                   const std::vector<std::string>& vars) const {
    std::vector<std::string> argv{"miltertest", "-s", testdata + script, "-D", "SOCK=" + socket_spec()};
    for (const auto& v : vars) {
        argv.push_back("-D");
        argv.push_back(v);
    }
    return harness::run_command(argv, 60s);
}

}  // namespace relaygate::milter::testing
