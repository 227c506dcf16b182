#pragma once

// A source of bytes read in pieces (a file, a pipe, a buffer), so that
// parsers of large untrusted inputs (IMA lists of a million entries) can
// stream them with bounded memory. Parsers still read the bytes they are
// handed through a ByteReader.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tc/base/error.h"

namespace tc {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes into out; returns how many, 0 only at the
  // end of the input.
  [[nodiscard]] virtual Result<std::size_t> Read(std::span<std::uint8_t> out) = 0;
};

// A ByteSource over bytes in memory (which must outlive it).
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(std::span<const std::uint8_t> data) : data_(data) {}
  Result<std::size_t> Read(std::span<std::uint8_t> out) override;

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace tc
