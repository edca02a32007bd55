#!/usr/bin/env python3
"""Display-filter conformance: every filter of conformance.tsv must match exactly the
frames tshark -Y matched (expected.tsv) in the joined conformance capture.

usage: conformance.py PKTSCOPE CAPTURE.pcapng   (the capture is made when missing)"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from table import HERE, ranges, read_expected, read_table


SAME_OUTPUT_FILTERS = ["tcp.port == 80", "ip.src == 10.77.0.1 and tcp", "tcp.len > 1000", "udp.port == 53",
                       "icmp or icmpv6 or arp", "tcp.flags.syn == 1", "frame.len < 80 and ipv6"]


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
    # A filter over packet-local fields is first run over the file alone, then the full
    # pipeline only where needed; standard input takes the single pass. Both must print
    # the same lines, JSON and fields.
    same = 0
    for flt in SAME_OUTPUT_FILTERS:
        for mode in ([], ["--json"], ["-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.seq",
                                      "-e", "tcp.analysis.flags"]):
            direct = subprocess.run([pktscope, "read", cap, "-Y", flt] + mode, capture_output=True).stdout
            with open(cap, "rb") as f:
                piped = subprocess.run([pktscope, "read", "-", "-Y", flt] + mode, stdin=f, capture_output=True).stdout
            if direct != piped or not direct:
                print(f"FAIL  {flt} {' '.join(mode)}: the two-pass run printed other output than the single pass")
                failed += 1
            else:
                same += 1
    print(f"two-pass filtering: {same}/{3 * len(SAME_OUTPUT_FILTERS)} runs print what the single pass prints")
    print(f"display filters: {len(table) - failed}/{len(table)} filters give tshark's frame set "
          f"over {packets} packets of {sum(1 for l in open(os.path.join(HERE, 'captures.txt')) if l.strip() and not l.startswith('#'))} captures "
          f"({matched_total} matching frames in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
