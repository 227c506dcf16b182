// trustchain tpm nv define|write|read|extend|lock|undefine, tpm seal and
// tpm unseal: flags, wiring and exit codes only.

#include "tpm_nv_cmd.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common.h"
#include "tpm_flags.h"
#include "tc/crypto/hash.h"
#include "tc/io/file.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/sealed_file.h"
#include "tc/tpm/tpm.h"

namespace tc::app {
namespace {

constexpr std::string_view kExitCodes =
    "Exit codes: 0 success, 2 error (bad arguments, or the TPM could not be opened or "
    "refused).";
constexpr std::string_view kUnsealExitCodes =
    "Exit codes: 0 success, 1 the PCRs no longer have the values the secret was sealed to, "
    "2 error (bad arguments, a damaged file, or the TPM could not be opened or refused).";
// Input files are small: an NV index holds at most 2048 bytes, a sealed
// secret 128; the library checks the exact limits.
constexpr std::size_t kMaxInputSize = 64 * 1024;

std::string IndexText(std::uint32_t index) { return fmt::format("0x{:08x}", index); }

// The bytes of exactly one of --data, --hex, --file.
struct DataFlags {
  std::string data, hex, file;
};

void AddDataFlags(CLI::App* cmd, DataFlags* f, std::string_view what) {
  auto* data = cmd->add_option("--data", f->data, fmt::format("{} as a string", what));
  auto* hex = cmd->add_option("--hex", f->hex, fmt::format("{} in hex", what));
  auto* file =
      cmd->add_option("--file", f->file, fmt::format("{}: the bytes of this file ('-' stdin)", what));
  data->excludes(hex)->excludes(file);
  hex->excludes(file);
}

Result<Bytes> DataBytes(const DataFlags& f, CLI::App* cmd) {
  if (cmd->count("--hex") > 0) return ParseHex(f.hex);
  if (cmd->count("--file") > 0) return io::ReadFile(f.file, kMaxInputSize);
  if (cmd->count("--data") > 0) {
    const auto bytes = AsBytes(f.data);
    return Bytes(bytes.begin(), bytes.end());
  }
  return Fail(ErrorCode::kInvalidArgument, "give one of --data, --hex or --file");
}

// Writes `bytes` to `path`, created with `mode` (or truncated).

// Runs fn(tpm) on a freshly opened TPM; prints errors under `context`.
template <class Fn>
int WithTpm(const TpmFlags& f, std::string_view context, Fn fn) {
  auto tpm = OpenTpmFromFlags(f);
  if (!tpm) return ReportError(tpm.error(), context);
  return fn(**tpm);
}

// ---- nv define / undefine / lock

struct DefineFlags {
  TpmFlags tpm;
  std::string index;
  std::size_t size = 0;
  bool extend = false;
  std::string hash = "sha256";
};

int RunDefine(const DefineFlags& f) {
  constexpr std::string_view kContext = "tpm nv define";
  auto index = ParseNvIndex(f.index);
  if (!index) return ReportError(index.error(), kContext);
  const auto alg = crypto::HashAlgFromName(f.hash);
  if (!alg) {
    return ReportError(Error(ErrorCode::kInvalidArgument, "unknown --hash " + f.hash),
                       kContext);
  }
  if (!f.extend && f.size == 0) {
    return ReportError(Error(ErrorCode::kInvalidArgument, "--size is required"), kContext);
  }
  return WithTpm(f.tpm, kContext, [&](tpm::Tpm& tpm) {
    const tpm::NvDefinition def{*index, f.size, f.extend, *alg};
    if (auto r = tpm.NvDefine(def); !r) return ReportError(r.error(), kContext);
    const std::size_t size = f.extend ? crypto::DigestSize(*alg) : f.size;
    doc::Value d = doc::Value::MakeObject();
    d.Set("index", IndexText(*index));
    d.Set("size", size);
    d.Set("type", f.extend ? "extend" : "ordinary");
    d.Set("hash", crypto::HashAlgName(*alg));
    Emit(f.tpm.format, d,
         fmt::format("defined NV index {}: {} bytes, {}, {}\n", IndexText(*index), size,
                     f.extend ? "extend" : "ordinary", crypto::HashAlgName(*alg)));
    return kExitOk;
  });
}

struct IndexFlags {
  TpmFlags tpm;
  std::string index;
};

// undefine and lock: an index and nothing else.
template <class Op>
int RunIndexOp(const IndexFlags& f, std::string_view context, std::string_view done, Op op) {
  auto index = ParseNvIndex(f.index);
  if (!index) return ReportError(index.error(), context);
  return WithTpm(f.tpm, context, [&](tpm::Tpm& tpm) {
    if (auto r = op(tpm, *index); !r) return ReportError(r.error(), context);
    doc::Value d = doc::Value::MakeObject();
    d.Set("index", IndexText(*index));
    d.Set("result", done);
    Emit(f.tpm.format, d, fmt::format("NV index {}: {}\n", IndexText(*index), done));
    return kExitOk;
  });
}

// ---- nv write / extend

struct WriteFlags {
  TpmFlags tpm;
  std::string index;
  DataFlags data;
  std::uint16_t offset = 0;
};

int RunWrite(const WriteFlags& f, CLI::App* cmd, bool extend) {
  const std::string_view context = extend ? "tpm nv extend" : "tpm nv write";
  auto index = ParseNvIndex(f.index);
  if (!index) return ReportError(index.error(), context);
  auto bytes = DataBytes(f.data, cmd);
  if (!bytes) return ReportError(bytes.error(), context);
  return WithTpm(f.tpm, context, [&](tpm::Tpm& tpm) {
    auto r = extend ? tpm.NvExtend(*index, *bytes) : tpm.NvWrite(*index, *bytes, f.offset);
    if (!r) return ReportError(r.error(), context);
    doc::Value d = doc::Value::MakeObject();
    d.Set("index", IndexText(*index));
    d.Set("bytes", bytes->size());
    if (!extend) d.Set("offset", unsigned{f.offset});
    Emit(f.tpm.format, d,
         extend ? fmt::format("extended NV index {} with {} bytes\n", IndexText(*index),
                              bytes->size())
                : fmt::format("wrote {} bytes to NV index {} at offset {}\n", bytes->size(),
                              IndexText(*index), f.offset));
    return kExitOk;
  });
}

// ---- nv read

struct ReadFlags {
  TpmFlags tpm;
  std::string index;
  std::string out;
};

int RunRead(const ReadFlags& f) {
  constexpr std::string_view kContext = "tpm nv read";
  auto index = ParseNvIndex(f.index);
  if (!index) return ReportError(index.error(), kContext);
  return WithTpm(f.tpm, kContext, [&](tpm::Tpm& tpm) {
    auto data = tpm.NvRead(*index);
    if (!data) return ReportError(data.error(), kContext);
    if (!f.out.empty()) {
      if (auto w = io::WriteFile(f.out, *data, 0644); !w) return ReportError(w.error(), kContext);
    }
    doc::Value d = doc::Value::MakeObject();
    d.Set("index", IndexText(*index));
    d.Set("size", data->size());
    d.Set("data", ToHex(*data));
    Emit(f.tpm.format, d,
         f.out.empty() ? ToHex(*data) + "\n"
                       : fmt::format("wrote {} bytes of NV index {} to {}\n", data->size(),
                                     IndexText(*index), f.out));
    return kExitOk;
  });
}

// ---- seal / unseal

struct SealFlags {
  TpmFlags tpm;
  DataFlags secret;
  std::string pcrs;
  std::string out;
};

int RunSeal(const SealFlags& f, CLI::App* cmd) {
  constexpr std::string_view kContext = "tpm seal";
  auto selection = tpm::ParsePcrSelectionText(f.pcrs);
  if (!selection) return ReportError(selection.error(), kContext);
  std::vector<tpm::PcrSelection> pcrs;
  for (const tpm::PcrBankSelection& bank : *selection) pcrs.push_back({bank.alg, bank.pcrs});
  auto secret = DataBytes(f.secret, cmd);
  if (!secret) return ReportError(secret.error(), kContext);
  return WithTpm(f.tpm, kContext, [&](tpm::Tpm& tpm) {
    auto sealed = tpm.Seal(*secret, pcrs);
    std::fill(secret->begin(), secret->end(), std::uint8_t{0});
    if (!sealed) return ReportError(sealed.error(), kContext);
    auto file = tpm::SerializeSealedObject(*sealed);
    if (!file) return ReportError(file.error(), kContext);
    if (auto w = io::WriteFile(f.out, *file, 0644); !w) return ReportError(w.error(), kContext);
    tpm::PcrSelectionList used;
    for (const tpm::PcrSelection& s : sealed->pcrs) used.push_back({s.alg, s.pcrs});
    const std::string text = tpm::PcrSelectionText(used);
    doc::Value d = doc::Value::MakeObject();
    d.Set("file", f.out);
    d.Set("pcrs", text);
    Emit(f.tpm.format, d, fmt::format("sealed to PCRs {} in {}\n", text, f.out));
    return kExitOk;
  });
}

struct UnsealFlags {
  TpmFlags tpm;
  std::string file;
  std::string out;
};

int RunUnseal(const UnsealFlags& f) {
  constexpr std::string_view kContext = "tpm unseal";
  auto bytes = io::ReadFile(f.file, tpm::kMaxSealedFileSize);
  if (!bytes) return ReportError(bytes.error(), kContext);
  auto sealed = tpm::ParseSealedObject(*bytes);
  if (!sealed) return ReportError(std::move(sealed).error().Wrap(f.file), kContext);
  return WithTpm(f.tpm, kContext, [&](tpm::Tpm& tpm) {
    auto secret = tpm.Unseal(*sealed);
    if (!secret) {
      const int rc = ReportError(secret.error(), kContext);
      return secret.error().code() == ErrorCode::kVerificationFailed ? kExitFailed : rc;
    }
    if (!f.out.empty()) {
      if (auto w = io::WriteFile(f.out, *secret, 0600); !w) return ReportError(w.error(), kContext);
    }
    doc::Value d = doc::Value::MakeObject();
    if (f.out.empty()) {
      d.Set("secret", ToHex(*secret));
    } else {
      d.Set("file", f.out);
    }
    d.Set("size", secret->size());
    Emit(f.tpm.format, d,
         f.out.empty() ? ToHex(*secret) + "\n"
                       : fmt::format("wrote the {}-byte secret to {}\n", secret->size(), f.out));
    std::fill(secret->begin(), secret->end(), std::uint8_t{0});
    return kExitOk;
  });
}

}  // namespace

void AddTpmNvCommands(CLI::App* tpm, int* exit_code) {
  auto* nv = tpm->add_subcommand(
      "nv", "NV indices in the owner hierarchy: define, write, read, extend, lock, undefine");
  nv->require_subcommand(1);
  const std::string index_help =
      "NV index, e.g. 0x01500000 (owner range 0x01000000..0x01BFFFFF)";

  auto def_flags = std::make_shared<DefineFlags>();
  auto* define = nv->add_subcommand(
      "define", "Define an NV index: ordinary bytes, or an extend index (a running hash)");
  define->add_option("INDEX", def_flags->index, index_help)->required();
  define->add_option("--size", def_flags->size, "Size in bytes (1..2048; extend: the hash's)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{2048}));
  define->add_flag("--extend", def_flags->extend,
                   "An extend index: written only by `nv extend`, new = H(old || data)");
  define->add_option("--hash", def_flags->hash,
                     "Name algorithm, and the extend hash (default sha256)")
      ->option_text("sha1|sha256|sha384|sha512");
  AddTpmFlags(define, &def_flags->tpm);
  define->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm nv define 0x01500000 --size 64\n"
      "  trustchain tpm nv define 0x01500001 --extend --hash sha256\n"
      "The index is readable and writable with the empty password (its own or the owner's),\n"
      "and `nv lock` blocks writes until the next TPM restart.\n{}",
      kExitCodes));
  define->callback([def_flags, exit_code] { *exit_code = RunDefine(*def_flags); });

  auto wr_flags = std::make_shared<WriteFlags>();
  auto* write = nv->add_subcommand("write", "Write bytes into an ordinary NV index");
  write->add_option("INDEX", wr_flags->index, index_help)->required();
  AddDataFlags(write, &wr_flags->data, "Bytes to write");
  write->add_option("--offset", wr_flags->offset, "Offset in the index (default 0)");
  AddTpmFlags(write, &wr_flags->tpm);
  write->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm nv write 0x01500000 --data 'hello'\n"
      "  trustchain tpm nv write 0x01500000 --hex 00ff --offset 5\n"
      "  trustchain tpm nv write 0x01500000 --file blob.bin\n{}",
      kExitCodes));
  write->callback([wr_flags, write, exit_code] {
    *exit_code = RunWrite(*wr_flags, write, /*extend=*/false);
  });

  auto rd_flags = std::make_shared<ReadFlags>();
  auto* read = nv->add_subcommand("read", "Print the whole content of an NV index in hex");
  read->add_option("INDEX", rd_flags->index, index_help)->required();
  read->add_option("--out", rd_flags->out, "Also write the raw bytes to this file");
  AddTpmFlags(read, &rd_flags->tpm);
  read->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm nv read 0x01500000\n"
      "  trustchain tpm nv read 0x01500000 --out content.bin --format json\n{}",
      kExitCodes));
  read->callback([rd_flags, exit_code] { *exit_code = RunRead(*rd_flags); });

  auto ext_flags = std::make_shared<WriteFlags>();
  auto* extend = nv->add_subcommand(
      "extend", "Extend an extend index with data: new = H(old || data)");
  extend->add_option("INDEX", ext_flags->index, index_help)->required();
  AddDataFlags(extend, &ext_flags->data, "Data to extend with");
  AddTpmFlags(extend, &ext_flags->tpm);
  extend->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm nv extend 0x01500001 --data 'boot stage 2'\n{}",
      kExitCodes));
  extend->callback([ext_flags, extend, exit_code] {
    *exit_code = RunWrite(*ext_flags, extend, /*extend=*/true);
  });

  auto lock_flags = std::make_shared<IndexFlags>();
  auto* lock = nv->add_subcommand(
      "lock", "Block writes to an NV index until the next TPM restart (TPM2_NV_WriteLock)");
  lock->add_option("INDEX", lock_flags->index, index_help)->required();
  AddTpmFlags(lock, &lock_flags->tpm);
  lock->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm nv lock 0x01500000\n"
      "The lock lasts until TPM2_Startup(CLEAR): a reboot for a real TPM. The embedded TPM\n"
      "starts up at every trustchain command, so there it ends with this command.\n{}",
      kExitCodes));
  lock->callback([lock_flags, exit_code] {
    *exit_code = RunIndexOp(*lock_flags, "tpm nv lock", "write-locked",
                            [](tpm::Tpm& t, std::uint32_t i) { return t.NvWriteLock(i); });
  });

  auto undef_flags = std::make_shared<IndexFlags>();
  auto* undefine = nv->add_subcommand("undefine", "Delete an NV index");
  undefine->add_option("INDEX", undef_flags->index, index_help)->required();
  AddTpmFlags(undefine, &undef_flags->tpm);
  undefine->footer(
      fmt::format("Examples:\n  trustchain tpm nv undefine 0x01500000\n{}", kExitCodes));
  undefine->callback([undef_flags, exit_code] {
    *exit_code = RunIndexOp(*undef_flags, "tpm nv undefine", "undefined",
                            [](tpm::Tpm& t, std::uint32_t i) { return t.NvUndefine(i); });
  });

  auto seal_flags = std::make_shared<SealFlags>();
  auto* seal = tpm->add_subcommand(
      "seal", "Seal a secret (at most 128 bytes) to the current values of some PCRs");
  AddDataFlags(seal, &seal_flags->secret, "The secret");
  seal->add_option("--pcrs", seal_flags->pcrs,
                   "PCRs whose current values the secret is bound to, as tpm2-tools takes "
                   "them: sha256:0,2,4,7+sha1:7")
      ->required();
  seal->add_option("--out", seal_flags->out, "File to write the sealed object to")
      ->required();
  AddTpmFlags(seal, &seal_flags->tpm);
  seal->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm seal --file key.bin --pcrs sha256:0,2,4,7 --out key.sealed\n"
      "  head -c 32 /dev/urandom | trustchain tpm seal --file - --pcrs sha256:7 --out k.sealed\n"
      "Only this TPM can unseal it, and only while those PCRs have the same values.\n{}",
      kExitCodes));
  seal->callback([seal_flags, seal, exit_code] { *exit_code = RunSeal(*seal_flags, seal); });

  auto unseal_flags = std::make_shared<UnsealFlags>();
  auto* unseal = tpm->add_subcommand(
      "unseal", "Unseal a secret made by `tpm seal` (prints it in hex, or writes --out)");
  unseal->add_option("FILE", unseal_flags->file, "The sealed object (tpm seal --out)")
      ->required();
  unseal->add_option("--out", unseal_flags->out,
                     "Write the raw secret to this file (mode 0600) instead of printing it");
  AddTpmFlags(unseal, &unseal_flags->tpm);
  unseal->footer(fmt::format(
      "Examples:\n"
      "  trustchain tpm unseal key.sealed --out key.bin\n"
      "  trustchain tpm unseal key.sealed --format json\n{}",
      kUnsealExitCodes));
  unseal->callback([unseal_flags, exit_code] { *exit_code = RunUnseal(*unseal_flags); });
}

}  // namespace tc::app
