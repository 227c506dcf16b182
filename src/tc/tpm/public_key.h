#pragma once

// An attestation key's public key, ready to check TPM signatures.
// Loaded from a TPM2B_PUBLIC (as tpm2_createak writes it) or from PEM
// (SubjectPublicKeyInfo). Immutable and thread-safe once made.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/tpm/marshal.h"

namespace tc::tpm {

class PublicKey {
 public:
  // RSA of 2048 to 4096 bits with an odd public exponent of at least 3
  // (keyBits must match the modulus), or ECC on NIST P-256/P-384/P-521.
  // Anything weaker is refused with kUnsupported: a verifier must not accept
  // a key that anyone can forge signatures for (e = 1, a tiny modulus).
  [[nodiscard]] static Result<PublicKey> FromPublicArea(const PublicArea& area);
  [[nodiscard]] static Result<PublicKey> FromPem(std::string_view pem);
  // A file's content: PEM when it starts with "-----BEGIN", else TPM2B_PUBLIC.
  [[nodiscard]] static Result<PublicKey> Load(std::span<const std::uint8_t> bytes);

  // Checks `sig` over `message` (the signed TPMS_ATTEST bytes). Fails with
  // kVerificationFailed when the signature is wrong, its scheme does not
  // fit the key, or the key fixes a scheme or hash the signature does not
  // use; kUnsupported for schemes we do not check.
  [[nodiscard]] Result<void> Verify(std::span<const std::uint8_t> message,
                                    const Signature& sig) const;

  // True when the certificate (DER) certifies this very key (its
  // SubjectPublicKeyInfo holds the same key): an EK certificate belongs to
  // the EK read from the TPM. kMalformed when the DER is not a certificate.
  [[nodiscard]] Result<bool> CertifiedBy(std::span<const std::uint8_t> certificate_der) const;

  bool is_rsa() const { return rsa_; }
  // The TPM public area when loaded from one (not from PEM).
  const std::optional<PublicArea>& area() const { return area_; }
  // "RSA-2048", "ECC P-256".
  std::string Describe() const;

 private:
  PublicKey() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  std::optional<PublicArea> area_;
  bool rsa_ = false;
  int bits_ = 0;
};

}  // namespace tc::tpm
