#!/bin/sh
# Install every Debian/Ubuntu package that pktscope's build, tests, fuzzers and benchmarks
# need. Idempotent: quiet and fast when everything is already present.
set -eu

# build + libraries (DESIGN.md "Dependencies")
PKGS="meson ninja-build pkg-config gcc clang make
libpcap-dev libncurses-dev libsqlite3-dev libmaxminddb-dev libpsl-dev publicsuffix libbpf-dev bpftool liburing-dev libsystemd-dev libpcre2-dev libssl-dev libcmocka-dev libnghttp2-dev
zlib1g-dev libzstd-dev liblz4-dev"
# tests: reference decoders, tools the scripts call, the traffic lab's servers and clients
PKGS="$PKGS tshark tcpdump wireshark-common jq python3 tmux iproute2 iputils-ping procps util-linux
nginx-light dnsmasq bind9-dnsutils curl nghttp2-client nghttp2-server iperf3 wrk ethtool openssl
libcap2-bin nftables gzip zstd lz4 sqlite3 systemd"
# documentation: the man pages (doc/*.scd) are built with scdoc; man reads them in the tests,
# and the shells whose completions the tests ask
PKGS="$PKGS scdoc man-db bash-completion fish zsh"
# the Debian package (make deb, tests/deb)
PKGS="$PKGS dpkg-dev debhelper lintian git"
# fuzzing (libFuzzer + sanitizer runtimes) and benchmarks
PKGS="$PKGS libclang-rt-14-dev libfuzzer-14-dev hyperfine time bc tcpreplay termshark nethogs"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
