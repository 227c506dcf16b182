#!/usr/bin/env bash
# Measuring a directory tree, side by side with coreutils (tc::measure):
#   bench/measure_bench.sh DIR
# After a warm-up pass that puts DIR in the page cache (measure_bench itself,
# the fastest reader here), each case once, under /usr/bin/time (wall time,
# peak RSS):
#   (a) find DIR -type f -print0 | xargs -0 sha256sum
#   (b) the same with xargs -0 -P2 -n 256 (two sha256sum at a time)
#   (c) measure_bench DIR --threads 1, then --threads 2 (SHA-256 and, for
#       "MZ" files, the Authenticode hash)
# `find -type f` and MeasureTree read the same files (neither follows
# symlinks). (b)'s output goes to a file, not /dev/null, and is compared with
# measure_bench --print: every digest must agree.
# Needs a cache that holds DIR (DIR's size in free memory) for warm numbers.
set -euo pipefail
export LC_ALL=C
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
cd "$(dirname "$0")/.."
build=${TC_BUILD:-build/release}
bench=$build/bench/measure_bench
[ -x "$bench" ] || { echo "$bench missing: ninja -C $build measure_bench" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== warm-up (page cache): $bench $dir --threads 2"
"$bench" "$dir" --threads 2 2>"$work/warm"
cat "$work/warm"
bytes=$(sed -n 's/.* bytes \([0-9]*\) .*/\1/p' "$work/warm")
files=$(sed -n 's/.* files \([0-9]*\) .*/\1/p' "$work/warm")

# run NAME CMD...: times CMD (a shell string), appends a table row.
rows=()
run() {
  local name=$1 cmd=$2
  /usr/bin/time -f '%e s %M KB' -o "$work/time" bash -c "$cmd" 2>"$work/err" ||
    { echo "$name failed:" >&2; cat "$work/err" >&2; exit 1; }
  read -r secs _ rss _ < <(tail -n 1 "$work/time")
  rows+=("$(printf '%-44s %8s %10s %9.0f' "$name" "$secs" "$rss" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)")")
  echo "  $name: $secs s"
}
q=$(printf '%q' "$dir")
echo "== runs"
run "(a) find | xargs -0 sha256sum" \
  "find $q -type f -print0 | xargs -0 sha256sum > /dev/null"
run "(b) find | xargs -0 -P2 -n 256 sha256sum" \
  "find $q -type f -print0 | xargs -0 -P2 -n 256 sha256sum > $work/coreutils"
run "(c) measure_bench --threads 1" "$bench $q --threads 1 2>$work/m1"
run "(c) measure_bench --threads 2" "$bench $q --threads 2 --print >$work/ours 2>$work/m2"

echo "== $dir: $files files, $bytes bytes (warm cache, $(nproc) cores)"
printf '%-44s %8s %10s %9s\n' case wall "peak RSS" MB/s
for r in "${rows[@]}"; do echo "$r"; done
tail -n 1 "$work/m1"
tail -n 1 "$work/m2"

# Same digests as coreutils? (sha256sum prefixes a line with '\' when the
# name holds a backslash or newline; lines with a backslash are left out
# of both.)
sort -k2 "$work/coreutils" | { grep -v '\\' || true; } >"$work/a"
sort -k2 "$work/ours" | { grep -v '\\' || true; } >"$work/b"
if cmp -s "$work/a" "$work/b"; then
  echo "check: all $(wc -l <"$work/a") digests equal to sha256sum's"
else
  echo "check: MISMATCH with sha256sum ($(diff "$work/a" "$work/b" | grep -c '^[<>]') lines differ)"
  exit 1
fi
