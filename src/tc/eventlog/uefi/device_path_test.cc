#include "tc/eventlog/uefi/device_path.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tc/eventlog/test_util.h"

#include "tc/base/hex.h"

namespace tc::eventlog::uefi {
namespace {

Bytes FromHex(std::string_view hex) { return ParseHex(hex).value(); }

// One device path node: type, subtype, UINT16 length, body.
Bytes Node(std::uint8_t type, std::uint8_t subtype, const Bytes& body) {
  Bytes b = {type, subtype, static_cast<std::uint8_t>((body.size() + 4) & 0xFF),
             static_cast<std::uint8_t>((body.size() + 4) >> 8)};
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes EndNode() { return Node(0x7F, 0xFF, {}); }

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

using ::tc::eventlog::testing::Utf16;

Bytes Le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}

Bytes Le64(std::uint64_t v) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return b;
}

// EFI_GUID bytes for 7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1.
Bytes FvGuid() { return FromHex("c9bdb87cebf8344faaea3ee4af6516a1"); }

TEST(DevicePathTest, RendersRealOvmfBootPath) {
  // LengthOfDevicePath bytes of an EV_EFI_BOOT_SERVICES_APPLICATION event in
  // corpus/vm/baseline-tcg/eventlog.bin (event 23).
  const Bytes path = FromHex(
      "02010c00d041030a0000000001010600000104012a0001000000000800000000000026"
      "5f0000000000001c0e7e5b0000004080000000000000e50202040430005c0045004600"
      "49005c0042004f004f0054005c0042004f004f0054005800360034002e004500460049"
      "0000007fff0400");
  const DevicePathInfo info = DescribeDevicePath(path);
  EXPECT_EQ(info.text,
            "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,5B7E0E1C-0000-4000-8000-"
            "0000000000E5,0x800,0x5F26)/\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(info.file, "\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(info.node_count, 5u);
  EXPECT_TRUE(info.error.empty());
  EXPECT_FALSE(info.truncated);
}

TEST(DevicePathTest, RendersStorageNodes) {
  const Bytes path = Cat({
      Node(2, 1, Cat({Le32(0x0A0341D0), Le32(0)})),   // PciRoot(0x0)
      Node(1, 1, {0x1, 0x1F}),                         // Pci(0x1F,0x1)
      Node(3, 0x12, {0, 0, 0xFF, 0xFF, 0, 0}),         // Sata
      Node(3, 2, {1, 0, 0, 0}),                        // Scsi
      Node(3, 1, {1, 0, 2, 0}),                        // Ata
      Node(3, 0x17, Cat({Le32(1), {1, 2, 3, 4, 5, 6, 7, 8}})),  // NVMe
      Node(3, 5, {3, 0}),                              // USB
      EndNode(),
  });
  EXPECT_EQ(DevicePathToText(path),
            "PciRoot(0x0)/Pci(0x1F,0x1)/Sata(0x0,0xFFFF,0x0)/Scsi(0x1,0x0)/"
            "Ata(Secondary,Master,0x2)/NVMe(0x1,08-07-06-05-04-03-02-01)/"
            "USB(0x3,0x0)");
}

TEST(DevicePathTest, RendersNetworkNodes) {
  Bytes mac(32, 0);
  for (std::uint8_t i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(0x52 + i);
  mac.push_back(0x01);  // IfType
  const Bytes ipv4 = Cat({{10, 0, 0, 2},       // local
                          {10, 0, 0, 1},       // remote
                          {0, 0, 0x45, 0},     // ports
                          {17, 0},             // UDP
                          {0},                 // DHCP
                          {10, 0, 0, 254},     // gateway
                          {255, 255, 255, 0}}); // mask
  const Bytes uri = {'h', 't', 't', 'p', ':', '/', '/', 'x', '/', 'a'};
  const Bytes path =
      Cat({Node(3, 0x0B, mac), Node(3, 0x0C, ipv4), Node(3, 0x18, uri), EndNode()});
  EXPECT_EQ(DevicePathToText(path),
            "MAC(525354555657,0x1)/IPv4(10.0.0.1,UDP,DHCP,10.0.0.2,10.0.0.254,"
            "255.255.255.0)/Uri(http://x/a)");
}

TEST(DevicePathTest, RendersFirmwareAndVendorNodes) {
  const Bytes path = Cat({
      Node(4, 7, FvGuid()),
      Node(4, 6, FvGuid()),
      EndNode(),
  });
  EXPECT_EQ(DevicePathToText(path),
            "Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/"
            "FvFile(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)");

  const Bytes vendor = Cat({Node(1, 4, Cat({FvGuid(), {0xAB, 0xCD}})),
                            Node(4, 3, FvGuid()), EndNode()});
  EXPECT_EQ(DevicePathToText(vendor),
            "VenHw(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1,ABCD)/"
            "VenMedia(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)");

  const Bytes mm = Cat({Node(1, 3, Cat({Le32(0xB), Le64(0xFFC00000),
                                        Le64(0xFFFFFFFF)})),
                        Node(4, 8, Cat({Le32(0), Le64(0x15C00), Le64(0x47FFF)})),
                        EndNode()});
  EXPECT_EQ(DevicePathToText(mm),
            "MemoryMapped(0xB,0xFFC00000,0xFFFFFFFF)/Offset(0x15C00,0x47FFF)");
}

TEST(DevicePathTest, RendersMbrHardDrive) {
  const Bytes hd = Cat({Le32(2), Le64(0x800), Le64(0x1000),
                        Cat({Le32(0xDEADBEEF), Bytes(12, 0)}), {0x01, 0x01}});
  EXPECT_EQ(DevicePathToText(Cat({Node(4, 1, hd), EndNode()})),
            "HD(2,MBR,0xDEADBEEF,0x800,0x1000)");
}

TEST(DevicePathTest, UnknownNodeUsesGenericForm) {
  EXPECT_EQ(DevicePathToText(Cat({Node(0x42, 7, {0xDE, 0xAD}), EndNode()})),
            "Path(66,7,DEAD)");
}

TEST(DevicePathTest, KnownNodeTooShortUsesGenericForm) {
  // A PCI node needs two bytes.
  EXPECT_EQ(DevicePathToText(Cat({Node(1, 1, {0x05}), EndNode()})),
            "Path(1,1,05)");
}

TEST(DevicePathTest, EndOfInstanceBecomesComma) {
  const Bytes path = Cat({Node(4, 7, FvGuid()), Node(0x7F, 0x01, {}),
                          Node(1, 1, {0, 2}), EndNode()});
  EXPECT_EQ(DevicePathToText(path),
            "Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1),Pci(0x2,0x0)");
}

TEST(DevicePathTest, JoinsSplitFilePathNodes) {
  const Bytes path = Cat({Node(4, 4, Utf16("\\EFI")), Node(4, 4, Utf16("BOOT")),
                          Node(4, 4, Utf16("\\grubx64.efi")), EndNode()});
  const DevicePathInfo info = DescribeDevicePath(path);
  EXPECT_EQ(info.text, "\\EFI/BOOT/\\grubx64.efi");
  EXPECT_EQ(info.file, "\\EFI\\BOOT\\grubx64.efi");
}

TEST(DevicePathTest, FileIsTheLastFileRun) {
  const Bytes path = Cat({Node(4, 4, Utf16("\\a")), Node(1, 1, {0, 1}),
                          Node(4, 4, Utf16("\\b.efi")), EndNode()});
  EXPECT_EQ(DescribeDevicePath(path).file, "\\b.efi");
}

TEST(DevicePathTest, NodeLengthBelowFourStopsWithError) {
  const Bytes path = Cat({Node(1, 1, {0, 1}), {0x01, 0x01, 0x02, 0x00, 0xAA}});
  const DevicePathInfo info = DescribeDevicePath(path, 100);
  EXPECT_EQ(info.error, "device path node length 2 below 4 at offset 106");
  EXPECT_EQ(info.text,
            "Pci(0x1,0x0)/<error: device path node length 2 below 4 at offset "
            "106>");
  const auto parsed = ParseDevicePathText(path);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kMalformed);
}

TEST(DevicePathTest, NodeLengthBeyondBufferStopsWithError) {
  const Bytes path = {0x04, 0x04, 0xFF, 0xFF, 0x5C, 0x00};
  const DevicePathInfo info = DescribeDevicePath(path);
  EXPECT_EQ(info.error,
            "device path node length 65535 runs past the end at offset 0");
  EXPECT_EQ(info.node_count, 0u);
}

TEST(DevicePathTest, TruncatedHeaderStopsWithError) {
  const DevicePathInfo info = DescribeDevicePath(Bytes{0x01, 0x01});
  EXPECT_EQ(info.error, "truncated device path node header at offset 0");
}

TEST(DevicePathTest, MissingEndNodeIsAccepted) {
  EXPECT_EQ(DevicePathToText(Node(1, 1, {0, 3})), "Pci(0x3,0x0)");
  EXPECT_EQ(DevicePathToText({}), "");
}

TEST(DevicePathTest, TrailingZeroPaddingIsNotAnError) {
  const Bytes path = Cat({Node(4, 4, Utf16("\\stage")), Bytes(40, 0)});
  const DevicePathInfo info = DescribeDevicePath(path);
  EXPECT_TRUE(info.error.empty());
  EXPECT_EQ(info.text, "\\stage");
}

TEST(DevicePathTest, CapsTheNumberOfNodes) {
  Bytes path;
  for (std::size_t i = 0; i < kMaxDevicePathNodes + 10; ++i) {
    const Bytes n = Node(1, 1, {0, 1});
    path.insert(path.end(), n.begin(), n.end());
  }
  const DevicePathInfo info = DescribeDevicePath(path);
  EXPECT_TRUE(info.truncated);
  EXPECT_EQ(info.node_count, kMaxDevicePathNodes);
  EXPECT_TRUE(info.text.ends_with("/..."));
}

TEST(DevicePathTest, SurvivesRandomBytes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    Bytes b(rng() % 96);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    // Bias towards known types so that node decoders run.
    if (!b.empty()) b[0] = static_cast<std::uint8_t>(1 + rng() % 5);
    if (b.size() > 2) b[2] = static_cast<std::uint8_t>(b.size());
    if (b.size() > 3) b[3] = 0;
    const DevicePathInfo info = DescribeDevicePath(b);
    EXPECT_LE(info.node_count, b.size() / 4 + 1);
  }
}

}  // namespace
}  // namespace tc::eventlog::uefi
