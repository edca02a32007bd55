#!/bin/sh
# The capture TUI in a real terminal: pktscope read FILE in a detached tmux session of a
# fixed size, driven with send-keys and read back with capture-pane. Each check waits for
# what it expects to be drawn (up to 10 s) rather than sleeping a guessed time.
# Usage: run.sh PKTSCOPE SOURCE_ROOT
set -u
bin=$1
cd "$2" || exit 2
pass=0
fail=0
tmp=$(mktemp -d)
sock="pktscope-tui-$$"
t() { tmux -L "$sock" "$@"; }
trap 't kill-server 2>/dev/null; rm -rf "$tmp" "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"' EXIT
export XDG_CONFIG_HOME="$tmp/no-config"
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
if ! command -v tmux >/dev/null 2>&1; then
	echo "tui: SKIP: no tmux"
	exit 0
fi
lab=samples/lab.pcapng

# start W H ARGS...: a new session running pktscope read ARGS, then its exit status
start() {
	w=$1 h=$2
	shift 2
	t kill-server 2>/dev/null
	i=0
	until t -f /dev/null new-session -d -s s -x "$w" -y "$h" \
		"env TERM=xterm-256color $bin read $*; echo EXITED \$?; sleep 120" 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 50 ] && { bad "tmux cannot start a session"; return 1; }
		sleep 0.1
	done
}
screen() { t capture-pane -p -t s 2>/dev/null; }
# whether the screen's row (cut at the pane's width, spaces trimmed) begins read's line
same_row() {
	r=$(line "$1" | sed 's/ *$//')
	[ -n "$r" ] && case "$2" in "$r"*) true ;; *) false ;; esac
}
# waits until the screen shows the pattern (grep -E); false after 10 s
wait_for() {
	i=0
	until screen | grep -qE -- "$1"; do
		i=$((i + 1))
		[ $i -ge 100 ] && return 1
		sleep 0.1
	done
}
keys() { t send-keys -t s "$@"; }
line() { screen | sed -n "$1p"; }

# opening the sample: the first rows are read's lines, the last one is on the status bar
start 120 40 "$lab"
if wait_for 'READY .* Packets: 134 '; then
	first=$("$bin" read -T text "$lab" | head -1)
	same_row 3 "$first" && ok || bad "first row: '$(line 3)' vs '$first'"
	wait_for '─ Packet 1 details' && screen | grep -q '^▸ Internet Protocol Version 6' && ok || bad "detail tree of packet 1: $(screen)"
else
	bad "the sample did not load: $(screen)"
fi

# moving, then the tree: Tab to it, Enter expands the IPv6 layer, a field selected
# highlights its bytes (checked by the tree's line, the hex row stays on screen)
keys j j j
wait_for '─ Packet 4 details' && ok || bad "j j j: not on packet 4: $(screen | sed -n 20p)"
keys Tab j j Enter
wait_for '^▾ Internet Protocol Version 6' && wait_for '^    Payload Length: 56' && ok || bad "expanding a layer: $(screen)"
keys Tab Tab

# a filter that does not compile: the bar keeps the text, the status line says why
keys / 'tcp.port == 4x3'
wait_for '"4x3" is not a valid value for tcp.port' && line 1 | grep -q 'Filter: tcp.port == 4x3' && ok ||
	bad "invalid filter: $(line 1) / $(line 40)"
# fixed, applied: the displayed rows are read -Y's
keys BSpace BSpace 43 Enter
n=$("$bin" read -Y 'tcp.port == 443' "$lab" | wc -l)
f1=$("$bin" read -Y 'tcp.port == 443' "$lab" | head -1)
wait_for "Displayed: $n " && same_row 3 "$f1" && line 1 | grep -q '\[Applied\]' && ok ||
	bad "tcp.port == 443: want $n rows from '$f1': $(line 1) / $(line 3) / $(line 40)"
# a filter over conversation state gives read -Y's frames too
keys / C-u
for _ in $(seq 30); do keys BSpace; done
keys 'tcp.stream == 2 || tcp.analysis.flags || dns.time' Enter
n2=$("$bin" read -Y 'tcp.stream == 2 || tcp.analysis.flags || dns.time' "$lab" | wc -l)
wait_for "Displayed: $n2 " && ok || bad "flow-dependent filter: want $n2: $(line 40)"
# cleared: every packet again
keys /
for _ in $(seq 60); do keys BSpace; done
keys Enter
wait_for 'Displayed: 134 .*filter cleared' && ok || bad "clearing the filter: $(line 40)"

# going to a packet, and to the end
keys C-g 100 Enter
wait_for '─ Packet 100 details' && ok || bad "Ctrl-G 100: $(screen | grep 'details')"
keys G
wait_for '─ Packet 134 details' && ok || bad "G: $(screen | grep 'details')"
keys g
wait_for '─ Packet 1 details' && ok || bad "g: $(screen | grep 'details')"

# the mouse, as the terminal reports it (xterm's SGR encoding, typed into the pane): a
# click on the fifth row selects packet 5, the wheel moves three rows, a click on the
# tree selects a line and a second one expands it
mouse() { keys -l "$(printf '\033[<%s;%s;%s%s' "$1" "$2" "$3" "$4")"; }
mouse 0 10 7 M
mouse 0 10 7 m
wait_for '─ Packet 5 details' && ok || bad "click on the fifth row: $(screen | grep 'details')"
mouse 65 10 7 M
wait_for '─ Packet 8 details' && ok || bad "wheel down: $(screen | grep 'details')"
mouse 64 10 7 M
wait_for '─ Packet 5 details' && ok || bad "wheel up: $(screen | grep 'details')"
# (the layer is open: it was expanded above, and stays so from packet to packet)
row=$(screen | grep -n '^▾ Internet Protocol Version 6' | cut -d: -f1)
mouse 0 3 "${row:-1}" M
mouse 0 3 "${row:-1}" m
mouse 0 3 "${row:-1}" M
mouse 0 3 "${row:-1}" m
[ -n "$row" ] && wait_for '^▸ Internet Protocol Version 6' && ok || bad "two clicks on an open layer close it: $(screen | sed -n "${row:-1}p")"
mouse 0 3 "${row:-1}" M
mouse 0 3 "${row:-1}" m
wait_for '^▾ Internet Protocol Version 6' && ok || bad "a click on the selected layer opens it again: $(screen | sed -n "${row:-1}p")"
keys Tab Tab g
wait_for '─ Packet 1 details' || bad "back to the list: $(screen | grep 'details')"

# help, and any key closes it
keys '?'
wait_for 'pktscope — keys' && ok || bad "help"
keys x
wait_for '─ Packet 1 details' && ok || bad "closing help"

# the overlays: read --stats's tables; the same key (or Esc) closes them
nflows=$("$bin" read --stats flows "$lab" | grep -cE '^[0-9]+\.[0-9]+ ')
for k in t P F T I; do
	case $k in
	t) want='Top Talkers' ;; P) want='Protocol Hierarchy Statistics' ;; F) want="^$nflows flows, by bytes" ;;
	T) want='each bar from the flow' ;; I) want='Packets per second, 2 s of capture' ;;
	esac
	keys "$k"
	wait_for "$want" && ok || bad "overlay $k: $(screen | head -6)"
	keys "$k"
	wait_for '─ Packet 1 details' || bad "overlay $k does not close"
done

# flows sorted again: by start, by packets
keys F
wait_for 'by bytes' || bad "F"
keys 1
wait_for "^$nflows flows, by start" && line 5 | grep -qE '^ +0\.000 ' && ok || bad "F, 1: $(screen | sed -n 2,4p)"
keys 2
wait_for 'by packets' && ok || bad "F, 2"
keys Escape

# the packets the anomaly rules flagged, and a jump to the first
na=$("$bin" read -Y anomaly "$lab" | wc -l)
fa=$("$bin" read -Y anomaly -T fields -e frame.number "$lab" | head -1)
keys A
wait_for "Anomalies: $na packets" && line 3 | grep -qE "^ +$fa " && ok || bad "A: want $na from $fa: $(screen | head -4)"
keys Enter
wait_for "─ Packet $fa details" && ok || bad "A, Enter: to packet $fa: $(screen | grep details)"
keys g

# follow the selected packet's stream: the HTTP request of frame 105 in ASCII, then hex,
# then "filter on this stream"
keys C-g 105 Enter f
wait_for '^GET /login HTTP/1.1' && wait_for 'Follow TCP stream' && ok || bad "follow: $(screen | head -12)"
# each side in its colour: the client's red, the server's blue
t capture-pane -e -p -t s | grep -q "$(printf '\033')\[31mGET /login" && t capture-pane -e -p -t s | grep -q "$(printf '\033')\[34mHTTP/1.1 200" &&
	ok || bad "follow colours: $(t capture-pane -e -p -t s | grep -a -E 'GET /login|HTTP/1.1 200' | cat -v | head -3)"
keys h
wait_for 'Follow: tcp,hex' && ok || bad "follow in hex"
keys /
wait_for 'Filter: tcp.stream == [0-9]+' && ok || bad "filter on the followed stream: $(line 1)"
keys Enter
s105=$("$bin" read -T fields -e tcp.stream -Y 'frame.number == 105' "$lab")
n105=$("$bin" read -Y "tcp.stream == $s105" "$lab" | wc -l)
wait_for "Displayed: $n105 " && ok || bad "the followed stream as a filter: want $n105: $(line 40)"

# bookmarks, their list, and saving: the displayed packets to a file equal to read -Y -w's
keys / C-u
for _ in $(seq 30); do keys BSpace; done
keys dns Enter
wait_for 'Filter: dns \[Applied\]' || bad "dns filter"
keys j m j j m "'"
wait_for 'Bookmarks \(2\)' && [ "$(screen | grep -c ' DNS ')" -eq 2 ] && ok || bad "bookmarks: $(screen | head -5)"
keys Escape
wait_for '^★' && ok || bad "the ★ of a bookmarked row: $(screen | head -6)"
keys s "$tmp/tui.pcap" Enter
"$bin" read -Y dns -w "$tmp/read.pcap" "$lab"
wait_for "packets written to $tmp/tui.pcap" && cmp -s "$tmp/tui.pcap" "$tmp/read.pcap" && ok || bad "save: $(line 40)"
keys w "$tmp/marks.pcapng" Enter
wait_for "2 packets written" && [ "$("$bin" read "$tmp/marks.pcapng" | wc -l)" -eq 2 ] && ok || bad "save the bookmarks: $(line 40)"

# searching the displayed lines: Ctrl-F, n, N
keys C-f 'MX example' Enter
wait_for 'match in packet 24' && ok || bad "search: $(line 40)"
keys n
wait_for 'match in packet 25' && ok || bad "n: $(line 40)"
keys N
wait_for 'match in packet 24' && ok || bad "N: $(line 40)"
keys C-f '(' Enter
wait_for 'bad regex' && ok || bad "a bad regex: $(line 40)"
keys /
for _ in $(seq 10); do keys BSpace; done
keys Enter
wait_for 'Displayed: 134 ' || bad "clearing the dns filter"
keys g

# Tab completes field names, Up brings back a filter applied before
keys / 'dns.qry.na' Tab
wait_for 'Filter: dns.qry.name' && wait_for '2 fields: dns.qry.name dns.qry.name.len' && ok || bad "Tab: $(line 1) / $(line 40)"
keys Escape / Up
wait_for 'Filter: dns$' && ok || bad "Up: the last filter applied: $(line 1)"
keys Escape
# the packets-per-second sparkline above the status bar
line 39 | grep -q 'pkt/s max [▁▂▃▄▅▆▇█ ]' && ok || bad "sparkline: $(line 39)"
# colours: on by default, none with NO_COLOR or color_scheme = "mono"
t capture-pane -e -p -t s | grep -q "$(printf '\033')\[3[0-7]m" && ok || bad "no colour by default"

# input that is not ASCII, or not UTF-8 at all, and a very long filter: no harm
keys / 'ip.src == "ü€"' BSpace BSpace BSpace
t send-keys -t s -H ff fe c3
keys Escape
long=$(head -c 10000 /dev/zero | tr '\0' 'a')
keys / "$long" Enter
wait_for 'READY' && ok || bad "odd input: $(line 40)"

# resize: drawn again to the new size, the status bar on the last line
t resize-window -t s -x 80 -y 24
wait_for 'READY' && line 24 | grep -q 'Packets: 134' && ok || bad "resize to 80x24: $(screen | tail -3)"

# quit: exit 0 and the terminal restored (tmux left the alternate screen)
keys q
wait_for '^EXITED 0' && [ "$(t display -p -t s '#{alternate_on}')" = 0 ] && ok || bad "q: $(screen | tail -3)"

for how in NO_COLOR mono; do
	if [ $how = mono ]; then
		mkdir -p "$tmp/no-config/pktscope"
		printf '[display]\ncolor_scheme = "mono"\n' >"$tmp/no-config/pktscope/config.toml"
		start 100 30 "$lab"
	else
		start 100 30 "$lab"
		t kill-server 2>/dev/null
		i=0
		until t -f /dev/null new-session -d -s s -x 100 -y 30 \
			"env NO_COLOR=1 TERM=xterm-256color $bin read $lab; echo EXITED \$?; sleep 120" 2>/dev/null; do
			i=$((i + 1)); [ $i -ge 50 ] && break; sleep 0.1
		done
	fi
	wait_for 'READY' && ! t capture-pane -e -p -t s | grep -q "$(printf '\033')\[3[0-7]m" && ok || bad "colours with $how"
	rm -f "$tmp/no-config/pktscope/config.toml"
done

# Ctrl-C quits too, the terminal restored
start 100 30 "$lab"
wait_for 'READY' || bad "start for Ctrl-C"
keys C-c
wait_for '^EXITED' && [ "$(t display -p -t s '#{alternate_on}')" = 0 ] && ok || bad "Ctrl-C: $(screen | tail -3)"

# a file cut short while it is open: a message where the packet would be, no crash
cp "$lab" "$tmp/cut.pcapng"
start 100 30 "$tmp/cut.pcapng"
wait_for 'READY' || bad "start for the cut file"
truncate -s 2000 "$tmp/cut.pcapng"
keys G
wait_for '─ Packet 134 details' && wait_for '^packet [0-9]+: the file ends before it' && ok || bad "a file cut while open: $(screen | sed -n 15,18p)"
keys q
wait_for '^EXITED 0' && ok || bad "quitting after the cut: $(screen | tail -3)"

# SIGTERM and SIGHUP restore the terminal too
for sig in TERM HUP; do
	start 100 30 "$lab"
	wait_for 'READY' || bad "start for SIG$sig"
	pid=$(pgrep -f "^$bin read $lab" | head -1)
	[ -n "$pid" ] && kill -$sig "$pid"
	wait_for '^EXITED' && [ "$(t display -p -t s '#{alternate_on}')" = 0 ] && ok || bad "SIG$sig: $(screen | tail -3)"
done

# a file that cannot be read: a message after the screen is restored, exit 1
printf 'not a capture' >"$tmp/bad.pcap"
start 100 30 "$tmp/bad.pcap"
wait_for '^EXITED 1' && screen | grep -q 'bad.pcap' && ok || bad "unreadable file: $(screen | tail -4)"

# lines are what a pipe or -T text gets
[ "$(script -qc "$bin read -T text -c 2 $lab" /dev/null | wc -l)" -eq 2 ] && ok || bad "-T text on a terminal"

t kill-server 2>/dev/null
echo "tui: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
