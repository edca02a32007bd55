#!/usr/bin/env python3
"""Agreement with tshark on the real corpus (issue 2): for every capture with a truth
file in ../shared/corpus/truth/, compare pktscope's values with tshark's for the L2-L4
fields below, frame by frame, and print a table of agreement per capture.

A difference fails the test unless tests/agree/allow_l2l4.tsv explains it (capture
pattern, field, reason). Usage: agree_l2l4.py PKTSCOPE CORPUS [--verbose]
"""
import os
import subprocess
import sys

from common import load_allow, reason as explained

FIELDS = ["frame.len", "eth.src", "eth.dst", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport"]


def read_truth(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split("\t")
        idx = [header.index(x) for x in FIELDS]
        rows = []
        for line in f:
            cols = line.rstrip("\n").split("\t")
            cols += [""] * (len(header) - len(cols))
            rows.append([cols[i] for i in idx])
    return rows


def run_ours(binary, cap):
    args = [binary, "read", "-T", "fields"]
    for fld in FIELDS:
        args += ["-e", fld]
    args.append(cap)
    p = subprocess.run(args, capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace").split("\n")
    rows = [line.split("\t") for line in out if line != ""]
    return rows, p.returncode, p.stderr.decode("utf-8", "replace").strip()


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    verbose = "--verbose" in sys.argv
    truth_dir = os.path.join(corpus, "truth")
    if not os.path.isdir(truth_dir):
        print("agree_l2l4: SKIP: %s not found (the shared corpus is absent)" % truth_dir)
        return 0
    rules = load_allow("allow_l2l4.tsv")
    totals = {f: [0, 0, 0] for f in FIELDS}  # compared, agree, explained
    unexplained = []
    lines = []
    for root, _dirs, files in os.walk(truth_dir):
        for name in sorted(files):
            if not name.endswith(".tsv") or name.endswith((".meta.tsv", ".proto.tsv", ".ja4.tsv")):
                continue
            rel = os.path.relpath(os.path.join(root, name), truth_dir)[:-4]
            cap = os.path.join(corpus, rel)
            if not os.path.exists(cap):
                continue
            truth = read_truth(os.path.join(root, name))
            ours, rc, err = run_ours(binary, cap)
            cap_cmp = cap_agree = 0
            diffs = {}
            n = max(len(truth), len(ours))
            for i in range(n):
                t = truth[i] if i < len(truth) else None
                o = ours[i] if i < len(ours) else None
                for k, fld in enumerate(FIELDS):
                    tv = t[k] if t else "<no frame>"
                    ov = (o[k] if k < len(o) else "") if o else "<no frame>"
                    if tv == "" and ov == "":
                        continue
                    totals[fld][0] += 1
                    cap_cmp += 1
                    if tv == ov:
                        totals[fld][1] += 1
                        cap_agree += 1
                        continue
                    diffs.setdefault(fld, []).append((i + 1, tv, ov))
            for fld, lst in diffs.items():
                reason = explained(rules, rel, fld)
                if reason:
                    totals[fld][2] += len(lst)
                else:
                    unexplained.append((rel, fld, lst))
            pct = 100.0 * cap_agree / cap_cmp if cap_cmp else 100.0
            note = "" if not diffs else "  differs: " + ", ".join(
                "%s(%d)%s" % (f, len(l), "" if explained(rules, rel, f) else " UNEXPLAINED")
                for f, l in diffs.items())
            lines.append("%7.2f%%  %6d values  %s%s" % (pct, cap_cmp, rel, note))
    print("agreement with tshark per capture (frame.len, eth/ip/ipv6 addresses, tcp/udp ports):")
    for line in lines:
        if verbose or "differs" in line:
            print("  " + line)
    print("  (%d captures; %d at 100%%%s)" % (len(lines), sum(1 for l in lines if "differs" not in l),
                                             "" if verbose else ", not listed"))
    print("totals per field:")
    print("  %-12s %9s %9s %9s %8s %15s" % ("field", "compared", "agree", "explained", "agree%",
                                           "unexplained%"))
    for fld in FIELDS:
        c, a, e = totals[fld]
        print("  %-12s %9d %9d %9d %7.3f%% %14.3f%%" % (fld, c, a, e, 100.0 * a / c if c else 100.0,
                                                      100.0 * (c - a - e) / c if c else 0.0))
    if unexplained:
        print("UNEXPLAINED differences:")
        for rel, fld, lst in unexplained:
            shown = "; ".join("#%d tshark=%r ours=%r" % d for d in lst[:3])
            print("  %s %s: %d frames, e.g. %s" % (rel, fld, len(lst), shown))
        print("agree_l2l4: 0 passed, 1 failed")
        return 1
    print("agree_l2l4: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
