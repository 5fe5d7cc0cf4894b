#!/usr/bin/env bash
# milter_postfix_bench.sh: smtp-source -> Postfix (+ milter) -> smtp-sink, on the
# shared peer-benchmark kit (its netns, private Postfix, OpenDKIM set-up), in ONE
# run: no milter, relaygate-milter (signing off), milter-null (the floor of any
# libmilter milter) and OpenDKIM signing. Prints the kit's table; the issue's
# goal is relaygate-milter >= 0.95 of the no-milter rate.
#   PEER_BENCH=<dir> bench/milter_postfix_bench.sh [--floor] [--ab] [--signing [--ed25519]] [--log-sink SINK] [-m MESSAGES] [-r REPS]
# --signing has relaygate-milter DKIM-sign every message (RSA-2048, or Ed25519
# with --ed25519; a key made for the run in its scratch directory), beside
# OpenDKIM signing the same domain with its own RSA-2048 key (variants base,
# OpenDKIM, relaygate-milter); it counts the milter's dkim=signed log lines of
# the last run (the kit keeps only that maillog), prints relaygate-milter's
# rate over OpenDKIM's per rep, then runs relaygate-milter once more with
# signing off (one rep, same size) for the unsigned path's CPU per message,
# and `openssl speed` for the key type: CPU per signed message is printed
# beside (openssl's sign time + the unsigned path), all from this run.
# --log-sink sets relaygate-milter's log sink (default: postlog to the kit's postlogd;
# stderr goes to a scratch file).
# --ab runs only base and relaygate-milter, for many short paired reps: the
# ratio of each pair, and their median, printed at the end (the machine's own
# speed drifts more between runs than the milter costs).
# --floor runs bench/milter_floor (protocol 6 without libmilter, accepts all) in
# relaygate-milter's place: the bound any milter design can reach on this box.
# At the end it prints the milter's own CPU per message (cgroup v1 cpuacct, the
# milter is idle during the other variants), a figure far steadier than the
# throughput ratios on a shared 2-core machine.
# Needs root (the kit's netns), a main build and the opendkim package (the peer).
# relaygate-milter listens on a unix socket (the netns shares the filesystem);
# the kit's sender domain is configured as an operator domain, so every message
# is accepted. It logs its one line per message where the kit's Postfix logs
# (postlog sink to the kit's postlogd, so the line lands in its maillog_file):
# this machine has no syslog daemon, and a syslog() with no /dev/log costs a
# failed socket()+connect() per line instead of a real log write. The milter
# is stopped by PID at the end; each run is bounded by the kit's own message
# count and timeout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kit=${PEER_BENCH:?set PEER_BENCH to the shared bench directory (bench-postfix.sh, lib.sh)}
build=${RELAYGATE_BUILD:-$root/build/main}
floor=no
signing=false
key_type=rsa-2048
milter_log=""
variants=(base milter-null milter ours-milter)  # ours last: the kit keeps the last maillog
ab=no
while [ $# -gt 0 ]; do
  case "$1" in
    --floor) floor=yes; shift ;;
    --ab) ab=yes; variants=(base ours-milter); shift ;;
    --signing) signing=true; shift ;;
    --ed25519) key_type=ed25519; shift ;;
    --log-sink) milter_log=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $signing = true ] && [ $ab = no ] && variants=(base milter ours-milter)
kit_args=("$@")
milter=$build/milter/relaygate-milter
[ $floor = yes ] && milter=$build/bench/milter_floor
[ -x "$milter" ] || { echo "milter_postfix_bench: $milter missing (scripts/build main)" >&2; exit 1; }
command -v opendkim >/dev/null || { echo "milter_postfix_bench: the peer needs the opendkim package (scripts/install-deps --bench)" >&2; exit 1; }

postlog=${BENCH_WORK:-/tmp/relaygate-bench}/pf/spool/public/postlog  # the kit's queue_directory
work=$(mktemp -d /tmp/relaygate-milter-pf.XXXXXX)
chmod 755 "$work"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "${cg:-}" ] && rmdir "$cg" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/domains.conf"
key_args=()
if [ $signing = true ]; then
  case $key_type in
    rsa-2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/bench.pem" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ed25519 -out "$work/bench.pem" 2>/dev/null ;;
  esac
  key_args=(--operator-dkim-key "corp0001.example.jp:bench:$work/bench.pem")
fi
cg=""
if [ -d /sys/fs/cgroup/cpuacct ]; then
  cg=/sys/fs/cgroup/cpuacct/relaygate-milter-bench.$$
  mkdir -p "$cg"
fi
start_milter() {  # $1 = signing true|false
  (
    [ -n "$cg" ] && echo $BASHPID >"$cg/cgroup.procs"
    if [ $floor = yes ]; then exec "$milter" "$work/m.sock" 3600 2>>"$work/milter.err"; fi
    exec "$milter" --socket "unix:$work/m.sock" --socket-mode 0666 --admin-file "$work/domains.conf" \
      --state-file "$work/state.json" --operator-domain corp0001.example.jp --outbound-ip 192.0.2.11 \
      --rejection-log "$work/rej.log" --log-sink "${milter_log:-postlog:$postlog}" --signing "$1" \
      "${key_args[@]}" 2>>"$work/milter.err"
  ) &
  pid=$!
  for _ in $(seq 100); do [ -S "$work/m.sock" ] && break; sleep 0.05; done
  [ -S "$work/m.sock" ] || { echo "milter_postfix_bench: milter did not start" >&2; cat "$work/milter.err" >&2; exit 1; }
}
stop_milter() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; rm -f "$work/m.sock"; }
cpu_ns() { if [ -n "$cg" ]; then cat "$cg/cpuacct.usage"; else echo 0; fi; }
start_milter $signing

"$kit/bench-postfix.sh" "${kit_args[@]}" --milter-target "unix:$work/m.sock" "${variants[@]}" 2>&1 | tee "$work/out"
# per rep: relaygate-milter's accepted rate over that rep's base
name=relaygate-milter
[ $floor = yes ] && name=milter_floor
grep -h '^PFRESULT ' "$work/out" | awk -v name="$name" '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
  f["variant"] == "base" { base[f["rep"]] = f["accept_rps"] }
  f["variant"] == "ours-milter" && base[f["rep"]] > 0 { r[++n] = f["accept_rps"] / base[f["rep"]] }
  END {
    if (n == 0) exit
    line = ""; for (i = 1; i <= n; i++) line = line sprintf(" %.2f", r[i])
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
    printf "%s / base per rep:%s (median %.2f over %d reps)\n", name, line, med, n
  }'
if [ $signing = true ] && [ $floor = no ]; then
  # the kit keeps the maillog of its last run only: ours-milter runs last
  maillog=${BENCH_WORK:-/tmp/relaygate-bench}/pf/log/maillog
  last=$(grep -h 'PFRESULT variant=ours-milter ' "$work/out" | tail -n 1 | sed 's/.* msgs=\([0-9]*\).*/\1/')
  echo "relaygate-milter signed $(grep -c 'relaygate-milter.* dkim=signed' "$maillog" || true) of $last messages in the last run"
fi
if [ $signing = true ] && [ $ab = no ]; then
  grep -h '^PFRESULT ' "$work/out" | awk '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    f["variant"] == "milter" { peer[f["rep"]] = f["accept_rps"] }
    f["variant"] == "ours-milter" && peer[f["rep"]] > 0 { r[++n] = f["accept_rps"] / peer[f["rep"]] }
    END {
      if (n == 0) exit
      line = ""; for (i = 1; i <= n; i++) line = line sprintf(" %.2f", r[i])
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
      printf "relaygate-milter / OpenDKIM per rep:%s (median %.2f over %d reps)\n", line, med, n
    }'
fi
if [ -n "$cg" ]; then
  # messages our milter saw: ours-milter rows of the kit's raw lines
  msgs=$(grep -h 'PFRESULT variant=ours-milter ' "$work/out" | sed 's/.* msgs=\([0-9]*\).*/\1/' | awk '{s += $1} END {print s + 0}')
  ns=$(cpu_ns)
  what=relaygate-milter
  [ $floor = yes ] && what=milter_floor
  [ $signing = true ] && what="relaygate-milter (signing $key_type)"
  [ -n "$msgs" ] && [ "$msgs" -gt 0 ] &&
    awk -v ns="$ns" -v m="$msgs" -v w="$what" \
      'BEGIN{printf "%s CPU: %.0f us per message (%d messages, %.2f s)\n", w, ns/m/1000, m, ns/1e9}'
  if [ $signing = true ] && [ $floor = no ] && [ "$msgs" -gt 0 ]; then
    # The unsigned path in this run: the same milter with signing off, one rep of the same size.
    stop_milter
    start_milter false
    ns0=$(cpu_ns)
    "$kit/bench-postfix.sh" "${kit_args[@]}" -r 1 --milter-target "unix:$work/m.sock" ours-milter >"$work/out.unsigned" 2>&1
    ns1=$(cpu_ns)
    msgs0=$(grep -h 'PFRESULT variant=ours-milter ' "$work/out.unsigned" | sed 's/.* msgs=\([0-9]*\).*/\1/' | awk '{s += $1} END {print s + 0}')
    case $key_type in
      rsa-2048) sign_rate=$(openssl speed -seconds 3 -mr rsa2048 2>/dev/null | awk -F: '/^\+F2:/ {print $4}') ;;
      ed25519) sign_rate=$(openssl speed -seconds 3 -mr ed25519 2>/dev/null | awk -F: '/^\+F6:/ {print $5}') ;;
    esac
    awk -v ns="$ns" -v m="$msgs" -v ns0="$ns0" -v ns1="$ns1" -v m0="$msgs0" -v rate="$sign_rate" -v kt="$key_type" \
      -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
        signed = ns / m / 1000; unsigned = m0 > 0 ? (ns1 - ns0) / m0 / 1000 : 0; sign = 1e6 / rate
        printf "unsigned path (signing off, 1 rep, %d messages): %.0f us per message\n", m0, unsigned
        printf "openssl speed %s (1 core): %.0f sign/s = %.0f us per sign\n", kt, rate, sign
        printf "CPU per signed message %.0f us = %.2f x (sign %.0f + unsigned %.0f us); target <= 1.25 (load %s)\n",
          signed, signed / (sign + unsigned), sign, unsigned, load
      }'
  fi
fi
