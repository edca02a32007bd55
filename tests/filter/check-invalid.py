#!/usr/bin/env python3
"""Every filter of invalid.tsv is refused with exit status 2, its message and a caret
under the right columns; a filter longer than the cap and one nested deeper than the cap
are refused too, quickly.

usage: check-invalid.py PKTSCOPE CAPTURE"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "pktscope: invalid display filter: "


def refuse(pktscope, cap, flt):
    r = subprocess.run([pktscope, "read", cap, "-Y", flt], capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr.splitlines()


def main():
    pktscope, cap = sys.argv[1], sys.argv[2]
    failed = total = 0
    with open(os.path.join(HERE, "invalid.tsv"), encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    for flt, msg, pos, width in rows:
        total += 1
        rc, out, err = refuse(pktscope, cap, flt)
        want_caret = " " * int(pos) + "^" + "~" * (int(width) - 1)
        problems = []
        if rc != 2:
            problems.append(f"exit status {rc}, not 2")
        if out:
            problems.append("printed packets")
        if not err or err[0] != PREFIX + msg:
            problems.append(f"message {err[0] if err else '(none)'!r}")
        elif len(err) < 3 or err[1] != "  " + flt or err[2] != "  " + want_caret:
            problems.append(f"caret lines {err[1:3]!r}")
        if problems:
            failed += 1
            print(f"FAIL  {flt!r}: " + "; ".join(problems))
    # the caps: refused with their own message, in well under the timeout
    for flt, want in (("tcp.port == 80 or " * 300 + "udp", "the filter is 5403 bytes long; the limit is 4096"),
                      ("(" * 100 + "tcp" + ")" * 100, "the filter nests deeper than 64 levels"),
                      ("!" * 200 + "tcp", "the filter nests deeper than 64 levels")):
        total += 1
        rc, out, err = refuse(pktscope, cap, flt)
        if rc != 2 or not err or err[0] != PREFIX + want:
            failed += 1
            print(f"FAIL  cap {flt[:30]!r}…: exit {rc}, {err[:1]!r}")
    print(f"invalid filters: {total - failed}/{total} refused with the expected message and caret")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
