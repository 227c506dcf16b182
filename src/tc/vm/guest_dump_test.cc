#include "tc/vm/guest_dump.h"

#include <random>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/crypto/hash.h"

namespace tc::vm {
namespace {

using ::testing::HasSubstr;

std::string Sha256Hex(std::string_view data) {
  auto d = crypto::Hash(crypto::HashAlg::kSha256, AsBytes(data));
  EXPECT_TRUE(d.has_value());
  return d ? d->Hex() : std::string();
}

// One block as the guest writes it; base64 is given, so tests can break it.
std::string Block(std::string_view name, std::string_view data, std::string_view base64) {
  return fmt::format("@@BEGIN {} {} {}\n{}\n@@END {}\n", name, data.size(), Sha256Hex(data),
                     base64, name);
}

// "eventlog" is "Zm9vYmFy" in base64 ("foobar").
const std::string kEventlogBlock = Block("eventlog.bin", "foobar", "Zm9vYmFy");

Result<GuestDump> Parse(std::string_view capture) { return ParseGuestDump(AsBytes(capture)); }

std::string ToCrlf(std::string_view lf) {
  std::string out;
  for (const char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Parsing fails with kMalformed, naming line `line` and containing `what`.
void ExpectMalformedAt(std::string_view capture, std::size_t line, std::string_view what) {
  auto dump = Parse(capture);
  ASSERT_FALSE(dump.has_value()) << capture;
  EXPECT_EQ(dump.error().code(), ErrorCode::kMalformed);
  EXPECT_THAT(dump.error().message(), HasSubstr(fmt::format("line {} (offset ", line)));
  EXPECT_THAT(dump.error().message(), HasSubstr(std::string(what)));
}

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

TEST(ParseGuestDumpTest, ParsesDumpAfterSerialNoiseWithCrlf) {
  const std::string capture =
      "\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01H\r\n"
      "BdsDxe: loading Boot0001\r\n" +
      std::string("\xff\x00garbage @@BEGIN x\r\n", 21) +
      ToCrlf("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock +
             Block("cmdline.txt", "console=ttyS0 quiet\n", "Y29uc29sZT10dHlTMCBxdWlldAo=") +
             "@@DONE\n");
  auto dump = Parse(capture);
  ASSERT_TRUE(dump.has_value()) << dump.error().message();
  ASSERT_EQ(dump->files.size(), 2u);
  EXPECT_EQ(dump->files[0].name, "eventlog.bin");
  EXPECT_EQ(Str(dump->files[0].data), "foobar");
  ASSERT_NE(dump->Find("cmdline.txt"), nullptr);
  EXPECT_EQ(Str(dump->Find("cmdline.txt")->data), "console=ttyS0 quiet\n");
  EXPECT_EQ(dump->Find("ima.bin"), nullptr);
}

TEST(ParseGuestDumpTest, AcceptsEmptyLinesEmptyFilesAndNoFinalNewline) {
  const std::string capture = "\n@@TRUSTCHAIN-GUEST 1\n\n" + kEventlogBlock + "\n" +
                              fmt::format("@@BEGIN ima.bin 0 {}\n@@END ima.bin\n", Sha256Hex("")) +
                              "@@DONE";
  auto dump = Parse(capture);
  ASSERT_TRUE(dump.has_value()) << dump.error().message();
  ASSERT_NE(dump->Find("ima.bin"), nullptr);
  EXPECT_TRUE(dump->Find("ima.bin")->data.empty());
}

TEST(ParseGuestDumpTest, AcceptsBase64SplitAtAnyColumnAndUppercaseDigest) {
  std::string sha = Sha256Hex("foobar");
  for (char& c : sha) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string capture = "@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6 " + sha +
                              "\nZm9\nvYm\n\nFy\n@@END eventlog.bin\n@@DONE\n";
  auto dump = Parse(capture);
  ASSERT_TRUE(dump.has_value()) << dump.error().message();
  EXPECT_EQ(Str(dump->files[0].data), "foobar");
}

TEST(ParseGuestDumpTest, IgnoresBytesAfterDone) {
  const std::string capture = "@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock +
                              "@@DONE\n@@BEGIN nonsense\n\xff\xfe" + "@@DONE\n";
  auto dump = Parse(capture);
  ASSERT_TRUE(dump.has_value()) << dump.error().message();
  EXPECT_EQ(dump->files.size(), 1u);
}

TEST(ParseGuestDumpTest, RoundTripsRandomFiles) {
  std::mt19937 rng(6);
  const std::vector<std::string> optional = {"ima.bin", "cmdline.txt", "pcrs.txt"};
  for (int round = 0; round < 200; ++round) {
    GuestDump dump;
    std::vector<std::string> names = {"eventlog.bin"};
    for (const std::string& n : optional) {
      if (rng() % 2) names.push_back(n);
    }
    std::shuffle(names.begin(), names.end(), rng);
    for (const std::string& n : names) {
      // Sizes around the 57-byte line (76 base64 characters) and group ends.
      const std::size_t size = round < 60 ? static_cast<std::size_t>(round) : rng() % 5000;
      GuestFile f{n, Bytes(size)};
      for (auto& b : f.data) b = static_cast<std::uint8_t>(rng());
      dump.files.push_back(std::move(f));
    }
    std::string capture = EncodeGuestDump(dump);
    if (round % 2) capture = "noise\r\n" + ToCrlf(capture);
    auto parsed = Parse(capture);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    ASSERT_EQ(parsed->files.size(), dump.files.size());
    for (std::size_t i = 0; i < dump.files.size(); ++i) {
      EXPECT_EQ(parsed->files[i].name, dump.files[i].name);
      EXPECT_EQ(parsed->files[i].data, dump.files[i].data) << "round " << round;
    }
  }
}

TEST(ParseGuestDumpTest, EncodesBase64LinesOf76Characters) {
  GuestDump dump;
  dump.files.push_back({"eventlog.bin", Bytes(100, 0xab)});
  const std::string text = EncodeGuestDump(dump);
  // 100 bytes: 136 characters, a line of 76 and one of 60.
  std::size_t longest = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t lf = text.find('\n', start);
    ASSERT_NE(lf, std::string::npos);
    const std::string_view line(text.data() + start, lf - start);
    if (line.substr(0, 2) != "@@") longest = std::max(longest, line.size());
    start = lf + 1;
  }
  EXPECT_EQ(longest, 76u);
}

TEST(ParseGuestDumpTest, RejectsCaptureWithoutHeader) {
  ExpectMalformedAt("noise\nmore noise\n", 3, "no '@@TRUSTCHAIN-GUEST 1' header");
  ExpectMalformedAt("", 1, "header");
  // The header must start its line.
  ExpectMalformedAt("xx@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock + "@@DONE\n", 6, "header");
}

TEST(ParseGuestDumpTest, RejectsUnknownVersion) {
  ExpectMalformedAt("noise\n@@TRUSTCHAIN-GUEST 2\n" + kEventlogBlock + "@@DONE\n", 2,
                    "unknown version '@@TRUSTCHAIN-GUEST 2'");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST\n", 1, "unknown version");
}

TEST(ParseGuestDumpTest, RejectsUnknownName) {
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock +
                        Block("../etc/passwd", "foobar", "Zm9vYmFy") + "@@DONE\n",
                    5, "unknown file name '../etc/passwd'");
}

TEST(ParseGuestDumpTest, RejectsDuplicateName) {
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock + kEventlogBlock + "@@DONE\n", 5,
                    "duplicate file eventlog.bin");
}

TEST(ParseGuestDumpTest, RejectsSizeOverLimit) {
  const std::string sha = Sha256Hex("");
  ExpectMalformedAt(fmt::format("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin {} {}\n",
                                kMaxGuestFile + 1, sha),
                    2, "over the limit");
  ExpectMalformedAt(
      "@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 99999999999999999999999999999 " + sha + "\n",
      2, "over the limit");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin -1 " + sha + "\n", 2,
                    "not a number");
}

TEST(ParseGuestDumpTest, AcceptsSizeAtLimitInTheHeader) {
  // Only the header: the block then ends without its data.
  ExpectMalformedAt(fmt::format("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin {} {}\n",
                                kMaxGuestFile, Sha256Hex("")),
                    3, "has no @@END");
}

TEST(ParseGuestDumpTest, RejectsBadBeginLines) {
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6\n", 2, "expected '@@BEGIN");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin  6 " + Sha256Hex("") + "\n", 2,
                    "expected '@@BEGIN");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6 abcd\n", 2,
                    "not a sha256 in hex");
  ExpectMalformedAt(
      "@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6 " + std::string(64, 'g') + "\n", 2,
      "not a sha256 in hex");
}

TEST(ParseGuestDumpTest, RejectsInvalidBase64) {
  const std::string head = "@@TRUSTCHAIN-GUEST 1\n";
  ExpectMalformedAt(head + Block("eventlog.bin", "foobar", "Zm9v!mFy"), 3,
                    "invalid base64 character 0x21 (column 5)");
  ExpectMalformedAt(head + Block("eventlog.bin", "foobar", "Zm9vYmF"), 4,
                    "ends inside a 4-character group");
  ExpectMalformedAt(head + Block("eventlog.bin", "fo", "Zm8=Zm8="), 3, "after its padding");
  ExpectMalformedAt(head + Block("eventlog.bin", "fo", "Z=8="), 3, "misplaced base64 padding");
  ExpectMalformedAt(head + Block("eventlog.bin", "fo", "Zm=A"), 3, "data after padding");
  // "Zm9=" decodes to "fo" only with the low bits of '9' cleared ("Zm8=").
  ExpectMalformedAt(head + Block("eventlog.bin", "fo", "Zm9="), 3, "non-canonical");
}

TEST(ParseGuestDumpTest, RejectsBase64OfAnotherSize) {
  const std::string head = "@@TRUSTCHAIN-GUEST 1\n";
  // Declares 6 bytes, sends 3.
  ExpectMalformedAt(head + fmt::format("@@BEGIN eventlog.bin 6 {}\nZm9v\n@@END eventlog.bin\n",
                                       Sha256Hex("foobar")),
                    4, "decodes to 3 bytes, not the 6 declared at line 2");
  // Declares 3 bytes, sends 6: stops at the first byte too many.
  ExpectMalformedAt(
      head + fmt::format("@@BEGIN eventlog.bin 3 {}\nZm9v\nYmFy\n@@END eventlog.bin\n",
                         Sha256Hex("foo")),
      4, "more than the 3 bytes declared");
}

TEST(ParseGuestDumpTest, RejectsSha256Mismatch) {
  ExpectMalformedAt(fmt::format("@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6 {}\nZm9vYmFy\n"
                                "@@END eventlog.bin\n@@DONE\n",
                                Sha256Hex("foobaz")),
                    4, "sha256 mismatch");
}

TEST(ParseGuestDumpTest, RejectsBlockWithoutEnd) {
  const std::string head = "@@TRUSTCHAIN-GUEST 1\n@@BEGIN eventlog.bin 6 " +
                           Sha256Hex("foobar") + "\nZm9vYmFy\n";
  ExpectMalformedAt(head + "@@END ima.bin\n@@DONE\n", 4,
                    "block eventlog.bin (line 2) has no @@END");
  ExpectMalformedAt(head + "@@DONE\n", 4, "has no @@END");
  ExpectMalformedAt(head, 4, "has no @@END: incomplete");
  ExpectMalformedAt(head + Block("ima.bin", "foobar", "Zm9vYmFy") + "@@DONE\n", 4,
                    "has no @@END");
}

TEST(ParseGuestDumpTest, RejectsMissingDone) {
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock, 5,
                    "incomplete: the guest stopped before sending @@DONE");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock + "@@DON", 5,
                    "unexpected line '@@DON'");
}

TEST(ParseGuestDumpTest, RejectsMissingEventlog) {
  ExpectMalformedAt(
      "@@TRUSTCHAIN-GUEST 1\n" + Block("ima.bin", "foobar", "Zm9vYmFy") + "@@DONE\n", 5,
      "no eventlog.bin");
}

TEST(ParseGuestDumpTest, RejectsStrayLinesBetweenBlocks) {
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n" + kEventlogBlock + "Zm9vYmFy\n@@DONE\n", 5,
                    "unexpected line 'Zm9vYmFy' between blocks");
  ExpectMalformedAt("@@TRUSTCHAIN-GUEST 1\n@@END eventlog.bin\n", 2, "without @@BEGIN");
}

TEST(ParseGuestDumpTest, CutsLongUntrustedTextInMessages) {
  auto dump = Parse("@@TRUSTCHAIN-GUEST 1\n" + std::string(10000, 'x') + "\n");
  ASSERT_FALSE(dump.has_value());
  EXPECT_LT(dump.error().message().size(), 200u);
}

TEST(ParseGuestDumpTest, RejectsEveryTruncationOfAValidDump) {
  GuestDump dump;
  dump.files.push_back({"eventlog.bin", Bytes(200, 7)});
  dump.files.push_back({"pcrs.txt", Bytes(10, 'a')});
  const std::string capture = EncodeGuestDump(dump);
  // Every proper prefix that stops before the end of "@@DONE" is incomplete.
  const std::size_t done = capture.rfind("@@DONE");
  for (std::size_t n = 0; n < done + 6; ++n) {
    auto parsed = Parse(std::string_view(capture).substr(0, n));
    ASSERT_FALSE(parsed.has_value()) << n;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kMalformed);
    EXPECT_THAT(parsed.error().message(), HasSubstr("line ")) << n;
  }
  EXPECT_TRUE(Parse(std::string_view(capture).substr(0, done + 6)).has_value());
}

}  // namespace
}  // namespace tc::vm
