#!/bin/sh
# What installs with the program: the man pages (every option in its page and --help, and
# nothing the program refuses; each page renders without a warning; every example filter of
# pktscope-filters(7) compiles), the completions (bash and fish asked as a shell asks them,
# zsh's function run with its completion system stubbed), and `meson install` (binary,
# pages, completions, example configuration, the systemd unit with the installed binary's
# path).
# Usage: run.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$(realpath "$1")
build=$(dirname "$bin")
cd "$2" || exit 2
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME="$tmp/config"

python3 tests/doc/options.py "$bin" . >"$tmp/options" && ok || bad "options: $(grep FAIL "$tmp/options")"
grep '^ok' "$tmp/options" | sed 's/^/  /'

# the pages as built: rendered by man; groff (as man runs it, UTF-8 input) warns of nothing
n=0
for page in "$build"/doc/*.[157]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	MANWIDTH=80 man -l "$page" >"$tmp/page" 2>/dev/null
	groff -k -man -Tutf8 -ww -z "$page" >"$tmp/warn" 2>&1
	[ -s "$tmp/page" ] && [ ! -s "$tmp/warn" ] || bad "man -l $page: $(head -3 "$tmp/warn")"
done
[ "$n" -eq 8 ] && ok || bad "$n man pages built, 8 expected"
MANWIDTH=80 man -l "$build/doc/pktscope-filters.7" 2>/dev/null | grep -q 'tcp.port in {80, 443, 8000..8100}' && ok ||
	bad "pktscope-filters(7) lacks its set example"

# every example of pktscope-filters(7) compiles
sed -n '/^# EXAMPLES/,/^# SEE ALSO/p' doc/pktscope-filters.7.scd | sed -n 's/^\*\(.*\)\*$/\1/p' >"$tmp/examples"
[ "$(wc -l <"$tmp/examples")" -ge 5 ] && ok || bad "pktscope-filters(7): $(wc -l <"$tmp/examples") examples"
while read -r f; do
	"$bin" read -c 1 -Y "$f" samples/lab.pcapng >/dev/null 2>"$tmp/ferr" || bad "example '$f': $(cat "$tmp/ferr")"
done <"$tmp/examples"

# bash: the completion function as bash calls it
mkdir -p "$XDG_CONFIG_HOME/pktscope"
printf '[filters]\nhttps = "tcp.port == 443"\nslow_dns = "dns.time > 0.2"\n' >"$XDG_CONFIG_HOME/pktscope/config.toml"
comp_bash() { PKTSCOPE=$bin bash -c '. completions/pktscope.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pktscope; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"; }
[ "$(comp_bash pktscope mon)" = monitor ] && ok || bad "bash: pktscope mon: $(comp_bash pktscope mon)"
[ "$(comp_bash pktscope read --js)" = --json ] && ok || bad "bash: read --js"
comp_bash pktscope read - | grep -qx -- -r && comp_bash pktscope read - | grep -qx -- --tls-keylog && ok || bad "bash: read's options"
[ "$(comp_bash pktscope read -e tcp.srcp)" = tcp.srcport ] && ok || bad "bash: -e tcp.srcp: $(comp_bash pktscope read -e tcp.srcp)"
comp_bash pktscope read -Y 'ip.src==1&&tcp.flags.sy' | grep -qx 'ip.src==1&&tcp.flags.syn' && ok || bad "bash: inside -Y"
[ "$(comp_bash pktscope read -Y :ht)" = :https ] && ok || bad "bash: a saved filter: $(comp_bash pktscope read -Y :ht)"
comp_bash pktscope capture -i l | grep -qx lo && ok || bad "bash: -i l: $(comp_bash pktscope capture -i l)"
[ "$(comp_bash pktscope monitor status - | tr '\n' ' ')" = "--config --json --socket --state-dir " ] && ok ||
	bad "bash: monitor status -: $(comp_bash pktscope monitor status -)"
comp_bash pktscope monitor run - | grep -qx -- --daemonize && ! comp_bash pktscope monitor run - | grep -qx -- --all && ok ||
	bad "bash: monitor run -"

# fish: `complete -C` answers what Tab would offer
if command -v fish >/dev/null 2>&1; then
	comp_fish() { PKTSCOPE=$bin fish -c "source completions/pktscope.fish; complete -C '$1'" | cut -f1; }
	[ "$(comp_fish 'pktscope read --js')" = --json ] && [ "$(comp_fish 'pktscope read -e tcp.srcp')" = tcp.srcport ] &&
		comp_fish 'pktscope capture -i l' | grep -qx lo && [ "$(comp_fish 'pktscope read -Y :sl')" = :slow_dns ] &&
		comp_fish 'pktscope monitor st' | grep -qx stop && ok || bad "fish: $(comp_fish 'pktscope read -Y :sl')"
else
	bad "fish is not installed (scripts/install-deps.sh installs it)"
fi
# zsh: the function run with the completion system stubbed (tests/doc/zsh-stubs.zsh)
if command -v zsh >/dev/null 2>&1 && zsh -n completions/_pktscope; then
	comp_zsh() { PKTSCOPE=$bin zsh -f -c '. tests/doc/zsh-stubs.zsh; comp "$@"' _ "$@"; }
	comp_zsh --js pktscope read --js | grep -qx -- --json && comp_zsh tcp.srcp pktscope read -e tcp.srcp | grep -qx tcp.srcport &&
		comp_zsh :ht pktscope read -Y :ht | grep -qx :https && comp_zsh '' pktscope capture -i '' | grep -qx lo &&
		[ "$(comp_zsh - pktscope monitor status - | sort | tr '\n' ' ')" = "--config --json --socket --state-dir " ] && ok ||
		bad "zsh: $(comp_zsh :ht pktscope read -Y :ht | head -3)"
else
	bad "zsh: not installed, or completions/_pktscope does not parse"
fi

# meson install: what goes where
dest=$tmp/root
meson install -C "$build" --no-rebuild --destdir "$dest" >"$tmp/install.log" 2>&1 || bad "meson install: $(tail -3 "$tmp/install.log")"
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
missing=
for f in bin/pktscope share/man/man1/pktscope.1 share/man/man1/pktscope-read.1 share/man/man1/pktscope-capture.1 \
	share/man/man1/pktscope-diff.1 share/man/man1/pktscope-monitor.1 share/man/man1/pktscope-inspect.1 \
	share/man/man5/pktscope-config.5 share/man/man7/pktscope-filters.7 share/bash-completion/completions/pktscope \
	share/zsh/vendor-completions/_pktscope share/fish/vendor_completions.d/pktscope.fish share/doc/pktscope/config.toml.example; do
	[ -f "$dest$prefix/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok || bad "not installed:$missing ($(find "$dest" -type f | head -20))"
unit=$(find "$dest" -name pktscope-monitor.service | head -1)
[ -n "$unit" ] && grep -q "^ExecStart=$prefix/bin/pktscope monitor run" "$unit" && ok || bad "the unit: '$unit' $(grep ExecStart "$unit" 2>/dev/null)"
"$dest$prefix/bin/pktscope" --version | head -1 | grep -q '^pktscope ' && ok || bad "the installed binary"

echo "doc: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
