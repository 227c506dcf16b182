#!/usr/bin/env bash
# Fetches the EFI binaries that the real-data Authenticode test of src/tc/pe
# (authenticode_test.cc) checks against
# ../shared/corpus/vm/baseline-tcg/reference-values.txt:
#   systemd-bootx64.efi      from Debian's systemd-boot-efi
#   vmlinuz-6.1.0-56-amd64   from Debian's linux-image-6.1.0-56-amd64
# They are third-party binaries, so they stay out of the repository (STYLE.md
# §1, testdata/) and go to $TC_EFI_BINARIES (default /var/cache/trustchain/efi).
#
# Idempotent: does nothing when both files are present. Never fails the
# caller: when apt-get download (or anything else) fails it says so and exits
# 0, and the test then skips, naming the missing file.
set -uo pipefail

dest=${TC_EFI_BINARIES:-/var/cache/trustchain/efi}
files=(systemd-bootx64.efi vmlinuz-6.1.0-56-amd64)

have_all=1
for f in "${files[@]}"; do
  [ -s "$dest/$f" ] || have_all=0
done
if [ "$have_all" -eq 1 ]; then
  echo "fetch_efi_binaries: $dest already holds ${files[*]}"
  exit 0
fi

if ! mkdir -p "$dest" 2>/dev/null || [ ! -w "$dest" ]; then
  echo "fetch_efi_binaries: cannot write $dest; set TC_EFI_BINARIES or run as root (test will skip)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt-get download runs as _apt when it can

cd "$work" || exit 0
if ! apt-get download linux-image-6.1.0-56-amd64 systemd-boot-efi; then
  echo "fetch_efi_binaries: apt-get download failed (no network or no Debian 12 sources?); the real-data test will skip"
  exit 0
fi

for deb in ./*.deb; do
  if ! dpkg -x "$deb" "$work/root"; then
    echo "fetch_efi_binaries: dpkg -x $deb failed; the real-data test will skip"
    exit 0
  fi
done

copy() {
  local src=$1 name=$2
  if [ -s "$work/root/$src" ]; then
    cp "$work/root/$src" "$dest/$name.tmp" && mv "$dest/$name.tmp" "$dest/$name" &&
      echo "fetch_efi_binaries: $dest/$name"
  else
    echo "fetch_efi_binaries: $src not in the downloaded packages; the test will skip it"
  fi
}
copy usr/lib/systemd/boot/efi/systemd-bootx64.efi systemd-bootx64.efi
copy boot/vmlinuz-6.1.0-56-amd64 vmlinuz-6.1.0-56-amd64
exit 0
