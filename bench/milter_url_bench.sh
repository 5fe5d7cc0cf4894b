#!/usr/bin/env bash
# milter_url_bench.sh: relaygate-milter alone with the URL check on, driven by
# bench/milter_load over a unix socket: a 50 KB HTML body with 40 links (7
# domains and one shortener) per message, the blocklist zone served by a real
# unbound on a free loopback port, the cache warmed by a first short run.
# Baseline in the same run: the same messages with url-check off (signing off
# in both). Prints a markdown table (median of REPS runs).
#   bench/milter_url_bench.sh [-n MESSAGES] [-r REPS] [-c "4 8"]
# Needs a main build (scripts/build main --target relaygate-milter milter_load).
# Everything it starts (milter, unbound) is stopped by PID at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RELAYGATE_BUILD:-$root/build/main}
N=20000 REPS=3 CONNS="4 8"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    *) echo "usage: $0 [-n MESSAGES] [-r REPS] [-c \"4 8\"]" >&2; exit 2 ;;
  esac
done
milter=$build/milter/relaygate-milter
load=$build/bench/milter_load
for f in "$milter" "$load"; do [ -x "$f" ] || { echo "milter_url_bench: $f missing (scripts/build main)" >&2; exit 1; }; done
command -v unbound >/dev/null || { echo "milter_url_bench: unbound missing (scripts/install-deps)" >&2; exit 1; }
work=$(mktemp -d /tmp/relaygate-url-bench.XXXXXX)
pid="" dns_pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: $port
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$work"
  pidfile: ""
  use-syslog: no
  access-control: 127.0.0.0/8 allow
  include: "$root/tests/testdata/milter/url-dns.conf"
  local-zone: "example." static
CONF
unbound -d -c "$work/unbound.conf" 2>"$work/unbound.err" &
dns_pid=$!
for _ in $(seq 100); do dig +short -p "$port" @127.0.0.1 evil.example.uribl.example.net A 2>/dev/null | grep -q 127.0.1.2 && break; sleep 0.05; done

echo 'verified.example selector=s1 key='"$root"'/tests/testdata/milter/keys/rsa-s1.pem owner=bench' >"$work/domains.conf"
echo '{"version":1,"domains":{"verified.example":{"state":"verified"}}}' >"$work/state.json"

start_milter() {  # $1 = url-check true|false
  "$milter" --socket "unix:$work/m.sock" --admin-file "$work/domains.conf" --state-file "$work/state.json" \
    --operator-domain relay.example.net --outbound-ip 192.0.2.11 --rejection-log "" --log-sink syslog \
    --signing false --url-check "$1" --url-blocklist "uribl.example.net=127.0.1.2-127.0.1.99" \
    --url-shortener-file "$root/postfix-conf/url-shorteners" --dns-forwarder "127.0.0.1@$port" 2>>"$work/milter.err" &
  pid=$!
  for _ in $(seq 100); do [ -S "$work/m.sock" ] && return 0; sleep 0.05; done
  echo "milter_url_bench: milter did not start" >&2; cat "$work/milter.err" >&2; exit 1
}
stop_milter() { kill "$pid"; wait "$pid" || true; pid=""; rm -f "$work/m.sock"; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

echo "| url-check | connections | msgs/s median (runs) | milter cores used | msgs/s per core | URL headers added |"
echo "|---|---:|---|---:|---:|---|"
for check in false true; do
  start_milter "$check"
  "$load" --unix "$work/m.sock" -c 2 -n 200 -t 60 --from x@verified.example --body-bytes 51200 --html-links 40 >/dev/null
  for c in $CONNS; do
    rates=() cores=() hdr=""
    for _ in $(seq "$REPS"); do
      t0=$(date +%s.%N) c0=$(cpu_ticks)
      line=$("$load" --unix "$work/m.sock" -c "$c" -n "$N" -t 60 --from x@verified.example --body-bytes 51200 --html-links 40)
      c1=$(cpu_ticks) t1=$(date +%s.%N)
      rates+=("$(sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p' <<<"$line")")
      cores+=("$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)/hz/(t1-t0)}')")
      hdr=$(sed -n 's/.*url_header=\([0-9]*\).*/\1/p' <<<"$line")
    done
    rate=$(printf '%s\n' "${rates[@]}" | median) core=$(printf '%s\n' "${cores[@]}" | median)
    per_core=$(awk -v r="$rate" -v c="$core" 'BEGIN{printf "%.0f", (c > 0 ? r / c : 0)}')
    printf '| %s | %s | %s (%s) | %s | %s | %s of %s |\n' "$check" "$c" "$rate" "${rates[*]}" "$core" "$per_core" "$hdr" "$N"
  done
  stop_milter
done
echo
echo "host: $(nproc) cores shared with other work, load average before the last run: $(cut -d' ' -f1-3 /proc/loadavg)"
