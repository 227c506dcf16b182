#include "tc/base/byte_source.h"

#include <algorithm>

namespace tc {

Result<std::size_t> SpanSource::Read(std::span<std::uint8_t> out) {
  const std::size_t n = std::min(out.size(), data_.size() - pos_);
  std::copy_n(data_.subspan(pos_, n).begin(), n, out.begin());
  pos_ += n;
  return n;
}

}  // namespace tc
