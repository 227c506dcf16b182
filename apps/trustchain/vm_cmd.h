#pragma once

// trustchain vm run | log | libvirt-hook (issue 6; docs/launch.md).

#include <CLI/CLI.hpp>

namespace tc::app {

void AddVmCommands(CLI::App& app, int* exit_code);

}  // namespace tc::app
