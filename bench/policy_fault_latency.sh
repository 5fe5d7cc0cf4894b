#!/usr/bin/env bash
# policy_fault_latency.sh: relaygate-policy's latency while Redis is hung, with
# a baseline in the same run. One redis-server and one relaygate-policy on
# loopback (free ports, temp dir), counters and egress state in Redis, the
# failover active (msft-spare). Two phases, each running at the same time the
# shared policy-load (policy delegation: every request runs the Redis
# counter EVAL) and bench/policy_socketmap_load (socketmap lookups):
#   1. redis_up       Redis healthy (baseline)
#   2. redis_sigstop  Redis stopped with SIGSTOP (hung: connects, never answers)
# Prints both tools' RESULT lines (p50/p99/p99.9) per phase, the count of
# socketmap answers that named the designated transport (must be 0), and the
# load average (the machine is shared: say so beside any figure).
#   PEER_BENCH=<shared bench dir with policy-load.cpp> bench/policy_fault_latency.sh [-n REQUESTS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RELAYGATE_BUILD:-$root/build/main}
N=50000
while [ $# -gt 0 ]; do
    case "$1" in
        -n) N=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "policy_fault_latency.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "${PEER_BENCH:-}" ] && [ -f "$PEER_BENCH/policy-load.cpp" ] || { echo "policy_fault_latency.sh: set PEER_BENCH to the dir with policy-load.cpp" >&2; exit 2; }
for f in "$build/policy/relaygate-policy" "$build/bench/policy_socketmap_load"; do
    [ -x "$f" ] || { echo "policy_fault_latency.sh: $f missing (scripts/build main --target relaygate-policy policy_socketmap_load)" >&2; exit 2; }
done
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { echo "policy_fault_latency.sh: redis-server/redis-cli missing (scripts/install-deps)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
rpid=
cleanup() {
    [ -n "$rpid" ] && kill -CONT "$rpid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

g++ -O2 -std=c++17 -o "$work/policy-load" "$PEER_BENCH/policy-load.cpp"
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
rpid=$!; pids+=("$rpid")
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$rport" HSET relaygate:egress microsoft '{"active_transport":"msft-spare","reason":"bench","since":1}' >/dev/null

ppol=$(free_port); pmap=$(free_port)
printf 'hotmail.*\noutlook.*\nlive.*\nmsn.com\n' >"$work/microsoft-domains"
: >"$work/domains.conf"
cat >"$work/policy.conf" <<CONF
policy-listen = inet:127.0.0.1:$ppol
socketmap-listen = inet:127.0.0.1:$pmap
microsoft-domains = $work/microsoft-domains
admin-file = $work/domains.conf
state-file = $work/state.json
egress-file = $work/egress.json
dns-forwarder = 127.0.0.1@1
redis = 127.0.0.1:$rport
limit = sender:recipients:1000000/1h
log-sink = stderr
log-level = info
CONF
"$build/policy/relaygate-policy" --config "$work/policy.conf" 2>"$work/policy.log" &
pids+=("$!")
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$pmap") 2>/dev/null && break; sleep 0.1; done

phase() {
    local label=$1
    "$work/policy-load" --tcp "127.0.0.1:$ppol" -c 16 -n "$N" -w 1000 -t 120 --label "policy_$label" -q &
    local lp=$!
    "$build/bench/policy_socketmap_load" --tcp "127.0.0.1:$pmap" -c 16 -n "$N" -w 1000 -t 120 | sed "s/^RESULT /RESULT phase=$label /"
    wait "$lp"
}
echo "# relaygate-policy with Redis healthy, then SIGSTOPped; N=$N per tool, 16 connections each"
phase redis_up
kill -STOP "$rpid"
sleep 1.5  # the egress view notices (its read times out) and keeps the last route
phase redis_sigstop
kill -CONT "$rpid"
echo "designated_answers=$(grep -c 'reply="OK msft-out:' "$work/policy.log" || true) (must be 0: msft-spare is the active route)"
echo "breaker_lines=$(grep -c 'redis_unreachable\|redis_reachable' "$work/policy.log" || true) fail_open_warnings=$(grep -c 'warning: - policy action=fail_open' "$work/policy.log" || true)"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg) cpus=$(nproc) (shared machine)"
