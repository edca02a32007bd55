#!/bin/sh
# Makes a one-round capture of the shared traffic lab (real clients and servers in network
# namespaces) at $1, for the agreement tests; prints nothing and leaves no file when the
# lab cannot run here (not root, no namespaces, no ../shared). Tests that run at the same
# time wait for each other on a lock, so the lab is brought up once.
out=$1
lab=$(dirname "$0")/../../../shared/lab/lab.sh
exec 9>"$out.lock"
flock 9
[ -s "$out" ] && exit 0
[ -x "$lab" ] && [ "$(id -u)" -eq 0 ] || exit 0
"$lab" up agr >/dev/null 2>&1 || { "$lab" down agr >/dev/null 2>&1; exit 0; }
"$lab" capture agr "$out.tmp" 1 >/dev/null 2>&1 && mv "$out.tmp" "$out"
"$lab" down agr >/dev/null 2>&1
exit 0
