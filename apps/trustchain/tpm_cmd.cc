// trustchain tpm info | pcrread | extend | random: flags, wiring and exit
// codes only.

#include "tpm_cmd.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "tpm_flags.h"
#include "tc/crypto/hash.h"
#include "tc/pcr/pcr_values.h"
#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/open.h"
#include "tc/tpm/tpm.h"

namespace tc::app {
namespace {

constexpr std::string_view kExitCodes =
    "Exit codes: 0 success, 2 error (bad arguments, or the TPM could not be opened or "
    "refused).";


std::string BankList(const std::vector<crypto::HashAlg>& banks) {
  std::string out;
  for (crypto::HashAlg alg : banks) {
    out += fmt::format("{}{}", out.empty() ? "" : ", ", crypto::HashAlgName(alg));
  }
  return out;
}

std::string UpperHex(std::span<const std::uint8_t> bytes) {
  std::string hex = ToHex(bytes);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

// ---- info

int RunInfo(const TpmFlags& f, bool self_test) {
  auto tpm = OpenTpmFromFlags(f);
  if (!tpm) return ReportError(tpm.error(), "tpm info");
  if (self_test) {
    if (auto t = (*tpm)->SelfTest(/*full=*/true); !t) return ReportError(t.error(), "tpm info");
  }
  auto info = (*tpm)->Info();
  if (!info) return ReportError(info.error(), "tpm info");
  doc::Value banks = doc::Value::MakeArray();
  for (crypto::HashAlg alg : info->active_banks) banks.Push(crypto::HashAlgName(alg));
  doc::Value d = doc::Value::MakeObject();
  d.Set("transport", info->transport);
  d.Set("manufacturer", info->manufacturer);
  d.Set("vendor", info->vendor);
  d.Set("firmware_version", info->firmware_version);
  d.Set("spec_level", info->spec_level);
  d.Set("spec_revision", info->spec_revision);
  d.Set("active_banks", std::move(banks));
  if (self_test) d.Set("self_test", "passed");
  const std::string text = fmt::format(
      "transport:     {}\nmanufacturer:  {}\nvendor:        {}\nfirmware:      {}\n"
      "specification: TPM 2.0 level {}, revision {}.{:02}\nactive banks:  {}\n{}",
      info->transport, info->manufacturer, info->vendor, info->firmware_version,
      info->spec_level, info->spec_revision / 100, info->spec_revision % 100,
      BankList(info->active_banks), self_test ? "self-test:     passed (full)\n" : "");
  Emit(f.format, d, text);
  return kExitOk;
}

// ---- pcrread

// tpm2-tools' PCR selection: "sha256:0,1,2+sha1:all"; a bank alone means
// all its PCRs.
Result<std::vector<tpm::PcrSelection>> ParseSelection(const std::string_view spec) {
  std::vector<tpm::PcrSelection> out;
  std::string_view text = spec;
  auto bad = [spec](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PCR selection '{}': {} (expected e.g. sha256:0,1,2+sha1:all)",
                            spec, why));
  };
  while (true) {
    const std::size_t plus = text.find('+');
    const std::string_view item = text.substr(0, plus);
    text = plus == std::string_view::npos ? std::string_view() : text.substr(plus + 1);
    const std::size_t colon = item.find(':');
    const std::string_view bank = item.substr(0, colon);
    const auto alg = crypto::HashAlgFromName(bank);
    if (!alg) return bad(fmt::format("unknown bank '{}'", bank));
    tpm::PcrSelection sel{*alg, {}};
    std::string_view list = colon == std::string_view::npos ? "all" : item.substr(colon + 1);
    if (list == "all") {
      for (std::uint32_t i = 0; i < pcr::kNumPcrs; ++i) sel.pcrs.push_back(i);
    } else {
      while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view num = list.substr(0, comma);
        std::uint32_t index = 0;
        const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), index);
        if (num.empty() || ec != std::errc() || end != num.data() + num.size() ||
            index >= pcr::kNumPcrs) {
          return bad(fmt::format("bad PCR index '{}' (0..{})", num, pcr::kNumPcrs - 1));
        }
        sel.pcrs.push_back(index);
        if (comma == std::string_view::npos) break;
        list = list.substr(comma + 1);
      }
    }
    out.push_back(std::move(sel));
    if (plus == std::string_view::npos) break;
  }
  return out;
}

struct PcrreadFlags {
  TpmFlags tpm;
  std::string selection;
};

int RunPcrread(const PcrreadFlags& f) {
  std::vector<tpm::PcrSelection> selection;
  if (!f.selection.empty()) {
    auto parsed = ParseSelection(f.selection);
    if (!parsed) return ReportError(parsed.error(), "tpm pcrread");
    selection = std::move(*parsed);
  }
  auto tpm = OpenTpmFromFlags(f.tpm);
  if (!tpm) return ReportError(tpm.error(), "tpm pcrread");
  if (selection.empty()) {
    auto info = (*tpm)->Info();
    if (!info) return ReportError(info.error(), "tpm pcrread");
    for (crypto::HashAlg alg : info->active_banks) {
      tpm::PcrSelection sel{alg, {}};
      for (std::uint32_t i = 0; i < pcr::kNumPcrs; ++i) sel.pcrs.push_back(i);
      selection.push_back(std::move(sel));
    }
  }
  auto values = (*tpm)->ReadPcrs(selection);
  if (!values) return ReportError(values.error(), "tpm pcrread");
  // Text is tpm2_pcrread's YAML, so `eventlog replay --pcrs` reads it.
  std::string text;
  doc::Value banks = doc::Value::MakeObject();
  for (const auto& [alg, pcrs] : values->banks) {
    text += fmt::format("  {}:\n", crypto::HashAlgName(alg));
    doc::Value bank = doc::Value::MakeObject();
    for (const auto& [index, digest] : pcrs) {
      text += fmt::format("    {:<2}: 0x{}\n", index, UpperHex(digest.bytes()));
      bank.Set(std::to_string(index), digest.Hex());
    }
    banks.Set(std::string(crypto::HashAlgName(alg)), std::move(bank));
  }
  doc::Value d = doc::Value::MakeObject();
  d.Set("banks", std::move(banks));
  Emit(f.tpm.format, d, text);
  return kExitOk;
}

// ---- extend

struct ExtendFlags {
  TpmFlags tpm;
  std::uint32_t pcr = 0;
  std::string data;
  std::vector<std::string> digests;
};

Result<crypto::Digest> ParseDigestArg(std::string_view arg) {
  const std::size_t eq = arg.find('=');
  const auto alg = crypto::HashAlgFromName(arg.substr(0, eq));
  if (eq == std::string_view::npos || !alg) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--digest '{}': expected ALG=HEX, e.g. sha256=00ff...", arg));
  }
  auto bytes = ParseHex(arg.substr(eq + 1));
  if (!bytes) return Fail(std::move(bytes).error().Wrap(fmt::format("--digest '{}'", arg)));
  if (bytes->size() != crypto::DigestSize(*alg)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--digest '{}': a {} digest has {} bytes, not {}", arg,
                            crypto::HashAlgName(*alg), crypto::DigestSize(*alg),
                            bytes->size()));
  }
  return crypto::Digest(*alg, *bytes);
}

int RunExtend(const ExtendFlags& f, bool have_data) {
  if (have_data == !f.digests.empty()) {
    return ReportError(Error(ErrorCode::kInvalidArgument, "give either --data or --digest"),
                       "tpm extend");
  }
  std::vector<crypto::Digest> digests;
  for (const std::string& arg : f.digests) {
    auto d = ParseDigestArg(arg);
    if (!d) return ReportError(d.error(), "tpm extend");
    digests.push_back(*d);
  }
  auto tpm = OpenTpmFromFlags(f.tpm);
  if (!tpm) return ReportError(tpm.error(), "tpm extend");
  if (have_data) {
    auto info = (*tpm)->Info();
    if (!info) return ReportError(info.error(), "tpm extend");
    for (crypto::HashAlg alg : info->active_banks) {
      auto d = crypto::Hash(alg, AsBytes(f.data));
      if (!d) return ReportError(d.error(), "tpm extend");
      digests.push_back(*d);
    }
  }
  if (auto r = (*tpm)->Extend(f.pcr, digests); !r) return ReportError(r.error(), "tpm extend");
  std::string text;
  doc::Value extended = doc::Value::MakeObject();
  for (const crypto::Digest& d : digests) {
    text += fmt::format("extended PCR {} {}: {}\n", f.pcr, crypto::HashAlgName(d.alg()), d.Hex());
    extended.Set(std::string(crypto::HashAlgName(d.alg())), d.Hex());
  }
  doc::Value doc_out = doc::Value::MakeObject();
  doc_out.Set("pcr", f.pcr);
  doc_out.Set("digests", std::move(extended));
  Emit(f.tpm.format, doc_out, text);
  return kExitOk;
}

// ---- random

struct RandomFlags {
  TpmFlags tpm;
  std::size_t size = 0;
};

int RunRandom(const RandomFlags& f) {
  auto tpm = OpenTpmFromFlags(f.tpm);
  if (!tpm) return ReportError(tpm.error(), "tpm random");
  auto bytes = (*tpm)->GetRandom(f.size);
  if (!bytes) return ReportError(bytes.error(), "tpm random");
  doc::Value d = doc::Value::MakeObject();
  d.Set("random", ToHex(*bytes));
  Emit(f.tpm.format, d, ToHex(*bytes) + "\n");
  return kExitOk;
}

}  // namespace

void AddTpmDeviceCommands(CLI::App* tpm, int* exit_code) {
  auto info_flags = std::make_shared<TpmFlags>();
  auto* info = tpm->add_subcommand(
      "info", "Show the TPM: manufacturer, vendor, firmware, specification, active PCR banks");
  AddTpmFlags(info, info_flags.get());
  auto self_test = std::make_shared<bool>(false);
  info->add_flag("--self-test", *self_test, "Run the TPM's full self-test (TPM2_SelfTest) first");
  info->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm info\n"
      "  trustchain tpm info --tpm swtpm:host=127.0.0.1,port=2321 --format json\n{}",
      kExitCodes));
  info->callback([info_flags, self_test, exit_code] {
    *exit_code = RunInfo(*info_flags, *self_test);
  });

  auto pcr_flags = std::make_shared<PcrreadFlags>();
  auto* pcrread = tpm->add_subcommand("pcrread", "Read PCR values (tpm2_pcrread's output)");
  pcrread->add_option("SELECTION", pcr_flags->selection,
                      "Banks and PCRs as tpm2_pcrread takes them: sha256:0,1,2+sha1:all "
                      "(default: every PCR of every active bank)");
  AddTpmFlags(pcrread, &pcr_flags->tpm);
  pcrread->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm pcrread sha256:0,1,2,3,4,5,6,7\n"
      "  trustchain tpm pcrread > pcrs.yaml && trustchain eventlog replay log.bin --pcrs "
      "pcrs.yaml\n{}",
      kExitCodes));
  pcrread->callback([pcr_flags, exit_code] { *exit_code = RunPcrread(*pcr_flags); });

  auto ext_flags = std::make_shared<ExtendFlags>();
  auto* extend = tpm->add_subcommand(
      "extend", "Extend a PCR: with --data, its hash in every active bank; or given digests");
  extend->add_option("PCR", ext_flags->pcr, "PCR index")
      ->required()
      ->check(CLI::Range(0u, pcr::kNumPcrs - 1));
  auto* data = extend->add_option("--data", ext_flags->data,
                                  "Hash this string in each active bank and extend those");
  auto* digest = extend->add_option("--digest", ext_flags->digests,
                                    "ALG=HEX digest to extend, once per bank (e.g. sha256=...)");
  data->excludes(digest);
  AddTpmFlags(extend, &ext_flags->tpm);
  extend->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm extend 16 --data 'hello'\n"
      "  trustchain tpm extend 16 --digest sha256=$(printf x | sha256sum | cut -c1-64)\n{}",
      kExitCodes));
  extend->callback([ext_flags, data, exit_code] {
    *exit_code = RunExtend(*ext_flags, data->count() > 0);
  });

  auto rnd_flags = std::make_shared<RandomFlags>();
  auto* random = tpm->add_subcommand("random", "Print N random bytes from the TPM, in hex");
  random->add_option("N", rnd_flags->size, "Number of bytes")
      ->required()
      ->check(CLI::Range(std::size_t{0}, tpm::kMaxRandomSize));
  AddTpmFlags(random, &rnd_flags->tpm);
  random->footer(fmt::format("Examples:\n  trustchain tpm random 32\n{}", kExitCodes));
  random->callback([rnd_flags, exit_code] { *exit_code = RunRandom(*rnd_flags); });
}

}  // namespace tc::app
