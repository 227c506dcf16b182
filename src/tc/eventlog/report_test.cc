#include "tc/eventlog/report.h"

#include <gtest/gtest.h>

#include "tc/eventlog/test_util.h"

namespace tc::eventlog {
namespace {

using crypto::HashAlg;
using testing::LogBuilder;

TEST(ReplayDocumentTest, BanksMapPcrIndexToLowercaseHex) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha1, HashAlg::kSha256})
                                 .Event(4, ev::kEfiAction, "a")
                                 .bytes());
  ASSERT_TRUE(log.has_value());
  auto replay = Replay(*log);
  const doc::Value d = ReplayDocument({&*log, &*replay, nullptr});
  const doc::Value* banks = d.Find("banks");
  ASSERT_NE(banks, nullptr);
  const doc::Value* sha256 = banks->Find("sha256");
  ASSERT_NE(sha256, nullptr);
  const doc::Value* pcr4 = sha256->Find("4");
  ASSERT_NE(pcr4, nullptr);
  EXPECT_EQ(pcr4->str(), replay->pcrs.Find(HashAlg::kSha256, 4)->Hex());
  EXPECT_NE(banks->Find("sha1"), nullptr);
  EXPECT_EQ(d.Find("comparison"), nullptr);
}

TEST(ShowDocumentTest, SaysContentIsUnverifiedAndMarksVerifiedEvents) {
  auto log = EventLog::Parse(LogBuilder::Agile({HashAlg::kSha256})
                                 .Event(4, ev::kEfiAction, "a")
                                 .Event(5, ev::kEfiAction, "b")
                                 .bytes());
  auto replay = Replay(*log);
  pcr::PcrValues reported;
  reported.banks[HashAlg::kSha256][4] = *replay->pcrs.Find(HashAlg::kSha256, 4);
  reported.banks[HashAlg::kSha256][5] = crypto::Digest(HashAlg::kSha256);
  const Verification v = VerifyReplay(*log, *replay, reported);
  const doc::Value d = ShowDocument({&*log, &v});
  ASSERT_NE(d.Find("trust"), nullptr);
  EXPECT_NE(d.Find("trust")->str().find("unverified"), std::string::npos);
  const auto& events = d.Find("events")->array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(std::get<bool>(events[1].Find("verified")->variant()), true);
  EXPECT_EQ(std::get<bool>(events[2].Find("verified")->variant()), false);
  EXPECT_EQ(events[1].Find("data_check")->str(), "matches");
  EXPECT_FALSE(std::get<bool>(d.Find("comparison")->Find("all_match")->variant()));
}

TEST(ShowTextTest, RealVmBootChainIsReadable) {
  auto shared = testing::SharedDir();
  if (!shared) GTEST_SKIP() << "missing ../shared/corpus (set TC_SHARED_DIR)";
  auto log = EventLog::Parse(testing::ReadBytes(*shared / "corpus/vm/baseline-tcg/eventlog.bin"));
  ASSERT_TRUE(log.has_value());
  const std::string text = ShowText({&*log, nullptr});
  // Firmware volumes, boot variables, boot loader, kernel, command line, initrd.
  for (const char* want :
       {"EV_EFI_PLATFORM_FIRMWARE_BLOB", "BootOrder = 0001,0000,0002", "Boot0001 = \"UEFI Misc Device\"",
        "\\EFI\\BOOT\\BOOTX64.EFI", "\\vmlinuz",
        "initrd=\\initrd.img console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet "
        "mbtest.variant=A",
        "Linux initrd", "Exit Boot Services Invocation", "unverified"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want;
  }
}

}  // namespace
}  // namespace tc::eventlog
