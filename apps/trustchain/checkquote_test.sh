#!/usr/bin/env bash
# `trustchain tpm checkquote` against tpm2_checkquote on the quotes of
# ../shared/bench/gen_data.py: same options, same verdicts, each failure
# named. Usage: checkquote_test.sh TRUSTCHAIN (ctest runs it).
set -u
tc=$1
shared=${TC_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
gen=$shared/bench/gen_data.py
mb=$shared/corpus/eventlog/keylime-rhel9-ovmf-secureboot.bin
# Exit 77 = skipped (ctest SKIP_RETURN_CODE), with the reason.
if [ ! -f "$gen" ] || [ ! -f "$mb" ]; then
  echo "skip: missing $gen or its event log (set TC_SHARED_DIR)"; exit 77
fi
if ! command -v tpm2_checkquote >/dev/null || ! command -v tpm2_eventlog >/dev/null; then
  echo "skip: tpm2-tools missing (scripts/setup.sh installs it)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$gen" ima --n 50 --seed 7 --mb-log "$mb" --out "$tmp" >/dev/null || exit 1
/usr/bin/python3 "$gen" quote --seed 7 --ima-meta "$tmp/ima_50_meta.json" --mb-log "$mb" --out "$tmp" >/dev/null || exit 1
/usr/bin/python3 "$gen" quote --tamper --seed 7 --ima-meta "$tmp/ima_50_meta.json" --mb-log "$mb" --out "$tmp" >/dev/null || exit 1
q=$(sed -n 's/.*"qualification_hex": "\([0-9a-f]*\)".*/\1/p' "$tmp/quote_50_meta.json")
[ -n "$q" ] || { echo "FAIL: no qualification_hex in gen_data.py's meta JSON"; exit 1; }
d=$tmp/quote_50
fail=0
# run NAME EXPECTED_TC_RC EXPECTED_REASON ARGS...: both tools must agree on pass/fail.
run() {
  local name=$1 want=$2 reason=$3; shift 3
  "$tc" tpm checkquote "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  tpm2_checkquote "$@" >/dev/null 2>&1; local peer=$?
  local ok=1
  [ "$rc" = "$want" ] || ok=0
  { [ "$rc" = 0 ] && [ "$peer" = 0 ]; } || { [ "$rc" != 0 ] && [ "$peer" != 0 ]; } || ok=0
  [ -z "$reason" ] || grep -q "$reason" "$tmp/err" || ok=0
  if [ $ok = 1 ]; then echo "ok   $name (trustchain $rc, tpm2_checkquote $peer)";
  else echo "FAIL $name: trustchain $rc (want $want), tpm2_checkquote $peer; $(cat "$tmp/err")"; fail=1; fi
}
base=(-m "${d}_attest.bin" -s "${d}_sig.bin")
run "good quote, PEM key"         0 "" -u "${d}_ak.pem" "${base[@]}" -f "${d}_pcr.bin" -q "$q" -g sha256
run "good quote, TPM2B_PUBLIC"    0 "" -u "${d}_ak_tpm2b.bin" "${base[@]}" -f "${d}_pcr.bin" -q "$q"
run "tampered PCR 10 vs good PCRs" 1 "rejected: pcr-digest" -u "${d}_ak.pem" -m "${tmp}/quote_tamper_50_attest.bin" -s "${tmp}/quote_tamper_50_sig.bin" -f "${d}_pcr.bin" -q "$q"
run "wrong nonce"                 1 "rejected: nonce" -u "${d}_ak.pem" "${base[@]}" -f "${d}_pcr.bin" -q 00112233
# Flip one bit of the signature (byte 100).
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[100]^=0x01; open(sys.argv[2],"wb").write(b)' \
  "${d}_sig.bin" "$tmp/flipped.sig"
cmp -s "${d}_sig.bin" "$tmp/flipped.sig" && { echo "FAIL: the signature was not changed"; exit 1; }
run "flipped signature bit"       1 "rejected: signature" -u "${d}_ak.pem" -m "${d}_attest.bin" -s "$tmp/flipped.sig" -f "${d}_pcr.bin" -q "$q"
openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out "$tmp/other.pem" 2>/dev/null
run "another AK"                  1 "rejected: signature" -u "$tmp/other.pem" "${base[@]}" -f "${d}_pcr.bin" -q "$q"
head -c 60 "${d}_attest.bin" >"$tmp/short.attest"
run "truncated TPMS_ATTEST"       2 "TPMS_ATTEST: .* offset" -u "${d}_ak.pem" -m "$tmp/short.attest" -s "${d}_sig.bin" -q "$q"
exit $fail
