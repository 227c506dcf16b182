#pragma once

// The TPM operations trustchain needs, behind one interface: a real TPM
// (/dev/tpmrm0), a swtpm process, or the embedded in-process libtpms TPM,
// all through tpm2-tss ESYS (tc/tpm/esys), and fakes in tests.
//
// Keys: the EK is made from the TCG EK Credential Profile's default
// templates (the same key every time); the AK is a restricted signing key
// created as a child of the EK, kept either at a persistent handle or as
// blobs to load again (AttestationKey). Seal and NV use the owner
// hierarchy; all authorizations are the empty password, as on a freshly
// provisioned machine (TODO(issue 3): owner and endorsement passwords).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/pcr/pcr_values.h"

namespace tc::tpm {

// TPM_PT_* properties of TPM2_GetCapability (TPM 2.0 Part 2, 6.13).
struct TpmInfo {
  std::string manufacturer;      // TPM_PT_MANUFACTURER as text, e.g. "IBM"
  std::string vendor;            // TPM_PT_VENDOR_STRING_1..4
  std::string firmware_version;  // TPM_PT_FIRMWARE_VERSION_1.2, "major.minor.x.y"
  std::uint32_t spec_level = 0;     // TPM_PT_LEVEL
  std::uint32_t spec_revision = 0;  // TPM_PT_REVISION (e.g. 164 = 1.64)
  std::vector<crypto::HashAlg> active_banks;  // PCR banks with any PCR allocated
  std::string transport;         // "device:/dev/tpmrm0", "embedded:/var/lib/..."
};

struct PcrSelection {
  crypto::HashAlg alg;
  std::vector<std::uint32_t> pcrs;  // 0..23
};

enum class KeyAlg {
  kRsa2048,  // RSA-2048; an AK signs RSASSA with SHA-256
  kEccP256,  // NIST P-256; an AK signs ECDSA with SHA-256
};

// The endorsement key (TCG EK Credential Profile 2.0, 2.2.1.4 "Low Range"
// templates: RSA 2048 and ECC NIST P256).
struct EndorsementKey {
  KeyAlg alg = KeyAlg::kRsa2048;
  Bytes public_2b;  // TPM2B_PUBLIC, as tpm2_createek -u writes it
  Bytes name;       // TPM2B_NAME content: nameAlg || H(TPMT_PUBLIC)
  // The EK certificate (DER) from its NV index (0x01C00002 RSA, 0x01C0000A
  // ECC, EK Credential Profile 2.2.1.5), when the TPM was provisioned
  // with one. swtpm with --create-ek-cert has one; the embedded TPM not yet.
  std::optional<Bytes> certificate;
};

// An attestation key created under an EK. Persistent keys have a handle and
// no private blob; others are loaded under their EK again for each use.
struct AttestationKey {
  KeyAlg alg = KeyAlg::kRsa2048;
  KeyAlg parent = KeyAlg::kRsa2048;  // the EK it was created under
  Bytes public_2b;                   // TPM2B_PUBLIC
  Bytes private_2b;                  // TPM2B_PRIVATE; empty when persistent
  std::optional<std::uint32_t> persistent_handle;  // 0x81xxxxxx
  Bytes name;
};

// What TPM2_Quote returns, marshaled as tpm2_quote writes it (-m, -s).
struct QuoteBlob {
  Bytes attest;     // TPMS_ATTEST
  Bytes signature;  // TPMT_SIGNATURE
};

// An NV index (TPM 2.0 Part 2, 13): ordinary bytes, or an extend index
// whose value is a running hash (TPM_NT_EXTEND).
struct NvDefinition {
  std::uint32_t index = 0;  // 0x01000000..0x01BFFFFF (owner range)
  std::size_t size = 0;     // ordinary: bytes; extend: the hash's size
  bool extend = false;
  crypto::HashAlg hash = crypto::HashAlg::kSha256;  // nameAlg; the extend hash
};

// A secret sealed to PCR values (TPM2_PolicyPCR): a keyed-hash object
// under the owner hierarchy's storage key (the SRK template of the TCG
// Provisioning Guidance), kept as blobs.
struct SealedObject {
  Bytes public_2b;
  Bytes private_2b;
  std::vector<PcrSelection> pcrs;  // the policy's selection
};

// Not thread-safe: one caller at a time. Every transient object and session
// an operation creates is flushed before it returns, on success or error.
class Tpm {
 public:
  virtual ~Tpm() = default;

  [[nodiscard]] virtual Result<TpmInfo> Info() = 0;
  // TPM2_SelfTest (Part 3, 10.2): `full` tests every algorithm, else only
  // those not yet tested. kTpm when the TPM reports a failure.
  [[nodiscard]] virtual Result<void> SelfTest(bool full) = 0;
  // TPM2_Shutdown(TPM_SU_CLEAR) (Part 3, 9.4): an orderly shutdown before a
  // TPM process is stopped, so that the next power-on is not counted as a
  // possible attack by the dictionary-attack logic (Part 1, 19.8.6: every
  // non-orderly shutdown with DA protection counts as a failed try; a vTPM
  // stopped that way a few times locks out its EK).
  [[nodiscard]] virtual Result<void> Shutdown() = 0;
  // Reads any banks and PCRs (the TPM returns at most 8 PCRs per call; the
  // implementation loops).
  [[nodiscard]] virtual Result<pcr::PcrValues> ReadPcrs(
      std::span<const PcrSelection> selection) = 0;
  // TPM2_PCR_Extend with one digest per bank given (each bank must be
  // active); banks not given are not extended.
  [[nodiscard]] virtual Result<void> Extend(
      std::uint32_t pcr, std::span<const crypto::Digest> digests) = 0;
  [[nodiscard]] virtual Result<Bytes> GetRandom(std::size_t size) = 0;

  // Keys and quotes. Transient objects and sessions are flushed before each
  // call returns, on every path.
  [[nodiscard]] virtual Result<EndorsementKey> ReadEk(KeyAlg alg) = 0;
  // Creates an AK under the `parent` EK; with `persist_at`, makes it
  // persistent there (TPM2_EvictControl) and returns no private blob.
  [[nodiscard]] virtual Result<AttestationKey> CreateAk(
      KeyAlg alg, KeyAlg parent, std::optional<std::uint32_t> persist_at) = 0;
  // TPM2_Quote (Part 3, 18.4) over `selection` with `nonce` as qualifying
  // data (at most 64 bytes).
  [[nodiscard]] virtual Result<QuoteBlob> Quote(const AttestationKey& ak,
                                                std::span<const std::uint8_t> nonce,
                                                std::span<const PcrSelection> selection) = 0;
  // TPM2_ActivateCredential (Part 3, 12.5) with the AK and its parent EK:
  // returns the secret a verifier sealed with MakeCredential.
  [[nodiscard]] virtual Result<Bytes> ActivateCredential(
      const AttestationKey& ak, std::span<const std::uint8_t> credential_blob,
      std::span<const std::uint8_t> encrypted_secret) = 0;

  // NV indices in the owner hierarchy (Part 3, 31).
  [[nodiscard]] virtual Result<void> NvDefine(const NvDefinition& nv) = 0;
  [[nodiscard]] virtual Result<void> NvUndefine(std::uint32_t index) = 0;
  [[nodiscard]] virtual Result<void> NvWrite(std::uint32_t index,
                                             std::span<const std::uint8_t> data,
                                             std::uint16_t offset) = 0;
  // The whole index (reads in chunks of the TPM's maximum).
  [[nodiscard]] virtual Result<Bytes> NvRead(std::uint32_t index) = 0;
  [[nodiscard]] virtual Result<void> NvExtend(std::uint32_t index,
                                              std::span<const std::uint8_t> data) = 0;
  [[nodiscard]] virtual Result<void> NvWriteLock(std::uint32_t index) = 0;

  // Seals `secret` (at most 128 bytes) to the current values of `pcrs`.
  [[nodiscard]] virtual Result<SealedObject> Seal(std::span<const std::uint8_t> secret,
                                                  std::span<const PcrSelection> pcrs) = 0;
  // Fails with kVerificationFailed when the PCRs no longer have the sealed
  // values (the policy does not match), kTpm for other TPM errors.
  [[nodiscard]] virtual Result<Bytes> Unseal(const SealedObject& sealed) = 0;
};

}  // namespace tc::tpm
