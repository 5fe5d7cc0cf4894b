// verifier_dns_suite.cpp: see verifier_dns_suite.hpp.
#include "verifier_dns_suite.hpp"

namespace relaygate::registry {

using namespace std::chrono_literals;

std::string test_key(const std::string& name) {
    return std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/keys/" + name;
}

std::string verify_test_domain(const std::string& name) {
    return name.ends_with(".test") ? name : name + ".verify.test";
}

std::unique_ptr<harness::dns_server> verifier_dns_suite::server_;
std::unique_ptr<dns::resolver> verifier_dns_suite::resolver_;

void verifier_dns_suite::SetUpTestSuite() {
    server_ = std::make_unique<harness::dns_server>(std::vector<std::string>{"verifier.conf"});
    resolver_ =
        std::make_unique<dns::resolver>(dns::resolver_options{.forwarders = {server_->forwarder()}, .timeout = 1000ms});
}

void verifier_dns_suite::TearDownTestSuite() {
    resolver_.reset();
    server_.reset();
}

}  // namespace relaygate::registry
