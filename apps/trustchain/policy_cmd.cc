// trustchain policy learn | show | diff | sign | approve | stage | retire |
// import-keylime: flags, wiring and exit codes only.

#include "policy_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common.h"
#include "policy_anchor.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/eventlog/verify.h"
#include "tc/io/file.h"
#include "tc/measure/file_measure.h"
#include "tc/pcr/pcr_values.h"
#include "tc/policy/enforce.h"
#include "tc/policy/keylime_import.h"
#include "tc/policy/learn.h"
#include "tc/policy/report.h"
#include "tc/policy/signing.h"
#include "tc/policy/store.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxSmallFile = 1u << 20;

struct PolicyFlags {
  // learn
  std::string eventlog, ima, pcrs, out;
  std::vector<std::string> files;
  bool golden = false, force = false, progress = false;
  unsigned threads = 0;
  // others
  std::string policy, other, key, policy_key, component, digest, reason, audit, sign_key;
  std::string runtime_policy, refstate;
  std::vector<std::string> stage_files;
  AnchorFlags anchor;
  Format format = Format::kText;
};

Result<std::optional<crypto::VerifyKey>> LoadVerifyKey(const std::string& path) {
  if (path.empty()) return std::optional<crypto::VerifyKey>();
  TC_ASSIGN_OR_RETURN(Bytes bytes, io::ReadFile(path, kMaxSmallFile));
  auto key = crypto::VerifyKey::Load(bytes);
  if (!key) return Fail(std::move(key).error().Wrap(path));
  return std::optional<crypto::VerifyKey>(std::move(*key));
}

Result<policy::Policy> Load(const std::string& path, const std::string& key_path) {
  TC_ASSIGN_OR_RETURN(auto key, LoadVerifyKey(key_path));
  return policy::LoadPolicyFile(path, key ? &*key : nullptr);
}

// For commands that change a policy: also checked against --policy-nv.
Result<policy::Policy> LoadForChange(const PolicyFlags& f) {
  TC_ASSIGN_OR_RETURN(policy::Policy p, Load(f.policy, f.policy_key));
  if (auto a = CheckAnchor(f.anchor, p); !a) return Fail(std::move(a).error().Wrap(f.policy));
  return p;
}

Result<crypto::SigningKey> LoadSigningKey(const std::string& path) {
  TC_ASSIGN_OR_RETURN(Bytes pem, io::ReadFile(path, kMaxSmallFile));
  auto key = crypto::SigningKey::Load(pem);
  if (!key) return Fail(std::move(key).error().Wrap(path));
  return std::move(*key);
}

bool ShowProgress(bool asked) { return asked || ::isatty(STDERR_FILENO) == 1; }

Result<std::vector<policy::LearnedFile>> MeasureFiles(const PolicyFlags& f,
                                                     const std::vector<std::string>& roots) {
  measure::MeasureOptions options;
  options.threads = f.threads;
  if (ShowProgress(f.progress)) {
    options.progress = [](const measure::MeasureProgress& p) {
      std::fprintf(stderr, "\rmeasuring files: %zu/%zu, %.0f/%.0f MB", p.files_done, p.files_total,
                   static_cast<double>(p.bytes_done) / 1e6, static_cast<double>(p.bytes_total) / 1e6);
      if (p.files_done == p.files_total) std::fprintf(stderr, "\n");
    };
  }
  TC_ASSIGN_OR_RETURN(measure::TreeMeasurement tree, measure::MeasureTree(roots, options));
  for (const std::string& s : tree.skipped) std::fprintf(stderr, "skipped: %s\n", s.c_str());
  std::vector<policy::LearnedFile> out;
  out.reserve(tree.files.size());
  for (measure::FileMeasurement& m : tree.files) {
    if (!m.note.empty()) std::fprintf(stderr, "note: %s: %s\n", m.path.c_str(), m.note.c_str());
    out.push_back({std::move(m.path), m.sha256, m.authenticode});
  }
  return out;
}

// Writes a changed policy: the audit records first (never a change without
// its record), then the file, atomically; re-signed with --sign-key.
int Commit(const PolicyFlags& f, policy::Policy& p, const std::vector<policy::AuditRecord>& records,
           std::string_view what) {
  if (records.empty()) {
    std::printf("%s: nothing changed (version %llu)\n", f.policy.c_str(),
                static_cast<unsigned long long>(p.version));
    return kExitOk;
  }
  if (!f.sign_key.empty()) {
    auto key = LoadSigningKey(f.sign_key);
    if (!key) return ReportError(key.error(), std::string(what) + ": --sign-key");
    if (auto s = policy::SignPolicy(*key, p); !s) return ReportError(s.error(), what);
  }
  const std::string audit = f.audit.empty() ? policy::DefaultAuditPath(f.policy) : f.audit;
  if (auto a = policy::AppendAudit(audit, records); !a) return ReportError(a.error(), what);
  if (auto w = policy::SavePolicyFile(f.policy, p); !w) return ReportError(w.error(), what);
  if (auto a = WriteAnchor(f.anchor, p); !a) {
    // Fails closed: the saved policy no longer matches the anchor.
    return ReportError(a.error(), std::string(what) +
                                      ": the policy was saved but its NV anchor was not updated; "
                                      "run `trustchain policy anchor` once the TPM is reachable");
  }
  for (const auto& r : records) {
    std::printf("%s %s %s%s\n", r.action.c_str(), r.component.c_str(), r.digest.c_str(),
                r.reason.empty() ? "" : (" (" + r.reason + ")").c_str());
  }
  std::printf("%s: version %llu%s; audit: %s\n", f.policy.c_str(),
              static_cast<unsigned long long>(p.version),
              p.signature ? ", signed" : (f.policy_key.empty() ? "" : ", UNSIGNED: run `policy sign`"),
              audit.c_str());
  return kExitOk;
}

int RunLearn(const PolicyFlags& f) {
  const std::string what = "policy learn";
  if (!f.force && ::access(f.out.c_str(), F_OK) == 0) {
    return ReportError(Error(ErrorCode::kInvalidArgument,
                             f.out + " exists; give --force to replace it (or `policy stage` to "
                                     "add to it)"),
                       what);
  }
  auto bytes = io::ReadFile(f.eventlog, eventlog::kMaxLogSize);
  if (!bytes) return ReportError(bytes.error(), what + ": --eventlog");
  auto log = eventlog::EventLog::Parse(std::move(*bytes));
  if (!log) return ReportError(std::move(log).error().Wrap(f.eventlog), what);
  auto replay = eventlog::Replay(*log);
  if (!replay) return ReportError(replay.error(), what);
  std::optional<pcr::PcrValues> reported;
  if (!f.pcrs.empty()) {
    auto text = io::ReadTextFile(f.pcrs, kMaxSmallFile);
    if (!text) return ReportError(text.error(), what + ": --pcrs");
    auto values = pcr::ParsePcrValues(*text);
    if (!values) return ReportError(std::move(values).error().Wrap(f.pcrs), what);
    const auto v = eventlog::VerifyReplay(*log, *replay, *values);
    if (!v.AllMatch()) {
      std::fprintf(stderr,
                   "trustchain: %s: %s does not replay to the PCR values in %s: not a golden "
                   "boot to learn from\n",
                   what.c_str(), f.eventlog.c_str(), f.pcrs.c_str());
      return kExitFailed;
    }
    reported = std::move(*values);
  }
  policy::Policy p;
  for (crypto::HashAlg bank : log->banks()) {
    if (bank != crypto::HashAlg::kSha1) p.required_banks.push_back(bank);
  }
  p.refuse_sha1_only = !p.required_banks.empty();
  const std::string now = policy::NowRfc3339();
  policy::LearnNotes notes;
  if (auto r = policy::LearnEventLog(*log, f.eventlog, now, p, notes); !r) {
    return ReportError(r.error(), what);
  }
  if (!f.ima.empty()) {
    auto source = io::OpenFileSource(f.ima);
    if (!source) return ReportError(source.error(), what + ": --ima");
    if (auto r = policy::LearnImaList(**source, {}, p, notes); !r) {
      return ReportError(std::move(r).error().Wrap(f.ima), what);
    }
  }
  if (!f.files.empty()) {
    auto files = MeasureFiles(f, f.files);
    if (!files) return ReportError(files.error(), what + ": --files");
    policy::LearnFiles(*files, now, p, notes);
  }
  if (f.golden) {
    const pcr::PcrValues& source = reported ? *reported : replay->pcrs;
    for (const auto& [alg, values] : replay->pcrs.banks) {
      for (const auto& [index, value] : values) {
        const crypto::Digest* v = source.Find(alg, index);
        p.golden_pcrs.banks[alg][index] = v != nullptr ? *v : value;
      }
    }
  }
  if (auto w = policy::SavePolicyFile(f.out, p); !w) return ReportError(w.error(), what);
  doc::Value document = doc::Value::MakeObject();
  std::string text;
  doc::Value lines = doc::Value::MakeArray();
  for (const std::string& l : notes.lines) {
    text += l + "\n";
    lines.Push(l);
  }
  text += fmt::format("wrote {}: {} components, {} runtime files, version {}{}\n", f.out,
                      p.components.size(), p.files.size(), p.version,
                      reported ? "" : " (the log was not checked against PCRs: give --pcrs)");
  document.Set("policy", f.out);
  document.Set("components", static_cast<std::uint64_t>(p.components.size()));
  document.Set("files", static_cast<std::uint64_t>(p.files.size()));
  document.Set("notes", std::move(lines));
  Emit(f.format, document, text);
  return kExitOk;
}

int RunShow(const PolicyFlags& f) {
  auto p = Load(f.policy, f.policy_key);
  if (!p) return ReportError(p.error(), "policy show");
  Emit(f.format, policy::PolicyDocument(*p), policy::PolicyText(*p));
  return kExitOk;
}

int RunDiff(const PolicyFlags& f) {
  auto a = Load(f.policy, f.policy_key);
  if (!a) return ReportError(a.error(), "policy diff");
  auto b = Load(f.other, f.policy_key);
  if (!b) return ReportError(b.error(), "policy diff");
  const policy::PolicyDiff d = policy::DiffPolicies(*a, *b);
  doc::Value document = doc::Value::MakeObject();
  document.Set("same", d.same());
  doc::Value changes = doc::Value::MakeArray();
  std::string text;
  for (const std::string& l : d.lines) {
    changes.Push(l);
    text += l + "\n";
  }
  document.Set("changes", std::move(changes));
  Emit(f.format, document, d.same() ? "the policies are the same\n" : text);
  return d.same() ? kExitOk : kExitFailed;
}

int RunSign(const PolicyFlags& f) {
  // Signing an already signed policy re-signs it: the old signature is not
  // checked (the signer vouches for the content as it is now).
  const std::string out = f.out.empty() ? f.policy : f.out;
  auto lock = io::FileLock::Acquire(out);
  if (!lock) return ReportError(lock.error(), "policy sign");
  auto file = io::ReadFile(f.policy, policy::kMaxPolicyFileSize);
  if (!file) return ReportError(file.error(), "policy sign");
  auto p = policy::ParsePolicy(*file);
  if (!p) return ReportError(std::move(p).error().Wrap(f.policy), "policy sign");
  auto key = LoadSigningKey(f.key);
  if (!key) return ReportError(key.error(), "policy sign: --key");
  if (auto s = policy::SignPolicy(*key, *p); !s) return ReportError(s.error(), "policy sign");
  policy::AuditRecord record;
  record.time = policy::NowRfc3339();
  record.action = "sign";
  record.reason = "signed with key " + p->signature->key_id;
  record.evidence = f.key;
  record.policy_version = p->version;
  const std::string audit = f.audit.empty() ? policy::DefaultAuditPath(out) : f.audit;
  if (auto a = policy::AppendAudit(audit, {record}); !a) return ReportError(a.error(), "policy sign");
  if (auto w = policy::SavePolicyFile(out, *p); !w) return ReportError(w.error(), "policy sign");
  if (auto a = WriteAnchor(f.anchor, *p); !a) {
    return ReportError(a.error(), "policy sign: the policy was signed but its NV anchor was not "
                                  "updated; run `trustchain policy anchor`");
  }
  std::printf("signed %s (version %llu) with key %s%s\n", out.c_str(),
              static_cast<unsigned long long>(p->version), p->signature->key_id.c_str(),
              f.anchor.nv_index.empty() ? "" : ", re-anchored");
  return kExitOk;
}

int RunApprove(const PolicyFlags& f) {
  auto lock = io::FileLock::Acquire(f.policy);  // one change at a time
  if (!lock) return ReportError(lock.error(), "policy approve");
  auto p = LoadForChange(f);
  if (!p) return ReportError(p.error(), "policy approve");
  auto records = policy::Approve(f.component, f.digest, f.reason, policy::NowRfc3339(), *p);
  if (!records) return ReportError(records.error(), "policy approve");
  return Commit(f, *p, *records, "policy approve");
}

int RunStage(const PolicyFlags& f) {
  auto lock = io::FileLock::Acquire(f.policy);  // one change at a time
  if (!lock) return ReportError(lock.error(), "policy stage");
  auto p = LoadForChange(f);
  if (!p) return ReportError(p.error(), "policy stage");
  std::vector<policy::StagedDigest> digests;
  if (!f.digest.empty()) {
    auto d = crypto::Digest::FromTaggedHex(f.digest);
    if (!d) return ReportError(d.error(), "policy stage: --digest");
    digests.push_back({*d, "staged by hand"});
  }
  if (!f.stage_files.empty()) {
    auto files = MeasureFiles(f, f.stage_files);
    if (!files) return ReportError(files.error(), "policy stage: --file");
    const policy::Component* c = p->FindComponent(f.component);
    // What the firmware extends for an image load is its Authenticode hash.
    const bool image = c != nullptr && c->match.pcr == 4u;
    for (const auto& file : *files) {
      if (image && !file.authenticode) {
        return ReportError(Error(ErrorCode::kInvalidArgument,
                                 file.path + " is not a PE/COFF image, but " + f.component +
                                     " is measured as one (PCR 4)"),
                           "policy stage");
      }
      digests.push_back({image ? *file.authenticode : file.sha256, "staged from file " + file.path});
    }
  }
  if (digests.empty()) {
    return ReportError(Error(ErrorCode::kInvalidArgument, "give --file or --digest"), "policy stage");
  }
  auto records = policy::StageUpdate(f.component, digests, policy::NowRfc3339(), *p);
  if (!records) return ReportError(records.error(), "policy stage");
  return Commit(f, *p, *records, "policy stage");
}

int RunRetire(const PolicyFlags& f) {
  auto lock = io::FileLock::Acquire(f.policy);  // one change at a time
  if (!lock) return ReportError(lock.error(), "policy retire");
  auto p = LoadForChange(f);
  if (!p) return ReportError(p.error(), "policy retire");
  auto records = policy::Retire(f.component, f.digest, policy::NowRfc3339(), *p);
  if (!records) return ReportError(records.error(), "policy retire");
  return Commit(f, *p, *records, "policy retire");
}

int RunAnchor(const PolicyFlags& f) {
  auto p = Load(f.policy, f.policy_key);
  if (!p) return ReportError(p.error(), "policy anchor");
  if (auto a = WriteAnchor(f.anchor, *p); !a) return ReportError(a.error(), "policy anchor");
  std::printf("anchored %s (sha256 %s) in NV index %s\n", f.policy.c_str(),
              policy::PolicyDigest(*p).Hex().c_str(), f.anchor.nv_index.c_str());
  return kExitOk;
}

int RunImportKeylime(const PolicyFlags& f) {
  const std::string what = "policy import-keylime";
  if (f.runtime_policy.empty() && f.refstate.empty()) {
    return ReportError(Error(ErrorCode::kInvalidArgument,
                             "give --runtime-policy and/or --refstate"),
                       what);
  }
  if (!f.force && ::access(f.out.c_str(), F_OK) == 0) {
    return ReportError(Error(ErrorCode::kInvalidArgument, f.out + " exists; give --force"), what);
  }
  policy::Policy p;
  p.required_banks = {crypto::HashAlg::kSha256};
  policy::LearnNotes notes;
  const std::string now = policy::NowRfc3339();
  if (!f.runtime_policy.empty()) {
    auto bytes = io::ReadFile(f.runtime_policy, policy::kMaxPolicyFileSize);
    if (!bytes) return ReportError(bytes.error(), what);
    if (auto r = policy::ImportKeylimeRuntimePolicy(*bytes, p, notes); !r) {
      return ReportError(std::move(r).error().Wrap(f.runtime_policy), what);
    }
  }
  if (!f.refstate.empty()) {
    auto bytes = io::ReadFile(f.refstate, kMaxSmallFile * 16);
    if (!bytes) return ReportError(bytes.error(), what);
    if (auto r = policy::ImportKeylimeRefstate(*bytes, f.refstate, now, p, notes); !r) {
      return ReportError(std::move(r).error().Wrap(f.refstate), what);
    }
  }
  if (auto w = policy::SavePolicyFile(f.out, p); !w) return ReportError(w.error(), what);
  for (const std::string& l : notes.lines) std::printf("%s\n", l.c_str());
  std::printf("wrote %s: %zu components, %zu runtime files\n", f.out.c_str(), p.components.size(),
              p.files.size());
  return kExitOk;
}

void AddChangeFlags(CLI::App* cmd, PolicyFlags* f) {
  cmd->add_option("POLICY", f->policy, "The policy file (changed in place, atomically)")->required();
  cmd->add_option("--component", f->component, "Component name (see `policy show`)")->required();
  cmd->add_option("--policy-key", f->policy_key, "Public key the policy must be signed by");
  cmd->add_option("--sign-key", f->sign_key, "Re-sign the changed policy with this private key");
  cmd->add_option("--audit", f->audit, "Audit log (default POLICY.audit.jsonl)");
  AddAnchorFlags(cmd, &f->anchor);
}

}  // namespace

void AddPolicyCommands(CLI::App& app, int* exit_code) {
  auto* policy = app.add_subcommand(
      "policy",
      "Whitelists: learn one from a golden boot and from files, show, compare, sign, and approve, "
      "stage or retire digests (every change is versioned and audited)");
  policy->require_subcommand(1);
  policy->footer(
      "Exit codes: 0 done; 1 the evidence contradicts (learn: the log does not replay to --pcrs; "
      "diff: the policies differ); 2 could not do it (bad input: nothing is written).\n"
      "The policy format is documented in docs/policy.md.");
  auto f = std::make_shared<PolicyFlags>();

  auto* learn = policy->add_subcommand(
      "learn",
      "Build a whitelist from a golden boot (firmware event log, IMA list) and from files on "
      "disk (sha256; EFI binaries also by their Authenticode hash, what firmware extends)");
  learn->add_option("--eventlog", f->eventlog, "The golden boot's firmware event log")->required();
  learn->add_option("--ima", f->ima, "The golden boot's IMA measurement list: its file digests");
  learn->add_option("--files", f->files,
                    "Files or directories to measure (EFI binaries, kernels, initrds, /usr...)")
      ->expected(1, -1);
  learn->add_option("--pcrs", f->pcrs,
                    "PCR values the golden log must replay to (else nothing is learned, exit 1)");
  learn->add_flag("--golden", f->golden,
                  "Record the boot's PCR values as golden: later boots must reproduce them "
                  "exactly (no update without re-learning)");
  learn->add_option("--out", f->out, "Where to write the policy")->required();
  learn->add_flag("--force", f->force, "Replace --out if it exists");
  learn->add_option("--threads", f->threads, "Threads hashing files (default: every core)");
  learn->add_flag("--progress", f->progress, "Show progress (default when stderr is a terminal)");
  AddFormatOption(learn, &f->format);
  learn->footer(
      "Example:\n"
      "  trustchain policy learn --eventlog boot/eventlog.bin --ima boot/ima-log.bin \\\n"
      "      --pcrs boot/pcrs.txt --files /boot/efi/EFI --out host.json");
  learn->callback([f, exit_code] { *exit_code = RunLearn(*f); });

  auto* show = policy->add_subcommand("show", "Print a policy's components and their digests");
  show->add_option("POLICY", f->policy, "The policy file")->required();
  show->add_option("--policy-key", f->policy_key, "Public key the policy must be signed by");
  AddFormatOption(show, &f->format);
  show->callback([f, exit_code] { *exit_code = RunShow(*f); });

  auto* diff = policy->add_subcommand("diff", "What changed between two policies (exit 1 if any)");
  diff->add_option("OLD", f->policy, "The first policy")->required();
  diff->add_option("NEW", f->other, "The second policy")->required();
  diff->add_option("--policy-key", f->policy_key, "Public key both must be signed by");
  AddFormatOption(diff, &f->format, false);
  diff->callback([f, exit_code] { *exit_code = RunDiff(*f); });

  auto* sign = policy->add_subcommand(
      "sign", "Sign a policy (ECDSA P-256): verifiers given the public key then refuse any change");
  sign->add_option("POLICY", f->policy, "The policy file")->required();
  sign->add_option("--key", f->key,
                   "ECDSA P-256 private key, PEM (openssl ecparam -name prime256v1 -genkey -noout)")
      ->required();
  sign->add_option("--out", f->out, "Write the signed policy here (default: in place)");
  sign->add_option("--audit", f->audit, "Audit log (default POLICY.audit.jsonl)");
  AddAnchorFlags(sign, &f->anchor);
  sign->callback([f, exit_code] { *exit_code = RunSign(*f); });

  auto* approve = policy->add_subcommand(
      "approve", "Re-admit a quarantined component's digest(s) into trust, explicitly");
  AddChangeFlags(approve, f.get());
  approve->add_option("--digest", f->digest,
                      "ALG:HEX of the digest to approve (default: every quarantined one)");
  approve->add_option("--reason", f->reason, "Why, for the audit log");
  approve->callback([f, exit_code] { *exit_code = RunApprove(*f); });

  auto* stage = policy->add_subcommand(
      "stage",
      "Admit the next version of a component ahead of an update, from its new files (EFI images "
      "by Authenticode hash) or a digest, so the update raises no false alarm");
  AddChangeFlags(stage, f.get());
  stage->add_option("--file", f->stage_files, "New file(s) of the component")->expected(1, -1);
  stage->add_option("--digest", f->digest, "ALG:HEX to admit");
  stage->callback([f, exit_code] { *exit_code = RunStage(*f); });

  auto* retire = policy->add_subcommand("retire", "Remove a superseded digest from a component");
  AddChangeFlags(retire, f.get());
  retire->add_option("--digest", f->digest,
                     "ALG:HEX to remove, or 'quarantined' for every quarantined one")
      ->required();
  retire->callback([f, exit_code] { *exit_code = RunRetire(*f); });

  auto* anchor = policy->add_subcommand(
      "anchor",
      "Write a policy's sha256 into a TPM NV index; `verify --policy-nv` then refuses any other "
      "policy (changes made with --policy-nv re-anchor)");
  anchor->add_option("POLICY", f->policy, "The policy file")->required();
  anchor->add_option("--policy-key", f->policy_key, "Public key the policy must be signed by");
  AddAnchorFlags(anchor, &f->anchor);
  anchor->get_option("--policy-nv")->required();
  anchor->callback([f, exit_code] { *exit_code = RunAnchor(*f); });

  auto* import = policy->add_subcommand(
      "import-keylime",
      "Convert Keylime's runtime policy (IMA digests and excludes) and measured-boot reference "
      "state (mb_refstate: shim/GRUB/kernel Authenticode, initrd) into a trustchain policy");
  import->add_option("--runtime-policy", f->runtime_policy, "Keylime runtime policy JSON");
  import->add_option("--refstate", f->refstate, "Keylime measured-boot reference state JSON");
  import->add_option("--out", f->out, "Where to write the policy")->required();
  import->add_flag("--force", f->force, "Replace --out if it exists");
  import->callback([f, exit_code] { *exit_code = RunImportKeylime(*f); });
}

}  // namespace tc::app
