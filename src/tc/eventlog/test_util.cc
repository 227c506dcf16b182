#include "tc/eventlog/test_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace tc::eventlog::testing {

std::optional<std::filesystem::path> SharedDir() {
  const char* env = std::getenv("TC_SHARED_DIR");
  std::filesystem::path p = env != nullptr ? env : TC_SHARED_DIR;
  if (!std::filesystem::is_directory(p / "corpus")) return std::nullopt;
  return p;
}

std::vector<std::filesystem::path> CorpusEventLogs() {
  std::vector<std::filesystem::path> out;
  auto dir = SharedDir();
  if (!dir) return out;
  for (const auto& e : std::filesystem::directory_iterator(*dir / "corpus" / "eventlog")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".bin" && name.find(".quote.") == std::string::npos) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Bytes ReadBytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string ReadText(const std::filesystem::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Bytes Utf16(std::string_view s) {
  Bytes b;
  for (char c : s) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
  b.push_back(0);
  b.push_back(0);
  return b;
}

std::string Str(const doc::Value& v, std::string_view key) {
  const doc::Value* m = v.Find(key);
  return m != nullptr && m->is_string() ? m->str() : "<missing>";
}

std::int64_t Int(const doc::Value& v, std::string_view key) {
  const doc::Value* m = v.Find(key);
  if (m == nullptr) return -1;
  const auto* i = std::get_if<std::int64_t>(&m->variant());
  return i != nullptr ? *i : -1;
}

void PutU16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

void PutU32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

LogBuilder LogBuilder::Agile(std::vector<crypto::HashAlg> banks, std::uint32_t header_type,
                             std::optional<std::uint8_t> vendor_size_override) {
  LogBuilder b;
  b.agile_ = true;
  b.banks_ = banks;
  Bytes spec;
  const std::string_view sig("Spec ID Event03\0", 16);
  spec.insert(spec.end(), sig.begin(), sig.end());
  PutU32(spec, 0);        // platformClass
  spec.push_back(0);      // minor
  spec.push_back(2);      // major
  spec.push_back(0);      // errata
  spec.push_back(2);      // uintnSize
  PutU32(spec, static_cast<std::uint32_t>(banks.size()));
  for (auto alg : banks) {
    PutU16(spec, static_cast<std::uint16_t>(alg));
    PutU16(spec, static_cast<std::uint16_t>(crypto::DigestSize(alg)));
  }
  spec.push_back(vendor_size_override.value_or(0));
  PutU32(b.bytes_, 0);
  PutU32(b.bytes_, header_type);
  b.bytes_.insert(b.bytes_.end(), 20, 0);
  PutU32(b.bytes_, static_cast<std::uint32_t>(spec.size()));
  b.bytes_.insert(b.bytes_.end(), spec.begin(), spec.end());
  return b;
}

LogBuilder LogBuilder::Legacy() {
  LogBuilder b;
  b.banks_ = {crypto::HashAlg::kSha1};
  return b;
}

LogBuilder& LogBuilder::Event(std::uint32_t pcr, std::uint32_t type, const Bytes& data) {
  PutU32(bytes_, pcr);
  PutU32(bytes_, type);
  if (agile_) {
    PutU32(bytes_, static_cast<std::uint32_t>(banks_.size()));
    for (auto alg : banks_) {
      PutU16(bytes_, static_cast<std::uint16_t>(alg));
      auto d = *crypto::Hash(alg, data);
      bytes_.insert(bytes_.end(), d.bytes().begin(), d.bytes().end());
    }
  } else {
    auto d = *crypto::Hash(crypto::HashAlg::kSha1, data);
    bytes_.insert(bytes_.end(), d.bytes().begin(), d.bytes().end());
  }
  PutU32(bytes_, static_cast<std::uint32_t>(data.size()));
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return *this;
}

LogBuilder& LogBuilder::Event(std::uint32_t pcr, std::uint32_t type, std::string_view data) {
  return Event(pcr, type, Bytes(data.begin(), data.end()));
}

LogBuilder& LogBuilder::Raw(const Bytes& bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return *this;
}

}  // namespace tc::eventlog::testing
