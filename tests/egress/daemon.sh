#!/bin/sh
# The monitor as a daemon, in the traffic lab: `monitor run --daemonize` returns once it is
# capturing; a second one on the same state directory is refused; it keeps only two
# capabilities; `monitor status|events|stop` and `inspect --json` talk to it; its socket
# answers root, the daemon's user and the readers' group (here "users") and refuses
# everyone else; the protocol (tests/egress/sock.py): handshake, errors, every request,
# 10,000 malformed and oversized messages while another client is served, a subscriber too
# slow to read told how many events it lost; then SIGKILL at random moments under traffic,
# KILLS times: the store passes PRAGMA integrity_check, keeps every row it had committed,
# and the baseline goes on from where it was.
# Usage: daemon.sh PKTSCOPE SOURCE_ROOT [KILLS]
set -u
bin=$1
cd "$2" || exit 2
kills=${3:-100}
lab=../shared/lab/lab.sh
sock_py=tests/egress/sock.py
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ]; then
	echo "daemon: SKIP: it needs root and ../shared/lab (here: uid $(id -u))"
	exit 0
fi
if ! "$lab" up dm >/dev/null 2>&1; then
	"$lab" down dm >/dev/null 2>&1
	echo "daemon: SKIP: network namespaces cannot be made here"
	exit 0
fi
tmp=$(mktemp -d)
chmod 711 "$tmp" # the readers reach the state directory inside
state=$tmp/state
sock=$state/monitor.sock
traffic=
cleanup() {
	[ -n "$traffic" ] && kill "$traffic" 2>/dev/null
	[ -f "$state/monitor.pid" ] && kill -9 "$(cat "$state/monitor.pid")" 2>/dev/null
	"$lab" down dm >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
in_c() { ip netns exec dmc "$@"; }
users_gid=$(getent group users | cut -d: -f3)
start() { in_c "$bin" monitor run -i dmc0 -i lo --state-dir "$state" --learning 3s --no-journal --group users --daemonize "$@"; }
# another user, with nothing of root's environment (its HOME, a python under /root)
clean_env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups $clean_env "$@"; }
as_reader() { setpriv --reuid=65534 --regid=65534 --groups="$users_gid" $clean_env "$@"; }
q() { sqlite3 "$state/monitor.db" "$1"; }
# running: not gone and not a zombie (a daemon's parent is init, which may reap late)
alive() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# the systemd unit: it verifies (its man page is not installed here: --man=no), and its
# exposure stays where the README says (3.5)
sed "s#@BINDIR@/pktscope#$bin#" dist/pktscope-monitor.service >"$tmp/pktscope-monitor.service"
(cd "$tmp" && systemd-analyze verify --man=no pktscope-monitor.service) >"$tmp/verify.out" 2>&1 && ok || bad "systemd-analyze verify: $(cat "$tmp/verify.out")"
score=$(cd "$tmp" && systemd-analyze security --offline=true pktscope-monitor.service 2>/dev/null | sed -n 's/.*exposure level for pktscope-monitor.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] && [ "$(echo "$score <= 3.5" | bc)" -eq 1 ] && ok || bad "systemd-analyze security: exposure '$score'"

# --daemonize: back once capturing; the lock; the capabilities kept
start 2>"$tmp/start.err"
rc=$?
pid=$(cat "$state/monitor.pid" 2>/dev/null)
[ $rc -eq 0 ] && grep -q "running in the background (pid $pid)" "$tmp/start.err" && alive "$pid" && [ -S "$sock" ] && ok ||
	bad "--daemonize: rc $rc, pid '$pid': $(cat "$tmp/start.err")"
start 2>"$tmp/second.err"
rc=$?
[ $rc -eq 1 ] && grep -q "another monitor (pid $pid) is running with the state directory $state" "$tmp/second.err" && ok ||
	bad "a second monitor: rc $rc: $(cat "$tmp/second.err")"
[ "$(cat "$state/monitor.pid")" = "$pid" ] && [ -S "$sock" ] && ok || bad "the second monitor touched the first's pidfile or socket"
caps=$(awk '/^CapEff/ { print $2 }' "/proc/$pid/status")
bnd=$(awk '/^CapBnd/ { print $2 }' "/proc/$pid/status")
[ "$caps" = 0000000000080004 ] && [ "$bnd" = 0000000000080004 ] && ok || bad "capabilities kept: effective $caps, bounding $bnd"
[ "$(stat -c '%a %G' "$sock")" = "660 users" ] && [ "$(stat -c '%a %G' "$state")" = "750 users" ] &&
	[ "$(stat -c %a "$state/monitor.db")" = 600 ] && ok ||
	bad "modes: socket $(stat -c '%a %G' "$sock"), state $(stat -c '%a %G' "$state"), store $(stat -c %a "$state/monitor.db")"

# a program's connection, seen by the clients
in_c curl -s -o /dev/null http://10.77.0.2/
sleep 1
"$bin" monitor status --state-dir "$state" >"$tmp/status.txt" 2>&1
grep -q "^pktscope monitor — \(learning\|active\) (pid $pid)" "$tmp/status.txt" && grep -q "interfaces: *dmc0 lo" "$tmp/status.txt" &&
	grep -q "programs seen *1" "$tmp/status.txt" && ok || bad "monitor status: $(cat "$tmp/status.txt")"
"$bin" monitor status --socket "$sock" --json >"$tmp/status.json" 2>&1
jq -e --argjson p "$pid" '.pid == $p and .protocol == 1 and (.interfaces == "dmc0 lo") and .programs == 1 and
	(.baseline.state | test("learning|active"))' "$tmp/status.json" >/dev/null && ok || bad "status --json: $(cat "$tmp/status.json")"
"$bin" inspect --json --state-dir "$state" >"$tmp/inspect.json" 2>&1
jq -e '(.status.pid > 0) and (.connections | type == "array") and ([.processes[].exe] | index("/usr/bin/curl") != null) and
	([.destinations[].destination] | index("10.77.0.2") != null) and (.alerts | type == "array")' "$tmp/inspect.json" >/dev/null &&
	ok || bad "inspect --json: $(head -c 600 "$tmp/inspect.json")"
"$bin" inspect --state-dir "$state" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "inspect without --json and without a terminal: exit 2 expected"

# events, filtered by the monitor: curl's closes only
"$bin" monitor events --state-dir "$state" --events close --program curl >"$tmp/events.json" 2>"$tmp/events.err" &
ev=$!
sleep 0.5
in_c curl -s -o /dev/null http://10.77.0.2/
in_c python3 -c "import socket; socket.create_connection(('10.77.0.2', 80)).close()"
sleep 1.5
kill -INT $ev
wait $ev
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/events.json")" -eq 1 ] &&
	jq -e '.event == "close" and .process.exe == "/usr/bin/curl" and .remote.addr == "10.77.0.2"' "$tmp/events.json" >/dev/null &&
	ok || bad "monitor events --events close --program curl: rc $rc: $(cat "$tmp/events.json" "$tmp/events.err")"
"$bin" monitor events --state-dir "$state" --events bogus >/dev/null 2>"$tmp/ev2.err"
[ $? -eq 1 ] && grep -q "'bogus' is not one" "$tmp/ev2.err" && ok || bad "--events bogus: $(cat "$tmp/ev2.err")"

# who may do what
as_nobody "$bin" monitor status --socket "$sock" >/dev/null 2>"$tmp/nobody.err"
[ $? -eq 1 ] && grep -q "Permission denied (the monitor answers root" "$tmp/nobody.err" && ok || bad "nobody: $(cat "$tmp/nobody.err")"
# past the file modes (as if someone opened them up), the monitor itself refuses
chmod 755 "$state"
chmod 666 "$sock"
as_nobody python3 "$sock_py" hello "$sock" >"$tmp/nobody.hello" 2>&1
grep -q '"type": "error".*permission denied' "$tmp/nobody.hello" && grep -q "permission denied to uid 65534" "$state/monitor.log" && ok ||
	bad "nobody through the socket: $(cat "$tmp/nobody.hello")"
chmod 750 "$state"
chmod 660 "$sock"
as_reader "$bin" monitor status --socket "$sock" >"$tmp/reader.txt" 2>&1 && grep -q "pid $pid" "$tmp/reader.txt" && ok ||
	bad "a member of the group reads: $(cat "$tmp/reader.txt")"
as_reader "$bin" monitor stop --socket "$sock" >/dev/null 2>"$tmp/reader-stop.err"
[ $? -eq 1 ] && grep -q "permission denied: only root or the monitor's own user may stop the monitor" "$tmp/reader-stop.err" &&
	alive "$pid" && grep -q "uid 65534 (pid [0-9]*) may not stop the monitor" "$state/monitor.log" && ok ||
	bad "a reader stops: $(cat "$tmp/reader-stop.err")"
as_reader python3 "$sock_py" call "$sock" '{"type":"known","op":"add","program":"/usr/bin/curl"}' '{"type":"ack","id":1}' \
	'{"type":"history","limit":1}' >"$tmp/reader.calls" 2>&1
[ "$(grep -c 'permission denied' "$tmp/reader.calls")" -eq 2 ] && grep -q '"type": "history"' "$tmp/reader.calls" && ok ||
	bad "a reader changes: $(cat "$tmp/reader.calls")"
# monitor alerts|new|known through the socket: the store is root's (0600), a reader gets its
# alerts all the same; a reader's ack is refused by the monitor
n_alerts=$(q 'SELECT count(*) FROM alerts')
as_reader "$bin" monitor alerts --all --json --state-dir "$state" >"$tmp/reader-alerts.json" 2>&1 &&
	[ "$(jq -r .id "$tmp/reader-alerts.json" | tr '\n' ' ')" = "$(q 'SELECT id FROM alerts ORDER BY ts_ms, id' | tr '\n' ' ')" ] &&
	as_reader "$bin" monitor alerts --all --state-dir "$state" >"$tmp/reader-alerts.txt" 2>&1 &&
	[ "$(grep -c '^#' "$tmp/reader-alerts.txt")" -eq "$n_alerts" ] &&
	as_reader "$bin" monitor new --since 1h --json --state-dir "$state" 2>&1 | jq -e '.since' >/dev/null &&
	as_reader "$bin" monitor known list --state-dir "$state" 2>&1 | grep -q "nothing is marked known" && ok ||
	bad "a reader's alerts/new/known ($n_alerts alerts): $(cat "$tmp/reader-alerts.json" "$tmp/reader-alerts.txt")"
as_reader "$bin" monitor ack 1 --state-dir "$state" >/dev/null 2>"$tmp/reader-ack.err"
[ $? -eq 1 ] && grep -q "permission denied: only root or the monitor's own user may acknowledge alerts" "$tmp/reader-ack.err" && ok ||
	bad "a reader's ack: $(cat "$tmp/reader-ack.err")"

# the protocol; a flood of bad messages; a slow subscriber
python3 "$sock_py" protocol "$sock" >"$tmp/proto.out" 2>&1 && ok || bad "protocol: $(grep -v '^ok' "$tmp/proto.out")"
python3 "$sock_py" flood "$sock" 10000 >"$tmp/flood.out" 2>&1 && ok || bad "flood: $(grep -v '^ok' "$tmp/flood.out")"
alive "$pid" && ok || bad "the monitor died in the flood"
python3 "$sock_py" slow "$sock" dmc >"$tmp/slow.out" 2>&1 && ok || bad "slow subscriber: $(grep -v '^ok' "$tmp/slow.out")"
grep '^slow subscriber:' "$tmp/slow.out"

# stop: everything stored, then the socket and pidfile gone
learning_start=$(q "SELECT value FROM meta WHERE key = 'learning_start_ms'")
"$bin" monitor stop --state-dir "$state" >"$tmp/stop.out" 2>&1
rc=$?
i=0
while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done # its last steps after the reply
[ $rc -eq 0 ] && grep -q "monitor stopped" "$tmp/stop.out" && ! alive "$pid" && [ ! -e "$sock" ] && [ ! -e "$state/monitor.pid" ] &&
	ok || bad "monitor stop: rc $rc: $(cat "$tmp/stop.out"); socket $(ls "$state")"
grep -q "stopping: asked by uid 0" "$state/monitor.log" && grep -q "pktscope: monitor: [0-9]* packets" "$state/monitor.log" && ok ||
	bad "the log: $(tail -5 "$state/monitor.log")"
"$bin" monitor status --state-dir "$state" >/dev/null 2>"$tmp/gone.err"
[ $? -eq 1 ] && grep -q "cannot connect to the monitor at $sock" "$tmp/gone.err" && ok || bad "status with no monitor: $(cat "$tmp/gone.err")"

# SIGKILL at random moments under traffic
# (started directly, not through in_c, whose subshell a kill would leave the loop behind;
# and the loop ends by itself when the lab is gone)
ip netns exec dmc sh -c 'while curl -s -o /dev/null http://10.77.0.2/; do python3 -c "
import socket
for i in range(20): socket.create_connection((\"10.77.0.2\", 80)).close()" || break; done' >/dev/null 2>&1 &
traffic=$!
lost=0
failed_start=0
i=0
while [ $i -lt "$kills" ]; do
	i=$((i + 1))
	if ! start 2>"$tmp/k.err"; then
		failed_start=$((failed_start + 1))
		echo "start $i: $(cat "$tmp/k.err")"
		continue
	fi
	kpid=$(cat "$state/monitor.pid")
	before=$(q "SELECT count(*) FROM connections")
	sleep "0.$(awk -v s="$i" 'BEGIN { srand(s); printf "%03d", rand() * 900 }')"
	kill -9 "$kpid"
	# gone once its lock is free (its threads end after the leader shows as a zombie)
	w=0
	until flock -n "$state/monitor.pid" true || [ $w -ge 1000 ]; do sleep 0.01; w=$((w + 1)); done
	after=$(q "SELECT count(*) FROM connections")
	[ "$after" -ge "$before" ] || lost=$((lost + 1))
done
kill "$traffic"
traffic=
[ "$failed_start" -eq 0 ] && ok || bad "$failed_start of $kills starts after a SIGKILL failed"
[ "$lost" -eq 0 ] && ok || bad "$lost of $kills kills lost committed rows"
[ "$(q 'PRAGMA integrity_check')" = ok ] && ok || bad "integrity_check after $kills kills: $(q 'PRAGMA integrity_check' | head -3)"
[ "$(q "SELECT value FROM meta WHERE key = 'learning_start_ms'")" = "$learning_start" ] && ok ||
	bad "the learning period started again: $learning_start -> $(q "SELECT value FROM meta WHERE key = 'learning_start_ms'")"
start 2>/dev/null
"$bin" monitor status --state-dir "$state" --json >"$tmp/after.json" 2>&1
jq -e '.baseline.state == "active"' "$tmp/after.json" >/dev/null && ok || bad "after the kills: $(cat "$tmp/after.json")"
"$bin" monitor stop --state-dir "$state" >/dev/null 2>&1 || bad "the last stop"
echo "daemon: $kills SIGKILLs under traffic: store intact, $(q 'SELECT count(*) FROM connections') connections kept"

echo "daemon: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
