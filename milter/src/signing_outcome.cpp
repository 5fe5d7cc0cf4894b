// signing_outcome.cpp: the signing outcome and the final verdict (see signing_outcome.hpp).
#include "relaygate/milter/signing_outcome.hpp"

namespace relaygate::milter {
namespace {

bool delivered(const decision& d) { return d.action == verdict::accept || d.action == verdict::tag; }

}  // namespace

std::string_view to_string(dkim_status s) {
    switch (s) {
        case dkim_status::off:
            return "off";
        case dkim_status::not_delivered:
            return "";
        case dkim_status::not_signed:
            return "unsigned";
        case dkim_status::signed_ok:
            return "signed";
        case dkim_status::failed:
            return "error";
    }
    return "error";
}

std::string signing_outcome::log_value() const {
    if (status == dkim_status::failed) return "error:" + detail;
    return std::string(to_string(status));
}

std::optional<signing_outcome> settle_without_signing(const decision& d, bool signer_configured,
                                                      bool headers_truncated) {
    if (!signer_configured) return signing_outcome{dkim_status::off};
    if (!delivered(d)) return signing_outcome{dkim_status::not_delivered};
    if (d.signing_domain.empty()) return signing_outcome{dkim_status::not_signed};
    // Never sign a partial header set: the signature would not cover what is delivered.
    if (headers_truncated) return signing_outcome{dkim_status::failed, "headers_too_large"};
    return std::nullopt;
}

signing_outcome outcome_without_key(const decision& d, std::string key_error) {
    if (d.signing_domain_is_operator) return {dkim_status::not_signed};
    return {dkim_status::failed, std::move(key_error)};
}

void finalize(decision& d, const signing_outcome& signing) {
    if (signing.status != dkim_status::failed || d.action != verdict::accept) return;
    d.action = verdict::tempfail;
    d.worst = severity::temporary;
    d.reason_code = "dkim_sign_error";
    d.reason_text = "DKIM signing for " + d.signing_domain + " failed, try again later";
    d.reply = {"451", "4.7.1", d.reason_text};
}

}  // namespace relaygate::milter
