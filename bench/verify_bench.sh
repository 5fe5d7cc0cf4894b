#!/usr/bin/env bash
# Builds and runs the verification benchmark: 10,000 domains x 8 outbound IPs
# against a local unbound (issue 3 goal: < 60 s). Extra arguments go to the
# program (--domains N --ips M --parallel P).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build" main --target verify_bench >/dev/null
exec "$root/build/main/bench/verify_bench" "$@"
