#!/usr/bin/env bash
# CPU and memory of `lvsctl top` (release build, 1 s refresh) against the classic
# `watch -n1 ipvsadm -Ln --rate` on the same big table, in one VM run (same kernel, same
# table). Each program runs in its own tmux pane (160x50), one after the other.
#
#   bench/top-vs-watch.sh [SERVICES] [REALS_PER_SERVICE] [CONNECTIONS] [SECONDS] [CONN_SECONDS]
#                                                 (default 10000 4 100000 120 600)
#
# Scenarios:
#   1. Idle: SERVICES x REALS TCP services and nothing moving; top in the Services view.
#   2. Traffic: the same while examples/syn-traffic.rs opens 50 connections a second to
#      the first 40 VIPs (the rows on top's first screen), so counters change every
#      second; top in the Services view, then `watch -n1 ipvsadm -Ln --rate`.
#   3. The same plus CONNECTIONS UDP connections (one datagram per source address and port
#      to a masquerading UDP VIP, sent by examples/udp-conns.rs); top in the Connections
#      view for CONN_SECONDS from opening it (its read of the connection table included),
#      then `watch -n1 ipvsadm -Lnc`.
#
# What is measured, and the targets (printed, not asserted; TCG emulation makes absolute
# numbers several times those of real hardware, and a loaded host inflates guest CPU
# accounting, so the ratios are what carries over):
#   - CPU: utime+stime+cutime+cstime of the program and all its live descendants (from
#     /proc/PID/stat, sampled every second), as % of one core over the window. Counting
#     live children matters: `watch` runs ipvsadm for seconds and a child's CPU reaches
#     watch's cutime only when it is reaped. Targets: top at most 10 % with traffic, at
#     most 1 % idle.
#   - Refresh: top's header every second; it says "slowed" when refreshes come less often
#     than 1.5 intervals (the target: never).
#   - CPU per refresh: top's CPU over the window divided by its refreshes (one a second
#     when not slowed), against the CPU of one `ipvsadm -Ln` (target: at most 1/20).
#   - RSS: VmRSS of the program at the end and the peak of it plus its descendants.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=${1:-10000}
reals=${2:-4}
conns=${3:-100000}
seconds=${4:-120}
conn_seconds=${5:-600}
if [ -z "${LVS_VM:-}" ]; then
  cargo build --release --locked --bin lvsctl --example udp-conns --example syn-traffic >&2
  echo "host: $(uptime)" >&2
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 --timeout 5400 -- "$0" "$@"
fi

lvsctl=$PWD/target/release/lvsctl
udp_conns=$PWD/target/release/examples/udp-conns
syn_traffic=$PWD/target/release/examples/syn-traffic
work=$(mktemp -d /run/bench-top.XXXXXX)
sock=
traffic=
export TERM=xterm-256color
hz=$(getconf CLK_TCK)
trap '[ -z "$traffic" ] || kill "$traffic" 2>/dev/null; [ -z "$sock" ] || tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

# The table: 10.x.y.z:80 TCP VIPs with masquerading reals that need not exist, behind a
# dummy device (so locally sent SYNs to a VIP have a route, and go nowhere after IPVS).
awk -v n="$services" -v r="$reals" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
    printf "-A -t %s:80 -s wlc\n", vip
    for (j = 1; j <= r; j++) printf "-a -t %s:80 -r 192.168.%d.%d:8080 -m -w 1\n", vip, j, (i % 250) + 1
  }
}' > "$work/rules"
"$lvsctl" ipvsadm -R < "$work/rules"
ip link add bench0 type dummy
ip link set bench0 up
ip addr add 192.168.0.254/16 dev bench0
ip route add 10.0.0.0/10 dev bench0

# Pane helpers: a fresh tmux server (and socket) per measurement, the program killed by PID.
# `start CMD...` sets $sock and $pid (the program's PID).
n=0
start() {
  n=$((n + 1)); sock=$work/tmux$n.sock
  tmux -S "$sock" -f /dev/null new-session -d -x 160 -y 50 "exec $*" < /dev/null > /dev/null 2>&1
  pid=$(tmux -S "$sock" display-message -p '#{pane_pid}')
  [ -n "$pid" ] || { echo "cannot start $* in tmux" >&2; exit 1; }
}
stop() {
  local i
  kill "$1" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do [ -d "/proc/$1" ] || break; sleep 0.1; done
  tmux -S "$sock" kill-server 2>/dev/null || true
}
# wait_screen TEXT SECONDS: until the pane shows TEXT (bounded; a warning if it never does)
wait_screen() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    tmux -S "$sock" capture-pane -p | grep -qF -- "$1" && return 0
    sleep 0.2
  done
  echo "warning: '$1' never appeared on screen" >&2
}
rss_kb() { local k v _; while read -r k v _; do [ "$k" = VmRSS: ] && { echo "$v"; return; }; done < "/proc/$1/status"; echo 0; } 2>/dev/null
# tree PID: the process and its live descendants. Bash builtins only, so sampling costs
# the guest little besides one `sleep` a second.
tree() {
  local f l pid IFS=' '
  local -a fs todo out
  local -A kids=()
  for f in /proc/[0-9]*/stat; do
    { read -r l < "$f"; } 2>/dev/null || continue
    pid=${l%% *}
    read -r -a fs <<< "${l##*) }"
    kids[${fs[1]}]+=" $pid"
  done
  todo=("$1"); out=()
  while [ ${#todo[@]} -gt 0 ]; do
    pid=${todo[0]}; todo=("${todo[@]:1}")
    out+=("$pid")
    for f in ${kids[$pid]:-}; do todo+=("$f"); done
  done
  echo "${out[@]}"
}
# sample PID: "TICKS RSS_KB" of the tree; ticks are utime+stime+cutime+cstime (each tick
# counted once: a reaped child's are in its parent's cutime, a live one's in its own utime)
sample() {
  local p l v _ ticks=0 rss=0 IFS=' '
  local -a fs
  for p in $(tree "$1"); do
    { read -r l < "/proc/$p/stat"; } 2>/dev/null || continue
    read -r -a fs <<< "${l##*) }"
    ticks=$((ticks + fs[11] + fs[12] + fs[13] + fs[14]))
    while IFS=$' \t' read -r l v _; do [ "$l" = VmRSS: ] && rss=$((rss + v)); done < "/proc/$p/status"
  done 2>/dev/null
  echo "$ticks $rss"
}
# cpu_of CMD...: "USER+SYS seconds" of one run of CMD (output discarded)
cpu_of() {
  /usr/bin/time -f '%U %S' -o "$work/time" "$@" > /dev/null
  awk '{ printf "%.2f", $1 + $2 }' "$work/time"
}

declare -A cpu per slowed
# measure KEY LABEL PID SECONDS [top]: CPU % of one core over the window, RSS now and peak
# of the tree; for top also its header each second ("slowed" counted) and CPU per refresh
measure() {
  local key=$1 label=$2 pid=$3 secs=$4 is_top=${5:-} end ticks r peak=0 t0 c0 header extra=
  local slow=0 samples=0
  end=$(( EPOCHSECONDS + secs ))
  read -r c0 r <<< "$(sample "$pid")"
  t0=$EPOCHREALTIME
  while :; do
    sleep 1
    read -r ticks r <<< "$(sample "$pid")"
    [ "$r" -gt "$peak" ] && peak=$r
    if [ -n "$is_top" ]; then
      header=$(tmux -S "$sock" capture-pane -p | sed -n 1p)
      samples=$((samples + 1))
      case $header in *slowed*) slow=$((slow + 1)) ;; esac
    fi
    [ "$EPOCHSECONDS" -lt "$end" ] || break
  done
  read -r cpu["$key"] per["$key"] <<< "$(awk -v c0="$c0" -v c1="$ticks" -v t0="$t0" -v t1="$EPOCHREALTIME" -v hz="$hz" '
    BEGIN { s = (c1 - c0) / hz; w = t1 - t0; printf "%.2f %.4f\n", s / w * 100, s / w }')"
  if [ -n "$is_top" ]; then
    slowed[$key]=$slow
    extra=$(printf '; header said "slowed" in %d of %d samples; CPU per refresh %.1f ms' \
      "$slow" "$samples" "$(awk -v p="${per[$key]}" 'BEGIN { print p * 1000 }')")
  fi
  printf '  %-32s CPU %6s %% over %ss%s; RSS %6.1f MiB, peak with children %6.1f MiB\n' \
    "$label" "${cpu[$key]}" "$secs" "$extra" \
    "$(awk -v k="$(rss_kb "$pid")" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

echo "== ${services} services x ${reals} reals; guest: $(uptime)"
ipvsadm_cpu=$(cpu_of ipvsadm -Ln)
rate_cpu=$(cpu_of ipvsadm -Ln --rate)
lvsctl_cpu=$(cpu_of "$lvsctl" ipvsadm -Ln)
echo "  one listing, CPU: ipvsadm -Ln ${ipvsadm_cpu}s, ipvsadm -Ln --rate ${rate_cpu}s, lvsctl -Ln ${lvsctl_cpu}s"

echo "== scenario 1: idle (nothing moves), Services view, ${seconds}s"
start "$lvsctl" top -n --interval 1
wait_screen "TCP 10.0.0.0:80" 600
sleep 5
measure idle "lvsctl top (idle)" "$pid" "$seconds" top
tmux -S "$sock" capture-pane -p | sed -n 1,2p
stop "$pid"

echo "== scenario 2: 50 connections/s to the first 40 VIPs, Services view, ${seconds}s each"
"$syn_traffic" 10.0.0.0 40 80 50 &
traffic=$!
start "$lvsctl" top -n --interval 1
wait_screen "TCP 10.0.0.0:80" 600
sleep 5
measure top "lvsctl top (traffic)" "$pid" "$seconds" top
tmux -S "$sock" capture-pane -p | sed -n 1,6p
stop "$pid"
start watch -n1 ipvsadm -Ln --rate
wait_screen "TCP  10.0.0.0:80" 600
sleep 3
measure watch "watch -n1 ipvsadm -Ln --rate" "$pid" "$seconds"
stop "$pid"
kill "$traffic" 2>/dev/null || true
wait "$traffic" 2>/dev/null || true
traffic=
echo "  top: CPU per refresh / one ipvsadm -Ln: $(ratio "${per[top]}" "$ipvsadm_cpu")" \
  "(target at most 0.05); CPU watch/top: $(ratio "${cpu[watch]}" "${cpu[top]}")x;" \
  "idle top: ${cpu[idle]} % (target at most 1 %); traffic top: ${cpu[top]} % (target at most 10 %)"

# Connections: a masquerading UDP VIP on lo, its (absent) reals behind the dummy device,
# datagrams from two local source addresses.
ip addr add 10.201.0.1/32 dev bench0
ip addr add 10.201.0.2/32 dev bench0
ip addr add 10.250.0.1/32 dev lo
ipvsadm --set 900 120 7200                # keep UDP entries for the whole run
"$lvsctl" ipvsadm -A -u 10.250.0.1:53 -s rr
for j in 1 2 3 4; do "$lvsctl" ipvsadm -a -u 10.250.0.1:53 -r "192.168.250.$j:53" -m; done
t0=$EPOCHREALTIME
"$udp_conns" 10.250.0.1:53 "$conns" 10.201.0.1 10.201.0.2
made=$("$lvsctl" ipvsadm -Ln -u 10.250.0.1:53 | awk '$1 == "->" && $2 ~ /:53$/ { s += $5 + $6 } END { print s + 0 }')
echo "== scenario 3: + ${made} UDP connections (made in $(awk -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%.1f", t1 - t0 }')s), Connections view, ${conn_seconds}s"
echo "  one read, wall: cat /proc/net/ip_vs_conn $( { /usr/bin/time -f %e cat /proc/net/ip_vs_conn > /dev/null; } 2>&1 )s"
start "$lvsctl" top -n --interval 1
wait_screen "TCP 10.0.0.0:80" 600
t0=$EPOCHREALTIME
tmux -S "$sock" send-keys 2 f            # Connections view, all services (not following one)
wait_screen " shown, " 120
echo "  first rows on screen after $(awk -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%.1f", t1 - t0 }')s:" \
  "$(tmux -S "$sock" capture-pane -p | sed -n 3p | sed 's/  *$//')"
measure conns "lvsctl top (Connections)" "$pid" "$conn_seconds" top
tmux -S "$sock" capture-pane -p | sed -n '1p;3,5p' | cut -c1-160
stop "$pid"
start watch -n1 ipvsadm -Lnc
wait_screen "UDP" 600
sleep 3
measure watchc "watch -n1 ipvsadm -Lnc" "$pid" "$seconds"
stop "$pid"
echo "  CPU watch -Lnc / top (Connections): $(ratio "${cpu[watchc]}" "${cpu[conns]}")x"
