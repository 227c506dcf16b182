#include "tc/ima/test_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace tc::ima::testing {

namespace fs = std::filesystem;

std::optional<fs::path> SharedDir() {
  const char* env = std::getenv("TC_SHARED_DIR");
  fs::path p = env != nullptr ? env : TC_SHARED_DIR;
  if (!fs::is_directory(p / "corpus" / "ima")) return std::nullopt;
  return p;
}

std::vector<fs::path> CorpusImaLists() {
  std::vector<fs::path> out;
  const auto dir = SharedDir();
  if (!dir) return out;
  for (const auto& e : fs::directory_iterator(*dir / "corpus" / "ima")) {
    const std::string name = e.path().filename().string();
    const std::string ext = e.path().extension().string();
    if ((ext == ".bin" || ext == ".txt") && name.find(".pcrs") == std::string::npos) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Bytes ReadBytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string ReadText(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// ---- Building ----------------------------------------------------------------

void PutU32(Bytes& out, std::uint32_t v, ByteOrder order) {
  if (order == ByteOrder::kBig) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  } else {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

namespace {

void Append(Bytes& out, std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
void Append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

bool IsLegacy(const TestEntry& e) { return e.template_name == "ima"; }

const TestField* FindField(const TestEntry& e, Field id) {
  for (const TestField& f : e.fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

// How ima_show_template_* prints a field in the ascii list.
std::string AsciiField(const TestField& f) {
  if (f.data.empty()) return "";
  switch (f.id) {
    case Field::kDigestNg:
    case Field::kDigestNgV2:
    case Field::kModsigDigest: {
      const auto nul = std::find(f.data.begin(), f.data.end(), std::uint8_t{0});
      const std::string prefix(f.data.begin(), nul);
      const Bytes digest(nul == f.data.end() ? nul : nul + 1, f.data.end());
      return prefix + ToHex(digest);
    }
    case Field::kEventNameNg: {
      std::string s = Text(f.data);
      if (!s.empty() && s.back() == '\0') s.pop_back();
      return s;
    }
    case Field::kEventName:
    case Field::kXattrNames:
    case Field::kInodeUid:
    case Field::kInodeGid:
    case Field::kInodeMode:
      return Text(f.data);
    default:
      return ToHex(f.data);
  }
}

}  // namespace

Bytes DigestNgField(std::string_view alg, std::span<const std::uint8_t> digest) {
  Bytes out;
  Append(out, alg);
  out.push_back(':');
  out.push_back(0);
  Append(out, digest);
  return out;
}

Bytes DigestNgV2Field(std::string_view type, std::string_view alg,
                      std::span<const std::uint8_t> digest) {
  Bytes out;
  Append(out, type);
  out.push_back(':');
  Append(out, DigestNgField(alg, digest));
  return out;
}

Bytes NameNgField(std::string_view name) {
  Bytes out;
  Append(out, name);
  out.push_back(0);
  return out;
}

Bytes HashOf(crypto::HashAlg alg, std::span<const std::uint8_t> content) {
  const auto d = crypto::Hash(alg, content);
  TC_CHECK(d.has_value());
  return Bytes(d->bytes().begin(), d->bytes().end());
}

Bytes HashOf(crypto::HashAlg alg, std::string_view content) {
  return HashOf(alg, AsBytes(content));
}

TestEntry ImaNgDigest(std::string_view path, crypto::HashAlg alg, const Bytes& digest) {
  TestEntry e;
  e.template_name = "ima-ng";
  e.fields.push_back({Field::kDigestNg, DigestNgField(crypto::HashAlgName(alg), digest)});
  e.fields.push_back({Field::kEventNameNg, NameNgField(path)});
  return e;
}

TestEntry ImaNg(std::string_view path, std::string_view content, crypto::HashAlg alg) {
  return ImaNgDigest(path, alg, HashOf(alg, content));
}

TestEntry ImaSig(std::string_view path, std::string_view content, const Bytes& sig,
                 crypto::HashAlg alg) {
  TestEntry e = ImaNg(path, content, alg);
  e.template_name = "ima-sig";
  e.fields.push_back({Field::kSignature, sig});
  return e;
}

TestEntry ImaBuf(std::string_view name, const Bytes& buf, crypto::HashAlg alg) {
  TestEntry e = ImaNgDigest(name, alg, HashOf(alg, buf));
  e.template_name = "ima-buf";
  e.fields.push_back({Field::kBuffer, buf});
  return e;
}

TestEntry Legacy(std::string_view path, std::string_view content) {
  TestEntry e;
  e.template_name = "ima";
  e.fields.push_back({Field::kDigest, HashOf(crypto::HashAlg::kSha1, content)});
  e.fields.push_back({Field::kEventName, Bytes(path.begin(), path.end())});
  return e;
}

TestEntry BootAggregate(crypto::HashAlg alg, const Bytes& digest) {
  return ImaNgDigest("boot_aggregate", alg, digest);
}

TestEntry ViolationEntry(std::string_view path, crypto::HashAlg alg) {
  TestEntry e = ImaNgDigest(path, alg, Bytes(crypto::DigestSize(alg), 0));
  e.violation = true;
  return e;
}

Bytes TemplateData(const TestEntry& e, ByteOrder order) {
  Bytes out;
  for (const TestField& f : e.fields) {
    if (!(IsLegacy(e) && f.id == Field::kDigest)) {
      PutU32(out, static_cast<std::uint32_t>(f.data.size()), order);
    }
    Append(out, f.data);
  }
  return out;
}

Bytes HashInput(const TestEntry& e, ByteOrder order) {
  if (!IsLegacy(e)) return TemplateData(e, order);
  // ima_calc_field_array_hash for "ima": d, then n padded to
  // IMA_EVENT_NAME_LEN_MAX + 1 bytes, no lengths.
  Bytes out(20 + 256, 0);
  const TestField* d = FindField(e, Field::kDigest);
  const TestField* n = FindField(e, Field::kEventName);
  TC_CHECK(d != nullptr && n != nullptr && d->data.size() <= 20 && n->data.size() <= 255);
  std::copy(d->data.begin(), d->data.end(), out.begin());
  std::copy(n->data.begin(), n->data.end(), out.begin() + 20);
  return out;
}

Bytes RecordedDigest(const TestEntry& e, crypto::HashAlg bank, ByteOrder order) {
  if (e.violation) return Bytes(crypto::DigestSize(bank), 0);
  if (e.recorded_digest) return *e.recorded_digest;
  return HashOf(bank, HashInput(e, order));
}

Bytes RawBinaryEntry(std::uint32_t pcr, std::span<const std::uint8_t> digest,
                     std::uint32_t name_len, std::string_view name, std::uint32_t data_len,
                     std::span<const std::uint8_t> data, ByteOrder order) {
  Bytes out;
  PutU32(out, pcr, order);
  Append(out, digest);
  PutU32(out, name_len, order);
  Append(out, name);
  PutU32(out, data_len, order);
  Append(out, data);
  return out;
}

Bytes BinaryEntry(const TestEntry& e, crypto::HashAlg bank, ByteOrder order) {
  Bytes out;
  PutU32(out, e.pcr, order);
  Append(out, RecordedDigest(e, bank, order));
  PutU32(out, static_cast<std::uint32_t>(e.template_name.size()), order);
  Append(out, e.template_name);
  const Bytes data = TemplateData(e, order);
  if (!IsLegacy(e)) PutU32(out, static_cast<std::uint32_t>(data.size()), order);
  Append(out, data);
  return out;
}

Bytes BinaryList(const std::vector<TestEntry>& entries, crypto::HashAlg bank, ByteOrder order) {
  Bytes out;
  for (const TestEntry& e : entries) Append(out, BinaryEntry(e, bank, order));
  return out;
}

std::string AsciiLine(const TestEntry& e, crypto::HashAlg bank) {
  std::string out = std::to_string(e.pcr) + " " + ToHex(RecordedDigest(e, bank)) + " " +
                    e.template_name;
  for (const TestField& f : e.fields) out += " " + AsciiField(f);
  return out;
}

std::string AsciiList(const std::vector<TestEntry>& entries, crypto::HashAlg bank,
                      std::string_view eol) {
  std::string out;
  for (const TestEntry& e : entries) {
    out += AsciiLine(e, bank);
    out += eol;
  }
  return out;
}

// ---- Replay ------------------------------------------------------------------

crypto::Digest ExpectedPcr(const std::vector<TestEntry>& entries, crypto::HashAlg list_bank,
                           crypto::HashAlg bank, std::size_t n, std::uint32_t pcr) {
  crypto::Digest value(bank);
  const std::size_t count = std::min(n, entries.size());
  for (std::size_t i = 0; i < count; ++i) {
    const TestEntry& e = entries[i];
    if (e.pcr != pcr) continue;
    Bytes extend;
    if (e.violation) {
      extend.assign(crypto::DigestSize(bank), 0xff);
    } else if (bank == list_bank) {
      extend = RecordedDigest(e, bank);
    } else {
      extend = HashOf(bank, HashInput(e));
    }
    TC_CHECK(crypto::ExtendDigest(value, extend).has_value());
  }
  return value;
}

pcr::PcrValues Pcr10(std::initializer_list<crypto::Digest> values) {
  pcr::PcrValues out;
  for (const crypto::Digest& d : values) out.banks[d.alg()][10] = d;
  return out;
}

// ---- Parsing -----------------------------------------------------------------

bool OwnedEntry::SameContent(const OwnedEntry& o) const {
  return pcr == o.pcr && template_digest == o.template_digest &&
         template_name == o.template_name && hash_input == o.hash_input &&
         hash_input_exact == o.hash_input_exact && has_digest == o.has_digest &&
         digest_alg_name == o.digest_alg_name && digest_type == o.digest_type &&
         digest_alg == o.digest_alg && digest == o.digest && path == o.path &&
         signature == o.signature && buffer == o.buffer && violation == o.violation;
}

OwnedEntry Own(const ImaEntry& e) {
  OwnedEntry o;
  o.index = e.index;
  o.line = e.line;
  o.offset = e.offset;
  o.pcr = e.pcr;
  o.template_digest.assign(e.template_digest.begin(), e.template_digest.end());
  o.template_name = std::string(e.template_name);
  o.hash_input.assign(e.hash_input.begin(), e.hash_input.end());
  o.hash_input_exact = e.hash_input_exact;
  if (e.digest) {
    o.has_digest = true;
    o.digest_alg_name = std::string(e.digest->alg_name);
    o.digest_type = std::string(e.digest->type);
    o.digest_alg = e.digest->alg;
    o.digest.assign(e.digest->bytes.begin(), e.digest->bytes.end());
  }
  if (e.path) o.path = std::string(*e.path);
  o.signature.assign(e.signature.begin(), e.signature.end());
  o.buffer.assign(e.buffer.begin(), e.buffer.end());
  o.violation = e.IsViolation();
  return o;
}

Result<ParsedList> ParseAll(ByteSource& source, const ParseOptions& options) {
  EntryStream stream(source, options);
  ParsedList out;
  ImaEntry e;
  while (true) {
    TC_ASSIGN_OR_RETURN(const bool more, stream.Next(&e));
    if (!more) break;
    out.entries.push_back(Own(e));
  }
  out.summary = stream.summary();
  return out;
}

Result<ParsedList> ParseAll(std::span<const std::uint8_t> bytes, const ParseOptions& options) {
  SpanSource source(bytes);
  return ParseAll(source, options);
}

Result<ParsedList> ParseAll(std::string_view text, const ParseOptions& options) {
  return ParseAll(AsBytes(text), options);
}

ChunkedSource::ChunkedSource(std::span<const std::uint8_t> data, std::vector<std::size_t> pieces)
    : data_(data), pieces_(std::move(pieces)) {
  TC_CHECK(!pieces_.empty());
}

Result<std::size_t> ChunkedSource::Read(std::span<std::uint8_t> out) {
  ++reads_;
  const std::size_t piece = pieces_[next_++ % pieces_.size()];
  const std::size_t n = std::min({piece, out.size(), data_.size() - pos_});
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
  pos_ += n;
  return n;
}

}  // namespace tc::ima::testing
