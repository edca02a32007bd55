#!/usr/bin/env python3
"""Builds per-harness seed folders for the decoder fuzzers from real captures: each
frame is cut at the offset where that decoder starts (Ethernet frames for fuzz_eth, the
IPv4/IPv6 packet inside them for fuzz_ipv4/fuzz_ipv6, the TCP/UDP/ICMP header for those,
link-type-prefixed frames for fuzz_frame). Usage: fuzz-seeds.py OUTDIR CAPTURE...
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
    return out


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
    print(" ".join("%s:%d" % kv for kv in sorted(count.items())))


if __name__ == "__main__":
    main()
