// EsysTpm's NV operations against the embedded libtpms TPM: a fresh state
// directory per test (one embedded TPM per process).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/crypto/hash.h"
#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/open.h"
#include "tc/tpm/esys/test_util.h"

namespace tc::tpm {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using ::testing::HasSubstr;
using testing::HeapInUse;
using testing::TempDir;

constexpr std::uint32_t kIndex = 0x01500010;

std::unique_ptr<Tpm> OpenEmbedded(const std::string& dir) {
  auto tpm = OpenTpm("embedded:" + dir);
  if (!tpm.has_value()) {
    ADD_FAILURE() << "OpenTpm: " << tpm.error().message();
    return nullptr;
  }
  return std::move(*tpm);
}

Bytes Pattern(std::size_t n, std::uint8_t seed) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7 + i / 256);
  return out;
}

template <class T>
ErrorCode CodeOf(const Result<T>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? ErrorCode::kInternal : r.error().code();
}

TEST(EsysNvTest, DefineWriteReadRoundTripBeyondNvBuffer) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  // 2048 bytes: more than libtpms' TPM_PT_NV_BUFFER_MAX (1024), so reads
  // and writes take several commands.
  ASSERT_TRUE(tpm->NvDefine({kIndex, 2048, false, HashAlg::kSha256}).has_value());
  const Bytes data = Pattern(2048, 1);
  auto w = tpm->NvWrite(kIndex, data, 0);
  ASSERT_TRUE(w.has_value()) << w.error().message();
  auto r = tpm->NvRead(kIndex);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, data);

  // A write at an offset, across a chunk boundary, changes only its bytes.
  const Bytes patch = Pattern(1100, 99);
  w = tpm->NvWrite(kIndex, patch, 900);
  ASSERT_TRUE(w.has_value()) << w.error().message();
  Bytes expected = data;
  std::copy(patch.begin(), patch.end(), expected.begin() + 900);
  r = tpm->NvRead(kIndex);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, expected);

  // The last byte, and nothing past the end.
  ASSERT_TRUE(tpm->NvWrite(kIndex, Bytes{0xAB}, 2047).has_value());
  r = tpm->NvRead(kIndex);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->back(), 0xAB);
  EXPECT_EQ(CodeOf(tpm->NvWrite(kIndex, Bytes{1, 2}, 2047)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(tpm->NvWrite(kIndex, Bytes{1}, 2048)), ErrorCode::kInvalidArgument);
}

TEST(EsysNvTest, SmallIndexRoundTripAndPersistsAcrossReopen) {
  TempDir dir;
  const Bytes data = Pattern(32, 5);
  {
    auto tpm = OpenEmbedded(dir.path());
    ASSERT_NE(tpm, nullptr);
    ASSERT_TRUE(tpm->NvDefine({kIndex, 32, false, HashAlg::kSha256}).has_value());
    ASSERT_TRUE(tpm->NvWrite(kIndex, data, 0).has_value());
  }
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  auto r = tpm->NvRead(kIndex);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, data);
}

// TPM2_NV_Extend (Part 3, 31.9): the index starts as zeros and each extend
// makes it H(old || data), as a PCR.
TEST(EsysNvTest, ExtendIndexEqualsSoftwareHashChain) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  for (HashAlg alg : {HashAlg::kSha256, HashAlg::kSha1, HashAlg::kSha384}) {
    const std::uint32_t index = kIndex + static_cast<std::uint32_t>(alg);
    auto def = tpm->NvDefine({index, 0, true, alg});
    ASSERT_TRUE(def.has_value()) << def.error().message();
    Digest expected(alg);
    const std::string_view inputs[] = {"boot", "kernel", "", std::string_view("x\0y", 3)};
    for (std::string_view data : inputs) {
      auto e = tpm->NvExtend(index, AsBytes(data));
      ASSERT_TRUE(e.has_value()) << e.error().message();
      ASSERT_TRUE(crypto::ExtendDigest(expected, AsBytes(data)).has_value());
    }
    auto r = tpm->NvRead(index);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(ToHex(*r), expected.Hex()) << crypto::HashAlgName(alg);
  }
}

TEST(EsysNvTest, WriteAfterLockFailsUntilRestart) {
  TempDir dir;
  const Bytes data = Pattern(16, 3);
  {
    auto tpm = OpenEmbedded(dir.path());
    ASSERT_NE(tpm, nullptr);
    ASSERT_TRUE(tpm->NvDefine({kIndex, 16, false, HashAlg::kSha256}).has_value());
    ASSERT_TRUE(tpm->NvWrite(kIndex, data, 0).has_value());
    auto lock = tpm->NvWriteLock(kIndex);
    ASSERT_TRUE(lock.has_value()) << lock.error().message();
    auto w = tpm->NvWrite(kIndex, Pattern(16, 4), 0);
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error().code(), ErrorCode::kTpm);
    EXPECT_THAT(w.error().message(), HasSubstr("write-locked"));
    EXPECT_THAT(w.error().message(), HasSubstr("Esys_NV_Write"));
    // Still readable, and unchanged.
    auto r = tpm->NvRead(kIndex);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, data);
  }
  // TPMA_NV_WRITE_STCLEAR: the lock ends with TPM2_Startup(CLEAR).
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  auto w = tpm->NvWrite(kIndex, Pattern(16, 4), 0);
  EXPECT_TRUE(w.has_value()) << w.error().message();
}

TEST(EsysNvTest, LockedExtendIndexRefusesExtend) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  ASSERT_TRUE(tpm->NvDefine({kIndex, 32, true, HashAlg::kSha256}).has_value());
  ASSERT_TRUE(tpm->NvExtend(kIndex, AsBytes("a")).has_value());
  ASSERT_TRUE(tpm->NvWriteLock(kIndex).has_value());
  EXPECT_EQ(CodeOf(tpm->NvExtend(kIndex, AsBytes("b"))), ErrorCode::kTpm);
}

TEST(EsysNvTest, DoubleDefineIsInvalidArgument) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  ASSERT_TRUE(tpm->NvDefine({kIndex, 8, false, HashAlg::kSha256}).has_value());
  auto again = tpm->NvDefine({kIndex, 8, false, HashAlg::kSha256});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(again.error().message(), HasSubstr("already defined"));
}

TEST(EsysNvTest, UndefinedIndexIsNotFound) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  auto r = tpm->NvRead(kIndex);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message(), HasSubstr("0x01500010 is not defined"));
  EXPECT_EQ(CodeOf(tpm->NvWrite(kIndex, Bytes{1}, 0)), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(tpm->NvExtend(kIndex, Bytes{1})), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(tpm->NvWriteLock(kIndex)), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(tpm->NvUndefine(kIndex)), ErrorCode::kNotFound);
}

TEST(EsysNvTest, UndefineRemovesIndex) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  ASSERT_TRUE(tpm->NvDefine({kIndex, 8, false, HashAlg::kSha256}).has_value());
  ASSERT_TRUE(tpm->NvWrite(kIndex, Pattern(8, 1), 0).has_value());
  auto u = tpm->NvUndefine(kIndex);
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(CodeOf(tpm->NvRead(kIndex)), ErrorCode::kNotFound);
  // Defined again: a new, unwritten index.
  ASSERT_TRUE(tpm->NvDefine({kIndex, 8, false, HashAlg::kSha256}).has_value());
  auto r = tpm->NvRead(kIndex);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm);
  EXPECT_THAT(r.error().message(), HasSubstr("not been written"));
}

TEST(EsysNvTest, RejectsBadArgumentsBeforeTheTpm) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  for (std::uint32_t index : {0u, 0x00FFFFFFu, 0x01C00002u, 0x81000001u}) {
    EXPECT_EQ(CodeOf(tpm->NvDefine({index, 8, false, HashAlg::kSha256})),
              ErrorCode::kInvalidArgument)
        << index;
    EXPECT_EQ(CodeOf(tpm->NvRead(index)), ErrorCode::kInvalidArgument) << index;
  }
  EXPECT_TRUE(tpm->NvDefine({0x01000000, 1, false, HashAlg::kSha256}).has_value());
  EXPECT_TRUE(tpm->NvDefine({0x01BFFFFF, 1, false, HashAlg::kSha256}).has_value());
  EXPECT_EQ(CodeOf(tpm->NvDefine({kIndex, 0, false, HashAlg::kSha256})),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(tpm->NvDefine({kIndex, 2049, false, HashAlg::kSha256})),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(tpm->NvDefine({kIndex, 20, true, HashAlg::kSha256})),
            ErrorCode::kInvalidArgument);
  // Ordinary and extend indices each refuse the other's operation.
  ASSERT_TRUE(tpm->NvDefine({kIndex, 32, true, HashAlg::kSha256}).has_value());
  ASSERT_TRUE(tpm->NvDefine({kIndex + 1, 32, false, HashAlg::kSha256}).has_value());
  EXPECT_EQ(CodeOf(tpm->NvWrite(kIndex, Bytes{1}, 0)), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(tpm->NvExtend(kIndex + 1, Bytes{1})), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(tpm->NvExtend(kIndex, Bytes(4096))), ErrorCode::kInvalidArgument);
}

// Every ESYS_TR the NV calls make is closed: many calls do not grow the heap.
TEST(EsysNvTest, ManyCallsDoNotGrowHeap) {
  TempDir dir;
  auto tpm = OpenEmbedded(dir.path());
  ASSERT_NE(tpm, nullptr);
  ASSERT_TRUE(tpm->NvDefine({kIndex, 64, false, HashAlg::kSha256}).has_value());
  ASSERT_TRUE(tpm->NvDefine({kIndex + 1, 32, true, HashAlg::kSha256}).has_value());
  const Bytes data = Pattern(64, 2);
  auto round = [&] {
    ASSERT_TRUE(tpm->NvWrite(kIndex, data, 0).has_value());
    ASSERT_TRUE(tpm->NvRead(kIndex).has_value());
    ASSERT_TRUE(tpm->NvExtend(kIndex + 1, data).has_value());
    ASSERT_EQ(CodeOf(tpm->NvRead(kIndex + 2)), ErrorCode::kNotFound);
  };
  // An ESYS output not freed (a TPM2B_MAX_NV_BUFFER is over 2 KiB) would
  // add more than 1 MiB over these rounds; the bound leaves room for what
  // glibc's tcache and ESYS's libcrypto keep (about 200 KiB over the first
  // 5,000 rounds, then nothing; heaptrack shows no allocation that grows
  // with the rounds). ESYS reuses the ESYS_TR of an index it already knows,
  // so an ESYS_TR left open would not show here.
  for (int i = 0; i < 100; ++i) round();
  const std::size_t before = HeapInUse();
  for (int i = 0; i < 500; ++i) round();
  const std::size_t after = HeapInUse();
  EXPECT_LT(after, before + 256 * 1024) << "heap grew from " << before << " to " << after;
}

}  // namespace
}  // namespace tc::tpm
