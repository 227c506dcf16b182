#include "tc/eventlog/uefi/structures.h"

#include <array>

#include <limits>
#include <utility>

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::eventlog::uefi {

std::string Guid::ToString() const {
  // Data1..Data3 are little-endian integers; Data4 is a byte array.
  // (Written out by hand: dbx lists hold hundreds of GUIDs.)
  static constexpr std::array<std::uint8_t, 16> kOrder = {3, 2, 1, 0, 5, 4, 7, 6,
                                                          8, 9, 10, 11, 12, 13, 14, 15};
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out += ToHex(std::span<const std::uint8_t>(&bytes[kOrder[i]], 1));
  }
  return out;
}

Result<Guid> ReadGuid(ByteReader& in) {
  TC_ASSIGN_OR_RETURN(auto raw, in.Bytes(16));
  Guid g;
  for (std::size_t i = 0; i < 16; ++i) g.bytes[i] = raw[i];
  return g;
}

namespace {

struct NamedGuid {
  std::string_view guid;
  std::string_view name;
};

constexpr NamedGuid kKnownGuids[] = {
    // Variable vendors (UEFI 2.10, 3.3 and 32.6.1; shim).
    {kEfiGlobalVariableGuid, "EFI_GLOBAL_VARIABLE"},
    {kEfiImageSecurityDatabaseGuid, "EFI_IMAGE_SECURITY_DATABASE_GUID"},
    {kShimLockGuid, "SHIM_LOCK_GUID"},
    // Signature types (UEFI 2.10, 32.4.1).
    {kEfiCertX509Guid, "EFI_CERT_X509_GUID"},
    {kEfiCertSha256Guid, "EFI_CERT_SHA256_GUID"},
    {"3c5766e8-269c-4e34-aa14-ed776e85b3b6", "EFI_CERT_RSA2048_GUID"},
    {"e2b36190-879b-4a3d-ad8d-f2e7bba32784", "EFI_CERT_RSA2048_SHA256_GUID"},
    {"826ca512-cf10-4ac9-b187-be01496631bd", "EFI_CERT_SHA1_GUID"},
    {"0b6e5233-a65c-44c9-9407-d9ab83bfc8bd", "EFI_CERT_SHA224_GUID"},
    {"ff3e5307-9fd0-48c9-85f1-8ad56c701e01", "EFI_CERT_SHA384_GUID"},
    {"093e0fae-a6c4-4f50-9f1b-d41e2b89c19a", "EFI_CERT_SHA512_GUID"},
    {"3bd2a492-96c0-4079-b420-fcf98ef103ed", "EFI_CERT_X509_SHA256_GUID"},
    {"7076876e-80c2-4ee6-aad2-28b349a6865b", "EFI_CERT_X509_SHA384_GUID"},
    {"446dbf63-2502-4cda-bcfa-2465d2b0fe9d", "EFI_CERT_X509_SHA512_GUID"},
    {"4aafd29d-68df-49ee-8aa9-347d375665a7", "EFI_CERT_TYPE_PKCS7_GUID"},
    // Signature owners.
    {"77fa9abd-0359-4d32-bd60-28f4e78f784b", "Microsoft"},
    // Configuration tables (UEFI 2.10, 4.6).
    {"8868e871-e4f1-11d3-bc22-0080c73c8881", "EFI_ACPI_20_TABLE_GUID"},
    {"eb9d2d30-2d88-11d3-9a16-0090273fc14d", "ACPI_TABLE_GUID"},
    {"eb9d2d31-2d88-11d3-9a16-0090273fc14d", "SMBIOS_TABLE_GUID"},
    {"f2fd1544-9794-4a2c-992e-e5bbcf20e394", "SMBIOS3_TABLE_GUID"},
    // GPT partition types (UEFI 2.10, 5.3.3; Discoverable Partitions Spec).
    {"c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System Partition"},
    {"024dee41-33e7-11d3-9d69-0008c781f39f", "MBR partition scheme"},
    {"21686148-6449-6e6f-744e-656564454649", "BIOS boot"},
    {"0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"},
    {"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap"},
    {"e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM"},
    {"a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID"},
    {"933ac7e1-2eb4-4f13-b844-0e14e2aef915", "Linux home"},
    {"4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)"},
    {"44479540-f297-41b2-9af7-d131d5f0458a", "Linux root (x86)"},
    {"b921b045-1df0-41c3-af44-4c6f280d3fae", "Linux root (ARM64)"},
    {"bc13c2ff-59e6-4262-a352-b275fd6f7172", "Linux extended boot"},
    {"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data"},
    {"e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved"},
    {"de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery"},
};

}  // namespace

std::string_view GuidName(std::string_view guid_text) {
  for (const NamedGuid& g : kKnownGuids) {
    if (g.guid == guid_text) return g.name;
  }
  return {};
}

void SetGuid(doc::Value& out, std::string_view key, const Guid& guid) {
  std::string text = guid.ToString();
  const std::string_view name = GuidName(text);
  out.Set(std::string(key), std::move(text));
  if (!name.empty()) out.Set(std::string(key) + "_name", name);
}

doc::Value U64Value(std::uint64_t v) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::to_string(v);
  }
  return static_cast<long long>(v);
}

std::string HexU64(std::uint64_t v) { return fmt::format("0x{:x}", v); }
std::string HexU32(std::uint32_t v) { return fmt::format("0x{:08x}", v); }

std::string AsciiField(std::span<const std::uint8_t> bytes) {
  if (IsPrintableAscii(bytes)) {
    while (!bytes.empty() && bytes.back() == 0) bytes = bytes.first(bytes.size() - 1);
    return std::string(bytes.begin(), bytes.end());
  }
  return PrintableAscii(bytes);
}

TextGuess GuessText(std::span<const std::uint8_t> bytes) {
  TextGuess g;
  if (IsPrintableAscii(bytes)) {
    g.ok = true;
    g.text = AsciiField(bytes);
  } else {
    // systemd-boot once measured UCS-2 strings with one byte of the
    // terminator cut off: an odd size whose last byte is NUL.
    if (bytes.size() % 2 == 1 && bytes.back() == 0) {
      bytes = bytes.first(bytes.size() - 1);
    }
    if (LooksLikeUtf16Ascii(bytes)) {
      g.ok = true;
      g.utf16 = true;
      g.text = Utf16LeToUtf8(bytes);
    }
  }
  return g;
}

void SetTextOrHex(doc::Value& out, std::span<const std::uint8_t> bytes) {
  TextGuess g = GuessText(bytes);
  if (!g.ok) {
    out.Set("hex", ToHex(bytes));
    return;
  }
  out.Set("text", std::move(g.text));
  if (g.utf16) out.Set("encoding", "utf-16le");
}

void SetHexAndText(doc::Value& out, std::span<const std::uint8_t> bytes) {
  out.Set("hex", ToHex(bytes));
  TextGuess g = GuessText(bytes);
  if (!g.ok) return;
  out.Set("text", std::move(g.text));
  if (g.utf16) out.Set("encoding", "utf-16le");
}

// ---------------------------------------------------------------------------
// GPT

namespace {
// EFI_PARTITION_TABLE_HEADER is 92 bytes (UEFI 2.10, Table 5.3.2); an
// EFI_PARTITION_ENTRY is at least 128 (UEFI 2.10, Table 5.3.3), of which the
// fixed fields take 56 and PartitionName CHAR16[36] the rest.
constexpr std::size_t kGptEntryMinSize = 128;
constexpr std::size_t kGptEntryFixedSize = 56;
constexpr std::size_t kGptEntryNameSize = 72;
}  // namespace

// UEFI_GPT_DATA (PFP 1.05, 10.2.7).
Result<void> DecodeGptData(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(auto signature, in.Bytes(8));
  out.Set("signature", AsciiField(signature));
  TC_ASSIGN_OR_RETURN(const std::uint32_t revision, in.U32Le());
  out.Set("revision", HexU32(revision));
  TC_ASSIGN_OR_RETURN(const std::uint32_t header_size, in.U32Le());
  out.Set("header_size", header_size);
  TC_ASSIGN_OR_RETURN(const std::uint32_t header_crc, in.U32Le());
  out.Set("header_crc32", HexU32(header_crc));
  TC_RETURN_IF_ERROR(in.Skip(4));  // Reserved
  TC_ASSIGN_OR_RETURN(const std::uint64_t my_lba, in.U64Le());
  out.Set("my_lba", U64Value(my_lba));
  TC_ASSIGN_OR_RETURN(const std::uint64_t alternate_lba, in.U64Le());
  out.Set("alternate_lba", U64Value(alternate_lba));
  TC_ASSIGN_OR_RETURN(const std::uint64_t first_usable, in.U64Le());
  out.Set("first_usable_lba", U64Value(first_usable));
  TC_ASSIGN_OR_RETURN(const std::uint64_t last_usable, in.U64Le());
  out.Set("last_usable_lba", U64Value(last_usable));
  TC_ASSIGN_OR_RETURN(const Guid disk_guid, ReadGuid(in));
  out.Set("disk_guid", disk_guid.ToString());
  TC_ASSIGN_OR_RETURN(const std::uint64_t entry_lba, in.U64Le());
  out.Set("partition_entry_lba", U64Value(entry_lba));
  TC_ASSIGN_OR_RETURN(const std::uint32_t entry_count, in.U32Le());
  out.Set("number_of_partition_entries", entry_count);
  TC_ASSIGN_OR_RETURN(const std::uint32_t entry_size, in.U32Le());
  out.Set("size_of_partition_entry", entry_size);
  TC_ASSIGN_OR_RETURN(const std::uint32_t array_crc, in.U32Le());
  out.Set("partition_entry_array_crc32", HexU32(array_crc));

  TC_ASSIGN_OR_RETURN(const std::uint64_t partitions, in.U64Le());
  out.Set("number_of_partitions", U64Value(partitions));
  if (partitions == 0) {
    out.Set("partitions", doc::Value::MakeArray());
    return {};
  }
  if (entry_size < kGptEntryMinSize) {
    return Fail(in.MalformedHere(
        fmt::format("partition entry size {} below {}", entry_size,
                    kGptEntryMinSize)));
  }
  doc::Value list = doc::Value::MakeArray();
  Result<void> status;
  std::uint64_t i = 0;
  for (; i < partitions && i < kMaxGptPartitions; ++i) {
    Result<ByteReader> entry_or = in.Sub(entry_size);
    if (!entry_or.has_value()) {
      status = Fail(std::move(entry_or).error());
      break;
    }
    ByteReader& entry = *entry_or;
    // The fixed fields fit: entry_size >= 128 was checked above.
    doc::Value p = doc::Value::MakeObject();
    p.Set("index", U64Value(i));
    SetGuid(p, "type_guid", ReadGuid(entry).value());
    p.Set("unique_guid", ReadGuid(entry).value().ToString());
    p.Set("starting_lba", U64Value(entry.U64Le().value()));
    p.Set("ending_lba", U64Value(entry.U64Le().value()));
    p.Set("attributes", HexU64(entry.U64Le().value()));
    p.Set("name", Utf16LeToUtf8(entry.Bytes(kGptEntryNameSize).value()));
    static_assert(kGptEntryFixedSize + kGptEntryNameSize == kGptEntryMinSize);
    list.Push(std::move(p));
  }
  out.Set("partitions", std::move(list));
  if (status.has_value() && i < partitions) out.Set("truncated", true);
  return status;
}

// ---------------------------------------------------------------------------
// Firmware blobs

// UEFI_PLATFORM_FIRMWARE_BLOB (PFP 1.05, 10.2 "UEFI_PLATFORM_FIRMWARE_BLOB
// Structure Definition"): EFI_PHYSICAL_ADDRESS BlobBase, UINT64 BlobLength.
Result<void> DecodeFirmwareBlob(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint64_t base, in.U64Le());
  out.Set("blob_base", HexU64(base));
  TC_ASSIGN_OR_RETURN(const std::uint64_t length, in.U64Le());
  out.Set("blob_length", U64Value(length));
  return {};
}

// UEFI_PLATFORM_FIRMWARE_BLOB2 (same section): UINT8 BlobDescriptionSize,
// BlobDescription[], BlobBase, BlobLength.
Result<void> DecodeFirmwareBlob2(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint8_t size, in.U8());
  TC_ASSIGN_OR_RETURN(auto description, in.Bytes(size));
  out.Set("blob_description", AsciiField(description));
  return DecodeFirmwareBlob(in, out);
}

// ---------------------------------------------------------------------------
// Handoff tables

namespace {
Result<void> DecodeConfigurationTables(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint64_t count, in.U64Le());
  out.Set("number_of_tables", U64Value(count));
  doc::Value list = doc::Value::MakeArray();
  Result<void> status;
  std::uint64_t i = 0;
  // EFI_CONFIGURATION_TABLE (UEFI 2.10, 4.6): EFI_GUID VendorGuid, VOID*
  // VendorTable (64-bit in the log).
  for (; i < count && i < kMaxHandoffTables; ++i) {
    Result<Guid> guid = ReadGuid(in);
    if (!guid.has_value()) {
      status = Fail(std::move(guid).error());
      break;
    }
    Result<std::uint64_t> table = in.U64Le();
    if (!table.has_value()) {
      status = Fail(std::move(table).error());
      break;
    }
    doc::Value t = doc::Value::MakeObject();
    SetGuid(t, "vendor_guid", *guid);
    t.Set("vendor_table", HexU64(*table));
    list.Push(std::move(t));
  }
  out.Set("tables", std::move(list));
  if (status.has_value() && i < count) out.Set("truncated", true);
  return status;
}
}  // namespace

// UEFI_HANDOFF_TABLE_POINTERS (PFP 1.05, 10.2 "UEFI_HANDOFF_TABLE_POINTERS
// Structure Definition"): UINT64 NumberOfTables, EFI_CONFIGURATION_TABLE[].
Result<void> DecodeHandoffTables(ByteReader& in, doc::Value& out) {
  return DecodeConfigurationTables(in, out);
}

// UEFI_HANDOFF_TABLE_POINTERS2 (same section): UINT8 TableDescriptionSize,
// TableDescription[], then as above.
Result<void> DecodeHandoffTables2(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint8_t size, in.U8());
  TC_ASSIGN_OR_RETURN(auto description, in.Bytes(size));
  out.Set("table_description", AsciiField(description));
  return DecodeConfigurationTables(in, out);
}

// ---------------------------------------------------------------------------
// EV_EVENT_TAG

// TCG_PCClientTaggedEvent (PFP 1.05, 10.4.2 "EV_EVENT_TAG"): UINT32
// taggedEventID, UINT32 taggedEventDataSize, taggedEventData[].
Result<void> DecodeTaggedEvent(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint32_t id, in.U32Le());
  out.Set("tagged_event_id", HexU32(id));
  TC_ASSIGN_OR_RETURN(auto data, in.SizedBytesU32Le(in.remaining()));
  out.Set("tagged_event_data_size", data.size());
  SetTextOrHex(out, data);
  return {};
}

// ---------------------------------------------------------------------------
// EV_NO_ACTION

namespace {

constexpr std::size_t kSignatureSize = 16;

// TCG_EfiSpecIDEventStruct (PFP 1.05, 10.4.5.1 "Specification ID Version
// Event"), after its 16-byte signature.
Result<void> DecodeSpecId03(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint32_t platform_class, in.U32Le());
  out.Set("platform_class", platform_class);
  TC_ASSIGN_OR_RETURN(const std::uint8_t minor, in.U8());
  out.Set("spec_version_minor", minor);
  TC_ASSIGN_OR_RETURN(const std::uint8_t major, in.U8());
  out.Set("spec_version_major", major);
  TC_ASSIGN_OR_RETURN(const std::uint8_t errata, in.U8());
  out.Set("spec_errata", errata);
  TC_ASSIGN_OR_RETURN(const std::uint8_t uintn_size, in.U8());
  out.Set("uintn_size", uintn_size);
  TC_ASSIGN_OR_RETURN(const std::uint32_t count, in.U32Le());
  out.Set("number_of_algorithms", count);
  if (count > kMaxSpecIdAlgorithms) {
    return Fail(in.MalformedHere(fmt::format(
        "{} algorithms exceed the limit of {}", count, kMaxSpecIdAlgorithms)));
  }
  doc::Value algs = doc::Value::MakeArray();
  Result<void> status;
  for (std::uint32_t i = 0; i < count; ++i) {
    Result<std::uint16_t> id = in.U16Le();
    if (!id.has_value()) {
      status = Fail(std::move(id).error());
      break;
    }
    Result<std::uint16_t> size = in.U16Le();
    if (!size.has_value()) {
      status = Fail(std::move(size).error());
      break;
    }
    doc::Value a = doc::Value::MakeObject();
    a.Set("algorithm_id", fmt::format("0x{:04x}", *id));
    const std::optional<crypto::HashAlg> alg = crypto::HashAlgFromTpmId(*id);
    if (alg.has_value()) a.Set("algorithm", crypto::HashAlgName(*alg));
    a.Set("digest_size", *size);
    algs.Push(std::move(a));
  }
  out.Set("algorithms", std::move(algs));
  TC_RETURN_IF_ERROR(status);
  TC_ASSIGN_OR_RETURN(const std::uint8_t vendor_size, in.U8());
  out.Set("vendor_info_size", vendor_size);
  TC_ASSIGN_OR_RETURN(auto vendor, in.Bytes(vendor_size));
  out.Set("vendor_info", ToHex(vendor));
  return {};
}

Result<std::string> ReadSizedU8String(ByteReader& in) {
  TC_ASSIGN_OR_RETURN(const std::uint8_t size, in.U8());
  TC_ASSIGN_OR_RETURN(auto bytes, in.Bytes(size));
  return AsciiField(bytes);
}

Result<void> DecodeLocator(ByteReader& in, doc::Value& out,
                           std::string_view name) {
  TC_ASSIGN_OR_RETURN(const std::uint32_t type, in.U32Le());
  out.Set(std::string(name) + "_type", type);
  TC_ASSIGN_OR_RETURN(auto locator, in.SizedBytesU32Le(in.remaining()));
  doc::Value v = doc::Value::MakeObject();
  SetHexAndText(v, locator);
  out.Set(std::string(name), std::move(v));
  return {};
}

// TCG_Sp800_155_PlatformId_Event2 / Event3 (PFP 1.05, 10.4.5.2 and the
// Reference Integrity Manifest spec), after the 16-byte signature.
Result<void> DecodeSp800155(ByteReader& in, doc::Value& out, bool event3) {
  TC_ASSIGN_OR_RETURN(const std::uint32_t manufacturer_id, in.U32Le());
  out.Set("platform_manufacturer_id", manufacturer_id);
  TC_ASSIGN_OR_RETURN(const Guid manifest, ReadGuid(in));
  out.Set("reference_manifest_guid", manifest.ToString());
  TC_ASSIGN_OR_RETURN(std::string manufacturer, ReadSizedU8String(in));
  out.Set("platform_manufacturer_str", std::move(manufacturer));
  TC_ASSIGN_OR_RETURN(std::string model, ReadSizedU8String(in));
  out.Set("platform_model", std::move(model));
  TC_ASSIGN_OR_RETURN(std::string version, ReadSizedU8String(in));
  out.Set("platform_version", std::move(version));
  TC_ASSIGN_OR_RETURN(std::string fw_manufacturer, ReadSizedU8String(in));
  out.Set("firmware_manufacturer_str", std::move(fw_manufacturer));
  TC_ASSIGN_OR_RETURN(const std::uint32_t fw_manufacturer_id, in.U32Le());
  out.Set("firmware_manufacturer_id", fw_manufacturer_id);
  TC_ASSIGN_OR_RETURN(std::string fw_version, ReadSizedU8String(in));
  out.Set("firmware_version", std::move(fw_version));
  if (!event3) return {};
  TC_RETURN_IF_ERROR(DecodeLocator(in, out, "rim_locator"));
  TC_RETURN_IF_ERROR(DecodeLocator(in, out, "platform_cert_locator"));
  return {};
}

}  // namespace

Result<void> DecodeNoAction(ByteReader& in, doc::Value& out) {
  Result<std::span<const std::uint8_t>> sig_or = in.Peek(kSignatureSize);
  if (!sig_or.has_value()) {
    SetHexAndText(out, in.Rest());
    return {};
  }
  std::span<const std::uint8_t> sig = *sig_or;
  // The signature is text up to its first NUL (or all 16 bytes).
  std::size_t len = 0;
  while (len < sig.size() && sig[len] != 0) ++len;
  const std::string text(sig.begin(), sig.begin() + static_cast<std::ptrdiff_t>(len));

  enum class Kind {
    kUnknown, kSpecId03, kSpecId00, kStartupLocality, kSp800155,
    kSp800155Event3, kOpaque,
  };
  Kind kind = Kind::kUnknown;
  if (text == "Spec ID Event03") {
    kind = Kind::kSpecId03;
  } else if (text == "Spec ID Event00" || text == "Spec ID Event02") {
    kind = Kind::kSpecId00;
  } else if (text == "StartupLocality") {
    kind = Kind::kStartupLocality;
  } else if (text == "SP800-155 Event3") {
    kind = Kind::kSp800155Event3;
  } else if (text == "SP800-155 Event") {
    kind = Kind::kSp800155;
  } else if (text == "H-CRTM CompMeas" || text == "NvIndexInstance" ||
             text == "NvIndexDynamic") {
    kind = Kind::kOpaque;
  }
  if (kind == Kind::kUnknown) {
    SetHexAndText(out, in.Rest());
    return {};
  }
  TC_RETURN_IF_ERROR(in.Skip(kSignatureSize));
  out.Set("signature", text);
  switch (kind) {
    case Kind::kSpecId03:
      return DecodeSpecId03(in, out);
    case Kind::kStartupLocality: {
      // PFP 1.05, 10.4.5.3 "Startup Locality Event": UINT8 StartupLocality.
      TC_ASSIGN_OR_RETURN(const std::uint8_t locality, in.U8());
      out.Set("startup_locality", locality);
      return {};
    }
    case Kind::kSp800155:
      return DecodeSp800155(in, out, /*event3=*/false);
    case Kind::kSp800155Event3:
      return DecodeSp800155(in, out, /*event3=*/true);
    case Kind::kSpecId00:
    case Kind::kOpaque:
    case Kind::kUnknown:
      break;
  }
  out.Set("hex", ToHex(in.Rest()));
  return {};
}

}  // namespace tc::eventlog::uefi
