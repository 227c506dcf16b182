#include "tc/pe/authenticode.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::pe {
namespace {

namespace fs = std::filesystem;
using crypto::HashAlg;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// A builder of small PE images, written from the PE/COFF spec's layouts
// ("MS-DOS Stub", "COFF File Header", "Optional Header", "Section Table",
// "The Attribute Certificate Table"). It records where it put each field so
// the tests can name the byte ranges the Authenticode spec hashes without
// asking the code under test.

void PutU16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void PutU32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct SectionSpec {
  std::string name;
  std::uint32_t offset;  // PointerToRawData
  std::uint32_t size;    // SizeOfRawData
};

struct PeSpec {
  bool pe32_plus = true;
  std::uint32_t e_lfanew = 0x80;
  std::uint32_t rva_count = 16;
  std::uint32_t size_of_headers = 0x200;
  std::uint32_t checksum = 0xC0FFEE11;  // nonzero: must not be hashed
  // In section-table order; raw data is filled with a per-section pattern.
  std::vector<SectionSpec> sections = {{".text", 0x200, 0x400},
                                       {".data", 0x600, 0x200}};
  std::size_t trailing = 24;  // bytes after the last section
  std::size_t cert_size = 0;  // 0: unsigned; else a table at the end
};

struct BuiltPe {
  Bytes image;
  std::size_t checksum_offset = 0;
  std::optional<std::size_t> cert_entry_offset;
  std::size_t size_of_optional_header_offset = 0;
  std::size_t number_of_sections_offset = 0;
  std::size_t rva_count_offset = 0;
  std::size_t size_of_headers_offset = 0;
  std::size_t section_table = 0;
  std::size_t cert_offset = 0;
};

BuiltPe Build(const PeSpec& spec) {
  BuiltPe pe;
  const std::size_t fixed = spec.pe32_plus ? 112 : 96;
  const std::size_t opt_size = fixed + 8 * spec.rva_count;
  std::size_t sections_end = spec.size_of_headers;
  for (const SectionSpec& s : spec.sections) {
    sections_end = std::max<std::size_t>(sections_end, s.offset + s.size);
  }
  const std::size_t body = sections_end + spec.trailing;
  pe.cert_offset = body;
  Bytes& b = pe.image;
  b.assign(body + spec.cert_size, 0);

  // Headers get a nonzero filler so that a skipped or repeated range shows.
  for (std::size_t i = 0; i < spec.size_of_headers; ++i) {
    b[i] = static_cast<std::uint8_t>(0xA0 ^ (i * 7));
  }
  // DOS header: "MZ", e_lfanew at 0x3c.
  b[0] = 'M';
  b[1] = 'Z';
  PutU32(b, 0x3c, spec.e_lfanew);
  // "PE\0\0" and the COFF header.
  const std::size_t nt = spec.e_lfanew;
  b[nt] = 'P';
  b[nt + 1] = 'E';
  b[nt + 2] = 0;
  b[nt + 3] = 0;
  const std::size_t coff = nt + 4;
  PutU16(b, coff, 0x8664);  // Machine: x64
  pe.number_of_sections_offset = coff + 2;
  PutU16(b, coff + 2, static_cast<std::uint16_t>(spec.sections.size()));
  PutU32(b, coff + 4, 0);   // TimeDateStamp
  PutU32(b, coff + 8, 0);   // PointerToSymbolTable
  PutU32(b, coff + 12, 0);  // NumberOfSymbols
  pe.size_of_optional_header_offset = coff + 16;
  PutU16(b, coff + 16, static_cast<std::uint16_t>(opt_size));
  PutU16(b, coff + 18,
         0x0206);  // executable, line numbers stripped, debug stripped
  // Optional header.
  const std::size_t opt = coff + 20;
  std::fill(b.begin() + opt, b.begin() + opt + opt_size, 0x11);
  PutU16(b, opt, spec.pe32_plus ? 0x20b : 0x10b);
  PutU32(b, opt + 32, 0x1000);  // SectionAlignment
  PutU32(b, opt + 36, 0x200);   // FileAlignment
  pe.size_of_headers_offset = opt + 60;
  PutU32(b, opt + 60, spec.size_of_headers);
  pe.checksum_offset = opt + 64;
  PutU32(b, opt + 64, spec.checksum);
  PutU16(b, opt + 68, 10);  // Subsystem: EFI application
  pe.rva_count_offset = opt + (spec.pe32_plus ? 108 : 92);
  PutU32(b, pe.rva_count_offset, spec.rva_count);
  if (spec.rva_count > 4) {
    pe.cert_entry_offset = opt + fixed + 4 * 8;
    PutU32(
        b, *pe.cert_entry_offset,
        spec.cert_size != 0 ? static_cast<std::uint32_t>(pe.cert_offset) : 0);
    PutU32(b, *pe.cert_entry_offset + 4,
           static_cast<std::uint32_t>(spec.cert_size));
  }
  // Section table.
  pe.section_table = opt + opt_size;
  for (std::size_t i = 0; i < spec.sections.size(); ++i) {
    const SectionSpec& s = spec.sections[i];
    const std::size_t h = pe.section_table + 40 * i;
    std::fill(b.begin() + h, b.begin() + h + 40, 0);
    std::copy_n(s.name.begin(), std::min<std::size_t>(8, s.name.size()),
                b.begin() + h);
    PutU32(b, h + 8, s.size);             // VirtualSize
    PutU32(b, h + 12, 0x1000 * (i + 1));  // VirtualAddress
    PutU32(b, h + 16, s.size);            // SizeOfRawData
    PutU32(b, h + 20, s.offset);          // PointerToRawData
    for (std::size_t k = 0; k < s.size; ++k) {
      b[s.offset + k] = static_cast<std::uint8_t>((i + 1) * 31 + k);
    }
  }
  for (std::size_t k = 0; k < spec.trailing; ++k) {
    b[sections_end + k] = static_cast<std::uint8_t>(0xE0 + k);
  }
  // WIN_CERTIFICATE: dwLength, wRevision 0x0200, wCertificateType 0x0002
  // (PKCS#7 SignedData), then filler standing in for the signature.
  if (spec.cert_size >= 8) {
    PutU32(b, pe.cert_offset, static_cast<std::uint32_t>(spec.cert_size));
    PutU16(b, pe.cert_offset + 4, 0x0200);
    PutU16(b, pe.cert_offset + 6, 0x0002);
    for (std::size_t k = 8; k < spec.cert_size; ++k) {
      b[pe.cert_offset + k] = static_cast<std::uint8_t>(0x30 + k);
    }
  }
  return pe;
}

// The expected hash, straight from the Authenticode spec ("Calculating the
// PE Image Hash"): the byte ranges, concatenated, then hashed in one go.
crypto::Digest SpecHash(const BuiltPe& pe, const PeSpec& spec, HashAlg alg) {
  const Bytes& b = pe.image;
  Bytes msg;
  auto append = [&](std::size_t from, std::size_t to) {
    ASSERT_LE(from, to);
    ASSERT_LE(to, b.size());
    msg.insert(msg.end(), b.begin() + from, b.begin() + to);
  };
  append(0, pe.checksum_offset);  // step 3
  if (pe.cert_entry_offset) {
    append(pe.checksum_offset + 4, *pe.cert_entry_offset);    // step 5
    append(*pe.cert_entry_offset + 8, spec.size_of_headers);  // step 7
  } else {
    append(pe.checksum_offset + 4, spec.size_of_headers);
  }
  std::size_t sum = spec.size_of_headers;  // step 8
  std::vector<SectionSpec> sorted = spec.sections;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const SectionSpec& x, const SectionSpec& y) {
                     return x.offset < y.offset;
                   });  // step 10
  for (const SectionSpec& s : sorted) {
    if (s.size == 0) continue;  // step 9
    append(s.offset, s.offset + s.size);
    sum += s.size;
  }
  const std::size_t cert = pe.cert_entry_offset ? spec.cert_size : 0;
  if (b.size() > sum + cert) append(sum, b.size() - cert);  // step 14
  auto d = crypto::Hash(alg, msg);
  EXPECT_TRUE(d.has_value());
  return d.value();
}

crypto::Digest MustHash(const Bytes& image, HashAlg alg = HashAlg::kSha256) {
  auto d = AuthenticodeHash(image, alg);
  EXPECT_TRUE(d.has_value()) << d.error().message();
  return d.has_value() ? *d : crypto::Digest(alg);
}

// ---------------------------------------------------------------------------
// Hand-built images.

TEST(ParsePeTest, ReadsHeadersOfUnsignedPe32Plus) {
  const PeSpec spec;
  const BuiltPe pe = Build(spec);
  auto info = ParsePe(pe.image);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_TRUE(info->pe32_plus);
  EXPECT_EQ(info->machine, 0x8664);
  EXPECT_EQ(info->subsystem, 10);
  EXPECT_EQ(info->sections, 2u);
  EXPECT_FALSE(info->has_signature);
  EXPECT_EQ(info->signature_size, 0u);
}

TEST(ParsePeTest, ReadsCertificateTableOfSignedPe32) {
  PeSpec spec;
  spec.pe32_plus = false;
  spec.cert_size = 64;
  const BuiltPe pe = Build(spec);
  auto info = ParsePe(pe.image);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_FALSE(info->pe32_plus);
  EXPECT_TRUE(info->has_signature);
  EXPECT_EQ(info->signature_offset, pe.cert_offset);
  EXPECT_EQ(info->signature_size, 64u);
}

TEST(AuthenticodeHashTest, MatchesSpecRangesForUnsignedPe32Plus) {
  const PeSpec spec;
  const BuiltPe pe = Build(spec);
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
}

TEST(AuthenticodeHashTest, MatchesSpecRangesForSignedPe32Plus) {
  PeSpec spec;
  spec.cert_size = 0x48;
  const BuiltPe pe = Build(spec);
  for (HashAlg alg :
       {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    EXPECT_EQ(MustHash(pe.image, alg), SpecHash(pe, spec, alg))
        << crypto::HashAlgName(alg);
  }
}

TEST(AuthenticodeHashTest, MatchesSpecRangesForSignedPe32) {
  PeSpec spec;
  spec.pe32_plus = false;
  spec.cert_size = 0x30;
  const BuiltPe pe = Build(spec);
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
}

TEST(AuthenticodeHashTest, SigningDoesNotChangeTheHash) {
  // Signing sets CheckSum and the certificate entry and appends the table:
  // none of which is hashed.
  PeSpec unsigned_spec;
  unsigned_spec.checksum = 0;
  PeSpec signed_spec;
  signed_spec.checksum = 0x12345678;
  signed_spec.cert_size = 0x100;
  EXPECT_EQ(MustHash(Build(unsigned_spec).image),
            MustHash(Build(signed_spec).image));
}

TEST(AuthenticodeHashTest, HashesOnlyChecksumWithoutCertificateDirectory) {
  // NumberOfRvaAndSizes 4: no certificate entry to skip; the bytes where it
  // would be are hashed like any header byte.
  PeSpec spec;
  spec.rva_count = 4;
  const BuiltPe pe = Build(spec);
  ASSERT_FALSE(pe.cert_entry_offset.has_value());
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
  auto info = ParsePe(pe.image);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_FALSE(info->has_signature);
}

TEST(AuthenticodeHashTest, HashesSectionsInFileOrderAndSkipsEmptyOnes) {
  PeSpec spec;
  spec.sections = {
      {".data", 0x600, 0x200}, {".bss", 0, 0}, {".text", 0x200, 0x400}};
  const BuiltPe pe = Build(spec);
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
}

TEST(AuthenticodeHashTest, HashesNoTrailingDataWhenNoneIsLeft) {
  PeSpec spec;
  spec.trailing = 0;
  spec.cert_size = 16;
  const BuiltPe pe = Build(spec);
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
}

TEST(AuthenticodeHashTest, TrailingDataStartsAtSumOfBytesHashed) {
  // A gap between sections: the spec's step 14 (and EDK2) take the extra
  // data from offset SUM_OF_BYTES_HASHED, not from the end of the last
  // section. We follow the spec, which is what firmware measures.
  PeSpec spec;
  spec.sections = {{".text", 0x200, 0x200}, {".data", 0x600, 0x200}};
  spec.cert_size = 32;
  const BuiltPe pe = Build(spec);
  EXPECT_EQ(MustHash(pe.image), SpecHash(pe, spec, HashAlg::kSha256));
}

TEST(AuthenticodeHashTest, IgnoresChecksumAndCertificateEntryOnly) {
  PeSpec spec;
  spec.cert_size = 0x40;
  const BuiltPe pe = Build(spec);
  const crypto::Digest base = MustHash(pe.image);

  Bytes changed = pe.image;
  PutU32(changed, pe.checksum_offset, 0xFFFFFFFF);
  EXPECT_EQ(MustHash(changed), base) << "CheckSum is not hashed";

  // Header bytes around the skipped fields (checksum - 5 is the top byte
  // of SizeOfImage; checksum - 1 would break SizeOfHeaders), the first and
  // last section bytes and the last trailing byte all count.
  for (std::size_t at :
       {std::size_t{2}, pe.checksum_offset - 5, pe.checksum_offset + 4,
        *pe.cert_entry_offset - 1, *pe.cert_entry_offset + 8,
        std::size_t{0x1ff}, std::size_t{0x200}, std::size_t{0x7ff},
        pe.cert_offset - 1}) {
    changed = pe.image;
    changed[at] ^= 0x01;
    auto d = AuthenticodeHash(changed, HashAlg::kSha256);
    ASSERT_TRUE(d.has_value()) << "byte " << at << ": " << d.error().message();
    EXPECT_NE(*d, base) << "byte " << at << " must be hashed";
  }
  // The certificate table's contents do not.
  changed = pe.image;
  changed[pe.cert_offset + 20] ^= 0x01;
  EXPECT_EQ(MustHash(changed), base) << "the certificate table is not hashed";
}

TEST(AuthenticodeHashTest, FailsOnUnavailableAlgorithmOnlyWhenOpenSslLacksIt) {
  const BuiltPe pe = Build(PeSpec{});
  auto d = AuthenticodeHash(pe.image, HashAlg::kSm3_256);
  if (crypto::HashAvailable(HashAlg::kSm3_256)) {
    EXPECT_TRUE(d.has_value());
  } else {
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().code(), ErrorCode::kUnsupported);
  }
}

// ---------------------------------------------------------------------------
// Hostile headers: every error is kMalformed and names an offset.

void ExpectMalformed(const Bytes& image, const std::string& needle = "") {
  auto info = ParsePe(image);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kMalformed);
  EXPECT_THAT(info.error().message(), HasSubstr("offset"));
  if (!needle.empty()) {
    EXPECT_THAT(info.error().message(), HasSubstr(needle));
  }
  auto d = AuthenticodeHash(image, HashAlg::kSha256);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(d.error().message(), info.error().message());
}

TEST(ParsePeTest, RejectsEmptyAndTinyFiles) {
  ExpectMalformed({});
  ExpectMalformed({'M', 'Z'}, "DOS header");
}

TEST(ParsePeTest, RejectsBadDosSignature) {
  BuiltPe pe = Build(PeSpec{});
  pe.image[0] = 'Z';
  ExpectMalformed(pe.image, "DOS signature");
}

TEST(ParsePeTest, RejectsLfanewPastEndOfFile) {
  BuiltPe pe = Build(PeSpec{});
  PutU32(pe.image, 0x3c, 0xFFFFFFF0);
  ExpectMalformed(pe.image, "e_lfanew");
  // Inside the file, but no room for the COFF header.
  PutU32(pe.image, 0x3c, static_cast<std::uint32_t>(pe.image.size() - 10));
  ExpectMalformed(pe.image, "COFF header");
}

TEST(ParsePeTest, RejectsBadPeSignature) {
  BuiltPe pe = Build(PeSpec{});
  pe.image[0x80 + 2] = 'X';
  ExpectMalformed(pe.image, "PE signature");
}

TEST(ParsePeTest, RejectsUnknownOptionalHeaderMagic) {
  BuiltPe pe = Build(PeSpec{});
  PutU16(pe.image, 0x80 + 24, 0x107);  // a ROM image
  ExpectMalformed(pe.image, "magic");
}

TEST(ParsePeTest, RejectsSizeOfOptionalHeaderTooSmall) {
  BuiltPe pe = Build(PeSpec{});
  PutU16(pe.image, pe.size_of_optional_header_offset, 100);  // < 112
  ExpectMalformed(pe.image, "SizeOfOptionalHeader");
  // Holds the fixed fields but not 16 data directories.
  PutU16(pe.image, pe.size_of_optional_header_offset, 112 + 8 * 15);
  ExpectMalformed(pe.image, "data directories");
}

TEST(ParsePeTest, RejectsTooManyDataDirectories) {
  BuiltPe pe = Build(PeSpec{});
  PutU32(pe.image, pe.rva_count_offset, 17);
  ExpectMalformed(pe.image, "NumberOfRvaAndSizes");
}

TEST(ParsePeTest, RejectsTooManySections) {
  BuiltPe pe = Build(PeSpec{});
  PutU16(pe.image, pe.number_of_sections_offset, 97);
  ExpectMalformed(pe.image, "NumberOfSections");
}

TEST(ParsePeTest, RejectsSectionTablePastEndOfFile) {
  BuiltPe pe = Build(PeSpec{});
  PutU16(pe.image, pe.size_of_optional_header_offset, 0xFFFF);
  ExpectMalformed(pe.image, "section table");
}

TEST(ParsePeTest, RejectsSizeOfHeadersOutOfRange) {
  BuiltPe pe = Build(PeSpec{});
  PutU32(pe.image, pe.size_of_headers_offset, 0x100);  // table ends later
  ExpectMalformed(pe.image, "SizeOfHeaders");
  PutU32(pe.image, pe.size_of_headers_offset, 0xFFFFFFFF);
  ExpectMalformed(pe.image, "SizeOfHeaders");
}

TEST(ParsePeTest, RejectsSectionPastEndOfFile) {
  BuiltPe pe = Build(PeSpec{});
  const std::size_t second = pe.section_table + 40;
  PutU32(pe.image, second + 16, 0x10000);  // SizeOfRawData
  ExpectMalformed(pe.image, "section 1");
  // Offset + size would wrap a 32-bit sum.
  PutU32(pe.image, second + 16, 0xFFFFFFFF);
  PutU32(pe.image, second + 20, 0xFFFFFFFF);
  ExpectMalformed(pe.image, "section 1");
}

TEST(ParsePeTest, RejectsSectionInsideHeaders) {
  BuiltPe pe = Build(PeSpec{});
  PutU32(pe.image, pe.section_table + 20, 0x100);
  ExpectMalformed(pe.image, "inside the headers");
}

TEST(ParsePeTest, RejectsOverlappingSectionsNamingBoth) {
  PeSpec spec;
  spec.sections = {{".text", 0x200, 0x400}, {".data", 0x500, 0x200}};
  const BuiltPe pe = Build(spec);
  auto info = ParsePe(pe.image);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kMalformed);
  EXPECT_THAT(info.error().message(), HasSubstr("section 1"));
  EXPECT_THAT(info.error().message(), HasSubstr("section 0"));
  EXPECT_THAT(info.error().message(), HasSubstr("offset 1280"));  // 0x500
}

TEST(ParsePeTest, RejectsCertificateTableOutOfRange) {
  PeSpec spec;
  spec.cert_size = 0x40;
  const BuiltPe pe = Build(spec);
  const std::size_t entry = *pe.cert_entry_offset;

  Bytes b = pe.image;
  PutU32(b, entry, 0xFFFFFFF0);  // offset past the end
  ExpectMalformed(b, "certificate table");

  b = pe.image;
  PutU32(b, entry + 4, 0x41);  // one byte too long
  ExpectMalformed(b, "certificate table");

  b = pe.image;
  b.push_back(0);  // a byte after the table: no longer last
  ExpectMalformed(b, "not at the end of the file");

  b = pe.image;  // the table claims the second section and what follows
  PutU32(b, entry, 0x600);
  PutU32(b, entry + 4, static_cast<std::uint32_t>(b.size() - 0x600));
  ExpectMalformed(b, "certificate table");
}

TEST(ParsePeTest, EveryPrefixOfSignedImageFailsCleanly) {
  PeSpec spec;
  spec.cert_size = 0x20;
  const BuiltPe pe = Build(spec);
  for (std::size_t n = 0; n < pe.image.size(); ++n) {
    const Bytes prefix(pe.image.begin(), pe.image.begin() + n);
    auto d = AuthenticodeHash(prefix, HashAlg::kSha256);
    ASSERT_FALSE(d.has_value()) << "prefix of " << n << " bytes";
    EXPECT_EQ(d.error().code(), ErrorCode::kMalformed);
    EXPECT_THAT(d.error().message(), HasSubstr("offset")) << n;
  }
}

// ---------------------------------------------------------------------------
// Real binaries from Debian 12 against the values the firmware of a test VM
// extended into PCR 4 (../shared/corpus/vm/baseline-tcg/reference-values.txt).

fs::path SharedDir() {
  const char* env = std::getenv("TC_SHARED_DIR");
  return env != nullptr ? fs::path(env) : fs::path(TC_SHARED_DIR);
}

fs::path EfiDir() {
  const char* env = std::getenv("TC_EFI_BINARIES");
  return env != nullptr ? fs::path(env) : fs::path("/var/cache/trustchain/efi");
}

// "PCR4 authenticode <file> <sha256 hex> ..." lines.
std::optional<std::string> ReferenceValue(const std::string& file) {
  std::ifstream in(SharedDir() / "corpus/vm/baseline-tcg/reference-values.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string pcr, kind, name, hex;
    if (words >> pcr >> kind >> name >> hex && pcr == "PCR4" &&
        kind == "authenticode" && name == file) {
      return hex;
    }
  }
  return std::nullopt;
}

void CheckRealBinary(const std::string& file, const std::string& expected,
                     bool expect_signature) {
  // The expected value is copied here so the test runs without ../shared;
  // when ../shared is there, it must say the same.
  if (auto ref = ReferenceValue(file)) {
    EXPECT_EQ(*ref, expected) << "reference-values.txt changed for " << file;
  }
  const fs::path path = EfiDir() / file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    GTEST_SKIP()
        << "missing " << path
        << ": run scripts/fetch_efi_binaries.sh (apt-get download "
           "systemd-boot-efi linux-image-6.1.0-56-amd64, then dpkg -x) "
           "or set TC_EFI_BINARIES to a directory holding "
        << file;
  }
  const Bytes image((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  auto info = ParsePe(image);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_TRUE(info->pe32_plus);
  EXPECT_EQ(info->machine, 0x8664);
  EXPECT_EQ(info->subsystem, 10);  // EFI application
  EXPECT_EQ(info->has_signature, expect_signature);
  auto d = AuthenticodeHash(image, HashAlg::kSha256);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->Hex(), expected) << file;
}

TEST(AuthenticodeHashRealTest, SystemdBootMatchesReferenceValue) {
  // systemd-boot-efi 252.39-1~deb12u2: unsigned, with data after the last
  // section (step 14).
  CheckRealBinary(
      "systemd-bootx64.efi",
      "7843e376e57323bcdfebcffc8d5109eb39721c83d8bedab1dfd6431596875c2c",
      /*expect_signature=*/false);
}

TEST(AuthenticodeHashRealTest, DebianKernelMatchesReferenceValue) {
  // linux-image-6.1.0-56-amd64: EFI stub, signed by Debian, 6 data
  // directories.
  CheckRealBinary(
      "vmlinuz-6.1.0-56-amd64",
      "6b1bf35c3bee9918250f593a6fff889c75c1e239cd2fe9e5bb0cd3de9dcb8e51",
      /*expect_signature=*/true);
}

}  // namespace
}  // namespace tc::pe
