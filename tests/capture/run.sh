#!/bin/sh
# Live capture in the shared traffic lab (real curl/dig/nghttp against nginx/dnsmasq in two
# network namespaces): pktscope capture and tcpdump side by side on the same interface,
# stopping by SIGINT, -c and -a, pcapng output, error messages, and privileges (the
# capturing process gives up root and its capabilities; a user without them is told
# what to run). Skipped with a message where namespaces cannot be made (not root).
# Usage: run.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$1
cd "$2" || exit 2
lab=../shared/lab/lab.sh
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ]; then
	echo "capture: SKIP: the lab needs root and ../shared/lab (here: uid $(id -u))"
	exit 0
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
export XDG_CONFIG_HOME="$tmp/no-config"
if ! "$lab" up cap >/dev/null 2>&1; then
	"$lab" down cap >/dev/null 2>&1
	rm -rf "$tmp"
	echo "capture: SKIP: network namespaces cannot be made here"
	exit 0
fi
trap '"$lab" down cap >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# the lab's DNS server answers before any check counts on it (it may still be starting)
i=0
until ip netns exec capc dig +short +tries=1 +time=1 @10.77.0.2 www.example.test A 2>/dev/null | grep -q .; do
	i=$((i + 1))
	[ $i -ge 50 ] && { bad "the lab's DNS server does not answer (dnsmasq did not start?)"; break; }
	sleep 0.1
done
# a capture that does not stop when told is a failure, not a hang
# (its sleep is killed with it: an orphaned sleep would hold the test runner's pipe open)
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 120 & s=$!; wait $s; echo "capture: timed out"
  pkill -f "capture -i capc0" ) &
guard=$!
in_c() { ip netns exec capc "$@"; }
traffic() { "$lab" traffic cap 1 >/dev/null 2>&1; }
pcount() { capinfos -c -M "$1" 2>/dev/null | awk '/Number of packets/ { print $NF }'; }
ping_lab() { in_c ping -c "$1" -i 0.05 -q 10.77.0.2 >/dev/null 2>&1; }
pbytes() { tshark -r "$1" -T fields -e frame.len 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
# Waits (at most 20 s) for a capture to say it has started — pktscope's "capturing on",
# tcpdump's "listening on" — instead of sleeping and hoping the machine was quick enough.
ready() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 200 ] && { bad "$1: no '$2' after 20 s: $(cat "$1")"; return 1; }
		sleep 0.1
	done
}
# A TCP retransmission, made rather than hoped for: the server's firewall drops SYNs to
# port 80 until its counter shows one dropped, so the client's next SYN is a retransmission.
force_retransmission() {
	printf '%s\n' 'table inet pktscope_test {' 'chain input {' 'type filter hook input priority 0;' \
		'tcp dport 80 tcp flags & (syn | ack) == syn counter drop' '}' '}' | ip netns exec caps nft -f - ||
		{ bad "nft cannot add the SYN-dropping rule"; return 1; }
	in_c curl -s -o /dev/null --max-time 60 http://10.77.0.2/ &
	cp=$!
	i=0
	until ip netns exec caps nft list chain inet pktscope_test input | grep -q 'packets [1-9]'; do
		i=$((i + 1))
		[ $i -ge 200 ] && break
		sleep 0.1
	done
	ip netns exec caps nft delete table inet pktscope_test
	wait $cp || bad "curl after the dropped SYN failed"
}

# side by side with tcpdump: the same packets, and SIGINT leaves valid files
# (started with ip netns exec directly, which execs: $! is the capturing process)
# (the lab's traffic only: the link's own neighbour discovery comes when it likes)
lab_only='host 10.77.0.2 or host fd77::2'
ip netns exec capc "$bin" capture -i capc0 -f "$lab_only" -w "$tmp/a.pcap" 2>"$tmp/a.err" &
p1=$!
ip netns exec capc "$bin" capture -i capc0 -w "$tmp/a.pcapng" -f 'tcp or udp or icmp6 or icmp' 2>"$tmp/ng.err" &
p2=$!
# issue 11: a filter over an application field selects with -w what it selects everywhere
ip netns exec capc "$bin" capture -i capc0 -Y tls.handshake.extensions_server_name -w "$tmp/sni.pcap" 2>"$tmp/sni.err" &
p4=$!
ip netns exec capc tcpdump -i capc0 -s 0 -U -w "$tmp/b.pcap" "$lab_only" 2>"$tmp/b.err" &
p3=$!
ready "$tmp/a.err" "capturing on 'capc0'"
ready "$tmp/ng.err" "capturing on 'capc0'"
ready "$tmp/sni.err" "capturing on 'capc0'"
ready "$tmp/b.err" "listening on capc0"
traffic
force_retransmission
sleep 1
kill -INT $p1 $p2 $p4
kill $p3
wait $p1; s1=$?
wait $p2; s2=$?
wait $p4; s4=$?
wait $p3
[ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$s4" -eq 0 ] && ok || bad "capture exit status after SIGINT: $s1 $s2 $s4"
a=$(pcount "$tmp/a.pcap") b=$(pcount "$tmp/b.pcap")
[ -n "$a" ] && [ "$a" -gt 100 ] && [ "$a" -eq "$b" ] && ok || bad "packets: pktscope $a, tcpdump $b"
[ "$(pbytes "$tmp/a.pcap")" -eq "$(pbytes "$tmp/b.pcap")" ] && ok || bad "bytes differ from tcpdump's"
for f in a.pcap b.pcap a.pcapng; do
	tshark -r "$tmp/$f" >/dev/null 2>"$tmp/t.err"
	grep -v 'Running as' "$tmp/t.err" >"$tmp/t.err2"
	[ ! -s "$tmp/t.err2" ] && ok || bad "tshark complains about $f: $(cat "$tmp/t.err2")"
done
grep -q "dropped by pktscope (ring full)" "$tmp/a.err" && ok || bad "no drop counts on stderr: $(cat "$tmp/a.err")"
# pcapng: interface named, filter and statistics recorded, readable by libpcap and tshark
capinfos "$tmp/a.pcapng" >"$tmp/ci" 2>&1
grep -q 'Name = capc0' "$tmp/ci" && grep -q 'Filter string = tcp or udp or icmp6 or icmp' "$tmp/ci" &&
	grep -q 'Number of stat entries = 1' "$tmp/ci" && ok || bad "pcapng blocks: $(cat "$tmp/ci")"
# pktscope's comments are visible to tshark: the forced retransmission carries one
c=$(tshark -r "$tmp/a.pcapng" -T fields -e frame.comment 2>/dev/null | grep -c '^pktscope: TCP Retransmission')
[ "$c" -ge 1 ] && ok || bad "no 'pktscope: TCP Retransmission' comment in the captured pcapng"
# -Y on an application field with -w: the frames pktscope read and tshark select from the
# full capture of the same traffic
sni=$(pcount "$tmp/sni.pcap")
sni_read=$("$bin" read "$tmp/a.pcapng" -Y tls.handshake.extensions_server_name -T fields -e frame.number | wc -l)
sni_tshark=$(tshark -r "$tmp/a.pcapng" -Y tls.handshake.extensions_server_name 2>/dev/null | wc -l)
[ "$sni" -ge 2 ] && [ "$sni" -eq "$sni_read" ] && [ "$sni" -eq "$sni_tshark" ] && ok ||
	bad "capture -Y tls.handshake.extensions_server_name -w wrote $sni frames; read selects $sni_read, tshark $sni_tshark"
n=$(tcpdump -r "$tmp/a.pcapng" 2>/dev/null | wc -l)
[ "$n" -eq "$(pcount "$tmp/a.pcapng")" ] && [ "$n" -gt 100 ] && ok || bad "libpcap reads $n packets from the pcapng"
# the statistics the file records equal what the capture reported (no drops here)
drops=$(tshark -r "$tmp/a.pcapng" -q -z io,stat,0 2>/dev/null >/dev/null; grep -o '[0-9]* dropped by pktscope' "$tmp/ng.err" | head -1)
[ "$drops" = "0 dropped by pktscope" ] && ok || bad "pcapng run reports: $(cat "$tmp/ng.err")"

# ring output: a new file every 20 kB, only the newest 3 kept, each one valid
# (created after root is given up: the directory is the -Z user's to write)
mkdir "$tmp/ring"
chmod 777 "$tmp/ring"
ip netns exec capc "$bin" capture -i capc0 -f "$lab_only" -b filesize:20 -b files:3 -w "$tmp/ring/r.pcapng" 2>"$tmp/r.err" &
pr=$!
ready "$tmp/r.err" "capturing on"
traffic
sleep 1
kill -INT $pr
wait $pr; rc=$?
ls "$tmp/ring" >"$tmp/ring.ls"
n=$(grep -c '^r_[0-9]\{5\}_[0-9]\{14\}\.pcapng$' "$tmp/ring.ls")
first=$(head -1 "$tmp/ring.ls" | cut -d_ -f2)
[ "$rc" -eq 0 ] && [ "$n" -eq 3 ] && [ "$(wc -l <"$tmp/ring.ls")" -eq 3 ] && [ "$first" -gt 1 ] && ok ||
	bad "ring: exit $rc, files: $(cat "$tmp/ring.ls") $(cat "$tmp/r.err")"
for f in "$tmp"/ring/*; do
	[ "$(pcount "$f")" -gt 0 ] && [ "$(stat -c %s "$f")" -lt 40000 ] && ok || bad "ring file $f: $(pcount "$f") packets"
done

# SIGTERM and SIGHUP stop a capture as SIGINT does: exit 0, a valid file, the counts
for sig in TERM HUP; do
	ip netns exec capc "$bin" capture -i capc0 -w "$tmp/s.pcapng" 2>"$tmp/s.err" &
	ps_=$!
	ready "$tmp/s.err" "capturing on"
	ping_lab 3
	kill -$sig $ps_
	wait $ps_; rc=$?
	[ "$rc" -eq 0 ] && [ "$(pcount "$tmp/s.pcapng")" -ge 6 ] && grep -q 'packets written' "$tmp/s.err" && ok ||
		bad "SIG$sig: exit $rc, $(pcount "$tmp/s.pcapng") packets, $(cat "$tmp/s.err")"
done

# -c and -a stop exactly; -a duration stops on time
ip netns exec capc "$bin" capture -i capc0 -f icmp -c 5 -w "$tmp/c.pcap" 2>"$tmp/c.err" &
pc=$!
ip netns exec capc "$bin" capture -i capc0 -f icmp -a packets:7 --json >"$tmp/a7.json" 2>"$tmp/a7.err" &
pa=$!
ready "$tmp/c.err" "capturing on"
ready "$tmp/a7.err" "capturing on"
ping_lab 20
wait $pc; wait $pa
[ "$(pcount "$tmp/c.pcap")" -eq 5 ] && ok || bad "-c 5 wrote $(pcount "$tmp/c.pcap") packets"
[ "$(grep -c '"frame"' "$tmp/a7.json")" -eq 7 ] && tail -1 "$tmp/a7.json" | grep -q '"stats"' && ok ||
	bad "-a packets:7 --json: $(wc -l <"$tmp/a7.json") lines"
start=$(date +%s.%N)
in_c "$bin" capture -i capc0 -a duration:2 -w "$tmp/d.pcap" 2>/dev/null
took=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(echo "$took >= 1.9 && $took < 15" | bc)" -eq 1 ] && ok || bad "-a duration:2 took $took s"
# -Y on live traffic, text output
ip netns exec capc "$bin" capture -i capc0 -Y 'dns.qry.name == "www.example.test"' -a duration:8 >"$tmp/y.txt" 2>"$tmp/y.err" &
py=$!
ready "$tmp/y.err" "capturing on"
in_c dig +tries=1 +time=1 @10.77.0.2 www.example.test A >/dev/null 2>&1
in_c dig +tries=1 +time=1 @10.77.0.2 api.example.test A >/dev/null 2>&1
wait $py
[ "$(grep -c 'www.example.test' "$tmp/y.txt")" -eq 2 ] && ! grep -q 'api.example' "$tmp/y.txt" && ok ||
	bad "-Y on live traffic: $(cat "$tmp/y.txt")"

# processes (proc.*): each packet of a live capture carries the program that sent or
# received it, in pcapng comments (read back as fields, kept through read -w once),
# NDJSON and -Y; --no-proc leaves them out
ip netns exec capc "$bin" capture -i capc0 -w "$tmp/proc.pcapng" -a duration:6 2>"$tmp/proc.err" &
pp=$!
ip netns exec capc "$bin" capture -i capc0 -Y 'proc.name == "curl"' -a duration:6 >"$tmp/procy.txt" 2>"$tmp/procy.err" &
py=$!
ip netns exec capc "$bin" capture -i capc0 --json -a duration:6 >"$tmp/proc.json" 2>"$tmp/procj.err" &
pj=$!
ip netns exec capc "$bin" capture -i capc0 --no-proc -w "$tmp/noproc.pcapng" -a duration:6 2>"$tmp/noproc.err" &
pn=$!
ready "$tmp/proc.err" "capturing on" && ready "$tmp/procy.err" "capturing on" && ready "$tmp/procj.err" "capturing on" &&
	ready "$tmp/noproc.err" "capturing on"
in_c curl -s -o /dev/null http://10.77.0.2/
in_c dig +tries=1 +time=1 @10.77.0.2 www.example.test A >/dev/null 2>&1
wait $pp $py $pj $pn
r=$("$bin" read "$tmp/proc.pcapng" -T fields -e proc.name -e proc.exe -e tcp.dstport -e tcp.srcport -e udp.dstport -e udp.srcport |
	awk -F'\t' '$3 == 80 || $4 == 80 { t[$1 " " $2 " tcp"]++ } $5 == 53 || $6 == 53 { t[$1 " " $2 " dns"]++ }
		END { for (k in t) print k }' | sort | tr '\n' ';')
[ "$r" = "curl /usr/bin/curl tcp;dig /usr/bin/dig dns;" ] && ok || bad "proc.* read back from the comments: '$r'"
"$bin" read "$tmp/proc.pcapng" -w "$tmp/proc2.pcapng" 2>/dev/null
r=$(tshark -r "$tmp/proc2.pcapng" -Y 'tcp.port == 80' -T fields -e frame.comment 2>/dev/null | head -1)
case "$r" in
'pktscope: process "curl" pid '[0-9]*' uid 0 exe "/usr/bin/curl" cmdline "curl -s -o /dev/null http://10.77.0.2/"') ok ;;
*) bad "read -w keeps one process comment: '$r'" ;;
esac
n=$(grep -c . "$tmp/procy.txt")
[ "$n" -ge 8 ] && [ "$(grep -c 'TCP\|HTTP' "$tmp/procy.txt")" -eq "$n" ] && ok || bad "-Y proc.name live: $(cat "$tmp/procy.txt" "$tmp/procy.err")"
r=$(jq -r 'select(.proc != null) | "\(.proc.name) \(.proc.uid) \(.tcp.dstport // .udp.dstport)"' "$tmp/proc.json" | sort -u | grep -c '^curl 0 80$\|^dig 0 53$')
[ "$r" -eq 2 ] && ok || bad "NDJSON proc: $(jq -c 'select(.proc != null) | .proc' "$tmp/proc.json" | sort -u | head -5)"
[ "$(pcount "$tmp/noproc.pcapng")" -gt 6 ] && [ -z "$(tshark -r "$tmp/noproc.pcapng" -T fields -e frame.comment 2>/dev/null | grep process)" ] &&
	ok || bad "--no-proc: comments $(tshark -r "$tmp/noproc.pcapng" -T fields -e frame.comment 2>/dev/null | sort -u | head -3)"

# a full disk: a clear error, exit 1, and the packets already written stay a valid file
mkdir "$tmp/full"
big=../shared/corpus/ndpi/bench/1kxun.pcap   # 2.5 MB: more than the 1 MB file system holds
if [ -s "$big" ] && mount -t tmpfs -o size=1m tmpfs "$tmp/full" 2>/dev/null; then
	for ext in pcap pcapng; do
		"$bin" read "$big" -w "$tmp/full/x.$ext" 2>"$tmp/e"
		rc=$?
		n=$(pcount "$tmp/full/x.$ext")
		tshark -r "$tmp/full/x.$ext" >/dev/null 2>"$tmp/t.err"
		grep -v 'Running as' "$tmp/t.err" >"$tmp/t.err2"
		[ "$rc" -eq 1 ] && [ "$(grep -c 'No space left on device' "$tmp/e")" -eq 1 ] && [ "$n" -gt 100 ] &&
			[ ! -s "$tmp/t.err2" ] && ok || bad "full disk ($ext): exit $rc, $n packets kept, $(cat "$tmp/e" "$tmp/t.err2")"
		rm -f "$tmp/full/x.$ext"
	done
	umount "$tmp/full"
else
	echo "capture: SKIP full-disk check: no tmpfs or no corpus"
fi

# errors: a bad capture filter is a usage error, an unknown interface an input error
in_c "$bin" capture -i capc0 -f 'tcp port' -c 1 2>"$tmp/e"; rc=$?
[ "$rc" -eq 2 ] && grep -q 'invalid capture filter "tcp port"' "$tmp/e" && ok || bad "bad BPF: $rc $(cat "$tmp/e")"
in_c "$bin" capture -i capc0 -c 1 -w "$tmp/no/such/dir/x.pcap" 2>"$tmp/e"; rc=$?
[ "$rc" -eq 1 ] && grep -q 'x.pcap: No such file or directory' "$tmp/e" && ok || bad "unwritable -w: $rc $(cat "$tmp/e")"
in_c "$bin" capture -i nosuch0 -c 1 2>"$tmp/e"; rc=$?
[ "$rc" -eq 1 ] && grep -q 'nosuch0: no such interface' "$tmp/e" && ok || bad "unknown interface: $rc $(cat "$tmp/e")"

# privileges: without root or capabilities, the remedy; as root, root and capabilities
# are given up once the capture is open
in_c setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$bin" capture -i capc0 -c 1 2>"$tmp/e"; rc=$?
[ "$rc" -eq 1 ] && grep -q 'setcap cap_net_raw,cap_net_admin+eip' "$tmp/e" && ok || bad "no remedy: $rc $(cat "$tmp/e")"
ip netns exec capc "$bin" capture -i capc0 -w "$tmp/z.pcap" 2>"$tmp/z.err" &
pz=$!
ready "$tmp/z.err" "capturing on" # said once root and the capabilities are gone
pid=$pz
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
[ "$uid" = 65534 ] && [ "$caps" = 0000000000000000 ] && ok || bad "capturing process: uid $uid, CapEff $caps"
kill -INT $pz; wait $pz
[ -s "$tmp/z.pcap" ] && ok || bad "the file written after dropping root is missing"
# a copy given the two capabilities works as an ordinary user, and clears them too
cp "$bin" "$tmp/pktscope-caps"
if setcap cap_net_raw,cap_net_admin+eip "$tmp/pktscope-caps" 2>/dev/null; then
	ip netns exec capc setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/pktscope-caps" capture -i capc0 \
		-f icmp -c 3 >"$tmp/cap.txt" 2>"$tmp/e" &
	pp=$!
	ready "$tmp/e" "capturing on"
	ping_lab 5
	wait $pp; rc=$?
	[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/cap.txt")" -eq 3 ] && ok || bad "setcap binary as nobody: $rc $(cat "$tmp/e")"
else
	echo "capture: SKIP setcap check: the file system refuses file capabilities"
fi

# TLS decrypted live with the key log curl writes as it goes: --tls-keylog follows the file
# (opened before root is given up: it is readable by root only), and records that come
# before their secrets are decrypted once the secrets are written. TLS 1.2 with HTTP/2
# and HTTP/1.1 (nginx), TLS 1.3 with HTTP/2 (nghttpd).
keys="$tmp/sslkeys.log"
: >"$keys"
chmod 600 "$keys"
D=/tmp/pktscope-lab-cap
ip netns exec caps nghttpd 8443 "$D/key.pem" "$D/cert.pem" -d "$D/www" >/dev/null 2>&1 &
pn=$!
ip netns exec capc "$bin" capture -i capc0 -f 'tcp port 443 or tcp port 8443' --tls-keylog "$keys" >"$tmp/k.txt" \
	2>"$tmp/k.err" &
pk=$!
ready "$tmp/k.err" "capturing on"
for args in "--http2 https://www.example.test/index.html" "--http1.1 --tls-max 1.2 https://www.example.test/big.txt" \
	"--http2 --tlsv1.3 https://www.example.test:8443/index.html"; do
	# shellcheck disable=SC2086
	in_c env SSLKEYLOGFILE="$keys" curl -s -o /dev/null --cacert "$D/cert.pem" --resolve www.example.test:443:10.77.0.2 \
		--resolve www.example.test:8443:10.77.0.2 $args
done
sleep 0.3
kill -INT $pk
wait $pk
kill $pn 2>/dev/null
n2=$(grep -c 'HTTP2 .*HEADERS\[1\]: GET /index.html' "$tmp/k.txt")
grep -q 'TLSv1.2 .*HTTP2 .*HEADERS\[1\]: GET /index.html\|HTTP2 .*HEADERS\[1\]: 200 OK' "$tmp/k.txt" && [ "$n2" -eq 2 ] &&
	grep -q 'HTTP .*GET /big.txt HTTP/1.1' "$tmp/k.txt" && grep -q 'HTTP .*HTTP/1.1 200 OK' "$tmp/k.txt" && ok ||
	bad "live TLS decryption with --tls-keylog: $n2 HTTP/2 requests; $(grep -c . "$tmp/k.txt") lines: $(grep -v TCP "$tmp/k.txt" | head -20)"
ip netns exec capc "$bin" capture -i capc0 -c 1 --tls-keylog "$tmp/no-such.log" 2>"$tmp/e"; rc=$?
[ "$rc" -eq 1 ] && grep -q 'no-such.log: No such file' "$tmp/e" && ok || bad "--tls-keylog of a missing file: $rc $(cat "$tmp/e")"

# the full-screen analyzer on a live capture (a terminal: tmux): it indexes the file the
# capture writes (a temporary one, removed at exit; or -w's), shows packets and drops,
# pauses, and quits with the capture stopped and the file complete
if command -v tmux >/dev/null 2>&1; then
	tx() { tmux -L "pktscope-cap-$$" "$@"; }
	trap 'tx kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/pktscope-cap-$$"; "$lab" down cap >/dev/null 2>&1; rm -rf "$tmp"' EXIT
	tscreen() { tx capture-pane -p -t s 2>/dev/null; }
	tstart() {
		tx kill-server 2>/dev/null
		i=0
		until tx -f /dev/null new-session -d -s s -x 140 -y 30 "$1" 2>/dev/null; do
			i=$((i + 1))
			[ $i -ge 50 ] && return 1
			sleep 0.1
		done
	}
	twait() {
		i=0
		until tscreen | grep -qE -- "$1"; do
			i=$((i + 1))
			[ $i -ge 100 ] && return 1
			sleep 0.1
		done
	}
	mkdir -m 1777 "$tmp/t" # as /tmp: the user pktscope becomes may remove its own file there
	tstart "env TMPDIR=$tmp/t ip netns exec capc $bin capture -i capc0 -f icmp; echo EXITED \$?; sleep 60"
	twait 'CAPTURING .*Dropped: 0 kernel, 0 pktscope' || bad "TUI capture: not capturing: $(tscreen | tail -2)"
	ls "$tmp"/t/pktscope-capture-*.pcapng >/dev/null 2>&1 && ok || bad "TUI capture: no temporary file in $tmp/t"
	ping_lab 6
	twait 'Packets: 12 ' && tscreen | grep -q 'Echo (ping) request' && ok || bad "TUI capture: 12 ICMP packets: $(tscreen | tail -2)"
	# the Process column: ping's packets, named though ping has exited
	tscreen | grep -q '^Process  *No\. Time' && [ "$(tscreen | grep -c '^ping  .*Echo (ping)')" -ge 12 ] && ok ||
		bad "TUI capture: the Process column: $(tscreen | head -5)"
	tx send-keys -t s ' '
	twait 'PAUSED' && ok || bad "TUI capture: Space pauses"
	ping_lab 2
	sleep 0.3
	tscreen | grep -q 'Packets: 12 ' && ok || bad "TUI capture: paused, yet indexed: $(tscreen | tail -1)"
	# a filter applied while paused waits, still running: Esc cancels it, every packet shows
	tx send-keys -t s / 'icmp.seq == 1' Enter
	twait 'PAUSED .*Displayed: 0 ' && ok || bad "TUI capture: a filter while paused: $(tscreen | tail -1)"
	tx send-keys -t s Escape
	twait 'Displayed: 12 .*filter cancelled' && ok || bad "TUI capture: Esc cancels the running filter: $(tscreen | tail -1)"
	tx send-keys -t s ' '
	twait 'CAPTURING .*Packets: 16 ' && ok || bad "TUI capture: resumed, the 4 packets caught up: $(tscreen | tail -1)"
	tx send-keys -t s q
	twait '^EXITED 0' && tscreen | grep -q '16 packets written' && ok || bad "TUI capture: q: $(tscreen | tail -4)"
	ls "$tmp"/t/pktscope-capture-*.pcapng >/dev/null 2>&1 && bad "TUI capture: the temporary file was left" || ok
	tx kill-server 2>/dev/null
	# with -w NAME.pcapng the file stays, with every packet
	tstart "ip netns exec capc $bin capture -i capc0 -f icmp -w $tmp/tui.pcapng; echo EXITED \$?; sleep 60"
	twait 'CAPTURING' || bad "TUI capture -w: not capturing"
	ping_lab 3
	twait 'Packets: 6 ' || bad "TUI capture -w: 6 packets: $(tscreen | tail -1)"
	tx send-keys -t s q
	twait '^EXITED 0' && [ "$(pcount "$tmp/tui.pcapng")" = 6 ] && ok || bad "TUI capture -w: $(pcount "$tmp/tui.pcapng") packets kept"
	tx kill-server 2>/dev/null
	# a disk budget: past it packets are counted on the status bar, not kept; the file stays
	# under it
	tstart "ip netns exec capc $bin capture -i capc0 -f icmp --disk-budget 1 -w $tmp/budget.pcapng; echo EXITED \$?; sleep 60"
	twait 'CAPTURING' || bad "TUI capture --disk-budget: not capturing"
	in_c ping -c 12 -i 0.05 -s 60000 -q 10.77.0.2 >/dev/null 2>&1
	twait 'DISK BUDGET FULL \(1 MB\): [1-9][0-9]* not kept' && ok || bad "disk budget: $(tscreen | tail -1)"
	tx send-keys -t s q
	twait '^EXITED 0' && [ "$(stat -c %s "$tmp/budget.pcapng")" -le 1048576 ] && [ "$(pcount "$tmp/budget.pcapng")" -gt 0 ] &&
		ok || bad "disk budget: the file is $(stat -c %s "$tmp/budget.pcapng") bytes"
	tx kill-server 2>/dev/null
	# ring files (-b): the screen reads them one after another; the status bar says from
	# which packet the ring still holds them; a packet whose file is gone says so, the
	# newest decode, and a filter runs over the files still there
	mkdir -m 1777 "$tmp/tuiring" # the user pktscope becomes makes the ring's files, and removes them
	tstart "ip netns exec capc $bin capture -i capc0 -f icmp -w $tmp/tuiring/r.pcapng -b filesize:100 -b files:3; echo EXITED \$?; sleep 60"
	twait 'CAPTURING' || bad "TUI ring: not capturing"
	in_c ping -c 8 -i 0.05 -s 60000 -q 10.77.0.2 >/dev/null 2>&1
	twait 'Packets: 656 .*Ring: 3 files, from packet [1-9]' || bad "TUI ring: $(tx capture-pane -p -J -t s | tail -1)"
	kept=0
	for f in "$tmp"/tuiring/r_*.pcapng; do kept=$((kept + $(pcount "$f"))); done
	[ "$(ls "$tmp"/tuiring | wc -l)" = 3 ] && tscreen | grep -q "from packet $((656 - kept + 1)) " && ok ||
		bad "TUI ring: $(ls "$tmp"/tuiring | wc -l) files holding $kept packets: $(tx capture-pane -p -J -t s | tail -1)"
	tx send-keys -t s : 2 Enter # (packet 1 was decoded while its file was there)
	twait 'packet 2: ring file 1 was removed' && ok || bad "TUI ring: packet 2's file is gone: $(tscreen | sed -n 14,16p)"
	tx send-keys -t s G
	twait 'Echo \(ping\) reply +id=0x[0-9a-f]*, seq=8' && twait '^▸ Internet Control Message Protocol' && ok ||
		bad "TUI ring: the last packet decodes: $(tscreen | sed -n 14,18p)"
	tx send-keys -t s / frame Enter
	twait "Displayed: $kept " && ok || bad "TUI ring: a filter over the $kept packets kept: $(tscreen | tail -1)"
	tx send-keys -t s q
	twait '^EXITED 0' && tscreen | grep -q '656 packets written' && ok || bad "TUI ring: q: $(tscreen | tail -4)"
	tx kill-server 2>/dev/null
else
	echo "capture: SKIP TUI checks: no tmux"
fi

kill $guard 2>/dev/null
echo "capture: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
