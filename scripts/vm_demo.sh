#!/usr/bin/env bash
# The measured VM launch, narrated (part of the main job, scripts/main.sh):
# a real guest (Debian's kernel, a busybox initramfs, OVMF, its own swtpm
# vTPM) launched by `trustchain vm run`, with a swtpm as the host TPM.
#   measure -> launch -> boot -> attest (learn), then a trusted second boot,
#   then one byte of the kernel command line and of the initrd changed:
#   --enforce refuses before QEMU starts and quarantines; --audit boots and
#   the guest's verification shows the event and PCR; approve; the host
#   launch log replayed against the host TPM.
# Usage: scripts/vm_demo.sh TRUSTCHAIN [WORKDIR]. Exit 0 when every step did
# what it should, 1 otherwise; 77 when a tool is missing (says which).
set -uo pipefail
tc=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$(mktemp -d /tmp/trustchain-vm-demo-XXXXXX)}
mkdir -p "$work"
export PATH=$PATH:/usr/sbin:/sbin
for t in qemu-system-x86_64 swtpm swtpm_setup swtpm_ioctl; do
  command -v "$t" >/dev/null || { echo "skipped: $t missing (scripts/setup.sh installs it)"; exit 77; }
done
step() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }
ok=1
expect() {  # expect RC WHAT CMD...: runs CMD, shows its output, checks its exit code
  local want=$1 what=$2; shift 2
  "$@"; local rc=$?
  if [ "$rc" = "$want" ]; then echo "   => exit $rc: $what"; else echo "   => UNEXPECTED exit $rc (wanted $want): $what"; ok=0; fi
}
. "$root/scripts/swtpm.sh"
cleanup() { [ -n "${swtpm_pid:-}" ] && stop_swtpm; }
trap cleanup EXIT

step "build the test guest (Debian kernel + busybox initramfs that sends its logs over serial)"
"$root/scripts/guest/build.sh" "$work/guest" || { echo "skipped: the guest cannot be built"; exit 77; }
mkdir -p "$work/hosttpm"
start_swtpm "$work/hosttpm"
host="swtpm:port=$swtpm_port"
echo "host TPM: swtpm on 127.0.0.1:$swtpm_port (a real host uses /dev/tpmrm0)"
cmdline="console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet tcguest.variant=A"
write_spec() {
  cat >"$1" <<EOF
name = web1
firmware = /usr/share/OVMF/OVMF_CODE_4M.fd
firmware_vars = /usr/share/OVMF/OVMF_VARS_4M.fd
kernel = $work/guest/vmlinuz
initrd = $2
cmdline = $3
memory = 512
accel = auto
EOF
}
write_spec "$work/web1.spec" "$work/guest/initrd.cpio" "$cmdline"
echo "spec $work/web1.spec:"; sed 's/^/   /' "$work/web1.spec"
P=$work/web1-policy.json
rm -f "$P" "$P.audit.jsonl"
run() { "$tc" vm run "$@" --state-dir "$work/state" --tpm "$host" --launch-log "$work/launch.log" --policy "$P"; }

step "measure, launch, boot, attest: the first boot is learned (its vTPM is made by trustchain's vTPM CA)"
expect 0 "first boot learned and verified" run "$work/web1.spec" --learn

step "a second boot under --enforce: every input trusted, the guest's boot trusted through its vTPM's quote"
expect 0 "trusted" run "$work/web1.spec" --enforce

step "tamper: one byte of the kernel command line (tcguest.variant=A -> B)"
write_spec "$work/web1-cmdline.spec" "$work/guest/initrd.cpio" "${cmdline%A}B"
expect 1 "refused before QEMU started; the command line quarantined" run "$work/web1-cmdline.spec" --enforce
step "detect: the same tampered guest under --audit boots, and its verification names the event and PCR"
expect 1 "untrusted" run "$work/web1-cmdline.spec" --audit

step "tamper: one byte of a file inside the initrd (TCGUEST_WORKLOAD=A -> B)"
cp "$work/guest/initrd.cpio" "$work/initrd-tampered.cpio"
sed -i 's/TCGUEST_WORKLOAD=A/TCGUEST_WORKLOAD=B/' "$work/initrd-tampered.cpio"
cmp -l "$work/guest/initrd.cpio" "$work/initrd-tampered.cpio" | sed 's/^/   changed byte (offset, old, new octal): /'
write_spec "$work/web1-initrd.spec" "$work/initrd-tampered.cpio" "$cmdline"
expect 1 "refused before QEMU started; the initrd quarantined" run "$work/web1-initrd.spec" --enforce
expect 1 "under --audit: the initrd event (PCR 9) and the changed file (IMA) reported" run "$work/web1-initrd.spec" --audit

step "quarantine: the audit trail, then a person approves the known-good digests again"
sed 's/^/   /' "$P.audit.jsonl" | grep '"quarantine"' | cut -c1-200
good_cmd=$(printf '%s' "$cmdline" | sha256sum | cut -c1-64)
good_initrd=$(sha256sum "$work/guest/initrd.cpio" | cut -c1-64)
expect 0 "command line approved" "$tc" policy approve "$P" --component web1/cmdline --digest "sha256:$good_cmd" --reason "checked by the operator"
expect 0 "initrd approved" "$tc" policy approve "$P" --component web1/initrd --digest "sha256:$good_initrd" --reason "checked by the operator"
expect 0 "the good guest is trusted again" run "$work/web1.spec" --enforce

step "the host launch log (CEL-JSON) replayed against the host TPM's PCR 15"
expect 0 "every launch is in the log and the log is what the TPM measured" "$tc" vm log --launch-log "$work/launch.log" --tpm "$host"

[ $ok = 1 ] && echo "measured VM launch: every step as expected (work dir $work)" ||
  echo "measured VM launch: SOME STEPS FAILED (work dir $work)"
[ $ok = 1 ]
