#!/usr/bin/env bash
# milter_bench.sh: relaygate-milter alone, driven by bench/milter_load over a unix
# socket, without and with DKIM signing (RSA-2048 and Ed25519 test keys), at
# several connection counts. Prints a markdown table (median of REPS runs) with
# the milter's own CPU (utime+stime of its process over the run) as cores used,
# the rate per core used, and for the signing variants `openssl speed`'s sign/s
# for that key type measured in the same run (the bound for signing per core).
#   bench/milter_bench.sh [-n MESSAGES] [-r REPS] [-c "1 4 8"]
# Needs a main build (scripts/build main --target relaygate-milter milter_load).
# Everything runs on this host's loopback/unix sockets; each load run is bounded
# by -n messages and 60 s; the milter is stopped by PID at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RELAYGATE_BUILD:-$root/build/main}
N=20000 REPS=3 CONNS="1 4 8"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    *) echo "usage: $0 [-n MESSAGES] [-r REPS] [-c \"1 4 8\"]" >&2; exit 2 ;;
  esac
done
milter=$build/milter/relaygate-milter
load=$build/bench/milter_load
for f in "$milter" "$load"; do [ -x "$f" ] || { echo "milter_bench: $f missing (scripts/build main)" >&2; exit 1; }; done
work=$(mktemp -d /tmp/relaygate-milter-bench.XXXXXX)
keys=$root/tests/testdata/milter/keys
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/domains.conf" <<CONF
verified.example selector=s1 key=$keys/rsa-s1.pem owner=bench
ed.example selector=s2 key=$keys/ed-s2.pem owner=bench
CONF
echo '{"version":1,"domains":{"ed.example":{"state":"verified"},"verified.example":{"state":"verified"}}}' >"$work/state.json"

start_milter() {  # $1 = signing true|false
  "$milter" --socket "unix:$work/m.sock" --admin-file "$work/domains.conf" --state-file "$work/state.json" \
    --operator-domain relay.example.net --outbound-ip 192.0.2.11 --rejection-log "$work/rej.log" \
    --log-sink syslog --signing "$1" 2>>"$work/milter.err" &
  pid=$!
  for _ in $(seq 100); do [ -S "$work/m.sock" ] && return 0; sleep 0.05; done
  echo "milter_bench: milter did not start" >&2; cat "$work/milter.err" >&2; exit 1
}
stop_milter() { kill "$pid"; wait "$pid" || true; pid=""; rm -f "$work/m.sock"; }

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # utime + stime of the milter
# sign/s of one core for a key type, from `openssl speed -mr` (3.0: "+F2:n:bits:sign/s:verify/s", "+F6:n:bits:name:sign/s:verify/s")
openssl_sign_rate() {
  case "$1" in
    rsa-2048) openssl speed -seconds 3 -mr rsa2048 2>/dev/null | awk -F: '/^\+F2:/ {print int($4)}' ;;
    ed25519) openssl speed -seconds 3 -mr ed25519 2>/dev/null | awk -F: '/^\+F6:/ {print int($5)}' ;;
  esac
}
hz=$(getconf CLK_TCK)

echo "| variant | connections | msgs/s median (runs) | milter cores used | msgs/s per core | openssl speed sign/s (1 core) | per core / openssl | checked |"
echo "|---|---:|---|---:|---:|---:|---:|---|"
for variant in "no-signing:false:x@verified.example" "rsa-2048:true:x@verified.example" "ed25519:true:x@ed.example"; do
  IFS=: read -r name signing from <<<"$variant"
  start_milter "$signing"
  n=$N; [ "$signing" = true ] && n=$((N / 4))
  speed="-"; [ "$signing" = true ] && speed=$(openssl_sign_rate "$name")
  for c in $CONNS; do
    rates=() cores=() check=""
    for _ in $(seq "$REPS"); do
      t0=$(date +%s.%N) c0=$(cpu_ticks)
      line=$("$load" --unix "$work/m.sock" -c "$c" -n "$n" -t 60 --from "$from")
      c1=$(cpu_ticks) t1=$(date +%s.%N)
      rates+=("$(sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p' <<<"$line")")
      cores+=("$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)/hz/(t1-t0)}')")
      check=$(sed -n 's/.*\(accepted=[0-9]* signed=[0-9]*\).*/\1/p' <<<"$line")
    done
    rate=$(printf '%s\n' "${rates[@]}" | median) core=$(printf '%s\n' "${cores[@]}" | median)
    per_core=$(awk -v r="$rate" -v c="$core" 'BEGIN{printf "%.0f", (c > 0 ? r / c : 0)}')
    vs="-"; [ "$speed" != "-" ] && vs=$(awk -v p="$per_core" -v s="$speed" 'BEGIN{printf "%.2f", p/s}')
    printf '| %s | %s | %s (%s) | %s | %s | %s | %s | %s of %s |\n' "$name" "$c" "$rate" "${rates[*]}" "$core" \
      "$per_core" "$speed" "$vs" "$check" "$n"
  done
  stop_milter
done
echo
echo "host: $(nproc) cores, load average before the last run: $(cut -d' ' -f1-3 /proc/loadavg)"
