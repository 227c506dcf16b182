// End-to-end verification over hand-built lists. Quotes and boot_aggregate
// values are computed here from the built entries.

#include "tc/ima/verify.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/ima/keylime_policy.h"
#include "tc/ima/test_util.h"

namespace tc::ima {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using testing::AsciiList;
using testing::BinaryList;
using testing::ExpectedPcr;
using testing::HashOf;
using testing::Pcr10;
using testing::TestEntry;

// Made-up firmware PCRs 0-9 (sha256) and the boot_aggregate they imply.
pcr::PcrValues Firmware() {
  pcr::PcrValues out;
  for (std::uint32_t i = 0; i < 10; ++i) {
    out.banks[HashAlg::kSha256][i] =
        crypto::Hash(HashAlg::kSha256, AsBytes("pcr" + std::to_string(i))).value();
  }
  return out;
}
Bytes BootAggregateOf(const pcr::PcrValues& fw) {
  Bytes in;
  for (std::uint32_t i = 0; i < 10; ++i) {
    const auto b = fw.Find(HashAlg::kSha256, i)->bytes();
    in.insert(in.end(), b.begin(), b.end());
  }
  return HashOf(HashAlg::kSha256, in);
}

std::vector<TestEntry> System() {
  return {testing::BootAggregate(HashAlg::kSha256, BootAggregateOf(Firmware())),
          testing::ImaNg("/init", "init"),
          testing::ImaNg("/usr/bin/bash", "bash"),
          testing::ImaSig("/usr/bin/ls", "ls", ParseHex("030204aa").value()),
          testing::ImaNg("/etc/ld.so.cache", "cache")};
}

// Every entry of `entries` allowed with its digest.
Allowlist AllowAll(const std::vector<TestEntry>& entries) {
  Allowlist a;
  for (const TestEntry& e : entries) {
    const Bytes& d = e.fields[0].data;
    const auto nul = std::find(d.begin(), d.end(), std::uint8_t{0});
    const Bytes digest(nul + 1, d.end());
    Bytes name = e.fields[1].data;
    name.pop_back();  // the NUL
    a.AllowDigest(std::string(name.begin(), name.end()), digest);
  }
  return a;
}

Result<VerifyResult> VerifyList(std::span<const std::uint8_t> list, const VerifyOptions& options) {
  SpanSource source(list);
  return Verify(source, options);
}
Result<VerifyResult> VerifyList(std::string_view list, const VerifyOptions& options) {
  return VerifyList(AsBytes(list), options);
}

TEST(VerifyTest, CleanListIsOk) {
  const std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  VerifyOptions o;
  o.banks = {HashAlg::kSha256};
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1),
                    ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256)});
  o.firmware = Firmware();
  o.allowlist = &allow;
  for (const bool ascii : {false, true}) {
    SCOPED_TRACE(ascii ? "ascii" : "binary");
    auto r = ascii ? VerifyList(AsciiList(entries, HashAlg::kSha1), o)
                   : VerifyList(BinaryList(entries, HashAlg::kSha1), o);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(r->ok());
    EXPECT_TRUE(r->violations.empty());
    EXPECT_EQ(r->violations_total, 0u);
    EXPECT_EQ(r->entries_read, entries.size());
    EXPECT_EQ(r->entries_checked, entries.size());
    EXPECT_EQ(r->unattested, 0u);
    EXPECT_EQ(r->allowed, entries.size());
    EXPECT_EQ(r->checks.ok, entries.size());
    EXPECT_EQ(r->matched_prefix, entries.size());
    ASSERT_TRUE(r->boot_aggregate.has_value());
    EXPECT_TRUE(r->boot_aggregate->match);
    ASSERT_NE(r->replayed.Find(HashAlg::kSha256, 10), nullptr);
    EXPECT_EQ(*r->replayed.Find(HashAlg::kSha256, 10),
              ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256));
  }
}

TEST(VerifyTest, TamperedFileDigestIsExactlyOneViolation) {
  const std::vector<TestEntry> trusted = System();
  const Allowlist allow = AllowAll(trusted);
  std::vector<TestEntry> entries = trusted;
  entries[3] = testing::ImaSig("/usr/bin/ls", "ls with a backdoor", ParseHex("030204aa").value());
  VerifyOptions o;
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1)});
  o.allowlist = &allow;
  auto r = VerifyList(AsciiList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->ok());
  ASSERT_EQ(r->violations.size(), 1u);
  EXPECT_EQ(r->violations_total, 1u);
  const Violation& v = r->violations[0];
  EXPECT_EQ(v.finding, Finding::kDigestNotAllowed);
  EXPECT_EQ(FindingName(v.finding), "digest-not-allowed");
  EXPECT_EQ(v.entry, 3u);
  EXPECT_EQ(v.line, 4u);
  EXPECT_EQ(v.path, "/usr/bin/ls");
  EXPECT_EQ(v.expected, "sha256:" + ToHex(HashOf(HashAlg::kSha256, "ls")));
  EXPECT_EQ(v.measured, "sha256:" + ToHex(HashOf(HashAlg::kSha256, "ls with a backdoor")));
  EXPECT_EQ(r->allowed, entries.size() - 1);
  // The binary list names the entry's byte offset instead of a line.
  auto b = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->violations.size(), 1u);
  EXPECT_EQ(b->violations[0].line, 0u);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < 3; ++i) offset += testing::BinaryEntry(entries[i], HashAlg::kSha1).size();
  EXPECT_EQ(b->violations[0].offset, offset);
}

TEST(VerifyTest, PolicyFromKeylimeJson) {
  const std::vector<TestEntry> entries = System();
  std::string json = R"({"meta": {"version": 1}, "excludes": ["/etc/"], "digests": {)";
  json += "\"boot_aggregate\": [\"" + ToHex(BootAggregateOf(Firmware())) + "\"],";
  json += "\"/init\": [\"" + ToHex(HashOf(HashAlg::kSha256, "init")) + "\"],";
  json += "\"/usr/bin/bash\": [\"" + ToHex(HashOf(HashAlg::kSha256, "bash")) + "\"]}}";
  auto policy = LoadKeylimePolicy(AsBytes(json));
  ASSERT_TRUE(policy.has_value()) << policy.error().message();
  VerifyOptions o;
  o.allowlist = &policy->allowlist;
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  // /usr/bin/ls is not listed; /etc/ld.so.cache is excluded.
  ASSERT_EQ(r->violations.size(), 1u);
  EXPECT_EQ(r->violations[0].finding, Finding::kNotInPolicy);
  EXPECT_EQ(r->violations[0].path, "/usr/bin/ls");
  EXPECT_EQ(r->violations[0].measured, "sha256:" + ToHex(HashOf(HashAlg::kSha256, "ls")));
  EXPECT_EQ(r->excluded, 1u);
  EXPECT_EQ(r->allowed, 3u);
  EXPECT_FALSE(r->ok());
}

TEST(VerifyTest, AlteredEntryIsATemplateHashViolation) {
  std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  TestEntry altered = testing::ImaNg("/usr/bin/bash", "bash");
  altered.recorded_digest = testing::RecordedDigest(testing::ImaNg("/usr/bin/bask", "bash"),
                                                    HashAlg::kSha1);
  entries[2] = altered;
  VerifyOptions o;
  o.allowlist = &allow;
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1)});
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->matched_prefix, entries.size());
  ASSERT_EQ(r->violations.size(), 1u);
  EXPECT_EQ(r->violations[0].finding, Finding::kTemplateHash);
  EXPECT_EQ(r->violations[0].entry, 2u);
  EXPECT_EQ(r->violations[0].measured, "sha1:" + ToHex(*altered.recorded_digest));
  EXPECT_EQ(r->violations[0].expected,
            "sha1:" + ToHex(HashOf(HashAlg::kSha1, testing::HashInput(altered))));
  EXPECT_EQ(r->checks.mismatch, 1u);
  EXPECT_FALSE(r->ok());
}

TEST(VerifyTest, MeasurementViolationIsReported) {
  std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  entries.push_back(testing::ViolationEntry("/usr/bin/bash"));
  VerifyOptions o;
  o.allowlist = &allow;
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->measurement_violations, 1u);
  EXPECT_EQ(r->checks.violation, 1u);
  ASSERT_EQ(r->violations.size(), 1u);
  EXPECT_EQ(r->violations[0].finding, Finding::kMeasurementViolation);
  EXPECT_EQ(r->violations[0].entry, entries.size() - 1);
  EXPECT_FALSE(r->ok());
}

TEST(VerifyTest, FindingsAfterTheQuotedPrefixAreUnattested) {
  std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  // Entries read after the quote: not in the policy, but not yet proven.
  entries.push_back(testing::ImaNg("/tmp/dropper", "evil"));
  entries.push_back(testing::ImaNg("/tmp/dropper2", "evil"));
  VerifyOptions o;
  o.allowlist = &allow;
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 5)});
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->matched_prefix, 5u);
  EXPECT_TRUE(r->violations.empty());
  EXPECT_EQ(r->violations_total, 0u);
  EXPECT_EQ(r->entries_read, 7u);
  EXPECT_EQ(r->entries_checked, 5u);
  EXPECT_EQ(r->unattested, 2u);
  EXPECT_TRUE(r->ok());
  ASSERT_TRUE(r->checkpoint.has_value());
  EXPECT_EQ(r->checkpoint->entries, 5u);

  // The next quote covers them.
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1)});
  auto all = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->violations.size(), 2u);
  EXPECT_EQ(all->unattested, 0u);
  EXPECT_FALSE(all->ok());
}

TEST(VerifyTest, NoMatchingPrefixIsNotOk) {
  const std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  VerifyOptions o;
  o.allowlist = &allow;
  o.quoted = Pcr10({Digest(HashAlg::kSha1, HashOf(HashAlg::kSha1, "another machine"))});
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->matched_prefix.has_value());
  EXPECT_TRUE(r->quote_given);
  EXPECT_EQ(r->entries_checked, 0u);
  EXPECT_EQ(r->unattested, entries.size());
  EXPECT_FALSE(r->ok());
}

TEST(VerifyTest, BootAggregateMismatchIsAViolation) {
  const std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  pcr::PcrValues fw = Firmware();
  fw.banks[HashAlg::kSha256][4] = crypto::Hash(HashAlg::kSha256, AsBytes("other kernel")).value();
  VerifyOptions o;
  o.allowlist = &allow;
  o.firmware = fw;
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->boot_aggregate.has_value());
  EXPECT_FALSE(r->boot_aggregate->match);
  ASSERT_EQ(r->violations.size(), 1u);
  EXPECT_EQ(r->violations[0].finding, Finding::kBootAggregate);
  EXPECT_EQ(r->violations[0].entry, 0u);
  EXPECT_EQ(r->violations[0].measured, "sha256:" + ToHex(BootAggregateOf(Firmware())));
  EXPECT_EQ(r->violations[0].expected, "sha256:" + ToHex(BootAggregateOf(fw)));
  EXPECT_FALSE(r->ok());
}

TEST(VerifyTest, IncrementalVerificationOverThreeDeltas) {
  std::vector<TestEntry> entries = System();
  for (int i = 0; i < 7; ++i) {
    entries.push_back(testing::ImaNg("/usr/lib/lib" + std::to_string(i) + ".so", std::to_string(i)));
  }
  const Allowlist allow = AllowAll(entries);
  const std::vector<std::size_t> cuts = {0, 4, 9, entries.size()};
  VerifyOptions one;
  one.banks = {HashAlg::kSha256};
  one.allowlist = &allow;
  auto once = VerifyList(BinaryList(entries, HashAlg::kSha1), one);
  ASSERT_TRUE(once.has_value());

  std::optional<Checkpoint> cp;
  for (std::size_t d = 0; d + 1 < cuts.size(); ++d) {
    SCOPED_TRACE("delta " + std::to_string(d));
    const std::vector<TestEntry> delta(entries.begin() + static_cast<long>(cuts[d]),
                                       entries.begin() + static_cast<long>(cuts[d + 1]));
    VerifyOptions o;
    o.banks = {HashAlg::kSha256};
    o.allowlist = &allow;
    if (cp) {
      // What an agent's verifier stores between deltas.
      auto stored = Checkpoint::Parse(cp->Serialize());
      ASSERT_TRUE(stored.has_value());
      o.resume = *stored;
    }
    o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, cuts[d + 1]),
                      ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha256, cuts[d + 1])});
    // The deltas alternate between binary and ascii.
    auto r = d % 2 == 0 ? VerifyList(BinaryList(delta, HashAlg::kSha1), o)
                        : VerifyList(AsciiList(delta, HashAlg::kSha1), o);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->first_entry, cuts[d]);
    EXPECT_EQ(r->entries_read, delta.size());
    EXPECT_EQ(r->entries_checked, delta.size());
    EXPECT_EQ(r->matched_prefix, cuts[d + 1]);
    ASSERT_TRUE(r->checkpoint.has_value());
    EXPECT_EQ(r->checkpoint->entries, cuts[d + 1]);
    cp = r->checkpoint;
  }
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->pcrs.Find(HashAlg::kSha256, 10) != nullptr, true);
  EXPECT_EQ(*cp->pcrs.Find(HashAlg::kSha256, 10), *once->replayed.Find(HashAlg::kSha256, 10));
  EXPECT_EQ(*cp->pcrs.Find(HashAlg::kSha1, 10), *once->replayed.Find(HashAlg::kSha1, 10));
}

TEST(VerifyTest, ResumedViolationNamesTheEntryInTheWholeList) {
  std::vector<TestEntry> entries = System();
  const Allowlist allow = AllowAll(entries);
  entries.push_back(testing::ImaNg("/opt/unknown", "u"));
  const std::vector<TestEntry> head(entries.begin(), entries.begin() + 3);
  const std::vector<TestEntry> tail(entries.begin() + 3, entries.end());
  VerifyOptions o;
  o.allowlist = &allow;
  auto first = VerifyList(BinaryList(head, HashAlg::kSha1), o);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->checkpoint.has_value());
  o.resume = first->checkpoint;
  auto second = VerifyList(AsciiList(tail, HashAlg::kSha1), o);
  ASSERT_TRUE(second.has_value()) << second.error().message();
  ASSERT_EQ(second->violations.size(), 1u);
  EXPECT_EQ(second->violations[0].entry, 5u);
  EXPECT_EQ(second->violations[0].line, 3u);
  EXPECT_EQ(second->violations[0].path, "/opt/unknown");
  EXPECT_EQ(*second->replayed.Find(HashAlg::kSha1, 10),
            ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1));
}

TEST(VerifyTest, MaxViolationsCapsTheListNotTheCount) {
  std::vector<TestEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(testing::ImaNg("/x/" + std::to_string(i), "x"));
  const Allowlist empty;
  VerifyOptions o;
  o.allowlist = &empty;
  o.max_violations = 3;
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->violations.size(), 3u);
  EXPECT_EQ(r->violations_total, 10u);
  EXPECT_EQ(r->violations[2].entry, 2u);
  EXPECT_FALSE(r->ok());
  // With a quote after 6 entries, the count covers the attested ones.
  o.quoted = Pcr10({ExpectedPcr(entries, HashAlg::kSha1, HashAlg::kSha1, 6)});
  auto q = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->violations.size(), 3u);
  EXPECT_EQ(q->violations_total, 6u);
}

TEST(VerifyTest, ProgressIsReported) {
  std::vector<TestEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(testing::ImaNg("/p/" + std::to_string(i), "p"));
  VerifyOptions o;
  std::vector<std::size_t> calls;
  o.progress = [&](std::size_t n, std::size_t) { calls.push_back(n); };
  o.progress_every = 4;
  auto r = VerifyList(BinaryList(entries, HashAlg::kSha1), o);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(calls, (std::vector<std::size_t>{4, 8}));
  EXPECT_TRUE(r->ok());  // nothing to check against: no finding
}

TEST(VerifyTest, UnreadableListIsAnError) {
  VerifyOptions o;
  auto r = VerifyList(std::string_view("10 nothex ima-ng x\n"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tc::ima
