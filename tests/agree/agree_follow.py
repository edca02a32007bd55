#!/usr/bin/env python3
"""Follow-stream agreement with tshark (issue 3): for every TCP and UDP stream of the lab
captures, `pktscope read --follow P,raw,N` must print exactly what
`tshark -q -z follow,P,raw,N` prints (same bytes, chunks, order, header); ascii and hex
are compared on the first streams too. Usage: agree_follow.py PKTSCOPE CAPTURE..."""
import concurrent.futures
import os
import shutil
import subprocess
import sys


def run(args):
    return subprocess.run(args, capture_output=True, timeout=600).stdout


def streams(binary, cap, proto):
    out = run([binary, "read", "-T", "fields", "-e", proto + ".stream", cap]).decode()
    return sorted({int(v) for line in out.split("\n") for v in line.split(",") if v})


def main():
    binary, caps = sys.argv[1], [c for c in sys.argv[2:] if os.path.exists(c)]
    if shutil.which("tshark") is None:
        print("agree_follow: SKIP: tshark is not installed")
        return 0
    jobs = []
    for cap in caps:
        for proto in ("tcp", "udp"):
            for i, n in enumerate(streams(binary, cap, proto)):
                modes = ["raw"] + (["ascii", "hex"] if i < 3 else [])
                for mode in modes:
                    jobs.append((cap, proto, mode, n))

    def check(job):
        cap, proto, mode, n = job
        spec = "%s,%s,%d" % (proto, mode, n)
        ours = run([binary, "read", "--follow", spec, cap])
        theirs = run(["tshark", "-n", "-q", "-r", cap, "-z", "follow," + spec])
        return job, ours == theirs, len(ours)

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        results = list(ex.map(check, jobs))
    bad = [r for r in results if not r[1]]
    per = {}
    for (cap, proto, mode, n), ok, size in results:
        k = (os.path.basename(cap), proto)
        per.setdefault(k, [0, 0, 0])
        per[k][0] += 1
        per[k][1] += ok
        per[k][2] += size if mode == "raw" else 0
    print("follow-stream agreement with tshark (every stream, raw; first three also ascii and hex):")
    for (cap, proto), (n, ok, size) in sorted(per.items()):
        print("  %-28s %s: %3d/%3d outputs equal (%d bytes of raw output)" % (cap, proto, ok, n, size))
    for (cap, proto, mode, n), _, _ in bad:
        print("  DIFFERS: %s --follow %s,%s,%d" % (cap, proto, mode, n))
    print("agree_follow: %d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
