#!/usr/bin/env bash
# watch_dnsbl.sh: time of one DNSBL sweep, 64 IPs x 5 zones, against the local
# DNS fixture (real unbound on loopback). Target: < 5 s.
#   bench/watch_dnsbl.sh [IPS] [ZONES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/build/main/bench/watch_dnsbl_bench
[ -x "$bench" ] || { echo "watch_dnsbl.sh: build first: scripts/build main --target watch_dnsbl_bench" >&2; exit 1; }
"$bench" "${1:-64}" "${2:-5}"
