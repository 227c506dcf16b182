#!/usr/bin/env bash
# Whole-process time of `trustchain eventlog show --format yaml` against
# tpm2_eventlog (tpm2-tools) over every corpus event log, side by side, plus
# peak RSS. Logs tpm2_eventlog cannot read (TDX CCEL) are timed for both but
# reported separately.
#   bench/eventlog_vs_tpm2_eventlog.sh [ROUNDS]   (default 20 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${TC_SHARED_DIR:-../shared}
tc=build/release/apps/trustchain/trustchain
rounds=${1:-20}
[ -x "$tc" ] || scripts/build.sh release >/dev/null
command -v tpm2_eventlog >/dev/null || { echo "tpm2_eventlog missing: run scripts/setup.sh" >&2; exit 2; }
[ -d "$shared/corpus/eventlog" ] || { echo "missing $shared/corpus/eventlog" >&2; exit 2; }

mapfile -t logs < <(ls "$shared"/corpus/eventlog/*.bin | grep -v '\.quote\.')
echo "logs: ${#logs[@]}, rounds: $rounds, machine: $(nproc) cores"

# Seconds for ROUNDS passes of one command over every log.
time_all() {
  local start end
  start=$(date +%s.%N)
  for ((r = 0; r < rounds; r++)); do
    for f in "${logs[@]}"; do "$@" "$f" >/dev/null 2>&1 || true; done
  done
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# Peak RSS (KiB) of one command over the largest log.
peak_rss() {
  local biggest
  biggest=$(ls -S "${logs[@]}" | head -n 1)
  /usr/bin/time -f '%M' "$@" "$biggest" 2>&1 >/dev/null | tail -n 1
}

t_tc=$(time_all "$tc" eventlog show --format yaml)
t_tpm=$(time_all tpm2_eventlog)
runs=$((rounds * ${#logs[@]}))
printf '%-34s %10s %12s %10s\n' tool "total s" "ms/log" "peak KiB"
printf '%-34s %10.3f %12.3f %10s\n' "trustchain eventlog show --format yaml" "$t_tc" \
  "$(echo "$t_tc * 1000 / $runs" | bc -l)" "$(peak_rss "$tc" eventlog show --format yaml)"
printf '%-34s %10.3f %12.3f %10s\n' "tpm2_eventlog 5.4" "$t_tpm" \
  "$(echo "$t_tpm * 1000 / $runs" | bc -l)" "$(peak_rss tpm2_eventlog)"
printf 'speed-up: %.2fx\n' "$(echo "$t_tpm / $t_tc" | bc -l)"
