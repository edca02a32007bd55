#!/bin/sh
# The egress scenario suite, after the picosnitch benchmark's: real programs (iperf3, curl,
# dig, ping, nghttp) and pktscope-scen (tests/egress/scen.c, for the system calls no everyday
# program makes on demand) move traffic from the lab's client namespace while
# `pktscope monitor run` watches it. For each scenario the bytes each way are counted
# independently, by nftables counters on the client's device (netdev egress and ingress
# hooks: a frame injected through a packet socket is counted too), and compared with the
# bytes the monitor stored in SQLite for connections it gave the expected program: within
# ±10% passes, within ±25% is partial. Any connection of a scenario given another program
# is a wrong attribution; the target is none.
#
# Usage: scenarios.sh PKTSCOPE PKTSCOPE-SCEN SOURCE_ROOT [--quick | --full] [--nethogs] [--overhead]
#   --quick     a subset of about ten, each about a second (make test); exit 1 on a failure
#   --full      all 24 with the score table (make bench)
#   --nethogs   score NetHogs (`nethogs -t -C`) on the same scenarios, run for run
#   --overhead  the monitor's CPU (mean, p95 of one core) and peak RSS under a steady mix
#   --overhead-only  that alone
set -u
bin=$1
scen=$2
cd "$3" || exit 2
shift 3
mode=quick
nethogs=0
overhead=0
for a in "$@"; do
	case $a in
	--quick) mode=quick ;;
	--full) mode=full ;;
	--nethogs) nethogs=1 ;;
	--overhead) overhead=1 ;;
	--overhead-only) overhead=1 mode=none ;;
	*) echo "scenarios: unknown option $a" >&2; exit 2 ;;
	esac
done
lab=../shared/lab/lab.sh
if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ]; then
	echo "scenarios: SKIP: the lab needs root and ../shared/lab (here: uid $(id -u))"
	exit 0
fi
if ! "$lab" up es >/dev/null 2>&1; then
	"$lab" down es >/dev/null 2>&1
	echo "scenarios: SKIP: network namespaces cannot be made here"
	exit 0
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
D=/tmp/pktscope-lab-es
V=10.77.0.2
pids=""
cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for f in "$tmp"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	"$lab" down es >/dev/null 2>&1
	ip netns del esx 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
in_c() { ip netns exec esc "$@"; }
in_s() { ip netns exec ess "$@"; }

# servers: an iperf3 per scenario that uses one (each serves one test at a time), TCP
# sinks and UDP echoes of pktscope-scen, in the server namespace; one sink on the client's
# own loopback
for p in 5301 5302 5303 5304 5305 5306 5307 5308; do
	in_s iperf3 -s -p $p -D --pidfile "$tmp/iperf-$p.pid" >/dev/null 2>&1
done
for p in 5402 5403 5405 5406 5407 5410; do
	ip netns exec ess "$scen" tcp-sink $p & # (exec'd: $! is the server itself)
	pids="$pids $!"
done
for p in 443 5404; do
	ip netns exec ess "$scen" udp-echo $p &
	pids="$pids $!"
done
ip netns exec esc "$scen" tcp-sink 5409 &
pids="$pids $!"
# a namespace behind the client one, as a container behind its host (traffic routed)
ip netns del esx 2>/dev/null
ip netns add esx && ip link add esxh netns esc type veth peer name esx0 netns esx &&
	ip -n esc addr add 10.79.0.1/24 dev esxh && ip -n esc link set esxh up &&
	ip -n esx addr add 10.79.0.2/24 dev esx0 && ip -n esx link set esx0 up && ip -n esx link set lo up &&
	ip -n esx route add default via 10.79.0.1 && ip -n ess route add 10.79.0.0/24 via 10.77.0.1 &&
	in_c sysctl -qw net.ipv4.ip_forward=1 || echo "scenarios: the third namespace could not be made"
# frames on the wire are what both sides count: without segmentation offloads, a TCP
# segment is a frame when the counters see it (GSO would cut it into frames after the
# egress hook, and pcap would see the pieces), and without GRO the same on the way in
for x in "esc esc0" "esc esxh" "ess ess0" "esx esx0"; do
	set -- $x
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1
done
mac=$(ip -n ess link show ess0 | awk '/link\/ether/ { print $2 }')
i=0
until in_c dig +short +tries=1 +time=1 @$V api.example.test A 2>/dev/null | grep -q .; do
	i=$((i + 1))
	[ $i -ge 50 ] && { echo "scenarios: the lab's DNS server does not answer"; break; }
	sleep 0.1
done
n=0
while [ $n -lt 500 ]; do echo "api.example.test A"; n=$((n + 1)); done >"$tmp/queries"
dd if=/dev/zero of="$D/www/blob" bs=1M count=8 2>/dev/null

# the quick subset moves less, slower (100 Mbit/s): it runs on the ASan build too, whose
# monitor must keep up without dropping what it is to count
rate=300M
big=20000000
if [ $mode = quick ]; then
	rate=100M
	big=5000000
	export PKTSCOPE_SCEN_RATE=12500000
fi
# and every link is shaped to that rate (a token bucket on both sides: downloads by programs
# that cannot pace themselves, nghttp's, come at it too)
for x in "esc esc0" "ess ess0" "esx esx0"; do
	set -- $x
	ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "${rate}bit" burst 256kb latency 200ms 2>/dev/null ||
		echo "scenarios: no token bucket on $2 (tc): rates are the programs' own"
done
# name|device|out match|in match|SQL: the scenario's connections|program|quick|command
# (device: the one the counters watch; matches in nft's netdev syntax; the command runs in
# the client namespace unless it starts with "esx:")
cat >"$tmp/scenarios" <<EOF
tcp_up|esc0|tcp dport 5301|tcp sport 5301|remote_port = 5301|iperf3|1|iperf3 -c $V -p 5301 -t 1 -b $rate
tcp_down|esc0|tcp dport 5302|tcp sport 5302|remote_port = 5302|iperf3|0|iperf3 -c $V -p 5302 -t 2 -R -b 300M
tcp_duplex|esc0|tcp dport 5303|tcp sport 5303|remote_port = 5303|iperf3|0|iperf3 -c $V -p 5303 -t 2 --bidir -b 200M
udp|esc0|th dport 5304|th sport 5304|remote_port = 5304|iperf3|0|iperf3 -c $V -p 5304 -t 2 -u -b 40M
udp_443|esc0|udp dport 443|udp sport 443|remote_port = 443 AND proto = 17|pktscope-scen|1|$scen udp $V 443 2000 1200
icmp|esc0|icmp type echo-request|icmp type echo-reply|proto = 1 AND remote_addr = '$V'|ping|1|ping -q -c 100 -i 0.01 -s 1000 $V
tcp6|esc0|tcp dport 5305|tcp sport 5305|remote_port = 5305|iperf3|0|iperf3 -6 -c fd77::2 -p 5305 -t 1 -b $rate
udp6|esc0|th dport 5306|th sport 5306|remote_port = 5306|iperf3|0|iperf3 -6 -c fd77::2 -p 5306 -t 1 -u -b 20M
many_tcp|esc0|tcp dport 5402|tcp sport 5402|remote_port = 5402|pktscope-scen|0|$scen tcp-conns $V 5402 300
burst|esc0|tcp dport 5307|tcp sport 5307|remote_port = 5307|iperf3|0|iperf3 -c $V -p 5307 -t 1 -P 8 -b 40M
drip|esc0|tcp dport 5403|tcp sport 5403|remote_port = 5403|pktscope-scen|0|$scen drip $V 5403 3
short_lived|esc0|tcp dport 80|tcp sport 80|remote_port = 80|curl|1|SHORT
dns_flood|esc0|udp dport 53|udp sport 53|remote_port = 53|dig|0|dig -f $tmp/queries @$V +tries=1 +time=1 +short
sendmmsg|esc0|udp dport 5404|udp sport 5404|remote_port = 5404|pktscope-scen|0|$scen sendmmsg $V 5404 2000 500
sendfile|esc0|tcp dport 5405|tcp sport 5405|remote_port = 5405|pktscope-scen|1|$scen sendfile $V 5405 $big
splice|esc0|tcp dport 5406|tcp sport 5406|remote_port = 5406|pktscope-scen|0|$scen splice $V 5406 $big
io_uring|esc0|tcp dport 5407|tcp sport 5407|remote_port = 5407|pktscope-scen|1|$scen uring $V 5407 $big
raw_ip_253|esc0|ip protocol 253|ip protocol 253|proto = 253|pktscope-scen|1|$scen raw $V 253 1000 500
af_packet|esc0|udp dport 5408|udp sport 5408|remote_port = 5408 AND proto = 17|pktscope-scen|1|$scen afpacket esc0 10.77.0.1 $V $mac 5408 1000 500
loopback|lo|tcp dport 5409|tcp sport 5409|remote_port = 5409|pktscope-scen|1|$scen sendfile 127.0.0.1 5409 5000000
other_netns|esc0|tcp dport 5308|tcp sport 5308|remote_port = 5308 AND local_addr = '10.79.0.2'|iperf3|1|esx:iperf3 -c $V -p 5308 -t 1 -b $rate
https|esc0|tcp dport 443|tcp sport 443|remote_port = 443 AND proto = 6|curl|0|curl -s -o /dev/null --resolve www.example.test:443:$V --cacert $D/cert.pem https://www.example.test/blob
http2|esc0|tcp dport 8080|tcp sport 8080|remote_port = 8080|nghttp|0|nghttp -n http://$V:8080/blob
ipv4_mapped|esc0|tcp dport 5410|tcp sport 5410|remote_port = 5410|pktscope-scen|1|$scen sendfile ::ffff:$V 5410 $big
EOF
mkdir -p /etc/netns/esc
echo "nameserver $V" >/etc/netns/esc/resolv.conf
trap 'cleanup; rm -rf /etc/netns/esc' EXIT

# counters: each way counted where it arrives, at an ingress hook with GRO off: frames as
# they were on the wire (an egress hook sees TCP's segments before the stack cuts them into
# frames; pcap sees the frames). The way out at the server's device, the way in at the
# client's; on loopback both at lo. Ingress counts from the network header: the Ethernet
# header is added back.
counters() { # device out-match in-match
	for ns in esc ess; do ip netns exec $ns nft delete table netdev scen 2>/dev/null; done
	if [ "$1" = lo ]; then
		printf 'table netdev scen {\n chain o {\n  type filter hook ingress device lo priority 0;\n  %s counter\n  %s counter\n }\n}\n' \
			"$2" "$3" | in_c nft -f -
		return
	fi
	printf 'table netdev scen {\n chain o {\n  type filter hook ingress device ess0 priority 0;\n  %s counter\n }\n}\n' "$2" |
		in_s nft -f -
	printf 'table netdev scen {\n chain i {\n  type filter hook ingress device esc0 priority 0;\n  %s counter\n }\n}\n' "$3" |
		in_c nft -f -
}
# the counters of one namespace's table as frame bytes, in rule order
frames() { ip netns exec "$1" nft -j list table netdev scen | jq -r '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) |
	.counter.bytes + 14 * .counter.packets] | join(" ")'; }
counted() { # device -> "out_bytes in_bytes"
	if [ "$1" = lo ]; then
		frames esc
	else
		echo "$(frames ess) $(frames esc)"
	fi
	for ns in esc ess; do ip netns exec $ns nft delete table netdev scen 2>/dev/null; done
}

mon_start() { # state-dir events
	ip netns exec esc "$bin" monitor run --state-dir "$1" --json >"$2" 2>"$1.err" &
	mon=$!
	i=0
	until grep -q 'watching' "$1.err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 100 ] && { echo "scenarios: the monitor did not start: $(cat "$1.err")"; exit 1; }
		sleep 0.1
	done
	sleep 0.3
}

run_one() { # command
	case $1 in
	SHORT)
		k=0
		while [ $k -lt "$short_n" ]; do in_c curl -s -o /dev/null http://$V/; k=$((k + 1)); done ;;
	esx:*) ip netns exec esx sh -c "${1#esx:}" >/dev/null 2>&1 ;;
	*) in_c sh -c "$1" >/dev/null 2>&1 ;;
	esac
}

short_n=200
[ $mode = quick ] && short_n=50
mkdir -p "$tmp/state"
mon_start "$tmp/state/m" "$tmp/events.json"
ebpf=$(grep -c 'attribution by eBPF' "$tmp/state/m.err")
[ "$ebpf" -eq 1 ] || echo "scenarios: without eBPF here: $(grep -o 'no eBPF attribution ([^)]*)' "$tmp/state/m.err")"
: >"$tmp/expected"
while IFS='|' read -r name dev om im sel prog quick cmd; do
	[ $mode = none ] && continue
	[ $mode = quick ] && [ "$quick" != 1 ] && continue
	counters "$dev" "$om" "$im"
	if [ $nethogs = 1 ]; then
		ip netns exec esc nethogs -t -C -v 2 -d 1 "$dev" >"$tmp/nh-$name" 2>/dev/null &
		nh=$!
		sleep 1.5
	fi
	run_one "$cmd"
	sleep 0.5
	if [ $nethogs = 1 ]; then
		sleep 1.5
		kill $nh 2>/dev/null
		wait $nh 2>/dev/null
	fi
	echo "$name|$prog|$sel|$(counted "$dev")" >>"$tmp/expected"
done <"$tmp/scenarios"
kill -INT $mon
wait $mon

# the score
db="$tmp/state/m/monitor.db"
q() { sqlite3 "$db" "$1"; }
pass=0
partial=0
failed=0
wrong_total=0
nh_pass=0
nh_partial=0
nh_failed=0
score() { # expected got -> pass|partial|fail (a way with under 2 kB expected counts as matched
	# when what is stored is under 2 kB too)
	awk -v e="$1" -v g="$2" 'BEGIN {
		if (e < 2048) { print (g < 2048 ? "pass" : "fail"); exit }
		r = g / e; if (r < 0) r = -r
		if (r >= 0.9 && r <= 1.1) print "pass"; else if (r >= 0.75 && r <= 1.25) print "partial"; else print "fail" }'
}
worse() { case "$1$2" in *fail*) echo fail ;; *partial*) echo partial ;; *) echo pass ;; esac; }
printf '%-12s %-13s %12s %12s %12s %12s %6s %6s %-8s' scenario program "out (nft)" "out (stored)" "in (nft)" \
	"in (stored)" unkn wrong result
[ $nethogs = 1 ] && printf ' %12s %12s %-8s' "out nethogs" "in nethogs" nethogs
printf '\n'
while IFS='|' read -r name prog sel counts; do
	eo=${counts% *}
	ei=${counts#* }
	r=$(q "SELECT coalesce(sum(c.bytes_out), 0), coalesce(sum(c.bytes_in), 0) FROM connections c
		JOIN executables e ON e.id = c.exe_id WHERE ($sel) AND e.name = '$prog'")
	go=${r%|*}
	gi=${r#*|}
	unknown=$(q "SELECT count(*) FROM connections WHERE ($sel) AND exe_id IS NULL")
	wrong=$(q "SELECT count(*) FROM connections c JOIN executables e ON e.id = c.exe_id WHERE ($sel) AND e.name != '$prog'")
	wrong_total=$((wrong_total + wrong))
	res=$(worse "$(score "$eo" "$go")" "$(score "$ei" "$gi")")
	[ "$wrong" -gt 0 ] && res=fail
	case $res in pass) pass=$((pass + 1)) ;; partial) partial=$((partial + 1)) ;; *) failed=$((failed + 1)) ;; esac
	printf '%-12s %-13s %12s %12s %12s %12s %6s %6s %-8s' "$name" "$prog" "$eo" "$go" "$ei" "$gi" "$unknown" "$wrong" "$res"
	if [ $nethogs = 1 ]; then
		# each refresh lists program/pid/uid, sent and received totals (bytes) per
		# process: the largest each process reached, summed over the processes of the
		# expected program
		nr=$(awk -F'\t' -v p="$prog" 'NF == 3 { split($1, a, "/"); n = split(a[1], b, "/");
			prog = $1; sub(/\/[0-9]+\/[0-9]+$/, "", prog); k = split(prog, parts, "/"); base = parts[k];
			sub(/ .*/, "", base);
			if (base == p) { if ($2 > s[$1]) s[$1] = $2; if ($3 > r[$1]) r[$1] = $3 } }
			END { for (k in s) { so += s[k]; ro += r[k] } printf "%d %d", so, ro }' "$tmp/nh-$name")
		no=${nr% *}
		ni=${nr#* }
		nres=$(worse "$(score "$eo" "$no")" "$(score "$ei" "$ni")")
		case $nres in pass) nh_pass=$((nh_pass + 1)) ;; partial) nh_partial=$((nh_partial + 1)) ;; *) nh_failed=$((nh_failed + 1)) ;; esac
		printf ' %12s %12s %-8s' "$no" "$ni" "$nres"
	fi
	printf '\n'
done <"$tmp/expected"
echo "scenarios: $pass passed, $failed failed ($partial partial); $wrong_total connections given a wrong program"
[ $nethogs = 1 ] && echo "nethogs: $nh_pass passed, $nh_failed failed ($nh_partial partial)"

if [ $overhead = 1 ]; then
	# the monitor's cost under a steady mix for 20 s: 20 Mbit/s of TCP, a curl and a dig
	# every 100 ms; its CPU sampled every half second from /proc, its peak RSS (VmHWM)
	mkdir -p "$tmp/ov"
	mon_start "$tmp/ov/m" /dev/null
	pid=$(cat /proc/$mon/task/$mon/children 2>/dev/null | awk '{ print $1 }')
	[ -n "$pid" ] || pid=$mon
	in_c iperf3 -c $V -p 5301 -t 20 -b 20M >/dev/null 2>&1 &
	load=$!
	( end=$(($(date +%s) + 20)); while [ "$(date +%s)" -lt $end ]; do in_c curl -s -o /dev/null http://$V/; in_c dig +short @$V www.example.test >/dev/null; sleep 0.1; done ) &
	mix=$!
	hz=$(getconf CLK_TCK)
	prev=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
	: >"$tmp/cpu"
	k=0
	while [ $k -lt 40 ]; do
		sleep 0.5
		cur=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
		echo "$cur $prev" | awk -v hz="$hz" '{ printf "%.2f\n", ($1 - $2) / hz / 0.5 * 100 }' >>"$tmp/cpu"
		prev=$cur
		k=$((k + 1))
	done
	wait $load $mix 2>/dev/null
	rss=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)
	kill -INT $mon
	wait $mon
	sort -n "$tmp/cpu" | awk -v rss="$rss" '{ v[NR] = $1; s += $1 } END {
		p = v[int(NR * 0.95 + 0.5)]; printf "overhead: CPU mean %.2f%% of one core, p95 %.2f%%; peak RSS %.1f MB\n", s / NR, p, rss / 1024 }'
fi
[ $failed -eq 0 ] && [ $wrong_total -eq 0 ]
