// libFuzzer target: recognising events as components (identify.cc),
// learning a whitelist from a firmware event log and verifying a boot
// against it. Invariant: a log verified against the whitelist learned from
// itself, with its own replay as the reported PCRs, has every component
// trusted and nothing missing (unless some event lacks a bank's digest:
// such an event cannot be judged, and its PCR is reported incomplete).

#include <cstddef>
#include <cstdint>

#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/learn.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc;
  auto log = eventlog::EventLog::Parse(Bytes(data, data + size));
  if (!log) return 0;
  auto replay = eventlog::Replay(*log);
  if (!replay) return 0;
  policy::Policy p;
  policy::LearnNotes notes;
  if (!policy::LearnEventLog(*log, "fuzz", "t", p, notes)) return 0;
  if (!policy::ParsePolicy(AsBytes(policy::SerializePolicy(p)))) __builtin_trap();
  policy::BootEvidence ev{&*log, &*replay, &replay->pcrs, "self"};
  policy::Evaluation e = policy::EvaluateBoot(p, ev);
  if (!replay->incomplete.empty()) return 0;
  for (const policy::ComponentResult& c : e.components) {
    if (c.state != policy::ComponentState::kTrusted) __builtin_trap();
  }
  return 0;
}
