#!/usr/bin/env bash
# lvsctl health against Debian's keepalived on the same configuration file: see bench/health-vs.sh.
#   bench/health-vs-keepalived.sh [REALS] [SECONDS] [SAMPLES]        (default 1000 60 40)
exec "$(dirname "${BASH_SOURCE[0]}")/health-vs.sh" keepalived "$@"
