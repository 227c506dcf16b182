#pragma once

// Scope guards for ESYS handles (internal to tc/tpm/esys): a transient
// object or session is flushed from the TPM, and an ESYS_TR that names an
// NV index or a persistent object is closed, when its scope ends, on every
// path. Needed because a TPM has only a few slots (libtpms: 3 loaded
// objects, 3 loaded sessions) and, without a resource manager (the embedded
// TPM, /dev/tpm0, swtpm), nothing else frees them.
//
//   FlushGuard key(ctx);
//   Tss().Esys_CreatePrimary(..., key.out(), ...);  // flushed at scope end

#include "tc/tpm/esys/internal/tss_api.h"

namespace tc::tpm::internal {

// Owns an ESYS_TR for a transient object or a session and sends
// TPM2_FlushContext (TPM 2.0 Part 3, 28.4) for it when destroyed.
// Esys_FlushContext also frees ESYS's record of the handle on success.
// Errors of that flush are ignored: there is nothing a destructor can do,
// and the TPM drops the handle at the next TPM2_Startup anyway.
class FlushGuard {
 public:
  explicit FlushGuard(ESYS_CONTEXT* ctx) : ctx_(ctx) {}
  ~FlushGuard() { Flush(); }
  FlushGuard(const FlushGuard&) = delete;
  FlushGuard& operator=(const FlushGuard&) = delete;

  ESYS_TR get() const { return handle_; }
  // For an ESYS output parameter. Must be empty (TC_CHECK): a handle held
  // would otherwise be lost without a flush.
  ESYS_TR* out() {
    TC_CHECK(handle_ == ESYS_TR_NONE);
    return &handle_;
  }
  // Flushes now (e.g. a parent no longer needed); no-op when empty.
  void Flush() {
    if (handle_ == ESYS_TR_NONE) return;
    (void)Tss().Esys_FlushContext(ctx_, handle_);
    handle_ = ESYS_TR_NONE;
  }
  // Gives the handle up without flushing it: for handles the TPM itself has
  // already dropped (a session used without continueSession).
  ESYS_TR Release() {
    const ESYS_TR h = handle_;
    handle_ = ESYS_TR_NONE;
    return h;
  }

 private:
  ESYS_CONTEXT* ctx_;
  ESYS_TR handle_ = ESYS_TR_NONE;
};

// Owns an ESYS_TR that names something living on in the TPM (an NV index,
// a persistent object): closes ESYS's record of it (Esys_TR_Close, no TPM
// command) when destroyed.
class TrCloseGuard {
 public:
  explicit TrCloseGuard(ESYS_CONTEXT* ctx) : ctx_(ctx) {}
  ~TrCloseGuard() {
    if (handle_ != ESYS_TR_NONE) (void)Tss().Esys_TR_Close(ctx_, &handle_);
  }
  TrCloseGuard(const TrCloseGuard&) = delete;
  TrCloseGuard& operator=(const TrCloseGuard&) = delete;

  ESYS_TR get() const { return handle_; }
  ESYS_TR* out() {
    TC_CHECK(handle_ == ESYS_TR_NONE);
    return &handle_;
  }
  // Gives the handle up without closing it: for calls that free ESYS's
  // record themselves (Esys_NV_UndefineSpace on success).
  ESYS_TR Release() {
    const ESYS_TR h = handle_;
    handle_ = ESYS_TR_NONE;
    return h;
  }

 private:
  ESYS_CONTEXT* ctx_;
  ESYS_TR handle_ = ESYS_TR_NONE;
};

}  // namespace tc::tpm::internal
