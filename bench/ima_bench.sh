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
      read -r t m < <(tail -n 1 "$data/time")
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; rss=$m; fi
    done
    printf '%-9s %-10s %9s %7d MB  %s\n' "$n" "$case" "$best" $((rss / 1024)) "$(tail -n 1 "$data/out")"
  done
done
n=${sizes[-1]}
echo "== stages on one core, N=$n (ima_bench)"
taskset -c 0 "$build/bench/ima_bench" "$data/ima_$n.log" "$data/ima_${n}_policy.json"

# Side by side with a peer on the same input: Keylime cannot be installed
# here (not packaged in Debian 12), so the peer is evmctl (ima-evm-utils),
# which parses a binary list, checks template digests and replays PCR 10
# (no policy). The ascii list is converted to the binary form once.
n=${sizes[-1]}
bin=$data/ima_$n.bin
if [ ! -f "$bin" ]; then
  /usr/bin/python3 - "$data/ima_$n.log" "$bin" <<'PY'
import struct, sys
# Linux ima_fs.c binary layout (little-endian), ima-ng: d-ng "alg:" NUL digest, n-ng path NUL.
with open(sys.argv[1]) as f, open(sys.argv[2], "wb") as out:
    for line in f:
        pcr, th, name, dg, path = line.rstrip("\n").split(" ", 4)
        alg, hexd = dg.split(":")
        d = alg.encode() + b":\0" + bytes.fromhex(hexd)
        p = path.encode() + b"\0"
        data = struct.pack("<I", len(d)) + d + struct.pack("<I", len(p)) + p
        out.write(struct.pack("<I", int(pcr)) + bytes.fromhex(th) + struct.pack("<I", len(name))
                  + name.encode() + struct.pack("<I", len(data)) + data)
PY
fi
"$tc" ima replay "$bin" --format json >"$data/replay.json"
for bank in sha1 sha256; do
  hex=$(jq -r ".banks.$bank[\"10\"]" "$data/replay.json")
  for i in $(seq 0 23); do
    v=$(printf '%0*d' "${#hex}" 0); [ "$i" = 10 ] && v=$hex
    printf 'PCR-%02d: %s\n' "$i" "$(echo "$v" | sed 's/../& /g; s/ $//')"
  done >"$data/pcrs_$bank"
done
echo "== side by side, N=$n binary list: parse, template digests, PCR 10 sha1+sha256 (best of 3)"
for tool in trustchain evmctl; do
  best=""; rss=""
  for _ in 1 2 3; do
    if [ $tool = trustchain ]; then
      /usr/bin/time -f "%e %M" -o "$data/time" "$tc" ima replay "$bin" >/dev/null 2>&1 || true
    else
      /usr/bin/time -f "%e %M" -o "$data/time" evmctl ima_measurement --pcrs "sha1,$data/pcrs_sha1" \
        --pcrs "sha256,$data/pcrs_sha256" "$bin" >"$data/ev.out" 2>&1 || true
    fi
    read -r t m < <(tail -n 1 "$data/time")
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; rss=$m; fi
  done
  printf '%-10s %6s s %6d MB\n' "$tool" "$best" $((rss / 1024))
done
grep -q "Matched per TPM bank" "$data/ev.out" && echo "(evmctl matched trustchain's PCR 10 values)" ||
  echo "(evmctl did NOT match: $(tail -n 1 "$data/ev.out"))"
