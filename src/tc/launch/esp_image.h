#pragma once

// The EFI binaries on a VM's EFI system partition (measured VM launch,
// issue 6).
//
// Before a VM starts, its boot disk is measured whole. For a disk that holds
// an EFI system partition (ESP), ListEfiBinaries() also finds every EFI
// binary on it and hashes each the way UEFI firmware will when it starts it
// (the Authenticode image hash extended into PCR 4, see
// tc/pe/authenticode.h), so that a whitelist can name them.
//
// Specifications:
//   [UEFI] UEFI Specification 2.10, 5.2.1 "Legacy Master Boot Record"
//          (partition records, OSType 0xEF = EFI system partition), 5.2.3
//          "Protective MBR" (OSType 0xEE), 5.3.2 "GPT Header", 5.3.3 "GPT
//          Partition Entry Array", 5.3.3 Table 5-7 (the EFI System Partition
//          type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B).
//   [FAT]  Microsoft "FAT32 File System Specification" 1.03 (fatgen103):
//          "Boot Sector and BPB", "FAT Type Determination" (by cluster
//          count only), "FAT Data Structure" (cluster chains, end-of-chain
//          and bad-cluster marks), "FAT Directory Structure" (short 8.3
//          entries, including the Windows NT lower-case flags in DIR_NTRes
//          that Linux and EDK2 honour), "FAT Long Directory Entries".
//
// Where the ESP is looked for, in this order:
//   1. a protective MBR (a partition record of type 0xEE in LBA 0, with the
//      0x55AA signature): the primary GPT header at LBA 1, with 512- or
//      4096-byte logical blocks. Its header CRC32 and partition entry array
//      CRC32 must be right: firmware would then fall back to the backup GPT,
//      which may name another ESP, and we refuse to guess (kMalformed). The
//      backup GPT is not read.
//   2. an MBR (0x55AA signature) with a partition record of type 0xEF, in
//      512-byte sectors; logical partitions inside extended partitions are
//      not searched;
//   3. a FAT file system at offset 0 (a bare ESP image, layout "fat").
// A partition table that names more than one ESP is kUnsupported (firmware
// may boot from any of them).
//
// Within the FAT file system, the first FAT (the one EDK2 reads) is used.
// Directories are walked depth first, each in on-disk order; "." and ".."
// are not followed; deleted (0xE5) entries and volume labels are skipped.
// A file's name is its long name when a complete, checksum-consistent long
// name sequence precedes the short entry and holds a sane name (no control
// characters, '/', '\', U+FFFF or lone surrogates, not "." or ".."); otherwise
// it is the 8.3 name (never an error). Where the 8.3 name is used, for a
// directory or an EFI file, one with a control character, '/', '\' or '.'
// in its 11 bytes or a leading space is kMalformed, one with bytes >= 0x80
// (an OEM code page) kUnsupported.
// Only files whose long or 8.3 name ends in ".efi" (ASCII case-insensitive)
// are read and hashed: firmware finds a file by either name, so a long name
// "readme.txt" over the 8.3 name BOOTX64.EFI is listed (as "readme.txt").
// Other files are not looked at (the whole-disk hash covers them).
//
// Every cluster chain read (directories and EFI files) is checked: each
// cluster lies in the volume (2 .. CountofClusters+1), no cluster appears
// twice in one chain (a loop) or in two chains (cross-linked files or
// directories), an EFI file's chain holds at least the clusters its size
// needs. So no chain is longer than the volume has clusters and every byte
// of the volume is hashed at most once, whatever the image.
//
// Trust: the image is hostile (the guest or its owner made it). It is read
// only through bounds-checked ByteReaders; the span is not kept past the
// call. Sizes in the image are checked against the image before anything is
// allocated for them. Thread-safe (no shared state).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"

namespace tc::launch {

// Caps on a hostile image. Exceeding one is kMalformed, naming the offset.
// Directory levels below the root ("/EFI/BOOT" is 2 levels).
inline constexpr std::size_t kMaxEspDirectoryDepth = 16;
// 32-byte directory entries read, over all directories (free and long-name
// entries included).
inline constexpr std::size_t kMaxEspDirectoryEntries = 65536;
inline constexpr std::size_t kMaxEspEfiFiles = 1024;
// Larger than any boot loader or unified kernel image we know of.
inline constexpr std::uint64_t kMaxEspEfiFileSize = std::uint64_t{256} << 20;
// NumberOfPartitionEntries * SizeOfPartitionEntry of a GPT header.
inline constexpr std::uint64_t kMaxGptEntryArraySize = std::uint64_t{128} << 10;

struct EspFile {
  std::string path;  // "/EFI/BOOT/BOOTX64.EFI" (long names when present, '/' separated, as stored)
  std::uint64_t size = 0;
  crypto::Digest sha256;                       // of the file's bytes
  std::optional<crypto::Digest> authenticode;  // sha256 Authenticode (pe::AuthenticodeHash) when it is a valid PE image
  std::string note;  // why no Authenticode ("not a PE image: <error>") when absent
};

struct EspListing {
  std::string layout;                  // "gpt", "mbr" or "fat" (a bare file system, no partition table)
  std::uint64_t partition_offset = 0;  // byte offset of the FAT file system in the image
  std::string fat_type;                // "FAT12", "FAT16", "FAT32"
  std::vector<EspFile> files;          // every regular file whose name ends in ".efi" (case-insensitive), in directory order
};

// Finds the EFI system partition of `image` (GPT: partition type GUID
// C12A7328-F81F-11D2-BA4B-00A0C93EC93B; MBR: partition type 0xEF; else a FAT
// file system at offset 0) and lists its EFI binaries, as described above.
// Errors:
//   kNotFound   the image has no ESP and no FAT file system at offset 0
//               (callers then treat it as a plain disk);
//   kMalformed  anything inconsistent or beyond a cap; the message names
//               the byte offset in `image`;
//   kUnsupported  more than one ESP, or a short name outside ASCII.
[[nodiscard]] Result<EspListing> ListEfiBinaries(std::span<const std::uint8_t> image);

}  // namespace tc::launch
