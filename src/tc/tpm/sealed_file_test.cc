#include "tc/tpm/sealed_file.h"

#include <cstdint>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tc::tpm {
namespace {

using crypto::HashAlg;
using ::testing::HasSubstr;

SealedObject Sample() {
  SealedObject s;
  s.public_2b = {0x00, 0x03, 0xAA, 0xBB, 0xCC};
  s.private_2b = {0x00, 0x02, 0x11, 0x22};
  s.pcrs = {{HashAlg::kSha256, {0, 7, 16}}, {HashAlg::kSha1, {23}}};
  return s;
}

// The bytes of Sample(), written out by hand from the format in the header.
Bytes SampleFile() {
  return {'T', 'C', 'S', 'E', 'A', 'L', 'E', 'D',  // magic
          0x00, 0x01,                              // version
          0x02,                                    // banks
          0x00, 0x0B, 0x03, 0, 7, 16,              // sha256: 0,7,16
          0x00, 0x04, 0x01, 23,                    // sha1: 23
          0x00, 0x05, 0x00, 0x03, 0xAA, 0xBB, 0xCC,
          0x00, 0x04, 0x00, 0x02, 0x11, 0x22};
}

void ExpectSame(const SealedObject& a, const SealedObject& b) {
  EXPECT_EQ(a.public_2b, b.public_2b);
  EXPECT_EQ(a.private_2b, b.private_2b);
  ASSERT_EQ(a.pcrs.size(), b.pcrs.size());
  for (std::size_t i = 0; i < a.pcrs.size(); ++i) {
    EXPECT_EQ(a.pcrs[i].alg, b.pcrs[i].alg);
    EXPECT_EQ(a.pcrs[i].pcrs, b.pcrs[i].pcrs);
  }
}

ErrorCode ParseCode(const Bytes& file) {
  auto r = ParseSealedObject(file);
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? ErrorCode::kInternal : r.error().code();
}

TEST(SealedFileTest, SerializesToDocumentedBytes) {
  auto file = SerializeSealedObject(Sample());
  ASSERT_TRUE(file.has_value()) << file.error().message();
  EXPECT_EQ(*file, SampleFile());
}

TEST(SealedFileTest, RoundTrips) {
  auto parsed = ParseSealedObject(SampleFile());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ExpectSame(*parsed, Sample());
}

TEST(SealedFileTest, SerializeMergesBanksAndSortsPcrs) {
  SealedObject s = Sample();
  s.pcrs = {{HashAlg::kSha256, {16, 0}}, {HashAlg::kSha1, {23}}, {HashAlg::kSha256, {7, 0}}};
  auto file = SerializeSealedObject(s);
  ASSERT_TRUE(file.has_value()) << file.error().message();
  EXPECT_EQ(*file, SampleFile());
}

TEST(SealedFileTest, SerializeRejectsBadObjects) {
  SealedObject no_pcrs = Sample();
  no_pcrs.pcrs = {{HashAlg::kSha256, {}}};
  SealedObject bad_pcr = Sample();
  bad_pcr.pcrs = {{HashAlg::kSha256, {24}}};
  SealedObject empty_blob = Sample();
  empty_blob.private_2b.clear();
  SealedObject huge_blob = Sample();
  huge_blob.public_2b.assign(kMaxSealedBlobSize + 1, 0);
  for (const SealedObject& s : {no_pcrs, bad_pcr, empty_blob, huge_blob}) {
    auto file = SerializeSealedObject(s);
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(SealedFileTest, RejectsWrongMagicAndVersion) {
  Bytes file = SampleFile();
  file[0] = 'X';
  EXPECT_EQ(ParseCode(file), ErrorCode::kMalformed);
  file = SampleFile();
  file[9] = 2;
  EXPECT_EQ(ParseCode(file), ErrorCode::kUnsupported);
}

TEST(SealedFileTest, RejectsEveryTruncation) {
  const Bytes file = SampleFile();
  for (std::size_t n = 0; n < file.size(); ++n) {
    EXPECT_EQ(ParseCode(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n))),
              ErrorCode::kMalformed)
        << n;
  }
}

TEST(SealedFileTest, RejectsTrailingBytes) {
  Bytes file = SampleFile();
  file.push_back(0);
  auto r = ParseSealedObject(file);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_THAT(r.error().message(), HasSubstr("trailing"));
}

// One negative test per count and length field, and per selection rule.
TEST(SealedFileTest, RejectsFieldsOutOfRange) {
  auto with = [](std::size_t at, std::uint8_t v) {
    Bytes f = SampleFile();
    f[at] = v;
    return f;
  };
  EXPECT_EQ(ParseCode(with(10, 0)), ErrorCode::kMalformed);     // no bank
  EXPECT_EQ(ParseCode(with(10, 17)), ErrorCode::kMalformed);    // too many banks
  EXPECT_EQ(ParseCode(with(12, 0x99)), ErrorCode::kMalformed);  // unknown hash
  EXPECT_EQ(ParseCode(with(18, 0x0B)), ErrorCode::kMalformed);  // sha256 twice
  EXPECT_EQ(ParseCode(with(13, 0)), ErrorCode::kMalformed);     // no PCR
  EXPECT_EQ(ParseCode(with(13, 25)), ErrorCode::kMalformed);    // too many PCRs
  EXPECT_EQ(ParseCode(with(15, 0)), ErrorCode::kMalformed);     // 0, 0: not ascending
  EXPECT_EQ(ParseCode(with(16, 24)), ErrorCode::kMalformed);    // PCR 24
  EXPECT_EQ(ParseCode(with(22, 0)), ErrorCode::kMalformed);     // public size 0
  EXPECT_EQ(ParseCode(with(21, 0xFF)), ErrorCode::kMalformed);  // public size > cap
  EXPECT_EQ(ParseCode(with(29, 0)), ErrorCode::kMalformed);     // private size 0
  EXPECT_EQ(ParseCode(with(29, 0x40)), ErrorCode::kMalformed);  // private past the end
  EXPECT_EQ(ParseCode(Bytes(kMaxSealedFileSize + 1, 0)), ErrorCode::kMalformed);
}

TEST(SealedFileTest, LargestObjectRoundTrips) {
  SealedObject s;
  s.public_2b.assign(kMaxSealedBlobSize, 0x01);
  s.private_2b.assign(kMaxSealedBlobSize, 0x02);
  for (std::uint16_t alg : {0x0004, 0x000B, 0x000C, 0x000D, 0x0012}) {
    PcrSelection sel{static_cast<HashAlg>(alg), {}};
    for (std::uint32_t p = 0; p < 24; ++p) sel.pcrs.push_back(p);
    s.pcrs.push_back(sel);
  }
  auto file = SerializeSealedObject(s);
  ASSERT_TRUE(file.has_value()) << file.error().message();
  EXPECT_LE(file->size(), kMaxSealedFileSize);
  auto parsed = ParseSealedObject(*file);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ExpectSame(*parsed, s);
}

}  // namespace
}  // namespace tc::tpm
