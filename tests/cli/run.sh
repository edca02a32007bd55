#!/bin/sh
# Integration tests of the pktscope binary's command line: error messages and exit
# statuses, standard input, JSON validity, -c, and list-interfaces.
# Usage: run.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$1
cd "$2" || exit 2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# no configuration file of the person running the tests
export XDG_CONFIG_HOME="$tmp/no-config"

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect STATUS STDERR-SUBSTRING -- ARGS...: exit status and message both as promised
expect() {
	want=$1 msg=$2
	shift 3
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then bad "pktscope $*: exit $rc, want $want"; return; fi
	if ! grep -qF -- "$msg" "$tmp/err"; then bad "pktscope $*: stderr lacks '$msg': $(cat "$tmp/err")"; return; fi
	if [ "$(wc -l <"$tmp/err")" -gt 1 ] && [ "$want" -eq 1 ]; then bad "pktscope $*: error is not one line"; return; fi
	ok
}

expect 1 "nonexistent.pcap: No such file or directory" -- read nonexistent.pcap
printf 'this is not a capture file at all\n' >"$tmp/text.txt"
expect 1 "not a capture file" -- read "$tmp/text.txt"
: >"$tmp/empty.pcap"
expect 1 "empty file" -- read "$tmp/empty.pcap"
printf '\037\213\010\000' >"$tmp/x.pcap.gz"
expect 1 "gzip data ends early" -- read "$tmp/x.pcap.gz"
expect 1 "after 5 complete packets" -- read tests/golden/pcap/truncated.pcap
expect 2 "unknown option" -- read --frobnicate samples/lab.pcapng
expect 2 "positive packet count" -- read -c zero samples/lab.pcapng
expect 2 "did you mean \"tcp.srcport\"" -- read -T fields -e tcp.srcprot samples/lab.pcapng
expect 2 "give -e tcp.srcport -e tcp.dstport" -- read -T fields -e tcp.port samples/lab.pcapng
expect 2 "no capture file given" -- read
expect 2 "unknown command" -- frobnicate
expect 2 "usage" --
expect 2 "the type must be eth, ip, ipv6, tcp or udp" -- read --stats conv,smtp samples/lab.pcapng
expect 2 "--stats io needs an interval" -- read --stats io,0 samples/lab.pcapng
expect 2 "--follow takes PROTO,MODE,STREAM" -- read --follow tcp,ascii,x samples/lab.pcapng
expect 2 "mode must be ascii, hex or raw" -- read --follow tcp,ebcdic,0 samples/lab.pcapng
expect 2 "cannot be combined" -- read --follow tcp,raw,0 --stats phs samples/lab.pcapng
expect 1 "there is no tcp stream 99" -- read --follow tcp,raw,99 samples/lab.pcapng

# a directory is an I/O error, not a crash
expect 1 "" -- read tests

# standard input gives the same packets as the file, for pcap and pcapng
"$bin" read samples/lab.pcapng >"$tmp/a"
"$bin" read - <samples/lab.pcapng >"$tmp/b" && cmp -s "$tmp/a" "$tmp/b" && ok || bad "pcapng from stdin differs"
cat tests/golden/pcap/ns-be.pcap | "$bin" read -r - >"$tmp/b" && "$bin" read tests/golden/pcap/ns-be.pcap >"$tmp/a" &&
	cmp -s "$tmp/a" "$tmp/b" && ok || bad "pcap from a pipe differs"

# two passes need a file: standard input cannot be read twice
expect 2 "standard input cannot be read twice" -- read -2 - </dev/null
expect 2 "standard input cannot be read twice" -- read -T fields -e dns.response_in - </dev/null
# -2 links a question to its answer; one pass cannot
v=$("$bin" read -2 -T fields -e frame.number -e dns.response_in samples/lab.pcapng | awk -F'\t' '$1==18 {print $2}')
[ "$v" = 19 ] && ok || bad "read -2: dns.response_in of frame 18 is '$v', want 19"
v=$("$bin" read -T fields -e frame.number -e dns.response_to samples/lab.pcapng | awk -F'\t' '$1==18 {print $2}')
[ -z "$v" ] && ok || bad "one pass: a query has no dns.response_to, got '$v'"

# -c stops exactly
n=$("$bin" read -c 7 samples/lab.pcapng | wc -l)
[ "$n" -eq 7 ] && ok || bad "-c 7 printed $n lines"

# display filters (-Y), capture filters on files (-f), pcap output (-w)
expect 2 "did you mean \"tcp.port\"" -- read -Y 'tcp.prot == 443' samples/lab.pcapng
expect 2 "unbalanced parenthesis" -- read -Y '(tcp' samples/lab.pcapng
expect 2 "invalid capture filter \"tcp port\"" -- read -f 'tcp port' samples/lab.pcapng
expect 2 "leave out its number" -- read -Y tcp --follow tcp,raw,0 samples/lab.pcapng
expect 2 "-w writes packets" -- read -w "$tmp/x.pcap" --json samples/lab.pcapng
expect 1 "No such file or directory" -- read -Y tcp -w "$tmp/no/such/dir/x.pcap" samples/lab.pcapng
# -Y picks tshark's frames and keeps their numbers; -f drops the rest before numbering
n=$("$bin" read -Y 'tcp.port == 443 and ip.src == 10.77.0.1' samples/lab.pcapng | awk '{print $1}' | tr '\n' ' ')
[ "$n" = "36 38 39 42 43 46 47 48 52 53 55 58 60 61 64 65 67 69 71 " ] && ok || bad "-Y frames: $n"
n=$("$bin" read -f 'tcp port 443 and src host 10.77.0.1' samples/lab.pcapng | awk '{print $1}' | tr '\n' ' ')
[ "$n" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 " ] && ok || bad "-f frames: $n"
# the filtered file holds exactly the matched packets, readable by tshark
"$bin" read -Y 'dns' -w "$tmp/dns.pcap" samples/lab.pcapng && ok || bad "-w failed"
a=$("$bin" read -Y dns -T fields -e frame.len -e dns.id samples/lab.pcapng | md5sum)
b=$("$bin" read -T fields -e frame.len -e dns.id "$tmp/dns.pcap" | md5sum)
[ "$a" = "$b" ] && ok || bad "-w: the written packets differ from the matched ones"
if command -v tshark >/dev/null; then
	c=$(tshark -r "$tmp/dns.pcap" -T fields -e frame.len -e dns.id 2>/dev/null | md5sum)
	[ "$a" = "$c" ] && ok || bad "-w: tshark reads other packets from the file"
fi
# an empty result is still a valid pcap file
"$bin" read -Y 'tcp.port == 1' -w "$tmp/none.pcap" samples/lab.pcapng && [ "$(wc -c <"$tmp/none.pcap")" -eq 24 ] &&
	"$bin" read "$tmp/none.pcap" >/dev/null && ok || bad "-w with no match"

# pcapng output: every interface of the input with its name and link type, packet comments
# kept, the capture filter recorded; libpcap (tcpdump) and tshark read it
expect 2 "--pcapng goes with -w" -- read --pcapng samples/lab.pcapng
"$bin" read tests/golden/pcap/multi.pcapng -w "$tmp/m.pcapng" && ok || bad "-w .pcapng failed"
a=$("$bin" read -T fields -e frame.number -e frame.interface_name -e frame.encap_type -e frame.comment tests/golden/pcap/multi.pcapng)
b=$("$bin" read -T fields -e frame.number -e frame.interface_name -e frame.encap_type -e frame.comment "$tmp/m.pcapng")
[ "$a" = "$b" ] && ok || bad "pcapng written: interfaces, link types or comments differ"
if command -v tshark >/dev/null; then
	c=$(tshark -r "$tmp/m.pcapng" -T fields -e frame.interface_name -e frame.comment 2>/dev/null | head -1)
	[ "$c" = "$(printf 'eth0\tfirst packet, with a comment')" ] && ok || bad "tshark reads the written pcapng as: $c"
	"$bin" read -f tcp -Y 'tcp.port == 443' --pcapng -w "$tmp/f.ng" samples/lab.pcapng &&
		capinfos "$tmp/f.ng" 2>/dev/null | grep -q 'Filter string = tcp' && ok || bad "pcapng: capture filter not recorded"
	# pktscope's own comments: why a packet is malformed (TCP analysis flags likewise)
	"$bin" read -Y '_ws.malformed' -w "$tmp/cr.pcapng" tests/golden/pcap/crafted.pcap
	c=$(tshark -r "$tmp/cr.pcapng" -T fields -e frame.comment 2>/dev/null | head -1)
	[ "$c" = "pktscope: malformed: IPv4 total length exceeds packet length" ] && ok || bad "pcapng note: '$c'"
	n=$(tcpdump -r "$tmp/f.ng" 2>/dev/null | wc -l)
	[ "$n" -eq "$(tshark -r samples/lab.pcapng -Y "tcp.port == 443" 2>/dev/null | wc -l)" ] && ok || bad "tcpdump reads $n packets from the written pcapng, not what tshark -Y matches"
fi

# the configuration file: saved filters (-Y :name), a broken file named by line, exit 2
mkdir -p "$tmp/xdg/pktscope"
printf '[filters]\nhttps = "tcp.port == 443"\n' >"$tmp/xdg/pktscope/config.toml"
a=$(XDG_CONFIG_HOME="$tmp/xdg" "$bin" read -Y :https samples/lab.pcapng | md5sum)
b=$("$bin" read -Y 'tcp.port == 443' samples/lab.pcapng | md5sum)
[ "$a" = "$b" ] && ok || bad "-Y :https from \$XDG_CONFIG_HOME/pktscope/config.toml"
XDG_CONFIG_HOME="$tmp/xdg"
expect 2 "no saved filter \"nope\"" -- read -Y :nope samples/lab.pcapng
XDG_CONFIG_HOME="$tmp/no-config"
printf '[capture]\nsnaplen = 10\n[display]\ncolour = "dark"\n' >"$tmp/bad.toml"
expect 2 "bad.toml:4: unknown key \"colour\" in [display]" -- read --config "$tmp/bad.toml" samples/lab.pcapng
expect 2 "No such file or directory" -- read --config "$tmp/none.toml" samples/lab.pcapng
"$bin" read --config dist/config.toml.example -Y :https samples/lab.pcapng >/dev/null && ok || bad "dist/config.toml.example does not load"

# every JSON line is one valid object without duplicate keys, on every capture we ship
for f in samples/lab.pcapng tests/golden/pcap/*; do
	"$bin" read --json "$f" 2>/dev/null | python3 tests/cli/check_json.py >/dev/null && ok || bad "JSON of $f"
done
# and jq paths follow the field names
v=$("$bin" read --json -c 26 samples/lab.pcapng | tail -1 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["ip"]["src"], j["tcp"]["flags"]["syn"], j["tcp"]["flags"]["_value"])')
[ "$v" = "10.77.0.1 True 2" ] && ok || bad "JSON paths: got '$v'"

# list-interfaces lists the loopback interface
"$bin" list-interfaces >"$tmp/ifs" 2>&1 && grep -q '\blo\b' "$tmp/ifs" && ok || bad "list-interfaces: $(head -3 "$tmp/ifs")"

# the shared corpus: JSON stays valid on every real capture (skipped without ../shared)
corpus=../shared/corpus
if [ -d "$corpus" ]; then
	find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort >"$tmp/list"
	mkdir "$tmp/json"
	i=0
	while read -r f; do
		i=$((i + 1))
		"$bin" read --json "$f" >"$tmp/json/$i.ndjson" 2>/dev/null
	done <"$tmp/list"
	python3 tests/cli/check_json.py "$tmp"/json/*.ndjson >/dev/null 2>"$tmp/jerr" && ok ||
		bad "JSON on the corpus: $(tail -1 "$tmp/jerr")"
else
	echo "cli: SKIP corpus JSON check: $corpus not found"
fi

# Compressed captures (gzip, zstd, lz4), from a path and from standard input: the same
# output as the plain file, for pcapng (our reader) and pcap (libpcap), gzip members
# concatenated, both passes of -2 and the prefilter's re-reading; cut and corrupt files
# are errors that say so
plain=$("$bin" read samples/lab.pcapng | cksum)
plain_pcap=$("$bin" read tests/golden/pcap/crafted.pcap | cksum)
for z in "gzip -c" "zstd -q -c" "lz4 -q -c"; do
	ext=${z%% *}
	$z samples/lab.pcapng >"$tmp/lab.pcapng.$ext"
	$z tests/golden/pcap/crafted.pcap >"$tmp/crafted.pcap.$ext"
	[ "$("$bin" read "$tmp/lab.pcapng.$ext" | cksum)" = "$plain" ] && ok || bad "$ext-compressed pcapng differs"
	[ "$("$bin" read - <"$tmp/lab.pcapng.$ext" | cksum)" = "$plain" ] && ok || bad "$ext-compressed pcapng on stdin differs"
	[ "$("$bin" read "$tmp/crafted.pcap.$ext" | cksum)" = "$plain_pcap" ] && ok || bad "$ext-compressed pcap differs"
	size=$(wc -c <"$tmp/lab.pcapng.$ext")
	head -c $((size / 2)) "$tmp/lab.pcapng.$ext" >"$tmp/cut.$ext"
	expect 1 "$ext data ends early (the file is cut short)" -- read "$tmp/cut.$ext"
	# a byte of the format's own check flipped: gzip's CRC-32 (its trailer's first 4 of 8
	# bytes), zstd's and lz4's content checksum (their last 4)
	at=-2
	[ "$ext" = gzip ] && at=-6
	python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[int(sys.argv[3])] ^= 0xff; open(sys.argv[2], "wb").write(d)' \
		"$tmp/lab.pcapng.$ext" "$tmp/bad.$ext" "$at"
	expect 1 "$ext data is corrupt" -- read "$tmp/bad.$ext"
done
head -c 9000 samples/lab.pcapng | gzip >"$tmp/two.gz"
tail -c +9001 samples/lab.pcapng | gzip >>"$tmp/two.gz"
[ "$("$bin" read "$tmp/two.gz" | cksum)" = "$plain" ] && ok || bad "gzip of two members differs"
[ "$("$bin" read -2 -T fields -e frame.number -e dns.response_in -e http.response_in "$tmp/lab.pcapng.gzip" | cksum)" = \
	"$("$bin" read -2 -T fields -e frame.number -e dns.response_in -e http.response_in samples/lab.pcapng | cksum)" ] &&
	ok || bad "-2 on a gzip-compressed capture differs"
[ "$("$bin" read -Y 'tcp.port == 443' "$tmp/lab.pcapng.zstd" | cksum)" = "$("$bin" read -Y 'tcp.port == 443' samples/lab.pcapng | cksum)" ] &&
	ok || bad "-Y on a zstd-compressed capture differs"
echo "not a capture" | gzip >"$tmp/text.gz"
expect 1 "gzip-compressed, but what is inside is not a capture file" -- read "$tmp/text.gz"

# Timestamps far in the future, then back to 1970 (a pcapng holds any 64-bit count of its
# units): the flow tracker's nanosecond time overflowed a signed multiplication, found by
# fuzz_pipeline and the CLI fuzzing of issue 11. The ASan/UBSan run of this suite aborts
# on such an overflow; every consumer of packet times runs here.
future=tests/golden/pcap/future.pcapng
for args in "-Y tcp.analysis.flags||dns.time||http -w $tmp/future.pcap" "--follow tcp,hex,0" "--stats conv,tcp --stats io,1" \
	"--json -2" "-T fields -e tcp.analysis.ack_rtt -e dns.time -e http.time -e frame.time_relative"; do
	# shellcheck disable=SC2086
	"$bin" read $args "$future" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && ok || bad "far-future timestamps: read $args: exit $rc: $(head -3 "$tmp/err")"
done

# pcapng records that are not packets (custom blocks, a journal entry, SPBs without a
# time) written back: a pcapng keeps every one except the custom block that says it must
# not be copied, with the same frame numbers; pcap keeps the packets only.
blocks=tests/golden/pcap/blocks.pcapng
rec="-T fields -e frame.protocols -e frame.len -e frame.time_epoch -e dns.id -e frame.cb_pen -e frame.cb_copy -e systemd_journal.message"
# shellcheck disable=SC2086
"$bin" read "$blocks" -w "$tmp/blocks.pcapng" && "$bin" read "$tmp/blocks.pcapng" $rec >"$tmp/a" &&
	"$bin" read "$blocks" -Y '!(frame.cb_pen == 36724)' $rec >"$tmp/b" &&
	cmp -s "$tmp/a" "$tmp/b" && [ "$(wc -l <"$tmp/a")" -eq 5 ] && ok || bad "pcapng records written back differ: $(diff "$tmp/a" "$tmp/b" | head -4)"
"$bin" read "$blocks" -w "$tmp/blocks.pcap" && n=$("$bin" read "$tmp/blocks.pcap" | grep -c DNS) &&
	[ "$n" -eq 3 ] && [ "$("$bin" read "$tmp/blocks.pcap" | wc -l)" -eq 3 ] && ok || bad "pcap output of pcapng records: $n DNS packets"

# anomalies: what ordinary traffic raises (the lab sample: its self-signed certificate on
# the TLS 1.2 flows, curl -u's Basic login), never a ClientHello or a QUIC Initial alone;
# --no-anomalies turns the rules off; pcapng output carries them as comments
n=$("$bin" read samples/lab.pcapng -Y anomaly -T fields -e anomaly.kind | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$n" = " 1 cleartext-credentials; 3 tls-self-signed;" ] && ok || bad "anomalies on the lab sample: '$n'"
n=$("$bin" read samples/lab.pcapng -Y 'tls.handshake.type == 1 && anomaly' | wc -l)
[ "$n" -eq 0 ] && ok || bad "$n ClientHello packets flagged"
if [ -d ../shared/corpus ]; then
	n=$("$bin" read ../shared/corpus/tcpdump/pcap/quic_handshake.pcap -Y 'anomaly' | wc -l)
	[ "$n" -eq 0 ] && ok || bad "$n QUIC packets flagged"
fi
"$bin" read --no-anomalies samples/lab.pcapng | grep -q '\[tls-self-signed\]' && bad "--no-anomalies still notes anomalies" || ok
"$bin" read samples/lab.pcapng | grep -q '\[tls-self-signed\]' && ok || bad "no anomaly note in Info"
expect 2 "cannot be combined with --no-anomalies" -- read --no-anomalies --stats anomalies samples/lab.pcapng
"$bin" read tests/golden/pcap/anomalies.pcapng -Y 'anomaly.severity == "warning"' -w "$tmp/an.pcapng" &&
	"$bin" read "$tmp/an.pcapng" -T fields -e frame.comment | grep -q 'anomaly cleartext-credentials (warning): FTP login in the clear (USER/PASS) for user .ftpuser.' &&
	ok || bad "anomalies as pcapng comments"

# a pcapng's Decryption Secrets Block is kept in the pcapng -w writes (the copy decrypts
# as the original does); pcap has no place for it
tk=tests/golden/pcap/tls-keylog.pcapng
"$bin" read -w "$tmp/tk.pcapng" "$tk" && "$bin" read -w "$tmp/tk.pcap" "$tk" || bad "read -w of a capture with secrets"
[ "$("$bin" read -Y http2 "$tmp/tk.pcapng" | wc -l)" -eq "$("$bin" read -Y http2 "$tk" | wc -l)" ] &&
	[ "$("$bin" read -Y http2 "$tk" | wc -l)" -gt 0 ] && [ "$("$bin" read -Y http2 "$tmp/tk.pcap" | wc -l)" -eq 0 ] &&
	[ "$("$bin" read -Y http2 --tls-keylog tests/golden/pcap/tls-keylog.keys "$tmp/tk.pcap" | wc -l)" -gt 0 ] && ok ||
	bad "decryption secrets written back"

# diff: the same file, a copy with packets removed (editcap), a copy with a packet twice,
# and the two sides of a router (TTL, checksum and MACs rewritten): exit 0, 1, 1, then 0
# with --ignore; 2 for trouble
lab=samples/lab.pcapng
"$bin" diff "$lab" "$lab" >"$tmp/d" && grep -q '^common: 134$' "$tmp/d" && ok || bad "diff of a file with itself"
editcap "$lab" "$tmp/minus.pcapng" 5 17 40-42 100 >/dev/null 2>&1
"$bin" diff "$lab" "$tmp/minus.pcapng" >"$tmp/d"
rc=$?
# conversations are named by the tcp.stream read gives them
s41=$("$bin" read -T fields -e tcp.stream -Y 'frame.number == 41' "$lab")
[ $rc -eq 1 ] && grep -q '^only in A: 6$' "$tmp/d" && grep -q '^   *41 .* 443 → 33516' "$tmp/d" && [ -n "$s41" ] &&
	grep -q "tcp.stream $s41 10.77.0.1:33516 ↔ 10.77.0.2:443: 3 only in A" "$tmp/d" && ok || bad "diff with 6 packets removed: exit $rc: $(head -5 "$tmp/d")"
"$bin" diff --json "$lab" "$tmp/minus.pcapng" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["common"], d["only_a"], d["only_b"]) == (128, 6, 0), d
assert [e["frame"] for e in d["extras_a"]] == [5, 17, 40, 41, 42, 100], d["extras_a"]
assert d["conversations"][0] == {"conversation": "tcp 10.77.0.1:33516 ↔ 10.77.0.2:443", "stream_a": int(sys.argv[1]),
                                 "only_a": 3, "only_b": 0}, d["conversations"][0]
' "$s41" && ok || bad "diff --json"
# from standard input (it cannot be read twice) conversations keep their endpoints only
"$bin" diff - "$tmp/minus.pcapng" <"$lab" | grep -q '^  tcp 10.77.0.1:33516 ↔ 10.77.0.2:443: 3 only in A' && ok ||
	bad "diff from standard input"
editcap -F pcap "$lab" "$tmp/a.pcap" >/dev/null 2>&1
python3 - "$tmp/a.pcap" "$tmp/dup.pcap" "$tmp/routed.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, off, recs = data[:24], 24, []
while off < len(data):
    ts, us, cl, wl = struct.unpack_from("<IIII", data, off)
    recs.append((data[off:off + 16], bytearray(data[off + 16:off + 16 + cl])))
    off += 16 + cl
dup = recs[:3] + [recs[2]] + recs[3:]
open(sys.argv[2], "wb").write(hdr + b"".join(h + bytes(f) for h, f in dup))
for h, f in recs:  # one router hop: new MACs, TTL / hop limit one lower, IPv4 checksum redone
    f[0:12] = bytes.fromhex("02aaaaaaaaaa02bbbbbbbbbb")
    if f[12:14] == b"\x08\x00":
        f[22] -= 1
        f[24:26] = b"\0\0"
        s = sum(struct.unpack(">10H", bytes(f[14:34])))
        s = (s & 0xffff) + (s >> 16)
        f[24:26] = struct.pack(">H", ~((s & 0xffff) + (s >> 16)) & 0xffff)
    elif f[12:14] == b"\x86\xdd":
        f[21] -= 1
open(sys.argv[3], "wb").write(hdr + b"".join(h + bytes(f) for h, f in recs))
PY
"$bin" diff "$tmp/a.pcap" "$tmp/dup.pcap" >"$tmp/d"
[ $? -eq 1 ] && grep -q '^only in B: 1$' "$tmp/d" && grep -q '^      4 ' "$tmp/d" && ok || bad "diff of a duplicated packet: $(cat "$tmp/d")"
"$bin" diff "$tmp/a.pcap" "$tmp/routed.pcap" >"$tmp/d"
[ $? -eq 1 ] && grep -q '^only in A: 134$' "$tmp/d" && ok || bad "diff across a router without --ignore"
"$bin" diff --ignore ip.ttl,ip.checksum,ipv6.hlim --ignore eth.src,eth.dst "$tmp/a.pcap" "$tmp/routed.pcap" >"$tmp/d"
[ $? -eq 0 ] && grep -q '^common: 134$' "$tmp/d" && ok || bad "diff across a router with --ignore: $(cat "$tmp/d")"
"$bin" diff "$lab" nonexistent.pcap >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q 'nonexistent.pcap: No such file' "$tmp/err" && ok || bad "diff with a missing file"
"$bin" diff --ignore ip.tll "$lab" "$lab" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q 'did you mean "ip.ttl"' "$tmp/err" && ok || bad "diff --ignore with a typo"
"$bin" diff --ignore tcp.stream "$lab" "$lab" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "diff --ignore of a flow field"
"$bin" diff "$lab" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "diff with one file"

# the rest of the filter language: field references with --ref-frame, layers in tunnels,
# -Y choosing the stream --follow shows, -Y selecting what --stats counts
n=$("$bin" read samples/lab.pcapng -Y 'tcp.stream == ${tcp.stream}' --ref-frame 36 | wc -l)
m=$("$bin" read samples/lab.pcapng -Y 'tcp.stream == 1' | wc -l)
[ "$n" -eq "$m" ] && [ "$n" -gt 0 ] && ok || bad "\${tcp.stream} of frame 36: $n frames, tcp.stream == 1: $m"
n=$("$bin" read samples/lab.pcapng -Y 'tcp.stream == ${tcp.stream}' | wc -l)
[ "$n" -eq 0 ] && ok || bad "a reference without --ref-frame matched $n frames"
expect 2 "is for -Y filters with" -- read samples/lab.pcapng -Y tcp --ref-frame 3
expect 2 "there is no such frame" -- read samples/lab.pcapng -Y 'frame.len == ${frame.len}' --ref-frame 9999
v=$("$bin" read tests/golden/pcap/crafted.pcap -Y 'ip.proto#1 == 47 && ip.proto#2 == 1' -T fields -e frame.number)
[ "$v" = "11" ] && ok || bad "ip.proto#2 in the GRE tunnel: '$v'"
"$bin" read samples/lab.pcapng --follow tcp,ascii -Y 'http.request.uri == "/login"' | grep -q '^Filter: tcp.stream eq 5$' &&
	ok || bad "-Y choosing the stream to follow"
expect 2 "needs -Y to choose the stream" -- read samples/lab.pcapng --follow tcp,ascii
expect 1 "no tcp stream has a packet the filter matches" -- read samples/lab.pcapng --follow tcp,raw -Y 'tcp.port == 1'
n=$("$bin" read samples/lab.pcapng -Y 'tcp.port == 80' --stats conv,tcp | grep -c '<->')
[ "$n" -eq 3 ] && ok || bad "-Y with --stats conv,tcp: $n conversations"

# fields: the registry, each name once, each field's parent listed, every name one a
# filter takes (in runs of 50, one -Y each), a prefix keeps its own
"$bin" fields >"$tmp/fields" && [ "$(wc -l <"$tmp/fields")" -gt 800 ] && ok || bad "fields: $(head -3 "$tmp/fields")"
cut -f2 "$tmp/fields" | sort | uniq -d >"$tmp/twice"
[ ! -s "$tmp/twice" ] && ok || bad "fields listed twice: $(head -3 "$tmp/twice")"
awk -F'\t' '$1 == "F" && $4 != "-" { print $4 }' "$tmp/fields" | sort -u >"$tmp/parents"
cut -f2 "$tmp/fields" | sort -u >"$tmp/names"
[ -z "$(comm -23 "$tmp/parents" "$tmp/names")" ] && ok || bad "parents not listed: $(comm -23 "$tmp/parents" "$tmp/names" | head -3)"
cut -f2 "$tmp/fields" | awk '{ f = f (n++ % 50 ? " or " : "\n") $1 } END { print f }' | grep . >"$tmp/filters"
nf=0
while read -r f; do
	"$bin" read -c 1 -Y "$f" samples/lab.pcapng >/dev/null 2>"$tmp/ferr" || { bad "a listed field is not a filter: $(cat "$tmp/ferr")"; nf=1; break; }
done <"$tmp/filters"
[ $nf -eq 0 ] && ok
"$bin" fields tcp. | awk -F'\t' '$2 !~ /^tcp\./ { bad = 1 } END { exit bad || NR < 30 }' &&
	[ "$("$bin" fields --names tcp.port)" = tcp.port ] && "$bin" fields tcp.port | grep -q "^A	tcp.port	uint	-	tcp.srcport or tcp.dstport$" &&
	ok || bad "fields tcp.: $("$bin" fields tcp. | head -3)"
[ "$("$bin" fields --names | wc -l)" -eq "$(wc -l <"$tmp/fields")" ] && ok || bad "fields --names: not a name a line"
# --version: the program's and its libraries'; --help: every command
v=$("$bin" --version)
echo "$v" | head -1 | grep -q '^pktscope [0-9]' && for lib in libpcap OpenSSL nghttp2 SQLite PCRE2 zlib zstd LZ4 libmaxminddb libpsl ncurses libbpf journal; do
	echo "$v" | grep -q "^  $lib  " || { bad "--version lacks $lib: $v"; break; }
done && ok
for c in read capture diff list-interfaces fields monitor inspect geoip; do
	"$bin" --help | grep -q "^  $c " || { bad "--help lacks $c"; break; }
done && ok

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
