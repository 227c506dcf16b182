#pragma once

// Opens a TPM from a selection string (issue 3), the value of `--tpm` and
// of the environment variable TRUSTCHAIN_TPM:
//
//   device:PATH                    a kernel TPM device, e.g. device:/dev/tpmrm0
//                                  (the resource manager; /dev/tpm0 also works)
//   swtpm:host=HOST,port=PORT      a swtpm process (`swtpm socket --tpm2
//                                  --server type=tcp,port=PORT --ctrl
//                                  type=tcp,port=PORT+1`); defaults
//                                  127.0.0.1 and 2321
//   mssim:host=HOST,port=PORT      the Microsoft/IBM simulator protocol
//                                  (platform port PORT+1); same defaults
//   embedded:DIR                   the in-process libtpms TPM with its state
//                                  in DIR (see internal/libtpms_tcti.h: one
//                                  per process, PCRs reset at every open)
//
// For swtpm and mssim, TPM2_Startup(CLEAR) is sent after connecting (a
// TPM_RC_INITIALIZE answer, already started, is fine). Network TPMs never
// hang a command forever when the peer dies: swtpm connects per command, so
// a dead swtpm refuses the connection or closes it mid-command, and the
// command fails with kTpm; for TCTIs that expose their socket (mssim) a
// receive timeout of kNetworkTpmTimeoutSeconds is also set.

#include <memory>
#include <string>
#include <string_view>

#include "tc/base/error.h"
#include "tc/tpm/tpm.h"

namespace tc::tpm {

inline constexpr int kNetworkTpmTimeoutSeconds = 120;

// Opens the TPM `spec` names. Errors: kInvalidArgument for a malformed spec
// (the message lists the accepted forms); kNotFound for a device path that
// does not exist; kTpm when the TCTI or ESYS cannot be initialized, the
// simulator does not answer, or another embedded TPM is open in this
// process; kIo when an embedded state directory cannot be created.
[[nodiscard]] Result<std::unique_ptr<Tpm>> OpenTpm(std::string_view spec);

// The TPM to use when none is given: $TRUSTCHAIN_TPM if set and non-empty,
// else "device:/dev/tpmrm0" if that exists, else "embedded:" followed by
// $XDG_STATE_HOME/trustchain/tpm or $HOME/.local/state/trustchain/tpm (or
// ./.trustchain-tpm when neither variable is set). Reads the environment;
// not thread-safe against setenv.
std::string DefaultTpmSpec();

}  // namespace tc::tpm
