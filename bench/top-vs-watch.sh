#!/usr/bin/env bash
# CPU and memory of `lvsctl top` (release build, 1 s refresh) against the classic
# `watch -n1 ipvsadm -Ln --rate` on the same big table, in one VM run (same kernel, same
# table). Both run in their own tmux pane (160x50), one after the other.
#
#   bench/top-vs-watch.sh [SERVICES] [REALS_PER_SERVICE] [CONNECTIONS] [SECONDS] [CONN_SECONDS]
#                                                 (default 10000 4 100000 120 900)
#
# Scenarios:
#   1. SERVICES x REALS TCP services; top in the Services view, watch ipvsadm -Ln --rate.
#   2. The same plus CONNECTIONS UDP connections (one datagram per source address and port
#      to a masquerading UDP VIP, sent by examples/udp-conns.rs); top in the Connections
#      view (measured for CONN_SECONDS from opening it, so the first read is included),
#      against watch ipvsadm -Ln --rate and watch ipvsadm -Lnc.
#
# CPU: utime+stime+cutime+cstime of the measured process and all its live descendants
# (from /proc/PID/stat, sampled every second), as % of one core. Counting live children
# matters: `watch` runs ipvsadm for seconds (minutes for -Lnc) and a child's CPU reaches
# watch's cutime only when it is reaped. Two figures per run: over the whole window, and
# over whole refresh cycles (from the start of one burst of CPU to the start of a later
# one), which is the steady state when a refresh takes longer than the interval; the mean
# time between bursts is the real refresh period and CPU/refresh what each one costs.
# RSS: VmRSS of the process at the end and the peak of the process plus its descendants.
# Target: top under 10 % of one core at this scale and no more than the watch
# loop. Printed, not asserted: TCG emulation makes absolute numbers several times slower
# than real hardware; the ratio is what carries over.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=${1:-10000}
reals=${2:-4}
conns=${3:-100000}
seconds=${4:-120}
conn_seconds=${5:-900}
if [ -z "${LVS_VM:-}" ]; then
  cargo build --release --locked --bin lvsctl --example udp-conns >&2
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 --timeout 5400 -- "$0" "$@"
fi

lvsctl=$PWD/target/release/lvsctl
udp_conns=$PWD/target/release/examples/udp-conns
work=$(mktemp -d /run/bench-top.XXXXXX)
sock=
export TERM=xterm-256color
hz=$(getconf CLK_TCK)
trap '[ -z "$sock" ] || tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

# The table: 10.x.y.z:80 TCP VIPs with masquerading reals that need not exist.
awk -v n="$services" -v r="$reals" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
    printf "-A -t %s:80 -s wlc\n", vip
    for (j = 1; j <= r; j++) printf "-a -t %s:80 -r 192.168.%d.%d:8080 -m -w 1\n", vip, j, (i % 250) + 1
  }
}' > "$work/rules"
"$lvsctl" ipvsadm -R < "$work/rules"

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

declare -A cpu
# measure KEY LABEL PID SECONDS: CPU % of one core (window and whole cycles), refresh
# period, CPU per refresh, RSS now and peak of the tree
measure() {
  local key=$1 label=$2 pid=$3 secs=$4 end ticks r peak=0 trace=$work/trace.$1
  end=$(( ${EPOCHSECONDS} + secs ))
  : > "$trace"
  while :; do
    read -r ticks r <<< "$(sample "$pid")"
    echo "$EPOCHREALTIME $ticks" >> "$trace"
    [ "$r" -gt "$peak" ] && peak=$r
    [ "$EPOCHSECONDS" -lt "$end" ] || break
    sleep 1
  done
  # Bursts: a sample using >= 20 % of a core right after one using < 5 %.
  read -r window cycles period per <<< "$(awk -v hz="$hz" '
    { t[NR] = $1; c[NR] = $2 }
    END {
      n = NR; s = 0
      for (i = 3; i <= n; i++) {
        prev = (c[i-1] - c[i-2]) / hz / (t[i-1] - t[i-2]); cur = (c[i] - c[i-1]) / hz / (t[i] - t[i-1])
        if (prev < 0.05 && cur >= 0.2) start[++s] = i - 1
      }
      w = (c[n] - c[1]) / hz / (t[n] - t[1]) * 100
      if (s >= 2) {
        a = start[1]; b = start[s]
        printf "%.1f %.1f %.1f %.2f\n", w, (c[b] - c[a]) / hz / (t[b] - t[a]) * 100, (t[b] - t[a]) / (s - 1), (c[b] - c[a]) / hz / (s - 1)
      } else printf "%.1f - - -\n", w
    }' "$trace")"
  cpu[$key]=$window
  [ "$cycles" = - ] || cpu[$key]=$cycles
  printf '  %-30s CPU %5s %% (window %ss), %5s %% over whole refreshes; refresh every %5s s, %5s s CPU each; RSS %6.1f MiB, peak with children %6.1f MiB\n' \
    "$label" "$window" "$secs" "$cycles" "$period" "$per" \
    "$(awk -v k="$(rss_kb "$pid")" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

echo "== scenario 1: ${services} services x ${reals} reals, Services view, ${seconds}s each"
t0=$(date +%s.%N); "$lvsctl" ipvsadm -Ln --rate > /dev/null
t1=$(date +%s.%N); ipvsadm -Ln --rate > /dev/null
echo "  one listing: lvsctl ipvsadm -Ln --rate $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s," \
  "ipvsadm -Ln --rate $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
start "$lvsctl" top -n --interval 1
wait_screen "TCP 10.0.0.0:80" 120
sleep 3
measure top1 "lvsctl top (Services)" "$pid" "$seconds"
tmux -S "$sock" capture-pane -p | sed -n 1p
stop "$pid"
start watch -n1 ipvsadm -Ln --rate
wait_screen "TCP  10.0.0.0:80" 120
sleep 3
measure watch1 "watch -n1 ipvsadm -Ln --rate" "$pid" "$seconds"
stop "$pid"
echo "  CPU ratio watch/top: $(ratio "${cpu[watch1]}" "${cpu[top1]}")x"

# Connections: a masquerading UDP VIP on lo, its (absent) reals behind a dummy interface,
# datagrams from two local source addresses.
ip link add bench0 type dummy
ip link set bench0 up
ip addr add 192.168.0.254/16 dev bench0
ip addr add 10.201.0.1/32 dev bench0
ip addr add 10.201.0.2/32 dev bench0
ip addr add 10.250.0.1/32 dev lo
ipvsadm --set 900 120 7200                # keep UDP entries for the whole run
"$lvsctl" ipvsadm -A -u 10.250.0.1:53 -s rr
for j in 1 2 3 4; do "$lvsctl" ipvsadm -a -u 10.250.0.1:53 -r "192.168.250.$j:53" -m; done
t0=$(date +%s.%N)
"$udp_conns" 10.250.0.1:53 "$conns" 10.201.0.1 10.201.0.2
made=$("$lvsctl" ipvsadm -Ln -u 10.250.0.1:53 | awk '$1 == "->" && $2 ~ /:53$/ { s += $5 + $6 } END { print s + 0 }')
echo "== scenario 2: + ${made} UDP connections (made in $(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')s), Connections view, ${seconds}s each"
start "$lvsctl" top -n --interval 1
wait_screen "TCP 10.0.0.0:80" 120
tmux -S "$sock" send-keys 2 f            # Connections view, all services (not following one)
wait_screen "scope all services" 60
measure top2 "lvsctl top (Connections)" "$pid" "$conn_seconds"
tmux -S "$sock" capture-pane -p | sed -n '1p;3,5p'
stop "$pid"
start watch -n1 ipvsadm -Ln --rate
wait_screen "TCP  10.0.0.0:80" 120
sleep 3
measure watch2 "watch -n1 ipvsadm -Ln --rate" "$pid" "$seconds"
stop "$pid"
start watch -n1 ipvsadm -Lnc
wait_screen "UDP" 180
sleep 3
measure watch2c "watch -n1 ipvsadm -Lnc" "$pid" "$seconds"
stop "$pid"
echo "  CPU ratio watch -Ln --rate / top: $(ratio "${cpu[watch2]}" "${cpu[top2]}")x," \
  "watch -Lnc / top: $(ratio "${cpu[watch2c]}" "${cpu[top2]}")x"
