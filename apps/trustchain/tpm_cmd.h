#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `info`, `pcrread`, `extend` and `random` under the `tpm` subcommand
// (created by main.cc). Each takes --tpm SPEC (env TRUSTCHAIN_TPM) and
// --format text|json; the chosen command stores its exit code in
// *exit_code: 0 success, 2 error (could not decide).
void AddTpmDeviceCommands(CLI::App* tpm, int* exit_code);

}  // namespace tc::app
