// verifier_dns_suite.hpp: the fixture the verifier integration tests share —
// one real unbound serving tests/testdata/dns/verifier.conf and a dns::resolver
// on it, started once per test suite and stopped after it; plus the test keys
// (tests/testdata/keys/) and the verify.test names of that zone.
// Callers: dkim_verifier_itest, spf_verifier_itest, domain_verifier_itest.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/harness/dns_server.hpp"

namespace relaygate::registry {

// tests/testdata/keys/<name>
std::string test_key(const std::string& name);
// "good" -> "good.verify.test"; a name ending in .test is kept as it is.
std::string verify_test_domain(const std::string& name);

class verifier_dns_suite : public ::testing::Test {
protected:
    static void SetUpTestSuite();
    static void TearDownTestSuite();
    static dns::resolver& resolver() { return *resolver_; }

private:
    static std::unique_ptr<harness::dns_server> server_;
    static std::unique_ptr<dns::resolver> resolver_;
};

}  // namespace relaygate::registry
