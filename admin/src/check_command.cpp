// check_command.cpp: `relaygate-admin check FROM [--sasl LOGIN] [--client IP]
// [--sender SENDER]` — what relaygate-milter would answer for a message with
// this From: header value, using the milter's own decide() on the current
// snapshot. Exit 0 = accepted, 1 = rejected, 3 = temporary (451). One row of
// the table in admin_commands.cpp.
#include <ostream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/milter/decision.hpp"

namespace relaygate::admin {

int run_check(const std::vector<std::string>& args, context& ctx) {
    namespace po = boost::program_options;
    po::options_description desc("check options");
    std::string from, sasl, client, sender;
    desc.add_options()("from", po::value(&from)->required(), "the From: header value, e.g. 'News <n@example.com>'")(
        "sasl", po::value(&sasl), "SASL login of the submitter ({auth_authen})")("client", po::value(&client),
                                                                                 "client IP address of the submitter")(
        "sender", po::value(&sender), "a Sender: header value, checked like From:");
    po::positional_options_description pos;
    pos.add("from", 1);
    po::variables_map vm;
    if (auto stop = parse_command_line(command_named("check"), args, desc, pos, vm, ctx)) return *stop;

    auto reg = load_or_report(ctx);
    if (!reg) return exit_usage;
    milter::message_headers headers{.from = {from}};
    if (!sender.empty()) headers.sender.push_back(sender);
    auto d = milter::decide(*reg, headers, {.sasl_login = sasl, .client_address = client}, {});
    ctx.out << to_string(d.action) << " reason=" << d.reason_code;
    if (!d.domain.empty()) ctx.out << " domain=" << d.domain;
    ctx.out << "\n";
    if (!d.reply.empty()) ctx.out << "reply: " << d.reply.to_string() << "\n";
    if (!d.signing_domain.empty()) {
        ctx.out << "dkim: signed with d=" << d.signing_domain
                << (d.signing_domain_is_operator ? " (operator domain: only when an operator key is configured)" : "")
                << "\n";
    }
    switch (d.action) {
        case milter::verdict::accept:
        case milter::verdict::tag:
            return exit_ok;
        case milter::verdict::tempfail:
            return exit_temporary;
        case milter::verdict::reject:
            return exit_not_verified;
    }
    return exit_not_verified;
}

}  // namespace relaygate::admin
