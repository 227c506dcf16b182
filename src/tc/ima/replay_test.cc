// Replay tests: expected PCR values are computed in the test from the
// entries it built (crypto::Hash and ExtendDigest over the template data),
// never taken from the Replayer.

#include "tc/ima/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/ima/parser.h"
#include "tc/ima/test_util.h"

namespace tc::ima {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using testing::BinaryList;
using testing::ExpectedPcr;
using testing::HashOf;
using testing::Pcr10;
using testing::TestEntry;

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// Parses `list` and adds every entry; returns each entry's check.
std::vector<TemplateCheck> AddAll(Replayer& r, std::span<const std::uint8_t> list,
                                  ParseOptions options = {}) {
  SpanSource source(list);
  EntryStream stream(source, options);
  std::vector<TemplateCheck> out;
  ImaEntry e;
  while (true) {
    auto more = stream.Next(&e);
    EXPECT_TRUE(more.has_value()) << more.error().message();
    if (!more.has_value() || !*more) break;
    auto c = r.Add(e);
    EXPECT_TRUE(c.has_value()) << c.error().message();
    if (!c.has_value()) break;
    out.push_back(*c);
  }
  return out;
}

Digest Extend(Digest pcr, std::span<const std::uint8_t> data) {
  EXPECT_TRUE(crypto::ExtendDigest(pcr, data).has_value());
  return pcr;
}

std::vector<TestEntry> FiveEntries() {
  return {testing::ImaNg("/init", "init"), testing::ImaNg("/bin/sh", "sh"),
          testing::ImaSig("/usr/bin/ls", "ls", ParseHex("030204aa").value()),
          testing::Legacy("/etc/passwd", "root:x:0:0"), testing::ImaNg("/usr/bin/cat", "cat")};
}

// ---- Template checks -------------------------------------------------------

TEST(ReplayTest, TemplateCheckOkMismatchViolation) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/usr/bin/aaa", "a"),
                                          testing::ImaNg("/usr/bin/bbb", "b"),
                                          testing::ViolationEntry("/var/log/x")};
  Bytes list = BinaryList(entries, HashAlg::kSha1);
  // Alter one byte of the second entry's path.
  const std::string path = "/usr/bin/bbb";
  const auto at = std::search(list.begin(), list.end(), path.begin(), path.end());
  ASSERT_NE(at, list.end());
  *(at + 9) = 'x';
  Replayer r(HashAlg::kSha1, {});
  const std::vector<TemplateCheck> checks = AddAll(r, list);
  EXPECT_EQ(checks, (std::vector<TemplateCheck>{TemplateCheck::kOk, TemplateCheck::kMismatch,
                                                TemplateCheck::kViolation}));
  EXPECT_EQ(r.entries(), 3u);
  // The altered entry's recorded digest is what the TPM got: the replay
  // still extends it.
  EXPECT_EQ(r.Value(10, HashAlg::kSha1), ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1));

  // The same from an ascii list.
  std::string text = testing::AsciiList(entries, HashAlg::kSha1);
  text.replace(text.find(path), path.size(), "/usr/bin/bxb");
  Replayer a(HashAlg::kSha1, {});
  EXPECT_EQ(AddAll(a, AsBytes(text)), checks);
}

TEST(ReplayTest, LegacyAndPerBankTemplatesCheck) {
  const std::vector<TestEntry> entries = FiveEntries();
  for (const HashAlg bank : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha512}) {
    SCOPED_TRACE(crypto::HashAlgName(bank));
    Replayer r(bank, {});
    const auto checks = AddAll(r, BinaryList(entries, bank));
    EXPECT_EQ(checks, std::vector<TemplateCheck>(entries.size(), TemplateCheck::kOk));
    EXPECT_EQ(r.Value(10, bank), ExpectedPcr(entries, bank, bank));
  }
}

TEST(ReplayTest, ViolationExtendsAllOnesInEveryBank) {
  const std::vector<TestEntry> entries = {testing::ViolationEntry("/tmp/open-for-write")};
  Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256, HashAlg::kSha384});
  EXPECT_EQ(AddAll(r, BinaryList(entries, HashAlg::kSha1)),
            std::vector<TemplateCheck>{TemplateCheck::kViolation});
  for (const HashAlg bank : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384}) {
    SCOPED_TRACE(crypto::HashAlgName(bank));
    const Bytes ff(crypto::DigestSize(bank), 0xff);
    // H(00..00 || ff..ff), computed here directly.
    Bytes in(crypto::DigestSize(bank), 0);
    in.insert(in.end(), ff.begin(), ff.end());
    const Digest expected = crypto::Hash(bank, in).value();
    EXPECT_EQ(r.Value(10, bank), expected);
    EXPECT_EQ(r.Value(10, bank), Extend(Digest(bank), ff));
  }
}

TEST(ReplayTest, OtherBanksExtendTheHashOfTheTemplateData) {
  const std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::Legacy("/b", "b")};
  Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256});
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  // sha1: the recorded digests; sha256: the sha256 of each entry's data
  // ("ima": digest and padded name).
  Digest sha1(HashAlg::kSha1), sha256(HashAlg::kSha256);
  for (const TestEntry& e : entries) {
    const Bytes in = testing::HashInput(e);
    sha1 = Extend(sha1, crypto::Hash(HashAlg::kSha1, in)->bytes());
    sha256 = Extend(sha256, crypto::Hash(HashAlg::kSha256, in)->bytes());
  }
  EXPECT_EQ(r.Value(10, HashAlg::kSha1), sha1);
  EXPECT_EQ(r.Value(10, HashAlg::kSha256), sha256);
  EXPECT_EQ(r.banks().size(), 2u);
  const pcr::PcrValues v = r.Values();
  ASSERT_NE(v.Find(HashAlg::kSha256, 10), nullptr);
  EXPECT_EQ(*v.Find(HashAlg::kSha256, 10), sha256);
}

TEST(ReplayTest, EntriesOfOtherPcrsExtendThosePcrs) {
  std::vector<TestEntry> entries = {testing::ImaNg("/a", "a"), testing::ImaNg("/b", "b"),
                                    testing::ImaNg("/c", "c")};
  entries[1].pcr = 11;
  Replayer r(HashAlg::kSha1, {});
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  EXPECT_EQ(r.Value(10, HashAlg::kSha1), ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 3, 10));
  EXPECT_EQ(r.Value(11, HashAlg::kSha1), ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 3, 11));
  EXPECT_EQ(r.Value(12, HashAlg::kSha1), Digest(HashAlg::kSha1));
  EXPECT_NE(r.Value(10, HashAlg::kSha1), r.Value(11, HashAlg::kSha1));
}

// ---- Matching a quote ------------------------------------------------------

TEST(ReplayTest, MatchedPrefixIsTheEntryCountWhereTheQuoteMatches) {
  const std::vector<TestEntry> entries = FiveEntries();
  const Bytes list = BinaryList(entries, HashAlg::kSha1);
  for (std::size_t k = 1; k <= entries.size(); ++k) {
    SCOPED_TRACE("k=" + std::to_string(k));
    Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256});
    const pcr::PcrValues quote =
        Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, k),
               ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256, k)});
    ASSERT_TRUE(r.ExpectPcr10(quote).has_value());
    AddAll(r, list);
    EXPECT_EQ(r.matched_prefix(), k);
    ASSERT_TRUE(r.matched_checkpoint().has_value());
    EXPECT_EQ(r.matched_checkpoint()->entries, k);
    const Digest* v = r.matched_checkpoint()->pcrs.Find(HashAlg::kSha256, 10);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256, k));
    EXPECT_EQ(r.entries(), entries.size());
  }
}

TEST(ReplayTest, QuoteOfABankOnlyInTheQuoteIsReplayed) {
  const std::vector<TestEntry> entries = FiveEntries();
  Replayer r(HashAlg::kSha1, {});
  ASSERT_TRUE(
      r.ExpectPcr10(Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha384, 2)})).has_value());
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  EXPECT_EQ(r.matched_prefix(), 2u);
}

TEST(ReplayTest, BothBanksMustMatch) {
  const std::vector<TestEntry> entries = FiveEntries();
  Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256});
  // sha1 after 2 entries, sha256 after 3: no prefix satisfies both.
  ASSERT_TRUE(r.ExpectPcr10(Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 2),
                                    ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256, 3)}))
                  .has_value());
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  EXPECT_FALSE(r.matched_prefix().has_value());
}

TEST(ReplayTest, QuoteAheadOfTheListMatchesNoPrefix) {
  std::vector<TestEntry> entries = FiveEntries();
  entries.push_back(testing::ImaNg("/later", "later"));
  const pcr::PcrValues quote = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1)});
  entries.pop_back();  // the list read before the sixth entry was added
  Replayer r(HashAlg::kSha1, {});
  ASSERT_TRUE(r.ExpectPcr10(quote).has_value());
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  EXPECT_FALSE(r.matched_prefix().has_value());
  EXPECT_FALSE(r.matched_checkpoint().has_value());
}

TEST(ReplayTest, QuotedZeroPcrNeverMatchesANonEmptyList) {
  Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256});
  ASSERT_TRUE(r.ExpectPcr10(Pcr10({Digest(HashAlg::kSha1), Digest(HashAlg::kSha256)})).has_value());
  AddAll(r, BinaryList(FiveEntries(), HashAlg::kSha1));
  EXPECT_FALSE(r.matched_prefix().has_value());
}

// ---- Checkpoints -----------------------------------------------------------

TEST(CheckpointTest, SerializeParseRoundTrip) {
  std::vector<TestEntry> entries = FiveEntries();
  entries[2].pcr = 11;
  Replayer r(HashAlg::kSha1, std::vector<HashAlg>{HashAlg::kSha256, HashAlg::kSha384});
  AddAll(r, BinaryList(entries, HashAlg::kSha1));
  const Checkpoint cp = r.MakeCheckpoint();
  EXPECT_EQ(cp.entries, 5u);
  const std::string text = cp.Serialize();
  EXPECT_EQ(text.rfind("trustchain-ima-checkpoint 1\n", 0), 0u) << text;
  EXPECT_TRUE(Contains(text, "entries 5\n")) << text;
  EXPECT_TRUE(Contains(text, "pcr 10 sha256 " +
                                 ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256).Hex()))
      << text;
  auto back = Checkpoint::Parse(text);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->entries, cp.entries);
  EXPECT_EQ(back->pcrs.banks, cp.pcrs.banks);
  EXPECT_EQ(back->pcrs.banks.size(), 3u);
  ASSERT_NE(back->pcrs.Find(HashAlg::kSha384, 11), nullptr);
  EXPECT_EQ(*back->pcrs.Find(HashAlg::kSha384, 11),
            ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha384, 5, 11));
}

TEST(CheckpointTest, ParseErrors) {
  const std::string magic = "trustchain-ima-checkpoint 1\n";
  const std::string value = "pcr 10 sha256 " + std::string(64, 'a') + "\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"empty", ""},
      {"bad magic", "trustchain-ima-checkpoint 2\nentries 1\n" + value},
      {"other file", "10 abcd ima-ng sha1:00 /x\n"},
      {"bad line", magic + "entries 1\nhello world\n" + value},
      {"entries not a number", magic + "entries x1\n" + value},
      {"bad hex", magic + "entries 1\npcr 10 sha256 " + std::string(64, 'g') + "\n"},
      {"short value", magic + "entries 1\npcr 10 sha256 abcd\n"},
      {"sha1 size under sha256", magic + "entries 1\npcr 10 sha256 " + std::string(40, 'a') + "\n"},
      {"unknown bank", magic + "entries 1\npcr 10 sha3_256 " + std::string(64, 'a') + "\n"},
      {"index 24", magic + "entries 1\npcr 24 sha256 " + std::string(64, 'a') + "\n"},
      {"index not a number", magic + "entries 1\npcr ten sha256 " + std::string(64, 'a') + "\n"},
      {"missing entries line", magic + value},
      {"no values", magic + "entries 3\n"},
  };
  for (const auto& [what, text] : bad) {
    SCOPED_TRACE(what);
    auto r = Checkpoint::Parse(text);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
  }
  // Line errors name their line.
  auto r = Checkpoint::Parse(magic + "entries 1\n" + value + "pcr 99 sha256 00\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(Contains(r.error().message(), "line 4")) << r.error().message();
}

TEST(CheckpointTest, ResumeThenAddTheRestEqualsOneFullReplay) {
  const std::vector<TestEntry> entries = FiveEntries();
  const std::vector<TestEntry> head(entries.begin(), entries.begin() + 2);
  const std::vector<TestEntry> tail(entries.begin() + 2, entries.end());
  const std::vector<HashAlg> banks = {HashAlg::kSha256};

  Replayer full(HashAlg::kSha1, banks);
  AddAll(full, BinaryList(entries, HashAlg::kSha1));

  Replayer first(HashAlg::kSha1, banks);
  AddAll(first, BinaryList(head, HashAlg::kSha1));
  auto cp = Checkpoint::Parse(first.MakeCheckpoint().Serialize());
  ASSERT_TRUE(cp.has_value());
  auto resumed = Replayer::Resume(HashAlg::kSha1, *cp);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message();
  EXPECT_EQ(resumed->entries(), 2u);
  ParseOptions options;
  options.first_index = 2;
  const auto checks = AddAll(*resumed, BinaryList(tail, HashAlg::kSha1), options);
  EXPECT_EQ(checks, std::vector<TemplateCheck>(3, TemplateCheck::kOk));
  EXPECT_EQ(resumed->entries(), 5u);
  EXPECT_EQ(resumed->Values().banks, full.Values().banks);
  EXPECT_EQ(resumed->Value(10, HashAlg::kSha256),
            ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256));
}

TEST(CheckpointTest, ResumedReplayMatchesAQuoteBetweenDeltas) {
  const std::vector<TestEntry> entries = FiveEntries();
  const std::vector<TestEntry> head(entries.begin(), entries.begin() + 2);
  const std::vector<TestEntry> tail(entries.begin() + 2, entries.end());
  Replayer first(HashAlg::kSha1, {});
  AddAll(first, BinaryList(head, HashAlg::kSha1));
  // The quote is where the checkpoint is: matched with no new entry.
  {
    auto r = Replayer::Resume(HashAlg::kSha1, first.MakeCheckpoint());
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(
        r->ExpectPcr10(Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 2)})).has_value());
    EXPECT_EQ(r->matched_prefix(), 2u);
  }
  // The quote is after the fourth entry: counted from the list's start.
  {
    auto r = Replayer::Resume(HashAlg::kSha1, first.MakeCheckpoint());
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(
        r->ExpectPcr10(Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 4)})).has_value());
    AddAll(*r, BinaryList(tail, HashAlg::kSha1));
    EXPECT_EQ(r->matched_prefix(), 4u);
  }
}

TEST(CheckpointTest, ResumeRefusesMissingBanks) {
  const std::vector<TestEntry> entries = FiveEntries();
  Replayer first(HashAlg::kSha1, {});
  AddAll(first, BinaryList(entries, HashAlg::kSha1));
  const Checkpoint cp = first.MakeCheckpoint();
  // The quote has a bank the checkpoint does not replay.
  auto r = Replayer::Resume(HashAlg::kSha1, cp);
  ASSERT_TRUE(r.has_value());
  auto e = r->ExpectPcr10(Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256)}));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  // The list's own bank is missing from the checkpoint.
  auto s = Replayer::Resume(HashAlg::kSha256, cp);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

// ---- boot_aggregate ----------------------------------------------------------

// Made-up firmware PCRs 0-9 in sha1 and sha256.
pcr::PcrValues Firmware() {
  pcr::PcrValues out;
  for (std::uint32_t i = 0; i < 10; ++i) {
    const std::string seed = "firmware pcr " + std::to_string(i);
    out.banks[HashAlg::kSha1][i] = crypto::Hash(HashAlg::kSha1, AsBytes(seed)).value();
    out.banks[HashAlg::kSha256][i] = crypto::Hash(HashAlg::kSha256, AsBytes(seed)).value();
  }
  return out;
}

// The hash of PCRs 0..last of `bank` concatenated (ima_calc_boot_aggregate).
Bytes Aggregate(const pcr::PcrValues& fw, HashAlg bank, std::uint32_t last) {
  Bytes in;
  for (std::uint32_t i = 0; i <= last; ++i) {
    const Digest* d = fw.Find(bank, i);
    const Digest v = d != nullptr ? *d : Digest(bank);
    in.insert(in.end(), v.bytes().begin(), v.bytes().end());
  }
  return HashOf(bank, in);
}

BootAggregateCheck Check(const TestEntry& first, const pcr::PcrValues& fw) {
  const Bytes list = BinaryList({first, testing::ImaNg("/init", "i")}, HashAlg::kSha1);
  SpanSource source(list);
  EntryStream stream(source, {});
  ImaEntry e;
  auto more = stream.Next(&e);
  EXPECT_TRUE(more.has_value() && *more);
  return CheckBootAggregate(e, fw);
}

TEST(BootAggregateTest, Sha256OverPcrs0To9Matches) {
  const pcr::PcrValues fw = Firmware();
  const Bytes agg = Aggregate(fw, HashAlg::kSha256, 9);
  const BootAggregateCheck c = Check(testing::BootAggregate(HashAlg::kSha256, agg), fw);
  EXPECT_TRUE(c.found);
  EXPECT_FALSE(c.no_tpm);
  EXPECT_TRUE(c.match) << c.reason;
  EXPECT_EQ(c.pcrs, "0-9");
  EXPECT_EQ(c.bank, "sha256");
  EXPECT_EQ(c.measured, "sha256:" + ToHex(agg));
  EXPECT_EQ(c.expected, "sha256:" + ToHex(agg));
}

TEST(BootAggregateTest, Sha256OverPcrs0To7MatchesForOldKernels) {
  const pcr::PcrValues fw = Firmware();
  const Bytes agg = Aggregate(fw, HashAlg::kSha256, 7);
  const BootAggregateCheck c = Check(testing::BootAggregate(HashAlg::kSha256, agg), fw);
  EXPECT_TRUE(c.match) << c.reason;
  EXPECT_EQ(c.pcrs, "0-7");
}

TEST(BootAggregateTest, PcrsTheFirmwareNeverExtendedCountAsZero) {
  pcr::PcrValues fw = Firmware();
  fw.banks[HashAlg::kSha256].erase(8);
  fw.banks[HashAlg::kSha256].erase(9);
  Bytes in;
  for (std::uint32_t i = 0; i < 8; ++i) {
    const auto b = fw.Find(HashAlg::kSha256, i)->bytes();
    in.insert(in.end(), b.begin(), b.end());
  }
  in.resize(in.size() + 64, 0);  // PCRs 8 and 9 at zero
  const Bytes agg = HashOf(HashAlg::kSha256, in);
  const BootAggregateCheck c = Check(testing::BootAggregate(HashAlg::kSha256, agg), fw);
  EXPECT_TRUE(c.match) << c.reason;
  EXPECT_EQ(c.pcrs, "0-9");
}

TEST(BootAggregateTest, Sha1UsesPcrs0To7Only) {
  const pcr::PcrValues fw = Firmware();
  const BootAggregateCheck ok =
      Check(testing::BootAggregate(HashAlg::kSha1, Aggregate(fw, HashAlg::kSha1, 7)), fw);
  EXPECT_TRUE(ok.match) << ok.reason;
  EXPECT_EQ(ok.pcrs, "0-7");
  EXPECT_EQ(ok.bank, "sha1");
  const BootAggregateCheck nine =
      Check(testing::BootAggregate(HashAlg::kSha1, Aggregate(fw, HashAlg::kSha1, 9)), fw);
  EXPECT_FALSE(nine.match);
  EXPECT_FALSE(nine.reason.empty());
}

TEST(BootAggregateTest, LegacyTemplateBootAggregateIsSha1) {
  const pcr::PcrValues fw = Firmware();
  TestEntry e;
  e.template_name = "ima";
  e.fields = {{Field::kDigest, Aggregate(fw, HashAlg::kSha1, 7)},
              {Field::kEventName, Bytes{'b', 'o', 'o', 't', '_', 'a', 'g', 'g', 'r', 'e', 'g',
                                        'a', 't', 'e'}}};
  const BootAggregateCheck c = Check(e, fw);
  EXPECT_TRUE(c.found);
  EXPECT_TRUE(c.match) << c.reason;
  EXPECT_EQ(c.bank, "sha1");
}

TEST(BootAggregateTest, AllZeroMeansNoTpm) {
  const BootAggregateCheck c =
      Check(testing::BootAggregate(HashAlg::kSha256, Bytes(32, 0)), Firmware());
  EXPECT_TRUE(c.found);
  EXPECT_TRUE(c.no_tpm);
  EXPECT_FALSE(c.match);
  EXPECT_FALSE(c.reason.empty());
}

TEST(BootAggregateTest, MismatchGivesAReason) {
  const pcr::PcrValues fw = Firmware();
  const Bytes wrong = HashOf(HashAlg::kSha256, "not the firmware");
  const BootAggregateCheck c = Check(testing::BootAggregate(HashAlg::kSha256, wrong), fw);
  EXPECT_TRUE(c.found);
  EXPECT_FALSE(c.no_tpm);
  EXPECT_FALSE(c.match);
  EXPECT_FALSE(c.reason.empty());
  EXPECT_EQ(c.measured, "sha256:" + ToHex(wrong));
  EXPECT_EQ(c.expected, "sha256:" + ToHex(Aggregate(fw, HashAlg::kSha256, 9)));
}

TEST(BootAggregateTest, FirmwareWithoutTheBankOrAnotherFirstEntry) {
  pcr::PcrValues fw = Firmware();
  const Bytes agg = Aggregate(fw, HashAlg::kSha256, 9);
  fw.banks.erase(HashAlg::kSha256);
  const BootAggregateCheck c = Check(testing::BootAggregate(HashAlg::kSha256, agg), fw);
  EXPECT_FALSE(c.match);
  EXPECT_FALSE(c.reason.empty());
  const BootAggregateCheck other = Check(testing::ImaNg("/init", "init"), Firmware());
  EXPECT_FALSE(other.found);
  EXPECT_FALSE(other.match);
}

}  // namespace
}  // namespace tc::ima
