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
                // value: something measured into it is missing from this log
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
  std::size_t mismatches = 0;    // kMismatch + kIncomplete
  std::size_t banks_compared = 0;
  bool AllMatch() const { return mismatches == 0 && !checks.empty(); }
};

// Compares every PCR of every bank present in both the replay and the
// reported values; reported PCRs untouched by the log are kNotInLog when
// they differ from their initial value (kNotInLog does not count as a
// mismatch: PCR 10 holds IMA, PCRs 11-15 OS measurements).
Verification VerifyReplay(const EventLog& log, const ReplayResult& replay,
                          const pcr::PcrValues& reported);

std::string_view PcrStatusName(PcrStatus s);  // "match", "mismatch", ...

}  // namespace tc::eventlog
