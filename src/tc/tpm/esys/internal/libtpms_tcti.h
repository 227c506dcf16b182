#pragma once

// A TCTI (TCG TSS 2.0 TPM Command Transmission Interface spec, 3.2 TCTI
// context, TSS2_TCTI_CONTEXT_COMMON_V2) that runs each command in this
// process through libtpms: the "embedded" TPM, for hosts without a TPM.
//
// State: the TPM's permanent state (libtpms "permall": seeds, NV indices,
// persistent objects, hierarchy auth) lives as files in a state directory,
// written to a temporary file and renamed into place on every NV commit,
// so a crash never leaves half a state. A volatile-state file, if one is
// present, is restored once and then deleted (as swtpm does); this TCTI
// never writes one. An empty directory is manufactured on first use (new
// EPS/SPS/PPS seeds). The directory is created with mode 0700 if missing,
// and locked (flock on DIR/.lock) while open so two processes never share
// one state.
//
// Power: opening is a power cycle. After TPMLIB_MainInit the TCTI sends
// TPM2_Startup(TPM_SU_CLEAR) (TPM 2.0 Part 3, 9.3), accepting
// TPM_RC_INITIALIZE (already started); PCRs are therefore reset to their
// initial values at every open, as on real hardware after a reboot.
// Finalizing sends TPM2_Shutdown(TPM_SU_CLEAR) (an orderly shutdown, so the
// dictionary-attack logic does not count a power loss) and TPMLIB_Terminate.
//
// libtpms is a process-wide singleton (its TPM state is global), so only
// one embedded TPM may be open per process at a time: a second open, of
// any directory, fails with kTpm until the first is finalized.
//
// Behaviour of the TCTI calls: transmit runs the command synchronously
// (commands are at most 4096 bytes, TPM_BUFFER_MAX); receive then returns
// the response at once for any timeout, including TSS2_TCTI_TIMEOUT_BLOCK.
// receive with a null buffer reports the size; with a buffer smaller than
// the response it fails with TSS2_TCTI_RC_INSUFFICIENT_BUFFER and reports
// the size, keeping the response for a retry. Out-of-order calls fail with
// TSS2_TCTI_RC_BAD_SEQUENCE. cancel, getPollHandles and makeSticky are not
// implemented; setLocality accepts 0..4 and is passed to libtpms.
// Not thread-safe: one caller at a time, as for every TCTI.

#include <string>

#include "tc/base/error.h"
#include "tc/tpm/esys/internal/esys.h"

namespace tc::tpm::internal {

// Largest command or response libtpms handles (TPM_BUFFER_MAX).
inline constexpr std::size_t kLibtpmsBufferMax = 4096;

// Opens the embedded TPM with its state in `state_dir`. Errors: kTpm when
// another embedded TPM is open in this process, the directory is locked by
// another process, or libtpms fails to initialize or start up; kIo when the
// directory cannot be created or opened.
[[nodiscard]] Result<TctiPtr> OpenLibtpmsTcti(const std::string& state_dir);

}  // namespace tc::tpm::internal
