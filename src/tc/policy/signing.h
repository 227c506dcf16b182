#pragma once

// Policy integrity: an ECDSA P-256 signature embedded in the policy
// ("signature" member) over CanonicalBytes(policy): the canonical JSON
// without the signature. Any change to the content (a digest, a state, the
// version) breaks it.
//
// A verifier that holds the signer's public key refuses a policy that is
// unsigned, signed by another key, or whose signature does not verify.

#include "tc/base/error.h"
#include "tc/crypto/signature.h"
#include "tc/policy/policy.h"

namespace tc::policy {

inline constexpr std::string_view kSignatureAlg = "ecdsa-p256-sha256";

// Sets policy.signature (replacing any).
[[nodiscard]] Result<void> SignPolicy(const crypto::SigningKey& key, Policy& policy);

// kVerificationFailed naming why: unsigned, another key, another
// algorithm, or a signature that does not verify.
[[nodiscard]] Result<void> VerifyPolicySignature(const Policy& policy, const crypto::VerifyKey& key);

// sha256 of CanonicalBytes(policy) with the signature: what a TPM NV index
// anchors (the whole file's identity, signature included).
crypto::Digest PolicyDigest(const Policy& policy);

}  // namespace tc::policy
