// libFuzzer target: the TCG event log parser and everything that reads a
// parsed log (replay, integrity, decoding, JSON rendering).

#include <cstddef>
#include <cstdint>

#include "tc/doc/value.h"
#include "tc/eventlog/integrity.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/eventlog/report.h"
#include "tc/eventlog/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc::eventlog;
  tc::Bytes bytes(data, data + size);
  ParseOptions options;
  options.tpm_family = size % 2 == 0 ? 2 : 1;
  options.kind = size % 3 == 0 ? KindHint::kCcel : KindHint::kAuto;
  auto log = EventLog::Parse(std::move(bytes), options);
  if (!log) return 0;
  auto replay = Replay(*log);
  if (!replay) return 0;
  // Compare the replay with itself shifted: exercises every status.
  tc::pcr::PcrValues reported = replay->pcrs;
  for (auto& [alg, values] : reported.banks) {
    if (!values.empty()) values.begin()->second = tc::crypto::Digest(alg);
    values.emplace(10, tc::crypto::Digest(alg));
  }
  const Verification v = VerifyReplay(*log, *replay, reported);
  (void)FindDigestMismatches(*log);
  ShowInput show{&*log, &v};
  (void)tc::doc::ToJson(ShowDocument(show));
  (void)ShowText(show);
  ReplayInput rin{&*log, &*replay, &v};
  (void)tc::doc::ToYaml(ReplayDocument(rin));
  return 0;
}
