#pragma once

// The --tpm option and opening the TPM it names, shared by every `trustchain
// tpm` command that talks to a TPM.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common.h"
#include "tc/base/error.h"
#include "tc/tpm/tpm.h"

namespace tc::app {

struct TpmFlags {
  std::string tpm;
  Format format = Format::kText;
};

// Adds --tpm SPEC (env TRUSTCHAIN_TPM) and --format text|json.
void AddTpmFlags(CLI::App* cmd, TpmFlags* f);

// Opens the TPM of --tpm, else DefaultTpmSpec(). Silences tpm2-tss's own
// stderr logging unless TSS2_LOG is set (our error says it once).
[[nodiscard]] Result<std::unique_ptr<tpm::Tpm>> OpenTpmFromFlags(const TpmFlags& f);

// An NV index as "0x01500000" (hex) or decimal; kInvalidArgument otherwise.
[[nodiscard]] Result<std::uint32_t> ParseNvIndex(std::string_view text);

}  // namespace tc::app
