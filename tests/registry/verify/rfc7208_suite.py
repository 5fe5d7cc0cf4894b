#!/usr/bin/env python3
"""rfc7208_suite.py: turns the RFC 7208 SPF test suite (the YAML kept with pyspf,
installed by Debian's python3-spf) into what spf_rfc7208_suite_itest.cpp runs:
one JSON document with, per scenario, the unbound lines of its zone data (for the
DNS fixture, tests/harness dns_server) and its tests.

Usage: rfc7208_suite.py SUITE.yml.gz OUT.json
Zone data follows pyspf's own driver (testspf.py): an SPF (type 99) record is
copied to TXT unless the name has a TXT entry ("TXT: NONE" means: none, and do
not copy); "TIMEOUT" makes the name's TXT queries time out (an unbound `deny`
zone; listed names below it get their own zone so they still answer).
"""
import gzip
import json
import sys

import yaml


def zone_text(strings):
    """A TXT rdata in zone-file form: each string quoted, bytes outside
    printable ASCII (and quote, backslash) as \\DDD."""
    if not strings:
        strings = [""]
    out = []
    for s in strings:
        data = s.encode("utf-8")
        parts = []
        for i in range(0, max(len(data), 1), 255):  # one character-string holds 255 bytes
            chunk = data[i:i + 255]
            parts.append('"' + "".join(
                chr(b) if 32 <= b < 127 and b not in (34, 39, 92) else "\\%03d" % b
                for b in chunk) + '"')
        out.extend(parts)
    return " ".join(out)


def fqdn(name):
    """Lower case, trailing dot, bytes other than letters, digits, - _ . as \\DDD
    (the suite has a name with spaces and %)."""
    data = (name.lower().rstrip(".") + ".").encode("utf-8")
    return "".join(chr(b) if chr(b).isalnum() and b < 128 or b in b"-_." else "\\%03d" % b for b in data)


def rdata(kind, value):
    if kind in ("TXT", "SPF"):
        return zone_text([value] if isinstance(value, str) else value)
    if kind == "MX":
        pref, host = value
        return "%d %s" % (pref, fqdn(host) if host not in ("", ".") else ".")
    if kind in ("PTR", "CNAME"):
        return fqdn(value)
    return str(value)


def zone_lines(zonedata):
    lines = []
    timeout_names = []
    for name, records in zonedata.items():
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        timed_out = False
        seen_txt = False
        for r in records:
            if r == "TIMEOUT":
                timed_out = not seen_txt  # as testspf.py: records of the type before TIMEOUT still answer
                continue
            for kind, value in r.items():
                if value == "NONE":
                    continue
                kinds = [kind]
                if kind == "SPF":
                    kinds = ["TYPE99"] + ([] if has_txt else ["TXT"])
                for k in kinds:
                    if k == "TXT":
                        seen_txt = True
                    data = rdata(kind, value)
                    if k == "TYPE99":
                        continue  # RFC 7208 §3.1: type SPF is never queried; not served
                    lines.append("local-data: '%s 300 IN %s %s'" % (fqdn(name), k, data))
        if timed_out:
            timeout_names.append(fqdn(name))
    for t in timeout_names:
        lines.append('local-zone: "%s" deny' % t)
        for name in zonedata:
            n = fqdn(name)
            if n != t and n.endswith("." + t):
                lines.append('local-zone: "%s" static' % n)
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: rfc7208_suite.py SUITE.yml.gz OUT.json")
    with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f:
        scenarios = list(yaml.safe_load_all(f))
    out = []
    for s in scenarios:
        tests = []
        for name, t in s["tests"].items():
            result = t["result"]
            tests.append({
                "name": name,
                "host": str(t["host"]),
                "mailfrom": t.get("mailfrom", ""),
                "helo": str(t.get("helo", "")),
                "results": result if isinstance(result, list) else [result],
            })
        out.append({"description": s["description"], "zone": zone_lines(s["zonedata"]), "tests": tests})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
