#!/usr/bin/env python3
"""Builds per-harness seed folders for the decoder fuzzers from real captures: each
frame is cut at the offset where that decoder starts (Ethernet frames for fuzz_eth, the
IPv4/IPv6 packet inside them for fuzz_ipv4/fuzz_ipv6, the TCP/UDP/ICMP header for those,
UDP payloads for fuzz_dns/fuzz_ssdp/fuzz_quic/fuzz_dtls, link-type-prefixed frames for
fuzz_frame), and each TCP conversation's payloads become one fuzz_app input in its chunk
format (fuzz/fuzz_app.c). Usage: fuzz-seeds.py OUTDIR CAPTURE...
Reads pcap (LE/BE, us/ns) and pcapng (LE); other files are skipped."""
import hashlib
import os
import struct
import sys

MAX_PER_HARNESS = 400


def frames(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xd4, 0x4d) else ">"
        lt = struct.unpack_from(e + "I", data, 20)[0] & 0xffff
        off = 24
        while off + 16 <= len(data):
            cl = struct.unpack_from(e + "I", data, off + 8)[0]
            if cl > 262144 or off + 16 + cl > len(data):
                return
            yield lt, data[off + 16:off + 16 + cl]
            off += 16 + cl
    elif magic == b"\x0a\x0d\x0d\x0a" and data[8:12] == b"\x4d\x3c\x2b\x1a":
        off, lts = 0, []
        while off + 12 <= len(data):
            t, l = struct.unpack_from("<II", data, off)
            if l < 12 or off + l > len(data):
                return
            if t == 1:
                lts.append(struct.unpack_from("<H", data, off + 8)[0])
            elif t == 0x0A0D0D0A:
                lts = []
            elif t == 6 and l >= 32:
                ifid, cl = struct.unpack_from("<I", data, off + 8)[0], struct.unpack_from("<I", data, off + 20)[0]
                if ifid < len(lts) and 28 + cl <= l:
                    yield lts[ifid], data[off + 28:off + 28 + cl]
            off += l


def cut(lt, f):
    """{harness: bytes} for one frame."""
    out = {"fuzz_frame": struct.pack(">H", lt) + f}
    if lt != 1 or len(f) < 14:
        return out
    out["fuzz_eth"] = f
    etype, ip = struct.unpack_from(">H", f, 12)[0], f[14:]
    if etype == 0x0806:
        out["fuzz_arp"] = ip
    l4, proto = None, None
    if etype == 0x0800 and len(ip) >= 20:
        out["fuzz_ipv4"] = ip
        hl = (ip[0] & 15) * 4
        l4, proto = ip[hl:], ip[9]
    elif etype == 0x86dd and len(ip) >= 40:
        out["fuzz_ipv6"] = ip
        l4, proto = ip[40:], ip[6]
    names = {6: "fuzz_tcp", 17: "fuzz_udp", 1: "fuzz_icmp", 58: "fuzz_icmpv6", 132: "fuzz_sctp", 47: "fuzz_gre"}
    if l4 and proto in names:
        out[names[proto]] = l4
    if l4 and proto == 17 and len(l4) > 8:
        ports, payload = struct.unpack_from(">HH", l4, 0), l4[8:]
        if 53 in ports or 5353 in ports or 5355 in ports:
            out["fuzz_dns"] = payload
        elif 1900 in ports:
            out["fuzz_ssdp"] = payload
        elif payload[0] & 0x80 or payload[0] in (20, 21, 22, 23):
            out["fuzz_quic" if payload[0] & 0x80 else "fuzz_dtls"] = payload
    return out


# fuzz_app's first byte picks the flow: TCP servers 443, 80, 8080, 53, 5353, 25, 9000
APP_PORTS = [443, 80, 8080, 53, 5353, 25]


def tcp_payload(lt, f):
    """((client key, server key), payload) of an Ethernet/IPv4 TCP segment with data."""
    if lt != 1 or len(f) < 34 or struct.unpack_from(">H", f, 12)[0] != 0x0800:
        return None
    ip = f[14:]
    hl = (ip[0] & 15) * 4
    if ip[9] != 6 or len(ip) < hl + 20:
        return None
    tcp = ip[hl:]
    sport, dport = struct.unpack_from(">HH", tcp, 0)
    data = tcp[(tcp[12] >> 4) * 4:]
    return ((ip[12:16], sport), (ip[16:20], dport)), data


def app_streams(caps, outdir, limit):
    """One fuzz_app input per TCP conversation with data on a port the harness knows."""
    d = os.path.join(outdir, "fuzz_app")
    os.makedirs(d, exist_ok=True)
    made = 0
    for cap in caps:
        flows = {}
        try:
            for lt, f in frames(cap):
                seg = tcp_payload(lt, f)
                if not seg or not seg[1]:
                    continue
                (a, b), data = seg
                key = (a, b) if (b, a) not in flows else (b, a)
                flows.setdefault(key, []).append((0 if key == (a, b) else 1, data))
        except (OSError, struct.error):
            continue
        for (cli, srv), chunks in flows.items():
            if srv[1] not in APP_PORTS or made >= limit:
                continue
            out = bytearray([APP_PORTS.index(srv[1])])
            for dirn, data in chunks:
                for i in range(0, len(data), 126):
                    part = data[i:i + 126]
                    out.append((0x80 if dirn else 0) | len(part))
                    out += part
            out = bytes(out[:65536])
            open(os.path.join(d, hashlib.sha1(out).hexdigest()), "wb").write(out)
            made += 1
    return made


def filter_seeds(outdir):
    """The display filters of the conformance and invalid tables, one per seed."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "filter")
    d = os.path.join(outdir, "fuzz_filter")
    os.makedirs(d, exist_ok=True)
    n = 0
    for table in ("conformance.tsv", "invalid.tsv"):
        with open(os.path.join(top, table), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                text = line.rstrip("\n").split("\t")[0].encode()
                open(os.path.join(d, hashlib.sha1(text).hexdigest()), "wb").write(text)
                n += 1
    return n


def config_seeds(outdir):
    """The example configuration, whole and cut at each line."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    d = os.path.join(outdir, "fuzz_config")
    os.makedirs(d, exist_ok=True)
    text = open(os.path.join(top, "dist", "config.toml.example"), "rb").read()
    lines = text.split(b"\n")
    seeds = [text] + [b"\n".join(lines[:i]) for i in range(1, len(lines))]
    for s in seeds:
        open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb").write(s)
    return len(seeds)


def main():
    outdir, caps = sys.argv[1], sys.argv[2:]
    count = {}
    for cap in caps:
        try:
            for lt, f in frames(cap):
                for h, b in cut(lt, f).items():
                    if count.get(h, 0) >= MAX_PER_HARNESS:
                        continue
                    d = os.path.join(outdir, h)
                    os.makedirs(d, exist_ok=True)
                    name = hashlib.sha1(b).hexdigest()
                    p = os.path.join(d, name)
                    if not os.path.exists(p):
                        open(p, "wb").write(b)
                        count[h] = count.get(h, 0) + 1
        except (OSError, struct.error):
            continue
    count["fuzz_app"] = app_streams(caps, outdir, MAX_PER_HARNESS)
    count["fuzz_filter"] = filter_seeds(outdir)
    count["fuzz_config"] = config_seeds(outdir)
    print(" ".join("%s:%d" % kv for kv in sorted(count.items())))


if __name__ == "__main__":
    main()
