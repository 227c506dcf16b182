#pragma once

// The host launch log: what the VMM launched, as TCG Canonical Event Log
// records (CEL-JSON, cel.h) appended to a file, each extended into one PCR
// of the host TPM in every active bank, so that the log is proven by the
// TPM (a quote of that PCR) and not merely claimed.
//
// The PCR. The Linux TPM PCR registry (UAPI group) gives PCRs 0-7 to the
// firmware, 8-9 to the boot loader, 10 to IMA, 11-14 to systemd-stub,
// systemd and shim, 15 to systemd's machine and volume identity (systemd
// 253 and later; Debian 12's systemd 252 does not use it), 16 (debug) and
// 23 (application) are resettable by software, 17-22 belong to DRTM
// localities. Only static PCRs 0-15 are reset by nothing but a platform
// reset (TCG PC Client Platform TPM Profile 1.05, table "PCR attributes"),
// so a launch record cannot be erased by resetting its PCR: the default is
// PCR 15 (kDefaultLaunchPcr), changeable with --pcr to another of 8-15 on
// hosts whose systemd measures into 15.
//
// The file. Default /run/log/trustchain/launch.log: on a tmpfs, so that it
// ends with a reboot as the PCR does (as systemd keeps its measurement log
// in /run/log/systemd/tpm2-measure.log). Records are JSON text sequence
// elements (RFC 7464), only ever appended, with fsync.
//
// Order and crash safety: under an exclusive lock per PCR
// (/run/lock/trustchain-launch-pcr<N>, or beside the log when /run/lock
// is not writable) and with SIGINT, SIGTERM and SIGHUP held back between
// an extend and its record, the log is
// replayed and compared with the TPM's PCR first. A mismatch means another
// program extended the PCR, the log was changed, or an earlier append was
// cut short between extend and write: the append is refused (the log is
// evidence; a person must look at it). A PCR at its reset value (zero) with
// a non-empty log means the TPM was reset since (a reboot; or the embedded
// TPM, which is powered on per process): the old log is renamed to
// "<log>.<N>" and a new one started. Then each record is extended, then
// written (as systemd does).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/launch/launch_record.h"
#include "tc/tpm/tpm.h"

namespace tc::launch {

inline constexpr std::uint32_t kDefaultLaunchPcr = 15;
inline constexpr std::string_view kDefaultLaunchLog = "/run/log/trustchain/launch.log";

// kInvalidArgument unless 8 <= pcr <= 15 (a static PCR the firmware does
// not own).
[[nodiscard]] Result<void> CheckLaunchPcr(std::uint32_t pcr);

struct LogState {
  std::size_t records = 0;
  struct Bank {
    crypto::HashAlg alg = crypto::HashAlg::kSha256;
    crypto::Digest replayed;  // the log's records, from zero
    crypto::Digest tpm;       // what the TPM holds
  };
  std::vector<Bank> banks;  // every active bank of the TPM
  // Records the PCR does not prove as they read: another PCR, no
  // trustchain content, or a digest that is not the hash of the record's
  // canonical string (content rewritten after the fact).
  std::vector<std::string> problems;
  // Every bank replays to the TPM's value and there are no problems.
  bool matches() const;
};

// Reads the log (absent = empty) and the TPM's PCR in every active bank.
// kMalformed for a log that does not parse (naming record and offset).
[[nodiscard]] Result<LogState> ReadLaunchLog(tpm::Tpm& tpm, const std::string& log_path,
                                             std::uint32_t pcr);

struct AppendResult {
  std::uint64_t first_recnum = 0;
  std::size_t records = 0;
  std::optional<std::string> rotated_to;  // the earlier boot's log, when rotated
  LogState after;                          // read back after the append
};

// Appends one record per input (launch_record.h) for VM `vm`, extending
// `pcr` first for each (see above). Creates the log's directory (0700).
// kVerificationFailed when the log does not replay to the PCR (nothing is
// extended or written); kTpm / kIo from the TPM or the file.
[[nodiscard]] Result<AppendResult> AppendLaunch(tpm::Tpm& tpm, const std::string& log_path,
                                                std::uint32_t pcr, std::string_view vm,
                                                std::span<const MeasuredInput> inputs);

}  // namespace tc::launch
