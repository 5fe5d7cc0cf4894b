// redis_counter_store.hpp: the shared counter_store of several relaygate-policy
// daemons, in Redis over the one redis_connection (relaygate_egress). One EVAL
// per apply() (atomic check-then-add on the server); keys
// "<prefix>rate:<key>:<metric>:<window_s>:<index>" expire after 2 windows.
// Unreachable -> failed=true (the caller fails open with DUNNO, logs, counts);
// reconnects at most once per second. Used by main.cpp.
#pragma once

#include <memory>
#include <string>

#include "relaygate/egress/redis_connection.hpp"
#include "relaygate/policy/counter_store.hpp"

namespace relaygate::policy {

std::unique_ptr<counter_store> make_redis_counter_store(egress::redis_endpoint endpoint, std::string prefix,
                                                        int timeout_ms = 100);

}  // namespace relaygate::policy
