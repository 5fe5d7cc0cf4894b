#!/usr/bin/env bash
# capture.sh: reproduces tests/testdata/watch/postfix37.log, the real Postfix
# 3.7 lines the maillog parser tests run on. Starts a private Postfix (recipe of
# postfix-tech.md §2/§6, loopback only) with a "Microsoft" transport bound to
# 127.0.0.2 with the msft_dsn_filter and a spare bound to 127.0.0.3, a
# smtp-sink default relay and tests/watch/msft_sink.py answering Microsoft's
# texts, sends a set of messages, then stops everything by PID.
#   [LONG_IDS=yes] capture.sh OUT_FILE   (as root; ports 127.0.0.1:2790-2792 free)
set -euo pipefail
out=$(realpath -m "$1")
src=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d /tmp/watch-capture.XXXXXX)
chmod 755 "$work"; D=$work/pf
mkdir -p "$D/etc" "$D/spool" "$work/sink"
pids=()
cleanup() {
  postfix -c "$D/etc" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT
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
transport_maps = texthash:$D/etc/transport
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
enable_long_queue_ids = ${LONG_IDS:-no}
EOF
printf 'outlook.test msft-out:[127.0.0.1]:2792\nhotmail.test msft-spare:[127.0.0.1]:2792\n' > "$D/etc/transport"
cp "$src/postfix-conf/msft_dsn_filter" "$D/etc/msft_dsn_filter"
cp /usr/share/postfix/master.cf.dist "$D/etc/master.cf"
postconf -c "$D/etc" -F '*/*/chroot=n'
postconf -c "$D/etc" -MX smtp/inet
postconf -c "$D/etc" -M '127.0.0.1:2790/inet=127.0.0.1:2790 inet n - n - - smtpd' \
  'msft-out/unix=msft-out unix - - n - 4 smtp' 'msft-spare/unix=msft-spare unix - - n - 4 smtp'
for t in msft-out:127.0.0.2 msft-spare:127.0.0.3; do
  n=${t%%:*}; ip=${t#*:}
  postconf -c "$D/etc" -P "$n/unix/syslog_name=postfix/$n" "$n/unix/smtp_bind_address=$ip" \
    "$n/unix/smtp_bind_address_enforce=yes" "$n/unix/smtp_delivery_status_filter=regexp:$D/etc/msft_dsn_filter"
done
cat > "$work/rules.json" <<'EOF'
{"mail_reply_by_ip": {"127.0.0.2": "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [Name=Protocol Filter Agent][AGT=PFA][MxId=11BA7B0DEADBEEF] [DB8EUR05FT012.eop-eur05.prod.protection.outlook.com]"},
 "rcpt_reply_by_local": {
  "nouser": "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
  "r650": "451 4.7.650 The mail server [127.0.0.3] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent][AGT=PFA]",
  "r652": "451 4.7.652 The mail server [127.0.0.3] has exceeded the maximum number of connections. (S3115) [Name=Protocol Filter Agent]",
  "r500": "451 4.7.500 Server busy. Please try again later from [127.0.0.3]. (S77719) [Name=Protocol Filter Agent][AGT=PFA]",
  "r606": "550 5.7.606 Access denied, banned sending IP [127.0.0.3]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609)",
  "r515": "550 5.7.515 Access denied, sending domain [brand.test] does not meet the required authentication level."}}
EOF
smtp-sink -u nobody 127.0.0.1:2791 100 & pids+=($!)
python3 "$src/tests/watch/msft_sink.py" 127.0.0.1 2792 "$work/rules.json" "$work/delivered.jsonl" & pids+=($!)
sleep 0.5
postfix -c "$D/etc" check
postfix -c "$D/etc" start
sleep 1
send() { swaks -n -S --server 127.0.0.1 --port 2790 --from "$1" --to "$2" >/dev/null; }
send news@brand.test alice@gmail.test
send news@brand.test bob@outlook.test,carol@outlook.test
send "" dave@outlook.test
send info@other-brand.test ok@hotmail.test,nouser@hotmail.test,r650@hotmail.test
send info@other-brand.test r652@hotmail.test,r500@hotmail.test,r606@hotmail.test,r515@hotmail.test
sleep 4
# Expire what is still deferred: one more attempt, then qmgr returns it to sender.
postconf -c "$D/etc" maximal_queue_lifetime=1s bounce_queue_lifetime=1s
postfix -c "$D/etc" reload
sleep 2
postqueue -c "$D/etc" -f
sleep 4
cp "$D/maillog" "$out"
echo "capture.sh: $(wc -l < "$out") lines in $out"
