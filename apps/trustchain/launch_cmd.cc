// trustchain launch: measure what QEMU will load, judge it against the
// whitelist, record it in the host TPM and launch log, then exec QEMU.
// Flags, wiring and exit codes; the work is in tc/launch.

#include "launch_cmd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "tc/io/file.h"
#include "tc/launch/host_log.h"
#include "tc/policy/learn.h"
#include "tc/policy/signing.h"
#include "tc/policy/store.h"
#include "tc/tpm/esys/open.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxSmallFile = 1u << 20;

void Progress(const LaunchFlags& f, const std::string& line) {
  (void)f;
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string HumanBytes(std::uint64_t n) {
  if (n >= (1u << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
  if (n >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
  return fmt::format("{} B", n);
}


}  // namespace

Result<std::optional<crypto::VerifyKey>> LoadPolicyKey(const LaunchFlags& f) {
  if (f.policy_key.empty()) return std::optional<crypto::VerifyKey>();
  TC_ASSIGN_OR_RETURN(Bytes bytes, io::ReadFile(f.policy_key, kMaxSmallFile));
  auto key = crypto::VerifyKey::Load(bytes);
  if (!key) return Fail(std::move(key).error().Wrap(f.policy_key));
  return std::optional<crypto::VerifyKey>(std::move(*key));
}

Result<void> SavePolicyChange(const LaunchFlags& f, policy::Policy& p,
                              const std::vector<policy::AuditRecord>& records) {
  if (records.empty()) return {};
  if (!f.sign_key.empty()) {
    TC_ASSIGN_OR_RETURN(Bytes pem, io::ReadFile(f.sign_key, kMaxSmallFile));
    auto key = crypto::SigningKey::Load(pem);
    if (!key) return Fail(std::move(key).error().Wrap(f.sign_key));
    TC_RETURN_IF_ERROR(policy::SignPolicy(*key, p));
  }
  const std::string audit = f.audit.empty() ? policy::DefaultAuditPath(f.policy) : f.audit;
  TC_RETURN_IF_ERROR(policy::AppendAudit(audit, records));
  TC_RETURN_IF_ERROR(policy::SavePolicyFile(f.policy, p));
  return WriteAnchor(f.anchor, p);
}

namespace {

std::string HostTpmSpec(const LaunchFlags& f) {
  return f.anchor.tpm.empty() ? tpm::DefaultTpmSpec() : f.anchor.tpm;
}

}  // namespace

void AddLaunchFlags(CLI::App* cmd, LaunchFlags* f) {
  cmd->add_option("--policy", f->policy,
                  "Whitelist whose <vm>/<slot> components judge the guest's inputs (see "
                  "docs/launch.md); without it inputs are measured and recorded only");
  auto* enforce = cmd->add_flag(
      "--enforce", f->enforce,
      "Refuse the launch when an input is tampered, unknown, quarantined or missing, and "
      "quarantine it in the policy (the default with --policy)");
  auto* audit = cmd->add_flag("--audit", f->audit_mode,
                              "Launch anyway and report the findings (recorded in the launch log)");
  enforce->excludes(audit);
  auto* learn = cmd->add_flag("--learn", f->learn,
                              "Admit every input as trusted into --policy (created when absent), "
                              "then launch: the first, known-good launch");
  learn->excludes(enforce)->excludes(audit);
  cmd->add_option("--policy-key", f->policy_key,
                  "The public key (PEM) the policy must be signed by");
  cmd->add_option("--audit-log", f->audit, "Audit log of policy changes (default POLICY.audit.jsonl)");
  cmd->add_option("--sign-key", f->sign_key, "Re-sign the policy with this key after a change");
  cmd->add_option("--launch-log", f->launch_log,
                  "The host launch log (CEL-JSON records; default /run/log/trustchain/launch.log)")
      ->capture_default_str();
  cmd->add_option("--pcr", f->pcr, "Host TPM PCR the launch records extend (8-15; default 15)")
      ->capture_default_str();
  cmd->add_flag("--dry-run", f->dry_run,
                "Measure and judge only: no TPM, no launch log, nothing started");
  AddAnchorFlags(cmd, &f->anchor);
  AddFormatOption(cmd, &f->format, false);
}

int RunLaunchFlow(const LaunchFlags& f, const std::string& vm, const launch::QemuCommand& command,
                  std::vector<launch::MeasuredInput> extra, LaunchOutcome* outcome) {
  LaunchOutcome& out = *outcome;
  out = LaunchOutcome{};
  if (vm.empty()) {
    return ReportError(Error(ErrorCode::kInvalidArgument,
                             "the guest has no name: give --name NAME or QEMU's -name NAME"),
                       "launch");
  }
  if (auto p = launch::CheckLaunchPcr(f.pcr); !p) return ReportError(p.error(), "launch: --pcr");
  if (f.learn && f.policy.empty()) {
    return ReportError(Error(ErrorCode::kInvalidArgument, "--learn needs --policy FILE"), "launch");
  }
  // 1. Measure.
  const auto t0 = std::chrono::steady_clock::now();
  auto measured = launch::MeasureInputs(command);
  if (!measured) return ReportError(measured.error(), "launch: measure");
  out.inputs = std::move(*measured);
  for (launch::MeasuredInput& m : extra) out.inputs.push_back(std::move(m));
  std::uint64_t bytes = 0;
  for (const launch::MeasuredInput& m : out.inputs) bytes += m.size;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Progress(f, fmt::format("[measure] {}: {} inputs, {} in {:.2f} s", vm, out.inputs.size(),
                          HumanBytes(bytes), secs));

  // 2. Judge (or learn) under the policy's lock: a quarantine or a learned
  // component is a read-modify-write of the policy file.
  bool refuse = false;
  if (!f.policy.empty()) {
    auto key = LoadPolicyKey(f);
    if (!key) return ReportError(key.error(), "launch: --policy-key");
    auto lock = io::FileLock::Acquire(f.policy);
    if (!lock) return ReportError(lock.error(), "launch: --policy");
    std::error_code ec;
    const bool exists = std::filesystem::exists(f.policy, ec);
    policy::Policy p;
    if (exists || !f.learn) {
      auto loaded = policy::LoadPolicyFile(f.policy, *key ? &**key : nullptr);
      if (!loaded) return ReportError(loaded.error(), "launch: --policy");
      p = std::move(*loaded);
      if (auto a = CheckAnchor(f.anchor, p); !a) {
        return ReportError(std::move(a).error().Wrap(f.policy), "launch: --policy-nv");
      }
    }
    const std::string now = policy::NowRfc3339();
    if (f.learn) {
      const auto records = launch::LearnLaunch(vm, out.inputs, f.pcr,
                                               fmt::format("launch of {} at {}", vm, now), now, p);
      if (!f.dry_run) {
        if (auto s = SavePolicyChange(f, p, records); !s) {
          return ReportError(s.error(), "launch: --learn");
        }
      }
      Progress(f, fmt::format("[learn] {}: {} digest(s) admitted into {} (version {}){}", vm,
                              records.size(), f.policy, p.version,
                              f.dry_run ? " -- not saved: --dry-run" : ""));
    }
    out.check = launch::CheckLaunch(p, vm, out.inputs);
    const bool findings = out.check.verdict != policy::Verdict::kTrusted;
    // Under --learn, what learning cannot admit (a quarantined digest, an
    // EFI image that no longer parses, a missing component) still refuses.
    refuse = findings && !f.audit_mode;
    std::string enforced;
    if (refuse && !f.dry_run) {
      const std::string evidence = fmt::format("launch of {} at {} (refused)", vm, now);
      const auto records = launch::QuarantineLaunch(out.check, out.inputs, f.pcr, evidence, now, p);
      if (auto s = SavePolicyChange(f, p, records); !s) {
        return ReportError(s.error(), "launch: --enforce (the launch is refused)");
      }
      if (!records.empty()) {
        enforced = fmt::format("quarantined: {} digest(s) in {} (now version {}); once checked, "
                               "re-admit with `trustchain policy approve {} --component "
                               "COMPONENT --digest ALG:HEX`\n",
                               records.size(), f.policy, p.version, f.policy);
      }
    }
    if (!f.print_report) {
      // The caller reports.
    } else if (f.format == Format::kJson) {
      doc::Value d = launch::LaunchCheckDocument(out.check);
      d.Set("decision", refuse ? "refused" : "launch");
      d.Set("mode", f.learn ? "learn" : f.audit_mode ? "audit" : "enforce");
      Emit(f.format, d, "");
    } else {
      std::fputs(launch::LaunchCheckText(out.check).c_str(), stdout);
      std::fputs(enforced.c_str(), stdout);
    }
    std::fflush(stdout);  // before the progress lines that follow
    Progress(f, fmt::format("[check] {}: {} -> {}", vm, policy::VerdictName(out.check.verdict),
                            refuse ? "REFUSED (--enforce): QEMU was not started"
                            : findings ? "launching anyway (--audit)"
                                       : "launching"));
  } else {
    out.check.vm = vm;
    out.check.verdict = policy::Verdict::kUndecided;
    Progress(f, fmt::format("[check] {}: no --policy: measured and recorded, not judged", vm));
  }
  if (refuse) return kExitFailed;
  if (f.dry_run) {
    out.may_start = false;
    return out.check.verdict == policy::Verdict::kUntrusted ? kExitFailed : kExitOk;
  }

  // 3. Record: extend the host TPM, append the launch log.
  auto tpm = tpm::OpenTpm(HostTpmSpec(f));
  if (!tpm) return ReportError(tpm.error(), "launch: host TPM (--tpm)");
  auto appended = launch::AppendLaunch(**tpm, f.launch_log, f.pcr, vm, out.inputs);
  if (!appended) return ReportError(appended.error(), "launch: launch log");
  out.first_record = appended->first_recnum;
  std::string banks;
  for (const launch::LogState::Bank& b : appended->after.banks) {
    banks += fmt::format("{}{} {}", banks.empty() ? "" : ", ", crypto::HashAlgName(b.alg),
                         b.tpm.Hex().substr(0, 16));
  }
  out.log_note = fmt::format("PCR {} ({}) {} the replay of {} ({} records)", f.pcr, banks,
                             appended->after.matches() ? "=" : "!=", f.launch_log,
                             appended->after.records);
  if (appended->rotated_to) {
    Progress(f, fmt::format("[record] the TPM was reset since the last launch: the earlier log "
                            "is now {}",
                            *appended->rotated_to));
  }
  Progress(f, fmt::format("[record] {}: records {}-{} extended into the host TPM ({}); {}", vm,
                          appended->first_recnum, appended->first_recnum + appended->records - 1,
                          HostTpmSpec(f), out.log_note));
  out.may_start = true;
  return kExitOk;
}

void AddLaunchCommand(CLI::App& app, int* exit_code) {
  struct Flags {
    LaunchFlags launch;
    std::string name;
    std::vector<std::string> qemu;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "launch",
      "Measured VM launch: measure every file QEMU will load (firmware, kernel, initrd, command "
      "line, disks), judge them against the whitelist, extend the host TPM and append the host "
      "launch log, then exec QEMU. Example:\n"
      "  trustchain launch --policy vms.json --enforce -- qemu-system-x86_64 -name web1 \\\n"
      "      -kernel vmlinuz -initrd initrd.img -append 'console=ttyS0' ...\n"
      "Exit codes: QEMU's own once started; 1 refused (--enforce) or untrusted (--dry-run); 2 "
      "error (nothing started)");
  AddLaunchFlags(cmd, &f->launch);
  cmd->add_option("--name", f->name, "The guest's name (default: QEMU's -name)");
  cmd->add_option("qemu", f->qemu, "-- and the QEMU command line")->required();
  cmd->callback([f, exit_code] {
    auto command = launch::ParseQemuCommand(f->qemu);
    if (!command) {
      *exit_code = ReportError(command.error(), "launch: the QEMU command line");
      return;
    }
    const std::string vm = f->name.empty() ? command->name : f->name;
    for (const std::string& note : command->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
    LaunchOutcome outcome;
    const int rc = RunLaunchFlow(f->launch, vm, *command, {}, &outcome);
    if (rc != kExitOk || !outcome.may_start) {
      *exit_code = rc;
      return;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<char*> argv;
    for (std::string& a : f->qemu) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    *exit_code = ReportError(
        Error(ErrorCode::kIo, fmt::format("cannot run {}: {} (the launch is recorded in the log "
                                          "but the guest did not start)",
                                          f->qemu[0], std::strerror(errno))),
        "launch");
  });
}

}  // namespace tc::app
