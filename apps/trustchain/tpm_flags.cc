#include "tpm_flags.h"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "tc/tpm/esys/open.h"

namespace tc::app {

void AddTpmFlags(CLI::App* cmd, TpmFlags* f) {
  cmd->add_option("--tpm", f->tpm,
                  "TPM to use: device:PATH, swtpm:host=HOST,port=PORT, "
                  "mssim:host=HOST,port=PORT or embedded:DIR. Default: $TRUSTCHAIN_TPM, else "
                  "device:/dev/tpmrm0 if present, else an embedded TPM with its state in "
                  "$XDG_STATE_HOME/trustchain/tpm (~/.local/state/trustchain/tpm)")
      ->envname("TRUSTCHAIN_TPM")
      ->option_text("SPEC");
  AddFormatOption(cmd, &f->format, /*with_yaml=*/false);
}

Result<std::unique_ptr<tpm::Tpm>> OpenTpmFromFlags(const TpmFlags& f) {
  ::setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  return tpm::OpenTpm(f.tpm.empty() ? tpm::DefaultTpmSpec() : f.tpm);
}

Result<std::uint32_t> ParseNvIndex(std::string_view text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint32_t value = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("NV index '{}': expected hex like 0x01500000", text));
  }
  return value;
}

}  // namespace tc::app
