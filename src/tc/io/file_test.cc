#include "tc/io/file.h"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace tc::io
