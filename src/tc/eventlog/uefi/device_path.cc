#include "tc/eventlog/uefi/device_path.h"

#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/eventlog/uefi/structures.h"

namespace tc::eventlog::uefi {
namespace {

// Device path node types (UEFI 2.10, 10.3.1, Table 10.2).
constexpr std::uint8_t kHardware = 0x01;
constexpr std::uint8_t kAcpi = 0x02;
constexpr std::uint8_t kMessaging = 0x03;
constexpr std::uint8_t kMedia = 0x04;
constexpr std::uint8_t kBbs = 0x05;
constexpr std::uint8_t kEnd = 0x7F;
constexpr std::uint8_t kEndInstance = 0x01;
// Any other End subtype (0xFF: End Entire Device Path) ends the path.
constexpr std::uint8_t kMediaFilePath = 0x04;
constexpr std::size_t kNodeHeaderSize = 4;

// Text conventions follow UEFI 2.10, 10.6 (and the EDK2 reference
// rendering that the UEFI shell shows): numbers as "0x" + uppercase hex,
// GUIDs in uppercase.
std::string Hex(std::uint64_t v) { return fmt::format("0x{:X}", v); }

std::string UpperHex(std::span<const std::uint8_t> bytes) {
  std::string s = ToHex(bytes);
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

Result<std::string> GuidText(ByteReader& in) {
  TC_ASSIGN_OR_RETURN(const Guid g, ReadGuid(in));
  std::string s = g.ToString();
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// "Name(guid)" or "Name(guid,hex)" for vendor-defined nodes
// (UEFI 2.10, 10.3.2.4 / 10.3.5.17 / 10.3.6.3).
Result<std::string> Vendor(std::string_view name, ByteReader& in) {
  TC_ASSIGN_OR_RETURN(std::string guid, GuidText(in));
  const auto rest = in.Rest();
  if (rest.empty()) return fmt::format("{}({})", name, guid);
  return fmt::format("{}({},{})", name, guid, UpperHex(rest));
}

// A compressed EISA id (UEFI 2.10, 10.3.3): three 5-bit letters in the low
// word, the product number in the high word, e.g. "PNP0A03".
std::string EisaId(std::uint32_t id) {
  const std::uint32_t vendor = id & 0xFFFF;
  const char c1 = static_cast<char>('@' + ((vendor >> 10) & 0x1F));
  const char c2 = static_cast<char>('@' + ((vendor >> 5) & 0x1F));
  const char c3 = static_cast<char>('@' + (vendor & 0x1F));
  const auto ok = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (!ok(c1) || !ok(c2) || !ok(c3)) return fmt::format("0x{:08X}", id);
  return fmt::format("{}{}{}{:04X}", c1, c2, c3, id >> 16);
}

std::string Ipv4Text(std::span<const std::uint8_t> a) {
  return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
}

std::string Ipv6Text(std::span<const std::uint8_t> a) {
  std::string s;
  for (std::size_t i = 0; i < 16; i += 2) {
    if (i > 0) s += ':';
    s += fmt::format("{:x}", (a[i] << 8) | a[i + 1]);
  }
  return s;
}

std::string ProtocolText(std::uint16_t p) {
  if (p == 6) return "TCP";
  if (p == 17) return "UDP";
  return Hex(p);
}

// Reads a NUL-terminated CHAR16 string filling the rest of the node.
std::string Char16Rest(ByteReader& in) { return Utf16LeToUtf8(in.Rest()); }

// Reads a NUL-terminated ASCII string from `in`, consuming the NUL if there.
std::string AsciiZ(ByteReader& in) {
  std::string s;
  while (!in.empty()) {
    const std::uint8_t c = in.U8().value();  // !empty() checked
    if (c == 0) break;
    s.push_back(static_cast<char>(c));
  }
  return AsciiField(AsBytes(s));
}

// Type 1 (UEFI 2.10, 10.3.2).
Result<std::string> HardwareNode(std::uint8_t subtype, ByteReader& in) {
  switch (subtype) {
    case 0x01: {  // PCI: UINT8 Function, UINT8 Device
      TC_ASSIGN_OR_RETURN(const std::uint8_t function, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t device, in.U8());
      return fmt::format("Pci({},{})", Hex(device), Hex(function));
    }
    case 0x02: {  // PCCARD
      TC_ASSIGN_OR_RETURN(const std::uint8_t function, in.U8());
      return fmt::format("PcCard({})", Hex(function));
    }
    case 0x03: {  // Memory mapped
      TC_ASSIGN_OR_RETURN(const std::uint32_t type, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t start, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t end, in.U64Le());
      return fmt::format("MemoryMapped({},{},{})", Hex(type), Hex(start),
                         Hex(end));
    }
    case 0x04:
      return Vendor("VenHw", in);
    case 0x05: {  // Controller
      TC_ASSIGN_OR_RETURN(const std::uint32_t controller, in.U32Le());
      return fmt::format("Ctrl({})", Hex(controller));
    }
    case 0x06: {  // BMC
      TC_ASSIGN_OR_RETURN(const std::uint8_t type, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint64_t base, in.U64Le());
      return fmt::format("BMC({},{})", type, Hex(base));
    }
    default:
      return Fail(ErrorCode::kUnsupported, "hardware subtype");
  }
}

// Type 2 (UEFI 2.10, 10.3.3).
Result<std::string> AcpiNode(std::uint8_t subtype, ByteReader& in) {
  switch (subtype) {
    case 0x01: {  // ACPI: UINT32 _HID, UINT32 _UID
      TC_ASSIGN_OR_RETURN(const std::uint32_t hid, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint32_t uid, in.U32Le());
      // UEFI 2.10, 10.6.1.5: well-known PNP ids have their own keywords.
      const std::string id = EisaId(hid);
      std::string_view name;
      if (id == "PNP0A03") name = "PciRoot";
      if (id == "PNP0A08") name = "PcieRoot";
      if (id == "PNP0604") name = "Floppy";
      if (id == "PNP0301") name = "Keyboard";
      if (id == "PNP0501") name = "Serial";
      if (id == "PNP0401") name = "ParallelPort";
      if (!name.empty()) return fmt::format("{}({})", name, Hex(uid));
      return fmt::format("Acpi({},{})", id, Hex(uid));
    }
    case 0x02: {  // Expanded ACPI: _HID, _UID, _CID, then three strings
      TC_ASSIGN_OR_RETURN(const std::uint32_t hid, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint32_t uid, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint32_t cid, in.U32Le());
      const std::string hid_str = AsciiZ(in);
      const std::string uid_str = AsciiZ(in);
      const std::string cid_str = AsciiZ(in);
      return fmt::format("AcpiEx({},{},{},{},{},{})", EisaId(hid), EisaId(cid),
                         Hex(uid), hid_str, cid_str, uid_str);
    }
    case 0x03: {  // _ADR: one or more UINT32
      std::string s = "AcpiAdr(";
      TC_ASSIGN_OR_RETURN(const std::uint32_t adr, in.U32Le());
      s += Hex(adr);
      while (in.remaining() >= 4) s += "," + Hex(in.U32Le().value());
      return s + ")";
    }
    default:
      return Fail(ErrorCode::kUnsupported, "acpi subtype");
  }
}

// Messaging vendor nodes with their own keywords (UEFI 2.10, 10.6.1.6).
Result<std::string> MessagingVendor(ByteReader& in) {
  TC_ASSIGN_OR_RETURN(auto peek, in.Peek(16));
  ByteReader g(peek);
  TC_ASSIGN_OR_RETURN(const Guid guid, ReadGuid(g));
  const std::string text = guid.ToString();
  if (in.remaining() == 16) {
    if (text == "e0c14753-f9be-11d2-9a0c-0090273fc14d") return "VenPcAnsi()";
    if (text == "dfa66065-b419-11d3-9a2d-0090273fc14d") return "VenVt100()";
    if (text == "7baec70b-57e0-4c76-8e87-2f9e28088343") return "VenVt100Plus()";
    if (text == "ad15a0d6-8bec-4acf-a073-d01de77e2d88") return "VenUtf8()";
  }
  if (text == "37499a9d-542f-4c89-a026-35da142094e4" && in.remaining() == 20) {
    TC_RETURN_IF_ERROR(in.Skip(16));
    TC_ASSIGN_OR_RETURN(const std::uint32_t flow, in.U32Le());
    const std::string_view mode = (flow & 3) == 1   ? "Hardware"
                                  : (flow & 3) == 2 ? "XonXoff"
                                                    : "None";
    return fmt::format("UartFlowCtrl({})", mode);
  }
  return Vendor("VenMsg", in);
}

// Type 3 (UEFI 2.10, 10.3.4).
Result<std::string> MessagingNode(std::uint8_t subtype, ByteReader& in) {
  switch (subtype) {
    case 0x01: {  // ATAPI
      TC_ASSIGN_OR_RETURN(const std::uint8_t secondary, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t slave, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint16_t lun, in.U16Le());
      return fmt::format("Ata({},{},{})", secondary ? "Secondary" : "Primary",
                         slave ? "Slave" : "Master", Hex(lun));
    }
    case 0x02: {  // SCSI
      TC_ASSIGN_OR_RETURN(const std::uint16_t pun, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t lun, in.U16Le());
      return fmt::format("Scsi({},{})", Hex(pun), Hex(lun));
    }
    case 0x03: {  // Fibre Channel
      TC_RETURN_IF_ERROR(in.Skip(4));
      TC_ASSIGN_OR_RETURN(const std::uint64_t wwn, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t lun, in.U64Le());
      return fmt::format("Fibre({},{})", Hex(wwn), Hex(lun));
    }
    case 0x04: {  // 1394
      TC_RETURN_IF_ERROR(in.Skip(4));
      TC_ASSIGN_OR_RETURN(const std::uint64_t guid, in.U64Le());
      return fmt::format("I1394({:016X})", guid);
    }
    case 0x05: {  // USB
      TC_ASSIGN_OR_RETURN(const std::uint8_t port, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t interface, in.U8());
      return fmt::format("USB({},{})", Hex(port), Hex(interface));
    }
    case 0x06: {  // I2O
      TC_ASSIGN_OR_RETURN(const std::uint32_t tid, in.U32Le());
      return fmt::format("I2O({})", Hex(tid));
    }
    case 0x0A:
      return MessagingVendor(in);
    case 0x0B: {  // MAC: EFI_MAC_ADDRESS (32 bytes), UINT8 IfType
      TC_ASSIGN_OR_RETURN(auto mac, in.Bytes(32));
      TC_ASSIGN_OR_RETURN(const std::uint8_t if_type, in.U8());
      // Ethernet (0 or 1, RFC 3232) uses 6 of the 32 bytes.
      const std::size_t n = (if_type == 0 || if_type == 1) ? 6 : 32;
      return fmt::format("MAC({},{})", UpperHex(mac.first(n)), Hex(if_type));
    }
    case 0x0C: {  // IPv4
      TC_ASSIGN_OR_RETURN(auto local, in.Bytes(4));
      TC_ASSIGN_OR_RETURN(auto remote, in.Bytes(4));
      TC_RETURN_IF_ERROR(in.Skip(4));  // ports
      TC_ASSIGN_OR_RETURN(const std::uint16_t protocol, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint8_t is_static, in.U8());
      std::string s = fmt::format("IPv4({},{},{},{}", Ipv4Text(remote),
                                  ProtocolText(protocol),
                                  is_static ? "Static" : "DHCP",
                                  Ipv4Text(local));
      if (in.remaining() >= 8) {  // GatewayIpAddress, SubnetMask (UEFI 2.3+)
        auto gateway = in.Bytes(4).value();
        auto mask = in.Bytes(4).value();
        s += "," + Ipv4Text(gateway) + "," + Ipv4Text(mask);
      }
      return s + ")";
    }
    case 0x0D: {  // IPv6
      TC_ASSIGN_OR_RETURN(auto local, in.Bytes(16));
      TC_ASSIGN_OR_RETURN(auto remote, in.Bytes(16));
      TC_RETURN_IF_ERROR(in.Skip(4));  // ports
      TC_ASSIGN_OR_RETURN(const std::uint16_t protocol, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint8_t origin, in.U8());
      const std::string_view origin_text =
          origin == 0   ? "Static"
          : origin == 1 ? "StatelessAutoConfigure"
                        : "StatefulAutoConfigure";
      std::string s = fmt::format("IPv6({},{},{},{}", Ipv6Text(remote),
                                  ProtocolText(protocol), origin_text,
                                  Ipv6Text(local));
      if (in.remaining() >= 17) {  // PrefixLength, GatewayIpAddress
        const std::uint8_t prefix = in.U8().value();
        auto gateway = in.Bytes(16).value();
        s += fmt::format(",{},{}", Ipv6Text(gateway), prefix);
      }
      return s + ")";
    }
    case 0x0E: {  // UART
      TC_RETURN_IF_ERROR(in.Skip(4));
      TC_ASSIGN_OR_RETURN(const std::uint64_t baud, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint8_t data_bits, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t parity, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t stop_bits, in.U8());
      constexpr std::string_view kParity[] = {"D", "N", "E", "O", "M", "S"};
      constexpr std::string_view kStop[] = {"D", "1", "1.5", "2"};
      return fmt::format(
          "Uart({},{},{},{})", baud, data_bits,
          parity < 6 ? std::string(kParity[parity]) : Hex(parity),
          stop_bits < 4 ? std::string(kStop[stop_bits]) : Hex(stop_bits));
    }
    case 0x0F: {  // USB class
      TC_ASSIGN_OR_RETURN(const std::uint16_t vid, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t pid, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint8_t cls, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t sub, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t proto, in.U8());
      return fmt::format("UsbClass({},{},{},{},{})", Hex(vid), Hex(pid),
                         Hex(cls), Hex(sub), Hex(proto));
    }
    case 0x10: {  // USB WWID
      TC_ASSIGN_OR_RETURN(const std::uint16_t interface, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t vid, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t pid, in.U16Le());
      return fmt::format("UsbWwid({},{},{},\"{}\")", Hex(vid), Hex(pid),
                         Hex(interface), Char16Rest(in));
    }
    case 0x11: {  // Device logical unit
      TC_ASSIGN_OR_RETURN(const std::uint8_t lun, in.U8());
      return fmt::format("Unit({})", Hex(lun));
    }
    case 0x12: {  // SATA
      TC_ASSIGN_OR_RETURN(const std::uint16_t hba, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t multiplier, in.U16Le());
      TC_ASSIGN_OR_RETURN(const std::uint16_t lun, in.U16Le());
      return fmt::format("Sata({},{},{})", Hex(hba), Hex(multiplier), Hex(lun));
    }
    case 0x14: {  // VLAN
      TC_ASSIGN_OR_RETURN(const std::uint16_t vlan, in.U16Le());
      return fmt::format("Vlan({})", vlan);
    }
    case 0x17: {  // NVMe namespace: UINT32 NSID, UINT64 EUI-64
      TC_ASSIGN_OR_RETURN(const std::uint32_t nsid, in.U32Le());
      TC_ASSIGN_OR_RETURN(auto eui, in.Bytes(8));
      // EDK2 prints the EUI-64 most significant byte first.
      return fmt::format(
          "NVMe({},{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X})",
          Hex(nsid), eui[7], eui[6], eui[5], eui[4], eui[3], eui[2], eui[1],
          eui[0]);
    }
    case 0x18: {  // URI: the rest of the node, not NUL-terminated
      return fmt::format("Uri({})", AsciiField(in.Rest()));
    }
    case 0x19: {  // UFS
      TC_ASSIGN_OR_RETURN(const std::uint8_t pun, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t lun, in.U8());
      return fmt::format("UFS({},{})", Hex(pun), Hex(lun));
    }
    case 0x1A: {  // SD
      TC_ASSIGN_OR_RETURN(const std::uint8_t slot, in.U8());
      return fmt::format("SD({})", Hex(slot));
    }
    case 0x1C: {  // Wi-Fi: SSID[32]
      TC_ASSIGN_OR_RETURN(auto ssid, in.Bytes(32));
      return fmt::format("Wi-Fi({})", AsciiField(ssid));
    }
    case 0x1D: {  // eMMC
      TC_ASSIGN_OR_RETURN(const std::uint8_t slot, in.U8());
      return fmt::format("eMMC({})", Hex(slot));
    }
    case 0x20: {  // NVDIMM namespace
      TC_ASSIGN_OR_RETURN(std::string uuid, GuidText(in));
      return fmt::format("NVDIMM({})", uuid);
    }
    default:
      return Fail(ErrorCode::kUnsupported, "messaging subtype");
  }
}

// Type 4 (UEFI 2.10, 10.3.5).
Result<std::string> MediaNode(std::uint8_t subtype, ByteReader& in) {
  switch (subtype) {
    case 0x01: {  // Hard drive
      TC_ASSIGN_OR_RETURN(const std::uint32_t number, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t start, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t size, in.U64Le());
      TC_ASSIGN_OR_RETURN(auto signature, in.Bytes(16));
      TC_ASSIGN_OR_RETURN(const std::uint8_t format, in.U8());
      TC_ASSIGN_OR_RETURN(const std::uint8_t sig_type, in.U8());
      std::string sig;
      if (sig_type == 0x01) {  // MBR: 32-bit signature
        ByteReader s(signature);
        sig = fmt::format("MBR,0x{:08X}", s.U32Le().value());
      } else if (sig_type == 0x02) {  // GUID
        ByteReader s(signature);
        sig = "GPT," + GuidText(s).value();
      } else {
        sig = fmt::format("{},0", sig_type);
      }
      (void)format;  // implied by the signature type in the text form
      return fmt::format("HD({},{},{},{})", number, sig, Hex(start), Hex(size));
    }
    case 0x02: {  // CD-ROM
      TC_ASSIGN_OR_RETURN(const std::uint32_t entry, in.U32Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t start, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t size, in.U64Le());
      return fmt::format("CDROM({},{},{})", Hex(entry), Hex(start), Hex(size));
    }
    case 0x03:
      return Vendor("VenMedia", in);
    case kMediaFilePath:
      return Char16Rest(in);
    case 0x05: {  // Media protocol
      TC_ASSIGN_OR_RETURN(std::string guid, GuidText(in));
      return fmt::format("Media({})", guid);
    }
    case 0x06: {  // PIWG firmware file
      TC_ASSIGN_OR_RETURN(std::string guid, GuidText(in));
      return fmt::format("FvFile({})", guid);
    }
    case 0x07: {  // PIWG firmware volume
      TC_ASSIGN_OR_RETURN(std::string guid, GuidText(in));
      return fmt::format("Fv({})", guid);
    }
    case 0x08: {  // Relative offset range
      TC_RETURN_IF_ERROR(in.Skip(4));
      TC_ASSIGN_OR_RETURN(const std::uint64_t start, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t end, in.U64Le());
      return fmt::format("Offset({},{})", Hex(start), Hex(end));
    }
    case 0x09: {  // RAM disk
      TC_ASSIGN_OR_RETURN(const std::uint64_t start, in.U64Le());
      TC_ASSIGN_OR_RETURN(const std::uint64_t end, in.U64Le());
      TC_ASSIGN_OR_RETURN(std::string type, GuidText(in));
      TC_ASSIGN_OR_RETURN(const std::uint16_t instance, in.U16Le());
      return fmt::format("RamDisk({},{},{},{})", Hex(start), Hex(end),
                         instance, type);
    }
    default:
      return Fail(ErrorCode::kUnsupported, "media subtype");
  }
}

// Type 5 (UEFI 2.10, 10.3.7): UINT16 DeviceType, UINT16 StatusFlag, CHAR8
// Description[].
Result<std::string> BbsNode(std::uint8_t subtype, ByteReader& in) {
  if (subtype != 0x01) return Fail(ErrorCode::kUnsupported, "bbs subtype");
  TC_ASSIGN_OR_RETURN(const std::uint16_t type, in.U16Le());
  TC_ASSIGN_OR_RETURN(const std::uint16_t flags, in.U16Le());
  constexpr std::string_view kTypes[] = {"",    "Floppy",  "HD",
                                         "CDROM", "PCMCIA", "USB",
                                         "Network"};
  const std::string type_text =
      (type >= 1 && type <= 6) ? std::string(kTypes[type]) : Hex(type);
  const std::string description = AsciiZ(in);
  return fmt::format("BBS({},{},{})", type_text, description, Hex(flags));
}

std::string NodeText(std::uint8_t type, std::uint8_t subtype,
                     std::span<const std::uint8_t> body) {
  ByteReader in(body);
  Result<std::string> text = Fail(ErrorCode::kUnsupported, "type");
  switch (type) {
    case kHardware:
      text = HardwareNode(subtype, in);
      break;
    case kAcpi:
      text = AcpiNode(subtype, in);
      break;
    case kMessaging:
      text = MessagingNode(subtype, in);
      break;
    case kMedia:
      text = MediaNode(subtype, in);
      break;
    case kBbs:
      text = BbsNode(subtype, in);
      break;
    default:
      break;
  }
  if (text.has_value()) return std::move(text).value();
  // Unknown, or too short for its kind: the generic form (UEFI 2.10,
  // 10.6.1.1), type and subtype in decimal.
  return fmt::format("Path({},{},{})", type, subtype, UpperHex(body));
}

void AppendFile(std::string& file, const std::string& part) {
  if (!file.empty() && !part.empty() && file.back() != '\\' &&
      part.front() != '\\') {
    file += '\\';
  }
  file += part;
}

}  // namespace

DevicePathInfo DescribeDevicePath(std::span<const std::uint8_t> bytes,
                                  std::size_t base_offset) {
  DevicePathInfo info;
  ByteReader in(bytes, base_offset);
  bool need_slash = false;   // a node precedes in this instance
  bool in_file_run = false;  // the previous node was a file path
  while (!in.empty()) {
    if (info.node_count == kMaxDevicePathNodes) {
      info.truncated = true;
      info.text += "/...";
      break;
    }
    const std::size_t at = in.offset();
    // Some loaders pad LengthOfDevicePath with zeros after a path that has
    // no end node; zeros alone are not a node worth an error.
    // (The scan stops at the first nonzero byte, normally the node type.)
    bool only_zeros = true;
    const std::span<const std::uint8_t> rest = in.Peek(in.remaining()).value();
    for (std::uint8_t b : rest) {
      if (b != 0) {
        only_zeros = false;
        break;
      }
    }
    if (only_zeros) break;
    // EFI_DEVICE_PATH_PROTOCOL (UEFI 2.10, 10.2): UINT8 Type, UINT8 SubType,
    // UINT16 Length (including these four bytes).
    Result<std::span<const std::uint8_t>> header = in.Bytes(kNodeHeaderSize);
    if (!header.has_value()) {
      info.error = fmt::format("truncated device path node header at offset {}",
                               at);
      break;
    }
    const std::uint8_t type = (*header)[0];
    const std::uint8_t subtype = (*header)[1];
    const std::size_t length =
        static_cast<std::size_t>((*header)[2] | ((*header)[3] << 8));
    if (length < kNodeHeaderSize) {
      info.error = fmt::format(
          "device path node length {} below 4 at offset {}", length, at);
      break;
    }
    Result<std::span<const std::uint8_t>> body =
        in.Bytes(length - kNodeHeaderSize);
    if (!body.has_value()) {
      info.error = fmt::format(
          "device path node length {} runs past the end at offset {}", length,
          at);
      break;
    }
    ++info.node_count;
    if (type == kEnd) {
      if (subtype == kEndInstance) {
        info.text += ",";
        need_slash = false;
        in_file_run = false;
        continue;
      }
      break;  // end of the entire path; anything after it is ignored
    }
    std::string text = NodeText(type, subtype, *body);
    if (type == kMedia && subtype == kMediaFilePath) {
      if (!in_file_run) info.file.clear();
      AppendFile(info.file, text);
      in_file_run = true;
    } else {
      in_file_run = false;
    }
    if (need_slash) info.text += "/";
    info.text += text;
    need_slash = true;
  }
  if (!info.error.empty()) {
    if (need_slash) info.text += "/";
    info.text += "<error: " + info.error + ">";
  }
  return info;
}

std::string DevicePathToText(std::span<const std::uint8_t> bytes) {
  return DescribeDevicePath(bytes).text;
}

Result<std::string> ParseDevicePathText(std::span<const std::uint8_t> bytes) {
  DevicePathInfo info = DescribeDevicePath(bytes);
  if (!info.error.empty()) return Fail(ErrorCode::kMalformed, info.error);
  return std::move(info.text);
}

}  // namespace tc::eventlog::uefi
