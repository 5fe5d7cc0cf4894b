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
export RELAYGATE_ROOT=$root RELAYGATE_BUILD=$build
# shellcheck source=../lib/harness.sh
. "$root/scripts/lib/harness.sh"
harness_netns "$0" "$@"
for t in watch/relaygate-watch policy/relaygate-policy tests/harness/harness_ctl; do
  [ -x "$build/$t" ] || { echo "40-watch: $t not built" >&2; exit 1; }
done
[ -x "$build/tests/harness/dns_server_ctl" ] || (cd "$root" && scripts/build main --target dns_server_ctl >/dev/null)
harness_begin watch
W=$HARNESS_WORK
: >"$W/delivered.jsonl"
say() { printf '\n== %s\n' "$*"; }
wait_for() { harness_wait "$2" eval "$1" || { echo "40-watch: timed out: $1" >&2; return 1; }; }

zone() {  # $1 = listed|clean
  { echo 'local-zone: "zen.dnsbl.test." static'
    echo 'local-data: "zen.dnsbl.test. 3600 IN SOA ns.dnsbl.test. h.dnsbl.test. 1 3600 600 86400 5"'
    [ "$1" = listed ] && echo 'local-data: "2.0.0.127.zen.dnsbl.test. 5 IN A 127.0.0.2"'
    true; } > "$W/zone.conf"
}
zone listed
harness_dns --port 5353 "$W/zone.conf" >/dev/null
echo '{"mail_reply_by_ip": {"127.0.0.2": "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren'"'"'t sent. Please contact your Internet service provider since part of their network is on our block list (S3140)."}}' > "$W/rules.json"
python3 "$root/tests/watch/msft_sink.py" 127.0.0.1 2792 "$W/rules.json" "$W/delivered.jsonl" &
harness_adopt $!
plain=$(harness_start sink)
echo outlook.test > "$W/microsoft-domains"
"$build/policy/relaygate-policy" --policy-listen "" --socketmap-listen inet:127.0.0.1:10041 \
  --microsoft-domains "$W/microsoft-domains" --transport-nexthop '[127.0.0.1]:2792' --mx-detection 0 \
  --egress-file "$W/egress.json" --log-sink stderr 2> "$W/policy.log" &
harness_adopt $!
D=$(harness_dir postfix)
filter=()
for t in msft-out msft-spare; do filter+=(--param "$t/unix/smtp_delivery_status_filter=regexp:$D/etc/msft_dsn_filter"); done
smtpd=$(harness_start postfix --relayhost "[127.0.0.1]:$plain" --file "msft_dsn_filter=$root/postfix-conf/msft_dsn_filter" \
  --transport msft-out=127.0.0.2 --transport msft-spare=127.0.0.3 "${filter[@]}" \
  --main "transport_maps = socketmap:inet:127.0.0.1:10041:transport" \
  --main "minimal_backoff_time = 2s" --main "maximal_backoff_time = 4s" --main "queue_run_delay = 2s")
wait_for '[ -s "$D/maillog" ]' 10

say "20 newsletters to outlook.test leave from 127.0.0.2; Microsoft answers S3140 (msft_dsn_filter keeps them queued)"
smtp-source -s 4 -m 20 -f news@brand.test -t reader@outlook.test "127.0.0.1:$smtpd"
wait_for '[ "$(grep -c "msft-out/smtp.*status=deferred" "$D/maillog")" -ge 20 ]' 30
grep -m1 "msft-out/smtp.*status=deferred" "$D/maillog" | cut -c1-230
echo "   ... $(grep -c 'status=deferred' "$D/maillog") deferred, $(grep -c 'status=bounced' "$D/maillog" || true) bounced"

say "relaygate-watch starts: DNSBL sweep + log monitoring"
"$build/watch/relaygate-watch" --reverify off --maillog "$D/maillog" --state-dir "$W/watch" --postfix-config-dir "$D/etc" \
  --egress-state-file "$W/egress.json" \
  --transport postfix/msft-out=msft-out,microsoft,127.0.0.2 --transport postfix/msft-spare=msft-spare,microsoft,127.0.0.3 \
  --failover microsoft=msft-out,msft-spare,127.0.0.2 --dnsbl-ip 127.0.0.2 --dnsbl-ip 127.0.0.3 \
  --dnsbl-zone 'zen.dnsbl.test;listed=127.0.0.2-127.0.0.11;unknown=127.255.255.252,127.255.255.254,127.255.255.255' \
  --dns-forwarder 127.0.0.1@5353 --dnsbl-interval 5 --dnsbl-timeout-ms 2000 --alert-window 60 --hold-down 5 \
  --alert-hook "cat >> $W/alerts.jsonl" --metrics-listen 127.0.0.1:9465 --log-sink stderr 2> "$W/watch.log" &
harness_adopt $!
wait_for 'grep -q "requeue family=microsoft" "$W/watch.log"' 30
grep -E "alert family=microsoft transport=msft-out sender_domain=\(all\)|dnsbl ip=127.0.0.2|flip family|requeue" "$W/watch.log" | sed 's/^/   /'
echo "   hook got: $(head -1 "$W/alerts.jsonl")"

say "the requeued mail leaves through the spare (127.0.0.3)"
wait_for '[ "$(grep -c "\"127.0.0.3\"" "$W/delivered.jsonl" 2>/dev/null || true)" -ge 20 ]' 60
echo "   delivered by source IP: $(python3 -c "import json,collections,sys; print(dict(collections.Counter(json.loads(l)['client'] for l in open(sys.argv[1]))))" "$W/delivered.jsonl")"
curl -s http://127.0.0.1:9465/metrics | grep -E '^relaygate_watch_(active_transport|flips_total|ip_listed|requeued_total)|msft-spare",status="sent"' | sed 's/^/   /'

say "Microsoft delists 127.0.0.2, the DNSBL too; after the window drains and the hold-down, the watch switches back"
echo '{}' > "$W/rules.json"
harness_stop_dns
zone clean
harness_dns --port 5353 "$W/zone.conf" >/dev/null
wait_for 'grep -q "flip family=microsoft from=msft-spare to=msft-out" "$W/watch.log"' 120
grep "flip family=microsoft from=msft-spare" "$W/watch.log" | sed 's/^/   /'
sleep 1
# A new recipient: qmgr may reuse a cached transport resolution for up to 30 s.
smtp-source -m 3 -f news@brand.test -t later@outlook.test "127.0.0.1:$smtpd"
wait_for '[ "$(grep -c "\"127.0.0.2\"" "$W/delivered.jsonl" 2>/dev/null || true)" -ge 3 ]' 30
echo "   delivered by source IP: $(python3 -c "import json,collections,sys; print(dict(collections.Counter(json.loads(l)['client'] for l in open(sys.argv[1]))))" "$W/delivered.jsonl")"
echo "   failure ledger (what must be resent): $("$build/admin/relaygate-admin" --outbound-ip 127.0.0.1 failures --ledger "$W/watch/ledger.sqlite" --since 1h | wc -l) rows"
