#!/bin/bash
# Regenerates samples/lab.pcapng: a small capture of real clients and servers in the
# shared traffic lab (../shared/lab/lab.sh). Needs root (network namespaces).
#   DNS over UDP and TCP, TLS 1.3 and 1.2 (HTTPS with h2 and http/1.1), HTTP/1.1 with
#   Basic auth and a custom User-Agent, h2c, IPv6, ARP, NDP, ICMP and ICMPv6 echo.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lab=${LAB:-$top/../shared/lab/lab.sh}
out=${1:-$top/samples/lab.pcapng}
name=smp
V=10.77.0.2; V6=fd77::2; D=/tmp/pktscope-lab-$name
"$lab" up $name >/dev/null
trap '"$lab" down $name' EXIT
in_c() { ip netns exec ${name}c "$@"; }
ip netns exec ${name}c ip neigh flush all
tmp=$(mktemp -d)
ip netns exec ${name}c tcpdump -i ${name}c0 -s 0 -U -w "$tmp/raw.pcap" >/dev/null 2>&1 &
tp=$!
sleep 1
in_c ping -c 2 -i 0.2 $V >/dev/null
in_c ping -c 2 -i 0.2 $V6 >/dev/null
in_c dig +tries=1 +time=1 @$V www.example.test A >/dev/null
in_c dig +tries=1 +time=1 @$V www.example.test AAAA >/dev/null
in_c dig +tries=1 +time=1 @$V alias.example.test CNAME >/dev/null
in_c dig +tries=1 +time=1 @$V example.test MX >/dev/null
in_c dig +tcp +tries=1 +time=1 @$V txt.example.test TXT >/dev/null
in_c curl -s -o /dev/null --cacert $D/cert.pem --resolve www.example.test:443:$V https://www.example.test/index.html
in_c curl -s -o /dev/null --tlsv1.2 --tls-max 1.2 --http1.1 --cacert $D/cert.pem --resolve api.example.test:443:$V https://api.example.test/index.html
in_c curl -s -o /dev/null -g --cacert $D/cert.pem --resolve "www.example.test:443:[$V6]" https://www.example.test/index.html
in_c curl -s -o /dev/null -H 'User-Agent: pktscope-sample' http://$V/index.html
in_c curl -s -o /dev/null -u alice:secret http://$V/login
in_c curl -s -o /dev/null -g "http://[$V6]/index.html"
in_c nghttp -n http://$V:8080/index.html >/dev/null 2>&1 || true
sleep 1
kill $tp; wait $tp 2>/dev/null || true
editcap -F pcapng "$tmp/raw.pcap" "$out"
rm -rf "$tmp"
echo "wrote $out ($(capinfos -c -M "$out" | awk '/Number of packets/ {print $NF}') packets)"
