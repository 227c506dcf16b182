#include "tc/io/file.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tc::io {
namespace {

std::string TempDirPath() {
  char tmpl[] = "/tmp/tc-io-test-XXXXXX";
  return ::mkdtemp(tmpl) != nullptr ? tmpl : "";
}

TEST(FileTest, WriteThenReadRoundTripsAndCapsSize) {
  const std::string dir = TempDirPath();
  const std::string path = dir + "/f";
  const Bytes data = {1, 2, 3};
  ASSERT_TRUE(WriteFile(path, data).has_value());
  EXPECT_EQ(*ReadFile(path, 3), data);
  EXPECT_EQ(ReadFile(path, 2).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(dir + "/missing", 10).error().code(), ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(FileTest, ExistingFileGetsTheRequestedModeAndSymlinksAreRefused) {
  const std::string dir = TempDirPath();
  const std::string path = dir + "/secret";
  ASSERT_TRUE(WriteFile(path, Bytes{1}, 0644).has_value());
  ASSERT_TRUE(WriteFile(path, Bytes{2}, 0600).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string link = dir + "/link";
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  auto w = WriteFile(link, Bytes{3}, 0600);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), ErrorCode::kIo);
  EXPECT_EQ(*ReadFile(path, 10), Bytes{2});
  std::filesystem::remove_all(dir);
}

TEST(FileTest, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  const std::string dir = TempDirPath();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/policy.json";
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(std::string_view("one")), 0600).has_value());
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(std::string_view("second")), 0644).has_value());
  auto text = ReadTextFile(path, 100);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // no policy.json.tmp.* left behind
  // A directory that does not exist: an error naming the path.
  auto bad = WriteFileAtomic(dir + "/no/such/file", AsBytes(std::string_view("x")));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("no/such/file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(FileTest, AppendAddsToTheEnd) {
  const std::string dir = TempDirPath();
  const std::string path = dir + "/audit.jsonl";
  ASSERT_TRUE(AppendFile(path, AsBytes(std::string_view("a\n"))).has_value());
  ASSERT_TRUE(AppendFile(path, AsBytes(std::string_view("b\n"))).has_value());
  EXPECT_EQ(*ReadTextFile(path, 100), "a\nb\n");
  std::filesystem::remove_all(dir);
}

TEST(FileTest, FileLockExcludesOthersUntilReleased) {
  const std::string dir = TempDirPath();
  const std::string path = dir + "/policy.json";
  // Another open file description contends for the same flock.
  auto try_lock = [&] {
    const int fd = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT, 0600);
    const bool got = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return got;
  };
  {
    auto lock = FileLock::Acquire(path);
    ASSERT_TRUE(lock.has_value()) << lock.error().message();
    EXPECT_FALSE(try_lock());
  }
  EXPECT_TRUE(try_lock());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tc::io
