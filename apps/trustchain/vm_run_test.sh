#!/usr/bin/env bash
# Measured VM launch end to end (issue 6), on a real guest: Debian's kernel,
# a busybox initramfs (scripts/guest/build.sh), OVMF, a swtpm vTPM per VM,
# QEMU (TCG here). A swtpm plays the host TPM, so that the host launch log
# can be replayed against it.
#
#   1. `vm run --learn`: the first boot is learned (launch inputs, the
#      guest's firmware log and IMA list) and verified through the vTPM quote;
#   2. the second boot, --enforce, is trusted;
#   3. one byte of the kernel command line changed: --enforce refuses before
#      QEMU starts (naming t1/cmdline) and quarantines; --audit boots and the
#      guest's verification reports the command line event and PCR;
#   4. the same for one byte of the initrd (and IMA reports the changed file);
#   5. approved again, the good guest is trusted; the launch log replays to
#      the host TPM's PCR 15; a changed log does not;
#   6. `trustchain launch` execs QEMU only when the check passes;
#   7. the libvirt hook refuses a tampered domain;
#   8. SIGTERM during a boot leaves no QEMU or swtpm behind.
# Usage: vm_run_test.sh TRUSTCHAIN. Exit 77 = skipped (says what is missing).
set -u
tc=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=$PATH:/usr/sbin:/sbin
for t in qemu-system-x86_64 swtpm swtpm_setup swtpm_ioctl swtpm_localca cpio python3; do
  command -v "$t" >/dev/null || { echo "skip: $t missing (scripts/setup.sh installs it)"; exit 77; }
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || { echo "skip: OVMF missing (package ovmf)"; exit 77; }
tmp=$(mktemp -d /tmp/tc-vm-test-XXXXXX)
chmod 755 "$tmp"
cleanup() {
  [ -n "${swtpm_pid:-}" ] && stop_swtpm
  pkill -9 -f "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
"$repo/scripts/guest/build.sh" "$tmp/guest" >"$tmp/build.log" 2>&1
rc=$?
if [ $rc = 3 ]; then echo "skip: $(tail -1 "$tmp/build.log")"; exit 77; fi
[ $rc = 0 ] || { cat "$tmp/build.log"; echo "FAIL building the guest"; exit 1; }

fail=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1 (got $2)"; fail=1; fi; }
# expect_rc WANT WHAT CMD...: output in $tmp/out (stdout) and $tmp/err.
expect_rc() { local want=$1 what=$2; shift 2; "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  check "$what: exit $want" "$([ "$rc" = "$want" ] && echo 0 || echo "$rc")"
  [ "$rc" = "$want" ] || { tail -20 "$tmp/err"; tail -20 "$tmp/out"; }; }
has() { grep -qE -- "$2" "$tmp/$1"; check "$3" "$?"; }
hasnt() { ! grep -qE -- "$2" "$tmp/$1"; check "$3" "$?"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

. "$repo/scripts/swtpm.sh"
mkdir -p "$tmp/hosttpm"
start_swtpm "$tmp/hosttpm" || { echo "FAIL: the host swtpm did not start"; exit 1; }
host="swtpm:port=$swtpm_port"
cmdline="console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet tcguest.variant=A"
spec() {  # spec FILE INITRD CMDLINE
  cat >"$1" <<EOF
# test guest (vm_run_test.sh)
name = t1
firmware = /usr/share/OVMF/OVMF_CODE_4M.fd
firmware_vars = /usr/share/OVMF/OVMF_VARS_4M.fd
kernel = $tmp/guest/vmlinuz
initrd = $2
cmdline = $3
memory = 512
accel = tcg
boot_timeout = 300
EOF
}
spec "$tmp/good.spec" "$tmp/guest/initrd.cpio" "$cmdline"
spec "$tmp/cmdline.spec" "$tmp/guest/initrd.cpio" "${cmdline%A}B"
cp "$tmp/guest/initrd.cpio" "$tmp/initrd-tampered.cpio"
sed -i 's/TCGUEST_WORKLOAD=A/TCGUEST_WORKLOAD=B/' "$tmp/initrd-tampered.cpio"
check "the tampered initrd differs in exactly one byte" \
  "$([ "$(cmp -l "$tmp/guest/initrd.cpio" "$tmp/initrd-tampered.cpio" | wc -l)" = 1 ] && echo 0 || echo 1)"
spec "$tmp/initrd.spec" "$tmp/initrd-tampered.cpio" "$cmdline"
P=$tmp/policy.json
run() { "$tc" vm run "$@" --state-dir "$tmp/state" --policy "$P" --tpm "$host" --launch-log "$tmp/launch.log"; }
evidence() { ls "$tmp/state/vms/t1/evidence" 2>/dev/null | grep -c '^[0-9]'; }

# --- 1. learn from the first boot ----------------------------------------------
expect_rc 0 "first boot, --learn" run "$tmp/good.spec" --learn
has err '\[vtpm\] manufactured vTPM .*EK certificate issued by the vTPM CA' "the vTPM is manufactured with an EK certificate from the vTPM CA"
has err '\[learn\] t1: 5 digest\(s\) admitted' "the launch inputs are learned (firmware, vars, kernel, initrd, cmdline)"
has err '\[learn\] t1: [1-9][0-9]* boot component\(s\) and [1-9][0-9]* runtime file' "the guest's boot and IMA list are learned"
has err '\[attest\] t1: AK bound to the vTPM.s EK \(credential activated\)' "the AK is bound to the EK"
has out 'verdict: trusted' "the learned boot verifies as trusted"
"$tc" policy show "$P" >"$tmp/show" 2>&1
for c in t1/firmware-code t1/kernel t1/initrd t1/cmdline; do
  has show "$c" "the policy has $c"
done
has show 'guest-cmdline' "launch components have guest-* stages"

# --- 2. the second boot is trusted through the quote ----------------------------
expect_rc 0 "second boot, --enforce" run "$tmp/good.spec" --enforce
has out 'launch check of t1: trusted \(5 trusted' "the launch check is trusted"
has out 'quote .*quote.msg verified with AK' "the guest's PCRs come from a verified vTPM quote"
has out 'verdict: trusted' "the guest's boot is trusted"
cp "$P" "$tmp/policy.good.json"

# --- 3. one byte of the command line ------------------------------------------------
before=$(evidence)
expect_rc 1 "tampered command line, --enforce" run "$tmp/cmdline.spec" --enforce
has out 'tampered +t1/cmdline .*tcguest.variant=A -> tcguest.variant=B' "the report names t1/cmdline and the change"
has err 'REFUSED \(--enforce\): QEMU was not started' "the launch is refused"
check "no boot happened" "$([ "$(evidence)" = "$before" ] && echo 0 || echo 1)"
has out 'quarantined: 2 digest\(s\)' "the command line is quarantined"
grep -q '"action":"quarantine","component":"t1/cmdline"' "$P.audit.jsonl"; check "the quarantine is audited" $?
expect_rc 1 "tampered command line, --audit" run "$tmp/cmdline.spec" --audit
has err 'launching anyway \(--audit\)' "--audit launches"
check "the guest booted" "$([ "$(evidence)" -gt "$before" ] && echo 0 || echo 1)"
has out 'tampered +kernel-cmdline-stub .*event [0-9]+ \(PCR 9\)' "verification names the command line event and PCR 9"
good_cmd=$(json "[x['digest'] for c in d['components'] if c['name']=='t1/cmdline' for x in c['digests'] if x.get('content','').endswith('variant=A')][0]" "$P")
expect_rc 0 "approve the good command line" "$tc" policy approve "$P" --component t1/cmdline --digest "sha256:$good_cmd"

# --- 4. one byte of the initrd ----------------------------------------------------
before=$(evidence)
expect_rc 1 "tampered initrd, --enforce" run "$tmp/initrd.spec" --enforce
has out 'tampered +t1/initrd +initrd +guest initrd changed' "the report names t1/initrd"
check "no boot happened" "$([ "$(evidence)" = "$before" ] && echo 0 || echo 1)"
expect_rc 1 "tampered initrd, --audit" run "$tmp/initrd.spec" --audit
has out 'tampered +initrd +initrd +initrd changed: event [0-9]+ \(PCR 9\)' "verification names the initrd event and PCR 9"
has out 'tampered +/etc/tcguest/workload.conf' "IMA names the changed file inside the initrd"
good_initrd=$(sha256sum "$tmp/guest/initrd.cpio" | cut -c1-64)
expect_rc 0 "approve the good initrd" "$tc" policy approve "$P" --component t1/initrd --digest "sha256:$good_initrd"

# --- 5. recovered; the launch log replays ------------------------------------------
expect_rc 0 "the good guest after approval (--format json)" run "$tmp/good.spec" --enforce --format json
cp "$tmp/out" "$tmp/run.json"
check "JSON: trusted again" "$([ "$(json "d['verdict']" "$tmp/run.json")" = trusted ] && echo 0 || echo 1)"
check "JSON: launched, launch check trusted, booted under TCG" \
  "$([ "$(json "(d['decision'], d['launch']['verdict'], d['boot']['accel'])" "$tmp/run.json")" = "('launched', 'trusted', 'tcg')" ] && echo 0 || echo 1)"
check "JSON: the guest's verification is embedded" \
  "$([ "$(json "d['verification']['verdict'] + ' ' + str(d['verification']['attested'])" "$tmp/run.json")" = "trusted True" ] && echo 0 || echo 1)"
check "JSON: the vTPM's EK certificate was verified" \
  "$([ "$(json "d['vtpm']['ek_certificate']" "$tmp/run.json")" = "verified against the vTPM CA root" ] && echo 0 || echo 1)"
expect_rc 0 "vm log replays the launch log to the host TPM" "$tc" vm log --launch-log "$tmp/launch.log" --tpm "$host"
has out 'the log is what the TPM measured' "PCR 15 = the replay of the launch log"
has out 'vm=t1 slot=vtpm-ek kind=vtpm-ek' "the vTPM's EK is in the host log"
n=$(grep -c $'\x1e' "$tmp/launch.log")
check "every launched boot left 6 records ($n)" "$([ $((n % 6)) = 0 ] && [ "$n" -ge 30 ] && echo 0 || echo 1)"
# The last record removed: the log still parses, but no longer replays.
python3 -c "import sys; t=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(t[:t.rfind(b'\x1e')])" \
  "$tmp/launch.log" "$tmp/launch-cut.log"
expect_rc 1 "a launch log missing its last record does not replay" "$tc" vm log --launch-log "$tmp/launch-cut.log" --tpm "$host"
# JSON: the host log.
"$tc" vm log --launch-log "$tmp/launch.log" --tpm "$host" --format json >"$tmp/log.json"
check "vm log --format json: matches" "$([ "$(json "d['matches']" "$tmp/log.json")" = True ] && echo 0 || echo 1)"

# --- 6. trustchain launch execs QEMU only when allowed ------------------------------
L=$tmp/launch-policy.json
qemu_args=(qemu-system-x86_64 -name t2 -kernel "$tmp/guest/vmlinuz" -initrd "$tmp/guest/initrd.cpio")
expect_rc 0 "launch --learn execs QEMU" "$tc" launch --learn --policy "$L" --tpm "$host" --launch-log "$tmp/launch.log" -- "${qemu_args[@]}" -append "a=1" -version
has out 'QEMU emulator version' "QEMU ran (-version)"
expect_rc 0 "launch --dry-run --format json of the learned command" "$tc" launch --dry-run --policy "$L" --format json -- "${qemu_args[@]}" -append "a=1" -version
check "JSON verdict trusted" "$([ "$(json "d['verdict']" "$tmp/out")" = trusted ] && echo 0 || echo 1)"
hasnt out 'QEMU emulator version' "--dry-run starts nothing"
expect_rc 1 "launch --enforce with a changed -append" "$tc" launch --policy "$L" --tpm "$host" --launch-log "$tmp/launch.log" -- "${qemu_args[@]}" -append "a=2" -version
hasnt out 'QEMU emulator version' "QEMU did not run"
has out 'tampered +t2/cmdline .*a=1 -> a=2' "the report names t2/cmdline"
# An ESP image: the EFI binary inside is judged by its Authenticode digest,
# the one the direct launch recorded for the same kernel.
if command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null; then
  mkfs.vfat -C -F 16 -n ESP "$tmp/esp.img" 20480 >/dev/null
  MTOOLS_SKIP_CHECK=1 mmd -i "$tmp/esp.img" ::/EFI ::/EFI/BOOT
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/esp.img" "$tmp/guest/vmlinuz" ::/EFI/BOOT/BOOTX64.EFI
  expect_rc 0 "launch --dry-run --learn of an ESP image" "$tc" launch --dry-run --learn --policy "$tmp/esp-policy.json" --format json -- qemu-system-x86_64 -name t4 -drive "file=$tmp/esp.img,format=raw,if=virtio" -version
  esp_auth=$(json "[i['measured'] for i in d['inputs'] if i['component']=='t4/disk0:/EFI/BOOT/BOOTX64.EFI'][0]" "$tmp/out")
  kernel_auth=$(grep -o 'slot=kernel kind=kernel [^ ]* [^ ]* authenticode=[0-9a-f]*' "$tmp/launch.log" | head -1 | sed 's/.*authenticode=/sha256:/')
  check "the EFI binary in the ESP is judged by its Authenticode digest ($esp_auth)" \
    "$([ -n "$kernel_auth" ] && [ "$esp_auth" = "$kernel_auth" ] && echo 0 || echo 1)"
else
  echo "skip: ESP image checks (mkfs.vfat, mcopy missing: packages dosfstools, mtools)"
fi
expect_rc 2 "an unknown QEMU option is refused" "$tc" launch --dry-run -- qemu-system-x86_64 -name t2 -frobnicate x
has err "unknown QEMU option '-frobnicate'" "the error names the option"
expect_rc 0 "vm log after launch" "$tc" vm log --launch-log "$tmp/launch.log" --tpm "$host"

# --- 7. libvirt hook --------------------------------------------------------------
domain() {  # domain CMDLINE
  cat <<EOF
<domain type='kvm'>
  <name>t3</name>
  <memory unit='MiB'>512</memory>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/t3_VARS.fd</nvram>
    <kernel>$tmp/guest/vmlinuz</kernel>
    <initrd>$tmp/guest/initrd.cpio</initrd>
    <cmdline>$1</cmdline>
  </os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
EOF
}
H=$tmp/hook-policy.json
hook() { "$tc" vm libvirt-hook --policy "$H" --tpm "$host" --launch-log "$tmp/launch.log" "$@"; }
domain "console=ttyS0 a=1" >"$tmp/t3.xml"
domain "console=ttyS0 a=2" >"$tmp/t3-tampered.xml"
expect_rc 0 "libvirt hook, --learn" hook --learn -- t3 prepare begin - <"$tmp/t3.xml"
expect_rc 0 "libvirt hook, the same domain" hook -- t3 prepare begin - <"$tmp/t3.xml"
expect_rc 1 "libvirt hook refuses the tampered domain" hook -- t3 prepare begin - <"$tmp/t3-tampered.xml"
has out 'tampered +t3/cmdline' "the hook names t3/cmdline"
expect_rc 0 "other hook operations pass" hook -- t3 release end - </dev/null

# --- 8. SIGTERM during a boot ---------------------------------------------------------
"$tc" vm run "$tmp/good.spec" --state-dir "$tmp/state" --tpm "$host" --launch-log "$tmp/launch.log" \
  >"$tmp/sig.out" 2>"$tmp/sig.err" &
pid=$!
for _ in $(seq 600); do grep -qs '\[boot\] t1: QEMU started' "$tmp/sig.err" && break; sleep 0.1; done
sleep 1
kill -TERM $pid
wait $pid
rc=$?
check "vm run ends on SIGTERM (exit $rc)" "$([ $rc = 2 ] && echo 0 || echo 1)"
grep -q 'interrupted' "$tmp/sig.err"; check "it says it was interrupted" $?
sleep 0.5
left=$(pgrep -f "$tmp/state" | wc -l)
check "no QEMU or swtpm of the VM is left ($left)" "$([ "$left" = 0 ] && echo 0 || echo 1)"

[ $fail = 0 ] && echo "vm_run_test: all checks passed" || echo "vm_run_test: FAILED"
exit $fail
