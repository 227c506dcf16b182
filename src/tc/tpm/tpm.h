#pragma once

// The TPM operations trustchain needs, behind one interface: a real TPM
// (/dev/tpmrm0), a swtpm process, or the embedded in-process libtpms TPM,
// all through tpm2-tss ESYS (tc/tpm/esys), and fakes in tests.
//
// The interface grows with its callers: quotes, keys, NV and sealing are
// added as the issues that need them land (TODO(issue 3)).

#include <cstddef>
#include <cstdint>
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

// Not thread-safe: one caller at a time. Every transient object and session
// an operation creates is flushed before it returns, on success or error.
class Tpm {
 public:
  virtual ~Tpm() = default;

  [[nodiscard]] virtual Result<TpmInfo> Info() = 0;
  // Reads any banks and PCRs (the TPM returns at most 8 PCRs per call; the
  // implementation loops).
  [[nodiscard]] virtual Result<pcr::PcrValues> ReadPcrs(
      std::span<const PcrSelection> selection) = 0;
  // TPM2_PCR_Extend with one digest per bank given (each bank must be
  // active); banks not given are not extended.
  [[nodiscard]] virtual Result<void> Extend(
      std::uint32_t pcr, std::span<const crypto::Digest> digests) = 0;
  [[nodiscard]] virtual Result<Bytes> GetRandom(std::size_t size) = 0;
};

}  // namespace tc::tpm
