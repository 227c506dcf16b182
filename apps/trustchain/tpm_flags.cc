#include "tpm_flags.h"

#include <cstdlib>

#include "tc/tpm/esys/open.h"

namespace tc::app {

void AddTpmFlags(CLI::App* cmd, TpmFlags* f) {
  cmd->add_option("--tpm", f->tpm,
                  "TPM to use: device:PATH, swtpm:host=HOST,port=PORT, "
                  "mssim:host=HOST,port=PORT or embedded:DIR. Default: $TRUSTCHAIN_TPM, else "
                  "device:/dev/tpmrm0 if present, else an embedded TPM with its state in "
                  "$XDG_STATE_HOME/trustchain/tpm (~/.local/state/trustchain/tpm)")
      ->envname("TRUSTCHAIN_TPM")
      ->option_text("SPEC");
  AddFormatOption(cmd, &f->format, /*with_yaml=*/false);
}

Result<std::unique_ptr<tpm::Tpm>> OpenTpmFromFlags(const TpmFlags& f) {
  ::setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  return tpm::OpenTpm(f.tpm.empty() ? tpm::DefaultTpmSpec() : f.tpm);
}

}  // namespace tc::app
