#!/usr/bin/env bash
# `trustchain ima replay` against evmctl ima_measurement (ima-evm-utils) on
# the real binary IMA lists of ../shared/corpus: for each list evmctl can
# read, trustchain's replayed PCR 10 (sha1 and sha256 banks) must be what
# evmctl accepts, and one changed bit must make evmctl refuse it. Also the
# ascii and binary twins of a list must replay alike, and the command-line
# contract of `ima verify` (exit codes, JSON members) is checked on a
# generated list with one tampered entry.
# Usage: ima_evmctl_test.sh TRUSTCHAIN (ctest runs it).
set -u
tc=$1
shared=${TC_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
ima=$shared/corpus/ima
if [ ! -d "$ima" ]; then echo "skip: missing $ima (set TC_SHARED_DIR)"; exit 77; fi
if ! command -v evmctl >/dev/null || ! command -v jq >/dev/null; then
  echo "skip: evmctl or jq missing (scripts/setup.sh installs ima-evm-utils and jq)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# evmctl's --pcrs file: "PCR-NN: XX XX ..." lines (the TPM 1.2 sysfs form).
pcr_file() {  # OUT HEX
  local out=$1 hex=$2 zero
  zero=$(printf '%*s' "${#hex}" '' | tr ' ' 0)
  for i in $(seq 0 23); do
    local v=$zero; [ "$i" = 10 ] && v=$hex
    printf 'PCR-%02d: %s\n' "$i" "$(echo "$v" | sed 's/../& /g; s/ $//')"
  done >"$out"
}

checked=0
for list in "$ima"/*.bin "$shared"/corpus/vm/*/ima-log.bin; do
  [ -f "$list" ] || continue
  name=${list#"$shared"/corpus/}
  case "$list" in *perbank*)
    # evmctl 1.4 cannot read the per-bank lists; trustchain must.
    "$tc" ima replay "$list" >/dev/null 2>&1 && ok "$name: read (evmctl 1.4 cannot)" || bad "$name: not read"
    continue ;;
  esac
  "$tc" ima replay "$list" --format json >"$tmp/r.json" 2>"$tmp/err" || { bad "$name: $(cat "$tmp/err")"; continue; }
  s1=$(jq -r '.banks.sha1["10"]' "$tmp/r.json"); s256=$(jq -r '.banks.sha256["10"]' "$tmp/r.json")
  pcr_file "$tmp/sha1" "$s1"; pcr_file "$tmp/sha256" "$s256"
  if evmctl ima_measurement --pcrs "sha1,$tmp/sha1" --pcrs "sha256,$tmp/sha256" "$list" >"$tmp/ev" 2>&1; then
    ok "$name: evmctl accepts trustchain's PCR 10 (sha1 $s1, sha256 ${s256:0:16}...)"
  else
    bad "$name: evmctl rejects trustchain's PCR 10: $(tail -n 2 "$tmp/ev")"
  fi
  # The same with the last hex digit changed must be refused.
  last=${s1: -1}; [ "$last" = 0 ] && flip=1 || flip=0
  pcr_file "$tmp/sha1x" "${s1%?}$flip"
  if evmctl ima_measurement --pcrs "sha1,$tmp/sha1x" "$list" >/dev/null 2>&1; then
    bad "$name: evmctl accepted a wrong PCR 10 (the comparison proves nothing)"
  fi
  checked=$((checked + 1))
done
[ "$checked" -ge 5 ] || bad "only $checked lists compared with evmctl"

# Ascii and binary twins replay alike.
for base in embrave-rpi-ima-ng imaverify-vm-ima-ng-sha256-perbank; do
  a=$("$tc" ima replay "$ima/$base.txt" --format json | jq -c .banks)
  b=$("$tc" ima replay "$ima/$base.bin" --format json | jq -c .banks)
  [ -n "$a" ] && [ "$a" = "$b" ] && ok "$base: ascii and binary replay alike" || bad "$base: $a vs $b"
done

# `ima verify`: exit codes and JSON members on a generated list (issue 4).
gen=$shared/bench/gen_data.py
if [ -f "$gen" ]; then
  /usr/bin/python3 "$gen" ima --n 2000 --seed 3 --out "$tmp" >/dev/null || bad "gen_data.py failed"
  meta=$tmp/ima_2000_meta.json
  good=$(jq -r .pcr10.sha256 "$meta"); tpcr=$(jq -r .tamper.pcr10.sha256 "$meta")
  line=$(jq -r .tamper.line_index "$meta"); tpath=$(jq -r .tamper.path "$meta"); thash=$(jq -r .tamper.hash "$meta")
  "$tc" ima verify "$tmp/ima_2000.log" --policy "$tmp/ima_2000_policy.json" --pcr10 "$good" >/dev/null
  rc=$?; [ $rc = 0 ] && ok "verify good list: exit 0" || bad "verify good list: exit $rc"
  "$tc" ima verify "$tmp/ima_2000_tamper.log" --policy "$tmp/ima_2000_policy.json" --pcr10 "$tpcr" --format json >"$tmp/v.json"
  rc=$?
  [ $rc = 1 ] && ok "verify tampered list: exit 1" || bad "verify tampered list: exit $rc"
  got=$(jq -c '[.verdict, .entries, (.violations|length), .violations[0].entry, .violations[0].line, .violations[0].path, .violations[0].measured, .violations[0].reason, (.violations[0].expected|startswith("sha256:"))]' "$tmp/v.json")
  want=$(jq -nc --arg p "$tpath" --arg h "sha256:$thash" --argjson i "$line" '["untrusted", 2001, 1, $i, ($i+1), $p, $h, "digest-not-allowed", true]')
  [ "$got" = "$want" ] && ok "tampered entry named: $got" || bad "tampered entry: got $got want $want"
  "$tc" ima verify "$tmp/ima_2000.log" --pcr10 "$tpcr" >/dev/null
  rc=$?; [ $rc = 1 ] && ok "wrong PCR 10: exit 1" || bad "wrong PCR 10: exit $rc"
  "$tc" ima verify "$tmp/ima_2000.log" --pcr10 "$(printf '%064d' 0)" >/dev/null
  rc=$?; [ $rc = 1 ] && ok "all-zero PCR 10 with a non-empty list: exit 1" || bad "zero PCR 10: exit $rc"
  printf '10 zz ima-ng sha256:00 /x\n' >"$tmp/badline.txt"
  "$tc" ima verify "$tmp/badline.txt" 2>"$tmp/err" >/dev/null
  rc=$?; { [ $rc = 2 ] && grep -q "line 1" "$tmp/err"; } && ok "malformed line: exit 2 naming line 1" || bad "malformed line: exit $rc $(cat "$tmp/err")"
  "$tc" ima verify "$tmp/ima_2000.log" --policy "$tmp/nonexistent.json" 2>/dev/null >/dev/null
  rc=$?; [ $rc = 2 ] && ok "missing policy: exit 2" || bad "missing policy: exit $rc"
  # Incremental: the first 1000 lines, then the rest, with a checkpoint.
  head -n 1000 "$tmp/ima_2000.log" >"$tmp/part1"; tail -n +1001 "$tmp/ima_2000.log" >"$tmp/part2"
  "$tc" ima verify "$tmp/part1" --policy "$tmp/ima_2000_policy.json" --checkpoint "$tmp/cp" >/dev/null &&
    "$tc" ima verify "$tmp/part2" --policy "$tmp/ima_2000_policy.json" --checkpoint "$tmp/cp" --pcr10 "$good" --format json >"$tmp/inc.json"
  rc=$?
  got=$(jq -c '[.verdict, .first_entry, .entries]' "$tmp/inc.json" 2>/dev/null)
  [ $rc = 0 ] && [ "$got" = '["trusted",1000,1001]' ] && ok "incremental verification with a checkpoint: $got" || bad "incremental: exit $rc, $got"
  grep -q "^entries 2001$" "$tmp/cp" && ok "checkpoint advanced to 2001 entries" || bad "checkpoint: $(cat "$tmp/cp")"
fi

# File signatures made by evmctl ima_sign (RSA and ECDSA keys), in an
# ima-sig list built here: trustchain must verify them with the keys'
# certificates, refuse a changed signature, and leave a signature by an
# unknown key to the allowlist.
if command -v openssl >/dev/null; then
  s=$tmp/sig; mkdir -p "$s"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$s/rsa.key" -out "$s/rsa.crt" -subj "/CN=ima rsa" \
    -days 2 -addext subjectKeyIdentifier=hash 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$s/ec.key" \
    -out "$s/ec.crt" -subj "/CN=ima ec" -days 2 2>/dev/null
  echo one >"$s/f1"; echo two >"$s/f2"
  evmctl ima_sign --key "$s/rsa.key" --hashalgo sha256 --sigfile "$s/f1" >/dev/null 2>&1
  evmctl ima_sign --key "$s/ec.key" --hashalgo sha256 --sigfile "$s/f2" >/dev/null 2>&1
  # mk LIST FLIP: ima-sig ascii lines (Linux ima_template_lib.c layout); FLIP=1 changes one
  # signature byte of the first entry (and recomputes its template hash).
  mk() {
    /usr/bin/python3 - "$1" "$2" "$s/f1" "$s/f1.sig" "$s/f2" "$s/f2.sig" <<'PY'
import hashlib, struct, sys
out, flip = sys.argv[1], sys.argv[2] == "1"
def field(b): return struct.pack("<I", len(b)) + b
lines = []
for i, (path, sigfile) in enumerate(zip(sys.argv[3::2], sys.argv[4::2])):
    d = hashlib.sha256(open(path, "rb").read()).digest()
    sig = bytearray(open(sigfile, "rb").read())
    if flip and i == 0: sig[20] ^= 1
    data = field(b"sha256:\0" + d) + field(path.encode() + b"\0") + field(bytes(sig))
    lines.append(f"10 {hashlib.sha1(data).hexdigest()} ima-sig sha256:{d.hex()} {path} {sig.hex()}")
open(out, "w").write("\n".join(lines) + "\n")
PY
  }
  if [ -s "$s/f1.sig" ] && [ -s "$s/f2.sig" ]; then
    mk "$s/good.txt" 0; mk "$s/bad.txt" 1
    got=$("$tc" ima verify "$s/good.txt" --ima-key "$s/rsa.crt" --ima-key "$s/ec.crt" --format json | jq -c '[.verdict, .signatures_verified]')
    [ "$got" = '["unattested",2]' ] && ok "evmctl's RSA and ECDSA file signatures verify: $got" || bad "signatures: $got"
    "$tc" ima verify "$s/bad.txt" --ima-key "$s/rsa.crt" --ima-key "$s/ec.crt" --format json >"$tmp/sig.json"; rc=$?
    got=$(jq -c '[.verdict, .violations[0].entry, .violations[0].reason]' "$tmp/sig.json")
    [ $rc = 1 ] && [ "$got" = '["untrusted",0,"signature-invalid"]' ] && ok "a changed signature byte: $got" || bad "changed signature: exit $rc $got"
    # Only the EC key trusted: the RSA-signed file falls to the allowlist (a
    # sha256sum list that lists neither file).
    echo "$(printf '%064d' 0)  /elsewhere" >"$s/list"
    got=$("$tc" ima verify "$s/good.txt" --ima-key "$s/ec.crt" --policy "$s/list" --format json | jq -c '[.verdict, .signatures_verified, .violations[0].reason]')
    [ "$got" = '["untrusted",1,"not-in-policy"]' ] && ok "a signature by an untrusted key is left to the allowlist: $got" || bad "unknown key: $got"
  else
    bad "evmctl ima_sign wrote no signature files"
  fi
fi
exit $fail
