#!/usr/bin/env bash
# Installs the Debian 12 packages trustchain needs to build, test and run.
# This is the one list of system dependencies; everything else is in-tree.
# Usage: scripts/setup.sh         (as root; a no-op when all are present)
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev llvm        # libFuzzer, ASan/UBSan builds
  # libraries
  libssl-dev                           # OpenSSL 3: hashes, X.509, signatures
  libfmt-dev                           # {fmt}: std::format is missing in GCC 12
  libexpected-dev                      # tl::expected behind tc::Result
  libcli11-dev                         # command-line parsing
  libgtest-dev libgmock-dev googletest # unit and integration tests
  libbenchmark-dev                     # in-process benchmarks
  libtss2-dev                          # tpm2-tss: ESYS, marshalling, TCTIs
  libtpms-dev                          # the embedded in-process TPM
  swtpm swtpm-tools                    # software TPM process (tests, VM vTPMs)
  libxml2-dev                          # libvirt domain XML (trustchain vm libvirt-hook)
  # measured VM launch (trustchain vm run): the hypervisor, firmware, guest
  qemu-system-x86 ovmf                 # QEMU and OVMF (UEFI firmware with TPM measurements)
  busybox-static cpio                  # the test guest's initramfs (scripts/guest/build.sh)
  mtools dosfstools fdisk              # ESP disk images for the ESP-boot guest and tests
  # peers and tools used by tests and benchmarks
  tpm2-tools                           # tpm2_eventlog, tpm2_checkquote: peers in tests and bench/
  ima-evm-utils                        # evmctl ima_measurement: peer of `ima replay` in tests
  hyperfine time bc jq                 # whole-process timing in bench/
  python3 python3-yaml python3-cryptography  # ../shared/bench/gen_data.py
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (or with sudo) to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
