#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `trustchain verify` (a boot against a whitelist).
void AddVerifyCommand(CLI::App& app, int* exit_code);

}  // namespace tc::app
