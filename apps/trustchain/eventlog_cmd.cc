// trustchain eventlog show | replay: flags, wiring and exit codes only.

#include "eventlog_cmd.h"

#include <map>
#include <memory>
#include <optional>

#include "common.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/eventlog/report.h"
#include "tc/eventlog/verify.h"
#include "tc/io/file.h"
#include "tc/pcr/pcr_values.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxPcrFileSize = 1u << 20;

struct EventlogFlags {
  std::string file;
  std::string pcrs_file;
  Format format = Format::kText;
  bool strict = false;
  bool tpm2 = false;
  eventlog::KindHint kind = eventlog::KindHint::kAuto;
};

void AddCommonFlags(CLI::App* cmd, EventlogFlags* f) {
  cmd->add_option("FILE", f->file,
                  "Binary event log, e.g. /sys/kernel/security/tpm0/binary_bios_measurements "
                  "('-' reads stdin)")
      ->required();
  AddFormatOption(cmd, &f->format);
  cmd->add_flag("--strict", f->strict,
                "Reject firmware quirks (trailing padding, PCR index 0xFFFFFFFF, ...) "
                "instead of accepting and labelling them");
  cmd->add_option("--kind", f->kind, "Log kind: auto (default), tpm, or ccel (TDX CC event log)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, eventlog::KindHint>{{"auto", eventlog::KindHint::kAuto},
                                                    {"tpm", eventlog::KindHint::kTpm},
                                                    {"ccel", eventlog::KindHint::kCcel}},
          CLI::ignore_case))
      ->option_text("auto|tpm|ccel");
  cmd->add_flag("--tpm2", f->tpm2,
                "The log was read on a TPM 2.0 host (labels a legacy SHA-1 log as a quirk)");
}

struct Loaded {
  eventlog::EventLog log;
  std::optional<pcr::PcrValues> reported;
};

Result<Loaded> Load(const EventlogFlags& f) {
  TC_ASSIGN_OR_RETURN(Bytes bytes, io::ReadFile(f.file, eventlog::kMaxLogSize));
  eventlog::ParseOptions options;
  options.strict = f.strict;
  options.kind = f.kind;
  if (f.tpm2) options.tpm_family = 2;
  auto log = eventlog::EventLog::Parse(std::move(bytes), options);
  if (!log) return Fail(std::move(log).error().Wrap(f.file));
  Loaded out{std::move(*log), std::nullopt};
  if (!f.pcrs_file.empty()) {
    TC_ASSIGN_OR_RETURN(std::string text, io::ReadTextFile(f.pcrs_file, kMaxPcrFileSize));
    auto values = pcr::ParsePcrValues(text);
    if (!values) return Fail(std::move(values).error().Wrap(f.pcrs_file));
    out.reported = std::move(*values);
  }
  return out;
}

// 1 when a compared PCR fails, 2 when nothing could be compared.
int VerdictExit(const eventlog::Verification& v, const char* command) {
  if (v.mismatches > 0) return kExitFailed;
  if (v.matches == 0) {
    std::fprintf(stderr,
                 "trustchain: %s: the PCR values share no bank and PCR with what this log "
                 "records; nothing was verified\n",
                 command);
    return kExitUndecided;
  }
  return kExitOk;
}

int RunShow(const EventlogFlags& f) {
  auto loaded = Load(f);
  if (!loaded) return ReportError(loaded.error(), "eventlog show");
  std::optional<eventlog::Verification> verification;
  if (loaded->reported) {
    auto replay = eventlog::Replay(loaded->log);
    if (!replay) return ReportError(replay.error(), "eventlog show");
    verification = eventlog::VerifyReplay(loaded->log, *replay, *loaded->reported);
  }
  eventlog::ShowInput in{&loaded->log, verification ? &*verification : nullptr};
  Emit(f.format, f.format == Format::kText ? doc::Value() : eventlog::ShowDocument(in),
       f.format == Format::kText ? eventlog::ShowText(in) : std::string());
  return verification ? VerdictExit(*verification, "eventlog show") : kExitOk;
}

int RunReplay(const EventlogFlags& f) {
  auto loaded = Load(f);
  if (!loaded) return ReportError(loaded.error(), "eventlog replay");
  auto replay = eventlog::Replay(loaded->log);
  if (!replay) return ReportError(replay.error(), "eventlog replay");
  std::optional<eventlog::Verification> verification;
  if (loaded->reported) {
    verification = eventlog::VerifyReplay(loaded->log, *replay, *loaded->reported);
  }
  eventlog::ReplayInput in{&loaded->log, &*replay, verification ? &*verification : nullptr};
  Emit(f.format, f.format == Format::kText ? doc::Value() : eventlog::ReplayDocument(in),
       f.format == Format::kText ? eventlog::ReplayText(in) : std::string());
  return verification ? VerdictExit(*verification, "eventlog replay") : kExitOk;
}

}  // namespace

void AddEventlogCommands(CLI::App& app, int* exit_code) {
  auto* eventlog = app.add_subcommand(
      "eventlog", "Read TCG PC Client firmware event logs: decode, replay, check");
  eventlog->require_subcommand(1);

  auto flags = std::make_shared<EventlogFlags>();
  auto* show = eventlog->add_subcommand(
      "show", "Decode every event: PCR, type, digests and structured content");
  AddCommonFlags(show, flags.get());
  show->add_option("--pcrs", flags->pcrs_file,
                   "PCR values the TPM reported: marks which events they prove");
  show->footer(
      "Examples:\n"
      "  trustchain eventlog show /sys/kernel/security/tpm0/binary_bios_measurements\n"
      "  trustchain eventlog show log.bin --format json | jq '.events[] | select(.pcr==4)'\n"
      "Exit codes: 0 parsed (and, with --pcrs, every compared PCR matches), 1 a PCR does\n"
      "            not match or a firmware PCR's events are missing, 2 the log could not be\n"
      "            read or parsed, or --pcrs shares no PCR with the log.");
  show->callback([flags, exit_code] { *exit_code = RunShow(*flags); });

  auto* replay = eventlog->add_subcommand(
      "replay", "Compute each bank's PCR values from the log, optionally compare them");
  AddCommonFlags(replay, flags.get());
  replay->add_option("--pcrs", flags->pcrs_file,
                     "Reported PCR values to compare with: 'INDEX HEX' lines (bank from the "
                     "digest length) or tpm2_pcrread YAML");
  replay->footer(
      "Examples:\n"
      "  trustchain eventlog replay log.bin\n"
      "  tpm2_pcrread > pcrs.yaml && trustchain eventlog replay log.bin --pcrs pcrs.yaml\n"
      "Exit codes: 0 replayed (and every compared PCR matches), 1 a PCR does not match or\n"
      "            a firmware PCR's events are missing, 2 the log or PCR file could not be\n"
      "            read, or they share no PCR.");
  replay->callback([flags, exit_code] { *exit_code = RunReplay(*flags); });
}

}  // namespace tc::app
