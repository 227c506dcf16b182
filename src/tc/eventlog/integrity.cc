#include "tc/eventlog/integrity.h"

#include <string>

#include "tc/base/byte_reader.h"
#include "tc/eventlog/uefi/variable.h"

namespace tc::eventlog {
namespace {

using Span = std::span<const std::uint8_t>;

bool HasPrefix(Span data, std::string_view p) {
  return data.size() >= p.size() &&
         std::equal(p.begin(), p.end(), data.begin(),
                    [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
}

Span DropTrailingNul(Span s) {
  return !s.empty() && s.back() == 0 ? s.first(s.size() - 1) : s;
}

// UEFI_VARIABLE_DATA's VariableData (PFP 10.2.6), if the structure parses
// with nothing after it.
std::optional<Span> VariableData(Span data) {
  ByteReader r(data);
  auto v = uefi::ReadVariableData(r);
  if (!v || v->trailing_bytes != 0) return std::nullopt;
  return v->data;
}

constexpr std::string_view kVariableDataOnly = "hash of VariableData only";

struct Candidate {
  std::string_view rule;
  Span bytes;
};

// The forms of the data whose hash the digest may be, best first. Empty
// when the digest is not a hash of the data at all.
std::vector<Candidate> Candidates(const RawEvent& e) {
  const Span d = e.data;
  switch (e.type) {
    case ev::kSeparator:
    case ev::kAction:
    case ev::kEfiAction:
    case ev::kSCrtmVersion:
    case ev::kOmitBootDeviceEvents:
    case ev::kEfiGptEvent:
    case ev::kEfiGptEvent2:
      return {{"hash of event data", d}};
    case ev::kEfiVariableBoot2:
      return {{"hash of event data", d}};
    case ev::kEfiVariableDriverConfig:
    case ev::kEfiVariableBoot: {
      // PFP 10.4.1 says the whole UEFI_VARIABLE_DATA. Real firmware also
      // hashes only VariableData: EDK2 for Boot#### and BootOrder, TPM 1.2
      // era firmware for the Secure Boot variables (Lenovo, in the corpus).
      // Then the name and GUID are not covered: kMatchesPart.
      std::vector<Candidate> c = {{"hash of event data", d}};
      if (auto v = VariableData(d)) c.push_back({kVariableDataOnly, *v});
      return c;
    }
    case ev::kEfiVariableAuthority: {
      // shim and EDK2 log authority events one byte longer than what they
      // hash (the size of a padded C struct); the byte left out is padding
      // after VariableData.
      std::vector<Candidate> c = {{"hash of event data", d}};
      if (!d.empty()) {
        c.push_back({"hash of event data without its last byte", d.first(d.size() - 1)});
      }
      return c;
    }
    case ev::kIpl: {
      // Boot loaders log strings whose hash is extended into PCR 8 (GRUB's
      // commands and kernel command line) or PCR 12 (systemd's UTF-16
      // command line); in PCR 9 and 14 the digest is of a file or variable
      // named by the string. Upstream GRUB hashes the text after its prefix
      // without the NUL; Red Hat's GRUB ("grub_cmd " without colon) with it.
      if (e.pcr != 8 && e.pcr != 12) return {};
      static constexpr std::string_view kPrefixes[] = {
          "grub_cmd: ", "kernel_cmdline: ", "grub_kernel_cmdline ", "grub_cmd ",
          "kernel_cmdline "};
      for (std::string_view p : kPrefixes) {
        if (HasPrefix(d, p)) {
          const Span rest = d.subspan(p.size());
          return {{"hash of the string after its prefix", DropTrailingNul(rest)},
                  {"hash of the string after its prefix, with its NUL", rest},
                  {"hash of event data", d}};
        }
      }
      return {{"hash of event data", d},
              {"hash of event data without its NUL", DropTrailingNul(d)}};
    }
    default:
      return {};
  }
}

}  // namespace

EventDataCheck CheckEventData(const RawEvent& event) {
  EventDataCheck out;
  if (event.type == ev::kNoAction) return out;
  const auto candidates = Candidates(event);
  if (candidates.empty()) return out;
  out.rule = candidates.front().rule;
  bool checked_any = false;
  for (const crypto::Digest& logged : event.digests) {
    if (!crypto::HashAvailable(logged.alg())) continue;
    checked_any = true;
    std::optional<crypto::Digest> first;
    bool matched = false;
    for (const Candidate& c : candidates) {
      auto h = crypto::Hash(logged.alg(), c.bytes);
      if (!h) continue;
      if (!first) first = *h;
      if (*h == logged) {
        out.rule = c.rule;
        matched = true;
        break;
      }
    }
    if (!matched) {
      out.result = DataCheck::kMismatch;
      out.rule = candidates.front().rule;
      out.logged = logged;
      out.computed = first;
      return out;
    }
  }
  if (checked_any) {
    out.result = out.rule == kVariableDataOnly ? DataCheck::kMatchesPart : DataCheck::kMatches;
  }
  return out;
}

std::vector<IntegrityFinding> FindDigestMismatches(const EventLog& log) {
  std::vector<IntegrityFinding> out;
  for (const RawEvent& e : log.events()) {
    EventDataCheck c = CheckEventData(e);
    if (c.result == DataCheck::kMismatch) out.push_back({e.index, e.offset, std::move(c)});
  }
  return out;
}

}  // namespace tc::eventlog
