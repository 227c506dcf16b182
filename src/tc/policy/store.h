#pragma once

// Policy files on disk: loading with the integrity checks an operator asks
// for, writing atomically (a crash never leaves half a whitelist), and the
// append-only audit log.

#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/signature.h"
#include "tc/policy/enforce.h"
#include "tc/policy/policy.h"

namespace tc::policy {

// Largest policy file read (a whitelist of a million runtime files is
// about 100 MiB).
inline constexpr std::size_t kMaxPolicyFileSize = std::size_t{1} << 30;

// Reads and parses `path`; errors are prefixed with the path. With `key`,
// the policy must carry a signature by that key that verifies
// (kVerificationFailed otherwise). Without `key`, a signed policy is
// refused too (kInvalidArgument): its signature would go unchecked.
[[nodiscard]] Result<Policy> LoadPolicyFile(const std::string& path,
                                            const crypto::VerifyKey* key);

// Writes the policy (SerializePolicy) atomically, mode 0644.
[[nodiscard]] Result<void> SavePolicyFile(const std::string& path, const Policy& policy);

// Appends one line per record (AuditLine) and flushes it to disk.
[[nodiscard]] Result<void> AppendAudit(const std::string& path,
                                       const std::vector<AuditRecord>& records);

// The audit log's default path for a policy file: "<policy>.audit.jsonl".
std::string DefaultAuditPath(const std::string& policy_path);

}  // namespace tc::policy
