// milter_shell.cpp: libmilter callbacks as trampolines over the pure core (see milter_shell.hpp).
// Per-connection state lives only behind smfi_setpriv (Debian's libmilter runs one
// connection's callbacks on different worker threads); each message takes ONE registry
// snapshot when it starts (first RCPT, or MAIL) and uses it to the end; every
// callback is registered through barrier<>, the one place an exception or a
// failed step becomes the internal-error reply. The verdict is decided in the
// core (decide, settle_without_signing, finalize); apply() only carries it out.
// ~480 lines: every libmilter callback and the session they share stay in this one file, the only libmilter code.
#include "milter_shell.hpp"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "relaygate/log/log.hpp"
#include "relaygate/milter/decision.hpp"
#include "relaygate/milter/message_log.hpp"
#include "relaygate/milter/signing_outcome.hpp"
#include "relaygate/registry/service_notify.hpp"

namespace relaygate::milter {
namespace {

// libmilter's C callbacks carry no user pointer; set once before smfi_main, read-only after.
milter_runtime* g_rt = nullptr;

constexpr std::size_t max_buffered_header_bytes = 1 << 20;  // Postfix's header_size_limit is 100 KiB

struct message {
    std::shared_ptr<const registry::domain_registry> snapshot;  // taken at begin_message, used to the end
    std::string envelope_sender;
    std::string sasl_login;
    std::size_t recipients = 0;
    message_headers headers;
    std::vector<std::pair<std::string, std::string>> all_headers;  // in order, for signing
    std::size_t header_bytes = 0;
    bool headers_truncated = false;
    std::optional<decision> verdict;           // decided at end of headers, applied at end of message
    std::unique_ptr<signing_session> signing;  // set while a signature is being made
    signing_outcome dkim;                      // settled when signing is not started, or at its end
    bool failed = false;                       // a step without a reply failed: answer tempfail at end of message
    std::string raw;                           // URL check: headers and body as far as url-max-scan-bytes
    bool raw_truncated = false;                // more came than was kept
};

struct session {
    bool admitted = false;  // counted by the connection gate (released at close); false: answered 451 at connect
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

// The body is needed to sign and to scan for URLs; without either no body step is negotiated.
bool needs_body() { return g_rt->signer != nullptr || g_rt->urls != nullptr; }

// Keeps message bytes for the URL check, up to its byte limit.
void keep_for_url_check(message& m, std::string_view bytes) {
    if (g_rt->urls == nullptr || m.raw_truncated) return;
    const std::size_t room =
        g_rt->urls->config().limits.max_bytes - std::min(m.raw.size(), g_rt->urls->config().limits.max_bytes);
    if (bytes.size() > room) {
        m.raw.append(bytes.substr(0, room));
        m.raw_truncated = true;
        return;
    }
    m.raw.append(bytes);
}

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

// The libmilter callbacks, named for the log lines of the barrier.
enum class stage { negotiate, connect, helo, mail, rcpt, header, eoh, body, eom, abort, close };

const char* stage_name(stage st) {
    static constexpr const char* names[] = {"negotiate", "connect", "helo", "mail",  "rcpt", "header",
                                            "eoh",       "body",    "eom",  "abort", "close"};
    return names[static_cast<int>(st)];
}

// Steps the MTA may have agreed to send without waiting for a reply (SMFIP_NR_*).
bool is_no_reply_step(stage st) { return st >= stage::helo && st <= stage::body; }

// Sets the reply for reject/tempfail, logged when libmilter refuses it.
void set_reply(SMFICTX* ctx, const smtp_reply& r) {
    std::string text = r.wire_text();
    if (smfi_setreply(ctx, const_cast<char*>(r.code.c_str()), const_cast<char*>(r.enhanced.c_str()), text.data()) !=
        MI_SUCCESS) {
        log::warning("- smfi_setreply_failed reply=" + log::quote(r.to_string()));
    }
}

// The answer to an internal failure (already logged). Negotiation falls back to
// libmilter's defaults (every step, with replies; on_connect makes the session).
// A step the MTA sends without waiting is answered NOREPLY and the message is
// deferred at its end; anything else is answered at once with the one reply.
sfsistat answer_internal_error(SMFICTX* ctx, stage st) noexcept {
    if (st == stage::negotiate) return SMFIS_CONTINUE;
    session* s = get(ctx);
    if (s != nullptr && is_no_reply_step(st)) {
        s->msg.failed = true;  // the message is deferred at its end, whatever this step answers
        if (s->no_reply) return SMFIS_NOREPLY;
    }
    if (s != nullptr && st == stage::eom) s->msg = message{};  // the next message starts clean
    try {
        set_reply(ctx, internal_error_reply());
    } catch (...) {
        // no memory for the reply text: the MTA's own tempfail text goes out
    }
    return SMFIS_TEMPFAIL;
}

// The one exception barrier: every callback is registered as barrier<stage, fn>,
// so an exception anywhere answers the internal-error reply, never a crash.
template <stage St, auto Fn, class... Args>
sfsistat barrier(SMFICTX* ctx, Args... args) noexcept {
    try {
        return Fn(ctx, args...);
    } catch (const std::exception& e) {
        log::error(std::string("- internal_error stage=") + stage_name(St) + " what=" + log::quote(e.what()));
    } catch (...) {
        log::error(std::string("- internal_error stage=") + stage_name(St));
    }
    return answer_internal_error(ctx, St);
}

// The session of a message step; a step without one fails (barrier answers it).
session& need_session(SMFICTX* ctx) {
    session* s = get(ctx);
    if (s == nullptr) throw std::logic_error("no session");
    return *s;
}

// What a message step that went well answers: nothing when the MTA agreed to that.
sfsistat step_done(const session& s) { return s.no_reply ? SMFIS_NOREPLY : SMFIS_CONTINUE; }

// Takes a slot of max-connections for a new session; logs when the gate turns full.
void admit(session& s) {
    const auto a = g_rt->gate->admit();
    s.admitted = a.admitted;
    if (a.now_full) {
        log::warning("- connections_full max_connections=" + std::to_string(g_rt->gate->cap()) + " refused_total=" +
                     std::to_string(g_rt->gate->refused()) + " reply=" + log::quote(busy_reply().to_string()));
    }
}

// Creates the session (so the negotiated flags are known per connection) and asks
// for the header-adding actions, the skipped and no-reply steps and the macros.
sfsistat on_negotiate(SMFICTX* ctx, unsigned long actions, unsigned long steps, unsigned long, unsigned long,
                      unsigned long* want_actions, unsigned long* want_steps, unsigned long* p2, unsigned long* p3) {
    *want_actions = actions & (SMFIF_ADDHDRS | (g_rt->urls ? SMFIF_QUARANTINE : 0));
    *want_steps = steps & (SMFIP_NODATA | SMFIP_NOUNKNOWN | (needs_body() ? 0 : SMFIP_NOBODY));
    *p2 = *p3 = 0;
    auto s = std::make_unique<session>();  // a throw here leaves libmilter's defaults (see the barrier)
    if (smfi_setpriv(ctx, s.get()) != MI_SUCCESS) return SMFIS_CONTINUE;  // on_connect creates it
    session* ses = s.release();  // owned by libmilter's context until on_close adopts it back
    admit(*ses);
    if (!ses->admitted) return SMFIS_CONTINUE;  // no step skipped: on_connect answers 451 at once
    ses->no_reply = (steps & no_reply_steps) == no_reply_steps;
    if (ses->no_reply) *want_steps |= no_reply_steps;
    // Skipping MAIL means the envelope comes from RCPT's macros: only when
    // the macro lists are taken too (else the steps are sent as usual).
    bool macros_ok = true;
    for (auto [stage, list] : wanted_macros)
        macros_ok = macros_ok && smfi_setsymlist(ctx, stage, const_cast<char*>(list)) == MI_SUCCESS;
    if (macros_ok) *want_steps |= steps & (skipped_steps | (needs_body() ? 0 : skipped_without_signing));
    return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR* addr) {
    session* s = get(ctx);
    if (s == nullptr) {
        auto fresh = std::make_unique<session>();
        if (smfi_setpriv(ctx, fresh.get()) != MI_SUCCESS) return SMFIS_TEMPFAIL;
        s = fresh.release();  // owned by libmilter's context until on_close adopts it back
        admit(*s);
    }
    if (!s->admitted) {  // over max-connections: the MTA defers this client's mail (4.3.2)
        set_reply(ctx, busy_reply());
        return SMFIS_TEMPFAIL;
    }
    s->client_address = address_text(addr);
    return SMFIS_CONTINUE;
}

sfsistat on_helo(SMFICTX* ctx, char*) { return step_done(need_session(ctx)); }

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
    session& s = need_session(ctx);
    s.msg = message{};
    begin_message(ctx, s, argv && argv[0] ? argv[0] : "");
    return step_done(s);
}

sfsistat on_envrcpt(SMFICTX* ctx, char**) {
    session& s = need_session(ctx);
    begin_message(ctx, s, nullptr);
    ++s.msg.recipients;
    return step_done(s);
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    session& s = need_session(ctx);
    if (name == nullptr || value == nullptr) throw std::invalid_argument("header without name or value");
    message& m = s.msg;
    m.headers.add(name, value, g_rt->config->limits);  // bounded as it arrives (docs/milter.md "Under pressure")
    if (g_rt->urls != nullptr) keep_for_url_check(m, std::string(name) + ": " + value + "\r\n");
    if (g_rt->signer != nullptr && !m.headers_truncated) {
        m.header_bytes += std::strlen(name) + std::strlen(value) + 4;
        if (m.header_bytes > max_buffered_header_bytes) {
            m.headers_truncated = true;  // never sign a partial header set
            m.all_headers.clear();
        } else {
            m.all_headers.emplace_back(name, value);
        }
    }
    return step_done(s);
}

// Starts signing when the core says so (settle_without_signing); the outcome
// stays open while m.signing runs and is settled in finish_signing().
void start_signing(message& m) {
    const decision& d = *m.verdict;
    if (auto settled = settle_without_signing(d, g_rt->signer != nullptr, m.headers_truncated)) {
        m.dkim = std::move(*settled);
        return;
    }
    auto key = g_rt->signer->key_for(m.snapshot, d.signing_domain, d.signing_domain_is_operator);
    if (!key) {
        m.dkim = outcome_without_key(d, key.error());
        return;
    }
    auto session = g_rt->signer->start(*key);
    for (const auto& [n, v] : m.all_headers) session->header(n, v);
    session->end_of_headers();
    m.signing = std::move(session);
}

// Ends a running signature: the header inserted first, or the failure.
signing_outcome finish_signing(SMFICTX* ctx, signing_session& signing) {
    auto sig = signing.finish();
    if (!sig) return {dkim_status::failed, sig.error()};
    if (smfi_insheader(ctx, 0, const_cast<char*>("DKIM-Signature"), sig->data()) != MI_SUCCESS)
        return {dkim_status::failed, "smfi_insheader failed"};
    return {dkim_status::signed_ok};
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
    session& s = need_session(ctx);
    keep_for_url_check(s.msg, "\r\n");
    decide_message(ctx, s);
    return step_done(s);
}

sfsistat on_body(SMFICTX* ctx, unsigned char* bytes, size_t len) {
    session& s = need_session(ctx);
    if (s.msg.signing) s.msg.signing->body({reinterpret_cast<char*>(bytes), len});
    keep_for_url_check(s.msg, {reinterpret_cast<char*>(bytes), len});
    return step_done(s);
}

// Carries out the URL check's verdict on a message the From gate accepted. The
// header is added after the DKIM signature was made: h= does not name it, so the
// signature stays valid and the header is not covered by it.
sfsistat apply_url_verdict(SMFICTX* ctx, const url_verdict& v) {
    switch (v.action) {
        case url_action::reject:
            set_reply(ctx, v.reply);
            return SMFIS_REJECT;
        case url_action::tempfail:
            set_reply(ctx, v.reply);
            return SMFIS_TEMPFAIL;
        case url_action::hold: {
            std::string reason = "relaygate URL check: " + v.header;
            if (smfi_quarantine(ctx, reason.data()) != MI_SUCCESS) log::warning("- smfi_quarantine_failed");
            break;
        }
        case url_action::warn:
        case url_action::pass:
            break;
    }
    if (!v.header.empty()) {
        smfi_addheader(ctx, const_cast<char*>(std::string(url_header_name).c_str()),
                       const_cast<char*>(v.header.c_str()));
    }
    return SMFIS_ACCEPT;
}

// The one place a decision reaches the MTA: signature, final verdict, logs, reply, headers.
sfsistat apply(SMFICTX* ctx, session& s) {
    message& m = s.msg;
    if (m.signing) m.dkim = finish_signing(ctx, *m.signing);
    finalize(*m.verdict, m.dkim);
    const decision& d = *m.verdict;
    message_record rec{.queue_id = macro(ctx, "i"),
                       .client_address = s.client_address,
                       .sasl_login = m.sasl_login,
                       .envelope_sender = m.envelope_sender,
                       .recipient_count = m.recipients,
                       .time = g_rt->clock(),
                       .dkim = m.dkim};
    // The URL check runs only on mail the From gate lets through; its fields join the one decision line.
    std::optional<url_report> urls;
    if (g_rt->urls != nullptr && (d.action == verdict::accept || d.action == verdict::tag)) {
        const std::string sender = d.from_domains.empty() ? std::string() : d.from_domains.front();
        urls = g_rt->urls->check(m.raw, m.raw_truncated, sender);
    }
    if (urls) rec.url = urls->verdict.log_fields;
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
        smfi_addheader(ctx, const_cast<char*>(std::string(tag_header_name).c_str()),
                       const_cast<char*>(d.tag_header.c_str()));
    }
    return urls ? apply_url_verdict(ctx, urls->verdict) : SMFIS_ACCEPT;
}

sfsistat on_eom(SMFICTX* ctx) {
    session& s = need_session(ctx);
    if (!s.msg.failed && !s.msg.verdict) decide_message(ctx, s);  // end of headers was skipped
    // A step without a reply failed (already logged): the barrier's answer.
    if (s.msg.failed || !s.msg.verdict) return answer_internal_error(ctx, stage::eom);
    sfsistat rc = apply(ctx, s);
    s.msg = message{};
    return rc;
}

sfsistat on_abort(SMFICTX* ctx) {
    if (session* s = get(ctx)) s->msg = message{};
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx) {
    std::unique_ptr<session> adopted(get(ctx));  // freed here, whichever thread runs close
    smfi_setpriv(ctx, nullptr);
    if (adopted && adopted->admitted && g_rt->gate->release()) {
        log::notice("- connections_open max_connections=" + std::to_string(g_rt->gate->cap()) + " active=" +
                    std::to_string(g_rt->gate->active()) + " refused_total=" + std::to_string(g_rt->gate->refused()));
    }
    return SMFIS_CONTINUE;
}

}  // namespace

void reload_on_sighup() noexcept {
    try {
        if (g_rt != nullptr && g_rt->on_sighup) g_rt->on_sighup();
    } catch (...) {
        log::error("- sighup_failed");
    }
}

int run_milter(milter_runtime& runtime) {
    g_rt = &runtime;
    const milter_config& cfg = *runtime.config;
    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("relaygate-milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS;  // X-Relaygate-Verdict (add) and DKIM-Signature (insert at 0)
    if (runtime.urls) desc.xxfi_flags |= SMFIF_QUARANTINE;  // url action hold
    desc.xxfi_connect = barrier<stage::connect, on_connect>;
    desc.xxfi_helo = barrier<stage::helo, on_helo>;
    desc.xxfi_envfrom = barrier<stage::mail, on_envfrom>;
    desc.xxfi_envrcpt = barrier<stage::rcpt, on_envrcpt>;
    desc.xxfi_header = barrier<stage::header, on_header>;
    desc.xxfi_eoh = barrier<stage::eoh, on_eoh>;
    // Without a body callback libmilter negotiates SMFIP_NOBODY: the body is only needed to sign and scan.
    if (runtime.signer || runtime.urls) desc.xxfi_body = barrier<stage::body, on_body>;
    desc.xxfi_eom = barrier<stage::eom, on_eom>;
    desc.xxfi_abort = barrier<stage::abort, on_abort>;
    desc.xxfi_close = barrier<stage::close, on_close>;
    desc.xxfi_negotiate = barrier<stage::negotiate, on_negotiate>;
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
    set_packet_timeout_ms(static_cast<int>(cfg.packet_timeout * 1000));
    log::notice("- started socket=" + log::quote(cfg.socket) + " mode=" + std::string(to_string(cfg.mode)) +
                " signing=" + (runtime.signer ? "on" : "off") + " url_check=" + (runtime.urls ? "on" : "off") +
                " max_connections=" + std::to_string(runtime.gate->cap()) + " packet_timeout=" +
                std::to_string(cfg.packet_timeout) + " milter_timeout=" + std::to_string(cfg.milter_timeout));
    service::ready();  // Type=notify: the socket listens from here on
    int rc = smfi_main() == MI_SUCCESS ? 0 : 1;
    if (auto path = unix_socket_path(cfg.socket))
        unlink(path->c_str());  // best effort; a stale one is removed at start
    return rc;
}

}  // namespace relaygate::milter
