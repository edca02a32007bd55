#!/usr/bin/env python3
"""Copies a pcap file without every 100th packet: the "1% removed" side of bench/run.sh's
diff rows (editcap deletes at most 512 selected packets). Usage: drop-every-100th.py IN OUT"""
import struct
import sys

with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as o:
    hdr = f.read(24)
    o.write(hdr)
    e = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    n = 0
    while len(h := f.read(16)) == 16:
        body = f.read(struct.unpack(e + "IIII", h)[2])
        n += 1
        if n % 100:
            o.write(h + body)
