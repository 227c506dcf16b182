#include "tc/launch/esp_image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/pe/authenticode.h"

namespace tc::launch {
namespace {

namespace fs = std::filesystem;
using crypto::HashAlg;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Image = std::vector<std::uint8_t>;

// Small PE images the project made (fuzz/make_pe_seeds.py), valid for
// pe::AuthenticodeHash.
constexpr const char* kPeUnsigned = TC_SOURCE_DIR "/fuzz/seeds/pe/pe32plus-unsigned.efi";
constexpr const char* kPeSigned = TC_SOURCE_DIR "/fuzz/seeds/pe/pe32plus-signed.efi";
constexpr const char* kSystemdBoot = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
// sha256("hello\n"), as `printf 'hello\n' | sha256sum` prints it.
constexpr const char* kHelloSha256 =
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
// sha256 of no bytes (FIPS 180-2).
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Image ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Image(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const Image& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void PutU16(Image& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void PutU32(Image& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void PutU64(Image& b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Bitwise CRC32 (IEEE 802.3, reflected), written apart from the code under
// test.
std::uint32_t Crc32(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
  }
  return ~crc;
}

crypto::Digest Sha256(const Image& b) { return *crypto::Hash(HashAlg::kSha256, b); }

::testing::AssertionResult FailsWith(const Result<EspListing>& r, ErrorCode code,
                                     std::string_view text) {
  if (r.has_value()) {
    return ::testing::AssertionFailure() << "listed " << r->files.size() << " files";
  }
  const std::string& msg = r.error().message();
  if (r.error().code() != code) {
    return ::testing::AssertionFailure()
           << "code " << ErrorCodeName(r.error().code()) << ", not " << ErrorCodeName(code)
           << ": " << msg;
  }
  if (msg.find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

std::string At(std::uint64_t offset) { return "at offset " + std::to_string(offset); }

std::vector<std::string> Paths(const EspListing& l) {
  std::vector<std::string> out;
  for (const EspFile& f : l.files) out.push_back(f.path);
  return out;
}

// ---------------------------------------------------------------------------
// A FAT12 or FAT16 volume built by hand from fatgen103's layouts: 512-byte
// sectors, one sector per cluster, one reserved sector, two FATs, then the
// fixed root directory and the data clusters. The cluster count decides the
// type (FAT12 below 4085).

std::array<std::uint8_t, 11> Name11(std::string_view s) {
  std::array<std::uint8_t, 11> n{};
  for (std::size_t i = 0; i < 11; ++i) {
    n[i] = static_cast<std::uint8_t>(i < s.size() ? s[i] : ' ');
  }
  return n;
}

std::uint8_t Checksum(const std::array<std::uint8_t, 11>& name) {
  std::uint8_t sum = 0;
  for (std::uint8_t b : name) sum = static_cast<std::uint8_t>(((sum & 1) ? 0x80 : 0) + (sum >> 1) + b);
  return sum;
}

class FatBuilder {
 public:
  explicit FatBuilder(std::uint32_t clusters, std::uint32_t root_entries = 16)
      : bits_(clusters < 4085 ? 12 : 16) {
    fat_sectors_ = ((clusters + 2) * bits_ / 8 + 1 + 511) / 512;
    root_sectors_ = (root_entries * 32 + 511) / 512;
    const std::uint32_t total = 1 + 2 * fat_sectors_ + root_sectors_ + clusters;
    img_.assign(std::size_t{total} * 512, 0);
    img_[0] = 0xEB;
    img_[1] = 0x3C;
    img_[2] = 0x90;
    std::copy_n("TESTFAT ", 8, img_.begin() + 3);
    PutU16(img_, 11, 512);          // BPB_BytsPerSec
    img_[13] = 1;                   // BPB_SecPerClus
    PutU16(img_, 14, 1);            // BPB_RsvdSecCnt
    img_[16] = 2;                   // BPB_NumFATs
    PutU16(img_, 17, root_entries); // BPB_RootEntCnt
    if (total < 0x10000) {
      PutU16(img_, 19, total);      // BPB_TotSec16
    } else {
      PutU32(img_, 32, total);      // BPB_TotSec32
    }
    img_[21] = 0xF8;                // BPB_Media
    PutU16(img_, 22, fat_sectors_); // BPB_FATSz16
    img_[38] = 0x29;                // BS_BootSig
    std::copy_n(bits_ == 12 ? "FAT12   " : "FAT16   ", 8, img_.begin() + 54);
    img_[510] = 0x55;
    img_[511] = 0xAA;
    SetFat(0, bits_ == 12 ? 0xFF8 : 0xFFF8);
    SetFat(1, Eoc());
  }

  Image& image() { return img_; }
  std::uint32_t Eoc() const { return bits_ == 12 ? 0xFFF : 0xFFFF; }
  std::size_t FatEntryOffset(std::uint32_t c) const {
    return 512 + (bits_ == 12 ? c + c / 2 : 2 * c);
  }
  std::size_t RootEntry(std::size_t i) const { return (1 + 2 * fat_sectors_) * 512 + 32 * i; }
  std::size_t ClusterOffset(std::uint32_t c) const {
    return (1 + 2 * fat_sectors_ + root_sectors_ + c - 2) * std::size_t{512};
  }
  std::size_t Slot(std::uint32_t c, std::size_t i) const { return ClusterOffset(c) + 32 * i; }

  void SetFat(std::uint32_t c, std::uint32_t v) {
    for (std::size_t copy = 0; copy < 2; ++copy) {
      const std::size_t at = FatEntryOffset(c) + copy * fat_sectors_ * 512;
      if (bits_ == 16) {
        PutU16(img_, at, v);
      } else if (c & 1) {
        img_[at] = static_cast<std::uint8_t>((img_[at] & 0x0F) | ((v << 4) & 0xF0));
        img_[at + 1] = static_cast<std::uint8_t>(v >> 4);
      } else {
        img_[at] = static_cast<std::uint8_t>(v);
        img_[at + 1] = static_cast<std::uint8_t>((img_[at + 1] & 0xF0) | ((v >> 8) & 0x0F));
      }
    }
  }

  // A short directory entry.
  void Entry(std::size_t at, std::string_view name11, std::uint8_t attr, std::uint32_t cluster,
             std::uint32_t size, std::uint8_t nt_res = 0) {
    const auto n = Name11(name11);
    std::copy(n.begin(), n.end(), img_.begin() + at);
    img_[at + 11] = attr;
    img_[at + 12] = nt_res;
    PutU16(img_, at + 20, cluster >> 16);
    PutU16(img_, at + 26, cluster & 0xFFFF);
    PutU32(img_, at + 28, size);
  }

  // Long-name entries for `name` (ASCII here) starting at `at`, in on-disk
  // order (last part first), with LDIR_Chksum `checksum`; returns the
  // offset after them.
  std::size_t LongName(std::size_t at, std::string_view name, std::uint8_t checksum) {
    std::vector<std::uint16_t> units(name.begin(), name.end());
    const std::size_t parts = (units.size() + 12) / 13;
    if (units.size() % 13 != 0) units.push_back(0);
    units.resize(parts * 13, 0xFFFF);
    for (std::size_t k = parts; k >= 1; --k) {
      img_[at] = static_cast<std::uint8_t>(k | (k == parts ? 0x40 : 0));
      img_[at + 11] = 0x0F;
      img_[at + 13] = checksum;
      static constexpr std::size_t kPos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
      for (std::size_t j = 0; j < 13; ++j) PutU16(img_, at + kPos[j], units[(k - 1) * 13 + j]);
      at += 32;
    }
    return at;
  }

  // Writes `data` into `clusters` and chains them.
  void File(const std::vector<std::uint32_t>& clusters, const Image& data) {
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      const std::size_t from = i * 512;
      const std::size_t n = std::min<std::size_t>(512, data.size() - from);
      std::copy_n(data.begin() + from, n, img_.begin() + ClusterOffset(clusters[i]));
      SetFat(clusters[i], i + 1 < clusters.size() ? clusters[i + 1] : Eoc());
    }
  }

  // A one-cluster directory at `c` with "." and "..".
  void Dir(std::uint32_t c, std::uint32_t parent) {
    SetFat(c, Eoc());
    Entry(Slot(c, 0), ".", 0x10, c, 0);
    Entry(Slot(c, 1), "..", 0x10, parent, 0);
  }

 private:
  std::uint32_t bits_;
  std::uint32_t fat_sectors_ = 0;
  std::uint32_t root_sectors_ = 0;
  Image img_;
};

// ---------------------------------------------------------------------------
// A disk with a protective MBR and a primary GPT ([UEFI] 5.2.3, 5.3.2,
// 5.3.3), 512-byte blocks, 128 entries of 128 bytes at LBA 2.

constexpr std::array<std::uint8_t, 16> kEspGuid = {0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11,
                                                   0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B};
// 0FC63DAF-8483-4772-8E79-3D69D8477DE4, Linux file system data.
constexpr std::array<std::uint8_t, 16> kLinuxGuid = {0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
                                                     0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4};

struct GptPart {
  std::array<std::uint8_t, 16> type;
  std::uint64_t first;
  std::uint64_t last;
};

void FixGptCrcs(Image& d) {
  PutU32(d, 512 + 88, Crc32(d.data() + 1024, 128 * 128));
  PutU32(d, 512 + 16, 0);
  PutU32(d, 512 + 16, Crc32(d.data() + 512, 92));
}

Image MakeGpt(std::uint64_t blocks, const std::vector<GptPart>& parts) {
  Image d(blocks * 512, 0);
  // Protective MBR: one record of type 0xEE from LBA 1.
  d[446 + 4] = 0xEE;
  PutU32(d, 446 + 8, 1);
  PutU32(d, 446 + 12, static_cast<std::uint32_t>(blocks - 1));
  d[510] = 0x55;
  d[511] = 0xAA;
  std::copy_n("EFI PART", 8, d.begin() + 512);
  PutU32(d, 512 + 8, 0x00010000);  // Revision
  PutU32(d, 512 + 12, 92);         // HeaderSize
  PutU64(d, 512 + 24, 1);          // MyLBA
  PutU64(d, 512 + 32, blocks - 1); // AlternateLBA
  PutU64(d, 512 + 40, 34);         // FirstUsableLBA
  PutU64(d, 512 + 48, blocks - 34);
  PutU64(d, 512 + 72, 2);          // PartitionEntryLBA
  PutU32(d, 512 + 80, 128);
  PutU32(d, 512 + 84, 128);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::size_t at = 1024 + 128 * i;
    std::copy(parts[i].type.begin(), parts[i].type.end(), d.begin() + at);
    d[at + 16] = static_cast<std::uint8_t>(i + 1);  // UniquePartitionGUID
    PutU64(d, at + 32, parts[i].first);
    PutU64(d, at + 40, parts[i].last);
  }
  FixGptCrcs(d);
  return d;
}

// A GPT disk whose only partition (LBA 34 on) holds `fat`.
Image GptWith(const Image& fat) {
  const std::uint64_t fat_blocks = fat.size() / 512;
  Image d = MakeGpt(34 + fat_blocks + 34, {{kEspGuid, 34, 34 + fat_blocks - 1}});
  std::copy(fat.begin(), fat.end(), d.begin() + 34 * 512);
  return d;
}

// ---------------------------------------------------------------------------
// Hand-built images.

TEST(EspImageTest, ListsEfiFilesOfABareFat12Volume) {
  const Image pe = ReadFile(kPeUnsigned);
  ASSERT_EQ(pe.size(), 1552u) << kPeUnsigned;
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "TESTVOL", 0x08, 0, 0);          // volume label: skipped
  fat.Entry(fat.RootEntry(1), "\xE5OLD    EFI", 0x20, 3, 10);  // deleted: skipped
  fat.Entry(fat.RootEntry(2), "EFI", 0x10, 2, 0);
  fat.Dir(2, 0);
  // Its "." names its own cluster: followed, that would be a loop.
  fat.Entry(fat.Slot(2, 2), "BOOT", 0x10, 4, 0);
  fat.Dir(4, 2);
  // The PE in four clusters out of order: the file is copied together.
  fat.Entry(fat.Slot(4, 2), "BOOTX64 EFI", 0x20, 10, 1552);
  fat.File({10, 12, 11, 20}, pe);
  fat.Entry(fat.RootEntry(3), "README  TXT", 0x20, 5, 6);  // not .efi: not read
  // "grubx64.efi": DIR_NTRes lower-cases both parts.
  fat.Entry(fat.RootEntry(4), "GRUBX64 EFI", 0x20, 6, 6, 0x18);
  fat.File({6}, {'h', 'e', 'l', 'l', 'o', '\n'});
  fat.Entry(fat.RootEntry(5), "EMPTY   EFI", 0x20, 0, 0);
  Image& img = fat.image();

  auto l = ListEfiBinaries(img);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->layout, "fat");
  EXPECT_EQ(l->fat_type, "FAT12");
  EXPECT_EQ(l->partition_offset, 0u);
  EXPECT_EQ(Paths(*l), (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI", "/grubx64.efi",
                                                 "/EMPTY.EFI"}));
  ASSERT_EQ(l->files.size(), 3u);
  const EspFile& boot = l->files[0];
  EXPECT_EQ(boot.size, 1552u);
  EXPECT_EQ(boot.sha256, Sha256(pe));
  ASSERT_TRUE(boot.authenticode.has_value()) << boot.note;
  EXPECT_EQ(*boot.authenticode, *pe::AuthenticodeHash(pe, HashAlg::kSha256));
  EXPECT_EQ(boot.note, "");
  const EspFile& grub = l->files[1];
  EXPECT_EQ(grub.size, 6u);
  EXPECT_EQ(grub.sha256.Hex(), kHelloSha256);
  EXPECT_FALSE(grub.authenticode.has_value());
  EXPECT_THAT(grub.note, StartsWith("not a PE image: "));
  EXPECT_EQ(l->files[2].size, 0u);
  EXPECT_EQ(l->files[2].sha256.Hex(), kEmptySha256);
}

TEST(EspImageTest, UsesLongNamesAndFallsBackToTheShortNameWhenInconsistent) {
  FatBuilder fat(60);
  std::size_t at = fat.RootEntry(0);
  // A consistent two-entry sequence.
  at = fat.LongName(at, "Long File Name Boot.efi", Checksum(Name11("LONGFI~1EFI")));
  fat.Entry(at, "LONGFI~1EFI", 0x20, 0, 0);
  at += 32;
  // A checksum that does not match the short name.
  at = fat.LongName(at, "bad-checksum.efi",
                    static_cast<std::uint8_t>(Checksum(Name11("BADCHE~1EFI")) ^ 1));
  fat.Entry(at, "BADCHE~1EFI", 0x20, 0, 0);
  at += 32;
  // A sequence with its middle entry missing: ordinals 3|0x40, 1.
  const std::size_t gap = at;
  at = fat.LongName(at, "a-name-of-thirty-one-chars.efi", Checksum(Name11("ANAMEO~1EFI")));
  std::copy(fat.image().begin() + gap + 64, fat.image().begin() + gap + 96,
            fat.image().begin() + gap + 32);
  at -= 32;
  fat.Entry(at, "ANAMEO~1EFI", 0x20, 0, 0);
  at += 32;
  // A '/' in a long name.
  at = fat.LongName(at, "EFI/BOOT/x.efi", Checksum(Name11("EFIBOO~1EFI")));
  fat.Entry(at, "EFIBOO~1EFI", 0x20, 0, 0);
  at += 32;
  // A long name not ending in .efi over an 8.3 name that does: firmware
  // would find it as BOOTX64.EFI, so it is listed (by its long name).
  at = fat.LongName(at, "readme.txt", Checksum(Name11("BOOTX64 EFI")));
  fat.Entry(at, "BOOTX64 EFI", 0x20, 0, 0);
  at += 32;
  // A long name ending in .efi over an 8.3 name that does not.
  at = fat.LongName(at, "shimx64.efi", Checksum(Name11("SHIMX64 BIN")));
  fat.Entry(at, "SHIMX64 BIN", 0x20, 0, 0);

  auto l = ListEfiBinaries(fat.image());
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(Paths(*l), (std::vector<std::string>{"/Long File Name Boot.efi", "/BADCHE~1.EFI",
                                                 "/ANAMEO~1.EFI", "/EFIBOO~1.EFI", "/readme.txt",
                                                 "/shimx64.efi"}));
}

TEST(EspImageTest, FindsTheEspOfAGptDisk) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "X       EFI", 0x20, 2, 6);
  fat.File({2}, {'h', 'e', 'l', 'l', 'o', '\n'});
  Image disk = GptWith(fat.image());
  auto l = ListEfiBinaries(disk);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->layout, "gpt");
  EXPECT_EQ(l->partition_offset, 34u * 512);
  EXPECT_EQ(l->fat_type, "FAT12");
  ASSERT_EQ(l->files.size(), 1u);
  EXPECT_EQ(l->files[0].path, "/X.EFI");
  EXPECT_EQ(l->files[0].sha256.Hex(), kHelloSha256);
}

TEST(EspImageTest, FindsTheEspOfAnMbrDisk) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "X       EFI", 0x20, 2, 6);
  fat.File({2}, {'h', 'e', 'l', 'l', 'o', '\n'});
  Image disk(512 * 8, 0);
  disk.insert(disk.end(), fat.image().begin(), fat.image().end());
  disk[446 + 16 + 4] = 0xEF;  // the second record
  PutU32(disk, 446 + 16 + 8, 8);
  PutU32(disk, 446 + 16 + 12, static_cast<std::uint32_t>(fat.image().size() / 512));
  disk[510] = 0x55;
  disk[511] = 0xAA;
  auto l = ListEfiBinaries(disk);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->layout, "mbr");
  EXPECT_EQ(l->partition_offset, 4096u);
  EXPECT_EQ(Paths(*l), std::vector<std::string>{"/X.EFI"});

  // The partition runs one sector past the end of the image.
  PutU32(disk, 446 + 16 + 12, static_cast<std::uint32_t>(fat.image().size() / 512 + 1));
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(446 + 16 + 12)));
  // Without the ESP record, sector 0 is no FAT boot sector either.
  disk[446 + 16 + 4] = 0x83;
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kNotFound, "BS_jmpBoot"));
}

TEST(EspImageTest, ImagesWithoutAnEspAreNotFound) {
  EXPECT_TRUE(FailsWith(ListEfiBinaries({}), ErrorCode::kNotFound, "0 bytes"));
  Image junk(4096);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 7 + 1);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(junk), ErrorCode::kNotFound, "no FAT file system"));
  Image linux_only = MakeGpt(200, {{kLinuxGuid, 34, 100}});
  EXPECT_TRUE(FailsWith(ListEfiBinaries(linux_only), ErrorCode::kNotFound,
                        "no EFI system partition"));
}

TEST(EspImageTest, TruncatedImagesAreMalformed) {
  FatBuilder fat(60);
  const Image cut(fat.image().begin(), fat.image().end() - 512);
  // BPB_TotSec16 (offset 19) names more sectors than there are.
  EXPECT_TRUE(FailsWith(ListEfiBinaries(cut), ErrorCode::kMalformed, At(19)));

  const Image disk = GptWith(fat.image());
  // The ESP's EndingLBA (entry 1 at 1024, field at +40) is past the end.
  const Image short_disk(disk.begin(), disk.end() - 35 * 512);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(short_disk), ErrorCode::kMalformed, At(1024 + 40)));
  // The GPT header block itself is cut.
  const Image header_cut(disk.begin(), disk.begin() + 700);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(header_cut), ErrorCode::kMalformed, At(512)));
}

TEST(EspImageTest, GptWithAbsurdEntryCountIsMalformed) {
  Image disk = GptWith(FatBuilder(60).image());
  PutU32(disk, 512 + 80, 0xFFFFFFFF);  // NumberOfPartitionEntries
  FixGptCrcs(disk);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(512 + 80)));
  // 1025 entries of 128 bytes: one entry beyond the 128 KiB cap.
  PutU32(disk, 512 + 80, 1025);
  FixGptCrcs(disk);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, "cap of 131072"));
}

TEST(EspImageTest, GptWithBadEntrySizeOrCrcIsMalformed) {
  const Image good = GptWith(FatBuilder(60).image());
  Image disk = good;
  PutU32(disk, 512 + 84, 100);  // SizeOfPartitionEntry
  FixGptCrcs(disk);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(512 + 84)));

  disk = good;
  disk[512 + 56] ^= 1;  // DiskGUID, not covered by a fresh CRC
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(512 + 16)));

  disk = good;
  disk[1024 + 56] ^= 1;  // the entry array
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(512 + 88)));

  disk = good;
  PutU64(disk, 512 + 72, 1u << 30);  // PartitionEntryLBA
  FixGptCrcs(disk);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(512 + 72)));
}

TEST(EspImageTest, TwoEspsAreUnsupported) {
  const Image disk = MakeGpt(400, {{kEspGuid, 34, 100}, {kEspGuid, 101, 200}});
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kUnsupported, "1024 and 1152"));
}

TEST(EspImageTest, EspWithoutFatIsMalformed) {
  const Image disk = MakeGpt(400, {{kEspGuid, 34, 100}});
  EXPECT_TRUE(FailsWith(ListEfiBinaries(disk), ErrorCode::kMalformed, At(34 * 512)));
}

TEST(EspImageTest, ClusterChainLoopIsMalformed) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "BOOTX64 EFI", 0x20, 5, 3 * 512);
  fat.SetFat(5, 6);
  fat.SetFat(6, 5);
  // The loop is seen at FAT entry 6, which points back to 5.
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "loops back to cluster 5 " + At(fat.FatEntryOffset(6))));

  // A directory whose chain loops, beyond its end-of-directory mark too.
  FatBuilder dir(60);
  dir.Entry(dir.RootEntry(0), "EFI", 0x10, 2, 0);
  dir.SetFat(2, 3);
  dir.SetFat(3, 2);
  dir.Entry(dir.Slot(2, 0), "A       EFI", 0x20, 0, 0);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(dir.image()), ErrorCode::kMalformed,
                        At(dir.FatEntryOffset(3))));
}

TEST(EspImageTest, ClusterNumbersOutsideTheVolumeAreMalformed) {
  FatBuilder fat(60);  // clusters 2..61
  fat.Entry(fat.RootEntry(0), "BOOTX64 EFI", 0x20, 62, 10);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "cluster 62 is outside the volume's clusters 2..61 " +
                            At(fat.RootEntry(0) + 26)));

  FatBuilder next(60);
  next.Entry(next.RootEntry(0), "BOOTX64 EFI", 0x20, 2, 1024);
  next.SetFat(2, 0xF00);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(next.image()), ErrorCode::kMalformed,
                        "cluster 3840 is outside " ));
  EXPECT_TRUE(FailsWith(ListEfiBinaries(next.image()), ErrorCode::kMalformed,
                        At(next.FatEntryOffset(2))));

  FatBuilder free_cluster(60);
  free_cluster.Entry(free_cluster.RootEntry(0), "BOOTX64 EFI", 0x20, 2, 1024);
  free_cluster.SetFat(2, 0);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(free_cluster.image()), ErrorCode::kMalformed,
                        "cluster 0 is outside"));
}

TEST(EspImageTest, ChainShorterThanTheFileIsMalformed) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "BOOTX64 EFI", 0x20, 2, 1500);  // needs 3 clusters
  fat.SetFat(2, fat.Eoc());
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "ends after 1 clusters, its size needs 3 " + At(fat.FatEntryOffset(2))));
}

TEST(EspImageTest, CrossLinkedFilesAreMalformed) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "A       EFI", 0x20, 2, 10);
  fat.Entry(fat.RootEntry(1), "B       EFI", 0x20, 2, 10);
  fat.SetFat(2, fat.Eoc());
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "cross-linked (already in another file or directory) " +
                            At(fat.RootEntry(1) + 26)));
}

TEST(EspImageTest, ADirectoryThatContainsItselfIsMalformed) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "EFI", 0x10, 2, 0);
  fat.Dir(2, 0);
  fat.Entry(fat.Slot(2, 2), "SELF", 0x10, 2, 0);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "/EFI/SELF: cluster 2 is cross-linked"));
}

// Directories /D1/D2/.../Dn, Dk in cluster k + 1, with an empty DEEP.EFI
// at the bottom.
Image NestedDirectories(std::uint32_t n, FatBuilder& fat) {
  fat.Entry(fat.RootEntry(0), "D1", 0x10, 2, 0);
  for (std::uint32_t k = 1; k <= n; ++k) {
    const std::uint32_t c = k + 1;
    fat.Dir(c, k == 1 ? 0 : c - 1);
    if (k < n) {
      fat.Entry(fat.Slot(c, 2), "D" + std::to_string(k + 1), 0x10, c + 1, 0);
    } else {
      fat.Entry(fat.Slot(c, 2), "DEEP    EFI", 0x20, 0, 0);
    }
  }
  return fat.image();
}

TEST(EspImageTest, DirectoriesNestedToTheCapAreListed) {
  FatBuilder fat(60);
  auto l = ListEfiBinaries(NestedDirectories(16, fat));
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(Paths(*l), std::vector<std::string>{
                           "/D1/D2/D3/D4/D5/D6/D7/D8/D9/D10/D11/D12/D13/D14/D15/D16/DEEP.EFI"});
}

TEST(EspImageTest, DirectoriesNestedDeeperThanTheCapAreMalformed) {
  FatBuilder fat(60);
  const Image img = NestedDirectories(17, fat);
  // D17's entry is in D16 (cluster 17), slot 2.
  EXPECT_TRUE(FailsWith(ListEfiBinaries(img), ErrorCode::kMalformed,
                        "/D16/D17 is nested deeper than 16 levels " + At(fat.Slot(17, 2))));
}

TEST(EspImageTest, MoreDirectoryEntriesThanTheCapAreMalformed) {
  // A root directory of 65520 entries (all deleted) whose last entry is a
  // directory of two clusters: the 65537th entry read is the first of its
  // second cluster.
  FatBuilder fat(60, 65520);
  for (std::size_t i = 0; i + 1 < 65520; ++i) fat.image()[fat.RootEntry(i)] = 0xE5;
  fat.Entry(fat.RootEntry(65519), "BIG", 0x10, 2, 0);
  fat.Dir(2, 0);
  fat.SetFat(2, 3);
  fat.SetFat(3, fat.Eoc());
  for (std::size_t i = 2; i < 16; ++i) fat.image()[fat.Slot(2, i)] = 0xE5;
  fat.image()[fat.Slot(3, 0)] = 0xE5;
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "more than 65536 directory entries " + At(fat.Slot(3, 0))));
  // An end-of-directory mark in the last slot of the first cluster: that
  // mark is the 65536th entry read, within the cap.
  fat.image()[fat.Slot(2, 15)] = 0;
  auto l = ListEfiBinaries(fat.image());
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_TRUE(l->files.empty());
}

TEST(EspImageTest, MoreEfiFilesThanTheCapAreMalformed) {
  FatBuilder fat(60, 1040);
  for (std::size_t i = 0; i < 1025; ++i) {
    const std::string n = std::to_string(10000000 + i);
    fat.Entry(fat.RootEntry(i), n + "EFI", 0x20, 0, 0);
  }
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "more than 1024 EFI files " + At(fat.RootEntry(1024))));
  fat.image()[fat.RootEntry(1024)] = 0xE5;
  auto l = ListEfiBinaries(fat.image());
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->files.size(), 1024u);
}

TEST(EspImageTest, EfiFilesBeyondTheSizeCapAreMalformed) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "BIG     EFI", 0x20, 2, (256u << 20) + 1);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "for an EFI file " + At(fat.RootEntry(0) + 28)));
  // Within the cap but larger than the volume.
  fat.Entry(fat.RootEntry(0), "BIG     EFI", 0x20, 2, 61 * 512);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "need 61 clusters, the volume has 60"));
}

TEST(EspImageTest, BadShortNamesOfEfiFiles) {
  FatBuilder fat(60);
  fat.Entry(fat.RootEntry(0), "A/B     EFI", 0x20, 0, 0);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "byte 0x2f in a short name " + At(fat.RootEntry(0) + 1)));
  fat.Entry(fat.RootEntry(0), "A\x81      EFI", 0x20, 0, 0);
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kUnsupported, "0x81"));
  // Not an EFI file: its name is not looked at.
  fat.Entry(fat.RootEntry(0), "A/B     TXT", 0x20, 0, 0);
  auto l = ListEfiBinaries(fat.image());
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_TRUE(l->files.empty());
}

TEST(EspImageTest, BpbThatDisagreesWithTheFatTypeIsMalformed) {
  FatBuilder fat(60);
  PutU16(fat.image(), 17, 0);  // BPB_RootEntCnt 0 on a FAT12 volume
  EXPECT_TRUE(FailsWith(ListEfiBinaries(fat.image()), ErrorCode::kMalformed,
                        "FAT12 volume (61 clusters) with BPB_RootEntCnt 0 " + At(17)));
}

// ---------------------------------------------------------------------------
// Images made by mkfs.vfat, mtools and sfdisk.

// The full path of `tool` on PATH or in the sbin directories, or "".
std::string FindTool(const std::string& tool) {
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + tool;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

class EspImageToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"mkfs.vfat", "mmd", "mcopy", "sfdisk"}) {
      tools_[tool] = FindTool(tool);
      if (tools_[tool].empty()) {
        GTEST_SKIP() << "needs " << tool << " (packages dosfstools, mtools, fdisk)";
      }
    }
    char tmpl[] = "/tmp/tc-esp-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void Sh(const std::string& cmd) {
    const std::string full = "MTOOLS_SKIP_CHECK=1 " + cmd + " >>" + dir_ + "/log 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << full << "\n" << Log();
  }
  std::string Log() {
    const Image b = ReadFile(dir_ + "/log");
    return std::string(b.begin(), b.end());
  }

  // A FAT file system of `kib` KiB made with `mkfs_flags`, holding
  //   /EFI/BOOT/BOOTX64.EFI                       kPeUnsigned
  //   /EFI/debian/sub/deeper/systemd-bootx64.efi  `nested` (a long name)
  //   /EFI/debian/grubx64.efi                     "hello\n"
  //   /EFI/debian/README.txt                      "hello\n" (not listed)
  //   /startup.nsh                                "hello\n" (not listed)
  Image MakeFs(const std::string& mkfs_flags, int kib, const std::string& nested) {
    const std::string img = dir_ + "/fs.img";
    const std::string hello = dir_ + "/hello";
    WriteFile(hello, {'h', 'e', 'l', 'l', 'o', '\n'});
    fs::remove(img);
    Sh(tools_["mkfs.vfat"] + " " + mkfs_flags + " -C " + img + " " + std::to_string(kib));
    const std::string mmd = tools_["mmd"] + " -i " + img + " ";
    const std::string mcopy = tools_["mcopy"] + " -i " + img + " ";
    Sh(mmd + "::/EFI ::/EFI/BOOT ::/EFI/debian ::/EFI/debian/sub ::/EFI/debian/sub/deeper");
    Sh(mcopy + kPeUnsigned + " ::/EFI/BOOT/BOOTX64.EFI");
    Sh(mcopy + nested + " ::/EFI/debian/sub/deeper/systemd-bootx64.efi");
    Sh(mcopy + hello + " ::/EFI/debian/grubx64.efi");
    Sh(mcopy + hello + " ::/EFI/debian/README.txt");
    Sh(mcopy + hello + " ::/startup.nsh");
    return ReadFile(img);
  }

  // A disk with 1 MiB before and after `fs`, partitioned by sfdisk
  // (`label` "gpt" or "dos") with one partition of `type` at LBA 2048.
  Image MakeDisk(const std::string& label, const std::string& type, const Image& fs) {
    const std::string disk = dir_ + "/disk.img";
    WriteFile(disk, Image((2u << 20) + fs.size(), 0));
    const std::string script = dir_ + "/sfdisk.txt";
    std::ofstream(script) << "label: " << label << "\nstart=2048, size=" << fs.size() / 512
                          << ", type=" << type << "\n";
    Sh(tools_["sfdisk"] + " -q " + disk + " <" + script);
    Image d = ReadFile(disk);
    std::copy(fs.begin(), fs.end(), d.begin() + (1 << 20));
    return d;
  }

  // The listing of MakeFs's files, exactly.
  void ExpectStandardListing(const Result<EspListing>& l, const std::string& nested) {
    ASSERT_TRUE(l.has_value()) << l.error().message();
    ASSERT_EQ(Paths(*l), (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI",
                                                   "/EFI/debian/sub/deeper/systemd-bootx64.efi",
                                                   "/EFI/debian/grubx64.efi"}));
    const Image pe = ReadFile(kPeUnsigned);
    EXPECT_EQ(l->files[0].size, pe.size());
    EXPECT_EQ(l->files[0].sha256, Sha256(pe));
    ASSERT_TRUE(l->files[0].authenticode.has_value()) << l->files[0].note;
    EXPECT_EQ(*l->files[0].authenticode, *pe::AuthenticodeHash(pe, HashAlg::kSha256));
    const Image other = ReadFile(nested);
    EXPECT_EQ(l->files[1].size, other.size());
    EXPECT_EQ(l->files[1].sha256, Sha256(other));
    ASSERT_TRUE(l->files[1].authenticode.has_value()) << l->files[1].note;
    EXPECT_EQ(*l->files[1].authenticode, *pe::AuthenticodeHash(other, HashAlg::kSha256));
    EXPECT_EQ(l->files[2].size, 6u);
    EXPECT_EQ(l->files[2].sha256.Hex(), kHelloSha256);
    EXPECT_FALSE(l->files[2].authenticode.has_value());
    EXPECT_THAT(l->files[2].note, StartsWith("not a PE image: "));
  }

  std::map<std::string, std::string> tools_;
  std::string dir_;
};

constexpr const char* kEspType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

TEST_F(EspImageToolsTest, GptFat12) {
  const Image fs = MakeFs("-F 12 -s 1", 1024, kPeSigned);
  auto l = ListEfiBinaries(MakeDisk("gpt", kEspType, fs));
  ExpectStandardListing(l, kPeSigned);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->layout, "gpt");
  EXPECT_EQ(l->partition_offset, 1u << 20);
  EXPECT_EQ(l->fat_type, "FAT12");
}

TEST_F(EspImageToolsTest, GptFat16) {
  const Image fs = MakeFs("-F 16 -s 1", 4096, kPeSigned);
  auto l = ListEfiBinaries(MakeDisk("gpt", kEspType, fs));
  ExpectStandardListing(l, kPeSigned);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->layout, "gpt");
  EXPECT_EQ(l->partition_offset, 1u << 20);
  EXPECT_EQ(l->fat_type, "FAT16");
}

TEST_F(EspImageToolsTest, GptFat32) {
  const Image fs = MakeFs("-F 32 -s 1", 33300, kPeSigned);
  auto l = ListEfiBinaries(MakeDisk("gpt", kEspType, fs));
  ExpectStandardListing(l, kPeSigned);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->layout, "gpt");
  EXPECT_EQ(l->partition_offset, 1u << 20);
  EXPECT_EQ(l->fat_type, "FAT32");
}

TEST_F(EspImageToolsTest, BareFat) {
  auto l = ListEfiBinaries(MakeFs("-F 12", 1024, kPeSigned));
  ExpectStandardListing(l, kPeSigned);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->layout, "fat");
  EXPECT_EQ(l->partition_offset, 0u);
  EXPECT_EQ(l->fat_type, "FAT12");
}

TEST_F(EspImageToolsTest, MbrFat16) {
  const Image fs = MakeFs("-F 16 -s 1", 4096, kPeSigned);
  auto l = ListEfiBinaries(MakeDisk("dos", "ef", fs));
  ExpectStandardListing(l, kPeSigned);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->layout, "mbr");
  EXPECT_EQ(l->partition_offset, 1u << 20);
  EXPECT_EQ(l->fat_type, "FAT16");
}

TEST_F(EspImageToolsTest, GptWithoutEspIsNotFound) {
  const Image fs = MakeFs("-F 12 -s 1", 1024, kPeSigned);
  // Linux file system data.
  auto l = ListEfiBinaries(MakeDisk("gpt", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", fs));
  EXPECT_TRUE(FailsWith(l, ErrorCode::kNotFound, "no EFI system partition"));
}

TEST_F(EspImageToolsTest, SystemdBootAuthenticodeMatches) {
  // Debian's systemd-boot: installed, or fetched by scripts/fetch_efi_binaries.sh.
  const char* env = std::getenv("TC_EFI_BINARIES");
  const std::string cached =
      std::string(env != nullptr && *env != '\0' ? env : "/var/cache/trustchain/efi") +
      "/systemd-bootx64.efi";
  const std::string real = ::access(kSystemdBoot, R_OK) == 0 ? kSystemdBoot : cached;
  if (::access(real.c_str(), R_OK) != 0) {
    GTEST_SKIP() << kSystemdBoot << " and " << cached << " not present (package "
                 << "systemd-boot-efi, or scripts/fetch_efi_binaries.sh): the real-PE assertion "
                 << "is skipped; the other tests use the project's own PE images";
  }
  const Image fs = MakeFs("-F 16 -s 1", 4096, real);
  auto l = ListEfiBinaries(MakeDisk("gpt", kEspType, fs));
  ExpectStandardListing(l, real);
}

}  // namespace
}  // namespace tc::launch
