#!/bin/bash
# Regenerates tests/golden/pcap/tls-keylog.pcapng and tls-keylog.keys: curl fetching pages
# over every TLS protection pktscope decrypts, from nginx (TLS 1.2), nghttpd (TLS 1.3,
# HTTP/2) and openssl s_server -www (TLS 1.3, HTTP/1.0) in the shared traffic lab
# (../shared/lab/lab.sh), with SSLKEYLOGFILE set. The keys are written beside the capture
# (for --tls-keylog) and injected into it as a Decryption Secrets Block (editcap), so tshark
# and pktscope decrypt the same file by themselves. Needs root.
#   TLS 1.3: AES-256-GCM over HTTP/2, AES-128-GCM and ChaCha20-Poly1305 over HTTP/1.x
#   TLS 1.2: ECDHE-RSA-AES128-GCM-SHA256 over HTTP/2, AES256-GCM-SHA384 and
#            ECDHE-RSA-CHACHA20-POLY1305 over HTTP/1.1
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lab=${LAB:-$top/../shared/lab/lab.sh}
out=${1:-$top/tests/golden/pcap/tls-keylog.pcapng}
name=tkl
V=10.77.0.2; D=/tmp/pktscope-lab-$name
"$lab" up $name >/dev/null
tmp=$(mktemp -d)
cleanup() {
	kill "$(cat "$tmp/servers.pid" 2>/dev/null)" 2>/dev/null || true
	"$lab" down $name
	rm -rf "$tmp"
}
trap cleanup EXIT
in_c() { ip netns exec ${name}c "$@"; }
in_s() { ip netns exec ${name}s "$@"; }
get() { in_c env SSLKEYLOGFILE="$tmp/keys" curl -s -o /dev/null --cacert $D/cert.pem --resolve www.example.test:443:$V "$@"; }

in_s nghttpd 8443 $D/key.pem $D/cert.pem -d $D/www >/dev/null 2>&1 &
p1=$!
in_s openssl s_server -quiet -www -accept 4433 -key $D/key.pem -cert $D/cert.pem \
	-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 >/dev/null 2>&1 &
echo "$p1 $!" >"$tmp/servers.pid"
ip netns exec ${name}c tcpdump -i ${name}c0 -s 0 -U -w "$tmp/raw.pcap" >/dev/null 2>&1 &
tp=$!
sleep 1
get --http2 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384 --resolve www.example.test:8443:$V \
	https://www.example.test:8443/index.html -o /dev/null https://www.example.test:8443/index.html
get --http1.1 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256 --resolve www.example.test:4433:$V https://www.example.test:4433/
get --http1.1 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 --resolve www.example.test:4433:$V \
	https://www.example.test:4433/
get --http2 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 https://www.example.test/index.html
get --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers AES256-GCM-SHA384 https://www.example.test/index.html
get --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305 https://www.example.test/index.html
sleep 1
kill $tp
wait $tp 2>/dev/null || true
editcap --inject-secrets "tls,$tmp/keys" "$tmp/raw.pcap" "$out"

cp "$tmp/keys" "${out%.pcapng}.keys"
editcap -F pcap "$tmp/raw.pcap" "${out%.pcapng}.pcap"
echo "wrote $out, ${out%.pcapng}.keys and ${out%.pcapng}.pcap"
