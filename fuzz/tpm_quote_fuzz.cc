// libFuzzer target: the TPM structures a verifier reads from evidence
// (TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC and the key built from it,
// tpm2-tools PCR files) and quote verification over them. The first byte
// picks the parser; the rest is its input.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tc/tpm/marshal.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)tc::tpm::ParseAttest(in);
      break;
    case 1:
      (void)tc::tpm::ParseSignature(in);
      break;
    case 2: {
      auto key = tc::tpm::PublicKey::Load(in);
      if (key) {
        // A fixed, well-formed attest and signature checked with this key.
        static const tc::Bytes kAttest = {0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0, 0, 0, 0, 0, 0,
                                          0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0,
                                          0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0};
        static const tc::Bytes kSig = {0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0x00};
        (void)tc::tpm::VerifyQuote(kAttest, kSig, *key, {});
      }
      break;
    }
    case 3:
      (void)tc::tpm::ParseToolsPcrFile(in);
      break;
    case 4: {
      // attest || signature, split at a length prefix byte.
      if (in.empty()) break;
      const std::size_t cut = in[0] < in.size() ? in[0] : in.size() - 1;
      auto attest = tc::tpm::ParseAttest(in.subspan(1, cut > 0 ? cut - 1 : 0));
      auto sig = tc::tpm::ParseSignature(in.subspan(cut));
      (void)attest;
      (void)sig;
      break;
    }
  }
  return 0;
}
