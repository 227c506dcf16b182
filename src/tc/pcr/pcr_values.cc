#include "tc/pcr/pcr_values.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string>

#include "tc/base/hex.h"

namespace tc::pcr {

const crypto::Digest* PcrValues::Find(crypto::HashAlg alg,
                                      std::uint32_t index) const {
  auto b = banks.find(alg);
  if (b == banks.end()) return nullptr;
  auto v = b->second.find(index);
  return v == b->second.end() ? nullptr : &v->second;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::uint32_t> ParseIndex(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

bool IsHexText(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<PcrValues> ParsePcrValues(std::string_view text) {
  PcrValues out;
  std::optional<crypto::HashAlg> bank;
  std::string unknown_bank;  // set after a header naming a bank we lack
  std::uint32_t next_bare = 0;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line == "---") continue;
    auto fail = [&](std::string what) -> tl::unexpected<Error> {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("PCR values, line {}: {}", line_no, what));
    };

    // "KEY: VALUE", "KEY VALUE" or a bare "VALUE". Digests never hold ':'.
    std::string_view key, value;
    const std::size_t colon = line.find(':');
    const std::size_t space = line.find_first_of(" \t");
    if (colon != std::string_view::npos) {
      key = Trim(line.substr(0, colon));
      value = Trim(line.substr(colon + 1));
    } else if (space != std::string_view::npos) {
      key = Trim(line.substr(0, space));
      value = Trim(line.substr(space + 1));
    } else {
      value = line;
    }

    std::optional<std::uint32_t> index;
    if (key.empty()) {
      if (!IsHexText(value)) return fail("expected INDEX HEX or a bank header");
      index = next_bare++;
    } else {
      index = ParseIndex(key);
      if (!index) {
        // A bank header ("sha256:"), a container ("pcrs:"), or another
        // tool's note ("pcrread: tsspcrread -halg sha1"). A keyed digest
        // ("PCR7: 0x...") is not silently dropped.
        if (value.empty()) {
          const auto alg = crypto::HashAlgFromName(key);
          if (alg) {
            bank = alg;
            unknown_bank.clear();
            next_bare = 0;
          } else if (key != "pcrs") {
            bank.reset();
            unknown_bank = std::string(key);
          }
        } else if (IsHexText(value) && value.size() >= 40) {
          return fail("'" + std::string(key.substr(0, 40)) + "' is not a PCR index");
        }
        continue;
      }
    }
    if (!unknown_bank.empty()) {
      return fail("values under bank '" + unknown_bank.substr(0, 40) +
                  "', which trustchain does not support");
    }
    if (*index >= kNumPcrs) {
      return fail(fmt::format("PCR index {} is not below {}", *index, kNumPcrs));
    }
    if (!IsHexText(value)) return fail("not a hex digest: '" + std::string(value.substr(0, 80)) + "'");
    auto bytes = ParseHex(value);
    if (!bytes) return fail(bytes.error().message());
    std::optional<crypto::HashAlg> alg = bank;
    if (alg && crypto::DigestSize(*alg) != bytes->size()) {
      return fail(fmt::format("{} bytes do not fit bank {}", bytes->size(),
                              crypto::HashAlgName(*alg)));
    }
    if (!alg) alg = crypto::HashAlgFromDigestSize(bytes->size());
    if (!alg) return fail(fmt::format("no bank has {}-byte digests", bytes->size()));
    crypto::Digest d(*alg, *bytes);
    auto [it, inserted] = out.banks[*alg].emplace(*index, d);
    if (!inserted && !(it->second == d)) {
      return fail(fmt::format("PCR {} of {} given twice with different values",
                              *index, crypto::HashAlgName(*alg)));
    }
  }
  if (out.banks.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "PCR values: no PCR values found");
  }
  return out;
}

std::vector<PcrComparison> Compare(const PcrValues& expected,
                                   const PcrValues& actual) {
  std::vector<PcrComparison> out;
  for (const auto& [alg, values] : expected.banks) {
    for (const auto& [index, digest] : values) {
      const crypto::Digest* a = actual.Find(alg, index);
      if (a == nullptr) continue;
      out.push_back({alg, index, digest, *a, digest == *a});
    }
  }
  return out;
}

}  // namespace tc::pcr
