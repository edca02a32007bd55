#!/bin/sh
# Runs every test: the unit, golden, CLI and corpus-agreement suites on the normal build,
# then the unit, golden, CLI and live-capture suites again on an ASan + UBSan build.
# Usage: run-tests.sh BUILD_DIR ASAN_BUILD_DIR
set -u
build=$1
asan=$2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
failed=0
suites=0

run_suite() { # dir, label, meson test args...
	dir=$1 label=$2
	shift 2
	suites=$((suites + 1))
	echo "== $label"
	if meson test -C "$dir" --print-errorlogs --no-rebuild "$@" >"$dir/test-$label.log" 2>&1; then
		grep -E '^ *[0-9]+/[0-9]+ ' "$dir/test-$label.log"
	else
		failed=$((failed + 1))
		cat "$dir/test-$label.log"
	fi
	# what each suite printed about itself (agreement table, counts)
	for log in "$dir"/meson-logs/testlog.txt; do
		[ -f "$log" ] && grep -E 'passed, [0-9]+ failed|SKIP|^invalid filters:' "$log" | sed 's/^/   /'
	done
}

run_suite "$build" unit --suite unit
run_suite "$build" golden --suite golden
run_suite "$build" agree --suite agree
grep -A13 'totals per field' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -A21 'agreement with tshark on flow fields' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep '^per-flow records' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep '^community_id:' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -A5 '^follow-stream agreement' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -A10 '^statistics agreement' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -A34 '^application decoder agreement' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -E '^(hpack:|quic rfc|foxio)' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
grep -E '^(display filters:|two-pass filtering:)' "$build/meson-logs/testlog.txt" | sed 's/^/   /'
# live capture in the lab (after the agreement tables: each suite rewrites testlog.txt)
run_suite "$build" capture --suite capture
# the Debian package (it builds its own binary: once is enough)
run_suite "$build" deb --suite deb

if [ ! -f "$asan/build.ninja" ]; then
	# clang here and gcc above: both compilers build with -Wall -Wextra -Werror
	CC=clang meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null || exit 1
fi
ninja -C "$asan" >/dev/null || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite "$asan" asan-unit --suite unit
run_suite "$asan" asan-golden --suite golden
# the live captures again, the full-screen ones included (issue 13: the same checks under ASan)
run_suite "$asan" asan-capture --suite capture

echo
echo "pktscope tests: $((suites - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
