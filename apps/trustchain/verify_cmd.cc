// trustchain verify: a boot (firmware event log, IMA list) against a
// whitelist, with the PCRs from a file or a checked quote; --enforce
// quarantines what was tampered. Flags, wiring and exit codes only.

#include "verify_cmd.h"

#include <cstdio>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common.h"
#include "policy_anchor.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/ima/verify.h"
#include "tc/io/file.h"
#include "tc/pcr/pcr_values.h"
#include "tc/policy/enforce.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/learn.h"
#include "tc/policy/report.h"
#include "tc/policy/signing.h"
#include "tc/policy/store.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/quote.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxSmallFile = 1u << 20;

struct VerifyFlags {
  std::string policy, eventlog, ima, pcrs, quote, ak, nonce, policy_key, audit, sign_key;
  AnchorFlags anchor;
  Format format = Format::kText;
  bool enforce = false;
  bool verbose = false;
  std::size_t max_findings = 1000;
};

// The PCR values the verdict rests on, and where they came from.
struct Reported {
  pcr::PcrValues values;
  std::string source;
};

std::string Sibling(const std::string& path, std::string_view ext) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  const std::string stem =
      dot != std::string::npos && (slash == std::string::npos || dot > slash) ? path.substr(0, dot)
                                                                             : path;
  return stem + std::string(ext);
}

// --quote Q: Q (or Q.msg) is tpm2_quote -m, with Q.sig (-s) and Q.pcrs (-o)
// beside it. The PCR values count only when the quote verifies with the AK
// and the nonce.
Result<Reported> FromQuote(const VerifyFlags& f) {
  if (f.ak.empty() || f.nonce.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "--quote needs --ak (the attestation key's public key) and --nonce (the fresh "
                "nonce the verifier chose)");
  }
  TC_ASSIGN_OR_RETURN(Bytes key, io::ReadFile(f.ak, kMaxSmallFile));
  auto ak = tpm::PublicKey::Load(key);
  if (!ak) return Fail(std::move(ak).error().Wrap(f.ak));
  TC_ASSIGN_OR_RETURN(Bytes attest, io::ReadFile(f.quote, kMaxSmallFile));
  const std::string sig_path = Sibling(f.quote, ".sig");
  const std::string pcrs_path = Sibling(f.quote, ".pcrs");
  TC_ASSIGN_OR_RETURN(Bytes sig, io::ReadFile(sig_path, kMaxSmallFile));
  TC_ASSIGN_OR_RETURN(Bytes pcr_blob, io::ReadFile(pcrs_path, kMaxSmallFile));
  auto pcrs = tpm::ParseToolsPcrFile(pcr_blob);
  if (!pcrs) return Fail(std::move(pcrs).error().Wrap(pcrs_path));
  auto nonce = ParseHex(f.nonce);
  if (!nonce) return Fail(ErrorCode::kInvalidArgument, "--nonce: expected hex");
  tpm::QuoteExpectations expect;
  expect.nonce = *nonce;
  expect.pcr_values = &pcrs->values;
  expect.pcr_selection = pcrs->selection;
  auto v = tpm::VerifyQuote(attest, sig, *ak, expect);
  if (!v) return Fail(std::move(v).error().Wrap(f.quote));
  if (!v->ok()) {
    const tpm::QuoteCheck* bad = v->first_failure();
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("{}: the quote does not verify: {}: {}", f.quote,
                            tpm::QuoteCheckName(bad->id), bad->detail));
  }
  return Reported{std::move(pcrs->values),
                  fmt::format("quote {} verified with AK {} and the nonce", f.quote, f.ak)};
}

Result<std::optional<Reported>> LoadReported(const VerifyFlags& f) {
  if (!f.quote.empty()) {
    TC_ASSIGN_OR_RETURN(Reported r, FromQuote(f));
    return std::optional<Reported>(std::move(r));
  }
  if (!f.pcrs.empty()) {
    TC_ASSIGN_OR_RETURN(std::string text, io::ReadTextFile(f.pcrs, kMaxSmallFile));
    auto values = pcr::ParsePcrValues(text);
    if (!values) return Fail(std::move(values).error().Wrap(f.pcrs));
    return std::optional<Reported>(Reported{std::move(*values), "PCR values from " + f.pcrs});
  }
  return std::optional<Reported>();
}

int Run(const VerifyFlags& f) {
  const auto undecided = [&](const Error& e, std::string_view what) {
    if (f.format == Format::kJson) {
      doc::Value v = doc::Value::MakeObject();
      v.Set("verdict", "undecided");
      v.Set("error", e.message());
      v.Set("components", doc::Value::MakeArray());
      Emit(f.format, v, "");
    }
    return ReportError(e, what);
  };
  // The policy: its signature when a key is given.
  std::optional<crypto::VerifyKey> policy_key;
  if (!f.policy_key.empty()) {
    auto bytes = io::ReadFile(f.policy_key, kMaxSmallFile);
    if (!bytes) return undecided(bytes.error(), "verify: --policy-key");
    auto key = crypto::VerifyKey::Load(*bytes);
    if (!key) return undecided(std::move(key).error().Wrap(f.policy_key), "verify: --policy-key");
    policy_key = std::move(*key);
  }
  // --enforce reads, changes and writes the policy: one such run at a time.
  std::optional<io::FileLock> lock;
  if (f.enforce) {
    auto l = io::FileLock::Acquire(f.policy);
    if (!l) return undecided(l.error(), "verify: --enforce");
    lock.emplace(std::move(*l));
  }
  auto policy = policy::LoadPolicyFile(f.policy, policy_key ? &*policy_key : nullptr);
  if (!policy) return undecided(policy.error(), "verify: --policy");
  if (auto a = CheckAnchor(f.anchor, *policy); !a) {
    return undecided(std::move(a).error().Wrap(f.policy), "verify: --policy-nv");
  }
  // The evidence.
  auto bytes = io::ReadFile(f.eventlog, eventlog::kMaxLogSize);
  if (!bytes) return undecided(bytes.error(), "verify: --eventlog");
  auto log = eventlog::EventLog::Parse(std::move(*bytes));
  if (!log) return undecided(std::move(log).error().Wrap(f.eventlog), "verify: --eventlog");
  auto replay = eventlog::Replay(*log);
  if (!replay) return undecided(replay.error(), "verify: " + f.eventlog);
  auto reported = LoadReported(f);
  if (!reported) {
    if (reported.error().code() == ErrorCode::kVerificationFailed) {
      // A quote that does not verify is evidence checked and found wrong.
      std::fprintf(stderr, "trustchain: verify: %s\n", reported.error().message().c_str());
      if (f.format == Format::kJson) {
        doc::Value v = doc::Value::MakeObject();
        v.Set("verdict", "untrusted");
        v.Set("error", reported.error().message());
        v.Set("components", doc::Value::MakeArray());
        Emit(f.format, v, "");
      }
      return kExitFailed;
    }
    return undecided(reported.error(), "verify");
  }
  policy::BootEvidence evidence;
  evidence.log = &*log;
  evidence.replay = &*replay;
  if (*reported) {
    evidence.reported = &(*reported)->values;
    evidence.reported_source = (*reported)->source;
  }
  policy::Evaluation evaluation = policy::EvaluateBoot(*policy, evidence);
  if (!f.ima.empty()) {
    auto source = io::OpenFileSource(f.ima);
    if (!source) return undecided(source.error(), "verify: --ima");
    const ima::Allowlist allow = policy::BuildAllowlist(*policy);
    ima::VerifyOptions options;
    if (evidence.reported != nullptr) {
      pcr::PcrValues pcr10;
      for (const auto& [alg, values] : evidence.reported->banks) {
        if (auto it = values.find(ima::kImaPcr); it != values.end()) pcr10.banks[alg][it->first] = it->second;
      }
      if (!pcr10.empty()) options.quoted = std::move(pcr10);
      options.firmware = *evidence.reported;
      options.firmware_source = "reported PCRs";
    } else {
      options.firmware = replay->pcrs;
      options.firmware_source = "the event log's replay (unattested)";
    }
    options.allowlist = &allow;
    options.max_violations = f.max_findings;
    auto result = ima::Verify(**source, options);
    if (!result) return undecided(std::move(result).error().Wrap(f.ima), "verify: --ima");
    policy::AddImaResult(*policy, std::move(*result), evaluation, f.max_findings);
  }
  policy::Decide(*policy, evaluation);

  std::string enforced;
  if (f.enforce && !evaluation.EvidenceProven()) {
    // Findings in evidence the TPM does not prove are whatever the sender
    // wrote: acting on them would let anyone quarantine a good component.
    enforced = "not enforced: the evidence is not proven by the reported PCRs (see above); the "
               "policy is unchanged\n";
  } else if (f.enforce) {
    const std::string now = policy::NowRfc3339();
    auto records = policy::Quarantine(evaluation, f.eventlog, now, *policy);
    if (!records.empty()) {
      if (!f.sign_key.empty()) {
        auto pem = io::ReadFile(f.sign_key, kMaxSmallFile);
        if (!pem) return undecided(pem.error(), "verify: --sign-key");
        auto key = crypto::SigningKey::Load(*pem);
        if (!key) return undecided(std::move(key).error().Wrap(f.sign_key), "verify: --sign-key");
        if (auto s = policy::SignPolicy(*key, *policy); !s) return undecided(s.error(), "verify");
      }
      const std::string audit = f.audit.empty() ? policy::DefaultAuditPath(f.policy) : f.audit;
      // The audit trail first: a change is never made without its record.
      if (auto a = policy::AppendAudit(audit, records); !a) {
        return undecided(a.error(), "verify: --enforce: audit log");
      }
      if (auto w = policy::SavePolicyFile(f.policy, *policy); !w) {
        return undecided(w.error(), "verify: --enforce");
      }
      if (auto a = WriteAnchor(f.anchor, *policy); !a) {
        // Fails closed: the saved policy no longer matches the anchor.
        return undecided(a.error(), "verify: --enforce: the policy was saved but its NV anchor "
                                    "was not updated; run `trustchain policy anchor` once the TPM "
                                    "is reachable");
      }
      enforced = fmt::format(
          "enforced: {} digest(s) quarantined in {} (now version {}{}); audit: {}\n", records.size(),
          f.policy, policy->version,
          policy->signature ? ", re-signed"
                            : (policy_key ? ", UNSIGNED: sign it again with `policy sign`" : ""),
          audit);
    }
  }
  doc::Value document;
  if (f.format != Format::kText) {
    document = policy::EvaluationDocument(evaluation, f.verbose);
    if (f.enforce) document.Set("enforced", enforced.starts_with("enforced"));
  }
  Emit(f.format, document,
       f.format == Format::kText ? policy::EvaluationText(evaluation, f.verbose) + enforced : "");
  if (!enforced.empty() && f.format != Format::kText) std::fputs(enforced.c_str(), stderr);
  switch (evaluation.verdict) {
    case policy::Verdict::kTrusted: return kExitOk;
    case policy::Verdict::kUntrusted: return kExitFailed;
    case policy::Verdict::kUndecided: return kExitUndecided;
  }
  return kExitUndecided;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<VerifyFlags>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Verify a boot against a whitelist: every measured component trusted, tampered, unknown, "
      "missing or quarantined, every PCR matched; --enforce quarantines what was tampered");
  cmd->add_option("--policy", f->policy, "Whitelist (policy JSON, see `trustchain policy learn`)")
      ->required();
  cmd->add_option("--eventlog", f->eventlog,
                  "The boot's TCG firmware event log (binary_bios_measurements)")
      ->required();
  cmd->add_option("--ima", f->ima, "The boot's IMA measurement list (ascii or binary)");
  auto* pcrs = cmd->add_option(
      "--pcrs", f->pcrs,
      "PCR values as read from the TPM (INDEX HEX lines or tpm2_pcrread YAML, as in `eventlog "
      "replay`); taken as true: use them for a TPM you read yourself (a guest's vTPM from the "
      "host), --quote for remote evidence");
  auto* quote = cmd->add_option(
      "--quote", f->quote,
      "A TPM quote (tpm2_quote -m file; Q.sig and Q.pcrs beside it): its PCR values count only "
      "when it verifies with --ak and --nonce");
  pcrs->excludes(quote);
  cmd->add_option("--ak", f->ak, "The attestation key's public key for --quote (PEM or TPM2B_PUBLIC)");
  cmd->add_option("--nonce", f->nonce, "The nonce (hex) the quote must carry");
  cmd->add_option("--policy-key", f->policy_key,
                  "The public key (PEM) the policy must be signed by; a signed policy needs it");
  cmd->add_flag("--enforce", f->enforce,
                "Quarantine: take tampered components' digests out of trust and hold unknown ones "
                "for approval, in the policy file itself (version bumped), with an audit record");
  cmd->add_option("--audit", f->audit, "Audit log for --enforce (default POLICY.audit.jsonl)");
  cmd->add_option("--sign-key", f->sign_key,
                  "Re-sign the policy with this ECDSA P-256 private key after --enforce");
  AddAnchorFlags(cmd, &f->anchor);
  cmd->add_flag("--verbose", f->verbose, "List trusted components and every PCR too");
  cmd->add_option("--max-findings", f->max_findings,
                  "IMA findings kept in full (all are counted); default 1000");
  AddFormatOption(cmd, &f->format);
  cmd->footer(
      "Examples:\n"
      "  trustchain verify --policy host.json --eventlog binary_bios_measurements \\\n"
      "      --ima ascii_runtime_measurements --pcrs pcrs.txt\n"
      "  trustchain verify --policy host.json --eventlog log.bin --quote quote.msg \\\n"
      "      --ak ak.pub --nonce 0011... --enforce\n"
      "Verdict: trusted (exit 0), untrusted (exit 1: tampered, unknown, missing or quarantined\n"
      "components, or PCRs that do not match), undecided (exit 2: evidence that proves nothing:\n"
      "no --pcrs/--quote, a required bank absent, a bad input). Unverifiable evidence is never\n"
      "trusted. JSON: {\"verdict\", \"components\": [{\"name\", \"stage\", \"state\", \"reason\",\n"
      "...}], \"pcrs\", \"problems\", ...} (docs/policy.md).");
  cmd->callback([f, exit_code] { *exit_code = Run(*f); });
}

}  // namespace tc::app
