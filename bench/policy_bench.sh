#!/usr/bin/env bash
# policy_bench.sh: relaygate-policy side by side with postfwd2 in ONE run, on
# the shared peer-benchmark harness (its netns, policy-load, postfwd set-up):
#   1. policy delegation: policy-load, 16 connections, one request in flight
#      each, against relaygate-policy and postfwd2 (cache and nocache) with the
#      same rule set: per-sender rate 500/3600 s -> 4.7.1, Microsoft-family
#      recipients -> FILTER msft-out:, else DUNNO (relaygate: limit =
#      sender:recipients:500/1h, filter-mode = true, every deferral logged);
#   2. socketmap lookups/s for domains answered from memory (domain list and
#      MX verdicts cached after the warm-up; MX from the test DNS fixture);
#   3. memory of the rate windows with 1,000,000 distinct sender keys.
# Needs root (netns), a main build (scripts/build main), postfwd, and the peer
# harness directory in PEER_BENCH (the shared bench/ with lib.sh, peers.sh).
#   PEER_BENCH=<dir> bench/policy_bench.sh [-r REPS] [-n REQUESTS]
# Every daemon is stopped by PID at the end; every load run is bounded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RELAYGATE_BUILD:-$root/build/main}
REPS=3 N_OURS=200000 N_PEER=20000 N_MAP=300000 MAXSEC=90
while [ $# -gt 0 ]; do
    case "$1" in
        -r) REPS=$2; shift 2 ;;
        -n) N_OURS=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "policy_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "${PEER_BENCH:-}" ] && [ -f "$PEER_BENCH/lib.sh" ] || { echo "policy_bench.sh: set PEER_BENCH to the peer bench dir (lib.sh, peers.sh)" >&2; exit 2; }
for f in "$build/policy/relaygate-policy" "$build/bench/policy_socketmap_load" "$build/bench/policy_memory" \
         "$build/tests/harness/dns_server_ctl"; do
    [ -x "$f" ] || { echo "policy_bench.sh: $f missing (scripts/build main --target relaygate-policy policy_socketmap_load policy_memory dns_server_ctl)" >&2; exit 2; }
done
BENCH_DIR=$PEER_BENCH
. "$PEER_BENCH/lib.sh"
. "$PEER_BENCH/peers.sh"

P_OURS=10060 P_MAP=10061
W="$BENCH_WORK/relaygate-policy"
mkdir -p "$W"
stamp=$(date +%Y%m%d-%H%M%S)
raw="$RES/relaygate-policy-$stamp.txt"
sysinfo > "$raw"

ours_stop() { stop_pidfile "$RUN/relaygate-policy.pid" relaygate-policy; }
dns_fixture_stop() { stop_pidfile "$RUN/rg-dns.pid" dns_server_ctl; }
cleanup() { ours_stop; postfwd_stop; dns_fixture_stop; }
trap cleanup EXIT

ensure_built
netns_up

# The test DNS (real unbound) with the policy zone, inside the netns.
nsx_bg "$RUN/rg-dns.pid" "$W/dns.out" "$build/tests/harness/dns_server_ctl" policy.conf
for _ in $(seq 100); do grep -q forwarder= "$W/dns.out" 2>/dev/null && break; sleep 0.1; done
forwarder=$(sed -n 's/.*forwarder=\([^ ]*\).*/\1/p' "$W/dns.out")
[ -n "$forwarder" ] || die "dns_server_ctl did not start: $(cat "$W/dns.out")"

printf 'hotmail.*\noutlook.*\nlive.*\nmsn.*\n' > "$W/microsoft-domains"
cat > "$W/policy.conf" <<EOF
# relaygate-policy for the bench: the postfwd-equivalent rule set
policy-listen = inet:127.0.0.1:$P_OURS
socketmap-listen = inet:127.0.0.1:$P_MAP
microsoft-domains = $W/microsoft-domains
limit = sender:recipients:500/1h
filter-mode = true
egress-file = $W/egress.json
admin-file = $W/domains.conf
state-file = $W/state.json
dns-forwarder = $forwarder
log-sink = stderr
log-level = notice
EOF
: > "$W/domains.conf"
ours_start() {
    nsx_bg "$RUN/relaygate-policy.pid" "$W/daemon.log" "$build/policy/relaygate-policy" --config "$W/policy.conf"
    wait_port "$P_OURS" 20 || die "relaygate-policy not listening: $(tail -5 "$W/daemon.log")"
}

load() {  # load NAME PORT N -> RESULT line with load/cpu fields
    local name=$1 port=$2 n=$3 la c0 c1 line
    la=$(loadavg | cut -d' ' -f1)
    c0=$(cpu_snapshot)
    line=$(nsx "$BIN/policy-load" --tcp "127.0.0.1:$port" -c 16 -n "$n" -w 2000 -t "$MAXSEC" --label "$name" -q) || true
    c1=$(cpu_snapshot)
    [ -n "$line" ] || line="RESULT label=$name conns=16 rps=0 truncated=1 (policy-load failed)"
    echo "$line load1=$la cpu_busy=$(cpu_busy_pct "$c0" "$c1")" | tee -a "$raw" >&2
}

for ((rep = 1; rep <= REPS; rep++)); do
    ours_start; sleep 0.3; load relaygate "$P_OURS" "$N_OURS"; ours_stop
    RATE_MAX=500 RATE_WINDOW=3600 postfwd_start nocache; sleep 0.5; load postfwd-nocache "$P_POSTFWD" "$N_PEER"; postfwd_stop
    RATE_MAX=500 RATE_WINDOW=3600 postfwd_start cache; sleep 0.5; load postfwd-cache "$P_POSTFWD" "$N_PEER"; postfwd_stop
done

ours_start
for ((rep = 1; rep <= REPS; rep++)); do
    line=$(nsx "$build/bench/policy_socketmap_load" --tcp "127.0.0.1:$P_MAP" -c 16 -n "$N_MAP" -w 5000 -t "$MAXSEC") || true
    echo "${line:-RESULT bench=socketmap failed=1} rep=$rep load1=$(loadavg | cut -d' ' -f1)" | tee -a "$raw" >&2
done
ours_stop
"$build/bench/policy_memory" 1000000 | tee -a "$raw" >&2

med() { grep "$1" "$raw" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | stats | cut -d' ' -f1; }
{
echo
echo "## relaygate-policy vs postfwd2 ($stamp, 16 connections, medians of $REPS)"
echo
echo "| server | req/s | p50 ms | p99 ms | p99.9 ms |"
echo "|---|---:|---:|---:|---:|"
for s in relaygate postfwd-nocache postfwd-cache; do
    printf '| %s | %.0f | %.3f | %.3f | %.3f |\n' "$s" "$(med "label=$s " rps)" \
        "$(med "label=$s " p50_us | awk '{print $1/1000}')" "$(med "label=$s " p99_us | awk '{print $1/1000}')" \
        "$(med "label=$s " p999_us | awk '{print $1/1000}')"
done
ours=$(med "label=relaygate " rps); nc=$(med "label=postfwd-nocache " rps); ca=$(med "label=postfwd-cache " rps)
awk -v o="$ours" -v n="$nc" -v c="$ca" 'BEGIN{printf "\nratio relaygate/postfwd: %.1fx (nocache), %.1fx (cache)\n", o/n, o/c}'
printf 'socketmap lookups/s (cached domains): %.0f, p99 %.3f ms\n' "$(med bench=socketmap lookups_per_s)" \
    "$(med bench=socketmap p99_us | awk '{print $1/1000}')"
grep bench=rate_memory "$raw" | sed 's/^RESULT /rate windows: /'
echo "raw: $raw"
} | tee -a "$raw"
