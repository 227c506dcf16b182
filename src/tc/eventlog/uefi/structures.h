#pragma once

// Small UEFI and TCG structures found in firmware event data, decoded into a
// doc::Value for people and machines: EFI_GUID, GPT, firmware blobs, handoff
// tables, and the EV_NO_ACTION payloads (Spec ID, StartupLocality,
// SP800-155, H-CRTM).
//
// Trust: everything here reads unverified event data (see event.h). Nothing
// decoded may be acted on; it is for display and for policy matching after
// replay.
//
// The Decode* functions share one contract: they read `in` (whose offsets
// are those of the event data), append members to `out` (an object) as they
// go, and on malformed input return kMalformed naming the offset, leaving in
// `out` whatever was decoded before the failure. They never read past `in`,
// never reserve memory from a count in the input, and bound every list.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tc/base/byte_reader.h"
#include "tc/base/error.h"
#include "tc/doc/value.h"

namespace tc::eventlog::uefi {

// Caps on lists decoded from untrusted counts.
inline constexpr std::size_t kMaxGptPartitions = 4096;
inline constexpr std::size_t kMaxHandoffTables = 4096;
inline constexpr std::size_t kMaxSpecIdAlgorithms = 64;

// EFI_GUID (UEFI 2.10, Appendix A): UINT32 Data1, UINT16 Data2, UINT16 Data3
// little-endian, then UINT8 Data4[8] in order.
struct Guid {
  std::array<std::uint8_t, 16> bytes{};

  // "8be4df61-93ca-11d2-aa0d-00e098032b8c" (lowercase).
  std::string ToString() const;
  friend bool operator==(const Guid& a, const Guid& b) = default;
};

[[nodiscard]] Result<Guid> ReadGuid(ByteReader& in);

// Well-known GUIDs, as text.
inline constexpr std::string_view kEfiGlobalVariableGuid =
    "8be4df61-93ca-11d2-aa0d-00e098032b8c";
inline constexpr std::string_view kEfiImageSecurityDatabaseGuid =
    "d719b2cb-3d3a-4596-a3bc-dad00e67656f";
inline constexpr std::string_view kShimLockGuid =
    "605dab50-e046-4300-abb6-3dd810dd8b23";
inline constexpr std::string_view kEfiCertX509Guid =
    "a5c059a1-94e4-4aa7-87b5-ab155c2bf072";
inline constexpr std::string_view kEfiCertSha256Guid =
    "c1c41626-504c-4092-aca9-41f936934328";

// A short snake_case name for a GUID we know (variable vendors, signature
// types, configuration tables, GPT partition types, signature owners), or
// "" when unknown.
std::string_view GuidName(std::string_view guid_text);

// Adds "<key>": guid text and, when known, "<key>_name": its name.
void SetGuid(doc::Value& out, std::string_view key, const Guid& guid);

// Integers for doc::Value: values above INT64_MAX become decimal strings so
// that nothing wraps negative.
doc::Value U64Value(std::uint64_t v);
// "0x" + lowercase hex, no padding ("0x0", "0xffe00000").
std::string HexU64(std::uint64_t v);
// "0x%08x".
std::string HexU32(std::uint32_t v);

// The text of bytes that are printable ASCII (trailing NULs dropped) or
// UTF-16LE text of printable ASCII; `ok` is false otherwise. `utf16` tells
// which encoding matched.
struct TextGuess {
  bool ok = false;
  bool utf16 = false;
  std::string text;
};
TextGuess GuessText(std::span<const std::uint8_t> bytes);

// A fixed-size ASCII field (a description or a name) for display: trailing
// NULs dropped; non-printable bytes escaped as by PrintableAscii.
std::string AsciiField(std::span<const std::uint8_t> bytes);

// For string events: {"text": ...} (plus "encoding": "utf-16le" for UCS-2
// text) when the bytes are text, else {"hex": ...}.
void SetTextOrHex(doc::Value& out, std::span<const std::uint8_t> bytes);
// For opaque data: always {"hex": ...}, plus "text" (and "encoding") when
// the bytes are text.
void SetHexAndText(doc::Value& out, std::span<const std::uint8_t> bytes);

// UEFI_GPT_DATA (PFP 1.05, 10.2.7): EFI_PARTITION_TABLE_HEADER (UEFI 2.10,
// 5.3.2), UINT64 NumberOfPartitions, EFI_PARTITION_ENTRY[] (UEFI 2.10,
// 5.3.3). Members: signature, revision, header_size, header_crc32,
// my_lba, alternate_lba, first_usable_lba, last_usable_lba, disk_guid,
// partition_entry_lba, number_of_partition_entries, size_of_partition_entry,
// partition_entry_array_crc32, number_of_partitions, partitions[] (index,
// type_guid, type_guid_name?, unique_guid, starting_lba, ending_lba,
// attributes, name), truncated?.
[[nodiscard]] Result<void> DecodeGptData(ByteReader& in, doc::Value& out);

// UEFI_PLATFORM_FIRMWARE_BLOB (PFP 1.05, 10.2 "UEFI_PLATFORM_FIRMWARE_BLOB
// Structure Definition"): base, length.
[[nodiscard]] Result<void> DecodeFirmwareBlob(ByteReader& in, doc::Value& out);
// UEFI_PLATFORM_FIRMWARE_BLOB2 (PFP 1.05, same section): description,
// base, length.
[[nodiscard]] Result<void> DecodeFirmwareBlob2(ByteReader& in,
                                               doc::Value& out);

// UEFI_HANDOFF_TABLE_POINTERS (PFP 1.05, 10.2 "UEFI_HANDOFF_TABLE_POINTERS
// Structure Definition"; entries are EFI_CONFIGURATION_TABLE, UEFI 2.10
// 4.6): number_of_tables,
// tables[] (vendor_guid, vendor_guid_name?, vendor_table), truncated?.
[[nodiscard]] Result<void> DecodeHandoffTables(ByteReader& in,
                                               doc::Value& out);
// UEFI_HANDOFF_TABLE_POINTERS2 (PFP 1.05, same section): description, then
// as above.
[[nodiscard]] Result<void> DecodeHandoffTables2(ByteReader& in,
                                                doc::Value& out);

// TCG_PCClientTaggedEvent (PFP 1.05, 10.4.2 "EV_EVENT_TAG"): tagged_event_id,
// tagged_event_data_size, then text (+encoding) or hex of the data.
[[nodiscard]] Result<void> DecodeTaggedEvent(ByteReader& in, doc::Value& out);

// The payload of an EV_NO_ACTION event, chosen by its 16-byte signature
// (PFP 1.05, 10.4.5): "signature" first, then per kind:
//   Spec ID Event03: platform_class, spec_version_minor, spec_version_major,
//     spec_errata, uintn_size, number_of_algorithms, algorithms[]
//     (algorithm_id, algorithm, digest_size), vendor_info_size, vendor_info.
//   Spec ID Event00: hex of the rest.
//   StartupLocality: startup_locality.
//   SP800-155 Event / Event3: platform_manufacturer_id,
//     reference_manifest_guid, platform_manufacturer_str, platform_model,
//     platform_version, firmware_manufacturer_str, firmware_manufacturer_id,
//     firmware_version, and for Event3 rim_locator_type, rim_locator,
//     platform_cert_locator_type, platform_cert_locator.
//   H-CRTM CompMeas: hex of the rest.
//   NvIndexInstance / NvIndexDynamic: hex of the rest.
// Unknown signatures give hex of the whole data. Fails only on malformed
// data of a known kind.
[[nodiscard]] Result<void> DecodeNoAction(ByteReader& in, doc::Value& out);

}  // namespace tc::eventlog::uefi
