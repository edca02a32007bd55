#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and runs each for SECONDS.
# Usage: fuzz.sh BUILD_DIR SECONDS [HARNESS...]   (default: every harness). The reader is
# seeded with whole files from samples/, tests/golden/pcap/ and ../shared/corpus when
# present; the decoder harnesses with frames from them cut at each decoder's offset
# (scripts/fuzz-seeds.py).
set -eu
build=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		--buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
harnesses=${*:-$(cd "$build/fuzz" && find . -maxdepth 1 -type f -perm -u+x -name 'fuzz_*' | sed 's|^\./||' | sort)}
seeds=$build/fuzz-seeds
if [ ! -d "$seeds" ]; then
	mkdir -p "$seeds"
	cp samples/*.pcap* tests/golden/pcap/* "$seeds"/
	if [ -d ../shared/corpus ]; then
		find ../shared/corpus -type f \( -name '*.pcap' -o -name '*.pcapng' \) -size -64k |
			while read -r f; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
	fi
	# per-decoder seeds: real frames cut where each decoder starts
	python3 scripts/fuzz-seeds.py "$build/fuzz-seeds-by-harness" "$seeds"/* >/dev/null
fi
# compressed captures (gzip, zstd, lz4) for the readers' decompressing stream
for z in gzip zstd lz4; do
	[ -s "$seeds/lab.pcapng.$z" ] || "$z" -q -c samples/lab.pcapng >"$seeds/lab.pcapng.$z" 2>/dev/null || "$z" -c samples/lab.pcapng >"$seeds/lab.pcapng.$z"
	[ -s "$seeds/crafted.pcap.$z" ] || "$z" -q -c tests/golden/pcap/crafted.pcap >"$seeds/crafted.pcap.$z" 2>/dev/null || "$z" -c tests/golden/pcap/crafted.pcap >"$seeds/crafted.pcap.$z"
done
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for h in $harnesses; do
	corpus=$build/corpus-$h
	mkdir -p "$corpus"
	set -- "$corpus"
	[ "$h" = fuzz_reader ] || [ "$h" = fuzz_pipeline ] && set -- "$corpus" "$seeds"
	[ -d "$build/fuzz-seeds-by-harness/$h" ] && set -- "$corpus" "$build/fuzz-seeds-by-harness/$h"
	if "$build/fuzz/$h" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$build/$h-" "$@" >"$build/$h.log" 2>&1; then
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/$h.log" | grep -o '[0-9]*$')
		echo "$h: ${runs:-?} runs, no crash"
	else
		echo "$h: FAILED (see $build/$h.log)"
		status=1
	fi
done
exit $status
