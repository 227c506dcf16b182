#pragma once

// Checking a replay against PCR values a TPM reported, and the only way to
// get a VerifiedEvent.
//
// Trust: the PCR values passed in are only as good as their source. Values
// from a checked quote (the TPM module) are evidence; values from a file are
// what the file says. This module compares; it does not judge the source.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/pcr/pcr_values.h"

namespace tc::eventlog {

enum class PcrStatus {
  kMatch,       // replay equals the reported value
  kMismatch,    // replay differs: the log is not what was measured
  kIncomplete,  // some event lacked this bank's digest: cannot tell
  kNotInLog,    // reported PCR that no event extends, with a non-initial
                // value, outside the firmware PCRs (PCR 10 holds IMA, 8-15
                // the OS): measured by something else
  kEventsMissing,  // the same for a firmware PCR (0-7 of a TPM log): every
                   // one gets at least a separator (PFP 3.3.2), so its events
                   // were removed from this log
};

struct PcrCheck {
  crypto::HashAlg alg;
  std::uint32_t pcr;
  PcrStatus status;
  crypto::Digest replayed;  // initial value for kNotInLog
  crypto::Digest reported;
};

// An event whose digest in `bank` is proven by a matching reported PCR.
// Its data is proven too only when CheckEventData() says kMatches.
struct VerifiedEvent {
  const RawEvent* event;  // points into the EventLog
  crypto::HashAlg bank;
};

struct Verification {
  std::vector<PcrCheck> checks;  // bank order, then PCR order
  std::vector<VerifiedEvent> verified;
  std::size_t mismatches = 0;    // kMismatch + kIncomplete + kEventsMissing
  std::size_t matches = 0;       // kMatch
  std::size_t banks_compared = 0;
  // At least one PCR matched and none failed.
  bool AllMatch() const { return mismatches == 0 && matches > 0; }
};

// Compares every PCR of every bank present in both the replay and the
// reported values. Reported PCRs untouched by the log that differ from
// their initial value are kEventsMissing (PCRs 0-7 of a TPM log: a
// mismatch) or kNotInLog (others: not a mismatch).
Verification VerifyReplay(const EventLog& log, const ReplayResult& replay,
                          const pcr::PcrValues& reported);

std::string_view PcrStatusName(PcrStatus s);  // "match", "mismatch", ...

}  // namespace tc::eventlog
