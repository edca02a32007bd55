#!/usr/bin/env python3
"""Agreement with tshark on flow state (issue 3): tcp.stream, udp.stream, tcp.seq, tcp.ack,
tcp.len and every tcp.analysis flag, frame by frame, on the shared corpus and our lab
capture. Then the per-flow records (`--stats flows --json`, issue 12) against the same
answers summed per stream: packets, retransmissions and the handshake RTT of every TCP
stream, packets of every UDP stream. tshark's answers are computed here (tshark is a test dependency) and cached in
CACHE_DIR. Passes when every field agrees on at least 99% of the frames that carry TCP or
UDP, and lists every capture/field that differs, with its reason when allow_flows.tsv
explains it.

Usage: agree_flows.py PKTSCOPE CORPUS CACHE_DIR [EXTRA_CAPTURE...]
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

from common import cached_tshark, load_allow, reason, truth_captures

FIELDS = ["tcp.stream", "udp.stream", "tcp.seq", "tcp.ack", "tcp.len",
          "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
          "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
          "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
          "tcp.analysis.duplicate_ack", "tcp.analysis.duplicate_ack_num",
          "tcp.analysis.zero_window", "tcp.analysis.window_full",
          "tcp.analysis.window_update", "tcp.analysis.keep_alive",
          "tcp.analysis.keep_alive_ack", "tcp.analysis.ack_rtt", "tcp.analysis.initial_rtt"]
NEEDS = {"udp.stream": "udp"}
ONCE = {"tcp.analysis.duplicate_ack"}  # the layer a field belongs to; default tcp


def fields_args():
    args = ["-T", "fields", "-e", "frame.number", "-e", "frame.protocols"]
    for f in FIELDS:
        args += ["-e", f]
    return args


def tshark(path, cache):
    out = cached_tshark(fields_args(), path, cache, ".tsv", 600)
    return [l.split("\t") for l in out.split("\n") if l.strip()]


def ours(binary, path):
    p = subprocess.run([binary, "read"] + fields_args() + [path], capture_output=True, timeout=600)
    return [l.split("\t") for l in p.stdout.decode("utf-8", "replace").split("\n") if l]


def per_stream(t_rows):
    """tshark's frames summed per stream: {("tcp"|"udp", stream): [packets, retrans, irtt]}."""
    out = {}
    si, ui = 2 + FIELDS.index("tcp.stream"), 2 + FIELDS.index("udp.stream")
    ri, ii = 2 + FIELDS.index("tcp.analysis.retransmission"), 2 + FIELDS.index("tcp.analysis.initial_rtt")
    for t in t_rows:
        t = t + [""] * (len(FIELDS) + 2 - len(t))
        protos = t[1].split(":")
        quote = min([i for i, x in enumerate(protos) if x in ("icmp", "icmpv6")] or [len(protos)])
        for proto, col in (("tcp", si), ("udp", ui)):
            # the n-th value is the n-th layer's; one inside an ICMP error's quote is not a
            # packet of its stream
            layers = [i for i, x in enumerate(protos) if x == proto]
            values = [x for x in t[col].split(",") if x]
            own = [v for v, pos in zip(values, layers) if pos < quote]
            for st in dict.fromkeys(own):  # tunnels: each stream once
                e = out.setdefault((proto, st), [0, 0, ""])
                e[0] += 1
                if proto == "tcp" and t[ri] and st == t[si].split(",")[-1]:
                    e[1] += 1
                if proto == "tcp" and t[ii] and not e[2]:
                    e[2] = "%.6f" % float(t[ii].split(",")[0])
    return out


def flow_records(binary, path, t_rows, rules, rel, totals, diffs):
    """Compares `--stats flows --json` with tshark's per-stream sums."""
    p = subprocess.run([binary, "read", "--stats", "flows", "--json", path], capture_output=True, timeout=600)
    ours_by = {}
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        if not line.startswith("{") or '"stream":null' in line or '"flows_not_kept"' in line:
            continue
        r = json.loads(line)
        if r["proto"] not in ("tcp", "udp"):
            continue
        irtt = "" if r["initial_rtt"] is None else "%.6f" % r["initial_rtt"]
        ours_by[(r["proto"], str(r["stream"]))] = [r["client_packets"] + r["server_packets"], r["retransmissions"], irtt]
    truth = per_stream(t_rows)
    for key in sorted(set(truth) | set(ours_by)):
        t, o = truth.get(key), ours_by.get(key)
        for i, what in enumerate(("packets", "retransmissions", "initial_rtt")):
            if key[0] == "udp" and i:
                continue
            field = {"packets": key[0] + ".stream", "retransmissions": "tcp.analysis.retransmission",
                     "initial_rtt": "tcp.analysis.initial_rtt"}[what]
            tv, ov = (t[i] if t else None), (o[i] if o else None)
            totals[0] += 1
            if tv == ov:
                totals[1] += 1
            elif reason(rules, rel, field) or reason(rules, rel, key[0] + ".stream"):
                totals[2] += 1
            else:
                diffs.append("%s %s stream %s %s: tshark %r, flow record %r" % (rel, key[0], key[1], what, tv, ov))


def main():
    binary, corpus, cache = sys.argv[1], sys.argv[2], sys.argv[3]
    extra = [(os.path.basename(x), x) for x in sys.argv[4:]]
    if shutil.which("tshark") is None:
        print("agree_flows: SKIP: tshark is not installed")
        return 0
    caps = extra + truth_captures(corpus)
    if not os.path.isdir(corpus):
        print("agree_flows: corpus %s not found: lab captures only" % corpus)
    os.makedirs(cache, exist_ok=True)
    rules = load_allow("allow_flows.tsv")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        truths = dict(zip([c[0] for c in caps], ex.map(lambda c: tshark(c[1], cache), caps)))
    total = {f: [0, 0] for f in FIELDS}
    diffs = []
    for rel, path in caps:
        t_rows, o_rows = truths[rel], ours(binary, path)
        o_by = {r[0]: r for r in o_rows}
        per = {}
        for t in t_rows:
            o = o_by.get(t[0])
            protos = t[1].split(":") if len(t) > 1 else []
            for i, fld in enumerate(FIELDS):
                if NEEDS.get(fld, "tcp") not in protos:
                    continue
                tv = t[i + 2] if i + 2 < len(t) else ""
                ov = (o[i + 2] if i + 2 < len(o) else "") if o else "<none>"
                if fld in ONCE:  # Wireshark adds this flag twice to a frame ("1,1")
                    tv = ",".join(dict.fromkeys(tv.split(",")))
                total[fld][0] += 1
                if tv == ov:
                    total[fld][1] += 1
                else:
                    per.setdefault(fld, []).append((t[0], tv, ov))
        for fld, lst in per.items():
            diffs.append((rel, fld, lst))
    print("agreement with tshark on flow fields (%d captures; frames that carry the field's layer):" % len(caps))
    print("  %-38s %9s %9s %8s" % ("field", "frames", "agree", "agree%"))
    ok = True
    for fld in FIELDS:
        n, a = total[fld]
        pct = 100.0 * a / n if n else 100.0
        ok = ok and pct >= 99.0
        print("  %-38s %9d %9d %7.3f%%%s" % (fld, n, a, pct, "" if pct >= 99.0 else "  < 99%"))
    print("differences, by capture and field:")
    for rel, fld, lst in diffs:
        why = reason(rules, rel, fld) or "UNEXPLAINED"
        eg = "; ".join("#%s tshark=%r ours=%r" % d for d in lst[:2])
        print("  %s %s: %d frames (%s) e.g. %s" % (rel, fld, len(lst), why, eg))
    unexplained = sum(1 for rel, fld, _ in diffs if not reason(rules, rel, fld))
    if unexplained:
        print("agree_flows: %d capture/field pairs differ without a listed reason" % unexplained)
    ok = ok and not unexplained
    rec_totals, rec_diffs = [0, 0, 0], []
    for rel, path in caps:
        flow_records(binary, path, truths[rel], rules, rel, rec_totals, rec_diffs)
    print("per-flow records (--stats flows) against tshark per stream: %d values, %d agree, %d explained "
          "(allow_flows.tsv), %d unexplained" % (rec_totals[0], rec_totals[1], rec_totals[2], len(rec_diffs)))
    for d in rec_diffs[:20]:
        print("  UNEXPLAINED " + d)
    ok = ok and not rec_diffs
    print("agree_flows: %d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
