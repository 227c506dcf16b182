#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the
# release and the sanitizer flavours, runs every test in both, runs each
# libFuzzer target for a bounded time on its seed corpus, and replays every
# fuzz regression input. Exits non-zero on the first failure.
#
# Environment: TC_SHARED_DIR (default ../shared) for the real-data tests,
# TC_EFI_BINARIES (default /var/cache/trustchain/efi) for the EFI binaries
# the Authenticode test hashes, TC_FUZZ_SECONDS (default 40) per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - started)); }

step "setup: Debian packages"
if [ "$(id -u)" -eq 0 ]; then scripts/setup.sh; else scripts/setup.sh || true; fi

export TC_SHARED_DIR=${TC_SHARED_DIR:-$root/../shared}
if [ ! -d "$TC_SHARED_DIR/corpus" ]; then
  echo "note: $TC_SHARED_DIR/corpus is missing: real-log tests will be skipped (they say so)"
fi

step "EFI binaries for the Authenticode test (Debian packages; skipped when unavailable)"
scripts/fetch_efi_binaries.sh

step "release build"
scripts/build.sh release
step "release tests"
(cd build/release && ctest --output-on-failure -j "$(nproc)")

step "sanitizer build (clang, ASan+UBSan, libFuzzer)"
scripts/build.sh sanitize
step "sanitizer tests"
(cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$(nproc)")

step "fuzzing"
seconds=${TC_FUZZ_SECONDS:-40}  # per target (15 targets: 10 minutes)
for fuzzer in build/sanitize/fuzz/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  regress="fuzz/regressions/$name"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    echo "$name: replaying $(ls "$regress" | wc -l) regression input(s)"
    "$fuzzer" "$regress"/* >/dev/null 2>&1 || { "$fuzzer" "$regress"/*; exit 1; }
  fi
  work=$(mktemp -d)
  seeds=("fuzz/seeds/$name")
  case "$name" in
    eventlog|policy_learn)
      [ -d "$TC_SHARED_DIR/corpus/eventlog" ] && seeds+=("$TC_SHARED_DIR/corpus/eventlog")
      [ "$name" = policy_learn ] && [ -d "$TC_SHARED_DIR/corpus/vm" ] &&
        for boot in "$TC_SHARED_DIR"/corpus/vm/*/; do seeds+=("$boot"); done ;;
    pcr_values) [ -d "$TC_SHARED_DIR/corpus/vm/baseline-tcg" ] && seeds+=("$TC_SHARED_DIR/corpus/vm/baseline-tcg") ;;
    ima_ascii|ima_binary)
      [ -d "$TC_SHARED_DIR/corpus/ima" ] && seeds+=("$TC_SHARED_DIR/corpus/ima")
      [ -d "$TC_SHARED_DIR/corpus/vm/baseline-tcg" ] && seeds+=("$TC_SHARED_DIR/corpus/vm/baseline-tcg") ;;
  esac
  echo "$name: fuzzing for ${seconds}s from ${seeds[*]}"
  if ! "$fuzzer" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 \
       -artifact_prefix="$work/" -print_final_stats=1 "$work" "${seeds[@]}" >"$work/log" 2>&1; then
    tail -n 40 "$work/log"
    mkdir -p "$regress"
    for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$crash" ] && cp "$crash" "$regress/" && echo "saved $regress/$(basename "$crash"): commit it as a regression input"
    done
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|cov:' "$work/log" | tail -n 2
  rm -rf "$work"
done

step "all tests passed"
