#include "tc/eventlog/integrity.h"

#include <gtest/gtest.h>

#include "tc/eventlog/test_util.h"

namespace tc::eventlog {
namespace {

using crypto::HashAlg;
using testing::LogBuilder;

RawEvent MakeEvent(std::uint32_t pcr, std::uint32_t type, const Bytes& data,
                   const Bytes& hashed) {
  RawEvent e;
  e.pcr = pcr;
  e.type = type;
  e.digests.push_back(*crypto::Hash(HashAlg::kSha256, hashed));
  e.data = data;
  return e;
}

TEST(CheckEventDataTest, SeparatorMatchesAndMismatches) {
  const Bytes zero(4, 0), ff(4, 0xFF);
  EXPECT_EQ(CheckEventData(MakeEvent(7, ev::kSeparator, zero, zero)).result, DataCheck::kMatches);
  auto bad = CheckEventData(MakeEvent(7, ev::kSeparator, zero, ff));
  EXPECT_EQ(bad.result, DataCheck::kMismatch);
  ASSERT_TRUE(bad.logged && bad.computed);
  EXPECT_EQ(*bad.computed, *crypto::Hash(HashAlg::kSha256, zero));
}

TEST(CheckEventDataTest, GrubCommandIsHashedWithoutPrefix) {
  const std::string s = "grub_cmd: linux /vmlinuz";
  const Bytes data(s.begin(), s.end() + 1);  // with NUL
  const Bytes cmd = {'l', 'i', 'n', 'u', 'x', ' ', '/', 'v', 'm', 'l', 'i', 'n', 'u', 'z'};
  auto c = CheckEventData(MakeEvent(8, ev::kIpl, data, cmd));
  EXPECT_EQ(c.result, DataCheck::kMatches);
  EXPECT_EQ(c.rule, "hash of the string after its prefix");
  // In PCR 9 GRUB logs file names whose digest is of the file.
  EXPECT_EQ(CheckEventData(MakeEvent(9, ev::kIpl, data, cmd)).result, DataCheck::kNotApplicable);
}

TEST(CheckEventDataTest, BootVariableMayHashOnlyVariableData) {
  Bytes var(16, 0xAB);  // GUID
  testing::PutU32(var, 8);
  testing::PutU32(var, 0);  // UnicodeNameLength = 8 (u64)
  testing::PutU32(var, 2);
  testing::PutU32(var, 0);  // VariableDataLength = 2
  for (char c : std::string("BootOrder")) {
    if (var.size() < 16 + 16 + 16) {
      var.push_back(static_cast<std::uint8_t>(c));
      var.push_back(0);
    }
  }
  var.push_back(1);
  var.push_back(0);
  auto c = CheckEventData(MakeEvent(1, ev::kEfiVariableBoot, var, Bytes{1, 0}));
  // Only VariableData is proven: the name and GUID could be anything.
  EXPECT_EQ(c.result, DataCheck::kMatchesPart);
  EXPECT_EQ(c.rule, "hash of VariableData only");
  // BOOT2 and AUTHORITY never hash VariableData alone.
  EXPECT_EQ(CheckEventData(MakeEvent(1, ev::kEfiVariableBoot2, var, Bytes{1, 0})).result,
            DataCheck::kMismatch);
  EXPECT_EQ(CheckEventData(MakeEvent(7, ev::kEfiVariableAuthority, var, Bytes{1, 0})).result,
            DataCheck::kMismatch);
  // A digest of anything else is a mismatch, naming the spec's rule.
  auto bad = CheckEventData(MakeEvent(7, ev::kEfiVariableDriverConfig, var, Bytes{2, 0}));
  EXPECT_EQ(bad.result, DataCheck::kMismatch);
  EXPECT_EQ(bad.rule, "hash of event data");
}

TEST(CheckEventDataTest, ImageLoadsAreNotApplicable) {
  EXPECT_EQ(CheckEventData(MakeEvent(4, ev::kEfiBootServicesApplication, Bytes(40, 0), Bytes{1}))
                .result,
            DataCheck::kNotApplicable);
}

TEST(FindDigestMismatchesTest, ListsEveryBadEvent) {
  Bytes b = LogBuilder::Agile({HashAlg::kSha256}).Event(4, ev::kEfiAction, "fine").bytes();
  // A separator whose digest is of other data.
  testing::PutU32(b, 4);
  testing::PutU32(b, ev::kSeparator);
  testing::PutU32(b, 1);
  testing::PutU16(b, 0x000B);
  auto d = *crypto::Hash(HashAlg::kSha256, AsBytes("x"));
  b.insert(b.end(), d.bytes().begin(), d.bytes().end());
  testing::PutU32(b, 4);
  b.insert(b.end(), 4, 0);
  auto log = EventLog::Parse(b);
  ASSERT_TRUE(log.has_value());
  auto m = FindDigestMismatches(*log);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].event_index, 2u);
}

}  // namespace
}  // namespace tc::eventlog
