#include "tc/io/file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <utility>

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
  // A regular file's size is known: one allocation instead of doublings
  // (a 118 MB policy would otherwise peak at twice its size).
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<std::uint64_t>(st.st_size) <= max_size) {
    out.reserve(static_cast<std::size_t>(st.st_size));
  }
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

namespace {

// Writes all of `bytes` to the file opened with `flags`; fsyncs it when
// `sync`. A symlink at `path` is refused (O_NOFOLLOW); fchmod gives an
// existing file `mode` too (O_CREAT's mode applies only to new ones).
Result<void> WriteAll(const std::string& path, std::span<const std::uint8_t> bytes, unsigned mode,
                      int flags, bool sync) {
  const int fd = ::open(path.c_str(), flags | O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(errno)));
  }
  auto fail = [&](int err) {
    ::close(fd);
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(err)));
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail(errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(n == 0 ? EIO : errno);
    done += static_cast<std::size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) return fail(errno);
  if (::close(fd) != 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(errno)));
  }
  return {};
}

}  // namespace

Result<void> WriteFile(const std::string& path, std::span<const std::uint8_t> bytes,
                       unsigned mode) {
  return WriteAll(path, bytes, mode, O_TRUNC, false);
}

Result<void> WriteFileAtomic(const std::string& path, std::span<const std::uint8_t> bytes,
                             unsigned mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return Fail(ErrorCode::kIo, fmt::format("{}: cannot create a file beside it: {}", path,
                                            std::strerror(errno)));
  }
  auto fail = [&](int err, std::string_view what) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Fail(ErrorCode::kIo, fmt::format("{}: {}: {}", path, what, std::strerror(err)));
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail(errno, "chmod");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(n == 0 ? EIO : errno, "write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Fail(ErrorCode::kIo, fmt::format("{}: close: {}", path, std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Fail(ErrorCode::kIo, fmt::format("{}: cannot replace: {}", path, std::strerror(err)));
  }
  // The rename itself survives a crash once the directory is on disk.
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<void> AppendFile(const std::string& path, std::span<const std::uint8_t> bytes,
                        unsigned mode) {
  return WriteAll(path, bytes, mode, O_APPEND, true);
}

namespace {
class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override {
    if (fd_ > 0) ::close(fd_);
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<std::size_t> Read(std::span<std::uint8_t> out) override {
    while (true) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, fmt::format("{}: read error: {}", path_, std::strerror(errno)));
    }
  }

 private:
  int fd_;
  std::string path_;
};
}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  if (path == "-") return std::unique_ptr<ByteSource>(new FileSource(0, "standard input"));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                fmt::format("{}: {}", path, std::strerror(err)));
  }
  return std::unique_ptr<ByteSource>(new FileSource(fd, path));
}

Result<MappedFile> MappedFile::Open(const std::string& path, std::size_t max_size) {
  MappedFile out;
  if (path != "-") {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                  fmt::format("{}: {}", path, std::strerror(err)));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (size > max_size) {
        ::close(fd);
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: larger than the limit of {} bytes", path, max_size));
      }
      void* map = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (map != MAP_FAILED) {
        ::madvise(map, static_cast<std::size_t>(size), MADV_SEQUENTIAL);
        out.map_ = map;
        out.map_size_ = static_cast<std::size_t>(size);
        out.bytes_ = {static_cast<const std::uint8_t*>(map), out.map_size_};
        return out;
      }
    } else {
      ::close(fd);
    }
  }
  TC_ASSIGN_OR_RETURN(out.owned_, ReadFile(path, max_size));
  out.bytes_ = out.owned_;
  return out;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : bytes_(other.bytes_),
      map_(std::exchange(other.map_, nullptr)),
      map_size_(other.map_size_),
      released_(other.released_),
      owned_(std::move(other.owned_)) {
  if (map_ == nullptr) bytes_ = owned_;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) ::munmap(map_, map_size_);
    bytes_ = other.bytes_;
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = other.map_size_;
    released_ = other.released_;
    owned_ = std::move(other.owned_);
    if (map_ == nullptr) bytes_ = owned_;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

void MappedFile::ReleaseBefore(std::size_t offset) {
  if (map_ == nullptr) return;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t end = std::min(offset, map_size_) / page * page;
  if (end <= released_) return;
  ::madvise(static_cast<std::uint8_t*>(map_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size) {
  TC_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return std::string(b.begin(), b.end());
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  const std::string lock = path + ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kIo, fmt::format("{}: {}", lock, std::strerror(errno)));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kIo, fmt::format("{}: cannot lock: {}", lock, std::strerror(err)));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace tc::io
