// Decoding of event data into summaries: hand-built events for every decoder,
// truncated and garbage data (problems, never a crash), and the real logs.
#include "concierge/measure/event_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <random>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_types.h"
#include "support/vectors.h"

namespace concierge::measure {
namespace {

namespace et = event_type;
using ::testing::HasSubstr;

constexpr const char* kGlobal = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
constexpr const char* kImageDb = "d719b2cb-3d3a-4596-a3bc-dad00e67656f";
constexpr const char* kShim = "605dab50-e046-4300-abb6-3dd810dd8b23";
constexpr const char* kX509 = "a5c059a1-94e4-4aa7-87b5-ab155c2bf072";
constexpr const char* kSha256 = "c1c41626-504c-4092-aca9-41f936934328";
constexpr const char* kDiskGuid = "1a504613-19b5-4b44-a83d-d926d40daa1c";

// Little-endian byte builder.
struct B {
  Bytes b;
  B& u8(std::uint8_t v) { return b.push_back(v), *this; }
  B& u16(std::uint16_t v) { return u8(v & 0xFF).u8(v >> 8); }
  B& u32(std::uint32_t v) { return u16(v & 0xFFFF).u16(v >> 16); }
  B& u64(std::uint64_t v) { return u32(v & 0xFFFFFFFF).u32(v >> 32); }
  B& raw(ByteView v) { return b.insert(b.end(), v.begin(), v.end()), *this; }
  B& ascii(std::string_view s) { return raw(as_bytes(s)); }
  B& utf16(std::u16string_view s) {
    for (char16_t c : s) u16(c);
    return *this;
  }
  B& guid(std::string_view text) {  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    std::string hex;
    for (char c : text) {
      if (c != '-') hex.push_back(c);
    }
    Bytes v = *hex_decode(hex);
    u8(v[3]).u8(v[2]).u8(v[1]).u8(v[0]).u8(v[5]).u8(v[4]).u8(v[7]).u8(v[6]);
    return raw(ByteView(v).subspan(8));
  }
  B& zeros(std::size_t n) { return b.insert(b.end(), n, 0), *this; }
  std::size_t size() const { return b.size(); }
};

// Device path nodes.
B node(std::uint8_t type, std::uint8_t sub, const B& body) {
  return B().u8(type).u8(sub).u16(static_cast<std::uint16_t>(4 + body.size())).raw(body.b);
}
B end_node() { return node(0x7F, 0xFF, B()); }
B pci_root(std::uint32_t uid) { return node(0x02, 0x01, B().u32(0x0A0341D0).u32(uid)); }
B pci(std::uint8_t dev, std::uint8_t fn) { return node(0x01, 0x01, B().u8(fn).u8(dev)); }
B sata() { return node(0x03, 0x12, B().u16(0).u16(0xFFFF).u16(0)); }
B hd(std::uint32_t n) {
  return node(0x04, 0x01, B().u32(n).u64(0x800).u64(0x100000).guid(kDiskGuid).u8(2).u8(2));
}
B file(std::u16string_view path) { return node(0x04, 0x04, B().utf16(path).u16(0)); }
B cat(std::initializer_list<B> parts) {
  B out;
  for (const B& p : parts) out.raw(p.b);
  return out;
}
const std::string kHdText = std::string("HD(1,GPT,") + kDiskGuid + ",0x800,0x100000)";

DecodedEvent decode(std::uint32_t type, const Bytes& data) {
  Event e;
  e.type = type;
  e.data = data;
  DecodedEvent d = decode_event(e);
  EXPECT_TRUE(d.details.is_object());
  EXPECT_NO_THROW((void)d.details.dump());
  EXPECT_EQ(d.summary.find('\n'), std::string::npos);
  return d;
}

Bytes variable(const char* vendor, std::u16string_view name, const Bytes& data) {
  return B().guid(vendor).u64(name.size()).u64(data.size()).utf16(name).raw(data).b;
}

Bytes image_load(const B& path) {
  return B().u64(0xb616b018).u64(96725).u64(0).u64(path.size()).raw(path.b).b;
}

// A self-signed EC certificate with the given CN, DER-encoded.
Bytes make_cert(const std::string& cn) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_sign(x.get(), key.get(), EVP_sha256());
  int len = i2d_X509(x.get(), nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509(x.get(), &p);
  return der;
}

Bytes signature_list(const char* type, const std::vector<Bytes>& entries) {
  std::size_t sig_size = 16 + entries.at(0).size();
  B b;
  b.guid(type).u32(static_cast<std::uint32_t>(28 + sig_size * entries.size())).u32(0);
  b.u32(static_cast<std::uint32_t>(sig_size));
  for (const Bytes& e : entries) b.guid(kShim).raw(e);
  return b.b;
}

// ---- GUIDs, UTF-16 and device paths ----

TEST(EventDecodeGuid, FormatsMixedEndian) {
  Bytes g = B().guid(kGlobal).b;
  EXPECT_EQ(g[0], 0x61);
  EXPECT_EQ(format_guid(g), kGlobal);
  EXPECT_EQ(format_guid(ByteView(g).first(15)), "<invalid GUID: 15 bytes>");
}

TEST(EventDecodeDevicePath, CommonBootPath) {
  B path =
      cat({pci_root(0), pci(1, 1), sata(), hd(1), file(u"\\EFI\\BOOT\\BOOTX64.EFI"), end_node()});
  EXPECT_EQ(describe_device_path(path.b), "PciRoot(0x0)/Pci(0x1,0x1)/Sata(0x0,0xffff,0x0)/" +
                                              kHdText + "/\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(describe_device_path({}), "");
}

TEST(EventDecodeDevicePath, NetworkUsbNvmeVendorFirmwareAndUnknownNodes) {
  B mac = node(0x03, 0x0B, B().raw(*hex_decode("0cc47aff601c")).zeros(26).u8(1));
  B ipv4 = node(
      0x03, 0x0C,
      B().u8(10).u8(0).u8(0).u8(2).u8(10).u8(0).u8(0).u8(1).u16(0).u16(69).u16(17).u8(0).zeros(8));
  B uri = node(0x03, 0x18, B().ascii("http://boot.example/x.efi"));
  B usb = node(0x03, 0x05, B().u8(0xb).u8(0));
  B nvme = node(0x03, 0x17, B().u32(1).raw(*hex_decode("0025388b21d13750")));
  B ven = node(0x01, 0x04, B().guid(kGlobal).u8(7));
  B fv = node(0x04, 0x07, B().guid(kShim));
  B fvfile = node(0x04, 0x06, B().guid(kImageDb));
  B unknown = node(0x09, 0x42, B().u32(5));
  B instance_end = node(0x7F, 0x01, B());
  EXPECT_EQ(describe_device_path(cat({mac, ipv4, uri, end_node()}).b),
            "MAC(0cc47aff601c,0x1)/IPv4(10.0.0.1,UDP,DHCP,10.0.0.2)/"
            "Uri(http://boot.example/x.efi)");
  EXPECT_EQ(describe_device_path(cat({usb, nvme, instance_end, ven, end_node()}).b),
            std::string("USB(0xb,0x0)/NVMe(0x1,50-37-d1-21-8b-38-25-00),VenHw(") + kGlobal + ")");
  EXPECT_EQ(
      describe_device_path(cat({fv, fvfile, unknown, end_node(), file(u"\\a"), end_node()}).b),
      std::string("Fv(") + kShim + ")/FvFile(" + kImageDb + ")/Node(0x9,0x42) ; \\a");
}

TEST(EventDecodeDevicePath, MalformedNodesAreMarkedNotFatal) {
  Bytes short_len = cat({pci_root(0), B().u8(1).u8(1).u16(2)}).b;
  EXPECT_THAT(describe_device_path(short_len), HasSubstr("PciRoot(0x0)/<malformed:"));
  EXPECT_THAT(describe_device_path(short_len), HasSubstr("below 4"));
  Bytes past_end = cat({pci_root(0), B().u8(1).u8(1).u16(60).u16(0)}).b;
  EXPECT_THAT(describe_device_path(past_end), HasSubstr("runs past the end"));
  EXPECT_THAT(describe_device_path(pci_root(0).b), HasSubstr("no End node"));
  EXPECT_THAT(describe_device_path(Bytes{0x01, 0x01}), HasSubstr("truncated header"));
  // A node too short for its own fields falls back to Node(type,subtype).
  EXPECT_EQ(describe_device_path(cat({node(0x04, 0x01, B().u32(1)), end_node()}).b),
            "Node(0x4,0x1)");
}

// ---- UEFI variables ----

TEST(EventDecodeVariable, SecureBootFlag) {
  auto d = decode(et::kEfiVariableDriverConfig, variable(kGlobal, u"SecureBoot", {1}));
  EXPECT_EQ(d.summary, std::string("EFI variable SecureBoot {") + kGlobal + "} (1 bytes): enabled");
  EXPECT_EQ(d.details["variable_name"], "SecureBoot");
  EXPECT_EQ(d.details["vendor"], "EFI_GLOBAL_VARIABLE");
  EXPECT_EQ(d.details["enabled"], true);
  EXPECT_TRUE(d.problems.empty());
  d = decode(et::kEfiVariableDriverConfig, variable(kGlobal, u"SecureBoot", {0}));
  EXPECT_THAT(d.summary, HasSubstr(": disabled"));
  d = decode(et::kEfiVariableDriverConfig, variable(kGlobal, u"SecureBoot", {}));
  EXPECT_THAT(d.summary, HasSubstr("(0 bytes): empty"));
  EXPECT_TRUE(d.problems.empty());
}

TEST(EventDecodeVariable, BootOrderAndLoadOption) {
  auto d = decode(et::kEfiVariableBoot, variable(kGlobal, u"BootOrder", B().u16(0).u16(0x1f).b));
  EXPECT_THAT(d.summary, HasSubstr("): Boot0000, Boot001F"));
  EXPECT_EQ(d.details["boot_order"], nlohmann::json({"Boot0000", "Boot001F"}));
  B path = cat({hd(1), file(u"\\EFI\\fedora\\shimx64.efi"), end_node()});
  Bytes option = B().u32(1)
                     .u16(static_cast<std::uint16_t>(path.size()))
                     .utf16(u"Fedora")
                     .u16(0)
                     .raw(path.b)
                     .ascii("opt")
                     .b;
  d = decode(et::kEfiVariableBoot2, variable(kGlobal, u"Boot0001", option));
  EXPECT_THAT(d.summary, HasSubstr("\"Fedora\" active " + kHdText + "/\\EFI\\fedora\\shimx64.efi"));
  EXPECT_EQ(d.details["description"], "Fedora");
  EXPECT_EQ(d.details["active"], true);
  EXPECT_EQ(d.details["optional_data_size"], 3);
  EXPECT_TRUE(d.problems.empty()) << d.problems.front();
  // No NUL after the description.
  d = decode(et::kEfiVariableBoot, variable(kGlobal, u"Boot0001", B().u32(1).u16(0).utf16(u"x").b));
  EXPECT_FALSE(d.problems.empty());
}

TEST(EventDecodeVariable, SignatureDatabasesCountEntriesAndNameCertificates) {
  Bytes cert = make_cert("Test Secure Boot CA");
  Bytes db = signature_list(kX509, {cert});
  Bytes hashes = signature_list(kSha256, {Bytes(32, 0xAA), Bytes(32, 0xBB)});
  db.insert(db.end(), hashes.begin(), hashes.end());
  auto d = decode(et::kEfiVariableDriverConfig, variable(kImageDb, u"db", db));
  EXPECT_THAT(d.summary, HasSubstr("EFI variable db {" + std::string(kImageDb) + "}"));
  EXPECT_THAT(d.summary, HasSubstr("3 entries (2 SHA-256, 1 X.509): Test Secure Boot CA"));
  EXPECT_EQ(d.details["entry_count"], 3);
  EXPECT_EQ(d.details["signature_lists"][0]["subjects"][0], "Test Secure Boot CA");
  EXPECT_EQ(d.details["signature_lists"][1]["type_name"], "SHA-256");
  EXPECT_TRUE(d.problems.empty());
  // MokList under the shim GUID is decoded the same way.
  d = decode(et::kEfiVariableBoot, variable(kShim, u"MokList", hashes));
  EXPECT_THAT(d.summary, HasSubstr("2 entries (2 SHA-256)"));
  // An X.509 entry that is not a certificate is a problem.
  d = decode(et::kEfiVariableDriverConfig,
             variable(kGlobal, u"KEK", signature_list(kX509, {Bytes(40, 0x30)})));
  EXPECT_THAT(d.summary, HasSubstr("1 entry (1 X.509)"));
  EXPECT_FALSE(d.problems.empty());
  // A list size that does not fit.
  Bytes bad = signature_list(kSha256, {Bytes(32, 1)});
  bad[16] = 0xFF;
  d = decode(et::kEfiVariableDriverConfig, variable(kGlobal, u"PK", bad));
  EXPECT_FALSE(d.problems.empty());
}

TEST(EventDecodeVariable, AuthorityShowsTheCertificate) {
  Bytes cert = make_cert("Shim Signer");
  auto d =
      decode(et::kEfiVariableAuthority, variable(kImageDb, u"db", B().guid(kShim).raw(cert).b));
  EXPECT_THAT(d.summary, HasSubstr(": certificate Shim Signer"));
  EXPECT_EQ(d.details["signature_owner"], kShim);
  d = decode(et::kEfiVariableAuthority, variable(kShim, u"Shim", cert));
  EXPECT_EQ(d.details["certificate_subject"], "Shim Signer");
  d = decode(et::kEfiVariableAuthority, variable(kShim, u"SbatLevel", B().ascii("sbat,1\n").b));
  EXPECT_THAT(d.summary, HasSubstr(": sbat,1\\n"));
  d = decode(et::kEfiVariableAuthority, variable(kShim, u"MokListTrusted", {1}));
  EXPECT_THAT(d.summary, HasSubstr(": enabled"));
}

TEST(EventDecodeVariable, Utf16NamesHandleSurrogates) {
  auto d = decode(et::kEfiVariableBoot, variable(kGlobal, u"A\U0001F600", {}));
  EXPECT_EQ(d.details["variable_name"], "A\xF0\x9F\x98\x80");
  EXPECT_TRUE(d.problems.empty());
  Bytes lone = B().guid(kGlobal).u64(2).u64(0).u16('A').u16(0xD800).b;
  d = decode(et::kEfiVariableBoot, lone);
  EXPECT_EQ(d.details["variable_name"], "A\xEF\xBF\xBD");
  ASSERT_FALSE(d.problems.empty());
  EXPECT_THAT(d.problems[0], HasSubstr("UTF-16"));
}

TEST(EventDecodeVariable, LengthsBeyondTheDataAreProblems) {
  Bytes huge_name = B().guid(kGlobal).u64(UINT64_MAX).u64(0).b;
  auto d = decode(et::kEfiVariableBoot, huge_name);
  EXPECT_FALSE(d.problems.empty());
  Bytes huge_data = B().guid(kGlobal).u64(1).u64(UINT64_MAX).u16('X').b;
  d = decode(et::kEfiVariableBoot, huge_data);
  EXPECT_FALSE(d.problems.empty());
  EXPECT_EQ(d.details["variable_name"], "X");
}

// ---- images, blobs, tables, GPT ----

TEST(EventDecodeImage, ShowsDevicePathAndSize) {
  B path = cat({pci_root(0), pci(0x17, 0), sata(), hd(1), file(u"\\vmlinuz-linux"), end_node()});
  auto d = decode(et::kEfiBootServicesApplication, image_load(path));
  EXPECT_EQ(d.summary, "Image PciRoot(0x0)/Pci(0x17,0x0)/Sata(0x0,0xffff,0x0)/" + kHdText +
                           "/\\vmlinuz-linux (96725 bytes at 0xb616b018)");
  EXPECT_EQ(d.details["image_length"], 96725);
  EXPECT_TRUE(d.problems.empty());
  d = decode(et::kEfiBootServicesDriver, image_load(B()));
  EXPECT_EQ(d.summary, "Image (96725 bytes at 0xb616b018)");
  Bytes lying = image_load(path);
  lying[24] = 0xFF;  // LengthOfDevicePath past the end
  d = decode(et::kEfiRuntimeServicesDriver, lying);
  EXPECT_FALSE(d.problems.empty());
  EXPECT_THAT(d.summary, HasSubstr("\\vmlinuz-linux"));
}

TEST(EventDecodeFirmware, BlobsAndPostCodes) {
  auto d = decode(et::kEfiPlatformFirmwareBlob, B().u64(0x820000).u64(917504).b);
  EXPECT_EQ(d.summary, "Firmware blob at 0x820000 (917504 bytes)");
  d = decode(et::kEfiPlatformFirmwareBlob2, B().u8(4).ascii("DXE").u8(0).u64(0xff000000).u64(16).b);
  EXPECT_EQ(d.summary, "Firmware blob \"DXE\" at 0xff000000 (16 bytes)");
  EXPECT_EQ(d.details["description"], "DXE");
  d = decode(et::kPostCode, B().u64(0xff130000).u64(0xa7f000).b);
  EXPECT_EQ(d.details["blob_base"], 0xff130000u);
  d = decode(et::kPostCode, B().ascii("POST CODE").b);
  EXPECT_EQ(d.summary, "POST CODE");
  d = decode(et::kEfiPlatformFirmwareBlob, B().u64(1).b);
  EXPECT_FALSE(d.problems.empty());
}

TEST(EventDecodeFirmware, HandoffTables) {
  Bytes t = B().u64(2)
                .guid("eb9d2d31-2d88-11d3-9a16-0090273fc14d")
                .u64(0x7f000)
                .guid(kDiskGuid)
                .u64(0x1000)
                .b;
  auto d = decode(et::kEfiHandoffTables, t);
  EXPECT_EQ(d.summary, std::string("Handoff tables: 2 tables (SMBIOS table, ") + kDiskGuid + ")");
  EXPECT_EQ(d.details["tables"][1]["vendor_guid"], kDiskGuid);
  d = decode(et::kEfiHandoffTables, B().u64(1000).b);
  EXPECT_FALSE(d.problems.empty());
}

TEST(EventDecodeGpt, DiskGuidAndPartitionNames) {
  B gpt;
  gpt.ascii("EFI PART").u32(0x10000).u32(92).u32(0).u32(0).u64(1).u64(2).u64(34).u64(1000);
  gpt.guid(kDiskGuid).u64(2).u32(128).u32(128).u32(0);
  gpt.u64(1);
  gpt.guid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b").guid(kShim).u64(2048).u64(4095).u64(0);
  B name;
  name.utf16(u"EFI System").zeros(72 - 20);
  gpt.raw(name.b);
  auto d = decode(et::kEfiGptEvent, gpt.b);
  EXPECT_EQ(d.summary, std::string("GPT disk ") + kDiskGuid + ", 1 partition: \"EFI System\"");
  EXPECT_EQ(d.details["partitions"][0]["type_name"], "EFI System");
  EXPECT_TRUE(d.problems.empty());
}

// ---- text events ----

TEST(EventDecodeText, IplAsciiAndUtf16) {
  auto d = decode(et::kIpl, B().ascii("grub_cmd: linux /vmlinuz ro").u8(0).b);
  EXPECT_EQ(d.summary, "grub_cmd: linux /vmlinuz ro");
  EXPECT_EQ(d.details["kind"], "grub_cmd");
  EXPECT_EQ(d.details["value"], "linux /vmlinuz ro");
  d = decode(et::kIpl, B().ascii("kernel_cmdline: /boot/vmlinuz root=/dev/sda").b);
  EXPECT_EQ(d.details["kind"], "kernel_cmdline");
  d = decode(et::kIpl, B().utf16(u"initrd=\\initrd console=ttyS0").u16(0).b);
  EXPECT_EQ(d.summary, "initrd=\\initrd console=ttyS0");
  EXPECT_EQ(d.details["encoding"], "utf-16le");
  d = decode(et::kIpl, B().utf16(u"quiet").u8(0).b);  // odd size (old systemd-boot)
  EXPECT_EQ(d.summary, "quiet");
  d = decode(et::kIpl, Bytes{0x01, 0x02, 0xff});
  EXPECT_EQ(d.summary, "0102ff (3 bytes)");
}

TEST(EventDecodeText, SeparatorActionsVersionsTagsAndOthers) {
  EXPECT_EQ(decode(et::kSeparator, B().u32(0).b).summary, "Separator (normal)");
  EXPECT_EQ(decode(et::kSeparator, B().u32(0xFFFFFFFF).b).summary, "Separator (error)");
  EXPECT_FALSE(decode(et::kSeparator, B().u16(0).b).problems.empty());
  EXPECT_FALSE(decode(et::kSeparator, B().u32(7).b).problems.empty());
  EXPECT_EQ(decode(et::kEfiAction, B().ascii("Exit Boot Services Invocation").b).summary,
            "Exit Boot Services Invocation");
  EXPECT_EQ(decode(et::kAction, B().ascii("Start Option ROM Scan").b).summary,
            "Start Option ROM Scan");
  EXPECT_FALSE(decode(et::kEfiAction, Bytes{0x80, 0x81}).problems.empty());
  EXPECT_EQ(decode(et::kSCrtmVersion, B().utf16(u"GCE Virtual Firmware v1").u16(0).b).summary,
            "GCE Virtual Firmware v1");
  EXPECT_EQ(decode(et::kSCrtmVersion, Bytes{0, 0}).summary, "S-CRTM version (empty)");
  EXPECT_EQ(decode(et::kSCrtmVersion, B().guid(kShim).b).summary,
            std::string("S-CRTM version {") + kShim + "}");
  auto d = decode(et::kEventTag, B().u32(0x8f3b22ec).u32(13).ascii("Linux initrd").u8(0).b);
  EXPECT_EQ(d.summary, "Tag 0x8f3b22ec: Linux initrd");
  EXPECT_EQ(d.details["tag_id"], 0x8f3b22ec);
  EXPECT_FALSE(decode(et::kEventTag, B().u32(1).u32(99).b).problems.empty());
  EXPECT_EQ(decode(et::kCompactHash, B().ascii("abc").b).summary, "abc");
  EXPECT_EQ(decode(et::kCompactHash, Bytes{0xde, 0xad}).summary, "dead (2 bytes)");
  EXPECT_EQ(decode(0x12345, B().ascii("line\nnext").b).summary, "line\\nnext");
  EXPECT_EQ(decode(0x12345, Bytes(40, 0xEE)).summary, std::string(64, 'e') + "... (40 bytes)");
}

// ---- EV_NO_ACTION ----

B signature(std::string_view sig) {
  B b;
  b.ascii(sig).zeros(16 - sig.size());
  return b;
}

TEST(EventDecodeNoAction, SpecIdAndStartupLocality) {
  B spec = signature("Spec ID Event03");
  spec.u32(0).u8(0).u8(2).u8(0).u8(2).u32(2).u16(0x0004).u16(20).u16(0x000B).u16(32).u8(0);
  auto d = decode(et::kNoAction, spec.b);
  EXPECT_EQ(d.summary, "Spec ID Event03: spec 2.0 errata 0, algorithms sha1, sha256");
  EXPECT_EQ(d.details["algorithms"][1]["digest_size"], 32);
  EXPECT_TRUE(d.problems.empty());
  d = decode(et::kNoAction, signature("StartupLocality").u8(3).b);
  EXPECT_EQ(d.summary, "StartupLocality: locality 3");
  EXPECT_EQ(d.details["startup_locality"], 3);
}

TEST(EventDecodeNoAction, Sp800_155ReferenceManifestIds) {
  B ev = signature("SP800-155 Event2");
  ev.u32(343).guid(kShim);
  ev.u8(6).ascii("Intel").u8(0).u8(5).ascii("S2600").u8(2).ascii("1").u8(0);
  ev.u8(4).ascii("AMI").u8(0).u32(2).u8(6).ascii("5.0.12").b;
  auto d = decode(et::kNoAction, ev.b);
  EXPECT_EQ(d.summary, std::string("SP800-155 Event2: manufacturer id 343, manifest ") + kShim +
                           ", platform \"Intel S2600 1\", firmware \"AMI 5.0.12\"");
  EXPECT_EQ(d.details["firmware_manufacturer_id"], 2);
  EXPECT_TRUE(d.problems.empty());
  B ev3 = signature("SP800-155 Event3");
  ev3.u32(1).guid(kShim).u8(0).u8(0).u8(0).u8(0).u32(0).u8(0);
  ev3.u32(1).u32(10).ascii("http://rim").u32(2).u32(0);
  d = decode(et::kNoAction, ev3.b);
  EXPECT_EQ(d.details["rim_locator"], "http://rim");
  EXPECT_TRUE(d.problems.empty());
  d = decode(et::kNoAction, signature("SP800-155 Event2").u32(1).guid(kShim).u8(200).b);
  EXPECT_FALSE(d.problems.empty());
}

TEST(EventDecodeNoAction, NvIndexEventsAndUnknownSignatures) {
  auto d = decode(et::kNoAction, signature("NvIndexInstance").u16(1).zeros(6).zeros(10).b);
  EXPECT_EQ(d.summary, "NvIndexInstance: version 1, 10 bytes of data");
  B dyn = signature("NvIndexDynamic");
  dyn.u16(1).zeros(6).u64(42).u16(4).ascii("desc").u16(2).u16(0);
  d = decode(et::kNoAction, dyn.b);
  EXPECT_EQ(d.summary, "NvIndexDynamic: version 1, \"desc\", 2 bytes of data");
  EXPECT_EQ(d.details["uid"], 42);
  EXPECT_TRUE(d.problems.empty());
  d = decode(et::kNoAction, Bytes(20, 0x99));
  EXPECT_THAT(d.summary, HasSubstr("No action: 9999"));
}

// ---- robustness ----

struct Sample {
  std::uint32_t type;
  Bytes data;
  std::size_t min_prefix;  // shorter prefixes may decode as something else
};

std::vector<Sample> samples() {
  Bytes cert = make_cert("Sample");
  B path = cat({pci_root(0), pci(1, 1), sata(), hd(1), file(u"\\EFI\\x.efi"), end_node()});
  Bytes option =
      B().u32(1).u16(static_cast<std::uint16_t>(path.size())).utf16(u"Linux").u16(0).raw(path.b).b;
  B gpt;
  gpt.ascii("EFI PART").zeros(48).guid(kDiskGuid).u64(2).u32(1).u32(128).u32(0).u64(1).zeros(128);
  B spec = signature("Spec ID Event03");
  spec.u32(0).u8(0).u8(2).u8(0).u8(2).u32(1).u16(0x000B).u16(32).u8(0);
  B sp = signature("SP800-155 Event3");
  sp.u32(1).guid(kShim).u8(1).u8(0).u8(0).u8(0).u8(0).u32(0).u8(0).u32(1).u32(1).u8('x').u32(0).u32(
      0);
  return {
      {et::kEfiVariableDriverConfig, variable(kImageDb, u"db", signature_list(kX509, {cert})), 0},
      {et::kEfiVariableBoot, variable(kGlobal, u"Boot0000", option), 0},
      {et::kEfiVariableBoot, variable(kGlobal, u"BootOrder", {1, 0}), 0},
      {et::kEfiVariableAuthority, variable(kShim, u"Shim", cert), 0},
      {et::kEfiBootServicesApplication, image_load(path), 0},
      {et::kEfiPlatformFirmwareBlob2, B().u8(2).ascii("ab").u64(1).u64(2).b, 0},
      {et::kEfiHandoffTables2, B().u8(1).ascii("t").u64(1).guid(kGlobal).u64(5).b, 0},
      {et::kEfiGptEvent, gpt.b, 0},
      {et::kNoAction, spec.b, 16},
      {et::kNoAction, sp.b, 16},
      {et::kNoAction, signature("StartupLocality").u8(0).b, 16},
      {et::kSeparator, B().u32(0).b, 0},
  };
}

TEST(EventDecodeRobustness, EveryTruncationIsAProblemNotACrash) {
  for (const Sample& s : samples()) {
    auto full = decode(s.type, s.data);
    EXPECT_TRUE(full.problems.empty()) << full.summary << ": " << full.problems.front();
    for (std::size_t n = s.min_prefix; n < s.data.size(); ++n) {
      Bytes prefix(s.data.begin(), s.data.begin() + static_cast<std::ptrdiff_t>(n));
      auto d = decode(s.type, prefix);
      EXPECT_FALSE(d.problems.empty()) << "type " << s.type << " prefix " << n << ": " << d.summary;
      EXPECT_FALSE(d.summary.empty());
    }
  }
}

TEST(EventDecodeRobustness, GarbageNeverCrashes) {
  std::mt19937 rng(1234);
  const std::uint32_t types[] = {et::kEfiVariableDriverConfig,
                                 et::kEfiVariableAuthority,
                                 et::kEfiBootServicesApplication,
                                 et::kEfiGptEvent,
                                 et::kEfiHandoffTables,
                                 et::kEfiPlatformFirmwareBlob2,
                                 et::kNoAction,
                                 et::kIpl,
                                 et::kEventTag,
                                 et::kSCrtmVersion,
                                 et::kPostCode2,
                                 0x7777};
  for (const Sample& s : samples()) {
    for (int round = 0; round < 200; ++round) {
      Bytes mutated = s.data;
      for (int k = 0; k < 4 && !mutated.empty(); ++k) {
        mutated[rng() % mutated.size()] = static_cast<std::uint8_t>(rng());
      }
      (void)decode(s.type, mutated);
      (void)decode(types[rng() % std::size(types)], mutated);
    }
  }
  for (int round = 0; round < 500; ++round) {
    Bytes junk(rng() % 200);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    for (std::uint32_t t : types) (void)decode(t, junk);
  }
}

// ---- real logs ----

std::vector<DecodedEvent> decode_log(const std::string& name, EventLog& keep) {
  auto path = concierge::testing::vector_path("tpm/eventlog/" + name);
  if (path.empty()) return {};
  auto log = parse_event_log(concierge::testing::read_file(path));
  if (!log) return {};
  keep = std::move(*log);
  std::vector<DecodedEvent> out;
  for (const Event& e : keep.events) {
    DecodedEvent d = decode_event(e);
    EXPECT_TRUE(d.details.is_object());
    EXPECT_NO_THROW((void)d.details.dump()) << name << " event " << e.index;
    EXPECT_FALSE(d.summary.empty()) << name << " event " << e.index;
    EXPECT_EQ(d.summary.find('\n'), std::string::npos);
    out.push_back(std::move(d));
  }
  return out;
}

bool any_summary(const std::vector<DecodedEvent>& events, const std::string& needle) {
  for (const auto& d : events) {
    if (d.summary.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(EventDecodeVectors, ArchLinuxBootOrderAndSystemdBoot) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/eventlog/arch-linux.bin");
  EventLog log;
  auto events = decode_log("arch-linux.bin", log);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(any_summary(events, "EFI variable BootOrder {" + std::string(kGlobal) +
                                      "} (6 bytes): Boot0000, Boot0003, Boot0002"));
  EXPECT_TRUE(any_summary(events, "\"Linux Boot Manager\" active HD(1,GPT,"));
  EXPECT_TRUE(any_summary(events, "/Sata(0x1,0xffff,0x0)/HD(1,GPT,"));
  EXPECT_TRUE(any_summary(events, "\\EFI\\SYSTEMD\\SYSTEMD-BOOTX64.EFI ("));
  EXPECT_TRUE(any_summary(events, "EFI variable db {" + std::string(kImageDb) + "}"));
  EXPECT_TRUE(any_summary(events, "Microsoft Corporation UEFI CA 2011"));
  EXPECT_TRUE(any_summary(events, "Spec ID Event03: spec 2.0 errata 0, algorithms sha1, sha256"));
  EXPECT_TRUE(any_summary(events, "initrd="));  // systemd-boot's UTF-16 command line
}

TEST(EventDecodeVectors, SdBootKernelCommandLine) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/eventlog/sd-boot-fedora37.bin");
  EventLog log;
  auto events = decode_log("sd-boot-fedora37.bin", log);
  ASSERT_FALSE(events.empty());
  bool found = false;
  for (std::size_t k = 0; k < events.size(); ++k) {
    if (log.events[k].type == et::kIpl &&
        events[k].details.value("text", "").find("console=ttyS0") != std::string::npos) {
      found = events[k].details["encoding"] == "utf-16le";
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(any_summary(events, "Tag 0x8f3b22ec: Linux initrd"));
}

TEST(EventDecodeVectors, GceUbuntuGrubCommands) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/eventlog/gce-ubuntu-2104-log.bin");
  EventLog log;
  auto events = decode_log("gce-ubuntu-2104-log.bin", log);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(any_summary(events, "grub_cmd: "));
  EXPECT_TRUE(any_summary(events, "kernel_cmdline: /boot/vmlinuz-"));
  EXPECT_TRUE(any_summary(events, "GCE Virtual Firmware v1"));
  EXPECT_TRUE(any_summary(events, "\\EFI\\ubuntu\\shimx64.efi"));
  EXPECT_TRUE(any_summary(events, "EFI variable SbatLevel"));
}

TEST(EventDecodeVectors, EveryLogDecodesWithoutCrashing) {
  CONCIERGE_REQUIRE_VECTOR(dir, "tpm/eventlog");
  std::size_t decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    EventLog log;
    decoded += decode_log(entry.path().filename().string(), log).size();
  }
  EXPECT_GT(decoded, 100u);
}

TEST(EventDecodeVectors, KeylimeStartupLocalityAndNvme) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/eventlog/keylime-bios.bin");
  EventLog log;
  auto events = decode_log("keylime-bios.bin", log);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(any_summary(events, "StartupLocality: locality 3"));
  EXPECT_TRUE(any_summary(events, "/NVMe(0x1,"));
  EXPECT_TRUE(any_summary(events, "Handoff tables: 1 table (SMBIOS3 table)"));
}

}  // namespace
}  // namespace concierge::measure
