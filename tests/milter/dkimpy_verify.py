#!/usr/bin/python3
# dkimpy_verify.py: the independent DKIM verifier of tests/milter/dkim_corpus_test.cpp.
# Usage: dkimpy_verify.py RECORDS MESSAGE...  RECORDS holds "name TXT-value" lines
# (libopendkim's DKIM_QUERY_FILE format); prints "ok FILE" or "fail FILE" per
# message and exits 1 when any fails. Runs with Debian's python3 (python3-dkim).
import sys

import dkim


def main():
    records = {}
    with open(sys.argv[1], "rb") as f:
        for line in f:
            name, _, value = line.strip().partition(b" ")
            if name:
                records[name.lower() + b"."] = value
    lookup = lambda name, timeout=5: records.get(name.lower())
    bad = 0
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            message = f.read()
        ok = dkim.verify(message, dnsfunc=lookup)
        print(("ok " if ok else "fail ") + path)
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
