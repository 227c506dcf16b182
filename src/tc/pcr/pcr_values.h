#pragma once

// PCR values of one or more banks, as quoted by a TPM, read from a file, or
// computed by replaying a log; and the comparison of two such sets.

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"

namespace tc::pcr {

// PC Client platforms have 24 PCRs (PC Client PTP spec, 4.1 PCR banks).
inline constexpr std::uint32_t kNumPcrs = 24;

// Values by bank, then by PCR index. Any subset of PCRs may be present.
struct PcrValues {
  std::map<crypto::HashAlg, std::map<std::uint32_t, crypto::Digest>> banks;

  const crypto::Digest* Find(crypto::HashAlg alg, std::uint32_t index) const;
  bool empty() const { return banks.empty(); }
};

// Parses PCR values from text in any of these forms, mixed freely:
//   "INDEX HEX" or "INDEX: HEX" or "INDEX : 0xHEX" per line;
//   a bank header "sha256:" (tpm2_pcrread YAML) before its lines;
//   bare "HEX" lines, numbered 0, 1, 2 ... within the current bank.
// Without a header the bank is inferred from the digest length (32 bytes is
// sha256). Blank lines, "#" comments, "---" and non-numeric "key: text"
// lines (tsspcrread's header) are skipped. An index >= 24, a digest whose
// length does not fit its bank, a PCR given twice with different values,
// values under an unknown bank header ("sha3_256:") or a digest under a
// non-numeric key ("PCR7: 0x...") fail with kInvalidArgument naming the line.
[[nodiscard]] Result<PcrValues> ParsePcrValues(std::string_view text);

struct PcrComparison {
  crypto::HashAlg alg;
  std::uint32_t index;
  crypto::Digest expected;  // e.g. the replayed value
  crypto::Digest actual;    // e.g. the quoted value
  bool match;
};

// Compares every PCR present in both sets, in bank then index order.
std::vector<PcrComparison> Compare(const PcrValues& expected,
                                   const PcrValues& actual);

}  // namespace tc::pcr
