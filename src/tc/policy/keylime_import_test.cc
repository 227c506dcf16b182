#include "tc/policy/keylime_import.h"

#include <string>

#include <gtest/gtest.h>

#include "tc/base/hex.h"

namespace tc::policy {
namespace {

// sha256("") and sha1(""): digests of the form Keylime writes.
const std::string kSha256Empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kSha1Empty = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
constexpr const char* kNow = "2026-11-26T10:00:00Z";

crypto::Digest Sha256(const std::string& hex) {
  Bytes b(32);
  TC_CHECK(DecodeHex(hex, b));
  return crypto::Digest(crypto::HashAlg::kSha256, b);
}

crypto::Digest Sha1(const std::string& hex) {
  Bytes b(20);
  TC_CHECK(DecodeHex(hex, b));
  return crypto::Digest(crypto::HashAlg::kSha1, b);
}

std::string Hex64(char c) { return std::string(64, c); }

bool AnyLineHas(const LearnNotes& notes, std::string_view text) {
  for (const std::string& l : notes.lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string RuntimePolicy(std::string_view digests_member = "digests",
                          std::string_view digests = "") {
  const std::string d = digests.empty() ? R"({"/usr/bin/a": [")" + kSha256Empty + R"(", ")" +
                                              kSha1Empty + R"("], "/usr/lib/b.so": [")" +
                                              Hex64('1') + R"("]})"
                                        : std::string(digests);
  return R"({"meta": {"version": 1, "generator": 1}, ")" + std::string(digests_member) +
         R"(": )" + d + R"(, "excludes": ["/tmp/.*", "/var/log/.*"], "keyrings": {},
            "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1"}, "ima-buf": {},
            "verification-keys": ""})";
}

TEST(ImportKeylimeRuntimePolicyTest, DigestsBecomeFilesAndExcludes) {
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRuntimePolicy(AsBytes(RuntimePolicy()), p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  ASSERT_EQ(p.files.size(), 2u);
  ASSERT_EQ(p.files.count("/usr/bin/a"), 1u);
  const std::vector<crypto::Digest> want = {Sha256(kSha256Empty), Sha1(kSha1Empty)};
  EXPECT_EQ(p.files["/usr/bin/a"], want);
  EXPECT_EQ(p.files["/usr/lib/b.so"], std::vector<crypto::Digest>{Sha256(Hex64('1'))});
  EXPECT_EQ(p.excludes, (std::vector<std::string>{"/tmp/.*", "/var/log/.*"}));
  EXPECT_EQ(notes.files_added, 3u);
  EXPECT_TRUE(p.components.empty());
  // Empty keyrings, ima-buf and verification keys: nothing to warn about.
  EXPECT_FALSE(AnyLineHas(notes, "not imported"));
  // The result is a policy that reads back.
  auto back = ParsePolicy(AsBytes(SerializePolicy(p)));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->files, p.files);
  EXPECT_EQ(back->excludes, p.excludes);
}

TEST(ImportKeylimeRuntimePolicyTest, LegacyHashesForm) {
  const std::string json = R"({"hashes": {"/usr/bin/a": [")" + kSha1Empty + R"("],
                                          "/boot/aggregate": [")" + Hex64('A') + R"("]}})";
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRuntimePolicy(AsBytes(json), p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(p.files["/usr/bin/a"], std::vector<crypto::Digest>{Sha1(kSha1Empty)});
  EXPECT_EQ(p.files["/boot/aggregate"], std::vector<crypto::Digest>{Sha256(Hex64('a'))});
  EXPECT_TRUE(p.excludes.empty());
  EXPECT_EQ(notes.files_added, 2u);
}

TEST(ImportKeylimeRuntimePolicyTest, MergesWithExistingFilesWithoutDuplicates) {
  Policy p;
  p.files["/usr/bin/a"] = {Sha256(kSha256Empty)};
  LearnNotes notes;
  auto ok = ImportKeylimeRuntimePolicy(AsBytes(RuntimePolicy()), p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(p.files["/usr/bin/a"].size(), 2u);
  EXPECT_EQ(notes.files_added, 2u);
}

TEST(ImportKeylimeRuntimePolicyTest, NotesWhatIsNotImported) {
  const std::string json = R"({"digests": {}, "keyrings": {"ima": [")" + Hex64('2') +
                           R"("]}, "verification-keys": "[{\"kty\": \"EC\"}]"})";
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRuntimePolicy(AsBytes(json), p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_TRUE(AnyLineHas(notes, "\"keyrings\""));
  EXPECT_TRUE(AnyLineHas(notes, "\"verification-keys\""));
  EXPECT_FALSE(AnyLineHas(notes, "\"ima-buf\""));
  EXPECT_TRUE(p.files.empty());
}

TEST(ImportKeylimeRuntimePolicyTest, BadInputIsRefusedNamingWhere) {
  struct Case {
    std::string json;
    ErrorCode code;
    std::string where;
  };
  const std::vector<Case> cases = {
      {RuntimePolicy("digests", R"({"/usr/bin/a": ["abcd"]})"), ErrorCode::kInvalidArgument,
       "digests[\"/usr/bin/a\"][0]"},
      {RuntimePolicy("digests", R"({"/usr/bin/a": [")" + kSha1Empty + R"(", ")" +
                                    std::string(63, 'b') + R"("]})"),
       ErrorCode::kInvalidArgument, "digests[\"/usr/bin/a\"][1]"},
      {RuntimePolicy("digests", R"({"/usr/bin/a": [")" + std::string(64, 'g') + R"("]})"),
       ErrorCode::kInvalidArgument, "digests[\"/usr/bin/a\"][0]"},
      {RuntimePolicy("digests", R"({"/usr/bin/a": [42]})"), ErrorCode::kInvalidArgument,
       "digests[\"/usr/bin/a\"][0]"},
      {RuntimePolicy("digests", R"({"/usr/bin/a": ")" + kSha256Empty + R"("})"),
       ErrorCode::kInvalidArgument, "digests[\"/usr/bin/a\"]"},
      {RuntimePolicy("digests", R"(["/usr/bin/a"])"), ErrorCode::kInvalidArgument, "digests"},
      {R"({"meta": {"version": 1}})", ErrorCode::kInvalidArgument, "digests"},
      {R"([1, 2])", ErrorCode::kInvalidArgument, "policy"},
      {R"({"digests": {}, "excludes": "/tmp/.*"})", ErrorCode::kInvalidArgument, "excludes"},
      {R"({"digests": {}, "excludes": [1]})", ErrorCode::kInvalidArgument, "excludes"},
      {"{\"digests\": {\n  \"/a\": [,]}}", ErrorCode::kMalformed, "line 2"},
      {"", ErrorCode::kMalformed, "line 1"},
  };
  for (const Case& c : cases) {
    Policy p;
    LearnNotes notes;
    auto r = ImportKeylimeRuntimePolicy(AsBytes(c.json), p, notes);
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error().code(), c.code) << r.error().message();
    EXPECT_NE(r.error().message().find(c.where), std::string::npos)
        << "want \"" << c.where << "\" in: " << r.error().message();
  }
}

// ParsePolicy compiles every exclude; an import must not write one that
// the saved policy could not be read back with.
TEST(ImportKeylimeRuntimePolicyTest, ExcludeThatDoesNotCompileIsRefused) {
  const std::string json = R"({"digests": {"/usr/bin/a": [")" + kSha256Empty +
                           R"("]}, "excludes": ["/tmp/.*", "(["]})";
  Policy p;
  LearnNotes notes;
  auto r = ImportKeylimeRuntimePolicy(AsBytes(json), p, notes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("excludes[1]"), std::string::npos) << r.error().message();
}

TEST(ImportKeylimeRuntimePolicyTest, FailureLeavesPolicyAndNotesAsTheyWere) {
  Policy p;
  p.files["/usr/bin/old"] = {Sha256(Hex64('9'))};
  p.excludes = {"/proc/.*"};
  LearnNotes notes;
  notes.lines = {"earlier"};
  notes.files_added = 1;
  const std::string before = SerializePolicy(p);
  // The first path is good, the second is not, and the excludes come after.
  const std::string json = R"({"digests": {"/usr/bin/a": [")" + kSha256Empty +
                           R"("], "/usr/bin/b": ["12"]}, "excludes": ["/tmp/.*"]})";
  auto r = ImportKeylimeRuntimePolicy(AsBytes(json), p, notes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(SerializePolicy(p), before);
  EXPECT_EQ(notes.lines, std::vector<std::string>{"earlier"});
  EXPECT_EQ(notes.files_added, 1u);
  // An exclude that does not compile, after good digests.
  const std::string bad_exclude = R"({"digests": {"/usr/bin/a": [")" + kSha256Empty +
                                  R"("]}, "excludes": ["(["]})";
  r = ImportKeylimeRuntimePolicy(AsBytes(bad_exclude), p, notes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(SerializePolicy(p), before);
  EXPECT_EQ(notes.files_added, 1u);
}

std::string Refstate() {
  return R"({
    "scrtm_and_bios": [{"scrtm": "0x)" + Hex64('1') + R"(",
                        "platform_firmware": ["0x)" + Hex64('2') + R"("]}],
    "pk": [], "kek": [], "db": [], "dbx": [],
    "mokdig": [{"sha256": "0x)" + Hex64('3') + R"("}],
    "mokxdig": [],
    "kernels": [{"shim_authcode_sha256": "0x)" + Hex64('4') + R"(",
                 "grub_authcode_sha256": "0x)" + Hex64('5') + R"(",
                 "kernel_authcode_sha256": "0x)" + Hex64('6') + R"(",
                 "initrd_plain_sha256": "0x)" + Hex64('7') + R"(",
                 "kernel_cmdline": "console=.*"}]})";
}

void ExpectComponent(const Policy& p, const std::string& name, Stage stage, std::uint32_t pcr,
                     const std::vector<crypto::Digest>& digests) {
  const Component* c = p.FindComponent(name);
  ASSERT_NE(c, nullptr) << name;
  EXPECT_EQ(c->stage, stage) << name;
  EXPECT_EQ(c->match.pcr, pcr) << name;
  EXPECT_FALSE(c->required) << name;
  ASSERT_EQ(c->digests.size(), digests.size()) << name;
  for (std::size_t i = 0; i < digests.size(); ++i) {
    EXPECT_EQ(c->digests[i].digest, digests[i]) << name << " " << i;
    EXPECT_EQ(c->digests[i].state, DigestState::kTrusted) << name;
    EXPECT_EQ(c->digests[i].added, kNow) << name;
    EXPECT_NE(c->digests[i].source.find("refstate.json"), std::string::npos)
        << c->digests[i].source;
  }
}

TEST(ImportKeylimeRefstateTest, ComponentsFromEveryPart) {
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(p.components.size(), 6u);
  ExpectComponent(p, "keylime-shim", Stage::kBootloader, 4, {Sha256(Hex64('4'))});
  ExpectComponent(p, "keylime-grub", Stage::kBootloader, 4, {Sha256(Hex64('5'))});
  ExpectComponent(p, "keylime-kernel", Stage::kKernel, 4, {Sha256(Hex64('6'))});
  ExpectComponent(p, "keylime-initrd", Stage::kInitrd, 9, {Sha256(Hex64('7'))});
  ExpectComponent(p, "keylime-platform-firmware", Stage::kFirmware, 0,
                  {Sha256(Hex64('1')), Sha256(Hex64('2'))});
  ExpectComponent(p, "keylime-mokdig", Stage::kSecureBoot, 14, {Sha256(Hex64('3'))});
  EXPECT_EQ(p.FindComponent("keylime-mokxdig"), nullptr);  // empty list
  // Boot applications are PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION loads.
  EXPECT_EQ(p.FindComponent("keylime-shim")->match.event_type, 0x80000003u);
  // Where a digest came from names the Keylime member.
  EXPECT_NE(p.FindComponent("keylime-shim")->digests[0].source.find("kernels[0]"),
            std::string::npos);
  EXPECT_TRUE(p.files.empty());
}

TEST(ImportKeylimeRefstateTest, NotesWhatDoesNotMapToDigests) {
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_TRUE(AnyLineHas(notes, "kernel_cmdline")) << ::testing::PrintToString(notes.lines);
  EXPECT_TRUE(AnyLineHas(notes, "\"db\"")) << ::testing::PrintToString(notes.lines);
  EXPECT_TRUE(AnyLineHas(notes, "\"dbx\""));
  EXPECT_TRUE(AnyLineHas(notes, "\"pk\""));
  EXPECT_TRUE(AnyLineHas(notes, "\"kek\""));
}

// BUG: keylime_import.cc ImportRefstate (line 198) adds the number
// of digests imported to LearnNotes::components_added, whereas LearnEventLog
// and LearnFiles (learn.cc) count components there. The reference state
// above gives 6 components holding 7 digests; components_added is 7.
TEST(ImportKeylimeRefstateTest, CountsComponentsAdded) {
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(notes.components_added, 6u);
}

TEST(ImportKeylimeRefstateTest, ResultReadsBackAndReimportAddsNothing) {
  Policy p;
  LearnNotes notes;
  ASSERT_TRUE(ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes).has_value());
  const std::string first = SerializePolicy(p);
  auto back = ParsePolicy(AsBytes(first));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(SerializePolicy(*back), first);
  ASSERT_TRUE(ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes).has_value());
  EXPECT_EQ(SerializePolicy(p), first);
}

TEST(ImportKeylimeRefstateTest, SeveralKernelsShareComponents) {
  const std::string json = R"({"kernels": [
      {"kernel_authcode_sha256": "0x)" + Hex64('a') + R"("},
      {"kernel_authcode_sha256": ")" + Hex64('b') + R"(", "vmlinuz_plain_sha256": ")" +
                           Hex64('c') + R"("}]})";
  Policy p;
  LearnNotes notes;
  auto ok = ImportKeylimeRefstate(AsBytes(json), "rs", kNow, p, notes);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  const Component* k = p.FindComponent("keylime-kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->digests.size(), 2u);
  EXPECT_NE(k->Find(Sha256(Hex64('a'))), nullptr);
  EXPECT_NE(k->Find(Sha256(Hex64('b'))), nullptr);
  const Component* file = p.FindComponent("keylime-kernel-file");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->match.pcr, 9u);
  EXPECT_EQ(p.FindComponent("keylime-shim"), nullptr);
}

TEST(ImportKeylimeRefstateTest, FailureLeavesPolicyAndNotesAsTheyWere) {
  Policy p;
  LearnNotes notes;
  ASSERT_TRUE(ImportKeylimeRefstate(AsBytes(Refstate()), "refstate.json", kNow, p, notes).has_value());
  const std::string before = SerializePolicy(p);
  const LearnNotes notes_before = notes;
  // A new kernel and a new firmware blob are read before the bad mokdig.
  const std::string json = R"({"kernels": [{"kernel_authcode_sha256": ")" + Hex64('d') +
                           R"("}], "scrtm_and_bios": [{"scrtm": ")" + Hex64('e') +
                           R"("}], "mokdig": [{"sha256": "0x12"}]})";
  auto r = ImportKeylimeRefstate(AsBytes(json), "rs2", kNow, p, notes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(SerializePolicy(p), before);
  EXPECT_EQ(notes.lines, notes_before.lines);
  EXPECT_EQ(notes.components_added, notes_before.components_added);
}

TEST(ImportKeylimeRefstateTest, BadInputIsRefusedNamingWhere) {
  struct Case {
    std::string json;
    ErrorCode code;
    std::string where;
  };
  const std::vector<Case> cases = {
      {R"({"kernels": [{"shim_authcode_sha256": "0x1234"}]})", ErrorCode::kInvalidArgument,
       "kernels[0].shim_authcode_sha256"},
      // A sha1-sized value where sha256 is named.
      {R"({"kernels": [{}, {"initrd_plain_sha256": ")" + std::string(40, '1') + R"("}]})",
       ErrorCode::kInvalidArgument, "kernels[1].initrd_plain_sha256"},
      {R"({"kernels": {}})", ErrorCode::kInvalidArgument, "kernels"},
      {R"({"kernels": ["x"]})", ErrorCode::kInvalidArgument, "kernels[0]"},
      {R"({"scrtm_and_bios": [{"scrtm": "0xzz"}]})", ErrorCode::kInvalidArgument,
       "scrtm_and_bios[0].scrtm"},
      {R"({"scrtm_and_bios": [{"platform_firmware": [")" + Hex64('1') + R"(", 7]}]})",
       ErrorCode::kInvalidArgument, "scrtm_and_bios[0].platform_firmware[1]"},
      {R"({"scrtm_and_bios": [{"platform_firmware": "x"}]})", ErrorCode::kInvalidArgument,
       "scrtm_and_bios[0].platform_firmware"},
      {R"({"mokdig": [{"sha1": ")" + std::string(40, '1') + R"("}]})",
       ErrorCode::kInvalidArgument, "mokdig[0]"},
      {R"({"mokxdig": [{"sha256": "0x12"}]})", ErrorCode::kInvalidArgument, "mokxdig[0]"},
      {R"([])", ErrorCode::kInvalidArgument, "refstate"},
      {"{\"kernels\": [\n\n  {]}", ErrorCode::kMalformed, "line 3"},
  };
  for (const Case& c : cases) {
    Policy p;
    LearnNotes notes;
    auto r = ImportKeylimeRefstate(AsBytes(c.json), "rs", kNow, p, notes);
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error().code(), c.code) << r.error().message();
    EXPECT_NE(r.error().message().find(c.where), std::string::npos)
        << "want \"" << c.where << "\" in: " << r.error().message();
  }
}

}  // namespace
}  // namespace tc::policy
