#include "tc/eventlog/parser.h"

#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "tc/eventlog/test_util.h"

namespace tc::eventlog {
namespace {

using crypto::HashAlg;
using testing::LogBuilder;
using testing::PutU32;

bool HasQuirk(const EventLog& log, QuirkId id) {
  for (const auto& q : log.quirks()) {
    if (q.id == id) return true;
  }
  return false;
}

Bytes TwoBankLog() {
  return LogBuilder::Agile({HashAlg::kSha1, HashAlg::kSha256})
      .Event(0, ev::kSCrtmVersion, "v1")
      .Event(7, ev::kSeparator, Bytes(4, 0))
      .bytes();
}

TEST(EventLogParseTest, ParsesCryptoAgileLog) {
  auto log = EventLog::Parse(TwoBankLog());
  ASSERT_TRUE(log.has_value()) << log.error().message();
  EXPECT_EQ(log->format(), LogFormat::kCryptoAgile);
  EXPECT_EQ(log->register_kind(), RegisterKind::kTpmPcr);
  ASSERT_EQ(log->events().size(), 3u);
  EXPECT_EQ(log->banks().size(), 2u);
  const RawEvent& e = log->events()[2];
  EXPECT_EQ(e.pcr, 7u);
  EXPECT_EQ(e.type, ev::kSeparator);
  ASSERT_NE(e.DigestFor(HashAlg::kSha256), nullptr);
  EXPECT_EQ(*e.DigestFor(HashAlg::kSha256), *crypto::Hash(HashAlg::kSha256, Bytes(4, 0)));
  EXPECT_TRUE(log->quirks().empty());
}

TEST(EventLogParseTest, ParsesLegacyLog) {
  auto log = EventLog::Parse(
      LogBuilder::Legacy().Event(0, ev::kPostCode, "x").Event(4, ev::kSeparator, Bytes(4, 0)).bytes());
  ASSERT_TRUE(log.has_value()) << log.error().message();
  EXPECT_EQ(log->format(), LogFormat::kSha1Legacy);
  EXPECT_EQ(log->events().size(), 2u);
  EXPECT_FALSE(log->spec_id().has_value());
}

TEST(EventLogParseTest, RejectsEmptyLog) {
  auto log = EventLog::Parse({});
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(log.error().message().find("event 0 at offset 0"), std::string::npos);
}

TEST(EventLogParseTest, TruncatedEventNamesIndexAndOffset) {
  Bytes b = TwoBankLog();
  const std::size_t full = b.size();
  b.resize(full - 2);
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), ErrorCode::kMalformed);
  // Event 2 starts 4+4+4+(2+20)+(2+32)+4+4 = 76 bytes before the end.
  EXPECT_NE(log.error().message().find(fmt::format("event 2 at offset {}", full - 76)),
            std::string::npos)
      << log.error().message();
}

TEST(EventLogParseTest, EveryTruncationFailsCleanlyOrEndsOnABoundary) {
  const Bytes b = TwoBankLog();
  for (std::size_t n = 0; n < b.size(); ++n) {
    auto log = EventLog::Parse(Bytes(b.begin(), b.begin() + static_cast<long>(n)));
    if (log.has_value()) {
      std::size_t sum = 0;
      for (const auto& e : log->events()) sum += e.size;
      EXPECT_EQ(sum, n);
    } else {
      EXPECT_EQ(log.error().code(), ErrorCode::kMalformed);
    }
  }
}

TEST(EventLogParseTest, RejectsDataSizeBeyondEnd) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  PutU32(b, 0);
  PutU32(b, ev::kAction);
  PutU32(b, 1);
  testing::PutU16(b, 0x000B);
  b.insert(b.end(), 32, 0);
  PutU32(b, 0xFFFFFFF0u);
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("event 1"), std::string::npos);
  EXPECT_NE(log.error().message().find("exceeds the limit"), std::string::npos);
}

TEST(EventLogParseTest, RejectsDataSizeWithinCapButBeyondTheFile) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  PutU32(b, 0);
  PutU32(b, ev::kAction);
  PutU32(b, 1);
  testing::PutU16(b, 0x000B);
  b.insert(b.end(), 32, 0);
  PutU32(b, 100);  // 100 bytes announced, 3 present
  b.insert(b.end(), 3, 'x');
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("event 1"), std::string::npos);
  EXPECT_NE(log.error().message().find("runs past the end (3 left)"), std::string::npos)
      << log.error().message();
}

TEST(EventLogParseTest, RejectsAbsurdDigestCount) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  PutU32(b, 0);
  PutU32(b, ev::kAction);
  PutU32(b, 0x7FFFFFFF);
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("digest count 2147483647"), std::string::npos)
      << log.error().message();
}

TEST(EventLogParseTest, RejectsDigestOfUndeclaredAlgorithm) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  PutU32(b, 0);
  PutU32(b, ev::kAction);
  PutU32(b, 1);
  testing::PutU16(b, 0x0004);
  b.insert(b.end(), 20, 0);
  PutU32(b, 0);
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("0x0004"), std::string::npos);
}

TEST(EventLogParseTest, RejectsUnknownAlgorithmInSpecId) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  // Patch the algorithm id (after 32-byte header + 16 sig + 8 + 4 count).
  b[32 + 16 + 8 + 4] = 0x99;
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(log.error().message().find("unknown hash algorithm 0x0099"), std::string::npos);
}

TEST(EventLogParseTest, RejectsAbsurdAlgorithmCount) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  b[32 + 16 + 8] = 0xFF;
  b[32 + 16 + 8 + 3] = 0x7F;
  auto log = EventLog::Parse(b);
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("numberOfAlgorithms"), std::string::npos);
}

TEST(EventLogParseTest, RejectsMoreThanMaxEvents) {
  // Legacy events with no data are 32 bytes: kMaxEvents + 1 of them.
  Bytes one = LogBuilder::Legacy().Event(4, ev::kAction, Bytes{}).bytes();
  Bytes b;
  b.reserve(one.size() * (kMaxEvents + 1));
  for (std::size_t i = 0; i <= kMaxEvents; ++i) b.insert(b.end(), one.begin(), one.end());
  auto log = EventLog::Parse(std::move(b));
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("more than 1000000 events"), std::string::npos)
      << log.error().message();
}

TEST(EventLogParseTest, RejectsPcrIndexOutOfRange) {
  auto log = EventLog::Parse(
      LogBuilder::Agile({HashAlg::kSha256}).Event(24, ev::kAction, "x").bytes());
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("PCR index 24"), std::string::npos);
}

// Hand-built cases for every quirk (corpus_test.cc has the real logs).
TEST(QuirkTest, TableHasOneEntryPerId) {
  std::set<std::string_view> names;
  for (const auto& q : QuirkTable()) names.insert(q.name);
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(GetQuirkInfo(QuirkId::kTrailingPadding).name, "trailing-padding");
}

struct QuirkCase {
  const char* name;
  QuirkId id;
  Bytes log;
  ParseOptions options;
};

std::vector<QuirkCase> QuirkCases() {
  std::vector<QuirkCase> c;
  Bytes padded = TwoBankLog();
  padded.insert(padded.end(), 100, 0xFF);
  c.push_back({"padding", QuirkId::kTrailingPadding, padded, {}});
  c.push_back({"pcr-1", QuirkId::kPcrIndexAllOnes,
               LogBuilder::Agile({HashAlg::kSha256}).Event(0xFFFFFFFF, ev::kEventTag, "tp").bytes(),
               {}});
  c.push_back({"specid-type", QuirkId::kSpecIdNotNoAction,
               LogBuilder::Agile({HashAlg::kSha256}, ev::kPostCode).bytes(), {}});
  c.push_back({"post-code", QuirkId::kShortPostCode,
               LogBuilder::Agile({HashAlg::kSha256}).Event(0, ev::kPostCode, "ACPI DATA").bytes(),
               {}});
  c.push_back({"vendor-size", QuirkId::kSpecIdVendorSize,
               LogBuilder::Agile({HashAlg::kSha256}, ev::kNoAction, 4).bytes(), {}});
  c.push_back({"dup-separator", QuirkId::kDuplicateSeparator,
               LogBuilder::Agile({HashAlg::kSha256})
                   .Event(4, ev::kSeparator, Bytes(4, 0))
                   .Event(4, ev::kSeparator, Bytes(4, 0))
                   .bytes(),
               {}});
  c.push_back({"no-ebs", QuirkId::kMissingExitBootServices,
               LogBuilder::Agile({HashAlg::kSha256})
                   .Event(4, ev::kEfiAction, "Calling EFI Application from Boot Option")
                   .bytes(),
               {}});
  ParseOptions tpm2;
  tpm2.tpm_family = 2;
  c.push_back({"sha1-tpm2", QuirkId::kSha1LogFromTpm2,
               LogBuilder::Legacy().Event(0, ev::kSCrtmVersion, "v").bytes(), tpm2});
  return c;
}

TEST(QuirkTest, EachIsAcceptedAndLabelledByDefaultAndRejectedWhenStrict) {
  for (QuirkCase& c : QuirkCases()) {
    SCOPED_TRACE(c.name);
    auto log = EventLog::Parse(c.log, c.options);
    ASSERT_TRUE(log.has_value()) << log.error().message();
    EXPECT_TRUE(HasQuirk(*log, c.id));
    ParseOptions strict = c.options;
    strict.strict = true;
    auto rejected = EventLog::Parse(c.log, strict);
    ASSERT_FALSE(rejected.has_value());
    EXPECT_NE(rejected.error().message().find(GetQuirkInfo(c.id).name), std::string::npos)
        << rejected.error().message();
  }
}

TEST(QuirkTest, PaddingOffsetIsWhereTheFillStarts) {
  Bytes b = TwoBankLog();
  const std::size_t end = b.size();
  b.insert(b.end(), 7, 0xFF);
  auto log = EventLog::Parse(b);
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->quirks().size(), 1u);
  EXPECT_EQ(log->quirks()[0].offset, end);
  EXPECT_EQ(log->quirks()[0].Describe(),
            fmt::format("quirk: trailing-padding at offset {} (7 bytes of 0xff)", end));
  EXPECT_EQ(log->parsed_bytes(), end);
}

TEST(QuirkTest, CleanLogHasNoQuirksEvenWhenStrict) {
  ParseOptions strict;
  strict.strict = true;
  EXPECT_TRUE(EventLog::Parse(TwoBankLog(), strict).has_value());
}

TEST(EventLogParseTest, StartupLocalityIsRead) {
  Bytes loc = {'S', 't', 'a', 'r', 't', 'u', 'p', 'L', 'o', 'c', 'a', 'l', 'i', 't', 'y', 0, 3};
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256}).Event(0, ev::kNoAction, loc).bytes());
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->startup_locality(), 3);
}

TEST(EventLogParseTest, CcelDetectedFromHeaderIndex) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha384}).Event(1, ev::kSeparator, Bytes(4, 0)).bytes();
  b[0] = 1;  // Spec ID header in MR index 1, as TDX firmware writes it
  auto log = EventLog::Parse(b);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->register_kind(), RegisterKind::kTdxMr);
  ParseOptions tpm;
  tpm.kind = KindHint::kTpm;
  EXPECT_EQ(EventLog::Parse(b, tpm)->register_kind(), RegisterKind::kTpmPcr);
  // A TPM log cannot turn itself into a CCEL log by its header index alone.
  Bytes sha256 = LogBuilder::Agile({HashAlg::kSha256}).bytes();
  sha256[0] = 1;
  EXPECT_EQ(EventLog::Parse(sha256)->register_kind(), RegisterKind::kTpmPcr);
}

}  // namespace
}  // namespace tc::eventlog
