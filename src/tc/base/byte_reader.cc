#include "tc/base/byte_reader.h"

#include <fmt/format.h>

namespace tc {

Error ByteReader::Truncated(std::size_t wanted) const {
  return Error(ErrorCode::kMalformed,
               fmt::format("truncated: need {} bytes at offset {}, {} left",
                           wanted, offset(), remaining()));
}

Error ByteReader::MalformedHere(std::string_view what) const {
  return Error(ErrorCode::kMalformed,
               fmt::format("{} at offset {}", what, offset()));
}

Result<std::span<const std::uint8_t>> ByteReader::Bytes(std::size_t n) {
  if (n > remaining()) return Fail(Truncated(n));
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<std::span<const std::uint8_t>> ByteReader::Peek(std::size_t n) const {
  if (n > remaining()) return Fail(Truncated(n));
  return data_.subspan(pos_, n);
}

Result<void> ByteReader::Skip(std::size_t n) {
  if (n > remaining()) return Fail(Truncated(n));
  pos_ += n;
  return {};
}

std::span<const std::uint8_t> ByteReader::Rest() {
  auto out = data_.subspan(pos_);
  pos_ = data_.size();
  return out;
}

namespace {
template <class T>
T LoadLe(std::span<const std::uint8_t> b) {
  T v = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((v << 8) | b[i]);
  return v;
}
template <class T>
T LoadBe(std::span<const std::uint8_t> b) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | b[i]);
  return v;
}
}  // namespace

Result<std::uint8_t> ByteReader::U8() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(1));
  return b[0];
}
Result<std::uint16_t> ByteReader::U16Le() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(2));
  return LoadLe<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::U32Le() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(4));
  return LoadLe<std::uint32_t>(b);
}
Result<std::uint64_t> ByteReader::U64Le() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(8));
  return LoadLe<std::uint64_t>(b);
}
Result<std::uint16_t> ByteReader::U16Be() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(2));
  return LoadBe<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::U32Be() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(4));
  return LoadBe<std::uint32_t>(b);
}
Result<std::uint64_t> ByteReader::U64Be() {
  TC_ASSIGN_OR_RETURN(auto b, Bytes(8));
  return LoadBe<std::uint64_t>(b);
}

Result<std::span<const std::uint8_t>> ByteReader::SizedBytesU32Le(
    std::size_t max) {
  const std::size_t at = offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t n, U32Le());
  if (n > max) {
    pos_ -= 4;
    return Fail(ErrorCode::kMalformed,
                fmt::format("size {} at offset {} exceeds the limit of {}", n,
                            at, max));
  }
  if (n > remaining()) {
    pos_ -= 4;
    return Fail(ErrorCode::kMalformed,
                fmt::format("size {} at offset {} runs past the end ({} left)",
                            n, at, remaining() - 4));
  }
  return Bytes(n);
}

Result<std::span<const std::uint8_t>> ByteReader::SizedBytesU16Be(
    std::size_t max) {
  const std::size_t at = offset();
  TC_ASSIGN_OR_RETURN(const std::uint16_t n, U16Be());
  if (n > max || n > remaining()) {
    pos_ -= 2;
    return Fail(ErrorCode::kMalformed,
                fmt::format("size {} at offset {} is beyond {}", n, at,
                            n > max ? "the limit" : "the end"));
  }
  return Bytes(n);
}

Result<ByteReader> ByteReader::Sub(std::size_t n) {
  const std::size_t at = offset();
  TC_ASSIGN_OR_RETURN(auto b, Bytes(n));
  return ByteReader(b, at);
}

}  // namespace tc
