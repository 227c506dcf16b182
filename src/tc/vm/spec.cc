#include "tc/vm/spec.h"

#include <charconv>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace tc::vm {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Error LineError(std::size_t line, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, fmt::format("line {}: {}", line, what));
}

Result<std::uint32_t> Number(std::string_view v, std::uint32_t lo, std::uint32_t hi,
                             std::size_t line, std::string_view key) {
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi) {
    return Fail(LineError(line, fmt::format("{} must be a number from {} to {}, not \"{}\"", key,
                                            lo, hi, v)));
  }
  return n;
}

Result<bool> OnOff(std::string_view v, std::size_t line, std::string_view key) {
  if (v == "on" || v == "yes" || v == "true") return true;
  if (v == "off" || v == "no" || v == "false") return false;
  return Fail(LineError(line, fmt::format("{} must be on or off, not \"{}\"", key, v)));
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '.' || n.front() == '-') return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Spec> ParseSpec(std::span<const std::uint8_t> text, const std::string& base_dir) {
  if (text.size() > kMaxSpecSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("a VM spec is at most {} bytes; this one has {}", kMaxSpecSize,
                            text.size()));
  }
  const std::string_view all(reinterpret_cast<const char*>(text.data()), text.size());
  Spec spec;
  std::set<std::string, std::less<>> seen;
  auto path = [&](std::string_view v, std::size_t line, std::string_view key) -> Result<std::string> {
    if (v.empty()) return Fail(LineError(line, fmt::format("{} needs a path", key)));
    if (v.find('\0') != std::string_view::npos || v.find(',') != std::string_view::npos) {
      // QEMU's option syntax gives ',' a meaning; refuse rather than escape.
      return Fail(LineError(line, fmt::format("{}: a path may not contain ',' or NUL", key)));
    }
    if (v.front() == '/' || base_dir.empty()) return std::string(v);
    return base_dir + "/" + std::string(v);
  };
  std::size_t line = 0;
  std::size_t pos = 0;
  while (pos < all.size()) {
    ++line;
    std::size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) nl = all.size();
    const std::string_view raw = all.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string_view l = Trim(raw);
    if (l.empty() || l.front() == '#') continue;
    for (char c : l) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return Fail(LineError(line, "control character in the line"));
      }
    }
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) {
      return Fail(LineError(line, fmt::format("expected \"key = value\", got \"{}\"", l)));
    }
    const std::string key(Trim(l.substr(0, eq)));
    const std::string_view value = Trim(l.substr(eq + 1));
    if (key != "disk" && !seen.insert(key).second) {
      return Fail(LineError(line, fmt::format("{} is given twice", key)));
    }
    if (key == "name") {
      if (!ValidName(value)) {
        return Fail(LineError(line, "name: 1-64 characters of A-Z a-z 0-9 . _ -, not starting "
                                    "with . or -"));
      }
      spec.name = std::string(value);
    } else if (key == "firmware") {
      TC_ASSIGN_OR_RETURN(spec.firmware, path(value, line, key));
    } else if (key == "firmware_vars") {
      TC_ASSIGN_OR_RETURN(spec.firmware_vars, path(value, line, key));
    } else if (key == "kernel") {
      TC_ASSIGN_OR_RETURN(spec.kernel, path(value, line, key));
    } else if (key == "initrd") {
      TC_ASSIGN_OR_RETURN(spec.initrd, path(value, line, key));
    } else if (key == "cmdline") {
      spec.cmdline = std::string(value);
      spec.has_cmdline = true;
    } else if (key == "esp") {
      TC_ASSIGN_OR_RETURN(spec.esp, path(value, line, key));
    } else if (key == "disk") {
      if (spec.disks.size() >= 16) return Fail(LineError(line, "at most 16 disks"));
      TC_ASSIGN_OR_RETURN(std::string d, path(value, line, key));
      spec.disks.push_back(std::move(d));
    } else if (key == "memory") {
      TC_ASSIGN_OR_RETURN(spec.memory_mib, Number(value, 64, 65536, line, key));
    } else if (key == "cpus") {
      TC_ASSIGN_OR_RETURN(spec.cpus, Number(value, 1, 64, line, key));
    } else if (key == "vtpm") {
      TC_ASSIGN_OR_RETURN(spec.vtpm, OnOff(value, line, key));
    } else if (key == "accel") {
      if (value == "auto") spec.accel = Accel::kAuto;
      else if (value == "kvm") spec.accel = Accel::kKvm;
      else if (value == "tcg") spec.accel = Accel::kTcg;
      else return Fail(LineError(line, fmt::format("accel must be auto, kvm or tcg, not \"{}\"", value)));
    } else if (key == "boot_timeout") {
      TC_ASSIGN_OR_RETURN(spec.boot_timeout, Number(value, 5, 86400, line, key));
    } else if (key == "policy") {
      TC_ASSIGN_OR_RETURN(spec.policy, path(value, line, key));
    } else {
      return Fail(LineError(line, fmt::format(
                                      "unknown key \"{}\" (known: name firmware firmware_vars "
                                      "kernel initrd cmdline esp disk memory cpus vtpm accel "
                                      "boot_timeout policy)",
                                      key)));
    }
  }
  auto need = [](bool ok, std::string_view what) -> Result<void> {
    if (ok) return {};
    return Fail(ErrorCode::kInvalidArgument, fmt::format("the VM spec {}", what));
  };
  TC_RETURN_IF_ERROR(need(!spec.name.empty(), "needs a name"));
  TC_RETURN_IF_ERROR(need(!spec.firmware.empty() && !spec.firmware_vars.empty(),
                          "needs firmware and firmware_vars (OVMF code and variable template)"));
  TC_RETURN_IF_ERROR(need(spec.kernel.empty() != spec.esp.empty(),
                          "needs either kernel (direct boot) or esp (boot from a disk image), "
                          "not both"));
  TC_RETURN_IF_ERROR(need(spec.kernel.empty() ? spec.initrd.empty() && !spec.has_cmdline : true,
                          "has initrd or cmdline without kernel"));
  return spec;
}

}  // namespace tc::vm
