#!/usr/bin/env bash
# Launch overhead (issue 6): the time `trustchain` adds before a guest starts
# (measuring and judging its files, then recording them in the host TPM and
# launch log) against `sha256sum` of the same files, side by side with
# hyperfine, plus peak memory. Two guests: the test guest's direct boot
# (OVMF code and vars, kernel, initrd: 14 MB) and the same with a 1 GiB raw
# disk image.
#   bench/launch_bench.sh            (builds release first when needed)
# Rows:
#   sha256sum FILES                       the peer: hashing the same bytes
#   launch --dry-run                      measure (sha256 + Authenticode of
#                                         kernel and firmware) and judge
#   libvirt-hook, embedded TPM            + extend PCR 15 in 4 banks per input
#                                         and append the CEL log (no QEMU)
#   libvirt-hook, swtpm                   the same against a swtpm process
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TC_BUILD:-build/release}
[ -x "$build/apps/trustchain/trustchain" ] || scripts/build.sh release >/dev/null
tc=$(readlink -f "$build/apps/trustchain/trustchain")
command -v hyperfine >/dev/null || { echo "hyperfine missing (scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d /tmp/tc-launch-bench-XXXXXX)
. scripts/swtpm.sh
trap 'stop_swtpm 2>/dev/null; rm -rf "$tmp"' EXIT
scripts/guest/build.sh "$tmp/guest" >/dev/null
mkdir -p "$tmp/swtpm"
start_swtpm "$tmp/swtpm"
code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
k=$tmp/guest/vmlinuz i=$tmp/guest/initrd.cpio
head -c $((1 << 30)) /dev/urandom >"$tmp/disk.img"

domain() {  # domain NAME [DISK]
  cat <<EOF
<domain type='kvm'><name>$1</name>
  <os><type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>$code</loader>
    <nvram template='$vars'>/var/lib/libvirt/qemu/nvram/$1_VARS.fd</nvram>
    <kernel>$k</kernel><initrd>$i</initrd><cmdline>console=ttyS0 quiet</cmdline></os>
  <devices>$([ -n "${2:-}" ] && echo "<disk type='file' device='disk'><source file='$2'/><target dev='vda'/><readonly/></disk>")</devices>
</domain>
EOF
}

bench() {  # bench LABEL FILES...  (the guest's files)
  local label=$1; shift
  local files=("$@") qemu=(qemu-system-x86_64 -name b -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
    -drive "if=pflash,format=raw,unit=1,file=$vars" -kernel "$k" -initrd "$i" -append "console=ttyS0 quiet")
  local disk=""
  [ ${#files[@]} -gt 4 ] && { disk=${files[4]}; qemu+=(-drive "file=$disk,format=raw,if=virtio,readonly=on"); }
  domain b "$disk" >"$tmp/b.xml"
  local bytes; bytes=$(du -cb --apparent-size "${files[@]}" | tail -1 | cut -f1)
  echo
  echo "== $label: ${#files[@]} files, $((bytes / 1048576)) MiB (warm page cache)"
  rm -f "$tmp/p.json"*
  "$tc" vm libvirt-hook --learn --policy "$tmp/p.json" --tpm "embedded:$tmp/etpm" \
    --launch-log "$tmp/learn.log" -- b prepare begin - <"$tmp/b.xml" >/dev/null 2>&1
  cat "${files[@]}" >/dev/null
  hyperfine -N --warmup 3 --min-runs 15 --export-json "$tmp/h.json" \
    -n "sha256sum" "sha256sum ${files[*]}" \
    -n "launch --dry-run (measure + judge)" "$tc launch --dry-run --policy $tmp/p.json -- $(printf '%q ' "${qemu[@]}")" \
    -n "libvirt-hook, embedded TPM (+ extend, log)" \
       "sh -c '$tc vm libvirt-hook --policy $tmp/p.json --tpm embedded:$tmp/etpm --launch-log $tmp/e.log -- b prepare begin - < $tmp/b.xml'" \
    -n "libvirt-hook, swtpm (+ extend, log)" \
       "sh -c '$tc vm libvirt-hook --policy $tmp/p.json --tpm swtpm:port=$swtpm_port --launch-log $tmp/s.log -- b prepare begin - < $tmp/b.xml'" \
    2>/dev/null | grep -vE '^\s*$|Range|Warning|outliers|statistical'
  python3 - "$tmp/h.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
for x in r:
    print(f"   {x['command']:<45} {x['mean']*1000:8.1f} ms  {x['mean']/base:5.2f}x sha256sum")
EOF
  /usr/bin/time -f "   peak RSS %M KB: sha256sum" sha256sum "${files[@]}" >/dev/null 2>"$tmp/rss"
  tail -1 "$tmp/rss"
  /usr/bin/time -f "   peak RSS %M KB: launch --dry-run" "$tc" launch --dry-run --policy "$tmp/p.json" -- \
    "${qemu[@]}" >/dev/null 2>"$tmp/rss"
  tail -1 "$tmp/rss"
  /usr/bin/time -f "   peak RSS %M KB: libvirt-hook, embedded TPM" "$tc" vm libvirt-hook --policy "$tmp/p.json" \
    --tpm "embedded:$tmp/etpm" --launch-log "$tmp/e.log" -- b prepare begin - <"$tmp/b.xml" >/dev/null 2>"$tmp/rss"
  tail -1 "$tmp/rss"
}

bench "direct-boot guest" "$code" "$vars" "$k" "$i"
bench "direct-boot guest + 1 GiB disk image" "$code" "$vars" "$k" "$i" "$tmp/disk.img"
