#pragma once

// TPM response codes as values to branch on (internal to tc/tpm/esys).

#include <cstdint>

#include "tc/tpm/esys/internal/tss_api.h"

namespace tc::tpm::internal {

// The TPM's response code with the handle, session or parameter number
// removed, so it compares equal to TPM2_RC_* constants: format-one codes
// (bit 7 set) keep bit 7 and the error number in bits 0..5; format-zero
// codes keep their 12 bits (TPM 2.0 Part 2, 6.6.3, "Response Code
// Formats"). 0 when `rc` is not from the TPM (an ESYS, TCTI or other TSS
// layer error, whose layer is in bits 16..23).
inline std::uint32_t TpmRcBase(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) return 0;
  if ((rc & TPM2_RC_FMT1) != 0) return rc & (TPM2_RC_FMT1 | 0x3Fu);
  return rc & 0xFFFu;
}

}  // namespace tc::tpm::internal
