#!/usr/bin/env bash
# requeue_check.sh SOURCE_DIR: the two halves of the watch's requeue channel
# (debian/requeue/) on hostile input. requeue-request (runs as relaygate)
# accepts only the watch's exact call and queue ids; requeue-apply (root)
# passes only queue-id lines to "postsuper -r - deferred" (a stub here),
# skips symlinks and removes every request. ctest: requeue_channel.
set -uo pipefail
src=$1
work=$(mktemp -d /tmp/relaygate-requeue.XXXXXX)
trap 'rm -rf "$work"' EXIT
export RELAYGATE_REQUEUE_DIR=$work/requeue
mkdir -p "$RELAYGATE_REQUEUE_DIR" "$work/bin"
request=$src/debian/requeue/requeue-request
apply=$src/debian/requeue/requeue-apply
fails=0
check() {  # check NAME EXPECTED-EXIT INPUT ARGS...
  local name=$1 want=$2 input=$3 got
  shift 3
  printf '%s' "$input" | "$request" "$@" >/dev/null 2>&1
  got=$?
  if [ "$got" != "$want" ]; then echo "FAIL request: $name: exit $got, want $want"; fails=$((fails + 1)); fi
}
check "two ids" 0 $'3F2A81C0\n4Kq9Zb2xYz1\n' -c /etc/postfix -r - deferred
check "path traversal" 2 $'../../etc\n' -c /etc/postfix -r - deferred
check "shell metacharacters" 2 $'ABCDEF;rm -rf /\n' -c /etc/postfix -r - deferred
check "too short" 2 $'ABC\n' -c /etc/postfix -r - deferred
check "too long" 2 "$(printf 'A%.0s' $(seq 1 33))"$'\n' -c /etc/postfix -r - deferred
check "empty line" 2 $'ABCDEF1\n\n' -c /etc/postfix -r - deferred
check "other queue" 2 $'ABCDEF1\n' -c /etc/postfix -r - hold
check "other config dir" 2 $'ABCDEF1\n' -c /tmp/evil -r - deferred
check "other operation" 2 $'ABCDEF1\n' -c /etc/postfix -d - deferred
check "no arguments" 2 $'ABCDEF1\n'
n=$(find "$RELAYGATE_REQUEUE_DIR" -name 'req.*' | wc -l)
[ "$n" = 1 ] || { echo "FAIL request: $n request files, want 1 (only the valid call)"; fails=$((fails + 1)); }
[ -z "$(find "$RELAYGATE_REQUEUE_DIR" -name '.new.*')" ] || { echo "FAIL request: temporary file left"; fails=$((fails + 1)); }

# The root half: a stub postsuper records its arguments and stdin.
printf '#!/bin/sh\necho "$*" >>%q/postsuper.args\ncat >>%q/postsuper.stdin\n' "$work" "$work" >"$work/bin/postsuper"
printf '#!/bin/sh\necho kick >>%q/postkick.log\n' "$work" >"$work/bin/postkick"
chmod +x "$work/bin/postsuper" "$work/bin/postkick"
printf 'AAAAAA1\n../../x\nBBBBBB2; reboot\nCCCCCC3\n' >"$RELAYGATE_REQUEUE_DIR/req.2.1"
echo secret >"$work/secret"
ln -s "$work/secret" "$RELAYGATE_REQUEUE_DIR/req.3.1"
PATH=$work/bin:$PATH "$apply" >/dev/null 2>&1 || { echo "FAIL apply: non-zero exit"; fails=$((fails + 1)); }
want=$'3F2A81C0\n4Kq9Zb2xYz1\nAAAAAA1\nCCCCCC3'
got=$(cat "$work/postsuper.stdin" 2>/dev/null)
[ "$got" = "$want" ] || { echo "FAIL apply: postsuper got [$got], want [$want]"; fails=$((fails + 1)); }
[ "$(sort -u "$work/postsuper.args")" = "-r - deferred" ] || { echo "FAIL apply: args $(cat "$work/postsuper.args")"; fails=$((fails + 1)); }
[ -z "$(ls -A "$RELAYGATE_REQUEUE_DIR")" ] || { echo "FAIL apply: left $(ls -A "$RELAYGATE_REQUEUE_DIR")"; fails=$((fails + 1)); }
[ -f "$work/secret" ] || { echo "FAIL apply: followed the symlink and removed its target"; fails=$((fails + 1)); }
[ "$fails" = 0 ] && echo "requeue channel: 10 request cases, apply filtered 2 bad lines and a symlink"
exit $((fails > 0))
