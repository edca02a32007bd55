#!/bin/sh
# Joins the captures named in captures.txt, in order, into one pcapng file (mergecap -a:
# concatenated, not sorted by time) for the display-filter conformance table.
# usage: make-capture.sh OUT.pcapng   (run from anywhere; needs mergecap)
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=$root/../shared/corpus
set --
while read -r f; do
	case $f in ''|'#'*) continue ;; samples/*) set -- "$@" "$root/$f" ;; *) set -- "$@" "$corpus/$f" ;; esac
done < "$here/captures.txt"
mkdir -p "$(dirname "$out")"
mergecap -a -F pcapng -w "$out.tmp" "$@"
mv "$out.tmp" "$out"
