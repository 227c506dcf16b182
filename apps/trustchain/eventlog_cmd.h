#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `trustchain eventlog show|replay`; the chosen command stores its
// exit code in *exit_code.
void AddEventlogCommands(CLI::App& app, int* exit_code);

}  // namespace tc::app
