#include "tc/policy/store.h"

#include "tc/io/file.h"
#include "tc/policy/signing.h"

namespace tc::policy {

Result<Policy> LoadPolicyFile(const std::string& path, const crypto::VerifyKey* key) {
  TC_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::Open(path, kMaxPolicyFileSize));
  auto policy = ParsePolicy(file.bytes());
  if (!policy) return Fail(std::move(policy).error().Wrap(path));
  if (key != nullptr) {
    auto ok = VerifyPolicySignature(*policy, *key);
    if (!ok) return Fail(std::move(ok).error().Wrap(path));
  } else if (policy->signature) {
    return Fail(ErrorCode::kInvalidArgument,
                path + ": the policy is signed; give the signer's public key (--policy-key) so "
                       "that its signature is checked");
  }
  return policy;
}

Result<void> SavePolicyFile(const std::string& path, const Policy& policy) {
  return io::WriteFileAtomic(path, AsBytes(SerializePolicy(policy)), 0644);
}

Result<void> AppendAudit(const std::string& path, const std::vector<AuditRecord>& records) {
  if (records.empty()) return {};
  std::string text;
  for (const AuditRecord& r : records) text += AuditLine(r) + "\n";
  return io::AppendFile(path, AsBytes(text), 0600);
}

std::string DefaultAuditPath(const std::string& policy_path) {
  return policy_path + ".audit.jsonl";
}

}  // namespace tc::policy
