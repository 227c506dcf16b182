#pragma once

// Reading whole files with a size cap, so that a hostile or mistaken path
// (/dev/zero, a 40 GB image) cannot exhaust memory.

#include <cstddef>
#include <span>
#include <string>

#include <memory>

#include "tc/base/byte_source.h"
#include "tc/base/error.h"
#include "tc/base/hex.h"

namespace tc::io {

// Reads the file at `path` ("-" is standard input). Fails with kNotFound when
// it does not exist, kIo when it cannot be read, and kInvalidArgument when it
// is larger than max_size bytes.
[[nodiscard]] Result<Bytes> ReadFile(const std::string& path, std::size_t max_size);

// Opens `path` ("-" is standard input) for reading in pieces, for inputs too
// large to hold (IMA lists). kNotFound / kIo naming the path.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// A whole file's bytes, mapped read-only when it is a regular file (no copy,
// no zeroed memory) and read into memory otherwise (pipes, "-").
class MappedFile {
 public:
  // Fails like ReadFile.
  [[nodiscard]] static Result<MappedFile> Open(const std::string& path, std::size_t max_size);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  // Gives back the memory of bytes [0, offset) that a one-pass reader has
  // left behind (they are not read again: the span's contents there become
  // unspecified, re-read from the file if touched). No-op when not mapped.
  void ReleaseBefore(std::size_t offset);

 private:
  MappedFile() = default;
  std::span<const std::uint8_t> bytes_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t released_ = 0;
  Bytes owned_;
};

[[nodiscard]] Result<std::string> ReadTextFile(const std::string& path,
                                               std::size_t max_size);

// Writes `bytes` to `path`, created or truncated, and sets its mode to
// `mode` (also for an existing file). A symlink at `path` is refused. kIo
// naming the path on failure.
[[nodiscard]] Result<void> WriteFile(const std::string& path,
                                     std::span<const std::uint8_t> bytes,
                                     unsigned mode = 0644);

// As WriteFile, but never leaves a half-written file: writes a new
// temporary file beside `path` (a unique name), flushes it to disk, renames
// it over `path` and flushes the directory.
[[nodiscard]] Result<void> WriteFileAtomic(const std::string& path,
                                           std::span<const std::uint8_t> bytes,
                                           unsigned mode = 0644);

// Appends `bytes` to `path` (created with `mode` if absent) and flushes it
// to disk: for logs that must survive a crash. A symlink is refused.
[[nodiscard]] Result<void> AppendFile(const std::string& path, std::span<const std::uint8_t> bytes,
                                      unsigned mode = 0600);

// An exclusive advisory lock (flock) on `path` + ".lock", held until
// destroyed: serialises read-modify-write cycles of one file across
// processes (two `verify --enforce` runs on one policy). Blocks until free.
class FileLock {
 public:
  // kIo naming the lock file when it cannot be created or locked.
  [[nodiscard]] static Result<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace tc::io
