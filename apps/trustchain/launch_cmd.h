#pragma once

// trustchain launch -- qemu-system-x86_64 ARGS...: the measured launch
// (issue 6). The flow (measure, judge, quarantine, record) is shared with
// `trustchain vm run` and the libvirt hook.

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common.h"
#include "policy_anchor.h"
#include "tc/crypto/signature.h"
#include "tc/launch/check.h"
#include "tc/launch/launch_record.h"
#include "tc/launch/qemu_args.h"

namespace tc::app {

struct LaunchFlags {
  std::string policy;      // "" = measure and record only
  std::string policy_key;  // signed policy
  std::string audit;       // audit log (default POLICY.audit.jsonl)
  std::string sign_key;    // re-sign after a change
  std::string launch_log = "/run/log/trustchain/launch.log";
  AnchorFlags anchor;      // --policy-nv, --tpm (the host TPM)
  std::uint32_t pcr = 15;
  bool enforce = false;
  bool audit_mode = false;
  bool learn = false;    // admit what is measured (first launch)
  bool dry_run = false;  // measure and judge only: no TPM, no log, no QEMU
  bool print_report = true;  // the check's report on stdout (vm run --format json: no)
  Format format = Format::kText;
};

// Adds the options above to `cmd`.
void AddLaunchFlags(CLI::App* cmd, LaunchFlags* f);

struct LaunchOutcome {
  bool may_start = false;  // QEMU may run
  launch::LaunchCheck check;
  std::vector<launch::MeasuredInput> inputs;
  std::size_t first_record = 0;  // the launch log's recnum of the first input
  std::string log_note;          // "PCR 15 (sha256 ...) = the log's replay"
};

// Measures `command`'s inputs (plus `extra`, already measured: the vTPM's
// EK), judges them against --policy (or learns them with --learn), under
// --enforce refuses a launch with findings and quarantines them (policy
// written atomically, audit first), and otherwise extends the host TPM and
// appends the launch log. Prints the report (stdout) and progress (stderr).
// Returns the exit code: 0 may start, 1 refused, 2 error.
int RunLaunchFlow(const LaunchFlags& f, const std::string& vm, const launch::QemuCommand& command,
                  std::vector<launch::MeasuredInput> extra, LaunchOutcome* outcome);

// The key of --policy-key, if given.
[[nodiscard]] Result<std::optional<crypto::VerifyKey>> LoadPolicyKey(const LaunchFlags& f);

// A change of --policy: signed with --sign-key, the audit records written
// first (--audit-log), then the policy atomically, then its --policy-nv
// anchor. Nothing when `records` is empty.
[[nodiscard]] Result<void> SavePolicyChange(const LaunchFlags& f, policy::Policy& p,
                                            const std::vector<policy::AuditRecord>& records);

void AddLaunchCommand(CLI::App& app, int* exit_code);

}  // namespace tc::app
