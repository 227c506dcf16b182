#include "tc/pe/authenticode.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"

namespace tc::pe {
namespace {

// [PE] "MS-DOS Stub (Image Only)": "MZ" at offset 0, and at 0x3c the file
// offset of the PE signature (e_lfanew).
constexpr std::size_t kLfanewOffset = 0x3c;
// [PE] "Signature (Image Only)": "PE\0\0", then the 20-byte COFF File
// Header, then the optional header.
constexpr std::size_t kPeSignatureSize = 4;
constexpr std::size_t kCoffHeaderSize = 20;
constexpr std::size_t kNumberOfSectionsOffset = 2;       // in the COFF header
constexpr std::size_t kSizeOfOptionalHeaderOffset = 16;  // in the COFF header

// [PE] "Optional Header Standard Fields" / "Windows-Specific Fields":
// offsets from the start of the optional header. PE32 and PE32+ agree up to
// Subsystem; PE32+ widens ImageBase and the four stack/heap sizes to 8
// bytes (and drops BaseOfData), which moves NumberOfRvaAndSizes and the
// data directories 16 bytes on.
constexpr std::uint16_t kPe32Magic = 0x10b;
constexpr std::uint16_t kPe32PlusMagic = 0x20b;
constexpr std::size_t kSizeOfHeadersOffset = 60;
constexpr std::size_t kCheckSumOffset = 64;
constexpr std::size_t kCheckSumSize = 4;
constexpr std::size_t kSubsystemOffset = 68;
constexpr std::size_t kPe32NumberOfRvaAndSizesOffset = 92;
constexpr std::size_t kPe32PlusNumberOfRvaAndSizesOffset = 108;
// The fixed part ends where the data directories begin.
constexpr std::size_t kPe32FixedSize = 96;
constexpr std::size_t kPe32PlusFixedSize = 112;
// [PE] "Optional Header Data Directories": VirtualAddress, Size (UINT32
// each).
constexpr std::size_t kDataDirectorySize = 8;

// [PE] "Section Table (Section Headers)": 40 bytes each; Name[8],
// VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData, ...
constexpr std::size_t kSectionHeaderSize = 40;
constexpr std::size_t kSectionNameSize = 8;

Error Malformed(std::string message) {
  return Error(ErrorCode::kMalformed, std::move(message));
}

// A reader over the `size` bytes of `image` at `offset`, reporting offsets
// in the file. The range is checked here (subtraction form) so that the
// error names the field, not just "truncated".
Result<ByteReader> ReaderAt(std::span<const std::uint8_t> image,
                            std::size_t offset, std::size_t size,
                            std::string_view what) {
  if (offset > image.size() || size > image.size() - offset) {
    return Fail(Malformed(fmt::format(
        "{} ({} bytes at offset {}) lies past the end of the file ({} bytes)",
        what, size, offset, image.size())));
  }
  ByteReader whole(image);
  TC_RETURN_IF_ERROR(whole.Skip(offset));
  return whole.Sub(size);
}

// The bytes [offset, offset + size) of the image, bounds-checked.
Result<std::span<const std::uint8_t>> RangeAt(
    std::span<const std::uint8_t> image, std::size_t offset, std::size_t size,
    std::string_view what) {
  TC_ASSIGN_OR_RETURN(ByteReader r, ReaderAt(image, offset, size, what));
  return r.Rest();
}

struct SectionData {
  std::size_t index;   // in the section table
  std::size_t offset;  // PointerToRawData
  std::size_t size;    // SizeOfRawData, > 0
};

// Everything AuthenticodeHash needs, all offsets checked against the file.
struct Layout {
  PeInfo info;
  std::size_t checksum_offset = 0;
  // The certificate table's data directory entry, when
  // NumberOfRvaAndSizes > kCertificateTableDirectory.
  std::optional<std::size_t> cert_entry_offset;
  std::size_t size_of_headers = 0;
  // Sections with raw data, in ascending PointerToRawData order ([AC]
  // step 10); none overlaps another or the headers.
  std::vector<SectionData> sections;
};

Result<Layout> ParseLayout(std::span<const std::uint8_t> image) {
  Layout out;
  if (image.size() > kMaxImageSize) {
    return Fail(Malformed(fmt::format(
        "image of {} bytes exceeds kMaxImageSize ({} bytes): data past "
        "offset {}",
        image.size(), kMaxImageSize, kMaxImageSize)));
  }

  // DOS header.
  TC_ASSIGN_OR_RETURN(ByteReader dos,
                      ReaderAt(image, 0, kLfanewOffset + 4, "DOS header"));
  TC_ASSIGN_OR_RETURN(const auto mz, dos.Bytes(2));
  if (mz[0] != 'M' || mz[1] != 'Z') {
    return Fail(Malformed(fmt::format(
        "bad DOS signature {} at offset 0 (want 4d5a, \"MZ\")", ToHex(mz))));
  }
  TC_RETURN_IF_ERROR(dos.Skip(kLfanewOffset - 2));
  TC_ASSIGN_OR_RETURN(const std::uint32_t e_lfanew, dos.U32Le());

  // PE signature and COFF File Header.
  TC_ASSIGN_OR_RETURN(
      ByteReader nt,
      ReaderAt(image, e_lfanew, kPeSignatureSize + kCoffHeaderSize,
               fmt::format("PE signature and COFF header (e_lfanew at "
                           "offset {} is {})",
                           kLfanewOffset, e_lfanew)));
  TC_ASSIGN_OR_RETURN(const auto signature, nt.Bytes(kPeSignatureSize));
  if (signature[0] != 'P' || signature[1] != 'E' || signature[2] != 0 ||
      signature[3] != 0) {
    return Fail(Malformed(
        fmt::format("bad PE signature {} at offset {} (want 50450000, "
                    "\"PE\\0\\0\")",
                    ToHex(signature), e_lfanew)));
  }
  const std::size_t coff_offset = nt.offset();
  TC_ASSIGN_OR_RETURN(out.info.machine, nt.U16Le());
  TC_ASSIGN_OR_RETURN(const std::size_t number_of_sections, nt.U16Le());
  TC_RETURN_IF_ERROR(
      nt.Skip(kSizeOfOptionalHeaderOffset - kNumberOfSectionsOffset - 2));
  TC_ASSIGN_OR_RETURN(const std::size_t size_of_optional_header, nt.U16Le());
  if (number_of_sections > kMaxSections) {
    return Fail(Malformed(fmt::format(
        "NumberOfSections {} at offset {} exceeds kMaxSections ({})",
        number_of_sections, coff_offset + kNumberOfSectionsOffset,
        kMaxSections)));
  }
  out.info.sections = number_of_sections;

  // Optional header: the magic decides PE32 or PE32+.
  const std::size_t opt = coff_offset + kCoffHeaderSize;
  TC_ASSIGN_OR_RETURN(ByteReader magic_reader,
                      ReaderAt(image, opt, 2, "optional header magic"));
  TC_ASSIGN_OR_RETURN(const std::uint16_t magic, magic_reader.U16Le());
  if (magic != kPe32Magic && magic != kPe32PlusMagic) {
    return Fail(Malformed(fmt::format(
        "unknown optional header magic 0x{:x} at offset {} (want 0x10b "
        "PE32 or 0x20b PE32+)",
        magic, opt)));
  }
  out.info.pe32_plus = magic == kPe32PlusMagic;
  const std::size_t fixed_size =
      out.info.pe32_plus ? kPe32PlusFixedSize : kPe32FixedSize;
  const std::size_t rva_count_offset = out.info.pe32_plus
                                           ? kPe32PlusNumberOfRvaAndSizesOffset
                                           : kPe32NumberOfRvaAndSizesOffset;
  const std::size_t size_of_optional_header_offset =
      coff_offset + kSizeOfOptionalHeaderOffset;
  if (size_of_optional_header < fixed_size) {
    return Fail(Malformed(fmt::format(
        "SizeOfOptionalHeader {} at offset {} is smaller than the {} bytes "
        "of the {} optional header's fixed fields",
        size_of_optional_header, size_of_optional_header_offset, fixed_size,
        out.info.pe32_plus ? "PE32+" : "PE32")));
  }
  TC_ASSIGN_OR_RETURN(ByteReader fixed,
                      ReaderAt(image, opt, fixed_size, "optional header"));
  TC_RETURN_IF_ERROR(fixed.Skip(kSizeOfHeadersOffset));
  TC_ASSIGN_OR_RETURN(const std::size_t size_of_headers, fixed.U32Le());
  static_assert(kCheckSumOffset == kSizeOfHeadersOffset + 4);
  out.checksum_offset = opt + kCheckSumOffset;
  TC_RETURN_IF_ERROR(fixed.Skip(kCheckSumSize));
  TC_ASSIGN_OR_RETURN(out.info.subsystem, fixed.U16Le());
  TC_RETURN_IF_ERROR(fixed.Skip(rva_count_offset - kSubsystemOffset - 2));
  TC_ASSIGN_OR_RETURN(const std::size_t rva_count, fixed.U32Le());
  if (rva_count > kMaxDataDirectories) {
    return Fail(Malformed(fmt::format(
        "NumberOfRvaAndSizes {} at offset {} exceeds kMaxDataDirectories "
        "({})",
        rva_count, opt + rva_count_offset, kMaxDataDirectories)));
  }
  if (size_of_optional_header - fixed_size < rva_count * kDataDirectorySize) {
    return Fail(Malformed(fmt::format(
        "SizeOfOptionalHeader {} at offset {} is too small for {} data "
        "directories (needs {} bytes)",
        size_of_optional_header, size_of_optional_header_offset, rva_count,
        fixed_size + rva_count * kDataDirectorySize)));
  }

  // The certificate table directory entry. Its VirtualAddress is a file
  // offset, not an RVA ([PE] "The Attribute Certificate Table").
  std::size_t cert_offset = 0;
  std::size_t cert_size = 0;
  if (rva_count > kCertificateTableDirectory) {
    const std::size_t entry =
        opt + fixed_size + kCertificateTableDirectory * kDataDirectorySize;
    TC_ASSIGN_OR_RETURN(ByteReader dir,
                        ReaderAt(image, entry, kDataDirectorySize,
                                 "certificate table directory entry"));
    TC_ASSIGN_OR_RETURN(cert_offset, dir.U32Le());
    TC_ASSIGN_OR_RETURN(cert_size, dir.U32Le());
    out.cert_entry_offset = entry;
  }

  // Section table and SizeOfHeaders, which must cover it ([PE]: "the
  // combined size of an MS-DOS stub, PE header, and section headers").
  const std::size_t table = opt + size_of_optional_header;
  const std::size_t table_size = number_of_sections * kSectionHeaderSize;
  TC_ASSIGN_OR_RETURN(ByteReader sections,
                      ReaderAt(image, table, table_size,
                               fmt::format("section table of {} sections",
                                           number_of_sections)));
  const std::size_t size_of_headers_offset = opt + kSizeOfHeadersOffset;
  if (size_of_headers < table + table_size) {
    return Fail(Malformed(fmt::format(
        "SizeOfHeaders {} at offset {} does not cover the section table, "
        "which ends at offset {}",
        size_of_headers, size_of_headers_offset, table + table_size)));
  }
  if (size_of_headers > image.size()) {
    return Fail(Malformed(fmt::format(
        "SizeOfHeaders {} at offset {} lies past the end of the file ({} "
        "bytes)",
        size_of_headers, size_of_headers_offset, image.size())));
  }
  out.size_of_headers = size_of_headers;

  // Sections: [AC] step 9 ignores those without raw data; the others must
  // lie in the file, after the headers, and not overlap, or the hash would
  // cover bytes twice or bytes the image does not have.
  std::vector<std::string> names(number_of_sections);
  for (std::size_t i = 0; i < number_of_sections; ++i) {
    const std::size_t header = sections.offset();
    TC_ASSIGN_OR_RETURN(const auto name, sections.Bytes(kSectionNameSize));
    names[i] = PrintableAscii(name);
    TC_RETURN_IF_ERROR(sections.Skip(8));  // VirtualSize, VirtualAddress
    TC_ASSIGN_OR_RETURN(const std::size_t raw_size, sections.U32Le());
    TC_ASSIGN_OR_RETURN(const std::size_t raw_offset, sections.U32Le());
    TC_RETURN_IF_ERROR(
        sections.Skip(kSectionHeaderSize - kSectionNameSize - 8 - 8));
    if (raw_size == 0) continue;
    if (raw_offset > image.size() || raw_size > image.size() - raw_offset) {
      return Fail(Malformed(fmt::format(
          "section {} (\"{}\", header at offset {}): raw data of {} bytes at "
          "offset {} lies past the end of the file ({} bytes)",
          i, names[i], header, raw_size, raw_offset, image.size())));
    }
    if (raw_offset < size_of_headers) {
      return Fail(Malformed(fmt::format(
          "section {} (\"{}\", header at offset {}): raw data at offset {} "
          "starts inside the headers (SizeOfHeaders {})",
          i, names[i], header, raw_offset, size_of_headers)));
    }
    out.sections.push_back({i, raw_offset, raw_size});
  }
  std::stable_sort(out.sections.begin(), out.sections.end(),
                   [](const SectionData& a, const SectionData& b) {
                     return a.offset < b.offset;
                   });
  std::size_t sections_end = size_of_headers;
  for (std::size_t k = 0; k < out.sections.size(); ++k) {
    const SectionData& s = out.sections[k];
    if (k > 0) {
      const SectionData& prev = out.sections[k - 1];
      if (s.offset < prev.offset + prev.size) {
        return Fail(Malformed(fmt::format(
            "section {} (\"{}\") raw data at offset {}..{} overlaps section "
            "{} (\"{}\") at offset {}..{}",
            s.index, names[s.index], s.offset, s.offset + s.size, prev.index,
            names[prev.index], prev.offset, prev.offset + prev.size)));
      }
    }
    sections_end = s.offset + s.size;
  }

  // The attribute certificate table: last in the file ([PE] "The Attribute
  // Certificate Table"); see the header for why we insist.
  if (cert_size != 0) {
    const std::size_t entry = *out.cert_entry_offset;
    if (cert_offset > image.size() || cert_size > image.size() - cert_offset) {
      return Fail(Malformed(fmt::format(
          "certificate table of {} bytes at offset {} (directory entry at "
          "offset {}) lies past the end of the file ({} bytes)",
          cert_size, cert_offset, entry, image.size())));
    }
    if (cert_size != image.size() - cert_offset) {
      return Fail(Malformed(fmt::format(
          "certificate table of {} bytes at offset {} (directory entry at "
          "offset {}) ends at offset {}, not at the end of the file ({} "
          "bytes)",
          cert_size, cert_offset, entry, cert_offset + cert_size,
          image.size())));
    }
    if (cert_offset < sections_end) {
      return Fail(Malformed(fmt::format(
          "certificate table at offset {} (directory entry at offset {}) "
          "starts inside the headers or section data, which end at offset {}",
          cert_offset, entry, sections_end)));
    }
    out.info.has_signature = true;
    out.info.signature_offset = cert_offset;
    out.info.signature_size = cert_size;
  }
  return out;
}

}  // namespace

Result<PeInfo> ParsePe(std::span<const std::uint8_t> image) {
  TC_ASSIGN_OR_RETURN(Layout layout, ParseLayout(image));
  return layout.info;
}

Result<crypto::Digest> AuthenticodeHash(std::span<const std::uint8_t> image,
                                        crypto::HashAlg alg) {
  TC_ASSIGN_OR_RETURN(const Layout layout, ParseLayout(image));
  TC_ASSIGN_OR_RETURN(crypto::Hasher hasher, crypto::Hasher::Create(alg));

  // [AC] steps 3-7: the headers without CheckSum and, when present, the
  // certificate table directory entry. ParseLayout guarantees
  // checksum < entry < SizeOfHeaders <= file size.
  const std::size_t after_checksum = layout.checksum_offset + kCheckSumSize;
  TC_ASSIGN_OR_RETURN(auto part, RangeAt(image, 0, layout.checksum_offset,
                                         "headers before CheckSum"));
  hasher.Update(part);
  std::size_t rest_of_headers = after_checksum;
  if (layout.cert_entry_offset.has_value()) {
    const std::size_t entry = *layout.cert_entry_offset;
    TC_ASSIGN_OR_RETURN(part,
                        RangeAt(image, after_checksum, entry - after_checksum,
                                "headers before the certificate entry"));
    hasher.Update(part);
    rest_of_headers = entry + kDataDirectorySize;
  }
  TC_ASSIGN_OR_RETURN(part, RangeAt(image, rest_of_headers,
                                    layout.size_of_headers - rest_of_headers,
                                    "rest of the headers"));
  hasher.Update(part);

  // [AC] steps 8-13: each section's raw data in file order.
  std::size_t sum_of_bytes_hashed = layout.size_of_headers;
  for (const SectionData& s : layout.sections) {
    TC_ASSIGN_OR_RETURN(part, RangeAt(image, s.offset, s.size,
                                      fmt::format("section {}", s.index)));
    hasher.Update(part);
    sum_of_bytes_hashed += s.size;
  }

  // [AC] step 14: extra data, taken literally (see the header). The
  // certificate table size counts only when its directory entry exists, as
  // in EDK2. ParseLayout's checks make the subtraction safe; the test below
  // keeps it so should they ever change.
  const std::size_t cert_size = layout.info.signature_size;
  if (image.size() - cert_size < sum_of_bytes_hashed) {
    return Fail(Malformed(fmt::format(
        "headers and sections ({} bytes) plus the certificate table ({} "
        "bytes) exceed the file ({} bytes) at offset {}",
        sum_of_bytes_hashed, cert_size, image.size(), sum_of_bytes_hashed)));
  }
  const std::size_t extra = image.size() - cert_size - sum_of_bytes_hashed;
  if (extra > 0) {
    TC_ASSIGN_OR_RETURN(part, RangeAt(image, sum_of_bytes_hashed, extra,
                                      "data after the last section"));
    hasher.Update(part);
  }
  return hasher.Final();
}

}  // namespace tc::pe
