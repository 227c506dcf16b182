#include "tc/eventlog/quirks.h"

#include <array>

#include <fmt/format.h>

#include "tc/base/error.h"

namespace tc::eventlog {
namespace {

// Each entry is tested on a real log where the corpus has one
// (corpus_test.cc, QuirkCorpusTest) and on a hand-built log (parser_test.cc).
constexpr std::array<QuirkInfo, 8> kQuirks = {{
    {QuirkId::kTrailingPadding, "trailing-padding",
     "the log is followed by 0xFF fill up to the size of the reserved log area, "
     "as TDX CCEL tables are (0x00 fill is not taken for padding: zeros parse as "
     "events, and a legacy log of them replays wrong instead of being cut)",
     "parsing stops at the first fill byte; the fill is not an event"},
    {QuirkId::kPcrIndexAllOnes, "pcr-index-all-ones",
     "an event with PCR index 0xFFFFFFFF, as Windows boot logs use for trust "
     "points that no PCR records",
     "the event is shown but never extended into any PCR"},
    {QuirkId::kSpecIdNotNoAction, "specid-not-no-action",
     "the Spec ID Event03 header carries an event type other than "
     "EV_NO_ACTION (PFP 10.4.5.1 requires EV_NO_ACTION)",
     "the header is recognised by its signature and not extended"},
    {QuirkId::kShortPostCode, "short-post-code",
     "an EV_POST_CODE whose data is an unterminated string such as the "
     "9-byte 'ACPI DATA' instead of a UEFI_PLATFORM_FIRMWARE_BLOB",
     "the data is shown as text; the digest is extended as usual"},
    {QuirkId::kSpecIdVendorSize, "specid-vendor-size",
     "the Spec ID event's vendorInfoSize disagrees with its event size",
     "the vendor data is cut to what the event size allows"},
    {QuirkId::kDuplicateSeparator, "duplicate-separator",
     "more than one EV_SEPARATOR was measured into the same PCR",
     "every separator is extended as logged; the replay decides"},
    {QuirkId::kMissingExitBootServices, "missing-exit-boot-services",
     "an EFI application was started but the log has no 'Exit Boot Services "
     "Invocation' EV_EFI_ACTION (PFP 8.2.4 asks for it)",
     "noted only; PCR 5 replays as logged"},
    {QuirkId::kSha1LogFromTpm2, "sha1-log-from-tpm2",
     "a TPM 2.0 platform wrote the legacy SHA-1 TCG_PCR_EVENT format instead "
     "of the crypto-agile format, so only the SHA-1 bank can be replayed",
     "parsed as a SHA-1 log; other banks cannot be checked against it"},
}};

}  // namespace

std::span<const QuirkInfo> QuirkTable() { return kQuirks; }

const QuirkInfo& GetQuirkInfo(QuirkId id) {
  for (const auto& q : kQuirks) {
    if (q.id == id) return q;
  }
  TC_CHECK(false);
}

std::string Quirk::Describe() const {
  std::string s = fmt::format("quirk: {} at offset {}", GetQuirkInfo(id).name, offset);
  if (event_index) s += fmt::format(", event {}", *event_index);
  if (!detail.empty()) s += " (" + detail + ")";
  return s;
}

}  // namespace tc::eventlog
