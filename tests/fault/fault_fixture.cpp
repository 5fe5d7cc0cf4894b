// fault_fixture.cpp: see fault_fixture.hpp.
#include "fault_fixture.hpp"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::fault {

fault_sender::fault_sender(const sender_options& o, const std::filesystem::path& dir) : dir_(dir) {
    std::vector<std::string> argv{"python3",
                                  source_dir + "/tests/fault/fault_sender.py",
                                  std::to_string(o.port),
                                  std::to_string(o.messages),
                                  std::to_string(o.threads),
                                  std::to_string(o.deadline.count()),
                                  o.prefix,
                                  (dir / "accepted.txt").string(),
                                  o.header_from};
    argv.insert(argv.end(), o.recipients.begin(), o.recipients.end());
    process_ =
        harness::child_process({.argv = argv, .stdout_path = dir / "sender.out", .stderr_path = dir / "sender.out"});
}

sender_result fault_sender::wait() {
    sender_result r;
    process_.wait_for_exit(std::chrono::minutes(5));
    process_.stop();
    r.output = harness::read_file(dir_ / "sender.out");
    const auto line = r.output.substr(r.output.rfind('{') == std::string::npos ? 0 : r.output.rfind('{'));
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) {
        r.sent = j.value("sent", 0);
        r.accepted = j.value("accepted", 0);
        r.rejected = j.value("rejected", 0);
        r.unsent = j.value("unsent", 0);
        r.retries = j.value("retries", 0);
    }
    std::ifstream in(dir_ / "accepted.txt");
    for (std::string l; std::getline(in, l);) r.accepted_ids.push_back(l);
    return r;
}

std::size_t files_in(const std::filesystem::path& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
    return n;
}

arrivals read_smtp_sink(const std::filesystem::path& dump_dir) {
    arrivals a;
    for (const auto& m : harness::read_sink_dir(dump_dir, 0)) a.add(m.header("Message-ID").value_or(""), m.client_addr);
    return a;
}

tally count(const sender_result& sent, const arrivals& got) {
    tally t{.sent = sent.sent, .accepted = sent.accepted};
    for (const auto& [id, n] : got.count) t.duplicated += n - 1;
    for (const auto& id : sent.accepted_ids) {
        if (got.count.count(id)) {
            ++t.delivered;
        } else {
            ++t.lost;
        }
    }
    return t;
}

std::string report(const std::string& name, const sender_result& sent, const tally& t) {
    std::ostringstream line;
    line << "fault " << name << ": sent=" << t.sent << " accepted=" << t.accepted << " delivered=" << t.delivered
         << " duplicated=" << t.duplicated << " lost=" << t.lost << " rejected=" << sent.rejected
         << " client_retries=" << sent.retries;
    std::cout << line.str() << std::endl;
    return line.str();
}

}  // namespace relaygate::fault
