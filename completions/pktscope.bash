# bash completion for pktscope. The options come from the program itself (`pktscope
# COMMAND --help`), field names from `pktscope fields`, interfaces from `pktscope
# list-interfaces`, saved filters (:NAME) from the configuration's [filters] table.

_pktscope_options() # COMMAND [SUBCOMMAND]
{
	if [ "$1" = monitor ] && [ -n "${2:-}" ] && [ "$2" != run ] && [ "$2" != notify ]; then
		# a client's synopsis line lists its options
		"${PKTSCOPE:-pktscope}" monitor --help 2>/dev/null | grep -E "pktscope monitor $2( |\$)" |
			grep -oE -- '--?[A-Za-z0-9][A-Za-z0-9-]*' | sort -u
		return
	fi
	# the lines that define options: "  -h, --help   ...", "  --json   ..." (monitor run's:
	# its own section of monitor's help)
	"${PKTSCOPE:-pktscope}" "$@" --help 2>/dev/null | { [ "$1 ${2:-}" = "monitor run" ] && sed -n '/^monitor run:/,/^$/p' || cat; } | sed -n 's/^ \{1,\}\(--\{0,1\}[A-Za-z0-9][A-Za-z0-9-]*\)\(, \(--[A-Za-z0-9-]*\)\)\{0,1\}.*/\1 \3/p' |
		tr ' ' '\n' | grep . | sort -u
}

_pktscope_filters()
{
	local f="${XDG_CONFIG_HOME:-$HOME/.config}/pktscope/config.toml"
	[ -r "$f" ] && awk '/^[ \t]*\[/ { t = $0; gsub(/[ \t]/, "", t) } t == "[filters]" && /^[ \t]*[A-Za-z0-9_.-]+[ \t]*=/ {
		sub(/^[ \t]*/, ""); sub(/[ \t]*=.*/, ""); print ":" $0 }' "$f"
}

_pktscope()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local bin=${PKTSCOPE:-pktscope} cmd=${COMP_WORDS[1]} sub=
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "read capture diff list-interfaces fields monitor inspect geoip --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	monitor)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "run status stop events notify alerts ack known new" -- "$cur"))
			return
		fi
		sub=${COMP_WORDS[2]}
		;;
	geoip)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "update" -- "$cur"))
			return
		fi
		;;
	esac
	case $prev in
	-e | --ignore)
		COMPREPLY=($(compgen -W "$("$bin" fields --names "${cur%%,*}" 2>/dev/null)" -- "$cur"))
		return
		;;
	-Y)
		# the field being typed: the last word of the filter so far
		local head=${cur%[!A-Za-z0-9_.:]*} word
		[ "$head" = "$cur" ] && head= || head=${cur:0:${#head}+1}
		word=${cur:${#head}}
		if [ "${word#:}" != "$word" ]; then
			COMPREPLY=($(compgen -W "$(_pktscope_filters)" -- "$word"))
		else
			COMPREPLY=($(compgen -P "$head" -W "$("$bin" fields --names "$word" 2>/dev/null)" -- "$word"))
		fi
		return
		;;
	-i)
		COMPREPLY=($(compgen -W "$("$bin" list-interfaces 2>/dev/null | sed -n 's/^[0-9]*\. \([^ ]*\).*/\1/p')" -- "$cur"))
		return
		;;
	-T)
		COMPREPLY=($(compgen -W "fields text" -- "$cur"))
		return
		;;
	--stats)
		COMPREPLY=($(compgen -W "conv,eth conv,ip conv,ipv6 conv,tcp conv,udp endpoints,eth endpoints,ip endpoints,ipv6 endpoints,tcp endpoints,udp phs io,1 talkers flows anomalies" -- "$cur"))
		return
		;;
	--follow)
		COMPREPLY=($(compgen -W "tcp,ascii tcp,hex tcp,raw udp,ascii udp,hex udp,raw" -- "$cur"))
		return
		;;
	--events)
		COMPREPLY=($(compgen -W "open update close alert info" -- "$cur"))
		return
		;;
	--severity)
		COMPREPLY=($(compgen -W "notice warning critical" -- "$cur"))
		return
		;;
	-r | -w | --config | --tls-keylog | --geoip-country-db | --geoip-asn-db | --socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--state-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	esac
	if [ "${cur#-}" != "$cur" ]; then
		COMPREPLY=($(compgen -W "$(_pktscope_options "$cmd" $sub)" -- "$cur"))
	elif [ "$cmd" = read ] || [ "$cmd" = diff ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _pktscope pktscope
