complete -c ipvsadm -l start-daemon -d 'start a connection synchronisation daemon' -r
complete -c ipvsadm -l stop-daemon -d 'stop a connection synchronisation daemon' -r
complete -c ipvsadm -s t -l tcp-service -d 'the TCP virtual service at this address' -r
complete -c ipvsadm -s u -l udp-service -d 'the UDP virtual service at this address' -r
complete -c ipvsadm -l sctp-service -d 'the SCTP virtual service at this address' -r
complete -c ipvsadm -s f -l fwmark-service -d 'the virtual service matching this firewall mark' -r
complete -c ipvsadm -s s -l scheduler -d 'scheduling algorithm (kernel module name; wlc when omitted)' -r
complete -c ipvsadm -s p -l persistent -d 'keep a client on the same real server (360 s when no value follows)' -r
complete -c ipvsadm -s M -l netmask -d 'group clients for persistence by this mask (IPv4) or prefix length (IPv6)' -r
complete -c ipvsadm -s r -l real-server -d 'the real server at this address' -r
complete -c ipvsadm -s w -l weight -d 'relative capacity of the real server (0 takes it out of rotation)' -r
complete -c ipvsadm -s x -l u-threshold -d 'stop sending new connections above this many (0 = no limit)' -r
complete -c ipvsadm -s y -l l-threshold -d 'resume sending new connections below this many' -r
complete -c ipvsadm -l mcast-interface -d 'interface the sync daemon sends or listens on (eth0 when omitted)' -r
complete -c ipvsadm -l syncid -d 'sync daemon instance id, 0-255 (0 when omitted)' -r
complete -c ipvsadm -l pe -d 'persistence engine (e.g. sip)' -r
complete -c ipvsadm -s b -l sched-flags -d 'comma-separated scheduler flags (flag-1..3, sh-fallback, sh-port, mh-fallback, mh-port)' -r
complete -c ipvsadm -l mcast-group -d 'multicast group for sync messages' -r
complete -c ipvsadm -l mcast-port -d 'UDP port for sync messages' -r
complete -c ipvsadm -l mcast-ttl -d 'multicast TTL for sync messages' -r
complete -c ipvsadm -l sync-maxlen -d 'largest sync message payload' -r
complete -c ipvsadm -l tun-type -d 'encapsulation of a tunnelling real server (ipip when omitted)' -r
complete -c ipvsadm -l tun-port -d 'destination UDP port of GUE encapsulation' -r
complete -c ipvsadm -s A -l add-service -d 'create a virtual service'
complete -c ipvsadm -s E -l edit-service -d 'replace all settings of a virtual service (unset ones revert to defaults)'
complete -c ipvsadm -s D -l delete-service -d 'remove a virtual service together with its real servers'
complete -c ipvsadm -s C -l clear -d 'remove every virtual service'
complete -c ipvsadm -s L -l list -d 'show the virtual server table (the default with no arguments)'
complete -c ipvsadm -s Z -l zero -d 'reset the counters of one service, or of all'
complete -c ipvsadm -s a -l add-server -d 'add a real server to a virtual service'
complete -c ipvsadm -s e -l edit-server -d 'replace all settings of a real server (unset ones revert to defaults)'
complete -c ipvsadm -s d -l delete-server -d 'remove a real server from a virtual service'
complete -c ipvsadm -l set -d 'set the TCP, TCP-FIN and UDP connection timeouts (three values follow, 0 keeps one)'
complete -c ipvsadm -s h -l help -d 'print a usage summary'
complete -c ipvsadm -s v -l version -d 'print the program version'
complete -c ipvsadm -s R -l restore -d 'read commands, one per line, from standard input'
complete -c ipvsadm -s S -l save -d 'print the table as commands that --restore understands'
complete -c ipvsadm -s m -l masquerading -d 'forward by NAT'
complete -c ipvsadm -s i -l ipip -d 'forward by tunnelling'
complete -c ipvsadm -s g -l gatewaying -d 'forward by direct routing (the default)'
complete -c ipvsadm -s n -l numeric -d 'print addresses and ports as numbers, no name lookups'
complete -c ipvsadm -s c -l connection -d 'list the connection table instead of the services'
complete -c ipvsadm -l timeout -d 'list the TCP, TCP-FIN and UDP connection timeouts'
complete -c ipvsadm -l daemon -d 'list the running sync daemons'
complete -c ipvsadm -l stats -d 'list with packet and byte counters'
complete -c ipvsadm -l rate -d 'list with per-second rates'
complete -c ipvsadm -l thresholds -d 'list with the real servers\' connection thresholds'
complete -c ipvsadm -l persistent-conn -d 'list persistent connection counts (with -c: persistence engine data)'
complete -c ipvsadm -l nosort -d 'list in kernel order instead of sorting'
complete -c ipvsadm -l sort -d 'sort the listing (already the default; accepted for compatibility)'
complete -c ipvsadm -s X -l exact -d 'print exact counter values instead of K/M/G units'
complete -c ipvsadm -s 6 -l ipv6 -d 'make the preceding -f service an IPv6 one'
complete -c ipvsadm -s o -l ops -d 'one-packet scheduling: schedule every UDP datagram on its own'
complete -c ipvsadm -l tun-info -d 'list the real servers\' tunnel settings'
complete -c ipvsadm -l tun-nocsum -d 'send tunnel packets without checksum (the default)'
complete -c ipvsadm -l tun-csum -d 'checksum tunnel packets'
complete -c ipvsadm -l tun-remcsum -d 'use remote checksum offload in GUE packets'
