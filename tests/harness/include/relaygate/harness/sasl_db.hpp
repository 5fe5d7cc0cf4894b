// sasl_db.hpp: the SMTP AUTH fixture for the private Postfix — a Cyrus SASL
// sasldb (made with the real saslpasswd2) in a temp dir removed by the
// destructor, and the smtpd.conf that points Postfix's smtpd at it
// (auxprop/sasldb, PLAIN and LOGIN). Debian's Postfix reads that file from
// <config_directory>/sasl/smtpd.conf (it does not use cyrus_sasl_config_path),
// so add_to() puts it among the instance's files. Nothing runs: smtpd reads
// the sasldb itself, so the fixture has no process to start or stop.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

struct sasl_user {
    std::string login;  // what the client sends (and what the milter sees as {auth_authen})
    std::string password;
};

class sasl_db {
public:
    explicit sasl_db(std::vector<sasl_user> users);

    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path db_path() const { return dir_ / "sasldb2"; }
    // Makes the sasldb for this Postfix instance: the users in the realm smtpd looks them up
    // in (its myhostname, with smtpd_sasl_local_domain empty), so a client logs in with the
    // bare login and the milter sees it bare as {auth_authen}. (With smtpd_sasl_local_domain
    // = R set, Postfix reports "login@R" instead.) Adds the main.cf lines (smtpd_sasl_*,
    // permit_sasl_authenticated before the relay reject) and the file sasl/smtpd.conf.
    // Throws std::runtime_error with saslpasswd2's output.
    void add_to(postfix_options& options);

private:
    temp_dir dir_;
    std::vector<sasl_user> users_;
};

}  // namespace relaygate::harness
