#include "tc/tpm/esys/esys_tpm.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "tc/tpm/esys/internal/esys.h"

namespace tc::tpm {
namespace {

using internal::EsysPtr;
using internal::OutParam;
using internal::TssError;

constexpr std::uint8_t kPcrSelectBytes = (pcr::kNumPcrs + 7) / 8;  // 3
constexpr int kMaxCapabilityRounds = 16;

// The four bytes of a TPM_PT value as text: TPM_PT_MANUFACTURER and the
// vendor strings are big-endian ASCII (TPM 2.0 Part 2, 6.13), NUL padded.
std::string PropertyText(std::uint32_t value) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<char>((value >> shift) & 0xFF);
    if (c == '\0') continue;
    out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  }
  return out;
}

std::string TrimRight(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The bytes of the union member of TPMU_HA for alg (Part 2, 10.3.1).
std::span<std::uint8_t> HashBytes(TPMT_HA& ha, crypto::HashAlg alg) {
  switch (alg) {
    case crypto::HashAlg::kSha1: return ha.digest.sha1;
    case crypto::HashAlg::kSha256: return ha.digest.sha256;
    case crypto::HashAlg::kSha384: return ha.digest.sha384;
    case crypto::HashAlg::kSha512: return ha.digest.sha512;
    case crypto::HashAlg::kSm3_256: return ha.digest.sm3_256;
  }
  return {};
}

std::string PcrList(const std::set<std::uint32_t>& pcrs) {
  std::string out;
  for (std::uint32_t p : pcrs) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

}  // namespace

EsysTpm::EsysTpm(std::unique_ptr<internal::EsysConnection> connection,
                 std::string transport)
    : connection_(std::move(connection)), transport_(std::move(transport)) {
  TC_CHECK(connection_ != nullptr && connection_->ctx != nullptr);
}

EsysTpm::~EsysTpm() = default;

Result<void> EsysTpm::SelfTest(bool full) {
  const TSS2_RC rc = internal::Tss().Esys_SelfTest(connection_->ctx.get(), ESYS_TR_NONE,
                                                   ESYS_TR_NONE, ESYS_TR_NONE,
                                                   full ? TPM2_YES : TPM2_NO);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_SelfTest"));
  return {};
}

Result<void> EsysTpm::Shutdown() {
  const TSS2_RC rc = internal::Tss().Esys_Shutdown(connection_->ctx.get(), ESYS_TR_NONE,
                                                   ESYS_TR_NONE, ESYS_TR_NONE, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Shutdown"));
  return {};
}

Result<TpmInfo> EsysTpm::Info() {
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TpmInfo info;
  info.transport = transport_;

  std::map<std::uint32_t, std::uint32_t> props;
  std::uint32_t next = TPM2_PT_FIXED;
  for (int round = 0; round < kMaxCapabilityRounds; ++round) {
    TPMI_YES_NO more = TPM2_NO;
    EsysPtr<TPMS_CAPABILITY_DATA> data;
    const TSS2_RC rc = internal::Tss().Esys_GetCapability(
        ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
        next, TPM2_MAX_TPM_PROPERTIES, &more, OutParam(data).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_GetCapability"));
    if (data == nullptr || data->capability != TPM2_CAP_TPM_PROPERTIES) {
      return Fail(ErrorCode::kTpm, "Esys_GetCapability: unexpected capability");
    }
    const TPML_TAGGED_TPM_PROPERTY& list = data->data.tpmProperties;
    const std::uint32_t count =
        std::min<std::uint32_t>(list.count, TPM2_MAX_TPM_PROPERTIES);
    for (std::uint32_t i = 0; i < count; ++i) {
      props[list.tpmProperty[i].property] = list.tpmProperty[i].value;
    }
    if (count == 0 || more != TPM2_YES) break;
    const std::uint32_t last = list.tpmProperty[count - 1].property;
    if (last < next || last >= TPM2_PT_FIRMWARE_VERSION_2) break;
    next = last + 1;
  }
  auto prop = [&props](std::uint32_t p) {
    auto it = props.find(p);
    return it == props.end() ? 0u : it->second;
  };
  info.manufacturer = TrimRight(PropertyText(prop(TPM2_PT_MANUFACTURER)));
  std::string vendor;
  for (std::uint32_t p = TPM2_PT_VENDOR_STRING_1; p <= TPM2_PT_VENDOR_STRING_4; ++p) {
    vendor += PropertyText(prop(p));
  }
  info.vendor = TrimRight(std::move(vendor));
  const std::uint32_t fw1 = prop(TPM2_PT_FIRMWARE_VERSION_1);
  const std::uint32_t fw2 = prop(TPM2_PT_FIRMWARE_VERSION_2);
  info.firmware_version = fmt::format("{}.{}.{}.{}", fw1 >> 16, fw1 & 0xFFFF,
                                      fw2 >> 16, fw2 & 0xFFFF);
  info.spec_level = prop(TPM2_PT_LEVEL);
  info.spec_revision = prop(TPM2_PT_REVISION);

  TPMI_YES_NO more = TPM2_NO;
  EsysPtr<TPMS_CAPABILITY_DATA> pcrs;
  const TSS2_RC rc =
      internal::Tss().Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                         TPM2_CAP_PCRS, 0, 1, &more, OutParam(pcrs).get());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_GetCapability"));
  if (pcrs == nullptr || pcrs->capability != TPM2_CAP_PCRS) {
    return Fail(ErrorCode::kTpm, "Esys_GetCapability: unexpected capability");
  }
  const TPML_PCR_SELECTION& assigned = pcrs->data.assignedPCR;
  const std::uint32_t banks =
      std::min<std::uint32_t>(assigned.count, TPM2_NUM_PCR_BANKS);
  for (std::uint32_t i = 0; i < banks; ++i) {
    const TPMS_PCR_SELECTION& s = assigned.pcrSelections[i];
    const std::size_t n = std::min<std::size_t>(s.sizeofSelect, TPM2_PCR_SELECT_MAX);
    const bool any = std::any_of(s.pcrSelect, s.pcrSelect + n,
                                 [](std::uint8_t b) { return b != 0; });
    const auto alg = crypto::HashAlgFromTpmId(s.hash);
    if (any && alg.has_value()) info.active_banks.push_back(*alg);
  }
  return info;
}

Result<pcr::PcrValues> EsysTpm::ReadPcrs(std::span<const PcrSelection> selection) {
  std::map<crypto::HashAlg, std::set<std::uint32_t>> wanted;
  for (const PcrSelection& sel : selection) {
    for (std::uint32_t p : sel.pcrs) {
      if (p >= pcr::kNumPcrs) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("PCR {} out of range (0..{})", p, pcr::kNumPcrs - 1));
      }
      wanted[sel.alg].insert(p);
    }
  }
  std::erase_if(wanted, [](const auto& kv) { return kv.second.empty(); });

  pcr::PcrValues out;
  // Each round reads what the TPM returns (at most 8 digests, TPML_DIGEST)
  // and asks again for the rest; a round that returns nothing ends it.
  while (!wanted.empty()) {
    TPML_PCR_SELECTION in{};
    for (const auto& [alg, pcrs] : wanted) {
      TPMS_PCR_SELECTION& s = in.pcrSelections[in.count++];
      s.hash = static_cast<TPMI_ALG_HASH>(alg);
      s.sizeofSelect = kPcrSelectBytes;
      for (std::uint32_t p : pcrs) {
        s.pcrSelect[p / 8] = static_cast<std::uint8_t>(s.pcrSelect[p / 8] | (1u << (p % 8)));
      }
    }
    std::uint32_t update_counter = 0;
    EsysPtr<TPML_PCR_SELECTION> sel_out;
    EsysPtr<TPML_DIGEST> values;
    const TSS2_RC rc = internal::Tss().Esys_PCR_Read(connection_->ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &in, &update_counter,
                                     OutParam(sel_out).get(), OutParam(values).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_PCR_Read"));
    if (sel_out == nullptr || values == nullptr) {
      return Fail(ErrorCode::kTpm, "Esys_PCR_Read: no output");
    }
    // Digests come in the order of pcrSelectionOut: bank by bank, PCRs
    // ascending (Part 3, 22.4.1).
    std::uint32_t next_digest = 0;
    const std::uint32_t digest_count = std::min<std::uint32_t>(values->count, 8);
    const std::uint32_t bank_count =
        std::min<std::uint32_t>(sel_out->count, TPM2_NUM_PCR_BANKS);
    for (std::uint32_t b = 0; b < bank_count; ++b) {
      const TPMS_PCR_SELECTION& s = sel_out->pcrSelections[b];
      const std::size_t bytes = std::min<std::size_t>(s.sizeofSelect, TPM2_PCR_SELECT_MAX);
      for (std::size_t i = 0; i < bytes * 8; ++i) {
        if ((s.pcrSelect[i / 8] & (1u << (i % 8))) == 0) continue;
        const auto alg = crypto::HashAlgFromTpmId(s.hash);
        const auto index = static_cast<std::uint32_t>(i);
        if (!alg.has_value() || !wanted.contains(*alg) || !wanted[*alg].contains(index)) {
          return Fail(ErrorCode::kTpm,
                      fmt::format("Esys_PCR_Read: TPM returned PCR {} of bank 0x{:04x}, "
                                  "which was not asked for", index, s.hash));
        }
        if (next_digest >= digest_count) {
          return Fail(ErrorCode::kTpm, "Esys_PCR_Read: fewer digests than PCRs selected");
        }
        const TPM2B_DIGEST& d = values->digests[next_digest++];
        if (d.size != crypto::DigestSize(*alg)) {
          return Fail(ErrorCode::kTpm,
                      fmt::format("Esys_PCR_Read: {} digest of {} bytes",
                                  crypto::HashAlgName(*alg), d.size));
        }
        out.banks[*alg][index] = crypto::Digest(*alg, {d.buffer, d.size});
        wanted[*alg].erase(index);
      }
    }
    if (next_digest != digest_count) {
      return Fail(ErrorCode::kTpm, "Esys_PCR_Read: more digests than PCRs selected");
    }
    std::erase_if(wanted, [](const auto& kv) { return kv.second.empty(); });
    if (next_digest == 0 && !wanted.empty()) {
      const auto& [alg, pcrs] = *wanted.begin();
      return Fail(ErrorCode::kNotFound,
                  fmt::format("PCR bank {} (PCRs {}) is not active on this TPM",
                              crypto::HashAlgName(alg), PcrList(pcrs)));
    }
  }
  return out;
}

Result<void> EsysTpm::Extend(std::uint32_t pcr, std::span<const crypto::Digest> digests) {
  if (pcr >= pcr::kNumPcrs) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PCR {} out of range (0..{})", pcr, pcr::kNumPcrs - 1));
  }
  if (digests.empty() || digests.size() > TPM2_NUM_PCR_BANKS) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("extend needs 1..{} digests, got {}", TPM2_NUM_PCR_BANKS,
                            digests.size()));
  }
  TPML_DIGEST_VALUES list{};
  for (const crypto::Digest& d : digests) {
    for (std::uint32_t i = 0; i < list.count; ++i) {
      if (list.digests[i].hashAlg == static_cast<TPMI_ALG_HASH>(d.alg())) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("extend: bank {} given twice", crypto::HashAlgName(d.alg())));
      }
    }
    TPMT_HA& ha = list.digests[list.count];
    ha.hashAlg = static_cast<TPMI_ALG_HASH>(d.alg());
    const std::span<std::uint8_t> dst = HashBytes(ha, d.alg());
    if (dst.size() != d.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("extend: {} digest of {} bytes", crypto::HashAlgName(d.alg()),
                              d.size()));
    }
    std::copy(d.bytes().begin(), d.bytes().end(), dst.begin());
    ++list.count;
  }
  const TSS2_RC rc =
      internal::Tss().Esys_PCR_Extend(connection_->ctx.get(), ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
                      ESYS_TR_NONE, ESYS_TR_NONE, &list);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_PCR_Extend"));
  return {};
}

Result<Bytes> EsysTpm::GetRandom(std::size_t size) {
  if (size > kMaxRandomSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("at most {} random bytes at a time", kMaxRandomSize));
  }
  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    const std::size_t want = std::min(size - out.size(), sizeof(TPMU_HA));
    EsysPtr<TPM2B_DIGEST> random;
    const TSS2_RC rc =
        internal::Tss().Esys_GetRandom(connection_->ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                       static_cast<std::uint16_t>(want), OutParam(random).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_GetRandom"));
    if (random == nullptr || random->size == 0 || random->size > want) {
      return Fail(ErrorCode::kTpm,
                  fmt::format("Esys_GetRandom: asked for {} bytes, got {}", want,
                              random == nullptr ? 0 : random->size));
    }
    out.insert(out.end(), random->buffer, random->buffer + random->size);
  }
  return out;
}

}  // namespace tc::tpm
