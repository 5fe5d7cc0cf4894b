// sasl_db.cpp: see sasl_db.hpp. saslpasswd2 -f writes the Berkeley DB sasldb;
// smtpd (user postfix, chroot=n in the harness) must read it, so it is made
// readable by all: it holds only test passwords.
#include "relaygate/harness/sasl_db.hpp"

#include <stdexcept>

#include "relaygate/harness/child_process.hpp"

namespace relaygate::harness {

using namespace std::chrono_literals;

sasl_db::sasl_db(std::vector<sasl_user> users) : dir_("sasl"), users_(std::move(users)) {}

void sasl_db::add_to(postfix_options& options) {
    // smtpd hands Cyrus its myhostname as the server name, and with an empty
    // smtpd_sasl_local_domain that is the realm a login is looked up in.
    std::filesystem::remove(db_path());
    for (const auto& u : users_) {
        // -p: password from stdin, -c: create, -u: realm, -f: our file (never /etc/sasldb2).
        auto r = run_command({"/bin/sh", "-c", "printf '%s' \"$0\" | saslpasswd2 -p -c -u \"$1\" -f \"$2\" \"$3\"",
                              u.password, options.myhostname, db_path().string(), u.login},
                             30s);
        if (r.exit_code != 0) {
            throw std::runtime_error("saslpasswd2 failed for " + u.login + " (exit " + std::to_string(r.exit_code) +
                                     "): " + r.output);
        }
    }
    std::filesystem::permissions(db_path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                std::filesystem::perms::group_read |
                                                std::filesystem::perms::others_read);
    for (const char* line : {"smtpd_sasl_auth_enable = yes", "smtpd_sasl_type = cyrus", "smtpd_sasl_path = smtpd",
                             "smtpd_sasl_local_domain =", "smtpd_sasl_security_options = noanonymous",
                             "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject"}) {
        options.main(line);
    }
    // The application name is smtpd_sasl_path ("smtpd"): Cyrus reads sasl/smtpd.conf.
    options.files.emplace_back("sasl/smtpd.conf",
                               "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                               "mech_list: PLAIN LOGIN\nsasldb_path: " +
                                   db_path().string() + "\n");
}

}  // namespace relaygate::harness
