// libFuzzer target: finding the EFI system partition of a disk image (GPT,
// MBR or a bare FAT file system) and listing and hashing its EFI binaries
// (src/tc/launch/esp_image.h). Seeds: fuzz/seeds/esp_image/, small images
// made with mkfs.vfat, mtools and sfdisk (see "Seeds" below); regressions:
// fuzz/regressions/esp_image/.
//
// Seeds (each under 256 KiB), made with MTOOLS_SKIP_CHECK=1:
//   fat12-efi.img  mkfs.vfat --invariant -a -F 12 -s 1 -r 16 -f 1 -R 1 -C fat12-efi.img 34
//                  (34 KiB is the smallest mkfs.vfat makes); mmd ::/EFI ::/EFI/BOOT
//                  ::/EFI/debian; mcopy fuzz/seeds/pe/pe32plus-unsigned.efi to
//                  ::/EFI/BOOT/BOOTX64.EFI and the 4 bytes "MZ\0\0" to
//                  ::/EFI/debian/systemd-bootx64.efi (a long name, not a PE image)
//   gpt-fat12.img  that file system in a GPT disk of 136 sectors: sfdisk
//                  "label: gpt", "start=34, size=68, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
//                  then dd seek=34
//   mbr-fat12.img  the same in an MBR disk of 131 sectors: "label: dos",
//                  "start=63, size=68, type=ef", then dd seek=63
// FAT16 and FAT32 need at least 4085 and 65525 clusters, more than fits in
// a seed; the unit tests cover them with images made by mkfs.vfat.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/launch/esp_image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> image(data, size);
  auto listing = tc::launch::ListEfiBinaries(image);
  if (!listing.has_value()) {
    // Every failure is one of the documented codes, and kMalformed names an
    // offset.
    const tc::ErrorCode code = listing.error().code();
    if (code != tc::ErrorCode::kMalformed && code != tc::ErrorCode::kNotFound &&
        code != tc::ErrorCode::kUnsupported) {
      __builtin_trap();
    }
    if (code == tc::ErrorCode::kMalformed &&
        listing.error().message().find("offset") == std::string::npos) {
      __builtin_trap();
    }
    return 0;
  }
  if (listing->partition_offset > size) __builtin_trap();
  if (listing->files.size() > tc::launch::kMaxEspEfiFiles) __builtin_trap();
  for (const tc::launch::EspFile& f : listing->files) {
    if (f.size > size || f.path.empty() || f.path[0] != '/') __builtin_trap();
    if (f.authenticode.has_value() == !f.note.empty()) __builtin_trap();
  }
  return 0;
}
