#!/usr/bin/env python3
"""A day of outbound connections as a capture, for bench/daemon.sh: N UDP conversations
(a 40-byte request from 10.0.0.2 to one of 4,000 addresses on port 5000, a 120-byte answer),
spread evenly over the 24 hours that end at END (seconds since the epoch, default now), so
that the monitor replaying it (its packets' times the clock) sees a day go by.

  gen-day.py OUT.pcap N [END]"""
import struct
import sys
import time


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    end = float(sys.argv[3]) if len(sys.argv) > 3 else time.time()
    start = end - 86400
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    eth_back = bytes.fromhex("020000000001" "020000000002" "0800")
    local = bytes([10, 0, 0, 2])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        buf = bytearray()
        for i in range(n):
            t = start + 86400.0 * i / n
            k = i % 4000
            remote = bytes([100, 64 + (k >> 12 & 63), (k >> 4) & 255, 1 + (k & 15)])
            sport = 1024 + (i * 7919) % 64000
            for back, size in ((False, 40), (True, 120)):
                src, dst = (remote, local) if back else (local, remote)
                sp, dp = (5000, sport) if back else (sport, 5000)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + size, i & 0xFFFF, 0x4000, 64, 17, 0, src, dst)
                ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
                udp = struct.pack("!HHHH", sp, dp, 8 + size, 0)
                frame = (eth_back if back else eth) + ip + udp + bytes(size)
                ts = t + (0.002 if back else 0)
                buf += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame
            if len(buf) > 1 << 20:
                f.write(buf)
                buf.clear()
        f.write(buf)


main()
