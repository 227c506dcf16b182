#include "tc/eventlog/uefi/variable.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/eventlog/test_util.h"

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/doc/value.h"

namespace tc::eventlog::uefi {
namespace {

using ::testing::HasSubstr;

Bytes FromHex(std::string_view hex) { return ParseHex(hex).value(); }

void Append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
void PutLe(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// EFI_GUID bytes (mixed-endian) of well-known GUIDs.
const Bytes kGlobal = FromHex("61dfe48bca93d211aa0d00e098032b8c");
const Bytes kSecurityDb = FromHex("cbb219d73a3d9645a3bcdad00e67656f");
const Bytes kShim = FromHex("50ab5d6046e00043abb63dd810dd8b23");
const Bytes kX509Type = FromHex("a159c0a5e494a74a87b5ab155c2bf072");
const Bytes kSha256Type = FromHex("2616c4c14c509240aca941f936934328");
const Bytes kOwner = FromHex("bd9afa775903324dbd6028f4e78f784b");  // Microsoft

// A self-signed P-256 certificate made for these tests (CN=trustchain test
// db key, O=trustchain).
const Bytes kCert = FromHex(
    "308201ae30820155a00302010202021234300a06082a8648ce3d0403023036311f301d06"
    "035504030c167472757374636861696e2074657374206462206b657931133011060355"
    "040a0c0a7472757374636861696e301e170d3236313132363037313032345a170d3336"
    "313132333037313032345a3036311f301d06035504030c167472757374636861696e20"
    "74657374206462206b657931133011060355040a0c0a7472757374636861696e305930"
    "1306072a8648ce3d020106082a8648ce3d03010703420004989102ec7d969fb7d24224"
    "fb216c4a66bc067f1c1652dcb6db0ccca8ec56ac6986041c98c739345f0262e4d2d04c"
    "8894b983768ac14e8b63831526df8b3c2290a3533051301d0603551d0e04160414b1b2"
    "34e53574c1620c82cc9a545a0579aa042c47301f0603551d23041830168014b1b234e5"
    "3574c1620c82cc9a545a0579aa042c47300f0603551d130101ff040530030101ff300a"
    "06082a8648ce3d040302034700304402200ccbc72e0e64ce126795b933f907fe887018"
    "fa83672bb3cd0cea62502fbd7bb702200cca9c028da2e12a5d48960b5b1ce835fef33c"
    "405d4cf541ebfb42317628b5ed");
constexpr char kCertSha256[] =
    "092d4c612fe4d8f8c2f29b76325bacc7d00cf297e67bb8e715a785e6cef50ca3";

Bytes Utf16(std::string_view s, bool nul = true) {
  Bytes b;
  for (char c : s) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
  if (nul) {
    b.push_back(0);
    b.push_back(0);
  }
  return b;
}

// UEFI_VARIABLE_DATA (PFP 10.2.6).
Bytes VariableData(const Bytes& guid, std::string_view name, const Bytes& data) {
  Bytes b = guid;
  PutLe(b, name.size(), 8);
  PutLe(b, data.size(), 8);
  Append(b, Utf16(name, /*nul=*/false));
  Append(b, data);
  return b;
}

// EFI_SIGNATURE_LIST with `entries` of equal size, each owner + data.
Bytes SignatureList(const Bytes& type, const std::vector<Bytes>& entries) {
  const std::size_t sig_size = 16 + (entries.empty() ? 0 : entries[0].size());
  Bytes b = type;
  PutLe(b, 28 + sig_size * entries.size(), 4);
  PutLe(b, 0, 4);
  PutLe(b, sig_size, 4);
  for (const Bytes& e : entries) {
    Append(b, kOwner);
    Append(b, e);
  }
  return b;
}

struct Decoded {
  doc::Value value = doc::Value::MakeObject();
  Result<void> status;
};

Decoded Decode(const Bytes& event, bool authority = false) {
  Decoded d;
  ByteReader in(event);
  d.status = DecodeVariable(in, authority, d.value);
  return d;
}

using ::tc::eventlog::testing::Str;

using ::tc::eventlog::testing::Int;

TEST(VariableTest, GuidRendersMixedEndian) {
  ByteReader in(kGlobal);
  EXPECT_EQ(ReadGuid(in).value().ToString(), kEfiGlobalVariableGuid);
  EXPECT_EQ(GuidName(kEfiGlobalVariableGuid), "EFI_GLOBAL_VARIABLE");
  EXPECT_EQ(GuidName("00000000-0000-0000-0000-000000000000"), "");
}

TEST(VariableTest, DecodesSecureBoot) {
  const Decoded d = Decode(VariableData(kGlobal, "SecureBoot", {1}));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(Str(d.value, "guid"), "8be4df61-93ca-11d2-aa0d-00e098032b8c");
  EXPECT_EQ(Str(d.value, "guid_name"), "EFI_GLOBAL_VARIABLE");
  EXPECT_EQ(Str(d.value, "name"), "SecureBoot");
  EXPECT_EQ(Int(d.value, "data_size"), 1);
  EXPECT_EQ(Int(d.value, "value"), 1);
}

TEST(VariableTest, EmptySecureBootHasNoValue) {
  const Decoded d = Decode(VariableData(kGlobal, "SecureBoot", {}));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(d.value.Find("value"), nullptr);
  EXPECT_EQ(Str(d.value, "hex"), "");
}

TEST(VariableTest, DecodesBootOrder) {
  const Decoded d =
      Decode(VariableData(kGlobal, "BootOrder", {1, 0, 0, 0, 0x1A, 0}));
  ASSERT_TRUE(d.status.has_value());
  const doc::Value* order = d.value.Find("boot_order");
  ASSERT_NE(order, nullptr);
  ASSERT_EQ(order->array().size(), 3u);
  EXPECT_EQ(order->array()[0].str(), "0001");
  EXPECT_EQ(order->array()[2].str(), "001A");
}

TEST(VariableTest, RejectsOddBootOrder) {
  const Decoded d = Decode(VariableData(kGlobal, "BootOrder", {1, 0, 0}));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_THAT(d.status.error().message(), HasSubstr("odd size 3"));
}

TEST(VariableTest, DecodesLoadOption) {
  // EFI_LOAD_OPTION: attributes, FilePathListLength, description, path,
  // optional data.
  Bytes path = {0x04, 0x04, 0x00, 0x00};  // media file path node
  Append(path, Utf16("\\a"));
  path[2] = static_cast<std::uint8_t>(path.size());
  Append(path, {0x7F, 0xFF, 0x04, 0x00});
  Bytes option;
  PutLe(option, 1, 4);
  PutLe(option, path.size(), 2);
  Append(option, Utf16("Linux"));
  Append(option, path);
  Append(option, Utf16("quiet"));
  const Decoded d = Decode(VariableData(kGlobal, "Boot0003", option));
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message();
  const doc::Value* lo = d.value.Find("load_option");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(Str(*lo, "attributes"), "0x00000001");
  EXPECT_EQ(Str(*lo, "description"), "Linux");
  EXPECT_EQ(Str(*lo, "device_path"), "\\a");
  EXPECT_EQ(Str(*lo, "file"), "\\a");
  EXPECT_EQ(Str(*lo, "optional_data_text"), "quiet");
  EXPECT_EQ(Str(*lo, "optional_data_encoding"), "utf-16le");
}

TEST(VariableTest, RejectsUnterminatedLoadOptionDescription) {
  Bytes option;
  PutLe(option, 1, 4);
  PutLe(option, 0, 2);
  Append(option, Utf16("Linux", /*nul=*/false));
  const Decoded d = Decode(VariableData(kGlobal, "Boot0000", option));
  ASSERT_FALSE(d.status.has_value());
  // The description starts after the 32-byte header, the 16-byte name and
  // six bytes of the option.
  EXPECT_EQ(d.status.error().message(), "unterminated description at offset 54");
}

TEST(VariableTest, RejectsLoadOptionPathBeyondData) {
  Bytes option;
  PutLe(option, 1, 4);
  PutLe(option, 200, 2);
  Append(option, Utf16("x"));
  const Decoded d = Decode(VariableData(kGlobal, "Boot0000", option));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(Str(*d.value.Find("load_option"), "description"), "x");
}

TEST(VariableTest, DecodesDbCertificatesAndHashes) {
  Bytes db = SignatureList(kX509Type, {kCert});
  Append(db, SignatureList(kSha256Type, {Bytes(32, 0xAA), Bytes(32, 0xBB)}));
  const Decoded d = Decode(VariableData(kSecurityDb, "db", db));
  ASSERT_TRUE(d.status.has_value()) << d.status.error().message();
  EXPECT_EQ(Str(d.value, "guid_name"), "EFI_IMAGE_SECURITY_DATABASE_GUID");
  EXPECT_EQ(Int(d.value, "certificate_count"), 1);
  EXPECT_EQ(Int(d.value, "hash_count"), 2);
  const auto& lists = d.value.Find("signature_lists")->array();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(Str(lists[0], "signature_type_name"), "EFI_CERT_X509_GUID");
  EXPECT_EQ(Int(lists[0], "signature_size"), 16 + 434);
  const doc::Value& cert = lists[0].Find("signatures")->array()[0];
  EXPECT_EQ(Str(cert, "owner"), "77fa9abd-0359-4d32-bd60-28f4e78f784b");
  EXPECT_EQ(Str(cert, "owner_name"), "Microsoft");
  const doc::Value* x509 = cert.Find("x509");
  ASSERT_NE(x509, nullptr);
  EXPECT_THAT(Str(*x509, "subject"), HasSubstr("CN=trustchain test db key"));
  EXPECT_EQ(Str(*x509, "serial"), "1234");
  EXPECT_EQ(Str(*x509, "sha256"), kCertSha256);
  EXPECT_EQ(Str(*x509, "not_before"), "2026-11-26T07:10:24Z");
  const doc::Value& hash = lists[1].Find("signatures")->array()[1];
  EXPECT_EQ(Str(hash, "sha256"), std::string(64, 'b'));
}

TEST(VariableTest, BadCertificateGivesErrorAndFingerprint) {
  const Decoded d = Decode(VariableData(
      kGlobal, "PK", SignatureList(kX509Type, {Bytes{0x30, 0x03, 1, 2, 3}})));
  ASSERT_TRUE(d.status.has_value());
  const doc::Value& sig =
      d.value.Find("signature_lists")->array()[0].Find("signatures")->array()[0];
  const doc::Value* x509 = sig.Find("x509");
  ASSERT_NE(x509, nullptr);
  EXPECT_NE(x509->Find("error"), nullptr);
  EXPECT_EQ(Str(*x509, "sha256").size(), 64u);
}

TEST(VariableTest, EmptyDbHasNoLists) {
  const Decoded d = Decode(VariableData(kSecurityDb, "dbx", {}));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_TRUE(d.value.Find("signature_lists")->array().empty());
  EXPECT_EQ(Int(d.value, "certificate_count"), 0);
}

TEST(VariableTest, RejectsSignatureListSmallerThanHeader) {
  Bytes list = kSha256Type;
  PutLe(list, 20, 4);
  PutLe(list, 0, 4);
  PutLe(list, 48, 4);
  const Decoded d = Decode(VariableData(kSecurityDb, "db", list));
  ASSERT_FALSE(d.status.has_value());
  // The list starts after the 32-byte header and the name "db" (4 bytes).
  EXPECT_EQ(d.status.error().message(),
            "list size 20 below 28 in the signature list at offset 36");
}

TEST(VariableTest, RejectsSignatureListBeyondData) {
  Bytes list = SignatureList(kSha256Type, {Bytes(32, 1)});
  list[16] = 0xFF;  // SignatureListSize low byte
  list[17] = 0xFF;
  const Decoded d = Decode(VariableData(kSecurityDb, "db", list));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_THAT(d.status.error().message(), HasSubstr("runs past the end"));
}

TEST(VariableTest, RejectsSignatureSizeBelowOwner) {
  Bytes list = kSha256Type;
  PutLe(list, 28 + 8, 4);
  PutLe(list, 0, 4);
  PutLe(list, 8, 4);
  Append(list, Bytes(8, 0));
  const Decoded d = Decode(VariableData(kSecurityDb, "db", list));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_THAT(d.status.error().message(), HasSubstr("signature size 8 below 16"));
}

TEST(VariableTest, RejectsSignaturesThatDoNotDivideTheList) {
  Bytes list = SignatureList(kSha256Type, {Bytes(32, 1)});
  list[24] = 47;  // SignatureSize
  const Decoded d = Decode(VariableData(kSecurityDb, "db", list));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_THAT(d.status.error().message(), HasSubstr("do not divide"));
}

TEST(VariableTest, KeepsListsDecodedBeforeAnError) {
  Bytes db = SignatureList(kSha256Type, {Bytes(32, 1)});
  Append(db, Bytes(10, 0xEE));
  const Decoded d = Decode(VariableData(kSecurityDb, "db", db));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.value.Find("signature_lists")->array().size(), 1u);
}

TEST(VariableTest, CapsSignatureEntries) {
  std::vector<Bytes> hashes(kMaxSignatureEntries + 5, Bytes(32, 7));
  const Decoded d =
      Decode(VariableData(kSecurityDb, "dbx", SignatureList(kSha256Type, hashes)));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(Int(d.value, "hash_count"), static_cast<std::int64_t>(kMaxSignatureEntries));
  ASSERT_NE(d.value.Find("truncated"), nullptr);
}

TEST(VariableTest, AuthorityWithSignatureData) {
  Bytes data = kOwner;
  Append(data, kCert);
  const Decoded d = Decode(VariableData(kSecurityDb, "db", data), /*authority=*/true);
  ASSERT_TRUE(d.status.has_value());
  const doc::Value* sig = d.value.Find("signature");
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(Str(*sig, "owner_name"), "Microsoft");
  EXPECT_EQ(Str(*sig->Find("x509"), "sha256"), kCertSha256);
}

TEST(VariableTest, AuthorityWithBareCertificate) {
  const Decoded d = Decode(VariableData(kShim, "Shim", kCert), /*authority=*/true);
  ASSERT_TRUE(d.status.has_value());
  ASSERT_NE(d.value.Find("x509"), nullptr);
  EXPECT_EQ(Str(d.value, "guid_name"), "SHIM_LOCK_GUID");
}

TEST(VariableTest, AuthorityWithSignatureList) {
  const Decoded d = Decode(
      VariableData(kSecurityDb, "db", SignatureList(kX509Type, {kCert})),
      /*authority=*/true);
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(Int(d.value, "certificate_count"), 1);
}

TEST(VariableTest, AuthorityWithTextOrFlag) {
  const std::string sbat = "sbat,1,2021030218\n";
  const Decoded text = Decode(
      VariableData(kShim, "SbatLevel", Bytes(sbat.begin(), sbat.end())), true);
  ASSERT_TRUE(text.status.has_value());
  EXPECT_EQ(Str(text.value, "text"), sbat);
  const Decoded flag = Decode(VariableData(kShim, "MokListTrusted", {1}), true);
  EXPECT_EQ(Int(flag.value, "value"), 1);
}

TEST(VariableTest, UnknownVariableGivesHexAndText) {
  const Decoded d = Decode(VariableData(FromHex("00112233445566778899aabbccddeeff"),
                                        "Setup", {'o', 'k'}));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(Str(d.value, "hex"), "6f6b");
  EXPECT_EQ(Str(d.value, "text"), "ok");
  EXPECT_EQ(d.value.Find("guid_name"), nullptr);
}

TEST(VariableTest, BootVariableUnderOtherGuidIsNotDecoded) {
  const Decoded d = Decode(VariableData(kShim, "Boot0001", {1, 2, 3}));
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(d.value.Find("load_option"), nullptr);
  EXPECT_EQ(Str(d.value, "hex"), "010203");
}

TEST(VariableTest, RejectsHugeNameLength) {
  Bytes b = kGlobal;
  PutLe(b, 1ull << 60, 8);
  PutLe(b, 0, 8);
  Append(b, Utf16("x"));
  const Decoded d = Decode(b);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().message(),
            "name length 1152921504606846976 runs past the end at offset 16");
}

TEST(VariableTest, RejectsDataLengthBeyondEnd) {
  Bytes b = VariableData(kGlobal, "SecureBoot", {1});
  b[24] = 2;  // VariableDataLength
  const Decoded d = Decode(b);
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().message(),
            "data length 2 runs past the end at offset 24");
}

TEST(VariableTest, RejectsTruncatedHeader) {
  const Decoded d = Decode(Bytes(20, 0));
  ASSERT_FALSE(d.status.has_value());
  EXPECT_EQ(d.status.error().code(), ErrorCode::kMalformed);
}

TEST(VariableTest, NotesTrailingBytes) {
  Bytes b = VariableData(kGlobal, "SecureBoot", {0});
  b.push_back(0xAA);
  const Decoded d = Decode(b);
  ASSERT_TRUE(d.status.has_value());
  EXPECT_EQ(Int(d.value, "trailing_bytes"), 1);
  EXPECT_EQ(Int(d.value, "value"), 0);
}

}  // namespace
}  // namespace tc::eventlog::uefi
