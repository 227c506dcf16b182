#include "tc/eventlog/replay.h"

#include <algorithm>

namespace tc::eventlog {

bool IsExtended(const RawEvent& event) {
  return event.type != ev::kNoAction && event.pcr < pcr::kNumPcrs;
}

crypto::Digest InitialPcrValue(crypto::HashAlg alg, std::uint32_t pcr,
                               RegisterKind kind,
                               std::optional<std::uint8_t> startup_locality) {
  crypto::Digest d(alg);
  if (kind != RegisterKind::kTpmPcr) return d;
  auto bytes = d.mutable_bytes();
  if (pcr == 0 && startup_locality) {
    bytes[bytes.size() - 1] = *startup_locality;
  } else if (pcr >= 17 && pcr <= 22) {
    std::fill(bytes.begin(), bytes.end(), std::uint8_t{0xFF});
  }
  return d;
}

Result<ReplayResult> Replay(const EventLog& log) {
  ReplayResult out;
  for (crypto::HashAlg alg : log.banks()) {
    if (!crypto::HashAvailable(alg)) {
      return Fail(ErrorCode::kUnsupported,
                  std::string("cannot replay bank ") +
                      std::string(crypto::HashAlgName(alg)) +
                      ": this OpenSSL build lacks the hash");
    }
  }
  // The PCR values as an array per bank; only touched ones are reported.
  struct Bank {
    crypto::HashAlg alg;
    std::array<std::optional<crypto::Digest>, pcr::kNumPcrs> pcrs;
  };
  std::vector<Bank> banks;
  for (crypto::HashAlg alg : log.banks()) banks.push_back({alg, {}});
  auto value = [&](Bank& b, std::uint32_t index) -> crypto::Digest& {
    auto& slot = b.pcrs[index];
    if (!slot) {
      slot = InitialPcrValue(b.alg, index, log.register_kind(), log.startup_locality());
    }
    return *slot;
  };
  if (log.startup_locality() && log.register_kind() == RegisterKind::kTpmPcr) {
    for (Bank& b : banks) value(b, 0);
  }
  for (const RawEvent& e : log.events()) {
    if (!IsExtended(e)) continue;
    ++out.extended_events;
    for (Bank& b : banks) {
      crypto::Digest& pcr = value(b, e.pcr);
      const crypto::Digest* d = e.DigestFor(b.alg);
      if (d == nullptr) {
        out.incomplete[b.alg].insert(e.pcr);
        continue;
      }
      TC_RETURN_IF_ERROR(crypto::ExtendDigest(pcr, d->bytes()));
    }
  }
  for (const Bank& b : banks) {
    auto& dest = out.pcrs.banks[b.alg];
    for (std::uint32_t i = 0; i < pcr::kNumPcrs; ++i) {
      if (b.pcrs[i]) dest.emplace(i, *b.pcrs[i]);
    }
  }
  return out;
}

}  // namespace tc::eventlog
