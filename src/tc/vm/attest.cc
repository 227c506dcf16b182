#include "tc/vm/attest.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>

#include "tc/tpm/credential.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/quote.h"

namespace tc::vm {

Result<tpm::EndorsementKey> ReadGuestEk(tpm::Tpm& vtpm) {
  return vtpm.ReadEk(tpm::KeyAlg::kRsa2048);
}

Result<void> CheckEkCertificate(std::span<const std::uint8_t> ek_public,
                                std::span<const std::uint8_t> certificate) {
  TC_ASSIGN_OR_RETURN(tpm::PublicArea area, tpm::ParsePublic2b(ek_public));
  TC_ASSIGN_OR_RETURN(tpm::PublicKey key, tpm::PublicKey::FromPublicArea(area));
  TC_ASSIGN_OR_RETURN(bool same, key.CertifiedBy(certificate));
  if (!same) {
    return Fail(ErrorCode::kVerificationFailed,
                "the EK certificate certifies another key than the vTPM's EK");
  }
  return {};
}

Result<GuestQuote> QuoteGuest(tpm::Tpm& vtpm, std::span<const std::uint8_t> expected_ek,
                              std::span<const std::uint8_t> nonce) {
  GuestQuote out;
  // (Not TC_ASSIGN_OR_RETURN: GCC 12 -O2 warns falsely about the optional
  // certificate of a moved-from EndorsementKey.)
  auto ek = ReadGuestEk(vtpm);
  if (!ek) return Fail(std::move(ek).error());
  if (!std::equal(ek->public_2b.begin(), ek->public_2b.end(), expected_ek.begin(),
                  expected_ek.end())) {
    return Fail(ErrorCode::kVerificationFailed,
                "the TPM answering reports another EK than the vTPM this guest was launched with");
  }
  out.ek_public = ek->public_2b;
  out.ek_certificate = ek->certificate;
  TC_ASSIGN_OR_RETURN(tpm::AttestationKey ak,
                      vtpm.CreateAk(tpm::KeyAlg::kEccP256, tpm::KeyAlg::kRsa2048, std::nullopt));
  out.ak_public = ak.public_2b;
  // The binding: a secret only a TPM holding both keys can recover.
  TC_ASSIGN_OR_RETURN(tpm::PublicArea ek_area, tpm::ParsePublic2b(expected_ek));
  Bytes secret(32);
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return Fail(ErrorCode::kInternal, "RAND_bytes failed");
  }
  TC_ASSIGN_OR_RETURN(tpm::Credential cred, tpm::MakeCredential(ek_area, ak.name, secret));
  TC_ASSIGN_OR_RETURN(Bytes recovered,
                      vtpm.ActivateCredential(ak, cred.credential_blob, cred.encrypted_secret));
  if (recovered.size() != secret.size() ||
      CRYPTO_memcmp(recovered.data(), secret.data(), secret.size()) != 0) {
    return Fail(ErrorCode::kVerificationFailed,
                "the vTPM did not recover the credential: its AK is not bound to its EK");
  }
  // The quote.
  std::vector<tpm::PcrSelection> selection = {
      {crypto::HashAlg::kSha256, std::vector<std::uint32_t>(std::begin(kGuestQuotePcrs),
                                                            std::end(kGuestQuotePcrs))}};
  TC_ASSIGN_OR_RETURN(tpm::QuoteBlob q, vtpm.Quote(ak, nonce, selection));
  out.attest = std::move(q.attest);
  out.signature = std::move(q.signature);
  out.nonce.assign(nonce.begin(), nonce.end());
  TC_ASSIGN_OR_RETURN(pcr::PcrValues values, vtpm.ReadPcrs(selection));
  tpm::PcrSelectionList list = {
      {crypto::HashAlg::kSha256, std::vector<std::uint32_t>(std::begin(kGuestQuotePcrs),
                                                            std::end(kGuestQuotePcrs))}};
  TC_ASSIGN_OR_RETURN(out.pcrs, tpm::SerializeToolsPcrFile(list, values));
  return out;
}

}  // namespace tc::vm
