// EsysTpm's NV operations (TPM 2.0 Part 3, 31 "Non-volatile Storage") on
// owner-range indices, with the empty password.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/flush.h"
#include "tc/tpm/esys/internal/tpm_rc.h"

namespace tc::tpm {
namespace {

using internal::EsysPtr;
using internal::OutParam;
using internal::TpmRcBase;
using internal::TrCloseGuard;
using internal::TssError;

// Owner-range NV indices (TCG Registry of Reserved TPM 2.0 Handles and
// Localities, 2.2: 0x01000000..0x013FFFFF owner, ..0x017FFFFF platform
// manufacturer, ..0x01BFFFFF owner/other; above are TCG-reserved).
constexpr std::uint32_t kNvIndexFirst = 0x01000000;
constexpr std::uint32_t kNvIndexLast = 0x01BFFFFF;
// Largest index we define: MAX_NV_INDEX_SIZE of the PC Client platform
// TPM profile (libtpms: 2048), and TPM2B_MAX_NV_BUFFER's capacity.
constexpr std::size_t kMaxNvIndexSize = 2048;
static_assert(kMaxNvIndexSize <= TPM2_MAX_NV_BUFFER_SIZE);
// TPM_PT_NV_BUFFER_MAX when the TPM does not report it (PC Client PTP
// requires at least 512).
constexpr std::size_t kDefaultNvBufferMax = 512;

std::string IndexName(std::uint32_t index) { return fmt::format("NV index 0x{:08x}", index); }

Result<void> CheckIndex(std::uint32_t index) {
  if (index < kNvIndexFirst || index > kNvIndexLast) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} is outside the owner NV range 0x{:08x}..0x{:08x}",
                            IndexName(index), kNvIndexFirst, kNvIndexLast));
  }
  return {};
}

// An error of an NV command, with what it means for this index.
Error NvError(TSS2_RC rc, std::string_view call, std::uint32_t index) {
  Error tss = TssError(rc, call);
  switch (TpmRcBase(rc)) {
    case TPM2_RC_NV_DEFINED:
      return Error(ErrorCode::kInvalidArgument,
                   fmt::format("{} is already defined (undefine it first): {}",
                               IndexName(index), tss.message()));
    case TPM2_RC_NV_LOCKED:
      if (call == "Esys_NV_Read") {
        return Error(ErrorCode::kTpm, fmt::format("{} is read-locked: {}", IndexName(index),
                                                  tss.message()));
      }
      return Error(ErrorCode::kTpm,
                   fmt::format("{} is write-locked (TPM2_NV_WriteLock) until the next "
                               "TPM2_Startup(CLEAR); nothing was written: {}",
                               IndexName(index), tss.message()));
    case TPM2_RC_NV_UNINITIALIZED:
      return Error(ErrorCode::kTpm, fmt::format("{} has not been written yet: {}",
                                                IndexName(index), tss.message()));
    case TPM2_RC_NV_SPACE:
      return Error(ErrorCode::kTpm,
                   fmt::format("no NV space left in the TPM for {}: {}", IndexName(index),
                               tss.message()));
    case TPM2_RC_NV_SIZE:
      return Error(ErrorCode::kTpm, fmt::format("the TPM refuses the size of {}: {}",
                                                IndexName(index), tss.message()));
    case TPM2_RC_NV_AUTHORIZATION:
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return Error(ErrorCode::kTpm,
                   fmt::format("{}: the empty password is not its authorization: {}",
                               IndexName(index), tss.message()));
    default:
      return Error(ErrorCode::kTpm,
                   fmt::format("{}: {}", IndexName(index), tss.message()));
  }
}

// TPM_PT_NV_BUFFER_MAX (Part 2, 6.13): the most bytes one TPM2_NV_Read or
// TPM2_NV_Write moves.
std::size_t NvBufferMax(ESYS_CONTEXT* ctx) {
  TPMI_YES_NO more = TPM2_NO;
  EsysPtr<TPMS_CAPABILITY_DATA> data;
  const TSS2_RC rc = internal::Tss().Esys_GetCapability(
      ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
      TPM2_PT_NV_BUFFER_MAX, 1, &more, OutParam(data).get());
  std::size_t max = kDefaultNvBufferMax;
  if (rc == TSS2_RC_SUCCESS && data != nullptr &&
      data->capability == TPM2_CAP_TPM_PROPERTIES && data->data.tpmProperties.count >= 1 &&
      data->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
      data->data.tpmProperties.tpmProperty[0].value > 0) {
    max = data->data.tpmProperties.tpmProperty[0].value;
  }
  return std::min<std::size_t>(max, TPM2_MAX_NV_BUFFER_SIZE);
}

// Makes `tr` name the defined index `index` (Esys_TR_FromTPMPublic reads
// its public area, TPM2_NV_ReadPublic, Part 3, 31.6) and returns that area.
// kNotFound when the index is not defined.
Result<TPMS_NV_PUBLIC> OpenIndex(ESYS_CONTEXT* ctx, std::uint32_t index, TrCloseGuard& tr) {
  TSS2_RC rc = internal::Tss().Esys_TR_FromTPMPublic(ctx, index, ESYS_TR_NONE, ESYS_TR_NONE,
                                                     ESYS_TR_NONE, tr.out());
  if (rc != TSS2_RC_SUCCESS) {
    // TPM_RC_HANDLE: no such index (Part 3, 31.6.1).
    if (TpmRcBase(rc) == TPM2_RC_HANDLE) {
      return Fail(ErrorCode::kNotFound, fmt::format("{} is not defined", IndexName(index)));
    }
    return Fail(NvError(rc, "Esys_TR_FromTPMPublic", index));
  }
  EsysPtr<TPM2B_NV_PUBLIC> pub;
  EsysPtr<TPM2B_NAME> name;
  rc = internal::Tss().Esys_NV_ReadPublic(ctx, tr.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                          ESYS_TR_NONE, OutParam(pub).get(),
                                          OutParam(name).get());
  if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_ReadPublic", index));
  if (pub == nullptr || pub->nvPublic.nvIndex != index) {
    return Fail(ErrorCode::kTpm,
                fmt::format("Esys_NV_ReadPublic: no public area for {}", IndexName(index)));
  }
  return pub->nvPublic;
}

TPM2_NT IndexType(const TPMS_NV_PUBLIC& pub) {
  return static_cast<TPM2_NT>((pub.attributes & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT);
}

// The authorization handle for writing (TPMA_NV_AUTHWRITE: the index's own
// auth; else TPMA_NV_OWNERWRITE: the owner's), Part 2, 13.4 TPMA_NV.
Result<ESYS_TR> WriteAuth(const TPMS_NV_PUBLIC& pub, ESYS_TR nv) {
  if ((pub.attributes & TPMA_NV_AUTHWRITE) != 0) return nv;
  if ((pub.attributes & TPMA_NV_OWNERWRITE) != 0) return ESYS_TR_RH_OWNER;
  return Fail(ErrorCode::kUnsupported,
              fmt::format("{} is written only with platform or policy authorization",
                          IndexName(pub.nvIndex)));
}

Result<ESYS_TR> ReadAuth(const TPMS_NV_PUBLIC& pub, ESYS_TR nv) {
  if ((pub.attributes & TPMA_NV_AUTHREAD) != 0) return nv;
  if ((pub.attributes & TPMA_NV_OWNERREAD) != 0) return ESYS_TR_RH_OWNER;
  return Fail(ErrorCode::kUnsupported,
              fmt::format("{} is read only with platform or policy authorization",
                          IndexName(pub.nvIndex)));
}

}  // namespace

// TPM2_NV_DefineSpace (Part 3, 31.3) under TPM_RH_OWNER.
Result<void> EsysTpm::NvDefine(const NvDefinition& nv) {
  TC_RETURN_IF_ERROR(CheckIndex(nv.index));
  const std::size_t digest_size = crypto::DigestSize(nv.hash);
  std::size_t size = nv.size;
  if (nv.extend) {
    // An extend index holds one digest of its nameAlg (Part 2, 13.4, TPM_NT_EXTEND).
    if (size == 0) size = digest_size;
    if (size != digest_size) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: an extend index of {} has {} bytes, not {}",
                              IndexName(nv.index), crypto::HashAlgName(nv.hash), digest_size,
                              nv.size));
    }
  } else if (size == 0 || size > kMaxNvIndexSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: size {} out of range (1..{})", IndexName(nv.index), nv.size,
                            kMaxNvIndexSize));
  }
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = nv.index;
  pub.nvPublic.nameAlg = static_cast<TPMI_ALG_HASH>(nv.hash);
  // Readable and writable with the index's (empty) auth or the owner's;
  // TPMA_NV_WRITE_STCLEAR lets TPM2_NV_WriteLock lock writes until the next
  // TPM2_Startup(CLEAR) (Part 2, 13.4).
  pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE |
                            TPMA_NV_AUTHREAD | TPMA_NV_WRITE_STCLEAR;
  const TPM2_NT type = nv.extend ? TPM2_NT_EXTEND : TPM2_NT_ORDINARY;
  pub.nvPublic.attributes |=
      (static_cast<TPMA_NV>(type) << TPMA_NV_TPM2_NT_SHIFT) & TPMA_NV_TPM2_NT_MASK;
  pub.nvPublic.dataSize = static_cast<std::uint16_t>(size);
  const TPM2B_AUTH auth{};
  TrCloseGuard tr(ctx);
  const TSS2_RC rc = internal::Tss().Esys_NV_DefineSpace(
      ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub,
      tr.out());
  if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_DefineSpace", nv.index));
  return {};
}

// TPM2_NV_UndefineSpace (Part 3, 31.4) under TPM_RH_OWNER.
Result<void> EsysTpm::NvUndefine(std::uint32_t index) {
  TC_RETURN_IF_ERROR(CheckIndex(index));
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TrCloseGuard tr(ctx);
  TC_ASSIGN_OR_RETURN(const TPMS_NV_PUBLIC pub, OpenIndex(ctx, index, tr));
  if ((pub.attributes & TPMA_NV_PLATFORMCREATE) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} was defined by the platform; the owner cannot undefine it",
                            IndexName(index)));
  }
  const TSS2_RC rc = internal::Tss().Esys_NV_UndefineSpace(
      ctx, ESYS_TR_RH_OWNER, tr.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_UndefineSpace", index));
  // On success ESYS has freed its record of the index.
  (void)tr.Release();
  return {};
}

// TPM2_NV_Write (Part 3, 31.7), in chunks of TPM_PT_NV_BUFFER_MAX.
Result<void> EsysTpm::NvWrite(std::uint32_t index, std::span<const std::uint8_t> data,
                              std::uint16_t offset) {
  TC_RETURN_IF_ERROR(CheckIndex(index));
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TrCloseGuard tr(ctx);
  TC_ASSIGN_OR_RETURN(const TPMS_NV_PUBLIC pub, OpenIndex(ctx, index, tr));
  if (IndexType(pub) != TPM2_NT_ORDINARY) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} is not an ordinary index (type {}); only NvExtend changes an "
                            "extend index",
                            IndexName(index), IndexType(pub)));
  }
  if (offset > pub.dataSize || data.size() > std::size_t{pub.dataSize} - offset) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} has {} bytes: cannot write {} at offset {}", IndexName(index),
                            pub.dataSize, data.size(), offset));
  }
  TC_ASSIGN_OR_RETURN(const ESYS_TR auth, WriteAuth(pub, tr.get()));
  const std::size_t chunk = NvBufferMax(ctx);
  std::size_t done = 0;
  // At least one command, so that an empty write still sets TPMA_NV_WRITTEN.
  do {
    TPM2B_MAX_NV_BUFFER buf{};
    const std::size_t n = std::min(chunk, data.size() - done);
    buf.size = static_cast<std::uint16_t>(n);
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(done), n, buf.buffer);
    const TSS2_RC rc = internal::Tss().Esys_NV_Write(
        ctx, auth, tr.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf,
        static_cast<std::uint16_t>(offset + done));
    if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_Write", index));
    done += n;
  } while (done < data.size());
  return {};
}

// TPM2_NV_Read (Part 3, 31.13) of the whole index, in chunks.
Result<Bytes> EsysTpm::NvRead(std::uint32_t index) {
  TC_RETURN_IF_ERROR(CheckIndex(index));
  return ReadNvIndex(index);
}

Result<Bytes> EsysTpm::ReadNvIndex(std::uint32_t index) {
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TrCloseGuard tr(ctx);
  TC_ASSIGN_OR_RETURN(const TPMS_NV_PUBLIC pub, OpenIndex(ctx, index, tr));
  TC_ASSIGN_OR_RETURN(const ESYS_TR auth, ReadAuth(pub, tr.get()));
  const std::size_t chunk = NvBufferMax(ctx);
  Bytes out;
  out.reserve(pub.dataSize);
  while (out.size() < pub.dataSize) {
    const std::size_t n = std::min<std::size_t>(chunk, pub.dataSize - out.size());
    EsysPtr<TPM2B_MAX_NV_BUFFER> buf;
    const TSS2_RC rc = internal::Tss().Esys_NV_Read(
        ctx, auth, tr.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
        static_cast<std::uint16_t>(n), static_cast<std::uint16_t>(out.size()),
        OutParam(buf).get());
    if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_Read", index));
    if (buf == nullptr || buf->size != n) {
      return Fail(ErrorCode::kTpm,
                  fmt::format("Esys_NV_Read: asked {} for {} bytes, got {}", IndexName(index),
                              n, buf == nullptr ? 0 : buf->size));
    }
    out.insert(out.end(), buf->buffer, buf->buffer + buf->size);
  }
  return out;
}

// TPM2_NV_Extend (Part 3, 31.9): new = H_nameAlg(old || data), old being
// zeros before the first extend.
Result<void> EsysTpm::NvExtend(std::uint32_t index, std::span<const std::uint8_t> data) {
  TC_RETURN_IF_ERROR(CheckIndex(index));
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TrCloseGuard tr(ctx);
  TC_ASSIGN_OR_RETURN(const TPMS_NV_PUBLIC pub, OpenIndex(ctx, index, tr));
  if (IndexType(pub) != TPM2_NT_EXTEND) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} is not an extend index (type {})", IndexName(index),
                            IndexType(pub)));
  }
  // One command: the extend of two chunks would be a different value.
  const std::size_t max = NvBufferMax(ctx);
  if (data.size() > max) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: at most {} bytes per extend, got {}", IndexName(index), max,
                            data.size()));
  }
  TC_ASSIGN_OR_RETURN(const ESYS_TR auth, WriteAuth(pub, tr.get()));
  TPM2B_MAX_NV_BUFFER buf{};
  buf.size = static_cast<std::uint16_t>(data.size());
  std::copy(data.begin(), data.end(), buf.buffer);
  const TSS2_RC rc = internal::Tss().Esys_NV_Extend(ctx, auth, tr.get(), ESYS_TR_PASSWORD,
                                                    ESYS_TR_NONE, ESYS_TR_NONE, &buf);
  if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_Extend", index));
  return {};
}

// TPM2_NV_WriteLock (Part 3, 31.11): with TPMA_NV_WRITE_STCLEAR, writes fail
// with TPM_RC_NV_LOCKED until the next TPM2_Startup(CLEAR).
Result<void> EsysTpm::NvWriteLock(std::uint32_t index) {
  TC_RETURN_IF_ERROR(CheckIndex(index));
  ESYS_CONTEXT* ctx = connection_->ctx.get();
  TrCloseGuard tr(ctx);
  TC_ASSIGN_OR_RETURN(const TPMS_NV_PUBLIC pub, OpenIndex(ctx, index, tr));
  if ((pub.attributes & (TPMA_NV_WRITE_STCLEAR | TPMA_NV_WRITEDEFINE)) == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} cannot be write-locked (neither TPMA_NV_WRITE_STCLEAR nor "
                            "TPMA_NV_WRITEDEFINE)",
                            IndexName(index)));
  }
  TC_ASSIGN_OR_RETURN(const ESYS_TR auth, WriteAuth(pub, tr.get()));
  const TSS2_RC rc = internal::Tss().Esys_NV_WriteLock(ctx, auth, tr.get(), ESYS_TR_PASSWORD,
                                                       ESYS_TR_NONE, ESYS_TR_NONE);
  if (rc != TSS2_RC_SUCCESS) return Fail(NvError(rc, "Esys_NV_WriteLock", index));
  return {};
}

}  // namespace tc::tpm
