#!/usr/bin/env bash
# What each read of `lvsctl top` costs the kernel on a big table, in one VM boot
# (examples/top-reads.rs): the GET_SERVICE dump, GET_SERVICE of a screenful of services
# one by one and pipelined, GET_DEST of a screenful pipelined, /proc/net/ip_vs_stats and a
# whole listing; CPU of the reading thread (user and kernel) and its netlink calls.
#
#   bench/top-reads.sh [SERVICES] [REALS_PER_SERVICE] [SCREEN]    (default 10000 4 50)
#
# Numbers under TCG emulation: compare the reads with each other, not with real hardware.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=${1:-10000}
reals=${2:-4}
screen=${3:-50}
if [ -z "${LVS_VM:-}" ]; then
  cargo build --release --locked --bin lvsctl --example top-reads >&2
  echo "host: $(uptime)"
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 --timeout 1800 -- "$0" "$@"
fi
echo "guest: $(uname -r); $(uptime)"
awk -v n="$services" -v r="$reals" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
    printf "-A -t %s:80 -s wlc\n", vip
    for (j = 1; j <= r; j++) printf "-a -t %s:80 -r 192.168.%d.%d:8080 -m -w 1\n", vip, j, (i % 250) + 1
  }
}' | target/release/lvsctl ipvsadm -R
target/release/examples/top-reads --reps 5 --screen "$screen"
