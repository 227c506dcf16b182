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

// A document with every optional member, written by hand.
std::string FullDocument() {
  return R"({"trustchain_policy": 1, "version": 9, "required_banks": ["sha256", "sha1"],
    "refuse_sha1_only": false,
    "components": [
      {"name": "kernel-cmdline", "stage": "cmdline", "match": {"pcr": 8},
       "digests": [{"alg": "sha256", "digest": ")" + kSha + R"(", "state": "trusted",
                    "added": "2026-11-26T10:00:00Z", "content": "root=/dev/vda1 quiet"},
                   {"alg": "sha256", "digest": ")" + std::string(64, 'b') + R"(",
                    "state": "quarantined", "reason": "component tampered: changed",
                    "content": "quiet init=/bin/sh"}]},
      {"name": "staged.efi", "stage": "bootloader", "match": {"pcr": 4}, "required": false,
       "digests": [{"alg": "sha1", "digest": ")" + std::string(40, 'c') + R"(", "state": "trusted"}]}],
    "files": {"/usr/bin/bash": ["sha256:)" + std::string(64, 'd') + R"(", "sha1:)" +
         std::string(40, 'e') + R"("], "/etc/hosts": ["sha256:)" + std::string(64, 'f') + R"("]},
    "excludes": ["/tmp/.*", "/var/log/[a-z]+\\.log"],
    "golden_pcrs": {"sha256": {"0": ")" + std::string(64, '1') + R"(", "7": ")" +
         std::string(64, '2') + R"("}},
    "signature": {"alg": "ecdsa-p256-sha256", "key_id": "00112233", "value": "3006020101020102"}})";
}

crypto::Digest Of(crypto::HashAlg alg, char c) {
  Bytes b(crypto::DigestSize(alg));
  TC_CHECK(DecodeHex(std::string(2 * b.size(), c), b));
  return crypto::Digest(alg, b);
}

TEST(PolicyTest, ParsesEveryOptionalMember) {
  auto p = ParsePolicy(AsBytes(FullDocument()));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->version, 9u);
  EXPECT_EQ(p->required_banks,
            (std::vector<crypto::HashAlg>{crypto::HashAlg::kSha256, crypto::HashAlg::kSha1}));
  EXPECT_FALSE(p->refuse_sha1_only);
  ASSERT_EQ(p->components.size(), 2u);
  const Component& cmdline = p->components[0];
  EXPECT_TRUE(cmdline.required);  // the default
  EXPECT_FALSE(cmdline.match.event_type.has_value());
  ASSERT_EQ(cmdline.digests.size(), 2u);
  EXPECT_EQ(cmdline.digests[0].content, "root=/dev/vda1 quiet");
  EXPECT_EQ(cmdline.digests[0].added, "2026-11-26T10:00:00Z");
  EXPECT_EQ(cmdline.digests[1].state, DigestState::kQuarantined);
  EXPECT_EQ(cmdline.digests[1].reason, "component tampered: changed");
  EXPECT_FALSE(p->components[1].required);
  EXPECT_EQ(p->components[1].digests[0].digest.alg(), crypto::HashAlg::kSha1);
  ASSERT_EQ(p->files.size(), 2u);
  EXPECT_EQ(p->files["/usr/bin/bash"],
            (std::vector<crypto::Digest>{Of(crypto::HashAlg::kSha256, 'd'),
                                         Of(crypto::HashAlg::kSha1, 'e')}));
  EXPECT_EQ(p->files["/etc/hosts"], (std::vector<crypto::Digest>{Of(crypto::HashAlg::kSha256, 'f')}));
  EXPECT_EQ(p->excludes, (std::vector<std::string>{"/tmp/.*", "/var/log/[a-z]+\\.log"}));
  ASSERT_TRUE(p->signature.has_value());
  EXPECT_EQ(p->signature->alg, "ecdsa-p256-sha256");
  EXPECT_EQ(p->signature->key_id, "00112233");
  EXPECT_EQ(p->signature->value, (Bytes{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}));
  EXPECT_EQ(p->golden_pcrs.banks[crypto::HashAlg::kSha256][7], Of(crypto::HashAlg::kSha256, '2'));
}

TEST(PolicyTest, EveryOptionalMemberRoundTrips) {
  auto p = ParsePolicy(AsBytes(FullDocument()));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  const std::string text = SerializePolicy(*p);
  auto q = ParsePolicy(AsBytes(text));
  ASSERT_TRUE(q.has_value()) << q.error().message() << "\n" << text;
  EXPECT_EQ(SerializePolicy(*q), text);
  EXPECT_EQ(q->files, p->files);
  EXPECT_EQ(q->excludes, p->excludes);
  ASSERT_EQ(q->components.size(), 2u);
  EXPECT_TRUE(q->components[0].required);
  EXPECT_FALSE(q->components[1].required);
  EXPECT_EQ(q->components[0].digests[0].content, "root=/dev/vda1 quiet");
  EXPECT_EQ(q->components[0].digests[1].content, "quiet init=/bin/sh");
  EXPECT_EQ(q->components[0].digests[1].reason, "component tampered: changed");
  ASSERT_TRUE(q->signature.has_value());
  EXPECT_EQ(q->signature->value, p->signature->value);
  EXPECT_EQ(q->signature->key_id, "00112233");
  EXPECT_EQ(q->golden_pcrs.banks, p->golden_pcrs.banks);
  EXPECT_FALSE(q->refuse_sha1_only);
  // The signature is in the file, not in what it covers; everything else is.
  EXPECT_EQ(CanonicalBytes(*q).find("signature"), std::string::npos);
  EXPECT_NE(CanonicalBytes(*q).find("/usr/bin/bash"), std::string::npos);
  EXPECT_NE(CanonicalBytes(*q).find("quiet init=/bin/sh"), std::string::npos);
}

TEST(PolicyTest, ABuiltPolicyRoundTrips) {
  Policy p;
  p.version = 4;
  Component c;
  c.name = "x";
  c.stage = Stage::kGuestImage;
  c.required = false;
  AllowedDigest a;
  a.digest = Of(crypto::HashAlg::kSha384, '9');
  a.content = "line one\nline \"two\"\t\\";
  c.digests.push_back(a);
  p.components.push_back(c);
  p.files["/a b/c"] = {Of(crypto::HashAlg::kSha512, '8')};
  p.excludes = {"^/proc/"};
  p.signature = PolicySignature{"ecdsa-p256-sha256", "ab", Bytes{0x30, 0x00}};
  auto q = ParsePolicy(AsBytes(SerializePolicy(p)));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  ASSERT_EQ(q->components.size(), 1u);
  EXPECT_EQ(q->components[0].stage, Stage::kGuestImage);
  EXPECT_FALSE(q->components[0].required);
  EXPECT_EQ(q->components[0].digests[0].digest, a.digest);
  EXPECT_EQ(q->components[0].digests[0].content, a.content);
  EXPECT_EQ(q->files, p.files);
  EXPECT_EQ(q->excludes, p.excludes);
  ASSERT_TRUE(q->signature.has_value());
  EXPECT_EQ(q->signature->value, (Bytes{0x30, 0x00}));
  EXPECT_EQ(q->signature->key_id, "ab");
}

std::string WithMember(std::string_view member) {
  return R"({"trustchain_policy": 1, "version": 1, "components": [], )" + std::string(member) + "}";
}

TEST(PolicyTest, BadOptionalMembersAreRefusedNamingWhere) {
  struct Case {
    std::string json;
    std::string where;
  };
  const std::string sig = R"("alg": "ecdsa-p256-sha256", "key_id": "00", "value": "3000")";
  const std::vector<Case> cases = {
      {WithMember(R"("excludes": ["/tmp/.*", "(["])"), "excludes[1]"},
      {WithMember(R"("excludes": ["(["])"), "excludes[0]"},
      {WithMember(R"("excludes": "/tmp/.*")"), "excludes"},
      {WithMember(R"("files": {"/usr/bin/a": "sha256:)" + kSha + R"("})"),
       "files[\"/usr/bin/a\"]"},
      {WithMember(R"("files": {"/usr/bin/a": []})"), "files[\"/usr/bin/a\"]"},
      {WithMember(R"("files": ["/usr/bin/a"])"), "files"},
      {WithMember(R"("files": {"/usr/bin/a": [")" + kSha + R"("]})"), "files[\"/usr/bin/a\"][0]"},
      {WithMember(R"("files": {"/usr/bin/a": ["sha256:)" + kSha + R"(", "sha256:zz"]})"),
       "files[\"/usr/bin/a\"][1]"},
      {WithMember(R"("files": {"/usr/bin/a": ["md5:)" + std::string(32, 'a') + R"("]})"),
       "files[\"/usr/bin/a\"][0]"},
      {WithMember(R"("files": {"/usr/bin/a": ["sha1:)" + kSha + R"("]})"),
       "files[\"/usr/bin/a\"][0]"},
      {WithMember(R"("files": {"/usr/bin/a": [7]})"), "files[\"/usr/bin/a\"][0]"},
      {WithMember(R"("files": {"/a": ["sha256:)" + kSha + R"("], "/a": ["sha256:)" + kSha + R"("]})"),
       "files[\"/a\"]: listed twice"},
      {WithMember(R"("files": 5)"), "files: expected an object"},
      {WithMember(R"("signature": {)" + sig + R"(, "comment": "x"})"),
       "unknown member \"comment\""},
      {WithMember(R"("signature": {"alg": "ecdsa-p256-sha256", "value": "3000"})"),
       "signature.key_id"},
      {WithMember(R"("signature": {"alg": "ecdsa-p256-sha256", "key_id": "00", "value": "xyz"})"),
       "signature.value"},
      {WithMember(R"("signature": {"alg": "ecdsa-p256-sha256", "key_id": "00", "value": ""})"),
       "signature.value"},
      {WithMember(R"("signature": "3000")"), "signature"},
      {Doc(R"([{"name": "x", "stage": "kernel", "required": "yes", "digests": []}])"),
       "components[0].required"},
      {Doc(R"([{"name": "x", "stage": "kernel", "required": 0, "digests": []}])"),
       "components[0].required"},
      {Doc(R"([{"name": "x", "stage": "kernel", "digests": [
           {"alg": "sha256", "digest": ")" + kSha + R"(", "state": "trusted"},
           {"alg": "sha256", "digest": ")" + std::string(64, 'c') + R"(", "state": "trusted"},
           {"alg": "sha256", "digest": ")" + std::string(64, 'A') + R"(", "state": "quarantined"}]}])"),
       "components[0].digests[2].digest"},
  };
  for (const Case& c : cases) {
    auto p = ParsePolicy(AsBytes(c.json));
    ASSERT_FALSE(p.has_value()) << c.json;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument) << p.error().message();
    EXPECT_NE(p.error().message().find(c.where), std::string::npos)
        << "want \"" << c.where << "\" in: " << p.error().message();
  }
}

TEST(PolicyTest, SameDigestInTwoBanksOrComponentsIsAllowed) {
  // Listed twice means the same algorithm and bytes in one component.
  auto p = ParsePolicy(AsBytes(Doc(R"([
      {"name": "x", "stage": "kernel", "digests": [
         {"alg": "sha256", "digest": ")" + kSha + R"(", "state": "trusted"},
         {"alg": "sm3_256", "digest": ")" + kSha + R"(", "state": "trusted"}]},
      {"name": "y", "stage": "initrd", "digests": [
         {"alg": "sha256", "digest": ")" + kSha + R"(", "state": "trusted"}]}])")));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->components[0].digests.size(), 2u);
}

}  // namespace
}  // namespace tc::policy
