#pragma once

#include <CLI/CLI.hpp>

namespace tc::app {

// Adds `trustchain policy learn | show | diff | sign | approve | stage |
// retire | import-keylime`.
void AddPolicyCommands(CLI::App& app, int* exit_code);

}  // namespace tc::app
