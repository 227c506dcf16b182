#include "tc/eventlog/parser.h"

#include <algorithm>
#include <map>
#include <string_view>

#include <fmt/format.h>

namespace tc::eventlog {
namespace {

constexpr std::string_view kSpecIdSignature("Spec ID Event03\0", 16);
constexpr std::string_view kLocalitySignature("StartupLocality\0", 16);
constexpr std::size_t kSha1Size = 20;

bool StartsWith(std::span<const std::uint8_t> data, std::string_view sig) {
  return data.size() >= sig.size() &&
         std::equal(sig.begin(), sig.end(), data.begin(),
                    [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
}

bool DataEquals(std::span<const std::uint8_t> data, std::string_view s) {
  // EV_EFI_ACTION strings are not NUL-terminated (PFP 10.4.4), but tolerate one.
  if (!data.empty() && data.back() == 0) data = data.first(data.size() - 1);
  return data.size() == s.size() && StartsWith(data, s);
}

// The fill byte when every remaining byte is 0xFF. Stops at the first other
// byte, so a real event costs a few bytes.
std::optional<std::uint8_t> FillByte(std::span<const std::uint8_t> rest) {
  if (rest.empty() || rest[0] != 0xFF) return std::nullopt;
  for (std::uint8_t b : rest) {
    if (b != rest[0]) return std::nullopt;
  }
  return rest[0];
}

// PCRIndex and EventType, common to both formats. A TPM has PCRs 0..23 (TDX
// MR indices are 0..4); 0xFFFFFFFF is a known quirk and never extended.
Result<void> ReadIndexAndType(ByteReader& in, RawEvent& ev) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(ev.pcr, in.U32Le());
  if (ev.pcr >= 24 && ev.pcr != 0xFFFFFFFFu) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("PCR index {} at offset {} is out of range", ev.pcr, at));
  }
  TC_ASSIGN_OR_RETURN(ev.type, in.U32Le());
  return {};
}

}  // namespace

std::string_view LogFormatName(LogFormat f) {
  return f == LogFormat::kSha1Legacy ? "sha1-legacy" : "crypto-agile";
}

std::string_view RegisterKindName(RegisterKind k) {
  return k == RegisterKind::kTpmPcr ? "tpm-pcr" : "tdx-mr";
}

Result<EventLog> EventLog::Parse(Bytes bytes, const ParseOptions& options) {
  EventLog log;
  log.bytes_ = std::move(bytes);
  TC_RETURN_IF_ERROR(log.ParseAll(options));
  return log;
}

void EventLog::AddQuirk(QuirkId id, std::size_t offset,
                        std::optional<std::size_t> event, std::string detail) {
  quirks_.push_back({id, offset, event, std::move(detail)});
}

Result<void> EventLog::ParseAll(const ParseOptions& options) {
  if (bytes_.empty()) {
    return Fail(ErrorCode::kMalformed, "event 0 at offset 0: empty log (0 bytes)");
  }
  if (bytes_.size() > kMaxLogSize) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("log of {} bytes exceeds the limit of {} bytes",
                            bytes_.size(), kMaxLogSize));
  }
  ByteReader in(bytes_);
  TC_RETURN_IF_ERROR(ParseHeader(in));
  if (format_ == LogFormat::kCryptoAgile) {
    const bool looks_like_ccel = events_[0].pcr == 1 && banks_.size() == 1 &&
                                 banks_[0] == crypto::HashAlg::kSha384;
    if (options.kind == KindHint::kCcel || (options.kind == KindHint::kAuto && looks_like_ccel)) {
      kind_ = RegisterKind::kTdxMr;
    }
  }

  while (!in.empty()) {
    const std::size_t offset = in.offset();
    const std::size_t index = events_.size();
    if (index == kMaxEvents) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("event {} at offset {}: more than {} events", index, offset,
                              kMaxEvents));
    }
    if (auto fill = FillByte(*in.Peek(in.remaining()))) {
      AddQuirk(QuirkId::kTrailingPadding, offset, std::nullopt,
               fmt::format("{} bytes of 0x{:02x}", in.remaining(), *fill));
      break;
    }
    auto event = format_ == LogFormat::kCryptoAgile ? ParseEvent2(in, index)
                                                    : ParseEvent1(in, index);
    if (!event) {
      return Fail(std::move(event).error().Wrap(
          fmt::format("event {} at offset {}", index, offset)));
    }
    NoteEventQuirks(*event);
    events_.push_back(std::move(*event));
  }
  parsed_bytes_ = quirks_.empty() || quirks_.back().id != QuirkId::kTrailingPadding
                      ? bytes_.size()
                      : quirks_.back().offset;
  NoteLogQuirks(options);
  std::stable_sort(quirks_.begin(), quirks_.end(),
                   [](const Quirk& a, const Quirk& b) { return a.offset < b.offset; });
  if (options.strict && !quirks_.empty()) {
    return Fail(ErrorCode::kMalformed,
                quirks_.front().Describe() +
                    ": rejected by --strict (drop --strict to accept it)");
  }
  return {};
}

// The first event is always a TCG_PCR_EVENT (PFP 10.2.1); a crypto-agile log
// marks itself with the Spec ID Event03 signature in its data (10.4.5.1).
Result<void> EventLog::ParseHeader(ByteReader& in) {
  auto first = ParseEvent1(in, 0);
  if (!first) {
    return Fail(std::move(first).error().Wrap("event 0 at offset 0"));
  }
  if (StartsWith(first->data, kSpecIdSignature)) {
    format_ = LogFormat::kCryptoAgile;
    if (auto s = ParseSpecId(*first); !s) {
      return Fail(std::move(s).error().Wrap("event 0 at offset 0: Spec ID event"));
    }
    if (first->type != ev::kNoAction) {
      AddQuirk(QuirkId::kSpecIdNotNoAction, 0, 0,
               "typed " + EventTypeName(first->type));
    }
  } else {
    format_ = LogFormat::kSha1Legacy;
    banks_ = {crypto::HashAlg::kSha1};
    NoteEventQuirks(*first);
  }
  events_.push_back(std::move(*first));
  return {};
}

Result<void> EventLog::ParseSpecId(const RawEvent& header) {
  // TCG_EfiSpecIDEventStruct, PFP 10.4.5.1. Data starts 32 bytes into the
  // TCG_PCR_EVENT header.
  ByteReader r(header.data, header.offset + 32);
  SpecIdInfo s;
  TC_RETURN_IF_ERROR(r.Skip(kSpecIdSignature.size()));
  TC_ASSIGN_OR_RETURN(s.platform_class, r.U32Le());
  TC_ASSIGN_OR_RETURN(s.spec_version_minor, r.U8());
  TC_ASSIGN_OR_RETURN(s.spec_version_major, r.U8());
  TC_ASSIGN_OR_RETURN(s.spec_errata, r.U8());
  TC_ASSIGN_OR_RETURN(s.uintn_size, r.U8());
  const std::size_t count_offset = r.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t count, r.U32Le());
  if (count == 0 || count > kMaxSpecIdAlgorithms) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("numberOfAlgorithms {} at offset {} is not in 1..{}",
                            count, count_offset, kMaxSpecIdAlgorithms));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = r.offset();
    TC_ASSIGN_OR_RETURN(const std::uint16_t id, r.U16Le());
    TC_ASSIGN_OR_RETURN(const std::uint16_t size, r.U16Le());
    const auto alg = crypto::HashAlgFromTpmId(id);
    if (!alg) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("unknown hash algorithm 0x{:04x} (digest size {}) "
                              "at offset {}",
                              id, size, at));
    }
    if (crypto::DigestSize(*alg) != size) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("{} declared with digest size {} at offset {} "
                              "(it is {})",
                              crypto::HashAlgName(*alg), size, at,
                              crypto::DigestSize(*alg)));
    }
    if (std::find(banks_.begin(), banks_.end(), *alg) != banks_.end()) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("{} declared twice at offset {}",
                              crypto::HashAlgName(*alg), at));
    }
    s.algorithms.push_back({id, size});
    banks_.push_back(*alg);
    bank_sizes_.push_back(size);
  }
  const std::size_t vendor_at = r.offset();
  TC_ASSIGN_OR_RETURN(const std::uint8_t vendor_size, r.U8());
  if (vendor_size != r.remaining()) {
    AddQuirk(QuirkId::kSpecIdVendorSize, vendor_at, 0,
             fmt::format("vendorInfoSize {} but {} bytes remain in the event",
                         vendor_size, r.remaining()));
  }
  const auto vendor = r.Rest();
  const auto take = std::min<std::size_t>(vendor_size, vendor.size());
  s.vendor_info.assign(vendor.begin(), vendor.begin() + static_cast<std::ptrdiff_t>(take));
  spec_id_ = std::move(s);
  return {};
}

// TCG_PCR_EVENT2, PFP 10.2.2 "Crypto Agile Log Entry Format".
Result<RawEvent> EventLog::ParseEvent2(ByteReader& in, std::size_t index) {
  RawEvent ev;
  ev.index = index;
  ev.offset = in.offset();
  TC_RETURN_IF_ERROR(ReadIndexAndType(in, ev));
  const std::size_t count_at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t count, in.U32Le());
  if (count == 0 || count > banks_.size()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("digest count {} at offset {} is not in 1..{} (the "
                            "banks of the Spec ID event)",
                            count, count_at, banks_.size()));
  }
  ev.digests.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint16_t id, in.U16Le());
    std::size_t bank = banks_.size();
    for (std::size_t b = 0; b < banks_.size(); ++b) {
      if (static_cast<std::uint16_t>(banks_[b]) == id) bank = b;
    }
    if (bank == banks_.size()) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("digest algorithm 0x{:04x} at offset {} is not "
                              "declared in the Spec ID event",
                              id, at));
    }
    if (ev.DigestFor(banks_[bank]) != nullptr) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("second {} digest at offset {}",
                              crypto::HashAlgName(banks_[bank]), at));
    }
    TC_ASSIGN_OR_RETURN(auto bytes, in.Bytes(bank_sizes_[bank]));
    ev.digests.emplace_back(banks_[bank], bytes);
  }
  TC_ASSIGN_OR_RETURN(ev.data, in.SizedBytesU32Le(kMaxEventDataSize));
  ev.size = in.offset() - ev.offset;
  return ev;
}

// TCG_PCR_EVENT, PFP 10.2.1 "SHA1 Event Log Entry Format".
Result<RawEvent> EventLog::ParseEvent1(ByteReader& in, std::size_t index) {
  RawEvent ev;
  ev.index = index;
  ev.offset = in.offset();
  TC_RETURN_IF_ERROR(ReadIndexAndType(in, ev));
  TC_ASSIGN_OR_RETURN(auto digest, in.Bytes(kSha1Size));
  ev.digests.emplace_back(crypto::HashAlg::kSha1, digest);
  TC_ASSIGN_OR_RETURN(ev.data, in.SizedBytesU32Le(kMaxEventDataSize));
  ev.size = in.offset() - ev.offset;
  return ev;
}

void EventLog::NoteEventQuirks(const RawEvent& event) {
  if (event.pcr == 0xFFFFFFFFu) {
    AddQuirk(QuirkId::kPcrIndexAllOnes, event.offset, event.index,
             EventTypeName(event.type) + " not extended");
  }
  if (event.type == ev::kPostCode && event.data.size() != 16 &&
      !event.data.empty() && event.data.back() != 0 &&
      IsPrintableAscii(event.data)) {
    AddQuirk(QuirkId::kShortPostCode, event.offset, event.index,
             fmt::format("{}-byte EV_POST_CODE '{}'", event.data.size(),
                         PrintableAscii(event.data)));
  }
  if (event.type == ev::kNoAction && event.pcr == 0 && !locality_ &&
      event.data.size() >= kLocalitySignature.size() + 1 &&
      StartsWith(event.data, kLocalitySignature)) {
    locality_ = event.data[kLocalitySignature.size()];
  }
}

void EventLog::NoteLogQuirks(const ParseOptions& options) {
  if (kind_ == RegisterKind::kTpmPcr) {
    std::map<std::uint32_t, std::size_t> first_separator;
    for (const RawEvent& e : events_) {
      if (e.type != ev::kSeparator) continue;
      auto [it, fresh] = first_separator.emplace(e.pcr, e.index);
      if (!fresh) {
        AddQuirk(QuirkId::kDuplicateSeparator, e.offset, e.index,
                 fmt::format("PCR {} already separated by event {}", e.pcr,
                             it->second));
      }
    }
  }
  const RawEvent* app_start = nullptr;
  bool exit_boot_services = false;
  for (const RawEvent& e : events_) {
    if (e.type != ev::kEfiAction) continue;
    if (DataEquals(e.data, "Calling EFI Application from Boot Option") &&
        app_start == nullptr) {
      app_start = &e;
    }
    if (DataEquals(e.data, "Exit Boot Services Invocation")) {
      exit_boot_services = true;
    }
  }
  if (app_start != nullptr && !exit_boot_services) {
    AddQuirk(QuirkId::kMissingExitBootServices, parsed_bytes_, std::nullopt,
             fmt::format("event {} started an EFI application; the log ends "
                         "without ExitBootServices",
                         app_start->index));
  }
  if (format_ == LogFormat::kSha1Legacy && options.tpm_family == 2) {
    AddQuirk(QuirkId::kSha1LogFromTpm2, 0, 0,
             "the caller says the log comes from a TPM 2.0");
  }
}

}  // namespace tc::eventlog
