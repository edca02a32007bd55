#!/usr/bin/env python3
"""Application decoders against tshark and FoxIO: for every corpus capture with truth,
frame by frame, the DNS, TLS, HTTP and QUIC fields tshark 4.0.17 shows (truth/X.tsv and
X.proto.tsv), JA4 per ClientHello (truth/X.ja4.tsv, the JA4 specification's ALPN rule),
and HTTP/2 header names and values (truth/X.http2.json). Prints one table row per field
with its distance from the bar (100% for SNI, JA3 and JA4, 99.5% otherwise); while the
bar is not reached it fails when a field falls below the floor recorded in FLOOR.

Fields the truth files lack (dns.resp.ttl, http.authorization and the question/answer
links that need two passes) are compared with `tshark -2`, run once per capture with the
truth's Decode As settings and cached in CACHE_DIR.

Lab captures given after CACHE_DIR (real curl, dig, nghttp traffic) have no truth files:
every field is compared with `tshark -2` there.

usage: agree_app.py PKTSCOPE CORPUS [CACHE_DIR [LAB_CAPTURE...]]"""
import json
import os
import subprocess
import sys

from common import cached_tshark, load_allow, reason, truth_captures

# (field, truth file suffix)
FIELDS = [
    ("dns.qry.name", ".tsv"), ("dns.a", ".tsv"), ("dns.aaaa", ".tsv"),
    ("dns.flags.rcode", ".proto.tsv"), ("dns.qry.type", ".proto.tsv"), ("dns.count.answers", ".proto.tsv"),
    ("dns.cname", ".proto.tsv"), ("dns.resp.type", ".proto.tsv"), ("dns.id", ".proto.tsv"),
    ("tls.handshake.extensions_server_name", ".tsv"), ("tls.handshake.ja3", ".tsv"),
    ("tls.handshake.ja3_full", ".tsv"), ("tls.handshake.type", ".proto.tsv"),
    ("tls.handshake.extensions_alpn_str", ".proto.tsv"), ("tls.handshake.ja3s", ".proto.tsv"),
    ("http.request.method", ".tsv"), ("http.request.uri", ".tsv"), ("http.host", ".tsv"),
    ("http.response.code", ".proto.tsv"), ("http.user_agent", ".proto.tsv"),
    ("quic.version", ".proto.tsv"), ("quic.long.packet_type", ".proto.tsv"), ("quic.dcid", ".proto.tsv"),
]
# compared with `tshark -2` (both sides two passes), for fields the truth files lack
TWO_PASS = ["dns.resp.ttl", "dns.response_in", "dns.response_to", "http.authorization", "http.response_in",
            "http.request_in"]
# the Decode As settings the truth was made with (truth/tools/generate_truth.sh)
DECODE_AS = {
    "arkime/pcap/arkime_synthetic.pcap": ["-d", "tcp.port==54344,http2"],
    "ndpi/pcap/http2.pcapng": ["-d", "tcp.port==29518,http2"],
    "suricata-verify/http2-compression-bug/input.pcap": ["-d", "tcp.port==443,http2"],
    "suricata-verify/http2-bugfixes/input.pcap": ["-d", "tcp.port==443,http2"],
    "suricata-verify/http2-long-frame/input.pcap": ["-d", "tcp.port==8443,http2"],
    "suricata-verify/http2-errorcode/input.pcap": ["-d", "tcp.port==8888,http"],
    "ndpi/pcap/tls_port_80.pcapng": ["-d", "tcp.port==80,tls"],
    "zeek/traces/tls/https-to-http.pcap": ["-d", "tcp.port==80,tls"],
    "zeek/traces/tls/ssl-to-http-server.pcap": ["-d", "tcp.port==80,tls"],
}
# the fields issue 4 names; the others are shown for information, without a bar
BAR_FIELDS = {"dns.qry.name", "dns.qry.type", "dns.a", "dns.aaaa", "dns.cname", "dns.resp.ttl", "dns.flags.rcode",
              "dns.count.answers", "dns.response_in", "dns.response_to", "tls.handshake.extensions_server_name",
              "tls.handshake.ja3", "tls.handshake.ja3_full", "ja4", "http.request.method", "http.request.uri",
              "http.host", "http.user_agent", "http.response.code", "http.authorization", "http.response_in",
              "http2.header.name", "http2.header.value"}
STRICT = {"tls.handshake.extensions_server_name", "tls.handshake.ja3", "tls.handshake.ja3_full", "ja4"}
# Issue 4 is not finished: these are the agreements measured when the decoders landed
# (2026-11-27). Until every field reaches its bar, `make test` fails when a field falls
# below its floor here (a regression), and prints how far each is from the bar.
FLOOR = {
    "dns.qry.name": 98.97,
    "dns.a": 97.39,
    "dns.aaaa": 95.50,
    "dns.flags.rcode": 97.54,
    "dns.qry.type": 98.88,
    "dns.count.answers": 98.59,
    "dns.cname": 98.73,
    "dns.resp.type": 98.00,
    "dns.id": 98.59,
    "tls.handshake.extensions_server_name": 99.70,
    "tls.handshake.ja3": 99.59,
    "tls.handshake.ja3_full": 99.59,
    "tls.handshake.type": 98.55,
    "tls.handshake.extensions_alpn_str": 98.68,
    "tls.handshake.ja3s": 97.91,
    "http.request.method": 98.98,
    "http.request.uri": 98.98,
    "http.host": 98.97,
    "http.response.code": 98.28,
    "http.user_agent": 98.45,
    "quic.version": 97.40,
    "quic.long.packet_type": 97.15,
    "quic.dcid": 92.05,
    "ja4": 99.86,
    "http2.header.name": 59.18,
    "http2.header.value": 59.18,
    "dns.resp.ttl": 97.14,
    "dns.response_in": 98.34,
    "dns.response_to": 98.22,
    "http.authorization": 100.00,
    "http.response_in": 97.96,
    "http.request_in": 97.96,
}


def read_tsv(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = {}
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols and cols[0].isdigit():
                rows[int(cols[0])] = dict(zip(header, cols))
    return header, rows


def ours(pktscope, cap, fields):
    args = [pktscope, "read", cap, "-T", "fields", "-e", "frame.number"]
    for f in fields:
        args += ["-e", f]
    p = subprocess.run(args, capture_output=True, timeout=300)
    rows = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        cols = line.split("\t")
        if cols and cols[0].isdigit():
            rows[int(cols[0])] = dict(zip(fields, cols[1:]))
    return rows


def h2_headers_ours(pktscope, cap):
    p = subprocess.run([pktscope, "read", cap, "--json"], capture_output=True, timeout=300)
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        h2 = d.get("layers", d).get("http2") if isinstance(d.get("layers", d), dict) else None
        frame = d.get("frame", {}).get("number") or d.get("layers", {}).get("frame", {}).get("number")
        if frame is None or h2 is None:
            continue
        names, values = [], []
        for part in h2 if isinstance(h2, list) else [h2]:
            hdr = part.get("header", {}) if isinstance(part, dict) else {}
            n, v = hdr.get("name", []), hdr.get("value", [])
            names += n if isinstance(n, list) else [n]
            values += v if isinstance(v, list) else [v]
        if names:
            out[int(frame)] = list(zip(names, values))
    return out


def h2_headers_truth(path, text=None):
    if text is None:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    data = json.loads(text) if text.strip() else []
    out = {}

    def walk(o, acc):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "http2.header.name":
                    acc[0] += v if isinstance(v, list) else [v]
                elif k == "http2.header.value":
                    acc[1] += v if isinstance(v, list) else [v]
                else:
                    walk(v, acc)
        elif isinstance(o, list):
            for x in o:
                walk(x, acc)
    for pkt in data:
        layers = pkt["_source"]["layers"]
        num = layers.get("frame.number") or layers.get("frame", {}).get("frame.number")
        if isinstance(num, list):
            num = num[0]
        acc = [[], []]
        walk(layers, acc)
        if acc[0]:
            out[int(num)] = list(zip(acc[0], acc[1]))
    return out


def compare_h2(count, rel, want_h2, have_h2):
    """Header name/value pairs of each frame, position by position."""
    for num in sorted(set(want_h2) | set(have_h2)):
        w, h = want_h2.get(num, []), have_h2.get(num, [])
        for i in range(max(len(w), len(h))):
            wn, wv = w[i] if i < len(w) else ("", "")
            hn, hv = h[i] if i < len(h) else ("", "")
            count("http2.header.name", rel, num, wn, hn)
            count("http2.header.value", rel, num, wv, hv)


def two_pass_truth(cap, rel, cache, fields, suffix):
    """{frame: {field: value}} from `tshark -2 -T fields` (with the truth's Decode As), cached."""
    args = ["-2"] + DECODE_AS.get(rel, []) + ["-T", "fields", "-e", "frame.number"]
    for f in fields:
        args += ["-e", f]
    rows = {}
    for line in cached_tshark(args, cap, cache, suffix, 600).splitlines():
        cols = line.split("\t")
        if cols and cols[0].isdigit():
            rows[int(cols[0])] = dict(zip(fields, cols[1:]))
    return rows


def main():
    pktscope, corpus = sys.argv[1], sys.argv[2]
    cache = sys.argv[3] if len(sys.argv) > 3 else None
    if cache:
        os.makedirs(cache, exist_ok=True)
    allow = load_allow("allow_app.tsv")
    stats = {}  # field -> [equal, compared, explained]
    unexplained = []
    explained = 0
    names = [f for f, _ in FIELDS]

    def count(field, cap, frame, want, got):
        nonlocal explained
        st = stats.setdefault(field, [0, 0, 0])
        st[1] += 1
        if want == got:
            st[0] += 1
            return
        why = reason(allow, cap, field) or reason(allow, cap, field.split(".")[0] + ".*")
        if why:
            explained += 1
            st[2] += 1
        else:
            unexplained.append((cap, frame, field, want, got))

    for rel, cap in truth_captures(corpus):
        base = os.path.join(corpus, "truth", rel)
        truth = {}
        proto_rows = set()  # X.proto.tsv lists only frames tshark calls dns/tls/quic/http/http2
        for suffix in (".tsv", ".proto.tsv"):
            if os.path.exists(base + suffix):
                _, rows = read_tsv(base + suffix)
                for num, row in rows.items():
                    truth.setdefault(num, {}).update(row)
                if suffix == ".proto.tsv":
                    proto_rows = set(rows)
        proto_fields = {f for f, sfx in FIELDS if sfx == ".proto.tsv"}
        interesting = any(any(row.get(f) for f in names) for row in truth.values())
        ja4_path = base + ".ja4.tsv"
        h2_path = base + ".http2.json"
        if not interesting and not os.path.exists(ja4_path) and not os.path.exists(h2_path):
            continue
        extra = ["tls.handshake.ja4"]
        got = ours(pktscope, cap, names + extra + (TWO_PASS if cache else []))
        if cache and interesting:
            t2 = two_pass_truth(cap, rel, cache, TWO_PASS, ".app2.tsv")
            for num in sorted(set(t2) | set(got)):
                for f in TWO_PASS:
                    want, have = t2.get(num, {}).get(f, ""), got.get(num, {}).get(f, "")
                    if want or have:
                        count(f, rel, num, want, have)
        for num in sorted(set(truth) | set(got)):
            t, g = truth.get(num, {}), got.get(num, {})
            for f in names:
                if f in proto_fields and num not in proto_rows:
                    continue
                want, have = t.get(f, ""), g.get(f, "")
                if want or have:
                    count(f, rel, num, want, have)
        if os.path.exists(ja4_path):
            _, rows = read_tsv(ja4_path)
            for num, row in rows.items():
                count("ja4", rel, num, row["ja4"], got.get(num, {}).get("tls.handshake.ja4", "").split(",")[0]
                      if row["ja4"] else "")
        if os.path.exists(h2_path):
            compare_h2(count, rel, h2_headers_truth(h2_path), h2_headers_ours(pktscope, cap))

    for cap in (sys.argv[4:] if cache else []):
        if not os.path.exists(cap):
            continue
        rel = "lab/" + os.path.basename(cap)
        lab_fields = names + TWO_PASS
        want = two_pass_truth(cap, rel, cache, lab_fields, ".lab.tsv")
        got = ours(pktscope, cap, lab_fields + ["tls.handshake.ja4"])
        for num in sorted(set(want) | set(got)):
            for f in lab_fields:
                w, h = want.get(num, {}).get(f, ""), got.get(num, {}).get(f, "")
                if w or h:
                    count(f, rel, num, w, h)
        # tshark -T fields leaves HTTP/2 header names and values out: its JSON has them
        tshark_json = cached_tshark(["-T", "json", "--no-duplicate-keys", "-J", "frame http2"], cap, cache, ".h2.json", 600)
        compare_h2(count, rel, h2_headers_truth(None, tshark_json), h2_headers_ours(pktscope, cap))

    print("application decoder agreement (tshark 4.0.17 fields, FoxIO JA4; explained = allow_app.tsv):")
    print(f"{'field':42} {'compared':>8} {'equal':>8} {'agree':>8} {'explained':>9} {'unexplained':>11} {'agree*':>8}  bar (on agree*)")
    failed = False
    for field in names + ["ja4", "http2.header.name", "http2.header.value"] + (TWO_PASS if cache else []):
        eq, n, ex = stats.get(field, [0, 0, 0])
        pct = 100.0 * eq / n if n else 100.0
        unexp = n - eq - ex
        # agree*: where the difference has no known cause outside our decoders
        pct_x = 100.0 * eq / (n - ex) if n - ex else 100.0
        bar = 100.0 if field in STRICT else 99.5
        floor = FLOOR.get(field, bar)
        ok = pct_x >= bar
        regressed = pct + 0.01 < floor
        failed |= regressed
        state = "ok" if ok else ("REGRESSED below floor %.2f" % floor if regressed else "under bar %.1f" % bar)
        if field not in BAR_FIELDS and not regressed:
            state = "(no bar)"
        print(f"{field:42} {n:8d} {eq:8d} {pct:7.2f}% {ex:9d} {unexp:11d} {pct_x:7.2f}%  {state}")

    total = sum(n for _, n, _ in stats.values())
    same = sum(eq for eq, _, _ in stats.values())
    print(f"all fields, counting every difference (explained ones too): {same}/{total} = "
          f"{100.0 * same / total if total else 100.0:.2f}% (bar 99.5%)")
    verbose = os.environ.get("AGREE_VERBOSE")
    for cap, frame, field, want, got in unexplained[:None if verbose else 40]:
        print(f"UNEXPLAINED {cap} frame {frame} {field}: tshark {want!r} pktscope {got!r}")
    if len(unexplained) > 40 and not verbose:
        print(f"... and {len(unexplained) - 40} more (AGREE_VERBOSE=1 lists them)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
