// EsysTpm against the embedded libtpms TPM: a fresh state directory per
// test. Only one embedded TPM may be open per process; tests open them one
// after another.

#include "tc/tpm/esys/esys_tpm.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/crypto/hash.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/libtpms_tcti.h"
#include "tc/tpm/esys/open.h"
#include "tc/tpm/esys/test_util.h"

namespace tc::tpm {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using testing::HeapInUse;
using testing::TempDir;

std::unique_ptr<Tpm> OpenEmbedded(const std::string& dir) {
  auto tpm = OpenTpm("embedded:" + dir);
  if (!tpm.has_value()) {
    ADD_FAILURE() << "OpenTpm: " << tpm.error().message();
    return nullptr;
  }
  return std::move(*tpm);
}

std::vector<HashAlg> ActiveBanks(Tpm& tpm) {
  auto info = tpm.Info();
  EXPECT_TRUE(info.has_value()) << info.error().message();
  return info.has_value() ? info->active_banks : std::vector<HashAlg>{};
}

std::vector<Digest> DigestsOf(std::string_view data, const std::vector<HashAlg>& banks) {
  std::vector<Digest> out;
  for (HashAlg alg : banks) {
    auto d = crypto::Hash(alg, AsBytes(data));
    if (d.has_value()) out.push_back(*d);
  }
  return out;
}

// Reads every PCR of the given banks.
pcr::PcrValues ReadAll(Tpm& tpm, const std::vector<HashAlg>& banks) {
  std::vector<PcrSelection> sel;
  for (HashAlg alg : banks) {
    PcrSelection s{alg, {}};
    for (std::uint32_t i = 0; i < pcr::kNumPcrs; ++i) s.pcrs.push_back(i);
    sel.push_back(s);
  }
  auto values = tpm.ReadPcrs(sel);
  EXPECT_TRUE(values.has_value()) << values.error().message();
  return values.has_value() ? *values : pcr::PcrValues{};
}

TEST(EsysTpmTest, InfoReportsBanksIncludingSha256) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  auto info = tpm->Info();
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_THAT(info->active_banks, ::testing::Contains(HashAlg::kSha256));
  EXPECT_EQ(info->manufacturer, "IBM");  // libtpms
  EXPECT_FALSE(info->vendor.empty());
  EXPECT_GE(info->spec_revision, 116u);
  EXPECT_EQ(info->transport,
            "embedded:" + std::filesystem::path(dir.path()).lexically_normal().string());
  EXPECT_NE(info->firmware_version, "0.0.0.0");
}

TEST(EsysTpmTest, StateDirectoryOthersCanWriteIsRefused) {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  auto tpm = OpenTpm("embedded:" + state);
  ASSERT_FALSE(tpm.has_value());
  EXPECT_EQ(tpm.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(tpm.error().message().find("chmod 700"), std::string::npos);
  ASSERT_EQ(::chmod(state.c_str(), 0700), 0);
  EXPECT_TRUE(OpenTpm("embedded:" + state).has_value());
}

TEST(EsysTpmTest, FullSelfTestPasses) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  auto t = tpm->SelfTest(/*full=*/true);
  EXPECT_TRUE(t.has_value()) << t.error().message();
  EXPECT_TRUE(tpm->SelfTest(/*full=*/false).has_value());
}

TEST(EsysTpmTest, ReadsAllPcrsOfAllBanksAcrossManyCalls) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const auto banks = ActiveBanks(*tpm);
  ASSERT_FALSE(banks.empty());
  const pcr::PcrValues values = ReadAll(*tpm, banks);
  ASSERT_EQ(values.banks.size(), banks.size());
  for (HashAlg alg : banks) {
    ASSERT_EQ(values.banks.at(alg).size(), pcr::kNumPcrs) << crypto::HashAlgName(alg);
    // After TPM2_Startup(CLEAR): static PCRs are zero (PC Client PTP, PCR
    // initial values).
    EXPECT_EQ(values.banks.at(alg).at(0), Digest(alg));
    EXPECT_EQ(values.banks.at(alg).at(16), Digest(alg));
  }
}

TEST(EsysTpmTest, ExtendThenReadEqualsSoftwareExtend) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const auto banks = ActiveBanks(*tpm);
  const std::vector<Digest> digests = DigestsOf("trustchain", banks);
  ASSERT_EQ(digests.size(), banks.size());

  const pcr::PcrValues before = ReadAll(*tpm, banks);
  ASSERT_TRUE(tpm->Extend(16, digests).has_value());
  ASSERT_TRUE(tpm->Extend(16, digests).has_value());
  const pcr::PcrValues after = ReadAll(*tpm, banks);

  for (const Digest& d : digests) {
    Digest expected = before.banks.at(d.alg()).at(16);
    ASSERT_TRUE(crypto::ExtendDigest(expected, d.bytes()).has_value());
    ASSERT_TRUE(crypto::ExtendDigest(expected, d.bytes()).has_value());
    EXPECT_EQ(after.banks.at(d.alg()).at(16), expected) << crypto::HashAlgName(d.alg());
    EXPECT_EQ(after.banks.at(d.alg()).at(15), before.banks.at(d.alg()).at(15));
  }
}

TEST(EsysTpmTest, ExtendOfOneBankLeavesOthers) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const auto banks = ActiveBanks(*tpm);
  ASSERT_GE(banks.size(), 2u);
  const std::vector<Digest> one = DigestsOf("x", {HashAlg::kSha256});
  ASSERT_TRUE(tpm->Extend(23, one).has_value());
  const pcr::PcrValues after = ReadAll(*tpm, banks);
  Digest expected(HashAlg::kSha256);
  ASSERT_TRUE(crypto::ExtendDigest(expected, one[0].bytes()).has_value());
  EXPECT_EQ(after.banks.at(HashAlg::kSha256).at(23), expected);
  for (HashAlg alg : banks) {
    if (alg != HashAlg::kSha256) {
      EXPECT_EQ(after.banks.at(alg).at(23), Digest(alg));
    }
  }
}

TEST(EsysTpmTest, RejectsBadArguments) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const std::vector<Digest> d = DigestsOf("x", {HashAlg::kSha256});
  const std::vector<Digest> twice = {d[0], d[0]};

  auto bad_pcr = tpm->Extend(24, d);
  ASSERT_FALSE(bad_pcr.has_value());
  EXPECT_EQ(bad_pcr.error().code(), ErrorCode::kInvalidArgument);
  auto none = tpm->Extend(1, {});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
  auto dup = tpm->Extend(1, twice);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kInvalidArgument);

  const std::vector<PcrSelection> sel = {{HashAlg::kSha256, {0, 24}}};
  auto read = tpm->ReadPcrs(sel);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kInvalidArgument);

  auto empty = tpm->ReadPcrs({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());

  auto too_much = tpm->GetRandom(kMaxRandomSize + 1);
  ASSERT_FALSE(too_much.has_value());
  EXPECT_EQ(too_much.error().code(), ErrorCode::kInvalidArgument);
}

// libtpms implements no SM3: the TPM itself refuses the selection.
TEST(EsysTpmTest, ReadOfUnimplementedAlgorithmIsTpmError) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const std::vector<PcrSelection> sel = {{HashAlg::kSm3_256, {0}}};
  auto read = tpm->ReadPcrs(sel);
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kTpm);
  EXPECT_THAT(read.error().message(), ::testing::StartsWith("Esys_PCR_Read: "));
}

TEST(EsysTpmTest, GetRandomReturnsRequestedSize) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  for (std::size_t n : {0, 1, 32, 48, 64, 65, 1000}) {
    auto r = tpm->GetRandom(n);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->size(), n);
  }
  auto a = tpm->GetRandom(1000);
  auto b = tpm->GetRandom(1000);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_NE(std::count(a->begin(), a->end(), 0), 1000);
}

TEST(EsysTpmTest, SecondEmbeddedOpenFailsWhileFirstIsOpen) {
  TempDir dir_a;
  TempDir dir_b;
  auto a = OpenEmbedded(dir_a.path());
  ASSERT_NE(a, nullptr);
  for (const std::string& d : {dir_a.path(), dir_b.path()}) {
    auto second = OpenTpm("embedded:" + d);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code(), ErrorCode::kTpm);
    EXPECT_THAT(second.error().message(), ::testing::HasSubstr("already open"));
  }
  a.reset();
  auto b = OpenEmbedded(dir_b.path());
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->GetRandom(8).has_value());
}

TEST(EsysTpmTest, StatePersistsAcrossReopenAndPcrsReset) {
  TempDir dir;
  const auto banks = [&] {
    auto tpm = OpenEmbedded(dir.path());
    EXPECT_NE(tpm, nullptr);
    if (tpm == nullptr) return std::vector<HashAlg>{};
    const auto active = ActiveBanks(*tpm);
    EXPECT_TRUE(tpm->Extend(16, DigestsOf("boot", active)).has_value());
    EXPECT_NE(ReadAll(*tpm, active).banks.at(HashAlg::kSha256).at(16),
              Digest(HashAlg::kSha256));
    return active;
  }();
  ASSERT_FALSE(banks.empty());
  // The state is on disk, written atomically: no temporary file is left.
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/permall"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  EXPECT_EQ(ActiveBanks(*tpm), banks);
  EXPECT_TRUE(tpm->GetRandom(16).has_value());
  // A new open is a power cycle: TPM2_Startup(CLEAR) reset the PCRs.
  EXPECT_EQ(ReadAll(*tpm, banks).banks.at(HashAlg::kSha256).at(16), Digest(HashAlg::kSha256));
}

// TPMS_CLOCK_INFO.resetCount (TPM 2.0 Part 2, 10.11.1) is kept in NV and
// counts TPM Resets: it grows by one per reopen only if the permanent state
// survived (a re-manufactured TPM would start again from zero).
TEST(EsysTpmTest, PermanentStateSurvivesReopen) {
  TempDir dir;
  std::vector<std::uint32_t> reset_counts;
  for (int i = 0; i < 3; ++i) {
    auto tcti = internal::OpenLibtpmsTcti(dir.path());
    ASSERT_TRUE(tcti.has_value()) << tcti.error().message();
    ESYS_CONTEXT* raw = nullptr;
    ASSERT_EQ(internal::Tss().Esys_Initialize(&raw, tcti->get(), nullptr), TSS2_RC_SUCCESS);
    internal::EsysContextPtr ctx(raw);
    (void)tcti->release();
    internal::EsysPtr<TPMS_TIME_INFO> time;
    ASSERT_EQ(internal::Tss().Esys_ReadClock(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             internal::OutParam(time).get()),
              TSS2_RC_SUCCESS);
    reset_counts.push_back(time->clockInfo.resetCount);
  }
  EXPECT_EQ(reset_counts[1], reset_counts[0] + 1);
  EXPECT_EQ(reset_counts[2], reset_counts[0] + 2);
}

TEST(EsysTpmTest, CreatesMissingStateDirectoryPrivate) {
  TempDir dir;
  const std::string state = dir.path() + "/a/b/tpm";
  {
    auto tpm = OpenEmbedded(state);
    ASSERT_NE(tpm, nullptr);
  }
  struct stat st {};
  ASSERT_EQ(::stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(EsysTpmTest, ThousandExtendsDoNotGrowHeap) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  const auto banks = ActiveBanks(*tpm);
  const std::vector<Digest> digests = DigestsOf("measure", banks);
  const std::vector<PcrSelection> sel = {{HashAlg::kSha256, {10}}};
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(tpm->Extend(10, digests).has_value());
    ASSERT_TRUE(tpm->ReadPcrs(sel).has_value());
  }
  const std::size_t before = HeapInUse();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(tpm->Extend(10, digests).has_value()) << i;
  }
  ASSERT_TRUE(tpm->ReadPcrs(sel).has_value());
  const std::size_t after = HeapInUse();
  EXPECT_LT(after, before + 16 * 1024) << "heap grew from " << before << " to " << after;
}

}  // namespace
}  // namespace tc::tpm
