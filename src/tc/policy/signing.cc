#include "tc/policy/signing.h"

#include <fmt/format.h>

namespace tc::policy {

Result<void> SignPolicy(const crypto::SigningKey& key, Policy& policy) {
  policy.signature.reset();
  TC_ASSIGN_OR_RETURN(const crypto::Digest d,
                      crypto::Hash(crypto::HashAlg::kSha256, AsBytes(CanonicalBytes(policy))));
  TC_ASSIGN_OR_RETURN(Bytes sig, key.SignDigest(crypto::HashAlg::kSha256, d.bytes()));
  policy.signature = PolicySignature{std::string(kSignatureAlg), ToHex(key.key_id()), std::move(sig)};
  return {};
}

Result<void> VerifyPolicySignature(const Policy& policy, const crypto::VerifyKey& key) {
  if (!policy.signature) {
    return Fail(ErrorCode::kVerificationFailed,
                "the policy is not signed, and a policy key was given: sign it with `trustchain "
                "policy sign`");
  }
  const PolicySignature& sig = *policy.signature;
  if (sig.alg != kSignatureAlg) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("signature algorithm \"{}\" is not {}", sig.alg, kSignatureAlg));
  }
  bool key_matches = false;
  for (const Bytes& id : key.key_ids()) key_matches |= ToHex(id) == sig.key_id;
  if (!key_matches) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the policy is signed by key {}, not by the key given ({})", sig.key_id,
                            key.description()));
  }
  TC_ASSIGN_OR_RETURN(const crypto::Digest d,
                      crypto::Hash(crypto::HashAlg::kSha256, AsBytes(CanonicalBytes(policy))));
  auto ok = key.VerifyDigest(crypto::HashAlg::kSha256, d.bytes(), sig.value);
  if (!ok) {
    return Fail(ErrorCode::kVerificationFailed,
                "the policy's signature does not verify: its content was changed after signing");
  }
  return {};
}

crypto::Digest PolicyDigest(const Policy& policy) {
  auto d = crypto::Hash(crypto::HashAlg::kSha256, AsBytes(SerializePolicy(policy)));
  return d ? *d : crypto::Digest(crypto::HashAlg::kSha256);
}

}  // namespace tc::policy
