#!/usr/bin/env bash
# Regenerate the README's picture of `lvsctl top --demo`, taken from a real terminal:
# xterm on a virtual X server, photographed with ImageMagick.
#
#   contrib/demo-screenshot.sh [OUT.png] [SECONDS]     (default docs/img/top-demo.png 87)
#
# Needs Debian's xvfb, xterm, xdotool, imagemagick and fonts-dejavu-core
# (`apt-get install xvfb xterm xdotool imagemagick fonts-dejavu-core`); builds lvsctl
# (release). No root, no IPVS: the demo runs on its own simulated director. The picture
# is taken SECONDS after the start with the cursor on the demo's failing real server
# (web3), which is quiesced from 20 to 35 seconds in and again every minute after; the
# default shows it failed (weight 0, its last check in the status line) with a minute and
# a half of history in the sparklines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-docs/img/top-demo.png}
wait=${2:-87}
for tool in Xvfb xterm xdotool import; do
  command -v "$tool" > /dev/null || { echo "$0: $tool is missing (see the header)" >&2; exit 2; }
done
cargo build --release --locked --bin lvsctl >&2
lvsctl=$PWD/target/release/lvsctl

# A free display number: the first without an X socket.
n=90
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
display=:$n
work=$(mktemp -d)
xvfb= term=
trap '[ -z "$term" ] || kill "$term" 2>/dev/null; [ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null; rm -rf "$work"' EXIT
Xvfb "$display" -screen 0 1800x1000x24 -nolisten tcp > "$work/xvfb.log" 2>&1 &
xvfb=$!
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$n" ] || { cat "$work/xvfb.log" >&2; exit 1; }

# 160 x 28 cells: the wide layout (health with the last check's result) and the whole
# demo table.
xterm -display "$display" -geometry 160x28+0+0 -fa 'DejaVu Sans Mono' -fs 10 \
  -bg '#1d1f21' -fg '#d0d0d0' -bc -tn xterm-256color -T 'lvsctl top --demo' \
  -e "$lvsctl" top --demo &
term=$!
sleep 3
# Down three rows, onto web3 (the keys go to the terminal through the X server).
DISPLAY=$display xdotool search --sync --name 'lvsctl top --demo' windowfocus key --delay 200 j j j
sleep "$((wait - 3))"
import -display "$display" -window root "$work/root.png"
# The root window is black around the terminal: trim it away, keep a small margin.
convert "$work/root.png" -trim +repage -bordercolor '#1d1f21' -border 8 -strip "$out"
echo "wrote $out ($(identify -format '%wx%h' "$out"))"
