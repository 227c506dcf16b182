#pragma once

// What `trustchain eventlog show` and `replay` print: one document per
// command (rendered as JSON or YAML by tc/doc) and a text view for people
// built from the same facts.

#include <string>

#include "tc/doc/value.h"
#include "tc/eventlog/integrity.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/eventlog/verify.h"

namespace tc::eventlog {

// The statement every view carries about trust in decoded content.
inline constexpr std::string_view kTrustNote =
    "decoded event types and data are unverified: no digest covers the event "
    "type, and the data is proven only where its digest is the hash of the "
    "data AND replay matches PCRs quoted by the TPM (--pcrs)";

struct ShowInput {
  const EventLog* log = nullptr;
  // Optional: a comparison with reported PCRs, marking verified events.
  const Verification* verification = nullptr;
};

doc::Value ShowDocument(const ShowInput& in);
std::string ShowText(const ShowInput& in);

struct ReplayInput {
  const EventLog* log = nullptr;
  const ReplayResult* replay = nullptr;
  const Verification* verification = nullptr;  // when --pcrs was given
};

// Has member "banks": bank name -> {"<pcr>": "<lowercase hex>"}.
doc::Value ReplayDocument(const ReplayInput& in);
std::string ReplayText(const ReplayInput& in);

}  // namespace tc::eventlog
