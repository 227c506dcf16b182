// EsysTpm::Seal / Unseal: a secret in a keyed-hash object whose only
// authorization is TPM2_PolicyPCR (TPM 2.0 Part 1, 19.7 "Policy
// Authorization"; Part 3, 23.7), under the owner hierarchy's storage key.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/flush.h"
#include "tc/tpm/esys/internal/tpm_rc.h"

namespace tc::tpm {
namespace {

using internal::EsysPtr;
using internal::FlushGuard;
using internal::OutParam;
using internal::TpmRcBase;
using internal::TssError;

// TPM2B_SENSITIVE_DATA holds at most MAX_SYM_DATA (128) bytes (Part 2,
// 11.1.14; the PC Client profile's value).
constexpr std::size_t kMaxSealedSecret = 128;
static_assert(kMaxSealedSecret <= sizeof(TPM2B_SENSITIVE_DATA::buffer));
constexpr std::uint8_t kPcrSelectBytes = (pcr::kNumPcrs + 7) / 8;  // 3

// The storage root key of the TCG TPM v2.0 Provisioning Guidance (1.0,
// 7.5.1 "Storage Primary Key (SRK) Templates", RSA 2048): a restricted
// decryption key with AES-128-CFB, nameAlg SHA-256, unique = 256 zero
// bytes. Deterministic from the owner seed, so it is created again for
// every call instead of being kept.
TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  TPMS_RSA_PARMS& rsa = p.parameters.rsaDetail;
  rsa.symmetric.algorithm = TPM2_ALG_AES;
  rsa.symmetric.keyBits.aes = 128;
  rsa.symmetric.mode.aes = TPM2_ALG_CFB;
  rsa.scheme.scheme = TPM2_ALG_NULL;
  rsa.keyBits = 2048;
  rsa.exponent = 0;  // 2^16 + 1
  p.unique.rsa.size = 256;  // zeros
  return t;
}

// TPM2_CreatePrimary (Part 3, 24.1) of the SRK into `srk`.
Result<void> CreateSrk(ESYS_CONTEXT* ctx, FlushGuard& srk) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_PUBLIC in_public = SrkTemplate();
  const TPM2B_DATA outside_info{};
  const TPML_PCR_SELECTION creation_pcr{};
  EsysPtr<TPM2B_PUBLIC> out_public;
  EsysPtr<TPM2B_CREATION_DATA> creation_data;
  EsysPtr<TPM2B_DIGEST> creation_hash;
  EsysPtr<TPMT_TK_CREATION> creation_ticket;
  const TSS2_RC rc = internal::Tss().Esys_CreatePrimary(
      ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
      &in_public, &outside_info, &creation_pcr, srk.out(), OutParam(out_public).get(),
      OutParam(creation_data).get(), OutParam(creation_hash).get(),
      OutParam(creation_ticket).get());
  if (rc != TSS2_RC_SUCCESS) {
    return Fail(TssError(rc, "Esys_CreatePrimary").Wrap("storage key (SRK)"));
  }
  return {};
}

// TPML_PCR_SELECTION (Part 2, 10.9.7) of the banks and PCRs given, merged
// per bank. kInvalidArgument for no PCR at all or a PCR >= 24.
Result<TPML_PCR_SELECTION> ToTpmSelection(std::span<const PcrSelection> pcrs) {
  std::map<crypto::HashAlg, std::set<std::uint32_t>> banks;
  for (const PcrSelection& sel : pcrs) {
    for (std::uint32_t p : sel.pcrs) {
      if (p >= pcr::kNumPcrs) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("PCR {} out of range (0..{})", p, pcr::kNumPcrs - 1));
      }
      banks[sel.alg].insert(p);
    }
  }
  if (banks.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "seal needs at least one PCR");
  }
  if (banks.size() > TPM2_NUM_PCR_BANKS) {
    return Fail(ErrorCode::kInvalidArgument, "too many PCR banks");
  }
  TPML_PCR_SELECTION out{};
  for (const auto& [alg, set] : banks) {
    TPMS_PCR_SELECTION& s = out.pcrSelections[out.count++];
    s.hash = static_cast<TPMI_ALG_HASH>(alg);
    s.sizeofSelect = kPcrSelectBytes;
    for (std::uint32_t p : set) {
      s.pcrSelect[p / 8] = static_cast<std::uint8_t>(s.pcrSelect[p / 8] | (1u << (p % 8)));
    }
  }
  return out;
}

// The selection as our type, banks in TPML order and PCRs ascending.
std::vector<PcrSelection> FromTpmSelection(const TPML_PCR_SELECTION& tpm) {
  std::vector<PcrSelection> out;
  for (std::uint32_t b = 0; b < tpm.count; ++b) {
    const TPMS_PCR_SELECTION& s = tpm.pcrSelections[b];
    PcrSelection sel{static_cast<crypto::HashAlg>(s.hash), {}};
    for (std::uint32_t i = 0; i < std::uint32_t{s.sizeofSelect} * 8; ++i) {
      if ((s.pcrSelect[i / 8] & (1u << (i % 8))) != 0) sel.pcrs.push_back(i);
    }
    out.push_back(std::move(sel));
  }
  return out;
}

// TPM2_StartAuthSession (Part 3, 11.1): an unbound, unsalted session of
// `type` (trial or policy) with `hash`.
Result<void> StartSession(ESYS_CONTEXT* ctx, TPM2_SE type, TPMI_ALG_HASH hash,
                          FlushGuard& session) {
  const TPMT_SYM_DEF symmetric{.algorithm = TPM2_ALG_NULL, .keyBits = {}, .mode = {}};
  const TSS2_RC rc = internal::Tss().Esys_StartAuthSession(
      ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, nullptr, type,
      &symmetric, hash, session.out());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_StartAuthSession"));
  return {};
}

Error PcrsChanged() {
  return Error(ErrorCode::kVerificationFailed,
               "the PCRs no longer have the values the secret was sealed to");
}

// TPM2_PolicyPCR (Part 3, 23.7) with an empty pcrDigest: the TPM hashes
// the current values of `pcrs` into the session's policy digest.
Result<void> PolicyPcr(ESYS_CONTEXT* ctx, ESYS_TR session, const TPML_PCR_SELECTION& pcrs) {
  const TPM2B_DIGEST current{};
  const TSS2_RC rc = internal::Tss().Esys_PolicyPCR(ctx, session, ESYS_TR_NONE, ESYS_TR_NONE,
                                                    ESYS_TR_NONE, &current, &pcrs);
  if (rc == TSS2_RC_SUCCESS) return {};
  // With an empty pcrDigest TPM_RC_VALUE means a selection the TPM cannot
  // use, not changed PCRs: that shows only at TPM2_Unseal (POLICY_FAIL).
  return Fail(TssError(rc, "Esys_PolicyPCR"));
}

}  // namespace

// A TPM leaves out the PCRs of banks it has not allocated when it hashes a
// PolicyPCR selection (Part 1, 17.5 and the reference PCR code): a policy
// over such a bank binds nothing. Refused before it is made.
Result<void> EsysTpm::RequireAllocated(std::span<const PcrSelection> pcrs) {
  TC_ASSIGN_OR_RETURN(const TpmInfo info, Info());
  for (const PcrSelection& s : pcrs) {
    if (std::find(info.active_banks.begin(), info.active_banks.end(), s.alg) ==
        info.active_banks.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("PCR bank {} is not allocated on this TPM: a policy over it "
                              "would not bind the secret to any PCR",
                              crypto::HashAlgName(s.alg)));
    }
  }
  return {};
}

Result<SealedObject> EsysTpm::Seal(std::span<const std::uint8_t> secret,
                                   std::span<const PcrSelection> pcrs) {
  if (secret.empty() || secret.size() > kMaxSealedSecret) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("a sealed secret has 1..{} bytes, got {}", kMaxSealedSecret,
                            secret.size()));
  }
  TC_ASSIGN_OR_RETURN(const TPML_PCR_SELECTION selection, ToTpmSelection(pcrs));
  TC_RETURN_IF_ERROR(RequireAllocated(pcrs));
  ESYS_CONTEXT* ctx = connection_->ctx.get();

  // The policy digest of PolicyPCR over the current values, computed by the
  // TPM in a trial session (Part 1, 19.7.3) and read with
  // TPM2_PolicyGetDigest (Part 3, 23.19).
  EsysPtr<TPM2B_DIGEST> policy;
  {
    FlushGuard trial(ctx);
    TC_RETURN_IF_ERROR(StartSession(ctx, TPM2_SE_TRIAL, TPM2_ALG_SHA256, trial));
    TC_RETURN_IF_ERROR(PolicyPcr(ctx, trial.get(), selection));
    const TSS2_RC rc = internal::Tss().Esys_PolicyGetDigest(
        ctx, trial.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, OutParam(policy).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_PolicyGetDigest"));
    if (policy == nullptr || policy->size != crypto::DigestSize(crypto::HashAlg::kSha256)) {
      return Fail(ErrorCode::kTpm, "Esys_PolicyGetDigest: not a SHA-256 digest");
    }
  }

  FlushGuard srk(ctx);
  TC_RETURN_IF_ERROR(CreateSrk(ctx, srk));

  // A sealed data object (TPM2_Create, Part 3, 12.1): TPM_ALG_KEYEDHASH
  // with the NULL scheme, neither sign nor decrypt, data supplied by us (no
  // sensitiveDataOrigin), and no userWithAuth: only the policy opens it.
  TPM2B_SENSITIVE_CREATE sensitive{};
  sensitive.sensitive.data.size = static_cast<std::uint16_t>(secret.size());
  std::copy(secret.begin(), secret.end(), sensitive.sensitive.data.buffer);
  TPM2B_PUBLIC in_public{};
  TPMT_PUBLIC& p = in_public.publicArea;
  p.type = TPM2_ALG_KEYEDHASH;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
  p.authPolicy.size = policy->size;
  std::copy_n(policy->buffer, policy->size, p.authPolicy.buffer);
  p.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  const TPM2B_DATA outside_info{};
  const TPML_PCR_SELECTION creation_pcr{};
  EsysPtr<TPM2B_PRIVATE> out_private;
  EsysPtr<TPM2B_PUBLIC> out_public;
  EsysPtr<TPM2B_CREATION_DATA> creation_data;
  EsysPtr<TPM2B_DIGEST> creation_hash;
  EsysPtr<TPMT_TK_CREATION> creation_ticket;
  const TSS2_RC rc = internal::Tss().Esys_Create(
      ctx, srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public,
      &outside_info, &creation_pcr, OutParam(out_private).get(), OutParam(out_public).get(),
      OutParam(creation_data).get(), OutParam(creation_hash).get(),
      OutParam(creation_ticket).get());
  // Our copy of the secret is no longer needed.
  std::fill(std::begin(sensitive.sensitive.data.buffer),
            std::end(sensitive.sensitive.data.buffer), std::uint8_t{0});
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Create"));
  if (out_private == nullptr || out_public == nullptr) {
    return Fail(ErrorCode::kTpm, "Esys_Create: no object returned");
  }

  SealedObject sealed;
  sealed.pcrs = FromTpmSelection(selection);
  sealed.public_2b.resize(sizeof(TPM2B_PUBLIC));
  std::size_t offset = 0;
  TSS2_RC mu = internal::Tss().Tss2_MU_TPM2B_PUBLIC_Marshal(
      out_public.get(), sealed.public_2b.data(), sealed.public_2b.size(), &offset);
  if (mu != TSS2_RC_SUCCESS) return Fail(TssError(mu, "Tss2_MU_TPM2B_PUBLIC_Marshal"));
  sealed.public_2b.resize(offset);
  sealed.private_2b.resize(sizeof(TPM2B_PRIVATE));
  offset = 0;
  mu = internal::Tss().Tss2_MU_TPM2B_PRIVATE_Marshal(
      out_private.get(), sealed.private_2b.data(), sealed.private_2b.size(), &offset);
  if (mu != TSS2_RC_SUCCESS) return Fail(TssError(mu, "Tss2_MU_TPM2B_PRIVATE_Marshal"));
  sealed.private_2b.resize(offset);
  return sealed;
}

Result<Bytes> EsysTpm::Unseal(const SealedObject& sealed) {
  TPM2B_PUBLIC in_public{};
  std::size_t offset = 0;
  TSS2_RC rc = internal::Tss().Tss2_MU_TPM2B_PUBLIC_Unmarshal(
      sealed.public_2b.data(), sealed.public_2b.size(), &offset, &in_public);
  if (rc != TSS2_RC_SUCCESS || offset != sealed.public_2b.size()) {
    return Fail(ErrorCode::kMalformed, "sealed object: the public part is not a TPM2B_PUBLIC");
  }
  if (in_public.publicArea.type != TPM2_ALG_KEYEDHASH) {
    return Fail(ErrorCode::kInvalidArgument,
                "sealed object: the public part is not a keyed-hash (sealed data) object");
  }
  TPM2B_PRIVATE in_private{};
  offset = 0;
  rc = internal::Tss().Tss2_MU_TPM2B_PRIVATE_Unmarshal(
      sealed.private_2b.data(), sealed.private_2b.size(), &offset, &in_private);
  if (rc != TSS2_RC_SUCCESS || offset != sealed.private_2b.size()) {
    return Fail(ErrorCode::kMalformed,
                "sealed object: the private part is not a TPM2B_PRIVATE");
  }
  TC_ASSIGN_OR_RETURN(const TPML_PCR_SELECTION selection, ToTpmSelection(sealed.pcrs));
  TC_RETURN_IF_ERROR(RequireAllocated(sealed.pcrs));
  ESYS_CONTEXT* ctx = connection_->ctx.get();

  // TPM2_Load (Part 3, 12.2) under the SRK, which is then no longer needed.
  FlushGuard object(ctx);
  {
    FlushGuard srk(ctx);
    TC_RETURN_IF_ERROR(CreateSrk(ctx, srk));
    rc = internal::Tss().Esys_Load(ctx, srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &in_private, &in_public, object.out());
    if (rc != TSS2_RC_SUCCESS) {
      Error e = TssError(rc, "Esys_Load");
      const std::uint32_t base = TpmRcBase(rc);
      if (base == TPM2_RC_INTEGRITY || base == TPM2_RC_BINDING || base == TPM2_RC_SIZE) {
        return Fail(std::move(e).Wrap(
            "the sealed object was not made under this TPM's storage key, or is damaged"));
      }
      return Fail(std::move(e));
    }
  }

  // A policy session satisfied by PolicyPCR over the current values; the
  // TPM compares its digest with the object's authPolicy at TPM2_Unseal
  // (Part 3, 12.7) and answers TPM_RC_POLICY_FAIL when they differ.
  FlushGuard session(ctx);
  TC_RETURN_IF_ERROR(
      StartSession(ctx, TPM2_SE_POLICY, in_public.publicArea.nameAlg, session));
  TC_RETURN_IF_ERROR(PolicyPcr(ctx, session.get(), selection));
  EsysPtr<TPM2B_SENSITIVE_DATA> out;
  rc = internal::Tss().Esys_Unseal(ctx, object.get(), session.get(), ESYS_TR_NONE,
                                   ESYS_TR_NONE, OutParam(out).get());
  if (rc != TSS2_RC_SUCCESS) {
    switch (TpmRcBase(rc)) {
      case TPM2_RC_POLICY_FAIL:
        return Fail(PcrsChanged());
      case TPM2_RC_PCR_CHANGED:
        return Fail(TssError(rc, "Esys_Unseal")
                        .Wrap("a PCR was extended during the unseal; try again"));
      default:
        return Fail(TssError(rc, "Esys_Unseal"));
    }
  }
  if (out == nullptr) return Fail(ErrorCode::kTpm, "Esys_Unseal: no data");
  Bytes secret(out->buffer, out->buffer + out->size);
  std::fill(std::begin(out->buffer), std::end(out->buffer), std::uint8_t{0});
  return secret;
}

}  // namespace tc::tpm
