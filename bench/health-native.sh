#!/usr/bin/env bash
# lvsctl health natively, without IPVS: the real daemon (examples/health-native.rs: the
# event loop, the check tasks and the kernel thread, over the in-memory backend) checking
# REALS real servers every second on this machine, as bench/health-vs-ldirectord.sh does in
# the emulated VM. Emulation makes a TCP handshake ~25 times dearer; this shows what the
# checks cost on real hardware. ldirectord cannot run here (it needs ipvsadm and IPVS).
#
#   bench/health-native.sh [REALS] [SECONDS] [SAMPLES]          (default 1000 30 40)
#   CHECKS="connect http" picks the check types. FORMAT=keepalived runs the daemon on the
#   equivalent keepalived.conf (TCP_CHECK / HTTP_GET, retry 0), as `lvsctl health
#   --keepalived` does. PERF=DIR records a perf profile of each run there. Needs root,
#   ip netns and nft (and perf for PERF). HEALTH_NATIVE=PATH runs another build of the
#   example (an A/B of two versions: alternate runs, the host's load moves the numbers).
#
# Same servers, config, failure injection and statistics as the VM bench (see there);
# detection ends when the in-memory backend acknowledges the DEL_DEST. `floor` is a bare
# blocking connect (and GET) loop: the kernel's share of one check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
reals=${1:-1000}
secs=${2:-30}
samples=${3:-40}
cargo build --release --locked --example health-native --example health-bench >&2
native=${HEALTH_NATIVE:-$PWD/target/release/examples/health-native}
helper=$PWD/target/release/examples/health-bench
work=$(mktemp -d /tmp/hnative.XXXXXX)
hz=$(getconf CLK_TCK)
interval=1 timeout=3
probe=$((20000 + reals))
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$reals reals, checkinterval=$interval, checktimeout=negotiatetimeout=$timeout," \
  "failurecount=1, quiescent=no; steady state over ${secs}s; $samples failures per run"

config() { # CHECK
  if [ "${FORMAT:-ldirectord}" = keepalived ]; then keepalived_conf "$1"; return; fi
  printf 'checkinterval=%s\nchecktimeout=%s\nnegotiatetimeout=%s\n' "$interval" "$timeout" "$timeout"
  printf 'quiescent=no\nvirtual=10.0.0.1:80\n\tprotocol=tcp\n\tscheduler=wlc\n'
  case $1 in
    connect) printf '\tchecktype=connect\n' ;;
    http) printf '\tchecktype=negotiate\n\tservice=http\n\trequest="health"\n\treceive="ok"\n' ;;
  esac
  for i in $(seq 1 "$reals"); do printf '\treal=10.2.0.1:%d masq 1\n' $((20000 + i)); done
}
keepalived_conf() { # CHECK
  printf 'virtual_server 10.0.0.1 80 {\n    delay_loop %s\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n' "$interval"
  for i in $(seq 1 "$reals"); do
    printf '    real_server 10.2.0.1 %d {\n        weight 1\n' $((20000 + i))
    case $1 in
      connect) printf '        TCP_CHECK {\n' ;;
      http) printf '        HTTP_GET {\n            url {\n                path /health\n                status_code 200\n            }\n' ;;
    esac
    printf '            connect_timeout %s\n            retry 0\n        }\n    }\n' "$timeout"
  done
  printf '}\n'
}
cleanup() {
  for ns in hn-dir hn-srv; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap 'cleanup; rm -rf "$work"' EXIT
cpu_ticks() { awk '{ print $14 + $16, $15 + $17 }' "/proc/$1/stat"; }
accepted() { awk '/^accepted/ { n = $2 } END { print n + 0 }' "$work/srv"; }

measure() { # PID: prints "cpu_s_per_min user_s_per_min checks_per_min" over $secs
  local u0 s0 u1 s1 a0 a1 w0 w1 wall
  read -r u0 s0 <<< "$(cpu_ticks "$1")"; a0=$(accepted); w0=$(date +%s.%N)
  sleep "$secs"
  read -r u1 s1 <<< "$(cpu_ticks "$1")"; a1=$(accepted); w1=$(date +%s.%N)
  wall=$(echo "$w1 - $w0" | bc -l)
  echo "$(echo "($u1 + $s1 - $u0 - $s0) / $hz * 60 / $wall" | bc -l)" \
    "$(echo "($u1 - $u0) / $hz * 60 / $wall" | bc -l)" "$(echo "($a1 - $a0) * 60 / $wall" | bc -l)"
}

for check in ${CHECKS:-connect http}; do
  cleanup
  ip netns add hn-dir; ip netns add hn-srv
  ip -n hn-dir link set lo up; ip -n hn-srv link set lo up
  ip -n hn-dir link add v0 type veth peer name v1 netns hn-srv
  ip -n hn-dir addr add 10.2.0.254/24 dev v0; ip -n hn-dir link set v0 up
  ip -n hn-srv addr add 10.2.0.1/24 dev v1; ip -n hn-srv link set v1 up
  ip netns exec hn-srv nft -f - <<'NFT'
table inet hbench {
  set refused { type inet_service; }
  set dropped { type inet_service; }
  chain input {
    type filter hook input priority 0;
    tcp dport @refused reject with tcp reset
    tcp dport @dropped drop
  }
}
NFT
  ip netns exec hn-srv "$helper" serve 10.2.0.1 20001 $((reals - 1)) > "$work/srv" 2>&1 &
  until grep -q ready "$work/srv"; do sleep 0.1; done

  ip netns exec hn-dir "$helper" floor "$check" 10.2.0.1 20001 $((reals - 1)) &
  pid=$!; sleep 3
  read -r cpu user checks <<< "$(measure "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  floor=$(echo "$cpu * 1000 / ($checks + 0.001)" | bc -l)
  printf '%-7s floor   cpu %6.2f s/min (%5.1f%% of a core)  checks %6.0f/min  cpu per 1000 checks %.3f s\n' \
    "$check" "$cpu" "$(echo "$cpu / 0.6" | bc -l)" "$checks" "$floor"

  config "$check" > "$work/$check.cf"
  : > "$work/deleted"
  format=()
  [ "${FORMAT:-ldirectord}" = keepalived ] && format=(--keepalived)
  ip netns exec hn-dir "$native" "${format[@]}" "$work/$check.cf" > "$work/deleted" 2> "$work/$check.log" &
  pid=$!
  t0=$(date +%s.%N)
  until grep -q "^deleted $probe " "$work/deleted"; do sleep 0.05; done
  ready=$(echo "$(date +%s.%N) - $t0" | bc -l)
  sleep 5
  perf_pid=
  if [ -n "${PERF:-}" ]; then
    perf record -F "${PERF_HZ:-499}" -g -p "$pid" -o "$PERF/$check.perf.data" -- sleep "$secs" > /dev/null 2>&1 &
    perf_pid=$!
  fi
  read -r cpu user checks <<< "$(measure "$pid")"
  [ -z "$perf_pid" ] || wait "$perf_pid" || true
  rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
  flaps=$(grep -c '^deleted' "$work/deleted" || true)
  printf '%-7s lvsctl  cpu %6.2f s/min (%5.1f%% of a core, user %.2f)  checks %6.0f/min  cpu per 1000 checks %.3f s (%.3f above the floor)  ready %.1fs  peak RSS %d KiB\n' \
    "$check" "$cpu" "$(echo "$cpu / 0.6" | bc -l)" "$user" "$checks" \
    "$(echo "$cpu * 1000 / ($checks + 0.001)" | bc -l)" \
    "$(echo "$cpu * 1000 / ($checks + 0.001) - $floor" | bc -l)" "$ready" "$rss"
  [ "$flaps" -le 1 ] || echo "        warning: $((flaps - 1)) reals besides the probe were taken out before the failures"
  # shellcheck disable=SC2046 # a word list of ports
  HB_DELETIONS="$work/deleted" ip netns exec hn-dir "$helper" detect 10.0.0.1:80 hn-srv \
    "$samples" 42 120 $(seq 20001 $((20000 + reals - 1))) > "$work/$check.detect"
  grep -E '^(detect|nft|warning)' "$work/$check.detect" | sed "s/^/        /"
  echo "        bound: p99 <= $interval + $timeout + 0.1 = $(echo "$interval + $timeout + 0.1" | bc -l) s"
  if [ -n "${KEEP:-}" ]; then cp "$work/$check".* "$KEEP/"; fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
