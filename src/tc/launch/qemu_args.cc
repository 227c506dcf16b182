#include "tc/launch/qemu_args.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace tc::launch {
namespace {

// Options that take no argument (qemu-system-x86_64 -help, QEMU 7.2).
constexpr std::array<std::string_view, 27> kFlags = {
    "nographic", "no-reboot",   "no-shutdown", "enable-kvm", "S",          "s",
    "snapshot",  "daemonize",   "no-user-config", "nodefaults", "full-screen", "no-hpet",
    "no-acpi",   "usb",         "version",     "h",          "help",       "mem-prealloc",
    "enable-fips", "preconfig", "only-migratable", "win2k-hack", "no-fd-bootchk",
    "no-quit",   "old-param",   "semihosting", "singlestep"};

// Options whose argument loads nothing into the guest (devices, backends,
// machine settings, displays, monitors).
constexpr std::array<std::string_view, 52> kIgnored = {
    "machine", "M", "m", "smp", "cpu", "accel", "name", "uuid", "chardev", "tpmdev",
    "serial", "monitor", "mon", "qmp", "qmp-pretty", "action", "netdev", "net", "nic", "display",
    "vga", "boot", "rtc", "global", "pidfile", "vnc", "D", "d", "k", "audiodev", "spice",
    "msg", "overcommit", "numa", "parallel", "sandbox", "watchdog-action", "icount",
    "trace", "plugin", "run-with", "compat", "add-fd", "runas", "chroot", "debugcon",
    "gdb", "usbdevice", "iscsi", "echr", "L", "virtfs"};

// Protocols of block filenames that cannot be measured before the guest
// runs (the data is elsewhere, or assembled on the fly).
constexpr std::array<std::string_view, 20> kProtocols = {
    "nbd", "iscsi", "http", "https", "ftp", "ftps", "ssh", "gluster", "rbd", "nfs",
    "vvfat", "fat", "json", "null-co", "null-aio", "blkdebug", "blkverify", "quorum", "throttle",
    "sheepdog"};

template <std::size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// "a=1,b=x,,y" -> {"a","1"}, {"b","x,y"}; a bare first element gets key "".
std::vector<std::pair<std::string, std::string>> SubOptions(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string part;
  auto flush = [&] {
    const auto eq = part.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(out.empty() ? "" : part, out.empty() ? part : "");
    } else {
      out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    }
    part.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',') {
      if (i + 1 < text.size() && text[i + 1] == ',') {
        part += ',';
        ++i;
        continue;
      }
      flush();
    } else {
      part += text[i];
    }
  }
  flush();
  return out;
}

std::optional<std::string> Get(const std::vector<std::pair<std::string, std::string>>& opts,
                               std::string_view key) {
  std::optional<std::string> value;
  for (const auto& [k, v] : opts) {
    if (k == key) value = v;  // the last one wins, as in QEMU
  }
  return value;
}

bool On(const std::optional<std::string>& v) {
  return v && (*v == "on" || *v == "true" || *v == "yes" || v->empty());
}

Result<void> CheckPlainPath(std::string_view path, std::size_t arg) {
  const auto colon = path.find(':');
  if (colon != std::string_view::npos && path.find('/') > colon &&
      In(kProtocols, path.substr(0, colon))) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("argument {}: '{}' is a '{}:' block protocol, whose data cannot be "
                            "measured before the guest runs; give a local image file",
                            arg, path, path.substr(0, colon)));
  }
  if (path.empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("argument {}: empty file name", arg));
  }
  return {};
}

}  // namespace

std::string_view InputKindName(InputKind k) {
  switch (k) {
    case InputKind::kFirmwareCode: return "firmware-code";
    case InputKind::kFirmwareVars: return "firmware-vars";
    case InputKind::kKernel: return "kernel";
    case InputKind::kInitrd: return "initrd";
    case InputKind::kCmdline: return "cmdline";
    case InputKind::kDisk: return "disk";
    case InputKind::kEfiBinary: return "efi-binary";
    case InputKind::kVtpmEk: return "vtpm-ek";
  }
  return "?";
}

Result<QemuCommand> ParseQemuCommand(std::span<const std::string> argv) {
  if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "empty QEMU command line");
  QemuCommand cmd;
  cmd.binary = argv[0];
  std::size_t pflash_seen = 0;
  auto add = [&](InputKind kind, std::string value, std::size_t arg, bool ro) {
    cmd.inputs.push_back(LaunchInput{kind, std::move(value), arg, ro});
  };
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a.size() < 2 || a[0] != '-') {
      // QEMU takes a lone non-option argument as the first hard disk.
      TC_RETURN_IF_ERROR(CheckPlainPath(a, i));
      add(InputKind::kDisk, std::string(a), i, false);
      continue;
    }
    std::string_view name = a.substr(a.starts_with("--") ? 2 : 1);
    if (In(kFlags, name)) {
      if (name == "snapshot") cmd.notes.push_back("-snapshot: disk writes are discarded");
      continue;
    }
    if (name == "readconfig" || name == "set" || name == "writeconfig") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("argument {}: -{} can add or change what QEMU loads beyond this "
                              "command line; give every option on the command line",
                              i, name));
    }
    const bool known = In(kIgnored, name) || name == "bios" || name == "kernel" ||
                       name == "initrd" || name == "append" || name == "drive" ||
                       name == "blockdev" || name == "pflash" || name == "cdrom" ||
                       name == "hda" || name == "hdb" || name == "hdc" || name == "hdd" ||
                       name == "fda" || name == "fdb" || name == "mtdblock" || name == "sd" ||
                       name == "option-rom" || name == "dtb" || name == "fw_cfg" ||
                       name == "acpitable" || name == "smbios" || name == "device" ||
                       name == "object" || name == "mem-path" || name == "incoming";
    if (!known) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("argument {}: unknown QEMU option '{}': trustchain cannot tell "
                              "whether it loads a file into the guest",
                              i, a));
    }
    if (i + 1 >= argv.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("argument {}: '{}' needs an argument", i, a));
    }
    const std::size_t at = i;
    const std::string& value = argv[++i];
    if (In(kIgnored, name)) {
      if (name == "name") {
        // -name NAME or -name guest=NAME,process=...
        for (const auto& [key, v] : SubOptions(value)) {
          if (key.empty() || key == "guest") cmd.name = v;
        }
      }
      if (name == "L") cmd.notes.push_back("-L " + value + ": firmware files are looked up there");
      if (name == "virtfs") cmd.notes.push_back("-virtfs: a host directory is shared, not measured");
      continue;
    }
    if (name == "incoming") {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("argument {}: -incoming restores a whole guest state that "
                              "trustchain cannot measure beforehand",
                              at));
    }
    if (name == "mem-path") {
      cmd.notes.push_back("-mem-path " + value + ": guest RAM is backed by files there");
      continue;
    }
    if (name == "device") {
      // Devices load files only through a ROM (romfile=, run by the
      // firmware) or the generic loader (file=, straight into guest memory).
      const auto opts = SubOptions(value);
      if (opts.empty()) continue;
      if (opts.front().second == "loader" || opts.front().first == "loader" ||
          Get(opts, "driver").value_or("") == "loader") {
        const auto file = Get(opts, "file");
        if (file) {
          TC_RETURN_IF_ERROR(CheckPlainPath(*file, at));
          add(InputKind::kFirmwareCode, *file, at, true);
        }
        continue;
      }
      if (const auto rom = Get(opts, "romfile"); rom && !rom->empty()) {
        TC_RETURN_IF_ERROR(CheckPlainPath(*rom, at));
        add(InputKind::kFirmwareCode, *rom, at, true);
      }
      continue;
    }
    if (name == "object") {
      const auto opts = SubOptions(value);
      const std::string type = opts.empty() ? "" : opts.front().second;
      if (type == "memory-backend-file") {
        cmd.notes.push_back("-object memory-backend-file: guest RAM is backed by a file (its "
                            "contents are not measured)");
      }
      continue;
    }
    if (name == "append") {
      add(InputKind::kCmdline, value, at, true);
    } else if (name == "kernel" || name == "initrd" || name == "bios" || name == "option-rom" ||
               name == "dtb") {
      TC_RETURN_IF_ERROR(CheckPlainPath(value, at));
      const InputKind kind = name == "kernel"   ? InputKind::kKernel
                             : name == "initrd" ? InputKind::kInitrd
                             : name == "dtb"    ? InputKind::kDisk
                                                : InputKind::kFirmwareCode;
      add(kind, value, at, true);
    } else if (name == "pflash") {
      TC_RETURN_IF_ERROR(CheckPlainPath(value, at));
      add(pflash_seen++ == 0 ? InputKind::kFirmwareCode : InputKind::kFirmwareVars, value, at,
          false);
    } else if (name == "drive") {
      const auto opts = SubOptions(value);
      auto file = Get(opts, "file");
      if (!file) file = Get(opts, "file.filename");  // the protocol node's own option
      if (!file) continue;  // an empty drive (a CD-ROM without media)
      const std::string format = Get(opts, "format").value_or("");
      if (format != "raw") {
        cmd.notes.push_back(fmt::format(
            "argument {}: {} image: files its header names (qcow2 backing files) are not "
            "measured; give format=raw or flatten the image",
            at, format.empty() ? "format not given (probed)" : format));
      }
      TC_RETURN_IF_ERROR(CheckPlainPath(*file, at));
      const bool ro = On(Get(opts, "readonly")) || On(Get(opts, "snapshot"));
      if (Get(opts, "if").value_or("") == "pflash") {
        const auto unit = Get(opts, "unit");
        const bool code = unit ? *unit == "0" : pflash_seen == 0;
        ++pflash_seen;
        add(code ? InputKind::kFirmwareCode : InputKind::kFirmwareVars, *file, at, ro);
      } else {
        add(InputKind::kDisk, *file, at, ro);
      }
    } else if (name == "blockdev") {
      if (value.starts_with("{")) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("argument {}: JSON -blockdev is not read yet; use key=value form",
                                at));
      }
      const auto opts = SubOptions(value);
      const auto filename = Get(opts, "filename");
      if (!filename) continue;  // a format node over another node
      const std::string driver = Get(opts, "driver").value_or("");
      if (driver != "file" && driver != "host_device" && driver != "host_cdrom") {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("argument {}: -blockdev driver '{}' reads data trustchain cannot "
                                "measure beforehand",
                                at, driver));
      }
      TC_RETURN_IF_ERROR(CheckPlainPath(*filename, at));
      add(InputKind::kDisk, *filename, at, On(Get(opts, "read-only")));
    } else if (name == "fw_cfg" || name == "acpitable" || name == "smbios") {
      // Data handed to the firmware: measured as a disk image when a file.
      const auto file = Get(SubOptions(value), "file");
      if (!file) continue;
      TC_RETURN_IF_ERROR(CheckPlainPath(*file, at));
      add(InputKind::kDisk, *file, at, true);
    } else {  // hda..hdd, fda, fdb, cdrom, mtdblock, sd
      TC_RETURN_IF_ERROR(CheckPlainPath(value, at));
      add(InputKind::kDisk, value, at, name == "cdrom");
    }
  }
  return cmd;
}

}  // namespace tc::launch
