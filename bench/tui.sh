#!/bin/bash
# The full-screen analyzer against termshark, each opening the same capture in a 200x50
# tmux pane: time to the first screen of packets, time until the whole file is loaded,
# peak RSS (the process and its children, sampled), time to apply `tcp.port == 443` and
# time for G (the last packet). Each wait is capped (CAP seconds, default 300): a figure
# that reached the cap is printed as ">CAP".
# Usage: bench/tui.sh PKTSCOPE   (captures as bench/run.sh)
set -u
bin=$(realpath "$1")
dir=${PKTSCOPE_BENCH_DIR:-/tmp/pktscope-bench}
cap=${CAP:-300}
sock="pktscope-bench-tui-$$"
t() { tmux -L "$sock" "$@"; }
trap 't kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"' EXIT
command -v termshark >/dev/null || { echo "bench/tui.sh: termshark is not installed (scripts/install-deps.sh)"; exit 1; }

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | awk '{ printf "%.3f", $1 }'; }
screen() { t capture-pane -p -t s 2>/dev/null; }
# a fresh server, then the program in a new session; T0 is when the session was asked for
start() {
	t kill-server 2>/dev/null
	sleep 0.2
	T0=$(now)
	t -f /dev/null new-session -d -s s -x 200 -y 50 "$1; sleep 3600"
}
# waits for a pattern on screen, or for a command to succeed; prints the seconds, or >cap
wait_screen() {
	t0=$1 pat=$2
	until screen | grep -qE -- "$pat"; do
		[ "$(echo "$(now) - $t0 > $cap" | bc)" = 1 ] && { echo ">$cap"; return 1; }
		sleep 0.01
	done
	since "$t0"
}
# the same for a short wait (a key's answer): polled without sleeping, timed in ns
wait_quick() {
	a=$(date +%s%N) pat=$1
	until screen | grep -qE -- "$pat"; do
		[ $(( $(date +%s%N) - a )) -gt $((cap * 1000000000)) ] && { echo ">$cap"; return 1; }
	done
	echo "$(( ($(date +%s%N) - a) / 1000 ))" | awk '{ printf "%.3f", $1 / 1e6 }'
}
# peak RSS (MB) of a process tree, sampled every 0.2 s while it runs, into $peakf
sample_rss() {
	root=$1
	peak=0
	while kill -0 "$root" 2>/dev/null; do
		kb=$(ps -o rss= -p "$root" $(pgrep -P "$root" | tr '\n' ' ') 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
		[ "$kb" -gt "$peak" ] && peak=$kb && echo "$peak" >"$peakf"
		sleep 0.2
	done
}
pid_of() { # the newest process whose command line starts with $1
	for _ in $(seq 100); do
		p=$(pgrep -n -f "^$1") && { echo "$p"; return; }
		sleep 0.05
	done
}

echo "| capture | program | first screen | all loaded | peak RSS | tcp.port == 443 | G (last packet) |"
echo "|---|---|---|---|---|---|---|"
for f in lab-mix synth-1m; do
	file="$dir/$f.pcap"
	[ -s "$file" ] || { echo "bench/tui.sh: no $file (bench/run.sh makes it)"; exit 1; }
	last=$(capinfos -c -M "$file" | awk '/Number of packets/ { print $NF }')
	n443=$("$bin" read -Y 'tcp.port == 443' "$file" | wc -l)

	# pktscope
	peakf=$(mktemp)
	echo 0 >"$peakf"
	start "$bin read $file"
	t0=$T0
	pid=$(pid_of "$bin read $file")
	sample_rss "$pid" &
	sampler=$!
	first=$(wait_screen "$t0" '^ +1 +0\.0')
	loaded=$(wait_screen "$t0" ' READY ')
	t1=$(now)
	t send-keys -t s / 'tcp.port == 443' Enter
	filt=$(wait_screen "$t1" " READY .*Displayed: $n443 .*filter applied")
	t send-keys -t s / C-u
	for _ in $(seq 20); do t send-keys -t s BSpace; done
	t send-keys -t s Enter
	wait_screen "$(now)" "Displayed: $last " >/dev/null
	t send-keys -t s G
	g=$(wait_quick "Packet $last details")
	rss=$(grep VmHWM "/proc/$pid/status" | awk '{ printf "%.1f MB", $2 / 1024 }')
	kill "$sampler" 2>/dev/null
	echo "| $f | pktscope | $first s | $loaded s | $rss | $filt s | $g s |"

	# termshark: loading is over when its tshark -T psml has ended
	echo 0 >"$peakf"
	start "termshark -r $file"
	t0=$T0
	pid=$(pid_of "termshark -r $file")
	sample_rss "$pid" &
	sampler=$!
	first=$(wait_screen "$t0" '^ 1 +0\.0')
	loaded=">$cap"
	while [ "$(echo "$(now) - $t0 < $cap" | bc)" = 1 ]; do
		sleep 0.05
		pgrep -P "$pid" -f 'tshark -T psml' >/dev/null && continue
		loaded=$(since "$t0")
		break
	done
	filt=">$cap" g=">$cap"
	if [ "${loaded#>}" = "$loaded" ]; then
		t send-keys -t s G
		g=$(wait_quick "^ $last ") || true
		t1=$(now)
		t send-keys -t s / 'tcp.port == 443' Enter
		# tshark runs again with the filter: its progress bar (a <Stop> button) shows, then goes
		until screen | grep -q '<Stop>'; do
			[ "$(echo "$(now) - $t1 > 10" | bc)" = 1 ] && break
			sleep 0.01
		done
		while [ "$(echo "$(now) - $t1 < $cap" | bc)" = 1 ]; do
			screen | grep -q '<Stop>' || { filt=$(since "$t1"); break; }
			sleep 0.05
		done
	fi
	kill "$sampler" 2>/dev/null
	echo "| $f | termshark | $first s | $loaded s | $(awk '{ printf "%.1f MB", $1 / 1024 }' "$peakf") | $filt s | $g s |"
	rm -f "$peakf"
done
