#include "tc/launch/launch_record.h"

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "tc/io/file.h"
#include "tc/launch/esp_image.h"
#include "tc/measure/file_measure.h"

namespace tc::launch {
namespace {

// Keeps the canonical string one line of space-separated fields.
std::string Escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '%') {
      out += fmt::format("%{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The EFI binaries of a disk image's EFI system partition, each an input of
// its own judged by Authenticode (check.h). A disk without an ESP is only a
// disk; one whose ESP does not parse is noted (its whole-image digest still
// covers every byte).
Result<void> AddEspBinaries(const LaunchInput& disk, const std::string& slot,
                            std::vector<MeasuredInput>& out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(disk.value, ec)) return {};  // block devices: hashed only
  auto image = io::MappedFile::Open(disk.value, kMaxDiskImage);
  if (!image) return Fail(std::move(image).error().Wrap(disk.value));
  auto listing = ListEfiBinaries(image->bytes());
  if (!listing) {
    if (listing.error().code() != ErrorCode::kNotFound) {
      out.back().note = "its EFI system partition does not parse: " + listing.error().message();
    }
    return {};
  }
  for (const EspFile& f : listing->files) {
    MeasuredInput m;
    m.input = LaunchInput{InputKind::kEfiBinary, disk.value + ":" + f.path, disk.arg, true};
    m.slot = slot + ":" + f.path;
    m.size = f.size;
    m.sha256 = f.sha256;
    m.authenticode = f.authenticode;
    m.note = f.note;
    out.push_back(std::move(m));
  }
  return {};
}

}  // namespace

Result<std::vector<MeasuredInput>> MeasureInputs(const QemuCommand& command) {
  std::vector<MeasuredInput> out;
  std::map<InputKind, std::size_t> seen;
  for (const LaunchInput& in : command.inputs) {
    MeasuredInput m;
    m.input = in;
    const std::size_t n = seen[in.kind]++;
    m.slot = std::string(InputKindName(in.kind));
    if (in.kind == InputKind::kDisk || n > 0) m.slot += std::to_string(n);
    if (in.kind == InputKind::kCmdline) {
      TC_ASSIGN_OR_RETURN(m.sha256, crypto::Hash(crypto::HashAlg::kSha256, AsBytes(in.value)));
      m.size = in.value.size();
    } else {
      // Kernels (EFI stub) and firmware images are read as UEFI reads them
      // too; disks are hashed whole.
      const bool pe = in.kind == InputKind::kKernel || in.kind == InputKind::kFirmwareCode;
      auto f = measure::MeasureFile(in.value, pe);
      if (!f) {
        return Fail(std::move(f).error().Wrap(
            fmt::format("QEMU argument {} ({})", in.arg, InputKindName(in.kind))));
      }
      m.size = f->size;
      m.sha256 = f->sha256;
      m.authenticode = f->authenticode;
    }
    const bool disk = in.kind == InputKind::kDisk;
    const std::string disk_slot = m.slot;
    out.push_back(std::move(m));
    if (disk) TC_RETURN_IF_ERROR(AddEspBinaries(in, disk_slot, out));
  }
  return out;
}

std::string CanonicalEvent(std::string_view vm, const MeasuredInput& m) {
  std::string s = fmt::format("trustchain-launch 1 vm={} slot={} kind={} path={} sha256={}",
                              Escape(vm), Escape(m.slot), InputKindName(m.input.kind),
                              m.input.kind == InputKind::kCmdline ? "" : Escape(m.input.value),
                              m.sha256.Hex());
  if (m.authenticode) s += " authenticode=" + m.authenticode->Hex();
  return s;
}

Result<cel::Record> LaunchRecord(std::uint64_t recnum, std::uint32_t pcr, std::string_view vm,
                                 const MeasuredInput& m, std::span<const crypto::HashAlg> banks) {
  cel::Record r;
  r.recnum = recnum;
  r.pcr = pcr;
  const std::string event = CanonicalEvent(vm, m);
  for (crypto::HashAlg bank : banks) {
    TC_ASSIGN_OR_RETURN(crypto::Digest d, crypto::Hash(bank, AsBytes(event)));
    r.digests.push_back(d);
  }
  r.content_type = "trustchain";
  r.content = doc::Value::MakeObject();
  r.content.Set("vm", std::string(vm));
  r.content.Set("slot", m.slot);
  r.content.Set("kind", InputKindName(m.input.kind));
  r.content.Set("path", m.input.kind == InputKind::kCmdline ? std::string() : m.input.value);
  if (m.input.kind == InputKind::kCmdline) r.content.Set("cmdline", m.input.value);
  r.content.Set("sha256", m.sha256.Hex());
  if (m.authenticode) r.content.Set("authenticode", m.authenticode->Hex());
  r.content.Set("string", event);
  return r;
}

}  // namespace tc::launch
