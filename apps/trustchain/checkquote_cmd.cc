// trustchain tpm checkquote: the verifier side of TPM2_Quote, with
// tpm2_checkquote's options so that scripts can switch. Flags, wiring and
// exit codes only.

#include "checkquote_cmd.h"

#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common.h"
#include "tc/io/file.h"
#include "tc/pcr/pcr_values.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/quote.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxInputSize = 1 << 20;

struct Flags {
  std::string public_key, message, signature, pcr_file, pcr_list, qualification;
  std::string hash_alg, pcrs_text, format = "text", pcrs_out;
};

// -q takes a hex string or a path, as tpm2_checkquote does.
Result<Bytes> Qualification(const std::string& arg) {
  auto hex = ParseHex(arg);
  if (hex) return hex;
  auto file = io::ReadFile(arg, kMaxInputSize);
  if (file) return file;
  return Fail(ErrorCode::kInvalidArgument,
              "-q/--qualification '" + arg + "' is neither hex nor a readable file");
}

struct Inputs {
  Bytes attest, signature;
  std::optional<tpm::PublicKey> ak;
  std::optional<tpm::ToolsPcrFile> pcrs;
  tpm::QuoteExpectations expect;  // pcr_values is set by Run()
};

Result<Inputs> Load(const Flags& f) {
  Inputs in;
  TC_ASSIGN_OR_RETURN(Bytes key, io::ReadFile(f.public_key, kMaxInputSize));
  auto ak = tpm::PublicKey::Load(key);
  if (!ak) return Fail(std::move(ak).error().Wrap(f.public_key));
  in.ak = std::move(*ak);
  TC_ASSIGN_OR_RETURN(in.attest, io::ReadFile(f.message, kMaxInputSize));
  TC_ASSIGN_OR_RETURN(in.signature, io::ReadFile(f.signature, kMaxInputSize));
  if (!f.qualification.empty()) {
    TC_ASSIGN_OR_RETURN(in.expect.nonce, Qualification(f.qualification));
  }
  // As tpm2_checkquote: sha256 unless -g says otherwise.
  in.expect.hash_alg = crypto::HashAlgFromName(f.hash_alg.empty() ? "sha256" : f.hash_alg);
  if (!in.expect.hash_alg) {
    return Fail(ErrorCode::kInvalidArgument, "unknown -g/--hash-algorithm " + f.hash_alg);
  }
  if (!f.pcr_file.empty()) {
    TC_ASSIGN_OR_RETURN(Bytes blob, io::ReadFile(f.pcr_file, kMaxInputSize));
    Result<tpm::ToolsPcrFile> parsed = Fail(ErrorCode::kInternal, "");
    if (!f.pcr_list.empty()) {
      TC_ASSIGN_OR_RETURN(auto selection, tpm::ParsePcrSelectionText(f.pcr_list));
      parsed = tpm::ParseToolsPcrValues(blob, selection);
    } else {
      parsed = tpm::ParseToolsPcrFile(blob);
    }
    if (!parsed) return Fail(std::move(parsed).error().Wrap(f.pcr_file));
    in.pcrs = std::move(*parsed);
    in.expect.pcr_selection = in.pcrs->selection;
  } else if (!f.pcrs_text.empty()) {
    TC_ASSIGN_OR_RETURN(std::string text, io::ReadTextFile(f.pcrs_text, kMaxInputSize));
    auto values = pcr::ParsePcrValues(text);
    if (!values) return Fail(std::move(values).error().Wrap(f.pcrs_text));
    in.pcrs = tpm::ToolsPcrFile{{}, std::move(*values)};
  }
  return in;
}

doc::Value Document(const tpm::QuoteVerdict& v) {
  doc::Value root = doc::Value::MakeObject();
  root.Set("verified", v.ok());
  doc::Value checks = doc::Value::MakeArray();
  for (const auto& c : v.checks) {
    doc::Value e = doc::Value::MakeObject();
    e.Set("check", tpm::QuoteCheckName(c.id));
    e.Set("passed", c.passed);
    e.Set("detail", c.detail);
    checks.Push(std::move(e));
  }
  root.Set("checks", std::move(checks));
  doc::Value skipped = doc::Value::MakeArray();
  for (const auto& why : v.skipped) skipped.Push(why);
  root.Set("skipped", std::move(skipped));
  doc::Value a = doc::Value::MakeObject();
  a.Set("magic", fmt::format("0x{:08x}", v.attest.magic));
  a.Set("type", fmt::format("0x{:04x}", v.attest.type));
  a.Set("qualified_signer", ToHex(v.attest.qualified_signer));
  a.Set("extra_data", ToHex(v.attest.extra_data));
  a.Set("clock", std::to_string(v.attest.clock_info.clock));
  a.Set("reset_count", v.attest.clock_info.reset_count);
  a.Set("restart_count", v.attest.clock_info.restart_count);
  a.Set("safe", v.attest.clock_info.safe);
  a.Set("firmware_version", fmt::format("0x{:016x}", v.attest.firmware_version));
  a.Set("pcr_selection", tpm::PcrSelectionText(v.attest.quote_selection));
  a.Set("pcr_digest", ToHex(v.attest.quote_pcr_digest));
  root.Set("attest", std::move(a));
  return root;
}

std::string Text(const tpm::QuoteVerdict& v) {
  std::string out;
  for (const auto& c : v.checks) {
    out += fmt::format("{:<4} {:<14} {}\n", c.passed ? "ok" : "FAIL", tpm::QuoteCheckName(c.id),
                       c.detail);
  }
  for (const auto& why : v.skipped) out += fmt::format("{:<4} {}\n", "skip", why);
  out += v.ok() ? (v.skipped.empty() ? "quote verified\n"
                                     : "quote verified, with the checks marked skip not made\n")
                : "quote REJECTED\n";
  return out;
}

int Run(const Flags& f) {
  auto in = Load(f);
  if (!in) return ReportError(in.error(), "tpm checkquote");
  // Points into *in, so set once `in` has its final address.
  in->expect.pcr_values = in->pcrs ? &in->pcrs->values : nullptr;
  auto v = tpm::VerifyQuote(in->attest, in->signature, *in->ak, in->expect);
  if (!v) return ReportError(v.error(), "tpm checkquote: " + f.message);
  Emit(f.format == "json" ? Format::kJson : Format::kText, Document(*v), Text(*v));
  if (v->ok() && !f.pcrs_out.empty() && in->pcrs) {
    // The values the quote proved, as tpm2_pcrread YAML for `eventlog
    // replay --pcrs`; written only for a verified quote.
    std::string yaml;
    for (const auto& bank : v->attest.quote_selection) {
      yaml += fmt::format("{}:\n", crypto::HashAlgName(bank.alg));
      for (std::uint32_t p : bank.pcrs) {
        yaml += fmt::format("  {:<2}: 0x{}\n", p, in->pcrs->values.Find(bank.alg, p)->Hex());
      }
    }
    if (auto w = io::WriteFile(f.pcrs_out, AsBytes(yaml)); !w) {
      return ReportError(w.error(), "tpm checkquote");
    }
  }
  if (!v->ok()) {
    std::fprintf(stderr, "trustchain: tpm checkquote: rejected: %s: %s\n",
                 std::string(tpm::QuoteCheckName(v->first_failure()->id)).c_str(),
                 v->first_failure()->detail.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void AddCheckquoteCommand(CLI::App* tpm, int* exit_code) {
  auto f = std::make_shared<Flags>();
  auto* cmd = tpm->add_subcommand(
      "checkquote",
      "Verify a TPM2_Quote: signature by the AK, nonce, PCR selection and PCR digest "
      "(no TPM needed; options as tpm2_checkquote)");
  cmd->add_option("-u,--public", f->public_key,
                  "AK public key: PEM, or TPM2B_PUBLIC as tpm2_createak writes it")
      ->required();
  cmd->add_option("-m,--message", f->message, "The signed TPMS_ATTEST (tpm2_quote -m)")->required();
  cmd->add_option("-s,--signature", f->signature, "The TPMT_SIGNATURE (tpm2_quote -s)")
      ->required();
  cmd->add_option("-f,--pcr", f->pcr_file,
                  "PCR values the quote covers: tpm2_quote -o file, or raw values with -l");
  cmd->add_option("-l,--pcr-list", f->pcr_list,
                  "Selection of a raw values file, e.g. sha256:0,1,2,3,4,5,6,7");
  cmd->add_option("--pcrs", f->pcrs_text,
                  "Expected PCR values as text instead of -f ('INDEX HEX' lines or "
                  "tpm2_pcrread YAML): the quote must cover every one of them");
  cmd->add_option("-q,--qualification", f->qualification,
                  "The nonce the verifier sent: hex, or a file holding it");
  cmd->add_option("-g,--hash-algorithm", f->hash_alg,
                  "The hash the signature must use (default sha256, as tpm2_checkquote)");
  cmd->add_option("--pcrs-out", f->pcrs_out,
                  "When the quote verifies, write the PCR values it proves here (tpm2_pcrread "
                  "YAML, for `eventlog replay --pcrs`)");
  cmd->add_option("-F,--format", f->format,
                  "Output: text (default) or json; tpm2-tools' 'values'/'serialized' are "
                  "accepted and ignored, as tpm2_checkquote ignores them")
      ->check(CLI::IsMember({"text", "json", "values", "serialized"}));
  cmd->footer(
      "Examples:\n"
      "  trustchain tpm checkquote -u ak.pub -m quote.msg -s quote.sig -f quote.pcrs -q "
      "$NONCE_HEX\n"
      "  trustchain tpm checkquote -u ak.pem -m q.msg -s q.sig --pcrs expected.txt -F json\n"
      "Checks not made for want of input (no -q, no PCR values, a PEM key's attributes)\n"
      "are listed as skipped.\n"
      "Exit codes: 0 every check made passed, 1 a check failed (stderr names it: signature,\n"
      "            nonce, pcr-selection, pcr-digest, ak-attributes, magic, type, hash-alg),\n"
      "            2 an input could not be read or parsed, or the AK is unusable.");
  cmd->callback([f, exit_code] { *exit_code = Run(*f); });
}

}  // namespace tc::app
