// harness_ctl: the test harness as a command line, for the demo scripts
// (scripts/demo.d/*.sh via scripts/lib/harness.sh). Same code as the C++
// fixtures: starts real Postfix / smtp-sink / redis-server detached, keeps its
// state (ports, pid files) in the --dir given, and stops each by PID later.
//   harness_ctl postfix start --dir D [--relayhost H] [--main 'k = v']... [--file name=src]... -> prints the smtpd port
//   harness_ctl sink start --dir D [--address 127.0.0.2] [--hard-reject RCPT] -> prints the port
//   harness_ctl send --port P --from F --to T [--header H]... -> prints the replies
// See docs/harness.md; `harness_ctl --help` lists every option.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/wait.hpp"

namespace po = boost::program_options;
using namespace relaygate::harness;

namespace {

struct ctl_options {
    std::string component, action;
    std::filesystem::path dir;
    std::string address = "127.0.0.1", relayhost, regex, hard_reply, soft_reply, from, body, server = "127.0.0.1";
    std::string myhostname = "mta.example.test";
    unsigned port = 0, count = 1, timeout = 30;
    std::vector<std::string> main_cf, services, params, transports, files, hard_reject, soft_reject, to, headers;
};

std::uint16_t read_port(const std::filesystem::path& file) {
    auto text = read_file(file);
    if (text.empty()) throw std::runtime_error("no port recorded in " + file.string() + " (was it started?)");
    return static_cast<std::uint16_t>(std::stoul(text));
}

pid_t read_pid(const std::filesystem::path& file) {
    auto text = read_file(file);
    return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
}

void need_dir(const ctl_options& o) {
    if (o.dir.empty()) throw std::runtime_error("--dir is required for " + o.component + " " + o.action);
}

std::chrono::milliseconds timeout_of(const ctl_options& o) { return std::chrono::seconds(o.timeout); }

int postfix_start(const ctl_options& o) {
    need_dir(o);
    postfix_options p{.dir = o.dir,
                      .smtp_port = static_cast<std::uint16_t>(o.port),
                      .myhostname = o.myhostname,
                      .relayhost = o.relayhost,
                      .main_cf = o.main_cf,
                      .services = o.services,
                      .service_params = o.params};
    for (const auto& t : o.transports) {  // name=bind_address
        auto eq = t.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--transport wants name=bind_address, got " + t);
        p.smtp_transport(t.substr(0, eq), t.substr(eq + 1));
    }
    for (const auto& f : o.files) {  // name=source: a copy of source in the config dir (a map, a filter)
        auto eq = f.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--file wants name=source_path, got " + f);
        const std::filesystem::path source = f.substr(eq + 1);
        if (!std::filesystem::is_regular_file(source)) throw std::runtime_error("--file: no file " + source.string());
        p.files.emplace_back(f.substr(0, eq), read_file(source));
    }
    postfix_instance instance(p);
    instance.release();
    std::cout << instance.smtp_port() << "\n";
    return 0;
}

int postfix_stop(const ctl_options& o) {
    need_dir(o);
    postfix_instance::stop_dir(o.dir);
    return 0;
}

int postfix_wait_log(const ctl_options& o) {
    need_dir(o);
    auto r = wait_for_lines(o.dir / "maillog", o.regex, timeout_of(o), o.count);
    std::cout << r.message() << "\n";
    return r ? 0 : 1;
}

int postfix_wait_queue_empty(const ctl_options& o) {
    need_dir(o);
    std::string listing;
    bool empty = wait_until(
        [&] {
            listing = run_command({"postqueue", "-c", (o.dir / "etc").string(), "-p"}, 30s).output;
            return listing.find("Mail queue is empty") != std::string::npos;
        },
        timeout_of(o), 100ms);
    if (!empty) std::cout << listing;
    return empty ? 0 : 1;
}

int postfix_command(const ctl_options& o, std::vector<std::string> argv) {
    need_dir(o);
    argv.insert(argv.begin() + 1, {"-c", (o.dir / "etc").string()});
    auto r = run_command(argv, 60s);
    std::cout << r.output;
    return r.exit_code;
}

int sink_start(const ctl_options& o) {
    need_dir(o);
    smtp_sink sink(sink_options{.address = o.address,
                                .port = static_cast<std::uint16_t>(o.port),
                                .hard_reject = o.hard_reject,
                                .soft_reject = o.soft_reject,
                                .hard_reply = o.hard_reply,
                                .soft_reply = o.soft_reply,
                                .dir = o.dir});
    write_file(o.dir / "smtp-sink.port", std::to_string(sink.port()) + "\n");
    write_file(o.dir / "smtp-sink.pid", std::to_string(sink.release()) + "\n");
    std::cout << sink.port() << "\n";
    return 0;
}

int sink_stop(const ctl_options& o) {
    need_dir(o);
    return stop_pid(read_pid(o.dir / "smtp-sink.pid")) ? 0 : 1;
}

int sink_list(const ctl_options& o) {
    need_dir(o);
    for (const auto& m : read_sink_dir(o.dir, read_pid(o.dir / "smtp-sink.pid"))) {
        std::string rcpts;
        for (const auto& r : m.rcpts) rcpts += (rcpts.empty() ? "" : ",") + r;
        std::cout << "client_addr=" << m.client_addr << " mail_from=" << m.mail_from << " rcpts=" << rcpts << " from=\""
                  << m.header("From").value_or("") << "\" subject=\"" << m.header("Subject").value_or("") << "\"\n";
    }
    return 0;
}

int sink_wait(const ctl_options& o) {
    need_dir(o);
    const pid_t pid = read_pid(o.dir / "smtp-sink.pid");
    std::size_t seen = 0;
    bool ok = wait_until([&] { return (seen = read_sink_dir(o.dir, pid).size()) >= o.count; }, timeout_of(o));
    if (!ok) std::cout << "received " << seen << " of " << o.count << " messages\n";
    return ok ? 0 : 1;
}

int redis_start(const ctl_options& o) {
    need_dir(o);
    redis_server redis(static_cast<std::uint16_t>(o.port), o.dir);
    write_file(o.dir / "redis.port", std::to_string(redis.port()) + "\n");
    write_file(o.dir / "redis.pid", std::to_string(redis.release()) + "\n");
    std::cout << redis.port() << "\n";
    return 0;
}

int redis_stop(const ctl_options& o) {
    need_dir(o);
    return stop_pid(read_pid(o.dir / "redis.pid")) ? 0 : 1;
}

// Prints one line per SMTP stage the message went through, then swaks's exit code.
int send(const ctl_options& o) {
    if (o.port == 0 || o.to.empty()) throw std::runtime_error("send needs --port and --to");
    swaks_message m{.server = o.server, .port = static_cast<std::uint16_t>(o.port), .to = o.to, .headers = o.headers};
    if (!o.from.empty()) m.from = o.from;
    if (!o.body.empty()) m.body = o.body;
    auto r = swaks_send(m);
    std::cout << "mail_from=" << r.reply_to("MAIL FROM").value_or("-") << "\n";
    for (const auto& t : o.to)
        std::cout << "rcpt " << t << "=" << r.reply_to("RCPT TO:<" + t + ">").value_or("-") << "\n";
    std::cout << "data=" << r.data_reply().value_or("-") << "\n";
    std::cout << "queue_id=" << (r.queue_id().empty() ? "-" : r.queue_id()) << "\n";
    if (!o.dir.empty()) write_file(o.dir / "swaks.transcript", r.transcript);
    return r.exit_code;
}

int print_port(const ctl_options& o, const char* file) {
    need_dir(o);
    std::cout << read_port(o.dir / file) << "\n";
    return 0;
}

int port(const ctl_options&) {
    std::cout << free_port() << "\n";
    return 0;
}

using handler = int (*)(const ctl_options&);
const std::map<std::string, handler> handlers = {
    {"postfix start", postfix_start},
    {"postfix stop", postfix_stop},
    {"postfix wait-log", postfix_wait_log},
    {"postfix wait-queue-empty", postfix_wait_queue_empty},
    {"postfix flush",
     [](const ctl_options& o) {
         return postfix_command(o, {"postqueue", "-f"});
     }},
    {"postfix queue",
     [](const ctl_options& o) {
         return postfix_command(o, {"postqueue", "-p"});
     }},
    {"postfix port", [](const ctl_options& o) { return print_port(o, "smtp_port"); }},
    {"sink port", [](const ctl_options& o) { return print_port(o, "smtp-sink.port"); }},
    {"redis port", [](const ctl_options& o) { return print_port(o, "redis.port"); }},
    {"postfix reload",
     [](const ctl_options& o) {
         return postfix_command(o, {"postfix", "reload"});
     }},
    {"sink start", sink_start},
    {"sink stop", sink_stop},
    {"sink list", sink_list},
    {"sink wait", sink_wait},
    {"redis start", redis_start},
    {"redis stop", redis_stop},
    {"send ", send},
    {"port ", port},
};

}  // namespace

int main(int argc, char** argv) {
    set_die_with_parent_default(false);  // what we start outlives us until `... stop`
    ctl_options o;
    po::options_description desc("harness_ctl COMPONENT [ACTION] [options]\n  " + [] {
        std::string list;
        for (const auto& [name, h] : handlers) list += name + "\n  ";
        return list;
    }() + "\noptions");
    desc.add_options()("help", "this text")("dir", po::value(&o.dir), "state directory of the component")(
        "port", po::value(&o.port), "port (start: 0 = a free one; send: the server's)")(
        "address", po::value(&o.address), "sink: listen address (127.0.0.x)")(
        "relayhost", po::value(&o.relayhost), "postfix: relayhost, e.g. [127.0.0.1]:2626")(
        "myhostname", po::value(&o.myhostname), "postfix: myhostname")(
        "main", po::value(&o.main_cf), "postfix: a main.cf line 'key = value' (repeatable)")(
        "service", po::value(&o.services), "postfix: postconf -M entry (repeatable)")(
        "param", po::value(&o.params), "postfix: postconf -P entry (repeatable)")(
        "transport", po::value(&o.transports), "postfix: smtp transport name=bind_address (repeatable)")(
        "file", po::value(&o.files), "postfix: name=source, copies source into the config dir (repeatable)")(
        "regex", po::value(&o.regex), "postfix wait-log: ECMAScript regex")(
        "count", po::value(&o.count), "wait-log / sink wait: how many")("timeout", po::value(&o.timeout),
                                                                        "seconds to wait (default 30)")(
        "hard-reject", po::value(&o.hard_reject), "sink: SMTP command answered 5xx (repeatable)")(
        "soft-reject", po::value(&o.soft_reject), "sink: SMTP command answered 4xx (repeatable)")(
        "hard-reply", po::value(&o.hard_reply), "sink: the 5xx reply text")("soft-reply", po::value(&o.soft_reply),
                                                                            "sink: the 4xx reply text")(
        "server", po::value(&o.server), "send: server address")("from", po::value(&o.from), "send: envelope sender")(
        "to", po::value(&o.to), "send: recipient (repeatable)")(
        "header", po::value(&o.headers), "send: 'Name: value' (repeatable)")("body", po::value(&o.body),
                                                                             "send: body text");
    po::options_description hidden;
    hidden.add_options()("component", po::value(&o.component))("action", po::value(&o.action));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("component", 1).add("action", 1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
        if (vm.count("help") != 0 || o.component.empty()) {
            std::cout << desc << "\n";
            return o.component.empty() && vm.count("help") == 0 ? 2 : 0;
        }
        auto h = handlers.find(o.component + " " + o.action);
        if (h == handlers.end()) {
            std::cerr << "harness_ctl: unknown command '" << o.component << " " << o.action << "' (--help)\n";
            return 2;
        }
        return h->second(o);
    } catch (const std::exception& e) {
        std::cerr << "harness_ctl: " << e.what() << "\n";
        return 1;
    }
}
