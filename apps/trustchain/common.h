#pragma once

// Shared plumbing of the subcommands: output format, exit codes, errors.

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "tc/base/error.h"
#include "tc/doc/value.h"

namespace tc::app {

// Exit codes of every subcommand (docs/cli.md).
inline constexpr int kExitOk = 0;         // success; evidence verified
inline constexpr int kExitFailed = 1;     // evidence checked and found wrong
inline constexpr int kExitUndecided = 2;  // bad input or usage: could not decide

enum class Format { kText, kJson, kYaml };

void AddFormatOption(CLI::App* cmd, Format* format, bool with_yaml = true);

// Prints the document as JSON/YAML, or `text` for people, on stdout.
void Emit(Format format, const doc::Value& document, const std::string& text);

// Prints "trustchain: <context>: <message>" and a hint on stderr; returns
// kExitUndecided.
int ReportError(const Error& error, std::string_view context);

}  // namespace tc::app
