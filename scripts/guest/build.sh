#!/usr/bin/env bash
# Builds the trustchain test guest (issue 6) into OUTDIR:
#   OUTDIR/vmlinuz       Debian's signed 6.1 kernel (an EFI-stub bzImage)
#   OUTDIR/initrd.cpio   an uncompressed newc initramfs: static busybox,
#                        /init (scripts/guest/init) and the workload file
#                        /etc/tcguest/workload.conf ("TCGUEST_WORKLOAD=A")
# Boot it with QEMU's direct kernel boot (-kernel -initrd -append) and the
# command line
#   console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet
# (rootfstype=ramfs keeps the initramfs off tmpfs, which IMA's tcb policy
# skips). /init writes its evidence to ttyS1 and powers off; the framing is
# described in scripts/guest/init and parsed by src/tc/vm/guest_dump.h.
#
# The initrd is reproducible: same inputs, same bytes (fixed mtimes and modes,
# owner 0:0, names sorted, cpio --reproducible, no compression). Changing one
# byte of a file inside it, e.g. TCGUEST_WORKLOAD=A -> B, changes exactly one
# byte of the initrd at the same place, which tamper tests rely on.
#
# Usage: scripts/guest/build.sh OUTDIR
# Environment: TC_EFI_BINARIES (default /var/cache/trustchain/efi), where
# scripts/fetch_efi_binaries.sh keeps vmlinuz-6.1.0-56-amd64.
# Exit codes: 0 built, 2 usage, 3 a prerequisite is missing (the message names
# the Debian package or the command that provides it), 1 anything else.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] && [ -n "$1" ] || usage
missing() { echo "guest/build.sh: $*" >&2; exit 3; }

here=$(cd "$(dirname "$0")" && pwd)
kernel_name=vmlinuz-6.1.0-56-amd64
efi_dir=${TC_EFI_BINARIES:-/var/cache/trustchain/efi}
busybox=/bin/busybox
# A fixed time for every file in the initrd (2024-01-01T00:00:00Z).
epoch=1704067200

# ----------------------------------------------------------------- tools
command -v cpio >/dev/null ||
  missing "cpio is missing: apt-get install cpio"
[ -x "$busybox" ] ||
  missing "$busybox is missing: apt-get install busybox-static"
# Debian's "busybox" package installs a dynamically linked /bin/busybox, which
# would need a libc in the initramfs; "busybox-static" replaces it.
case $(ldd "$busybox" 2>&1 || true) in
  *"not a dynamic executable"* | *"statically linked"*) ;;
  *) missing "$busybox is dynamically linked: apt-get install busybox-static" ;;
esac
[ -r "$here/init" ] || { echo "guest/build.sh: $here/init is missing" >&2; exit 1; }

# ---------------------------------------------------------------- kernel
kernel=$efi_dir/$kernel_name
if [ ! -s "$kernel" ]; then
  echo "guest/build.sh: $kernel is missing; running scripts/fetch_efi_binaries.sh" >&2
  TC_EFI_BINARIES=$efi_dir "$here/../fetch_efi_binaries.sh" >&2 || true
fi
[ -s "$kernel" ] ||
  missing "$kernel is missing: run scripts/fetch_efi_binaries.sh (it downloads" \
    "Debian's linux-image-6.1.0-56-amd64 with apt-get download) as root or with" \
    "TC_EFI_BINARIES set to a writable directory"

# -------------------------------------------------------------- initramfs
mkdir -p "$1"
out=$(cd "$1" && pwd)
stage=$(mktemp -d "$out/.initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

root=$stage/root
mkdir -p "$root"/{bin,dev,proc,sys,run,etc/tcguest}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
printf '%s\n' \
  '# trustchain test guest workload: /init reads this file as root, so IMA' \
  '# measures it. Tamper tests flip the marker below from A to B.' \
  'TCGUEST_WORKLOAD=A' > "$root/etc/tcguest/workload.conf"
# Modes and times independent of the umask and of when we ran.
find "$root" -type d -exec chmod 0755 {} +
chmod 0755 "$root/init" "$root/bin/busybox"
chmod 0644 "$root/etc/tcguest/workload.conf"
find "$root" -exec touch -h -d "@$epoch" {} +

(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) > "$stage/initrd.cpio"

# Replace the outputs only when they changed, each by an atomic rename.
install_if_changed() {  # install_if_changed SRC DEST
  if ! cmp -s "$1" "$2"; then
    cp "$1" "$2.tmp"
    mv -f "$2.tmp" "$2"
  fi
}
install_if_changed "$stage/initrd.cpio" "$out/initrd.cpio"
install_if_changed "$kernel" "$out/vmlinuz"

sha() { sha256sum "$1" | cut -d' ' -f1; }
echo "vmlinuz      $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes, sha256 $(sha "$out/vmlinuz"))"
echo "initrd.cpio  $out/initrd.cpio ($(stat -c %s "$out/initrd.cpio") bytes, sha256 $(sha "$out/initrd.cpio"))"
