#!/usr/bin/env python3
"""Statistics agreement with tshark (issue 3): for every corpus capture and the lab
captures, the conversation and endpoint tables for eth, ip, ipv6, tcp and udp must have
the same rows (addresses, ports, frames and bytes each way) as tshark's -z conv/-z
endpoints. tshark's answers are cached in CACHE_DIR.
Usage: agree_stats.py PKTSCOPE CORPUS CACHE_DIR [EXTRA_CAPTURE...]"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

from common import cached_tshark, load_allow, reason, truth_captures

KINDS = ["eth", "ip", "ipv6", "tcp", "udp"]
SPECS = ["conv," + k for k in KINDS] + ["endpoints," + k for k in KINDS]
TITLE = {"Ethernet": "eth", "IPv4": "ip", "IPv6": "ipv6", "TCP": "tcp", "UDP": "udp"}


def parse(text):
    """{(table, kind): sorted list of row tuples}"""
    tables = {}
    cur = None
    for line in text.split("\n"):
        m = re.match(r"^(Ethernet|IPv4|IPv6|TCP|UDP) (Conversations|Endpoints)$", line)
        if m:
            cur = ("conv" if m.group(2) == "Conversations" else "endpoints", TITLE[m.group(1)])
            tables[cur] = []
            continue
        if cur is None or not line.strip() or line.startswith(("=", "Filter", " ", "(")):
            continue
        parts = line.split()
        if cur[0] == "conv" and "<->" in parts:
            # A <-> B  f_ba b_ba unit  f_ab b_ab unit  f b unit  start dur
            nums = parts[3:]
            row = (parts[0], parts[2], nums[0], nums[1] + nums[2], nums[3], nums[4] + nums[5])
            tables[cur].append(row)
        elif cur[0] == "endpoints":
            tables[cur].append(tuple(parts[:8]))
    return {k: sorted(v) for k, v in tables.items()}


def zargs():
    out = []
    for s in SPECS:
        out += ["-z", s]
    return out


def tshark(cap, cache):
    return cached_tshark(["-q"] + zargs(), cap, cache, ".stats", 900)


def ours(binary, cap):
    args = [binary, "read"]
    for s in SPECS:
        args += ["--stats", s]
    return subprocess.run(args + [cap], capture_output=True, timeout=900).stdout.decode("utf-8", "replace")


def main():
    binary, corpus, cache = sys.argv[1], sys.argv[2], sys.argv[3]
    if shutil.which("tshark") is None:
        print("agree_stats: SKIP: tshark is not installed")
        return 0
    caps = [(os.path.basename(c), c) for c in sys.argv[4:] if os.path.exists(c)]
    if not os.path.isdir(os.path.join(corpus, "truth")):
        print("agree_stats: corpus %s not found: lab captures only" % corpus)
    caps += truth_captures(corpus)
    os.makedirs(cache, exist_ok=True)
    allow = load_allow("allow_stats.tsv")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        theirs = list(ex.map(lambda c: tshark(c[1], cache), caps))
    rows = {s: [0, 0] for s in SPECS}
    bad = []
    for (rel, cap), t in zip(caps, theirs):
        a, b = parse(ours(binary, cap)), parse(t)
        for s in SPECS:
            k = tuple(s.split(","))
            ra, rb = set(a.get(k, [])), set(b.get(k, []))
            rows[s][0] += len(rb)
            rows[s][1] += len(ra & rb)
            if ra != rb:
                why = reason(allow, rel, s)
                bad.append((rel, s, len(rb - ra), len(ra - rb), why))
    print("statistics agreement with tshark (%d captures; rows equal in addresses, frames and bytes):" % len(caps))
    for s in SPECS:
        n, ok = rows[s]
        print("  %-16s %7d tshark rows, %7d equal (%.2f%%)" % (s, n, ok, 100.0 * ok / n if n else 100.0))
    unexplained = [x for x in bad if not x[4]]
    for rel, s, miss, extra, why in bad:
        print("  %s %s: %d rows only in tshark, %d only in pktscope (%s)" % (rel, s, miss, extra, why or "UNEXPLAINED"))
    print("agree_stats: %d passed, %d failed" % (0 if unexplained else 1, 1 if unexplained else 0))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
