// trustchain: one binary, one subcommand per module (git-style).

#include <cstdio>
#include <exception>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common.h"
#include "tc/crypto/hash.h"
#include "checkquote_cmd.h"
#include "eventlog_cmd.h"
#include "ima_cmd.h"
#include "launch_cmd.h"
#include "vm_cmd.h"
#include "policy_cmd.h"
#include "verify_cmd.h"
#include "tpm_cmd.h"
#include "tpm_key_cmd.h"
#include "tpm_nv_cmd.h"

int main(int argc, char** argv) {
  tc::crypto::InitForProcess();
  CLI::App app{
      "trustchain: measure, verify and attest what a virtualization host and its guests run.\n"
      "Reads TCG firmware event logs and IMA measurement lists, verifies TPM quotes, learns "
      "whitelists and verifies boots against them; launch and service commands follow."};
  app.name("trustchain");
  app.set_version_flag("--version", "trustchain 0.1.0");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 evidence checked and found wrong, 2 could not decide "
      "(bad input or usage).\nRun 'trustchain COMMAND --help' for each command.");
  int exit_code = tc::app::kExitOk;
  // Only the command group named on the command line is built (all of them
  // for top-level --help or an unknown name): building every subcommand's
  // options is a measurable part of a short run such as `eventlog show`.
  const std::string_view group = argc > 1 ? argv[1] : "";
  const bool all = group != "eventlog" && group != "tpm" && group != "ima" && group != "policy" &&
                   group != "verify" && group != "launch" && group != "vm";
  if (all || group == "eventlog") tc::app::AddEventlogCommands(app, &exit_code);
  if (all || group == "ima") tc::app::AddImaCommands(app, &exit_code);
  if (all || group == "policy") tc::app::AddPolicyCommands(app, &exit_code);
  if (all || group == "verify") tc::app::AddVerifyCommand(app, &exit_code);
  if (all || group == "launch") tc::app::AddLaunchCommand(app, &exit_code);
  if (all || group == "vm") tc::app::AddVmCommands(app, &exit_code);
  if (all || group == "tpm") {
    auto* tpm = app.add_subcommand(
        "tpm",
        "TPM 2.0 (a real TPM, swtpm or the embedded one: --tpm): PCRs, keys, quotes, NV, "
        "sealing; and quote verification");
    tpm->require_subcommand(1);
    tc::app::AddTpmDeviceCommands(tpm, &exit_code);
    tc::app::AddTpmKeyCommands(tpm, &exit_code);
    tc::app::AddTpmNvCommands(tpm, &exit_code);
    tc::app::AddCheckquoteCommand(tpm, &exit_code);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? tc::app::kExitOk : tc::app::kExitUndecided;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trustchain: %s\n", e.what());
    return tc::app::kExitUndecided;
  }
  return exit_code;
}
