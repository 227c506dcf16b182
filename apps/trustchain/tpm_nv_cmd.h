#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `nv define|write|read|extend|lock|undefine`, `seal` and `unseal`
// under the `tpm` subcommand (created by main.cc). Each takes --tpm SPEC
// (env TRUSTCHAIN_TPM) and --format text|json; the chosen command stores
// its exit code in *exit_code: 0 success, 1 (unseal only) the PCRs no
// longer have the sealed values, 2 error (could not decide).
void AddTpmNvCommands(CLI::App* tpm, int* exit_code);

}  // namespace tc::app
