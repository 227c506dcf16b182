#pragma once

// Reading whole files with a size cap, so that a hostile or mistaken path
// (/dev/zero, a 40 GB image) cannot exhaust memory.

#include <cstddef>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/base/hex.h"

namespace tc::io {

// Reads the file at `path` ("-" is standard input). Fails with kNotFound when
// it does not exist, kIo when it cannot be read, and kInvalidArgument when it
// is larger than max_size bytes.
[[nodiscard]] Result<Bytes> ReadFile(const std::string& path, std::size_t max_size);

[[nodiscard]] Result<std::string> ReadTextFile(const std::string& path,
                                               std::size_t max_size);

// Writes `bytes` to `path`, created or truncated, and sets its mode to
// `mode` (also for an existing file). A symlink at `path` is refused. kIo
// naming the path on failure.
[[nodiscard]] Result<void> WriteFile(const std::string& path,
                                     std::span<const std::uint8_t> bytes,
                                     unsigned mode = 0644);

}  // namespace tc::io
