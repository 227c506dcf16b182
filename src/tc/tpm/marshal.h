#pragma once

// TPM 2.0 structures a verifier reads from untrusted evidence, parsed with
// ByteReader in the TPM's big-endian wire format (TPM 2.0 Library Part 2,
// "Structures"; section numbers below are of revision 1.59). These parsers
// need no TPM and no tpm2-tss: the verifier side runs anywhere.
//
// Every parser consumes exactly its structure from the reader and fails with
// kMalformed naming the offset; ParseX(span) variants also reject trailing
// bytes.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/byte_reader.h"
#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::tpm {

// TPM_ALG_ID values (Part 2, 6.3) beyond the hashes of crypto::HashAlg.
namespace alg {
inline constexpr std::uint16_t kRsa = 0x0001;
inline constexpr std::uint16_t kKeyedHash = 0x0008;
inline constexpr std::uint16_t kNull = 0x0010;
inline constexpr std::uint16_t kRsaSsa = 0x0014;
inline constexpr std::uint16_t kRsaPss = 0x0016;
inline constexpr std::uint16_t kEcdsa = 0x0018;
inline constexpr std::uint16_t kEcc = 0x0023;
inline constexpr std::uint16_t kSymCipher = 0x0025;
}  // namespace alg

// TPM_GENERATED_VALUE (Part 2, 6.2) and TPM_ST_ATTEST_QUOTE (6.9).
inline constexpr std::uint32_t kTpmGeneratedValue = 0xFF544347;
inline constexpr std::uint16_t kStAttestQuote = 0x8018;

// Caps (Part 2 sizes; checked before anything is allocated).
inline constexpr std::size_t kMaxPcrSelections = 16;  // HASH_COUNT upper bound
inline constexpr std::size_t kMaxSizeofSelect = 4;    // PCR_SELECT_MAX (32 PCRs)
inline constexpr std::size_t kMaxBufferSize = 1024;   // TPM2B_DATA/NAME/DIGEST
inline constexpr std::size_t kMaxRsaKeyBytes = 512;   // 4096-bit
inline constexpr std::size_t kMaxEccCoordinate = 66;  // P-521

// One bank's selected PCRs (TPMS_PCR_SELECTION, Part 2, 10.6.2).
struct PcrBankSelection {
  crypto::HashAlg alg;
  std::vector<std::uint32_t> pcrs;  // ascending
  friend bool operator==(const PcrBankSelection&, const PcrBankSelection&) = default;
};
// TPML_PCR_SELECTION (Part 2, 10.9.7), in its order.
using PcrSelectionList = std::vector<PcrBankSelection>;

// "sha256:0,1,2+sha1:0" (tpm2-tools' form).
std::string PcrSelectionText(const PcrSelectionList& s);
// Parses that form; also "sha256:all". kInvalidArgument on errors.
[[nodiscard]] Result<PcrSelectionList> ParsePcrSelectionText(std::string_view text);

[[nodiscard]] Result<PcrSelectionList> ReadPcrSelectionList(ByteReader& in);

// TPMS_CLOCK_INFO (Part 2, 10.11.1).
struct ClockInfo {
  std::uint64_t clock = 0;
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  bool safe = false;
};

// TPMS_ATTEST (Part 2, 10.12.12) with TPMS_QUOTE_INFO (10.12.4) when the
// type is TPM_ST_ATTEST_QUOTE. Other attestation types parse their header
// only (type != kStAttestQuote; `quote_*` stay empty) and are rejected by
// quote verification.
struct Attest {
  std::uint32_t magic = 0;
  std::uint16_t type = 0;
  Bytes qualified_signer;  // TPM2B_NAME
  Bytes extra_data;        // TPM2B_DATA: the nonce (qualifying data)
  ClockInfo clock_info;
  std::uint64_t firmware_version = 0;
  PcrSelectionList quote_selection;
  Bytes quote_pcr_digest;  // TPM2B_DIGEST
};
[[nodiscard]] Result<Attest> ParseAttest(std::span<const std::uint8_t> bytes);

// TPMT_SIGNATURE (Part 2, 11.3.4): RSASSA, RSAPSS or ECDSA.
struct Signature {
  std::uint16_t sig_alg = 0;  // alg::kRsaSsa, kRsaPss, kEcdsa
  crypto::HashAlg hash = crypto::HashAlg::kSha256;
  Bytes rsa;                  // RSA signature, big-endian
  Bytes ecdsa_r, ecdsa_s;     // ECDSA, big-endian integers
};
[[nodiscard]] Result<Signature> ParseSignature(std::span<const std::uint8_t> bytes);

// TPMT_PUBLIC of an RSA or ECC key (Part 2, 12.2.4), as TPM2B_PUBLIC
// (12.2.5) carries it.
struct PublicArea {
  std::uint16_t type = 0;  // alg::kRsa or alg::kEcc
  crypto::HashAlg name_alg = crypto::HashAlg::kSha256;
  std::uint32_t object_attributes = 0;
  Bytes auth_policy;
  std::uint16_t scheme = alg::kNull;  // signing scheme, if fixed
  std::optional<crypto::HashAlg> scheme_hash;
  // RSA
  std::uint16_t rsa_key_bits = 0;
  std::uint32_t rsa_exponent = 0;  // 0 means 65537
  Bytes rsa_modulus;
  // ECC
  std::uint16_t ecc_curve = 0;  // TPM_ECC_NIST_P256 = 0x0003, ...
  Bytes ecc_x, ecc_y;
  // The marshaled TPMT_PUBLIC, for computing the object's Name.
  Bytes marshaled;

  bool restricted() const { return (object_attributes & (1u << 16)) != 0; }
  bool sign() const { return (object_attributes & (1u << 18)) != 0; }
};
[[nodiscard]] Result<PublicArea> ParsePublic2b(std::span<const std::uint8_t> bytes);

// The Name of an object: nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1, 16).
[[nodiscard]] Result<Bytes> ObjectName(const PublicArea& p);

}  // namespace tc::tpm
