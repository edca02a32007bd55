#!/bin/sh
# The inspector (`pktscope inspect`) in a real terminal, against a monitor daemon fed by the
# traffic lab: curl while it learns, then a copy of curl under another name and a python
# connection held open (two alerts). In a detached tmux session of a fixed size, driven by
# send-keys and read by capture-pane: the five views and their keys (sort, search, the
# drill-down into a program, by organisation, ack and mark known, time travel and "what
# changed"), golden screens (times, sizes, ages and pids masked), the "disconnected" line
# when the monitor stops and the reconnection when it is back, a reader of group `users`
# who sees everything and may not acknowledge; and `monitor notify` running a fake
# notify-send once per alert.
# Usage: inspect.sh PKTSCOPE SOURCE_ROOT   (UPDATE=1 writes the golden screens)
set -u
bin=$1
cd "$2" || exit 2
lab=../shared/lab/lab.sh
golden=tests/egress/golden
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ]; then
	echo "inspect: SKIP: it needs root and ../shared/lab (here: uid $(id -u))"
	exit 0
fi
if ! command -v tmux >/dev/null 2>&1; then
	echo "inspect: SKIP: no tmux"
	exit 0
fi
if ! "$lab" up iv >/dev/null 2>&1; then
	"$lab" down iv >/dev/null 2>&1
	echo "inspect: SKIP: network namespaces cannot be made here"
	exit 0
fi
export TZ=UTC
tmp=$(mktemp -d)
chmod 711 "$tmp"
state=$tmp/state
tsock="pktscope-inspect-$$"
holder=
notifier=
t() { tmux -L "$tsock" "$@"; }
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	[ -n "$notifier" ] && kill "$notifier" 2>/dev/null
	[ -f "$state/monitor.pid" ] && kill -9 "$(cat "$state/monitor.pid")" 2>/dev/null
	t kill-server 2>/dev/null
	"$lab" down iv >/dev/null 2>&1
	rm -rf "$tmp" "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$tsock"
}
trap cleanup EXIT
users_gid=$(getent group users | cut -d: -f3)
start_monitor() {
	ip netns exec ivc "$bin" monitor run -i ivc0 -f "not ip6" --state-dir "$state" --learning 4s --no-journal --group users --daemonize \
		2>"$tmp/start.err" || bad "the monitor did not start: $(cat "$tmp/start.err")"
}
# the screen, and a wait (10 s at most) for a pattern (grep -E) on it
screen() { t capture-pane -p -t s 2>/dev/null; }
wait_for() {
	i=0
	until screen | grep -qE -- "$1"; do
		i=$((i + 1))
		[ $i -ge 100 ] && return 1
		sleep 0.1
	done
}
keys() { t send-keys -t s "$@"; }
# session s running CMD in a W x H terminal
term() {
	t kill-server 2>/dev/null
	i=0
	until t -f /dev/null new-session -d -s s -x "$1" -y "$2" "$3; echo EXITED \$?; sleep 300" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 50 ] && { bad "tmux cannot start a session"; return 1; }
		sleep 0.1
	done
}
# the screen without its tab bar and status line (the monitor's counters, which follow the
# store's writes), what changes from run to run masked, spaces squeezed
masked() {
	screen | sed -E -e '1d' -e '$d' -e "s#$tmp#TMP#g" -e 's/python3\.[0-9]+/python3.N/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/DATE/g' \
		-e 's/[0-9.]+ (B|kB|MB|GB)/SIZE/g' -e 's/\b[0-9]+[smhd]\b/AGE/g' -e 's/ +/ /g' -e 's/ $//'
}
# compares the masked screen with the golden one (UPDATE=1 writes it)
golden() {
	masked >"$tmp/$1.txt"
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$tmp/$1.txt" "$golden/inspect-$1.txt"
		ok
		return
	fi
	diff -u "$golden/inspect-$1.txt" "$tmp/$1.txt" >"$tmp/$1.diff" && ok || bad "golden screen $1: $(cat "$tmp/$1.diff")"
}

start_monitor
i=0
until "$bin" monitor status --json --state-dir "$state" 2>/dev/null | jq -e '.baseline.state == "learning"' >/dev/null; do
	i=$((i + 1))
	[ $i -ge 50 ] && break
	sleep 0.1
done
# learning: curl twice
ip netns exec ivc curl -s -o /dev/null http://10.77.0.2/
ip netns exec ivc curl -s -o /dev/null http://10.77.0.2/
i=0
until "$bin" monitor status --json --state-dir "$state" 2>/dev/null | jq -e '.baseline.state == "active"' >/dev/null; do
	i=$((i + 1))
	[ $i -ge 100 ] && { bad "the baseline never became active"; break; }
	sleep 0.1
done

# monitor notify, from "the user's side", with a notify-send that writes its arguments down
printf '#!/bin/sh\nprintf "%%s|" "$@" >>%s/notified\necho >>%s/notified\n' "$tmp" "$tmp" >"$tmp/fake-notify"
chmod 755 "$tmp/fake-notify"
"$bin" monitor notify --state-dir "$state" --command "$tmp/fake-notify" >"$tmp/notify.out" 2>&1 &
notifier=$!
i=0
until grep -q "notifying the alerts" "$tmp/notify.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -ge 100 ] && { bad "monitor notify did not subscribe: $(cat "$tmp/notify.out")"; break; }
	sleep 0.1
done
"$bin" monitor notify --command /nonexistent/notify-send >/dev/null 2>"$tmp/nonotify.err"
[ $? -eq 1 ] && grep -q "/nonexistent/notify-send cannot be run" "$tmp/nonotify.err" && ok || bad "a missing notifier: $(cat "$tmp/nonotify.err")"

# active: a copy of curl under a new name (alert), then a connection held open by python
cp "$(command -v curl)" "$tmp/fetcher"
ip netns exec ivc "$tmp/fetcher" -s -o /dev/null http://10.77.0.2/
sleep 0.5
ip netns exec ivc /usr/bin/python3 -c 'import socket, time
s = socket.create_connection(("10.77.0.2", 80))
time.sleep(300)' &
holder=$!
i=0
until [ "$(grep -c . "$tmp/notified" 2>/dev/null)" -ge 4 ]; do
	i=$((i + 1))
	[ $i -ge 100 ] && break
	sleep 0.1
done
grep -q "^-a|pktscope|-u|normal|pktscope: warning — fetcher|fetcher made its first outbound connection (to 10.77.0.2)$" "$tmp/notified" &&
	grep -q "^-a|pktscope|-u|normal|pktscope: warning — python3|python3 made its first outbound connection (to 10.77.0.2)$" "$tmp/notified" &&
	[ "$(grep -c "made its first outbound" "$tmp/notified")" -eq 2 ] && ok || bad "notify-send's calls: $(cat "$tmp/notified" "$tmp/notify.out")"

# 1 Connections: python's connection, live
term 130 30 "env TERM=xterm-256color TZ=UTC $bin inspect --state-dir $state"
if wait_for '^python3 .* 10\.77\.0\.2:80 +TCP '; then ok; else bad "the live connection: $(screen)"; fi
wait_for '1 Connections .* 4 Alerts \(2\) .* 5 History' && ok || bad "the tab bar: $(screen | head -1)"
keys s
wait_for 'sorted by rate' && ok || bad "s: $(screen | sed -n 2p)"
keys s
wait_for 'sorted by age' && ok || bad "s s: $(screen | sed -n 2p)"
keys / pyth
wait_for 'search: pyth_' && [ "$(screen | sed -n '4,29p' | grep -c '[^ ]')" -eq 1 ] && ok || bad "search: $(screen)"
keys Escape Escape
wait_for 'sorted by age \(s\)$' && ok || bad "Esc clears the search: $(screen | sed -n 2p)"

# 2 Processes, its drill-down and a program's history
keys 2
wait_for '^Programs \(3\)' && golden processes || bad "processes: $(screen)"
keys Enter
wait_for '^Destinations of curl \(/usr/bin/curl\)' && wait_for '^10\.77\.0\.2 ' && golden drill || bad "drill-down: $(screen)"
keys h
wait_for '^History .* /usr/bin/curl .* 2 connections' && [ "$(screen | grep -cE '^[0-9-]+ [0-9:]+ curl ')" -eq 2 ] && ok ||
	bad "h: the program's history: $(screen)"
keys x
wait_for 'every program · 3 connections' && ok || bad "x: every program: $(screen | sed -n 2p)"
# a program whose only connection is open: its destinations are the open ones
keys 2 Escape G Enter
wait_for '^Destinations of python3' && wait_for '^10\.77\.0\.2 +- +- +1 ' && ok || bad "the destinations of python: $(screen)"
keys Escape

# 3 Domains, by organisation
keys 3
wait_for '^Domains \(1\)' && golden domains || bad "domains: $(screen)"
keys o
wait_for '^Organisations \(1\)' && ok || bad "o: $(screen | sed -n 2p)"

# 4 Alerts: newest first; ack one, mark the other known; Enter jumps to its program
keys 4
wait_for '^Alerts \(2, 2 not acknowledged\)' && golden alerts || bad "alerts: $(screen)"
keys a
wait_for 'alert #2 acknowledged' && wait_for '^#2 +✓ ' && wait_for '^Alerts \(2, 1 not acknowledged\)' && ok || bad "a: $(screen)"
keys j m
wait_for "known: $tmp/fetcher → 10.77.0.2" && ok || bad "m: $(screen | tail -1)"
[ "$(sqlite3 "$state/monitor.db" "SELECT program || ' ' || destination FROM known")" = "$tmp/fetcher 10.77.0.2" ] && ok ||
	bad "the known list: $(sqlite3 "$state/monitor.db" 'SELECT * FROM known')"
keys Enter
wait_for "^Destinations of fetcher \($tmp/fetcher\)" && ok || bad "Enter on an alert: $(screen | sed -n 2p)"

# 5 History: the last hour; back an hour (empty), now again, zoomed out, what changed
keys 5
wait_for '^History .* \(1 h\) \(now\) · every program · 3 connections' && golden history || bad "history: $(screen)"
keys '['
wait_for '^History .* \(1 h\) · every program · 0 connections' && wait_for 'nothing here' && ok || bad "[: $(screen | sed -n 2,4p)"
keys n
wait_for '\(1 h\) \(now\) · every program · 3 connections' && ok || bad "n: $(screen | sed -n 2p)"
keys -
wait_for '\(6 h\) \(now\)' && ok || bad "-: $(screen | sed -n 2p)"
keys c
wait_for '^What changed: .* \(6 h\) against the 6 h before · 3 connections' && golden compare || bad "c: $(screen)"
keys c +
wait_for '\(1 h\) \(now\) · every program · 3 connections' && ok || bad "c +: $(screen | sed -n 2p)"

# the monitor stops: the last state stays under the "disconnected" line; it comes back
keys 1
wait_for '^python3 ' || bad "back on 1: $(screen)"
"$bin" monitor stop --state-dir "$state" >/dev/null 2>&1
wait_for 'DISCONNECTED at [0-9:]+: the last state stays on screen' && screen | grep -q '^python3 .* 10\.77\.0\.2:80 ' && ok ||
	bad "disconnected: $(screen)"
i=0
while [ -f "$state/monitor.pid" ] && ! flock -n "$state/monitor.pid" true; do
	i=$((i + 1))
	[ $i -ge 100 ] && break
	sleep 0.1
done
start_monitor
wait_for 'connected again' && ! screen | grep -q DISCONNECTED && ok || bad "reconnected: $(screen | tail -1)"
keys q
wait_for '^EXITED 0' && ok || bad "q: $(screen | tail -3)"

# a member of group users: reads everything, may not acknowledge
term 130 30 "setpriv --reuid=65534 --regid=65534 --groups=$users_gid env -i PATH=/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 TERM=xterm-256color TZ=UTC $bin inspect --state-dir $state"
keys 4
wait_for '^#1 ' && keys a && wait_for 'permission denied: only root or the monitor.s own user' && ok ||
	bad "a reader's ack: $(screen)"
keys q
# nobody: the socket is not theirs
term 130 30 "setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent TERM=xterm-256color $bin inspect --state-dir $state"
wait_for '^EXITED 1' && screen | grep -q "pktscope: cannot connect to the monitor at $state/monitor.sock: Permission denied" && ok ||
	bad "nobody: $(screen)"
# not a terminal
"$bin" inspect --state-dir "$state" </dev/null >"$tmp/notty.out" 2>&1
[ $? -eq 2 ] && grep -q "the inspector needs a terminal" "$tmp/notty.out" && ok || bad "no terminal: $(cat "$tmp/notty.out")"

"$bin" monitor stop --state-dir "$state" >/dev/null 2>&1
echo "inspect: $pass passed, $fail failed"
[ $fail -eq 0 ]
