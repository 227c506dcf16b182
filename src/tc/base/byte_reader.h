#pragma once

// The one reader for untrusted bytes (../shared/STYLE.md §3).
//
// Every parser of logs, quotes, policies and packets reads through a
// ByteReader. A read takes all it asks for or nothing: on failure the
// position is unchanged and the Error (kMalformed) names the absolute byte
// offset. The byte order is in each method's name. The reader does not own
// its buffer: the buffer must outlive the reader and every span it returns.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tc/base/error.h"

namespace tc {

class ByteReader {
 public:
  // base_offset is added to every offset reported, so that a reader over a
  // slice of a file still names offsets in the file.
  explicit ByteReader(std::span<const std::uint8_t> data,
                      std::size_t base_offset = 0)
      : data_(data), base_(base_offset) {}

  // Absolute offset of the next byte (base_offset + bytes consumed).
  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  [[nodiscard]] Result<std::uint8_t> U8();
  [[nodiscard]] Result<std::uint16_t> U16Le();
  [[nodiscard]] Result<std::uint32_t> U32Le();
  [[nodiscard]] Result<std::uint64_t> U64Le();
  [[nodiscard]] Result<std::uint16_t> U16Be();  // TPM wire order
  [[nodiscard]] Result<std::uint32_t> U32Be();
  [[nodiscard]] Result<std::uint64_t> U64Be();

  // The next n bytes.
  [[nodiscard]] Result<std::span<const std::uint8_t>> Bytes(std::size_t n);
  [[nodiscard]] Result<void> Skip(std::size_t n);
  // Everything left (possibly empty); never fails.
  std::span<const std::uint8_t> Rest();
  // The next n bytes without consuming them.
  [[nodiscard]] Result<std::span<const std::uint8_t>> Peek(std::size_t n) const;

  // UINT32-LE length, then that many bytes; fails if length > max.
  [[nodiscard]] Result<std::span<const std::uint8_t>> SizedBytesU32Le(
      std::size_t max);
  // UINT16-BE length, then that many bytes (a TPM2B); fails if length > max.
  [[nodiscard]] Result<std::span<const std::uint8_t>> SizedBytesU16Be(
      std::size_t max);

  // A reader over the next n bytes (consumed from this one) that reports
  // offsets in the same absolute frame.
  [[nodiscard]] Result<ByteReader> Sub(std::size_t n);

  // A kMalformed error "<what> at offset N".
  Error MalformedHere(std::string_view what) const;

 private:
  Error Truncated(std::size_t wanted) const;

  std::span<const std::uint8_t> data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

}  // namespace tc
