#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// trustchain ima show | replay | verify.
void AddImaCommands(CLI::App& app, int* exit_code);

}  // namespace tc::app
