#include "tc/vm/guest_dump.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/crypto/hash.h"

namespace tc::vm {
namespace {

constexpr std::string_view kMagic = "@@TRUSTCHAIN-GUEST";
constexpr std::string_view kHeader = "@@TRUSTCHAIN-GUEST 1";
constexpr std::string_view kBegin = "@@BEGIN ";
constexpr std::string_view kEnd = "@@END ";
constexpr std::string_view kDone = "@@DONE";
constexpr std::string_view kRequired = "eventlog.bin";
constexpr std::array<std::string_view, 4> kKnownNames = {
    "eventlog.bin", "ima.bin", "cmdline.txt", "pcrs.txt"};
constexpr std::size_t kSha256Size = 32;
// Untrusted text quoted in an error message is cut to this many bytes.
constexpr std::size_t kMaxQuoted = 64;
// What busybox and coreutils base64 write per line (and so do we).
constexpr std::size_t kBase64LineLength = 76;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Sextet value of each byte, or -1 (RFC 4648 §4 alphabet).
constexpr std::array<std::int8_t, 256> MakeBase64Table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < kBase64Alphabet.size(); ++i) {
    t[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}
constexpr std::array<std::int8_t, 256> kBase64Table = MakeBase64Table();

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Untrusted text for an error message: short and printable.
std::string Quote(std::string_view s) {
  const bool cut = s.size() > kMaxQuoted;
  std::string q = PrintableAscii(AsBytes(s.substr(0, kMaxQuoted)));
  return "'" + q + (cut ? "...'" : "'");
}

bool IsKnownName(std::string_view name) {
  return std::find(kKnownNames.begin(), kKnownNames.end(), name) != kKnownNames.end();
}

struct Line {
  std::string_view text;  // without the LF and any CRs before it
  std::size_t number;     // 1-based
  std::size_t offset;     // of the line's first byte in the capture
};

// Splits the capture into lines. Every byte is read through a ByteReader,
// so a line never reaches past the capture.
class LineReader {
 public:
  explicit LineReader(std::span<const std::uint8_t> capture) : in_(capture) {}

  // The next line, or nullopt at the end of the capture. The last line may
  // lack its LF.
  std::optional<Line> Next() {
    if (in_.empty()) return std::nullopt;
    const std::size_t start = in_.offset();
    auto rest = in_.Peek(in_.remaining());
    TC_CHECK(rest.has_value());  // Peek of what remains cannot fail
    const auto lf = std::find(rest->begin(), rest->end(), std::uint8_t{'\n'});
    const auto length = static_cast<std::size_t>(lf - rest->begin());
    const bool has_lf = lf != rest->end();
    auto bytes = in_.Bytes(length + (has_lf ? 1 : 0));
    TC_CHECK(bytes.has_value());
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), length);
    while (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    ++number_;
    return Line{text, number_, start};
  }

  // Where a line after the last one would be: for errors at the end.
  Line End() const { return Line{{}, number_ + 1, in_.offset()}; }

 private:
  ByteReader in_;
  std::size_t number_ = 0;
};

Error LineError(const Line& line, std::string_view what) {
  return Error(ErrorCode::kMalformed,
               fmt::format("line {} (offset {}): {}", line.number, line.offset, what));
}

// Decodes padded base64 fed line by line into out, never past limit bytes.
// Rejects non-canonical encodings (set bits after the last byte), so that
// every file has exactly one encoding.
class Base64Decoder {
 public:
  Base64Decoder(Bytes& out, std::size_t limit) : out_(out), limit_(limit) {}

  // The error (without position) or nullopt.
  std::optional<std::string> Feed(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (finished_) {
        return fmt::format("base64 continues after its padding (column {})", i + 1);
      }
      if (c == '=') {
        if (count_ < 2) return fmt::format("misplaced base64 padding (column {})", i + 1);
        ++pads_;
        quad_[count_++] = 0;
      } else {
        const std::int8_t v = kBase64Table[c];
        if (v < 0) {
          return fmt::format("invalid base64 character 0x{:02x} (column {})", c, i + 1);
        }
        if (pads_ > 0) return fmt::format("base64 data after padding (column {})", i + 1);
        quad_[count_++] = static_cast<std::uint8_t>(v);
      }
      if (count_ == 4) {
        if (auto error = EmitQuad()) return error;
      }
    }
    return std::nullopt;
  }

  // The error when the base64 stopped inside a 4-character group.
  std::optional<std::string> Finish() const {
    if (count_ != 0) {
      return fmt::format("base64 ends inside a 4-character group ({} left over)", count_);
    }
    return std::nullopt;
  }

 private:
  std::optional<std::string> EmitQuad() {
    const std::size_t n = 3 - pads_;
    if ((pads_ == 1 && (quad_[2] & 0x03) != 0) || (pads_ == 2 && (quad_[1] & 0x0f) != 0)) {
      return std::string("non-canonical base64 (bits set in the padding)");
    }
    if (n > limit_ - out_.size()) {
      return fmt::format("base64 decodes to more than the {} bytes declared", limit_);
    }
    const std::uint32_t v = (std::uint32_t{quad_[0]} << 18) | (std::uint32_t{quad_[1]} << 12) |
                            (std::uint32_t{quad_[2]} << 6) | std::uint32_t{quad_[3]};
    out_.push_back(static_cast<std::uint8_t>(v >> 16));
    if (n > 1) out_.push_back(static_cast<std::uint8_t>(v >> 8));
    if (n > 2) out_.push_back(static_cast<std::uint8_t>(v));
    count_ = 0;
    finished_ = pads_ > 0;
    return std::nullopt;
  }

  Bytes& out_;
  std::size_t limit_;
  std::array<std::uint8_t, 4> quad_{};
  std::size_t count_ = 0;
  std::size_t pads_ = 0;
  bool finished_ = false;
};

struct Block {
  std::string name;
  std::size_t size = 0;
  std::array<std::uint8_t, kSha256Size> sha256{};
  std::size_t begin_line = 0;
};

// Splits s at single spaces.
std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t space = s.find(' ');
    out.push_back(s.substr(0, space));
    if (space == std::string_view::npos) return out;
    s.remove_prefix(space + 1);
  }
}

// "@@BEGIN <name> <size> <sha256-hex>"
Result<Block> ParseBegin(const Line& line, const GuestDump& dump) {
  const std::vector<std::string_view> f = Fields(line.text.substr(kBegin.size()));
  if (f.size() != 3 || f[0].empty() || f[1].empty()) {
    return Fail(LineError(line, "expected '@@BEGIN <name> <size> <sha256>', got " +
                                    Quote(line.text)));
  }
  Block block;
  block.begin_line = line.number;
  if (!IsKnownName(f[0])) {
    return Fail(LineError(line, "unknown file name " + Quote(f[0])));
  }
  block.name = std::string(f[0]);
  if (dump.Find(block.name) != nullptr) {
    return Fail(LineError(line, "duplicate file " + block.name));
  }
  for (const char c : f[1]) {
    if (c < '0' || c > '9') {
      return Fail(LineError(line, block.name + ": size " + Quote(f[1]) + " is not a number"));
    }
    // Stops before overflow: kMaxGuestFile * 10 + 9 fits in size_t.
    block.size = block.size * 10 + static_cast<std::size_t>(c - '0');
    if (block.size > kMaxGuestFile) {
      return Fail(LineError(line, fmt::format("{}: size {} is over the limit of {} bytes",
                                              block.name, Quote(f[1]), kMaxGuestFile)));
    }
  }
  if (f[2].size() != 2 * kSha256Size || !DecodeHex(f[2], block.sha256)) {
    return Fail(LineError(line, block.name + ": " + Quote(f[2]) + " is not a sha256 in hex"));
  }
  return block;
}

// Reads a block's base64 lines up to its "@@END <name>" and checks it.
Result<GuestFile> ReadBlock(LineReader& lines, const Block& block, std::size_t input_left) {
  GuestFile file;
  file.name = block.name;
  // Never more than the rest of the capture could decode to.
  file.data.reserve(std::min(block.size, input_left / 4 * 3 + 3));
  Base64Decoder decoder(file.data, block.size);
  const std::string end = std::string(kEnd) + block.name;
  while (const std::optional<Line> line = lines.Next()) {
    if (line->text == end) {
      if (auto error = decoder.Finish()) {
        return Fail(LineError(*line, block.name + ": " + *error));
      }
      if (file.data.size() != block.size) {
        return Fail(LineError(
            *line, fmt::format("{}: base64 decodes to {} bytes, not the {} declared at line {}",
                               block.name, file.data.size(), block.size, block.begin_line)));
      }
      auto digest = crypto::Hash(crypto::HashAlg::kSha256, file.data);
      if (!digest.has_value()) return Fail(std::move(digest).error());
      if (!std::equal(block.sha256.begin(), block.sha256.end(), digest->bytes().begin(),
                      digest->bytes().end())) {
        return Fail(LineError(
            *line, fmt::format("{}: sha256 mismatch: line {} declared {}, the data has {}",
                               block.name, block.begin_line, ToHex(block.sha256),
                               digest->Hex())));
      }
      return file;
    }
    if (StartsWith(line->text, "@@")) {
      return Fail(LineError(*line, fmt::format("block {} (line {}) has no @@END before {}",
                                               block.name, block.begin_line,
                                               Quote(line->text))));
    }
    if (auto error = decoder.Feed(line->text)) {
      return Fail(LineError(*line, block.name + ": " + *error));
    }
  }
  return Fail(LineError(lines.End(),
                        fmt::format("block {} (line {}) has no @@END: incomplete: the guest "
                                    "stopped before sending @@DONE",
                                    block.name, block.begin_line)));
}

void AppendBase64(std::span<const std::uint8_t> data, std::string& out) {
  std::size_t column = 0;
  auto put = [&](char c) {
    out.push_back(c);
    if (++column == kBase64LineLength) {
      out.push_back('\n');
      column = 0;
    }
  };
  std::size_t i = 0;
  for (; data.size() - i >= 3; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    put(kBase64Alphabet[(v >> 18) & 63]);
    put(kBase64Alphabet[(v >> 12) & 63]);
    put(kBase64Alphabet[(v >> 6) & 63]);
    put(kBase64Alphabet[v & 63]);
  }
  if (const std::size_t left = data.size() - i; left > 0) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (left == 2) v |= std::uint32_t{data[i + 1]} << 8;
    put(kBase64Alphabet[(v >> 18) & 63]);
    put(kBase64Alphabet[(v >> 12) & 63]);
    put(left == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    put('=');
  }
  if (column != 0) out.push_back('\n');
}

}  // namespace

const GuestFile* GuestDump::Find(std::string_view name) const {
  for (const GuestFile& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<GuestDump> ParseGuestDump(std::span<const std::uint8_t> capture) {
  if (capture.size() > kMaxGuestDump) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("capture of {} bytes is over the limit of {} bytes",
                            capture.size(), kMaxGuestDump));
  }
  LineReader lines(capture);

  // Serial noise up to the header.
  while (true) {
    const std::optional<Line> line = lines.Next();
    if (!line) {
      return Fail(LineError(lines.End(), "no '@@TRUSTCHAIN-GUEST 1' header line"));
    }
    if (line->text == kHeader) break;
    if (line->text == kMagic || StartsWith(line->text, std::string(kMagic) + " ")) {
      return Fail(LineError(*line, "unknown version " + Quote(line->text) +
                                       " (this parser reads '@@TRUSTCHAIN-GUEST 1')"));
    }
  }

  GuestDump dump;
  while (const std::optional<Line> line = lines.Next()) {
    if (line->text.empty()) continue;
    if (line->text == kDone) {
      if (dump.Find(kRequired) == nullptr) {
        return Fail(LineError(*line, "no eventlog.bin before @@DONE"));
      }
      return dump;
    }
    if (StartsWith(line->text, kBegin)) {
      TC_ASSIGN_OR_RETURN(const Block block, ParseBegin(*line, dump));
      const std::size_t input_left = capture.size() - (line->offset + line->text.size());
      TC_ASSIGN_OR_RETURN(GuestFile file, ReadBlock(lines, block, input_left));
      dump.files.push_back(std::move(file));
      continue;
    }
    if (StartsWith(line->text, kEnd)) {
      return Fail(LineError(*line, Quote(line->text) + " without @@BEGIN"));
    }
    return Fail(LineError(*line, "unexpected line " + Quote(line->text) + " between blocks"));
  }
  return Fail(LineError(lines.End(), "incomplete: the guest stopped before sending @@DONE"));
}

std::string EncodeGuestDump(const GuestDump& dump) {
  std::string out = std::string(kHeader) + "\n";
  for (const GuestFile& f : dump.files) {
    auto digest = crypto::Hash(crypto::HashAlg::kSha256, f.data);
    TC_CHECK(digest.has_value());  // every OpenSSL 3 build has SHA-256
    out += fmt::format("{}{} {} {}\n", kBegin, f.name, f.data.size(), digest->Hex());
    AppendBase64(f.data, out);
    out += fmt::format("{}{}\n", kEnd, f.name);
  }
  out += std::string(kDone) + "\n";
  return out;
}

}  // namespace tc::vm
