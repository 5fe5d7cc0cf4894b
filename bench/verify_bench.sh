#!/usr/bin/env bash
# Builds and runs the re-verification benchmark: N domains x 8 outbound IPs
# through reverify_scheduler (the watch's path) against a local unbound, with a
# DNS-only baseline in the same run (issue 16 goal: >= 280 domains/s, i.e.
# 1,000,000 domains per 1 h interval). Default 10,000 domains; the scale run is
#   bench/verify_bench.sh --domains 1000000
# (unbound needs ~minutes to load that zone; see docs/admin.md for figures).
# Extra arguments go to the program (--domains N --ips M --pass-size P --baseline-domains B).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build" main --target verify_bench >/dev/null
exec "$root/build/main/bench/verify_bench" "$@"
