#pragma once

// Verifying a TPM2_Quote (TPM 2.0 Part 3, 18.4) on the verifier side, with
// no TPM: the signed TPMS_ATTEST, its TPMT_SIGNATURE, the AK's public key,
// the expected nonce and the PCR values the quote is said to cover.
//
// A failed check is a result, not an error (STYLE.md §2): VerifyQuote
// returns every check with its outcome, and fails only when it cannot decide
// (inputs that do not parse: kMalformed / kUnsupported).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/pcr/pcr_values.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/public_key.h"

namespace tc::tpm {

enum class QuoteCheckId {
  kMagic,         // TPMS_ATTEST.magic is TPM_GENERATED_VALUE
  kType,          // TPMS_ATTEST.type is TPM_ST_ATTEST_QUOTE
  kAkAttributes,  // the AK is a restricted signing key that never left its
                  // TPM (only then does the magic prove the TPM made the
                  // bytes: TPM 2.0 Part 1, 36.2)
  kHashAlg,       // the signature's hash is the one the caller requires
  kSignature,     // the AK signed these bytes, with the AK's own scheme
  kNonce,         // extraData equals the nonce the verifier sent
  kPcrSelection,  // the quoted PCR selection is the one the values are for
  kPcrDigest,     // pcrDigest is the hash of the given PCR values
};

// "magic", "type", "ak-attributes", "hash-alg", "signature", "nonce",
// "pcr-selection", "pcr-digest".
std::string_view QuoteCheckName(QuoteCheckId id);

struct QuoteCheck {
  QuoteCheckId id;
  bool passed = false;
  std::string detail;  // why it failed, or what it checked
};

struct QuoteExpectations {
  std::optional<Bytes> nonce;  // when set, extraData must equal it
  // When set, the signature must use this hash (tpm2_checkquote -g).
  std::optional<crypto::HashAlg> hash_alg;
  // When set, the quote's pcrDigest must be the hash (with the signature's
  // hash algorithm, Part 3, 18.4.2) of these values, taken in the quoted
  // selection's order; every quoted PCR must have a value. Not owned; must
  // outlive the call.
  const pcr::PcrValues* pcr_values = nullptr;
  // When set, the quoted selection must equal it exactly (a tpm2-tools PCR
  // file carries the selection its values are for). When unset but
  // pcr_values is set, the quote must cover every PCR in pcr_values: a
  // quote that leaves out a PCR the verifier gave a value for fails
  // pcr-selection. Either way an empty quoted selection fails.
  std::optional<PcrSelectionList> pcr_selection;
};

struct QuoteVerdict {
  Attest attest;
  Signature signature;
  std::vector<QuoteCheck> checks;  // in QuoteCheckId order; skipped ones absent
  // Checks not made, with why ("nonce: no nonce given: a replayed quote
  // would pass"). A verdict with skipped checks proves less; callers show it.
  std::vector<std::string> skipped;

  bool ok() const;
  // The first failed check, or nullptr.
  const QuoteCheck* first_failure() const;
};

[[nodiscard]] Result<QuoteVerdict> VerifyQuote(std::span<const std::uint8_t> attest,
                                               std::span<const std::uint8_t> signature,
                                               const PublicKey& ak,
                                               const QuoteExpectations& expect);

// The PCR file tpm2_quote -o writes (tpm2-tools 5, "serialized" format):
// an in-memory little-endian TPML_PCR_SELECTION (4 + 16 x 8 bytes), a
// UINT32 count, then that many in-memory TPML_DIGEST (4 + 8 x 66 bytes).
// Values are in selection order.
struct ToolsPcrFile {
  PcrSelectionList selection;
  pcr::PcrValues values;
};
[[nodiscard]] Result<ToolsPcrFile> ParseToolsPcrFile(std::span<const std::uint8_t> bytes);

// Writes the serialized form above (what tpm2_quote -o writes by default).
// Fails with kInvalidArgument when a selected PCR has no value or the
// selection is larger than the format holds.
[[nodiscard]] Result<Bytes> SerializeToolsPcrFile(const PcrSelectionList& selection,
                                                  const pcr::PcrValues& values);

// The "values" form: digests concatenated in the order of `selection`
// (tpm2_checkquote -l). Fails when the size does not fit.
[[nodiscard]] Result<ToolsPcrFile> ParseToolsPcrValues(std::span<const std::uint8_t> bytes,
                                                       const PcrSelectionList& selection);

}  // namespace tc::tpm
