#pragma once

// Changing a whitelist, as the trust chain prescribes: a tampered
// component's measurement is taken out of trust (quarantined) with the
// time, the reason and the evidence digest; a person re-admits it
// (approve); an update is admitted ahead of time (stage); superseded digests
// are removed (retire). Every change bumps the policy's version and yields
// audit records (one JSON object per line, appended by the caller).
//
// Functions change `policy` in memory only; the caller writes the file
// (atomically) and the audit log. A signed policy loses its signature on
// any change (it no longer covers the content); the caller re-signs.

#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/policy.h"

namespace tc::policy {

struct AuditRecord {
  std::string time;    // RFC 3339
  std::string action;  // "quarantine", "approve", "stage", "retire"
  std::string component;
  std::string digest;  // "alg:hex"
  std::string reason;
  std::string evidence;  // where the measurement was seen
  std::uint64_t policy_version = 0;
};

// One JSON object on one line (no newline).
std::string AuditLine(const AuditRecord& record);

// Building blocks for other kinds of evidence (launch/check.h): a record,
// and the end of one change (the version bumped once, the signature
// dropped, every record stamped with the new version; nothing when
// `records` is empty).
AuditRecord MakeAuditRecord(std::string_view action, const std::string& component,
                            const crypto::Digest& digest, const std::string& reason,
                            const std::string& evidence, const std::string& now);
void CommitChange(std::vector<AuditRecord>& records, Policy& policy);

// For every tampered component of `evaluation`: its trusted digests become
// quarantined, and the measured (evidence) digests are added as quarantined,
// each with `reason` = the finding and `evidence`. For every unknown
// component: added to the policy (required = false) with its measured
// digests quarantined, so that a person can approve it. IMA files: the
// path's digests leave policy.files for an os-file component holding them
// quarantined. Returns the records; none (and no version bump) when nothing
// was tampered or unknown. Call only when evaluation.EvidenceProven():
// findings in unproven evidence are whatever the sender wrote.
std::vector<AuditRecord> Quarantine(const Evaluation& evaluation, const std::string& evidence,
                                    const std::string& now, Policy& policy);

// Re-admits quarantined digests of `component`: the one given, or all of
// them when `digest` is empty. kNotFound when the component or digest is
// not there, kInvalidArgument when nothing of it is quarantined.
[[nodiscard]] Result<std::vector<AuditRecord>> Approve(const std::string& component,
                                                       const std::string& digest,
                                                       const std::string& reason,
                                                       const std::string& now, Policy& policy);

// Adds digests to `component` as trusted ahead of an update, each with its
// source; one version bump for all. kNotFound for an unknown component;
// digests already trusted are left as they are; a quarantined one refuses
// the whole change (kInvalidArgument: approve it instead).
struct StagedDigest {
  crypto::Digest digest;
  std::string source;
};
[[nodiscard]] Result<std::vector<AuditRecord>> StageUpdate(const std::string& component,
                                                     std::span<const StagedDigest> digests,
                                                     const std::string& now, Policy& policy);
// The same for one digest.
[[nodiscard]] Result<std::vector<AuditRecord>> StageUpdate(const std::string& component,
                                                     const crypto::Digest& digest,
                                                     const std::string& source,
                                                     const std::string& now, Policy& policy);

// Removes `digest` from `component` (or every quarantined digest when
// `digest` is "quarantined"). kNotFound when absent. A component left with
// no digest is removed.
[[nodiscard]] Result<std::vector<AuditRecord>> Retire(const std::string& component,
                                                      const std::string& digest,
                                                      const std::string& now, Policy& policy);

}  // namespace tc::policy
