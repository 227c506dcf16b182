#include "tc/launch/host_log.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "tc/cel/cel.h"
#include "tc/io/file.h"

namespace tc::launch {
namespace {

Result<std::vector<cel::Record>> LoadRecords(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<cel::Record>{};
  TC_ASSIGN_OR_RETURN(Bytes text, io::ReadFile(path, cel::kMaxLogSize));
  auto records = cel::Parse(text);
  if (!records) return Fail(std::move(records).error().Wrap(path));
  return std::move(*records);
}

Result<LogState> Compare(tpm::Tpm& tpm, std::span<const cel::Record> records, std::uint32_t pcr) {
  TC_ASSIGN_OR_RETURN(tpm::TpmInfo info, tpm.Info());
  if (info.active_banks.empty()) {
    return Fail(ErrorCode::kTpm, "the TPM reports no active PCR bank");
  }
  std::vector<tpm::PcrSelection> selection;
  for (crypto::HashAlg alg : info.active_banks) selection.push_back({alg, {pcr}});
  TC_ASSIGN_OR_RETURN(pcr::PcrValues now, tpm.ReadPcrs(selection));
  TC_ASSIGN_OR_RETURN(pcr::PcrValues replayed, cel::Replay(records));
  LogState state;
  state.records = records.size();
  for (const cel::Record& r : records) {
    const doc::Value* text = r.content.Find("string");
    if (r.pcr != pcr) {
      state.problems.push_back(fmt::format("record {} extends PCR {}, not PCR {}", r.recnum, r.pcr, pcr));
    } else if (r.content_type != "trustchain" || text == nullptr || !text->is_string()) {
      state.problems.push_back(fmt::format("record {} is not a trustchain launch record", r.recnum));
    } else {
      for (const crypto::Digest& d : r.digests) {
        auto h = crypto::Hash(d.alg(), AsBytes(text->str()));
        if (!h || !(*h == d)) {
          state.problems.push_back(fmt::format(
              "record {}: its {} digest is not the hash of its string (the record was changed)",
              r.recnum, crypto::HashAlgName(d.alg())));
          break;
        }
      }
    }
    if (state.problems.size() >= 100) break;
  }
  for (crypto::HashAlg alg : info.active_banks) {
    LogState::Bank b;
    b.alg = alg;
    const crypto::Digest* r = replayed.Find(alg, pcr);
    b.replayed = r != nullptr ? *r : crypto::Digest(alg);
    const crypto::Digest* t = now.Find(alg, pcr);
    if (t == nullptr) {
      return Fail(ErrorCode::kTpm, fmt::format("the TPM did not return PCR {} of bank {}", pcr,
                                               crypto::HashAlgName(alg)));
    }
    b.tpm = *t;
    state.banks.push_back(std::move(b));
  }
  // A record in a bank the TPM does not have proves nothing, but a log
  // whose records lack an active bank cannot replay it: the comparison
  // above (from zero) catches that as a mismatch once anything was logged.
  return state;
}

bool AtReset(const LogState& s) {
  return std::all_of(s.banks.begin(), s.banks.end(),
                     [](const LogState::Bank& b) { return b.tpm == crypto::Digest(b.alg); });
}

std::string MismatchText(const LogState& s, std::uint32_t pcr) {
  std::string out;
  for (const LogState::Bank& b : s.banks) {
    if (b.replayed == b.tpm) continue;
    out += fmt::format(" {}: log {} TPM {};", crypto::HashAlgName(b.alg), b.replayed.Hex(),
                       b.tpm.Hex());
  }
  if (!out.empty()) out.pop_back();
  return fmt::format("PCR {}:{}", pcr, out);
}

// "<log>.<N>" with the first N not in use.
std::string RotatedName(const std::string& path) {
  for (int n = 1;; ++n) {
    std::string candidate = fmt::format("{}.{}", path, n);
    std::error_code ec;
    if (!std::filesystem::exists(candidate, ec)) return candidate;
  }
}

// One lock per PCR, whichever log a launch writes: two logs on one PCR
// would interleave their extends.
std::string LockPath(const std::string& log_path, std::uint32_t pcr) {
  if (::access("/run/lock", W_OK) == 0) return fmt::format("/run/lock/trustchain-launch-pcr{}", pcr);
  return log_path;
}

class SignalBlock {
 public:
  SignalBlock() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
    ::pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalBlock() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

 private:
  sigset_t old_;
};

}  // namespace

Result<void> CheckLaunchPcr(std::uint32_t pcr) {
  if (pcr < 8 || pcr > 15) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PCR {} cannot hold launch records: use a static PCR the firmware does "
                            "not own, 8-15 (default {})",
                            pcr, kDefaultLaunchPcr));
  }
  return {};
}

bool LogState::matches() const {
  return problems.empty() && std::all_of(banks.begin(), banks.end(),
                     [](const Bank& b) { return b.replayed == b.tpm; });
}

Result<LogState> ReadLaunchLog(tpm::Tpm& tpm, const std::string& log_path, std::uint32_t pcr) {
  TC_RETURN_IF_ERROR(CheckLaunchPcr(pcr));
  TC_ASSIGN_OR_RETURN(std::vector<cel::Record> records, LoadRecords(log_path));
  return Compare(tpm, records, pcr);
}

Result<AppendResult> AppendLaunch(tpm::Tpm& tpm, const std::string& log_path, std::uint32_t pcr,
                                  std::string_view vm, std::span<const MeasuredInput> inputs) {
  TC_RETURN_IF_ERROR(CheckLaunchPcr(pcr));
  const std::filesystem::path dir = std::filesystem::path(log_path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (!ec) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    if (ec) {
      return Fail(ErrorCode::kIo, fmt::format("cannot create the launch log's directory {}: {}",
                                              dir.string(), ec.message()));
    }
  }
  TC_ASSIGN_OR_RETURN(io::FileLock lock, io::FileLock::Acquire(LockPath(log_path, pcr)));
  TC_ASSIGN_OR_RETURN(std::vector<cel::Record> records, LoadRecords(log_path));
  TC_ASSIGN_OR_RETURN(LogState before, Compare(tpm, records, pcr));
  AppendResult result;
  if (!before.matches()) {
    if (!(AtReset(before) && !records.empty())) {
      return Fail(ErrorCode::kVerificationFailed,
                  fmt::format("the launch log {} ({} records) does not replay to the TPM's {}{}. "
                              "Another program extended the PCR, the log was changed, or an "
                              "earlier launch was cut short. Nothing was extended. Keep the log "
                              "as evidence (`trustchain vm log` shows it); launches can go on "
                              "only with another --pcr (8-15) or after the TPM is reset (reboot)",
                              log_path, records.size(), MismatchText(before, pcr),
                              before.problems.empty() ? "" : "; " + before.problems.front()));
    }
    // The TPM was reset since this log was written: it belongs to an
    // earlier boot.
    const std::string rotated = RotatedName(log_path);
    std::error_code ec;
    std::filesystem::rename(log_path, rotated, ec);
    if (ec) {
      return Fail(ErrorCode::kIo, fmt::format("cannot move the earlier boot's launch log to {}: {}",
                                              rotated, ec.message()));
    }
    result.rotated_to = rotated;
    records.clear();
  }
  std::vector<crypto::HashAlg> banks;
  for (const LogState::Bank& b : before.banks) banks.push_back(b.alg);
  std::uint64_t recnum = records.empty() ? 0 : records.back().recnum + 1;
  result.first_recnum = recnum;
  std::vector<cel::Record> pending;
  for (const MeasuredInput& m : inputs) {
    TC_ASSIGN_OR_RETURN(cel::Record r, LaunchRecord(recnum++, pcr, vm, m, banks));
    pending.push_back(std::move(r));
  }
  {
    // An interrupt between an extend and its record would leave the log
    // behind the PCR for good: hold termination signals until both are done.
    const SignalBlock hold;
    for (const cel::Record& r : pending) {
      TC_RETURN_IF_ERROR(tpm.Extend(pcr, r.digests));
      const std::string element = cel::SequenceElement(r);
      TC_RETURN_IF_ERROR(io::AppendFile(log_path, AsBytes(element), 0600));
      ++result.records;
    }
  }
  TC_ASSIGN_OR_RETURN(std::vector<cel::Record> now, LoadRecords(log_path));
  TC_ASSIGN_OR_RETURN(result.after, Compare(tpm, now, pcr));
  if (!result.after.matches()) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("after appending, the launch log {} does not replay to the TPM's {}: "
                            "something else extended the PCR meanwhile",
                            log_path, MismatchText(result.after, pcr)));
  }
  return result;
}

}  // namespace tc::launch
