#!/bin/bash
# Regenerates tests/golden/pcap/anomalies.pcapng: real clients doing what pktscope's anomaly
# rules look for, in the shared traffic lab (../shared/lab/lab.sh). Needs root.
#   logins in the clear: HTTP Basic (curl -u), FTP, POP3, IMAP AUTHENTICATE PLAIN, SMTP AUTH
#   PLAIN and LOGIN (curl against scripts/lab-servers.py), IMAP LOGIN (python's imaplib), a Telnet login prompt answered (curl telnet://);
#   HTTP on port 5555; TLS 1.0 with an expired self-signed certificate (openssl s_server
#   and s_client); DNS NXDOMAIN, SERVFAIL and a tunnel-shaped query (dig); a connect()
#   scan of 40 closed ports and of port 9 on 30 addresses routed through the server
#   (python3); an ARP reply that moves
#   the server's address to another MAC (python3, AF_PACKET). And ordinary traffic around it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lab=${LAB:-$top/../shared/lab/lab.sh}
out=${1:-$top/tests/golden/pcap/anomalies.pcapng}
name=anm
V=10.77.0.2; V6=fd77::2; D=/tmp/pktscope-lab-$name
"$lab" up $name >/dev/null
tmp=$(mktemp -d)
cleanup() {
	kill "$(cat "$tmp/servers.pid" 2>/dev/null)" "$(cat "$tmp/tls.pid" 2>/dev/null)" 2>/dev/null || true
	"$lab" down $name
	rm -rf "$tmp"
}
trap cleanup EXIT
in_c() { ip netns exec ${name}c "$@"; }
in_s() { ip netns exec ${name}s "$@"; }

# an expired self-signed certificate (valid in January 2020 only), made with `openssl ca`
mkdir -p "$tmp/ca/newcerts"
touch "$tmp/ca/index.txt"
echo 01 >"$tmp/ca/serial"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = lab
[lab]
dir = $tmp/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = any
[any]
commonName = supplied
EOF
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/old.key" -out "$tmp/old.csr" -subj /CN=old.example.test 2>/dev/null
openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile "$tmp/old.key" -in "$tmp/old.csr" -out "$tmp/old.pem" \
	-startdate 20200101000000Z -enddate 20200131000000Z -notext 2>/dev/null

ip netns exec ${name}s python3 "$top/scripts/lab-servers.py" $V $V6 >/dev/null 2>&1 &
echo $! >"$tmp/servers.pid"
ip netns exec ${name}s openssl s_server -quiet -accept $V:4433 -cert "$tmp/old.pem" -key "$tmp/old.key" -tls1 \
	-cipher 'DEFAULT:@SECLEVEL=0' -www >/dev/null 2>&1 &
echo $! >"$tmp/tls.pid"
# addresses beyond the server, for the address scan's SYNs to leave the client
in_c ip route add 10.78.0.0/24 via $V
sleep 1
in_c ip neigh flush all
in_c tcpdump -i ${name}c0 -s 0 -U -w "$tmp/raw.pcap" >/dev/null 2>&1 &
tp=$!
sleep 1
# ordinary traffic first
in_c dig +tries=1 +time=1 @$V www.example.test A >/dev/null
in_c curl -s -o /dev/null --cacert $D/cert.pem --resolve www.example.test:443:$V https://www.example.test/index.html
in_c curl -s -o /dev/null http://$V/index.html
# logins in the clear
in_c curl -s -o /dev/null -u alice:secret http://$V/login
in_c curl -s -o /dev/null --max-time 3 "ftp://ftpuser:ftppass@$V/" || true
in_c curl -s -o /dev/null --max-time 3 "pop3://popuser:poppass@$V/" || true
in_c curl -s -o /dev/null --max-time 3 "imap://imapuser:imappass@$V/INBOX" || true
in_c python3 -c 'import imaplib, sys; c = imaplib.IMAP4(sys.argv[1]); c.login("imaplogin", "imappass"); c.logout()' $V || true
printf 'Subject: lab\r\n\r\nhello\r\n' >"$tmp/mail.txt"
in_c curl -s --max-time 3 "smtp://$V" --mail-from a@example.test --mail-rcpt b@example.test -T "$tmp/mail.txt" \
	-u plainuser:plainpass --login-options AUTH=PLAIN || true
in_c curl -s --max-time 3 "smtp://$V" --mail-from a@example.test --mail-rcpt b@example.test -T "$tmp/mail.txt" \
	-u loginuser:loginpass --login-options AUTH=LOGIN || true
(sleep 1; printf 'telnetuser\r\n'; sleep 1; printf 'telnetpass\r\n'; sleep 1) | in_c curl -s --max-time 4 "telnet://$V:23" >/dev/null || true
# HTTP on a port that is not an HTTP port
in_c curl -s -o /dev/null --max-time 3 http://$V:5555/ || true
# TLS 1.0 and an expired self-signed certificate
echo | in_c openssl s_client -connect $V:4433 -tls1 -cipher 'DEFAULT:@SECLEVEL=0' >/dev/null 2>&1 || true
# DNS: NXDOMAIN, SERVFAIL, a tunnel-shaped query
in_c dig +tries=1 +time=1 @$V6 nosuchhost.example.test A >/dev/null || true
in_c dig +tries=1 +time=1 @$V6 x.fail.example.test A >/dev/null || true
in_c dig +tries=1 +time=1 @$V6 \
	"mzxw6ytboi4tkmrqgezdgnbvgy3tqojqgexdcmrtgq2tmnzyha4tc.nbswy3dpeb3w64tmmq5dqmzsgq2dinjzhe.t.example.test" TXT >/dev/null || true
# scans: 40 closed ports of the server, then port 9 of 30 addresses
in_c python3 - $V <<'EOF'
import socket, sys
for port in range(20000, 20040):
    s = socket.socket()
    s.settimeout(0.2)
    s.connect_ex((sys.argv[1], port))
    s.close()
for host in range(100, 130):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("10.78.0.%d" % host, 9))
    s.close()
EOF
sleep 1
# an ARP reply from the server's side that gives 10.77.0.2 another MAC
in_s python3 - ${name}s0 $V <<'EOF'
import socket, struct, sys
ifname, ip = sys.argv[1], socket.inet_aton(sys.argv[2])
fake = bytes.fromhex("02deadbeef02")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, fake, ip, b"\xff" * 6, ip)
s.send(b"\xff" * 6 + fake + b"\x08\x06" + arp)
EOF
in_c ping -c 1 -W 1 $V >/dev/null || true
sleep 1
kill $tp
wait $tp 2>/dev/null || true
editcap -F pcapng "$tmp/raw.pcap" "$out"
echo "wrote $out ($(capinfos -c -M "$out" | awk '/Number of packets/ {print $NF}') packets)"
