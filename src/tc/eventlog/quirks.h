#pragma once

// Known deviations of real firmware from the PC Client PFP spec. They live in
// one table: each has a stable name (used in output and JSON), what it is,
// and what trustchain does about it. By default the parser accepts them and
// records each occurrence; ParseOptions::strict rejects the log at the first.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tc::eventlog {

enum class QuirkId {
  kTrailingPadding,          // 0xFF fill after the last event
  kPcrIndexAllOnes,          // PCR index 0xFFFFFFFF (Windows trust points)
  kSpecIdNotNoAction,        // Spec ID event typed other than EV_NO_ACTION
  kShortPostCode,            // EV_POST_CODE with an unterminated string
  kSpecIdVendorSize,         // vendorInfoSize disagrees with the event size
  kDuplicateSeparator,       // more than one EV_SEPARATOR in a PCR
  kMissingExitBootServices,  // OS booted but no ExitBootServices action
  kSha1LogFromTpm2,          // legacy SHA-1 log from a TPM 2.0
};

struct QuirkInfo {
  QuirkId id;
  std::string_view name;         // "trailing-padding"
  std::string_view description;  // what the firmware did
  std::string_view handling;     // what trustchain does about it
};

// The table, in QuirkId order.
std::span<const QuirkInfo> QuirkTable();
const QuirkInfo& GetQuirkInfo(QuirkId id);

// One occurrence in a log.
struct Quirk {
  QuirkId id;
  std::size_t offset = 0;                  // byte offset in the file
  std::optional<std::size_t> event_index;  // when tied to one event
  std::string detail;                      // e.g. "62833 bytes of 0xff"

  // "quirk: trailing-padding at offset 5312 (62833 bytes of 0xff)"
  std::string Describe() const;
};

}  // namespace tc::eventlog
