#!/usr/bin/env bash
# How long one read of a big IPVS connection table takes on each kernel the VM harness can
# boot: `/proc/net/ip_vs_conn` has no index and no netlink dump, so every reader (ipvsadm
# -Lnc, lvsctl conns, the dashboard's Connections view) walks it whole. Each read() of
# about 4 KiB walks the connection hash from its start to where the last one stopped, so
# the cost grows with the square of the table: on 6.1 in the VM, 25,000 rows cost 1.2 s of
# system time and 100,000 rows 15 s (5.10 and 6.12 cost the same at 100,000).
#
#   bench/conn-read.sh [CONNECTIONS] [KERNEL...]      (default 100000, every kernel)
#
# Per kernel, one boot: CONNECTIONS UDP connections (examples/udp-conns.rs, one datagram
# per source address and port to a masquerading VIP whose real servers do not exist),
# then the wall and CPU time of `cat /proc/net/ip_vs_conn`, `lvsctl -Lnc` and `lvsctl conns`
# (each once; rows counted), and `ipvsadm -Lnc` when QUICK is unset. Numbers under TCG
# emulation: compare kernels with each other, not with real hardware.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
conns=${1:-100000}
if [ -z "${LVS_VM:-}" ]; then
  shift || true
  kernels=("$@")
  [ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <(tests/vm/lvs-vm kernels)
  cargo build --release --locked --bin lvsctl --example udp-conns >&2
  echo "host: $(uptime)"
  for k in "${kernels[@]}"; do
    echo "== Linux $k"
    tests/vm/lvs-vm run --kernel "$k" --cpus 2 --mem 2048 --timeout 3600 -- "$0" "$conns"
  done
  exit 0
fi

lvsctl=$PWD/target/release/lvsctl
echo "  guest: $(uname -r); $(uptime)"
ip link add bench0 type dummy
ip link set bench0 up
ip addr add 192.168.0.254/16 dev bench0
ip addr add 10.201.0.1/32 dev bench0
ip addr add 10.201.0.2/32 dev bench0
ip addr add 10.250.0.1/32 dev lo
ipvsadm --set 900 120 7200                # keep UDP entries for the whole run
"$lvsctl" ipvsadm -A -u 10.250.0.1:53 -s rr
for j in 1 2 3 4; do "$lvsctl" ipvsadm -a -u 10.250.0.1:53 -r "192.168.250.$j:53" -m; done
t0=$EPOCHREALTIME
target/release/examples/udp-conns 10.250.0.1:53 "$conns" 10.201.0.1 10.201.0.2 > /dev/null
echo "  $conns connections made in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
# one LABEL CMD...: wall and user+system CPU of one run, and the rows it printed
one() {
  local label=$1 rows
  shift
  rows=$( { /usr/bin/time -f '%e %U %S' -o /run/conn-read.time "$@" | wc -l; } )
  read -r wall user sys < /run/conn-read.time
  printf '  %-28s %8.1f s wall %8.1f s CPU (user %.1f, system %.1f), %s lines\n' \
    "$label" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$user" "$sys" "$rows"
}
one "cat /proc/net/ip_vs_conn" cat /proc/net/ip_vs_conn
one "lvsctl -Lnc" "$lvsctl" -Lnc
one "lvsctl conns" "$lvsctl" conns
[ -n "${QUICK:-}" ] || one "ipvsadm -Lnc" ipvsadm -Lnc
