#include "tc/eventlog/replay.h"

#include <gtest/gtest.h>

#include "tc/eventlog/test_util.h"
#include "tc/eventlog/verify.h"

namespace tc::eventlog {
namespace {

using crypto::HashAlg;
using testing::LogBuilder;

crypto::Digest Chain(HashAlg alg, crypto::Digest start, std::vector<std::string> datas) {
  for (const auto& d : datas) {
    auto h = *crypto::Hash(alg, AsBytes(d));
    EXPECT_TRUE(crypto::ExtendDigest(start, h.bytes()).has_value());
  }
  return start;
}

TEST(ReplayTest, ExtendsEveryBankAndSkipsNoAction) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha1, HashAlg::kSha256})
                                 .Event(4, ev::kEfiAction, "a")
                                 .Event(4, ev::kNoAction, "ignored")
                                 .Event(4, ev::kEfiAction, "b")
                                 .bytes());
  ASSERT_TRUE(log.has_value());
  auto r = Replay(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->extended_events, 2u);
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256}) {
    const crypto::Digest* v = r->pcrs.Find(alg, 4);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, Chain(alg, crypto::Digest(alg), {"a", "b"}));
  }
  EXPECT_EQ(r->pcrs.Find(HashAlg::kSha256, 0), nullptr);
}

TEST(ReplayTest, StartupLocalitySetsPcr0StartValue) {
  Bytes loc = {'S', 't', 'a', 'r', 't', 'u', 'p', 'L', 'o', 'c', 'a', 'l', 'i', 't', 'y', 0, 3};
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256})
                                 .Event(0, ev::kNoAction, loc)
                                 .Event(0, ev::kSCrtmVersion, "v")
                                 .bytes());
  ASSERT_TRUE(log.has_value());
  auto r = Replay(*log);
  crypto::Digest start(HashAlg::kSha256);
  start.mutable_bytes()[31] = 3;
  EXPECT_EQ(*r->pcrs.Find(HashAlg::kSha256, 0), Chain(HashAlg::kSha256, start, {"v"}));
}

TEST(ReplayTest, PcrIndexAllOnesIsNeverExtended) {
  auto log = EventLog::Parse(
      LogBuilder::Agile({HashAlg::kSha256}).Event(0xFFFFFFFF, ev::kEventTag, "x").bytes());
  auto r = Replay(*log);
  EXPECT_EQ(r->extended_events, 0u);
  ASSERT_EQ(r->pcrs.banks.count(HashAlg::kSha256), 1u);
  EXPECT_TRUE(r->pcrs.banks.at(HashAlg::kSha256).empty());
}

TEST(ReplayTest, DrtmPcrsStartAtAllOnes) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256}).Event(17, ev::kAction, "x").bytes());
  auto r = Replay(*log);
  crypto::Digest ff(HashAlg::kSha256);
  std::fill(ff.mutable_bytes().begin(), ff.mutable_bytes().end(), 0xFF);
  EXPECT_EQ(*r->pcrs.Find(HashAlg::kSha256, 17), Chain(HashAlg::kSha256, ff, {"x"}));
}

TEST(VerifyReplayTest, ReportsMatchMismatchAndPcrsOutsideTheLog) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256})
                                 .Event(0, ev::kSCrtmVersion, "v")
                                 .Event(4, ev::kEfiAction, "a")
                                 .bytes());
  auto r = Replay(*log);
  pcr::PcrValues reported;
  reported.banks[HashAlg::kSha256][0] = *r->pcrs.Find(HashAlg::kSha256, 0);
  reported.banks[HashAlg::kSha256][4] = crypto::Digest(HashAlg::kSha256);  // wrong
  reported.banks[HashAlg::kSha256][10] = *crypto::Hash(HashAlg::kSha256, AsBytes("ima"));
  reported.banks[HashAlg::kSha256][11] = crypto::Digest(HashAlg::kSha256);  // unused
  const Verification v = VerifyReplay(*log, *r, reported);
  ASSERT_EQ(v.checks.size(), 3u);
  EXPECT_EQ(v.checks[0].status, PcrStatus::kMatch);
  EXPECT_EQ(v.checks[1].status, PcrStatus::kMismatch);
  EXPECT_EQ(v.checks[2].status, PcrStatus::kNotInLog);
  EXPECT_EQ(v.mismatches, 1u);
  EXPECT_FALSE(v.AllMatch());
  ASSERT_EQ(v.verified.size(), 1u);
  EXPECT_EQ(v.verified[0].event->index, 1u);
}

TEST(VerifyReplayTest, FirmwarePcrWithoutEventsIsAMismatch) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256})
                                 .Event(0, ev::kSCrtmVersion, "v")
                                 .bytes());
  auto r = Replay(*log);
  pcr::PcrValues reported;
  reported.banks[HashAlg::kSha256][0] = *r->pcrs.Find(HashAlg::kSha256, 0);
  reported.banks[HashAlg::kSha256][7] = *crypto::Hash(HashAlg::kSha256, AsBytes("sb"));
  const Verification v = VerifyReplay(*log, *r, reported);
  ASSERT_EQ(v.checks.size(), 2u);
  EXPECT_EQ(v.checks[1].status, PcrStatus::kEventsMissing);
  EXPECT_EQ(v.mismatches, 1u);
  EXPECT_FALSE(v.AllMatch());
}

TEST(VerifyReplayTest, OnlyPcrsOutsideTheLogVerifyNothing) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256}).Event(0, ev::kAction, "v").bytes());
  auto r = Replay(*log);
  pcr::PcrValues reported;
  reported.banks[HashAlg::kSha256][10] = *crypto::Hash(HashAlg::kSha256, AsBytes("ima"));
  const Verification v = VerifyReplay(*log, *r, reported);
  EXPECT_EQ(v.mismatches, 0u);
  EXPECT_EQ(v.matches, 0u);
  EXPECT_FALSE(v.AllMatch());
}

TEST(VerifyReplayTest, NoCommonBankComparesNothing) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256}).Event(0, ev::kAction, "v").bytes());
  auto r = Replay(*log);
  pcr::PcrValues reported;
  reported.banks[HashAlg::kSha1][0] = crypto::Digest(HashAlg::kSha1);
  const Verification v = VerifyReplay(*log, *r, reported);
  EXPECT_EQ(v.banks_compared, 0u);
  EXPECT_FALSE(v.AllMatch());
}

}  // namespace
}  // namespace tc::eventlog
