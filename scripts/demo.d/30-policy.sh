# 30-policy.sh: relaygate-policy in front of a private Postfix, in its own
# network namespace (tests/harness/in-netns): ONE message to a Gmail, a
# Hotmail and a Microsoft 365 tenant recipient is split by recipient - the
# Microsoft ones leave from 127.0.0.2 (msft-out), the other from 127.0.0.1;
# after a flip of the egress state, Microsoft mail leaves from 127.0.0.3
# (msft-spare); a sender over its quota gets 450 4.7.1 at RCPT.
# Run by scripts/demo (RELAYGATE_ROOT, RELAYGATE_BUILD, DEMO_WORK set).
set -euo pipefail
if [ -z "${RELAYGATE_IN_NETNS:-}" ]; then
  exec "$RELAYGATE_ROOT/tests/harness/in-netns" bash "$0" "$@"
fi
echo
echo "== relaygate-policy: per-recipient steering, failover, volume limits =="
W="$DEMO_WORK/policy"
mkdir -p "$W"
chmod 755 "$DEMO_WORK" "$W"  # Postfix daemons (user postfix) must reach their dirs
pids=()
cleanup() {
  postfix -c "$W/pf/etc" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
wait_for() {  # wait_for SECONDS CMD...: bounded polling
  local t=$(( $1 * 10 )); shift
  for ((i = 0; i < t; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# The test DNS: tenant.test has MX tenant-test.mail.protection.outlook.com.
"$RELAYGATE_BUILD/tests/harness/dns_server_ctl" policy.conf >"$W/dns.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q forwarder= "$W/dns.out"
forwarder=$(sed -n 's/.*forwarder=\([^ ]*\).*/\1/p' "$W/dns.out")

# Two sinks: the ordinary relay and the "Microsoft" MX; -d dumps X-Client-Addr.
mkdir -p "$W/sink-plain" "$W/sink-msft"
chmod 777 "$W/sink-plain" "$W/sink-msft"
smtp-sink -u nobody -d "$W/sink-plain/%M%S." 127.0.0.1:2626 100 & pids+=($!)
smtp-sink -u nobody -d "$W/sink-msft/%M%S." 127.0.0.1:2627 100 & pids+=($!)

# relaygate-policy: both protocols; quota 3 recipients per 4 s per sender domain (small, for the demo).
: > "$W/domains.conf"
cat > "$W/policy.conf" <<EOF
policy-listen = inet:127.0.0.1:10040
socketmap-listen = inet:127.0.0.1:10041
microsoft-domains = $RELAYGATE_ROOT/postfix-conf/microsoft-domains
transport-nexthop = [127.0.0.1]:2627
limit = sender_domain:recipients:3/4s
egress-file = $W/egress.json
admin-file = $W/domains.conf
state-file = $W/state.json
dns-forwarder = $forwarder
log-sink = stderr
log-level = info
EOF
"$RELAYGATE_BUILD/policy/relaygate-policy" --config "$W/policy.conf" 2>"$W/policy.log" & pids+=($!)
wait_for 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10041' 2>/dev/null

# A private Postfix wired as postfix-conf/policy.main.cf and policy.master.cf say.
D="$W/pf"; mkdir -p "$D/etc" "$D/spool"
cat > "$D/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/spool
data_directory = $D/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:2626
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $D/maillog
maillog_file_prefixes = $D
transport_maps = socketmap:inet:127.0.0.1:10041:transport
smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO, timeout=5s }, permit_mynetworks, reject
msft-out_destination_concurrency_limit = 2
msft-spare_destination_concurrency_limit = 2
EOF
cp /usr/share/postfix/master.cf.dist "$D/etc/master.cf"
postconf -c "$D/etc" -F '*/*/chroot=n'
postconf -c "$D/etc" -MX smtp/inet
postconf -c "$D/etc" -M '127.0.0.1:2525/inet=127.0.0.1:2525 inet n - n - - smtpd' \
  'msft-out/unix=msft-out unix - - n - 4 smtp' 'msft-spare/unix=msft-spare unix - - n - 4 smtp'
postconf -c "$D/etc" -P msft-out/unix/syslog_name=postfix/msft-out msft-out/unix/smtp_bind_address=127.0.0.2 \
  msft-out/unix/smtp_bind_address_enforce=yes msft-spare/unix/syslog_name=postfix/msft-spare \
  msft-spare/unix/smtp_bind_address=127.0.0.3 msft-spare/unix/smtp_bind_address_enforce=yes
postfix -c "$D/etc" start >/dev/null 2>&1

show_sinks() {
  for s in plain msft; do
    for f in "$W/sink-$s"/*; do
      [ -f "$f" ] || continue
      printf '  sink %-5s from %-9s to %s\n' "$s" "$(sed -n 's/^X-Client-Addr: //p' "$f" | head -1)" \
        "$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | tr '\n' ' ')"
    done
  done
}
count() { ls "$W/sink-plain" "$W/sink-msft" 2>/dev/null | grep -c '\.' || true; }

echo "-- 1. one message to alice@gmail.test, Bob@Hotmail.com, carol@tenant.test"
swaks --server 127.0.0.1 --port 2525 --from news@brand.test \
  --to alice@gmail.test,Bob@Hotmail.com,carol@tenant.test --h-Subject "split me" >"$W/swaks1.log" 2>&1
wait_for 30 test "$(count)" -ge 2 || echo "  (deliveries still pending)"
sleep 0.5
show_sinks
grep -o 'socketmap key=[^ ]* domain=[^ ]* reply="[^"]*" reason=[a-z_]*' "$W/policy.log" | grep -v 'key=\*' | sort -u | sed 's/^/  policy: /'

echo "-- 2. the egress state flips to the spare (relaygate-watch does this on a blocklisting; here by hand)"
"$RELAYGATE_BUILD/admin/relaygate-admin" --outbound-ip 127.0.0.1 egress set microsoft msft-spare \
  --reason "demo: designated IP listed" --egress-state-file "$W/egress.json" | sed 's/^/  admin: /'
"$RELAYGATE_BUILD/admin/relaygate-admin" --outbound-ip 127.0.0.1 egress show --egress-state-file "$W/egress.json" |
  sed 's/^/  admin: /'
sleep 0.3
swaks --server 127.0.0.1 --port 2525 --from news@brand2.test --to dave@outlook.jp --h-Subject "after flip" >"$W/swaks2.log" 2>&1
wait_for 30 test "$(count)" -ge 3 || echo "  (delivery still pending)"
sleep 0.5
show_sinks | grep dave || true

echo "-- 3. a sender over its quota (3 recipients per 4 s) is deferred at RCPT"
swaks --server 127.0.0.1 --port 2525 --from flood@bulk.test --to a@gmail.test,b@gmail.test,c@gmail.test,d@gmail.test \
  --quit-after RCPT >"$W/swaks3.log" 2>&1 || true
grep -E '^<\*\* 4[0-9][0-9] ' "$W/swaks3.log" | sed 's/^<\*\* /  client got: /' | head -3 || true
grep 'action=defer_rate' "$W/policy.log" | head -1 | sed 's/^relaygate-policy: notice: /  policy log: /' || true
