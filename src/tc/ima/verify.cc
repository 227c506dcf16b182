#include "tc/ima/verify.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "tc/base/hex.h"

namespace tc::ima {
namespace {

std::string DigestText(const std::optional<FileDigest>& d) {
  if (!d) return "";
  return fmt::format("{}:{}", d->alg_name.empty() ? "sha1" : PrintableAscii(AsBytes(d->alg_name)),
                     ToHex(d->bytes));
}

std::string JoinExpected(const std::optional<FileDigest>& d, const std::vector<std::string>& hex) {
  std::string out;
  for (const std::string& h : hex) {
    if (!out.empty()) out += ", ";
    const auto alg = crypto::HashAlgFromDigestSize(h.size() / 2);
    const bool same = d && d->bytes.size() * 2 == h.size() && !d->alg_name.empty();
    out += fmt::format("{}:{}", same ? PrintableAscii(AsBytes(d->alg_name))
                                     : std::string(alg ? crypto::HashAlgName(*alg) : "?"),
                       h);
  }
  return out;
}

// Entries travel from the reading thread to the checking thread in
// batches of this many.
constexpr std::size_t kBatchEntries = 1024;
constexpr std::size_t kBatchBytes = std::size_t{8} << 20;  // entries may be 1 MiB each

// What the checks of one entry need, as views (into an EntryBatch).
struct PolicyInput {
  std::size_t index = 0, line = 0, offset = 0;
  std::uint32_t pcr = 0;
  std::optional<std::string_view> path;
  std::optional<FileDigest> digest;
  std::string_view template_name;
  std::span<const std::uint8_t> template_digest;
  std::span<const std::uint8_t> extends;   // per bank, what the entry extends
  std::span<const std::uint8_t> computed;  // kMismatch: the data's list-bank hash
  std::span<const std::uint8_t> signature; // the sig field (kept when keys are given)
  bool hash_input_exact = true;
  bool is_buffer = false;
  TemplateCheck check = TemplateCheck::kOk;  // made by the reading thread
};

// A batch of entries copied out of the parser, compactly: a fixed header
// each, and their bytes in one arena. The parser's views die with the next
// entry; a batch lives until its checks are done.
class EntryBatch {
 public:
  // `extends`: what the entry extends into each bank (Replayer::Digests);
  // `computed`: the list bank's hash of a kMismatch entry's data.
  void Add(const ImaEntry& e, TemplateCheck check, std::span<const std::uint8_t> extends,
           const crypto::Digest& computed, bool keep_signature) {
    Header h;
    h.check = check;
    h.index = e.index;
    h.line = e.line;
    h.offset = e.offset;
    h.pcr = e.pcr;
    h.at = arena_.size();
    h.flags = static_cast<std::uint8_t>((e.path ? 1 : 0) | (e.digest ? 2 : 0) |
                                        (Allowlist::IsBufferEntry(e) ? 4 : 0) |
                                        (e.hash_input_exact ? 8 : 0));
    h.path_len = e.path ? static_cast<std::uint32_t>(e.path->size()) : 0;
    h.tmpl_len = static_cast<std::uint16_t>(e.template_name.size());
    h.tdigest_len = static_cast<std::uint8_t>(e.template_digest.size());
    h.input_len = static_cast<std::uint32_t>(extends.size());
    h.computed_len = check == TemplateCheck::kMismatch ? static_cast<std::uint8_t>(computed.size()) : 0;
    if (e.path) arena_.append(*e.path);
    arena_.append(e.template_name);
    Append(e.template_digest);
    Append(extends);
    if (h.computed_len > 0) Append(computed.bytes());
    if (keep_signature) {
      h.sig_len = static_cast<std::uint32_t>(e.signature.size());  // <= 1 MiB (template data cap)
      Append(e.signature);
    }
    if (e.digest) {
      h.alg_len = static_cast<std::uint16_t>(e.digest->alg_name.size());
      h.type_len = static_cast<std::uint16_t>(e.digest->type.size());
      h.digest_len = static_cast<std::uint16_t>(e.digest->bytes.size());
      h.has_alg = e.digest->alg.has_value();
      if (e.digest->alg) h.alg = *e.digest->alg;
      arena_.append(e.digest->alg_name);
      arena_.append(e.digest->type);
      Append(e.digest->bytes);
    }
    headers_.push_back(h);
  }
  std::size_t size() const { return headers_.size(); }
  // Every entry's Input(), once decoded (by the checking thread).
  std::vector<PolicyInput>& inputs() { return inputs_; }
  std::size_t bytes() const { return arena_.capacity() + headers_.capacity() * sizeof(Header); }

  PolicyInput Input(std::size_t i) const {
    const Header& h = headers_[i];
    const std::string_view a(arena_);
    std::size_t at = h.at;
    const auto take = [&](std::size_t n) {
      const std::string_view s = a.substr(at, n);
      at += n;
      return s;
    };
    PolicyInput in;
    in.index = h.index;
    in.line = h.line;
    in.offset = h.offset;
    in.pcr = h.pcr;
    if (h.flags & 1) in.path = take(h.path_len);
    in.template_name = take(h.tmpl_len);
    in.template_digest = AsBytes(take(h.tdigest_len));
    in.extends = AsBytes(take(h.input_len));
    in.computed = AsBytes(take(h.computed_len));
    in.signature = AsBytes(take(h.sig_len));
    if (h.flags & 2) {
      FileDigest d;
      d.alg_name = take(h.alg_len);
      d.type = take(h.type_len);
      d.bytes = AsBytes(take(h.digest_len));
      if (h.has_alg) d.alg = h.alg;
      in.digest = d;
    }
    in.is_buffer = (h.flags & 4) != 0;
    in.hash_input_exact = (h.flags & 8) != 0;
    in.check = h.check;
    return in;
  }

 private:
  struct Header {
    std::size_t index, line, offset, at;
    std::uint32_t pcr, path_len, input_len;
    std::uint16_t tmpl_len, alg_len = 0, type_len = 0, digest_len = 0;
    std::uint32_t sig_len = 0;
    std::uint8_t tdigest_len, flags, computed_len = 0;
    bool has_alg = false;
    crypto::HashAlg alg = crypto::HashAlg::kSha1;
    TemplateCheck check = TemplateCheck::kOk;
  };
  void Append(std::span<const std::uint8_t> b) {
    arena_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::vector<Header> headers_;
  std::string arena_;
  std::vector<PolicyInput> inputs_;
};

// A bounded queue of batches from the reader to the checker.
class BatchQueue {
 public:
  // False when the consumer has stopped (it failed); `b` is then kept.
  bool Push(std::unique_ptr<EntryBatch>& b) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < kDepth || stopped_; });
    if (stopped_) return false;
    q_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }
  // nullptr at the end.
  std::unique_ptr<EntryBatch> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return nullptr;
    auto b = std::move(q_.front());
    q_.erase(q_.begin());
    cv_.notify_all();
    return b;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  static constexpr std::size_t kDepth = 8;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<EntryBatch>> q_;
  bool closed_ = false;
  bool stopped_ = false;
};

// The checking side: replay and template checks in list order, the
// boot_aggregate, and the allowlist checks (batches wait while it loads).
class Checker {
 public:
  Checker(const VerifyOptions& options, VerifyResult& res) : options_(options), res_(res) {}

  Result<void> Start(crypto::HashAlg list_alg) {
    list_alg_ = list_alg;
    if (options_.resume) {
      TC_ASSIGN_OR_RETURN(Replayer r, Replayer::Resume(list_alg, *options_.resume));
      replayer_.emplace(std::move(r));
    } else {
      replayer_.emplace(list_alg, options_.banks);
    }
    if (options_.quoted) TC_RETURN_IF_ERROR(replayer_->ExpectPcr10(*options_.quoted));
    allowlist_ = options_.allowlist;
    policy_wanted_ = options_.allowlist != nullptr || options_.allowlist_source != nullptr;
    return {};
  }

  Result<void> Process(std::unique_ptr<EntryBatch> batch) {
    std::vector<PolicyInput>& inputs = batch->inputs();
    inputs.resize(batch->size());
    for (std::size_t i = 0; i < batch->size(); ++i) {
      const PolicyInput& in = inputs[i] = batch->Input(i);
      TC_RETURN_IF_ERROR(replayer_->Extend(in.pcr, in.extends).or_else([&](Error err) -> Result<void> {
        return Fail(std::move(err).Wrap(fmt::format("entry {}", in.index)));
      }));
      if (in.pcr != kImaPcr && options_.quoted) {
        // Only PCR 10 is compared with the quote: an entry an IMA policy
        // rule (pcr=N) sent elsewhere is not proven by it.
        Add(in, Finding::kPcrNotQuoted, "", "",
            fmt::format("the entry extends PCR {}, which is not compared with the quote",
                        in.pcr));
      }
      const TemplateCheck check = in.check;
      ++res_.entries_read;
      res_.checks.Count(check);
      if (check == TemplateCheck::kViolation) ++res_.measurement_violations;
      if (check == TemplateCheck::kMismatch) {
        Add(in, Finding::kTemplateHash,
            fmt::format("{}:{}", crypto::HashAlgName(list_alg_), ToHex(in.computed)),
            fmt::format("{}:{}", crypto::HashAlgName(list_alg_), ToHex(in.template_digest)),
            "the template digest is not the hash of the entry's data: the entry was altered");
      } else if (check == TemplateCheck::kUncheckable) {
        Add(in, Finding::kTemplateUncheckable, "", ToHex(in.template_digest),
            fmt::format("template '{}' cannot be checked from an ascii list; verify the binary "
                        "list",
                        PrintableAscii(AsBytes(in.template_name))));
      }
      if (in.index == 0 && options_.firmware) {
        ImaEntry first;
        first.path = in.path;
        first.digest = in.digest;
        res_.boot_aggregate = CheckBootAggregate(first, *options_.firmware);
        res_.boot_aggregate->source = options_.firmware_source;
        if (!res_.boot_aggregate->match) {
          Add(in, Finding::kBootAggregate, res_.boot_aggregate->expected,
              res_.boot_aggregate->measured, res_.boot_aggregate->reason);
        }
      }
    }
    if (!policy_wanted_) {
      if (options_.keyring != nullptr) {
        for (const PolicyInput& in : inputs) {
          if (!in.signature.empty()) (void)CheckSignature(in);
        }
      }
      return {};
    }
    waiting_.push_back(std::move(batch));
    waiting_bytes_ += waiting_.back()->bytes();
    if (allowlist_ == nullptr) {
      // A failed load stops the verification now, not after the list.
      TC_ASSIGN_OR_RETURN(allowlist_, options_.allowlist_source->Ready());
    }
    if (allowlist_ == nullptr && waiting_bytes_ > options_.max_pending_bytes) {
      TC_ASSIGN_OR_RETURN(allowlist_, options_.allowlist_source->Wait());
    }
    if (allowlist_ != nullptr) {
      CheckWaiting();
    } else {
      // Waiting: keep the compact form only.
      waiting_.back()->inputs().clear();
      waiting_.back()->inputs().shrink_to_fit();
    }
    return {};
  }

  Result<void> Finish() {
    if (policy_wanted_ && allowlist_ == nullptr) {
      TC_ASSIGN_OR_RETURN(allowlist_, options_.allowlist_source->Wait());
    }
    if (allowlist_ != nullptr) CheckWaiting();
    return {};
  }

  Replayer& replayer() { return *replayer_; }
  // Findings in all entries read, and in entries before the quoted prefix's
  // end (all of them when no prefix has matched (yet): a later match can
  // only be after every entry extended so far).
  std::size_t findings() const { return findings_; }
  std::size_t findings_attested() const { return findings_attested_; }

 private:
  void Add(const PolicyInput& in, Finding f, std::string expected, std::string measured,
           std::string detail) {
    ++findings_;
    const auto& matched = replayer_->matched_prefix();
    if (!matched || in.index < *matched) ++findings_attested_;
    // Keep the max_violations with the lowest entry numbers (batches may
    // be checked against the allowlist after later ones were replayed).
    if (options_.max_violations == 0) return;
    if (res_.violations.size() >= options_.max_violations &&
        res_.violations.back().entry <= in.index) {
      return;
    }
    Violation v;
    v.finding = f;
    v.entry = in.index;
    v.line = in.line;
    v.offset = in.offset;
    v.path = in.path ? PrintableAscii(AsBytes(*in.path)) : std::string();
    v.expected = std::move(expected);
    v.measured = std::move(measured);
    v.detail = std::move(detail);
    const auto pos = std::upper_bound(
        res_.violations.begin(), res_.violations.end(), v.entry,
        [](std::size_t entry, const Violation& x) { return entry < x.entry; });
    res_.violations.insert(pos, std::move(v));
    if (res_.violations.size() > options_.max_violations) res_.violations.pop_back();
  }

  // Allowlist checks of the waiting batches, in order. Lookups are
  // pipelined: the memory of entry i+16's slot and entry i+8's record is
  // fetched while entry i is checked.
  void CheckWaiting() {
    for (auto& batch : waiting_) {
      if (batch == nullptr) continue;
      const std::size_t n = batch->size();
      std::vector<PolicyInput>& inputs_ = batch->inputs();
      if (inputs_.size() != n) {
        inputs_.resize(n);
        for (std::size_t i = 0; i < n; ++i) inputs_[i] = batch->Input(i);
      }
      hashes_.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        hashes_[i] = inputs_[i].path ? Allowlist::HashPath(*inputs_[i].path) : 0;
      }
      constexpr std::size_t kSlotAhead = 16, kRecordAhead = 8;
      for (std::size_t i = 0; i < n; ++i) {
        if (i + kSlotAhead < n) allowlist_->Prefetch(hashes_[i + kSlotAhead], 0);
        if (i + kRecordAhead < n) allowlist_->Prefetch(hashes_[i + kRecordAhead], 1);
        CheckPolicy(inputs_[i], hashes_[i]);
      }
      batch.reset();  // give the memory back as we go
    }
    waiting_.clear();
    waiting_bytes_ = 0;
  }

  // With trusted keys: true when the entry's signature settles it (valid:
  // trusted; invalid: a violation); false leaves it to the allowlist.
  bool CheckSignature(const PolicyInput& in) {
    if (options_.keyring == nullptr || options_.keyring->empty() || in.signature.empty() ||
        in.check == TemplateCheck::kViolation) {
      return false;
    }
    const ImaKeyring::Outcome o = options_.keyring->Check(in.digest, in.signature);
    switch (o.result) {
      case ImaKeyring::Result::kValid: ++res_.signed_valid; return true;
      case ImaKeyring::Result::kInvalid:
        Add(in, Finding::kSignatureInvalid, "", DigestText(in.digest), o.detail);
        return true;
      case ImaKeyring::Result::kUnknownKey:
      case ImaKeyring::Result::kUnsupported: return false;
    }
    return false;
  }

  void CheckPolicy(const PolicyInput& in, std::uint64_t path_hash) {
    if (CheckSignature(in)) return;
    const bool violation = in.check == TemplateCheck::kViolation;
    const Allowlist::Decision d = allowlist_->Check(in.path, in.digest, in.is_buffer, path_hash);
    constexpr std::string_view kViolationText =
        "IMA recorded a violation (file open for writing while measured, or "
        "time-of-measure/time-of-use): its content is unknown";
    switch (d.outcome) {
      case Allowlist::Outcome::kAllowed:
      case Allowlist::Outcome::kIgnored:
        if (violation) {
          Add(in, Finding::kMeasurementViolation, "", "", std::string(kViolationText));
        } else {
          ++res_.allowed;
        }
        break;
      case Allowlist::Outcome::kExcluded: ++res_.excluded; break;
      case Allowlist::Outcome::kNotListed:
        if (violation) {
          Add(in, Finding::kMeasurementViolation, "", "",
              "IMA recorded a violation for a path the allowlist does not list");
        } else {
          Add(in, Finding::kNotInPolicy, "", DigestText(in.digest),
              "the path is not in the allowlist");
        }
        break;
      case Allowlist::Outcome::kDigestMismatch:
        if (violation) {
          Add(in, Finding::kMeasurementViolation, JoinExpected(in.digest, d.expected), "",
              std::string(kViolationText));
        } else {
          Add(in, Finding::kDigestNotAllowed, JoinExpected(in.digest, d.expected),
              DigestText(in.digest), "the file's digest is not one the allowlist trusts");
        }
        break;
      case Allowlist::Outcome::kNoDigest:
        Add(in, Finding::kNoFileDigest, "", "",
            fmt::format("template '{}' carries no file digest and name to check",
                        PrintableAscii(AsBytes(in.template_name))));
        break;
    }
  }

  const VerifyOptions& options_;
  VerifyResult& res_;
  crypto::HashAlg list_alg_ = crypto::HashAlg::kSha1;
  std::optional<Replayer> replayer_;
  const Allowlist* allowlist_ = nullptr;
  bool policy_wanted_ = false;
  std::vector<std::unique_ptr<EntryBatch>> waiting_;
  std::size_t waiting_bytes_ = 0;
  std::size_t findings_ = 0;
  std::size_t findings_attested_ = 0;
  std::vector<std::uint64_t> hashes_;
};

}  // namespace

struct BackgroundAllowlist::State {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> ready{false};
  std::optional<Result<Allowlist>> result;
  std::thread thread;
};

BackgroundAllowlist::BackgroundAllowlist(std::function<Result<Allowlist>()> load)
    : state_(std::make_unique<State>()) {
  State* s = state_.get();
  s->thread = std::thread([s, load = std::move(load)] {
    Result<Allowlist> r = Fail(ErrorCode::kInternal, "allowlist not loaded");
    try {
      r = load();
    } catch (const std::exception& e) {
      r = Fail(ErrorCode::kInternal, fmt::format("loading the allowlist: {}", e.what()));
    }
    std::lock_guard lock(s->mu);
    s->result.emplace(std::move(r));
    s->done = true;
    s->ready.store(true, std::memory_order_release);
    s->cv.notify_all();
  });
}

BackgroundAllowlist::~BackgroundAllowlist() {
  if (state_->thread.joinable()) state_->thread.join();
}

Result<const Allowlist*> BackgroundAllowlist::Ready() {
  if (!state_->ready.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lock(state_->mu);
  if (!state_->result->has_value()) return Fail(state_->result->error());
  return &**state_->result;
}

Result<const Allowlist*> BackgroundAllowlist::Wait() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->done; });
  if (!state_->result->has_value()) return Fail(state_->result->error());
  return &**state_->result;
}

std::string_view FindingName(Finding f) {
  switch (f) {
    case Finding::kTemplateHash: return "template-hash";
    case Finding::kTemplateUncheckable: return "template-uncheckable";
    case Finding::kDigestNotAllowed: return "digest-not-allowed";
    case Finding::kNotInPolicy: return "not-in-policy";
    case Finding::kMeasurementViolation: return "measurement-violation";
    case Finding::kNoFileDigest: return "no-file-digest";
    case Finding::kBootAggregate: return "boot-aggregate";
    case Finding::kSignatureInvalid: return "signature-invalid";
    case Finding::kPcrNotQuoted: return "pcr-not-quoted";
  }
  return "?";
}

bool VerifyResult::ok() const {
  if (violations_total > 0) return false;
  if (quote_given && !matched_prefix) return false;
  if (boot_aggregate && !boot_aggregate->match) return false;
  return true;
}

Result<VerifyResult> Verify(ByteSource& list, const VerifyOptions& options) {
  ParseOptions parse = options.parse;
  if (options.resume) parse.first_index = options.resume->entries;
  EntryStream stream(list, parse);
  VerifyResult res;
  res.first_entry = parse.first_index;
  res.quote_given = options.quoted.has_value();
  if (options.quoted) res.quoted = *options.quoted;
  Checker checker(options, res);

  // This thread reads and parses; a second one replays and checks, batch
  // by batch, in list order.
  ImaEntry e;
  TC_ASSIGN_OR_RETURN(bool more, stream.Next(&e));
  TC_RETURN_IF_ERROR(checker.Start(stream.summary().template_hash_alg));
  BatchQueue queue;
  std::optional<Error> check_error;
  std::thread worker([&] {
    // Nothing here throws but allocation; a failure of that becomes an
    // error, not std::terminate.
    try {
      while (auto batch = queue.Pop()) {
        auto done = checker.Process(std::move(batch));
        if (!done) {
          check_error = std::move(done).error();
          queue.Stop();
          return;
        }
      }
      auto done = checker.Finish();
      if (!done) check_error = std::move(done).error();
    } catch (const std::exception& ex) {
      check_error = Error(ErrorCode::kInternal, fmt::format("checking thread: {}", ex.what()));
      queue.Stop();
    }
  });
  Result<void> read = {};
  std::size_t read_entries = 0;
  auto batch = std::make_unique<EntryBatch>();
  // The hashing is done here too, and only the extends on the checking
  // thread, which also checks the allowlist (and shares its core with the
  // allowlist's loader): the loads are then about even.
  const Replayer& hasher = checker.replayer();
  Bytes extends;
  crypto::Digest computed;
  while (more) {
    auto check = hasher.Digests(e, &extends, &computed);
    if (!check) {
      read = Fail(std::move(check).error().Wrap(
          e.line > 0 ? fmt::format("line {}", e.line)
                     : fmt::format("entry {} at offset {}", e.index, e.offset)));
      break;
    }
    batch->Add(e, *check, extends, computed, options.keyring != nullptr);
    ++read_entries;
    if (batch->size() == kBatchEntries || batch->bytes() >= kBatchBytes) {
      if (!queue.Push(batch)) break;
      batch = std::make_unique<EntryBatch>();
    }
    if (options.progress && read_entries % options.progress_every == 0) {
      options.progress(read_entries, stream.summary().bytes);
    }
    auto next = stream.Next(&e);
    if (!next) {
      read = Fail(std::move(next).error());
      break;
    }
    more = *next;
  }
  if (read.has_value() && batch && batch->size() > 0) (void)queue.Push(batch);
  queue.Close();
  worker.join();
  TC_RETURN_IF_ERROR(read);
  if (check_error) return Fail(std::move(*check_error));

  Replayer& replayer = checker.replayer();

  res.stream = stream.summary();
  res.replayed = replayer.Values();
  if (res.quote_given) {
    res.matched_prefix = replayer.matched_prefix();
    if (res.matched_prefix) {
      const std::size_t end = *res.matched_prefix;
      res.entries_checked = end - res.first_entry;
      res.unattested = res.entries_read - res.entries_checked;
      std::erase_if(res.violations, [&](const Violation& v) { return v.entry >= end; });
      res.violations_total = checker.findings_attested();
      res.checkpoint = replayer.matched_checkpoint();
    } else {
      res.entries_checked = 0;
      res.unattested = res.entries_read;
      res.violations_total = checker.findings();
    }
  } else {
    res.entries_checked = res.entries_read;
    res.violations_total = checker.findings();
    res.checkpoint = replayer.MakeCheckpoint();
  }
  return res;
}

}  // namespace tc::ima
