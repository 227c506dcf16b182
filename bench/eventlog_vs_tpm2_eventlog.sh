#!/usr/bin/env bash
# Whole-process time of `trustchain eventlog show --format yaml` against
# tpm2_eventlog 5.4 (tpm2-tools) on every corpus event log, side by side:
# hyperfine runs each command directly (no shell), RUNS times per log, and
# the mean times are summed over the corpus. Also peak RSS on the largest
# log. tpm2_eventlog fails on the TDX CCEL logs; they are timed anyway (its
# failing is quick) and listed.
#   bench/eventlog_vs_tpm2_eventlog.sh [RUNS]    (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${TC_SHARED_DIR:-../shared}
tc=build/release/apps/trustchain/trustchain
runs=${1:-30}
[ -x "$tc" ] || scripts/build.sh release >/dev/null
for tool in tpm2_eventlog hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/setup.sh" >&2; exit 2; }
done
[ -d "$shared/corpus/eventlog" ] || { echo "missing $shared/corpus/eventlog" >&2; exit 2; }

mapfile -t logs < <(ls "$shared"/corpus/eventlog/*.bin | grep -v '\.quote\.')
echo "logs: ${#logs[@]}, runs per log and tool: $runs, $(nproc) cores, $(date -u +%F)"
out=$(mktemp -d)
total_tc=0; total_tpm=0
printf '%-48s %10s %10s %7s\n' log "tc ms" "tpm2 ms" ratio
for f in "${logs[@]}"; do
  hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$out/r.json" \
    "$tc eventlog show --format yaml $f" "tpm2_eventlog $f" >/dev/null 2>&1
  a=$(jq '.results[0].mean * 1000' "$out/r.json")
  b=$(jq '.results[1].mean * 1000' "$out/r.json")
  total_tc=$(echo "$total_tc + $a" | bc -l); total_tpm=$(echo "$total_tpm + $b" | bc -l)
  printf '%-48s %10.3f %10.3f %7.2f\n' "$(basename "$f")" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
# The largest log both tools read (tpm2_eventlog rejects the CCEL logs).
biggest=$(ls -S "${logs[@]}" | grep -v ccel | sed -n 1p)
rss_tc=$(/usr/bin/time -f '%M' "$tc" eventlog show --format yaml "$biggest" 2>&1 >/dev/null | tail -n 1)
rss_tpm=$(/usr/bin/time -f '%M' tpm2_eventlog "$biggest" 2>&1 >/dev/null | tail -n 1)
printf '%-48s %10.1f %10.1f %7.2f\n' "TOTAL (sum of means, ms)" "$total_tc" "$total_tpm" \
  "$(echo "$total_tpm / $total_tc" | bc -l)"
echo "peak RSS on $(basename "$biggest"): trustchain ${rss_tc} KiB, tpm2_eventlog ${rss_tpm} KiB"
rm -rf "$out"
