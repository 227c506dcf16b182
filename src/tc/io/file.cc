#include "tc/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace tc::io {
namespace {
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr && f != stdin) std::fclose(f);
  }
};
}  // namespace

Result<Bytes> ReadFile(const std::string& path, std::size_t max_size) {
  std::unique_ptr<std::FILE, FileCloser> f(path == "-" ? stdin
                                                       : std::fopen(path.c_str(), "rb"));
  if (!f) {
    const int err = errno;
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                fmt::format("{}: {}", path, std::strerror(err)));
  }
  Bytes out;
  std::uint8_t buf[1 << 16];
  while (true) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    if (n > 0) {
      if (out.size() + n > max_size) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: larger than the limit of {} bytes", path, max_size));
      }
      out.insert(out.end(), buf, buf + n);
    }
    if (n < sizeof buf) {
      if (std::ferror(f.get())) {
        return Fail(ErrorCode::kIo, fmt::format("{}: read error: {}", path,
                                                std::strerror(errno)));
      }
      break;
    }
  }
  return out;
}

Result<void> WriteFile(const std::string& path, std::span<const std::uint8_t> bytes,
                       unsigned mode) {
  // O_NOFOLLOW: a planted symlink is not written through; fchmod: an
  // existing file gets `mode` too (O_CREAT's mode applies only to new ones).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(errno)));
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(err)));
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(errno)));
  }
  return {};
}

Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size) {
  TC_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return std::string(b.begin(), b.end());
}

}  // namespace tc::io
