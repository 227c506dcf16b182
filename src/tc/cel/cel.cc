#include "tc/cel/cel.h"

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/json/document.h"

namespace tc::cel {
namespace {

constexpr std::uint8_t kRecordSeparator = 0x1E;  // RFC 7464

Error Bad(std::size_t index, std::size_t offset, std::string_view what) {
  return Error(ErrorCode::kMalformed, fmt::format("record {} at offset {}: {}", index, offset, what));
}

Result<Record> FromValue(const doc::Value& v, std::size_t index, std::size_t offset) {
  if (!v.is_object()) return Fail(Bad(index, offset, "not a JSON object"));
  Record r;
  r.recnum = index;
  if (const doc::Value* n = v.Find("recnum")) {
    const auto* i = std::get_if<std::int64_t>(&n->variant());
    if (i == nullptr || *i < 0) return Fail(Bad(index, offset, "\"recnum\" is not a count"));
    r.recnum = static_cast<std::uint64_t>(*i);
  }
  const doc::Value* pcr = v.Find("pcr");
  const auto* p = pcr != nullptr ? std::get_if<std::int64_t>(&pcr->variant()) : nullptr;
  if (p == nullptr || *p < 0 || *p >= static_cast<std::int64_t>(pcr::kNumPcrs)) {
    return Fail(Bad(index, offset, "\"pcr\" missing or not 0-23"));
  }
  r.pcr = static_cast<std::uint32_t>(*p);
  const doc::Value* digests = v.Find("digests");
  if (digests == nullptr || !digests->is_array() || digests->array().empty()) {
    return Fail(Bad(index, offset, "\"digests\" missing or empty"));
  }
  for (std::size_t i = 0; i < digests->array().size(); ++i) {
    const doc::Value& d = digests->array()[i];
    const doc::Value* alg = d.is_object() ? d.Find("hashAlg") : nullptr;
    const doc::Value* hex = d.is_object() ? d.Find("digest") : nullptr;
    if (alg == nullptr || hex == nullptr || !alg->is_string() || !hex->is_string()) {
      return Fail(Bad(index, offset, fmt::format("digests[{}]: needs \"hashAlg\" and \"digest\"", i)));
    }
    auto digest = crypto::Digest::FromTaggedHex(alg->str() + ":" + hex->str());
    if (!digest) return Fail(Bad(index, offset, fmt::format("digests[{}]: {}", i, digest.error().message())));
    for (const crypto::Digest& other : r.digests) {
      if (other.alg() == digest->alg()) {
        return Fail(Bad(index, offset, fmt::format("digests[{}]: {} twice", i, alg->str())));
      }
    }
    r.digests.push_back(*digest);
  }
  if (const doc::Value* type = v.Find("content_type")) {
    if (!type->is_string()) return Fail(Bad(index, offset, "\"content_type\" is not a string"));
    r.content_type = type->str();
  }
  if (const doc::Value* content = v.Find("content")) r.content = *content;
  return r;
}

}  // namespace

std::string SequenceElement(const Record& r) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("recnum", static_cast<std::uint64_t>(r.recnum));
  v.Set("pcr", r.pcr);
  doc::Value digests = doc::Value::MakeArray();
  for (const crypto::Digest& d : r.digests) {
    doc::Value e = doc::Value::MakeObject();
    e.Set("hashAlg", crypto::HashAlgName(d.alg()));
    e.Set("digest", d.Hex());
    digests.Push(std::move(e));
  }
  v.Set("digests", std::move(digests));
  v.Set("content_type", r.content_type);
  v.Set("content", r.content);
  std::string out(1, static_cast<char>(kRecordSeparator));
  out += doc::ToJsonLine(v);
  out += "\n";
  return out;
}

Result<std::vector<Record>> Parse(std::span<const std::uint8_t> text) {
  if (text.size() > kMaxLogSize) {
    return Fail(ErrorCode::kMalformed, fmt::format("log larger than {} bytes", kMaxLogSize));
  }
  std::vector<Record> out;
  auto check_order = [&](std::size_t offset) -> Result<void> {
    if (out.size() >= 2 && out.back().recnum <= out[out.size() - 2].recnum) {
      return Fail(Bad(out.size() - 1, offset, "\"recnum\" does not increase"));
    }
    return {};
  };
  std::size_t start = 0;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\n' || text[start] == '\t' ||
                                 text[start] == '\r')) {
    ++start;
  }
  if (start < text.size() && text[start] == '[') {
    // CEL-JSON: one array of records.
    TC_ASSIGN_OR_RETURN(const doc::Value all, json::ParseDocument(text));
    if (!all.is_array()) return Fail(ErrorCode::kMalformed, "expected an array of records");
    if (all.array().size() > kMaxRecords) {
      return Fail(ErrorCode::kMalformed, fmt::format("more than {} records", kMaxRecords));
    }
    for (std::size_t i = 0; i < all.array().size(); ++i) {
      TC_ASSIGN_OR_RETURN(Record r, FromValue(all.array()[i], i, 0));
      out.push_back(std::move(r));
      TC_RETURN_IF_ERROR(check_order(0));
    }
    return out;
  }
  // A JSON text sequence: records between 0x1E bytes.
  std::size_t pos = start;
  while (pos < text.size()) {
    if (text[pos] != kRecordSeparator) {
      return Fail(Bad(out.size(), pos, "expected a record separator (0x1E) or '['"));
    }
    std::size_t end = pos + 1;
    while (end < text.size() && text[end] != kRecordSeparator) ++end;
    const auto body = text.subspan(pos + 1, end - pos - 1);
    if (body.size() > kMaxRecordSize) {
      return Fail(Bad(out.size(), pos, fmt::format("record larger than {} bytes", kMaxRecordSize)));
    }
    if (out.size() >= kMaxRecords) {
      return Fail(Bad(out.size(), pos, fmt::format("more than {} records", kMaxRecords)));
    }
    auto v = json::ParseDocument(body);
    if (!v) return Fail(Bad(out.size(), pos, v.error().message()));
    TC_ASSIGN_OR_RETURN(Record r, FromValue(*v, out.size(), pos));
    out.push_back(std::move(r));
    TC_RETURN_IF_ERROR(check_order(pos));
    pos = end;
  }
  return out;
}

Result<pcr::PcrValues> Replay(std::span<const Record> records) {
  pcr::PcrValues values;
  for (const Record& r : records) {
    for (const crypto::Digest& d : r.digests) {
      auto& bank = values.banks[d.alg()];
      auto it = bank.try_emplace(r.pcr, crypto::Digest(d.alg())).first;
      TC_RETURN_IF_ERROR(crypto::ExtendDigest(it->second, d.bytes()));
    }
  }
  return values;
}

}  // namespace tc::cel
