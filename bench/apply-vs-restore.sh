#!/usr/bin/env bash
# `lvsctl apply` against `ipvsadm -R` / `ipvsadm -C; ipvsadm -R`, side by side in
# one VM run (same kernel, same rules file, a fresh netns per tool and repetition).
#
#   bench/apply-vs-restore.sh [SERVICES] [REALS_PER_SERVICE]     (default 10000 4)
#   REPS=N (default 3) repetitions per scenario, the median is reported.
#   LVSCTL_BIN=PATH uses that binary instead of building target/release/lvsctl.
#   STRACE=1 also counts sendmsg calls (slow: strace under emulation multiplies ipvsadm's
#   run time at 10k services).
#
# Scenarios:
#   cold      rules file into an empty table: ipvsadm -R vs lvsctl apply   (target >= 5x)
#   no-op     the same file again: lvsctl apply (0 writes) vs one `ipvsadm -Sn` listing
#   1%        1 % of the entries changed: ipvsadm -C + -R (what operators do today) vs
#             lvsctl apply (writes = changed entries)
# Printed per scenario: median wall time of each tool, the ratio (>1: lvsctl faster), the
# kernel writes lvsctl made, and (STRACE=1) sendmsg counts of one run of each.
#
# Measured 2026-11-22 (release build, Debian 6.1 kernel under TCG, 1 vCPU, host shared with
# other jobs and heavily loaded, REPS=3), 10000x4: cold 62.3 s vs 5.06 s = 12.3x (50000
# writes); no-op 0 writes, 9.0 s for one `ipvsadm -Sn` vs 4.5 s; 1 % 111.7 s vs 5.8 s =
# 19.4x (200 writes). A separate single run the same day: ipvsadm -R 32.8 s vs lvsctl apply
# 4.87 s (user 1.8 s, sys 2.9 s) = 6.7x; ipvsadm's times swing most with host load.
# Before the encode/parse work (same VM, earlier): lvsctl user 4.0 s, 3.0-3.65x.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
services=${1:-10000}
reals=${2:-4}
reps=${REPS:-3}
if [ -z "${LVS_VM:-}" ]; then
  [ -n "${LVSCTL_BIN:-}" ] || cargo build --release --locked --bin lvsctl >&2
  exec tests/vm/lvs-vm run --cpus 1 --mem 2048 -- "$0" "$@"
fi

lvsctl=${LVSCTL_BIN:-$PWD/target/release/lvsctl}
work=$(mktemp -d /run/bench-apply.XXXXXX)
rules=$work/rules
changed=$work/changed
ns=bench-apply
trap 'ip netns del $ns 2>/dev/null || true; rm -rf "$work"' EXIT

# 10.x.y.z VIPs with masquerading reals (real servers never need to exist for IPVS).
gen() {
  awk -v n="$services" -v r="$reals" -v change="$1" 'BEGIN {
    for (i = 0; i < n; i++) {
      vip = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
      sched = (change && i % 100 == 0) ? "rr" : "wlc"
      printf "-A -t %s:80 -s %s\n", vip, sched
      for (j = 1; j <= r; j++) {
        w = (change && i % 100 == 50 && j == 1) ? 3 : 1
        printf "-a -t %s:80 -r 192.168.%d.%d:8080 -m -w %d\n", vip, j, (i % 250) + 1, w
      }
    }
  }'
}
gen 0 > "$rules"
gen 1 > "$changed"

# lo must be up: the kernel refuses real servers whose address type it cannot route (EINVAL).
fresh() { ip netns del $ns 2>/dev/null || true; ip netns add $ns; ip -n $ns link set lo up; }
# elapsed CMD... : seconds CMD takes inside the netns (stdout discarded)
elapsed() {
  local t0 t1; t0=$(date +%s.%N); ip netns exec $ns "$@" > /dev/null; t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "inf" }'; }
sendmsgs() {
  [ -n "${STRACE:-}" ] || { printf -- -; return; }
  ip netns exec $ns strace -f -c -e trace=sendmsg,sendto -o "$work/strace" "$@" > /dev/null 2>&1 || true
  awk '$NF == "sendmsg" || $NF == "sendto" { s += $4 } END { printf "%d", s }' "$work/strace"
}
apply() { "$lvsctl" apply --lock-file "$work/lock" "$@"; }
writes() { ip netns exec $ns "$lvsctl" apply --lock-file "$work/lock" "$1" | awk '/^Applied:/ { print $2 } /^No changes/ { print 0 }'; }
restore() { ipvsadm -R < "$1"; }
# Seeding for the 1 % scenario (how the table got there is not what is measured).
seed() { ip netns exec $ns "$lvsctl" apply --lock-file "$work/lock" "$rules" > /dev/null; }
flush_restore() { ipvsadm -C && ipvsadm -R < "$1"; }
export -f apply restore flush_restore
export lvsctl work

echo "kernel $(uname -r), run_estimation=$(cat /proc/sys/net/ipv4/vs/run_estimation 2>/dev/null || echo '?'), table ${services}x${reals}, $reps reps"
printf '%-10s %12s %12s %8s %14s   %s\n' scenario baseline lvsctl ratio "lvsctl writes" "sendmsg (baseline | lvsctl)"

# cold: empty table -> file
a=(); b=()
for _ in $(seq "$reps"); do
  fresh; a+=("$(elapsed bash -c 'restore "$0"' "$rules")")
  fresh; b+=("$(elapsed bash -c 'apply "$0"' "$rules")")
done
fresh; sa=$(sendmsgs bash -c 'restore "$0"' "$rules")
fresh; w=$(writes "$rules")
fresh; sb=$(sendmsgs bash -c 'apply "$0"' "$rules")
ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
printf '%-10s %11ss %11ss %7sx %14s   %s | %s\n' cold "$ma" "$mb" "$(ratio "$ma" "$mb")" "$w" "$sa" "$sb"

# no-op: the table already matches
fresh; seed
a=(); b=()
for _ in $(seq "$reps"); do
  a+=("$(elapsed ipvsadm -Sn)")
  b+=("$(elapsed bash -c 'apply "$0"' "$rules")")
done
w=$(writes "$rules")
sa=$(sendmsgs ipvsadm -Sn); sb=$(sendmsgs bash -c 'apply "$0"' "$rules")
ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
printf '%-10s %11ss %11ss %7sx %14s   %s | %s   (baseline: one ipvsadm -Sn listing)\n' no-op "$ma" "$mb" "$(ratio "$ma" "$mb")" "$w" "$sa" "$sb"

# 1 %: changed file onto the original table
a=(); b=()
for _ in $(seq "$reps"); do
  fresh; seed; a+=("$(elapsed bash -c 'flush_restore "$0"' "$changed")")
  fresh; seed; b+=("$(elapsed bash -c 'apply "$0"' "$changed")")
done
fresh; seed; w=$(writes "$changed")
ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
printf '%-10s %11ss %11ss %7sx %14s   %s\n' "1%" "$ma" "$mb" "$(ratio "$ma" "$mb")" "$w" "(baseline: ipvsadm -C; ipvsadm -R)"
