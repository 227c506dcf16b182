#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `trustchain tpm checkquote` under the `tpm` command.
void AddCheckquoteCommand(CLI::App* tpm, int* exit_code);

}  // namespace tc::app
