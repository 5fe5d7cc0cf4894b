// milter_shell.cpp: libmilter callbacks as trampolines over the pure core (see milter_shell.hpp).
// Per-connection state lives only behind smfi_setpriv (Debian's libmilter runs one
// connection's callbacks on different worker threads); each message takes ONE registry
// snapshot when it starts (first RCPT, or MAIL) and uses it to the end; every
// callback runs inside guarded(), which turns any exception into a tempfail.
#include "milter_shell.hpp"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <strings.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>
#include <optional>

#include "relaygate/log/log.hpp"
#include "relaygate/milter/decision.hpp"
#include "relaygate/milter/message_log.hpp"
#include "relaygate/registry/service_notify.hpp"

namespace relaygate::milter {
namespace {

// libmilter's C callbacks carry no user pointer; set once before smfi_main, read-only after.
milter_runtime* g_rt = nullptr;

constexpr std::size_t max_buffered_header_bytes = 1 << 20;  // Postfix's header_size_limit is 100 KiB

struct message {
    std::shared_ptr<const registry::domain_registry> snapshot;  // taken at MAIL FROM, used to the end
    std::string envelope_sender;
    std::string sasl_login;
    std::size_t recipients = 0;
    message_headers headers;
    std::vector<std::pair<std::string, std::string>> all_headers;  // in order, for signing
    std::size_t header_bytes = 0;
    bool headers_truncated = false;
    std::optional<decision> verdict;  // decided at end of headers, applied at end of message
    std::unique_ptr<signing_session> signing;
    std::string dkim = "off";  // off | signed | unsigned (operator domain without key) | error:<why>
    bool failed = false;       // a step without a reply failed: answer tempfail at end of message
};

struct session {
    bool no_reply = false;  // the MTA agreed to send HELO..body without waiting for replies (SMFIP_NR_*)
    std::string client_address;
    message msg;
};

// Steps answered with SMFIS_NOREPLY when the MTA agrees: one round trip per
// message (end of message) instead of about a dozen. Failures in these steps are
// remembered and answered with a tempfail at end of message.
constexpr unsigned long no_reply_steps = SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR |
                                         SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_UNKN;

// Steps the MTA need not send at all. Each step costs Postfix a packet (and one
// for its macros) and libmilter a hand-off to a worker thread; what the milter
// needs from them comes with the RCPT step's macros instead (envelope sender,
// SASL login, client address). The body and end-of-headers are needed only to sign.
constexpr unsigned long skipped_steps = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NODATA | SMFIP_NOUNKNOWN;
constexpr unsigned long skipped_without_signing = SMFIP_NOBODY | SMFIP_NOEOH;

// The macros asked for, per step (Postfix sends exactly these; milter_*_macros
// in main.cf then need not be touched). RCPT carries the message's envelope, EOM
// the queue id; MAIL's list is used only by an MTA that does not skip MAIL.
constexpr std::pair<int, const char*> wanted_macros[] = {
    {SMFIM_ENVFROM, "i {auth_authen} {client_addr}"},
    {SMFIM_ENVRCPT, "i {mail_addr} {auth_authen} {client_addr}"},
    {SMFIM_EOM, "i"},
};

session* get(SMFICTX* ctx) { return static_cast<session*>(smfi_getpriv(ctx)); }

std::string macro(SMFICTX* ctx, const char* name) {
    const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
    return v ? v : "";
}

std::string address_text(const _SOCK_ADDR* sa) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa == nullptr) return "";
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
    }
    return buf;
}

// The one exception barrier: any failure in a callback answers tempfail, never a crash.
template <class F>
sfsistat guarded(SMFICTX* ctx, const char* stage, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        log::error(std::string("- internal_error stage=") + stage + " what=" + log::quote(e.what()));
    } catch (...) {
        log::error(std::string("- internal_error stage=") + stage);
    }
    smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.7.1"),
                  const_cast<char*>("Internal error in relaygate-milter, try again later"));
    return SMFIS_TEMPFAIL;
}

// A message step (HELO..body): f returns false for a failure. The reply is
// NOREPLY when negotiated, else continue/tempfail.
template <class F>
sfsistat step(SMFICTX* ctx, const char* stage, F&& f) noexcept {
    session* s = get(ctx);
    bool ok = false;
    try {
        ok = s != nullptr && f(*s);
    } catch (const std::exception& e) {
        log::error(std::string("- internal_error stage=") + stage + " what=" + log::quote(e.what()));
    } catch (...) {
        log::error(std::string("- internal_error stage=") + stage);
    }
    if (s == nullptr) return SMFIS_TEMPFAIL;  // no session: no reply flags were negotiated either
    if (!ok) s->msg.failed = true;
    if (s->no_reply) return SMFIS_NOREPLY;
    return ok ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

// Creates the session (so the negotiated flags are known per connection) and asks
// for the header-adding actions, the skipped and no-reply steps and the macros.
sfsistat on_negotiate(SMFICTX* ctx, unsigned long actions, unsigned long steps, unsigned long, unsigned long,
                      unsigned long* want_actions, unsigned long* want_steps, unsigned long* p2, unsigned long* p3) {
    *want_actions = actions & SMFIF_ADDHDRS;
    *want_steps = steps & (SMFIP_NODATA | SMFIP_NOUNKNOWN | (g_rt->signer ? 0 : SMFIP_NOBODY));
    *p2 = *p3 = 0;
    try {
        auto s = std::make_unique<session>();
        if (smfi_setpriv(ctx, s.get()) != MI_SUCCESS) return SMFIS_CONTINUE;  // on_connect creates it
        session* ses = s.release();  // owned by libmilter's context until on_close adopts it back
        ses->no_reply = (steps & no_reply_steps) == no_reply_steps;
        if (ses->no_reply) *want_steps |= no_reply_steps;
        // Skipping MAIL means the envelope comes from RCPT's macros: only when
        // the macro lists are taken too (else the steps are sent as usual).
        bool macros_ok = true;
        for (auto [stage, list] : wanted_macros)
            macros_ok = macros_ok && smfi_setsymlist(ctx, stage, const_cast<char*>(list)) == MI_SUCCESS;
        if (macros_ok) {
            *want_steps |= steps & (skipped_steps | (g_rt->signer ? 0 : skipped_without_signing));
        }
    } catch (...) {
        // fall back to every step with replies; on_connect creates the session
    }
    return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR* addr) {
    return guarded(ctx, "connect", [&] {
        session* s = get(ctx);
        if (s == nullptr) {
            auto fresh = std::make_unique<session>();
            if (smfi_setpriv(ctx, fresh.get()) != MI_SUCCESS) return SMFIS_TEMPFAIL;
            s = fresh.release();  // owned by libmilter's context until on_close adopts it back
        }
        s->client_address = address_text(addr);
        return SMFIS_CONTINUE;
    });
}

sfsistat on_helo(SMFICTX* ctx, char*) {
    return step(ctx, "helo", [](session&) { return true; });
}

// Starts a message once: at MAIL when the MTA sends it (envelope_sender = its
// argument), else at the first RCPT (or end of headers/message) from the macros
// asked for in on_negotiate (envelope_sender = nullptr).
// Takes the ONE registry snapshot the message is decided on.
void begin_message(SMFICTX* ctx, session& s, const char* envelope_sender) {
    message& m = s.msg;
    if (m.snapshot != nullptr) return;
    m.snapshot = g_rt->registry->current();
    const std::string sender = envelope_sender != nullptr ? envelope_sender : macro(ctx, "{mail_addr}");
    std::string_view from = sender;
    if (from.starts_with('<') && from.ends_with('>') && from.size() >= 2) from = from.substr(1, from.size() - 2);
    m.envelope_sender = std::string(from);
    m.sasl_login = macro(ctx, "{auth_authen}");
    if (s.client_address.empty()) s.client_address = macro(ctx, "{client_addr}");
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
    return step(ctx, "mail", [&](session& s) {
        s.msg = message{};
        begin_message(ctx, s, argv && argv[0] ? argv[0] : "");
        return true;
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char**) {
    return step(ctx, "rcpt", [&](session& s) {
        begin_message(ctx, s, nullptr);
        ++s.msg.recipients;
        return true;
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    return step(ctx, "header", [&](session& s) {
        if (name == nullptr || value == nullptr) return false;
        message& m = s.msg;
        if (strcasecmp(name, "From") == 0) m.headers.from.emplace_back(value);
        if (strcasecmp(name, "Sender") == 0) m.headers.sender.emplace_back(value);
        if (g_rt->signer != nullptr && !m.headers_truncated) {
            m.header_bytes += std::strlen(name) + std::strlen(value) + 4;
            if (m.header_bytes > max_buffered_header_bytes) {
                m.headers_truncated = true;  // never sign a partial header set
                m.all_headers.clear();
            } else {
                m.all_headers.emplace_back(name, value);
            }
        }
        return true;
    });
}

// Starts signing when the decision names a domain to sign for (never an unverified one).
void start_signing(message& m) {
    const decision& d = *m.verdict;
    if (g_rt->signer == nullptr) return;
    if (d.action != verdict::accept && d.action != verdict::tag) {
        m.dkim.clear();  // not delivered: nothing to say about signing
        return;
    }
    if (d.signing_domain.empty()) {
        m.dkim = "unsigned";
        return;
    }
    if (m.headers_truncated) {
        m.dkim = "error:headers_too_large";
        return;
    }
    auto key = g_rt->signer->key_for(m.snapshot, d.signing_domain, d.signing_domain_is_operator);
    if (!key) {
        // an operator domain without a configured key is simply not signed; a customer key must work
        m.dkim = d.signing_domain_is_operator ? "unsigned" : "error:" + key.error();
        return;
    }
    auto session = g_rt->signer->start(**key, "");
    if (!session) {
        m.dkim = "error:" + session.error();
        return;
    }
    for (const auto& [n, v] : m.all_headers) (*session)->header(n, v);
    (*session)->end_of_headers();
    m.signing = std::move(*session);
    m.dkim = "pending";
}

// The decision, at end of headers (signing needs it before the body) or, when
// the MTA skips that step, at end of message.
void decide_message(SMFICTX* ctx, session& s) {
    begin_message(ctx, s, nullptr);
    message& m = s.msg;
    const auto& cfg = *g_rt->config;
    m.verdict = decide(*m.snapshot, m.headers, {m.sasl_login, s.client_address},
                       {.mode = cfg.mode, .missing_from = cfg.missing_from, .limits = cfg.limits});
    start_signing(m);
}

sfsistat on_eoh(SMFICTX* ctx) {
    return step(ctx, "eoh", [&](session& s) {
        decide_message(ctx, s);
        return true;
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* bytes, size_t len) {
    return step(ctx, "body", [&](session& s) {
        if (s.msg.signing) s.msg.signing->body({reinterpret_cast<char*>(bytes), len});
        return true;
    });
}

// Sets the reply for reject/tempfail; false when libmilter refused it.
void set_reply(SMFICTX* ctx, const smtp_reply& r) {
    std::string text = r.wire_text();
    if (smfi_setreply(ctx, const_cast<char*>(r.code.c_str()), const_cast<char*>(r.enhanced.c_str()), text.data()) !=
        MI_SUCCESS) {
        log::warning("- smfi_setreply_failed reply=" + log::quote(r.to_string()));
    }
}

// The one place a decision reaches the MTA: reply, headers, signature, logs.
sfsistat apply(SMFICTX* ctx, session& s) {
    message& m = s.msg;
    decision& d = *m.verdict;
    if (m.signing && (d.action == verdict::accept || d.action == verdict::tag)) {
        auto sig = m.signing->finish();
        if (sig && smfi_insheader(ctx, 0, const_cast<char*>("DKIM-Signature"), sig->data()) == MI_SUCCESS) {
            m.dkim = "signed";
        } else {
            m.dkim = "error:" + (sig ? std::string("smfi_insheader failed") : sig.error());
        }
    }
    if (m.dkim.starts_with("error:") && d.action == verdict::accept) {
        // a verified domain's mail must leave signed: keep it with the client until the key works
        d.action = verdict::tempfail;
        d.reason_code = "dkim_sign_error";
        d.reason_text = "DKIM signing for " + d.signing_domain + " failed, try again later";
        d.reply = {"451", "4.7.1", d.reason_text};
    }
    message_record rec{.queue_id = macro(ctx, "i"),
                       .client_address = s.client_address,
                       .sasl_login = m.sasl_login,
                       .envelope_sender = m.envelope_sender,
                       .recipient_count = m.recipients,
                       .time = g_rt->clock(),
                       .dkim = m.dkim};
    log::info(format_decision_line(rec, d));
    if (is_logged_as_rejection(d) && !g_rt->rejections->append(format_rejection_json(rec, d))) {
        log::error(rec.queue_id + " rejection_log_write_failed");
    }
    switch (d.action) {
        case verdict::reject:
            set_reply(ctx, d.reply);
            return SMFIS_REJECT;
        case verdict::tempfail:
            set_reply(ctx, d.reply);
            return SMFIS_TEMPFAIL;
        case verdict::tag:
        case verdict::accept:
            break;
    }
    if (!d.tag_header.empty()) {
        smfi_addheader(ctx, const_cast<char*>(std::string(tag_header_name).c_str()), d.tag_header.data());
    }
    return SMFIS_ACCEPT;
}

sfsistat on_eom(SMFICTX* ctx) {
    return guarded(ctx, "eom", [&] {
        session* s = get(ctx);
        if (s == nullptr) return SMFIS_TEMPFAIL;
        if (!s->msg.failed && !s->msg.verdict) decide_message(ctx, *s);  // end of headers was skipped
        if (s->msg.failed || !s->msg.verdict) {
            // a step without a reply failed (already logged)
            smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.7.1"),
                          const_cast<char*>("Internal error in relaygate-milter, try again later"));
            s->msg = message{};
            return SMFIS_TEMPFAIL;
        }
        sfsistat rc = apply(ctx, *s);
        s->msg = message{};
        return rc;
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    return guarded(ctx, "abort", [&] {
        if (session* s = get(ctx)) s->msg = message{};
        return SMFIS_CONTINUE;
    });
}

sfsistat on_close(SMFICTX* ctx) {
    std::unique_ptr<session> adopted(get(ctx));  // freed here, whichever thread runs close
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

}  // namespace

int run_milter(milter_runtime& runtime) {
    g_rt = &runtime;
    const milter_config& cfg = *runtime.config;
    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("relaygate-milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS;  // X-Relaygate-Verdict (add) and DKIM-Signature (insert at 0)
    desc.xxfi_connect = on_connect;
    desc.xxfi_helo = on_helo;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    // Without a body callback libmilter negotiates SMFIP_NOBODY: the body is only needed to sign.
    desc.xxfi_body = runtime.signer ? on_body : nullptr;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_negotiate = on_negotiate;
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(const_cast<char*>(cfg.socket.c_str())) != MI_SUCCESS ||
        smfi_settimeout(static_cast<int>(cfg.milter_timeout)) != MI_SUCCESS) {
        log::error("- start_failed reason=register socket=" + log::quote(cfg.socket));
        return 1;
    }
    if (smfi_opensocket(true) != MI_SUCCESS) {  // true: remove a stale unix socket first
        log::error("- start_failed reason=opensocket socket=" + log::quote(cfg.socket));
        return 1;
    }
    if (!secure_socket_and_drop(cfg)) return 1;
    log::notice("- started socket=" + log::quote(cfg.socket) + " mode=" + std::string(to_string(cfg.mode)) +
                " signing=" + (runtime.signer ? "on" : "off"));
    service::ready();  // Type=notify: the socket listens from here on
    int rc = smfi_main() == MI_SUCCESS ? 0 : 1;
    if (auto path = unix_socket_path(cfg.socket))
        unlink(path->c_str());  // best effort; a stale one is removed at start
    return rc;
}

}  // namespace relaygate::milter

// libmilter's own signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and
// stops the milter on each (postfix-tech.md §3). We link libmilter statically
// with -Wl,--wrap=sigwait so that thread waits here: SIGHUP runs the reload hook
// and keeps waiting; SIGTERM/SIGINT go back to libmilter, which stops cleanly.
// Being the only waiter, this thread gets every such signal (no race).
// On stop, the listening socket is also shut down: libmilter's listener sits in
// poll() with a 5 s timeout and would otherwise notice the stop only then.
extern "C" int __real_sigwait(const sigset_t* set, int* sig);
extern "C" int __wrap_sigwait(const sigset_t* set, int* sig) {
    while (true) {
        int rc = __real_sigwait(set, sig);
        if (rc == 0 && *sig != SIGHUP) relaygate::milter::wake_listener();
        if (rc != 0 || *sig != SIGHUP) return rc;
        auto* rt = relaygate::milter::g_rt;
        try {
            if (rt != nullptr && rt->on_sighup) rt->on_sighup();
        } catch (...) {
            relaygate::log::error("- sighup_failed");
        }
    }
}
