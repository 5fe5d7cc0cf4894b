// postfix_instance.cpp: writes a private Postfix configuration (main.cf from
// defaults + caller lines, master.cf from master.cf.dist edited with postconf)
// and starts/stops it. Stop is by PID: SIGTERM to the master from its pid file,
// then SIGKILL to every process still carrying MAIL_CONFIG=<our config dir>.
#include "relaygate/harness/postfix_instance.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

std::string key_of(const std::string& line) {
    auto eq = line.find('=');
    std::string key = line.substr(0, eq);
    key.erase(key.find_last_not_of(" \t") + 1);
    key.erase(0, key.find_first_not_of(" \t"));
    return key;
}

void check(const command_result& r, const std::string& what) {
    if (r.exit_code != 0) {
        throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) + "): " + r.output);
    }
}

pid_t read_master_pid(const std::filesystem::path& dir) {
    std::istringstream in(read_file(dir / "spool" / "pid" / "master.pid"));
    pid_t pid = -1;
    in >> pid;
    return in ? pid : -1;
}

bool test_failed() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    return info != nullptr && info->result() != nullptr && info->result()->Failed();
}

}  // namespace

postfix_options& postfix_options::smtp_transport(const std::string& name, const std::string& bind_address) {
    services.push_back(name + "/unix=" + name + " unix - - n - 4 smtp");
    for (const auto& p : {"syslog_name=postfix/" + name, "smtp_bind_address=" + bind_address,
                          std::string("smtp_bind_address_enforce=yes")}) {
        service_params.push_back(name + "/unix/" + p);
    }
    return *this;
}

postfix_options& postfix_options::main(const std::string& line) {
    main_cf.push_back(line);
    return *this;
}

postfix_instance::postfix_instance(postfix_options options) : options_(std::move(options)) {
    if (options_.smtp_port == 0) options_.smtp_port = free_port();
    if (options_.dir.empty()) {
        own_dir_.emplace("postfix");
        dir_ = own_dir_->path();
    } else {
        dir_ = std::filesystem::absolute(options_.dir);
    }
    write_config();
    start();
}

postfix_instance::~postfix_instance() {
    if (running_ && test_failed()) {
        auto lines = matching_lines(maillog_path(), ".");
        std::size_t from = lines.size() > 60 ? lines.size() - 60 : 0;
        std::cerr << "---- maillog tail (" << maillog_path() << ")\n";
        for (std::size_t i = from; i < lines.size(); ++i) std::cerr << lines[i] << "\n";
        std::cerr << "---- postqueue -p\n" << queue_listing() << "----\n";
    }
    stop();
}

// Postfix's daemons run as user postfix: every parent of the dir must be searchable by others.
static void require_searchable(const std::filesystem::path& dir) {
    for (auto p = dir; !p.empty() && p != p.root_path(); p = p.parent_path()) {
        auto perms = std::filesystem::status(p).permissions();
        if ((perms & std::filesystem::perms::others_exec) == std::filesystem::perms::none) {
            throw std::runtime_error("postfix_instance: user postfix cannot enter " + p.string() +
                                     " (no o+x); use a directory like /tmp/x with mode 0755");
        }
    }
}

void postfix_instance::write_config() {
    const auto etc = config_dir();
    std::filesystem::create_directories(etc);
    require_searchable(dir_);
    std::filesystem::create_directories(queue_dir());  // data_directory must NOT exist: Postfix creates it
    const std::string d = dir_.string();
    std::vector<std::string> lines = {
        "compatibility_level = 3.6",
        "queue_directory = " + d + "/spool",
        "data_directory = " + d + "/data",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        "myhostname = " + options_.myhostname,
        "mydomain = example.test",
        "myorigin = $myhostname",
        "mydestination =",
        "local_recipient_maps =",
        "alias_maps =",
        "alias_database =",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        "mynetworks = 127.0.0.0/8",
        "smtpd_relay_restrictions = permit_mynetworks, reject",
        "relayhost = " + options_.relayhost,
        "smtp_tls_security_level = none",
        "smtpd_tls_security_level = none",
        "maillog_file = " + d + "/maillog",
        "maillog_file_prefixes = " + d,
        "biff = no",
        "append_dot_mydomain = no",
        "delay_warning_time = 0h",
    };
    for (const auto& extra : options_.main_cf) {
        const std::string key = key_of(extra);
        bool replaced = false;
        for (auto& l : lines) {
            if (key_of(l) == key) {
                l = extra;
                replaced = true;
            }
        }
        if (!replaced) lines.push_back(extra);
    }
    std::string main_cf = "# written by relaygate test harness (postfix_instance)\n";
    for (const auto& l : lines) main_cf += l + "\n";
    write_file(etc / "main.cf", main_cf);
    std::filesystem::copy_file("/usr/share/postfix/master.cf.dist", etc / "master.cf",
                               std::filesystem::copy_options::overwrite_existing);
    for (const auto& [name, content] : options_.files) {
        std::filesystem::create_directories((etc / name).parent_path());  // "sasl/smtpd.conf"
        write_file(etc / name, content);
    }

    // chroot=n: `postfix start` does not populate a chroot; no port 25; our smtpd.
    check(postconf({"-F", "*/*/chroot=n"}), "postconf -F chroot=n");
    check(postconf({"-MX", "smtp/inet"}), "postconf -MX smtp/inet");
    const std::string listen = "127.0.0.1:" + std::to_string(options_.smtp_port);
    std::vector<std::string> services = {"-M", listen + "/inet=" + listen + " inet n - n - - smtpd"};
    services.insert(services.end(), options_.services.begin(), options_.services.end());
    check(postconf(services), "postconf -M");
    if (!options_.service_params.empty()) {
        std::vector<std::string> params = {"-P"};
        params.insert(params.end(), options_.service_params.begin(), options_.service_params.end());
        check(postconf(params), "postconf -P");
    }
    write_file(dir_ / "smtp_port", std::to_string(options_.smtp_port) + "\n");
}

void postfix_instance::start() {
    if (::geteuid() != 0) throw std::runtime_error("postfix_instance needs root (postfix start)");
    running_ = true;  // from here on, stop() cleans up whatever did start
    auto r = run_command({"postfix", "-c", config_dir().string(), "start"}, 60s);
    master_pid_ = read_master_pid(dir_);
    if (r.exit_code != 0 || !pid_alive(master_pid_)) {
        stop();
        throw std::runtime_error("postfix start failed (exit " + std::to_string(r.exit_code) + "): " + r.output +
                                 "\nmaillog:\n" + maillog());
    }
}

void postfix_instance::stop() {
    if (!running_) return;
    running_ = false;
    stop_dir(dir_);
    master_pid_ = -1;
}

void postfix_instance::stop_dir(const std::filesystem::path& dir) {
    if (dir.empty()) return;
    pid_t master = read_master_pid(dir);
    if (master > 0) stop_pid(master, 10s);
    // Anything left of this instance (a daemon that outlived its master).
    const std::string entry = "MAIL_CONFIG=" + (std::filesystem::absolute(dir) / "etc").string();
    for (pid_t p : pids_with_environment(entry)) ::kill(p, SIGKILL);
    wait_until([&] { return pids_with_environment(entry).empty(); }, 5s);
}

std::string postfix_instance::maillog() const { return read_file(maillog_path()); }

std::vector<std::string> postfix_instance::log_lines(const std::string& regex) const {
    return matching_lines(maillog_path(), regex);
}

testing::AssertionResult postfix_instance::wait_for_log(const std::string& regex, std::chrono::milliseconds timeout,
                                                        std::size_t count) const {
    return wait_for_lines(maillog_path(), regex, timeout, count);
}

command_result postfix_instance::postconf(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"postconf", "-c", config_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 30s);
}

command_result postfix_instance::postqueue(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"postqueue", "-c", config_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 30s);
}

command_result postfix_instance::postsuper(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"postsuper", "-c", config_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 30s);
}

std::string postfix_instance::queue_listing() const { return postqueue({"-p"}).output; }

testing::AssertionResult postfix_instance::wait_queue_empty(std::chrono::milliseconds timeout) const {
    std::string listing;
    if (wait_until([&] { return (listing = queue_listing()).find("Mail queue is empty") != std::string::npos; },
                   timeout, 100ms)) {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "queue not empty after " << timeout.count() << " ms:\n" << listing;
}

void postfix_instance::flush() const { check(postqueue({"-f"}), "postqueue -f"); }

void postfix_instance::reload() const {
    check(run_command({"postfix", "-c", config_dir().string(), "reload"}, 30s), "postfix reload");
}

std::vector<std::string> matching_lines(const std::filesystem::path& file, const std::string& regex) {
    const std::regex re(regex);
    std::vector<std::string> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line))
        if (std::regex_search(line, re)) out.push_back(line);
    return out;
}

testing::AssertionResult wait_for_lines(const std::filesystem::path& file, const std::string& regex,
                                        std::chrono::milliseconds timeout, std::size_t count) {
    std::vector<std::string> found;
    if (wait_until([&] { return (found = matching_lines(file, regex)).size() >= count; }, timeout, 50ms)) {
        return testing::AssertionSuccess() << found.back();
    }
    return testing::AssertionFailure() << found.size() << " of " << count << " lines matching /" << regex << "/ in "
                                       << file.string() << " within " << timeout.count() << " ms";
}

}  // namespace relaygate::harness
