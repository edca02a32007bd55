#!/bin/bash
# Two pktscope builds on the reference captures, alternating in one hyperfine run: the
# before/after table a change to the packet path reports (bench/RESULTS.md, commit
# messages). Median wall time of RUNS runs each (default 10) and the ratio.
# Usage: bench/compare.sh OLD_PKTSCOPE NEW_PKTSCOPE
set -eu
old=$(realpath "$1")
new=$(realpath "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${PKTSCOPE_BENCH_DIR:-/tmp/pktscope-bench}
runs=${RUNS:-10}
if [ ! -s "$dir/synth-1m.pcap" ] || [ ! -s "$dir/lab-mix.pcap" ]; then
	"$top/../shared/bench/make-captures.sh" "$dir" >/dev/null
fi
[ -s "$dir/lab-mix-20k.pcap" ] || editcap -F pcap -r "$dir/lab-mix.pcap" "$dir/lab-mix-20k.pcap" 1-20000
[ -s "$dir/synth-20k.pcap" ] || editcap -F pcap -r "$dir/synth-1m.pcap" "$dir/synth-20k.pcap" 1-20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

row() { # LABEL ARGS...: the same arguments to both builds
	label=$1
	shift
	args=$(printf ' %q' "$@")
	hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$tmp/h.json" "$old$args" "$new$args" >/dev/null 2>&1
	python3 - "$tmp/h.json" "$label" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["median"], r[1]["median"]
print(f"| {sys.argv[2]:<34} | {a:7.3f} s | {b:7.3f} s | {b / a:5.2f} |")
EOF
}

echo "before: $old"
echo "after:  $new"
echo "median of $runs runs each, alternating; $(nproc) CPUs, $(date -u +%F)"
echo
echo "| what | before | after | after/before |"
echo "|---|---|---|---|"
row "text, lab-mix" read "$dir/lab-mix.pcap"
row "text, synth-200k" read "$dir/synth-200k.pcap"
row "NDJSON, lab-mix-20k" read --json "$dir/lab-mix-20k.pcap"
row "NDJSON, synth-20k" read --json "$dir/synth-20k.pcap"
row "-Y tcp.port==443 && ip.src, synth-1m" read -Y "tcp.port == 443 and ip.src == 10.0.0.1" "$dir/synth-1m.pcap"
row "-Y dns.qry.name contains, lab-mix" read -Y 'dns.qry.name contains "example"' "$dir/lab-mix.pcap"
row "--stats conv,tcp, lab-mix" read --stats conv,tcp "$dir/lab-mix.pcap"
row "--stats conv,tcp, synth-200k" read --stats conv,tcp "$dir/synth-200k.pcap"
row "--follow tcp,raw,1, lab-mix" read --follow tcp,raw,1 "$dir/lab-mix.pcap"
