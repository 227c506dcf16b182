#pragma once

// Event data of TCG PC Client firmware logs decoded into structured fields
// (PFP spec 1.05, 10.2 and 10.4; UEFI 2.10), for people and machines.
//
// Trust: the input is the unverified data of a RawEvent, and the type and
// PCR it is decoded by are unverified too (see event.h). The result is
// unverified content: display it, or match it in policy after Replay(), but
// never act on it as if proven.
//
// Both functions are pure and thread-safe. Memory is bounded by the input:
// every decoded list is capped (kMaxDevicePathNodes, kMaxSignatureEntries,
// kMaxGptPartitions, kMaxHandoffTables) and says "truncated": true when cut.
//
// The member names below are a public interface (JSON and YAML output):
// lowercase snake_case, stable. Hex is lowercase, except inside UEFI
// device path text, which follows the UEFI shell's rendering ("0xFFFF").
// Members marked "?" appear only when they apply. Integers above 2^63-1
// appear as decimal strings; memory addresses as "0x..." strings.
//
// By event type:
//   EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_VARIABLE_BOOT, EV_EFI_VARIABLE_BOOT2,
//   EV_EFI_VARIABLE_AUTHORITY: uefi::DecodeVariable (uefi/variable.h):
//     guid, guid_name?, name, data_size, then value | boot_order |
//     load_option | signature_lists,certificate_count,hash_count,
//     other_count | signature | x509 | hex,text?.
//   EV_EFI_BOOT_SERVICES_APPLICATION, EV_EFI_BOOT_SERVICES_DRIVER,
//   EV_EFI_RUNTIME_SERVICES_DRIVER (UEFI_IMAGE_LOAD_EVENT, PFP 10.2.3):
//     image_base, image_length, link_time_address, device_path_length,
//     device_path, file?.
//   EV_EFI_GPT_EVENT, EV_EFI_GPT_EVENT2: uefi::DecodeGptData.
//   EV_EFI_PLATFORM_FIRMWARE_BLOB (and 16-byte binary EV_POST_CODE):
//     blob_base, blob_length.
//   EV_EFI_PLATFORM_FIRMWARE_BLOB2, EV_POST_CODE2: blob_description,
//     blob_base, blob_length.
//   EV_EFI_HANDOFF_TABLES: number_of_tables, tables[] {vendor_guid,
//     vendor_guid_name?, vendor_table}; EV_EFI_HANDOFF_TABLES2 adds
//     table_description first.
//   EV_SEPARATOR: value ("0x00000000"), error? (true for 0xffffffff).
//   EV_NO_ACTION: uefi::DecodeNoAction (signature, ...).
//   EV_EVENT_TAG: tagged_event_id, tagged_event_data_size, text | hex; or a
//     plain string.
//   EV_S_CRTM_VERSION: text, or guid (16 binary bytes), or hex.
//   EV_IPL, EV_EFI_ACTION, EV_ACTION, EV_POST_CODE, EV_EFI_HCRTM_EVENT,
//   EV_OMIT_BOOT_DEVICE_EVENTS, EV_IPL_PARTITION_DATA, EV_COMPACT_HASH,
//   EV_NONHOST_INFO, EV_PLATFORM_CONFIG_FLAGS, EV_TABLE_OF_DEVICES:
//     text (+ encoding: "utf-16le" for UCS-2 text) when the data is text,
//     else hex.
//   Anything else: hex, plus text (and encoding) when the data is text.
// Structured decoders add trailing_bytes when data follows the structure.
// When data does not parse as its type expects, whatever was decoded is kept
// and decode_error ("<what> at offset N", N relative to the event data) and
// hex (of the whole event data) are added.

#include <cstdint>
#include <span>
#include <string>

#include "tc/doc/value.h"

namespace tc::eventlog {

// Summaries are cut to this many bytes (ending in "...").
inline constexpr std::size_t kMaxSummarySize = 200;

// Decodes the data of one event into structured fields. Never fails: see
// above for the members per type.
doc::Value DecodeEventData(std::uint32_t type, std::uint32_t pcr,
                           std::span<const std::uint8_t> data);

// One line for a table, e.g. "BootOrder = 0001,0000,0002",
// "PciRoot(0x0)/Pci(0x1,0x1)/.../\EFI\BOOT\BOOTX64.EFI", "grub_cmd: linux
// ...", "SecureBoot = 1", "db: 4 certificates, 0 hashes". Control characters
// become spaces; at most kMaxSummarySize bytes of UTF-8.
std::string SummarizeEventData(std::uint32_t type, std::uint32_t pcr,
                               std::span<const std::uint8_t> data);

// The same line from a result of DecodeEventData(type, ...), for callers
// that already decoded the event.
std::string SummarizeDecodedEvent(std::uint32_t type,
                                  const doc::Value& decoded);

}  // namespace tc::eventlog
