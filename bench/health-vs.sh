#!/usr/bin/env bash
# lvsctl health against an incumbent checker on the same configuration file, in one VM run:
# REALS real servers (default 1000) checked every second, once with a connect check and
# once with an HTTP check, by each daemon in turn. The incumbent is the first argument:
#
#   ldirectord  Debian's ldirectord on an ldirectord.cf (checktype=connect; checktype=
#               negotiate service=http); lvsctl reads the same file.
#               bench/health-vs-ldirectord.sh is this with `ldirectord`.
#   keepalived  Debian's keepalived, its checker only (`keepalived -C`), on a
#               keepalived.conf (TCP_CHECK; HTTP_GET url /health status_code 200), retry 0;
#               lvsctl reads the same file (`lvsctl health --keepalived`).
#               bench/health-vs-keepalived.sh is this with `keepalived`.
#
#   bench/health-vs.sh ldirectord|keepalived [REALS] [SECONDS] [SAMPLES]  (default 1000 60 40)
#   DAEMONS="floor lvsctl INCUMBENT" CHECKS="connect http" pick what runs (default: all).
#   `floor` is examples/health-bench.rs `floor`: blocking connects (and GETs) in a loop and
#   nothing else, i.e. the kernel's share of a check on this machine. In one VM the real
#   servers' half of every TCP handshake is processed by the kernel in the checker's own
#   context (veth delivers in the sender's softirq), so that share is large and the same for
#   every checker; "CPU per check above the floor" is what the checker itself adds. The
#   floor closes its connections with a reset, as lvsctl's checks do.
#   SAMPLES_INCUMBENT=N (or SAMPLES_LDIRECTORD) overrides SAMPLES for the incumbent
#   (ldirectord's check loop is sequential, so every dropped real adds the timeout to each
#   of its cycles).
#   KEEP=DIR keeps each run's logs and per-failure samples; PERF=DIR adds a 10 s perf
#   profile of each daemon after its measured window.
#
# Each run gets a fresh director netns and a server netns behind a veth. The real servers
# are one process (examples/health-bench.rs `serve`) answering `HTTP/1.0 200 OK` on ports
# 20001.. of 10.2.0.1; the last configured real (port 20000+REALS) has no listener and is
# the "ready" probe. The table is preloaded with every real (ipvsadm -R), as on a director
# whose daemon restarts; otherwise ldirectord needs tens of minutes to add 1,000 reals (two
# `ipvsadm` runs and one `ipvsadm -Ln` parse per real). A daemon is *ready* once the probe
# real is gone: it has started and checked every real once.
#
# Measured per run, after 5 s of settling:
#   CPU   utime+stime (+ reaped children, i.e. ldirectord's ipvsadm calls) over SECONDS of
#         steady state, from /proc/PID/stat, scaled to CPU seconds per minute;
#   RSS   peak resident set (VmHWM) of the daemon at the end;
#   detection latency: SAMPLES reals fail one after another at random 0.3-1.3 s gaps,
#         alternating `refuse` (SYN answered by a reset: fails at once) and `drop` (SYN
#         lost: fails by timeout), each from the moment its nft rule is in force until the
#         real is gone from the kernel table (read every 20 ms over netlink). Reported as
#         p50/p99/max (nearest rank: with fewer than 100 samples p99 is the maximum).
#   keepalived's checker is a child process of keepalived: its CPU and peak RSS are added
#   to the parent's.
# Bound: p99 <= interval + timeout + 0.1 s (checkinterval/delay_loop 1 s; checktimeout and
# negotiatetimeout, or connect_timeout, 3 s): 4.1 s. With failurecount=1 (retry 0) the
# first failed check takes the real out, so interval + timeout is the worst case: a
# failure just after a check started is seen by the next one, which takes at most the
# timeout.
#
# TCG emulation makes absolute numbers several times those of real hardware, and on a busy
# host guest CPU time also counts time the vCPU was not running: compare the ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
incumbent=${1:-}
case $incumbent in
  ldirectord | keepalived) shift ;;
  *) echo "usage: bench/health-vs.sh ldirectord|keepalived [REALS] [SECONDS] [SAMPLES]" >&2; exit 2 ;;
esac
reals=${1:-1000}
secs=${2:-60}
samples=${3:-40}
if [ -z "${LVS_VM:-}" ]; then
  if [ -z "${LVSCTL:-}" ]; then
    cargo build --release --locked --bin lvsctl --example health-bench >&2
  fi
  echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (guest CPU times include the time its vCPUs were descheduled)"
  exec tests/vm/lvs-vm run --cpus 2 --mem 2048 --timeout "${VM_TIMEOUT:-7200}" -- \
    "$PWD/bench/health-vs.sh" "$incumbent" "$@"
fi
lvsctl=${LVSCTL:-$PWD/target/release/lvsctl}
helper=${HEALTH_BENCH:-$PWD/target/release/examples/health-bench}
work=$(mktemp -d /run/hbench.XXXXXX)
hz=$(getconf CLK_TCK)
interval=1 timeout=3
bound=$(echo "$interval + $timeout + 0.1" | bc -l)
probe=$((20000 + reals))

ldirectord_cf() { # CHECK LOGFILE: the ldirectord.cf for one check type
  printf 'checkinterval=%s\nchecktimeout=%s\nnegotiatetimeout=%s\n' "$interval" "$timeout" "$timeout"
  printf 'quiescent=no\nsupervised=yes\nlogfile="%s"\n' "$2"
  printf 'virtual=10.0.0.1:80\n\tprotocol=tcp\n\tscheduler=wlc\n'
  case $1 in
    connect) printf '\tchecktype=connect\n' ;;
    http) printf '\tchecktype=negotiate\n\tservice=http\n\trequest="health"\n\treceive="ok"\n' ;;
  esac
  for i in $(seq 1 "$reals"); do printf '\treal=10.2.0.1:%d masq 1\n' $((20000 + i)); done
}

keepalived_conf() { # CHECK: the keepalived.conf for one check type (it logs to syslog/console)
  printf 'global_defs {\n    router_id hbench\n}\n'
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

config() { # CHECK LOGFILE: the configuration file for the incumbent's format
  case $incumbent in
    ldirectord) ldirectord_cf "$@" ;;
    keepalived) keepalived_conf "$1" ;;
  esac
}

preload() { # the table every run starts from, in ipvsadm -R form
  echo "-A -t 10.0.0.1:80 -s wlc"
  for i in $(seq 1 "$reals"); do echo "-a -t 10.0.0.1:80 -r 10.2.0.1:$((20000 + i)) -m -w 1"; done
}

setup() { # NETNS: director netns + server netns "$1-srv" joined by a veth
  local ns=$1
  ip netns add "$ns"; ip netns add "$ns-srv"
  ip -n "$ns" link set lo up; ip -n "$ns-srv" link set lo up
  ip -n "$ns" link add v0 type veth peer name v1 netns "$ns-srv"
  ip -n "$ns" addr add 10.2.0.254/24 dev v0; ip -n "$ns" link set v0 up
  ip -n "$ns-srv" addr add 10.2.0.1/24 dev v1; ip -n "$ns-srv" link set v1 up
  ip -n "$ns" link add nlmon0 type nlmon; ip -n "$ns" link set nlmon0 up
  ip netns exec "$ns-srv" nft -f - <<'NFT'
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
  ip netns exec "$ns-srv" "$helper" serve 10.2.0.1 20001 $((reals - 1)) > "$work/$ns.srv" 2>&1 &
  srv_pid=$!
  until grep -q ready "$work/$ns.srv" 2>/dev/null; do
    kill -0 "$srv_pid" 2>/dev/null || { cat "$work/$ns.srv" >&2; exit 1; }
    sleep 0.2
  done
  preload | ip netns exec "$ns" ipvsadm -R
}
cpu_ticks() { # PID: "user system" ticks, reaped children included, live children added
  local p stats=("/proc/$1/stat")
  for p in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do stats+=("/proc/$p/stat"); done
  awk '{ u += $14 + $16; s += $15 + $17 } END { print u + 0, s + 0 }' "${stats[@]}" 2>/dev/null ||
    echo 0 0
}
accepted() { awk '/^accepted/ { n = $2 } END { print n + 0 }' "$work/$1.srv"; }
hwm_kb() { # PID: peak RSS, its live children's added (keepalived's checker)
  local p files=("/proc/$1/status")
  for p in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do files+=("/proc/$p/status"); done
  awk '/^VmHWM/ { k += $2 } END { print k + 0 }' "${files[@]}" 2>/dev/null || echo 0
}

declare -A result
run() { # DAEMON CHECK
  local daemon=$1 check=$2 ns="hb-$1-$2" n=$samples
  local cf="$work/$daemon-$check.conf"
  config "$check" "$work/$ns.log" > "$cf"
  setup "$ns"
  local t0; t0=$(date +%s.%N)
  case $daemon in
    lvsctl)
      local file=("$cf")
      [ "$incumbent" = keepalived ] && file=(--keepalived "$cf")
      ip netns exec "$ns" "$lvsctl" health --foreground --socket "$work/$ns.sock" \
        --pid-file "$work/$ns.pid" "${file[@]}" start > "$work/$ns.out" 2>&1 & ;;
    ldirectord) ip netns exec "$ns" /usr/sbin/ldirectord "$cf" start > "$work/$ns.out" 2>&1 &
                n=${SAMPLES_INCUMBENT:-${SAMPLES_LDIRECTORD:-$samples}} ;;
    keepalived)
      ip netns exec "$ns" /usr/sbin/keepalived --check --dont-fork --log-console --log-detail \
        --use-file "$cf" --pid "$work/$ns.kpid" --checkers_pid "$work/$ns.cpid" \
        > "$work/$ns.out" 2>&1 &
      n=${SAMPLES_INCUMBENT:-$samples} ;;
    floor) ip netns exec "$ns" "$helper" floor "$check" 10.2.0.1 20001 $((reals - 1)) \
             > "$work/$ns.out" 2>&1 & ;;
  esac
  local pid=$!
  local ready=0
  if [ "$daemon" != floor ]; then
    # A daemon that exits (a refused file, a bad option) ends the run at once.
    ip netns exec "$ns" "$helper" wait-gone 10.0.0.1:80 "$probe" 3600 > "$work/$ns.ready" &
    local waiter=$!
    while kill -0 "$waiter" 2>/dev/null; do
      if ! kill -0 "$pid" 2>/dev/null; then
        kill "$waiter" 2>/dev/null || true
        echo "$daemon $check: exited before it was ready" >&2; tail -5 "$work/$ns.out" >&2; return 1
      fi
      sleep 0.5
    done
    if ! wait "$waiter"; then
      echo "$daemon $check: never ready" >&2; tail -5 "$work/$ns.out" >&2; return 1
    fi
    ready=$(cat "$work/$ns.ready")
  fi
  sleep 5
  local u0 s0 u1 s1 w0 w1 wall a0 a1
  local v0 v1
  read -r u0 s0 <<< "$(cpu_ticks "$pid")"; w0=$(date +%s.%N); a0=$(accepted "$ns")
  read -r v0 <<< "$(cpu_ticks "$srv_pid" | awk '{ print $1 + $2 }')"
  sleep "$secs"
  read -r u1 s1 <<< "$(cpu_ticks "$pid")"; w1=$(date +%s.%N); a1=$(accepted "$ns")
  read -r v1 <<< "$(cpu_ticks "$srv_pid" | awk '{ print $1 + $2 }')"
  wall=$(echo "$w1 - $w0" | bc -l)
  local cpu_min user_min rss checks_min srv_min
  srv_min=$(echo "($v1 - $v0) / $hz * 60 / $wall" | bc -l)
  checks_min=$(echo "($a1 - $a0) * 60 / $wall" | bc -l)
  cpu_min=$(echo "($u1 + $s1 - $u0 - $s0) / $hz * 60 / $wall" | bc -l)
  user_min=$(echo "($u1 - $u0) / $hz * 60 / $wall" | bc -l)
  rss=$(hwm_kb "$pid")
  local flaps; flaps=$(cat "$work/$ns.out" "$work/$ns.log" 2>/dev/null | grep -cE 'Deleted real server|Removing service' || true)
  if [ -n "${PERF:-}" ]; then # PERF=DIR: a 10 s profile after the measured window
    perf record -q -e cpu-clock -g -p "$pid" -o "$work/$ns.perf" -- sleep 10 >/dev/null 2>&1 || true
    perf report -i "$work/$ns.perf" --stdio --children -g none --percent-limit 1 2>/dev/null > "$PERF/$ns.txt" || true
    perf report -i "$work/$ns.perf" --stdio --no-children -g none --sort dso,sym --percent-limit 0.3 2>/dev/null >> "$PERF/$ns.txt" || true
  fi
  if [ "$daemon" = floor ]; then
    kill -TERM "$pid"; wait "$pid" || true
    kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true
    ip netns del "$ns"; ip netns del "$ns-srv"
    printf '%-10s %-7s cpu %6.2f s/min (%5.1f%% of a core, user %.2f s/min)  checks done %6.0f/min  cpu per 1000 checks %.3f s\n' \
      "$daemon" "$check" "$cpu_min" "$(echo "$cpu_min / 60 * 100" | bc -l)" "$user_min" "$checks_min" \
      "$(echo "$cpu_min * 1000 / ($checks_min + 0.001)" | bc -l)"
    result[$daemon-$check-per1k]=$(echo "$cpu_min * 1000 / ($checks_min + 0.001)" | bc -l)
    return 0
  fi
  local ports; ports=$(seq 20001 $((20000 + reals - 1)) | tr '\n' ' ')
  # shellcheck disable=SC2086 # ports is a word list
  ip netns exec "$ns" "$helper" detect 10.0.0.1:80 "$ns-srv" "$n" 42 300 $ports \
    > "$work/$ns.detect"
  kill -TERM "$pid"; wait "$pid" || true
  kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true
  ip netns del "$ns"; ip netns del "$ns-srv"
  local all refuse drop
  all=$(grep '^detect all' "$work/$ns.detect")
  refuse=$(grep '^detect refuse' "$work/$ns.detect")
  drop=$(grep '^detect drop' "$work/$ns.detect")
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
  printf '%-10s %-7s ready %6.1fs  cpu %6.2f s/min (%5.1f%% of a core, user %.2f s/min)  peak RSS %7d KiB\n' \
    "$daemon" "$check" "$ready" "$cpu_min" "$(echo "$cpu_min / 60 * 100" | bc -l)" "$user_min" "$rss"
  printf '           checks done %6.0f/min (%.0f%% of %d/min)  cpu per 1000 checks %.3f s  (servers: %.1f s/min)\n' \
    "$checks_min" "$(echo "$checks_min / ($reals - 1) / 60 * $interval * 100" | bc -l)" \
    $(((reals - 1) * 60 / interval)) "$(echo "$cpu_min * 1000 / ($checks_min + 0.001)" | bc -l)" "$srv_min"
  printf '           detection (s): all n=%s p50 %s p99 %s max %s missed %s | refuse p50 %s p99 %s | drop p50 %s p99 %s\n' \
    "$(field n "$all")" "$(field p50 "$all")" "$(field p99 "$all")" "$(field max "$all")" \
    "$(field missed "$all")" "$(field p50 "$refuse")" "$(field p99 "$refuse")" \
    "$(field p50 "$drop")" "$(field p99 "$drop")"
  printf '           p99 within %.1f s: %s\n' "$bound" \
    "$(echo "$(field p99 "$all") <= $bound && $(field missed "$all") == 0" | bc -l | sed 's/1/yes/;s/0/NO/')"
  grep -E '^(warning|nft|skipped)|dropped by kernel' "$work/$ns.detect" | sed 's/^/           /' || true
  [ "$flaps" -le 1 ] || echo "           warning: $((flaps - 1)) reals besides the probe were taken out before the failures"
  if [ -n "${KEEP:-}" ]; then cp "$work/$ns".* "$KEEP/" 2>/dev/null || true; fi
  result[$daemon-$check-cpu]=$cpu_min
  result[$daemon-$check-per1k]=$(echo "$cpu_min * 1000 / ($checks_min + 0.001)" | bc -l)
  result[$daemon-$check-rss]=$rss
  result[$daemon-$check-p99]=$(field p99 "$all")
  result[$daemon-$check-p50]=$(field p50 "$all")
}

case $incumbent in
  ldirectord) echo "$reals reals, checkinterval=$interval, checktimeout=negotiatetimeout=$timeout," \
    "failurecount=1, quiescent=no; steady state over ${secs}s; $samples failures per run" ;;
  keepalived) echo "$reals reals, delay_loop $interval, connect_timeout $timeout, retry 0," \
    "no inhibit_on_failure; steady state over ${secs}s; $samples failures per run" ;;
esac
for check in ${CHECKS:-connect http}; do
  for daemon in ${DAEMONS:-floor lvsctl $incumbent}; do
    run "$daemon" "$check" || true
  done
  if [ -n "${result[lvsctl-$check-cpu]:-}" ] && [ -n "${result[$incumbent-$check-cpu]:-}" ]; then
    r() { echo "${result[$incumbent-$check-$1]} / ${result[lvsctl-$check-$1]}" | bc -l; }
    printf '%-7s %s/lvsctl: CPU per minute %.1fx  CPU per check %.1fx  peak RSS %.1fx  p50 detection %.1fx  p99 detection %.1fx\n' \
      "$check" "$incumbent" "$(r cpu)" "$(r per1k)" "$(r rss)" "$(r p50)" "$(r p99)"
    if [ -n "${result[floor-$check-per1k]:-}" ]; then
      f=${result[floor-$check-per1k]}
      printf '%-7s CPU per check above the floor (%.3f s per 1000): %s %.3f s, lvsctl %.3f s: %.1fx\n' \
        "$check" "$f" "$incumbent" "$(echo "${result[$incumbent-$check-per1k]} - $f" | bc -l)" \
        "$(echo "${result[lvsctl-$check-per1k]} - $f" | bc -l)" \
        "$(echo "(${result[$incumbent-$check-per1k]} - $f) / (${result[lvsctl-$check-per1k]} - $f)" | bc -l)"
    fi
  fi
done
rm -rf "$work"
