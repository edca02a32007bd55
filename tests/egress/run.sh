#!/bin/sh
# The egress monitor in the traffic lab: `pktscope monitor run --json` in the client
# namespace while real programs talk to the lab's servers. eBPF names a connection however
# short; the socket table's runs hold theirs open for a second (curl --max-time against a
# server still waiting for the request), so no check hangs on how fast the machine is
# (curl's --limit-rate is no such hold: a download at 100k sometimes ends in 5 ms). The
# monitor must name the right program, the name from the wire and its
# source, count the bytes each way, and store the same in SQLite; no connection may be
# given a program other than the one that made it. Also: a bad GeoIP file is a message.
# Usage: run.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$1
cd "$2" || exit 2
lab=../shared/lab/lab.sh
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)

# a corrupt GeoIP database: a clear message and status 1, not a crash
"$bin" monitor run --state-dir "$tmp/s0" -i lo \
	--geoip-country-db ../shared/corpus/maxmind/bad-data/libmaxminddb/libmaxminddb-metadata-marker-only.mmdb \
	>/dev/null 2>"$tmp/geo.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'country database .*libmaxminddb-metadata-marker-only.mmdb' "$tmp/geo.err" && ok ||
	bad "bad GeoIP file: exit $rc: $(cat "$tmp/geo.err")"

# a capture file (-r): connections, names and where they came from, no processes; names
# hidden (ECH) and encrypted DNS (DNS over HTTPS by its resolver's name, here in clear
# HTTP/2; DNS over QUIC by its port) said so
C=../shared/corpus
replay() { "$bin" monitor run -r "$C/$1" --state-dir "$tmp/r" --json 2>"$tmp/r.err" |
	jq -c 'select(.event == "close") | [.remote.port, .name, .name_source, .name_hidden, .encrypted_dns, .attribution.why]' | sort -u | tr '\n' ' '; }
r=$(replay zeek/traces/tls/tls13-ech.pcap)
case $r in *'[443,"cloudflare-ech.com","sni","ech",null,"read from a capture file"]'*) ok ;; *) bad "replay, ECH: $r $(cat "$tmp/r.err")" ;; esac
r=$(replay suricata-verify/dns-over-http2/dns_over_https.pcap)
[ "$r" = '[80,"dns.google","http_host",null,"dns_over_https","read from a capture file"] ' ] && ok || bad "replay, DoH: $r"
r=$(replay zeek/traces/quic/quicdoq.pcap)
case $r in *'[853,null,null,null,"dns_over_quic",'*) ok ;; *) bad "replay, DoQ: $r" ;; esac
"$bin" monitor run -r "$C/zeek/traces/tls/tls13-ech.pcap" -i lo >/dev/null 2>"$tmp/r.err"
[ $? -eq 2 ] && grep -q 'cannot be combined with -i' "$tmp/r.err" && ok || bad "-r with -i: $(cat "$tmp/r.err")"
"$bin" monitor run -r "$tmp/missing.pcap" --state-dir "$tmp/r" >/dev/null 2>"$tmp/r.err"
[ $? -eq 1 ] && grep -q "missing.pcap: No such file" "$tmp/r.err" && ok || bad "-r of a missing file: $(cat "$tmp/r.err")"

if [ "$(id -u)" -ne 0 ] || [ ! -x "$lab" ]; then
	echo "egress: SKIP the lab: it needs root and ../shared/lab (here: uid $(id -u))"
	rm -rf "$tmp"
	echo "egress: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
if ! "$lab" up eg >/dev/null 2>&1; then
	"$lab" down eg >/dev/null 2>&1
	rm -rf "$tmp"
	echo "egress: SKIP the lab: network namespaces cannot be made here"
	exit 0
fi
# the client namespace resolves through the lab's DNS server (ip netns exec mounts this)
mkdir -p /etc/netns/egc
echo "nameserver 10.77.0.2" >/etc/netns/egc/resolv.conf
trap '"$lab" down eg >/dev/null 2>&1; ip netns del egx 2>/dev/null; rm -rf /etc/netns/egc "$tmp"' EXIT
D=/tmp/pktscope-lab-eg
in_c() { ip netns exec egc "$@"; }
# a third namespace behind the client one, as a container behind its host: egx (10.79.0.2)
# routed through egc (10.79.0.1) to the server; its processes are another namespace's
ip netns del egx 2>/dev/null
ip netns add egx && ip link add egxh netns egc type veth peer name egx0 netns egx &&
	ip -n egc addr add 10.79.0.1/24 dev egxh && ip -n egc link set egxh up &&
	ip -n egx addr add 10.79.0.2/24 dev egx0 && ip -n egx link set egx0 up && ip -n egx link set lo up &&
	ip -n egx route add default via 10.79.0.1 && ip -n egs route add 10.79.0.0/24 via 10.77.0.1 &&
	ip netns exec egc sysctl -qw net.ipv4.ip_forward=1 || bad "the third namespace could not be made"

# Waits (at most 10 s) for a monitor to say it is watching; the capture threads are running
# once the line is out, and 0.3 s more is a margin for their first poll.
watching() { # stderr-file label
	i=0
	until grep -q 'watching' "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 100 ] && { bad "$2: the monitor did not start: $(cat "$1")"; return; }
		sleep 0.1
	done
	sleep 0.3
}
ip netns exec egc "$bin" monitor run --state-dir "$tmp/state" --json >"$tmp/events.json" 2>"$tmp/mon.err" &
mon=$!
watching "$tmp/mon.err" "monitor"
size=$(stat -c %s "$D/www/big.txt")
in_c curl -s -o /dev/null --limit-rate 300k --cacert "$D/cert.pem" https://www.example.test/big.txt
in_c curl -s -o /dev/null --limit-rate 300k http://10.77.0.2/big.txt
in_c iperf3 -c www.example.test -t 1 >/dev/null 2>&1
# short-lived processes: 100 curls of a few milliseconds each, 20 digs, one ping
i=0
while [ $i -lt 100 ]; do in_c curl -s -o /dev/null http://10.77.0.2/; i=$((i + 1)); done
i=0
# (each from its own source port: two digs on one port would be one conversation)
while [ $i -lt 20 ]; do in_c dig -b "10.77.0.1#$((40100 + i))" +short +tries=1 api.example.test >/dev/null; i=$((i + 1)); done
in_c ping -c 1 -W 1 10.77.0.2 >/dev/null
# a program that resolves over DNS over HTTPS (curl --doh-url; the lab's web server plays
# dns.google): its connection without a name says why it has none
in_c curl -s -o /dev/null --max-time 3 --doh-url https://dns.google/dns-query --doh-insecure \
	--resolve dns.google:443:10.77.0.2 http://www.example.test/ telnet://10.79.0.2:5201 </dev/null
# a process in another namespace, its traffic routed through this one
ip netns exec egx curl -s -o /dev/null http://10.77.0.2/ || bad "curl from the third namespace failed"
sleep 0.3
kill -INT $mon
wait $mon
rc=$?
[ $rc -eq 0 ] && grep -q 'connections' "$tmp/mon.err" && ok || bad "monitor exit $rc: $(cat "$tmp/mon.err")"
ev="$tmp/events.json"
# attribution: eBPF where the kernel lets it load (it does here and in CI; elsewhere the
# reason is printed and the checks expect the socket table)
if grep -q 'attribution by eBPF' "$tmp/mon.err"; then
	how=ebpf
	ebpf=1
else
	how=socket_table
	ebpf=0
	echo "egress: eBPF attribution is not available here: $(grep -o 'no eBPF attribution ([^)]*)' "$tmp/mon.err")"
fi
jq -e . "$ev" >/dev/null 2>&1 && ok || bad "events are not NDJSON: $(head -c 300 "$ev")"
last() { jq -c "select(.event == \"close\" and $1)" "$ev" | tail -1; }
# HTTPS by name: curl, named by its SNI, the file's bytes in
c=$(last '.remote.port == 443 and .proto == "tcp" and .sni != "dns.google"')
echo "$c" | jq -e --argjson size "$size" --arg how $how '.process.name == "curl" and .process.exe == "/usr/bin/curl" and
	.attribution.how == $how and .name == "www.example.test" and .name_source == "sni" and
	.registrable_domain == "example.test" and .direction == "outbound" and .bytes_in > $size and
	.bytes_out > 0 and .bytes_out < .bytes_in and .state == "closed" and (.community_id | startswith("1:")) and
	(.ja4 | length) > 10' >/dev/null && ok || bad "https curl: $c"
# HTTP by address: the Host header names it
c=$(last ".remote.port == 80 and .bytes_in > $size")
echo "$c" | jq -e '.process.name == "curl" and .name == "10.77.0.2" and .name_source == "http_host" and
	.registrable_domain == "10.77.0.2"' >/dev/null && ok || bad "http curl: $c"
# iperf3 to a name: only DNS names it (the answer went to iperf3 itself)
c=$(last '.remote.port == 5201 and .bytes_out > 100000')
echo "$c" | jq -e '.process.name == "iperf3" and .name == "www.example.test" and .name_source == "dns"' >/dev/null &&
	ok || bad "iperf3: $c"
# updates: at most one a second per connection
jq -r 'select(.event == "update") | "\(.id) \(.ts[0:19])"' "$ev" | sort | uniq -d | grep -q . &&
	bad "two updates of one connection in one second: $(jq -r 'select(.event == "update") | "\(.id) \(.ts)"' "$ev" | sort | uniq -d -w 24 | head -3)" || ok
if [ $ebpf -eq 1 ]; then
	# every short-lived curl and dig named, with its command line, though each had exited
	# before the monitor looked
	n=$(jq -r 'select(.event == "close" and .remote.addr == "10.77.0.2" and .remote.port == 80 and
		.local.addr == "10.77.0.1" and .bytes_in < 10000) |
		select(.process.name == "curl" and .attribution.how == "ebpf" and
		.process.cmdline == "curl -s -o /dev/null http://10.77.0.2/") | .id' "$ev" | sort -u | wc -l)
	[ "$n" -eq 100 ] && ok || bad "short-lived curls named: $n of 100"
	n=$(jq -r 'select(.event == "close" and .remote.port == 53 and .process.name == "dig" and
		.process.exe == "/usr/bin/dig" and (.process.cmdline | startswith("dig -b 10.77.0.1#"))) | .id' "$ev" | sort -u | wc -l)
	[ "$n" -eq 20 ] && ok || bad "digs named: $n of 20"
	c=$(last '.proto == "icmp" and .remote.addr == "10.77.0.2"')
	echo "$c" | jq -e '.process.name == "ping" and .attribution.how == "ebpf"' >/dev/null && ok || bad "ping: $c"
	c=$(last '.local.addr == "10.79.0.2" and .remote.port == 80')
	xns=$(stat -L -c %i /run/netns/egx)
	echo "$c" | jq -e --argjson ns "$xns" '.process.name == "curl" and .attribution.other_netns == true and
		.process.netns == $ns and .direction == "outbound"' >/dev/null && ok || bad "curl in another namespace: $c"
fi
c=$(jq -c 'select(.event == "close" and .process.name == "curl" and .remote.addr == "10.79.0.2")' "$ev" | tail -1)
echo "$c" | jq -e '.name == null and .name_hidden == "dns_over_https"' >/dev/null && ok || bad "DoH user's unnamed connection: $c"
c=$(last '.process.name == "curl" and .name == "dns.google"')
echo "$c" | jq -e '.encrypted_dns == "dns_over_https" and .remote.port == 443' >/dev/null && ok || bad "DoH connection: $c"
# never a wrong program: every attributed connection is one of the programs that ran
wrong=$(jq -r 'select(.process != null) | .process.name' "$ev" | grep -cvE '^(curl|iperf3|dig|ping)$')
[ "$wrong" -eq 0 ] && ok || bad "$wrong connections named with another program: $(jq -r 'select(.process != null) | .process.name' "$ev" | sort | uniq -c)"
# the store holds the same
q() { sqlite3 "$tmp/state/monitor.db" "$1"; }
r=$(q "SELECT e.path, c.name, c.name_source, c.bytes_in > $size FROM connections c JOIN executables e ON e.id = c.exe_id WHERE c.remote_port = 443 AND c.proto = 6 AND c.name != 'dns.google'")
[ "$r" = "/usr/bin/curl|www.example.test|sni|1" ] && ok || bad "store, https: '$r'"
r=$(q "SELECT count(*) FROM names WHERE addr = '10.77.0.2' AND name = 'www.example.test' AND source = 'dns'")
[ "$r" = 1 ] && ok || bad "store, names: '$r'"
r=$(q "PRAGMA integrity_check; PRAGMA journal_mode")
[ "$r" = "ok
wal" ] && ok || bad "store: $r"
# without eBPF (--no-ebpf, or asked in the configuration with the interface and the state
# directory): the socket table names a connection that lives long enough to be looked up.
# Its life is made certain: curl connects to the web server and sends nothing (the server
# waits for a request for a minute) until its --max-time, one second (curl's --limit-rate
# is no such guarantee: a 400 kB download at 100k sometimes ends in 5 ms)
socket_table_run() { # label, monitor options...
	label=$1
	shift
	ip netns exec egc "$bin" monitor run --json "$@" >"$tmp/ev2.json" 2>"$tmp/mon2.err" &
	mon=$!
	watching "$tmp/mon2.err" "$label"
	in_c curl -s --max-time 1 telnet://10.77.0.2:80 </dev/null >/dev/null
	kill -INT $mon
	wait $mon
	c=$(jq -c 'select(.event == "close" and .remote.port == 80)' "$tmp/ev2.json" | tail -1)
	echo "$c" | jq -e '.process.name == "curl" and .attribution.how == "socket_table" and .attribution.socket_inode > 0' \
		>/dev/null && grep -q 'watching egc0$' "$tmp/mon2.err" && ok || bad "$label: $c $(cat "$tmp/mon2.err")"
}
socket_table_run --no-ebpf --state-dir "$tmp/state2" --no-ebpf -i egc0
printf '[monitor]\ninterfaces = "egc0"\nstate_dir = "%s"\nebpf = false\nretention_days = 3\n' "$tmp/state3" >"$tmp/m.toml"
socket_table_run "[monitor] ebpf = false" --config "$tmp/m.toml"
[ -s "$tmp/state3/monitor.db" ] && ok || bad "[monitor] state_dir: no store in $tmp/state3"
# geoip update: the corpus's MaxMind test databases served by the lab's web server in place
# of DB-IP's; this month's country file missing (last month's is taken), the ASN file not
# compressed; then a country file where the ASN one should be: refused, the old one kept
M=../shared/corpus/maxmind/test-data
this=$(date -u +%Y-%m)
prev=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
mkdir -p "$D/www/geo"
gzip -c "$M/GeoIP2-Country-Test.mmdb" >"$D/www/geo/country-$prev.mmdb.gz"
cp "$M/GeoLite2-ASN-Test.mmdb" "$D/www/geo/asn-$this.mmdb.gz"
chmod -R a+rX "$D/www/geo"
url='http://10.77.0.2/geo/{db}-{month}.mmdb.gz'
in_c "$bin" geoip update --state-dir "$tmp/geo" --url "$url" >"$tmp/geo.out" 2>"$tmp/geo.err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/geo/dbip-country-lite.mmdb" "$M/GeoIP2-Country-Test.mmdb" &&
	cmp -s "$tmp/geo/dbip-asn-lite.mmdb" "$M/GeoLite2-ASN-Test.mmdb" && grep -q 'CC BY 4.0' "$tmp/geo.out" &&
	grep -q "country-$this.mmdb.gz: not there, trying last month's" "$tmp/geo.err" && ok ||
	bad "geoip update: exit $rc: $(cat "$tmp/geo.out" "$tmp/geo.err")"
cp "$M/GeoIP2-Country-Test.mmdb" "$D/www/geo/asn-$this.mmdb.gz"
in_c "$bin" geoip update --state-dir "$tmp/geo" --url "$url" >"$tmp/geo.out" 2>"$tmp/geo.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'not an ASN one.*dbip-asn-lite.mmdb is left as it was' "$tmp/geo.err" &&
	cmp -s "$tmp/geo/dbip-asn-lite.mmdb" "$M/GeoLite2-ASN-Test.mmdb" && ok ||
	bad "geoip update, a wrong file: exit $rc: $(cat "$tmp/geo.err")"
in_c "$bin" geoip update --state-dir "$tmp/geo" --url 'http://10.77.0.2/nothing/{db}-{month}' >/dev/null 2>"$tmp/geo.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'no country database could be downloaded' "$tmp/geo.err" && ok ||
	bad "geoip update, nothing there: exit $rc: $(cat "$tmp/geo.err")"
echo "egress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
