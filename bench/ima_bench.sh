#!/usr/bin/env bash
# IMA verification end to end (issue 4): for N = 10^4, 10^5, 10^6 entries of
# ../shared/bench/gen_data.py ima (seed 1), the whole `trustchain ima verify`
# process: load the Keylime runtime policy, parse the list, check every
# template hash, replay PCR 10 (sha1 and sha256) against the expected value,
# check every entry against the policy. Time (best of 3) and peak RSS from
# /usr/bin/time; then the stages on one core (ima_bench), with the bare cost
# of the hashes as the floor.
#   bench/ima_bench.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${TC_SHARED_DIR:-../shared}
build=${TC_BUILD:-build/release}
[ -x "$build/bench/ima_bench" ] || scripts/build.sh release >/dev/null
data=${TC_BENCH_DATA:-/tmp/trustchain-bench-data}
mkdir -p "$data"
mb=$shared/corpus/eventlog/keylime-rhel9-ovmf-secureboot.bin
tc=$build/apps/trustchain/trustchain
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
printf '%-9s %-10s %9s %10s  %s\n' N case seconds "peak RSS" verdict
for n in "${sizes[@]}"; do
  [ -f "$data/ima_${n}_meta.json" ] ||
    /usr/bin/python3 "$shared/bench/gen_data.py" ima --n "$n" --seed 1 --mb-log "$mb" --out "$data" >/dev/null
  for case in good tamper; do
    if [ $case = good ]; then log=$data/ima_$n.log; pcr=$(jq -r .pcr10.sha256 "$data/ima_${n}_meta.json")
    else log=$data/ima_${n}_tamper.log; pcr=$(jq -r .tamper.pcr10.sha256 "$data/ima_${n}_meta.json"); fi
    best=""; rss=""
    for _ in 1 2 3; do
      /usr/bin/time -f "%e %M" -o "$data/time" "$tc" ima verify "$log" \
        --policy "$data/ima_${n}_policy.json" --pcr10 "$pcr" >"$data/out" 2>/dev/null || true
      read -r t m <"$data/time"
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; rss=$m; fi
    done
    printf '%-9s %-10s %9s %7d MB  %s\n' "$n" "$case" "$best" $((rss / 1024)) "$(tail -n 1 "$data/out")"
  done
done
n=${sizes[-1]}
echo "== stages on one core, N=$n (ima_bench)"
taskset -c 0 "$build/bench/ima_bench" "$data/ima_$n.log" "$data/ima_${n}_policy.json"
