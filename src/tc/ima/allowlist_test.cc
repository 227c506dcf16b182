// Allowlist tests on entries built by hand.

#include "tc/ima/allowlist.h"

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

// An entry as the parser makes it, owning its bytes.
struct Entry {
  std::string path;
  std::string alg_name;
  Bytes digest;
  Bytes buffer;
  std::string template_name = "ima-ng";

  ImaEntry View() const {
    ImaEntry e;
    e.template_name = template_name;
    e.path = path;
    FileDigest d;
    d.alg_name = alg_name;
    d.alg = crypto::HashAlgFromName(alg_name);
    d.bytes = digest;
    e.digest = d;
    e.buffer = buffer;
    return e;
  }
};

Entry File(std::string path, std::string_view content, HashAlg alg = HashAlg::kSha256) {
  return {std::move(path), std::string(crypto::HashAlgName(alg)), HashOf(alg, content), {}};
}

Entry Buf(std::string name, Bytes buf) {
  Entry e{std::move(name), "sha256", HashOf(HashAlg::kSha256, buf), buf};
  e.template_name = "ima-buf";
  return e;
}

Outcome Check(const Allowlist& a, const Entry& e) { return a.Check(e.View()).outcome; }

TEST(AllowlistTest, AllowedMismatchAndNotListed) {
  Allowlist a;
  a.AllowDigest("/usr/bin/bash", HashOf(HashAlg::kSha256, "bash"));
  EXPECT_EQ(Check(a, File("/usr/bin/bash", "bash")), Outcome::kAllowed);
  const Allowlist::Decision d = a.Check(File("/usr/bin/bash", "evil").View());
  EXPECT_EQ(d.outcome, Outcome::kDigestMismatch);
  EXPECT_EQ(d.expected, std::vector<std::string>{ToHex(HashOf(HashAlg::kSha256, "bash"))});
  EXPECT_EQ(Check(a, File("/usr/bin/zsh", "bash")), Outcome::kNotListed);
  // Paths are exact: no prefix or case folding.
  EXPECT_EQ(Check(a, File("/usr/bin/bas", "bash")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/usr/bin/bash/", "bash")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/USR/bin/bash", "bash")), Outcome::kNotListed);
  EXPECT_EQ(a.path_count(), 1u);
}

TEST(AllowlistTest, DigestsOfAnyAlgorithmMatchByValueAndSize) {
  Allowlist a;
  a.AllowDigest("/bin/x", HashOf(HashAlg::kSha1, "x"));
  EXPECT_EQ(Check(a, File("/bin/x", "x", HashAlg::kSha1)), Outcome::kAllowed);
  EXPECT_EQ(Check(a, File("/bin/x", "x", HashAlg::kSha256)), Outcome::kDigestMismatch);
  // A digest whose first 20 bytes equal the sha1 is not the sha1.
  Bytes longer = HashOf(HashAlg::kSha1, "x");
  longer.resize(32, 0);
  Entry e{"/bin/x", "sha256", longer, {}};
  EXPECT_EQ(Check(a, e), Outcome::kDigestMismatch);
}

// With and without BuildIndex: the header promises lookups are correct
// either way.
TEST(AllowlistTest, SeveralDigestsPerPathRepeatsReportedOnce) {
  for (const bool build_index : {false, true}) {
    SCOPED_TRACE(build_index ? "after BuildIndex" : "without BuildIndex");
    Allowlist a;
    for (const char* v : {"v1", "v2", "v3", "v2"}) {
      a.AllowDigest("/usr/lib/libc.so.6", HashOf(HashAlg::kSha256, v));
    }
    a.AllowDigest("/usr/lib/libm.so.6", HashOf(HashAlg::kSha256, "m"));
    if (build_index) a.BuildIndex();
    a.AllowAnotherDigest(HashOf(HashAlg::kSha256, "m2"));  // joins libm's digests
    EXPECT_EQ(a.path_count(), 2u);
    // Stored as given (repeats are not looked for: that would make a long
    // list of digests for one path quadratic), reported once.
    EXPECT_EQ(a.digest_count(), 6u);  // 4 for libc, m and m2
    EXPECT_FALSE(a.full());
    for (const char* v : {"v1", "v2", "v3"}) {
      EXPECT_EQ(Check(a, File("/usr/lib/libc.so.6", v)), Outcome::kAllowed) << v;
    }
    EXPECT_EQ(Check(a, File("/usr/lib/libm.so.6", "m")), Outcome::kAllowed);
    EXPECT_EQ(Check(a, File("/usr/lib/libm.so.6", "m2")), Outcome::kAllowed);
    const Allowlist::Decision d = a.Check(File("/usr/lib/libc.so.6", "v4").View());
    EXPECT_EQ(d.outcome, Outcome::kDigestMismatch);
    std::vector<std::string> expected = d.expected;
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> want;
    for (const char* v : {"v1", "v2", "v3"}) want.push_back(ToHex(HashOf(HashAlg::kSha256, v)));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(expected, want);
  }
}

// A second digest for a path added long before (the path already indexed).
TEST(AllowlistTest, LaterDigestForAnEarlierPathIsFound) {
  for (const bool build_index : {false, true}) {
    SCOPED_TRACE(build_index ? "after BuildIndex" : "without BuildIndex");
    Allowlist a;
    for (int i = 0; i < 1000; ++i) {
      a.AllowDigest("/p/" + std::to_string(i), HashOf(HashAlg::kSha256, "old"));
    }
    a.AllowDigest("/p/0", HashOf(HashAlg::kSha256, "new"));
    if (build_index) a.BuildIndex();
    EXPECT_EQ(a.path_count(), 1000u);
    EXPECT_EQ(Check(a, File("/p/0", "new")), Outcome::kAllowed);
    EXPECT_EQ(Check(a, File("/p/0", "old")), Outcome::kAllowed);
    EXPECT_EQ(Check(a, File("/p/1", "new")), Outcome::kDigestMismatch);
  }
}

// Check with a precomputed path hash answers as Check does.
TEST(AllowlistTest, CheckWithPathHashAgrees) {
  Allowlist a;
  for (int i = 0; i < 1000; ++i) {
    a.AllowDigest("/p/" + std::to_string(i), HashOf(HashAlg::kSha256, std::to_string(i)));
  }
  a.BuildIndex();
  for (int i = 0; i < 1100; i += 7) {
    const Entry e = File("/p/" + std::to_string(i), std::to_string(i % 500));
    const ImaEntry v = e.View();
    const std::uint64_t h = Allowlist::HashPath(*v.path);
    for (int stage : {0, 1}) a.Prefetch(h, stage);
    EXPECT_EQ(a.Check(v.path, v.digest, false, h).outcome, a.Check(v).outcome) << i;
    EXPECT_EQ(a.Check(v.path, v.digest, false).outcome, a.Check(v).outcome) << i;
  }
}

TEST(AllowlistTest, EntryWithoutDigestOrPath) {
  Allowlist a;
  ImaEntry e;
  e.template_name = "d|n";
  EXPECT_EQ(a.Check(e).outcome, Outcome::kNoDigest);
}

// ---- Regex excludes (Keylime applies them with Python's re.match) --------

TEST(AllowlistExcludeTest, RegexIsAnchoredAtTheStart) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeRegex("/tmp/.*").has_value());
  EXPECT_EQ(a.exclude_count(), 1u);
  EXPECT_EQ(Check(a, File("/tmp/x", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/tmp/a/b/c", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/tmp/x", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/tmpfoo", "x")), Outcome::kNotListed);
  // Anchored at the start only: re.match("/etc/", "/etc/passwd") matches.
  ASSERT_TRUE(a.AddExcludeRegex("/etc/").has_value());
  EXPECT_EQ(Check(a, File("/etc/passwd", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/usr/etc/passwd", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, ExplicitAnchors) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeRegex("^/run/").has_value());
  ASSERT_TRUE(a.AddExcludeRegex("/etc/hostname$").has_value());
  EXPECT_EQ(Check(a, File("/run/x", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/run/x", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/etc/hostname", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/etc/hostname.bak", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, PythonEscapesAreTranslated) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeRegex(R"(/proc/\d+/.*)").has_value());
  ASSERT_TRUE(a.AddExcludeRegex(R"(/home/\w+/\.cache/)").has_value());
  ASSERT_TRUE(a.AddExcludeRegex(R"(/data/a\sb)").has_value());
  ASSERT_TRUE(a.AddExcludeRegex(R"(/srv/\D\W\S$)").has_value());
  EXPECT_EQ(Check(a, File("/proc/1234/maps", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/proc/self/maps", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/home/alice_1/.cache/f", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/home/al-ice/.cache/f", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/home/alice/xcache/f", "x")), Outcome::kNotListed);  // \. is a dot
  EXPECT_EQ(Check(a, File("/data/a b", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/data/a\tb", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/data/axb", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/srv/a-b", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/srv/1-b", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/srv/aa-", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, NonCapturingGroupsAndAlternation) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeRegex("/(?:usr|opt)/local/.*").has_value());
  ASSERT_TRUE(a.AddExcludeRegex("/boot/.*|/lib/modules/.*").has_value());
  EXPECT_EQ(Check(a, File("/usr/local/bin/x", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/opt/local/y", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/local/z", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/boot/vmlinuz", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/lib/modules/6.1/a.ko", "x")), Outcome::kExcluded);
  // Each alternative is anchored: re.match("/boot/.*|/lib/modules/.*", ...).
  EXPECT_EQ(Check(a, File("/usr/lib/modules/a.ko", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/x/boot/y", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, BracketExpressions) {
  Allowlist a;
  // Quantifier characters inside [...] are members, not quantifiers; Python
  // escapes inside brackets become POSIX class text.
  ASSERT_TRUE(a.AddExcludeRegex("/tmp/[*+?]+x").has_value());
  ASSERT_TRUE(a.AddExcludeRegex(R"(/var/[\d]+/)").has_value());
  ASSERT_TRUE(a.AddExcludeRegex("/srv/[^]a]/").has_value());
  ASSERT_TRUE(a.AddExcludeRegex(R"(/opt/[\.]z)").has_value());
  EXPECT_EQ(Check(a, File("/tmp/*+?x", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/tmp/ax", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/var/123/f", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/12a/f", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/srv/b/f", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/srv/]/f", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/opt/.z", "x")), Outcome::kExcluded);
  // In POSIX "[\.]" would also match a backslash; Python's does not.
  EXPECT_EQ(Check(a, File("/opt/\\z", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, TranslationNeverExcludesMoreThanPython) {
  Allowlist a;
  // "." does not match a newline in Python's re (no DOTALL).
  ASSERT_TRUE(a.AddExcludeRegex(".*/__pycache__/.*").has_value());
  EXPECT_EQ(Check(a, File("/usr/lib/__pycache__/m.pyc", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/home/u/x\n/__pycache__/y", "x")), Outcome::kNotListed);
  // Unbalanced groups could escape the "^(...)" anchor: refused.
  EXPECT_FALSE(a.AddExcludeRegex("x)|(/tmp/").has_value());
  EXPECT_FALSE(a.AddExcludeRegex("x))|((y").has_value());
  EXPECT_FALSE(a.AddExcludeRegex("(/tmp/").has_value());
  EXPECT_FALSE(a.AddExcludeRegex("[abc").has_value());
  // GNU reads \< \> as word anchors; Python as the characters.
  ASSERT_TRUE(a.AddExcludeRegex(R"(/srv/\<x\>)").has_value());
  EXPECT_EQ(Check(a, File("/srv/<x>", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/srv/x", "x")), Outcome::kNotListed);
  // POSIX class syntax inside brackets means other characters in Python.
  EXPECT_FALSE(a.AddExcludeRegex("/a/[[:alpha:]]").has_value());
}

TEST(AllowlistTest, IgnoredKeyringsCoverKeyMeasurementsOnly) {
  Allowlist a;
  a.IgnoreKeyring("*");
  a.BuildIndex();
  Entry key = File(".ima", "k");
  key.template_name = "ima-buf";
  key.buffer = {1, 2, 3};
  EXPECT_EQ(a.Check(key.View()).outcome, Outcome::kIgnored);
  Entry kexec = File("kexec-cmdline", "c");
  kexec.template_name = "ima-buf";
  kexec.buffer = {1, 2, 3};
  EXPECT_EQ(a.Check(kexec.View()).outcome, Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, OptionalLeadingCharacters) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeRegex("/usr/lib6?4?/cache").has_value());
  ASSERT_TRUE(a.AddExcludeRegex("/var/logs*/").has_value());
  ASSERT_TRUE(a.AddExcludeRegex("/media/x{0,2}y").has_value());
  EXPECT_EQ(Check(a, File("/usr/lib/cache", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/usr/lib64/cache", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/log/a", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/logss/a", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/media/y", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/media/xxy", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/media/xxxy", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, UnsupportedSyntaxIsRefusedNamingThePattern) {
  for (const char* p : {"/tmp/(?=x)", "/tmp/(?!x)", "/tmp/(?<=x)y", "/a.*?b", "/a\\bb",
                        "(?i)/tmp", "/x[", "/y("}) {
    SCOPED_TRACE(p);
    Allowlist a;
    auto r = a.AddExcludeRegex(p);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    // Named as written, or in PrintableAscii's escaped form (as the JSON
    // policy spells it).
    EXPECT_TRUE(Contains(r.error().message(), p) ||
                Contains(r.error().message(), PrintableAscii(AsBytes(p))))
        << r.error().message();
    EXPECT_EQ(a.exclude_count(), 0u);
  }
}

// Python's re allows a quantifier after an escaped quantifier character.
TEST(AllowlistExcludeTest, EscapedQuantifierCharacterMayBeQuantified) {
  Allowlist a;
  auto r = a.AddExcludeRegex(R"(/tmp/a\*+b)");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(Check(a, File("/tmp/a**b", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/tmp/ab", "x")), Outcome::kNotListed);
}

TEST(AllowlistExcludeTest, ExcludeWinsOverAListedPath) {
  Allowlist a;
  a.AllowDigest("/tmp/x", HashOf(HashAlg::kSha256, "x"));
  ASSERT_TRUE(a.AddExcludeRegex("/tmp/").has_value());
  EXPECT_EQ(Check(a, File("/tmp/x", "other")), Outcome::kExcluded);
}

TEST(AllowlistExcludeTest, Globs) {
  Allowlist a;
  ASSERT_TRUE(a.AddExcludeGlob("/var/log/*").has_value());
  ASSERT_TRUE(a.AddExcludeGlob("/etc/*.conf").has_value());
  ASSERT_TRUE(a.AddExcludeGlob("/dev/tty?").has_value());
  ASSERT_TRUE(a.AddExcludeGlob("/opt/[ab]in/x").has_value());
  EXPECT_EQ(Check(a, File("/var/log/syslog", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/var/log/journal/a/b", "x")), Outcome::kExcluded);  // '*' crosses '/'
  EXPECT_EQ(Check(a, File("/var/logs", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/etc/a.conf", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/etc/a.conf.bak", "x")), Outcome::kNotListed);  // a glob matches whole
  EXPECT_EQ(Check(a, File("/dev/tty1", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/dev/tty10", "x")), Outcome::kNotListed);
  EXPECT_EQ(Check(a, File("/opt/bin/x", "x")), Outcome::kExcluded);
  EXPECT_EQ(Check(a, File("/opt/cin/x", "x")), Outcome::kNotListed);
  EXPECT_FALSE(a.AddExcludeGlob("").has_value());
}

// ---- ima-buf: keyrings and buffers -----------------------------------------

TEST(AllowlistBufferTest, KeyringDigests) {
  const Bytes key = ParseHex("3082010a0282010100aabbcc").value();
  Allowlist a;
  a.AllowKeyringDigest(".ima", HashOf(HashAlg::kSha256, key));
  EXPECT_EQ(Check(a, Buf(".ima", key)), Outcome::kAllowed);
  const Allowlist::Decision d = a.Check(Buf(".ima", Bytes{1, 2, 3}).View());
  EXPECT_EQ(d.outcome, Outcome::kDigestMismatch);
  EXPECT_EQ(d.expected, std::vector<std::string>{ToHex(HashOf(HashAlg::kSha256, key))});
  EXPECT_EQ(Check(a, Buf(".builtin_trusted_keys", key)), Outcome::kNotListed);
  // A file with the keyring's name is not the keyring.
  Entry file = File(".ima", "x");
  file.digest = HashOf(HashAlg::kSha256, key);
  EXPECT_EQ(Check(a, file), Outcome::kNotListed);
}

TEST(AllowlistBufferTest, IgnoredKeyringsNamedAndAll) {
  const Bytes key = ParseHex("30820122").value();
  {
    Allowlist a;
    a.IgnoreKeyring(".builtin_trusted_keys");
    EXPECT_EQ(Check(a, Buf(".builtin_trusted_keys", key)), Outcome::kIgnored);
    EXPECT_EQ(Check(a, Buf(".ima", key)), Outcome::kNotListed);
  }
  {
    Allowlist a;
    a.AllowKeyringDigest(".ima", HashOf(HashAlg::kSha256, key));
    a.IgnoreKeyring("*");
    EXPECT_EQ(Check(a, Buf(".builtin_trusted_keys", key)), Outcome::kIgnored);
    EXPECT_EQ(Check(a, Buf(".evm", Bytes{9})), Outcome::kIgnored);
    // A keyring the policy lists is still checked.
    EXPECT_EQ(Check(a, Buf(".ima", key)), Outcome::kAllowed);
    EXPECT_EQ(Check(a, Buf(".ima", Bytes{9})), Outcome::kDigestMismatch);
    // "*" ignores keyrings, not files.
    EXPECT_EQ(Check(a, File("/usr/bin/x", "x")), Outcome::kNotListed);
  }
}

TEST(AllowlistBufferTest, BufferDigests) {
  const std::string cmdline = "root=/dev/vda1 ro quiet";
  const Bytes buf(cmdline.begin(), cmdline.end());
  Allowlist a;
  a.AllowBufferDigest("kexec-cmdline", HashOf(HashAlg::kSha256, buf));
  EXPECT_EQ(Check(a, Buf("kexec-cmdline", buf)), Outcome::kAllowed);
  EXPECT_EQ(Check(a, Buf("kexec-cmdline", Bytes{'x'})), Outcome::kDigestMismatch);
  EXPECT_EQ(Check(a, Buf("selinux-state", buf)), Outcome::kNotListed);
  // A buffer digest is not a file digest.
  Entry file = File("kexec-cmdline", cmdline);
  EXPECT_EQ(Check(a, file), Outcome::kNotListed);
}

TEST(AllowlistTest, TwoHundredThousandPathsAreAllFound) {
  constexpr std::size_t kPaths = 200000;
  const auto path = [](std::size_t i) {
    return "/usr/share/pkg" + std::to_string(i % 997) + "/file-" + std::to_string(i);
  };
  const auto digest = [](std::size_t i) {
    Bytes d(32);
    for (std::size_t b = 0; b < 32; ++b) d[b] = static_cast<std::uint8_t>((i * 131 + b * 7) >> (b % 3));
    return d;
  };
  Allowlist a;
  a.Reserve(kPaths / 4, kPaths * 10);  // an under-estimate: the table must grow
  for (std::size_t i = 0; i < kPaths; ++i) a.AllowDigest(path(i), digest(i));
  a.BuildIndex();
  EXPECT_EQ(a.path_count(), kPaths);
  EXPECT_GT(a.memory_bytes(), 0u);
  for (std::size_t i = 0; i < kPaths; ++i) {
    Entry e{path(i), "sha256", digest(i), {}};
    ASSERT_EQ(Check(a, e), Outcome::kAllowed) << path(i);
    if (i % 1000 == 0) {
      Entry wrong{path(i), "sha256", digest(i + 1), {}};
      ASSERT_EQ(Check(a, wrong), Outcome::kDigestMismatch) << path(i);
    }
  }
  Entry absent{"/usr/share/pkg1/file-200001", "sha256", digest(1), {}};
  EXPECT_EQ(Check(a, absent), Outcome::kNotListed);
}

TEST(AllowlistTest, MoveKeepsTheContent) {
  Allowlist a;
  a.AllowDigest("/a", HashOf(HashAlg::kSha256, "a"));
  ASSERT_TRUE(a.AddExcludeRegex("/tmp/").has_value());
  Allowlist b = std::move(a);
  EXPECT_EQ(Check(b, File("/a", "a")), Outcome::kAllowed);
  EXPECT_EQ(Check(b, File("/tmp/q", "a")), Outcome::kExcluded);
}

}  // namespace
}  // namespace tc::ima
