// smtp_source.cpp: runs smtp-source with the options of smtp_source_options.
#include "relaygate/harness/smtp_source.hpp"

namespace relaygate::harness {

command_result smtp_source_send(const smtp_source_options& o) {
    std::vector<std::string> argv = {"smtp-source",
                                     "-m",
                                     std::to_string(o.messages),
                                     "-s",
                                     std::to_string(o.sessions),
                                     "-f",
                                     o.from,
                                     "-t",
                                     o.to,
                                     "-S",
                                     o.subject,
                                     "-M",
                                     o.helo};
    if (o.length > 0) argv.insert(argv.end(), {"-l", std::to_string(o.length)});
    argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
    argv.push_back(o.server + ":" + std::to_string(o.port));
    return run_command(argv, o.timeout);
}

}  // namespace relaygate::harness
