#!/usr/bin/env bash
# monitoring_check.sh SOURCE_DIR: the operators' kit in monitoring/ —
# promtool accepts the alert rules, the dashboard is valid JSON, and every
# relaygate_* metric named in either is one relaygate-watch declares
# (watch/src/metrics.cpp). ctest: monitoring. promtool comes from
# scripts/install-deps (/usr/local/lib/relaygate/promtool).
set -euo pipefail
src=$1
promtool=${PROMTOOL:-/usr/local/lib/relaygate/promtool}
status=0
[ -x "$promtool" ] || { echo "promtool missing at $promtool: run scripts/install-deps"; exit 1; }
"$promtool" check rules "$src/monitoring/relaygate.rules.yml" || status=1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
  "$src/monitoring/relaygate.dashboard.json" || { echo "dashboard: not valid"; status=1; }
declared=$(grep -oE 'declare\("relaygate_[a-z_]+' "$src/watch/src/metrics.cpp" | sed 's/declare("//' | sort -u)
used=$(cat "$src/monitoring/relaygate.rules.yml" "$src/monitoring/relaygate.dashboard.json" |
  grep -oE 'relaygate_[a-z_]+' | grep -vE '^relaygate_(watch|milter|policy)$' | sort -u)
unknown=$(comm -13 <(echo "$declared") <(echo "$used"))
[ -z "$unknown" ] || { echo "metrics used by the kit that relaygate-watch does not export:"; echo "$unknown"; status=1; }
[ "$status" = 0 ] && echo "monitoring: rules pass promtool; $(wc -l <<<"$used") metrics used, all exported"
exit "$status"
