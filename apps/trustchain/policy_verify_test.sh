#!/usr/bin/env bash
# The whitelist end to end through the CLI (issue 5), on the real VM boots of
# ../shared/corpus/vm: learn from baseline-tcg (with the Authenticode hashes
# of the EFI binaries it booted), verify all four boots, quarantine with
# --enforce, approve, stage, retire, sign; bad policies refused with nothing
# written; and the baseline verified through a real TPM quote (swtpm) of
# PCRs extended with the log's digests.
# Usage: policy_verify_test.sh TRUSTCHAIN. Exit 77 = skipped (says why).
set -u
tc=$1
here=$(cd "$(dirname "$0")" && pwd)
shared=${TC_SHARED_DIR:-$here/../../../shared}
vm=$shared/corpus/vm
[ -f "$vm/baseline-tcg/eventlog.bin" ] || { echo "skip: $vm missing (../shared/corpus/vm)"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing (reads the JSON output)"; exit 77; }
tmp=$(mktemp -d)
cleanup() { [ -n "${swtpm_pid:-}" ] && stop_swtpm; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1 (got $2)"; fail=1; fi; }
expect_rc() { local want=$1 what=$2; shift 2; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [ "$rc" = "$want" ]; check "$what: exit $want" "$([ "$rc" = "$want" ] && echo 0 || echo "$rc")"; }
# json EXPR FILE: evaluates a Python expression over the parsed JSON `d`.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }
state() { json "{c['name']: c['state'] for c in d['components']}.get('$1', 'absent')" "$2"; }

boot() { echo "--eventlog $vm/$1/eventlog.bin --ima $vm/$1/ima-log.bin --pcrs $vm/$1/pcrs-host.txt"; }

# --- learn --------------------------------------------------------------------
efi=${TC_EFI_BINARIES:-/var/cache/trustchain/efi}
files=()
if [ -f "$efi/systemd-bootx64.efi" ] && [ -f "$efi/vmlinuz-6.1.0-56-amd64" ]; then
  files=(--files "$efi/systemd-bootx64.efi" "$efi/vmlinuz-6.1.0-56-amd64")
else
  echo "skip the Authenticode part of learn: $efi lacks Debian's systemd-bootx64.efi/vmlinuz (scripts/fetch_efi_binaries.sh)"
fi
expect_rc 0 "policy learn from baseline-tcg" "$tc" policy learn $(boot baseline-tcg) "${files[@]}" \
  --out "$tmp/p.json" --format json
if [ ${#files[@]} -gt 0 ]; then
  grep -q "systemd-bootx64.efi: Authenticode sha256 7843e376e57323bcdfebcffc8d5109eb39721c83d8bedab1dfd6431596875c2c = the digest of efi-BOOTX64.EFI" "$tmp/out"
  check "systemd-boot's Authenticode hash equals the PCR 4 event's digest" $?
  grep -q "vmlinuz-6.1.0-56-amd64: Authenticode sha256 6b1bf35c3bee9918250f593a6fff889c75c1e239cd2fe9e5bb0cd3de9dcb8e51 = the digest of kernel-vmlinuz" "$tmp/out"
  check "the kernel's Authenticode hash equals the PCR 4 event's digest" $?
fi
expect_rc 2 "learn refuses to overwrite" "$tc" policy learn $(boot baseline-tcg) --out "$tmp/p.json"
expect_rc 1 "learn refuses a log that does not replay to --pcrs" "$tc" policy learn \
  --eventlog "$vm/baseline-tcg/eventlog.bin" --pcrs "$vm/tamper-cmdline/pcrs-host.txt" --out "$tmp/x.json"
[ ! -e "$tmp/x.json" ]; check "... and writes nothing" $?
cp "$tmp/p.json" "$tmp/golden.json"

# --- verify -------------------------------------------------------------------
expect_rc 0 "baseline-tcg verifies as trusted" "$tc" verify --policy "$tmp/p.json" $(boot baseline-tcg) --format json
[ "$(json "d['verdict']" "$tmp/out")" = trusted ]; check "... verdict trusted" $?
expect_rc 1 "tamper-cmdline is untrusted" "$tc" verify --policy "$tmp/p.json" $(boot tamper-cmdline) --format json
cp "$tmp/out" "$tmp/cmdline.json"
[ "$(state kernel-cmdline "$tmp/cmdline.json")" = tampered ]; check "... kernel-cmdline tampered" $?
[ "$(json "[c for c in d['components'] if c['name']=='kernel-cmdline'][0]['diff']" "$tmp/cmdline.json")" = \
  "mbtest.variant=A -> mbtest.variant=B" ]; check "... with the diff mbtest.variant=A -> B" $?
[ "$(json "[c for c in d['components'] if c['name']=='kernel-cmdline'][0]['events'][0]['pcr']" "$tmp/cmdline.json")" = 12 ]
check "... naming the event's PCR (12)" $?
"$tc" verify --policy "$tmp/p.json" $(boot tamper-cmdline) >"$tmp/text" 2>&1
grep -q "kernel command line changed" "$tmp/text" && grep -q "was:  initrd=.*mbtest.variant=A" "$tmp/text" &&
  grep -q "now:  initrd=.*mbtest.variant=B" "$tmp/text"; check "text report: reason, was/now command lines" $?
expect_rc 1 "tamper-initrd is untrusted" "$tc" verify --policy "$tmp/p.json" $(boot tamper-initrd) --format json
[ "$(state initrd "$tmp/out")" = tampered ]; check "... initrd tampered" $?
[ "$(json "[c for c in d['components'] if c['name']=='initrd'][0]['reason'].startswith('initrd changed')" "$tmp/out")" = True ]
check "... reason 'initrd changed'" $?
expect_rc 1 "shim-grub-sb is untrusted" "$tc" verify --policy "$tmp/p.json" $(boot shim-grub-sb) --format json
[ "$(state efi-BOOTX64.EFI-new "$tmp/out")" = unknown ] && [ "$(state efi-grubx64.efi "$tmp/out")" = unknown ]
check "... shim and GRUB are unknown components" $?
[ "$(json "sum(p['status']=='mismatch' for p in d['pcrs'])" "$tmp/out")" = 0 ]; check "... not a PCR failure" $?
expect_rc 2 "no --pcrs: undecided" "$tc" verify --policy "$tmp/p.json" --eventlog "$vm/baseline-tcg/eventlog.bin" --format json
[ "$(json "d['verdict']" "$tmp/out")" = undecided ]; check "... verdict undecided" $?
expect_rc 1 "a log with another boot's PCRs is untrusted" "$tc" verify --policy "$tmp/p.json" \
  --eventlog "$vm/baseline-tcg/eventlog.bin" --pcrs "$vm/tamper-initrd/pcrs-host.txt"

grep -v -E '^(9|12) ' "$vm/tamper-cmdline/pcrs-host.txt" >"$tmp/partial.txt"
expect_rc 2 "the baseline log with PCRs 9 and 12 left out is undecided, not trusted" "$tc" verify \
  --policy "$tmp/p.json" --eventlog "$vm/baseline-tcg/eventlog.bin" --pcrs "$tmp/partial.txt"
grep -q "PCR 12 (sha256) is extended by the event log but was not reported" "$tmp/out"; check "... naming the PCR" $?
cp "$tmp/p.json" "$tmp/unproven.json"
expect_rc 1 "--enforce on unattested evidence (no --pcrs)" "$tc" verify --policy "$tmp/unproven.json" \
  --eventlog "$vm/tamper-cmdline/eventlog.bin" --enforce
grep -q "not enforced" "$tmp/out" && cmp -s "$tmp/p.json" "$tmp/unproven.json" && [ ! -e "$tmp/unproven.json.audit.jsonl" ]
check "... changes nothing and says so" $?

# --- enforce, approve, stage, retire -------------------------------------------
expect_rc 1 "verify --enforce on tamper-cmdline" "$tc" verify --policy "$tmp/p.json" $(boot tamper-cmdline) --enforce
[ "$(json "d['version']" "$tmp/p.json")" = 2 ]; check "... bumps the policy version to 2" $?
[ "$(wc -l <"$tmp/p.json.audit.jsonl")" = 4 ]; check "... appends 4 audit records" $?
expect_rc 1 "the same evidence again" "$tc" verify --policy "$tmp/p.json" $(boot tamper-cmdline) --format json
[ "$(state kernel-cmdline "$tmp/out")" = quarantined ]; check "... kernel-cmdline is now quarantined" $?
expect_rc 1 "baseline while its command line is quarantined" "$tc" verify --policy "$tmp/p.json" $(boot baseline-tcg)
good=sha256:acac24950db112d21a23e1113333f9a6cc82d9842bb9770074f060a8fb7bc3f9
for c in kernel-cmdline kernel-cmdline-stub; do
  expect_rc 0 "policy approve $c" "$tc" policy approve "$tmp/p.json" --component $c --digest $good --reason reviewed
done
expect_rc 0 "baseline trusted again after approval" "$tc" verify --policy "$tmp/p.json" $(boot baseline-tcg)
expect_rc 2 "approve of an unknown component" "$tc" policy approve "$tmp/p.json" --component nope
expect_rc 0 "policy retire the tampered digests" "$tc" policy retire "$tmp/p.json" --component kernel-cmdline --digest quarantined
[ "$(json "len([c for c in d['components'] if c['name']=='kernel-cmdline'][0]['digests'])" "$tmp/p.json")" = 1 ]
check "... one digest left" $?
initrd_b=$(json "[c for c in d['components'] if c['name']=='initrd'][0]['events'][0]['measured']" "$tmp/out" 2>/dev/null)
"$tc" verify --policy "$tmp/p.json" $(boot tamper-initrd) --format json >"$tmp/initrd.json" 2>/dev/null
initrd_b=$(json "[c for c in d['components'] if c['name']=='initrd'][0]['events'][0]['measured']" "$tmp/initrd.json")
expect_rc 0 "policy stage the new initrd's digest" "$tc" policy stage "$tmp/p.json" --component initrd --digest "$initrd_b"
"$tc" verify --policy "$tmp/p.json" $(boot tamper-initrd) --format json >"$tmp/out" 2>/dev/null
[ "$(state initrd "$tmp/out")" = trusted ]; check "... then that initrd is trusted" $?
"$tc" policy diff "$tmp/golden.json" "$tmp/p.json" >"$tmp/diff"; rc=$?
[ $rc = 1 ] && grep -q "^+ initrd: $initrd_b (trusted)" "$tmp/diff"; check "policy diff shows the staged digest (exit 1)" $?
expect_rc 0 "policy diff of a policy with itself" "$tc" policy diff "$tmp/golden.json" "$tmp/golden.json"

# --- bad policies: refused, nothing written -----------------------------------
bad() {  # NAME CONTENT EXPECTED-MESSAGE
  printf '%s' "$2" >"$tmp/bad.json"; local before; before=$(sha256sum "$tmp/bad.json")
  expect_rc 2 "bad policy ($1) refused" "$tc" verify --policy "$tmp/bad.json" $(boot tamper-cmdline) --enforce
  grep -q "$3" "$tmp/err"; check "... saying '$3'" $?
  [ "$(sha256sum "$tmp/bad.json")" = "$before" ] && [ ! -e "$tmp/bad.json.audit.jsonl" ]
  check "... and nothing written" $?
}
bad "malformed JSON" '{"trustchain_policy": 1,' "line 1"
bad "wrong version" '{"trustchain_policy": 2, "version": 1, "components": []}' "format 2 is not supported"
bad "unknown stage" '{"trustchain_policy": 1, "version": 1, "components": [{"name": "x", "stage": "bios", "digests": []}]}' \
  'components\[0\].stage: unknown stage "bios"'
bad "not a policy" '{"digests": {}}' "not a trustchain policy"

# --- signing ------------------------------------------------------------------
if command -v openssl >/dev/null; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key.pem" 2>/dev/null
  openssl ec -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/key2.pem" 2>/dev/null
  openssl ec -in "$tmp/key2.pem" -pubout -out "$tmp/pub2.pem" 2>/dev/null
  cp "$tmp/golden.json" "$tmp/s.json"
  expect_rc 0 "policy sign" "$tc" policy sign "$tmp/s.json" --key "$tmp/key.pem"
  expect_rc 0 "a signed policy verifies with its key" "$tc" verify --policy "$tmp/s.json" --policy-key "$tmp/pub.pem" $(boot baseline-tcg)
  expect_rc 2 "... is refused without a key" "$tc" verify --policy "$tmp/s.json" $(boot baseline-tcg)
  expect_rc 2 "... is refused with another key" "$tc" verify --policy "$tmp/s.json" --policy-key "$tmp/pub2.pem" $(boot baseline-tcg)
  grep -q "not by the key given" "$tmp/err"; check "... saying so" $?
  sed 's/"version": 1/"version": 9/' "$tmp/s.json" >"$tmp/s2.json"
  expect_rc 2 "a changed signed policy is refused (bad signature)" "$tc" verify --policy "$tmp/s2.json" --policy-key "$tmp/pub.pem" $(boot baseline-tcg)
  grep -q "signature does not verify" "$tmp/err"; check "... saying the signature does not verify" $?
  expect_rc 2 "an unsigned policy is refused when a key is given" "$tc" verify --policy "$tmp/golden.json" --policy-key "$tmp/pub.pem" $(boot baseline-tcg)
  expect_rc 1 "--enforce with --sign-key keeps it signed" "$tc" verify --policy "$tmp/s.json" --policy-key "$tmp/pub.pem" \
    --sign-key "$tmp/key.pem" $(boot tamper-cmdline) --enforce
  expect_rc 1 "... and the re-signed policy loads with the key" "$tc" verify --policy "$tmp/s.json" --policy-key "$tmp/pub.pem" $(boot tamper-cmdline)
else
  echo "skip signing checks: openssl missing"
fi

# --- anchoring the policy in a TPM NV index (the embedded TPM) -------------------
etpm="--tpm embedded:$tmp/etpm"
cp "$tmp/golden.json" "$tmp/a.json"
expect_rc 0 "policy anchor in NV 0x01500020" "$tc" policy anchor "$tmp/a.json" --policy-nv 0x01500020 $etpm
expect_rc 0 "the anchored policy verifies" "$tc" verify --policy "$tmp/a.json" --policy-nv 0x01500020 $etpm $(boot baseline-tcg)
cp "$tmp/p.json" "$tmp/swapped.json"
expect_rc 2 "a swapped policy is refused" "$tc" verify --policy "$tmp/swapped.json" --policy-nv 0x01500020 $etpm $(boot baseline-tcg)
grep -q "is not the one anchored in NV index 0x01500020" "$tmp/err"; check "... naming the NV index" $?
expect_rc 1 "--enforce re-anchors the changed policy" "$tc" verify --policy "$tmp/a.json" --policy-nv 0x01500020 $etpm \
  $(boot tamper-cmdline) --enforce
expect_rc 1 "... which then loads (quarantined, untrusted)" "$tc" verify --policy "$tmp/a.json" --policy-nv 0x01500020 $etpm $(boot tamper-cmdline)
expect_rc 2 "... and the old file no longer does" "$tc" verify --policy "$tmp/golden.json" --policy-nv 0x01500020 $etpm $(boot baseline-tcg)

# --- the hardware root: the baseline through a real TPM quote (swtpm) ----------
if command -v swtpm >/dev/null; then
  . "$here/../../scripts/swtpm.sh"
  mkdir -p "$tmp/tpm"
  if start_swtpm "$tmp/tpm"; then
    spec="swtpm:host=127.0.0.1,port=$swtpm_port"
    export TSS2_LOG=all+NONE
    # Extend the swtpm's sha256 PCRs with every digest the baseline log holds,
    # as its firmware did, in order.
    "$tc" eventlog show "$vm/baseline-tcg/eventlog.bin" --format json |
      python3 -c "
import json, sys
for e in json.load(sys.stdin)['events']:
    if e.get('extended'):
        print(e['pcr'], e['digests']['sha256'])" >"$tmp/extends"
    ok=0
    while read -r p d; do "$tc" tpm extend --tpm "$spec" "$p" --digest "sha256=$d" >/dev/null || ok=1; done <"$tmp/extends"
    check "swtpm extended with the baseline's $(wc -l <"$tmp/extends") digests" $ok
    "$tc" tpm ak create --tpm "$spec" -G ecc --ek ecc -o "$tmp/ak.tcak" -u "$tmp/ak.pub" >/dev/null
    check "AK created under the swtpm's EK" $?
    nonce=$(openssl rand -hex 20)
    # A whitelist of the boot alone: the quote does not cover PCR 10 (IMA).
    "$tc" policy learn --eventlog "$vm/baseline-tcg/eventlog.bin" --out "$tmp/boot.json" >/dev/null
    "$tc" tpm quote --tpm "$spec" -c "$tmp/ak.tcak" -l sha256:0,1,2,3,4,5,6,7,9,12 -q "$nonce" \
      -m "$tmp/q.msg" -s "$tmp/q.sig" -o "$tmp/q.pcrs" >/dev/null
    check "quote of PCRs 0-7, 9, 12" $?
    expect_rc 0 "baseline verified through the quote" "$tc" verify --policy "$tmp/boot.json" \
      --eventlog "$vm/baseline-tcg/eventlog.bin" --quote "$tmp/q.msg" --ak "$tmp/ak.pub" --nonce "$nonce" --format json
    [ "$(json "d['verdict'] + ' ' + str(d['attested'])" "$tmp/out")" = "trusted True" ]; check "... trusted and attested" $?
    expect_rc 1 "a stale nonce is rejected" "$tc" verify --policy "$tmp/boot.json" \
      --eventlog "$vm/baseline-tcg/eventlog.bin" --quote "$tmp/q.msg" --ak "$tmp/ak.pub" --nonce "00$nonce"
    expect_rc 1 "the tampered log against the same quote is untrusted" "$tc" verify --policy "$tmp/boot.json" \
      --eventlog "$vm/tamper-cmdline/eventlog.bin" --quote "$tmp/q.msg" --ak "$tmp/ak.pub" --nonce "$nonce" --format json
    [ "$(json "sum(p['status']=='mismatch' for p in d['pcrs'])" "$tmp/out")" -ge 1 ]
    check "... its PCR 9/12 do not replay to the quote" $?
  else
    echo "FAIL swtpm did not start"; fail=1
  fi
else
  echo "skip the quote checks: swtpm missing (scripts/setup.sh installs it)"
fi

exit $fail
