#pragma once

// tpm2-tss, loaded on first use with dlopen (internal to tc/tpm/esys).
//
// Why: trustchain is one binary, and most of its commands (eventlog,
// checkquote, ima, policy) never touch a TPM. Linking tpm2-tss would load
// six shared libraries and a second, dynamic OpenSSL (tpm2-tss links
// libcrypto.so; trustchain links OpenSSL statically) at every start, and let
// the two OpenSSL copies interpose on each other. Loaded with RTLD_LOCAL
// from a binary that exports no OpenSSL symbols, tpm2-tss keeps to its own
// libcrypto.so and only TPM commands pay for it (docs/benchmarks.md).
//
// Every tpm2-tss function trustchain calls is listed once in
// TC_TSS_FUNCTIONS; add new ones there. Thread-safe.

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tcti_device.h>
#include <tss2/tss2_tcti_mssim.h>
#include <tss2/tss2_tcti_swtpm.h>

#include "tc/base/error.h"

namespace tc::tpm::internal {

#define TC_TSS_FUNCTIONS(X) \
  X(Esys_Initialize)        \
  X(Esys_Finalize)          \
  X(Esys_GetTcti)           \
  X(Esys_Free)              \
  X(Esys_GetCapability)     \
  X(Esys_GetRandom)         \
  X(Esys_PCR_Read)          \
  X(Esys_PCR_Extend)        \
  X(Esys_ReadClock)         \
  X(Esys_SelfTest)          \
  X(Esys_Shutdown)          \
  X(Esys_CreatePrimary)     \
  X(Esys_Create)            \
  X(Esys_Load)              \
  X(Esys_EvictControl)      \
  X(Esys_FlushContext)      \
  X(Esys_StartAuthSession)  \
  X(Esys_PolicySecret)      \
  X(Esys_PolicyPCR)         \
  X(Esys_PolicyGetDigest)   \
  X(Esys_Quote)             \
  X(Esys_ActivateCredential) \
  X(Esys_Unseal)            \
  X(Esys_TR_FromTPMPublic)  \
  X(Esys_TR_Close)          \
  X(Esys_TR_SetAuth)        \
  X(Esys_NV_DefineSpace)    \
  X(Esys_NV_UndefineSpace)  \
  X(Esys_NV_Write)          \
  X(Esys_NV_Read)           \
  X(Esys_NV_ReadPublic)     \
  X(Esys_NV_Extend)         \
  X(Esys_NV_WriteLock)      \
  X(Tss2_MU_TPM2B_PUBLIC_Marshal)   \
  X(Tss2_MU_TPM2B_PUBLIC_Unmarshal) \
  X(Tss2_MU_TPM2B_PRIVATE_Marshal)  \
  X(Tss2_MU_TPM2B_PRIVATE_Unmarshal) \
  X(Tss2_MU_TPMS_ATTEST_Marshal)    \
  X(Tss2_MU_TPMT_SIGNATURE_Marshal) \
  X(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal) \
  X(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal) \
  X(Tss2_RC_Decode)         \
  X(Tss2_Tcti_Device_Init)  \
  X(Tss2_Tcti_Swtpm_Init)   \
  X(Tss2_Tcti_Mssim_Init)

struct TssApi {
#define TC_TSS_FIELD(name) decltype(&::name) name = nullptr;
  TC_TSS_FUNCTIONS(TC_TSS_FIELD)
#undef TC_TSS_FIELD
};

// Loads the libraries once. Fails with kUnsupported naming the library
// that is missing and what to install.
[[nodiscard]] Result<void> LoadTss();

// The loaded functions. Only valid after LoadTss() succeeded (TC_CHECK):
// every EsysTpm and TCTI is made after it.
const TssApi& Tss();

}  // namespace tc::tpm::internal
