#!/usr/bin/env bash
# Quotes and extends per second on the embedded TPM and on a swtpm process
# that this script starts (and stops).
#   bench/tpm_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TC_BUILD:-build/release}
[ -x "$build/bench/tpm_ops_bench" ] || scripts/build.sh release >/dev/null
tmp=$(mktemp -d)
. scripts/swtpm.sh
trap 'stop_swtpm; rm -rf "$tmp"' EXIT
start_swtpm "$tmp"
port=$swtpm_port
TSS2_LOG=all+NONE TC_SWTPM_SPEC="swtpm:host=127.0.0.1,port=$port" "$build/bench/tpm_ops_bench" \
  --benchmark_min_time=2 2>&1 | grep -E '^BM_|^Benchmark'
