#!/usr/bin/env python3
"""Regenerates expected.tsv: tshark's answer (-Y) for every filter of conformance.tsv
over the joined conformance capture. Run after changing the table or captures.txt:

    tests/filter/make-expected.py [CAPTURE.pcapng]

(builds the capture with make-capture.sh when none is given). tshark is only needed
here, not when the table is checked."""
import os
import subprocess
import sys
import tempfile

from table import HERE, ranges, read_table


def main():
    cap = sys.argv[1] if len(sys.argv) > 1 else None
    if not cap:
        cap = os.path.join(tempfile.mkdtemp(), "filter-conformance.pcapng")
        subprocess.run([os.path.join(HERE, "make-capture.sh"), cap], check=True)
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    total = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True, check=True).stdout.split()
    lines = [f"# tshark's frames for each filter of conformance.tsv (made by make-expected.py with {version})",
             f"# packets {len(total)}"]
    bad = 0
    for ours, theirs in read_table():
        r = subprocess.run(["tshark", "-r", cap, "-Y", theirs, "-T", "fields", "-e", "frame.number"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"tshark refuses {theirs!r}: {r.stderr.strip()}", file=sys.stderr)
            bad += 1
            continue
        frames = [int(x) for x in r.stdout.split()]
        lines.append(f"{ours}\t{len(frames)}\t{ranges(frames)}")
    with open(os.path.join(HERE, "expected.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
