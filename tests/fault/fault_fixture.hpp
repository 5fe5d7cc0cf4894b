// fault_fixture.hpp: what every fault test shares (tests/fault, label `fault`,
// docs/faults.md): the client that sends N messages with their own Message-IDs
// and retries 4xx replies (fault_sender.py), and the tally of what the sinks
// got, by Message-ID: sent / accepted / delivered / duplicated / lost, printed
// as one line per test.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"

namespace relaygate::fault {

inline const std::string source_dir = RELAYGATE_SOURCE_DIR;
inline const std::string binary_dir = RELAYGATE_BINARY_DIR;

struct sender_options {
    std::uint16_t port = 0;
    int messages = 2000;
    int threads = 8;
    std::chrono::seconds deadline{90};  // the sender stops retrying after this
    std::string prefix = "fault";
    std::string header_from = "news@verified.example";
    std::vector<std::string> recipients = {"bob@gmail.test"};
};

struct sender_result {
    int sent = 0, accepted = 0, rejected = 0, unsent = 0, retries = 0;
    std::vector<std::string> accepted_ids;
    std::string output;  // the script's own output, for failure messages
};

// fault_sender.py in the background; wait() collects its result.
class fault_sender {
public:
    fault_sender(const sender_options& options, const std::filesystem::path& dir);
    sender_result wait();

private:
    std::filesystem::path dir_;
    harness::child_process process_;
};

// Messages a sink received, as Message-ID -> how many times (and the source IPs).
struct arrivals {
    std::map<std::string, int> count;
    std::map<std::string, std::vector<std::string>> clients;  // by Message-ID
    void add(const std::string& message_id, const std::string& client) {
        ++count[message_id];
        clients[message_id].push_back(client);
    }
};
// Files in a sink's dump folder (cheap progress check; read_smtp_sink parses them).
std::size_t files_in(const std::filesystem::path& dir);
arrivals read_smtp_sink(const std::filesystem::path& dump_dir);

struct tally {
    int sent = 0, accepted = 0, delivered = 0, duplicated = 0, lost = 0;
};
// delivered: accepted Message-IDs seen at least once; duplicated: extra copies
// of any Message-ID; lost: accepted but never seen.
tally count(const sender_result& sent, const arrivals& got);
// "fault <name>: sent=2000 accepted=2000 delivered=2000 duplicated=0 lost=0 retries=N", printed and returned.
std::string report(const std::string& name, const sender_result& sent, const tally& t);

}  // namespace relaygate::fault
