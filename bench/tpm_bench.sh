#!/usr/bin/env bash
# Quotes and extends per second on the embedded TPM and on a swtpm process
# that this script starts (and stops).
#   bench/tpm_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TC_BUILD:-build/release}
[ -x "$build/bench/tpm_ops_bench" ] || scripts/build.sh release >/dev/null
tmp=$(mktemp -d)
# Two free consecutive ports: the TPM's and its control channel.
port=$(python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000, 2)
    socks = [socket.socket(), socket.socket()]
    try:
        socks[0].bind(("127.0.0.1", p)); socks[1].bind(("127.0.0.1", p + 1))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
')
swtpm socket --tpm2 --server type=tcp,port="$port",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --tpmstate dir="$tmp" \
  --flags not-need-init,startup-clear &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
TSS2_LOG=all+NONE TC_SWTPM_SPEC="swtpm:host=127.0.0.1,port=$port" "$build/bench/tpm_ops_bench" \
  --benchmark_min_time=2 2>&1 | grep -E '^BM_|^Benchmark'
