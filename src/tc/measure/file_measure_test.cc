#include "tc/measure/file_measure.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::measure {
namespace {

namespace fs = std::filesystem;
using crypto::HashAlg;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Digests from FIPS 180-2 / sha256sum, not from the code under test.
constexpr char kSha256Abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kSha256Empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tc-measure-test-XXXXXX";
    TC_CHECK(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void Write(const std::string& path, const Bytes& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  TC_CHECK(out.good());
}
void Write(const std::string& path, std::string_view text) {
  Write(path, Bytes(text.begin(), text.end()));
}

// Deterministic filler, so that chunk boundaries are not all zeros.
Bytes Pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  std::uint32_t x = 0x9E3779B9u * (seed + 1u);
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    b[i] = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

std::string Sha256Hex(const Bytes& data) { return crypto::Hash(HashAlg::kSha256, data)->Hex(); }

std::vector<std::string> Paths(const TreeMeasurement& t) {
  std::vector<std::string> out;
  for (const FileMeasurement& f : t.files) out.push_back(f.path);
  return out;
}

const FileMeasurement* Find(const TreeMeasurement& t, const std::string& path) {
  for (const FileMeasurement& f : t.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

MeasureOptions Opts(unsigned threads = 2) {
  MeasureOptions o;
  o.threads = threads;
  return o;
}

Result<TreeMeasurement> Tree(const std::string& root, const MeasureOptions& o = Opts()) {
  const std::vector<std::string> roots = {root};
  return MeasureTree(roots, o);
}

// ---------------------------------------------------------------------------
// A minimal valid PE32+ image with no sections, laid out from the PE/COFF
// spec ("MS-DOS Stub", "COFF File Header", "Optional Header"), and its
// Authenticode hash computed here from the spec's steps: every byte except
// the 4-byte CheckSum and the 8-byte certificate table entry.
struct TinyPe {
  Bytes image;
  std::string authenticode_hex;
};

// `trailing` bytes follow the headers: with no sections and no certificate
// table, [AC] step 14 hashes them all.
TinyPe BuildTinyPe(std::size_t trailing = 32) {
  constexpr std::size_t kLfanew = 0x40, kHeaders = 0x200;
  Bytes b(kHeaders + trailing);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 1);
  auto u16 = [&](std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
  };
  auto u32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  b[0] = 'M';
  b[1] = 'Z';
  u32(0x3c, kLfanew);
  b[kLfanew] = 'P';
  b[kLfanew + 1] = 'E';
  b[kLfanew + 2] = 0;
  b[kLfanew + 3] = 0;
  const std::size_t coff = kLfanew + 4;
  u16(coff, 0x8664);             // Machine: x64
  u16(coff + 2, 0);              // NumberOfSections
  u32(coff + 4, 0);              // TimeDateStamp
  u32(coff + 8, 0);              // PointerToSymbolTable
  u32(coff + 12, 0);             // NumberOfSymbols
  u16(coff + 16, 112 + 8 * 16);  // SizeOfOptionalHeader
  u16(coff + 18, 0x0206);        // Characteristics
  const std::size_t opt = coff + 20;
  u16(opt, 0x20b);          // PE32+
  u32(opt + 60, kHeaders);  // SizeOfHeaders
  const std::size_t checksum = opt + 64;
  u16(opt + 68, 10);   // Subsystem: EFI application
  u32(opt + 108, 16);  // NumberOfRvaAndSizes
  const std::size_t cert_entry = opt + 112 + 8 * 4;
  u32(cert_entry, 0);  // no certificate table
  u32(cert_entry + 4, 0);

  Bytes hashed(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(checksum));
  hashed.insert(hashed.end(), b.begin() + static_cast<std::ptrdiff_t>(checksum + 4),
                b.begin() + static_cast<std::ptrdiff_t>(cert_entry));
  hashed.insert(hashed.end(), b.begin() + static_cast<std::ptrdiff_t>(cert_entry + 8), b.end());
  return {b, Sha256Hex(hashed)};
}

// ---------------------------------------------------------------------------

TEST(MeasureFileTest, Sha256OfKnownContents) {
  TempDir dir;
  Write(dir / "abc", "abc");
  Write(dir / "empty", "");
  auto abc = MeasureFile(dir / "abc", true);
  ASSERT_TRUE(abc.has_value()) << abc.error().message();
  EXPECT_EQ(abc->path, dir / "abc");
  EXPECT_EQ(abc->size, 3u);
  EXPECT_EQ(abc->sha256.alg(), HashAlg::kSha256);
  EXPECT_EQ(abc->sha256.Hex(), kSha256Abc);
  EXPECT_FALSE(abc->authenticode.has_value());
  EXPECT_EQ(abc->note, "");
  auto empty = MeasureFile(dir / "empty", true);
  ASSERT_TRUE(empty.has_value()) << empty.error().message();
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(empty->sha256.Hex(), kSha256Empty);
}

TEST(MeasureFileTest, FilesLargerThanOneReadHashWhole) {
  // Sizes around the 1 MiB read size: a bug at a chunk boundary shows.
  TempDir dir;
  for (std::size_t size :
       {std::size_t{1} << 20, (std::size_t{1} << 20) + 1, std::size_t{3 << 20} + 17}) {
    const Bytes data = Pattern(size, static_cast<std::uint8_t>(size));
    Write(dir / "big", data);
    auto m = MeasureFile(dir / "big", true);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->size, size);
    EXPECT_EQ(m->sha256.Hex(), Sha256Hex(data)) << size;
  }
}

TEST(MeasureFileTest, InvalidMzFileGetsNoteAndNoAuthenticode) {
  TempDir dir;
  const Bytes junk = {'M', 'Z', 0x90, 0x00, 0x03, 0x00};  // e_lfanew missing
  Write(dir / "bad.efi", junk);
  auto m = MeasureFile(dir / "bad.efi", true);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_FALSE(m->authenticode.has_value());
  EXPECT_THAT(m->note, HasSubstr("not a valid PE image"));
  EXPECT_EQ(m->sha256.Hex(), Sha256Hex(junk));
  // Not asked for: no parsing, no note.
  auto plain = MeasureFile(dir / "bad.efi", false);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->note, "");
  EXPECT_EQ(plain->sha256, m->sha256);
}

TEST(MeasureFileTest, LargeInvalidMzFileIsHashedWhole) {
  // The whole-image path (several reads into the image buffer).
  TempDir dir;
  Bytes data = Pattern((std::size_t{5} << 19) + 3, 7);
  data[0] = 'M';
  data[1] = 'Z';
  Write(dir / "big.exe", data);
  auto m = MeasureFile(dir / "big.exe", true);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->size, data.size());
  EXPECT_EQ(m->sha256.Hex(), Sha256Hex(data));
  EXPECT_FALSE(m->authenticode.has_value());
  EXPECT_THAT(m->note, HasSubstr("not a valid PE image"));
}

TEST(MeasureFileTest, HandBuiltPeGetsAuthenticodeHash) {
  TempDir dir;
  const TinyPe pe = BuildTinyPe();
  Write(dir / "tiny.efi", pe.image);
  auto m = MeasureFile(dir / "tiny.efi", true);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_TRUE(m->authenticode.has_value()) << m->note;
  EXPECT_EQ(m->authenticode->alg(), HashAlg::kSha256);
  EXPECT_EQ(m->authenticode->Hex(), pe.authenticode_hex);
  EXPECT_EQ(m->sha256.Hex(), Sha256Hex(pe.image));
  EXPECT_NE(m->authenticode, m->sha256);
  EXPECT_EQ(m->note, "");
  auto plain = MeasureFile(dir / "tiny.efi", false);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->authenticode.has_value());
}

TEST(MeasureFileTest, PeLargerThanOneReadGetsAuthenticodeOfAllOfIt) {
  TempDir dir;
  const TinyPe pe = BuildTinyPe((std::size_t{3} << 20) + 5);
  Write(dir / "big.efi", pe.image);
  auto m = MeasureFile(dir / "big.efi", true);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_TRUE(m->authenticode.has_value()) << m->note;
  EXPECT_EQ(m->authenticode->Hex(), pe.authenticode_hex);
  EXPECT_EQ(m->size, pe.image.size());
  EXPECT_EQ(m->sha256.Hex(), Sha256Hex(pe.image));
}

TEST(MeasureFileTest, MissingFileAndDirectoryAreErrors) {
  TempDir dir;
  auto missing = MeasureFile(dir / "nope", true);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr(dir / "nope"));
  auto d = MeasureFile(dir.path(), true);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------

TEST(MeasureTreeTest, NestedDirectoriesSortedWithKnownDigests) {
  TempDir dir;
  Write(dir / "b/c/deep", "abc");
  Write(dir / "a", "");
  Write(dir / "b/x", "abc");
  Write(dir / "B", "abcd");
  fs::create_directories(dir / "empty/dir");
  auto t = Tree(dir.path());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "B", dir / "a", dir / "b/c/deep", dir / "b/x"));
  EXPECT_EQ(t->files[1].sha256.Hex(), kSha256Empty);
  EXPECT_EQ(t->files[2].sha256.Hex(), kSha256Abc);
  EXPECT_EQ(t->files[3].sha256.Hex(), kSha256Abc);
  EXPECT_EQ(t->files[0].size, 4u);
  EXPECT_EQ(t->bytes, 10u);
  EXPECT_TRUE(t->skipped.empty());
}

TEST(MeasureTreeTest, SymlinksAreSkippedUnlessFollowed) {
  TempDir dir;
  Write(dir / "real/file", "abc");
  ASSERT_EQ(::symlink("real/file", (dir / "file-link").c_str()), 0);
  ASSERT_EQ(::symlink("real", (dir / "dir-link").c_str()), 0);
  ASSERT_EQ(::symlink("missing", (dir / "dangling").c_str()), 0);

  auto t = Tree(dir.path());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "real/file"));
  EXPECT_THAT(t->skipped, ElementsAre(dir / "dangling: symlink not followed",
                                      dir / "dir-link: symlink not followed",
                                      dir / "file-link: symlink not followed"));

  MeasureOptions follow = Opts();
  follow.follow_symlinks = true;
  auto f = Tree(dir.path(), follow);
  ASSERT_TRUE(f.has_value()) << f.error().message();
  // The directory reached twice is walked once, under whichever name came
  // first; the file link is measured under its own path.
  ASSERT_NE(Find(*f, dir / "file-link"), nullptr);
  EXPECT_EQ(Find(*f, dir / "file-link")->sha256.Hex(), kSha256Abc);
  EXPECT_EQ(f->files.size(), 2u);
  ASSERT_EQ(f->skipped.size(), 2u);
  EXPECT_THAT(f->skipped[0], HasSubstr(dir / "dangling: "));
  EXPECT_THAT(f->skipped[1], HasSubstr(": directory already visited"));
}

TEST(MeasureTreeTest, FollowedSymlinkLoopTerminates) {
  TempDir dir;
  Write(dir / "sub/f", "abc");
  ASSERT_EQ(::symlink("..", (dir / "sub/up").c_str()), 0);
  MeasureOptions follow = Opts();
  follow.follow_symlinks = true;
  auto t = Tree(dir.path(), follow);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "sub/f"));
  EXPECT_THAT(t->skipped, ElementsAre(dir / "sub/up: directory already visited"));
}

TEST(MeasureTreeTest, RootSymlinkIsFollowed) {
  TempDir dir;
  Write(dir / "real/f", "abc");
  ASSERT_EQ(::symlink("real", (dir / "root-link").c_str()), 0);
  ASSERT_EQ(::symlink("real/f", (dir / "file-link").c_str()), 0);
  const std::vector<std::string> roots = {dir / "root-link/", dir / "file-link"};
  auto t = MeasureTree(roots, Opts());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "file-link", dir / "root-link/f"));
  EXPECT_TRUE(t->skipped.empty());
}

TEST(MeasureTreeTest, FifoIsSkippedWithoutBlocking) {
  TempDir dir;
  Write(dir / "f", "abc");
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  auto t = Tree(dir.path());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "f"));
  EXPECT_THAT(t->skipped, ElementsAre(dir / "pipe: not a regular file (fifo)"));
  // Named as a root, it is skipped too.
  const std::vector<std::string> roots = {dir / "pipe"};
  auto r = MeasureTree(roots, Opts());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->files.empty());
  EXPECT_EQ(r->skipped.size(), 1u);
}

TEST(MeasureTreeTest, MissingRootIsAnErrorNamingIt) {
  TempDir dir;
  Write(dir / "f", "abc");
  const std::vector<std::string> roots = {dir.path(), dir / "no/such"};
  auto t = MeasureTree(roots, Opts());
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(t.error().message(), HasSubstr(dir / "no/such"));
  auto none = MeasureTree({}, Opts());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidArgument);
}

TEST(MeasureTreeTest, UnreadableFileIsSkippedNotAnError) {
  TempDir dir;
  Write(dir / "ok", "abc");
  std::vector<std::string> roots = {dir.path()};
  std::vector<std::string> expect_skipped;
  if (::geteuid() != 0) {
    Write(dir / "secret", "abc");
    ASSERT_EQ(::chmod((dir / "secret").c_str(), 0), 0);
    fs::create_directories(dir / "closed/inner");
    ASSERT_EQ(::chmod((dir / "closed").c_str(), 0), 0);
    expect_skipped = {dir / "closed: Permission denied", dir / "secret: Permission denied"};
  }
  // Readable by nobody, root included: reading offset 0 of a process's
  // memory fails with EIO.
  const bool have_proc = fs::exists("/proc/self/mem");
  if (have_proc) {
    roots.push_back("/proc/self/mem");
    expect_skipped.insert(expect_skipped.begin(), "/proc/self/mem: read error: Input/output error");
  }
  if (expect_skipped.empty())
    GTEST_SKIP() << "running as root without /proc: nothing is unreadable";
  auto t = MeasureTree(roots, Opts());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "ok"));
  EXPECT_EQ(t->skipped, expect_skipped);
}

TEST(MeasureTreeTest, OverlappingRootsMeasureEachPathOnce) {
  TempDir dir;
  Write(dir / "a/f", "abc");
  Write(dir / "g", "");
  const std::vector<std::string> roots = {dir / "a", dir.path() + "/", dir / "a/f"};
  auto t = MeasureTree(roots, Opts());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_THAT(Paths(*t), ElementsAre(dir / "a/f", dir / "g"));
  EXPECT_EQ(t->bytes, 3u);
  EXPECT_THAT(t->skipped, ElementsAre(dir / "a: directory already visited"));
}

TEST(MeasureTreeTest, MaxFilesIsEnforced) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) Write(dir / ("f" + std::to_string(i)), "x");
  MeasureOptions o = Opts();
  o.max_files = 4;
  auto t = Tree(dir.path(), o);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
  o.max_files = 5;
  EXPECT_TRUE(Tree(dir.path(), o).has_value());
}

// A tree of many files of varied sizes, some of them PE candidates.
void BuildVariedTree(const TempDir& dir) {
  for (int i = 0; i < 120; ++i) {
    const std::size_t size =
        (static_cast<std::size_t>(i) * 7919u) % 50'000u + (i % 17 == 0 ? std::size_t{1} << 20 : 0);
    Bytes data = Pattern(size, static_cast<std::uint8_t>(i));
    if (i % 10 == 0 && size >= 2) {
      data[0] = 'M';
      data[1] = 'Z';
    }
    Write(dir / ("d" + std::to_string(i % 6) + "/s" + std::to_string(i % 4) + "/f" +
                 std::to_string(i)),
          data);
  }
  Write(dir / "tiny.efi", BuildTinyPe().image);
}

TEST(MeasureTreeTest, OneAndTwoThreadsGiveIdenticalResults) {
  TempDir dir;
  BuildVariedTree(dir);
  auto one = Tree(dir.path(), Opts(1));
  auto two = Tree(dir.path(), Opts(2));
  auto many = Tree(dir.path(), Opts(7));
  ASSERT_TRUE(one.has_value() && two.has_value() && many.has_value());
  ASSERT_EQ(one->files.size(), 121u);
  for (const auto* other : {&*two, &*many}) {
    ASSERT_EQ(other->files.size(), one->files.size());
    EXPECT_EQ(other->bytes, one->bytes);
    for (std::size_t i = 0; i < one->files.size(); ++i) {
      const FileMeasurement& a = one->files[i];
      const FileMeasurement& b = other->files[i];
      EXPECT_EQ(a.path, b.path);
      EXPECT_EQ(a.size, b.size);
      EXPECT_EQ(a.sha256, b.sha256) << a.path;
      EXPECT_EQ(a.authenticode, b.authenticode) << a.path;
      EXPECT_EQ(a.note, b.note) << a.path;
    }
  }
  // And each agrees with a one-shot hash of the file.
  for (const FileMeasurement& f : two->files) {
    std::ifstream in(f.path, std::ios::binary);
    const Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(f.sha256.Hex(), Sha256Hex(data)) << f.path;
  }
  const FileMeasurement* pe = Find(*two, dir / "tiny.efi");
  ASSERT_NE(pe, nullptr);
  EXPECT_TRUE(pe->authenticode.has_value());
  EXPECT_THAT(Find(*two, dir / "d0/s0/f0")->note, HasSubstr("not a valid PE image"));
}

TEST(MeasureTreeTest, ProgressRunsOnCallerAndEndsWithTotals) {
  TempDir dir;
  BuildVariedTree(dir);
  std::vector<MeasureProgress> calls;
  bool other_thread = false;
  const std::thread::id caller = std::this_thread::get_id();
  MeasureOptions o = Opts(2);
  o.progress = [&](const MeasureProgress& p) {
    if (std::this_thread::get_id() != caller) other_thread = true;
    calls.push_back(p);
  };
  auto t = Tree(dir.path(), o);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_FALSE(calls.empty());
  EXPECT_FALSE(other_thread);
  const MeasureProgress& last = calls.back();
  EXPECT_EQ(last.files_total, t->files.size());
  EXPECT_EQ(last.files_done, t->files.size());
  EXPECT_EQ(last.bytes_total, t->bytes);
  EXPECT_EQ(last.bytes_done, t->bytes);
  for (std::size_t i = 1; i < calls.size(); ++i) {
    EXPECT_LE(calls[i - 1].files_done, calls[i].files_done);
    EXPECT_LE(calls[i - 1].bytes_done, calls[i].bytes_done);
  }
}

// ---------------------------------------------------------------------------
// A real EFI binary (scripts/fetch_efi_binaries.sh): systemd-boot-efi
// 252.39-1~deb12u2, whose Authenticode hash the firmware of a test VM
// extended into PCR 4 (src/tc/pe/authenticode_test.cc checks the same
// value through tc::pe directly).

fs::path EfiDir() {
  const char* env = std::getenv("TC_EFI_BINARIES");
  return env != nullptr ? fs::path(env) : fs::path("/var/cache/trustchain/efi");
}

// Measures EfiDir()/file both in a tree and alone; skips when it is missing.
void CheckRealBinary(const std::string& file, const std::string& authenticode_hex) {
  const fs::path path = EfiDir() / file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    GTEST_SKIP() << "missing " << path
                 << ": run scripts/fetch_efi_binaries.sh or set TC_EFI_BINARIES to a "
                    "directory holding "
                 << file;
  }
  const Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::string> roots = {path.parent_path().string()};
  auto t = MeasureTree(roots, Opts());
  ASSERT_TRUE(t.has_value()) << t.error().message();
  const FileMeasurement* m = Find(*t, path.string());
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->authenticode.has_value()) << m->note;
  EXPECT_EQ(m->authenticode->Hex(), authenticode_hex);
  EXPECT_EQ(m->size, data.size());
  EXPECT_EQ(m->sha256.Hex(), Sha256Hex(data));
  auto single = MeasureFile(path.string(), true);
  ASSERT_TRUE(single.has_value()) << single.error().message();
  EXPECT_EQ(single->authenticode, m->authenticode);
}

TEST(MeasureRealTest, SystemdBootAuthenticodeMatchesReferenceValue) {
  CheckRealBinary("systemd-bootx64.efi",
                  "7843e376e57323bcdfebcffc8d5109eb39721c83d8bedab1dfd6431596875c2c");
}

TEST(MeasureRealTest, DebianKernelAuthenticodeMatchesReferenceValue) {
  // linux-image-6.1.0-56-amd64: signed, several MiB (many reads).
  CheckRealBinary("vmlinuz-6.1.0-56-amd64",
                  "6b1bf35c3bee9918250f593a6fff889c75c1e239cd2fe9e5bb0cd3de9dcb8e51");
}

}  // namespace
}  // namespace tc::measure
