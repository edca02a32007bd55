#!/bin/sh
# The baseline and its alerts, end to end in the traffic lab: `pktscope monitor run
# --learning 5s` in the client namespace. While it learns: curl, iperf3 (a steady trickle)
# and a program of a real Debian package (built here with dpkg-deb, installed with dpkg)
# talk to the lab. Then: curl to a name of a new registrable domain (alert 1), a copy of
# curl under a new name (alert 2), an upload far above the trickle (alert 4), the copy with
# a few bytes appended, run again (alert 5, critical), the package upgraded with dpkg and
# its program run (an info record, no alert). Every expected alert exactly once, nothing
# else; then the known list, ack, the digest (`monitor new`), the journal's fields, and a
# restart that continues the baseline. Alert 3 (country/ASN) is tested in the unit tests
# with the MaxMind test databases: the lab has no public addresses.
# Usage: alerts.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$1
cd "$2" || exit 2
lab=../shared/lab/lab.sh
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ] || ! command -v dpkg-deb >/dev/null; then
	echo "alerts: SKIP: it needs root, ../shared/lab and dpkg (here: uid $(id -u))"
	exit 0
fi
if ! "$lab" up al >/dev/null 2>&1; then
	"$lab" down al >/dev/null 2>&1
	echo "alerts: SKIP: network namespaces cannot be made here"
	exit 0
fi
tmp=$(mktemp -d)
pkg=pktscope-labfetch
journal=/run/systemd/journal/socket
fake_journal=
cleanup() {
	[ -n "${mon:-}" ] && kill "$mon" 2>/dev/null
	[ -f "$tmp/dns.pid" ] && kill "$(cat "$tmp/dns.pid")" 2>/dev/null
	[ -n "$fake_journal" ] && kill "$fake_journal" 2>/dev/null && rm -f "$journal"
	dpkg -P "$pkg" >/dev/null 2>&1
	"$lab" down al >/dev/null 2>&1
	rm -rf /etc/netns/alc "$tmp"
}
trap cleanup EXIT
in_c() { ip netns exec alc "$@"; }

# names of three registrable domains, all served by the lab's web server, from a resolver
# of this test's own (10.77.0.3, in the server namespace)
ip -n als addr add 10.77.0.3/24 dev als0
ip netns exec als dnsmasq --no-resolv --no-hosts --listen-address=10.77.0.3 --bind-interfaces \
	--pid-file="$tmp/dns.pid" --address=/www.example.test/10.77.0.2 --address=/files.othersite.test/10.77.0.2 \
	--address=/cdn.thirdsite.test/10.77.0.2 >/dev/null 2>&1 || bad "the test's DNS server did not start"
mkdir -p /etc/netns/alc
echo "nameserver 10.77.0.3" >/etc/netns/alc/resolv.conf

# the system journal's socket: a listener of this test's own when there is no journal
if [ ! -S "$journal" ]; then
	mkdir -p /run/systemd/journal
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True: out.write(s.recv(1 << 20) + b"\n--\n")' "$journal" "$tmp/journal" &
	fake_journal=$!
	i=0
	while [ ! -S "$journal" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
fi

# a real Debian package: version 1.0 ships curl as its program, 1.1 the same with bytes
# appended (a different binary that still runs)
mkpkg() { # version extra-bytes
	r=$tmp/pkg-$1
	mkdir -p "$r/DEBIAN" "$r/usr/lib/$pkg"
	cp /usr/bin/curl "$r/usr/lib/$pkg/labfetch"
	printf '%s' "$2" >>"$r/usr/lib/$pkg/labfetch"
	(cd "$r" && md5sum "usr/lib/$pkg/labfetch" >DEBIAN/md5sums)
	printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: pktscope tests <tests@pktscope.invalid>\nDescription: pktscope lab test package\n' \
		"$pkg" "$1" "$(dpkg --print-architecture)" >"$r/DEBIAN/control"
	dpkg-deb -Zgzip --build "$r" "$tmp/$pkg-$1.deb" >/dev/null
}
mkpkg 1.0 "" && mkpkg 1.1 "pktscope-1.1" || bad "dpkg-deb could not build the test package"
dpkg -i "$tmp/$pkg-1.0.deb" >/dev/null 2>&1 || bad "dpkg -i 1.0"
fetch=/usr/lib/$pkg/labfetch

cat >"$tmp/cfg.toml" <<EOF
[monitor]
volume_interval = "1s"
volume_min_samples = 3
volume_floor_mb = 1
EOF
state=$tmp/state
start() { # stderr file; extra options
	f=$1
	shift
	ip netns exec alc "$bin" monitor run -i alc0 --state-dir "$state" --config "$tmp/cfg.toml" --json "$@" >>"$tmp/events" 2>"$f" &
	mon=$!
	i=0
	while ! grep -q 'watching' "$f" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.3
}
stop() { kill -INT "$mon"; wait "$mon"; mon=; }
q() { sqlite3 "$state/monitor.db" "$1"; }
trickle() { in_c iperf3 -c www.example.test -n 40K >/dev/null 2>&1; }

start "$tmp/run1.err" --learning 5s
# learning: the programs and their destinations, quietly
in_c curl -s -o /dev/null http://www.example.test/
trickle
in_c "$fetch" -s -o /dev/null http://www.example.test/
sleep 1
trickle
i=0
while ! grep -q 'learning is over' "$tmp/run1.err" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'learning is over' "$tmp/run1.err" && ok || bad "learning never ended: $(cat "$tmp/run1.err")"
n=$(q "SELECT count(*) FROM alerts")
[ "$n" = 0 ] && ok || bad "alerts while learning: $n"

# 1: a new registrable domain
in_c curl -s -o /dev/null http://files.othersite.test/
trickle
sleep 1
# 2: a program's first outbound connection
cp /usr/bin/curl "$tmp/fetchtool"
in_c "$tmp/fetchtool" -s -o /dev/null http://www.example.test/
trickle
sleep 1
# 4: far above the trickle
in_c iperf3 -c www.example.test -n 40M >/dev/null 2>&1
sleep 1.5
# 5: the copy changed (not by the package manager), then out again: critical
printf 'xxxx' >>"$tmp/fetchtool"
in_c "$tmp/fetchtool" -s -o /dev/null http://www.example.test/
sleep 1
# an upgrade by dpkg, then the program: an info record, no alert
dpkg -i "$tmp/$pkg-1.1.deb" >/dev/null 2>&1 || bad "dpkg -i 1.1"
in_c "$fetch" -s -o /dev/null http://www.example.test/
sleep 1.5

r=$(q "SELECT group_concat(kind || ' ' || severity || ' ' || program, '; ') FROM (SELECT * FROM alerts ORDER BY id)")
want="new_process_dest notice /usr/bin/curl; new_process_egress warning $tmp/fetchtool; volume_spike critical /usr/bin/iperf3; identity_change critical $tmp/fetchtool"
want2=$(echo "$want" | sed 's/volume_spike critical/volume_spike warning/')
[ "$r" = "$want" ] || [ "$r" = "$want2" ] && ok || bad "alerts: '$r'"
r=$(q "SELECT title FROM alerts WHERE kind = 'new_process_dest'")
[ "$r" = "curl contacted a new destination: othersite.test" ] && ok || bad "alert 1's title: $r"
r=$(q "SELECT json_extract(evidence, '$.name') || '|' || destination || '|' || address || '|' || length(community_id) FROM alerts WHERE kind = 'new_process_dest'")
[ "$r" = "files.othersite.test|files.othersite.test|10.77.0.2|30" ] && ok || bad "alert 1's destination: $r"
r=$(q "SELECT title FROM alerts WHERE kind = 'volume_spike'")
case $r in "iperf3: "*" MB up in 1 s, "*"× its usual "*) ok ;; *) bad "alert 4's title: $r" ;; esac
r=$(q "SELECT json_extract(evidence, '$.how') || '|' || json_extract(evidence, '$.writer_exe') || '|' || (json_extract(evidence, '$.old_sha256') != json_extract(evidence, '$.new_sha256')) FROM alerts WHERE kind = 'identity_change'")
case $r in "unexplained|/usr/bin/"*"|1") ok ;; *) bad "alert 5's evidence: $r" ;; esac
r=$(q "SELECT how || '|' || detail || '|' || coalesce(alert_id, 'none') FROM identity_changes WHERE program = '$fetch'")
[ "$r" = "package|updated by dpkg: $pkg 1.0 → 1.1|none" ] && ok || bad "the package upgrade: '$r'"
grep -q "\[INFO\] identity_change — labfetch: updated by dpkg: $pkg 1.0 → 1.1" "$tmp/run1.err" && ok ||
	bad "the upgrade's info line: $(grep INFO "$tmp/run1.err")"
r=$(jq -r 'select(.event == "alert") | .kind' "$tmp/events" | tr '\n' ' ')
[ "$r" = "new_process_dest new_process_egress volume_spike identity_change " ] && ok || bad "NDJSON alerts: $r"
# the trickle never alerted (the steady workload): counted
r=$(q "SELECT count(*) FROM volume WHERE program = '/usr/bin/iperf3'")
[ "$r" -ge 4 ] && ok || bad "iperf3's intervals: $r"

# the known list: a program and a destination, then that destination: no alert
"$bin" monitor known add curl thirdsite.test --state-dir "$state" >"$tmp/k.out" 2>&1 &&
	grep -q "known: /usr/bin/curl → thirdsite.test" "$tmp/k.out" && ok || bad "known add: $(cat "$tmp/k.out")"
sleep 2.5
in_c curl -s -o /dev/null http://cdn.thirdsite.test/
sleep 1
r=$(q "SELECT count(*) FROM alerts")
[ "$r" = 4 ] && ok || bad "an alert for a known destination: $r alerts"
"$bin" monitor known list --state-dir "$state" | grep -q '^/usr/bin/curl → thirdsite.test' && ok || bad "known list"
"$bin" monitor known add nosuchprogram --state-dir "$state" >/dev/null 2>"$tmp/k.err"
[ $? -eq 1 ] && grep -q "no program called 'nosuchprogram'" "$tmp/k.err" && ok || bad "known add of nothing: $(cat "$tmp/k.err")"
stop
grep -q 'baseline: 4 alerts, 1 binary updates' "$tmp/run1.err" && ok || bad "the run's summary: $(cat "$tmp/run1.err")"

# the journal: structured fields
if [ -n "$fake_journal" ]; then
	grep -q '^PKTSCOPE_KIND=identity_change$' "$tmp/journal" && grep -q '^PRIORITY=2$' "$tmp/journal" &&
		grep -q "^PKTSCOPE_EXE=$tmp/fetchtool\$" "$tmp/journal" && grep -q '^SYSLOG_IDENTIFIER=pktscope$' "$tmp/journal" &&
		grep -q "^MESSAGE=\[info\] identity_change: labfetch: updated by dpkg" "$tmp/journal" &&
		[ "$(grep -c '^PKTSCOPE_KIND=' "$tmp/journal")" = 5 ] && ok || bad "journal: $(cat "$tmp/journal")"
fi

# alerts, ack
"$bin" monitor alerts --state-dir "$state" --json >"$tmp/alerts.json" &&
	[ "$(jq -s 'length' "$tmp/alerts.json")" = 4 ] && jq -e -s '.[3].severity == "critical" and .[3].evidence.how == "unexplained"' "$tmp/alerts.json" >/dev/null &&
	ok || bad "monitor alerts --json: $(cat "$tmp/alerts.json")"
# the example configuration (saved filters, every [monitor] key) is read by the queries too
"$bin" monitor alerts --config dist/config.toml.example --state-dir "$state" >/dev/null 2>"$tmp/cfg.err" && ok ||
	bad "monitor alerts --config dist/config.toml.example: $(cat "$tmp/cfg.err")"
"$bin" monitor ack 1 --state-dir "$state" >/dev/null && ok || bad "ack 1"
r=$("$bin" monitor alerts --state-dir "$state" | grep -c '^#')
r2=$("$bin" monitor alerts --all --state-dir "$state" | grep -c 'acknowledged')
[ "$r" = 3 ] && [ "$r2" = 1 ] && ok || bad "after ack: $r waiting, $r2 acknowledged"
"$bin" monitor ack 99 --state-dir "$state" >/dev/null 2>"$tmp/ack.err"
[ $? -eq 1 ] && grep -q 'there is no alert #99' "$tmp/ack.err" && ok || bad "ack 99: $(cat "$tmp/ack.err")"

# what is new since an hour ago
"$bin" monitor new --since 1h --json --state-dir "$state" >"$tmp/new.json"
jq -e --arg f "$tmp/fetchtool" --arg l "$fetch" '
	([.programs[].program] | index($f) != null) and
	([.destinations[] | select(.program == "/usr/bin/curl") | .value] | index("othersite.test") != null) and
	([.binaries[] | .how] | sort == ["package", "unexplained"]) and
	(.binaries[] | select(.program == $l) | .detail | startswith("updated by dpkg")) and
	.alerts.critical >= 1' "$tmp/new.json" >/dev/null && ok || bad "monitor new: $(cat "$tmp/new.json")"
"$bin" monitor new --since yesterday --state-dir "$state" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "--since yesterday is not a time"

# a restart continues: active at once, nothing alerted again
start "$tmp/run2.err" --learning 5s
grep -q 'baseline: active' "$tmp/run2.err" && ok || bad "restart: $(cat "$tmp/run2.err")"
in_c curl -s -o /dev/null http://files.othersite.test/
in_c "$tmp/fetchtool" -s -o /dev/null http://www.example.test/
sleep 1.5
stop
r=$(q "SELECT count(*) FROM alerts")
[ "$r" = 4 ] && ok || bad "alerts after the restart: $r"

echo "alerts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
