// Tests on the real IMA lists of ../shared/corpus (never copied into the
// repository). Each test skips with a message when the corpus is absent.
//
// Reference values come from the corpus itself, read at run time:
//   - corpus/MANIFEST.tsv, the "independent parse" and "independent replay
//     (violations extended as ff..ff): sha1 PCR10=X, sha256 PCR10=Y" notes
//     of each ima/ line (a replay made outside this project, cross-checked
//     with evmctl there);
//   - ima/imaverify-vm.pcrs.txt and .pcrs_sha1.txt, the TPM's PCRs
//     published with the imaverify lists;
//   - vm/*/pcrs-host.txt, the vTPM's PCRs read from the host, and
//     vm/*/reference-values.txt, file digests computed on the host.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/io/file.h"
#include "tc/ima/parser.h"
#include "tc/ima/replay.h"
#include "tc/ima/test_util.h"
#include "tc/ima/verify.h"

namespace tc::ima {
namespace {

namespace fs = std::filesystem;
using crypto::HashAlg;
using testing::CorpusImaLists;
using testing::ReadBytes;
using testing::ReadText;
using testing::SharedDir;

#define TC_REQUIRE_IMA_CORPUS()                                                       \
  if (!SharedDir()) {                                                                 \
    GTEST_SKIP() << "needs ../shared/corpus/ima (set TC_SHARED_DIR to the shared "    \
                    "folder to run the real-list tests)";                             \
  }

fs::path Corpus(const std::string& rel) { return *SharedDir() / "corpus" / rel; }

// What MANIFEST.tsv says about one ima/ file.
struct ManifestNote {
  std::optional<std::size_t> entries;     // "independent parse: N entries" / "N lines"
  std::optional<std::size_t> violations;  // "violations(all-zero template digest) N"
  std::optional<std::size_t> trailing;    // "N TRAILING bytes"
  std::optional<std::string> sha1_pcr10, sha256_pcr10;  // independent replay
};

std::map<std::string, ManifestNote> Manifest() {
  std::map<std::string, ManifestNote> out;
  std::ifstream f(*SharedDir() / "corpus" / "MANIFEST.tsv");
  std::string line;
  const std::regex file_re("^ima/([^\\t]+)\\t");
  const std::regex parse_re("independent parse: ([0-9]+) entries");
  const std::regex lines_re("\\| ([0-9]+) lines;");
  const std::regex viol_re("violations\\(all-zero template digest\\) ([0-9]+)");
  const std::regex trail_re("([0-9]+) TRAILING bytes");
  const std::regex replay_re(
      "independent replay \\(violations extended as ff\\.\\.ff\\): sha1 PCR10=([0-9a-f]{40}), "
      "sha256 PCR10=([0-9a-f]{64})");
  while (std::getline(f, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, file_re)) continue;
    ManifestNote& n = out[m[1]];
    if (std::regex_search(line, m, parse_re) || std::regex_search(line, m, lines_re)) {
      n.entries = std::stoul(m[1]);
    }
    if (std::regex_search(line, m, viol_re)) n.violations = std::stoul(m[1]);
    if (std::regex_search(line, m, trail_re)) n.trailing = std::stoul(m[1]);
    if (std::regex_search(line, m, replay_re)) {
      n.sha1_pcr10 = m[1];
      n.sha256_pcr10 = m[2];
    }
  }
  return out;
}

// One pass over a corpus list, streamed from the file.
struct ListReplay {
  std::size_t entries = 0;
  CheckCounts checks;
  StreamSummary summary;
  pcr::PcrValues values;
  std::optional<std::size_t> matched;
  std::vector<testing::OwnedEntry> owned;  // when asked for
};

ListReplay ReplayFile(const fs::path& p, std::vector<HashAlg> banks,
                      const std::optional<pcr::PcrValues>& quote = std::nullopt,
                      bool keep = false) {
  ListReplay out;
  auto source = io::OpenFileSource(p.string());
  EXPECT_TRUE(source.has_value()) << p;
  if (!source.has_value()) return out;
  EntryStream stream(**source, {});
  std::optional<Replayer> r;
  ImaEntry e;
  while (true) {
    auto more = stream.Next(&e);
    EXPECT_TRUE(more.has_value()) << p << ": " << more.error().message();
    if (!more.has_value()) return out;
    if (!r) {
      r.emplace(stream.summary().template_hash_alg, banks);
      if (quote) {
        EXPECT_TRUE(r->ExpectPcr10(*quote).has_value());
      }
    }
    if (!*more) break;
    auto c = r->Add(e);
    EXPECT_TRUE(c.has_value());
    if (!c.has_value()) return out;
    out.checks.Count(*c);
    EXPECT_NE(*c, TemplateCheck::kMismatch) << p.filename() << " entry " << e.index;
    if (keep) out.owned.push_back(testing::Own(e));
    ++out.entries;
  }
  out.summary = stream.summary();
  out.values = r->Values();
  out.matched = r->matched_prefix();
  return out;
}

std::string Hex10(const pcr::PcrValues& v, HashAlg bank) {
  const crypto::Digest* d = v.Find(bank, 10);
  return d != nullptr ? d->Hex() : "<none>";
}

TEST(ImaCorpusTest, EveryListParsesAndEveryTemplateDigestChecks) {
  TC_REQUIRE_IMA_CORPUS();
  const auto manifest = Manifest();
  const auto lists = CorpusImaLists();
  ASSERT_GE(lists.size(), 15u);
  std::size_t counted = 0;
  for (const fs::path& p : lists) {
    const std::string name = p.filename().string();
    SCOPED_TRACE(name);
    const ListReplay r = ReplayFile(p, {});
    EXPECT_GT(r.entries, 0u);
    EXPECT_EQ(r.checks.mismatch, 0u);
    EXPECT_EQ(r.checks.uncheckable, 0u);
    EXPECT_EQ(r.checks.ok + r.checks.violation, r.entries);
    EXPECT_EQ(r.summary.format, p.extension() == ".bin" ? ListFormat::kBinary : ListFormat::kAscii);
    const auto it = manifest.find(name);
    ASSERT_NE(it, manifest.end()) << "not in MANIFEST.tsv";
    if (it->second.entries) {
      EXPECT_EQ(r.entries, *it->second.entries);
      ++counted;
    }
    if (it->second.violations) {
      EXPECT_EQ(r.checks.violation, *it->second.violations);
    }
    EXPECT_EQ(r.summary.trailing.has_value(), it->second.trailing.has_value())
        << r.summary.trailing.value_or("");
  }
  EXPECT_EQ(counted, lists.size());
}

TEST(ImaCorpusTest, ReplayEqualsTheManifestsIndependentReplay) {
  TC_REQUIRE_IMA_CORPUS();
  std::size_t compared = 0;
  for (const auto& [name, note] : Manifest()) {
    if (!note.sha1_pcr10) continue;
    SCOPED_TRACE(name);
    const ListReplay r = ReplayFile(Corpus("ima/" + name), {HashAlg::kSha1, HashAlg::kSha256});
    EXPECT_EQ(Hex10(r.values, HashAlg::kSha1), *note.sha1_pcr10);
    EXPECT_EQ(Hex10(r.values, HashAlg::kSha256), *note.sha256_pcr10);
    ++compared;
  }
  EXPECT_GE(compared, 6u);
}

TEST(ImaCorpusTest, ImaVerifyListsReplayToThePublishedPcrs) {
  TC_REQUIRE_IMA_CORPUS();
  struct Case {
    std::string list, pcrs;
    std::vector<HashAlg> banks;
  };
  const std::vector<Case> cases = {
      {"imaverify-vm-ima-ng-sha256-perbank.bin", "imaverify-vm.pcrs.txt", {HashAlg::kSha256}},
      {"imaverify-vm-ima-ng-sha256-perbank.txt", "imaverify-vm.pcrs.txt", {HashAlg::kSha256}},
      {"imaverify-vm-ima-ng-sha1.bin", "imaverify-vm.pcrs_sha1.txt",
       {HashAlg::kSha1, HashAlg::kSha256}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.list);
    auto published = pcr::ParsePcrValues(ReadText(Corpus("ima/" + c.pcrs)));
    ASSERT_TRUE(published.has_value()) << published.error().message();
    pcr::PcrValues quote;
    for (const HashAlg bank : c.banks) {
      const crypto::Digest* d = published->Find(bank, 10);
      ASSERT_NE(d, nullptr) << crypto::HashAlgName(bank);
      quote.banks[bank][10] = *d;
    }
    const ListReplay r = ReplayFile(Corpus("ima/" + c.list), c.banks, quote);
    for (const HashAlg bank : c.banks) {
      EXPECT_EQ(Hex10(r.values, bank), published->Find(bank, 10)->Hex()) << crypto::HashAlgName(bank);
    }
    EXPECT_EQ(r.matched, r.entries);
  }
}

TEST(ImaCorpusTest, AsciiAndBinaryTwinsGiveIdenticalEntries) {
  TC_REQUIRE_IMA_CORPUS();
  for (const std::string stem : {"embrave-rpi-ima-ng", "imaverify-vm-ima-ng-sha256-perbank"}) {
    SCOPED_TRACE(stem);
    const ListReplay txt = ReplayFile(Corpus("ima/" + stem + ".txt"), {}, std::nullopt, true);
    const ListReplay bin = ReplayFile(Corpus("ima/" + stem + ".bin"), {}, std::nullopt, true);
    ASSERT_EQ(txt.owned.size(), bin.owned.size());
    ASSERT_GT(txt.owned.size(), 900u);
    EXPECT_EQ(txt.summary.template_hash_alg, bin.summary.template_hash_alg);
    for (std::size_t i = 0; i < txt.owned.size(); ++i) {
      const auto& a = txt.owned[i];
      const auto& b = bin.owned[i];
      ASSERT_EQ(a.path, b.path) << i;
      ASSERT_EQ(a.digest, b.digest) << i;
      ASSERT_EQ(a.digest_alg_name, b.digest_alg_name) << i;
      ASSERT_EQ(a.template_digest, b.template_digest) << i;
      ASSERT_TRUE(a.SameContent(b)) << i;
      ASSERT_EQ(a.line, i + 1);
    }
    EXPECT_EQ(txt.values.banks, bin.values.banks);
  }
}

// The keylime sha384 list is hand-made upstream: its boot_aggregate line has
// an all-zero template hash, which IMA writes for a violation.
TEST(ImaCorpusTest, KeylimeSha384FirstLineIsAViolation) {
  TC_REQUIRE_IMA_CORPUS();
  const ListReplay r = ReplayFile(Corpus("ima/keylime-ima-log-sha384.txt"), {}, std::nullopt, true);
  ASSERT_EQ(r.owned.size(), 2u);
  EXPECT_TRUE(r.owned[0].violation);
  EXPECT_EQ(r.owned[0].path, "boot_aggregate");
  EXPECT_EQ(r.owned[1].digest_alg, HashAlg::kSha384);
  EXPECT_EQ(r.owned[1].path, "/data");
  EXPECT_EQ(r.checks.violation, 1u);
  EXPECT_EQ(r.checks.ok, 1u);
}

// MANIFEST.tsv: "N TRAILING bytes after last complete record".
TEST(ImaCorpusTest, TrailingBytesStrictAndNot) {
  TC_REQUIRE_IMA_CORPUS();
  std::size_t seen = 0;
  for (const auto& [name, note] : Manifest()) {
    if (!note.trailing) continue;
    SCOPED_TRACE(name);
    ++seen;
    const Bytes b = ReadBytes(Corpus("ima/" + name));
    auto lax = testing::ParseAll(b);
    ASSERT_TRUE(lax.has_value()) << lax.error().message();
    ASSERT_TRUE(lax->summary.trailing.has_value());
    const std::string at = "offset " + std::to_string(b.size() - *note.trailing);
    EXPECT_NE(lax->summary.trailing->find(at), std::string::npos) << *lax->summary.trailing;
    ParseOptions strict;
    strict.strict = true;
    auto s = testing::ParseAll(b, strict);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), ErrorCode::kMalformed);
    EXPECT_NE(s.error().message().find("entry " + std::to_string(lax->entries.size()) + " at offset"),
              std::string::npos)
        << s.error().message();
  }
  EXPECT_EQ(seen, 3u);
}

// ---- boot_aggregate against real firmware logs -------------------------------

pcr::PcrValues ReplayFirmware(const fs::path& p) {
  auto log = eventlog::EventLog::Parse(ReadBytes(p));
  EXPECT_TRUE(log.has_value()) << p << ": " << log.error().message();
  if (!log.has_value()) return {};
  auto replay = eventlog::Replay(*log);
  EXPECT_TRUE(replay.has_value());
  return replay.has_value() ? replay->pcrs : pcr::PcrValues{};
}

BootAggregateCheck FirstEntryAggregate(const fs::path& list, const pcr::PcrValues& fw) {
  auto source = io::OpenFileSource(list.string());
  EXPECT_TRUE(source.has_value());
  if (!source.has_value()) return {};
  EntryStream stream(**source, {});
  ImaEntry e;
  auto more = stream.Next(&e);
  EXPECT_TRUE(more.has_value() && *more) << list;
  if (!more.has_value() || !*more) return {};
  return CheckBootAggregate(e, fw);
}

// MANIFEST.tsv: these boot_aggregates are sha256 over PCRs 0-9 replayed from
// the firmware logs named there.
TEST(ImaCorpusTest, BootAggregatesMatchTheirFirmwareLogs) {
  TC_REQUIRE_IMA_CORPUS();
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"ima/imaevmutils-boot-aggregate-pcrs-8-9.txt", "eventlog/imaevmutils-thinkpad-n24et56w.bin"},
      {"ima/imaverify-vm-boot-aggregate.txt", "eventlog/imaverify-seabios-qemu-vm.bin"},
      {"ima/imaverify-vm-ima-ng-sha256-perbank.bin", "eventlog/imaverify-seabios-qemu-vm.bin"},
  };
  for (const auto& [list, log] : pairs) {
    SCOPED_TRACE(list);
    const BootAggregateCheck c = FirstEntryAggregate(Corpus(list), ReplayFirmware(Corpus(log)));
    EXPECT_TRUE(c.found);
    EXPECT_TRUE(c.match) << c.reason << " measured " << c.measured << " expected " << c.expected;
    EXPECT_EQ(c.pcrs, "0-9");
    EXPECT_EQ(c.bank, "sha256");
  }
  // The PCRs published with the imaverify lists give the same answer.
  auto published = pcr::ParsePcrValues(ReadText(Corpus("ima/imaverify-vm.pcrs.txt")));
  ASSERT_TRUE(published.has_value());
  EXPECT_TRUE(FirstEntryAggregate(Corpus("ima/imaverify-vm-boot-aggregate.txt"), *published).match);
  // A list booted without a TPM says so.
  const BootAggregateCheck none =
      FirstEntryAggregate(Corpus("ima/keylime-ima-ng-sha1.txt"), *published);
  EXPECT_TRUE(none.found);
  EXPECT_TRUE(none.no_tpm);
}

// ---- The project's own measured VM boots -------------------------------------

std::vector<fs::path> VmBoots() {
  std::vector<fs::path> out;
  for (const auto& d : fs::directory_iterator(*SharedDir() / "corpus" / "vm")) {
    if (fs::exists(d.path() / "ima-log.bin")) out.push_back(d.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ImaCorpusTest, VmBootsReplayToTheHostPcr10AndTheirBootAggregate) {
  TC_REQUIRE_IMA_CORPUS();
  const auto boots = VmBoots();
  ASSERT_EQ(boots.size(), 4u);
  for (const fs::path& dir : boots) {
    SCOPED_TRACE(dir.filename().string());
    auto host = pcr::ParsePcrValues(ReadText(dir / "pcrs-host.txt"));
    ASSERT_TRUE(host.has_value());
    const crypto::Digest* pcr10 = host->Find(HashAlg::kSha256, 10);
    ASSERT_NE(pcr10, nullptr);
    pcr::PcrValues quote;
    quote.banks[HashAlg::kSha256][10] = *pcr10;
    const pcr::PcrValues fw = ReplayFirmware(dir / "eventlog.bin");
    for (const char* list : {"ima-log.bin", "ima-log.txt"}) {
      SCOPED_TRACE(list);
      // The list's own bank is sha1; swtpm has only sha256.
      const ListReplay r = ReplayFile(dir / list, {HashAlg::kSha256}, quote);
      EXPECT_EQ(r.summary.template_hash_alg, HashAlg::kSha1);
      EXPECT_EQ(Hex10(r.values, HashAlg::kSha256), pcr10->Hex());
      EXPECT_EQ(r.matched, r.entries);
      EXPECT_EQ(r.checks.ok, r.entries);
      const BootAggregateCheck c = FirstEntryAggregate(dir / list, fw);
      EXPECT_TRUE(c.match) << c.reason;
      EXPECT_EQ(c.pcrs, "0-9");
    }
  }
}

// reference-values.txt "IMA PATH sha256:HEX = build tree" lines: the digests
// the host computed from the guest's build tree.
std::vector<std::pair<std::string, std::string>> BuildTreeDigests(const fs::path& file) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex re("^IMA (\\S+) sha256:([0-9a-f]{64}) = build tree");
  std::istringstream in(ReadText(file));
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.emplace_back(m[1], m[2]);
  }
  return out;
}

TEST(ImaCorpusTest, VmBootsVerifyAgainstTheBuildTreeDigests) {
  TC_REQUIRE_IMA_CORPUS();
  const auto trusted = BuildTreeDigests(Corpus("vm/baseline-tcg/reference-values.txt"));
  ASSERT_EQ(trusted.size(), 3u);
  Allowlist allow;
  for (const auto& [path, hex] : trusted) allow.AllowDigest(path, ParseHex(hex).value());
  ASSERT_TRUE(allow.AddExcludeRegex("boot_aggregate$").has_value());  // checked against the firmware

  for (const fs::path& dir : VmBoots()) {
    const std::string boot = dir.filename().string();
    SCOPED_TRACE(boot);
    auto host = pcr::ParsePcrValues(ReadText(dir / "pcrs-host.txt"));
    ASSERT_TRUE(host.has_value());
    VerifyOptions o;
    o.banks = {HashAlg::kSha256};
    o.quoted = *host;  // every PCR; only PCR 10 is used
    o.firmware = ReplayFirmware(dir / "eventlog.bin");
    o.allowlist = &allow;
    auto source = io::OpenFileSource((dir / "ima-log.txt").string());
    ASSERT_TRUE(source.has_value());
    auto r = Verify(**source, o);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->matched_prefix, 4u);
    ASSERT_TRUE(r->boot_aggregate.has_value());
    EXPECT_TRUE(r->boot_aggregate->match);
    // Where the host saw a file differ from the build tree, that file alone
    // is reported.
    const auto own = BuildTreeDigests(dir / "reference-values.txt");
    if (own.size() == trusted.size()) {
      EXPECT_TRUE(r->ok());
      EXPECT_TRUE(r->violations.empty());
    } else {
      std::smatch m;
      const std::string ref = ReadText(dir / "reference-values.txt");
      ASSERT_TRUE(std::regex_search(ref, m, std::regex("IMA (\\S+) sha256:([0-9a-f]{64}) DIFFERS")));
      EXPECT_FALSE(r->ok());
      ASSERT_EQ(r->violations.size(), 1u);
      const Violation& v = r->violations[0];
      EXPECT_EQ(v.finding, Finding::kDigestNotAllowed);
      EXPECT_EQ(v.path, m[1].str());
      EXPECT_EQ(v.measured, "sha256:" + m[2].str());
      std::string expected;
      for (const auto& [path, hex] : trusted) {
        if (path == v.path) expected = "sha256:" + hex;
      }
      EXPECT_EQ(v.expected, expected);
      EXPECT_EQ(v.line, 4u);
    }
  }
}

}  // namespace
}  // namespace tc::ima
