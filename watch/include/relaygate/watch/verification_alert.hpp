// verification_alert.hpp: the words of a verification event (grace started,
// demoted, recovered, verified, pending too long) — its log line and the JSON
// the alert hook receives on stdin. Pure; called by the watch's re-verification
// shell (watch/reverify_service.cpp). Formats documented in docs/watch.md.
#pragma once

#include <string>

#include "relaygate/verify/verification_events.hpp"

namespace relaygate::watch {

// "- verification_alert event=grace_started domain=a.example state=verified reason=spf_fail ..."
std::string verification_log_line(const registry::verification_event& e);
// {"type":"verification","event":"grace_started","time":...,"domain":...,"owner":...,...}
std::string verification_hook_json(const registry::verification_event& e, const std::string& owner);

}  // namespace relaygate::watch
