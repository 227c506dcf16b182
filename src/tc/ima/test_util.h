#pragma once

// Helpers for ima tests: measurement lists built by hand in the layouts of
// Linux security/integrity/ima/ima_fs.c (binary and ascii), with template
// digests computed here from the template data (ima_calc_field_array_hash),
// an independent replay of PCR 10, owned copies of parsed entries, a
// ByteSource that hands data out in small odd pieces, and the corpus in
// ../shared (found through TC_SHARED_DIR, as the eventlog tests do).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/byte_source.h"
#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/ima/entry.h"
#include "tc/ima/parser.h"
#include "tc/ima/template.h"
#include "tc/pcr/pcr_values.h"

namespace tc::ima::testing {

// ---- The corpus ------------------------------------------------------------

// $TC_SHARED_DIR, else the checkout's ../shared. nullopt when it has no
// corpus/ima folder.
std::optional<std::filesystem::path> SharedDir();
// The IMA measurement lists of corpus/ima (*.bin, *.txt other than the PCR
// dumps *.pcrs*.txt), sorted.
std::vector<std::filesystem::path> CorpusImaLists();
Bytes ReadBytes(const std::filesystem::path& p);
std::string ReadText(const std::filesystem::path& p);

// ---- Building entries ------------------------------------------------------

// One field of the template data, as the kernel stores it (the bytes the
// binary list writes after the field's u32 length).
struct TestField {
  Field id;
  Bytes data;
};

struct TestEntry {
  std::uint32_t pcr = 10;
  std::string template_name = "ima-ng";
  std::vector<TestField> fields;
  // IMA's violation record: an all-zero template digest (ima_add_violation).
  bool violation = false;
  // The recorded template digest per bank, instead of the computed one (an
  // entry altered after it was measured).
  std::optional<Bytes> recorded_digest;
};

// d-ng / d-modsig: "alg:" NUL digest.
Bytes DigestNgField(std::string_view alg, std::span<const std::uint8_t> digest);
// d-ngv2: "type:alg:" NUL digest.
Bytes DigestNgV2Field(std::string_view type, std::string_view alg,
                      std::span<const std::uint8_t> digest);
// n-ng: the name and its NUL.
Bytes NameNgField(std::string_view name);
// The hash of `content` (a file's digest), as bytes.
Bytes HashOf(crypto::HashAlg alg, std::span<const std::uint8_t> content);
Bytes HashOf(crypto::HashAlg alg, std::string_view content);

// ima-ng with the file digest of `content` in `alg`.
TestEntry ImaNg(std::string_view path, std::string_view content,
                crypto::HashAlg alg = crypto::HashAlg::kSha256);
// ima-ng with a given file digest.
TestEntry ImaNgDigest(std::string_view path, crypto::HashAlg alg, const Bytes& digest);
// ima-sig: d-ng | n-ng | sig.
TestEntry ImaSig(std::string_view path, std::string_view content, const Bytes& sig,
                 crypto::HashAlg alg = crypto::HashAlg::kSha256);
// ima-buf: d-ng (hash of buf) | n-ng | buf.
TestEntry ImaBuf(std::string_view name, const Bytes& buf,
                 crypto::HashAlg alg = crypto::HashAlg::kSha256);
// The legacy "ima" template: d (20-byte SHA-1 of content) | n.
TestEntry Legacy(std::string_view path, std::string_view content);
// boot_aggregate as ima-ng, with the given digest.
TestEntry BootAggregate(crypto::HashAlg alg, const Bytes& digest);
// A violation record for `path` (ima-ng, all-zero file and template digests).
TestEntry ViolationEntry(std::string_view path, crypto::HashAlg alg = crypto::HashAlg::kSha256);

// The template data the binary list writes (u32 length and bytes per field;
// "ima": d bare, then u32 length and name).
Bytes TemplateData(const TestEntry& e, ByteOrder order = ByteOrder::kLittle);
// The bytes the template digest is a hash of: the template data with
// lengths, or for "ima" the digest and the name zero-padded to 256 bytes.
Bytes HashInput(const TestEntry& e, ByteOrder order = ByteOrder::kLittle);
// The template digest recorded for the entry in `bank`: zero for a
// violation, recorded_digest if set, else the hash of HashInput.
Bytes RecordedDigest(const TestEntry& e, crypto::HashAlg bank,
                     ByteOrder order = ByteOrder::kLittle);

// Binary layout (ima_measurements_show): u32 pcr | digest | u32 name_len |
// name | [u32 data_len] | data.
Bytes BinaryEntry(const TestEntry& e, crypto::HashAlg bank, ByteOrder order = ByteOrder::kLittle);
Bytes BinaryList(const std::vector<TestEntry>& entries, crypto::HashAlg bank,
                 ByteOrder order = ByteOrder::kLittle);
// An entry with every part given (for malformed layouts).
Bytes RawBinaryEntry(std::uint32_t pcr, std::span<const std::uint8_t> digest,
                     std::uint32_t name_len, std::string_view name, std::uint32_t data_len,
                     std::span<const std::uint8_t> data, ByteOrder order = ByteOrder::kLittle);
void PutU32(Bytes& out, std::uint32_t v, ByteOrder order = ByteOrder::kLittle);

// Ascii layout (ima_ascii_measurements_show): "PCR HEX NAME" then " FIELD"
// per field (empty fields print nothing), without the newline.
std::string AsciiLine(const TestEntry& e, crypto::HashAlg bank);
// Every line followed by `eol`.
std::string AsciiList(const std::vector<TestEntry>& entries, crypto::HashAlg bank,
                      std::string_view eol = "\n");

// ---- Independent replay ----------------------------------------------------

// PCR `pcr` in `bank` after the first `n` entries (all when n is npos): each
// entry extends its recorded digest in the list's bank, the hash of its
// HashInput in other banks, and ff..ff in every bank for a violation.
crypto::Digest ExpectedPcr(const std::vector<TestEntry>& entries, crypto::HashAlg list_bank,
                           crypto::HashAlg bank, std::size_t n = std::string::npos,
                           std::uint32_t pcr = 10);
// {bank: {10: value}}.
pcr::PcrValues Pcr10(std::initializer_list<crypto::Digest> values);

// ---- Parsing helpers -------------------------------------------------------

// An ImaEntry with every view copied.
struct OwnedEntry {
  std::size_t index = 0, line = 0, offset = 0;
  std::uint32_t pcr = 0;
  Bytes template_digest;
  std::string template_name;
  Bytes hash_input;
  bool hash_input_exact = true;
  bool has_digest = false;
  std::string digest_alg_name, digest_type;
  std::optional<crypto::HashAlg> digest_alg;
  Bytes digest;
  std::optional<std::string> path;
  Bytes signature, buffer;
  bool violation = false;

  // Equal content; index, line and offset are not compared.
  bool SameContent(const OwnedEntry& o) const;
};
OwnedEntry Own(const ImaEntry& e);

struct ParsedList {
  std::vector<OwnedEntry> entries;
  StreamSummary summary;
};
[[nodiscard]] Result<ParsedList> ParseAll(ByteSource& source, const ParseOptions& options = {});
[[nodiscard]] Result<ParsedList> ParseAll(std::span<const std::uint8_t> bytes,
                                          const ParseOptions& options = {});
[[nodiscard]] Result<ParsedList> ParseAll(std::string_view text, const ParseOptions& options = {});

// Hands its data out in pieces whose sizes cycle through `pieces` (never
// more than asked for), as a pipe or a slow socket does.
class ChunkedSource final : public ByteSource {
 public:
  ChunkedSource(std::span<const std::uint8_t> data, std::vector<std::size_t> pieces);
  Result<std::size_t> Read(std::span<std::uint8_t> out) override;
  std::size_t reads() const { return reads_; }

 private:
  std::span<const std::uint8_t> data_;
  std::vector<std::size_t> pieces_;
  std::size_t pos_ = 0;
  std::size_t next_ = 0;
  std::size_t reads_ = 0;
};

}  // namespace tc::ima::testing
