#!/usr/bin/env bash
# 40-watch.sh: relaygate-watch, live. In a private network namespace: a real
# Postfix with msft-out (127.0.0.2) and msft-spare (127.0.0.3), relaygate-policy
# steering outlook.test by the egress state, a "Microsoft" sink refusing
# 127.0.0.2 with S3140, and a DNSBL (real unbound) listing 127.0.0.2. Shows the
# blocklisting being detected, the flip to the spare, the requeue, delivery
# from 127.0.0.3, then the delisting and the switch back. Stops all by PID.
set -euo pipefail
root=${RELAYGATE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RELAYGATE_BUILD:-$root/build/main}
# scripts/demo already runs each scenario in in-netns; nesting it would fail
# (resolv.conf is then a bind mount of a deleted file).
if [ "${WATCH_DEMO_IN_NETNS:-}" != 1 ] && [ "${RELAYGATE_IN_NETNS:-}" != 1 ]; then
  export WATCH_DEMO_IN_NETNS=1 RELAYGATE_ROOT="$root" RELAYGATE_BUILD="$build"
  exec "$root/tests/harness/in-netns" bash "$0" "$@"
fi
for t in relaygate-watch relaygate-policy; do
  [ -x "$build/${t#relaygate-}/$t" ] || { echo "40-watch: $t not built" >&2; exit 1; }
done
[ -x "$build/tests/harness/dns_server_ctl" ] || (cd "$root" && scripts/build main --target dns_server_ctl >/dev/null)
W=$(mktemp -d "${DEMO_WORK:-/tmp}/watch-demo.XXXXXX"); chmod 755 "$W"
D=$W/pf; mkdir -p "$D/etc" "$D/spool"; : > "$W/delivered.jsonl"
pids=()
cleanup() {
  postfix -c "$D/etc" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
wait_for() { local i; for i in $(seq 1 "$2"); do eval "$1" && return 0; sleep 1; done; echo "40-watch: timed out: $1" >&2; return 1; }

zone() {  # $1 = listed|clean
  { echo 'local-zone: "zen.dnsbl.test." static'
    echo 'local-data: "zen.dnsbl.test. 3600 IN SOA ns.dnsbl.test. h.dnsbl.test. 1 3600 600 86400 5"'
    [ "$1" = listed ] && echo 'local-data: "2.0.0.127.zen.dnsbl.test. 5 IN A 127.0.0.2"'
    true; } > "$W/zone.conf"
}
start_dns() {
  "$build/tests/harness/dns_server_ctl" --port 5353 "$W/zone.conf" > "$W/dns.out" 2>&1 & DNS_PID=$!; pids+=($DNS_PID)
  wait_for 'grep -q forwarder= "$W/dns.out"' 20
}
zone listed; start_dns
echo '{"mail_reply_by_ip": {"127.0.0.2": "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren'"'"'t sent. Please contact your Internet service provider since part of their network is on our block list (S3140)."}}' > "$W/rules.json"
python3 "$root/tests/watch/msft_sink.py" 127.0.0.1 2792 "$W/rules.json" "$W/delivered.jsonl" & pids+=($!)
smtp-sink -u nobody 127.0.0.1:2791 100 & pids+=($!)
echo outlook.test > "$W/microsoft-domains"
"$build/policy/relaygate-policy" --policy-listen "" --socketmap-listen inet:127.0.0.1:10041 \
  --microsoft-domains "$W/microsoft-domains" --transport-nexthop '[127.0.0.1]:2792' --mx-detection 0 \
  --egress-file "$W/egress.json" --log-sink stderr 2> "$W/policy.log" & pids+=($!)
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
relayhost = [127.0.0.1]:2791
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $D/maillog
maillog_file_prefixes = $D
transport_maps = socketmap:inet:127.0.0.1:10041:transport
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
EOF
cp "$root/postfix-conf/msft_dsn_filter" "$D/etc/"
cp /usr/share/postfix/master.cf.dist "$D/etc/master.cf"
postconf -c "$D/etc" -F '*/*/chroot=n'
postconf -c "$D/etc" -MX smtp/inet
postconf -c "$D/etc" -M '127.0.0.1:2525/inet=127.0.0.1:2525 inet n - n - - smtpd' \
  'msft-out/unix=msft-out unix - - n - 4 smtp' 'msft-spare/unix=msft-spare unix - - n - 4 smtp'
for t in msft-out:127.0.0.2 msft-spare:127.0.0.3; do
  postconf -c "$D/etc" -P "${t%%:*}/unix/syslog_name=postfix/${t%%:*}" "${t%%:*}/unix/smtp_bind_address=${t#*:}" \
    "${t%%:*}/unix/smtp_bind_address_enforce=yes" "${t%%:*}/unix/smtp_delivery_status_filter=regexp:$D/etc/msft_dsn_filter"
done
postfix -c "$D/etc" start >/dev/null 2>&1
wait_for '[ -s "$D/maillog" ]' 10

say "20 newsletters to outlook.test leave from 127.0.0.2; Microsoft answers S3140 (msft_dsn_filter keeps them queued)"
smtp-source -s 4 -m 20 -f news@brand.test -t reader@outlook.test 127.0.0.1:2525
wait_for '[ "$(grep -c "msft-out/smtp.*status=deferred" "$D/maillog")" -ge 20 ]' 30
grep -m1 "msft-out/smtp.*status=deferred" "$D/maillog" | cut -c1-230
echo "   ... $(grep -c 'status=deferred' "$D/maillog") deferred, $(grep -c 'status=bounced' "$D/maillog" || true) bounced"

say "relaygate-watch starts: DNSBL sweep + log monitoring"
"$build/watch/relaygate-watch" --maillog "$D/maillog" --state-dir "$W/watch" --postfix-config-dir "$D/etc" \
  --egress-state-file "$W/egress.json" \
  --transport postfix/msft-out=msft-out,microsoft,127.0.0.2 --transport postfix/msft-spare=msft-spare,microsoft,127.0.0.3 \
  --failover microsoft=msft-out,msft-spare,127.0.0.2 --dnsbl-ip 127.0.0.2 --dnsbl-ip 127.0.0.3 \
  --dnsbl-zone 'zen.dnsbl.test;listed=127.0.0.2-127.0.0.11;unknown=127.255.255.252,127.255.255.254,127.255.255.255' \
  --dns-forwarder 127.0.0.1@5353 --dnsbl-interval 5 --dnsbl-timeout-ms 2000 --alert-window 60 --hold-down 5 \
  --alert-hook "cat >> $W/alerts.jsonl" --metrics-listen 127.0.0.1:9465 --log-sink stderr 2> "$W/watch.log" & pids+=($!)
wait_for 'grep -q "requeue family=microsoft" "$W/watch.log"' 30
grep -E "alert family=microsoft transport=msft-out sender_domain=\(all\)|dnsbl ip=127.0.0.2|flip family|requeue" "$W/watch.log" | sed 's/^/   /'
echo "   hook got: $(head -1 "$W/alerts.jsonl")"

say "the requeued mail leaves through the spare (127.0.0.3)"
wait_for '[ "$(grep -c "\"127.0.0.3\"" "$W/delivered.jsonl" 2>/dev/null || true)" -ge 20 ]' 60
echo "   delivered by source IP: $(python3 -c "import json,collections,sys; print(dict(collections.Counter(json.loads(l)['client'] for l in open(sys.argv[1]))))" "$W/delivered.jsonl")"
curl -s http://127.0.0.1:9465/metrics | grep -E '^relaygate_watch_(active_transport|flips_total|ip_listed|requeued_total)|msft-spare",status="sent"' | sed 's/^/   /'

say "Microsoft delists 127.0.0.2, the DNSBL too; after the window drains and the hold-down, the watch switches back"
echo '{}' > "$W/rules.json"
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null || true
zone clean; start_dns
wait_for 'grep -q "flip family=microsoft from=msft-spare to=msft-out" "$W/watch.log"' 120
grep "flip family=microsoft from=msft-spare" "$W/watch.log" | sed 's/^/   /'
sleep 1
# A new recipient: qmgr may reuse a cached transport resolution for up to 30 s.
smtp-source -m 3 -f news@brand.test -t later@outlook.test 127.0.0.1:2525
wait_for '[ "$(grep -c "\"127.0.0.2\"" "$W/delivered.jsonl" 2>/dev/null || true)" -ge 3 ]' 30
echo "   delivered by source IP: $(python3 -c "import json,collections,sys; print(dict(collections.Counter(json.loads(l)['client'] for l in open(sys.argv[1]))))" "$W/delivered.jsonl")"
echo "   failure ledger (what must be resent): $("$build/watch/relaygate-watch" --list-failures --state-dir "$W/watch" --since 1h | wc -l) rows"
