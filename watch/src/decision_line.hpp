// decision_line.hpp: internal to maillog_line.cpp — the body of a
// relaygate-milter or relaygate-policy log line (their one line per decision,
// relaygate::log format: queue id or "-", a word, then key=value pairs with
// log::quote'd values). Pure; views into the line.
#pragma once

#include <string_view>

#include "relaygate/registry/expected.hpp"
#include "relaygate/watch/maillog_line.hpp"

namespace relaygate::watch::detail {

// program: "relaygate-milter" or "relaygate-policy"; body: the text after "tag[pid]: ".
// Lines of these programs that are not decisions (start, reload...) stay kind other.
expected<maillog_record, parse_error> parse_decision_body(maillog_record r, std::string_view program,
                                                          std::string_view body);

}  // namespace relaygate::watch::detail
