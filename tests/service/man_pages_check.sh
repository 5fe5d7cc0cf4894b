#!/usr/bin/env bash
# man_pages_check.sh SOURCE_DIR BINARY_DIR: the generated man pages render
# with no groff warning (groff -ww -z), all six exist, and the keys of
# relaygate.conf(5) are exactly the config keys the daemons accept (read from
# their --help, less the command-line-only options). ctest: man_pages.
set -euo pipefail
src=$1
bin=$2
status=0
expected="relaygate-admin.8 relaygate-domains.5 relaygate-milter.8 relaygate-policy.8 relaygate-watch.8 relaygate.conf.5"
found=$(cd "$bin/man" && ls -- *.[58] | sort | tr '\n' ' ')
if [ "$found" != "$expected " ]; then
  echo "man pages: expected [$expected], found [$found]"
  status=1
fi
for page in $expected; do
  warnings=$(LC_ALL=C.UTF-8 groff -ww -z -man -Tutf8 "$bin/man/$page" 2>&1) || { echo "$page: groff failed"; status=1; }
  if [ -n "$warnings" ]; then
    echo "$page: groff -ww warnings:"
    echo "$warnings"
    status=1
  fi
done
cli_only='^(help|config|exit-at-eof)$'
accepted=$(for d in milter policy watch; do "$bin/$d/relaygate-$d" --help; done |
  grep -oE '^ +(-[a-z] \[ )?--[a-z0-9-]+' | sed 's/.*--//' | grep -Ev "$cli_only" | sort -u)
documented=$(grep -oE '^\*[a-z0-9-]+\* =' "$src/man/relaygate.conf.5.scd" | tr -d '*=' | tr -d ' ' | sort -u)
[ "$(wc -l <<<"$accepted")" -gt 50 ] || { echo "only $(wc -l <<<"$accepted") keys read from --help"; status=1; }
missing=$(comm -23 <(echo "$accepted") <(echo "$documented"))
extra=$(comm -13 <(echo "$accepted") <(echo "$documented"))
[ -z "$missing" ] || { echo "keys the daemons accept but relaygate.conf(5) does not document:"; echo "$missing"; status=1; }
[ -z "$extra" ] || { echo "keys relaygate.conf(5) documents but no daemon accepts:"; echo "$extra"; status=1; }
[ "$status" = 0 ] && echo "man pages: 6 pages clean under groff -ww; $(wc -l <<<"$accepted") config keys, each documented"
exit "$status"
