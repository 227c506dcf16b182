#pragma once

// Test helpers: real keys made with OpenSSL and quotes signed by them, laid
// out byte by byte per TPM 2.0 Part 2 (TPMS_ATTEST 10.12.12, TPMT_SIGNATURE
// 11.3.4, TPM2B_PUBLIC 12.2.5). For tests and benchmarks only.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/tpm/marshal.h"

namespace tc::tpm::testing {

class TestKey {
 public:
  static TestKey Rsa2048();
  static TestKey EccP256();
  ~TestKey();
  TestKey(TestKey&&) noexcept;
  TestKey& operator=(TestKey&&) = delete;

  // TPM2B_PUBLIC of a restricted signing key (RSASSA or ECDSA, sha256).
  Bytes Public2b() const;
  std::string Pem() const;
  // TPMT_SIGNATURE over `message` (RSASSA or ECDSA) with `hash`.
  Bytes Sign(const Bytes& message, crypto::HashAlg hash = crypto::HashAlg::kSha256) const;
  bool rsa() const { return rsa_; }

 private:
  TestKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  bool rsa_ = false;
};

struct QuoteParts {
  Bytes nonce;
  PcrSelectionList selection;
  std::vector<Bytes> values;  // in selection order
};

// TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE over `parts`, pcrDigest with sha256.
Bytes MakeAttest(const QuoteParts& parts, std::uint32_t magic = kTpmGeneratedValue);

void PutU16Be(Bytes& b, std::uint16_t v);
void PutU32Be(Bytes& b, std::uint32_t v);

}  // namespace tc::tpm::testing
