#include "tc/ima/replay.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "tc/base/hex.h"

namespace tc::ima {
namespace {

constexpr std::string_view kCheckpointMagic = "trustchain-ima-checkpoint 1";
constexpr std::size_t kMaxCheckpointLines = 24 * 5 + 2;

}  // namespace

Replayer::Replayer(crypto::HashAlg list_alg, std::span<const crypto::HashAlg> banks)
    : list_alg_(list_alg), banks_(banks.begin(), banks.end()) {
  if (std::find(banks_.begin(), banks_.end(), list_alg) == banks_.end()) {
    banks_.insert(banks_.begin(), list_alg);
  }
}

Result<Replayer> Replayer::Resume(crypto::HashAlg list_alg, const Checkpoint& checkpoint) {
  std::vector<crypto::HashAlg> banks;
  for (const auto& [alg, values] : checkpoint.pcrs.banks) banks.push_back(alg);
  if (std::find(banks.begin(), banks.end(), list_alg) == banks.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the checkpoint has no {} values, the bank of this list's template "
                            "digests",
                            crypto::HashAlgName(list_alg)));
  }
  Replayer r(list_alg, banks);
  for (std::size_t b = 0; b < r.banks_.size(); ++b) {
    for (const auto& [index, value] : checkpoint.pcrs.banks.at(r.banks_[b])) {
      r.PcrState(index).values[b] = value;
    }
  }
  r.entries_ = r.start_entries_ = checkpoint.entries;
  return r;
}

Replayer::Running& Replayer::PcrState(std::uint32_t pcr) {
  for (Running& r : pcrs_) {
    if (r.pcr == pcr) return r;
  }
  Running r{pcr, {}};
  for (const crypto::HashAlg alg : banks_) r.values.emplace_back(alg);
  pcrs_.push_back(std::move(r));
  return pcrs_.back();
}

Result<void> Replayer::ExpectPcr10(const pcr::PcrValues& quoted) {
  expected_.clear();
  matched_.reset();
  matched_checkpoint_.reset();
  for (const auto& [alg, values] : quoted.banks) {
    const auto it = values.find(kImaPcr);
    if (it == values.end()) continue;
    auto pos = std::find(banks_.begin(), banks_.end(), alg);
    if (pos == banks_.end()) {
      if (entries_ > 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("the quote has a {} PCR 10 the checkpoint does not replay",
                                crypto::HashAlgName(alg)));
      }
      banks_.push_back(alg);
      for (Running& r : pcrs_) r.values.emplace_back(alg);
      pos = banks_.end() - 1;
    }
    expected_.emplace_back(static_cast<std::size_t>(pos - banks_.begin()), it->second);
  }
  // A resumed replay may already be where the quote is.
  if (start_entries_ > 0) CheckExpected();
  return {};
}

void Replayer::CheckExpected() {
  if (expected_.empty() || matched_) return;
  Running& r = PcrState(kImaPcr);
  for (const auto& [bank, value] : expected_) {
    if (!(r.values[bank] == value)) return;
  }
  matched_ = entries_;
  matched_checkpoint_ = MakeCheckpoint();
}

Result<TemplateCheck> Replayer::Digests(const ImaEntry& entry, Bytes* out,
                                        crypto::Digest* computed) const {
  static constexpr auto kAllOnes = [] {
    std::array<std::uint8_t, crypto::kMaxDigestSize> a{};
    a.fill(0xff);
    return a;
  }();
  out->clear();
  const bool violation = entry.IsViolation();
  TemplateCheck check = violation ? TemplateCheck::kViolation
                        : entry.hash_input_exact ? TemplateCheck::kOk
                                                 : TemplateCheck::kUncheckable;
  for (const crypto::HashAlg alg : banks_) {
    const std::size_t size = crypto::DigestSize(alg);
    if (violation) {
      out->insert(out->end(), kAllOnes.begin(), kAllOnes.begin() + static_cast<std::ptrdiff_t>(size));
    } else if (alg == list_alg_ && entry.template_digest.size() == size) {
      if (check == TemplateCheck::kOk) {
        TC_ASSIGN_OR_RETURN(const crypto::Digest d, crypto::Hash(alg, entry.hash_input));
        if (!std::ranges::equal(d.bytes(), entry.template_digest)) {
          check = TemplateCheck::kMismatch;
          if (computed != nullptr) *computed = d;
        }
      }
      // What the TPM was given is the recorded digest.
      out->insert(out->end(), entry.template_digest.begin(), entry.template_digest.end());
    } else {
      TC_ASSIGN_OR_RETURN(const crypto::Digest d, crypto::Hash(alg, entry.hash_input));
      out->insert(out->end(), d.bytes().begin(), d.bytes().end());
    }
  }
  return check;
}

Result<void> Replayer::Extend(std::uint32_t pcr, std::span<const std::uint8_t> digests) {
  Running& r = PcrState(pcr);
  std::size_t at = 0;
  for (std::size_t b = 0; b < banks_.size(); ++b) {
    crypto::Digest& value = r.values[b];
    if (digests.size() - at < value.size()) {
      return Fail(ErrorCode::kInternal, "Replayer::Extend: too few digest bytes");
    }
    TC_RETURN_IF_ERROR(crypto::ExtendDigest(value, digests.subspan(at, value.size())));
    at += value.size();
  }
  ++entries_;
  if (pcr == kImaPcr) CheckExpected();
  return {};
}

Result<TemplateCheck> Replayer::Add(const ImaEntry& entry) {
  TC_ASSIGN_OR_RETURN(const TemplateCheck check, Digests(entry, &scratch_, nullptr));
  TC_RETURN_IF_ERROR(Extend(entry.pcr, scratch_));
  return check;
}

crypto::Digest Replayer::Value(std::uint32_t pcr, crypto::HashAlg bank) const {
  const auto b = std::find(banks_.begin(), banks_.end(), bank);
  for (const Running& r : pcrs_) {
    if (r.pcr == pcr && b != banks_.end()) {
      return r.values[static_cast<std::size_t>(b - banks_.begin())];
    }
  }
  return crypto::Digest(bank);
}

pcr::PcrValues Replayer::Values() const {
  pcr::PcrValues out;
  for (std::size_t b = 0; b < banks_.size(); ++b) {
    auto& bank = out.banks[banks_[b]];
    for (const Running& r : pcrs_) bank[r.pcr] = r.values[b];
    if (pcrs_.empty()) bank[kImaPcr] = crypto::Digest(banks_[b]);
  }
  return out;
}

Checkpoint Replayer::MakeCheckpoint() const { return Checkpoint{entries_, Values()}; }

std::string Checkpoint::Serialize() const {
  std::string out = fmt::format("{}\nentries {}\n", kCheckpointMagic, entries);
  for (const auto& [alg, values] : pcrs.banks) {
    for (const auto& [index, value] : values) {
      out += fmt::format("pcr {} {} {}\n", index, crypto::HashAlgName(alg), value.Hex());
    }
  }
  return out;
}

Result<Checkpoint> Checkpoint::Parse(std::string_view text) {
  Checkpoint cp;
  std::size_t line_no = 0;
  bool have_entries = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    const auto bad = [&](std::string_view what) {
      return Fail(ErrorCode::kMalformed, fmt::format("checkpoint line {}: {}", line_no, what));
    };
    if (line_no > kMaxCheckpointLines) return bad("too many lines");
    if (line_no == 1) {
      if (line != kCheckpointMagic) {
        return bad(fmt::format("expected '{}' (not a trustchain IMA checkpoint)",
                               kCheckpointMagic));
      }
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string_view> words;
    while (!line.empty() && words.size() < 5) {
      const std::size_t sp = line.find(' ');
      words.push_back(line.substr(0, sp));
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    const auto number = [](std::string_view s) -> std::optional<std::uint64_t> {
      if (s.empty() || s.size() > 18) return std::nullopt;
      std::uint64_t v = 0;
      for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      return v;
    };
    if (words.size() == 2 && words[0] == "entries") {
      const auto n = number(words[1]);
      if (!n) return bad("entries is not a number");
      cp.entries = static_cast<std::size_t>(*n);
      have_entries = true;
    } else if (words.size() == 4 && words[0] == "pcr") {
      const auto index = number(words[1]);
      const auto alg = crypto::HashAlgFromName(words[2]);
      if (!index || *index >= pcr::kNumPcrs) return bad("PCR index is not 0-23");
      if (!alg) return bad(fmt::format("unknown bank '{}'", PrintableAscii(AsBytes(words[2]))));
      auto bytes = ParseHex(words[3]);
      if (!bytes.has_value() || bytes->size() != crypto::DigestSize(*alg)) {
        return bad(fmt::format("value is not {} bytes of hex", crypto::DigestSize(*alg)));
      }
      cp.pcrs.banks[*alg][static_cast<std::uint32_t>(*index)] = crypto::Digest(*alg, *bytes);
    } else {
      return bad("expected 'entries N' or 'pcr INDEX BANK HEX'");
    }
  }
  if (line_no == 0) return Fail(ErrorCode::kMalformed, "checkpoint is empty");
  if (!have_entries) return Fail(ErrorCode::kMalformed, "checkpoint lacks its 'entries' line");
  if (cp.pcrs.banks.empty()) return Fail(ErrorCode::kMalformed, "checkpoint has no PCR values");
  return cp;
}

BootAggregateCheck CheckBootAggregate(const ImaEntry& first, const pcr::PcrValues& firmware) {
  BootAggregateCheck out;
  out.found = first.path.has_value() && *first.path == "boot_aggregate" && first.digest;
  if (!out.found) {
    out.reason = "the list's first entry is not boot_aggregate";
    return out;
  }
  const FileDigest& d = *first.digest;
  out.bank = d.alg_name.empty() ? "sha1" : std::string(d.alg_name);
  out.measured = fmt::format("{}:{}", out.bank, ToHex(d.bytes));
  if (std::all_of(d.bytes.begin(), d.bytes.end(), [](std::uint8_t b) { return b == 0; })) {
    out.no_tpm = true;
    out.reason = "boot_aggregate is zero: the kernel found no TPM at boot";
    return out;
  }
  if (!d.alg) {
    out.reason = fmt::format("unknown algorithm '{}'", PrintableAscii(AsBytes(d.alg_name)));
    return out;
  }
  const crypto::HashAlg alg = *d.alg;
  const auto bank = firmware.banks.find(alg);
  if (bank == firmware.banks.end()) {
    out.reason = fmt::format("the firmware log has no {} bank", out.bank);
    return out;
  }
  // SHA-1: PCRs 0-7. Other banks: 0-9 since Linux 5.8, 0-7 before.
  std::vector<std::uint32_t> ranges = {9, 7};
  if (alg == crypto::HashAlg::kSha1) ranges = {7};
  for (const std::uint32_t last : ranges) {
    auto hasher = crypto::Hasher::Create(alg);
    if (!hasher.has_value()) {
      out.reason = hasher.error().message();
      return out;
    }
    for (std::uint32_t i = 0; i <= last; ++i) {
      const auto it = bank->second.find(i);
      const crypto::Digest v = it != bank->second.end() ? it->second : crypto::Digest(alg);
      hasher->Update(v.bytes());
    }
    const crypto::Digest agg = hasher->Final();
    if (out.expected.empty()) out.expected = fmt::format("{}:{}", out.bank, agg.Hex());
    if (std::ranges::equal(agg.bytes(), d.bytes)) {
      out.match = true;
      out.pcrs = fmt::format("0-{}", last);
      out.expected = fmt::format("{}:{}", out.bank, agg.Hex());
      return out;
    }
  }
  out.reason = fmt::format("boot_aggregate is not the {} hash of the firmware log's PCRs {}",
                           out.bank, alg == crypto::HashAlg::kSha1 ? "0-7" : "0-9 (or 0-7)");
  return out;
}

}  // namespace tc::ima
