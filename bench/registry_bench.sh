#!/usr/bin/env bash
# Builds and runs the registry benchmark: load of N domains (default 1,000,000)
# and From-domain lookup latency. Prints the figures; exits non-zero on failure.
#   bench/registry_bench.sh [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build" main --target registry_bench >/dev/null
exec "$root/build/main/bench/registry_bench" "$@"
