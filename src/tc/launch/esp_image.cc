#include "tc/launch/esp_image.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "tc/base/byte_reader.h"
#include "tc/pe/authenticode.h"

namespace tc::launch {
namespace {

using Bytes = std::span<const std::uint8_t>;

// [UEFI] 5.2.1 Table 5-1 "Legacy MBR" and Table 5-2 "Legacy MBR Partition
// Record"; 5.2.3 Table 5-4 "Protective MBR".
constexpr std::size_t kMbrSize = 512;
constexpr std::size_t kMbrRecordsOffset = 446;
constexpr std::uint16_t kMbrSignature = 0xAA55;
constexpr std::uint8_t kOsTypeEfiSystem = 0xEF;
constexpr std::uint8_t kOsTypeGptProtective = 0xEE;
// MBR partition records count 512-byte sectors on the disks we launch from.
constexpr std::uint64_t kMbrSectorSize = 512;

// [UEFI] 5.3.2 Table 5-5 "GPT Header".
constexpr std::uint32_t kGptMinHeaderSize = 92;
constexpr std::uint64_t kGptHeaderCrcOffset = 16;
constexpr std::uint32_t kGptMinEntrySize = 128;
// The logical block sizes we look for the GPT header with (at LBA 1).
constexpr std::array<std::uint64_t, 2> kGptBlockSizes = {512, 4096};
// [UEFI] 5.3.3 Table 5-7: C12A7328-F81F-11D2-BA4B-00A0C93EC93B as stored (the
// first three fields little-endian, the last two as bytes).
constexpr std::array<std::uint8_t, 16> kEspTypeGuid = {0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8,
                                                       0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0,
                                                       0xC9, 0x3E, 0xC9, 0x3B};

// [FAT] "FAT Directory Structure": DIR_Attr bits, and the long-name marker
// of "FAT Long Directory Entries".
constexpr std::size_t kDirEntrySize = 32;
constexpr std::uint8_t kAttrVolumeId = 0x08;
constexpr std::uint8_t kAttrDirectory = 0x10;
constexpr std::uint8_t kAttrLongNameMask = 0x3F;
constexpr std::uint8_t kAttrLongName = 0x0F;
constexpr std::uint8_t kEntryFree = 0xE5;
constexpr std::uint8_t kEntryEnd = 0x00;
constexpr std::uint8_t kEntryKanjiE5 = 0x05;  // DIR_Name[0] standing for 0xE5
// DIR_NTRes flags (Windows NT, honoured by Linux and EDK2): lower-case base
// name and extension.
constexpr std::uint8_t kNtLowerBase = 0x08;
constexpr std::uint8_t kNtLowerExt = 0x10;
// "FAT Long Directory Entries": LDIR_Ord.
constexpr std::uint8_t kLastLongEntry = 0x40;
constexpr std::size_t kLongEntryChars = 13;
constexpr std::size_t kMaxLongEntries = 20;  // 255 characters
constexpr std::size_t kMaxLongNameChars = 255;

// [FAT] "FAT Type Determination".
constexpr std::uint64_t kMaxFat12Clusters = 4084;
constexpr std::uint64_t kMaxFat16Clusters = 65524;
constexpr std::uint64_t kMaxFat32Clusters = 0x0FFFFFF5;  // clusters 2..0x0FFFFFF6

Error Malformed(std::uint64_t offset, std::string_view what) {
  return Error(ErrorCode::kMalformed, fmt::format("{} at offset {}", what, offset));
}

// A byte range of the image: `bytes` starts at image offset `base`.
struct Region {
  Bytes bytes;
  std::uint64_t base = 0;

  // [off, off + len) of this region (offsets relative to it); kMalformed
  // naming the absolute offset when that runs past its end.
  [[nodiscard]] Result<Region> Sub(std::uint64_t off, std::uint64_t len,
                                   std::string_view what) const {
    if (off > bytes.size() || len > bytes.size() - off) {
      return Fail(Malformed(base + off, fmt::format("{}: {} bytes run past offset {}", what, len,
                                                    base + bytes.size())));
    }
    return Region{bytes.subspan(off, len), base + off};
  }
  [[nodiscard]] Result<ByteReader> At(std::uint64_t off, std::uint64_t len,
                                      std::string_view what) const {
    TC_ASSIGN_OR_RETURN(const Region r, Sub(off, len, what));
    return r.Reader();
  }
  ByteReader Reader() const { return ByteReader(bytes, base); }
};

// CRC32 of [UEFI] 5.3.2 (the IEEE 802.3 polynomial, reflected, as zlib).
constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

// Continues a CRC32 (start from 0).
std::uint32_t Crc32(std::uint32_t crc, Bytes data) {
  crc = ~crc;
  for (std::uint8_t b : data) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// ---------------------------------------------------------------------------
// Partition tables.

struct MbrRecord {
  std::uint8_t os_type = 0;
  std::uint32_t start_lba = 0;
  std::uint32_t size_lba = 0;
  std::uint64_t offset = 0;  // of the record in the image
};

struct Mbr {
  std::array<MbrRecord, 4> records;
  bool signature = false;  // 0x55AA at offset 510
};

// [UEFI] 5.2.1 Table 5-2.
Result<Mbr> ReadMbr(const Region& image) {
  TC_ASSIGN_OR_RETURN(ByteReader r, image.At(0, kMbrSize, "MBR"));
  Mbr mbr;
  TC_RETURN_IF_ERROR(r.Skip(kMbrRecordsOffset));
  for (MbrRecord& rec : mbr.records) {
    rec.offset = r.offset();
    TC_RETURN_IF_ERROR(r.Skip(4));  // BootIndicator, StartingCHS
    TC_ASSIGN_OR_RETURN(rec.os_type, r.U8());
    TC_RETURN_IF_ERROR(r.Skip(3));  // EndingCHS
    TC_ASSIGN_OR_RETURN(rec.start_lba, r.U32Le());
    TC_ASSIGN_OR_RETURN(rec.size_lba, r.U32Le());
  }
  TC_ASSIGN_OR_RETURN(const std::uint16_t sig, r.U16Le());
  mbr.signature = sig == kMbrSignature;
  return mbr;
}

// Where the ESP is, and how to name it in errors.
struct Partition {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string what;  // "GPT partition entry 1"
};

// The ESP named by the primary GPT ([UEFI] 5.3.2, 5.3.3).
Result<Partition> FindGptEsp(const Region& image) {
  std::uint64_t block = 0;
  for (std::uint64_t bs : kGptBlockSizes) {
    auto sig = image.At(bs, 8, "GPT header signature");
    if (!sig.has_value()) continue;
    auto bytes = sig->Bytes(8);
    if (bytes.has_value() && std::ranges::equal(*bytes, std::string_view("EFI PART"))) {
      block = bs;
      break;
    }
  }
  if (block == 0) {
    return Fail(Malformed(0, "a protective MBR (partition type 0xEE) but no GPT header "
                             "(\"EFI PART\") at offset 512 or 4096"));
  }
  TC_ASSIGN_OR_RETURN(ByteReader h, image.At(block, block, "GPT header"));
  TC_RETURN_IF_ERROR(h.Skip(12));  // Signature, Revision
  const std::uint64_t size_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t header_size, h.U32Le());
  if (header_size < kGptMinHeaderSize || header_size > block) {
    return Fail(Malformed(size_at, fmt::format("GPT HeaderSize {} is outside {}..{}", header_size,
                                               kGptMinHeaderSize, block)));
  }
  TC_ASSIGN_OR_RETURN(const std::uint32_t header_crc, h.U32Le());
  TC_RETURN_IF_ERROR(h.Skip(4));  // Reserved
  const std::uint64_t my_lba_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t my_lba, h.U64Le());
  if (my_lba != 1) {
    return Fail(Malformed(my_lba_at, fmt::format("primary GPT header's MyLBA is {}, not 1", my_lba)));
  }
  TC_RETURN_IF_ERROR(h.Skip(8));  // AlternateLBA
  const std::uint64_t usable_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t first_usable, h.U64Le());
  TC_ASSIGN_OR_RETURN(const std::uint64_t last_usable, h.U64Le());
  TC_RETURN_IF_ERROR(h.Skip(16));  // DiskGUID
  const std::uint64_t entry_lba_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t entry_lba, h.U64Le());
  const std::uint64_t count_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t count, h.U32Le());
  const std::uint64_t entry_size_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t entry_size, h.U32Le());
  const std::uint64_t entries_crc_at = h.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t entries_crc, h.U32Le());

  if (entry_size < kGptMinEntrySize || entry_size % kGptMinEntrySize != 0) {
    return Fail(Malformed(entry_size_at,
                          fmt::format("GPT SizeOfPartitionEntry {} is not a multiple of 128",
                                      entry_size)));
  }
  const std::uint64_t array_size = std::uint64_t{count} * entry_size;
  if (array_size > kMaxGptEntryArraySize) {
    return Fail(Malformed(
        count_at, fmt::format("GPT partition entry array of {} entries of {} bytes exceeds the "
                              "cap of {} bytes",
                              count, entry_size, kMaxGptEntryArraySize)));
  }
  const std::uint64_t blocks = image.bytes.size() / block;
  if (entry_lba < 2 || entry_lba >= blocks) {
    return Fail(Malformed(entry_lba_at,
                          fmt::format("GPT PartitionEntryLBA {} is outside 2..{}", entry_lba,
                                      blocks == 0 ? 0 : blocks - 1)));
  }
  if (first_usable > last_usable) {
    return Fail(Malformed(usable_at, fmt::format("GPT FirstUsableLBA {} > LastUsableLBA {}",
                                                 first_usable, last_usable)));
  }
  // The header CRC covers HeaderSize bytes with the CRC field taken as zero.
  TC_ASSIGN_OR_RETURN(const Region header, image.Sub(block, header_size, "GPT header"));
  const std::array<std::uint8_t, 4> zero{};
  std::uint32_t crc = Crc32(0, header.bytes.first(kGptHeaderCrcOffset));
  crc = Crc32(crc, zero);
  crc = Crc32(crc, header.bytes.subspan(kGptHeaderCrcOffset + 4));
  if (crc != header_crc) {
    return Fail(Malformed(block + kGptHeaderCrcOffset,
                          fmt::format("GPT HeaderCRC32 0x{:08x} does not match the header's CRC32 "
                                      "0x{:08x} (firmware would use the backup GPT)",
                                      header_crc, crc)));
  }
  TC_ASSIGN_OR_RETURN(const Region array,
                      image.Sub(entry_lba * block, array_size, "GPT partition entry array"));
  const std::uint32_t array_crc = Crc32(0, array.bytes);
  if (array_crc != entries_crc) {
    return Fail(Malformed(entries_crc_at,
                          fmt::format("GPT PartitionEntryArrayCRC32 0x{:08x} does not match the "
                                      "array's CRC32 0x{:08x}",
                                      entries_crc, array_crc)));
  }

  // [UEFI] 5.3.3 Table 5-6 "GPT Partition Entry".
  ByteReader entries = array.Reader();
  std::optional<Partition> esp;
  std::uint64_t esp_at = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    TC_ASSIGN_OR_RETURN(ByteReader e, entries.Sub(entry_size));
    const std::uint64_t at = e.offset();
    TC_ASSIGN_OR_RETURN(const Bytes type, e.Bytes(16));
    if (!std::ranges::equal(type, kEspTypeGuid)) continue;
    if (esp.has_value()) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("GPT partition entries at offsets {} and {} are both EFI system "
                              "partitions",
                              esp_at, at));
    }
    TC_RETURN_IF_ERROR(e.Skip(16));  // UniquePartitionGUID
    TC_ASSIGN_OR_RETURN(const std::uint64_t start, e.U64Le());
    TC_ASSIGN_OR_RETURN(const std::uint64_t end, e.U64Le());
    if (start > end || start < first_usable || end > last_usable) {
      return Fail(Malformed(
          at + 32, fmt::format("EFI system partition (GPT partition entry {}) spans LBA {}..{}, "
                               "not inside the usable LBAs {}..{}",
                               i + 1, start, end, first_usable, last_usable)));
    }
    if (end >= blocks) {
      return Fail(Malformed(
          at + 40, fmt::format("EFI system partition (GPT partition entry {}) ends at LBA {}, "
                               "beyond the image's {} blocks of {} bytes",
                               i + 1, end, blocks, block)));
    }
    esp = Partition{start * block, (end - start + 1) * block,
                    fmt::format("GPT partition entry {}", i + 1)};
    esp_at = at;
  }
  if (!esp.has_value()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("the GPT at offset {} has no EFI system partition", block));
  }
  return *std::move(esp);
}

// The ESP named by a legacy MBR ([UEFI] 5.2.1), if any.
Result<std::optional<Partition>> FindMbrEsp(const Region& image, const Mbr& mbr) {
  std::optional<Partition> esp;
  std::uint64_t esp_at = 0;
  for (std::size_t i = 0; i < mbr.records.size(); ++i) {
    const MbrRecord& rec = mbr.records[i];
    if (rec.os_type != kOsTypeEfiSystem || rec.size_lba == 0) continue;
    if (esp.has_value()) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("MBR partition records at offsets {} and {} are both EFI system "
                              "partitions",
                              esp_at, rec.offset));
    }
    const std::uint64_t offset = std::uint64_t{rec.start_lba} * kMbrSectorSize;
    const std::uint64_t size = std::uint64_t{rec.size_lba} * kMbrSectorSize;
    if (rec.start_lba == 0) {
      return Fail(Malformed(rec.offset + 8, fmt::format("EFI system partition (MBR partition "
                                                        "record {}) starts at LBA 0, the MBR",
                                                        i + 1)));
    }
    if (offset > image.bytes.size() || size > image.bytes.size() - offset) {
      return Fail(Malformed(
          rec.offset + 12,
          fmt::format("EFI system partition (MBR partition record {}) at bytes {}..{} runs past "
                      "the end of the image ({} bytes)",
                      i + 1, offset, offset + size, image.bytes.size())));
    }
    esp = Partition{offset, size, fmt::format("MBR partition record {}", i + 1)};
    esp_at = rec.offset;
  }
  return esp;
}

// ---------------------------------------------------------------------------
// FAT.

enum class FatType { kFat12, kFat16, kFat32 };

std::string_view FatTypeName(FatType t) {
  switch (t) {
    case FatType::kFat12: return "FAT12";
    case FatType::kFat16: return "FAT16";
    case FatType::kFat32: return "FAT32";
  }
  return "?";
}

// The BPB fields we use ([FAT] "Boot Sector and BPB"), by their offsets.
struct Bpb {
  std::uint8_t jump = 0;                  // 0  BS_jmpBoot[0]
  std::uint16_t bytes_per_sector = 0;     // 11 BPB_BytsPerSec
  std::uint8_t sectors_per_cluster = 0;   // 13 BPB_SecPerClus
  std::uint16_t reserved_sectors = 0;     // 14 BPB_RsvdSecCnt
  std::uint8_t num_fats = 0;              // 16 BPB_NumFATs
  std::uint16_t root_entries = 0;         // 17 BPB_RootEntCnt
  std::uint16_t total_sectors16 = 0;      // 19 BPB_TotSec16
  std::uint8_t media = 0;                 // 21 BPB_Media
  std::uint16_t fat_size16 = 0;           // 22 BPB_FATSz16
  std::uint32_t total_sectors32 = 0;      // 32 BPB_TotSec32
  std::uint32_t fat_size32 = 0;           // 36 BPB_FATSz32 (FAT32 only)
  std::uint32_t root_cluster = 0;         // 44 BPB_RootClus (FAT32 only)
};

Result<Bpb> ReadBpb(const Region& vol) {
  TC_ASSIGN_OR_RETURN(ByteReader r, vol.At(0, 48, "FAT boot sector"));
  Bpb b;
  TC_ASSIGN_OR_RETURN(b.jump, r.U8());
  TC_RETURN_IF_ERROR(r.Skip(10));  // rest of BS_jmpBoot, BS_OEMName
  TC_ASSIGN_OR_RETURN(b.bytes_per_sector, r.U16Le());
  TC_ASSIGN_OR_RETURN(b.sectors_per_cluster, r.U8());
  TC_ASSIGN_OR_RETURN(b.reserved_sectors, r.U16Le());
  TC_ASSIGN_OR_RETURN(b.num_fats, r.U8());
  TC_ASSIGN_OR_RETURN(b.root_entries, r.U16Le());
  TC_ASSIGN_OR_RETURN(b.total_sectors16, r.U16Le());
  TC_ASSIGN_OR_RETURN(b.media, r.U8());
  TC_ASSIGN_OR_RETURN(b.fat_size16, r.U16Le());
  TC_RETURN_IF_ERROR(r.Skip(8));  // BPB_SecPerTrk, BPB_NumHeads, BPB_HiddSec
  TC_ASSIGN_OR_RETURN(b.total_sectors32, r.U32Le());
  TC_ASSIGN_OR_RETURN(b.fat_size32, r.U32Le());
  TC_RETURN_IF_ERROR(r.Skip(4));  // BPB_ExtFlags, BPB_FSVer
  TC_ASSIGN_OR_RETURN(b.root_cluster, r.U32Le());
  return b;
}

bool IsPowerOfTwo(std::uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Why the boot sector at `base` is no FAT boot sector at all ("<what> at
// offset N"), or nothing. These are the checks EDK2's FAT driver makes
// before it takes a volume for FAT.
std::optional<std::string> NotFatReason(const Bpb& b, std::uint64_t base) {
  if (b.jump != 0xEB && b.jump != 0xE9) {
    return fmt::format("BS_jmpBoot starts with 0x{:02x}, not a jump (0xEB or 0xE9) at offset {}",
                       b.jump, base);
  }
  if (b.bytes_per_sector < 512 || b.bytes_per_sector > 4096 ||
      !IsPowerOfTwo(b.bytes_per_sector)) {
    return fmt::format("BPB_BytsPerSec {} is not 512, 1024, 2048 or 4096 at offset {}",
                       b.bytes_per_sector, base + 11);
  }
  if (!IsPowerOfTwo(b.sectors_per_cluster)) {
    return fmt::format("BPB_SecPerClus {} is not a power of 2 at offset {}",
                       b.sectors_per_cluster, base + 13);
  }
  if (b.reserved_sectors == 0) {
    return fmt::format("BPB_RsvdSecCnt is 0 at offset {}", base + 14);
  }
  if (b.num_fats == 0) return fmt::format("BPB_NumFATs is 0 at offset {}", base + 16);
  if (b.media != 0xF0 && b.media < 0xF8) {
    return fmt::format("BPB_Media 0x{:02x} is not 0xF0 or 0xF8..0xFF at offset {}", b.media,
                       base + 21);
  }
  return std::nullopt;
}

// A FAT file system's layout, checked against its region. Offsets are
// relative to the region.
struct Volume {
  Region region;
  FatType type = FatType::kFat12;
  std::uint32_t cluster_count = 0;  // data clusters are 2 .. cluster_count + 1
  std::uint64_t cluster_bytes = 0;
  std::uint64_t fat_offset = 0;     // the first FAT
  std::uint64_t root_offset = 0;    // FAT12/16: the fixed root directory
  std::uint32_t root_entries = 0;   // FAT12/16
  std::uint32_t root_cluster = 0;   // FAT32
  std::uint64_t data_offset = 0;    // cluster 2

  std::uint64_t ClusterOffset(std::uint32_t cluster) const {
    return data_offset + std::uint64_t{cluster - 2} * cluster_bytes;
  }
  // [FAT] "FAT Data Structure": values from here on end a chain; one less
  // marks a bad cluster.
  std::uint32_t EndOfChain() const {
    switch (type) {
      case FatType::kFat12: return 0xFF8;
      case FatType::kFat16: return 0xFFF8;
      case FatType::kFat32: return 0x0FFFFFF8;
    }
    return 0;
  }
};

// [FAT] "Boot Sector and BPB", "FAT Type Determination". Every size is
// checked against the region, so that every cluster and the whole first FAT
// lie inside it.
Result<Volume> OpenVolume(const Region& vol, const Bpb& b) {
  const std::uint64_t base = vol.base;
  const std::uint64_t bps = b.bytes_per_sector;
  const std::uint64_t root_dir_sectors = (std::uint64_t{b.root_entries} * 32 + bps - 1) / bps;
  const std::uint64_t fat_size = b.fat_size16 != 0 ? b.fat_size16 : b.fat_size32;
  const bool fat_size_is_16 = b.fat_size16 != 0;
  if (fat_size == 0) return Fail(Malformed(base + 22, "BPB_FATSz16 and BPB_FATSz32 are both 0"));
  const std::uint64_t total = b.total_sectors16 != 0 ? b.total_sectors16 : b.total_sectors32;
  const std::uint64_t total_at = base + (b.total_sectors16 != 0 ? 19 : 32);
  if (total == 0) return Fail(Malformed(total_at, "BPB_TotSec16 and BPB_TotSec32 are both 0"));
  if (total * bps > vol.bytes.size()) {
    return Fail(Malformed(
        total_at, fmt::format("the file system's {} sectors of {} bytes run past the end of its "
                              "{}-byte partition (truncated image?)",
                              total, bps, vol.bytes.size())));
  }
  const std::uint64_t meta =
      std::uint64_t{b.reserved_sectors} + std::uint64_t{b.num_fats} * fat_size + root_dir_sectors;
  if (meta >= total) {
    return Fail(Malformed(base + 14, fmt::format("reserved sectors, FATs and root directory "
                                                 "({} sectors) leave no data sectors of {}",
                                                 meta, total)));
  }
  const std::uint64_t clusters = (total - meta) / b.sectors_per_cluster;
  if (clusters == 0) {
    return Fail(Malformed(base + 13, fmt::format("{} data sectors hold no cluster of {} sectors",
                                                 total - meta, b.sectors_per_cluster)));
  }
  if (clusters > kMaxFat32Clusters) {
    return Fail(Malformed(total_at, fmt::format("{} clusters are more than FAT32 can address",
                                                clusters)));
  }
  Volume v;
  v.region = vol;
  v.type = clusters <= kMaxFat12Clusters   ? FatType::kFat12
           : clusters <= kMaxFat16Clusters ? FatType::kFat16
                                           : FatType::kFat32;
  // The BPB must agree with the type the cluster count gives, so that every
  // reader (Linux goes by BPB_FATSz16 == 0) sees the same file system.
  if (v.type == FatType::kFat32) {
    if (b.root_entries != 0) {
      return Fail(Malformed(base + 17, fmt::format("FAT32 volume ({} clusters) with "
                                                   "BPB_RootEntCnt {}, not 0",
                                                   clusters, b.root_entries)));
    }
    if (fat_size_is_16) {
      return Fail(Malformed(base + 22, fmt::format("FAT32 volume ({} clusters) with "
                                                   "BPB_FATSz16 {}, not 0",
                                                   clusters, b.fat_size16)));
    }
  } else {
    if (b.root_entries == 0) {
      return Fail(Malformed(base + 17, fmt::format("{} volume ({} clusters) with BPB_RootEntCnt 0",
                                                   FatTypeName(v.type), clusters)));
    }
    if (!fat_size_is_16) {
      return Fail(Malformed(base + 22, fmt::format("{} volume ({} clusters) with BPB_FATSz16 0",
                                                   FatTypeName(v.type), clusters)));
    }
  }
  const std::uint64_t entries = clusters + 2;
  const std::uint64_t fat_needed = v.type == FatType::kFat12   ? (entries * 3 + 1) / 2
                                   : v.type == FatType::kFat16 ? entries * 2
                                                               : entries * 4;
  if (fat_size * bps < fat_needed) {
    return Fail(Malformed(base + (fat_size_is_16 ? 22 : 36),
                          fmt::format("a FAT of {} sectors cannot hold the {} entries of {} "
                                      "clusters",
                                      fat_size, entries, clusters)));
  }
  v.cluster_count = static_cast<std::uint32_t>(clusters);
  v.cluster_bytes = bps * b.sectors_per_cluster;
  v.fat_offset = b.reserved_sectors * bps;
  v.root_offset = (b.reserved_sectors + b.num_fats * fat_size) * bps;
  v.root_entries = b.root_entries;
  v.root_cluster = b.root_cluster;
  v.data_offset = meta * bps;
  return v;
}

// One FAT entry and where it is in the image.
struct FatEntry {
  std::uint32_t value = 0;
  std::uint64_t offset = 0;
};

// [FAT] "FAT Data Structure": the entry of `cluster` in the first FAT.
Result<FatEntry> ReadFat(const Volume& v, std::uint32_t cluster) {
  std::uint64_t off = 0;
  std::uint64_t width = 2;
  switch (v.type) {
    case FatType::kFat12: off = cluster + cluster / 2; break;
    case FatType::kFat16: off = std::uint64_t{cluster} * 2; break;
    case FatType::kFat32: off = std::uint64_t{cluster} * 4; width = 4; break;
  }
  TC_ASSIGN_OR_RETURN(ByteReader r, v.region.At(v.fat_offset + off, width, "FAT entry"));
  FatEntry e;
  e.offset = r.offset();
  if (v.type == FatType::kFat32) {
    TC_ASSIGN_OR_RETURN(const std::uint32_t raw, r.U32Le());
    e.value = raw & 0x0FFFFFFF;  // the top 4 bits are reserved
  } else {
    TC_ASSIGN_OR_RETURN(const std::uint16_t raw, r.U16Le());
    if (v.type == FatType::kFat16) {
      e.value = raw;
    } else {
      e.value = (cluster & 1) != 0 ? raw >> 4 : raw & 0x0FFFu;
    }
  }
  return e;
}

// [FAT] "FAT Directory Structure": a 32-byte entry, read both as a short
// entry and as a long-name entry ("FAT Long Directory Entries").
struct DirEntry {
  std::uint64_t offset = 0;
  std::array<std::uint8_t, 11> name{};  // DIR_Name; name[0] is LDIR_Ord
  std::uint8_t attr = 0;                // DIR_Attr / LDIR_Attr
  std::uint8_t nt_res = 0;              // DIR_NTRes / LDIR_Type
  std::uint8_t lfn_checksum = 0;        // LDIR_Chksum
  std::uint16_t cluster_hi = 0;         // DIR_FstClusHI
  std::uint16_t cluster_lo = 0;         // DIR_FstClusLO / LDIR_FstClusLO
  std::uint32_t file_size = 0;          // DIR_FileSize
  std::array<std::uint16_t, kLongEntryChars> chars{};  // LDIR_Name1, LDIR_Name2, LDIR_Name3
};

Result<DirEntry> ReadDirEntry(ByteReader& in) {
  DirEntry e;
  e.offset = in.offset();
  TC_ASSIGN_OR_RETURN(ByteReader r, in.Sub(kDirEntrySize));
  TC_ASSIGN_OR_RETURN(const Bytes raw, r.Peek(kDirEntrySize));
  // The long-name view of the same bytes.
  ByteReader l(raw, e.offset);
  TC_RETURN_IF_ERROR(l.Skip(1));  // LDIR_Ord
  std::size_t c = 0;
  for (; c < 5; ++c) {
    TC_ASSIGN_OR_RETURN(e.chars[c], l.U16Le());
  }
  TC_RETURN_IF_ERROR(l.Skip(2));  // LDIR_Attr, LDIR_Type
  TC_ASSIGN_OR_RETURN(e.lfn_checksum, l.U8());
  for (; c < 11; ++c) {
    TC_ASSIGN_OR_RETURN(e.chars[c], l.U16Le());
  }
  TC_RETURN_IF_ERROR(l.Skip(2));  // LDIR_FstClusLO
  for (; c < kLongEntryChars; ++c) {
    TC_ASSIGN_OR_RETURN(e.chars[c], l.U16Le());
  }
  // The short view.
  TC_ASSIGN_OR_RETURN(const Bytes name, r.Bytes(11));
  std::ranges::copy(name, e.name.begin());
  TC_ASSIGN_OR_RETURN(e.attr, r.U8());
  TC_ASSIGN_OR_RETURN(e.nt_res, r.U8());
  TC_RETURN_IF_ERROR(r.Skip(7));  // DIR_CrtTimeTenth, DIR_CrtTime, DIR_CrtDate, DIR_LstAccDate
  TC_ASSIGN_OR_RETURN(e.cluster_hi, r.U16Le());
  TC_RETURN_IF_ERROR(r.Skip(4));  // DIR_WrtTime, DIR_WrtDate
  TC_ASSIGN_OR_RETURN(e.cluster_lo, r.U16Le());
  TC_ASSIGN_OR_RETURN(e.file_size, r.U32Le());
  return e;
}

// [FAT] "FAT Long Directory Entries", ChkSum().
std::uint8_t ShortNameChecksum(const std::array<std::uint8_t, 11>& name) {
  std::uint8_t sum = 0;
  for (std::uint8_t b : name) {
    sum = static_cast<std::uint8_t>(((sum & 1) != 0 ? 0x80 : 0) + (sum >> 1) + b);
  }
  return sum;
}

bool IsDotEntry(const std::array<std::uint8_t, 11>& name) {
  static constexpr std::string_view kDot = ".          ";
  static constexpr std::string_view kDotDot = "..         ";
  return std::ranges::equal(name, kDot) || std::ranges::equal(name, kDotDot);
}

// UTF-16 code units to UTF-8; nothing for a lone surrogate or a character
// that has no place in a path component (controls, '/', '\', U+FFFF).
std::optional<std::string> PathComponentFromUtf16(std::span<const std::uint16_t> units) {
  std::string out;
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::uint32_t cp = units[i];
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 1 >= units.size() || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) {
        return std::nullopt;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (units[i + 1] - 0xDC00u);
      ++i;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return std::nullopt;
    }
    // U+FFFF pads a name after its NUL: never part of one.
    if (cp < 0x20 || cp == 0x7F || cp == '/' || cp == '\\' || cp == 0xFFFF) return std::nullopt;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  if (out.empty() || out == "." || out == "..") return std::nullopt;
  return out;
}

// Collects a long name from the entries before a short entry ([FAT] "FAT
// Long Directory Entries": LDIR_Ord N|0x40 first, then N-1 .. 1, all with
// the checksum of the short name that follows). Any inconsistency drops the
// sequence: the short entry then goes by its 8.3 name.
class LongName {
 public:
  void Reset() { pending_ = false; }

  void Add(const DirEntry& e) {
    const std::uint8_t ord = e.name[0];
    const std::size_t n = ord & 0x3F;
    // LDIR_Type and LDIR_FstClusLO must be 0.
    const bool sane = n >= 1 && n <= kMaxLongEntries && e.nt_res == 0 && e.cluster_lo == 0;
    if (!sane) {
      Reset();
      return;
    }
    if ((ord & kLastLongEntry) != 0) {
      pending_ = true;
      checksum_ = e.lfn_checksum;
      units_.assign(n * kLongEntryChars, 0xFFFF);
    } else if (!pending_ || n != next_ || e.lfn_checksum != checksum_) {
      Reset();
      return;
    }
    std::ranges::copy(e.chars, units_.begin() + static_cast<std::ptrdiff_t>((n - 1) * kLongEntryChars));
    next_ = n - 1;
  }

  // The long name for the short entry with this checksum, when a complete
  // sequence for it precedes it. Resets.
  std::optional<std::string> Take(std::uint8_t checksum) {
    const bool complete = pending_ && next_ == 0 && checksum_ == checksum;
    Reset();
    if (!complete) return std::nullopt;
    const auto end = std::ranges::find(units_, std::uint16_t{0});
    const std::size_t len = static_cast<std::size_t>(end - units_.begin());
    if (len > kMaxLongNameChars) return std::nullopt;
    return PathComponentFromUtf16(std::span(units_).first(len));
  }

 private:
  bool pending_ = false;
  std::size_t next_ = 0;  // the LDIR_Ord expected next; 0 when complete
  std::uint8_t checksum_ = 0;
  std::vector<std::uint16_t> units_;
};

// The 8.3 name "BASE.EXT" of a short entry ([FAT] "FAT Directory
// Structure", DIR_Name), lower-cased where DIR_NTRes says so.
Result<std::string> ShortName(const DirEntry& e) {
  std::string base;
  std::string ext;
  for (std::size_t i = 0; i < e.name.size(); ++i) {
    std::uint8_t b = e.name[i];
    if (i == 0 && b == kEntryKanjiE5) b = kEntryFree;
    if (b >= 0x80) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("short name byte 0x{:02x} (an OEM code page character) at offset {}",
                              b, e.offset + i));
    }
    if (b < 0x20 || b == 0x7F || b == '/' || b == '\\' || b == '.' || (i == 0 && b == ' ')) {
      return Fail(Malformed(e.offset + i, fmt::format("byte 0x{:02x} in a short name", b)));
    }
    char c = static_cast<char>(b);
    const std::uint8_t lower = i < 8 ? kNtLowerBase : kNtLowerExt;
    if ((e.nt_res & lower) != 0 && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    (i < 8 ? base : ext) += c;
  }
  while (!base.empty() && base.back() == ' ') base.pop_back();
  while (!ext.empty() && ext.back() == ' ') ext.pop_back();
  return ext.empty() ? base : base + "." + ext;
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EndsWithEfi(std::string_view name) {
  static constexpr std::string_view kSuffix = ".efi";
  if (name.size() < kSuffix.size()) return false;
  const std::string_view tail = name.substr(name.size() - kSuffix.size());
  return std::ranges::equal(tail, kSuffix, {}, AsciiLower);
}

// DIR_Name's extension is "EFI" (any case).
bool ShortExtIsEfi(const std::array<std::uint8_t, 11>& name) {
  return AsciiLower(static_cast<char>(name[8])) == 'e' &&
         AsciiLower(static_cast<char>(name[9])) == 'f' &&
         AsciiLower(static_cast<char>(name[10])) == 'i';
}

// Walks the directory tree of a volume, collecting EFI files.
class Lister {
 public:
  explicit Lister(const Volume& v)
      : v_(v),
        claimed_(std::size_t{v.cluster_count} + 2, false),
        max_dir_clusters_(std::max<std::uint64_t>(
            1, (kMaxEspDirectoryEntries * kDirEntrySize + v.cluster_bytes - 1) / v.cluster_bytes)) {}

  [[nodiscard]] Result<void> ListRoot() {
    std::vector<Region> pieces;
    if (v_.type == FatType::kFat32) {
      // The root directory's first cluster is BPB_RootClus (offset 44).
      TC_ASSIGN_OR_RETURN(pieces,
                          DirectoryPieces(v_.root_cluster, v_.region.base + 44, "root directory"));
    } else {
      TC_ASSIGN_OR_RETURN(Region root, v_.region.Sub(v_.root_offset,
                                                     std::uint64_t{v_.root_entries} * kDirEntrySize,
                                                     "root directory"));
      pieces.push_back(root);
    }
    return ListDirectory(pieces, "", 0);
  }

  std::vector<EspFile> TakeFiles() { return std::move(files_); }

 private:
  // [FAT] "FAT Data Structure". Follows the chain from `first` (read at
  // image offset `ref`), claiming each cluster, so that a loop or a cluster
  // of another chain is an error. With `exact`, stops after `limit`
  // clusters (a file: an end-of-chain mark before is an error); otherwise
  // stops at the end-of-chain mark, and more than `limit` clusters is an
  // error (a directory beyond the entry cap).
  [[nodiscard]] Result<std::vector<std::uint32_t>> Chain(std::uint32_t first, std::uint64_t limit,
                                                         bool exact, std::uint64_t ref,
                                                         std::string_view owner) {
    std::vector<std::uint32_t> chain;
    const std::uint32_t last = v_.cluster_count + 1;
    std::uint32_t c = first;
    for (;;) {
      if (c < 2 || c > last) {
        return Fail(Malformed(ref, fmt::format("{}: cluster {} is outside the volume's "
                                               "clusters 2..{}",
                                               owner, c, last)));
      }
      if (claimed_[c]) {
        if (std::ranges::find(chain, c) != chain.end()) {
          return Fail(Malformed(ref, fmt::format("{}: the cluster chain loops back to cluster {}",
                                                 owner, c)));
        }
        return Fail(Malformed(ref, fmt::format("{}: cluster {} is cross-linked (already in "
                                               "another file or directory)",
                                               owner, c)));
      }
      claimed_[c] = true;
      chain.push_back(c);
      if (exact && chain.size() == limit) return chain;
      TC_ASSIGN_OR_RETURN(const FatEntry next, ReadFat(v_, c));
      if (next.value >= v_.EndOfChain()) {
        if (!exact) return chain;
        return Fail(Malformed(next.offset, fmt::format("{}: the cluster chain ends after {} "
                                                       "clusters, its size needs {}",
                                                       owner, chain.size(), limit)));
      }
      if (next.value == v_.EndOfChain() - 1) {
        return Fail(Malformed(next.offset, fmt::format("{}: the cluster after {} is marked bad",
                                                       owner, c)));
      }
      if (!exact && chain.size() == limit) {
        return Fail(Malformed(next.offset, fmt::format("{}: a directory longer than {} clusters "
                                                       "(the cap of {} entries)",
                                                       owner, limit, kMaxEspDirectoryEntries)));
      }
      c = next.value;
      ref = next.offset;
    }
  }

  [[nodiscard]] Result<std::vector<Region>> DirectoryPieces(std::uint32_t first,
                                                            std::uint64_t ref,
                                                            std::string_view owner) {
    TC_ASSIGN_OR_RETURN(const std::vector<std::uint32_t> chain,
                        Chain(first, max_dir_clusters_, false, ref, owner));
    std::vector<Region> pieces;
    pieces.reserve(chain.size());
    for (std::uint32_t c : chain) {
      TC_ASSIGN_OR_RETURN(Region r, v_.region.Sub(v_.ClusterOffset(c), v_.cluster_bytes, owner));
      pieces.push_back(r);
    }
    return pieces;
  }

  [[nodiscard]] Result<void> ListDirectory(const std::vector<Region>& pieces,
                                           const std::string& path, std::size_t depth) {
    LongName long_name;
    for (const Region& piece : pieces) {
      ByteReader in = piece.Reader();
      while (in.remaining() >= kDirEntrySize) {
        if (entries_ == kMaxEspDirectoryEntries) {
          return Fail(Malformed(in.offset(), fmt::format("more than {} directory entries",
                                                         kMaxEspDirectoryEntries)));
        }
        ++entries_;
        TC_ASSIGN_OR_RETURN(const DirEntry e, ReadDirEntry(in));
        if (e.name[0] == kEntryEnd) return {};  // no more entries in this directory
        if (e.name[0] == kEntryFree) {
          long_name.Reset();
          continue;
        }
        if ((e.attr & kAttrLongNameMask) == kAttrLongName) {
          long_name.Add(e);
          continue;
        }
        // Volume labels (and invalid directory+label entries), which EDK2
        // skips too.
        if ((e.attr & kAttrVolumeId) != 0 || IsDotEntry(e.name)) {
          long_name.Reset();
          continue;
        }
        std::optional<std::string> name = long_name.Take(ShortNameChecksum(e.name));
        // High word of the first cluster: FAT32 only ("always 0" on FAT12
        // and FAT16, where Linux and EDK2 ignore it).
        const std::uint32_t cluster =
            (v_.type == FatType::kFat32 ? std::uint32_t{e.cluster_hi} << 16 : 0) | e.cluster_lo;
        if ((e.attr & kAttrDirectory) != 0) {
          if (!name.has_value()) {
          TC_ASSIGN_OR_RETURN(name, ShortName(e));
        }
          const std::string child = path + "/" + *name;
          if (depth + 1 > kMaxEspDirectoryDepth) {
            return Fail(Malformed(e.offset, fmt::format("directory {} is nested deeper than {} "
                                                        "levels",
                                                        child, kMaxEspDirectoryDepth)));
          }
          TC_ASSIGN_OR_RETURN(const std::vector<Region> child_pieces,
                              DirectoryPieces(cluster, e.offset + 26, child));
          TC_RETURN_IF_ERROR(ListDirectory(child_pieces, child, depth + 1));
          continue;
        }
        // Firmware finds a file by its long or its 8.3 name: either ending
        // in .efi makes it an EFI binary.
        const bool efi = ShortExtIsEfi(e.name) || (name.has_value() && EndsWithEfi(*name));
        if (!efi) continue;
        if (!name.has_value()) {
          TC_ASSIGN_OR_RETURN(name, ShortName(e));
        }
        TC_RETURN_IF_ERROR(AddFile(path + "/" + *name, cluster, e));
      }
    }
    return {};
  }

  [[nodiscard]] Result<void> AddFile(std::string path, std::uint32_t cluster, const DirEntry& e) {
    if (files_.size() == kMaxEspEfiFiles) {
      return Fail(Malformed(e.offset, fmt::format("{}: more than {} EFI files", path,
                                                  kMaxEspEfiFiles)));
    }
    const std::uint64_t size = e.file_size;
    if (size > kMaxEspEfiFileSize) {
      return Fail(Malformed(e.offset + 28, fmt::format("{}: {} bytes exceed the cap of {} for an "
                                                       "EFI file",
                                                       path, size, kMaxEspEfiFileSize)));
    }
    std::vector<std::uint8_t> copy;
    Bytes bytes;
    if (size > 0) {
      const std::uint64_t need = (size + v_.cluster_bytes - 1) / v_.cluster_bytes;
      if (need > v_.cluster_count) {
        return Fail(Malformed(e.offset + 28, fmt::format("{}: {} bytes need {} clusters, the "
                                                         "volume has {}",
                                                         path, size, need, v_.cluster_count)));
      }
      TC_ASSIGN_OR_RETURN(const std::vector<std::uint32_t> chain,
                          Chain(cluster, need, true, e.offset + 26, path));
      bool contiguous = true;
      for (std::size_t i = 1; i < chain.size() && contiguous; ++i) {
        contiguous = chain[i] == chain[i - 1] + 1;
      }
      if (contiguous) {
        TC_ASSIGN_OR_RETURN(const Region r, v_.region.Sub(v_.ClusterOffset(chain[0]), size, path));
        bytes = r.bytes;
      } else {
        // size is at most kMaxEspEfiFileSize and its clusters are in the
        // volume.
        copy.reserve(size);
        for (std::uint32_t c : chain) {
          const std::uint64_t take = std::min<std::uint64_t>(v_.cluster_bytes, size - copy.size());
          TC_ASSIGN_OR_RETURN(const Region r, v_.region.Sub(v_.ClusterOffset(c), take, path));
          copy.insert(copy.end(), r.bytes.begin(), r.bytes.end());
        }
        bytes = copy;
      }
    }
    EspFile f;
    f.path = std::move(path);
    f.size = size;
    TC_ASSIGN_OR_RETURN(f.sha256, crypto::Hash(crypto::HashAlg::kSha256, bytes));
    auto ac = pe::AuthenticodeHash(bytes, crypto::HashAlg::kSha256);
    if (ac.has_value()) {
      f.authenticode = *ac;
    } else if (ac.error().code() == ErrorCode::kMalformed) {
      f.note = "not a PE image: " + ac.error().message();
    } else {
      return Fail(std::move(ac).error().Wrap(f.path));
    }
    files_.push_back(std::move(f));
    return {};
  }

  const Volume& v_;
  std::vector<bool> claimed_;  // by cluster number: in a chain already read
  std::uint64_t max_dir_clusters_;
  std::size_t entries_ = 0;
  std::vector<EspFile> files_;
};

}  // namespace

Result<EspListing> ListEfiBinaries(std::span<const std::uint8_t> image) {
  if (image.size() < kMbrSize) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("an image of {} bytes holds no partition table and no FAT boot sector",
                            image.size()));
  }
  const Region whole{image, 0};
  TC_ASSIGN_OR_RETURN(const Mbr mbr, ReadMbr(whole));
  const bool protective =
      mbr.signature && std::ranges::any_of(mbr.records, [](const MbrRecord& r) {
        return r.os_type == kOsTypeGptProtective;
      });

  EspListing out;
  std::optional<Partition> esp;
  if (protective) {
    out.layout = "gpt";
    TC_ASSIGN_OR_RETURN(esp, FindGptEsp(whole));
  } else if (mbr.signature) {
    TC_ASSIGN_OR_RETURN(esp, FindMbrEsp(whole, mbr));
    if (esp.has_value()) out.layout = "mbr";
  }
  Region vol = whole;
  if (esp.has_value()) {
    TC_ASSIGN_OR_RETURN(vol, whole.Sub(esp->offset, esp->size, esp->what));
  } else {
    out.layout = "fat";
  }
  out.partition_offset = vol.base;

  TC_ASSIGN_OR_RETURN(const Bpb bpb, ReadBpb(vol));
  if (std::optional<std::string> why = NotFatReason(bpb, vol.base)) {
    if (!esp.has_value()) {
      return Fail(ErrorCode::kNotFound,
                  "no EFI system partition in a partition table and no FAT file system at "
                  "offset 0: " +
                      *why);
    }
    return Fail(ErrorCode::kMalformed,
                fmt::format("EFI system partition ({}) at offset {} holds no FAT file system: {}",
                            esp->what, vol.base, *why));
  }
  const std::string context =
      esp.has_value()
          ? fmt::format("EFI system partition ({}) at offset {}", esp->what, vol.base)
          : std::string("FAT file system at offset 0");
  auto volume = OpenVolume(vol, bpb);
  if (!volume.has_value()) return Fail(std::move(volume).error().Wrap(context));
  out.fat_type = std::string(FatTypeName(volume->type));
  Lister lister(*volume);
  auto listed = lister.ListRoot();
  if (!listed.has_value()) return Fail(std::move(listed).error().Wrap(context));
  out.files = lister.TakeFiles();
  return out;
}

}  // namespace tc::launch
