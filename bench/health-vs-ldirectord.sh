#!/usr/bin/env bash
# lvsctl health against Debian's ldirectord on the same ldirectord.cf, in one VM run:
# N real servers (default 1000) checked with checktype=connect every second.
#
#   bench/health-vs-ldirectord.sh [REALS] [SECONDS]          (default 1000 30)
#
# For each daemon (each in a fresh director netns, real servers in a second netns behind a
# veth): CPU seconds used over SECONDS of steady state (utime+stime of the daemon and its
# children, from /proc), peak RSS, and detection latency: time from making one real refuse
# connections (an nft reject rule in the server netns) until it is gone from the kernel table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
reals=${1:-1000}
secs=${2:-30}
# LVSCTL=path uses another build (e.g. target/debug/lvsctl for a quick trial run).
if [ -z "${LVS_VM:-}" ]; then
  [ -n "${LVSCTL:-}" ] || cargo build --release --bin lvsctl >&2
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 -- "$0" "$@"
fi
lvsctl=${LVSCTL:-$PWD/target/release/lvsctl}
work=$(mktemp -d /run/hbench.XXXXXX)
hz=$(getconf CLK_TCK)

# Real servers: one perl process accepting on every port 20000+i of 10.2.0.1 and closing.
server_script=$work/servers.pl
cat > "$server_script" <<'PERL'
use IO::Socket::INET; use IO::Select;
my ($n) = @ARGV; my $sel = IO::Select->new;
for my $i (1 .. $n) {
  my $s = IO::Socket::INET->new(LocalAddr => "10.2.0.1", LocalPort => 20000 + $i,
    Listen => 128, ReuseAddr => 1, Proto => "tcp") or die "listen $i: $!";
  $sel->add($s);
}
print "ready\n"; $| = 1;
while (1) { for my $s ($sel->can_read) { my $c = $s->accept; close $c if $c } }
PERL

config=$work/bench.cf
{
  printf 'checkinterval=1\nchecktimeout=3\nquiescent=no\nlogfile="%s/ld.log"\n' "$work"
  printf 'virtual=10.0.0.1:80\n\tprotocol=tcp\n\tscheduler=wlc\n\tchecktype=connect\n'
  for i in $(seq 1 "$reals"); do printf '\treal=10.2.0.1:%d masq\n' $((20000 + i)); done
} > "$config"

setup() { # NETNS: director netns + server netns "$1-srv" joined by a veth
  local ns=$1
  ip netns add "$ns"; ip netns add "$ns-srv"
  ip -n "$ns" link set lo up; ip -n "$ns-srv" link set lo up
  ip -n "$ns" link add v0 type veth peer name v1 netns "$ns-srv"
  ip -n "$ns" addr add 10.2.0.254/24 dev v0; ip -n "$ns" link set v0 up
  ip -n "$ns-srv" addr add 10.2.0.1/24 dev v1; ip -n "$ns-srv" link set v1 up
  ip netns exec "$ns-srv" perl "$server_script" "$reals" > "$work/$ns.srv" &
  srv_pid=$!
  until grep -q ready "$work/$ns.srv" 2>/dev/null; do sleep 0.2; done
}
cpu_ticks() { # PID: utime+stime+cutime+cstime
  awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
tree_rss_kb() { # PID: RSS of the process and its children
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    local kb
    kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
count_reals() { ip netns exec "$1" ipvsadm -Ln | grep -c -- '-> 10.2.0.1' || true; }

run() { # NAME NETNS CMD...
  local name=$1 ns=$2; shift 2
  setup "$ns"
  ip netns exec "$ns" "$@" > "$work/$name.out" 2>&1 &
  local pid=$! t0
  t0=$(date +%s)
  until [ "$(count_reals "$ns")" -ge "$reals" ]; do
    sleep 0.5
    if [ $(( $(date +%s) - t0 )) -gt 300 ]; then echo "$name: reals never all up" >&2; break; fi
  done
  local up=$(( $(date +%s) - t0 ))
  local c0 c1 w0 w1 rss peak=0
  c0=$(cpu_ticks "$pid"); w0=$(date +%s.%N)
  for _ in $(seq 1 "$secs"); do
    sleep 1; rss=$(tree_rss_kb "$pid"); [ "$rss" -gt "$peak" ] && peak=$rss
  done
  c1=$(cpu_ticks "$pid"); w1=$(date +%s.%N)
  local wall; wall=$(echo "$w1 - $w0" | bc -l)
  ip netns exec "$ns-srv" nft -f - <<NFT
table inet bench {
  chain input {
    type filter hook input priority 0;
    tcp dport $((20000 + reals / 2)) reject with tcp reset
  }
}
NFT
  local d0 d1; d0=$(date +%s.%N)
  while [ "$(count_reals "$ns")" -ge "$reals" ]; do
    sleep 0.1
    if [ "$(echo "$(date +%s.%N) - $d0 > 600" | bc)" = 1 ]; then break; fi
  done
  d1=$(date +%s.%N)
  kill -TERM "$pid"; wait "$pid" || true
  printf '%-16s all up after %4ss  cpu %6.2f s over %5.1fs wall (%5.1f%% of one CPU)  peak RSS %7d KiB  detection %6.2f s\n' \
    "$name" "$up" "$(echo "($c1 - $c0) / $hz" | bc -l)" "$wall" \
    "$(echo "($c1 - $c0) / $hz * 100 / $wall" | bc -l)" "$peak" "$(echo "$d1 - $d0" | bc -l)"
  kill "$srv_pid" 2>/dev/null || true
}

echo "$reals reals, checkinterval=1, checktype=connect, steady state measured over ${secs}s"
# DAEMONS="lvsctl" skips ldirectord (it needs minutes per 100 reals to come up).
for daemon in ${DAEMONS:-lvsctl ldirectord}; do
  case $daemon in
    lvsctl) run "lvsctl health" hb-lvsctl "$lvsctl" health -d --socket "$work/h.sock" "$config" start ;;
    ldirectord) run "ldirectord" hb-ldirectord /usr/sbin/ldirectord -d "$config" start ;;
  esac
done
