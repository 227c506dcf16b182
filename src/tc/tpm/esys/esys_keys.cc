// EsysTpm: endorsement key, attestation keys, quotes, credential activation.

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/flush.h"
#include "tc/tpm/esys/internal/tpm_rc.h"
#include "tc/tpm/marshal.h"

namespace tc::tpm {
namespace {

using internal::EsysPtr;
using internal::FlushGuard;
using internal::TrCloseGuard;
using internal::OutParam;
using internal::Tss;
using internal::TssError;

// TPMA_OBJECT bits (TPM 2.0 Part 2, 8.3.2).
constexpr TPMA_OBJECT kEkAttributes =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
constexpr TPMA_OBJECT kAkAttributes =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

// PolicySecret(TPM_RH_ENDORSEMENT): the EK templates' authPolicy (TCG EK
// Credential Profile 2.0, B.3.2).
constexpr std::uint8_t kEkPolicy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};

// EK certificate NV indices (EK Credential Profile 2.0, 2.2.1.5.1).
constexpr TPM2_HANDLE kRsaEkCertIndex = 0x01C00002;
constexpr TPM2_HANDLE kEccEkCertIndex = 0x01C0000A;

// The default EK templates, "L-1" (RSA 2048) and "L-2" (ECC NIST P256)
// (EK Credential Profile 2.0, B.3.3 and B.3.4).
TPM2B_PUBLIC EkTemplate(KeyAlg alg) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kEkAttributes;
  p.authPolicy.size = sizeof kEkPolicy;
  std::memcpy(p.authPolicy.buffer, kEkPolicy, sizeof kEkPolicy);
  if (alg == KeyAlg::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {128}, {TPM2_ALG_CFB}};
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.rsaDetail.keyBits = 2048;
    p.parameters.rsaDetail.exponent = 0;
    p.unique.rsa.size = 256;  // zeros
  } else {
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric = {TPM2_ALG_AES, {128}, {TPM2_ALG_CFB}};
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    p.unique.ecc.x.size = 32;  // zeros
    p.unique.ecc.y.size = 32;
  }
  return t;
}

// A restricted signing key: RSASSA-SHA256 or ECDSA-SHA256 (as tpm2_createak
// -s rsassa / ecdsa -g sha256 makes it).
TPM2B_PUBLIC AkTemplate(KeyAlg alg) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kAkAttributes;
  if (alg == KeyAlg::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.rsaDetail.keyBits = 2048;
  } else {
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

Result<Bytes> MarshalPublic(const TPM2B_PUBLIC& pub) {
  Bytes out(sizeof(TPM2B_PUBLIC));
  std::size_t offset = 0;
  const TSS2_RC rc = Tss().Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Tss2_MU_TPM2B_PUBLIC_Marshal"));
  out.resize(offset);
  return out;
}

Result<Bytes> MarshalPrivate(const TPM2B_PRIVATE& priv) {
  Bytes out(sizeof(TPM2B_PRIVATE));
  std::size_t offset = 0;
  const TSS2_RC rc = Tss().Tss2_MU_TPM2B_PRIVATE_Marshal(&priv, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Tss2_MU_TPM2B_PRIVATE_Marshal"));
  out.resize(offset);
  return out;
}

// The object's Name from its marshaled TPM2B_PUBLIC, computed by us (not
// trusted from the TPM's output).
Result<Bytes> NameOf(const Bytes& public_2b) {
  TC_ASSIGN_OR_RETURN(const PublicArea area, ParsePublic2b(public_2b));
  return ObjectName(area);
}

// A policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT) with the
// empty endorsement password: what the EK's authPolicy asks for its use
// (EK Credential Profile 2.0, B.6).
Result<void> StartEkSession(ESYS_CONTEXT* ctx, FlushGuard& session) {
  const TPMT_SYM_DEF symmetric = {TPM2_ALG_NULL, {0}, {0}};
  TSS2_RC rc = Tss().Esys_StartAuthSession(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_POLICY,
                                           &symmetric, TPM2_ALG_SHA256, session.out());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_StartAuthSession"));
  EsysPtr<TPM2B_TIMEOUT> timeout;
  EsysPtr<TPMT_TK_AUTH> ticket;
  rc = Tss().Esys_PolicySecret(ctx, ESYS_TR_RH_ENDORSEMENT, session.get(), ESYS_TR_PASSWORD,
                               ESYS_TR_NONE, ESYS_TR_NONE, nullptr, nullptr, nullptr, 0,
                               OutParam(timeout).get(), OutParam(ticket).get());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_PolicySecret(endorsement)"));
  return {};
}

Result<void> CreateEkPrimary(ESYS_CONTEXT* ctx, KeyAlg alg, FlushGuard& ek,
                             EsysPtr<TPM2B_PUBLIC>* public_out) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_PUBLIC in_public = EkTemplate(alg);
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcr{};
  EsysPtr<TPM2B_CREATION_DATA> creation_data;
  EsysPtr<TPM2B_DIGEST> creation_hash;
  EsysPtr<TPMT_TK_CREATION> creation_ticket;
  EsysPtr<TPM2B_PUBLIC> out_public;
  const TSS2_RC rc = Tss().Esys_CreatePrimary(
      ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
      &in_public, &outside, &creation_pcr, ek.out(), OutParam(out_public).get(),
      OutParam(creation_data).get(), OutParam(creation_hash).get(),
      OutParam(creation_ticket).get());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_CreatePrimary(EK)"));
  if (public_out != nullptr) *public_out = std::move(out_public);
  return {};
}

// The AK ready for use: loaded under its EK into `loaded` (flushed by the
// caller's guard), or named at its persistent handle by `persistent`
// (closed, not flushed).
Result<ESYS_TR> LoadAk(ESYS_CONTEXT* ctx, const AttestationKey& ak, FlushGuard& ek,
                       FlushGuard& loaded, TrCloseGuard& persistent) {
  if (ak.persistent_handle) {
    const TSS2_RC rc = Tss().Esys_TR_FromTPMPublic(ctx, *ak.persistent_handle, ESYS_TR_NONE,
                                                   ESYS_TR_NONE, ESYS_TR_NONE, persistent.out());
    if (rc != TSS2_RC_SUCCESS) {
      return Fail(TssError(rc, fmt::format("AK at persistent handle 0x{:08x}",
                                           *ak.persistent_handle)));
    }
    return persistent.get();
  }
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
  std::size_t offset = 0;
  if (Tss().Tss2_MU_TPM2B_PUBLIC_Unmarshal(ak.public_2b.data(), ak.public_2b.size(), &offset,
                                           &pub) != TSS2_RC_SUCCESS ||
      offset != ak.public_2b.size()) {
    return Fail(ErrorCode::kMalformed, "AK public blob is not a TPM2B_PUBLIC");
  }
  offset = 0;
  if (Tss().Tss2_MU_TPM2B_PRIVATE_Unmarshal(ak.private_2b.data(), ak.private_2b.size(), &offset,
                                            &priv) != TSS2_RC_SUCCESS ||
      offset != ak.private_2b.size()) {
    return Fail(ErrorCode::kMalformed, "AK private blob is not a TPM2B_PRIVATE");
  }
  TC_RETURN_IF_ERROR(CreateEkPrimary(ctx, ak.parent, ek, nullptr));
  FlushGuard session(ctx);
  TC_RETURN_IF_ERROR(StartEkSession(ctx, session));
  const TSS2_RC rc = Tss().Esys_Load(ctx, ek.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                     &priv, &pub, loaded.out());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Load(AK)"));
  return loaded.get();
}

}  // namespace

Result<EndorsementKey> EsysTpm::ReadEk(KeyAlg alg) {
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  FlushGuard ek(ctx);
  EsysPtr<TPM2B_PUBLIC> pub;
  TC_RETURN_IF_ERROR(CreateEkPrimary(ctx, alg, ek, &pub));
  EndorsementKey out;
  out.alg = alg;
  TC_ASSIGN_OR_RETURN(out.public_2b, MarshalPublic(*pub));
  TC_ASSIGN_OR_RETURN(out.name, NameOf(out.public_2b));
  auto cert = ReadNvIndex(alg == KeyAlg::kRsa2048 ? kRsaEkCertIndex : kEccEkCertIndex);
  if (cert) {
    out.certificate = std::move(*cert);
  } else if (cert.error().code() != ErrorCode::kNotFound) {
    return Fail(std::move(cert).error().Wrap("EK certificate"));
  }  // kNotFound: the TPM was provisioned without one
  return out;
}

Result<AttestationKey> EsysTpm::CreateAk(KeyAlg alg, KeyAlg parent,
                                         std::optional<std::uint32_t> persist_at) {
  if (persist_at && (*persist_at < 0x81000000u || *persist_at > 0x81FFFFFFu)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("persistent handle 0x{:08x} is not in 0x81000000..0x81ffffff",
                            *persist_at));
  }
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  FlushGuard ek(ctx);
  TC_RETURN_IF_ERROR(CreateEkPrimary(ctx, parent, ek, nullptr));
  EsysPtr<TPM2B_PRIVATE> priv;
  EsysPtr<TPM2B_PUBLIC> pub;
  {
    FlushGuard session(ctx);
    TC_RETURN_IF_ERROR(StartEkSession(ctx, session));
    const TPM2B_SENSITIVE_CREATE sensitive{};
    const TPM2B_PUBLIC in_public = AkTemplate(alg);
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION creation_pcr{};
    EsysPtr<TPM2B_CREATION_DATA> creation_data;
    EsysPtr<TPM2B_DIGEST> creation_hash;
    EsysPtr<TPMT_TK_CREATION> creation_ticket;
    const TSS2_RC rc = Tss().Esys_Create(
        ctx, ek.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public,
        &outside, &creation_pcr, OutParam(priv).get(), OutParam(pub).get(),
        OutParam(creation_data).get(), OutParam(creation_hash).get(),
        OutParam(creation_ticket).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Create(AK)"));
  }
  AttestationKey ak;
  ak.alg = alg;
  ak.parent = parent;
  TC_ASSIGN_OR_RETURN(ak.public_2b, MarshalPublic(*pub));
  TC_ASSIGN_OR_RETURN(ak.private_2b, MarshalPrivate(*priv));
  TC_ASSIGN_OR_RETURN(ak.name, NameOf(ak.public_2b));
  if (persist_at) {
    FlushGuard loaded(ctx);
    FlushGuard session(ctx);
    TC_RETURN_IF_ERROR(StartEkSession(ctx, session));
    TSS2_RC rc = Tss().Esys_Load(ctx, ek.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                 priv.get(), pub.get(), loaded.out());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Load(AK)"));
    TrCloseGuard persistent(ctx);
    rc = Tss().Esys_EvictControl(ctx, ESYS_TR_RH_OWNER, loaded.get(), ESYS_TR_PASSWORD,
                                 ESYS_TR_NONE, ESYS_TR_NONE, *persist_at, persistent.out());
    if (rc != TSS2_RC_SUCCESS) {
      return Fail(TssError(rc, fmt::format("Esys_EvictControl(0x{:08x})", *persist_at)));
    }
    ak.persistent_handle = *persist_at;
    ak.private_2b.clear();
  }
  return ak;
}

Result<QuoteBlob> EsysTpm::Quote(const AttestationKey& ak, std::span<const std::uint8_t> nonce,
                                 std::span<const PcrSelection> selection) {
  if (nonce.size() > sizeof(TPMU_HA)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("nonce of {} bytes: at most {}", nonce.size(), sizeof(TPMU_HA)));
  }
  if (selection.empty() || selection.size() > TPM2_NUM_PCR_BANKS) {
    return Fail(ErrorCode::kInvalidArgument, "a quote needs 1..16 PCR banks");
  }
  TPML_PCR_SELECTION pcrs{};
  for (const PcrSelection& s : selection) {
    TPMS_PCR_SELECTION& out = pcrs.pcrSelections[pcrs.count++];
    out.hash = static_cast<TPMI_ALG_HASH>(s.alg);
    out.sizeofSelect = 3;
    for (std::uint32_t p : s.pcrs) {
      if (p >= pcr::kNumPcrs) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("PCR {} out of range", p));
      }
      out.pcrSelect[p / 8] = static_cast<std::uint8_t>(out.pcrSelect[p / 8] | (1u << (p % 8)));
    }
  }
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  FlushGuard ek(ctx);
  FlushGuard loaded(ctx);
  TrCloseGuard persistent(ctx);
  TC_ASSIGN_OR_RETURN(const ESYS_TR key, LoadAk(ctx, ak, ek, loaded, persistent));
  TPM2B_DATA qualifying{};
  qualifying.size = static_cast<std::uint16_t>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), qualifying.buffer);
  const TPMT_SIG_SCHEME scheme = {TPM2_ALG_NULL, {}};  // the key's own scheme
  EsysPtr<TPM2B_ATTEST> attest;
  EsysPtr<TPMT_SIGNATURE> signature;
  const TSS2_RC rc = Tss().Esys_Quote(ctx, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                      &qualifying, &scheme, &pcrs, OutParam(attest).get(),
                                      OutParam(signature).get());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Quote"));
  QuoteBlob out;
  out.attest.assign(attest->attestationData, attest->attestationData + attest->size);
  Bytes sig(sizeof(TPMT_SIGNATURE));
  std::size_t offset = 0;
  const TSS2_RC mrc =
      Tss().Tss2_MU_TPMT_SIGNATURE_Marshal(signature.get(), sig.data(), sig.size(), &offset);
  if (mrc != TSS2_RC_SUCCESS) return Fail(TssError(mrc, "Tss2_MU_TPMT_SIGNATURE_Marshal"));
  sig.resize(offset);
  out.signature = std::move(sig);
  return out;
}

Result<Bytes> EsysTpm::ActivateCredential(const AttestationKey& ak,
                                          std::span<const std::uint8_t> credential_blob,
                                          std::span<const std::uint8_t> encrypted_secret) {
  TPM2B_ID_OBJECT id{};
  TPM2B_ENCRYPTED_SECRET secret{};
  std::size_t offset = 0;
  if (Tss().Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(credential_blob.data(), credential_blob.size(),
                                              &offset, &id) != TSS2_RC_SUCCESS ||
      offset != credential_blob.size()) {
    return Fail(ErrorCode::kMalformed, "credential blob is not a TPM2B_ID_OBJECT");
  }
  offset = 0;
  if (Tss().Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(encrypted_secret.data(),
                                                     encrypted_secret.size(), &offset,
                                                     &secret) != TSS2_RC_SUCCESS ||
      offset != encrypted_secret.size()) {
    return Fail(ErrorCode::kMalformed, "encrypted secret is not a TPM2B_ENCRYPTED_SECRET");
  }
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  FlushGuard ek(ctx);
  FlushGuard loaded(ctx);
  TrCloseGuard persistent(ctx);
  TC_ASSIGN_OR_RETURN(const ESYS_TR key, LoadAk(ctx, ak, ek, loaded, persistent));
  if (ek.get() == ESYS_TR_NONE) {  // persistent AK: its EK is still needed
    TC_RETURN_IF_ERROR(CreateEkPrimary(ctx, ak.parent, ek, nullptr));
  }
  FlushGuard session(ctx);
  TC_RETURN_IF_ERROR(StartEkSession(ctx, session));
  EsysPtr<TPM2B_DIGEST> cert_info;
  // activateHandle (the AK) with its password, keyHandle (the EK) with the
  // endorsement policy (Part 3, 12.5).
  const TSS2_RC rc =
      Tss().Esys_ActivateCredential(ctx, key, ek.get(), ESYS_TR_PASSWORD, session.get(),
                                    ESYS_TR_NONE, &id, &secret, OutParam(cert_info).get());
  if (rc != TSS2_RC_SUCCESS) {
    // Only these say the blob was not made for this EK and AK (Part 3,
    // 12.5.1); anything else (lockout, memory, transport) is "could not
    // decide".
    const std::uint32_t base = internal::TpmRcBase(rc);
    if (base == TPM2_RC_INTEGRITY || base == TPM2_RC_VALUE || base == TPM2_RC_SIZE ||
        base == TPM2_RC_ECC_POINT || base == TPM2_RC_NO_RESULT) {
      return Fail(ErrorCode::kVerificationFailed,
                  TssError(rc, "Esys_ActivateCredential").message() +
                      ": the credential was not made for this EK and AK");
    }
    return Fail(TssError(rc, "Esys_ActivateCredential"));
  }
  return Bytes(cert_info->buffer, cert_info->buffer + cert_info->size);
}

}  // namespace tc::tpm
