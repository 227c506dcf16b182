#pragma once

// Parsing TCG PC Client firmware event logs (PFP spec 1.05, 10.2 "Event
// Logging"): the legacy SHA-1 format (TCG_PCR_EVENT, 10.2.1) and the
// crypto-agile format (TCG_PCR_EVENT2 after a Spec ID Event03 header,
// 10.2.2 and 10.4.5.1), any banks. Also TDX CC event logs (ACPI CCEL), which
// use the crypto-agile format with TDX measurement-register indices.
//
// The input is untrusted. Parse() either returns the whole log or fails with
// kMalformed (or kUnsupported) naming the event index and byte offset. Memory
// is bounded by the input size. Nothing parsed here is verified: see event.h.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/byte_reader.h"
#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/eventlog/event.h"
#include "tc/eventlog/quirks.h"

namespace tc::eventlog {

// Named caps on untrusted sizes.
inline constexpr std::size_t kMaxLogSize = 256u << 20;       // 256 MiB
inline constexpr std::size_t kMaxEventDataSize = 16u << 20;  // 16 MiB
inline constexpr std::uint32_t kMaxSpecIdAlgorithms = 16;
// Real logs hold hundreds to a few thousand events; this bounds the memory
// a hostile log of tiny events can make us spend (~200 bytes per event).
inline constexpr std::size_t kMaxEvents = 1'000'000;

enum class LogFormat {
  kSha1Legacy,   // TCG_PCR_EVENT only (TPM 1.2 style)
  kCryptoAgile,  // TCG_PCR_EVENT2 after a Spec ID Event03
};

// What the index field of each event names.
enum class RegisterKind {
  kTpmPcr,  // a TPM PCR (0..23)
  kTdxMr,   // a TDX measurement register: 0 = MRTD, 1..4 = RTMR0..3
};

enum class KindHint {
  kAuto,  // CCEL when the Spec ID header sits in MR index 1 (TDX firmware
          // logs it there; PFP requires PCR 0 for a TPM log) and the only
          // bank is sha384, the TDX measurement registers' hash
  kTpm,
  kCcel,
};

struct ParseOptions {
  bool strict = false;  // reject every quirk (quirks.h) instead of noting it
  KindHint kind = KindHint::kAuto;
  // The TPM family the log was read from, when the caller knows it (2 for a
  // TPM 2.0). Enables the sha1-log-from-tpm2 quirk.
  std::optional<int> tpm_family;
};

// TCG_EfiSpecIDEventStruct (PFP 10.4.5.1).
struct SpecIdInfo {
  std::uint32_t platform_class = 0;
  std::uint8_t spec_version_major = 0;
  std::uint8_t spec_version_minor = 0;
  std::uint8_t spec_errata = 0;
  std::uint8_t uintn_size = 0;
  struct Algorithm {
    std::uint16_t id;
    std::uint16_t digest_size;
  };
  std::vector<Algorithm> algorithms;  // as declared, in order
  Bytes vendor_info;
};

// A parsed log. Owns the file's bytes; events point into them, so the log is
// move-only. Thread-compatible.
class EventLog {
 public:
  [[nodiscard]] static Result<EventLog> Parse(Bytes bytes,
                                              const ParseOptions& options = {});

  EventLog(EventLog&&) = default;
  EventLog& operator=(EventLog&&) = default;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  LogFormat format() const { return format_; }
  RegisterKind register_kind() const { return kind_; }
  // Present for crypto-agile logs.
  const std::optional<SpecIdInfo>& spec_id() const { return spec_id_; }
  // The banks every event may carry: sha1 for legacy logs, else the Spec ID
  // algorithms.
  const std::vector<crypto::HashAlg>& banks() const { return banks_; }
  // From an EV_NO_ACTION "StartupLocality" event (PFP 10.4.5.3), if any.
  std::optional<std::uint8_t> startup_locality() const { return locality_; }
  // All events, the header (event 0) included.
  std::span<const RawEvent> events() const { return events_; }
  std::span<const Quirk> quirks() const { return quirks_; }
  std::size_t size_bytes() const { return bytes_.size(); }
  // Bytes of the log proper (before any trailing padding).
  std::size_t parsed_bytes() const { return parsed_bytes_; }

 private:
  EventLog() = default;
  Result<void> ParseAll(const ParseOptions& options);
  Result<void> ParseHeader(ByteReader& in);
  Result<void> ParseSpecId(const RawEvent& header);
  Result<RawEvent> ParseEvent2(ByteReader& in, std::size_t index);
  Result<RawEvent> ParseEvent1(ByteReader& in, std::size_t index);
  void NoteEventQuirks(const RawEvent& event);
  void NoteLogQuirks(const ParseOptions& options);
  void AddQuirk(QuirkId id, std::size_t offset, std::optional<std::size_t> event,
                std::string detail);

  Bytes bytes_;
  LogFormat format_ = LogFormat::kSha1Legacy;
  RegisterKind kind_ = RegisterKind::kTpmPcr;
  std::optional<SpecIdInfo> spec_id_;
  std::vector<crypto::HashAlg> banks_;
  std::vector<std::uint16_t> bank_sizes_;  // parallel to spec_id_ algorithms
  std::optional<std::uint8_t> locality_;
  std::vector<RawEvent> events_;
  std::vector<Quirk> quirks_;
  std::size_t parsed_bytes_ = 0;
};

std::string_view LogFormatName(LogFormat f);      // "sha1-legacy", "crypto-agile"
std::string_view RegisterKindName(RegisterKind k);  // "tpm-pcr", "tdx-mr"

}  // namespace tc::eventlog
