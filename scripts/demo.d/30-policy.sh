# 30-policy.sh: relaygate-policy in front of a private Postfix, in its own
# network namespace (tests/harness/in-netns): ONE message to a Gmail, a
# Hotmail and a Microsoft 365 tenant recipient is split by recipient - the
# Microsoft ones leave from 127.0.0.2 (msft-out), the other from 127.0.0.1;
# after a flip of the egress state, Microsoft mail leaves from 127.0.0.3
# (msft-spare); a sender over its quota gets 450 4.7.1 at RCPT.
# Run by scripts/demo (RELAYGATE_ROOT, RELAYGATE_BUILD, DEMO_WORK set).
set -euo pipefail
# shellcheck source=../lib/harness.sh
. "$RELAYGATE_ROOT/scripts/lib/harness.sh"
harness_netns "$0" "$@"
echo
echo "== relaygate-policy: per-recipient steering, failover, volume limits =="
harness_begin policy
W=$HARNESS_WORK

# The test DNS: tenant.test has MX tenant-test.mail.protection.outlook.com.
forwarder=$(harness_dns policy.conf)

# Two sinks: the ordinary relay and the "Microsoft" MX; their dumps carry X-Client-Addr.
plain=$(harness_start sink --name sink-plain)
msft=$(harness_start sink --name sink-msft)

# relaygate-policy: both protocols; quota 3 recipients per 4 s per sender domain (small, for the demo).
: >"$W/domains.conf"
cat >"$W/policy.conf" <<EOF
policy-listen = inet:127.0.0.1:10040
socketmap-listen = inet:127.0.0.1:10041
microsoft-domains = $RELAYGATE_ROOT/postfix-conf/microsoft-domains
transport-nexthop = [127.0.0.1]:$msft
limit = sender_domain:recipients:3/4s
egress-file = $W/egress.json
admin-file = $W/domains.conf
state-file = $W/state.json
dns-forwarder = $forwarder
log-sink = stderr
log-level = info
EOF
"$RELAYGATE_BUILD/policy/relaygate-policy" --config "$W/policy.conf" 2>"$W/policy.log" &
harness_adopt $!
harness_wait 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10041' 2>/dev/null

# A private Postfix wired as postfix-conf/policy.main.cf and policy.master.cf say.
smtpd=$(harness_start postfix --relayhost "[127.0.0.1]:$plain" \
  --transport msft-out=127.0.0.2 --transport msft-spare=127.0.0.3 \
  --main "transport_maps = socketmap:inet:127.0.0.1:10041:transport" \
  --main "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO, timeout=5s }, permit_mynetworks, reject" \
  --main "msft-out_destination_concurrency_limit = 2" --main "msft-spare_destination_concurrency_limit = 2")

sink_lines() {
  harness_ctl sink list --dir "$(harness_dir sink-plain)" | sed 's/^/plain /'
  harness_ctl sink list --dir "$(harness_dir sink-msft)" | sed 's/^/msft /'
}
show_sinks() {
  local s addr rcpts
  sink_lines | sed -n 's/^\([a-z]*\) client_addr=\([^ ]*\) mail_from=[^ ]* rcpts=\([^ ]*\) .*/\1 \2 \3/p' |
    while read -r s addr rcpts; do
      printf '  sink %-5s from %-9s to %s\n' "$s" "$addr" "${rcpts//,/ }"
    done
}
delivered_at_least() { [ "$(sink_lines | wc -l)" -ge "$1" ]; }

echo "-- 1. one message to alice@gmail.test, Bob@Hotmail.com, carol@tenant.test"
swaks --server 127.0.0.1 --port "$smtpd" --from news@brand.test \
  --to alice@gmail.test,Bob@Hotmail.com,carol@tenant.test --h-Subject "split me" >"$W/swaks1.log" 2>&1
harness_wait 30 delivered_at_least 2 || echo "  (deliveries still pending)"
show_sinks
grep -o 'socketmap key=[^ ]* domain=[^ ]* reply="[^"]*" reason=[a-z_]*' "$W/policy.log" | grep -v 'key=\*' | sort -u | sed 's/^/  policy: /'

echo "-- 2. the egress state flips to the spare (relaygate-watch does this on a blocklisting; here by hand)"
"$RELAYGATE_BUILD/admin/relaygate-admin" --outbound-ip 127.0.0.1 egress set microsoft msft-spare \
  --reason "demo: designated IP listed" --egress-state-file "$W/egress.json" | sed 's/^/  admin: /'
"$RELAYGATE_BUILD/admin/relaygate-admin" --outbound-ip 127.0.0.1 egress show --egress-state-file "$W/egress.json" |
  sed 's/^/  admin: /'
sleep 0.3
swaks --server 127.0.0.1 --port "$smtpd" --from news@brand2.test --to dave@outlook.jp --h-Subject "after flip" >"$W/swaks2.log" 2>&1
harness_wait 30 delivered_at_least 3 || echo "  (delivery still pending)"
show_sinks | grep dave || true

echo "-- 3. a sender over its quota (3 recipients per 4 s) is deferred at RCPT"
swaks --server 127.0.0.1 --port "$smtpd" --from flood@bulk.test --to a@gmail.test,b@gmail.test,c@gmail.test,d@gmail.test \
  --quit-after RCPT >"$W/swaks3.log" 2>&1 || true
grep -E '^<\*\* 4[0-9][0-9] ' "$W/swaks3.log" | sed 's/^<\*\* /  client got: /' | head -3 || true
grep 'action=defer_rate' "$W/policy.log" | head -1 | sed 's/^relaygate-policy: notice: /  policy log: /' || true
