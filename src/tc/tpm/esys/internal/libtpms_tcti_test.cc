// The embedded TCTI's contract (tss2_tcti.h semantics), with raw commands.

#include "tc/tpm/esys/internal/libtpms_tcti.h"

#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "tc/tpm/esys/test_util.h"

namespace tc::tpm::internal {
namespace {

// TPM2_GetRandom(bytesRequested = 16) (TPM 2.0 Part 3, 16.1).
constexpr std::array<std::uint8_t, 12> kGetRandom16 = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b, 0x00, 0x10};
// Header (10), TPM2B size (2), 16 bytes.
constexpr std::size_t kGetRandom16ResponseSize = 28;

TEST(LibtpmsTctiTest, ReceiveHonoursCallerSize) {
  tc::tpm::testing::TempDir dir;
  auto tcti = OpenLibtpmsTcti(dir.path());
  ASSERT_TRUE(tcti.has_value()) << tcti.error().message();
  TSS2_TCTI_CONTEXT* t = tcti->get();

  std::vector<std::uint8_t> buf(4096);
  std::size_t size = buf.size();
  EXPECT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), TSS2_TCTI_TIMEOUT_BLOCK),
            TSS2_TCTI_RC_BAD_SEQUENCE);

  ASSERT_EQ(Tss2_Tcti_Transmit(t, kGetRandom16.size(), kGetRandom16.data()), TSS2_RC_SUCCESS);
  EXPECT_EQ(Tss2_Tcti_Transmit(t, kGetRandom16.size(), kGetRandom16.data()),
            TSS2_TCTI_RC_BAD_SEQUENCE);
  size = 0;
  ASSERT_EQ(Tss2_Tcti_Receive(t, &size, nullptr, TSS2_TCTI_TIMEOUT_BLOCK), TSS2_RC_SUCCESS);
  EXPECT_EQ(size, kGetRandom16ResponseSize);
  size = 10;
  EXPECT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), TSS2_TCTI_TIMEOUT_BLOCK),
            TSS2_TCTI_RC_INSUFFICIENT_BUFFER);
  EXPECT_EQ(size, kGetRandom16ResponseSize);
  EXPECT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), -2), TSS2_TCTI_RC_BAD_VALUE);
  // The response is still there, and ready without waiting.
  size = buf.size();
  ASSERT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), TSS2_TCTI_TIMEOUT_NONE), TSS2_RC_SUCCESS);
  ASSERT_EQ(size, kGetRandom16ResponseSize);
  EXPECT_EQ(buf[0], 0x80);
  EXPECT_EQ(buf[5], kGetRandom16ResponseSize);
  EXPECT_EQ(buf[9], 0x00);  // TPM_RC_SUCCESS
  EXPECT_EQ(buf[11], 16);   // TPM2B size
  size = buf.size();
  EXPECT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), TSS2_TCTI_TIMEOUT_BLOCK),
            TSS2_TCTI_RC_BAD_SEQUENCE);
}

TEST(LibtpmsTctiTest, RejectsBadCommandsAndCalls) {
  tc::tpm::testing::TempDir dir;
  auto tcti = OpenLibtpmsTcti(dir.path());
  ASSERT_TRUE(tcti.has_value()) << tcti.error().message();
  TSS2_TCTI_CONTEXT* t = tcti->get();

  // Header size field (12) disagrees with the length passed.
  std::vector<std::uint8_t> cmd(kGetRandom16.begin(), kGetRandom16.end());
  cmd.push_back(0);
  EXPECT_EQ(Tss2_Tcti_Transmit(t, cmd.size(), cmd.data()), TSS2_TCTI_RC_BAD_VALUE);
  EXPECT_EQ(Tss2_Tcti_Transmit(t, 6, cmd.data()), TSS2_TCTI_RC_BAD_VALUE);
  std::vector<std::uint8_t> huge(kLibtpmsBufferMax + 1);
  EXPECT_EQ(Tss2_Tcti_Transmit(t, huge.size(), huge.data()), TSS2_TCTI_RC_BAD_VALUE);
  EXPECT_EQ(Tss2_Tcti_Transmit(t, 12, nullptr), TSS2_TCTI_RC_BAD_REFERENCE);

  EXPECT_EQ(Tss2_Tcti_SetLocality(t, 5), TSS2_TCTI_RC_BAD_VALUE);
  EXPECT_EQ(Tss2_Tcti_SetLocality(t, 0), TSS2_RC_SUCCESS);
  EXPECT_EQ(Tss2_Tcti_Cancel(t), TSS2_TCTI_RC_NOT_IMPLEMENTED);
  std::size_t n = 0;
  EXPECT_EQ(Tss2_Tcti_GetPollHandles(t, nullptr, &n), TSS2_TCTI_RC_NOT_IMPLEMENTED);

  // A garbage command gets a TPM error response, not a TCTI failure.
  std::array<std::uint8_t, 10> junk = {0x80, 0x01, 0, 0, 0, 10, 0xde, 0xad, 0xbe, 0xef};
  ASSERT_EQ(Tss2_Tcti_Transmit(t, junk.size(), junk.data()), TSS2_RC_SUCCESS);
  std::array<std::uint8_t, 4096> buf{};
  std::size_t size = buf.size();
  ASSERT_EQ(Tss2_Tcti_Receive(t, &size, buf.data(), TSS2_TCTI_TIMEOUT_BLOCK), TSS2_RC_SUCCESS);
  EXPECT_EQ(size, 10u);
  EXPECT_NE(buf[9] | buf[8] | buf[7] | buf[6], 0);
}

}  // namespace
}  // namespace tc::tpm::internal
