#include "tc/eventlog/decode.h"

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/eventlog/event.h"
#include "tc/eventlog/uefi/device_path.h"
#include "tc/eventlog/uefi/structures.h"
#include "tc/eventlog/uefi/variable.h"

namespace tc::eventlog {
namespace {

using doc::Value;

// UEFI_IMAGE_LOAD_EVENT (PFP 1.05, 10.2.3): EFI_PHYSICAL_ADDRESS
// ImageLocationInMemory, UINTN ImageLengthInMemory, UINTN
// ImageLinkTimeAddress, UINTN LengthOfDevicePath (all 64-bit in the log),
// then the EFI_DEVICE_PATH.
Result<void> DecodeImageLoad(ByteReader& in, Value& out) {
  TC_ASSIGN_OR_RETURN(const std::uint64_t base, in.U64Le());
  out.Set("image_base", uefi::HexU64(base));
  TC_ASSIGN_OR_RETURN(const std::uint64_t length, in.U64Le());
  out.Set("image_length", uefi::U64Value(length));
  TC_ASSIGN_OR_RETURN(const std::uint64_t link, in.U64Le());
  out.Set("link_time_address", uefi::HexU64(link));
  const std::size_t length_at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint64_t path_length, in.U64Le());
  out.Set("device_path_length", uefi::U64Value(path_length));
  if (path_length > in.remaining()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("device path length {} runs past the end at "
                            "offset {}",
                            path_length, length_at));
  }
  const std::size_t path_at = in.offset();
  TC_ASSIGN_OR_RETURN(auto path,
                      in.Bytes(static_cast<std::size_t>(path_length)));
  uefi::DevicePathInfo info = uefi::DescribeDevicePath(path, path_at);
  out.Set("device_path", info.text);
  if (!info.file.empty()) out.Set("file", info.file);
  if (info.truncated) out.Set("truncated", true);
  if (!info.error.empty()) return Fail(ErrorCode::kMalformed, info.error);
  return {};
}

// EV_SEPARATOR (PFP 1.05, 10.4.1 and 8.2.3): 0 normally, 0xFFFFFFFF when
// firmware signals an error.
void DecodeSeparator(std::span<const std::uint8_t> data, Value& out) {
  if (data.size() != 4) {
    out.Set("hex", ToHex(data));
    return;
  }
  ByteReader in(data);
  const std::uint32_t value = in.U32Le().value();  // size checked
  out.Set("value", uefi::HexU32(value));
  if (value == 0xFFFFFFFF) out.Set("error", true);
}

bool IsVariableType(std::uint32_t type) {
  return type == ev::kEfiVariableDriverConfig ||
         type == ev::kEfiVariableBoot || type == ev::kEfiVariableBoot2 ||
         type == ev::kEfiVariableAuthority;
}

// Runs `decode` on a copy of `in`; on success commits its members to `out`.
template <class F>
bool TryDecode(ByteReader& in, Value& out, F decode) {
  ByteReader probe = in;
  Value v = Value::MakeObject();
  if (!decode(probe, v).has_value()) return false;
  for (const auto& [key, value] : v.object()) out.Set(key, value);
  in = probe;
  return true;
}

Result<void> DecodeInto(std::uint32_t type, std::span<const std::uint8_t> data,
                        Value& out) {
  ByteReader in(data);
  bool structured = false;  // note trailing bytes after the structure
  switch (type) {
    case ev::kEfiVariableDriverConfig:
    case ev::kEfiVariableBoot:
    case ev::kEfiVariableBoot2:
    case ev::kEfiVariableAuthority:
      return uefi::DecodeVariable(in, type == ev::kEfiVariableAuthority, out);

    case ev::kEfiBootServicesApplication:
    case ev::kEfiBootServicesDriver:
    case ev::kEfiRuntimeServicesDriver:
      TC_RETURN_IF_ERROR(DecodeImageLoad(in, out));
      structured = true;
      break;

    case ev::kEfiGptEvent:
    case ev::kEfiGptEvent2:
      TC_RETURN_IF_ERROR(uefi::DecodeGptData(in, out));
      structured = true;
      break;

    case ev::kEfiPlatformFirmwareBlob:
      TC_RETURN_IF_ERROR(uefi::DecodeFirmwareBlob(in, out));
      structured = true;
      break;

    case ev::kPostCode:
      // PFP 1.05, 10.4.1: a UEFI_PLATFORM_FIRMWARE_BLOB, or (more often in
      // practice) an unterminated string such as "ACPI DATA".
      if (uefi::GuessText(data).ok) {
        uefi::SetTextOrHex(out, data);
      } else if (data.size() == 16) {
        TC_RETURN_IF_ERROR(uefi::DecodeFirmwareBlob(in, out));
      } else if (TryDecode(in, out, uefi::DecodeFirmwareBlob2)) {
        structured = true;
      } else {
        out.Set("hex", ToHex(data));
      }
      break;

    case ev::kEfiPlatformFirmwareBlob2:
    case ev::kPostCode2:
      // A string instead of the structure is seen in the wild (PFP allows
      // EV_POST_CODE2 to hold either).
      if (TryDecode(in, out, uefi::DecodeFirmwareBlob2)) {
        structured = true;
      } else if (uefi::GuessText(data).ok) {
        uefi::SetTextOrHex(out, data);
      } else {
        TC_RETURN_IF_ERROR(uefi::DecodeFirmwareBlob2(in, out));
      }
      break;

    case ev::kEfiHandoffTables:
      TC_RETURN_IF_ERROR(uefi::DecodeHandoffTables(in, out));
      structured = true;
      break;

    case ev::kEfiHandoffTables2:
      TC_RETURN_IF_ERROR(uefi::DecodeHandoffTables2(in, out));
      structured = true;
      break;

    case ev::kSeparator:
      DecodeSeparator(data, out);
      break;

    case ev::kNoAction:
      TC_RETURN_IF_ERROR(uefi::DecodeNoAction(in, out));
      structured = true;
      break;

    case ev::kEventTag: {
      // TCG_PCClientTaggedEvent when its size accounts for the data exactly;
      // otherwise a plain string (some firmware logs one here).
      bool tagged = false;
      if (data.size() >= 8) {
        ByteReader probe(data);
        (void)probe.U32Le();  // taggedEventID
        tagged = probe.U32Le().value() == data.size() - 8;
      }
      if (tagged) {
        TC_RETURN_IF_ERROR(uefi::DecodeTaggedEvent(in, out));
      } else {
        uefi::SetTextOrHex(out, data);
      }
      break;
    }

    case ev::kSCrtmVersion:
      // Usually a UCS-2 version string; AMI firmware logs a 16-byte GUID.
      if (!uefi::GuessText(data).ok && data.size() == 16) {
        out.Set("guid", uefi::ReadGuid(in).value().ToString());
      } else {
        uefi::SetTextOrHex(out, data);
      }
      break;

    case ev::kIpl:
    case ev::kEfiAction:
    case ev::kAction:
    case ev::kEfiHcrtmEvent:
    case ev::kOmitBootDeviceEvents:
    case ev::kIplPartitionData:
    case ev::kCompactHash:
    case ev::kNonhostInfo:
    case ev::kPlatformConfigFlags:
    case ev::kTableOfDevices:
      uefi::SetTextOrHex(out, data);
      break;

    default:
      uefi::SetHexAndText(out, data);
      break;
  }
  if (structured && !in.empty()) out.Set("trailing_bytes", in.remaining());
  return {};
}

// --- summaries -------------------------------------------------------------

const std::string* Str(const Value& v, std::string_view key) {
  const Value* m = v.Find(key);
  if (m == nullptr || !m->is_string()) return nullptr;
  return &m->str();
}

std::optional<std::int64_t> Int(const Value& v, std::string_view key) {
  const Value* m = v.Find(key);
  if (m == nullptr) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(&m->variant())) return *i;
  return std::nullopt;
}

std::string ScalarText(const Value& v) {
  if (v.is_string()) return v.str();
  if (const auto* i = std::get_if<std::int64_t>(&v.variant())) {
    return std::to_string(*i);
  }
  if (const auto* b = std::get_if<bool>(&v.variant())) {
    return *b ? "true" : "false";
  }
  return {};
}

std::string OrEmpty(const std::string* s) { return s ? *s : std::string(); }

// "subject" of an x509 object, else "sha256 <hex>".
std::string CertificateText(const Value& x509) {
  if (const std::string* subject = Str(x509, "subject")) return *subject;
  if (const std::string* fp = Str(x509, "sha256")) return "sha256 " + *fp;
  return "certificate";
}

std::string SummarizeVariable(const Value& v) {
  const std::string name = OrEmpty(Str(v, "name"));
  if (const Value* value = v.Find("value")) {
    return name + " = " + ScalarText(*value);
  }
  if (const Value* order = v.Find("boot_order"); order && order->is_array()) {
    std::string s = name + " = ";
    bool first = true;
    for (const Value& e : order->array()) {
      if (!first) s += ",";
      s += ScalarText(e);
      first = false;
    }
    return s;
  }
  if (const Value* option = v.Find("load_option")) {
    return fmt::format("{} = \"{}\" {}",
                       name, OrEmpty(Str(*option, "description")),
                       OrEmpty(Str(*option, "device_path")));
  }
  if (v.Find("signature_lists") != nullptr) {
    std::string s =
        fmt::format("{}: {} certificates, {} hashes", name,
                    Int(v, "certificate_count").value_or(0),
                    Int(v, "hash_count").value_or(0));
    if (const auto other = Int(v, "other_count"); other && *other > 0) {
      s += fmt::format(", {} other", *other);
    }
    return s;
  }
  if (const Value* sig = v.Find("signature")) {
    if (const Value* x = sig->Find("x509")) {
      return name + ": " + CertificateText(*x);
    }
    if (const std::string* h = Str(*sig, "sha256")) {
      return name + ": sha256 " + *h;
    }
  }
  if (const Value* x = v.Find("x509")) return name + ": " + CertificateText(*x);
  if (const std::string* text = Str(v, "text")) return name + " = " + *text;
  return fmt::format("{} ({} bytes)", name, Int(v, "data_size").value_or(0));
}

std::string SummarizeNoAction(const Value& v) {
  const std::string* signature = Str(v, "signature");
  if (signature == nullptr) {
    if (const std::string* text = Str(v, "text")) return *text;
    return OrEmpty(Str(v, "hex"));
  }
  std::string s = *signature;
  if (const Value* algs = v.Find("algorithms"); algs && algs->is_array()) {
    s += ":";
    bool first = true;
    for (const Value& a : algs->array()) {
      s += first ? " " : ", ";
      first = false;
      const std::string* name = Str(a, "algorithm");
      s += name ? *name : OrEmpty(Str(a, "algorithm_id"));
    }
  } else if (const auto locality = Int(v, "startup_locality")) {
    s += fmt::format(": {}", *locality);
  } else if (const std::string* mfr = Str(v, "platform_manufacturer_str")) {
    s += fmt::format(": {} {} {}", *mfr, OrEmpty(Str(v, "platform_model")),
                     OrEmpty(Str(v, "platform_version")));
  }
  return s;
}

std::string SummarizeTables(const Value& v) {
  std::string s;
  if (const std::string* d = Str(v, "table_description")) s = *d + ": ";
  const Value* tables = v.Find("tables");
  if (tables == nullptr || !tables->is_array()) return s;
  const std::size_t n = tables->array().size();
  s += fmt::format("{} table{}", n, n == 1 ? "" : "s");
  bool first = true;
  for (const Value& t : tables->array()) {
    s += first ? ": " : ", ";
    first = false;
    const std::string* name = Str(t, "vendor_guid_name");
    s += name ? *name : OrEmpty(Str(t, "vendor_guid"));
  }
  return s;
}

std::string SummarizeValue(std::uint32_t type, const Value& v) {
  if (const std::string* error = Str(v, "decode_error")) {
    return "decode error: " + *error;
  }
  if (IsVariableType(type)) return SummarizeVariable(v);
  switch (type) {
    case ev::kEfiBootServicesApplication:
    case ev::kEfiBootServicesDriver:
    case ev::kEfiRuntimeServicesDriver:
      if (const std::string* p = Str(v, "device_path"); p && !p->empty()) {
        return *p;
      }
      return fmt::format("image at {} ({} bytes)",
                         OrEmpty(Str(v, "image_base")),
                         ScalarText(v.Find("image_length") ? *v.Find("image_length")
                                                           : Value()));
    case ev::kEfiGptEvent:
    case ev::kEfiGptEvent2:
      return fmt::format("GPT disk {}: {} partitions",
                         OrEmpty(Str(v, "disk_guid")),
                         v.Find("partitions") && v.Find("partitions")->is_array()
                             ? v.Find("partitions")->array().size()
                             : 0);
    case ev::kSeparator:
      if (const std::string* value = Str(v, "value")) {
        return v.Find("error") ? *value + " (error)" : *value;
      }
      break;
    case ev::kNoAction:
      return SummarizeNoAction(v);
    case ev::kEfiHandoffTables:
    case ev::kEfiHandoffTables2:
      return SummarizeTables(v);
    case ev::kEventTag:
      if (const std::string* id = Str(v, "tagged_event_id")) {
        const std::string* text = Str(v, "text");
        return fmt::format("tag {}: {}", *id,
                           text ? *text : OrEmpty(Str(v, "hex")));
      }
      break;
    default:
      break;
  }
  if (const std::string* base = Str(v, "blob_base")) {
    const Value* length = v.Find("blob_length");
    std::string s = fmt::format("{} ({} bytes)", *base,
                                length ? ScalarText(*length) : "?");
    if (const std::string* d = Str(v, "blob_description")) s = *d + " at " + s;
    return s;
  }
  if (const std::string* guid = Str(v, "guid")) return *guid;
  if (const std::string* text = Str(v, "text")) return *text;
  if (const std::string* hex = Str(v, "hex")) return *hex;
  return {};
}

// Control characters become spaces, trailing ones dropped; at most kMaxSummarySize bytes, cut on a
// UTF-8 character boundary.
std::string CleanLine(std::string s) {
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() <= kMaxSummarySize) return s;
  std::size_t cut = kMaxSummarySize - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

}  // namespace

Value DecodeEventData(std::uint32_t type, std::uint32_t pcr,
                      std::span<const std::uint8_t> data) {
  (void)pcr;  // the layout depends on the type alone (see EV_IPL in PCR 14)
  Value out = Value::MakeObject();
  Result<void> status = DecodeInto(type, data, out);
  if (!status.has_value()) {
    out.Set("decode_error", status.error().message());
    if (out.Find("hex") == nullptr) out.Set("hex", ToHex(data));
  }
  return out;
}

std::string SummarizeDecodedEvent(std::uint32_t type, const Value& decoded) {
  return CleanLine(SummarizeValue(type, decoded));
}

std::string SummarizeEventData(std::uint32_t type, std::uint32_t pcr,
                               std::span<const std::uint8_t> data) {
  return SummarizeDecodedEvent(type, DecodeEventData(type, pcr, data));
}

}  // namespace tc::eventlog
