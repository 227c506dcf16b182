#pragma once

// Measuring what a guest will run, before QEMU starts, and the host launch
// log records that describe it (issue 6, in progress).
//
// Each input of the QEMU command line is measured: files by their sha256
// (and, for kernels and firmware images that are PE/COFF, the Authenticode
// hash UEFI would extend for them), the kernel command line by the sha256
// of its UTF-8 text. One launch record per input: its digest (extended into
// the host TPM) is the hash of a canonical string that names the VM, the
// kind, the path and the file's digests, so that the record's content is
// proven by the PCR, not merely claimed:
//
//   trustchain-launch 1 vm=<name> slot=<slot> kind=<kind> path=<path> sha256=<hex>[ authenticode=<hex>]
//
// (for the command line, path= is empty and sha256 is of the text). The
// slot names the input within its VM ("kernel", "disk0", "disk0:/EFI/BOOT/
// BOOTX64.EFI"); "<vm>/<slot>" is the whitelist component that judges it.
// Spaces and control characters in names and paths are %-escaped.

#include <optional>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/cel/cel.h"
#include "tc/crypto/hash.h"
#include "tc/launch/qemu_args.h"

namespace tc::launch {

struct MeasuredInput {
  LaunchInput input;
  std::string slot;  // see above
  std::uint64_t size = 0;
  crypto::Digest sha256;
  std::optional<crypto::Digest> authenticode;
  std::string note;  // for people: why an image has no Authenticode digest, an ESP that does not parse
};

// Disk images are mapped, not read: the largest accepted.
inline constexpr std::uint64_t kMaxDiskImage = std::uint64_t{1} << 40;

// Measures every input (files through measure::MeasureFile) and names its
// slot. A disk image holding an EFI system partition (esp_image.h) is
// followed by one kEfiBinary input per EFI binary in it, slot
// "<disk slot>:<path>" ("disk0:/EFI/BOOT/BOOTX64.EFI"). Each input gets its
// slot: the kind's name ("firmware-code", "kernel", "cmdline"), numbered for
// disks ("disk0", "disk1", in command-line order) and from the second input
// of any other kind on ("kernel1"). Errors name the file and the QEMU
// argument it came from.
[[nodiscard]] Result<std::vector<MeasuredInput>> MeasureInputs(const QemuCommand& command);

// The canonical string above.
std::string CanonicalEvent(std::string_view vm, const MeasuredInput& m);

// The launch record of one input: PCR `pcr`, one digest per bank of
// `banks` (each the hash of CanonicalEvent), content_type "trustchain",
// content {"vm", "kind", "path", "sha256", "authenticode"?, "string"}.
[[nodiscard]] Result<cel::Record> LaunchRecord(std::uint64_t recnum, std::uint32_t pcr,
                                               std::string_view vm, const MeasuredInput& m,
                                               std::span<const crypto::HashAlg> banks);

}  // namespace tc::launch
