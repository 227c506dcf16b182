#pragma once

// Verifying a boot against a whitelist: every extended event of the
// firmware log is matched to a component (identify.h) and judged by its
// digest; components that no event measured are missing; the IMA list's
// findings become os-file components; the PCRs are compared with the
// reported (quoted) values and with the policy's golden values.
//
// Matching an event e (PCR p, type t, description s, digest d):
//   1. a component with the same (p, t, s): d trusted there -> trusted,
//      quarantined -> quarantined; otherwise, for a slot (not by_digest)
//      -> tampered (the component is the same, its measurement changed);
//   2. else any component of PCR p listing d (an image loaded from another
//      path, GRUB measuring the same initrd) -> its state;
//   3. else unknown: an event the whitelist does not know (event added).
// Digests are compared only in the banks the reported PCRs prove (all of
// the log's banks when none are reported); every compared bank the
// component lists must hold the event's digest.
//
// PCRs: every PCR the log extends must be reported in every compared bank
// (else its events are unproven: undecided), and a reported PCR other than
// 10 that the log does not extend but holds measurements means events were
// removed (untrusted).
//
// Verdict (VerdictName):
//   undecided — the evidence cannot prove anything: no reported PCRs, a
//     required bank absent, SHA-1-only evidence the policy refuses, or no
//     PCR of the log covered by the report. Unverifiable evidence never
//     yields "trusted"; with findings it yields "untrusted" (fail closed).
//   untrusted — a component is tampered, unknown, missing or quarantined,
//     a PCR does not replay to its reported value, or differs from golden.
//   trusted — none of the above.
//
// Thread-compatible; pure functions of their inputs.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tc/crypto/hash.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/ima/allowlist.h"
#include "tc/ima/verify.h"
#include "tc/pcr/pcr_values.h"
#include "tc/policy/policy.h"

namespace tc::policy {

// Caps on what a hostile log can make a report hold.
inline constexpr std::size_t kMaxEventsPerComponent = 64;
inline constexpr std::size_t kMaxUnknownComponents = 1000;

enum class ComponentState { kTrusted, kUnknown, kTampered, kMissing, kQuarantined };
// "trusted", "unknown", "tampered", "missing", "quarantined" (JSON "state").
std::string_view ComponentStateName(ComponentState s);

enum class Verdict { kTrusted, kUntrusted, kUndecided };
std::string_view VerdictName(Verdict v);  // "trusted", "untrusted", "undecided"

// One event (or IMA entry) as judged.
struct EventResult {
  std::size_t index = 0;   // event index in the log (IMA: entry index)
  std::size_t offset = 0;  // byte offset in its file
  std::uint32_t pcr = 0;
  std::string type;         // "EV_IPL", or "ima" for a runtime entry
  std::uint32_t type_value = 0;  // the TCG event type (0 for IMA entries)
  std::string description;  // what the event names (file, variable, text)
  ComponentState state = ComponentState::kTrusted;
  std::string measured;                // "alg:hex"
  std::vector<std::string> expected;   // trusted digests, "alg:hex"
  std::string measured_content;        // what the measured digest covers
  std::string expected_content;        // what a trusted digest covers
};

struct ComponentResult {
  std::string name;
  Stage stage = Stage::kFirmware;
  ComponentState state = ComponentState::kTrusted;
  bool in_policy = false;  // false for unknown components (and IMA findings)
  std::string what;        // plain noun: "kernel command line"
  std::string reason;      // one sentence for people, "" when trusted
  std::string diff;        // for text content: "mbtest.variant=A -> mbtest.variant=B"
  std::vector<EventResult> events;  // the first kMaxEventsPerComponent
  std::size_t events_omitted = 0;   // more events, counted (they count for the state)
};

struct PcrResult {
  crypto::HashAlg alg = crypto::HashAlg::kSha256;
  std::uint32_t pcr = 0;
  std::string status;  // eventlog::PcrStatusName, or "not-reported"
  std::optional<crypto::Digest> replayed;
  std::optional<crypto::Digest> reported;
  std::optional<crypto::Digest> golden;  // when the policy has one
  std::optional<bool> golden_match;
};

struct Evaluation {
  Verdict verdict = Verdict::kUndecided;
  // Why the verdict is not "trusted", one sentence each.
  std::vector<std::string> problems;
  std::vector<ComponentResult> components;  // policy order, then unknown ones
  std::vector<PcrResult> pcrs;
  // Reported PCRs were given, cover every PCR the log extends in every bank
  // compared, and all match: the events are what the TPM measured.
  bool attested = false;
  std::string reported_source;
  // IMA part, when a list was given.
  std::optional<ima::VerifyResult> ima;
  std::size_t ima_components_omitted = 0;  // findings past the cap
  std::size_t unknown_omitted = 0;         // unknown events past kMaxUnknownComponents
  // The evidence is weaker than the policy demands (SHA-1 only, a required
  // bank absent).
  bool weak = false;

  // Everything judged is proven by the TPM: the log is attested, the
  // evidence is as strong as the policy demands, and the IMA list (if any)
  // replays to the reported PCR 10. Only then may findings change a policy.
  bool EvidenceProven() const;
};

// What a verification is judged on.
struct BootEvidence {
  const eventlog::EventLog* log = nullptr;  // required
  const eventlog::ReplayResult* replay = nullptr;  // required: Replay(*log)
  // PCR values reported by the TPM (a checked quote, or read by a trusted
  // party); nullptr when none were given.
  const pcr::PcrValues* reported = nullptr;
  std::string reported_source;  // "quote verified with AK ...", "pcrs file X"
};

// Judges the firmware log. Fills components, pcrs, attested and problems;
// call Decide() after adding the IMA part (or not).
Evaluation EvaluateBoot(const Policy& policy, const BootEvidence& evidence);

// The allowlist the IMA list is checked with: the policy's files and the
// trusted digests of its os-file components. boot_aggregate is excluded
// (it is checked against the firmware PCRs instead).
ima::Allowlist BuildAllowlist(const Policy& policy);

// Turns the IMA verification's findings into components: a listed path
// with another digest is tampered (or quarantined, when the policy holds
// that digest as quarantined), an unlisted one unknown; findings about the
// list itself (template digests, PCR 10, boot_aggregate) go to one
// component "ima-measurement-list". At most `max_components` file
// components are kept; the rest are counted.
void AddImaResult(const Policy& policy, ima::VerifyResult result, Evaluation& evaluation,
                  std::size_t max_components = 1000);

// Sets verdict (and adds problems) from everything above.
void Decide(const Policy& policy, Evaluation& evaluation);

// Word diff of two texts (command lines): "a=1 -> a=2", "removed: x",
// "added: y", joined by "; ". Empty when equal.
std::string TextDiff(std::string_view before, std::string_view after);

}  // namespace tc::policy
