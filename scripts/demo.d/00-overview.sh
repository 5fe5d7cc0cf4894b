# 00-overview.sh: what relaygate has built so far, then the baseline every
# later scenario extends: a private Postfix on loopback relaying sample mail to
# smtp-sinks, Microsoft-family recipients through a transport bound to
# 127.0.0.2, and a sink that refuses like a blocklisting receiver.
set -euo pipefail
# shellcheck source=../lib/harness.sh
source "$RELAYGATE_ROOT/scripts/lib/harness.sh"

echo "relaygate demo"
echo "=============="
for prog in relaygate-milter relaygate-policy relaygate-admin relaygate-watch; do
  if [ -x "$RELAYGATE_BUILD/${prog#relaygate-}/$prog" ]; then
    echo "  $prog: built"
  else
    echo "  $prog: not there yet"
  fi
done

echo
echo "00 baseline: plain Postfix, no relaygate daemon in the path"
harness_begin 00-overview
sink=$(harness_start sink --name sink-default)
msft=$(harness_start sink --name sink-msft --address 127.0.0.2)
refuse=$(harness_start sink --name sink-refuse --address 127.0.0.3 --hard-reject RCPT \
  --hard-reply "550 5.7.1 Service unavailable; client [127.0.0.1] blocked using zen.example")
smtpd=$(harness_start postfix --relayhost "[127.0.0.1]:$sink" --transport msft-out=127.0.0.2 \
  --main "transport_maps = inline:{ outlook.test=msft-out:[127.0.0.2]:$msft, refusing.test=smtp:[127.0.0.3]:$refuse }")
echo "  private Postfix: smtpd 127.0.0.1:$smtpd; sinks: default 127.0.0.1:$sink," \
  "msft-out 127.0.0.2:$msft, refusing 127.0.0.3:$refuse"
echo

harness_send "1 ordinary" "$smtpd" news@brand.test alice@gmail.test --header "Subject: Quarterly results"
harness_send "2 microsoft" "$smtpd" news@brand.test bob@outlook.test,carol@gmail.test \
  --header "Subject: Product launch"
harness_send "3 refused" "$smtpd" news@brand.test dave@refusing.test --header "Subject: Bounced"

echo
echo "  received by the sinks (source IP = X-Client-Addr the sink saw):"
for s in sink-default sink-msft sink-refuse; do
  harness_ctl sink list --dir "$(harness_dir "$s")" | sed "s/^/      $s: /"
done
echo "  (without relaygate, any From domain passes; the later scenarios add the checks)"
