#pragma once

// A SealedObject (tc/tpm/tpm.h) as a file, for `trustchain tpm seal --out`
// and `trustchain tpm unseal`. No TPM is needed to read or write one.
//
// Format, version 1 (all integers big-endian, as TPM structures):
//
//   8 bytes   magic "TCSEALED"
//   UINT16    version = 1
//   UINT8     bank count, 1..kMaxSealedBanks
//   per bank: UINT16 TPM_ALG_ID of the hash (TPM 2.0 Part 2, 6.3), a
//             distinct bank each time;
//             UINT8 PCR count, 1..24; that many UINT8 PCR indices, each
//             < 24, strictly ascending
//   UINT16    size, 1..kMaxSealedBlobSize; the marshaled TPM2B_PUBLIC
//             (Part 2, 12.2.5) of the sealed object, its own size field
//             included
//   UINT16    size, 1..kMaxSealedBlobSize; the marshaled TPM2B_PRIVATE
//             (Part 2, 12.3.7)
//   nothing after
//
// The file holds the selection the policy was made over, not the PCR
// values: the TPM checks those at unseal time. The blobs are only usable on
// the TPM that made them, and the file is not secret (the secret inside is
// encrypted under that TPM's storage key), but it is untrusted input: the
// parser reads it through ByteReader with the caps below, and the TPM
// checks the blobs' integrity when loading them.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/tpm/tpm.h"

namespace tc::tpm {

inline constexpr std::size_t kMaxSealedBanks = 16;
// Larger than any TPM2B_PUBLIC or TPM2B_PRIVATE of a sealed data object
// (the TSS's sizeof(TPM2B_PUBLIC) is under 1 KiB, a keyed-hash public area
// under 200 bytes).
inline constexpr std::size_t kMaxSealedBlobSize = 2048;
inline constexpr std::size_t kMaxSealedFileSize =
    8 + 2 + 1 + kMaxSealedBanks * (2 + 1 + 24) + 2 * (2 + kMaxSealedBlobSize);

// The file's bytes. Banks given twice are merged and PCRs sorted, so the
// file is canonical. kInvalidArgument for an empty or oversized blob, no
// PCR at all, more than kMaxSealedBanks banks or a PCR >= 24.
[[nodiscard]] Result<Bytes> SerializeSealedObject(const SealedObject& sealed);

// Parses a file SerializeSealedObject wrote. kMalformed (naming the offset)
// for a wrong magic, a truncated file, a count or size out of range, an
// unknown hash, a repeated bank, PCRs out of order or trailing bytes;
// kUnsupported for another version.
[[nodiscard]] Result<SealedObject> ParseSealedObject(std::span<const std::uint8_t> file);

}  // namespace tc::tpm
