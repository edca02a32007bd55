#!/bin/sh
# The monitor daemon over a day (issue 16): a 24-hour-equivalent replay (bench/gen-day.py:
# N connections spread over the last 24 hours, the packets' times the monitor's clock) under
# three size settings, RSS sampled as it goes and the store's size after; then a live
# daemon (in the lab's namespace) serving the unlimited store: a history query over the
# whole day, the other stored views, and the inspector's first screen in tmux, each timed.
# Needs root (the lab). Usage: bench/daemon.sh BUILD_DIR [CONNECTIONS]   (default 2,000,000)
set -eu
bin=$(realpath "$1")/pktscope
n=${2:-2000000}
top=$(cd "$(dirname "$0")/.." && pwd)
lab=$top/../shared/lab/lab.sh
tmp=$(mktemp -d /var/tmp/pktscope-bench.XXXXXX)
tsock=pktscope-bench-$$
cleanup() {
	[ -f "$tmp/none/monitor.pid" ] && kill -9 "$(cat "$tmp/none/monitor.pid")" 2>/dev/null
	tmux -L "$tsock" kill-server 2>/dev/null
	"$lab" down bd >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
mb() { echo "scale=1; $1 / 1048576" | bc; }

echo "generating $n connections over 24 hours..."
python3 "$top/bench/gen-day.py" "$tmp/day.pcap" "$n"
echo "capture: $(mb "$(stat -c %s "$tmp/day.pcap")") MB"
echo
echo "| max_db_mb | replay (s) | conns/s | RSS at 25% | 50% | 75% | peak | store (MB) | connections kept |"
echo "|---|---|---|---|---|---|---|---|---|"
for limit in none 256 64; do
	state=$tmp/$limit
	mkdir -p "$state"
	cfg=$tmp/$limit.conf
	printf '[monitor]\n' >"$cfg"
	[ "$limit" != none ] && printf 'max_db_mb = %s\n' "$limit" >>"$cfg"
	t0=$(date +%s.%N)
	"$bin" monitor run -r "$tmp/day.pcap" --state-dir "$state" --config "$cfg" --no-journal 2>"$tmp/replay.err" &
	pid=$!
	: >"$tmp/rss"
	while kill -0 "$pid" 2>/dev/null; do
		awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null >>"$tmp/rss" || true
		sleep 0.2
	done
	wait "$pid"
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
	rss=$(grep . "$tmp/rss" | awk '{ a[NR] = $1; if ($1 > m) m = $1 } END {
		printf "%.1f MB | %.1f MB | %.1f MB | %.1f MB", a[int(NR / 4) + 1] / 1024, a[int(NR / 2) + 1] / 1024, a[int(NR * 3 / 4) + 1] / 1024, m / 1024 }')
	size=0
	for f in "$state"/monitor.db*; do size=$((size + $(stat -c %s "$f"))); done
	kept=$(sqlite3 "$state/monitor.db" 'SELECT count(*) FROM connections')
	printf '| %s | %.1f | %.0f | %s | %s | %s |\n' "$limit" "$secs" "$(echo "$n / $secs" | bc)" "$rss" "$(mb $size)" "$kept"
done

# the day's store served by a live daemon
"$lab" up bd >/dev/null
state=$tmp/none
ip netns exec bdc "$bin" monitor run -i bdc0 --state-dir "$state" --no-journal --daemonize 2>/dev/null
python3 - "$state/monitor.sock" <<'PY'
import json, socket, statistics, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
f.readline()
def call(req):
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    return json.loads(f.readline())
call({"type": "hello", "protocol": 1})
now = int(time.time() * 1000)
day = {"since_ms": now - 86400000, "until_ms": now}
reqs = [
    ("history, the whole day (total + newest 1000)", dict(type="history", **day)),
    ("history, one hour of the day (total + newest 1000)", dict(type="history", since_ms=now - 43200000, until_ms=now - 39600000)),
    ("processes, the day", dict(type="processes", **day)),
    ("destinations, the day", dict(type="destinations", **day)),
    ("compare, the day against the one before", dict(type="compare", a_since_ms=now - 2 * 86400000, a_until_ms=now - 86400000,
                                                    b_since_ms=now - 86400000, b_until_ms=now)),
    ("status", dict(type="status")),
    ("connections (live)", dict(type="connections")),
]
print()
print("| request | median (ms) | max (ms) | answer |")
print("|---|---|---|---|")
for name, req in reqs:
    times = []
    for _ in range(7):
        t = time.perf_counter(); r = call(req); times.append((time.perf_counter() - t) * 1000)
    d = r.get("data")
    what = ("%d connections" % d["total"]) if isinstance(d, dict) and "total" in d else (r.get("message") or r["type"])
    print("| %s | %.1f | %.1f | %s |" % (name, statistics.median(times), max(times), what))
PY

# the inspector's first screen: from the command to its first view drawn, in tmux
echo
times=
for k in 1 2 3 4 5 6 7; do
	tmux -L "$tsock" kill-server 2>/dev/null || true
	t0=$(date +%s%N)
	until tmux -L "$tsock" -f /dev/null new-session -d -s s -x 140 -y 40 "env TERM=xterm-256color $bin inspect --state-dir $state; sleep 30" 2>/dev/null; do
		sleep 0.05 # the server killed a moment ago may still be going
		t0=$(date +%s%N)
	done
	until tmux -L "$tsock" capture-pane -p -t s 2>/dev/null | grep -q 'Live connections'; do sleep 0.005; done
	t1=$(date +%s%N)
	times="$times $(((t1 - t0) / 1000000))"
done
echo "inspector's first screen (ms, tmux start included):$times"
echo "median: $(echo "$times" | tr ' ' '\n' | grep . | sort -n | sed -n 4p) ms"
"$bin" monitor stop --state-dir "$state" >/dev/null
