#include "tc/eventlog/decode.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/test_util.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/doc/value.h"
#include "tc/eventlog/event.h"

namespace tc::eventlog {
namespace {

using ::testing::HasSubstr;

Bytes FromHex(std::string_view hex) { return ParseHex(hex).value(); }
void Append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void PutLe(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
Bytes Ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }
using testing::Utf16;

using testing::Str;
using testing::Int;

// Events of a real corpus log, parsed by the real parser; empty (and the
// test skips) when ../shared is absent.
std::optional<EventLog> CorpusLog(const std::string& relative) {
  const auto dir = testing::SharedDir();
  if (!dir) return std::nullopt;
  auto log = EventLog::Parse(testing::ReadBytes(*dir / relative));
  if (!log) {
    ADD_FAILURE() << relative << ": " << log.error().message();
    return std::nullopt;
  }
  return std::move(*log);
}

// --- hand-built events -----------------------------------------------------

// UEFI_IMAGE_LOAD_EVENT around the device path of event 23 in
// corpus/vm/baseline-tcg/eventlog.bin.
Bytes ImageLoadEvent() {
  const Bytes path = FromHex(
      "02010c00d041030a0000000001010600000104012a0001000000000800000000000026"
      "5f0000000000001c0e7e5b0000004080000000000000e50202040430005c0045004600"
      "49005c0042004f004f0054005c0042004f004f0054005800360034002e004500460049"
      "0000007fff0400");
  Bytes b;
  PutLe(b, 0x7e2b5018, 8);
  PutLe(b, 0x1b000, 8);
  PutLe(b, 0, 8);
  PutLe(b, path.size(), 8);
  Append(b, path);
  return b;
}

TEST(DecodeTest, ImageLoadGivesDevicePathAndFile) {
  const doc::Value v =
      DecodeEventData(ev::kEfiBootServicesApplication, 4, ImageLoadEvent());
  EXPECT_EQ(Str(v, "image_base"), "0x7e2b5018");
  EXPECT_EQ(Int(v, "image_length"), 0x1b000);
  EXPECT_EQ(Str(v, "link_time_address"), "0x0");
  EXPECT_EQ(Int(v, "device_path_length"), 112);
  EXPECT_EQ(Str(v, "file"), "\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(v.Find("decode_error"), nullptr);
  EXPECT_EQ(SummarizeEventData(ev::kEfiBootServicesApplication, 4,
                               ImageLoadEvent()),
            "PciRoot(0x0)/Pci(0x1,0x0)/HD(1,GPT,5B7E0E1C-0000-4000-8000-"
            "0000000000E5,0x800,0x5F26)/\\EFI\\BOOT\\BOOTX64.EFI");
}

TEST(DecodeTest, ImageLoadWithPathLengthBeyondData) {
  Bytes b = ImageLoadEvent();
  b[24] = 0xFF;  // LengthOfDevicePath
  const doc::Value v = DecodeEventData(ev::kEfiBootServicesDriver, 2, b);
  EXPECT_EQ(Str(v, "decode_error"),
            "device path length 255 runs past the end at offset 24");
  EXPECT_EQ(Str(v, "hex"), ToHex(b));
  EXPECT_EQ(Str(v, "image_base"), "0x7e2b5018");  // decoded before the error
}

TEST(DecodeTest, ImageLoadWithBadNodeReportsEventOffset) {
  Bytes b = ImageLoadEvent();
  b[32 + 2] = 1;  // length of the first node
  const doc::Value v = DecodeEventData(ev::kEfiRuntimeServicesDriver, 2, b);
  EXPECT_EQ(Str(v, "decode_error"),
            "device path node length 1 below 4 at offset 32");
  EXPECT_THAT(SummarizeEventData(ev::kEfiRuntimeServicesDriver, 2, b),
              HasSubstr("decode error: device path node length 1"));
}

TEST(DecodeTest, TruncatedImageLoad) {
  const doc::Value v =
      DecodeEventData(ev::kEfiBootServicesApplication, 4, Bytes(12, 0));
  EXPECT_THAT(Str(v, "decode_error"), HasSubstr("at offset 8"));
  EXPECT_EQ(Str(v, "hex"), std::string(24, '0'));
}

TEST(DecodeTest, Separators) {
  doc::Value v = DecodeEventData(ev::kSeparator, 0, Bytes(4, 0));
  EXPECT_EQ(Str(v, "value"), "0x00000000");
  EXPECT_EQ(v.Find("error"), nullptr);
  v = DecodeEventData(ev::kSeparator, 0, Bytes(4, 0xFF));
  EXPECT_EQ(Str(v, "value"), "0xffffffff");
  ASSERT_NE(v.Find("error"), nullptr);
  EXPECT_EQ(SummarizeEventData(ev::kSeparator, 0, Bytes(4, 0xFF)),
            "0xffffffff (error)");
  v = DecodeEventData(ev::kSeparator, 0, Bytes{1, 2});
  EXPECT_EQ(Str(v, "hex"), "0102");
}

TEST(DecodeTest, PostCodeString) {
  const doc::Value v = DecodeEventData(ev::kPostCode, 0, Ascii("ACPI DATA"));
  EXPECT_EQ(Str(v, "text"), "ACPI DATA");
  EXPECT_EQ(v.Find("hex"), nullptr);
}

TEST(DecodeTest, PostCodeBlob) {
  Bytes b;
  PutLe(b, 0xffa20000, 8);
  PutLe(b, 0x4e0000, 8);
  const doc::Value v = DecodeEventData(ev::kPostCode, 0, b);
  EXPECT_EQ(Str(v, "blob_base"), "0xffa20000");
  EXPECT_EQ(Int(v, "blob_length"), 0x4e0000);
  EXPECT_EQ(SummarizeEventData(ev::kPostCode, 0, b), "0xffa20000 (5111808 bytes)");
}

TEST(DecodeTest, FirmwareBlob2) {
  const std::string desc = "Fv(XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX)";
  Bytes b = {static_cast<std::uint8_t>(desc.size())};
  Append(b, Ascii(desc));
  PutLe(b, 0xffc00000, 8);
  PutLe(b, 0x40000, 8);
  const doc::Value v = DecodeEventData(ev::kEfiPlatformFirmwareBlob2, 0, b);
  EXPECT_EQ(Str(v, "blob_description"), desc);
  EXPECT_EQ(Str(v, "blob_base"), "0xffc00000");
  EXPECT_EQ(Int(v, "blob_length"), 0x40000);
  // The same layout in EV_POST_CODE2.
  EXPECT_EQ(Str(DecodeEventData(ev::kPostCode2, 0, b), "blob_description"), desc);
}

TEST(DecodeTest, FirmwareBlob2Truncated) {
  Bytes b = {20};
  Append(b, Ascii("short"));
  b.push_back(0x80);  // not text, so no fallback
  const doc::Value v = DecodeEventData(ev::kEfiPlatformFirmwareBlob2, 0, b);
  EXPECT_THAT(Str(v, "decode_error"), HasSubstr("at offset 1"));
}

TEST(DecodeTest, FirmwareBlobWithTrailingBytes) {
  Bytes b(20, 0);
  const doc::Value v = DecodeEventData(ev::kEfiPlatformFirmwareBlob, 0, b);
  EXPECT_EQ(Int(v, "trailing_bytes"), 4);
}

Bytes Guid(std::string_view mixed_endian_hex) { return FromHex(mixed_endian_hex); }

TEST(DecodeTest, HandoffTables) {
  Bytes b;
  PutLe(b, 2, 8);
  Append(b, Guid("4415fdf294972c4a992ee5bbcf20e394"));  // SMBIOS3
  PutLe(b, 0x7f8ef000, 8);
  Append(b, Guid("71e86888f1e4d311bc220080c73c8881"));  // ACPI 2.0
  PutLe(b, 0x7fb7e014, 8);
  const doc::Value v = DecodeEventData(ev::kEfiHandoffTables, 1, b);
  ASSERT_EQ(v.Find("decode_error"), nullptr) << Str(v, "decode_error");
  const auto& tables = v.Find("tables")->array();
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(Str(tables[0], "vendor_guid"), "f2fd1544-9794-4a2c-992e-e5bbcf20e394");
  EXPECT_EQ(Str(tables[0], "vendor_guid_name"), "SMBIOS3_TABLE_GUID");
  EXPECT_EQ(Str(tables[1], "vendor_guid_name"), "EFI_ACPI_20_TABLE_GUID");
  EXPECT_EQ(Str(tables[1], "vendor_table"), "0x7fb7e014");
  EXPECT_EQ(SummarizeEventData(ev::kEfiHandoffTables, 1, b),
            "2 tables: SMBIOS3_TABLE_GUID, EFI_ACPI_20_TABLE_GUID");
}

TEST(DecodeTest, HandoffTablesWithHugeCountDoNotAllocate) {
  Bytes b;
  PutLe(b, 1ull << 60, 8);
  Append(b, Guid("71e86888f1e4d311bc220080c73c8881"));
  PutLe(b, 0x1000, 8);
  const doc::Value v = DecodeEventData(ev::kEfiHandoffTables, 1, b);
  EXPECT_EQ(Str(v, "decode_error"),
            "truncated: need 16 bytes at offset 32, 0 left");
  EXPECT_EQ(v.Find("tables")->array().size(), 1u);
}

TEST(DecodeTest, HandoffTables2) {
  Bytes b = {8};
  Append(b, Ascii("TdxTable"));
  PutLe(b, 0, 8);
  const doc::Value v = DecodeEventData(ev::kEfiHandoffTables2, 1, b);
  EXPECT_EQ(Str(v, "table_description"), "TdxTable");
  EXPECT_EQ(Int(v, "number_of_tables"), 0);
}

// UEFI_GPT_DATA with one EFI System Partition.
Bytes GptEvent(std::uint64_t partitions, std::uint32_t entry_size = 128) {
  Bytes b = Ascii("EFI PART");
  PutLe(b, 0x00010000, 4);
  PutLe(b, 92, 4);
  PutLe(b, 0x12345678, 4);
  PutLe(b, 0, 4);
  PutLe(b, 1, 8);
  PutLe(b, 0x3fffff, 8);
  PutLe(b, 34, 8);
  PutLe(b, 0x3fffde, 8);
  Append(b, Guid("1c0e7e5b000000408000000000000001"));
  PutLe(b, 2, 8);
  PutLe(b, 128, 4);
  PutLe(b, entry_size, 4);
  PutLe(b, 0xabcdef01, 4);
  PutLe(b, partitions, 8);
  Bytes entry = Guid("28732ac11ff8d211ba4b00a0c93ec93b");  // ESP
  Append(entry, Guid("1c0e7e5b0000004080000000000000e5"));
  PutLe(entry, 0x800, 8);
  PutLe(entry, 0x5f25, 8);
  PutLe(entry, 0, 8);
  Bytes name = Utf16("EFI system");
  name.resize(72, 0);
  Append(entry, name);
  entry.resize(entry_size, 0);
  Append(b, entry);
  return b;
}

TEST(DecodeTest, Gpt) {
  const doc::Value v = DecodeEventData(ev::kEfiGptEvent, 5, GptEvent(1));
  ASSERT_EQ(v.Find("decode_error"), nullptr) << Str(v, "decode_error");
  EXPECT_EQ(Str(v, "signature"), "EFI PART");
  EXPECT_EQ(Str(v, "disk_guid"), "5b7e0e1c-0000-4000-8000-000000000001");
  EXPECT_EQ(Int(v, "number_of_partitions"), 1);
  const doc::Value& p = v.Find("partitions")->array()[0];
  EXPECT_EQ(Str(p, "type_guid"), "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  EXPECT_EQ(Str(p, "type_guid_name"), "EFI System Partition");
  EXPECT_EQ(Int(p, "starting_lba"), 0x800);
  EXPECT_EQ(Str(p, "name"), "EFI system");
  EXPECT_EQ(SummarizeEventData(ev::kEfiGptEvent, 5, GptEvent(1)),
            "GPT disk 5b7e0e1c-0000-4000-8000-000000000001: 1 partitions");
}

TEST(DecodeTest, GptWithMorePartitionsThanData) {
  const doc::Value v = DecodeEventData(ev::kEfiGptEvent2, 5, GptEvent(1ull << 62));
  EXPECT_EQ(Str(v, "decode_error"),
            "truncated: need 128 bytes at offset 228, 0 left");
  EXPECT_EQ(v.Find("partitions")->array().size(), 1u);
}

TEST(DecodeTest, GptWithTinyEntrySize) {
  const doc::Value v = DecodeEventData(ev::kEfiGptEvent, 5, GptEvent(1, 16));
  EXPECT_EQ(Str(v, "decode_error"), "partition entry size 16 below 128 at offset 100");
}

TEST(DecodeTest, GptTruncatedHeader) {
  Bytes b = GptEvent(1);
  b.resize(40);
  const doc::Value v = DecodeEventData(ev::kEfiGptEvent, 5, b);
  EXPECT_THAT(Str(v, "decode_error"), HasSubstr("at offset 40"));
  EXPECT_EQ(Str(v, "signature"), "EFI PART");
}

Bytes SpecIdEvent() {
  Bytes b = Ascii("Spec ID Event03");
  b.push_back(0);
  PutLe(b, 0, 4);
  b.insert(b.end(), {0, 2, 0, 2});
  PutLe(b, 3, 4);
  PutLe(b, 0x0004, 2);
  PutLe(b, 20, 2);
  PutLe(b, 0x000B, 2);
  PutLe(b, 32, 2);
  PutLe(b, 0x1234, 2);
  PutLe(b, 48, 2);
  b.push_back(2);
  b.insert(b.end(), {0xCA, 0xFE});
  return b;
}

TEST(DecodeTest, SpecIdEvent) {
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, SpecIdEvent());
  ASSERT_EQ(v.Find("decode_error"), nullptr) << Str(v, "decode_error");
  EXPECT_EQ(Str(v, "signature"), "Spec ID Event03");
  EXPECT_EQ(Int(v, "spec_version_major"), 2);
  EXPECT_EQ(Int(v, "uintn_size"), 2);
  const auto& algs = v.Find("algorithms")->array();
  ASSERT_EQ(algs.size(), 3u);
  EXPECT_EQ(Str(algs[0], "algorithm"), "sha1");
  EXPECT_EQ(Str(algs[1], "algorithm"), "sha256");
  EXPECT_EQ(algs[2].Find("algorithm"), nullptr);
  EXPECT_EQ(Str(algs[2], "algorithm_id"), "0x1234");
  EXPECT_EQ(Str(v, "vendor_info"), "cafe");
  EXPECT_EQ(SummarizeEventData(ev::kNoAction, 0, SpecIdEvent()),
            "Spec ID Event03: sha1, sha256, 0x1234");
}

TEST(DecodeTest, SpecIdEventWithHugeAlgorithmCount) {
  Bytes b = SpecIdEvent();
  b[24] = 0xFF;
  b[25] = 0xFF;
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, b);
  EXPECT_EQ(Str(v, "decode_error"),
            "65535 algorithms exceed the limit of 64 at offset 28");
}

TEST(DecodeTest, StartupLocality) {
  Bytes b = Ascii("StartupLocality");
  b.push_back(0);
  b.push_back(3);
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, b);
  EXPECT_EQ(Int(v, "startup_locality"), 3);
  EXPECT_EQ(SummarizeEventData(ev::kNoAction, 0, b), "StartupLocality: 3");
}

Bytes Sp800155Event3() {
  Bytes b = Ascii("SP800-155 Event3");
  PutLe(b, 11129, 4);
  Append(b, Bytes(16, 0x11));
  for (std::string_view s : {"Google", "GCE", "v2", "Google"}) {
    b.push_back(static_cast<std::uint8_t>(s.size()));
    Append(b, Ascii(s));
  }
  PutLe(b, 11129, 4);
  b.push_back(2);
  Append(b, Ascii("42"));
  PutLe(b, 2, 4);  // RIM locator type
  PutLe(b, 4, 4);
  Append(b, Ascii("gs:/"));
  PutLe(b, 0, 4);  // platform cert locator type
  PutLe(b, 0, 4);
  return b;
}

TEST(DecodeTest, Sp800155Event3) {
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, Sp800155Event3());
  ASSERT_EQ(v.Find("decode_error"), nullptr) << Str(v, "decode_error");
  EXPECT_EQ(Str(v, "signature"), "SP800-155 Event3");
  EXPECT_EQ(Int(v, "platform_manufacturer_id"), 11129);
  EXPECT_EQ(Str(v, "reference_manifest_guid"),
            "11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(Str(v, "platform_model"), "GCE");
  EXPECT_EQ(Str(v, "firmware_version"), "42");
  EXPECT_EQ(Int(v, "rim_locator_type"), 2);
  EXPECT_EQ(Str(*v.Find("rim_locator"), "text"), "gs:/");
  EXPECT_EQ(Str(*v.Find("platform_cert_locator"), "hex"), "");
}

TEST(DecodeTest, Sp800155Event3StopsWhereBytesEnd) {
  Bytes b = Sp800155Event3();
  b.resize(b.size() - 10);  // inside the RIM locator's bytes
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, b);
  EXPECT_EQ(Str(v, "firmware_version"), "42");
  EXPECT_EQ(Int(v, "rim_locator_type"), 2);
  EXPECT_THAT(Str(v, "decode_error"), HasSubstr("runs past the end"));
  EXPECT_EQ(v.Find("platform_cert_locator"), nullptr);
}

TEST(DecodeTest, UnknownNoActionIsHex) {
  const doc::Value v = DecodeEventData(ev::kNoAction, 0, Bytes{1, 2, 3});
  EXPECT_EQ(Str(v, "hex"), "010203");
  EXPECT_EQ(v.Find("signature"), nullptr);
}

TEST(DecodeTest, TaggedEvent) {
  // From corpus/eventlog/tpm2tools-sd-boot-fedora37.bin, event 25.
  const Bytes b = FromHex("ec223b8f0d0000004c696e757820696e6974726400");
  const doc::Value v = DecodeEventData(ev::kEventTag, 9, b);
  EXPECT_EQ(Str(v, "tagged_event_id"), "0x8f3b22ec");
  EXPECT_EQ(Int(v, "tagged_event_data_size"), 13);
  EXPECT_EQ(Str(v, "text"), "Linux initrd");
  EXPECT_EQ(SummarizeEventData(ev::kEventTag, 9, b), "tag 0x8f3b22ec: Linux initrd");
}

TEST(DecodeTest, EventTagPlainString) {
  const doc::Value v = DecodeEventData(ev::kEventTag, 9, Utf16("hello"));
  EXPECT_EQ(Str(v, "text"), "hello");
  EXPECT_EQ(v.Find("tagged_event_id"), nullptr);
}

TEST(DecodeTest, IplStrings) {
  const Bytes grub = Ascii(std::string("grub_cmd: linux /vmlinuz ro") + '\0');
  doc::Value v = DecodeEventData(ev::kIpl, 8, grub);
  EXPECT_EQ(Str(v, "text"), "grub_cmd: linux /vmlinuz ro");
  EXPECT_EQ(v.Find("encoding"), nullptr);
  EXPECT_EQ(SummarizeEventData(ev::kIpl, 8, grub), "grub_cmd: linux /vmlinuz ro");

  v = DecodeEventData(ev::kIpl, 12, Utf16("initrd=\\initrd.img quiet"));
  EXPECT_EQ(Str(v, "text"), "initrd=\\initrd.img quiet");
  EXPECT_EQ(Str(v, "encoding"), "utf-16le");

  // systemd-boot's odd-sized UCS-2 string (terminator cut in half).
  Bytes odd = Utf16("ro");
  odd.pop_back();
  EXPECT_EQ(Str(DecodeEventData(ev::kIpl, 8, odd), "text"), "ro");

  v = DecodeEventData(ev::kIpl, 14, Bytes{0x30, 0x82, 0x01});
  EXPECT_EQ(Str(v, "hex"), "308201");
}

TEST(DecodeTest, CrtmVersion) {
  doc::Value v = DecodeEventData(ev::kSCrtmVersion, 0, Utf16("N1EET86W"));
  EXPECT_EQ(Str(v, "text"), "N1EET86W");
  v = DecodeEventData(ev::kSCrtmVersion, 0,
                      Guid("1efb6b540c1d5540a4ad4ef4bf17b83a"));
  EXPECT_EQ(Str(v, "guid"), "546bfb1e-1d0c-4055-a4ad-4ef4bf17b83a");
}

TEST(DecodeTest, VariableEvent) {
  Bytes b = Guid("61dfe48bca93d211aa0d00e098032b8c");
  PutLe(b, 9, 8);
  PutLe(b, 6, 8);
  Bytes name = Utf16("BootOrder");
  name.resize(18);
  Append(b, name);
  b.insert(b.end(), {1, 0, 0, 0, 2, 0});
  const doc::Value v = DecodeEventData(ev::kEfiVariableBoot, 1, b);
  EXPECT_EQ(Str(v, "name"), "BootOrder");
  EXPECT_EQ(SummarizeEventData(ev::kEfiVariableBoot, 1, b),
            "BootOrder = 0001,0000,0002");
  // Not decoded as a variable when the type is not a variable type.
  EXPECT_EQ(DecodeEventData(ev::kIpl, 14, b).Find("name"), nullptr);
}

TEST(DecodeTest, VariableHeaderErrorGivesWholeHex) {
  const Bytes b(10, 0x41);
  const doc::Value v = DecodeEventData(ev::kEfiVariableDriverConfig, 7, b);
  EXPECT_THAT(Str(v, "decode_error"), HasSubstr("offset 0"));
  EXPECT_EQ(Str(v, "hex"), ToHex(b));
}

TEST(DecodeTest, UnknownTypeGivesHexAndText) {
  doc::Value v = DecodeEventData(0x12345678, 0, Ascii("hi"));
  EXPECT_EQ(Str(v, "hex"), "6869");
  EXPECT_EQ(Str(v, "text"), "hi");
  v = DecodeEventData(0x12345678, 0, Bytes{0x00, 0xFF});
  EXPECT_EQ(v.Find("text"), nullptr);
}

TEST(DecodeTest, SummaryIsBoundedAndOneLine) {
  std::string long_text(500, 'x');
  long_text[10] = '\n';
  const std::string s = SummarizeEventData(ev::kIpl, 8, Ascii(long_text));
  EXPECT_EQ(s.size(), kMaxSummarySize);
  EXPECT_TRUE(s.ends_with("..."));
  EXPECT_EQ(s.find('\n'), std::string::npos);
}

TEST(DecodeTest, SummaryCutsOnCharacterBoundary) {
  // A variable named with 150 U+00E9, two bytes each in UTF-8: a cut at
  // byte 197 would split one, so the summary keeps 196.
  Bytes b = Guid("00112233445566778899aabbccddeeff");
  PutLe(b, 150, 8);
  PutLe(b, 0, 8);
  for (int i = 0; i < 150; ++i) b.insert(b.end(), {0xE9, 0x00});
  const doc::Value v = DecodeEventData(ev::kEfiVariableBoot, 1, b);
  const std::string s = SummarizeDecodedEvent(ev::kEfiVariableBoot, v);
  EXPECT_EQ(s.size(), 199u);
  EXPECT_TRUE(s.ends_with("..."));
  EXPECT_EQ(s.substr(0, 2), "\xc3\xa9");
}

TEST(DecodeTest, NeverFailsOnRandomData) {
  const std::uint32_t types[] = {
      ev::kPostCode,         ev::kNoAction,
      ev::kSeparator,        ev::kEventTag,
      ev::kSCrtmVersion,     ev::kIpl,
      ev::kPostCode2,        ev::kEfiVariableDriverConfig,
      ev::kEfiVariableBoot,  ev::kEfiBootServicesApplication,
      ev::kEfiGptEvent,      ev::kEfiPlatformFirmwareBlob,
      ev::kEfiHandoffTables, ev::kEfiPlatformFirmwareBlob2,
      ev::kEfiHandoffTables2, ev::kEfiVariableAuthority,
      0xDEADBEEF};
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    for (std::uint32_t type : types) {
      Bytes b(rng() % 160);
      for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
      const doc::Value v = DecodeEventData(type, 0, b);
      EXPECT_TRUE(v.is_object());
      EXPECT_LE(SummarizeEventData(type, 0, b).size(), kMaxSummarySize);
      EXPECT_FALSE(doc::ToJson(v).empty());
    }
  }
}

// --- golden checks on real logs -------------------------------------------

TEST(DecodeTest, GoldenBaselineVmBootApplications) {
  const auto log = CorpusLog("corpus/vm/baseline-tcg/eventlog.bin");
  if (!log) GTEST_SKIP() << "missing corpus/vm/baseline-tcg/eventlog.bin";
  std::vector<std::string> files;
  for (const RawEvent& e : log->events()) {
    if (e.type != ev::kEfiBootServicesApplication) continue;
    const doc::Value v = DecodeEventData(e.type, e.pcr, e.data);
    EXPECT_EQ(v.Find("decode_error"), nullptr);
    files.push_back(Str(v, "file"));
  }
  EXPECT_THAT(files, ::testing::Contains("\\EFI\\BOOT\\BOOTX64.EFI"));
}

TEST(DecodeTest, GoldenOvmfBootOrder) {
  const auto log = CorpusLog("corpus/eventlog/tpm2tools-swtpm-ovmf-bootorder.bin");
  if (!log) GTEST_SKIP() << "missing tpm2tools-swtpm-ovmf-bootorder.bin";
  std::map<std::string, std::string> summaries;  // variable name -> summary
  for (const RawEvent& e : log->events()) {
    if (e.type != ev::kEfiVariableBoot) continue;
    const doc::Value v = DecodeEventData(e.type, e.pcr, e.data);
    summaries[Str(v, "name")] = SummarizeEventData(e.type, e.pcr, e.data);
  }
  EXPECT_EQ(summaries["BootOrder"], "BootOrder = 0001,0000,0002");
  EXPECT_EQ(summaries["Boot0001"],
            "Boot0001 = \"UEFI Misc Device\" PciRoot(0x0)/Pci(0x6,0x0)");
  EXPECT_EQ(summaries["Boot0000"],
            "Boot0000 = \"UiApp\" Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/"
            "FvFile(462CAA21-7614-4503-836E-8AB6F4662331)");
}

TEST(DecodeTest, GoldenSecureBootAuthority) {
  const auto log = CorpusLog("corpus/eventlog/keylime-rhel9-ovmf-secureboot.bin");
  if (!log) GTEST_SKIP() << "missing keylime-rhel9-ovmf-secureboot.bin";
  std::vector<std::string> lines;
  for (const RawEvent& e : log->events()) {
    if (e.pcr == 7) lines.push_back(SummarizeEventData(e.type, e.pcr, e.data));
  }
  EXPECT_THAT(lines, ::testing::Contains("SecureBoot = 1"));
  EXPECT_THAT(lines, ::testing::Contains("db: 4 certificates, 0 hashes"));
  EXPECT_THAT(lines, ::testing::Contains("dbx: 0 certificates, 371 hashes"));
  EXPECT_THAT(lines, ::testing::Contains(
                         "db: CN=Microsoft Corporation UEFI CA 2011,"
                         "O=Microsoft Corporation,L=Redmond,ST=Washington,C=US"));
}

TEST(DecodeTest, CorpusLogsDecodeWithoutErrors) {
  const auto paths = testing::CorpusEventLogs();
  if (paths.empty()) GTEST_SKIP() << "missing corpus/eventlog (set TC_SHARED_DIR)";
  std::size_t events = 0;
  for (const auto& path : paths) {
    auto log = EventLog::Parse(testing::ReadBytes(path));
    ASSERT_TRUE(log.has_value()) << path;
    for (const RawEvent& e : log->events()) {
      ++events;
      const doc::Value v = DecodeEventData(e.type, e.pcr, e.data);
      EXPECT_EQ(v.Find("decode_error"), nullptr)
          << path.filename() << " " << EventTypeName(e.type) << ": "
          << Str(v, "decode_error");
      EXPECT_LE(SummarizeDecodedEvent(e.type, v).size(), kMaxSummarySize);
    }
  }
  EXPECT_GT(paths.size(), 10u);
  EXPECT_GT(events, 1000u);
}

}  // namespace
}  // namespace tc::eventlog
