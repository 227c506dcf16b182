#pragma once

// The file `trustchain tpm ak create` writes and `tpm quote` reads: an
// AttestationKey (tpm.h) saved so that the AK can be used again, in its
// TPM or at its persistent handle. The blobs are TPM-encrypted
// (TPM2B_PRIVATE is wrapped by the parent EK's seed): the file is not
// secret, but it only works with the TPM that made it.
//
// Format, version 1 (all integers big-endian):
//   "TCAK" | u8 version=1 | u8 alg | u8 parent (0 RSA-2048, 1 ECC P-256)
//   | u8 persistent (0/1) | u32 handle | u16+bytes TPM2B_PUBLIC
//   | u16+bytes TPM2B_PRIVATE (empty when persistent)

#include <span>

#include "tc/base/error.h"
#include "tc/tpm/tpm.h"

namespace tc::tpm {

Bytes SerializeAk(const AttestationKey& ak);
// Reads the format above from untrusted bytes; the Name is recomputed from
// the public area. kMalformed naming the offset on any error.
[[nodiscard]] Result<AttestationKey> ParseAk(std::span<const std::uint8_t> bytes);

// "rsa" / "ecc"
std::string_view KeyAlgName(KeyAlg alg);
[[nodiscard]] Result<KeyAlg> ParseKeyAlg(std::string_view name);

}  // namespace tc::tpm
