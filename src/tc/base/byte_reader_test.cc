#include "tc/base/byte_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace tc {
namespace {

TEST(ByteReaderTest, ReadsLittleAndBigEndian) {
  const std::vector<std::uint8_t> b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
  ByteReader r(b);
  EXPECT_EQ(r.U16Le().value(), 0x0201);
  EXPECT_EQ(r.U32Be().value(), 0x03040506u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, FailedReadConsumesNothingAndNamesOffset) {
  const std::vector<std::uint8_t> b = {1, 2, 3};
  ByteReader r(b, 100);
  ASSERT_TRUE(r.U8().has_value());
  auto v = r.U32Le();
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(v.error().message().find("offset 101"), std::string::npos)
      << v.error().message();
  EXPECT_EQ(r.offset(), 101u);
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(ByteReaderTest, SizedBytesRejectsLengthBeyondEnd) {
  const std::vector<std::uint8_t> b = {0xF0, 0xFF, 0xFF, 0xFF, 0xAA};
  ByteReader r(b);
  auto v = r.SizedBytesU32Le(1u << 30);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(r.offset(), 0u);
}

TEST(ByteReaderTest, SizedBytesRejectsLengthBeyondCap) {
  const std::vector<std::uint8_t> b = {0x02, 0, 0, 0, 0xAA, 0xBB};
  ByteReader r(b);
  EXPECT_FALSE(r.SizedBytesU32Le(1).has_value());
  auto ok = r.SizedBytesU32Le(2);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), 2u);
}

TEST(ByteReaderTest, SizedBytesU16BeReadsTpm2b) {
  const std::vector<std::uint8_t> b = {0x00, 0x02, 0xAA, 0xBB, 0x00, 0x05};
  ByteReader r(b);
  auto v = r.SizedBytesU16Be(64);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)[1], 0xBB);
  EXPECT_FALSE(r.SizedBytesU16Be(64).has_value());
}

TEST(ByteReaderTest, SubReaderKeepsAbsoluteOffsets) {
  const std::vector<std::uint8_t> b(10, 0);
  ByteReader r(b, 1000);
  ASSERT_TRUE(r.Skip(4).has_value());
  auto sub = r.Sub(3);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->offset(), 1004u);
  auto bad = sub->U32Le();
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("offset 1004"), std::string::npos);
  EXPECT_EQ(r.offset(), 1007u);
}

TEST(ByteReaderTest, HugeSkipDoesNotOverflow) {
  const std::vector<std::uint8_t> b(4, 0);
  ByteReader r(b);
  ASSERT_TRUE(r.Skip(2).has_value());
  EXPECT_FALSE(r.Skip(SIZE_MAX).has_value());
  EXPECT_FALSE(r.Bytes(SIZE_MAX - 1).has_value());
  EXPECT_EQ(r.remaining(), 2u);
}

}  // namespace
}  // namespace tc
