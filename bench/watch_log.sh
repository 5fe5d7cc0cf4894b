#!/usr/bin/env bash
# watch_log.sh: relaygate-watch's log path (follow + parse + classify) vs
# pflogsumm on the same generated Postfix 3.7 log, in the same run.
#   bench/watch_log.sh [LINES]   (default 2,000,000; needs a main build and pflogsumm)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000000}
bench=$root/build/main/bench/watch_log_bench
[ -x "$bench" ] || { echo "watch_log.sh: build first: scripts/build main --target watch_log_bench" >&2; exit 1; }
command -v pflogsumm >/dev/null || { echo "watch_log.sh: pflogsumm missing (scripts/install-deps)" >&2; exit 1; }
work=$(mktemp -d /tmp/watch-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The real capture, repeated with fresh queue ids, until N lines.
python3 - "$root/tests/testdata/watch/postfix37.log" "$work/maillog" "$n" <<'PY'
import re, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src).read().splitlines()
qid = re.compile(r"\b([0-9A-F]{10,11})\b")
with open(dst, "w") as out:
    i = 0
    while i < n:
        rep = i // len(lines)
        for l in lines:
            if i >= n:
                break
            out.write(qid.sub(lambda m: "%06X%05X" % (rep & 0xFFFFFF, int(m.group(1)[-5:], 16)), l) + "\n")
            i += 1
PY
echo "watch_log.sh: $(wc -l < "$work/maillog") lines, $(du -h "$work/maillog" | cut -f1)"
"$bench" "$work/maillog" 3
start=$(date +%s.%N)
pflogsumm --smtpd-stats --detail 0 "$work/maillog" > "$work/pflogsumm.out" 2>/dev/null
end=$(date +%s.%N)
python3 -c "import sys; s=$end-$start; n=$n; print(f'pflogsumm: {n} lines in {s:.3f} s = {n/s:.0f} lines/s')"
