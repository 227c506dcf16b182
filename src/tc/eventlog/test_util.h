#pragma once

// Helpers for eventlog tests: finding ../shared, building logs by hand.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/doc/value.h"

namespace tc::eventlog::testing {

// $TC_SHARED_DIR, else the checkout's ../shared. Empty when absent.
std::optional<std::filesystem::path> SharedDir();
// The corpus event logs (*.bin other than quote blobs), sorted.
std::vector<std::filesystem::path> CorpusEventLogs();
Bytes ReadBytes(const std::filesystem::path& p);
std::string ReadText(const std::filesystem::path& p);

// Builds logs byte by byte (PFP 10.2.1 and 10.2.2 layouts).
class LogBuilder {
 public:
  // A crypto-agile log with a Spec ID header declaring `banks`.
  static LogBuilder Agile(std::vector<crypto::HashAlg> banks,
                          std::uint32_t header_type = 3,
                          std::optional<std::uint8_t> vendor_size_override = std::nullopt);
  // A legacy SHA-1 log (no header).
  static LogBuilder Legacy();

  // Appends an event whose digests are the hashes of `data` in every bank.
  LogBuilder& Event(std::uint32_t pcr, std::uint32_t type, const Bytes& data);
  LogBuilder& Event(std::uint32_t pcr, std::uint32_t type, std::string_view data);
  LogBuilder& Raw(const Bytes& bytes);
  const Bytes& bytes() const { return bytes_; }

 private:
  bool agile_ = false;
  std::vector<crypto::HashAlg> banks_;
  Bytes bytes_;
};

// ASCII text as NUL-terminated UTF-16LE (UEFI CHAR16).
Bytes Utf16(std::string_view s);
// A string member of a decoded object, or "<missing>".
std::string Str(const doc::Value& v, std::string_view key);
// An integer member of a decoded object, or -1.
std::int64_t Int(const doc::Value& v, std::string_view key);

void PutU16(Bytes& b, std::uint16_t v);
void PutU32(Bytes& b, std::uint32_t v);

}  // namespace tc::eventlog::testing
