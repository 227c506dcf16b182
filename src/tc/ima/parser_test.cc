// Parser tests on hand-built lists (layouts of Linux ima_fs.c). Golden
// bytes were written out by hand and their template digests computed
// outside this project (Python hashlib over the template data); everything
// else is built by test_util.h and compared with what the builder put in.

#include "tc/ima/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/ima/test_util.h"

namespace tc::ima {
namespace {

using crypto::HashAlg;
using testing::AsciiLine;
using testing::AsciiList;
using testing::BinaryEntry;
using testing::BinaryList;
using testing::ChunkedSource;
using testing::HashOf;
using testing::OwnedEntry;
using testing::ParseAll;
using testing::ParsedList;
using testing::RawBinaryEntry;
using testing::TestEntry;

Bytes Hex(std::string_view h) { return ParseHex(h).value(); }

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// sha256 of the empty string.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// sha1 of the empty string.
constexpr std::string_view kEmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

// One ima-ng entry: PCR 10, template digest = sha1 of its template data,
// "ima-ng", data = u32 40 "sha256:" NUL sha256("") | u32 10 "/bin/true" NUL.
constexpr std::string_view kGoldenImaNg =
    "0a000000"
    "00a1efde608d2adfd6683963a672c42116482eb8"
    "06000000" "696d612d6e67"
    "3a000000"
    "28000000" "7368613235363a00"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    "0a000000" "2f62696e2f7472756500";
constexpr std::string_view kGoldenImaNgDigest = "00a1efde608d2adfd6683963a672c42116482eb8";
constexpr std::size_t kGoldenImaNgDataOffset = 4 + 20 + 4 + 6 + 4;

// The legacy "ima" template: d = sha1("") bare, n = u32 10 "/sbin/init";
// template digest = sha1(d || "/sbin/init" zero-padded to 256 bytes).
constexpr std::string_view kGoldenLegacy =
    "0a000000"
    "778bcba0d55d762abef3d99978eadea624f0d6a4"
    "03000000" "696d61"
    "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    "0a000000" "2f7362696e2f696e6974";
constexpr std::string_view kGoldenLegacyDigest = "778bcba0d55d762abef3d99978eadea624f0d6a4";

ParsedList MustParse(std::span<const std::uint8_t> bytes, ParseOptions options = {}) {
  auto r = ParseAll(bytes, options);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.has_value() ? std::move(*r) : ParsedList{};
}
ParsedList MustParse(std::string_view text, ParseOptions options = {}) {
  return MustParse(AsBytes(text), options);
}

// ---- Golden entries --------------------------------------------------------

TEST(BinaryParserTest, GoldenImaNgEntry) {
  const Bytes list = Hex(kGoldenImaNg);
  const ParsedList p = MustParse(list);
  ASSERT_EQ(p.entries.size(), 1u);
  const OwnedEntry& e = p.entries[0];
  EXPECT_EQ(e.index, 0u);
  EXPECT_EQ(e.line, 0u);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.pcr, 10u);
  EXPECT_EQ(ToHex(e.template_digest), kGoldenImaNgDigest);
  EXPECT_EQ(e.template_name, "ima-ng");
  ASSERT_TRUE(e.has_digest);
  EXPECT_EQ(e.digest_alg_name, "sha256");
  EXPECT_EQ(e.digest_alg, HashAlg::kSha256);
  EXPECT_EQ(e.digest_type, "");
  EXPECT_EQ(ToHex(e.digest), kEmptySha256);
  EXPECT_EQ(e.path, "/bin/true");
  EXPECT_TRUE(e.signature.empty());
  EXPECT_TRUE(e.buffer.empty());
  EXPECT_FALSE(e.violation);
  EXPECT_TRUE(e.hash_input_exact);
  EXPECT_EQ(e.hash_input, Bytes(list.begin() + kGoldenImaNgDataOffset, list.end()));

  EXPECT_EQ(p.summary.format, ListFormat::kBinary);
  EXPECT_EQ(p.summary.byte_order, ByteOrder::kLittle);
  EXPECT_EQ(p.summary.template_hash_alg, HashAlg::kSha1);
  EXPECT_EQ(p.summary.entries, 1u);
  EXPECT_EQ(p.summary.bytes, list.size());
  EXPECT_FALSE(p.summary.trailing.has_value());
}

TEST(AsciiParserTest, GoldenImaNgLineRebuildsTheBinaryTemplateData) {
  const std::string line = std::string("10 ") + std::string(kGoldenImaNgDigest) +
                           " ima-ng sha256:" + std::string(kEmptySha256) + " /bin/true\n";
  const ParsedList p = MustParse(line);
  ASSERT_EQ(p.entries.size(), 1u);
  const OwnedEntry& e = p.entries[0];
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.pcr, 10u);
  EXPECT_EQ(ToHex(e.template_digest), kGoldenImaNgDigest);
  EXPECT_EQ(e.template_name, "ima-ng");
  EXPECT_EQ(e.digest_alg_name, "sha256");
  EXPECT_EQ(ToHex(e.digest), kEmptySha256);
  EXPECT_EQ(e.path, "/bin/true");
  const Bytes bin = Hex(kGoldenImaNg);
  EXPECT_EQ(e.hash_input, Bytes(bin.begin() + kGoldenImaNgDataOffset, bin.end()));
  EXPECT_EQ(p.summary.format, ListFormat::kAscii);
  EXPECT_EQ(p.summary.template_hash_alg, HashAlg::kSha1);
}

TEST(BinaryParserTest, GoldenLegacyImaEntryHashesThePaddedName) {
  const ParsedList p = MustParse(Hex(kGoldenLegacy));
  ASSERT_EQ(p.entries.size(), 1u);
  const OwnedEntry& e = p.entries[0];
  EXPECT_EQ(e.template_name, "ima");
  EXPECT_EQ(ToHex(e.template_digest), kGoldenLegacyDigest);
  ASSERT_TRUE(e.has_digest);
  EXPECT_EQ(e.digest_alg_name, "");
  EXPECT_EQ(e.digest_alg, HashAlg::kSha1);
  EXPECT_EQ(ToHex(e.digest), kEmptySha1);
  EXPECT_EQ(e.path, "/sbin/init");
  Bytes expected = Hex(kEmptySha1);
  const std::string name = "/sbin/init";
  expected.insert(expected.end(), name.begin(), name.end());
  expected.resize(20 + 256, 0);
  EXPECT_EQ(e.hash_input, expected);
  EXPECT_EQ(ToHex(HashOf(HashAlg::kSha1, e.hash_input)), kGoldenLegacyDigest);
}

TEST(AsciiParserTest, GoldenLegacyImaLine) {
  const std::string line = std::string("10 ") + std::string(kGoldenLegacyDigest) + " ima " +
                           std::string(kEmptySha1) + " /sbin/init";
  const ParsedList p = MustParse(line);
  ASSERT_EQ(p.entries.size(), 1u);
  const OwnedEntry& e = p.entries[0];
  EXPECT_EQ(e.template_name, "ima");
  EXPECT_EQ(e.digest_alg, HashAlg::kSha1);
  EXPECT_EQ(ToHex(e.digest), kEmptySha1);
  EXPECT_EQ(e.path, "/sbin/init");
  EXPECT_EQ(e.hash_input.size(), 276u);
  EXPECT_EQ(ToHex(HashOf(HashAlg::kSha1, e.hash_input)), kGoldenLegacyDigest);
}

// Each built-in template, binary and ascii, decodes to what was built.
TEST(ParserTest, TemplatesDecodeTheirFields) {
  const Bytes sig = Hex("030204aabbccdd0080deadbeef");
  const Bytes key = Hex("3082010a0282010100c0ffee");
  TestEntry ngv2;
  ngv2.template_name = "ima-ngv2";
  ngv2.fields = {{Field::kDigestNgV2, testing::DigestNgV2Field("verity", "sha256",
                                                              HashOf(HashAlg::kSha256, "v"))},
                 {Field::kEventNameNg, testing::NameNgField("/usr/bin/v")}};
  TestEntry custom;  // a template named by its field list
  custom.template_name = "d-ng|n-ng|buf";
  custom.fields = {{Field::kDigestNg, testing::DigestNgField("sha512", HashOf(HashAlg::kSha512, "c"))},
                   {Field::kEventNameNg, testing::NameNgField("kexec-cmdline")},
                   {Field::kBuffer, Bytes{'r', 'o', ' ', 'q'}}};
  const std::vector<TestEntry> entries = {
      testing::ImaNg("/usr/bin/bash", "bash", HashAlg::kSha1),
      testing::ImaSig("/usr/bin/ls", "ls", sig),
      testing::ImaBuf(".ima", key),
      testing::Legacy("/etc/fstab", "fstab"),
      ngv2,
      custom,
  };
  for (const bool ascii : {false, true}) {
    SCOPED_TRACE(ascii ? "ascii" : "binary");
    const Bytes bin = BinaryList(entries, HashAlg::kSha1);
    const std::string text = AsciiList(entries, HashAlg::kSha1);
    const ParsedList p = ascii ? MustParse(text) : MustParse(bin);
    ASSERT_EQ(p.entries.size(), entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      SCOPED_TRACE(entries[i].template_name);
      const OwnedEntry& e = p.entries[i];
      EXPECT_EQ(e.index, i);
      EXPECT_EQ(e.line, ascii ? i + 1 : 0u);
      EXPECT_EQ(e.template_name, entries[i].template_name);
      EXPECT_EQ(e.template_digest, testing::RecordedDigest(entries[i], HashAlg::kSha1));
      EXPECT_EQ(e.hash_input, testing::HashInput(entries[i]));
    }
    EXPECT_EQ(p.entries[0].digest_alg_name, "sha1");
    EXPECT_EQ(p.entries[0].digest, HashOf(HashAlg::kSha1, "bash"));
    EXPECT_EQ(p.entries[0].path, "/usr/bin/bash");
    EXPECT_EQ(p.entries[1].signature, sig);
    EXPECT_EQ(p.entries[1].path, "/usr/bin/ls");
    EXPECT_EQ(p.entries[2].buffer, key);
    EXPECT_EQ(p.entries[2].path, ".ima");
    EXPECT_EQ(p.entries[2].digest, HashOf(HashAlg::kSha256, key));
    EXPECT_EQ(p.entries[3].digest, HashOf(HashAlg::kSha1, "fstab"));
    EXPECT_EQ(p.entries[3].path, "/etc/fstab");
    EXPECT_EQ(p.entries[4].digest_type, "verity");
    EXPECT_EQ(p.entries[4].digest_alg_name, "sha256");
    EXPECT_EQ(p.entries[4].digest, HashOf(HashAlg::kSha256, "v"));
    EXPECT_EQ(p.entries[5].digest_alg, HashAlg::kSha512);
    EXPECT_EQ(p.entries[5].buffer, (Bytes{'r', 'o', ' ', 'q'}));
    EXPECT_EQ(p.entries[5].path, "kexec-cmdline");
  }
}

// ---- Detection -------------------------------------------------------------

TEST(ParserTest, DetectsAsciiAndBinary) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b")};
  EXPECT_EQ(MustParse(BinaryList(entries, HashAlg::kSha1)).summary.format, ListFormat::kBinary);
  EXPECT_EQ(MustParse(AsciiList(entries, HashAlg::kSha1)).summary.format, ListFormat::kAscii);
  // A format forced against the input fails.
  ParseOptions ascii;
  ascii.format = ListFormat::kAscii;
  EXPECT_FALSE(ParseAll(BinaryList(entries, HashAlg::kSha1), ascii).has_value());
  ParseOptions binary;
  binary.format = ListFormat::kBinary;
  EXPECT_FALSE(ParseAll(AsciiList(entries, HashAlg::kSha1), binary).has_value());
}

TEST(BinaryParserTest, DetectsBigEndianLists) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::Legacy("/b", "b"),
                                          testing::ImaSig("/c", "c", Hex("0302"))};
  const Bytes be = BinaryList(entries, HashAlg::kSha1, ByteOrder::kBig);
  const Bytes le = BinaryList(entries, HashAlg::kSha1, ByteOrder::kLittle);
  ASSERT_NE(be, le);
  const ParsedList p = MustParse(be);
  EXPECT_EQ(p.summary.byte_order, ByteOrder::kBig);
  ASSERT_EQ(p.entries.size(), 3u);
  EXPECT_EQ(p.entries[0].pcr, 10u);
  EXPECT_EQ(p.entries[0].path, "/a");
  EXPECT_EQ(p.entries[1].path, "/b");
  EXPECT_EQ(p.entries[2].signature, Hex("0302"));
  // Big-endian template data hashes with big-endian lengths.
  EXPECT_EQ(p.entries[0].hash_input, testing::TemplateData(entries[0], ByteOrder::kBig));
  EXPECT_EQ(p.entries[0].template_digest,
            testing::RecordedDigest(entries[0], HashAlg::kSha1, ByteOrder::kBig));
  EXPECT_EQ(MustParse(le).summary.byte_order, ByteOrder::kLittle);
  // Forced to the other order, the list does not parse.
  ParseOptions little;
  little.byte_order = ByteOrder::kLittle;
  EXPECT_FALSE(ParseAll(be, little).has_value());
}

TEST(BinaryParserTest, DetectsPerBankTemplateDigestSize) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b")};
  for (const HashAlg bank : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    SCOPED_TRACE(crypto::HashAlgName(bank));
    const ParsedList p = MustParse(BinaryList(entries, bank));
    EXPECT_EQ(p.summary.template_hash_alg, bank);
    ASSERT_EQ(p.entries.size(), 2u);
    EXPECT_EQ(p.entries[1].template_digest.size(), crypto::DigestSize(bank));
    EXPECT_EQ(p.entries[1].template_digest, HashOf(bank, testing::HashInput(entries[1])));
    EXPECT_EQ(p.entries[1].path, "/b");
  }
  // A per-bank sha256 list big-endian.
  const ParsedList be = MustParse(BinaryList(entries, HashAlg::kSha256, ByteOrder::kBig));
  EXPECT_EQ(be.summary.template_hash_alg, HashAlg::kSha256);
  EXPECT_EQ(be.summary.byte_order, ByteOrder::kBig);
}

TEST(AsciiParserTest, DetectsTemplateHashSizeFromTheFirstLine) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b")};
  const ParsedList p = MustParse(AsciiList(entries, HashAlg::kSha256));
  EXPECT_EQ(p.summary.template_hash_alg, HashAlg::kSha256);
  ASSERT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(p.entries[1].template_digest.size(), 32u);
  // A later line with another size is an error naming its line.
  const std::string mixed =
      AsciiLine(entries[0], HashAlg::kSha256) + "\n" + AsciiLine(entries[1], HashAlg::kSha1) + "\n";
  auto r = ParseAll(mixed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(Contains(r.error().message(), "line 2")) << r.error().message();
}

// ---- Ascii specifics -------------------------------------------------------

TEST(AsciiParserTest, PathsWithSpaces) {
  const Bytes sig = Hex("030204112233");
  const std::vector<TestEntry> entries = {
      testing::ImaNg("/home/u/My Documents/a b.txt", "x"),
      testing::ImaSig("/opt/Some App/bin/run me", "y", sig),
      testing::ImaSig("/srv/with space", "z", Bytes{}),  // empty sig: the line ends in ' '
      testing::ImaNg("/ leading and trailing ", "w"),
  };
  const std::string text = AsciiList(entries, HashAlg::kSha1);
  ASSERT_TRUE(Contains(text, "/srv/with space \n"));
  const ParsedList p = MustParse(text);
  ASSERT_EQ(p.entries.size(), 4u);
  EXPECT_EQ(p.entries[0].path, "/home/u/My Documents/a b.txt");
  EXPECT_EQ(p.entries[1].path, "/opt/Some App/bin/run me");
  EXPECT_EQ(p.entries[1].signature, sig);
  EXPECT_EQ(p.entries[2].path, "/srv/with space");
  EXPECT_TRUE(p.entries[2].signature.empty());
  EXPECT_EQ(p.entries[3].path, "/ leading and trailing ");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(p.entries[i].hash_input, testing::HashInput(entries[i])) << i;
  }
}

TEST(AsciiParserTest, SkipsBlankLinesAndCountsThem) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b")};
  const std::string text = AsciiLine(entries[0], HashAlg::kSha1) + "\n\n\n" +
                           AsciiLine(entries[1], HashAlg::kSha1) + "\n\n";
  const ParsedList p = MustParse(text);
  ASSERT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(p.entries[0].line, 1u);
  EXPECT_EQ(p.entries[1].line, 4u);
  EXPECT_EQ(p.entries[1].index, 1u);
  EXPECT_EQ(p.entries[1].path, "/b");
  EXPECT_FALSE(p.summary.trailing.has_value());
  // Forced ascii, a leading blank line is skipped too.
  ParseOptions ascii;
  ascii.format = ListFormat::kAscii;
  const ParsedList q = MustParse("\n" + text, ascii);
  ASSERT_EQ(q.entries.size(), 2u);
  EXPECT_EQ(q.entries[0].line, 2u);
  // Detected as ascii too (a binary list's "\n\0\0\0" is not followed by a
  // digit).
  const ParsedList r = MustParse("\n\r\n" + text);
  EXPECT_EQ(r.summary.format, ListFormat::kAscii);
  ASSERT_EQ(r.entries.size(), 2u);
}

TEST(AsciiParserTest, AcceptsCrlfAndAMissingFinalNewline) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"),
                                          testing::ImaSig("/b c", "b", Hex("0302aa"))};
  const ParsedList lf = MustParse(AsciiList(entries, HashAlg::kSha1));
  const ParsedList crlf = MustParse(AsciiList(entries, HashAlg::kSha1, "\r\n"));
  std::string no_final = AsciiList(entries, HashAlg::kSha1);
  no_final.pop_back();
  const ParsedList last = MustParse(no_final);
  ASSERT_EQ(lf.entries.size(), 2u);
  ASSERT_EQ(crlf.entries.size(), 2u);
  ASSERT_EQ(last.entries.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(lf.entries[i].SameContent(crlf.entries[i])) << i;
    EXPECT_TRUE(lf.entries[i].SameContent(last.entries[i])) << i;
  }
  EXPECT_EQ(crlf.entries[1].path, "/b c");
  EXPECT_EQ(crlf.entries[1].signature, Hex("0302aa"));
}

TEST(AsciiParserTest, MalformedLinesNameTheirLine) {
  const TestEntry a = testing::ImaNg("/a", "a");
  const std::string good = AsciiLine(a, HashAlg::kSha1);
  const std::string th = ToHex(testing::RecordedDigest(a, HashAlg::kSha1));
  const std::string dg = "sha256:" + ToHex(HashOf(HashAlg::kSha256, "a"));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"too few tokens", "10 " + th},
      {"PCR not a number", "x1 " + th + " ima-ng " + dg + " /a"},
      {"PCR 24", "24 " + th + " ima-ng " + dg + " /a"},
      {"PCR 100", "100 " + th + " ima-ng " + dg + " /a"},
      {"template hash not hex", "10 " + std::string(40, 'z') + " ima-ng " + dg + " /a"},
      {"template hash odd length", "10 " + th + "0 ima-ng " + dg + " /a"},
      {"template name with a bad char", "10 " + th + " ima.ng " + dg + " /a"},
      {"d-ng without algorithm", "10 " + th + " ima-ng " + ToHex(HashOf(HashAlg::kSha256, "a")) + " /a"},
      {"d-ng digest not hex", "10 " + th + " ima-ng sha256:xyz0 /a"},
      {"d-ng digest wrong size", "10 " + th + " ima-ng sha256:abcd /a"},
      {"ima-sig sig not hex", "10 " + th + " ima-sig " + dg + " /a zz"},
      {"ima d not 20 bytes", "10 " + th + " ima abcd /a"},
      {"ima name too long", "10 " + th + " ima " + std::string(kEmptySha1) + " /" + std::string(300, 'n')},
      {"template name too long", "10 " + th + " " + std::string(300, 'a') + " x"},
  };
  for (const auto& [what, line] : bad) {
    SCOPED_TRACE(what);
    const std::string text = good + "\n\n" + line + "\n" + good + "\n";
    auto r = ParseAll(text);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
    EXPECT_TRUE(Contains(r.error().message(), "line 3")) << r.error().message();
  }
}

TEST(AsciiParserTest, UnknownTemplateIsUnsupportedAndNamed) {
  const TestEntry a = testing::ImaNg("/a", "a");
  const std::string th = ToHex(testing::RecordedDigest(a, HashAlg::kSha1));
  const std::string text = AsciiLine(a, HashAlg::kSha1) + "\n10 " + th +
                           " my-template sha256:" + std::string(kEmptySha256) + " /x\n";
  auto r = ParseAll(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Contains(r.error().message(), "my-template")) << r.error().message();
  EXPECT_TRUE(Contains(r.error().message(), "line 2")) << r.error().message();
}

TEST(AsciiParserTest, OverlongLineIsMalformed) {
  const std::string good = AsciiLine(testing::ImaNg("/a", "a"), HashAlg::kSha1);
  std::string text = good + "\n10 " + std::string(kMaxLineSize + 10, 'a') + "\n";
  auto r = ParseAll(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(Contains(r.error().message(), "line 2")) << r.error().message();
}

// ---- Binary errors ---------------------------------------------------------

struct BinaryCase {
  std::string what;
  Bytes second;  // the malformed second entry
};

std::vector<BinaryCase> MalformedSecondEntries() {
  const Bytes digest(20, 0x5a);
  const Bytes data = testing::TemplateData(testing::ImaNg("/x", "x"));
  Bytes overrun = data;  // first field's length claims more than the data holds
  overrun[0] = 0xff;
  Bytes after = data;  // bytes after the last field
  after.insert(after.end(), {1, 2, 3});
  Bytes second_overrun = data;  // the last field's length one too many
  const std::size_t second_len_at = 4 + (data[0] | (data[1] << 8));
  second_overrun[second_len_at] = static_cast<std::uint8_t>(second_overrun[second_len_at] + 1);
  std::vector<BinaryCase> out = {
      {"template name length 0", RawBinaryEntry(10, digest, 0, "", 4, Bytes{0, 0, 0, 0})},
      {"template name length 256",
       RawBinaryEntry(10, digest, 256, std::string(256, 'a'), 0, Bytes{})},
      {"template name length 0xffffffff", RawBinaryEntry(10, digest, 0xffffffff, "", 0, Bytes{})},
      {"template name not a name", RawBinaryEntry(10, digest, 6, "ima ng", 0, Bytes{})},
      {"template data length above the cap",
       RawBinaryEntry(10, digest, 6, "ima-ng", static_cast<std::uint32_t>(kMaxTemplateDataSize + 1),
                      Bytes{})},
      {"template data length 0xffffffff", RawBinaryEntry(10, digest, 6, "ima-ng", 0xffffffff, Bytes{})},
      {"PCR 24", RawBinaryEntry(24, digest, 6, "ima-ng", static_cast<std::uint32_t>(data.size()), data)},
      {"PCR 0xffffffff",
       RawBinaryEntry(0xffffffff, digest, 6, "ima-ng", static_cast<std::uint32_t>(data.size()), data)},
      {"field overruns the template data",
       RawBinaryEntry(10, digest, 6, "ima-ng", static_cast<std::uint32_t>(overrun.size()), overrun)},
      {"last field overruns the template data",
       RawBinaryEntry(10, digest, 6, "ima-ng", static_cast<std::uint32_t>(second_overrun.size()),
                      second_overrun)},
      {"bytes after the last field",
       RawBinaryEntry(10, digest, 6, "ima-ng", static_cast<std::uint32_t>(after.size()), after)},
      {"too few fields",
       RawBinaryEntry(10, digest, 7, "ima-sig", static_cast<std::uint32_t>(data.size()), data)},
  };
  // The legacy template's name length above 255.
  Bytes legacy;
  testing::PutU32(legacy, 10);
  legacy.insert(legacy.end(), digest.begin(), digest.end());
  testing::PutU32(legacy, 3);
  legacy.insert(legacy.end(), {'i', 'm', 'a'});
  legacy.insert(legacy.end(), 20, 0x11);
  testing::PutU32(legacy, 256);
  legacy.insert(legacy.end(), 256, 'n');
  out.push_back({"ima name length 256", legacy});
  return out;
}

TEST(BinaryParserTest, MalformedLengthsAndFieldsNameEntryAndOffset) {
  const Bytes first = BinaryEntry(testing::ImaNg("/first", "1"), HashAlg::kSha1);
  const std::string where = "entry 1 at offset " + std::to_string(first.size());
  for (const BinaryCase& c : MalformedSecondEntries()) {
    SCOPED_TRACE(c.what);
    Bytes list = first;
    list.insert(list.end(), c.second.begin(), c.second.end());
    for (const bool strict : {false, true}) {
      ParseOptions options;
      options.strict = strict;
      auto r = ParseAll(list, options);
      ASSERT_FALSE(r.has_value()) << "strict=" << strict;
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
      EXPECT_TRUE(Contains(r.error().message(), where)) << r.error().message();
    }
  }
}

// The same faults in the only entry: the list is not recognised at all.
TEST(BinaryParserTest, MalformedFirstEntryIsMalformed) {
  for (const BinaryCase& c : MalformedSecondEntries()) {
    SCOPED_TRACE(c.what);
    auto r = ParseAll(c.second);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
    EXPECT_TRUE(Contains(r.error().message(), "offset 0")) << r.error().message();
  }
}

TEST(BinaryParserTest, TemplateDataOfExactlyTheCapIsAccepted) {
  // One buf field filling the template data to kMaxTemplateDataSize.
  const std::size_t fixed = 4 + 8 + 32 + 4 + 3 + 4;  // d-ng, "xy" NUL in n-ng, buf length
  const Bytes buf(kMaxTemplateDataSize - fixed, 0x41);
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaBuf("x", buf)};
  ASSERT_EQ(testing::TemplateData(entries[1]).size(), kMaxTemplateDataSize - 1);
  TestEntry at_cap = testing::ImaBuf("xy", buf);
  ASSERT_EQ(testing::TemplateData(at_cap).size(), kMaxTemplateDataSize);
  const ParsedList p =
      MustParse(BinaryList({entries[0], entries[1], at_cap}, HashAlg::kSha1));
  ASSERT_EQ(p.entries.size(), 3u);
  EXPECT_EQ(p.entries[2].buffer.size(), buf.size());
  EXPECT_EQ(p.entries[2].path, "xy");
}

TEST(BinaryParserTest, TruncatedEntryStrictFailsNonStrictReportsTrailing) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b")};
  const Bytes first = BinaryEntry(entries[0], HashAlg::kSha1);
  Bytes list = BinaryList(entries, HashAlg::kSha1);
  list.resize(list.size() - 5);
  ParseOptions strict;
  strict.strict = true;
  auto r = ParseAll(list, strict);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_TRUE(Contains(r.error().message(), "entry 1 at offset " + std::to_string(first.size())))
      << r.error().message();

  const ParsedList p = MustParse(list);
  ASSERT_EQ(p.entries.size(), 1u);
  EXPECT_EQ(p.entries[0].path, "/a");
  ASSERT_TRUE(p.summary.trailing.has_value());
  EXPECT_TRUE(Contains(*p.summary.trailing, "entry 1 at offset " + std::to_string(first.size())))
      << *p.summary.trailing;
  EXPECT_EQ(p.summary.entries, 1u);
}

// A negative test for every length field: a two-entry list cut at every
// byte offset.
TEST(BinaryParserTest, TruncationAtEveryOffset) {
  struct Layout {
    std::string what;
    std::vector<TestEntry> entries;
    HashAlg bank;
    ByteOrder order;
  };
  const std::vector<Layout> layouts = {
      {"ima-sig sha1 little",
       {testing::ImaSig("/usr/bin/a", "a", Hex("030201")), testing::ImaSig("/b", "b", Hex("0302"))},
       HashAlg::kSha1, ByteOrder::kLittle},
      {"ima legacy",
       {testing::Legacy("/sbin/init", "i"), testing::Legacy("/bin/sh", "s")},
       HashAlg::kSha1, ByteOrder::kLittle},
      {"ima-buf sha256 big",
       {testing::ImaBuf(".ima", Hex("3082aa")), testing::ImaNg("/x", "x")},
       HashAlg::kSha256, ByteOrder::kBig},
  };
  for (const Layout& l : layouts) {
    SCOPED_TRACE(l.what);
    const Bytes list = BinaryList(l.entries, l.bank, l.order);
    const std::size_t first_size = BinaryEntry(l.entries[0], l.bank, l.order).size();
    const ParsedList full = MustParse(list);
    ASSERT_EQ(full.entries.size(), 2u);
    for (std::size_t cut = 1; cut < list.size(); ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut));
      const std::span<const std::uint8_t> part(list.data(), cut);
      ParseOptions strict;
      strict.strict = true;
      auto s = ParseAll(part, strict);
      auto n = ParseAll(part);
      if (cut == first_size) {
        ASSERT_TRUE(s.has_value()) << s.error().message();
        EXPECT_EQ(s->entries.size(), 1u);
        ASSERT_TRUE(n.has_value());
        EXPECT_FALSE(n->summary.trailing.has_value());
        continue;
      }
      ASSERT_FALSE(s.has_value());
      EXPECT_EQ(s.error().code(), ErrorCode::kMalformed);
      const std::string where = cut < first_size
                                    ? "entry 0 at offset 0"
                                    : "entry 1 at offset " + std::to_string(first_size);
      EXPECT_TRUE(Contains(s.error().message(), where)) << s.error().message();
      if (cut > first_size) {
        ASSERT_TRUE(n.has_value()) << n.error().message();
        ASSERT_EQ(n->entries.size(), 1u);
        EXPECT_TRUE(n->entries[0].SameContent(full.entries[0]));
        ASSERT_TRUE(n->summary.trailing.has_value());
        EXPECT_TRUE(Contains(*n->summary.trailing, where)) << *n->summary.trailing;
      } else if (n.has_value()) {
        // Not even one entry: nothing parsed, and the bytes are reported.
        EXPECT_TRUE(n->entries.empty());
        EXPECT_TRUE(n->summary.trailing.has_value());
      } else {
        EXPECT_TRUE(Contains(n.error().message(), "offset 0")) << n.error().message();
      }
    }
  }
}

// ---- Streaming -------------------------------------------------------------

std::vector<TestEntry> ManyEntries(std::size_t n) {
  std::vector<TestEntry> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string path =
        "/usr/lib/x86_64-linux-gnu/some-library-directory/libexample-" + std::to_string(i) + ".so";
    if (i % 1000 == 7) {
      out.push_back(testing::ViolationEntry(path));
    } else if (i % 3 == 0) {
      out.push_back(testing::ImaSig(path, path, Bytes{0x03, 0x02, static_cast<std::uint8_t>(i)}));
    } else {
      out.push_back(testing::ImaNg(path, path));
    }
  }
  return out;
}

void ExpectSameEntries(const ParsedList& a, const ParsedList& b) {
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    ASSERT_TRUE(a.entries[i].SameContent(b.entries[i])) << "entry " << i;
    ASSERT_EQ(a.entries[i].index, b.entries[i].index);
    ASSERT_EQ(a.entries[i].offset, b.entries[i].offset);
    ASSERT_EQ(a.entries[i].line, b.entries[i].line);
  }
  EXPECT_EQ(a.summary.bytes, b.summary.bytes);
  EXPECT_EQ(a.summary.entries, b.summary.entries);
}

TEST(ParserStreamTest, BinaryListLargerThanTheBufferInOddPieces) {
  const std::vector<TestEntry> entries = ManyEntries(60000);
  const Bytes list = BinaryList(entries, HashAlg::kSha256);
  ASSERT_GT(list.size(), std::size_t{4} << 20);
  const ParsedList whole = MustParse(list);
  ChunkedSource pieces(list, {1, 3, 4093, 17, 65537, 2, 999983});
  auto chunked = ParseAll(pieces);
  ASSERT_TRUE(chunked.has_value()) << chunked.error().message();
  EXPECT_GT(pieces.reads(), 10u);
  ExpectSameEntries(whole, *chunked);
  ASSERT_EQ(whole.entries.size(), entries.size());
  EXPECT_EQ(whole.summary.bytes, list.size());
  EXPECT_EQ(whole.summary.template_hash_alg, HashAlg::kSha256);
  // The entries are the ones built, offsets included.
  std::size_t offset = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const OwnedEntry& e = whole.entries[i];
    ASSERT_EQ(e.index, i);
    ASSERT_EQ(e.offset, offset);
    ASSERT_EQ(e.template_digest, testing::RecordedDigest(entries[i], HashAlg::kSha256)) << i;
    ASSERT_EQ(e.hash_input, testing::HashInput(entries[i])) << i;
    offset += BinaryEntry(entries[i], HashAlg::kSha256).size();
  }
}

TEST(ParserStreamTest, AsciiListLargerThanTheBufferInOddPieces) {
  const std::vector<TestEntry> entries = ManyEntries(40000);
  const std::string text = AsciiList(entries, HashAlg::kSha1);
  ASSERT_GT(text.size(), std::size_t{4} << 20);
  const ParsedList whole = MustParse(text);
  ChunkedSource pieces(AsBytes(text), {7, 1, 8191, 3, 100003});
  auto chunked = ParseAll(pieces);
  ASSERT_TRUE(chunked.has_value()) << chunked.error().message();
  ExpectSameEntries(whole, *chunked);
  ASSERT_EQ(whole.entries.size(), entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(whole.entries[i].line, i + 1);
    ASSERT_EQ(whole.entries[i].hash_input, testing::HashInput(entries[i])) << i;
  }
}

TEST(ParserStreamTest, FirstIndexOffsetsEntryIndices) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b"),
                                          testing::ImaNg("/c", "c")};
  ParseOptions options;
  options.first_index = 1000;
  for (const bool ascii : {false, true}) {
    SCOPED_TRACE(ascii ? "ascii" : "binary");
    const ParsedList p = ascii ? MustParse(AsciiList(entries, HashAlg::kSha1), options)
                               : MustParse(BinaryList(entries, HashAlg::kSha1), options);
    ASSERT_EQ(p.entries.size(), 3u);
    EXPECT_EQ(p.entries[0].index, 1000u);
    EXPECT_EQ(p.entries[2].index, 1002u);
    EXPECT_EQ(p.entries[0].offset, 0u);
    EXPECT_EQ(p.summary.entries, 3u);
  }
  // Errors name the entry by its index in the whole list.
  Bytes list = BinaryList(entries, HashAlg::kSha1);
  list.resize(list.size() - 1);
  options.strict = true;
  auto r = ParseAll(list, options);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(Contains(r.error().message(), "entry 1002 at offset")) << r.error().message();
}

TEST(ParserStreamTest, EmptyInputHasNoEntries) {
  const ParsedList p = MustParse(Bytes{});
  EXPECT_TRUE(p.entries.empty());
  EXPECT_FALSE(p.summary.trailing.has_value());
}

}  // namespace
}  // namespace tc::ima
