// trustchain ima show | replay | verify: flags, wiring and exit codes only.

#include "ima_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "common.h"
#include "tc/base/hex.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/ima/keylime_policy.h"
#include "tc/ima/parser.h"
#include "tc/ima/replay.h"
#include "tc/ima/report.h"
#include "tc/ima/signature.h"
#include "tc/crypto/signature.h"
#include "tc/ima/verify.h"
#include "tc/io/file.h"
#include "tc/pcr/pcr_values.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxPcrFileSize = 1u << 20;
constexpr std::size_t kMaxPolicySize = std::size_t{2} << 30;
constexpr std::size_t kMaxCheckpointSize = 64u << 10;

struct ImaFlags {
  std::string file;
  Format format = Format::kText;
  bool strict = false;
  std::string template_hash;  // sha1, sha256, ... or "" (detect)
  ima::ByteOrder byte_order = ima::ByteOrder::kAuto;
  std::vector<std::string> pcr10;
  std::string pcrs_file;
  std::vector<std::string> banks;
  std::string boot_log;
  std::string policy;
  std::string checkpoint;
  std::vector<std::string> ima_keys;
  std::size_t max_violations = 1000;
  bool progress = false;
};

void AddListFlags(CLI::App* cmd, ImaFlags* f) {
  cmd->add_option("FILE", f->file,
                  "IMA measurement list, ascii or binary (detected): e.g. "
                  "/sys/kernel/security/ima/binary_runtime_measurements ('-' reads stdin)")
      ->required();
  AddFormatOption(cmd, &f->format);
  cmd->add_option("--template-hash", f->template_hash,
                  "Bank of the list's template digests: sha1 (classic lists), sha256, ... "
                  "(default: detected; per-bank lists binary_runtime_measurements_sha256 have "
                  "32-byte digests)")
      ->option_text("ALG");
  cmd->add_option("--byte-order", f->byte_order,
                  "Byte order of a binary list: auto (default), little (x86, arm, or any "
                  "kernel booted with ima_canonical_fmt), big")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ima::ByteOrder>{{"auto", ima::ByteOrder::kAuto},
                                                {"little", ima::ByteOrder::kLittle},
                                                {"big", ima::ByteOrder::kBig}},
          CLI::ignore_case))
      ->option_text("auto|little|big");
  cmd->add_flag("--strict", f->strict,
                "Refuse trailing bytes that are not a whole entry (by default they are reported "
                "and ignored)");
}

void AddPcrFlags(CLI::App* cmd, ImaFlags* f) {
  cmd->add_option("--pcr10", f->pcr10,
                  "Quoted PCR 10 value, HEX (bank from its length) or BANK:HEX; repeat for "
                  "several banks")
      ->option_text("HEX");
  cmd->add_option("--pcrs", f->pcrs_file,
                  "PCR values file (as for 'eventlog replay --pcrs', e.g. 'tpm checkquote "
                  "--pcrs-out'): its PCR 10 values are the quoted ones")
      ->option_text("FILE");
  cmd->add_option("--bank", f->banks,
                  "Also replay this bank (repeatable; default: sha1 and sha256)")
      ->option_text("ALG");
}

Result<ima::ParseOptions> MakeParseOptions(const ImaFlags& f) {
  ima::ParseOptions o;
  o.strict = f.strict;
  o.byte_order = f.byte_order;
  if (!f.template_hash.empty()) {
    const auto alg = crypto::HashAlgFromName(f.template_hash);
    if (!alg) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--template-hash {}: not sha1, sha256, sha384, sha512 or sm3_256",
                              f.template_hash));
    }
    o.template_hash_alg = alg;
  } else {
    // The per-bank securityfs files name their bank.
    for (const crypto::HashAlg alg : crypto::AllHashAlgs()) {
      if (f.file.ends_with(fmt::format("_measurements_{}", crypto::HashAlgName(alg)))) {
        o.template_hash_alg = alg;
      }
    }
  }
  return o;
}

Result<std::vector<crypto::HashAlg>> Banks(const ImaFlags& f) {
  std::vector<crypto::HashAlg> banks;
  for (const std::string& b : f.banks) {
    const auto alg = crypto::HashAlgFromName(b);
    if (!alg) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("--bank {}: unknown hash algorithm", b));
    }
    banks.push_back(*alg);
  }
  if (banks.empty()) banks = {crypto::HashAlg::kSha1, crypto::HashAlg::kSha256};
  return banks;
}

// The --pcrs file, parsed once for both its PCR 10 and its PCRs 0-9.
Result<std::optional<pcr::PcrValues>> ReadPcrsFile(const ImaFlags& f) {
  if (f.pcrs_file.empty()) return std::optional<pcr::PcrValues>();
  TC_ASSIGN_OR_RETURN(std::string text, io::ReadTextFile(f.pcrs_file, kMaxPcrFileSize));
  auto values = pcr::ParsePcrValues(text);
  if (!values) return Fail(std::move(values).error().Wrap(f.pcrs_file));
  return std::optional<pcr::PcrValues>(std::move(*values));
}

// The quoted PCR 10 values from --pcr10 and --pcrs (`file`, as read by
// ReadPcrsFile); nullopt when neither.
Result<std::optional<pcr::PcrValues>> Quoted(const ImaFlags& f,
                                             const std::optional<pcr::PcrValues>& file) {
  if (f.pcr10.empty() && !file) return std::optional<pcr::PcrValues>();
  pcr::PcrValues q;
  for (const std::string& v : f.pcr10) {
    std::string_view text = v;
    std::optional<crypto::HashAlg> alg;
    if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
      alg = crypto::HashAlgFromName(text.substr(0, colon));
      if (!alg) {
        return Fail(ErrorCode::kInvalidArgument, fmt::format("--pcr10 {}: unknown bank", v));
      }
      text = text.substr(colon + 1);
    }
    auto bytes = ParseHex(text);
    if (!bytes) return Fail(ErrorCode::kInvalidArgument, fmt::format("--pcr10 {}: not hex", v));
    if (!alg) alg = crypto::HashAlgFromDigestSize(bytes->size());
    if (!alg || crypto::DigestSize(*alg) != bytes->size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--pcr10 {}: {} bytes is not a digest of {}", v, bytes->size(),
                              alg ? crypto::HashAlgName(*alg) : "any bank"));
    }
    q.banks[*alg][ima::kImaPcr] = crypto::Digest(*alg, *bytes);
  }
  if (file) {
    for (const auto& [alg, pcrs] : file->banks) {
      if (const auto it = pcrs.find(ima::kImaPcr); it != pcrs.end()) {
        q.banks[alg][ima::kImaPcr] = it->second;
      }
    }
    if (q.banks.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: has no PCR 10 value to compare with", f.pcrs_file));
    }
  }
  return std::optional<pcr::PcrValues>(std::move(q));
}

// Progress on stderr for long lists, when someone is watching (or asked).
std::function<void(std::size_t, std::size_t)> Progress(const ImaFlags& f) {
  if (!f.progress && ::isatty(2) == 0) return nullptr;
  return [](std::size_t entries, std::size_t bytes) {
    std::fprintf(stderr, "\r%zu entries, %.1f MB read", entries, static_cast<double>(bytes) / 1e6);
    std::fflush(stderr);
  };
}

int RunShow(const ImaFlags& f) {
  auto parse = MakeParseOptions(f);
  if (!parse) return ReportError(parse.error(), "ima show");
  auto source = io::OpenFileSource(f.file);
  if (!source) return ReportError(source.error(), "ima show");
  ima::EntryStream stream(**source, *parse);
  ima::ImaEntry e;
  ima::CheckCounts checks;
  std::optional<ima::Replayer> replayer;
  std::string out;
  bool first = true;
  if (f.format == Format::kJson) out = "{\n\"entries\": [";
  const auto flush = [&](bool force) {
    if (out.size() >= (1u << 16) || force) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  };
  while (true) {
    auto more = stream.Next(&e);
    if (!more) {
      flush(true);
      std::fflush(stdout);
      return ReportError(more.error(), "ima show: " + f.file);
    }
    if (!replayer) replayer.emplace(stream.summary().template_hash_alg, std::vector<crypto::HashAlg>{});
    if (!*more) break;
    auto check = replayer->Add(e);
    if (!check) return ReportError(check.error(), "ima show");
    checks.Count(*check);
    if (f.format == Format::kText) {
      if (first) out += "  entry PCR template digest path\n";
      out += ima::EntryText(e, *check);
    } else if (f.format == Format::kJson) {
      out += first ? "\n" : ",\n";
      out += doc::ToJson(ima::EntryDocument(e, stream.summary().template_hash_alg, *check));
      if (!out.empty() && out.back() == '\n') out.pop_back();
    } else {
      doc::Value one = doc::Value::MakeArray();
      one.Push(ima::EntryDocument(e, stream.summary().template_hash_alg, *check));
      if (first) out += "entries:\n";
      std::string y = doc::ToYaml(one);
      // Indent the one-element sequence under "entries:".
      for (std::size_t pos = 0; pos < y.size();) {
        const std::size_t nl = y.find('\n', pos);
        out += "  " + y.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos + 1);
        pos = nl == std::string::npos ? y.size() : nl + 1;
      }
    }
    first = false;
    flush(false);
  }
  const doc::Value summary = ima::SummaryDocument(stream.summary(), checks);
  if (f.format == Format::kText) {
    out += ima::SummaryText(stream.summary(), checks);
    out += fmt::format("note: {}\n", ima::kTrustNote);
  } else if (f.format == Format::kJson) {
    out += "\n],\n\"summary\": " + doc::ToJson(summary);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    out += "\n}\n";
  } else {
    doc::Value wrap = doc::Value::MakeObject();
    wrap.Set("summary", summary);
    if (first) out += "entries: []\n";
    out += doc::ToYaml(wrap);
  }
  flush(true);
  std::fflush(stdout);
  return checks.mismatch > 0 ? kExitFailed : kExitOk;
}

int RunReplay(const ImaFlags& f) {
  auto parse = MakeParseOptions(f);
  if (!parse) return ReportError(parse.error(), "ima replay");
  auto banks = Banks(f);
  if (!banks) return ReportError(banks.error(), "ima replay");
  auto pcrs_file = ReadPcrsFile(f);
  if (!pcrs_file) return ReportError(pcrs_file.error(), "ima replay");
  auto quoted = Quoted(f, *pcrs_file);
  if (!quoted) return ReportError(quoted.error(), "ima replay");
  auto source = io::OpenFileSource(f.file);
  if (!source) return ReportError(source.error(), "ima replay");
  ima::VerifyOptions options;
  options.parse = *parse;
  options.banks = *banks;
  options.quoted = *quoted;
  options.progress = Progress(f);
  auto result = ima::Verify(**source, options);
  if (options.progress) std::fprintf(stderr, "\n");
  if (!result) return ReportError(result.error(), "ima replay: " + f.file);
  ima::ReplayReport report;
  report.summary = &result->stream;
  report.checks = result->checks;
  report.values = result->replayed;
  report.quote_given = result->quote_given;
  report.quoted = result->quoted;
  report.matched_prefix = result->matched_prefix;
  report.entries = result->entries_read;
  Emit(f.format, f.format == Format::kText ? doc::Value() : ima::ReplayDocument(report),
       f.format == Format::kText ? ima::ReplayText(report) : std::string());
  if (result->checks.mismatch > 0) return kExitFailed;
  if (result->quote_given && !result->matched_prefix) return kExitFailed;
  return kExitOk;
}

// PCRs 0-9 for the boot_aggregate check: the quoted values in --pcrs
// (proven by the quote), else the replay of --boot-log. When both are
// given, the log's replay must equal every quoted PCR 0-9 it records.
Result<std::optional<pcr::PcrValues>> FirmwarePcrs(const ImaFlags& f,
                                                   const std::optional<pcr::PcrValues>& file,
                                                   std::string* source) {
  std::optional<pcr::PcrValues> quoted;
  if (file) {
    pcr::PcrValues q;
    for (const auto& [alg, pcrs] : file->banks) {
      for (std::uint32_t i = 0; i <= 9; ++i) {
        if (const auto it = pcrs.find(i); it != pcrs.end()) q.banks[alg][i] = it->second;
      }
    }
    // Only a bank with all of PCRs 0-7 quoted can give a boot_aggregate.
    std::erase_if(q.banks, [](const auto& b) { return b.second.size() < 8; });
    if (!q.empty()) quoted = std::move(q);
  }
  if (f.boot_log.empty()) {
    if (quoted) *source = "quoted PCRs";
    return quoted;
  }
  TC_ASSIGN_OR_RETURN(Bytes bytes, io::ReadFile(f.boot_log, eventlog::kMaxLogSize));
  auto log = eventlog::EventLog::Parse(std::move(bytes), eventlog::ParseOptions{});
  if (!log) return Fail(std::move(log).error().Wrap(f.boot_log));
  auto replay = eventlog::Replay(*log);
  if (!replay) return Fail(std::move(replay).error().Wrap(f.boot_log));
  if (!quoted) {
    *source = "replayed firmware log, not compared with a quote";
    return std::optional<pcr::PcrValues>(std::move(replay->pcrs));
  }
  for (const auto& [alg, pcrs] : quoted->banks) {
    for (const auto& [index, value] : pcrs) {
      const crypto::Digest* replayed = replay->pcrs.Find(alg, index);
      if (replayed != nullptr && !(*replayed == value)) {
        return Fail(ErrorCode::kVerificationFailed,
                    fmt::format("{}: replays {} PCR {} to {}, but the quote says {}", f.boot_log,
                                crypto::HashAlgName(alg), index, replayed->Hex(), value.Hex()));
      }
    }
  }
  *source = "quoted PCRs, matching the firmware log";
  return quoted;
}

// Loads an allowlist file: a Keylime runtime policy (JSON) or a
// sha256sum-style digest list. Runs on the loader thread.
Result<ima::Allowlist> LoadPolicy(const std::string& path) {
  TC_ASSIGN_OR_RETURN(io::MappedFile file, io::MappedFile::Open(path, kMaxPolicySize));
  const std::span<const std::uint8_t> bytes = file.bytes();
  const auto first = std::find_if(bytes.begin(), bytes.end(), [](std::uint8_t c) {
    return c != ' ' && c != '\n' && c != '\r' && c != '\t';
  });
  if (first != bytes.end() && *first == '{') {
    // Memory the parser has left behind is given back as it goes: a
    // 118 MB policy need not stay resident next to its allowlist.
    auto policy = ima::LoadKeylimePolicy(
        bytes, [&file](std::size_t offset) { file.ReleaseBefore(offset > 65536 ? offset - 65536 : 0); });
    if (!policy) return Fail(std::move(policy).error().Wrap(path));
    if (!policy->verification_keys.empty()) {
      std::fprintf(stderr,
                   "trustchain: ima verify: note: %s lists IMA signature verification keys, "
                   "which trustchain does not read from a Keylime policy: pass the keys' "
                   "certificates with --ima-key to verify file signatures\n",
                   path.c_str());
    }
    return std::move(policy->allowlist);
  }
  ima::Allowlist list;
  auto loaded = ima::LoadDigestList(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), list);
  if (!loaded) return Fail(std::move(loaded).error().Wrap(path));
  return list;
}

Result<void> SaveCheckpoint(const std::string& path, const ima::Checkpoint& cp) {
  // Written aside and renamed: a crash never leaves half a checkpoint.
  return io::WriteFileAtomic(path, AsBytes(cp.Serialize()), 0600);
}

int RunVerify(const ImaFlags& f) {
  const auto undecided = [&](const Error& e, const std::string& what) {
    if (f.format == Format::kJson) {
      doc::Value v = doc::Value::MakeObject();
      v.Set("verdict", "undecided");
      v.Set("error", e.message());
      Emit(f.format, v, "");
    }
    return ReportError(e, what);
  };
  auto parse = MakeParseOptions(f);
  if (!parse) return undecided(parse.error(), "ima verify");
  auto banks = Banks(f);
  if (!banks) return undecided(banks.error(), "ima verify");
  auto pcrs_file = ReadPcrsFile(f);
  if (!pcrs_file) return undecided(pcrs_file.error(), "ima verify");
  auto quoted = Quoted(f, *pcrs_file);
  if (!quoted) return undecided(quoted.error(), "ima verify");
  if (f.file == "-" && (f.policy == "-" || f.pcrs_file == "-" || f.boot_log == "-" ||
                        f.checkpoint == "-")) {
    return undecided(Error(ErrorCode::kInvalidArgument, "only one input can be standard input ('-')"),
                     "ima verify");
  }
  std::string firmware_source;
  auto firmware = FirmwarePcrs(f, *pcrs_file, &firmware_source);
  if (!firmware) {
    if (firmware.error().code() == ErrorCode::kVerificationFailed) {
      // The firmware log is not what the TPM measured: evidence checked and wrong.
      std::fprintf(stderr, "trustchain: ima verify: %s\n", firmware.error().message().c_str());
      if (f.format == Format::kJson) {
        doc::Value v = doc::Value::MakeObject();
        v.Set("verdict", "untrusted");
        v.Set("error", firmware.error().message());
        Emit(f.format, v, "");
      }
      return kExitFailed;
    }
    return undecided(firmware.error(), "ima verify: --boot-log");
  }
  // The policy loads on a second thread while the list is read and hashed.
  std::optional<ima::BackgroundAllowlist> policy;
  if (!f.policy.empty()) policy.emplace([path = f.policy] { return LoadPolicy(path); });
  ima::ImaKeyring keyring;
  for (const std::string& path : f.ima_keys) {
    auto bytes = io::ReadFile(path, 1u << 20);
    if (!bytes) return undecided(bytes.error(), "ima verify: --ima-key");
    auto key = crypto::VerifyKey::Load(*bytes);
    if (!key) return undecided(std::move(key).error().Wrap(path), "ima verify: --ima-key");
    keyring.Add(std::move(*key));
  }
  std::optional<ima::Checkpoint> resume;
  if (!f.checkpoint.empty() && ::access(f.checkpoint.c_str(), F_OK) == 0) {
    auto text = io::ReadTextFile(f.checkpoint, kMaxCheckpointSize);
    if (!text) return undecided(text.error(), "ima verify: --checkpoint");
    auto cp = ima::Checkpoint::Parse(*text);
    if (!cp) return undecided(std::move(cp).error().Wrap(f.checkpoint), "ima verify");
    resume = std::move(*cp);
  }
  auto source = io::OpenFileSource(f.file);
  if (!source) return undecided(source.error(), "ima verify");
  ima::VerifyOptions options;
  options.parse = *parse;
  options.banks = *banks;
  options.quoted = *quoted;
  options.firmware = *firmware;
  options.firmware_source = firmware_source;
  if (policy) options.allowlist_source = &*policy;
  if (!keyring.empty()) options.keyring = &keyring;
  options.resume = resume;
  options.max_violations = f.max_violations;
  options.progress = Progress(f);
  auto result = ima::Verify(**source, options);
  if (options.progress) std::fprintf(stderr, "\n");
  if (!result) {
    return undecided(result.error(), result.error().message().starts_with(f.policy + ":") &&
                                             !f.policy.empty()
                                         ? "ima verify: --policy"
                                         : "ima verify: " + f.file);
  }
  const bool policy_given = policy.has_value();
  Emit(f.format, f.format == Format::kText ? doc::Value() : ima::VerifyDocument(*result, policy_given),
       f.format == Format::kText ? ima::VerifyText(*result, policy_given) : std::string());
  if (!result->ok()) return kExitFailed;
  if (!f.checkpoint.empty() && result->checkpoint) {
    auto saved = SaveCheckpoint(f.checkpoint, *result->checkpoint);
    if (!saved) return ReportError(saved.error(), "ima verify: --checkpoint");
  }
  return kExitOk;
}

}  // namespace

void AddImaCommands(CLI::App& app, int* exit_code) {
  auto* ima = app.add_subcommand(
      "ima",
      "Linux IMA runtime measurement lists: show, replay PCR 10, verify against a quote, the "
      "firmware log and an allowlist");
  ima->require_subcommand(1);
  ima->footer(
      "Lists: /sys/kernel/security/ima/{ascii,binary}_runtime_measurements[_sha256]. Ascii and "
      "binary lists, host or canonical byte order, and per-bank lists are detected.\n"
      "Exit codes: 0 everything checked holds; 1 a check failed (template digest, PCR 10, "
      "boot_aggregate, policy); 2 could not decide (unreadable input, bad options).");

  auto f = std::make_shared<ImaFlags>();
  auto* show = ima->add_subcommand("show", "Print every entry (streams lists of any length)");
  AddListFlags(show, f.get());
  show->callback([f, exit_code] { *exit_code = RunShow(*f); });

  auto* replay = ima->add_subcommand(
      "replay",
      "Replay PCR 10 (every bank) and check each entry's template digest; with --pcr10, name "
      "the prefix of the list the quoted value covers");
  AddListFlags(replay, f.get());
  AddPcrFlags(replay, f.get());
  replay->add_flag("--progress", f->progress, "Show progress on stderr (default: when a tty)");
  replay->callback([f, exit_code] { *exit_code = RunReplay(*f); });

  auto* verify = ima->add_subcommand(
      "verify",
      "Verify a list: template digests, PCR 10 against the quote (--pcr10/--pcrs), "
      "boot_aggregate against the firmware log (--boot-log), every file against an allowlist "
      "(--policy)");
  AddListFlags(verify, f.get());
  AddPcrFlags(verify, f.get());
  verify->add_option("--boot-log", f->boot_log,
                     "Firmware event log of the same boot: its PCRs 0-9 must give the list's "
                     "boot_aggregate")
      ->option_text("FILE");
  verify->add_option("--policy", f->policy,
                     "Allowlist: a Keylime runtime policy (JSON, format 1; or the older "
                     "allowlist JSON) or a sha256sum-style digest list")
      ->option_text("FILE");
  verify->add_option("--ima-key", f->ima_keys,
                     "Certificate or public key (PEM or DER) trusted to sign files; repeatable. "
                     "An entry whose IMA signature (ima-sig) verifies with one is trusted even if "
                     "the allowlist does not list it; one that fails to verify is a violation")
      ->option_text("FILE");
  verify->add_option("--checkpoint", f->checkpoint,
                     "Incremental verification: if STATE exists, the list (FILE) holds only the "
                     "entries after it and replay resumes from its PCR values; on success STATE "
                     "is advanced past the verified (with a quote: attested) entries")
      ->option_text("STATE");
  verify->add_option("--max-violations", f->max_violations,
                     "Violations listed in full (all are counted; default 1000)");
  verify->add_flag("--progress", f->progress, "Show progress on stderr (default: when a tty)");
  verify->callback([f, exit_code] { *exit_code = RunVerify(*f); });
}

}  // namespace tc::app
