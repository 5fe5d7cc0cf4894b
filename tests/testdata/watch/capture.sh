#!/usr/bin/env bash
# capture.sh: reproduces tests/testdata/watch/postfix37.log, the real Postfix
# 3.7 lines the maillog parser tests run on. Starts a private Postfix through
# scripts/lib/harness.sh (loopback only) with a "Microsoft" transport bound to
# 127.0.0.2 with the msft_dsn_filter and a spare bound to 127.0.0.3, a
# smtp-sink default relay and tests/watch/msft_sink.py answering Microsoft's
# texts, sends a set of messages, then stops everything by PID.
#   [LONG_IDS=yes] capture.sh OUT_FILE   (as root; ports 127.0.0.1:2790-2792 free;
#   needs build/main/tests/harness/harness_ctl, or RELAYGATE_BUILD)
set -euo pipefail
out=$(realpath -m "$1")
src=$(cd "$(dirname "$0")/../../.." && pwd)
export RELAYGATE_ROOT=$src RELAYGATE_BUILD=${RELAYGATE_BUILD:-$src/build/main}
# shellcheck source=../../../scripts/lib/harness.sh
. "$src/scripts/lib/harness.sh"
DEMO_WORK=$(mktemp -d /tmp/watch-capture.XXXXXX)
harness_begin capture
work=$HARNESS_WORK
trap 'harness_end; rm -rf "$DEMO_WORK"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT  # KEEP=1: leave it all running for a look
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
harness_start sink --port 2791 >/dev/null
python3 "$src/tests/watch/msft_sink.py" 127.0.0.1 2792 "$work/rules.json" "$work/delivered.jsonl" &
harness_adopt $!
sleep 0.5
printf 'outlook.test msft-out:[127.0.0.1]:2792\nhotmail.test msft-spare:[127.0.0.1]:2792\n' > "$work/transport"
D=$(harness_dir postfix)
filter=()
for t in msft-out msft-spare; do filter+=(--param "$t/unix/smtp_delivery_status_filter=regexp:$D/etc/msft_dsn_filter"); done
harness_start postfix --port 2790 --relayhost "[127.0.0.1]:2791" \
  --file "msft_dsn_filter=$src/postfix-conf/msft_dsn_filter" --file "transport=$work/transport" \
  --transport msft-out=127.0.0.2 --transport msft-spare=127.0.0.3 "${filter[@]}" \
  --main "transport_maps = texthash:$D/etc/transport" --main "minimal_backoff_time = 1s" \
  --main "maximal_backoff_time = 2s" --main "queue_run_delay = 1s" --main "enable_long_queue_ids = ${LONG_IDS:-no}" >/dev/null
postfix -c "$D/etc" check
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
harness_ctl postfix reload --dir "$D" >/dev/null
sleep 2
harness_ctl postfix flush --dir "$D"
sleep 4
cp "$D/maillog" "$out"
echo "capture.sh: $(wc -l < "$out") lines in $out"
