#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `trustchain tpm ek`, `tpm ak create`, `tpm quote` and
// `tpm activatecredential` under the `tpm` command.
void AddTpmKeyCommands(CLI::App* tpm, int* exit_code);

}  // namespace tc::app
