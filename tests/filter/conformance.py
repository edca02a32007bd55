#!/usr/bin/env python3
"""Display-filter conformance: every filter of conformance.tsv must match exactly the
frames tshark -Y matched (expected.tsv) in the joined conformance capture.

usage: conformance.py PKTSCOPE CAPTURE.pcapng   (the capture is made when missing)"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from table import HERE, ranges, read_expected, read_table


def run(pktscope, cap, flt):
    r = subprocess.run([pktscope, "read", cap, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return [int(x) for x in r.stdout.split()], ""


def main():
    pktscope, cap = sys.argv[1], sys.argv[2]
    if not os.path.exists(cap):
        subprocess.run([os.path.join(HERE, "make-capture.sh"), cap], check=True)
    expected, packets = read_expected()
    table = read_table()
    have = len(subprocess.run([pktscope, "read", cap, "-T", "fields", "-e", "frame.number"],
                              capture_output=True, text=True, check=True).stdout.split())
    if have != packets:
        print(f"conformance capture has {have} packets, expected.tsv was made from {packets}: "
              "captures.txt or the corpus changed; run make-expected.py", file=sys.stderr)
        return 1
    missing = [ours for ours, _ in table if ours not in expected]
    if missing:
        print(f"no tshark answer for {missing}: run make-expected.py", file=sys.stderr)
        return 1
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda row: run(pktscope, cap, row[0]), table))
    failed = 0
    matched_total = 0
    for (ours, _), (got, err) in zip(table, results):
        want = expected[ours]
        matched_total += len(want)
        if got is None:
            print(f"FAIL  {ours}\n      pktscope refused it: {err}")
            failed += 1
        elif got != want:
            extra = sorted(set(got) - set(want))
            lost = sorted(set(want) - set(got))
            print(f"FAIL  {ours}\n      tshark {len(want)} frames, pktscope {len(got)}; "
                  f"only pktscope: {ranges(extra)[:200]}; only tshark: {ranges(lost)[:200]}")
            failed += 1
    print(f"display filters: {len(table) - failed}/{len(table)} filters give tshark's frame set "
          f"over {packets} packets of {sum(1 for l in open(os.path.join(HERE, 'captures.txt')) if l.strip() and not l.startswith('#'))} captures "
          f"({matched_total} matching frames in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
