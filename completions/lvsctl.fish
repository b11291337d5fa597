# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_lvsctl_global_optspecs
    string join \n h/help V/version
end

function __fish_lvsctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_lvsctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_lvsctl_using_subcommand
    set -l cmd (__fish_lvsctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c lvsctl -n "__fish_lvsctl_needs_command" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -s V -l version -d 'Print version'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "list" -d 'Show virtual services and their real servers with counters and rates'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "conns" -d 'Show the connection table (like `ipvsadm -lcn`), with filters'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "timeouts" -d 'Show connection timeouts (tcp, tcpfin, udp)'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "daemon" -d 'Show running connection-sync daemons'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "info" -d 'Show the IPVS version, connection table size, whether rates are estimated, and (with --json) the IPVS sysctls'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "clear" -d 'Delete every virtual service (asks first on a terminal)'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "delete" -d 'Delete one virtual service (asks first if it still has active connections)'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "top" -d 'Live dashboard of services, real servers, rates and connections'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "check" -d 'Lint rules files offline (no root, no kernel): exit 0 clean, 1 findings, 2 unreadable'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "diff" -d 'Show what `apply` would change: exit 0 no drift, 2 drift, 1 error'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "apply" -d 'Bring the live table to a rules file with the fewest kernel writes'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "health" -d 'ldirectord-compatible health checker (`lvsctl health --help`)'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "ipvsadm" -d 'Run ipvsadm\'s command line explicitly: `lvsctl ipvsadm -Ln`'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c lvsctl -n "__fish_lvsctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand list" -l service -d 'Only this service: `tcp:VIP:PORT`, `udp:…`, `sctp:…` or `fwmark:N[:6]`' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand list" -l json -d 'Print the versioned JSON document (see the README) instead of a table'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l service -d 'Only connections of this virtual service (`ADDR:PORT`)' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l real -d 'Only connections to this real server (`ADDR[:PORT]`)' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l client -d 'Only connections from this client (`ADDR[:PORT]`)' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l state -d 'Only connections in this state (e.g. ESTABLISHED, SYN_RECV), case-insensitive' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l limit -d 'Stop after this many matching rows' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -l json -d 'Print one JSON object per line'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand conns" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand timeouts" -l json -d 'Print JSON for scripts instead of text'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand timeouts" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand daemon" -l json -d 'Print JSON for scripts instead of text'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand info" -l json -d 'Print JSON for scripts instead of text'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand info" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand clear" -s y -l yes -d 'Do not ask; required when standard input is not a terminal'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand clear" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand delete" -s y -l yes -d 'Do not ask; required when standard input is not a terminal'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand delete" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand top" -s i -l interval -d 'Refresh interval: seconds (`1`, `0.5`) or with a unit (`500ms`, `2s`, `1m`)' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand top" -l read-only -d 'Disable every action that changes the kernel'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand top" -s n -l numeric -d 'Show numeric addresses and ports (no name lookups)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand top" -l demo -d 'Run on an in-memory director with synthetic traffic instead of the kernel: needs neither root nor IPVS, and actions change only the demo\'s table'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand top" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand check" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand diff" -l json -d 'Print the plan as JSON'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand diff" -l prune -d 'Also plan deleting live services the file does not name'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand diff" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l drain-timeout -d 'Longest wait for drained real servers, in seconds (then they are deleted anyway)' -r
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l lock-file -d 'Lock file that keeps two applies from running at once (a second one fails at once)' -r -F
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l dry-run -d 'Print the plan and change nothing'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l prune -d 'Also delete live services the file does not name'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l drain -d 'Set real servers to weight 0 and wait for their active connections to end before deleting them'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l rollback -d 'On a kernel error or SIGINT/SIGTERM, restore the services touched to their state before the apply'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -l json -d 'Print the plan and the result as JSON'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -s v -l verbose -d 'Print every step of the plan, not only its summary'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand apply" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand generate" -l out-dir -d 'Directory that receives completions/ and man/' -r -F
complete -c lvsctl -n "__fish_lvsctl_using_subcommand generate" -s h -l help -d 'Print help'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "list" -d 'Show virtual services and their real servers with counters and rates'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "conns" -d 'Show the connection table (like `ipvsadm -lcn`), with filters'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "timeouts" -d 'Show connection timeouts (tcp, tcpfin, udp)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "daemon" -d 'Show running connection-sync daemons'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "info" -d 'Show the IPVS version, connection table size, whether rates are estimated, and (with --json) the IPVS sysctls'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "clear" -d 'Delete every virtual service (asks first on a terminal)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "delete" -d 'Delete one virtual service (asks first if it still has active connections)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "top" -d 'Live dashboard of services, real servers, rates and connections'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "check" -d 'Lint rules files offline (no root, no kernel): exit 0 clean, 1 findings, 2 unreadable'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "diff" -d 'Show what `apply` would change: exit 0 no drift, 2 drift, 1 error'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "apply" -d 'Bring the live table to a rules file with the fewest kernel writes'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "health" -d 'ldirectord-compatible health checker (`lvsctl health --help`)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "ipvsadm" -d 'Run ipvsadm\'s command line explicitly: `lvsctl ipvsadm -Ln`'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "generate" -d 'Write shell completions and man pages (for packagers)'
complete -c lvsctl -n "__fish_lvsctl_using_subcommand help; and not __fish_seen_subcommand_from list conns timeouts daemon info clear delete top check diff apply health ipvsadm generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
