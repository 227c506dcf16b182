// trustchain tpm ek | ak create | quote: flags, wiring and exit codes only.
// `tpm quote` takes tpm2_quote's short options so scripts can switch.

#include "tpm_key_cmd.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "tc/io/file.h"
#include "tc/tpm/ak_file.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/quote.h"
#include "tpm_flags.h"

namespace tc::app {
namespace {

constexpr std::size_t kMaxInputSize = 1 << 20;


// ---- ek

struct EkFlags {
  TpmFlags tpm;
  std::string alg = "rsa", out_public, out_cert;
};

int RunEk(const EkFlags& f) {
  auto alg = tpm::ParseKeyAlg(f.alg);
  if (!alg) return ReportError(alg.error(), "tpm ek");
  auto t = OpenTpmFromFlags(f.tpm);
  if (!t) return ReportError(t.error(), "tpm ek");
  auto ek = (*t)->ReadEk(*alg);
  if (!ek) return ReportError(ek.error(), "tpm ek");
  if (!f.out_public.empty()) {
    if (auto w = io::WriteFile(f.out_public, ek->public_2b); !w) return ReportError(w.error(), "tpm ek");
  }
  if (!f.out_cert.empty() && ek->certificate) {
    if (auto w = io::WriteFile(f.out_cert, *ek->certificate); !w) return ReportError(w.error(), "tpm ek");
  }
  doc::Value d = doc::Value::MakeObject();
  d.Set("alg", tpm::KeyAlgName(*alg));
  d.Set("name", ToHex(ek->name));
  d.Set("public", ToHex(ek->public_2b));
  d.Set("certificate", ek->certificate ? doc::Value(ToHex(*ek->certificate)) : doc::Value());
  Emit(f.tpm.format, d,
       fmt::format("EK ({}) name {}\ncertificate: {}\n", tpm::KeyAlgName(*alg), ToHex(ek->name),
                   ek->certificate ? fmt::format("{} bytes in NV", ek->certificate->size())
                                   : "none provisioned in NV"));
  return kExitOk;
}

// ---- ak create

struct AkFlags {
  TpmFlags tpm;
  std::string alg = "rsa", ek = "rsa", out, out_public, persistent;
};

int RunAkCreate(const AkFlags& f) {
  auto alg = tpm::ParseKeyAlg(f.alg);
  if (!alg) return ReportError(alg.error(), "tpm ak create");
  auto ek = tpm::ParseKeyAlg(f.ek);
  if (!ek) return ReportError(ek.error(), "tpm ak create");
  std::optional<std::uint32_t> handle;
  if (!f.persistent.empty()) {
    auto bytes = ParseHex(f.persistent);
    if (!bytes || bytes->size() != 4) {
      return ReportError(Error(ErrorCode::kInvalidArgument,
                               "--persistent wants a handle like 0x81010001"),
                         "tpm ak create");
    }
    handle = (std::uint32_t{(*bytes)[0]} << 24) | (std::uint32_t{(*bytes)[1]} << 16) |
             (std::uint32_t{(*bytes)[2]} << 8) | (*bytes)[3];
  }
  auto t = OpenTpmFromFlags(f.tpm);
  if (!t) return ReportError(t.error(), "tpm ak create");
  auto ak = (*t)->CreateAk(*alg, *ek, handle);
  if (!ak) return ReportError(ak.error(), "tpm ak create");
  if (auto w = io::WriteFile(f.out, tpm::SerializeAk(*ak)); !w) {
    return ReportError(w.error(), "tpm ak create");
  }
  if (!f.out_public.empty()) {
    if (auto w = io::WriteFile(f.out_public, ak->public_2b); !w) {
      return ReportError(w.error(), "tpm ak create");
    }
  }
  doc::Value d = doc::Value::MakeObject();
  d.Set("file", f.out);
  d.Set("alg", tpm::KeyAlgName(ak->alg));
  d.Set("parent", tpm::KeyAlgName(ak->parent));
  d.Set("name", ToHex(ak->name));
  d.Set("persistent_handle",
        ak->persistent_handle ? doc::Value(fmt::format("0x{:08x}", *ak->persistent_handle))
                              : doc::Value());
  Emit(f.tpm.format, d,
       fmt::format("AK ({}, under the {} EK) written to {}\nname {}\n{}", tpm::KeyAlgName(ak->alg),
                   tpm::KeyAlgName(ak->parent), f.out, ToHex(ak->name),
                   ak->persistent_handle
                       ? fmt::format("persistent at 0x{:08x}\n", *ak->persistent_handle)
                       : std::string()));
  return kExitOk;
}

// ---- quote

struct QuoteFlags {
  TpmFlags tpm;
  std::string ak, pcr_list = "sha256:0,1,2,3,4,5,6,7", qualification, message, signature, pcrs;
};

int RunQuote(const QuoteFlags& f) {
  auto ak_bytes = io::ReadFile(f.ak, kMaxInputSize);
  if (!ak_bytes) return ReportError(ak_bytes.error(), "tpm quote");
  auto ak = tpm::ParseAk(*ak_bytes);
  if (!ak) return ReportError(std::move(ak).error().Wrap(f.ak), "tpm quote");
  auto selection = tpm::ParsePcrSelectionText(f.pcr_list);
  if (!selection) return ReportError(selection.error(), "tpm quote");
  auto nonce = ParseHex(f.qualification);
  if (!nonce) return ReportError(Error(ErrorCode::kInvalidArgument, "-q wants hex"), "tpm quote");
  std::vector<tpm::PcrSelection> sel;
  for (const auto& b : *selection) sel.push_back({b.alg, b.pcrs});
  auto t = OpenTpmFromFlags(f.tpm);
  if (!t) return ReportError(t.error(), "tpm quote");
  // The PCRs are read after the quote; a PCR extended in between (IMA's
  // PCR 10 often is) would make -o disagree with the quote. Check the values
  // against the quote's pcrDigest and quote again when they differ.
  auto key = tpm::PublicKey::Load(ak->public_2b);
  if (!key) return ReportError(key.error(), "tpm quote");
  Result<tpm::QuoteBlob> quote = Fail(ErrorCode::kInternal, "no quote");
  Result<pcr::PcrValues> values = Fail(ErrorCode::kInternal, "no PCR values");
  for (int attempt = 0; attempt < 5; ++attempt) {
    quote = (*t)->Quote(*ak, *nonce, sel);
    if (!quote) return ReportError(quote.error(), "tpm quote");
    values = (*t)->ReadPcrs(sel);
    if (!values) return ReportError(values.error(), "tpm quote");
    tpm::QuoteExpectations e;
    e.pcr_values = &*values;
    auto v = tpm::VerifyQuote(quote->attest, quote->signature, *key, e);
    if (v && v->ok()) break;
    if (attempt == 4) {
      return ReportError(Error(ErrorCode::kTpm,
                               "the quoted PCRs kept changing while they were read"),
                         "tpm quote");
    }
  }
  for (const auto& [path, bytes] :
       {std::pair{f.message, quote->attest}, std::pair{f.signature, quote->signature}}) {
    if (auto w = io::WriteFile(path, bytes); !w) return ReportError(w.error(), "tpm quote");
  }
  if (!f.pcrs.empty()) {
    auto blob = tpm::SerializeToolsPcrFile(*selection, *values);
    if (!blob) return ReportError(blob.error(), "tpm quote");
    if (auto w = io::WriteFile(f.pcrs, *blob); !w) return ReportError(w.error(), "tpm quote");
  }
  doc::Value d = doc::Value::MakeObject();
  d.Set("message", f.message);
  d.Set("signature", f.signature);
  d.Set("pcr_selection", tpm::PcrSelectionText(*selection));
  d.Set("attest", ToHex(quote->attest));
  Emit(f.tpm.format, d,
       fmt::format("quote over {} written: {} (TPMS_ATTEST), {} (TPMT_SIGNATURE){}\n",
                   tpm::PcrSelectionText(*selection), f.message, f.signature,
                   f.pcrs.empty() ? "" : ", " + f.pcrs + " (PCR values)"));
  return kExitOk;
}

constexpr std::string_view kExitCodes =
    "Exit codes: 0 success, 2 error (bad arguments, or the TPM could not be opened or "
    "refused).";

}  // namespace

void AddTpmKeyCommands(CLI::App* tpm, int* exit_code) {
  auto ek_flags = std::make_shared<EkFlags>();
  auto* ek = tpm->add_subcommand(
      "ek", "The endorsement key (TCG EK Credential Profile template) and its certificate");
  AddTpmFlags(ek, &ek_flags->tpm);
  ek->add_option("-G,--alg", ek_flags->alg, "rsa (RSA-2048, default) or ecc (NIST P-256)");
  ek->add_option("-u,--public", ek_flags->out_public, "Write the EK's TPM2B_PUBLIC here");
  ek->add_option("--certificate", ek_flags->out_cert, "Write the EK certificate (DER) here");
  ek->footer(fmt::format("Examples:\n  trustchain tpm ek -G rsa -u ek.pub\n{}", kExitCodes));
  ek->callback([ek_flags, exit_code] { *exit_code = RunEk(*ek_flags); });

  auto* ak = tpm->add_subcommand("ak", "Attestation keys: restricted signing keys under the EK");
  ak->require_subcommand(1);
  auto ak_flags = std::make_shared<AkFlags>();
  auto* create = ak->add_subcommand("create", "Create an AK and save it to a file");
  AddTpmFlags(create, &ak_flags->tpm);
  create->add_option("-o,--out", ak_flags->out, "AK file to write (used by tpm quote)")
      ->required();
  create->add_option("-G,--alg", ak_flags->alg, "rsa (RSASSA-SHA256, default) or ecc (ECDSA)");
  create->add_option("--ek", ak_flags->ek, "Parent EK: rsa (default) or ecc");
  create->add_option("-u,--public", ak_flags->out_public,
                     "Also write the AK's TPM2B_PUBLIC (what checkquote -u takes)");
  create->add_option("--persistent", ak_flags->persistent,
                     "Make the AK persistent at this handle, e.g. 0x81010001");
  create->footer(fmt::format(
      "Examples:\n  trustchain tpm ak create -o ak.tcak -u ak.pub\n"
      "  trustchain tpm ak create -G ecc -o ak.tcak --persistent 0x81010001\n{}",
      kExitCodes));
  create->callback([ak_flags, exit_code] { *exit_code = RunAkCreate(*ak_flags); });

  auto q = std::make_shared<QuoteFlags>();
  auto* quote = tpm->add_subcommand(
      "quote", "TPM2_Quote: the TPM signs the selected PCRs and a nonce with an AK");
  AddTpmFlags(quote, &q->tpm);
  quote->add_option("-c,--key-context", q->ak, "AK file from 'tpm ak create'")->required();
  quote->add_option("-l,--pcr-list", q->pcr_list, "PCRs to quote (default sha256:0,...,7)");
  quote->add_option("-q,--qualification", q->qualification, "The verifier's nonce, in hex")
      ->required();
  quote->add_option("-m,--message", q->message, "Write the TPMS_ATTEST here")->required();
  quote->add_option("-s,--signature", q->signature, "Write the TPMT_SIGNATURE here")->required();
  quote->add_option("-o,--pcr", q->pcrs,
                    "Write the PCR values (tpm2-tools serialized format) here");
  quote->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm quote -c ak.tcak -l sha256:0,7,10 -q $NONCE -m q.msg -s q.sig -o q.pcrs\n"
      "  trustchain tpm checkquote -u ak.pub -m q.msg -s q.sig -f q.pcrs -q $NONCE\n{}",
      kExitCodes));
  quote->callback([q, exit_code] { *exit_code = RunQuote(*q); });
}

}  // namespace tc::app
