#!/usr/bin/env bash
# Quote verification: trustchain in process (quote_bench), and whole-process
# `trustchain tpm checkquote` vs `tpm2_checkquote` on the same gen_data.py
# quote (RSA-2048 AK, 12 PCRs).
#   bench/quote_vs_tpm2_checkquote.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${TC_SHARED_DIR:-../shared}
build=${TC_BUILD:-build/release}
[ -x "$build/bench/quote_bench" ] || scripts/build.sh release >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mb=$shared/corpus/eventlog/keylime-rhel9-ovmf-secureboot.bin
/usr/bin/python3 "$shared/bench/gen_data.py" ima --n 1000 --seed 1 --mb-log "$mb" --out "$out" >/dev/null
/usr/bin/python3 "$shared/bench/gen_data.py" quote --ima-meta "$out/ima_1000_meta.json" --mb-log "$mb" --out "$out" >/dev/null
q=$(sed -n 's/.*"qualification_hex": "\([0-9a-f]*\)".*/\1/p' "$out/quote_1000_meta.json")
echo "== in process, one core (quote_bench)"
TC_QUOTE_DIR=$out TC_QUOTE_NONCE_HEX=$q taskset -c 0 "$build/bench/quote_bench" \
  --benchmark_min_time=2 2>&1 | grep -E '^BM_|^Benchmark'
echo "== whole process, same quote (hyperfine)"
d=$out/quote_1000
args="-u ${d}_ak_tpm2b.bin -m ${d}_attest.bin -s ${d}_sig.bin -f ${d}_pcr.bin -q $q"
hyperfine -N --warmup 10 --runs 200 "$build/apps/trustchain/trustchain tpm checkquote $args" \
  "tpm2_checkquote $args" 2>&1 | grep -E 'Benchmark|Time|faster|±'
