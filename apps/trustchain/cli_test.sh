#!/usr/bin/env bash
# End-to-end checks of the trustchain binary: exit codes, one-line errors
# naming the offset, JSON shape. Usage: cli_test.sh TRUSTCHAIN SEEDS_DIR
# (ctest runs it; real-log checks skip when ../shared is absent).
set -u
tc=$1
seeds=$2
shared=${TC_SHARED_DIR:-$(dirname "$0")/../../../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # check NAME EXPECTED_RC ACTUAL_RC
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=1; else echo "ok   $1"; fi
}

: > "$tmp/empty"
"$tc" eventlog show "$tmp/empty" >"$tmp/out" 2>"$tmp/err"; check "empty log exits 2" 2 $?
grep -q 'event 0 at offset 0' "$tmp/err" || { echo "FAIL empty log message: $(cat "$tmp/err")"; fail=1; }
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL error is not one line"; fail=1; }

head -c -5 "$seeds/agile-sha1-sha256.bin" >"$tmp/trunc"
"$tc" eventlog replay "$tmp/trunc" 2>"$tmp/err"; check "truncated log exits 2" 2 $?
grep -Eq 'event [0-9]+ at offset [0-9]+' "$tmp/err" || { echo "FAIL truncation message: $(cat "$tmp/err")"; fail=1; }

"$tc" eventlog show "$seeds/agile-padded.bin" >"$tmp/out"; check "padded log accepted" 0 $?
grep -q 'quirk: trailing-padding at offset' "$tmp/out" || { echo "FAIL padding not labelled"; fail=1; }
"$tc" eventlog show --strict "$seeds/agile-padded.bin" >/dev/null 2>"$tmp/err"; check "--strict rejects padding" 2 $?

"$tc" eventlog replay --format json "$seeds/agile-sha1-sha256.bin" >"$tmp/json"; check "replay json" 0 $?
if command -v jq >/dev/null; then
  jq -e '.banks.sha256 | has("0") and has("7")' "$tmp/json" >/dev/null || { echo "FAIL json banks"; fail=1; }
  jq -r '.banks.sha256 | to_entries[] | "\(.key) \(.value)"' "$tmp/json" >"$tmp/pcrs"
  "$tc" eventlog replay --pcrs "$tmp/pcrs" "$seeds/agile-sha1-sha256.bin" >/dev/null; check "own replay matches" 0 $?
  sed -i "1s/ .*/ $(printf '0%.0s' $(seq 64))/" "$tmp/pcrs"
  "$tc" eventlog replay --pcrs "$tmp/pcrs" "$seeds/agile-sha1-sha256.bin" >/dev/null; check "changed PCR exits 1" 1 $?
else
  echo "FAIL jq missing (scripts/setup.sh installs it): cannot check the JSON"; fail=1
fi
"$tc" eventlog show --format yaml "$seeds/legacy-sha1.bin" | head -1 | grep -q '^---$' || { echo "FAIL yaml"; fail=1; }
"$tc" eventlog show /nonexistent 2>"$tmp/err"; check "missing file exits 2" 2 $?
"$tc" eventlog show --format xml "$seeds/legacy-sha1.bin" 2>/dev/null; check "bad usage exits 2" 2 $?
"$tc" eventlog --help >/dev/null; check "help exits 0" 0 $?

if [ -d "$shared/corpus/vm/baseline-tcg" ]; then
  vm=$shared/corpus/vm
  "$tc" eventlog replay "$vm/baseline-tcg/eventlog.bin" --pcrs "$vm/baseline-tcg/pcrs-host.txt" >/dev/null
  check "VM boot replays to host PCRs" 0 $?
  "$tc" eventlog replay "$vm/tamper-cmdline/eventlog.bin" --pcrs "$vm/baseline-tcg/pcrs-host.txt" >"$tmp/out"
  check "tampered command line exits 1" 1 $?
  grep -q 'PCR 12  MISMATCH' "$tmp/out" || { echo "FAIL tamper names PCR 12"; fail=1; }
else
  echo "skip real-log CLI checks: missing $shared/corpus (set TC_SHARED_DIR)"
fi
exit $fail
