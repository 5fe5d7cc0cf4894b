# 20-milter.sh: relaygate-milter behind a private Postfix, four messages and
# the reply each got: (a) the operator's own From -> delivered; (b) a verified
# customer From -> delivered with a DKIM-Signature of that domain; (c) an
# unregistered From -> 550 at end of data and one rejection-log line;
# (d) registered but SPF does not cover one outbound IP -> 550 naming it.
# The verification state is a state file written here (the demo registry).
set -euo pipefail
. "$RELAYGATE_ROOT/scripts/lib/harness.sh"
harness_begin milter
W=$HARNESS_WORK
keys=$RELAYGATE_ROOT/tests/testdata/milter/keys

echo
echo "relaygate-milter: a custom From only for verified domains"
echo "-----------------------------------------------------------"
cat >"$W/domains.conf" <<CONF
verified.example selector=s1 key=$keys/rsa-s1.pem owner="Verified Ltd"
spf.example selector=s1 key=$keys/rsa-s1.pem owner="Half SPF Inc"
CONF
cat >"$W/state.json" <<'JSON'
{"version":1,"domains":{
"spf.example":{"state":"failed","reason":"spf_fail","detail":"SPF of spf.example does not authorize 192.0.2.12"},
"verified.example":{"state":"verified"}
}}
JSON
echo "  registry: operator domain relay.example.net; verified.example (verified);"
echo "            spf.example (failed: SPF does not authorize 192.0.2.12); nothing else"

"$RELAYGATE_BUILD/milter/relaygate-milter" --socket "unix:$W/milter.sock" --socket-mode 0666 \
  --admin-file "$W/domains.conf" --state-file "$W/state.json" --operator-domain relay.example.net \
  --outbound-ip 192.0.2.11 --outbound-ip 192.0.2.12 --rejection-log "$W/rejections.log" \
  --log-sink stderr 2>"$W/milter.log" &
harness_adopt $!
for _ in $(seq 100); do [ -S "$W/milter.sock" ] && break; sleep 0.05; done
[ -S "$W/milter.sock" ] || { echo "relaygate-milter did not start:"; cat "$W/milter.log"; exit 1; }

sink=$(harness_start sink)
smtpd=$(harness_start postfix --relayhost "[127.0.0.1]:$sink" \
  --main "smtpd_milters = unix:$W/milter.sock" --main "milter_default_action = tempfail")

harness_send "a: operator From" "$smtpd" bounce@relay.example.net alice@example.net \
  --header "From: News <news@relay.example.net>" --header "Subject: (a) operator"
harness_send "b: verified customer From" "$smtpd" bounce@relay.example.net alice@example.net \
  --header "From: Verified Ltd <press@verified.example>" --header "Subject: (b) verified"
harness_send "c: unregistered From" "$smtpd" bounce@relay.example.net alice@example.net \
  --header "From: CEO <ceo@unknown.example>" --header "Subject: (c) unregistered"
harness_send "d: SPF misses an outbound IP" "$smtpd" bounce@relay.example.net alice@example.net \
  --header "From: Half SPF <news@spf.example>" --header "Subject: (d) spf"

echo
echo "  DKIM-Signature of the delivered (b) message:"
grep -l "Subject: (b) verified" -r "$(harness_dir sink)" 2>/dev/null | head -1 |
  xargs -r sed -n '/^DKIM-Signature:/,/^[^ \t]/p' | sed '$d; s/^/      /' | head -6
echo
echo "  milter decisions (syslog lines, queue id first):"
sed -n 's/^relaygate-milter: info: /      /p' "$W/milter.log"
echo
echo "  rejection log ($W/rejections.log), one JSON line per rejection:"
sed 's/^/      /' "$W/rejections.log"
