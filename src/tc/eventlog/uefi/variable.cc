#include "tc/eventlog/uefi/variable.h"

#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/crypto/x509.h"
#include "tc/eventlog/uefi/device_path.h"

namespace tc::eventlog::uefi {
namespace {

// EFI_SIGNATURE_LIST header: SignatureType, SignatureListSize,
// SignatureHeaderSize, SignatureSize (UEFI 2.10, 32.4.1).
constexpr std::size_t kSignatureListHeaderSize = 16 + 4 + 4 + 4;
// EFI_SIGNATURE_DATA starts with its SignatureOwner GUID.
constexpr std::size_t kSignatureOwnerSize = 16;

bool IsHashType(std::string_view type) {
  const std::string_view name = GuidName(type);
  return name.starts_with("EFI_CERT_SHA") ||
         name.starts_with("EFI_CERT_X509_SHA");
}

// True for "Boot####" style names: prefix then exactly four uppercase hex
// digits (UEFI 2.10, 3.3).
bool IsNumberedName(std::string_view name, std::string_view prefix) {
  if (name.size() != prefix.size() + 4 || !name.starts_with(prefix)) {
    return false;
  }
  for (char c : name.substr(prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool IsLoadOptionName(std::string_view name) {
  return IsNumberedName(name, "Boot") || IsNumberedName(name, "Driver") ||
         IsNumberedName(name, "SysPrep") ||
         IsNumberedName(name, "PlatformRecovery");
}

struct Counts {
  std::size_t entries = 0;
  std::size_t certificates = 0;
  std::size_t hashes = 0;
  std::size_t other = 0;
};

// EFI_SIGNATURE_DATA (UEFI 2.10, 32.4.1): EFI_GUID SignatureOwner, UINT8
// SignatureData[]. `type` is the list's SignatureType.
doc::Value DescribeSignatureData(const Guid& owner, std::string_view type,
                                 std::span<const std::uint8_t> data,
                                 Counts& counts) {
  doc::Value s = doc::Value::MakeObject();
  SetGuid(s, "owner", owner);
  if (type == kEfiCertX509Guid) {
    s.Set("x509", DescribeCertificate(data));
    ++counts.certificates;
  } else if (type == kEfiCertSha256Guid && data.size() == 32) {
    s.Set("sha256", ToHex(data));
    ++counts.hashes;
  } else {
    s.Set("data", ToHex(data));
    if (IsHashType(type)) {
      ++counts.hashes;
    } else {
      ++counts.other;
    }
  }
  return s;
}

Result<void> DecodeOneList(ByteReader& in, doc::Value& lists, Counts& counts,
                           bool& truncated) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(const Guid type_guid, ReadGuid(in));
  TC_ASSIGN_OR_RETURN(const std::uint32_t list_size, in.U32Le());
  TC_ASSIGN_OR_RETURN(const std::uint32_t header_size, in.U32Le());
  TC_ASSIGN_OR_RETURN(const std::uint32_t sig_size, in.U32Le());
  const auto malformed = [at](std::string what) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{} in the signature list at offset {}", what, at));
  };
  if (list_size < kSignatureListHeaderSize) {
    return malformed(fmt::format("list size {} below {}", list_size,
                                 kSignatureListHeaderSize));
  }
  const std::size_t body_size = list_size - kSignatureListHeaderSize;
  if (body_size > in.remaining()) {
    return malformed(fmt::format("list size {} runs past the end", list_size));
  }
  if (header_size > body_size) {
    return malformed(fmt::format("header size {} exceeds the list size {}",
                                 header_size, list_size));
  }
  const std::size_t entries_size = body_size - header_size;
  if (sig_size < kSignatureOwnerSize) {
    return malformed(fmt::format("signature size {} below {}", sig_size,
                                 kSignatureOwnerSize));
  }
  if (entries_size % sig_size != 0) {
    return malformed(fmt::format(
        "signatures of {} bytes do not divide the list's {} bytes", sig_size,
        entries_size));
  }
  TC_ASSIGN_OR_RETURN(ByteReader body, in.Sub(body_size));

  const std::string type = type_guid.ToString();
  doc::Value list = doc::Value::MakeObject();
  SetGuid(list, "signature_type", type_guid);
  list.Set("list_size", list_size);
  list.Set("header_size", header_size);
  list.Set("signature_size", sig_size);
  if (header_size > 0) {
    list.Set("signature_header", ToHex(body.Bytes(header_size).value()));
  }
  doc::Value sigs = doc::Value::MakeArray();
  while (!body.empty()) {
    if (counts.entries == kMaxSignatureEntries) {
      truncated = true;
      break;
    }
    // Sizes were checked above: each entry is whole and holds an owner.
    ByteReader entry = body.Sub(sig_size).value();
    const Guid owner = ReadGuid(entry).value();
    sigs.Push(DescribeSignatureData(owner, type, entry.Rest(), counts));
    ++counts.entries;
  }
  list.Set("signatures", std::move(sigs));
  lists.Push(std::move(list));
  return {};
}

}  // namespace

doc::Value DescribeCertificate(std::span<const std::uint8_t> der) {
  doc::Value x = doc::Value::MakeObject();
  Result<crypto::CertificateSummary> summary =
      crypto::SummarizeCertificate(der);
  if (summary.has_value()) {
    x.Set("subject", summary->subject);
    x.Set("issuer", summary->issuer);
    x.Set("serial", summary->serial_hex);
    x.Set("not_before", summary->not_before);
    x.Set("not_after", summary->not_after);
    x.Set("sha256", summary->sha256_hex);
    return x;
  }
  x.Set("error", summary.error().message());
  Result<crypto::Digest> fp = crypto::Hash(crypto::HashAlg::kSha256, der);
  if (fp.has_value()) x.Set("sha256", fp->Hex());
  return x;
}

Result<void> DecodeSignatureLists(ByteReader& in, doc::Value& out) {
  doc::Value lists = doc::Value::MakeArray();
  Counts counts;
  bool truncated = false;
  Result<void> status;
  while (!in.empty() && !truncated) {
    status = DecodeOneList(in, lists, counts, truncated);
    if (!status.has_value()) break;
  }
  out.Set("signature_lists", std::move(lists));
  out.Set("certificate_count", counts.certificates);
  out.Set("hash_count", counts.hashes);
  out.Set("other_count", counts.other);
  if (truncated) out.Set("truncated", true);
  return status;
}

Result<void> DecodeLoadOption(ByteReader& in, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint32_t attributes, in.U32Le());
  out.Set("attributes", HexU32(attributes));
  out.Set("active", (attributes & 0x1) != 0);  // LOAD_OPTION_ACTIVE
  TC_ASSIGN_OR_RETURN(const std::uint16_t path_length, in.U16Le());
  out.Set("file_path_list_length", path_length);
  // Description: NUL-terminated CHAR16.
  const std::size_t description_at = in.offset();
  std::size_t units = 0;
  {
    ByteReader scan = in;
    while (true) {
      Result<std::uint16_t> c = scan.U16Le();
      if (!c.has_value()) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("unterminated description at offset {}",
                                description_at));
      }
      ++units;
      if (*c == 0) break;
    }
  }
  TC_ASSIGN_OR_RETURN(auto description, in.Bytes(units * 2));
  out.Set("description", Utf16LeToUtf8(description));
  const std::size_t path_at = in.offset();
  TC_ASSIGN_OR_RETURN(auto path, in.Bytes(path_length));
  DevicePathInfo info = DescribeDevicePath(path, path_at);
  out.Set("device_path", info.text);
  if (!info.file.empty()) out.Set("file", info.file);
  if (!info.error.empty()) out.Set("device_path_error", info.error);
  const auto optional = in.Rest();
  out.Set("optional_data", ToHex(optional));
  TextGuess text = GuessText(optional);
  if (text.ok) {
    out.Set("optional_data_text", std::move(text.text));
    if (text.utf16) out.Set("optional_data_encoding", "utf-16le");
  }
  return {};
}

Result<VariableData> ReadVariableData(ByteReader& in) {
  VariableData v;
  TC_ASSIGN_OR_RETURN(v.guid, ReadGuid(in));
  const std::size_t name_length_at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t name_length, in.U64Le());
  const std::size_t data_length_at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t data_length, in.U64Le());
  // Subtraction-form checks: a length near 2^64 must not wrap.
  if (name_length > in.remaining() / 2) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("name length {} runs past the end at offset {}",
                            name_length, name_length_at));
  }
  TC_ASSIGN_OR_RETURN(auto name, in.Bytes(static_cast<std::size_t>(name_length) * 2));
  v.name = Utf16LeToUtf8(name);
  if (data_length > in.remaining()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("data length {} runs past the end at offset {}",
                            data_length, data_length_at));
  }
  v.data_offset = in.offset();
  TC_ASSIGN_OR_RETURN(v.data, in.Bytes(static_cast<std::size_t>(data_length)));
  v.trailing_bytes = in.Rest().size();
  return v;
}

Result<void> DecodeVariable(ByteReader& in, bool authority, doc::Value& out) {
  TC_ASSIGN_OR_RETURN(const VariableData v, ReadVariableData(in));
  SetGuid(out, "guid", v.guid);
  out.Set("name", v.name);
  out.Set("data_size", v.data.size());
  if (v.trailing_bytes > 0) out.Set("trailing_bytes", v.trailing_bytes);

  const std::string guid = v.guid.ToString();
  const std::string_view name = v.name;
  const bool global = guid == kEfiGlobalVariableGuid;
  const bool security_db = guid == kEfiImageSecurityDatabaseGuid;
  const bool shim = guid == kShimLockGuid;
  ByteReader data(v.data, v.data_offset);

  // One-byte flags (UEFI 2.10, 3.3 and 32.3; shim's MOK state).
  const bool flag =
      (global && (name == "SecureBoot" || name == "SetupMode" ||
                  name == "AuditMode" || name == "DeployedMode")) ||
      (shim && (name == "MokListTrusted" || name == "MokSBState" ||
                name == "MokSBStateRT" || name == "MokIgnoreDB"));
  if (flag && v.data.size() == 1) {
    out.Set("value", v.data[0]);
    return {};
  }

  if (authority) {
    // What verified an image. EDK2 logs the EFI_SIGNATURE_DATA that matched
    // (owner + certificate); shim logs its built-in certificate as bare DER
    // ("Shim") and its policy as text ("SbatLevel").
    if (!v.data.empty() && v.data[0] == 0x30) {
      doc::Value x = DescribeCertificate(v.data);
      if (x.Find("error") == nullptr) {
        out.Set("x509", std::move(x));
        return {};
      }
    }
    if (v.data.size() > kSignatureOwnerSize) {
      ByteReader probe = data;
      const Guid owner = ReadGuid(probe).value();
      const auto der = probe.Rest();
      doc::Value x = DescribeCertificate(der);
      if (x.Find("error") == nullptr) {
        doc::Value s = doc::Value::MakeObject();
        SetGuid(s, "owner", owner);
        s.Set("x509", std::move(x));
        out.Set("signature", std::move(s));
        return {};
      }
      if (der.size() == 32) {  // an EFI_CERT_SHA256 entry from db
        doc::Value s = doc::Value::MakeObject();
        SetGuid(s, "owner", owner);
        s.Set("sha256", ToHex(der));
        out.Set("signature", std::move(s));
        return {};
      }
    }
    ByteReader probe = data;
    doc::Value lists = doc::Value::MakeObject();
    if (v.data.size() >= kSignatureListHeaderSize &&
        DecodeSignatureLists(probe, lists).has_value()) {
      for (auto& [key, value] : lists.object()) out.Set(key, value);
      return {};
    }
    SetHexAndText(out, v.data);
    return {};
  }

  if ((global && (name == "PK" || name == "KEK")) ||
      (security_db &&
       (name == "db" || name == "dbx" || name == "dbt" || name == "dbr")) ||
      (shim && (name == "MokList" || name == "MokListX" ||
                name == "MokListRT" || name == "MokListXRT"))) {
    return DecodeSignatureLists(data, out);
  }

  if (global && name == "BootOrder") {
    // UINT16[] (UEFI 2.10, 3.3).
    if (v.data.size() % 2 != 0) {
      return Fail(data.MalformedHere(
          fmt::format("BootOrder of odd size {}", v.data.size())));
    }
    doc::Value order = doc::Value::MakeArray();
    std::size_t n = 0;
    while (!data.empty() && n < kMaxBootOrderEntries) {
      order.Push(fmt::format("{:04X}", data.U16Le().value()));
      ++n;
    }
    out.Set("boot_order", std::move(order));
    if (!data.empty()) out.Set("truncated", true);
    return {};
  }

  if (global && (name == "BootNext" || name == "BootCurrent") &&
      v.data.size() == 2) {
    out.Set("value", fmt::format("{:04X}", data.U16Le().value()));
    return {};
  }

  if (global && IsLoadOptionName(name)) {
    doc::Value option = doc::Value::MakeObject();
    Result<void> status = DecodeLoadOption(data, option);
    out.Set("load_option", std::move(option));
    return status;
  }

  SetHexAndText(out, v.data);
  return {};
}

}  // namespace tc::eventlog::uefi
