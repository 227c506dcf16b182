#pragma once

// PE/COFF headers and the Authenticode image hash of EFI binaries.
//
// UEFI firmware measures every EFI application it starts (boot managers,
// shim, GRUB, systemd-boot, kernels with an EFI stub, unified kernel images)
// into PCR 4 as an EV_EFI_BOOT_SERVICES_APPLICATION event whose digest is
// the Authenticode hash of the image file, not a plain hash of the file.
// AuthenticodeHash() computes that value so a verifier can compare the
// event log against the binaries it expects.
//
// Specifications:
//   [PE]   Microsoft "PE Format" (PE/COFF), sections "MS-DOS Stub",
//          "Signature", "COFF File Header", "Optional Header" (standard and
//          Windows-specific fields, data directories), "Section Table",
//          "The Attribute Certificate Table (Image Only)".
//   [AC]   Microsoft "Windows Authenticode Portable Executable Signature
//          Format" 1.0, "Calculating the PE Image Hash" (steps 1-15).
//   [UEFI] UEFI Specification 2.10, 32.2 "UEFI Image Validation" (images
//          are identified by this same Authenticode PE image hash, e.g. in
//          db/dbx as EFI_CERT_SHA256_GUID entries); TCG PC Client Platform
//          Firmware Profile, PCR[4] and EV_EFI_BOOT_SERVICES_APPLICATION.
//
// Trust: the image is hostile. It is read only through bounds-checked
// ByteReaders; every failure is kMalformed and names a byte offset and what
// is wrong there. Neither function keeps the span past the call. Both are
// thread-safe (no shared state).
//
// What is checked beyond [AC] (where [AC] is silent or a quirk would hash
// bytes that are not what the headers describe), each a kMalformed error:
//   - the file is at most kMaxImageSize bytes and starts with "MZ";
//   - e_lfanew points inside the file at "PE\0\0";
//   - the optional header magic is 0x10b (PE32) or 0x20b (PE32+),
//     NumberOfRvaAndSizes <= kMaxDataDirectories and SizeOfOptionalHeader
//     holds the fixed fields and every directory entry;
//   - NumberOfSections <= kMaxSections;
//   - SizeOfHeaders covers the section table and lies inside the file;
//   - every section with raw data lies inside the file, after the headers,
//     and overlaps no other section (the error names both section indices
//     and their offsets);
//   - a certificate table (data directory 4 with a non-zero size) starts
//     at or after the end of the headers and of every section and ends
//     exactly at the end of the file. [PE] requires it to be last, and the
//     length formula of [AC] step 14 (file size - certificate table size -
//     bytes hashed) is only meaningful then; instead of hashing what that
//     formula would pick for a misplaced table, we reject the image.
// Fields that do not affect the hash (CheckSum, Machine, Subsystem,
// alignment, virtual addresses) are reported but not validated.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"

namespace tc::pe {

// Caps on a hostile image, named for the errors that cite them.
// Larger than any EFI binary we know of (kernels and UKIs are tens of MiB).
inline constexpr std::size_t kMaxImageSize = std::size_t{1} << 30;  // 1 GiB
// [PE] COFF File Header, NumberOfSections: "the Windows loader limits the
// number of sections to 96".
inline constexpr std::size_t kMaxSections = 96;
// [PE] Optional Header Data Directories: 16 are defined; EDK2's loader also
// rejects more.
inline constexpr std::size_t kMaxDataDirectories = 16;

// Index of the Certificate Table in the data directories ([PE] "Optional
// Header Data Directories"); its VirtualAddress is a file offset.
inline constexpr std::size_t kCertificateTableDirectory = 4;

// What ParsePe learned from the headers. Nothing here is verified: a
// signature being present says nothing about its validity.
struct PeInfo {
  bool pe32_plus = false;            // optional header magic 0x20b (else 0x10b)
  std::uint16_t machine = 0;         // COFF Machine, e.g. 0x8664 (x64), 0xaa64
  std::uint16_t subsystem = 0;       // e.g. 10 = EFI application
  std::size_t sections = 0;          // NumberOfSections
  bool has_signature = false;        // certificate table with a non-zero size
  std::size_t signature_offset = 0;  // file offset of the certificate table
  std::size_t signature_size = 0;    // its size in bytes (0 when absent)
};

// Parses and checks the headers: the DOS header's e_lfanew, the "PE\0\0"
// signature, the COFF header, the optional header (PE32 or PE32+) with its
// data directories including the certificate table (index 4), and the
// section table, with every check listed above. Errors: kMalformed.
[[nodiscard]] Result<PeInfo> ParsePe(std::span<const std::uint8_t> image);

// The Authenticode image hash per [AC] "Calculating the PE Image Hash":
//   1. the headers from offset 0 up to the optional header's CheckSum,
//      skipping the 4-byte CheckSum;
//   2. then up to the certificate table directory entry, skipping its 8
//      bytes (when NumberOfRvaAndSizes < 5 there is no such entry and
//      nothing is skipped);
//   3. then the rest of the headers up to SizeOfHeaders;
//   4. each section's SizeOfRawData bytes at PointerToRawData, in
//      ascending order of PointerToRawData (sections with SizeOfRawData 0
//      are skipped);
//   5. when bytes remain, file size - (certificate table size +
//      SUM_OF_BYTES_HASHED) bytes starting at file offset
//      SUM_OF_BYTES_HASHED, where SUM_OF_BYTES_HASHED is SizeOfHeaders plus
//      every section's SizeOfRawData. This is [AC] step 14 to the letter,
//      as EDK2's DxeTpm2MeasureBootLib computes it, so the result matches what
//      firmware extends into PCR 4. When the sections follow the headers
//      without gaps (every image we know), these are exactly the bytes
//      after the last section up to the certificate table; if there are
//      gaps, tools that hash "from the end of the last section" (pesign,
//      sbsigntools) can differ from the firmware and from us.
// Errors: kMalformed (as ParsePe); kUnsupported when this OpenSSL lacks
// alg.
[[nodiscard]] Result<crypto::Digest> AuthenticodeHash(
    std::span<const std::uint8_t> image, crypto::HashAlg alg);

}  // namespace tc::pe
