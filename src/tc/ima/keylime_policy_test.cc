// Keylime runtime policy and digest list import. Policies are written here
// in the shape Keylime's keylime/ima/ima.py and its JSON schema define.

#include "tc/ima/keylime_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/ima/test_util.h"

namespace tc::ima {
namespace {

using crypto::HashAlg;
using testing::HashOf;
using Outcome = Allowlist::Outcome;

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

Result<KeylimePolicy> Load(std::string_view json) { return LoadKeylimePolicy(AsBytes(json)); }

std::string H256(std::string_view s) { return ToHex(HashOf(HashAlg::kSha256, s)); }
std::string H1(std::string_view s) { return ToHex(HashOf(HashAlg::kSha1, s)); }

// Checks a file entry against the policy's allowlist.
Outcome CheckFile(const Allowlist& a, std::string_view path, std::string_view alg,
                  const Bytes& digest) {
  ImaEntry e;
  e.template_name = "ima-ng";
  e.path = path;
  FileDigest d;
  d.alg_name = alg;
  d.alg = crypto::HashAlgFromName(alg);
  d.bytes = digest;
  e.digest = d;
  return a.Check(e).outcome;
}

Outcome CheckBuf(const Allowlist& a, std::string_view name, const Bytes& buf) {
  ImaEntry e;
  e.template_name = "ima-buf";
  e.path = name;
  const Bytes digest = HashOf(HashAlg::kSha256, buf);
  FileDigest d;
  d.alg_name = "sha256";
  d.alg = HashAlg::kSha256;
  d.bytes = digest;
  e.digest = d;
  e.buffer = buf;
  return a.Check(e).outcome;
}

std::string FullPolicy() {
  return R"({
  "meta": {"version": 1, "generator": 1, "timestamp": "2024-05-01 10:00:00.000000"},
  "release": 0,
  "digests": {
    "/usr/bin/bash": [")" + H256("bash") + R"(", ")" + H1("bash") + R"("],
    "/usr/bin/ls": [")" + H256("ls") + R"("],
    "boot_aggregate": [")" + H256("agg") + R"("]
  },
  "excludes": ["/tmp/.*", "/proc/\\d+/.*"],
  "keyrings": {".ima": [")" + H256("key") + R"("]},
  "ima": {"ignored_keyrings": [".builtin_trusted_keys"], "log_hash_alg": "sha1", "dm_policy": null},
  "ima-buf": {"kexec-cmdline": [")" + H256("ro quiet") + R"("]},
  "verification-keys": ""
})";
}

TEST(KeylimePolicyTest, FullPolicyLoads) {
  auto p = Load(FullPolicy());
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->format_version, 1);
  EXPECT_EQ(p->log_hash_alg, HashAlg::kSha1);
  EXPECT_TRUE(p->verification_keys.empty());
  const Allowlist& a = p->allowlist;
  EXPECT_EQ(a.path_count(), 3u);
  EXPECT_EQ(a.exclude_count(), 2u);
  EXPECT_EQ(a.digest_count(), 6u);  // 4 file digests, 1 keyring, 1 buffer
  EXPECT_EQ(CheckFile(a, "/usr/bin/bash", "sha256", HashOf(HashAlg::kSha256, "bash")),
            Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "/usr/bin/bash", "sha1", HashOf(HashAlg::kSha1, "bash")),
            Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "/usr/bin/ls", "sha256", HashOf(HashAlg::kSha256, "bash")),
            Outcome::kDigestMismatch);
  EXPECT_EQ(CheckFile(a, "/usr/bin/cat", "sha256", HashOf(HashAlg::kSha256, "cat")),
            Outcome::kNotListed);
  EXPECT_EQ(CheckFile(a, "/tmp/x", "sha256", HashOf(HashAlg::kSha256, "x")), Outcome::kExcluded);
  EXPECT_EQ(CheckFile(a, "/proc/12/x", "sha256", HashOf(HashAlg::kSha256, "x")),
            Outcome::kExcluded);
  EXPECT_EQ(CheckFile(a, "/proc/self/x", "sha256", HashOf(HashAlg::kSha256, "x")),
            Outcome::kNotListed);
  EXPECT_EQ(CheckBuf(a, ".ima", Bytes{'k', 'e', 'y'}), Outcome::kAllowed);
  EXPECT_EQ(CheckBuf(a, ".ima", Bytes{'k'}), Outcome::kDigestMismatch);
  EXPECT_EQ(CheckBuf(a, ".builtin_trusted_keys", Bytes{'k'}), Outcome::kIgnored);
  EXPECT_EQ(CheckBuf(a, ".evm", Bytes{'k'}), Outcome::kNotListed);
  const std::string cmdline = "ro quiet";
  EXPECT_EQ(CheckBuf(a, "kexec-cmdline", Bytes(cmdline.begin(), cmdline.end())), Outcome::kAllowed);
}

TEST(KeylimePolicyTest, MinimalPolicyLoads) {
  auto p = Load(R"({"meta": {"version": 1}, "digests": {}})");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->allowlist.path_count(), 0u);
  EXPECT_FALSE(p->log_hash_alg.has_value());
}

TEST(KeylimePolicyTest, IgnoreAllKeyringsAndVerificationKeys) {
  auto p = Load(R"({"meta": {"version": 1}, "digests": {},
                    "ima": {"ignored_keyrings": ["*"], "log_hash_alg": "sha256"},
                    "verification-keys": "[{\"kty\": \"EC\"}]"})");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(CheckBuf(p->allowlist, ".anything", Bytes{1}), Outcome::kIgnored);
  EXPECT_EQ(p->log_hash_alg, HashAlg::kSha256);
  EXPECT_EQ(p->verification_keys, R"([{"kty": "EC"}])");
}

TEST(KeylimePolicyTest, LegacyAllowlistWithHashes) {
  auto p = Load(R"({"meta": {"version": 5, "generator": 0, "timestamp": "x"}, "release": 0,
                    "hashes": {"/usr/bin/a": [")" + H1("a") + R"("]},
                    "excludes": []})");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->format_version, 5);
  EXPECT_EQ(CheckFile(p->allowlist, "/usr/bin/a", "sha1", HashOf(HashAlg::kSha1, "a")),
            Outcome::kAllowed);
  auto v6 = Load(R"({"meta": {"version": 6}, "hashes": {}})");
  ASSERT_FALSE(v6.has_value());
  EXPECT_EQ(v6.error().code(), ErrorCode::kUnsupported);
}

TEST(KeylimePolicyTest, UnknownMembersUnderMetaAndImaAreIgnored) {
  auto p = Load(R"({
    "meta": {"version": 1, "future": {"a": [1, {"b": null}], "c": true}, "x": false},
    "ima": {"dm_policy": {"table": [{"name": "root", "hash": "00"}], "n": null},
            "future": [1, [2, {}]], "log_hash_alg": "sha256"},
    "digests": {"/a": [")" + H256("a") + R"("]}
  })");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  // Members after the ignored ones are still read.
  EXPECT_EQ(p->log_hash_alg, HashAlg::kSha256);
  EXPECT_EQ(CheckFile(p->allowlist, "/a", "sha256", HashOf(HashAlg::kSha256, "a")),
            Outcome::kAllowed);
}

struct BadPolicy {
  std::string what;
  std::string json;
  ErrorCode code;
  std::string mention;  // a part of the message ("" for none)
};

TEST(KeylimePolicyTest, Errors) {
  const std::string ok_digest = H256("a");
  const std::vector<BadPolicy> bad = {
      {"version 2", R"({"meta": {"version": 2}, "digests": {}})", ErrorCode::kUnsupported, ""},
      {"version 0", R"({"meta": {"version": 0}, "digests": {}})", ErrorCode::kUnsupported, ""},
      {"version 1.5", R"({"meta": {"version": 1.5}, "digests": {}})", ErrorCode::kUnsupported, ""},
      {"version as a string", R"({"meta": {"version": "1"}, "digests": {}})",
       ErrorCode::kMalformed, "line"},
      {"no digests", R"({"meta": {"version": 1}, "excludes": []})", ErrorCode::kMalformed,
       "digests"},
      {"no version", R"({"meta": {}, "digests": {}})", ErrorCode::kMalformed, "version"},
      {"digest not hex",
       R"({"meta": {"version": 1}, "digests": {"/usr/bin/x": [")" + std::string(64, 'z') + R"("]}})",
       ErrorCode::kInvalidArgument, "/usr/bin/x"},
      {"digest wrong length",
       R"({"meta": {"version": 1}, "digests": {"/usr/bin/y": [")" + ok_digest.substr(0, 30) + R"("]}})",
       ErrorCode::kInvalidArgument, "/usr/bin/y"},
      {"keyring digest wrong length",
       R"({"meta": {"version": 1}, "digests": {}, "keyrings": {".ima": ["abcd"]}})",
       ErrorCode::kInvalidArgument, ".ima"},
      {"ima-buf digest not hex",
       R"({"meta": {"version": 1}, "digests": {}, "ima-buf": {"kexec-cmdline": ["xx"]}})",
       ErrorCode::kInvalidArgument, "kexec-cmdline"},
      {"unknown top-level member", R"({"meta": {"version": 1}, "digests": {}, "extras": 1})",
       ErrorCode::kMalformed, "extras"},
      {"digests is a list", R"({"meta": {"version": 1}, "digests": []})", ErrorCode::kMalformed, ""},
      {"digest list is a string",
       R"({"meta": {"version": 1}, "digests": {"/a": ")" + ok_digest + R"("}})",
       ErrorCode::kMalformed, ""},
      {"digest is a number", R"({"meta": {"version": 1}, "digests": {"/a": [1]}})",
       ErrorCode::kMalformed, ""},
      {"excludes is a string", R"({"meta": {"version": 1}, "digests": {}, "excludes": "/tmp"})",
       ErrorCode::kMalformed, ""},
      {"exclude is a number", R"({"meta": {"version": 1}, "digests": {}, "excludes": [1]})",
       ErrorCode::kMalformed, ""},
      {"meta is a list", R"({"meta": [1], "digests": {}})", ErrorCode::kMalformed, ""},
      {"policy is a list", R"([{"meta": {"version": 1}, "digests": {}}])", ErrorCode::kMalformed, ""},
      {"keyrings value is an object",
       R"({"meta": {"version": 1}, "digests": {}, "keyrings": {".ima": {}}})", ErrorCode::kMalformed,
       ""},
      {"ignored_keyrings is a string",
       R"({"meta": {"version": 1}, "digests": {}, "ima": {"ignored_keyrings": ".ima"}})",
       ErrorCode::kMalformed, ""},
      {"log_hash_alg unknown",
       R"({"meta": {"version": 1}, "digests": {}, "ima": {"log_hash_alg": "md5"}})",
       ErrorCode::kMalformed, "md5"},
      {"log_hash_alg a number",
       R"({"meta": {"version": 1}, "digests": {}, "ima": {"log_hash_alg": 1}})",
       ErrorCode::kMalformed, ""},
      {"digests twice", R"({"meta": {"version": 1}, "digests": {}, "digests": {}})",
       ErrorCode::kMalformed, ""},
      {"lookahead exclude",
       R"j({"meta": {"version": 1}, "digests": {}, "excludes": ["/tmp/(?=x)"]})j",
       ErrorCode::kInvalidArgument, "(?=x)"},
      {"truncated JSON", R"({"meta": {"version": 1}, "digests": {)", ErrorCode::kMalformed, "line"},
      {"trailing comma", "{\"meta\": {\"version\": 1},\n\"digests\": {},\n}", ErrorCode::kMalformed,
       "line 3"},
      {"not JSON", "digests: {}", ErrorCode::kMalformed, "line 1"},
      {"empty", "", ErrorCode::kMalformed, ""},
  };
  for (const BadPolicy& b : bad) {
    SCOPED_TRACE(b.what);
    auto p = Load(b.json);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().code(), b.code) << p.error().message();
    if (!b.mention.empty()) {
      EXPECT_TRUE(Contains(p.error().message(), b.mention)) << p.error().message();
    }
  }
}

TEST(KeylimePolicyTest, ErrorsInsideThePolicyNameTheirLine) {
  const std::string json = "{\n  \"meta\": {\"version\": 1},\n  \"digests\": {\n    \"/bin/a\": [\"" +
                           H256("a") + "\"],\n    \"/bin/b\": [\"nothex\"]\n  }\n}";
  auto p = Load(json);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(p.error().message(), "line 5")) << p.error().message();
  EXPECT_TRUE(Contains(p.error().message(), "/bin/b")) << p.error().message();
}

// ---- Digest lists ----------------------------------------------------------

TEST(DigestListTest, LoadsSha256sumOutput) {
  const std::string text = "# made by sha256sum\n" + H256("a") + "  /usr/bin/a\n" + H1("b") +
                           " */usr/bin/b\n\n" + H256("c") + "  /opt/with space/c\r\n" +
                           H256("a2") + "  /usr/bin/a\n";
  Allowlist a;
  auto r = LoadDigestList(text, a);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(a.path_count(), 3u);
  EXPECT_EQ(CheckFile(a, "/usr/bin/a", "sha256", HashOf(HashAlg::kSha256, "a")), Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "/usr/bin/a", "sha256", HashOf(HashAlg::kSha256, "a2")),
            Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "/usr/bin/b", "sha1", HashOf(HashAlg::kSha1, "b")), Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "/opt/with space/c", "sha256", HashOf(HashAlg::kSha256, "c")),
            Outcome::kAllowed);
  EXPECT_EQ(CheckFile(a, "*/usr/bin/b", "sha1", HashOf(HashAlg::kSha1, "b")), Outcome::kNotListed);
}

TEST(DigestListTest, ErrorsNameTheLine) {
  const std::string good = H256("a") + "  /a\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not hex", std::string(64, 'g') + "  /x"},
      {"wrong size", std::string(30, 'a') + "  /x"},
      {"no path", H256("x")},
      {"empty path", H256("x") + "  "},
      {"only a star", H256("x") + " *"},
  };
  for (const auto& [what, line] : bad) {
    SCOPED_TRACE(what);
    Allowlist a;
    auto r = LoadDigestList("# c\n" + good + line + "\n" + good, a);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
    EXPECT_TRUE(Contains(r.error().message(), "line 3")) << r.error().message();
  }
}

}  // namespace
}  // namespace tc::ima
