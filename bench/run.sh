#!/bin/bash
# pktscope against tcpdump and tshark on the reference captures, in one run: median wall
# time over alternating runs (hyperfine), the ratio, and peak RSS (/usr/bin/time).
# Usage: bench/run.sh PKTSCOPE   (captures: ../shared/bench/make-captures.sh, made if absent)
set -eu
bin=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${PKTSCOPE_BENCH_DIR:-/tmp/pktscope-bench}
runs=${RUNS:-3}
if [ ! -s "$dir/synth-1m.pcap" ] || [ ! -s "$dir/lab-mix.pcap" ]; then
	"$top/../shared/bench/make-captures.sh" "$dir" >/dev/null
fi
[ -s "$dir/lab-mix-20k.pcap" ] || editcap -r "$dir/lab-mix.pcap" "$dir/lab-mix-20k.pcap" 1-20000
[ -s "$dir/synth-20k.pcap" ] || editcap -r "$dir/synth-1m.pcap" "$dir/synth-20k.pcap" 1-20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { # hyperfine JSON -> median seconds of command N
	python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"
}
rss_mb() { /usr/bin/time -f %M "$@" >/dev/null 2>"$tmp/rss" || true; awk 'END { printf "%.1f", $1 / 1024 }' "$tmp/rss"; }

# compare LABEL RUNS OURS THEIRS... : prints one row per other command
compare() {
	label=$1 n=$2 ours=$3
	shift 3
	hyperfine -N --style none --runs "$n" --export-json "$tmp/h.json" "$ours" "$@" >/dev/null 2>&1
	t0=$(median "$tmp/h.json" 0)
	r0=$(rss_mb sh -c "$ours")
	i=1
	for other in "$@"; do
		t=$(median "$tmp/h.json" $i)
		r=$(rss_mb sh -c "$other")
		printf '| %-28s | %-34s | %8s s | %8s s | %7.1fx | %6s MB | %7s MB |\n' "$label" "${other%% *} ${other#* }" \
			"$t0" "$t" "$(echo "$t / $t0" | bc -l)" "$r0" "$r"
		i=$((i + 1))
	done
}

echo "pktscope $("$bin" --version | cut -d' ' -f2), $(date -u +%F), $(nproc) CPUs; median of $runs runs"
echo
echo "| what | against | pktscope | other | speed-up | pktscope RSS | other RSS |"
echo "|---|---|---|---|---|---|---|"
for f in lab-mix synth-200k; do
	compare "text, $f" "$runs" "$bin read $dir/$f.pcap" \
		"tcpdump -nn -r $dir/$f.pcap" "tshark -n -r $dir/$f.pcap"
done
# tcpdump needs about 90 s on synth-1m (its address cache degrades): one run each
compare "text, synth-1m" 1 "$bin read $dir/synth-1m.pcap" "tcpdump -nn -r $dir/synth-1m.pcap"
for f in lab-mix-20k synth-20k; do
	compare "NDJSON, $f" "$runs" "$bin read --json $dir/$f.pcap" "tshark -n -r $dir/$f.pcap -T json"
done
# statistics and follow-stream (issue 3): one run of tshark each is already slow
for f in lab-mix synth-200k; do
	compare "conv,tcp, $f" "$runs" "$bin read --stats conv,tcp $dir/$f.pcap" "tshark -n -q -r $dir/$f.pcap -z conv,tcp"
done
compare "follow tcp stream 1, lab-mix" 1 "$bin read --follow tcp,raw,1 $dir/lab-mix.pcap" \
	"tshark -n -q -r $dir/lab-mix.pcap -z follow,tcp,raw,1"
compare "follow tcp stream 1, synth-200k" 1 "$bin read --follow tcp,raw,1 $dir/synth-200k.pcap" \
	"tshark -n -q -r $dir/synth-200k.pcap -z follow,tcp,raw,1"
# display filters (issue 5): against tshark -Y and against the floor, a bare libpcap read
# (tcpdump -r F -w /dev/null); a speed-up below 1 there means "this many times slower"
filt='tcp.port == 443 and ip.src == 10.0.0.1'
dnsf='dns.qry.name contains "example"'
for f in synth-1m lab-mix; do
	compare "-Y ports+address, $f" "$runs" "$bin read -Y '$filt' $dir/$f.pcap" "tshark -n -r $dir/$f.pcap -Y '$filt'"
	compare "-Y ports+address, $f" "$runs" "$bin read -Y '$filt' $dir/$f.pcap" "tcpdump -r $dir/$f.pcap -w /dev/null"
	compare "-Y dns.qry.name, $f" "$runs" "$bin read -Y '$dnsf' $dir/$f.pcap" "tshark -n -r $dir/$f.pcap -Y '$dnsf'"
done
# memory with flow tracking on 160k flows
echo
printf 'peak RSS, text output of synth-1m (160k flows tracked): %s MB\n' "$(rss_mb "$bin" read "$dir/synth-1m.pcap")"
# the floor: a bare libpcap read loop over every record (tcpdump writing nothing)
compare "text vs bare read, lab-mix" "$runs" "$bin read $dir/lab-mix.pcap" "tcpdump -r $dir/lab-mix.pcap -w /dev/null"

# issue 12: the anomaly rules (on by default for text) against --no-anomalies; a speed-up
# below 1 is their cost
for f in lab-mix synth-200k; do
	compare "anomalies on vs off, $f" "$runs" "$bin read $dir/$f.pcap" "$bin read --no-anomalies $dir/$f.pcap"
done
# ... and behind a filter that matches nothing, where the prefilter's pass is the whole run
# and the scan rules see every SYN and handshake in it
compare "anomalies on vs off, -Y matching nothing, synth-1m" "$runs" "$bin read -Y 'ip.src == 10.1.2.3' $dir/synth-1m.pcap" \
	"$bin read --no-anomalies -Y 'ip.src == 10.1.2.3' $dir/synth-1m.pcap"
# diff (issue 12): a capture against itself and against a copy without every 100th packet,
# against the floor of reading both files with libpcap alone; pktscope's RSS is the bound
# that matters (it grows with the packets waiting for a twin, not with the files)
for f in lab-mix synth-1m; do
	[ -s "$dir/$f-minus1.pcap" ] || python3 "$top/bench/drop-every-100th.py" "$dir/$f.pcap" "$dir/$f-minus1.pcap"
	compare "diff itself, $f" "$runs" "sh -c '$bin diff $dir/$f.pcap $dir/$f.pcap >/dev/null; true'" \
		"sh -c 'tcpdump -r $dir/$f.pcap -w /dev/null 2>/dev/null; tcpdump -r $dir/$f.pcap -w /dev/null 2>/dev/null'"
	compare "diff 1% removed, $f" "$runs" "sh -c '$bin diff $dir/$f.pcap $dir/$f-minus1.pcap >/dev/null; true'" \
		"sh -c 'tcpdump -r $dir/$f.pcap -w /dev/null 2>/dev/null; tcpdump -r $dir/$f-minus1.pcap -w /dev/null 2>/dev/null'"
done

# live capture (issue 6): tcpreplay --topspeed of lab-mix into the lab's veth, pktscope
# capture -w and tcpdump -w on the other end at the same time; each one's file, and
# pktscope's reported drops against what is missing from its file (root and the lab needed)
lab=$top/../shared/lab/lab.sh
if [ "$(id -u)" -eq 0 ] && [ -x "$lab" ] && "$lab" up bench >/dev/null 2>&1; then
	ip netns exec benchc "$bin" capture -i benchc0 -w "$tmp/live-p.pcap" 2>"$tmp/live-p.err" &
	lp=$!
	ip netns exec benchc tcpdump -i benchc0 -s 0 -w "$tmp/live-t.pcap" 2>"$tmp/live-t.err" &
	lt=$!
	sleep 1.5
	sent=$(ip netns exec benchs tcpreplay --topspeed -i benchs0 "$dir/lab-mix.pcap" 2>&1 |
		awk '/Actual:/ { print $2; exit }')
	sleep 2
	kill -INT $lp
	kill $lt
	wait $lp $lt 2>/dev/null
	"$lab" down bench >/dev/null 2>&1
	np=$(capinfos -c -M "$tmp/live-p.pcap" | awk '/Number of packets/ { print $NF }')
	nt=$(capinfos -c -M "$tmp/live-t.pcap" | awk '/Number of packets/ { print $NF }')
	dp=$(awk '/packets written/ { print $5 + $10 }' "$tmp/live-p.err")
	dt=$(awk '/dropped by kernel/ { print $1 }' "$tmp/live-t.err")
	echo
	echo "live capture, tcpreplay --topspeed of lab-mix ($sent packets sent):"
	echo "  pktscope capture -w: $np packets in its file, $dp reported dropped (sent - written = $((sent - np)))"
	echo "  tcpdump -w:          $nt packets in its file, $dt reported dropped by the kernel"
else
	echo
	echo "live capture: skipped (needs root and ../shared/lab)"
fi
