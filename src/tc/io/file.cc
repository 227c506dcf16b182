#include "tc/io/file.h"

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

Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size) {
  TC_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return std::string(b.begin(), b.end());
}

}  // namespace tc::io
