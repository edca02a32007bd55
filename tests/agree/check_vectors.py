#!/usr/bin/env python3
"""Published test vectors through the real binary:

- HPACK (corpus/hpack, http2jp/hpack-test-case): every case of every story is sent as one
  HEADERS frame of a cleartext HTTP/2 connection (one TCP segment each, one connection per
  story, so the dynamic table carries across cases); the headers pktscope decodes must
  equal the story's, in order.
- QUIC (corpus/quic-vectors, RFC 9001 and RFC 9369 Appendix A): the client Initial, server
  Initial and Retry packets in UDP datagrams; pktscope must remove header protection,
  decrypt both Initials (packet numbers 2 and 1, the randoms of the published ClientHello
  and ServerHello plaintext), read SNI example.com, and recognise the Retry.

usage: check_vectors.py PKTSCOPE CORPUS"""
import json
import os
import struct
import subprocess
import sys
import tempfile


def pcap(frames):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)
    return b"".join(out)


def ipv4(proto, payload, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + hdr + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def run_json(pktscope, frames):
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(pcap(frames))
        path = f.name
    try:
        p = subprocess.run([pktscope, "read", path, "--json"], capture_output=True, timeout=120)
    finally:
        os.unlink(path)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode())
    return [json.loads(line) for line in p.stdout.decode("utf-8", "replace").splitlines() if line]


def as_list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


def h2_headers(pkt):
    h2 = pkt.get("http2")
    names, values = [], []
    for part in as_list(h2):
        hdr = part.get("header", {}) if isinstance(part, dict) else {}
        names += as_list(hdr.get("name"))
        values += as_list(hdr.get("value"))
    return list(zip(names, values))


def check_hpack(pktscope, corpus):
    root = os.path.join(corpus, "hpack")
    stories = cases = bad = 0
    for enc in sorted(os.listdir(root)):
        d = os.path.join(root, enc)
        if not os.path.isdir(d) or enc == "raw-data":
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(d, name), encoding="utf-8") as f:
                story = json.load(f)
            frames = [ipv4(6, tcp(40000, 80, 0, 0, 0x02)), ipv4(6, tcp(80, 40000, 0, 1, 0x12), b"\x0a\x00\x00\x02",
                                                                   b"\x0a\x00\x00\x01")]
            seq = 1
            preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack("!I", 0)[1:] + b"\x04\x00" + b"\x00" * 4
            frames.append(ipv4(6, tcp(40000, 80, seq, 1, 0x18, preface)))
            seq += len(preface)
            expected = []
            for i, case in enumerate(story["cases"]):
                block = bytes.fromhex(case["wire"])
                stream = 2 * i + 1
                h = struct.pack("!I", len(block))[1:] + bytes([1, 0x05]) + struct.pack("!I", stream) + block
                frames.append(ipv4(6, tcp(40000, 80, seq, 1, 0x18, h)))
                seq += len(h)
                expected.append([(k, v) for hd in case["headers"] for k, v in hd.items()])
            pkts = run_json(pktscope, frames)
            stories += 1
            for i, want in enumerate(expected):
                cases += 1
                got = h2_headers(pkts[3 + i]) if 3 + i < len(pkts) else []
                if got != want:
                    bad += 1
                    if bad <= 10:
                        print(f"HPACK MISMATCH {enc}/{name} case {i}: want {want[:3]}... got {got[:3]}...")
    print(f"hpack: {stories} stories, {cases} header blocks, {cases - bad} decoded exactly")
    return bad == 0


def check_quic(pktscope, corpus):
    with open(os.path.join(corpus, "quic-vectors", "vectors.json"), encoding="utf-8") as f:
        vec = json.load(f)
    ok = True
    for key, v2 in (("rfc9001_quic_v1", False), ("rfc9369_quic_v2", True)):
        v = vec[key]
        ci, si = v["client_initial"], v["server_initial"]
        c = b"\x0a\x00\x00\x01"
        s = b"\x0a\x00\x00\x02"
        frames = [ipv4(17, udp(50000, 443, bytes.fromhex(ci["protected_packet_hex"])), c, s),
                  ipv4(17, udp(443, 50000, bytes.fromhex(si["protected_packet_hex"])), s, c),
                  ipv4(17, udp(443, 50000, bytes.fromhex(v["retry_packet_hex"])), s, c)]
        pkts = run_json(pktscope, frames)
        client_random = bytes.fromhex(ci["crypto_frame_hex"])[10:42].hex()
        server_random = bytes.fromhex(si["plaintext_payload_hex"])[15:47].hex()

        def field(pkt, *path):
            o = pkt
            for k in path:
                o = o.get(k, {}) if isinstance(o, dict) else {}
            return o

        q0, q1, q2 = (p.get("quic", {}) for p in pkts)
        t0, t1 = pkts[0].get("tls", {}), pkts[1].get("tls", {})
        checks = [
            ("client Initial packet number", field(q0, "packet_number"), ci["pn"]),
            ("client hello SNI", field(t0, "handshake", "extensions_server_name"), v["client_initial"]["expected"]["sni"]),
            ("client random (decrypted)", str(field(t0, "handshake", "random")).replace(":", ""), client_random),
            ("server Initial packet number", field(q1, "packet_number"), si["pn"]),
            ("server hello type", field(t1, "handshake", "type"), 2),
            ("server random (decrypted)", str(field(t1, "handshake", "random")).replace(":", ""), server_random),
            ("Retry recognised", field(q2, "long", "packet_type_v2" if v2 else "packet_type"), 0 if v2 else 3),
        ]
        for what, got, want in checks:
            good = got == want
            ok &= good
            print(f"quic {key}: {what}: {'ok' if good else f'FAIL (want {want!r}, got {got!r})'}")
    return ok


def check_foxio(pktscope, corpus):
    """JA4 and JA4S against FoxIO's expected output (rust insta snapshots) for every
    capture in corpus/ja4. One deliberate difference: where the first ALPN value is not
    alphanumeric, pktscope follows the JA4 specification (first and last hex characters),
    FoxIO-rust prints 99; there the truth table's spec value is expected instead."""
    import glob
    import re
    base = os.path.join(corpus, "ja4")
    ok = True
    for key in ("ja4", "ja4s"):
        total = equal = 0
        for snap in sorted(glob.glob(os.path.join(base, "expected", "rust", "*.snap"))):
            cap = os.path.basename(snap)[len("ja4__insta@"):-len(".snap")]
            with open(snap, encoding="utf-8") as f:
                want = re.findall(r"\n\s*%s: (\S+)" % key, f.read())
            if not want:
                continue
            r = subprocess.run([pktscope, "read", os.path.join(base, "pcap", cap), "-T", "fields", "-e",
                                "tls.handshake." + key], capture_output=True, text=True, timeout=120)
            have = {v for line in r.stdout.splitlines() for v in line.split(",") if v}
            spec = {}
            truth = os.path.join(corpus, "truth", "ja4", "pcap", cap + ".ja4.tsv")
            if key == "ja4" and os.path.exists(truth):
                with open(truth, encoding="utf-8") as f:
                    cols = f.readline().rstrip("\n").split("\t")
                    for line in f:
                        row = dict(zip(cols, line.rstrip("\n").split("\t")))
                        spec[row["ja4_foxio_rust_compat"]] = row["ja4"]
            for w in want:
                total += 1
                if w in have or spec.get(w, w) in have:
                    equal += 1
                else:
                    ok = False
                    print(f"FOXIO MISMATCH {cap} {key}: want {w}, have {sorted(have)[:3]}")
        print(f"foxio {key}: {equal}/{total} equal to FoxIO's expected values")
    return ok


def main():
    pktscope, corpus = sys.argv[1], sys.argv[2]
    a = check_hpack(pktscope, corpus)
    b = check_quic(pktscope, corpus)
    c = check_foxio(pktscope, corpus)
    return 0 if a and b and c else 1


if __name__ == "__main__":
    sys.exit(main())
