#include "tc/eventlog/verify.h"

namespace tc::eventlog {

std::string_view PcrStatusName(PcrStatus s) {
  switch (s) {
    case PcrStatus::kMatch: return "match";
    case PcrStatus::kMismatch: return "mismatch";
    case PcrStatus::kIncomplete: return "incomplete";
    case PcrStatus::kNotInLog: return "not-in-log";
    case PcrStatus::kEventsMissing: return "events-missing";
  }
  return "unknown";
}

Verification VerifyReplay(const EventLog& log, const ReplayResult& replay,
                          const pcr::PcrValues& reported) {
  Verification out;
  for (const auto& [alg, values] : reported.banks) {
    auto replayed_bank = replay.pcrs.banks.find(alg);
    if (replayed_bank == replay.pcrs.banks.end()) continue;
    ++out.banks_compared;
    const auto inc = replay.incomplete.find(alg);
    for (const auto& [index, value] : values) {
      auto r = replayed_bank->second.find(index);
      if (r == replayed_bank->second.end()) {
        const crypto::Digest init =
            InitialPcrValue(alg, index, log.register_kind(), log.startup_locality());
        if (!(init == value)) {
          const bool firmware = log.register_kind() == RegisterKind::kTpmPcr && index <= 7;
          out.checks.push_back(
              {alg, index, firmware ? PcrStatus::kEventsMissing : PcrStatus::kNotInLog, init,
               value});
          if (firmware) ++out.mismatches;
        }
        continue;
      }
      PcrStatus status = r->second == value ? PcrStatus::kMatch : PcrStatus::kMismatch;
      if (inc != replay.incomplete.end() && inc->second.count(index) != 0) {
        status = PcrStatus::kIncomplete;
      }
      if (status != PcrStatus::kMatch) ++out.mismatches;
      if (status == PcrStatus::kMatch) ++out.matches;
      out.checks.push_back({alg, index, status, r->second, value});
    }
  }
  // An event is proven when its PCR matched in a bank it has a digest for.
  for (const RawEvent& e : log.events()) {
    if (!IsExtended(e)) continue;
    for (const PcrCheck& c : out.checks) {
      if (c.pcr == e.pcr && c.status == PcrStatus::kMatch &&
          e.DigestFor(c.alg) != nullptr) {
        out.verified.push_back({&e, c.alg});
        break;
      }
    }
  }
  return out;
}

}  // namespace tc::eventlog
