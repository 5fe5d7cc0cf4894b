// signing_outcome.hpp: where the signing outcome and the final verdict are
// decided, pure. decide() gives the From verdict; the shell asks
// settle_without_signing() whether to sign at all, signs (I/O: key, libopendkim,
// smfi_insheader), and finalize() turns the pair into what reaches the MTA.
// Called by the milter shell at end of headers / end of message; tested directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "relaygate/milter/decision.hpp"

namespace relaygate::milter {

// What became of DKIM signing for one message; a closed set.
enum class dkim_status {
    off,            // signing is not configured
    not_delivered,  // the verdict rejects or defers: nothing to sign
    not_signed,     // no domain to sign for, or an operator domain without a configured key
    signed_ok,      // a DKIM-Signature header was inserted
    failed,         // signing should have happened and did not (detail says why)
};
// The log value: "off", "" (not shown), "unsigned", "signed", "error".
std::string_view to_string(dkim_status s);

struct signing_outcome {
    dkim_status status = dkim_status::off;
    std::string detail;  // failed: why ("headers_too_large", the key or libopendkim error)

    // The dkim= value of the decision line: to_string(status), "error:<detail>" when failed.
    std::string log_value() const;
};

// The outcome when no signing is needed or possible, or nullopt: look up the
// key for d.signing_domain and sign. Never signs a message that is not delivered.
std::optional<signing_outcome> settle_without_signing(const decision& d, bool signer_configured,
                                                      bool headers_truncated);

// The outcome when no key could be had for d.signing_domain: an operator domain
// without a configured key is simply not signed; a customer key must work.
signing_outcome outcome_without_key(const decision& d, std::string key_error);

// Makes d the final verdict: a verified domain's accepted mail must leave
// signed, so a failed signature turns accept into 451 4.7.1 (reason
// dkim_sign_error) and the client keeps the message until the key works. Tag
// mode stays tag (it never refuses); every other verdict passes unchanged.
// In place: the decision is not copied on the hot path.
void finalize(decision& d, const signing_outcome& signing);

}  // namespace relaygate::milter
