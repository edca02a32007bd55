#!/usr/bin/env python3
"""Writes the crafted golden captures in tests/golden/pcap/ from frames of
samples/lab.pcapng plus hand-built edge cases. Run from the repository root; the outputs
are committed, this script documents how they were made."""
import struct
import zlib

LAB = "samples/lab.pcapng"
OUT = "tests/golden/pcap/"


def lab_frames():
    data = open(LAB, "rb").read()
    off, out = 0, []
    while off < len(data):
        t, l = struct.unpack_from("<II", data, off)
        if t == 6:
            cl = struct.unpack_from("<I", data, off + 20)[0]
            out.append(data[off + 28:off + 28 + cl])
        off += l
    return out


def pcap(path, frames, linktype=1, ns=False, be=False, snaplen=65535, cut=0):
    e = ">" if be else "<"
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    b = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, (f, wire) in enumerate(frames):
        sec, frac = 1700000000 + i, (123456789 if ns else 123456) + i
        b += struct.pack(e + "IIII", sec, frac, len(f), wire or len(f)) + f
    if cut:
        b = b[:-cut]
    open(path, "wb").write(b)


def ip4(proto, payload, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02", opts=b"", flags_frag=0, total=None):
    hl = (20 + len(opts)) // 4
    tl = total if total is not None else 20 + len(opts) + len(payload)
    return struct.pack(">BBHHHBBH4s4s", 0x40 | hl, 0, tl, 0x1234, flags_frag, 64, proto, 0, src, dst) + opts + payload


def eth(etype, payload, dst=b"\xff" * 6, src=b"\x02\x00\x00\x00\x00\x01"):
    return dst + src + struct.pack(">H", etype) + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, flags, opts=b"", payload=b""):
    hl = (20 + len(opts)) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, 1000, 2000, hl << 4, flags, 512, 0, 0) + opts + payload


def crafted():
    inner = ip4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01" + b"ping")
    f = []
    # 802.1ad + 802.1Q stack
    f.append(eth(0x88A8, b"\x20\x0a\x81\x00" + b"\x00\x14\x08\x00" + inner))
    # IPv4 with record-route and router-alert options
    f.append(eth(0x0800, ip4(17, udp(1000, 2000, b"x"), opts=b"\x07\x07\x04\x00\x00\x00\x00" + b"\x94\x04\x00\x00" + b"\x01")))
    # TCP with SACK blocks, timestamps and TFO cookie request
    opts = b"\x01\x01\x05\x0a\x00\x00\x03\xe8\x00\x00\x07\xd0" + b"\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02" + b"\x22\x02\x00\x00"
    f.append(eth(0x0800, ip4(6, tcp(443, 5555, 0x18, opts, b"hello"))))
    # ICMP port unreachable quoting a UDP datagram
    quoted = ip4(17, udp(5000, 53, b"q" * 20), src=b"\x0a\x00\x00\x02", dst=b"\x0a\x00\x00\x01")[:28]
    f.append(eth(0x0800, ip4(1, b"\x03\x03\x00\x00\x00\x00\x00\x00" + quoted)))
    # IPv4 first fragment and a later one
    f.append(eth(0x0800, ip4(17, udp(7, 9, b"a" * 16), flags_frag=0x2000)))
    f.append(eth(0x0800, ip4(17, b"b" * 16, flags_frag=0x0003)))
    # truncated TCP header (frame cut, not by snaplen) and bogus IPv4 header length
    f.append(eth(0x0800, ip4(6, tcp(1, 2, 2))[:20 + 10]))
    bad = bytearray(ip4(17, udp(1, 2, b"")))
    bad[0] = 0x43
    f.append(eth(0x0800, bytes(bad)))
    # 802.3 + LLC/SNAP carrying IPv4, and an unknown EtherType
    snap = b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + inner
    f.append(b"\x01\x02\x03\x04\x05\x06" + b"\x02\x00\x00\x00\x00\x01" + struct.pack(">H", len(snap)) + snap)
    f.append(eth(0x88B5, b"local experimental"))
    # GRE (key) carrying IPv4, VXLAN carrying Ethernet, MPLS, PPPoE
    f.append(eth(0x0800, ip4(47, b"\x20\x00\x08\x00\x00\x00\x00\x2a" + inner)))
    f.append(eth(0x0800, ip4(17, udp(40000, 4789, b"\x08\x00\x00\x00\x00\x00\x64\x00" + eth(0x0800, inner)))))
    f.append(eth(0x8847, b"\x00\x01\x01\x40" + inner))
    f.append(eth(0x8864, b"\x11\x00\x00\x01" + struct.pack(">H", 2 + len(inner)) + b"\x00\x21" + inner))
    # Ethernet padding after a short IPv4 packet; a trailer that is not zero
    f.append(eth(0x0800, inner + b"\x00" * 6))
    f.append(eth(0x0800, inner + b"TRAILER"))
    # JSON escaping: control bytes and invalid UTF-8 in a payload are data, not text
    f.append(eth(0x0800, ip4(17, udp(1, 2, b"\x00\"\\\xff\xfe"))))
    return [(x, 0) for x in f]


def ng_block(t, body):
    body += b"\x00" * ((4 - len(body) % 4) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def ng_shb():
    return ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def ng_idb(lt, tsresol, name):
    opts = struct.pack("<HH", 2, len(name)) + name + b"\x00" * ((4 - len(name) % 4) % 4)
    opts += struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return ng_block(1, struct.pack("<HHI", lt, 0, 0) + opts)


def ng_epb(ifid, ts, data, comment=None):
    body = struct.pack("<IIIII", ifid, ts >> 32, ts & 0xffffffff, len(data), len(data)) + data
    body += b"\x00" * ((4 - len(body) % 4) % 4)
    if comment:
        body += struct.pack("<HH", 1, len(comment)) + comment + b"\x00" * ((4 - len(comment) % 4) % 4)
        body += struct.pack("<HH", 0, 0)
    return ng_block(6, body)


def pcapng_multi(path, frames):
    eth_frame, raw_ip = frames[0], frames[0][14:]
    b = ng_shb() + ng_idb(1, 6, b"eth0") + ng_idb(101, 9, b"tun0")
    b += ng_epb(0, 1700000000 * 10**6 + 1, eth_frame, b"first packet, with a comment")
    b += ng_epb(1, 1700000000 * 10**9 + 2000, raw_ip)
    b += ng_shb() + ng_idb(113, 6, b"any")
    sll = b"\x00\x04\x00\x01\x00\x06" + eth_frame[6:12] + b"\x00\x00" + eth_frame[12:14] + raw_ip
    b += ng_epb(0, 1700000000 * 10**6 + 3, sll)
    open(path, "wb").write(b)


def pcapng_future(path, frames):
    """The lab's first DNS and TCP exchanges with pcapng timestamps that jump from 2023 to
    the largest a 64-bit count of microseconds holds (about 584,000 years ahead) and back
    to 1970: times far past what nanoseconds in 64 bits can hold (issue 11)."""
    b = ng_shb() + ng_idb(1, 6, b"eth0")
    base = [1700000000 * 10**6, 1 << 63, (1 << 64) - 100, 0]
    for i, f in enumerate(frames):
        b += ng_epb(0, base[i * len(base) // len(frames)] + i, f)
    open(path, "wb").write(b)


def ip4_frag(ident, proto, piece, off, more, src=b"\x0a\x4d\x00\x02", dst=b"\x0a\x4d\x00\x01"):
    ff = (0x2000 if more else 0) | (off // 8)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(piece), ident, ff, 64, proto, 0, src, dst) + piece


def ip6_frag(ident, nxt, piece, off, more):
    src = bytes.fromhex("fd770000000000000000000000000002")
    dst = bytes.fromhex("fd770000000000000000000000000001")
    fh = struct.pack(">BBHI", nxt, 0, off | (1 if more else 0), ident)
    return struct.pack(">IHBB16s16s", 0x60000000, len(fh) + len(piece), 44, 64, src, dst) + fh + piece


def fragments(lab):
    """IP fragments of two DNS answers from the lab capture: out of order, overlapping with
    and without conflict, duplicated, never completed, over IPv6, and quoted by an ICMP
    error (which must not feed reassembly)."""
    ans_a = lab[18][34:]    # frame 19's UDP datagram (DNS A answer)
    ans_mx = lab[24][34:]   # frame 25's UDP datagram (DNS MX answer)
    e = lambda et, pl: eth(et, pl, dst=lab[18][0:6], src=lab[18][6:12])
    f = []
    # out of order: the tail, then the head, then the middle completes it
    f.append(e(0x0800, ip4_frag(0x0101, 17, ans_a[48:], 48, False)))
    f.append(e(0x0800, ip4_frag(0x0101, 17, ans_a[:24], 0, True)))
    f.append(e(0x0800, ip4_frag(0x0101, 17, ans_a[24:48], 24, True)))
    # overlap with conflicting bytes: the first-placed bytes stand
    bad = bytearray(ans_mx[40:])
    bad[0:8] = b"XXXXXXXX"
    f.append(e(0x0800, ip4_frag(0x0202, 17, ans_mx[:48], 0, True)))
    f.append(e(0x0800, ip4_frag(0x0202, 17, bytes(bad), 40, False)))
    # a duplicated head (overlap without conflict), then the tail
    f.append(e(0x0800, ip4_frag(0x0303, 17, ans_a[:32], 0, True)))
    f.append(e(0x0800, ip4_frag(0x0303, 17, ans_a[:32], 0, True)))
    f.append(e(0x0800, ip4_frag(0x0303, 17, ans_a[32:], 32, False)))
    # a head whose datagram never completes
    f.append(e(0x0800, ip4_frag(0x0404, 17, ans_a[:16], 0, True)))
    # an ICMP time-exceeded (reassembly) quoting a fragment of ID 0x0505, then that
    # datagram's two pieces: the quote is a copy, not one of them (tshark 4.0 takes the
    # quote as the head and completes the datagram one frame early)
    quoted = ip4_frag(0x0505, 17, ans_a[:8], 0, True)
    icmp = struct.pack(">BBHI", 11, 1, 0, 0) + quoted
    f.append(e(0x0800, ip4_frag(0x0606, 1, icmp, 0, False, src=b"\x0a\x4d\x00\x01", dst=b"\x0a\x4d\x00\x02")))
    f.append(e(0x0800, ip4_frag(0x0505, 17, ans_a[8:], 8, False)))
    f.append(e(0x0800, ip4_frag(0x0505, 17, ans_a[:8], 0, True)))
    # IPv6: the same answer in two pieces
    f.append(e(0x86DD, ip6_frag(0x01020304, 17, ans_a[:40], 0, True)))
    f.append(e(0x86DD, ip6_frag(0x01020304, 17, ans_a[40:], 40, False)))
    return [(x, 0) for x in f]


def pcapng_blocks(path, frames):
    """Records that are not packets, between packets (pcapng spec §4.7, §4.8, §4.9, §5.2):
    custom blocks that may and may not be copied, a systemd journal export entry, a
    decryption secrets block (not a frame: its keys are for decryption), and simple packet
    blocks, which carry no time."""
    def pad(b):
        return b + b"\x00" * ((4 - len(b) % 4) % 4)
    b = ng_shb() + ng_idb(1, 6, b"eth0")
    b += ng_epb(0, 1700000000 * 10**6 + 1, frames[0])
    b += ng_block(0x00000BAD, struct.pack("<I", 32473) + pad(b"pktscope custom data"))
    b += ng_block(3, struct.pack("<I", len(frames[1])) + pad(frames[1]))
    journal = (b"__REALTIME_TIMESTAMP=1700000001500000\n_HOSTNAME=lab\n"
               b"SYSLOG_IDENTIFIER=pktscope\nMESSAGE=hello from the journal\n")
    b += ng_block(9, pad(journal))
    keylog = b"CLIENT_RANDOM 00 00\n"
    b += ng_block(0x0000000A, struct.pack("<II", 0x544C534B, len(keylog)) + pad(keylog))
    b += ng_block(0x40000BAD, struct.pack("<I", 36724) + pad(b"not to be copied"))
    b += ng_epb(0, 1700000002 * 10**6 + 3, frames[2])
    open(path, "wb").write(b)


def wireless(lab):
    """IEEE 802.11 frames of each kind (management, control, data with LLC/SNAP and IP from
    the lab capture, protected, null), as raw 802.11, behind radiotap (every other frame with
    an FCS) and behind PPI's 802.11-common field."""
    AP = bytes.fromhex("020000aa0001"); STA = bytes.fromhex("020000bb0002"); BC = b"\xff"*6
    def fc(t, st, flags=0): return struct.pack("<BB", (st << 4) | (t << 2), flags)
    def seq(sn, fn=0): return struct.pack("<H", (sn << 4) | fn)
    def tag(n, v): return bytes([n, len(v)]) + v
    def mgmt(st, da, sa, bssid, body, sn=100, flags=0): return fc(0, st, flags) + b"\x00\x00" + da + sa + bssid + seq(sn) + body
    ies = tag(0, b"pktscope-lab") + tag(1, b"\x82\x84\x8b\x96\x0c\x12\x18\x24") + tag(3, b"\x06")
    beacon = mgmt(8, BC, AP, AP, struct.pack("<QHH", 123456789, 100, 0x0431) + ies, sn=1)
    probe_req = mgmt(4, BC, STA, BC, tag(0, b"") + tag(1, b"\x82\x84"), sn=2)
    probe_resp = mgmt(5, STA, AP, AP, struct.pack("<QHH", 123456999, 100, 0x0431) + ies, sn=3)
    auth = mgmt(11, AP, STA, AP, struct.pack("<HHH", 0, 1, 0), sn=4)
    assoc_req = mgmt(0, AP, STA, AP, struct.pack("<HH", 0x0431, 10) + ies, sn=5)
    assoc_resp = mgmt(1, STA, AP, AP, struct.pack("<HHH", 0x0431, 0, 0xc001) + tag(1, b"\x82\x84"), sn=6)
    ack = fc(1, 13) + b"\x00\x00" + STA
    rts = fc(1, 11) + b"\x2c\x00" + AP + STA
    cts = fc(1, 12) + b"\x2c\x00" + STA
    # data: STA -> AP (ToDS): A1 = BSSID, A2 = SA, A3 = DA; QoS data with LLC/SNAP + lab IP packet
    ipdns = lab[17][14:]
    llc = b"\xaa\xaa\x03\x00\x00\x00\x08\x00"
    qos_data = fc(2, 8, 0x01) + b"\x2c\x00" + AP + STA + bytes.fromhex("020000cc0003") + seq(7) + b"\x00\x00" + llc + ipdns
    # data: AP -> STA (FromDS): A1 = DA, A2 = BSSID, A3 = SA; plain data
    ipans = lab[18][14:]
    data = fc(2, 0, 0x02) + b"\x2c\x00" + STA + AP + bytes.fromhex("020000cc0003") + seq(8) + llc + ipans
    null = fc(2, 4, 0x11) + b"\x2c\x00" + AP + STA + AP + seq(9)
    prot = fc(2, 8, 0x41) + b"\x2c\x00" + AP + STA + AP + seq(10) + b"\x00\x00" + bytes.fromhex("0100002000000000") + b"\x11" * 40
    deauth = mgmt(12, STA, AP, AP, struct.pack("<H", 7), sn=11)
    frames = [beacon, probe_req, probe_resp, auth, assoc_req, assoc_resp, rts, cts, ack, qos_data, data, null, prot, deauth]
    def radiotap(f, fcs=False):
        # present: TSFT(0) Flags(1) Rate(2) Channel(3) dBm signal(5) dBm noise(6) antenna(11)
        present = (1<<0)|(1<<1)|(1<<2)|(1<<3)|(1<<5)|(1<<6)|(1<<11)
        body = struct.pack("<Q", 1000000) + bytes([0x10 if fcs else 0, 12]) + struct.pack("<HH", 2437, 0x00a0) + struct.pack("<bbB", -42, -95, 1)
        h = struct.pack("<BBHI", 0, 0, 8 + len(body), present) + body
        if fcs:
            f = f + struct.pack("<I", zlib.crc32(f) & 0xffffffff)
        return h + f
    pcap(OUT + "wlan.pcap", [(f, 0) for f in frames], linktype=105)
    pcap(OUT + "radiotap.pcap", [(radiotap(f, fcs=(i % 2 == 0)), 0) for i, f in enumerate(frames)], linktype=127)
    def ppi(f):
        common = struct.pack("<QHHHHBBbb", 1000000, 0, 12, 2437, 0x00a0, 0, 0, -42, -95)  # 802.11-common
        field = struct.pack("<HH", 2, len(common)) + common
        return struct.pack("<BBHI", 0, 0, 8 + len(field), 105) + field + f
    pcap(OUT + "ppi.pcap", [(ppi(f), 0) for f in frames], linktype=192)


def main():
    lab = lab_frames()
    wireless(lab)
    pcapng_blocks(OUT + "blocks.pcapng", lab[17:20])
    pcap(OUT + "fragments.pcap", fragments(lab))
    pcap(OUT + "crafted.pcap", crafted())
    icmp = [f for f in lab if len(f) == 98][0]
    pcap(OUT + "ns-be.pcap", [(icmp, 0), (lab[5], 0)], ns=True, be=True)
    pcap(OUT + "truncated.pcap", [(f, 0) for f in lab[:6]], cut=20)
    pcap(OUT + "snaplen.pcap", [(lab[38][:96], len(lab[38])), (lab[5][:20], len(lab[5]))], snaplen=96)
    pcapng_multi(OUT + "multi.pcapng", [icmp])
    pcapng_future(OUT + "future.pcapng", lab[:48])


if __name__ == "__main__":
    main()
