// postfix_instance.hpp: a private, real Postfix (postfix-tech.md §2 + §6): own
// config, queue and data directories under one dir; smtpd on a free 127.0.0.1
// port, no port 25; chroot=n everywhere; maillog_file in the dir; myhostname
// etc. explicit. Options add main.cf lines and master.cf services (e.g. smtp
// transports bound to 127.0.0.2/.3). Started by the constructor, always stopped
// by the destructor (master by PID, then any process still carrying our
// MAIL_CONFIG). Needs root. Callers: e2e fixtures, harness_ctl postfix.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

struct postfix_options {
    std::filesystem::path dir;    // empty: an own temp dir; else used as is (created)
    std::uint16_t smtp_port = 0;  // 0: free_port(); smtpd listens on 127.0.0.1:<port>
    std::string myhostname = "mta.example.test";
    std::string relayhost;                    // e.g. sink.nexthop(); empty: MX lookups (needs the netns DNS)
    std::vector<std::string> main_cf;         // "key = value"; replaces a default of the same key
    std::vector<std::string> services;        // postconf -M: "name/type=name type - - n - 4 smtp"
    std::vector<std::string> service_params;  // postconf -P: "name/type/parameter=value"
    std::vector<std::pair<std::string, std::string>> files;  // written into config_dir (subfolders made) before start

    // Adds a `name unix - - n - 4 smtp` transport with syslog_name=postfix/<name>,
    // smtp_bind_address=<bind_address> and smtp_bind_address_enforce=yes.
    postfix_options& smtp_transport(const std::string& name, const std::string& bind_address);
    postfix_options& main(const std::string& line);  // appends to main_cf
};

class postfix_instance {
public:
    explicit postfix_instance(postfix_options options = {});  // writes the config and starts
    ~postfix_instance();  // stop(); prints the maillog tail first when the current test failed
    postfix_instance(const postfix_instance&) = delete;
    postfix_instance& operator=(const postfix_instance&) = delete;

    std::uint16_t smtp_port() const { return options_.smtp_port; }
    std::string smtp_address() const { return "127.0.0.1"; }
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path config_dir() const { return dir_ / "etc"; }
    std::filesystem::path queue_dir() const { return dir_ / "spool"; }
    std::filesystem::path maillog_path() const { return dir_ / "maillog"; }
    pid_t master_pid() const { return master_pid_; }

    std::string maillog() const;
    // Lines of the maillog matching an ECMAScript regex (std::regex_search).
    std::vector<std::string> log_lines(const std::string& regex) const;
    // Succeeds once `count` lines match; its message() is then the last matching line.
    testing::AssertionResult wait_for_log(const std::string& regex, std::chrono::milliseconds timeout = 30s,
                                          std::size_t count = 1) const;

    // The Postfix commands, run with -c <config_dir>, bounded.
    command_result postconf(const std::vector<std::string>& args) const;
    command_result postqueue(const std::vector<std::string>& args) const;
    command_result postsuper(const std::vector<std::string>& args) const;
    std::string queue_listing() const;  // postqueue -p
    testing::AssertionResult wait_queue_empty(std::chrono::milliseconds timeout = 30s) const;
    void flush() const;   // postqueue -f; throws on failure
    void reload() const;  // postfix reload; throws on failure

    void stop();
    void release() { running_ = false; }  // leave it running (harness_ctl)

    // Stops the instance whose files live in `dir` (harness_ctl postfix stop).
    static void stop_dir(const std::filesystem::path& dir);

private:
    void write_config();
    void start();

    postfix_options options_;
    std::optional<temp_dir> own_dir_;
    std::filesystem::path dir_;
    pid_t master_pid_ = -1;
    bool running_ = false;
};

// File-based helpers shared with harness_ctl.
std::vector<std::string> matching_lines(const std::filesystem::path& file, const std::string& regex);
testing::AssertionResult wait_for_lines(const std::filesystem::path& file, const std::string& regex,
                                        std::chrono::milliseconds timeout, std::size_t count = 1);

}  // namespace relaygate::harness
