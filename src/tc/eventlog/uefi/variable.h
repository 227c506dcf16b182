#pragma once

// UEFI variables as measured into event logs: UEFI_VARIABLE_DATA (PFP 1.05,
// 10.2.6) and the contents we know by name: Secure Boot modes, signature
// databases (EFI_SIGNATURE_LIST, UEFI 2.10, 32.4.1), BootOrder and
// EFI_LOAD_OPTION (UEFI 2.10, 3.1.3).
//
// Trust: everything here reads unverified event data (see event.h), and the
// decoded certificates are not checked in any way. The Decode* functions
// follow the contract of structures.h: append members to `out`, and on
// malformed input return kMalformed ("<what> at offset N", offsets those of
// `in`), leaving what was decoded so far in `out`.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tc/base/byte_reader.h"
#include "tc/base/error.h"
#include "tc/doc/value.h"
#include "tc/eventlog/uefi/structures.h"

namespace tc::eventlog::uefi {

// At most this many signatures are decoded per variable (over all its
// lists), and this many BootOrder entries.
inline constexpr std::size_t kMaxSignatureEntries = 4096;
inline constexpr std::size_t kMaxBootOrderEntries = 4096;

// The header of UEFI_VARIABLE_DATA (PFP 1.05, 10.2.6): EFI_GUID
// VariableName, UINT64 UnicodeNameLength (CHAR16 units), UINT64
// VariableDataLength, CHAR16 UnicodeName[], INT8 VariableData[].
struct VariableData {
  Guid guid;
  std::string name;                    // UTF-8; stops at a NUL
  std::span<const std::uint8_t> data;  // points into the reader's buffer
  std::size_t data_offset = 0;         // of `data`, in the reader's frame
  std::size_t trailing_bytes = 0;      // after VariableData, ignored
};

// Reads UEFI_VARIABLE_DATA; consumes the whole reader. Fails with
// kMalformed when a length runs past the end.
[[nodiscard]] Result<VariableData> ReadVariableData(ByteReader& in);

// Decodes UEFI_VARIABLE_DATA and its content. Members: guid, guid_name?,
// name, data_size, trailing_bytes?, then by variable:
//   SecureBoot, SetupMode, AuditMode, DeployedMode, MokListTrusted, ... (one
//     byte): value.
//   PK, KEK, db, dbx, dbt, dbr, MokList, MokListX: as DecodeSignatureLists.
//   BootOrder: boot_order ["0001", ...]; BootNext/BootCurrent: value "0001".
//   Boot####, Driver####, SysPrep####, PlatformRecovery####: load_option
//     (see DecodeLoadOption).
//   otherwise: hex, plus text (and encoding) when the data is text.
// With `authority` (EV_EFI_VARIABLE_AUTHORITY, PFP 1.05, 10.4.1) the data
// is what verified an image: one EFI_SIGNATURE_DATA gives signature {owner,
// owner_name?, x509 | sha256 | data}; a bare DER certificate gives x509; a
// signature list as above; else hex/text.
[[nodiscard]] Result<void> DecodeVariable(ByteReader& in, bool authority,
                                          doc::Value& out);

// EFI_SIGNATURE_LIST[] until the reader is empty. Members:
// signature_lists[] {signature_type, signature_type_name?, list_size,
// header_size, signature_size, signatures[] {owner, owner_name?, then x509
// | sha256 | data}}, certificate_count, hash_count, other_count,
// truncated?. An x509 entry is {subject, issuer, serial, not_before,
// not_after, sha256} or {error, sha256} when it does not parse.
[[nodiscard]] Result<void> DecodeSignatureLists(ByteReader& in,
                                                doc::Value& out);

// EFI_LOAD_OPTION (UEFI 2.10, 3.1.3): attributes, active,
// file_path_list_length, description, device_path, file?,
// device_path_error?, optional_data (hex), optional_data_text? (and
// optional_data_encoding).
[[nodiscard]] Result<void> DecodeLoadOption(ByteReader& in, doc::Value& out);

// The x509 object described above, for DER bytes.
doc::Value DescribeCertificate(std::span<const std::uint8_t> der);

}  // namespace tc::eventlog::uefi
