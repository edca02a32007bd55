#!/bin/sh
# Golden tests: runs every line of tests/golden/TESTLIST and compares the output with
# tests/golden/expected/NAME.out. Usage: run.sh PKTSCOPE SOURCE_ROOT  (UPDATE=1 rewrites).
set -u
bin=$1
cd "$2" || exit 2
pass=0
fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while read -r name capture opts; do
	case $name in ''|'#'*) continue ;; esac
	# shellcheck disable=SC2086
	"$bin" read $opts "$capture" >"$tmp" 2>"$tmp.err"
	rc=$?
	{ echo "--- stderr"; cat "$tmp.err"; echo "--- exit $rc"; } >>"$tmp"
	rm -f "$tmp.err"
	exp=tests/golden/expected/$name.out
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$tmp" "$exp"
		echo "updated $name"
		continue
	fi
	if cmp -s "$tmp" "$exp"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: pktscope read $opts $capture"
		diff -u "$exp" "$tmp" | head -20
	fi
done < tests/golden/TESTLIST
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
