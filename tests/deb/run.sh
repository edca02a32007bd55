#!/bin/sh
# The Debian package: built by dpkg-buildpackage from a copy of the tree, lintian-clean
# (errors and warnings; what remains is explained in debian/pktscope.lintian-overrides),
# then installed with dpkg into an empty root directory (--root, its maintainer scripts run
# outside a chroot with DPKG_ROOT set): the binary runs, man reads an installed page, the
# group pktscope exists, the unit is installed and not enabled; with debconf's answer yes
# the binary is 0750 root:pktscope with cap_net_raw,cap_net_admin. Needs root (dpkg).
# Usage: run.sh SOURCE_ROOT
set -u
cd "$1" || exit 2
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1 ||
	! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "deb: SKIP: it needs root, dpkg-dev and a git checkout"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the tree's files (as they are now, committed or not), built as a package
mkdir "$tmp/src"
git ls-files -z | xargs -0 cp --parents -t "$tmp/src"
(cd "$tmp/src" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1 && ok || bad "dpkg-buildpackage: $(tail -15 "$tmp/build.log")"
deb=$(ls "$tmp"/pktscope_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "deb: $pass passed, $((fail + 1)) failed"; exit 1; }
lintian --no-tag-display-limit "$tmp"/pktscope_*.changes >"$tmp/lintian" 2>&1
grep -E '^(E|W):' "$tmp/lintian" >"$tmp/lintian.ew"
[ ! -s "$tmp/lintian.ew" ] && ok || bad "lintian: $(cat "$tmp/lintian.ew")"
dpkg-deb -I "$deb" | grep -q '^ Depends: .*libpcap0.8' && ! dpkg-deb -I "$deb" | grep -q -- '-dev' && ok ||
	bad "depends: $(dpkg-deb -I "$deb" | grep Depends)"

# an empty root: dpkg's database, and the account files groupadd --prefix edits
install_into() { # root, debconf answer
	r=$1
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/etc"
	: >"$r/var/lib/dpkg/status"
	printf 'root:x:0:\n' >"$r/etc/group"
	printf 'root:*::\n' >"$r/etc/gshadow"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
	# debconf (which reads its configuration under DPKG_ROOT): databases of that root's own,
	# the answer preseeded
	mkdir -p "$r/var/cache/debconf"
	printf 'Config: configdb\nTemplates: templatedb\n\nName: configdb\nDriver: File\nFilename: %s\n\nName: templatedb\nDriver: File\nFilename: %s\n' \
		/var/cache/debconf/config.dat /var/cache/debconf/templates.dat >"$r/etc/debconf.conf" # (under DPKG_ROOT)
	printf 'Name: pktscope/install-setcap\nTemplate: pktscope/install-setcap\nValue: %s\nOwners: pktscope\nFlags: seen\n\n' "$2" >"$r/var/cache/debconf/config.dat"
	DEBIAN_FRONTEND=noninteractive dpkg --root="$r" --force-script-chrootless --force-depends --log=/dev/null -i "$deb" >"$r.log" 2>&1
}
root=$tmp/root
install_into "$root" false && ok || bad "dpkg --root -i: $(tail -10 "$root.log")"
"$root/usr/bin/pktscope" --version | head -1 | grep -q '^pktscope 0' && ok || bad "the installed binary: $("$root/usr/bin/pktscope" --version 2>&1 | head -2)"
MANWIDTH=80 man -l "$root/usr/share/man/man1/pktscope-read.1.gz" 2>/dev/null | grep -q 'decode a capture file' &&
	MANWIDTH=80 man -l "$root/usr/share/man/man7/pktscope-filters.7.gz" 2>/dev/null | grep -q 'tcp.port in' && ok || bad "man -l on the installed pages"
grep -q '^pktscope:x:[0-9]*:' "$root/etc/group" && ok || bad "the group: $(cat "$root/etc/group")"
[ -f "$root/lib/systemd/system/pktscope-monitor.service" ] && grep -q "^ExecStart=/usr/bin/pktscope monitor run" "$root/lib/systemd/system/pktscope-monitor.service" &&
	[ -z "$(find "$root/etc" -name 'pktscope-monitor.service' 2>/dev/null)" ] && ok || bad "the unit: installed, not enabled"
[ "$(stat -c '%a %U %G' "$root/usr/bin/pktscope")" = "755 root root" ] && [ -z "$(getcap "$root/usr/bin/pktscope")" ] && ok ||
	bad "without setcap: $(stat -c '%a %U %G' "$root/usr/bin/pktscope") $(getcap "$root/usr/bin/pktscope")"
for f in usr/share/bash-completion/completions/pktscope usr/share/zsh/vendor-completions/_pktscope \
	usr/share/fish/vendor_completions.d/pktscope.fish usr/share/doc/pktscope/config.toml.example usr/share/man/man5/pktscope-config.5.gz; do
	[ -f "$root/$f" ] || { bad "not installed: $f"; break; }
done && ok

# debconf's yes: the group may capture
root2=$tmp/root2
install_into "$root2" true && ok || bad "dpkg --root -i (setcap): $(tail -10 "$root2.log")"
gid=$(awk -F: '$1 == "pktscope" { print $3 }' "$root2/etc/group")
[ "$(stat -c '%a %u %g' "$root2/usr/bin/pktscope")" = "750 0 $gid" ] && getcap "$root2/usr/bin/pktscope" | grep -q 'cap_net_admin,cap_net_raw=eip' && ok ||
	bad "with setcap: $(stat -c '%a %u %g' "$root2/usr/bin/pktscope") (gid $gid) $(getcap "$root2/usr/bin/pktscope") $(tail -5 "$root2.log")"
# removed again: nothing of the package left but its configuration's absence
DEBIAN_FRONTEND=noninteractive dpkg --root="$root2" --force-script-chrootless --log=/dev/null -P pktscope >"$root2.rm" 2>&1 &&
	[ ! -e "$root2/usr/bin/pktscope" ] && [ ! -e "$root2/usr/share/man/man1/pktscope.1.gz" ] && ok || bad "dpkg -P: $(tail -5 "$root2.rm")"

echo "deb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
