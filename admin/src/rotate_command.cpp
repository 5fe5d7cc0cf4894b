// rotate_command.cpp: `relaygate-admin rotate DOMAIN [--type rsa|ed25519]
// [--selector NAME] [--bits N] [--key-file PATH] [--user USER]` — starts a DKIM
// key rotation: writes a new private key (0600; owned by the daemons' user when
// run as root), prints the DNS TXT record the owner must publish and the admin-
// file line (old + new selector) to put in place of the domain's line.
// relaygate never writes the admin file (docs/admin.md): the operator edits it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <ostream>
#include <sstream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/config_file.hpp"
#include "relaygate/registry/privilege_drop.hpp"
#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::admin {
namespace {

// An admin-file value, quoted when the parser needs it (spaces, quotes, '#', '=', or empty).
std::string field_value(const std::string& value) {
    if (!value.empty() && value.find_first_of(" \t\"#=\\") == std::string::npos) return value;
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// The whole admin-file line of e with one more selector (new_name, new_key) after its own.
std::string line_with(const registry::domain_entry& e, const std::string& new_name, const std::string& new_key) {
    std::string line = e.domain;
    for (std::size_t i = 0; i < registry::selector_count(e); ++i) {
        line += " selector=" + registry::selector_name(e, i) + " key=" + field_value(registry::selector_key(e, i));
    }
    line += " selector=" + new_name + " key=" + field_value(new_key) + " owner=" + field_value(e.owner);
    std::string logins, networks;
    for (const auto& l : e.sasl_logins) logins += (logins.empty() ? "" : ",") + l;
    for (const auto& n : e.client_networks) networks += (networks.empty() ? "" : ",") + n.to_string();
    if (!logins.empty()) line += " sasl=" + field_value(logins);
    if (!networks.empty()) line += " networks=" + networks;
    return line;
}

// "s" + the UTC date: a selector name that sorts by age ("s20261208").
std::string dated_selector(std::int64_t now) {
    std::time_t t = now;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "s%Y%m%d", &tm);
    return buf;
}

// The daemons' user: the milter section's `user` key of the config (the milter reads the keys).
std::string daemon_user(const context& ctx) {
    if (ctx.config_file.empty() || ctx.config_from_default) return "";
    std::ifstream in(ctx.config_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto entries = registry::parse_config_text(text.str());
    if (!entries) return "";  // the config was already read and validated; nothing to find here
    for (const auto& e : *entries) {
        if (e.section == "milter" && e.key == "user") return e.value;
    }
    return "";
}

// Writes pem to a new file (never over an existing one), 0600, chowned to user when root.
expected<bool, std::string> write_key(const std::string& path, const std::string& pem, const std::string& user) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return unexpected(path + ": cannot create: " + std::strerror(errno));
    auto fail = [&](const std::string& why) {
        ::close(fd);
        ::unlink(path.c_str());
        return unexpected(path + ": " + why);
    };
    if (::fchmod(fd, 0600) != 0) return fail(std::string("chmod: ") + std::strerror(errno));
    if (::geteuid() == 0 && !user.empty()) {
        auto who = privilege::lookup_user(user);
        if (!who) return fail(who.error());
        if (::fchown(fd, who->uid, who->gid) != 0) return fail(std::string("chown: ") + std::strerror(errno));
    }
    for (std::size_t done = 0; done < pem.size();) {
        const ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::string("write: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail(std::string("fsync: ") + std::strerror(errno));
    ::close(fd);
    return true;
}

// A TXT value as zone-file strings of at most 255 bytes each.
std::string quoted_strings(const std::string& value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); i += 255)
        out += (out.empty() ? "\"" : " \"") + value.substr(i, 255) + '"';
    return out;
}

struct rotate_request {
    std::string domain, type = "rsa", selector, key_file, user;
    unsigned bits = 2048;
};

// Checks the request against the entry; the new selector, key path and admin-file line, or why not.
struct rotate_plan {
    std::string selector, key_file, line;
};
expected<rotate_plan, std::string> plan(const registry::domain_entry& e, const rotate_request& r, std::int64_t now) {
    if (registry::selector_count(e) > 1) {
        return unexpected(e.domain + " is already rotating (selectors " + e.selector + " and " +
                          e.newer_selectors.back().name +
                          "); finish that first: once `relaygate-admin status` says the old selector is removable, "
                          "delete its selector= and key= from the line");
    }
    rotate_plan p;
    p.selector = r.selector.empty() ? dated_selector(now) : r.selector;
    if (registry::selector_index(e, p.selector) != std::string::npos) {
        return unexpected("selector " + p.selector + " is already used by " + e.domain +
                          "; choose one with --selector");
    }
    if (r.key_file.empty()) {
        const auto slash = e.key_path.rfind('/');
        p.key_file = e.key_path.substr(0, slash + 1) + e.domain + "." + p.selector + ".pem";
    } else {
        p.key_file = r.key_file;
    }
    p.line = line_with(e, p.selector, p.key_file);
    // The line must be one the admin-file parser accepts (selector syntax, path, limits).
    auto parsed = registry::parse_admin_text(p.line, "new line");
    if (!parsed.ok()) return unexpected(parsed.summary());
    return p;
}

void print_instructions(context& ctx, const registry::domain_entry& e, const rotate_plan& p,
                        const registry::held_key& key, const std::string& owner_note) {
    const std::string name = p.selector + "._domainkey." + e.domain;
    const std::string value = registry::dkim_record_for(key);
    const auto days = ctx.opts.rotation_overlap.count() / 86400;
    const std::string where =
        e.source_file ? *e.source_file + " line " + std::to_string(e.source_line) : ctx.opts.admin_file;
    ctx.out << "New DKIM key for " << e.domain << ": selector " << p.selector << ", "
            << (key.algorithm == registry::key_algorithm::rsa ? "RSA " + std::to_string(key.bits) + "-bit"
                                                              : std::string("Ed25519"))
            << ", written to " << p.key_file << " (mode 0600" << owner_note << ")\n\n"
            << "1. The owner of " << e.domain << " publishes (keeping " << e.selector << "._domainkey." << e.domain
            << " as it is):\n"
            << "   Type:  TXT\n"
            << "   Name:  " << name << "\n"
            << "   Value: " << value << "\n"
            << "   Zone file:\n"
            << "   " << name << ". IN TXT ( " << quoted_strings(value) << " )\n\n"
            << "2. Replace the line of " << e.domain << " in the admin file (" << where << ") with:\n"
            << p.line << "\n\n"
            << "3. relaygate keeps signing with " << e.selector << " until " << p.selector
            << " is published and verified (next re-verification, or `relaygate-admin verify " << e.domain
            << "`), then signs with " << p.selector << ".\n"
            << "4. "
            << (days > 0 ? std::to_string(days) + " days" : std::to_string(ctx.opts.rotation_overlap.count()) + " s")
            << " (rotation-overlap) after the switch, `relaygate-admin status " << e.domain << "` reports "
            << e.selector << " removable: then delete selector=" << e.selector << " key=" << e.key_path
            << " from the line, and the owner deletes " << e.selector << "._domainkey." << e.domain << ".\n";
}

}  // namespace

int run_rotate(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("rotate options");
    rotate_request r;
    desc.add_options()("type", po::value(&r.type)->default_value(r.type), "key type: rsa or ed25519")(
        "bits", po::value(&r.bits)->default_value(r.bits), "RSA key size (1024..4096)")(
        "selector", po::value(&r.selector), "the new selector (default: s + today's date, e.g. s20261208)")(
        "key-file", po::value(&r.key_file),
        "where to write the new key (default: DOMAIN.SELECTOR.pem beside the old key)")(
        "user", po::value(&r.user), "owner of the new key when run as root (default: the [milter] user of the config)")(
        "domain", po::value(&r.domain)->required(), "the registered domain");
    po::positional_options_description pos;
    pos.add("domain", 1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("rotate"), args, desc, pos, vm, ctx)) return *stop;
    if (r.type != "rsa" && r.type != "ed25519") {
        ctx.err << "relaygate-admin rotate: --type must be rsa or ed25519, not '" << r.type << "'\n";
        return exit_usage;
    }

    auto selected = load_domains({r.domain}, ctx);
    if (!selected) return exit_usage;
    const auto& entry = *selected->entries.front();
    auto p = plan(entry, r, ctx.now());
    if (!p) {
        ctx.err << "relaygate-admin rotate: " << p.error() << "\n";
        return exit_usage;
    }
    const auto algorithm = r.type == "rsa" ? registry::key_algorithm::rsa : registry::key_algorithm::ed25519;
    auto pem = registry::generate_private_key_pem(algorithm, r.bits);
    if (!pem) {
        ctx.err << "relaygate-admin rotate: " << pem.error() << "\n";
        return exit_usage;
    }
    const std::string user = vm.count("user") ? r.user : daemon_user(ctx);
    if (auto written = write_key(p->key_file, *pem, user); !written) {
        ctx.err << "relaygate-admin rotate: " << written.error() << "\n";
        return exit_usage;
    }
    auto key = registry::load_held_key(p->key_file);  // read back: the record comes from the file the milter reads
    if (!key) {
        ctx.err << "relaygate-admin rotate: " << key.error() << "\n";
        return exit_usage;
    }
    const std::string owner_note = ::geteuid() == 0 && !user.empty() ? ", owner " + user : "";
    print_instructions(ctx, entry, *p, *key, owner_note);
    return exit_ok;
}

}  // namespace relaygate::admin
