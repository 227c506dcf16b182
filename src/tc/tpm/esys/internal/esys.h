#pragma once

// RAII and error helpers over tpm2-tss (ESYS and TCTI). Internal to
// tc/tpm/esys: this header includes tpm2-tss headers (STYLE.md §1).

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tc/tpm/esys/internal/tss_api.h"

#include "tc/base/error.h"

namespace tc::tpm::internal {

// A TCTI context allocated with malloc/calloc (as every Tss2_Tcti_*_Init
// expects its caller to do): finalized, then freed.
struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* tcti) const {
    if (tcti == nullptr) return;
    Tss2_Tcti_Finalize(tcti);
    std::free(tcti);
  }
};
using TctiPtr = std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter>;

// An ESYS context that owns its TCTI: Esys_Finalize does not finalize the
// TCTI it was given, so the deleter does that too.
struct EsysContextDeleter {
  void operator()(ESYS_CONTEXT* ctx) const {
    if (ctx == nullptr) return;
    TSS2_TCTI_CONTEXT* tcti = nullptr;
    if (Tss().Esys_GetTcti(ctx, &tcti) != TSS2_RC_SUCCESS) tcti = nullptr;
    Tss().Esys_Finalize(&ctx);
    TctiDeleter()(tcti);
  }
};
using EsysContextPtr = std::unique_ptr<ESYS_CONTEXT, EsysContextDeleter>;

// Output parameters that ESYS allocates (TPM2B_DIGEST**, TPML_*...).
struct EsysFreeDeleter {
  void operator()(void* p) const { Tss().Esys_Free(p); }
};
template <class T>
using EsysPtr = std::unique_ptr<T, EsysFreeDeleter>;

// Collects an ESYS output pointer into an EsysPtr:
//   EsysPtr<TPM2B_DIGEST> out; Tss().Esys_GetRandom(..., OutParam(out).get());
// The returned helper writes the raw pointer back when it dies.
template <class T>
class OutParam {
 public:
  explicit OutParam(EsysPtr<T>& owner) : owner_(owner) {}
  ~OutParam() { owner_.reset(raw_); }
  OutParam(const OutParam&) = delete;
  OutParam& operator=(const OutParam&) = delete;
  T** get() { return &raw_; }

 private:
  EsysPtr<T>& owner_;
  T* raw_ = nullptr;
};

inline Error TssError(TSS2_RC rc, std::string_view call) {
  return Error(ErrorCode::kTpm, std::string(call) + ": " + Tss().Tss2_RC_Decode(rc));
}

// TPM2_Startup(TPM_SU_CLEAR) and TPM2_Shutdown(TPM_SU_CLEAR) as sent on the
// wire (TPM 2.0 Part 3, 9.3 and 9.4): TPM_ST_NO_SESSIONS, size 12, the
// command code, TPM_SU_CLEAR. Sent below ESYS, before it is initialized.
inline constexpr std::array<std::uint8_t, 12> kStartupClearCommand = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00};
inline constexpr std::array<std::uint8_t, 12> kShutdownClearCommand = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x45, 0x00, 0x00};

// What EsysTpm holds (pimpl of esys_tpm.h).
struct EsysConnection {
  EsysContextPtr ctx;
};

}  // namespace tc::tpm::internal
