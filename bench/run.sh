#!/usr/bin/env bash
# Runs the whole comparison and prints the table: ./bench/run.sh [options]
# (./bench/run.sh --help lists them). Builds run at low priority (nice -n 19);
# the measured programs and the server run at normal priority.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nice -n 19 cargo build --release --quiet -p bench-driver
exec "${CARGO_TARGET_DIR:-target}/release/bench" "$@"
