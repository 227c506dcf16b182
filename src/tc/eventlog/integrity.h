#pragma once

// Event integrity: for event types whose digest must be the hash of their
// own data, check that it is. PFP spec 1.05, 10.4.1 "Event Types" says for
// each type what is hashed; where that is the event data (separators,
// EV_EFI_ACTION, EFI variables, the GPT, S-CRTM version strings, GRUB's and
// systemd's EV_IPL strings), a mismatch means the data shown is not what was
// measured. For other types (firmware blobs, image loads, handoff tables,
// post codes, event tags, files measured by boot loaders) the digest covers
// something outside the log and the data cannot be checked here.
//
// A matching digest proves nothing on its own: the digest itself is proven
// only when replay matches a quoted PCR (verify.h).

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "tc/crypto/hash.h"
#include "tc/eventlog/parser.h"

namespace tc::eventlog {

enum class DataCheck {
  kNotApplicable,  // the digest covers something other than the data
  kMatches,        // every digest equals the hash of the data (per a rule)
  kMatchesPart,    // every digest equals the hash of part of the data: an
                   // EFI variable's VariableData only, so its GUID and name
                   // are NOT covered and may have been altered
  kMismatch,       // some digest differs from every allowed hash of the data
};

struct EventDataCheck {
  DataCheck result = DataCheck::kNotApplicable;
  // The rule that matched (or was expected), e.g. "hash of event data",
  // "hash of VariableData", "hash of the string after 'grub_cmd: '".
  std::string_view rule;
  // For kMismatch: the first bank that failed, the logged and the computed
  // digest (of the rule's preferred form).
  std::optional<crypto::Digest> logged;
  std::optional<crypto::Digest> computed;
};

// Checks one event. Never fails; a hash this OpenSSL lacks counts as not
// applicable for that bank.
EventDataCheck CheckEventData(const RawEvent& event);

struct IntegrityFinding {
  std::size_t event_index;
  std::size_t offset;
  EventDataCheck check;
};

// Every event whose digest does not match its data.
std::vector<IntegrityFinding> FindDigestMismatches(const EventLog& log);

}  // namespace tc::eventlog
