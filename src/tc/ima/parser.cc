#include "tc/ima/parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"

namespace tc::ima {
namespace {

// The read buffer starts small (most lists are short) and grows, up to a
// size that holds any whole entry (kMaxTemplateDataSize plus headers) or
// ascii line.
constexpr std::size_t kInitialBuffer = 64 << 10;
constexpr std::size_t kBufferSize = 4 << 20;
static_assert(kBufferSize > kMaxLineSize + 4096);

constexpr std::size_t kLegacyDigestSize = 20;

std::string Printable(std::string_view s) { return PrintableAscii(AsBytes(s)); }

// Hex digits to bytes, appended to out; false on a bad digit or odd length.
bool AppendHex(std::string_view hex, Bytes& out) {
  if (hex.size() % 2 != 0) return false;
  const std::size_t base = out.size();
  out.resize(base + hex.size() / 2);
  if (!DecodeHex(hex, std::span(out).subspan(base))) {
    out.resize(base);
    return false;
  }
  return true;
}

void AppendU32(std::uint32_t v, ByteOrder order, Bytes& out) {
  if (order == ByteOrder::kBig) {
    out.insert(out.end(), {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                           static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
  } else {
    out.insert(out.end(), {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                           static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)});
  }
}

bool IsTemplateNameChar(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '|';
}

bool AllZero(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

// Splits a d-ng / d-ngv2 / d-modsig field's "prefix:" NUL digest.
Result<FileDigest> SplitDigestNg(std::span<const std::uint8_t> data, bool v2) {
  const auto nul = std::find(data.begin(), data.end(), std::uint8_t{0});
  if (nul == data.end()) {
    return Fail(ErrorCode::kMalformed, "digest field has no NUL after its algorithm");
  }
  const std::size_t prefix_len = static_cast<std::size_t>(nul - data.begin());
  const std::string_view prefix(reinterpret_cast<const char*>(data.data()), prefix_len);
  // Algorithm names are short ("sha256", "ima:sha256" for d-ngv2).
  constexpr std::size_t kMaxPrefix = 32;
  if (prefix.size() > kMaxPrefix) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("digest field's algorithm is longer than {} bytes", kMaxPrefix));
  }
  if (prefix.empty() || prefix.back() != ':') {
    return Fail(ErrorCode::kMalformed, "digest field's algorithm does not end in ':'");
  }
  FileDigest d;
  std::string_view algo = prefix.substr(0, prefix.size() - 1);
  if (v2) {
    const std::size_t colon = algo.find(':');
    if (colon == std::string_view::npos) {
      return Fail(ErrorCode::kMalformed, "d-ngv2 field lacks its digest type");
    }
    d.type = algo.substr(0, colon);
    algo = algo.substr(colon + 1);
  }
  d.alg_name = algo;
  d.alg = crypto::HashAlgFromName(algo);
  d.bytes = data.subspan(prefix_len + 1);
  if (d.bytes.size() > crypto::kMaxDigestSize) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("file digest of {} bytes (at most {})", d.bytes.size(),
                            crypto::kMaxDigestSize));
  }
  if (d.alg && d.bytes.size() != crypto::DigestSize(*d.alg)) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{} file digest has {} bytes", algo, d.bytes.size()));
  }
  return d;
}

std::string_view AsText(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

bool ImaEntry::IsViolation() const { return AllZero(template_digest); }

class EntryStream::Impl {
 public:
  Impl(ByteSource& source, ParseOptions options, StreamSummary& summary)
      : source_(source), options_(options), summary_(summary), index_(options.first_index) {}

  Result<bool> Next(ImaEntry* entry);

 private:
  enum class Step { kEntry, kNeedMore };

  Result<void> Fill();
  Result<void> Start();
  Result<Step> ParseAscii(ImaEntry* e);
  Result<Step> ParseBinary(std::span<const std::uint8_t> avail, std::size_t base, ImaEntry* e,
                           std::size_t digest_size, ByteOrder order, std::size_t* consumed);
  Result<void> DecodeFields(ImaEntry* e);
  Result<void> AsciiFields(std::string_view rest, ImaEntry* e);
  Result<const std::vector<Field>*> Fields(std::string_view name);
  Result<void> DetectBinary();
  Result<std::uint32_t> ReadU32(ByteReader& r, ByteOrder order) {
    return order == ByteOrder::kBig ? r.U32Be() : r.U32Le();
  }

  ByteSource& source_;
  ParseOptions options_;
  StreamSummary& summary_;
  Bytes buf_ = Bytes(kInitialBuffer);
  bool first_line_ = true;  // ascii: the template hash size is not known yet
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t buf_offset_ = 0;  // input offset of buf_[0]
  bool eof_ = false;
  bool started_ = false;
  bool done_ = false;
  std::size_t index_;
  std::size_t line_ = 0;
  std::size_t digest_size_ = 20;
  // Template field lists, by name (lists rarely use more than two).
  std::vector<std::pair<std::string, std::vector<Field>>> templates_;
  // Scratch space behind the entry's views.
  Bytes template_digest_;
  Bytes data_;      // rebuilt template data (ascii)
  Bytes hash_in_;   // legacy "ima" hash input
  std::vector<std::pair<Field, std::span<const std::uint8_t>>> field_data_;
  std::vector<std::string_view> texts_;
  std::vector<std::pair<std::size_t, std::size_t>> spans_;
};

EntryStream::EntryStream(ByteSource& source, ParseOptions options)
    : impl_(std::make_unique<Impl>(source, options, summary_)) {}
EntryStream::~EntryStream() = default;

Result<bool> EntryStream::Next(ImaEntry* entry) { return impl_->Next(entry); }

Result<void> EntryStream::Impl::Fill() {
  if (begin_ > 0) {
    std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(begin_),
              buf_.begin() + static_cast<std::ptrdiff_t>(end_), buf_.begin());
    buf_offset_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  while (!eof_ && end_ < buf_.size()) {
    TC_ASSIGN_OR_RETURN(const std::size_t n, source_.Read(std::span(buf_).subspan(end_)));
    if (n == 0) eof_ = true;
    end_ += n;
  }
  return {};
}

Result<const std::vector<Field>*> EntryStream::Impl::Fields(std::string_view name) {
  for (const auto& [n, f] : templates_) {
    if (n == name) return &f;
  }
  TC_ASSIGN_OR_RETURN(auto fields, TemplateFields(name));
  if (templates_.size() >= 16) templates_.clear();  // bounded cache
  templates_.emplace_back(std::string(name), std::move(fields));
  return &templates_.back().second;
}

Result<void> EntryStream::Impl::Start() {
  started_ = true;
  TC_RETURN_IF_ERROR(Fill());
  const std::span<const std::uint8_t> head(buf_.data(), end_);
  ListFormat format = options_.format;
  if (format == ListFormat::kAuto) {
    // An ascii list starts with the PCR number in decimal; a binary one
    // with a u32 PCR index <= 23, whose first byte is never a digit.
    // Blank lines before it are skipped: a binary list's first bytes are
    // "\n\0\0\0" (PCR 10), so the byte after the newlines decides.
    std::size_t i = 0;
    while (i < head.size() && (head[i] == '\n' || head[i] == '\r' || head[i] == ' ')) ++i;
    format = (i < head.size() && head[i] >= '0' && head[i] <= '9') ? ListFormat::kAscii
                                                                   : ListFormat::kBinary;
  }
  summary_.format = format;
  summary_.byte_order = options_.byte_order == ByteOrder::kBig ? ByteOrder::kBig : ByteOrder::kLittle;
  if (options_.template_hash_alg) {
    summary_.template_hash_alg = *options_.template_hash_alg;
    digest_size_ = crypto::DigestSize(*options_.template_hash_alg);
  }
  if (format == ListFormat::kBinary && !head.empty()) {
    // The first entry must be whole to detect its layout: grow as needed.
    while (true) {
      auto detected = DetectBinary();
      if (detected.has_value() || eof_ || buf_.size() >= kBufferSize) return detected;
      buf_.resize(std::min(kBufferSize, buf_.size() * 4));
      TC_RETURN_IF_ERROR(Fill());
    }
  }
  return {};
}

// Finds the digest size and byte order under which the first entry parses
// and (preferably) its template digest checks out.
Result<void> EntryStream::Impl::DetectBinary() {
  std::vector<std::size_t> sizes = {20, 32, 48, 64};
  if (options_.template_hash_alg) sizes = {digest_size_};
  std::vector<ByteOrder> orders = {ByteOrder::kLittle, ByteOrder::kBig};
  if (options_.byte_order != ByteOrder::kAuto) orders = {options_.byte_order};
  std::optional<std::pair<std::size_t, ByteOrder>> first_valid;
  std::string first_error;
  for (const ByteOrder order : orders) {
    for (const std::size_t size : sizes) {
      ImaEntry e;
      std::size_t consumed = 0;
      auto step = ParseBinary(std::span(buf_).subspan(0, end_), 0, &e, size, order, &consumed);
      if (!step.has_value()) {
        if (first_error.empty()) first_error = step.error().message();
        continue;
      }
      if (*step != Step::kEntry) continue;
      const auto alg = options_.template_hash_alg ? options_.template_hash_alg
                                                  : crypto::HashAlgFromDigestSize(size);
      if (!alg) continue;
      bool checks = e.IsViolation();
      if (!checks) {
        auto h = crypto::Hash(*alg, e.hash_input);
        checks = h.has_value() && std::ranges::equal(h->bytes(), e.template_digest);
      }
      if (checks) {
        digest_size_ = size;
        summary_.byte_order = order;
        summary_.template_hash_alg = *alg;
        return {};
      }
      if (!first_valid) first_valid = {size, order};
    }
  }
  if (!first_valid) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("not an IMA measurement list: entry {} at offset 0 does not parse "
                            "as a binary entry{}",
                            index_, first_error.empty() ? "" : " (" + first_error + ")"));
  }
  digest_size_ = first_valid->first;
  summary_.byte_order = first_valid->second;
  summary_.template_hash_alg = options_.template_hash_alg
                                   ? *options_.template_hash_alg
                                   : *crypto::HashAlgFromDigestSize(digest_size_);
  return {};
}

Result<bool> EntryStream::Impl::Next(ImaEntry* entry) {
  if (!started_) TC_RETURN_IF_ERROR(Start());
  if (done_) return false;
  while (true) {
    if (begin_ == end_ && eof_) {
      done_ = true;
      return false;
    }
    Result<Step> step = Step::kNeedMore;
    if (summary_.format == ListFormat::kAscii) {
      step = ParseAscii(entry);
    } else {
      std::size_t consumed = 0;
      step = ParseBinary(std::span(buf_).subspan(begin_, end_ - begin_), buf_offset_ + begin_,
                         entry, digest_size_, summary_.byte_order, &consumed);
      begin_ += consumed;
    }
    if (!step.has_value()) {
      done_ = true;
      return Fail(std::move(step).error());
    }
    if (*step == Step::kEntry) {
      ++index_;
      ++summary_.entries;
      summary_.bytes = buf_offset_ + begin_;
      return true;
    }
    if (begin_ == end_ && eof_) {
      done_ = true;
      return false;
    }
    if (eof_) {
      // An incomplete binary entry at the end (ascii takes the last line
      // without its newline).
      const std::size_t left = end_ - begin_;
      std::string what = fmt::format("entry {} at offset {} is truncated ({} bytes left)",
                                     index_, buf_offset_ + begin_, left);
      done_ = true;
      if (options_.strict) return Fail(ErrorCode::kMalformed, std::move(what));
      summary_.trailing = std::move(what);
      summary_.bytes = buf_offset_ + end_;
      return false;
    }
    if (begin_ == 0 && end_ == buf_.size()) {
      if (buf_.size() >= kBufferSize) {
        return Fail(ErrorCode::kInternal, "IMA entry larger than the read buffer");
      }
      buf_.resize(std::min(kBufferSize, buf_.size() * 4));
    }
    TC_RETURN_IF_ERROR(Fill());
  }
}

Result<EntryStream::Impl::Step> EntryStream::Impl::ParseBinary(
    std::span<const std::uint8_t> avail, std::size_t base, ImaEntry* e, std::size_t digest_size,
    ByteOrder order, std::size_t* consumed) {
  ByteReader r(avail, base);
  const std::size_t start = r.offset();
  const auto where = [&] { return fmt::format("entry {} at offset {}", index_, start); };
  // Truncation (at any field) means "read more" unless at the end.
  const auto need = [&](std::size_t n) { return r.remaining() < n; };
  if (need(4)) return Step::kNeedMore;
  TC_ASSIGN_OR_RETURN(const std::uint32_t pcr, ReadU32(r, order));
  if (pcr > kMaxPcrIndex) {
    return Fail(ErrorCode::kMalformed, fmt::format("{}: PCR index {} is not 0-{}", where(), pcr,
                                                   kMaxPcrIndex));
  }
  if (need(digest_size + 4)) return Step::kNeedMore;
  TC_ASSIGN_OR_RETURN(const auto digest, r.Bytes(digest_size));
  TC_ASSIGN_OR_RETURN(const std::uint32_t name_len, ReadU32(r, order));
  if (name_len == 0 || name_len > kMaxTemplateNameSize) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{}: template name length {} is not 1-{}", where(), name_len,
                            kMaxTemplateNameSize));
  }
  if (need(name_len)) return Step::kNeedMore;
  TC_ASSIGN_OR_RETURN(const auto name_bytes, r.Bytes(name_len));
  if (!std::all_of(name_bytes.begin(), name_bytes.end(), IsTemplateNameChar)) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{}: template name '{}' is not a template name", where(),
                            PrintableAscii(name_bytes)));
  }
  const std::string_view name = AsText(name_bytes);
  *e = ImaEntry{};
  e->index = index_;
  e->offset = start;
  e->pcr = pcr;
  e->template_digest = digest;
  e->template_name = name;
  field_data_.clear();
  if (name == kLegacyTemplate) {
    // d: 20 bare bytes; n: u32 length and the name without NUL.
    if (need(kLegacyDigestSize + 4)) return Step::kNeedMore;
    TC_ASSIGN_OR_RETURN(const auto d, r.Bytes(kLegacyDigestSize));
    TC_ASSIGN_OR_RETURN(const std::uint32_t n_len, ReadU32(r, order));
    if (n_len > kLegacyNameMax) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("{}: 'ima' event name length {} exceeds {}", where(), n_len,
                              kLegacyNameMax));
    }
    if (need(n_len)) return Step::kNeedMore;
    TC_ASSIGN_OR_RETURN(const auto n, r.Bytes(n_len));
    field_data_.emplace_back(Field::kDigest, d);
    field_data_.emplace_back(Field::kEventName, n);
  } else {
    if (need(4)) return Step::kNeedMore;
    TC_ASSIGN_OR_RETURN(const std::uint32_t data_len, ReadU32(r, order));
    if (data_len > kMaxTemplateDataSize) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("{}: template data length {} exceeds the limit of {}", where(),
                              data_len, kMaxTemplateDataSize));
    }
    if (need(data_len)) return Step::kNeedMore;
    TC_ASSIGN_OR_RETURN(const auto data, r.Bytes(data_len));
    e->hash_input = data;
    // The fields: u32 length and bytes each.
    ByteReader fr(data, r.offset() - data_len);
    auto fields = Fields(name);
    if (fields.has_value()) {
      for (const Field f : **fields) {
        auto len = ReadU32(fr, order);
        if (!len.has_value() || *len > fr.remaining()) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("{}: template '{}': field {} overruns the template data",
                                  where(), name, FieldName(f)));
        }
        TC_ASSIGN_OR_RETURN(const auto bytes, fr.Bytes(*len));
        field_data_.emplace_back(f, bytes);
      }
      if (!fr.empty()) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("{}: template '{}': {} bytes after its last field", where(),
                                name, fr.remaining()));
      }
    }
    // An unknown template: its data is still hashed and replayed; its
    // fields are not decoded (the policy check reports the entry).
  }
  TC_RETURN_IF_ERROR(DecodeFields(e).or_else([&](Error err) -> Result<void> {
    return Fail(std::move(err).Wrap(where()));
  }));
  *consumed = r.offset() - start;
  return Step::kEntry;
}

// Fills the entry's decoded fields (and the legacy template's hash input)
// from field_data_.
Result<void> EntryStream::Impl::DecodeFields(ImaEntry* e) {
  std::span<const std::uint8_t> legacy_digest, legacy_name;
  for (const auto& [f, bytes] : field_data_) {
    switch (f) {
      case Field::kDigest: {
        legacy_digest = bytes;
        FileDigest d;
        d.bytes = bytes;
        d.alg = crypto::HashAlg::kSha1;
        e->digest = d;
        break;
      }
      case Field::kEventName:
        legacy_name = bytes;
        e->path = AsText(bytes);
        break;
      case Field::kDigestNg:
      case Field::kDigestNgV2:
      case Field::kModsigDigest: {
        if (bytes.empty() && f == Field::kModsigDigest) break;
        TC_ASSIGN_OR_RETURN(auto d, SplitDigestNg(bytes, f == Field::kDigestNgV2));
        (f == Field::kModsigDigest ? e->modsig_digest : e->digest) = d;
        break;
      }
      case Field::kEventNameNg: {
        // NUL-terminated; the path is the text before the NUL.
        std::string_view s = AsText(bytes);
        const std::size_t nul = s.find('\0');
        e->path = nul == std::string_view::npos ? s : s.substr(0, nul);
        break;
      }
      case Field::kSignature: e->signature = bytes; break;
      case Field::kBuffer: e->buffer = bytes; break;
      case Field::kModsig: e->modsig = bytes; break;
      default: break;
    }
  }
  if (e->template_name == kLegacyTemplate) {
    // Linux ima_calc_field_array_hash: for "ima", the digest and then the
    // name zero-padded to IMA_EVENT_NAME_LEN_MAX + 1 bytes, no lengths.
    hash_in_.assign(kLegacyDigestSize + kLegacyNameMax + 1, 0);
    if (legacy_digest.size() > kLegacyDigestSize || legacy_name.size() > kLegacyNameMax) {
      return Fail(ErrorCode::kMalformed, "'ima' template field too long");
    }
    std::copy(legacy_digest.begin(), legacy_digest.end(), hash_in_.begin());
    std::copy(legacy_name.begin(), legacy_name.end(),
              hash_in_.begin() + static_cast<std::ptrdiff_t>(kLegacyDigestSize));
    e->hash_input = hash_in_;
  }
  return {};
}

Result<EntryStream::Impl::Step> EntryStream::Impl::ParseAscii(ImaEntry* e) {
  std::string_view line;
  std::size_t start = 0;
  while (line.empty()) {  // blank lines carry nothing; read on
    if (begin_ == end_) return Step::kNeedMore;
    std::string_view avail(reinterpret_cast<const char*>(buf_.data()) + begin_, end_ - begin_);
    std::size_t nl = avail.find('\n');
    if (nl == std::string_view::npos) {
      if (!eof_) {
        if (avail.size() > kMaxLineSize) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("line {}: longer than {} bytes", line_ + 1, kMaxLineSize));
        }
        return Step::kNeedMore;
      }
      nl = avail.size();
    }
    start = buf_offset_ + begin_;
    ++line_;
    line = avail.substr(0, nl);
    if (line.size() > kMaxLineSize) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("line {}: longer than {} bytes", line_, kMaxLineSize));
    }
    begin_ += std::min(nl + 1, avail.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  const auto bad = [&](std::string_view what) {
    return Fail(ErrorCode::kMalformed, fmt::format("line {}: {}", line_, what));
  };
  const auto token = [&](std::string_view& s) {
    const std::size_t sp = s.find(' ');
    std::string_view t = s.substr(0, sp);
    s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    return t;
  };
  // The kernel prints the PCR as "%2d ": " 9 ..." for PCRs below 10.
  std::string_view rest = line;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::string_view pcr_text = token(rest);
  const std::string_view digest_text = token(rest);
  const std::string_view name = token(rest);
  if (pcr_text.empty() || digest_text.empty() || name.empty()) {
    return bad("expected 'PCR TEMPLATE-HASH TEMPLATE-NAME FIELDS...'");
  }
  std::uint32_t pcr = 0;
  if (pcr_text.size() > 2 ||
      !std::all_of(pcr_text.begin(), pcr_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad(fmt::format("PCR '{}' is not a number 0-{}", Printable(pcr_text), kMaxPcrIndex));
  }
  for (const char c : pcr_text) pcr = pcr * 10 + static_cast<std::uint32_t>(c - '0');
  if (pcr > kMaxPcrIndex) return bad(fmt::format("PCR {} is not 0-{}", pcr, kMaxPcrIndex));
  if (first_line_ && !options_.template_hash_alg) {
    const auto alg = crypto::HashAlgFromDigestSize(digest_text.size() / 2);
    if (!alg || digest_text.size() % 2 != 0) {
      return bad(fmt::format("template hash of {} hex digits fits no hash algorithm",
                             digest_text.size()));
    }
    summary_.template_hash_alg = *alg;
    digest_size_ = crypto::DigestSize(*alg);
  }
  first_line_ = false;
  template_digest_.clear();
  if (digest_text.size() != 2 * digest_size_ || !AppendHex(digest_text, template_digest_)) {
    return bad(fmt::format("template hash '{}' is not {} hex digits",
                           Printable(digest_text.substr(0, 200)), 2 * digest_size_));
  }
  if (name.size() > kMaxTemplateNameSize ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) { return IsTemplateNameChar(static_cast<std::uint8_t>(c)); })) {
    return bad(fmt::format("template name '{}' is not a template name",
                           Printable(name.substr(0, 300))));
  }
  *e = ImaEntry{};
  e->index = index_;
  e->line = line_;
  e->offset = start;
  e->pcr = pcr;
  e->template_digest = template_digest_;
  e->template_name = name;
  TC_RETURN_IF_ERROR(AsciiFields(rest, e).or_else([&](Error err) -> Result<void> {
    return Fail(std::move(err).Wrap(fmt::format("line {}", line_)));
  }));
  return Step::kEntry;
}

// Rebuilds the template data from the ascii fields (Linux
// ima_show_template_* in reverse), so that the template hash can be checked.
Result<void> EntryStream::Impl::AsciiFields(std::string_view rest, ImaEntry* e) {
  TC_ASSIGN_OR_RETURN(const std::vector<Field>* fields, Fields(e->template_name));
  // Fields are separated by single spaces (an empty field prints nothing).
  // The name may itself contain spaces: fields before it are taken from the
  // front, fields after it from the back.
  const auto name_pos = std::find_if(fields->begin(), fields->end(), [](Field f) {
    return f == Field::kEventName || f == Field::kEventNameNg;
  });
  std::vector<std::string_view>& texts = texts_;
  texts.resize(fields->size());
  const std::size_t n = fields->size();
  const std::size_t name_index =
      name_pos == fields->end() ? n : static_cast<std::size_t>(name_pos - fields->begin());
  std::string_view s = rest;
  for (std::size_t i = 0; i < std::min(name_index, n); ++i) {
    const std::size_t sp = s.find(' ');
    if (sp == std::string_view::npos && i + 1 < n) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("template '{}' has {} fields; the line has fewer",
                              e->template_name, n));
    }
    texts[i] = s.substr(0, sp);
    s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  }
  for (std::size_t i = n; i-- > name_index + 1;) {
    const std::size_t sp = s.rfind(' ');
    if (sp == std::string_view::npos) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("template '{}' has {} fields; the line has fewer",
                              e->template_name, n));
    }
    texts[i] = s.substr(sp + 1);
    s = s.substr(0, sp);
  }
  if (name_index < n) texts[name_index] = s;
  else if (!s.empty()) {
    return Fail(ErrorCode::kMalformed, "text after the template's last field");
  }

  const ByteOrder order = summary_.byte_order;
  data_.clear();
  data_.reserve(rest.size() + 64);
  std::vector<std::pair<std::size_t, std::size_t>>& spans = spans_;  // (offset, len) in data_
  spans.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const Field f = (*fields)[i];
    const std::string_view t = texts[i];
    const std::size_t len_at = data_.size();
    if (e->template_name != kLegacyTemplate) AppendU32(0, order, data_);
    const std::size_t at = data_.size();
    const auto bad_hex = [&] {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("field {} '{}' is not hex", FieldName(f), Printable(t.substr(0, 80))));
    };
    switch (f) {
      case Field::kDigest:
        if (!AppendHex(t, data_)) return bad_hex();
        break;
      case Field::kEventName:
        data_.insert(data_.end(), t.begin(), t.end());
        break;
      case Field::kEventNameNg:
        data_.insert(data_.end(), t.begin(), t.end());
        data_.push_back(0);
        break;
      case Field::kDigestNg:
      case Field::kDigestNgV2:
      case Field::kModsigDigest: {
        if (t.empty()) break;
        const std::size_t colon = t.rfind(':');
        if (colon == std::string_view::npos) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("field {} '{}' lacks 'algorithm:'", FieldName(f),
                                  Printable(t.substr(0, 80))));
        }
        data_.insert(data_.end(), t.begin(), t.begin() + static_cast<std::ptrdiff_t>(colon + 1));
        data_.push_back(0);
        if (!AppendHex(t.substr(colon + 1), data_)) return bad_hex();
        break;
      }
      case Field::kSignature:
      case Field::kBuffer:
      case Field::kModsig:
      case Field::kEvmSig:
      case Field::kXattrLengths:
      case Field::kXattrValues:
        if (!AppendHex(t, data_)) return bad_hex();
        break;
      case Field::kXattrNames:
      case Field::kInodeUid:
      case Field::kInodeGid:
      case Field::kInodeMode:
        // Printed as text or decimal whose binary width and terminator the
        // ascii list does not show: the template digest cannot be checked.
        data_.insert(data_.end(), t.begin(), t.end());
        e->hash_input_exact = false;
        break;
    }
    const std::size_t len = data_.size() - at;
    if (len > kMaxTemplateDataSize) {
      return Fail(ErrorCode::kMalformed, fmt::format("field {} too long", FieldName(f)));
    }
    if (e->template_name != kLegacyTemplate) {
      const auto v = static_cast<std::uint32_t>(len);
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t shift = order == ByteOrder::kBig ? 24 - 8 * k : 8 * k;
        data_[len_at + k] = static_cast<std::uint8_t>(v >> shift);
      }
    }
    spans.emplace_back(at, len);
  }
  field_data_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    field_data_.emplace_back((*fields)[i],
                             std::span<const std::uint8_t>(data_).subspan(spans[i].first,
                                                                          spans[i].second));
  }
  e->hash_input = data_;
  if (e->template_name == kLegacyTemplate) {
    if (field_data_[0].second.size() != kLegacyDigestSize) {
      return Fail(ErrorCode::kMalformed, "'ima' template digest is not 20 bytes");
    }
    if (field_data_[1].second.size() > kLegacyNameMax) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("'ima' event name longer than {} bytes", kLegacyNameMax));
    }
  }
  return DecodeFields(e);
}

}  // namespace tc::ima
