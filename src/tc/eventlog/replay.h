#pragma once

// Replaying a parsed log into the PCR values it implies (PFP spec 1.05,
// 10.4 "Measurement and Event Log" and TPM 2.0 Part 1, 17.2 PCR extend).
//
// Every bank of the log is replayed: each event's digest of that bank is
// extended into its PCR. EV_NO_ACTION events are never extended (PFP
// 10.4.5); neither are events with PCR index 0xFFFFFFFF. PCR 0 starts at
// 00..0L when an EV_NO_ACTION StartupLocality event says locality L
// (PFP 10.4.5.3); PCRs 17..22 start at ff..ff (PC Client PTP 4.1), all others
// at zero. In a TDX CCEL log every register starts at zero.

#include <cstdint>
#include <map>
#include <set>

#include "tc/base/error.h"
#include "tc/eventlog/parser.h"
#include "tc/pcr/pcr_values.h"

namespace tc::eventlog {

struct ReplayResult {
  // Every bank, every PCR some event extends (plus PCR 0 when a
  // StartupLocality event sets its start value).
  pcr::PcrValues pcrs;
  // PCRs of a bank that some event extended without a digest for that bank:
  // their replayed value is not meaningful.
  std::map<crypto::HashAlg, std::set<std::uint32_t>> incomplete;
  // Number of events extended (per bank, all banks alike).
  std::size_t extended_events = 0;
};

// True when replay extends this event.
bool IsExtended(const RawEvent& event);

// The value a PCR holds before its first extend.
crypto::Digest InitialPcrValue(crypto::HashAlg alg, std::uint32_t pcr,
                               RegisterKind kind,
                               std::optional<std::uint8_t> startup_locality);

// Fails only with kUnsupported when a bank's hash is unavailable here.
[[nodiscard]] Result<ReplayResult> Replay(const EventLog& log);

}  // namespace tc::eventlog
