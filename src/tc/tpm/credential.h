#pragma once

// TPM2_MakeCredential done in software, for the verifier side (TPM 2.0
// Library Part 1, 24 "Credential Protection"; Part 3, 12.6; section numbers
// of revision 1.59). A verifier with no TPM encrypts a challenge to an
// agent's EK so that only the TPM holding that EK, with the AK named
// `ak_name` loaded, can recover it by TPM2_ActivateCredential (Part 3,
// 12.5). Checking that the agent returns the secret proves the AK lives in
// the same TPM as the EK.
//
// Also the key derivation functions of Part 1, 11.4.10 (KDFa, KDFe) and the
// credential file format of tpm2-tools (tpm2_makecredential -o,
// tpm2_activatecredential -i).
//
// All functions are thread-safe. Inputs are the verifier's own (an EK public
// area it chose to trust, an AK name from evidence): they are checked, and
// bad ones fail with kInvalidArgument or kUnsupported, never abort.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/tpm/marshal.h"

namespace tc::tpm {

// The two outputs of TPM2_MakeCredential, each marshaled with its UINT16
// big-endian size, as TPM2_ActivateCredential takes them.
struct Credential {
  // TPM2B_ID_OBJECT (Part 2, 12.4.3): size || TPMS_ID_OBJECT, that is
  // size || TPM2B_DIGEST integrityHMAC || encIdentity, where encIdentity is
  // the AES-CFB encryption of the marshaled TPM2B_DIGEST of the secret (its
  // size field encrypted too, so it has no clear size of its own).
  Bytes credential_blob;
  // TPM2B_ENCRYPTED_SECRET (Part 2, 11.4.33): size || the RSA-OAEP
  // encryption of the seed (RSA EK), or size || TPMS_ECC_POINT, the
  // ephemeral public key (ECC EK).
  Bytes encrypted_secret;
  friend bool operator==(const Credential&, const Credential&) = default;
};

// Caps of the two TPM2Bs when read back from a file.
inline constexpr std::size_t kMaxIdObjectSize = 2 + 64 + 2 + 64;  // TPMS_ID_OBJECT
inline constexpr std::size_t kMaxEncryptedSecretSize = kMaxRsaKeyBytes;

// TPM2_MakeCredential (Part 1, 24.4-24.5), with a fresh random seed (RSA)
// or ephemeral key (ECC).
//
// ek: the EK's public area from ParsePublic2b (its `marshaled` bytes are
// read for the symmetric definition): an RSA key (2048 to 4096 bits) or an
// ECC key on NIST P-256/P-384/P-521, with the decrypt attribute, a symmetric
// definition of AES-128/192/256 in CFB mode, and a nameAlg of sha1, sha256,
// sha384 or sha512. The TCG EK Credential Profile templates (RSA 2048 and
// ECC P-256, AES-128-CFB, sha256) are the expected case.
// ak_name: the Name of the credentialed object, nameAlg (UINT16 BE) ||
// digest (Part 1, 16), as tpm2_createak -n writes it.
// secret: 1 to DigestSize(ek.name_alg) bytes (32 for sha256).
//
// Fails with kInvalidArgument for a secret of the wrong size, a malformed
// Name, or an EK that is not a decryption key with a symmetric definition;
// kUnsupported for other key types, curves, symmetric algorithms or modes,
// or hashes. The secret is not kept.
[[nodiscard]] Result<Credential> MakeCredential(const PublicArea& ek,
                                                std::span<const std::uint8_t> ak_name,
                                                std::span<const std::uint8_t> secret);

// The same with the randomness supplied, for deterministic tests:
// RSA: `randomness` is the seed, exactly DigestSize(ek.name_alg) bytes.
//   RSA-OAEP padding still draws its own random bytes, so encrypted_secret
//   differs between calls; credential_blob does not.
// ECC: `randomness` is the ephemeral private key, a big-endian integer of
//   exactly the curve's field size (32 bytes for P-256), in [1, n-1]. Both
//   outputs are then deterministic.
// Fails with kInvalidArgument when `randomness` does not fit, besides the
// errors of MakeCredential. Never reuse randomness outside tests.
[[nodiscard]] Result<Credential> MakeCredentialWithRandomness(
    const PublicArea& ek, std::span<const std::uint8_t> ak_name,
    std::span<const std::uint8_t> secret, std::span<const std::uint8_t> randomness);

// KDFa (Part 1, 11.4.10.2): SP 800-108 KDF in counter mode with HMAC-`alg`:
//   K(i) = HMAC(key, [i]_32 || Label || 0x00 || contextU || contextV || [bits]_32)
// for i = 1, 2, ..., concatenated and truncated to `bits`. `label` is given
// without its terminating NUL, which is added (a label already ending in
// NUL gets no second one). `bits` must be a positive multiple of 8 and at
// most 8192 (kInvalidArgument otherwise); kUnsupported when this OpenSSL
// lacks `alg`.
[[nodiscard]] Result<Bytes> KdfA(crypto::HashAlg alg, std::span<const std::uint8_t> key,
                                 std::string_view label,
                                 std::span<const std::uint8_t> context_u,
                                 std::span<const std::uint8_t> context_v, std::size_t bits);

// KDFe (Part 1, 11.4.10.3): SP 800-56A concatenation KDF with `alg`:
//   K(i) = H([i]_32 || Z || Use || 0x00 || PartyUInfo || PartyVInfo)
// for i = 1, 2, ..., concatenated and truncated to `bits`. `use` is given
// without its NUL, as for KdfA. Same limits and errors as KdfA.
[[nodiscard]] Result<Bytes> KdfE(crypto::HashAlg alg, std::span<const std::uint8_t> z,
                                 std::string_view use,
                                 std::span<const std::uint8_t> party_u_info,
                                 std::span<const std::uint8_t> party_v_info, std::size_t bits);

// The credential file of tpm2-tools 5.x (tpm2_makecredential -o writes it,
// tpm2_activatecredential -i reads it; tpm2-tools lib/files.c):
//   UINT32 BE magic 0xBADCC0DE || UINT32 BE version 1 ||
//   TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET
// (each TPM2B with its UINT16 BE size, as in Credential).
inline constexpr std::uint32_t kTpm2ToolsMagic = 0xBADCC0DE;
inline constexpr std::uint32_t kTpm2ToolsCredentialVersion = 1;

// Fails with kInvalidArgument when either field of `c` is not exactly one
// TPM2B within its cap.
[[nodiscard]] Result<Bytes> Tpm2ToolsCredentialFile(const Credential& c);
// Parses such a file (untrusted bytes): kMalformed on a wrong magic, a
// truncated or oversized TPM2B, or trailing bytes; kUnsupported on another
// version.
[[nodiscard]] Result<Credential> ParseTpm2ToolsCredentialFile(
    std::span<const std::uint8_t> bytes);

}  // namespace tc::tpm
