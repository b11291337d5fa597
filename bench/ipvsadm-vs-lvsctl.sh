#!/usr/bin/env bash
# Listing and restore speed of lvsctl's ipvsadm personality against the real ipvsadm 1.31,
# side by side in one VM run (same kernel, same table, fresh netns per tool and step).
#
#   bench/ipvsadm-vs-lvsctl.sh [SERVICES] [REALS_PER_SERVICE]     (default 10000 4)
#   environment: LVSCTL_BIN (default target/release/lvsctl, built first), SMALL_RUNS (31)
#
# Prints, per scenario, the wall time of each tool, the ratio ipvsadm/lvsctl (>1 means
# lvsctl is faster) and the netlink sendmsg/recvmsg syscall counts (strace -c).
# Targets: listing >= 2x faster, restore >= 3x faster, never slower at 10 services.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=${1:-10000}
reals=${2:-4}
if [ -z "${LVS_VM:-}" ]; then
  [ -n "${LVSCTL_BIN:-}" ] || cargo build --release --locked --bin lvsctl >&2
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 -- "$0" "$@"
fi

# LVSCTL_BIN: another lvsctl to measure, e.g. the packaged one (`dpkg-deb -x` it first).
lvsctl=${LVSCTL_BIN:-$PWD/target/release/lvsctl}
work=$(mktemp -d /run/bench.XXXXXX)
ln -s "$lvsctl" "$work/ipvsadm"            # the strict personality, selected by argv[0]
rules=$work/rules

# 10.x.y.z VIPs, 4 masquerading reals each (real servers never need to exist for IPVS).
awk -v n="$services" -v r="$reals" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
    printf "-A -t %s:80 -s wlc\n", vip
    for (j = 1; j <= r; j++) printf "-a -t %s:80 -r 192.168.%d.%d:8080 -m -w 1\n", vip, j, (i % 250) + 1
  }
}' > "$rules"

# time_in_netns NETNS CMD... : seconds CMD takes inside the netns (measured in there, so
# the cost of entering the namespace is not counted)
time_in_netns() {
  local ns=$1; shift
  ip netns exec "$ns" bash -c 'TIMEFORMAT=%R; { time "$@" > /dev/null 2>&1; } 2>&1' _ "$@"
}
# Netlink syscalls of one run (strace stops only on the traced calls with seccomp-bpf).
syscalls() {
  local ns=$1; shift
  ip netns exec "$ns" strace -f --seccomp-bpf -c -o "$work/strace" \
    -e trace=sendmsg,recvmsg,sendto,recvfrom "$@" > /dev/null 2>&1 || true
  awk '$NF ~ /^send/ { s += $4 } $NF ~ /^recv/ { r += $4 } END { printf "send=%d recv=%d", s, r }' "$work/strace"
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "inf" }'; }

fresh_netns() {
  local ns
  for ns in bench-ipvsadm bench-lvsctl; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up   # with lo down the kernel refuses every real server
  done
}
fresh_netns
trap 'ip netns del bench-ipvsadm; ip netns del bench-lvsctl; rm -rf "$work"' EXIT

# Warm up: the first start of each binary pays for loading it over 9p.
"$work/ipvsadm" -v > /dev/null 2>&1 || true; ipvsadm -v > /dev/null 2>&1 || true

printf '%-22s %10s %10s %8s   %s\n' scenario ipvsadm lvsctl ratio "syscalls (ipvsadm | lvsctl)"
report() {
  local name=$1 a=$2 b=$3 sa=$4 sb=$5
  printf '%-22s %9ss %9ss %7sx   %s | %s\n' "$name" "$a" "$b" "$(ratio "$a" "$b")" "$sa" "$sb"
}

a=$(time_in_netns bench-ipvsadm ipvsadm -R < "$rules")
b=$(time_in_netns bench-lvsctl "$work/ipvsadm" -R < "$rules")
report "restore ${services}x${reals}" "$a" "$b" "(writes: $(wc -l < "$rules") each)" ""

for args in "-Ln" "-Ln --stats" "-Sn"; do
  a=$(time_in_netns bench-ipvsadm ipvsadm $args)
  b=$(time_in_netns bench-lvsctl "$work/ipvsadm" $args)
  report "$args" "$a" "$b" "" ""
done

# Syscall counts: tracing every netlink call of ipvsadm at 10,000 services takes many
# minutes under emulation, so they are taken on the first 1,000 services of the table.
head -n $((1000 * (reals + 1))) "$rules" > "$work/thousand"
fresh_netns
ip netns exec bench-ipvsadm ipvsadm -R < "$work/thousand"
ip netns exec bench-lvsctl ipvsadm -R < "$work/thousand"
for args in "-Ln" "-Sn"; do
  printf '%-22s netlink syscalls: ipvsadm %s | lvsctl %s\n' "$args (1000x${reals})" \
    "$(syscalls bench-ipvsadm ipvsadm $args)" "$(syscalls bench-lvsctl "$work/ipvsadm" $args)"
done
printf '%-22s netlink syscalls: ipvsadm %s | lvsctl %s\n' "-R (1000x${reals})" \
  "$(fresh_netns; syscalls bench-ipvsadm ipvsadm -R < "$work/thousand")" \
  "$(syscalls bench-lvsctl "$work/ipvsadm" -R < "$work/thousand")"

# Small table: lvsctl must never be slower. One run of either tool takes tens of
# milliseconds, mostly process start-up, and one sample on an emulated CPU shared with other
# work is off by more than the difference; so each tool runs SMALL_RUNS times (default 31),
# the two alternating, and the medians are compared.
small_runs=${SMALL_RUNS:-31}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
head -n $((10 * (reals + 1))) "$rules" > "$work/small"
fresh_netns
: > "$work/a"; : > "$work/b"
for ((i = 0; i < small_runs; i++)); do
  ip netns exec bench-ipvsadm ipvsadm -C; ip netns exec bench-lvsctl ipvsadm -C
  time_in_netns bench-ipvsadm ipvsadm -R < "$work/small" >> "$work/a"
  time_in_netns bench-lvsctl "$work/ipvsadm" -R < "$work/small" >> "$work/b"
done
report "restore 10x${reals}" "$(median < "$work/a")" "$(median < "$work/b")" \
  "(median of $small_runs)" ""
: > "$work/a"; : > "$work/b"
for ((i = 0; i < small_runs; i++)); do
  time_in_netns bench-ipvsadm ipvsadm -Ln >> "$work/a"
  time_in_netns bench-lvsctl "$work/ipvsadm" -Ln >> "$work/b"
done
report "-Ln (10 services)" "$(median < "$work/a")" "$(median < "$work/b")" \
  "(median of $small_runs)" ""
