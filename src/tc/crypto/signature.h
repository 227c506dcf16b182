#pragma once

// Public keys that check signatures over digests: IMA/EVM file signatures
// (the kernel's asymmetric_verify: RSA PKCS#1 v1.5 or ECDSA over the file
// digest), and later signed policies. Loaded from an X.509 certificate or a
// SubjectPublicKeyInfo, PEM or DER. Immutable and thread-safe once made.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::crypto {

class VerifyKey {
 public:
  // PEM ("-----BEGIN CERTIFICATE-----" or "PUBLIC KEY") or DER (a
  // certificate or SubjectPublicKeyInfo). RSA of at least 2048 bits with an
  // odd exponent >= 3, or ECDSA on P-256/P-384/P-521; anything else is
  // refused (kUnsupported). kMalformed when nothing parses.
  [[nodiscard]] static Result<VerifyKey> Load(std::span<const std::uint8_t> bytes);

  // Checks `signature` over `digest`, a hash made with `alg`: RSASSA-PKCS1
  // v1.5 (DigestInfo of alg) or ECDSA (DER Ecdsa-Sig-Value). kVerificationFailed
  // when it does not verify.
  [[nodiscard]] Result<void> VerifyDigest(HashAlg alg, std::span<const std::uint8_t> digest,
                                          std::span<const std::uint8_t> signature) const;

  // Identifiers of the key, for matching a signature's key id: the
  // certificate's subject key identifier (if any), and the SHA-1 of the
  // subjectPublicKey bits (RFC 5280 4.2.1.2 method 1), which IMA's key id
  // is the last 4 bytes of.
  const std::vector<Bytes>& key_ids() const { return key_ids_; }
  // "RSA-2048", "ECDSA P-256", with the certificate's subject when known.
  const std::string& description() const { return description_; }

 private:
  VerifyKey() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  std::vector<Bytes> key_ids_;
  std::string description_;
};

// A private key that signs digests: ECDSA on P-256 (policy signatures).
// Loaded from PEM ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY", unencrypted).
// Immutable and thread-safe once made.
class SigningKey {
 public:
  // kUnsupported for a key that is not ECDSA P-256, kMalformed when
  // nothing parses.
  [[nodiscard]] static Result<SigningKey> Load(std::span<const std::uint8_t> pem);
  // DER ECDSA-Sig-Value over `digest` (made with `alg`).
  [[nodiscard]] Result<Bytes> SignDigest(HashAlg alg, std::span<const std::uint8_t> digest) const;
  // SHA-1 of the public key's subjectPublicKey bits: equals the last of
  // VerifyKey::key_ids() for the matching public key.
  const Bytes& key_id() const { return key_id_; }

 private:
  SigningKey() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  Bytes key_id_;
};

}  // namespace tc::crypto
