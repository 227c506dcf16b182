#include "tc/policy/identify.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "tc/eventlog/decode.h"
#include "tc/eventlog/integrity.h"

namespace tc::policy {
namespace {

namespace ev = eventlog::ev;

// Linux EFI stub event tags (drivers/firmware/efi/libstub, measured into
// PCR 9 as EV_EVENT_TAG since Linux 5.19 / 6.x).
constexpr std::uint32_t kTagInitrd = 0x8f3b22ec;
constexpr std::uint32_t kTagLoadOptions = 0x8f3b22ed;

std::string Cut(std::string s, std::size_t max) {
  if (s.size() > max) {
    s.resize(max - 3);
    // Do not end inside a UTF-8 sequence.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "...";
  }
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

std::string Member(const doc::Value& v, std::string_view key) {
  const doc::Value* m = v.Find(key);
  return m != nullptr && m->is_string() ? m->str() : std::string();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool LooksLikeInitrd(std::string_view path) {
  const std::string base = Lower(PathBasename(path));
  return base.starts_with("initrd") || base.starts_with("initramfs");
}

// Content is shown only when the digest is the hash of the data shown.
bool DataIsDigested(const eventlog::RawEvent& e) {
  const auto check = eventlog::CheckEventData(e);
  return check.result == eventlog::DataCheck::kMatches ||
         check.result == eventlog::DataCheck::kMatchesPart;
}

void Firmware(EventIdentity& id, std::string name, std::string what) {
  id.stage = Stage::kFirmware;
  id.name = std::move(name);
  id.what = std::move(what);
}

void IdentifyVariable(const eventlog::RawEvent& e, const doc::Value& d, EventIdentity& id) {
  const std::string var = Member(d, "name");
  id.match.description = Cut(var, kMaxDescriptionSize);
  const bool pcr7 = e.pcr == 7;
  if (e.type == ev::kEfiVariableAuthority) {
    id.stage = Stage::kSecureBoot;
    id.name = "authority-" + var;
    id.what = fmt::format("Secure Boot authority {} (what verified a loaded image)", var);
  } else if (e.type == ev::kEfiVariableBoot || e.type == ev::kEfiVariableBoot2) {
    id.stage = Stage::kFirmware;
    id.name = "boot-variable-" + var;
    id.what = var == "BootOrder" ? std::string("boot order") : "boot option " + var;
  } else if (pcr7) {
    id.stage = Stage::kSecureBoot;
    id.name = "secureboot-" + var;
    id.what = var == "SecureBoot" ? std::string("Secure Boot state")
                                  : "Secure Boot variable " + var;
  } else {
    id.stage = Stage::kFirmware;
    id.name = "variable-" + var;
    id.what = "firmware variable " + var;
  }
}

void IdentifyImage(const eventlog::RawEvent& e, const doc::Value& d, EventIdentity& id) {
  const std::string file = Member(d, "file");
  const std::string path = file.empty() ? Member(d, "device_path") : file;
  id.by_digest = true;
  id.match.description = Cut(path, kMaxDescriptionSize);
  if (e.type != ev::kEfiBootServicesApplication) {
    id.stage = Stage::kFirmware;
    id.name = "efi-driver-" + (file.empty() ? fmt::format("pcr{}", e.pcr) : PathBasename(file));
    id.what = "firmware driver " + (path.empty() ? std::string("(loaded from memory)") : path);
  } else if (LooksLikeKernel(path)) {
    id.stage = Stage::kKernel;
    id.name = "kernel-" + PathBasename(path);
    id.what = "kernel " + path;
  } else {
    id.stage = Stage::kBootloader;
    id.name = path.empty() ? std::string("efi-application") : "efi-" + PathBasename(path);
    id.what = path.empty() ? std::string("EFI application (loaded from memory)")
                           : "boot loader " + path;
  }
}

void IdentifyIpl(const eventlog::RawEvent& e, const doc::Value& d, EventIdentity& id) {
  const std::string text = Member(d, "text");
  const bool digested = DataIsDigested(e);
  auto after = [&](std::string_view prefix) { return text.substr(prefix.size()); };
  if (e.pcr == 8 && text.starts_with("kernel_cmdline: ")) {
    id.stage = Stage::kCmdline;
    id.name = "kernel-cmdline-grub";
    id.match.description = "kernel_cmdline";
    id.what = "kernel command line (as GRUB passed it)";
    if (digested) id.content = after("kernel_cmdline: ");
  } else if (e.pcr == 8 && text.starts_with("grub_cmd: ")) {
    id.stage = Stage::kBootloader;
    id.name = "grub-commands";
    id.match.description = "grub_cmd";
    id.what = "boot loader configuration (GRUB commands)";
    if (digested) id.content = after("grub_cmd: ");
  } else if (e.pcr == 8 || e.pcr == 9) {
    // GRUB measures each file it reads into PCR 9 (and other strings into 8).
    id.match.description = Cut(text, kMaxDescriptionSize);
    if (e.pcr == 9 && LooksLikeKernel(text)) {
      id.stage = Stage::kKernel;
      id.name = "kernel-file-" + PathBasename(text);
      id.what = "kernel file " + text;
    } else if (e.pcr == 9 && LooksLikeInitrd(text)) {
      id.stage = Stage::kInitrd;
      id.name = "initrd-file-" + PathBasename(text);
      id.what = "initrd " + text;
    } else {
      id.stage = Stage::kBootloader;
      id.name = fmt::format("bootloader-pcr{}-{}", e.pcr, PathBasename(text));
      id.what = "boot loader file or string " + text;
    }
  } else if (e.pcr == 12) {
    // systemd-boot measures the load options it passes (the kernel command
    // line of a Type #1 entry) into PCR 12.
    id.stage = Stage::kCmdline;
    id.name = "kernel-cmdline";
    id.match.description = "load options";
    id.what = "kernel command line";
    if (digested) id.content = text;
  } else if (e.pcr == 14) {
    id.stage = Stage::kSecureBoot;
    id.name = "shim-" + text;
    id.match.description = Cut(text, kMaxDescriptionSize);
    id.what = "shim's MOK variable " + text;
  } else {
    id.stage = e.pcr <= 7 ? Stage::kFirmware : Stage::kBootloader;
    id.match.description = Cut(text, kMaxDescriptionSize);
    id.name = fmt::format("ipl-pcr{}-{}", e.pcr, Cut(text, 64));
    id.what = fmt::format("EV_IPL \"{}\" in PCR {}", Cut(text, 64), e.pcr);
  }
}

}  // namespace

std::string PathBasename(std::string_view path) {
  const auto slash = path.find_last_of("/\\");
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool LooksLikeKernel(std::string_view path) {
  const std::string base = Lower(PathBasename(path));
  return base.starts_with("vmlinuz") || base.starts_with("vmlinux") ||
         base.starts_with("bzimage") || base.starts_with("linux") || base.ends_with(".uki") ||
         base.starts_with("kernel");
}

EventIdentity Identify(const eventlog::RawEvent& e) {
  EventIdentity id;
  id.match.pcr = e.pcr;
  id.match.event_type = e.type;
  const doc::Value d = eventlog::DecodeEventData(e.type, e.pcr, e.data);
  switch (e.type) {
    case ev::kSCrtmVersion:
      Firmware(id, "crtm-version", "firmware version (S-CRTM)");
      if (DataIsDigested(e)) id.content = eventlog::SummarizeDecodedEvent(e.type, d);
      break;
    case ev::kSCrtmContents:
      Firmware(id, "crtm-contents", "firmware S-CRTM contents");
      break;
    case ev::kEfiPlatformFirmwareBlob:
    case ev::kPostCode:
      id.match.description = "base " + Member(d, "blob_base");
      Firmware(id, "firmware-blob-" + Member(d, "blob_base"),
               "firmware volume at " + Member(d, "blob_base"));
      if (Member(d, "blob_base").empty()) {
        id.match.description = Cut(Member(d, "text"), kMaxDescriptionSize);
        id.name = fmt::format("firmware-pcr{}-post-code", e.pcr);
      }
      break;
    case ev::kEfiPlatformFirmwareBlob2:
    case ev::kPostCode2: {
      const std::string desc = Cut(Member(d, "blob_description"), kMaxDescriptionSize);
      id.match.description = desc;
      Firmware(id, "firmware-blob-" + desc, "firmware volume " + desc);
      break;
    }
    case ev::kEfiHandoffTables:
    case ev::kEfiHandoffTables2:
      id.match.description = Cut(Member(d, "table_description"), kMaxDescriptionSize);
      Firmware(id, fmt::format("handoff-tables-pcr{}", e.pcr), "firmware handoff tables (SMBIOS/ACPI)");
      break;
    case ev::kEfiVariableDriverConfig:
    case ev::kEfiVariableBoot:
    case ev::kEfiVariableBoot2:
    case ev::kEfiVariableAuthority:
      IdentifyVariable(e, d, id);
      if (DataIsDigested(e)) {
        id.content = Cut(eventlog::SummarizeDecodedEvent(e.type, d), kMaxContentSize);
      }
      break;
    case ev::kEfiBootServicesApplication:
    case ev::kEfiBootServicesDriver:
    case ev::kEfiRuntimeServicesDriver:
      IdentifyImage(e, d, id);
      break;
    case ev::kSeparator:
      Firmware(id, fmt::format("separator-pcr{}", e.pcr), fmt::format("separator of PCR {}", e.pcr));
      if (DataIsDigested(e)) id.content = Member(d, "value");
      break;
    case ev::kEfiGptEvent:
    case ev::kEfiGptEvent2:
      Firmware(id, "gpt", "boot disk partition table (GPT)");
      break;
    case ev::kEfiAction:
    case ev::kAction: {
      const std::string text = Cut(Member(d, "text"), kMaxDescriptionSize);
      id.match.description = text;
      id.stage = e.pcr <= 7 ? Stage::kFirmware : Stage::kBootloader;
      id.name = fmt::format("action-pcr{}-{}", e.pcr, Cut(text, 64));
      id.what = fmt::format("action \"{}\"", text);
      break;
    }
    case ev::kIpl:
      IdentifyIpl(e, d, id);
      break;
    case ev::kEventTag: {
      const std::string tag = Member(d, "tagged_event_id");
      id.match.description = "tag " + tag;
      if (e.pcr == 9 && tag == fmt::format("0x{:08x}", kTagLoadOptions)) {
        id.stage = Stage::kCmdline;
        id.name = "kernel-cmdline-stub";
        id.what = "kernel command line (as the kernel's EFI stub measured it)";
      } else if (e.pcr == 9 && tag == fmt::format("0x{:08x}", kTagInitrd)) {
        id.stage = Stage::kInitrd;
        id.name = "initrd";
        id.what = "initrd";
      } else {
        id.stage = e.pcr <= 7 ? Stage::kFirmware : Stage::kBootloader;
        id.name = fmt::format("event-tag-pcr{}-{}", e.pcr, tag);
        id.what = fmt::format("tagged event {} in PCR {}", tag, e.pcr);
      }
      break;
    }
    default:
      id.stage = e.pcr <= 7 ? Stage::kFirmware : Stage::kBootloader;
      id.name = fmt::format("pcr{}-{}", e.pcr, eventlog::EventTypeName(e.type));
      id.what = fmt::format("{} in PCR {}", eventlog::EventTypeName(e.type), e.pcr);
      break;
  }
  id.name = Cut(id.name, 128);
  if (id.content.size() > kMaxContentSize) id.content = Cut(std::move(id.content), kMaxContentSize);
  return id;
}

}  // namespace tc::policy
