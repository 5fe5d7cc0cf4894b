# scripts/lib/harness.sh: shell side of the test harness for scripts/demo.d/*.sh.
# Every real part is started through harness_ctl (the same C++ fixtures the
# tests use) and recorded in $HARNESS_WORK/.started, and an EXIT trap stops all of them by PID, in
# reverse order, even when the scenario fails half-way. Source it, then:
#   harness_begin NAME                      # work dir $HARNESS_WORK, cleanup trap
#   port=$(harness_start sink --address 127.0.0.2)          # smtp-sink, prints its port
#   smtpd=$(harness_start postfix --relayhost "[127.0.0.1]:$port" --main 'k = v')
#   harness_send "label" "$smtpd" from@x to@y [--header 'Subject: hi']...
#   my-daemon ... & harness_adopt $!            # stopped with the rest
#   forwarder=$(harness_dns policy.conf)         # real unbound (dns_server_ctl)
#   harness_wait 30 grep -q done "$log"          # bounded polling
# harness_netns "$0" "$@" first re-runs a scenario inside tests/harness/in-netns
# unless it already is in one. Needs RELAYGATE_BUILD (set by scripts/demo). See docs/harness.md.

HARNESS_CTL=${HARNESS_CTL:-${RELAYGATE_BUILD:?RELAYGATE_BUILD not set (run through scripts/demo)}/tests/harness/harness_ctl}

harness_ctl() { "$HARNESS_CTL" "$@"; }

# harness_netns "$0" "$@": re-executes the calling scenario in a private network
# namespace (tests/harness/in-netns) unless it runs in one already: scripts/demo
# starts each scenario in in-netns, and a nested one would break resolv.conf.
harness_netns() {
  [ "${RELAYGATE_IN_NETNS:-}" = 1 ] && return 0
  export RELAYGATE_ROOT RELAYGATE_BUILD
  exec "${RELAYGATE_ROOT:?RELAYGATE_ROOT not set}/tests/harness/in-netns" bash "$@"
}

# harness_wait SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 on timeout.
harness_wait() {
  local i tenths=$(($1 * 10))
  shift
  for ((i = 0; i < tenths; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

harness_begin() {
  HARNESS_WORK="${DEMO_WORK:-$(mktemp -d /tmp/relaygate-demo.XXXXXX)}/$1"
  mkdir -p "$HARNESS_WORK"
  chmod 755 "$HARNESS_WORK" "$(dirname "$HARNESS_WORK")"  # Postfix's daemons (user postfix) must enter it
  trap harness_end EXIT
}

# harness_start KIND [--name N] [options for harness_ctl KIND start]: prints the port.
# The state dir is $HARNESS_WORK/<N or KIND>; a second sink needs --name.
harness_start() {
  local kind=$1 name=$1
  shift
  if [ "${1:-}" = "--name" ]; then name=$2; shift 2; fi
  local dir="$HARNESS_WORK/$name"
  # A file, not a variable: harness_start usually runs in $(...), a subshell.
  echo "$kind $dir" >>"$HARNESS_WORK/.started"
  harness_ctl "$kind" start --dir "$dir" "$@"
}

harness_dir() { echo "$HARNESS_WORK/$1"; }

# harness_adopt PID: a process the scenario started itself (a relaygate daemon),
# stopped by harness_end like the rest.
harness_adopt() { echo "pid $1" >>"$HARNESS_WORK/.started"; }

harness_stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# harness_dns [--name N] [dns_server_ctl options and zone files]: the test DNS
# (real unbound, tests/harness/tools/dns_server_ctl) in the background; waits
# until it answers and prints its forwarder (127.0.0.1@PORT). Output in
# $HARNESS_WORK/<N or dns>/dns.out; harness_stop_dns N stops it early.
harness_dns() {
  local name=dns
  if [ "${1:-}" = "--name" ]; then name=$2; shift 2; fi
  local dir="$HARNESS_WORK/$name"
  mkdir -p "$dir"
  echo "dns $dir" >>"$HARNESS_WORK/.started"
  # stdout to a file: the caller's $(...) must not wait for the server to end.
  "${HARNESS_DNS_CTL:-$RELAYGATE_BUILD/tests/harness/dns_server_ctl}" "$@" >"$dir/dns.out" 2>&1 &
  echo $! >"$dir/dns.pid"
  if ! harness_wait 20 grep -q '^forwarder=' "$dir/dns.out"; then
    echo "harness_dns: the DNS server did not start:" >&2
    cat "$dir/dns.out" >&2
    return 1
  fi
  sed -n 's/^forwarder=\([^ ]*\).*/\1/p' "$dir/dns.out"
}

harness_stop_dns() {
  local dir="$HARNESS_WORK/${1:-dns}"
  [ -f "$dir/dns.pid" ] || return 0
  harness_stop_pid "$(cat "$dir/dns.pid")"
  rm -f "$dir/dns.pid"
}

harness_end() {
  local kind dir
  [ -f "$HARNESS_WORK/.started" ] || return 0
  tac "$HARNESS_WORK/.started" | while read -r kind dir; do
    case "$kind" in
      pid) harness_stop_pid "$dir" ;;
      dns) harness_stop_dns "${dir#"$HARNESS_WORK"/}" ;;
      *) harness_ctl "$kind" stop --dir "$dir" || true ;;
    esac
  done
  rm -f "$HARNESS_WORK/.started"
}

# harness_send LABEL SMTPD_PORT FROM TO[,TO...] [--header 'N: v']... [--body B]:
# sends one message with swaks and prints what happened to it: the reply to
# each recipient and to the data, then each delivery line of the maillog.
harness_send() {
  local label=$1 port=$2 from=$3 to=$4
  shift 4
  local args=(--port "$port" --from "$from" --dir "$HARNESS_WORK") rcpts=() r out qid
  IFS=, read -r -a rcpts <<<"$to"
  for r in "${rcpts[@]}"; do args+=(--to "$r"); done
  echo "  [$label] from=<$from> to=<$to>"
  out=$(harness_ctl send "${args[@]}" "$@") || true
  sed -n 's/^rcpt \(.*\)=\(.*\)$/      RCPT <\1>: \2/p; s/^data=\(.*\)$/      DATA: \1/p' <<<"$out"
  qid=$(sed -n 's/^queue_id=//p' <<<"$out")
  if [ -n "$qid" ] && [ "$qid" != "-" ]; then
    harness_ctl postfix wait-log --dir "$HARNESS_WORK/postfix" --count "${#rcpts[@]}" --timeout 30 \
      --regex "$qid: to=<.*status=" >/dev/null || true
    grep -E "$qid: to=<" "$HARNESS_WORK/postfix/maillog" |
      sed -E 's/.*: to=<([^>]*)>.* relay=([^,]*),.* status=([a-z]+) \((.*)\)$/      delivery <\1>: \3 via \2 (\4)/'
  fi
}
