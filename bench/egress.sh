#!/bin/sh
# The egress monitor's bench: all 24 scenarios of tests/egress/scenarios.sh with their score
# table, NetHogs scored on the same scenarios in the same run, and the monitor's overhead
# (CPU mean and p95 of one core, peak RSS) under a steady mix. Needs root (the lab).
# Usage: bench/egress.sh BUILD_DIR
set -eu
build=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
exec sh "$top/tests/egress/scenarios.sh" "$build/pktscope" "$build/tests/pktscope-scen" "$top" --full --nethogs --overhead
