#pragma once

// Judging what a guest will run against the whitelist, before it runs
// (issue 6), and learning or quarantining the guest's launch components.
//
// Each VM's launch inputs are components of the policy named
// "<vm>/<slot>" (launch_record.h: "web1/kernel", "web1/cmdline",
// "web1/disk0", "web1/disk0:/EFI/BOOT/BOOTX64.EFI"), of the guest-* stages:
//
//   firmware-code, firmware-vars  -> guest-firmware
//   kernel                        -> guest-kernel
//   initrd                        -> guest-initrd
//   cmdline                       -> guest-cmdline  (the digest of the text)
//   disk<N>, efi-binary           -> guest-image    (an EFI binary by its
//                                                    Authenticode digest)
//
// with match {"pcr": <host launch PCR>, "description": "<vm>"}. A file is
// judged by its sha256 (an EFI binary by its Authenticode sha256); the
// component's `content` is the path (the command line's text for cmdline),
// so that a report says what changed.
//
// Verdict per input: the component's trusted digest -> trusted, its
// quarantined digest -> quarantined, another digest -> tampered, no such
// component -> unknown. A required component of the VM that no input
// fills -> missing. The vTPM's EK record is not judged (it binds the guest
// to the host log; docs/launch.md). A disk or variable store whose path
// matches the policy's `excludes` (a writable NVRAM or data disk that the
// guest changes) is recorded in the launch log but not judged; code and the
// command line are always judged.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/doc/value.h"
#include "tc/launch/launch_record.h"
#include "tc/policy/enforce.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/policy.h"

namespace tc::launch {

// The policy stage of an input kind (kVtpmEk: none; returns kGuestImage and
// callers skip it).
policy::Stage StageOf(InputKind kind);
// "<vm>/<slot>".
std::string ComponentName(std::string_view vm, std::string_view slot);

struct InputVerdict {
  std::string component;  // "<vm>/<slot>"
  policy::Stage stage = policy::Stage::kGuestImage;
  policy::ComponentState state = policy::ComponentState::kTrusted;
  std::string kind;            // InputKindName
  std::string path;            // empty for the command line and missing components
  std::string reason;          // for people; empty when trusted
  std::string diff;            // command lines: TextDiff of the trusted and the measured text
  std::string measured;        // "sha256:<hex>"; empty when missing
  std::vector<std::string> expected;  // the component's trusted digests
  std::string expected_content;       // what the trusted digest covered (path or text)
  std::string measured_content;
  bool judged = true;  // false: recorded only (vTPM EK, an excluded path)
};

struct LaunchCheck {
  std::string vm;
  std::vector<InputVerdict> items;  // inputs in order, then missing components
  policy::Verdict verdict = policy::Verdict::kTrusted;
  std::vector<std::string> problems;  // one sentence per finding
  // Counts by state of judged items.
  std::size_t Count(policy::ComponentState state) const;
};

// Judges `inputs` (all of VM `vm`) against `policy`.
LaunchCheck CheckLaunch(const policy::Policy& policy, std::string_view vm,
                        std::span<const MeasuredInput> inputs);

// Takes the findings of `check` out of trust, as `verify --enforce` does
// for a boot (policy/enforce.h): a tampered component's trusted digests
// become quarantined and the measured digest is added as quarantined; an
// unknown input becomes a new component (required = false) holding its
// measured digest quarantined, for a person to approve. One version bump;
// one audit record per digest. Call only with inputs the launcher measured
// itself.
std::vector<policy::AuditRecord> QuarantineLaunch(const LaunchCheck& check,
                                                  std::span<const MeasuredInput> inputs,
                                                  std::uint32_t pcr, const std::string& evidence,
                                                  const std::string& now, policy::Policy& policy);

// Admits every judged input of VM `vm` as trusted (`policy learn` for a
// launch): creates the component (required = true) or adds the digest to
// it (a quarantined digest stays quarantined: approve it instead). Returns
// one audit record ("learn") per digest added; the version is bumped once
// when there is any.
std::vector<policy::AuditRecord> LearnLaunch(std::string_view vm,
                                             std::span<const MeasuredInput> inputs,
                                             std::uint32_t pcr, const std::string& source,
                                             const std::string& now, policy::Policy& policy);

// Reports: one line per input ("STATE COMPONENT KIND PATH/REASON") with
// expected and measured digests for findings; JSON {"vm", "verdict",
// "inputs": [{"component", "stage", "kind", "path", "state", "reason",
// "diff"?, "measured", "expected", "judged"}], "problems", "summary"}.
std::string LaunchCheckText(const LaunchCheck& check);
doc::Value LaunchCheckDocument(const LaunchCheck& check);

}  // namespace tc::launch
