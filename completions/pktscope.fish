# fish completion for pktscope. The options come from the program itself (`pktscope
# COMMAND --help`), field names from `pktscope fields`, interfaces from `pktscope
# list-interfaces`, saved filters (:NAME) from the configuration's [filters] table.

function __pktscope_bin
    if set -q PKTSCOPE
        echo $PKTSCOPE
    else
        echo pktscope
    end
end

function __pktscope_options
    set -l bin (__pktscope_bin)
    set -l cmd (commandline -opc)
    set -e cmd[1]
    if test "$cmd[1]" = monitor; and test -n "$cmd[2]"; and not contains -- $cmd[2] run notify
        $bin monitor --help 2>/dev/null | string match -r -- "pktscope monitor $cmd[2]( .*|\$)" | string match -ar -- '--?[A-Za-z0-9][A-Za-z0-9-]*' | sort -u
        return
    end
    set -l args $cmd[1]
    if contains -- "$cmd[1]" monitor geoip; and test -n "$cmd[2]"
        set args $cmd[1] $cmd[2]
    end
    set -l help ($bin $args --help 2>/dev/null)
    if test "$args" = "monitor run"
        set help (printf '%s\n' $help | sed -n '/^monitor run:/,/^$/p')
    end
    printf '%s\n' $help | string match -r '^ +--?[A-Za-z0-9][A-Za-z0-9-]*(, --[A-Za-z0-9-]*)?' | string match -ar -- '--?[A-Za-z0-9][A-Za-z0-9-]*' | sort -u
end

function __pktscope_filter
    # the field being typed: after the last character a field name cannot hold
    set -l tok (commandline -ct)
    set -l head (string replace -r '[A-Za-z0-9_.:]*$' '' -- $tok)
    set -l word (string sub -s (math (string length -- "$head") + 1) -- $tok)
    if string match -q ':*' -- $word
        set -l f (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo $HOME/.config)/pktscope/config.toml
        test -r $f; and awk '/^[ \t]*\[/ { t = $0; gsub(/[ \t]/, "", t) } t == "[filters]" && /^[ \t]*[A-Za-z0-9_.-]+[ \t]*=/ { sub(/^[ \t]*/, ""); sub(/[ \t]*=.*/, ""); print ":" $0 }' $f | string replace -r '^' -- "$head"
    else
        set -l bin (__pktscope_bin)
        $bin fields --names $word 2>/dev/null | string replace -r '^' -- "$head"
    end
end

function __pktscope_interfaces
    set -l bin (__pktscope_bin)
    $bin list-interfaces 2>/dev/null | string replace -rf '^[0-9]+\. (\S+).*' '$1'
end

function __pktscope_fields
    set -l bin (__pktscope_bin)
    $bin fields --names (commandline -ct) 2>/dev/null
end

set -l cmds read capture diff list-interfaces fields monitor inspect geoip
complete -c pktscope -f
complete -c pktscope -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c pktscope -n "not __fish_seen_subcommand_from $cmds" -l version -l help
complete -c pktscope -n "__fish_seen_subcommand_from monitor; and not __fish_seen_subcommand_from run status stop events notify alerts ack known new" -a "run status stop events notify alerts ack known new"
complete -c pktscope -n "__fish_seen_subcommand_from geoip; and not __fish_seen_subcommand_from update" -a update
complete -c pktscope -n "__fish_seen_subcommand_from $cmds; and string match -q -- '-*' (commandline -ct)" -a "(__pktscope_options)"
complete -c pktscope -n "__fish_seen_subcommand_from read diff; and not string match -q -- '-*' (commandline -ct)" -F
complete -c pktscope -n "__fish_prev_arg_in -e --ignore" -x -a "(__pktscope_fields)"
complete -c pktscope -n "__fish_prev_arg_in -Y" -x -a "(__pktscope_filter)"
complete -c pktscope -n "__fish_prev_arg_in -i" -x -a "(__pktscope_interfaces)"
complete -c pktscope -n "__fish_prev_arg_in -T" -x -a "fields text"
complete -c pktscope -n "__fish_prev_arg_in --stats" -x -a "conv,eth conv,ip conv,ipv6 conv,tcp conv,udp endpoints,eth endpoints,ip endpoints,ipv6 endpoints,tcp endpoints,udp phs io,1 talkers flows anomalies"
complete -c pktscope -n "__fish_prev_arg_in --follow" -x -a "tcp,ascii tcp,hex tcp,raw udp,ascii udp,hex udp,raw"
complete -c pktscope -n "__fish_prev_arg_in --events" -x -a "open update close alert info"
complete -c pktscope -n "__fish_prev_arg_in --severity" -x -a "notice warning critical"
complete -c pktscope -n "__fish_prev_arg_in -r -w --config --tls-keylog --geoip-country-db --geoip-asn-db --socket --state-dir" -F
