#include "tc/policy/policy.h"

#include <gtest/gtest.h>

#include "tc/base/hex.h"

namespace tc::policy {
namespace {

const std::string kSha = std::string(64, 'a');

std::string Doc(std::string_view components) {
  return R"({"trustchain_policy": 1, "version": 3, "required_banks": ["sha256"],
             "refuse_sha1_only": true, "components": )" + std::string(components) + "}";
}

std::string OneComponent(std::string_view stage = "bootloader", std::string_view extra = "") {
  return Doc(R"([{"name": "systemd-boot", "stage": ")" + std::string(stage) +
             R"(", "match": {"pcr": 4, "event_type": 2147483651, "description": "\\EFI\\BOOT\\BOOTX64.EFI"},
                "digests": [{"alg": "sha256", "digest": ")" + kSha +
             R"(", "state": "trusted", "source": "eventlog event 23"})" + std::string(extra) + "]}]");
}

TEST(PolicyTest, ParsesAndRoundTrips) {
  auto p = ParsePolicy(AsBytes(OneComponent()));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->version, 3u);
  ASSERT_EQ(p->components.size(), 1u);
  const Component& c = p->components[0];
  EXPECT_EQ(c.stage, Stage::kBootloader);
  EXPECT_EQ(c.match.pcr, 4u);
  EXPECT_EQ(c.match.event_type, 0x80000003u);
  EXPECT_EQ(c.match.description, "\\EFI\\BOOT\\BOOTX64.EFI");
  ASSERT_EQ(c.digests.size(), 1u);
  EXPECT_EQ(c.digests[0].digest.Hex(), kSha);
  const std::string again = SerializePolicy(*p);
  auto q = ParsePolicy(AsBytes(again));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(SerializePolicy(*q), again);
}

TEST(PolicyTest, EveryStageNameRoundTrips) {
  for (const char* s : {"firmware", "bootloader", "vmm", "kernel", "initrd", "cmdline", "secureboot",
                        "os-file", "guest-firmware", "guest-kernel", "guest-initrd",
                        "guest-cmdline", "guest-image"}) {
    const auto stage = StageFromName(s);
    ASSERT_TRUE(stage.has_value()) << s;
    EXPECT_EQ(StageName(*stage), s);
  }
}

TEST(PolicyTest, BadPoliciesAreRefusedNamingWhere) {
  struct Case {
    std::string json;
    ErrorCode code;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"{", ErrorCode::kMalformed, "line 1"},
      {R"({"trustchain_policy": 2, "version": 1, "components": []})", ErrorCode::kUnsupported,
       "format 2"},
      {R"({"version": 1, "components": []})", ErrorCode::kInvalidArgument, "trustchain_policy"},
      {OneComponent("firmwar"), ErrorCode::kInvalidArgument, "components[0].stage"},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": [{"alg": "sha256", "digest": "zz", "state": "trusted"}]}])"),
       ErrorCode::kInvalidArgument, "components[0].digests[0].digest"},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": [{"alg": "md5", "digest": "00", "state": "trusted"}]}])"),
       ErrorCode::kInvalidArgument, "unknown algorithm"},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": [], "exludes": []}])"),
       ErrorCode::kInvalidArgument, "unknown member \"exludes\""},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": []}, {"name": "x", "stage": "initrd", "digests": []}])"),
       ErrorCode::kInvalidArgument, "components[1].name"},
      {Doc(R"([{"name": "x", "stage": "kernel", "match": {"pcr": 24}, "digests": []}])"),
       ErrorCode::kInvalidArgument, "components[0].match.pcr"},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": [{"alg": "sha256", "digest": ")" + kSha +
           R"(", "state": "maybe"}]}])"),
       ErrorCode::kInvalidArgument, "components[0].digests[0].state"},
  };
  for (const Case& c : cases) {
    auto p = ParsePolicy(AsBytes(c.json));
    ASSERT_FALSE(p.has_value()) << c.json;
    EXPECT_EQ(p.error().code(), c.code) << p.error().message();
    EXPECT_NE(p.error().message().find(c.where), std::string::npos) << p.error().message();
  }
}

}  // namespace
}  // namespace tc::policy
