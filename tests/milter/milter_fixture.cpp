// milter_fixture.cpp: the relaygate-milter test process (see milter_fixture.hpp).
#include "milter_fixture.hpp"

#include <sstream>
#include <stdexcept>

#include "relaygate/harness/wait.hpp"

namespace relaygate::milter::testing {

using namespace std::chrono_literals;

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
      << "operator-domain = " << operator_domain << "\n"
      << "outbound-ip = 192.0.2.11\n"
      << "outbound-ip = 192.0.2.12\n"
      << "rejection-log = " << rejection_log().string() << "\n"
      << "operator-dkim-key = relay.example.net:op1:" << testdata << "keys/operator-op1.pem\n"
      << "log-sink = stderr\n"
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
    std::vector<std::string> argv{
        "miltertest", "-s", testdata + script, "-D", "SOCK=" + socket_spec(), "-D", "LIB=" + testdata + "session.lua"};
    for (const auto& v : vars) {
        argv.push_back("-D");
        argv.push_back(v);
    }
    return harness::run_command(argv, 60s);
}

}  // namespace relaygate::milter::testing
