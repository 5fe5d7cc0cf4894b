// privilege_drop.cpp: see privilege_drop.hpp. Plain POSIX + Linux prctl; the
// order matters: bounding set (needs CAP_SETPCAP), groups, gid, then uid last.
#include "relaygate/registry/privilege_drop.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace relaygate::privilege {
namespace {

std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

int last_capability() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    if (in >> last && last >= 0 && last < 64) return last;
    return CAP_LAST_CAP;
}

}  // namespace

expected<run_as, std::string> lookup_user(const std::string& name) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
        return unexpected("user '" + name + "': no such user");
    }
    return run_as{.name = name, .uid = pw.pw_uid, .gid = pw.pw_gid};
}

expected<gid_t, std::string> lookup_group(const std::string& name) {
    std::vector<char> buf(65536);
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
        return unexpected("group '" + name + "': no such group");
    }
    return found->gr_gid;
}

expected<bool, std::string> secure_socket(const std::string& path, unsigned mode, const std::string& group) {
    if (!group.empty()) {
        auto gid = lookup_group(group);
        if (!gid) return unexpected(gid.error());
        if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
            return unexpected(os_error("chgrp " + path + " to " + group));
        }
    }
    if (::chmod(path.c_str(), mode) != 0) return unexpected(os_error("chmod " + path));
    return true;
}

expected<bool, std::string> drop_to(const std::string& user) {
    if (user.empty()) return true;
    auto who = lookup_user(user);
    if (!who) return unexpected(who.error());
    if (who->uid == 0) return unexpected("user '" + user + "': is root; name an unprivileged user");
    if (::getuid() == who->uid && ::geteuid() == who->uid) return true;  // systemd's User= did it already
    if (::geteuid() != 0) return unexpected("user '" + user + "': only root can switch to it");
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            return unexpected(os_error("dropping capability " + std::to_string(cap)));
        }
    }
    if (::initgroups(who->name.c_str(), who->gid) != 0) return unexpected(os_error("initgroups " + user));
    if (::setresgid(who->gid, who->gid, who->gid) != 0) return unexpected(os_error("setresgid"));
    if (::setresuid(who->uid, who->uid, who->uid) != 0) return unexpected(os_error("setresuid"));
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return unexpected(os_error("no_new_privs"));
    if (::setuid(0) == 0 || ::geteuid() == 0) return unexpected(std::string("root could be regained"));  // invariant
    return true;
}

}  // namespace relaygate::privilege
