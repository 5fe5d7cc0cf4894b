// signing_outcome: the table of the signing outcome and of finalize(), the
// final verdict after signing — every branch: signing off, not delivered, no
// domain, truncated headers, operator or customer domain without a key, signed
// or failed; accept, tag, reject and tempfail through finalize. Each row names
// the sentence it proves.
#include "relaygate/milter/signing_outcome.hpp"

#include <gtest/gtest.h>

namespace relaygate::milter {
namespace {

decision with(verdict v, std::string signing_domain = "", bool is_operator = false) {
    decision d;
    d.action = v;
    d.signing_domain = std::move(signing_domain);
    d.signing_domain_is_operator = is_operator;
    if (v == verdict::reject) {
        d.worst = severity::permanent;
        d.reason_code = "not_registered";
        d.reply = {"550", "5.7.1", "From domain x.example is not registered"};
    } else if (v == verdict::tempfail) {
        d.worst = severity::temporary;
        d.reason_code = "dkim_temporary";
        d.reply = {"451", "4.7.1", "DKIM record of x.example could not be checked"};
    } else if (v == verdict::tag) {
        d.tag_header = "reject reason=not_registered";
    }
    return d;
}

struct settle_case {
    std::string name;
    decision d;
    bool signer = true;
    bool truncated = false;
    std::string expected;  // the log value, or "sign" when the shell must sign
};

void PrintTo(const settle_case& c, std::ostream* os) { *os << c.name; }

class settles : public ::testing::TestWithParam<settle_case> {};

TEST_P(settles, the_outcome_before_any_key_is_read) {
    const auto& c = GetParam();
    auto o = settle_without_signing(c.d, c.signer, c.truncated);
    EXPECT_EQ(o ? o->log_value() : "sign", c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    signing, settles,
    ::testing::Values(
        settle_case{"no_signer_means_off_whatever_the_verdict", with(verdict::accept, "v.example"), false, false,
                    "off"},
        settle_case{"no_signer_means_off_for_a_rejection_too", with(verdict::reject), false, false, "off"},
        settle_case{"a_rejected_message_is_not_signed", with(verdict::reject, "v.example"), true, false, ""},
        settle_case{"a_deferred_message_is_not_signed", with(verdict::tempfail, "v.example"), true, false, ""},
        settle_case{"an_accepted_message_without_a_domain_is_unsigned", with(verdict::accept), true, false, "unsigned"},
        settle_case{"a_tagged_message_without_a_domain_is_unsigned", with(verdict::tag), true, false, "unsigned"},
        settle_case{"truncated_headers_are_never_signed", with(verdict::accept, "v.example"), true, true,
                    "error:headers_too_large"},
        settle_case{"an_accepted_message_with_a_domain_is_signed", with(verdict::accept, "v.example"), true, false,
                    "sign"},
        settle_case{"a_tagged_message_with_a_domain_is_signed", with(verdict::tag, "v.example"), true, false, "sign"}),
    [](const auto& info) { return info.param.name; });

TEST(outcome_without_key, an_operator_domain_without_a_key_is_simply_unsigned) {
    auto o = outcome_without_key(with(verdict::accept, "relay.example.net", true), "no key configured");
    EXPECT_EQ(o.status, dkim_status::not_signed);
    EXPECT_EQ(o.log_value(), "unsigned");
}

TEST(outcome_without_key, a_customer_domain_without_a_usable_key_is_a_failure_that_names_it) {
    auto o = outcome_without_key(with(verdict::accept, "v.example"), "/keys/v.pem: cannot read");
    EXPECT_EQ(o.status, dkim_status::failed);
    EXPECT_EQ(o.log_value(), "error:/keys/v.pem: cannot read");
}

struct finalize_case {
    std::string name;
    decision d;
    signing_outcome signing;
    verdict action;
    std::string reason_code;
    std::string reply;
};

void PrintTo(const finalize_case& c, std::ostream* os) { *os << c.name; }

class finalizes : public ::testing::TestWithParam<finalize_case> {};

TEST_P(finalizes, the_verdict_that_reaches_the_mta) {
    const auto& c = GetParam();
    decision d = c.d;
    finalize(d, c.signing);
    EXPECT_EQ(to_string(d.action), to_string(c.action));
    EXPECT_EQ(d.reason_code, c.reason_code);
    EXPECT_EQ(d.reply.to_string(), c.reply);
    EXPECT_EQ(d.signing_domain, c.d.signing_domain);
    EXPECT_EQ(d.tag_header, c.d.tag_header);
}

const signing_outcome signed_ok{dkim_status::signed_ok};
const signing_outcome failed{dkim_status::failed, "smfi_insheader failed"};
const signing_outcome unsigned_{dkim_status::not_signed};
const signing_outcome off{dkim_status::off};
const signing_outcome not_delivered{dkim_status::not_delivered};

INSTANTIATE_TEST_SUITE_P(
    final_verdict, finalizes,
    ::testing::Values(
        finalize_case{"a_signed_accept_stays_accepted", with(verdict::accept, "v.example"), signed_ok, verdict::accept,
                      "ok", ""},
        finalize_case{"an_unsigned_accept_stays_accepted", with(verdict::accept, "relay.example.net", true), unsigned_,
                      verdict::accept, "ok", ""},
        finalize_case{"an_accept_with_signing_off_stays_accepted", with(verdict::accept, "v.example"), off,
                      verdict::accept, "ok", ""},
        finalize_case{"a_failed_signature_turns_accept_into_451", with(verdict::accept, "v.example"), failed,
                      verdict::tempfail, "dkim_sign_error",
                      "451 4.7.1 DKIM signing for v.example failed, try again later"},
        finalize_case{"a_failed_signature_leaves_tag_mode_tagging", with(verdict::tag, "v.example"), failed,
                      verdict::tag, "ok", ""},
        finalize_case{"a_signed_tag_stays_tagged", with(verdict::tag, "v.example"), signed_ok, verdict::tag, "ok", ""},
        finalize_case{"a_rejection_passes_unchanged", with(verdict::reject), not_delivered, verdict::reject,
                      "not_registered", "550 5.7.1 From domain x.example is not registered"},
        finalize_case{"a_deferral_passes_unchanged", with(verdict::tempfail), not_delivered, verdict::tempfail,
                      "dkim_temporary", "451 4.7.1 DKIM record of x.example could not be checked"},
        finalize_case{"a_rejection_stays_a_rejection_even_beside_a_failure", with(verdict::reject), failed,
                      verdict::reject, "not_registered", "550 5.7.1 From domain x.example is not registered"}),
    [](const auto& info) { return info.param.name; });

TEST(finalize, a_failed_signature_marks_the_verdict_temporary) {
    auto d = with(verdict::accept, "v.example");
    finalize(d, failed);
    EXPECT_EQ(d.worst, severity::temporary);
    EXPECT_EQ(d.reason_text, "DKIM signing for v.example failed, try again later");
}

TEST(dkim_status, every_status_has_its_log_value) {
    EXPECT_EQ(signing_outcome{dkim_status::off}.log_value(), "off");
    EXPECT_EQ(signing_outcome{dkim_status::not_delivered}.log_value(), "");
    EXPECT_EQ(signing_outcome{dkim_status::not_signed}.log_value(), "unsigned");
    EXPECT_EQ(signing_outcome{dkim_status::signed_ok}.log_value(), "signed");
    EXPECT_EQ((signing_outcome{dkim_status::failed, "x"}.log_value()), "error:x");
}

}  // namespace
}  // namespace relaygate::milter
