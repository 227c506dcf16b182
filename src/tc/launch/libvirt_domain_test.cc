#include "tc/launch/libvirt_domain.h"

#include <chrono>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tc::launch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Result<LibvirtDomain> Parse(std::string_view xml) {
  return ParseLibvirtDomain(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(xml.data()), xml.size()));
}

// "kind=value(ro)@line" per input, as the launcher would see them.
std::vector<std::string> Summary(const LibvirtDomain& d) {
  std::vector<std::string> out;
  for (const LaunchInput& in : d.inputs) {
    out.push_back(std::string(InputKindName(in.kind)) + "=" + in.value +
                  (in.read_only ? "(ro)" : "") + "@" + std::to_string(in.arg));
  }
  return out;
}

// A UEFI guest as virt-install writes it (libvirt formatdomain.html,
// "BIOS bootloader" and "Hard drives, floppy disks, CDROMs"): OVMF with
// Secure Boot, a variable store made from a template, a qcow2 system disk,
// a raw data disk, an installer CD-ROM and an empty second CD-ROM drive.
constexpr std::string_view kUefiGuest = R"(<domain type='kvm'>
  <name>web01</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='KiB'>2097152</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>/var/lib/libvirt/qemu/nvram/web01_VARS.fd</nvram>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <smm state='on'/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web01.qcow2'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/web01-data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/debian-12.5.0-amd64-netinst.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>
  </devices>
</domain>
)";

TEST(LibvirtDomainTest, ReadsUefiGuestWithNvramTemplateDisksAndCdrom) {
  auto d = Parse(kUefiGuest);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->name, "web01");
  EXPECT_EQ(d->uuid, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
  EXPECT_EQ(d->type, "kvm");
  EXPECT_THAT(Summary(*d),
              ElementsAre("firmware-code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd(ro)@8",
                          "firmware-vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd@9",
                          "disk=/var/lib/libvirt/images/web01.qcow2@21",
                          "disk=/var/lib/libvirt/images/web01-data.img@27",
                          "disk=/var/lib/libvirt/images/debian-12.5.0-amd64-netinst.iso(ro)@32"));
  EXPECT_THAT(
      d->notes,
      ElementsAre("firmware variables: the template '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' is "
                  "measured; the per-VM store '/var/lib/libvirt/qemu/nvram/web01_VARS.fd' is "
                  "created from it on first start and then written by the guest",
                  "disk 'vda' is writable: its digest changes as the guest runs",
                  "disk 'vdb' is writable: its digest changes as the guest runs"));
}

// "Direct kernel boot": SeaBIOS named as a rom loader (read-only by
// default), then kernel, initrd and command line.
TEST(LibvirtDomainTest, ReadsDirectKernelBoot) {
  constexpr std::string_view kXml = R"(<?xml version="1.0" encoding="UTF-8"?>
<domain type='qemu'>
  <name>f38-installer</name>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <loader>/usr/share/seabios/bios-256k.bin</loader>
    <kernel>/var/lib/libvirt/boot/vmlinuz-6.1.0-18-amd64</kernel>
    <initrd>/var/lib/libvirt/boot/initrd.img-6.1.0-18-amd64</initrd>
    <cmdline>console=ttyS0 root=/dev/vda1 ro quiet &amp; more</cmdline>
  </os>
  <devices>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg0/f38-root'/>
      <target dev='vda' bus='virtio'/>
      <transient/>
    </disk>
  </devices>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->name, "f38-installer");
  EXPECT_EQ(d->uuid, "");
  EXPECT_EQ(d->type, "qemu");
  EXPECT_THAT(Summary(*d),
              ElementsAre("firmware-code=/usr/share/seabios/bios-256k.bin(ro)@6",
                          "kernel=/var/lib/libvirt/boot/vmlinuz-6.1.0-18-amd64(ro)@7",
                          "initrd=/var/lib/libvirt/boot/initrd.img-6.1.0-18-amd64(ro)@8",
                          "cmdline=console=ttyS0 root=/dev/vda1 ro quiet & more(ro)@9",
                          "disk=/dev/vg0/f38-root(ro)@14"));
  EXPECT_THAT(d->notes, IsEmpty());
}

TEST(LibvirtDomainTest, EmptyCmdlineIsPresent) {
  auto d = Parse(R"(<domain type='kvm'><name>k</name><os><loader>/fw/bios.bin</loader>
<kernel>/boot/vmlinuz</kernel><cmdline/></os></domain>)");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/fw/bios.bin(ro)@1",
                                       "kernel=/boot/vmlinuz(ro)@2", "cmdline=(ro)@2"));
}

TEST(LibvirtDomainTest, ReadsBackingChainReadOnly) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>ci-runner-17</name>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/ci-runner-17_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/ci-runner-17.qcow2' index='3'/>
      <backingStore type='file' index='2'>
        <format type='qcow2'/>
        <source file='/var/lib/libvirt/images/debian-12-golden.qcow2'/>
        <backingStore type='block' index='1'>
          <format type='raw'/>
          <source dev='/dev/mapper/base-image'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d),
              ElementsAre("firmware-code=/usr/share/OVMF/OVMF_CODE_4M.fd(ro)@5",
                          "firmware-vars=/var/lib/libvirt/qemu/nvram/ci-runner-17_VARS.fd@6",
                          "disk=/var/lib/libvirt/images/ci-runner-17.qcow2@11",
                          "disk=/var/lib/libvirt/images/debian-12-golden.qcow2(ro)@14",
                          "disk=/dev/mapper/base-image(ro)@17"));
  EXPECT_THAT(d->notes,
              ElementsAre("firmware variable store "
                          "'/var/lib/libvirt/qemu/nvram/ci-runner-17_VARS.fd' is written by the "
                          "guest: its digest changes as the guest runs",
                          "disk 'vda' is writable: its digest changes as the guest runs"));
}

TEST(LibvirtDomainTest, NotesQcow2WithoutBackingStoreInXml) {
  auto d = Parse(R"(<domain type='kvm'><name>n</name><os><loader>/fw/bios.bin</loader></os>
<devices><disk type='file'><driver name='qemu' type='qcow2'/><source file='/i/a.qcow2'/>
<target dev='vda'/><readonly/></disk></devices></domain>)");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/fw/bios.bin(ro)@1", "disk=/i/a.qcow2(ro)@2"));
  EXPECT_THAT(d->notes, ElementsAre(HasSubstr("disk 'vda': the XML does not end its backing "
                                              "chain after the 'qcow2' image of the disk")));
}

TEST(LibvirtDomainTest, ReadonlyTransientAndWritableDisks) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>db02</name>
  <os><loader type='rom'>/usr/share/seabios/bios.bin</loader></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/srv/vm/db02-os.img'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/srv/vm/db02-scratch.img'/>
      <target dev='vdb' bus='virtio'/>
      <transient/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/srv/vm/db02-data.img'/>
      <target dev='vdc' bus='virtio'/>
      <shareable/>
    </disk>
    <disk type='file' device='floppy'>
      <source file='/srv/vm/drivers.flp'/>
      <target dev='fda' bus='fdc'/>
    </disk>
  </devices>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/usr/share/seabios/bios.bin(ro)@3",
                                       "disk=/srv/vm/db02-os.img(ro)@6",
                                       "disk=/srv/vm/db02-scratch.img(ro)@11",
                                       "disk=/srv/vm/db02-data.img@16",
                                       "disk=/srv/vm/drivers.flp@21"));
  EXPECT_THAT(d->notes, ElementsAre("disk 'vdc' is writable: its digest changes as the guest runs",
                                    "disk 'fda' is writable: its digest changes as the guest runs"));
}

TEST(LibvirtDomainTest, WritablePflashLoaderIsNoted) {
  auto d = Parse(R"(<domain type='kvm'><name>w</name><os>
<loader type='pflash'>/fw/CODE.fd</loader><nvram template='/fw/VARS.fd'/></os></domain>)");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/fw/CODE.fd@2", "firmware-vars=/fw/VARS.fd@2"));
  ASSERT_EQ(d->notes.size(), 2u);
  EXPECT_THAT(d->notes[0], HasSubstr("writable pflash"));
  EXPECT_THAT(d->notes[1], HasSubstr("(libvirt's default path)"));
}

TEST(LibvirtDomainTest, NvramSourceElement) {
  auto d = Parse(R"(<domain type='kvm'><name>w</name><os>
<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader>
<nvram type='file'>
  <source file='/var/lib/libvirt/qemu/nvram/w_VARS.fd'/>
</nvram></os></domain>)");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/fw/CODE.fd(ro)@2",
                                       "firmware-vars=/var/lib/libvirt/qemu/nvram/w_VARS.fd@4"));
}

TEST(LibvirtDomainTest, OptionRomAcpiTableDtbAndFwCfgAreMeasured) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>appliance</name>
  <sysinfo type='fwcfg'>
    <entry name='opt/com.example/name'>appliance</entry>
    <entry name='opt/com.example/config' file='/etc/appliance/config.bin'/>
  </sysinfo>
  <os>
    <loader>/usr/share/seabios/bios.bin</loader>
    <dtb>/boot/appliance.dtb</dtb>
    <acpi>
      <table type='slic'>/etc/appliance/slic.dat</table>
    </acpi>
  </os>
  <devices>
    <interface type='network'>
      <source network='default'/>
      <rom file='/usr/share/ipxe/custom.rom'/>
    </interface>
    <hostdev mode='subsystem' type='pci'>
      <rom bar='off'/>
    </hostdev>
  </devices>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("disk=/etc/appliance/config.bin(ro)@5",
                                       "firmware-code=/usr/share/seabios/bios.bin(ro)@8",
                                       "disk=/boot/appliance.dtb(ro)@9",
                                       "disk=/etc/appliance/slic.dat(ro)@11",
                                       "firmware-code=/usr/share/ipxe/custom.rom(ro)@17"));
}

TEST(LibvirtDomainTest, NoLoaderMeansUnmeasuredDefaultFirmware) {
  auto d = Parse("<domain type='kvm'><name>plain</name><os><type>hvm</type></os></domain>");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(d->inputs, IsEmpty());
  EXPECT_THAT(d->notes, ElementsAre(HasSubstr("default firmware (SeaBIOS), which is not measured")));
}

TEST(LibvirtDomainTest, IgnoresOtherNamespacesAndUnrelatedElements) {
  // <metadata> holds other applications' elements; libvirt's own elements
  // have no namespace, so a namespaced <devices> or <disk> is not one.
  constexpr std::string_view kXml = R"(<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>meta</name>
  <metadata>
    <app:devices xmlns:app='http://example.com/app'>
      <app:disk type='network'/>
    </app:devices>
  </metadata>
  <qemu:capabilities>
    <qemu:del capability='usb-redir.filter'/>
  </qemu:capabilities>
  <os><loader>/fw/bios.bin</loader></os>
  <devices>
    <x:disk xmlns:x='urn:x' type='network'/>
    <controller type='usb' model='qemu-xhci'/>
  </devices>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_THAT(Summary(*d), ElementsAre("firmware-code=/fw/bios.bin(ro)@11"));
}

// ---- Refusals ----

void ExpectError(const Result<LibvirtDomain>& d, ErrorCode code, std::string_view text) {
  ASSERT_FALSE(d.has_value()) << "parsed, " << d->inputs.size() << " inputs";
  EXPECT_EQ(d.error().code(), code) << d.error().message();
  EXPECT_THAT(d.error().message(), HasSubstr(std::string(text)));
}

TEST(LibvirtDomainTest, RefusesNetworkDisk) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>ceph-guest</name>
  <os><loader>/fw/bios.bin</loader></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/boot.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='rbd' name='pool/image'>
        <host name='mon1.example.com' port='6789'/>
      </source>
      <target dev='vdb' bus='virtio'/>
    </disk>
  </devices>
</domain>
)";
  ExpectError(Parse(kXml), ErrorCode::kUnsupported,
              "line 9: disk 'vdb' is type='network': its data is not a local file or block "
              "device and cannot be measured before the guest runs");
}

TEST(LibvirtDomainTest, RefusesVolumeNvmeAndVhostuserDisks) {
  for (const char* type : {"volume", "nvme", "vhostuser", "dir", "vhostvdpa"}) {
    const std::string xml = std::string("<domain type='kvm'><name>v</name>\n<devices>\n<disk type='") +
                            type + "'><source pool='p' volume='v'/><target dev='sdc'/></disk>" +
                            "</devices></domain>";
    ExpectError(Parse(xml), ErrorCode::kUnsupported,
                std::string("line 3: disk 'sdc' is type='") + type + "'");
  }
}

TEST(LibvirtDomainTest, RefusesNetworkBackingStore) {
  auto d = Parse(R"(<domain type='kvm'><name>b</name><devices>
<disk type='file'><driver type='qcow2'/><source file='/i/top.qcow2'/>
<backingStore type='network'><format type='raw'/><source protocol='nbd' name='x'/></backingStore>
<target dev='vda'/></disk></devices></domain>)");
  ExpectError(d, ErrorCode::kUnsupported, "line 3: disk 'vda': a backingStore of type='network'");
}

TEST(LibvirtDomainTest, RefusesBackingChainDeeperThanLimit) {
  std::string xml = "<domain type='kvm'><name>deep</name><devices><disk type='file'>"
                    "<source file='/i/0.qcow2'/><target dev='vda'/>\n";
  for (std::size_t i = 1; i <= kMaxBackingChainDepth + 1; ++i) {
    xml += "<backingStore type='file'><format type='qcow2'/><source file='/i/" +
           std::to_string(i) + ".qcow2'/>\n";
  }
  for (std::size_t i = 1; i <= kMaxBackingChainDepth + 1; ++i) xml += "</backingStore>";
  xml += "</disk></devices></domain>";
  ExpectError(Parse(xml), ErrorCode::kUnsupported, "line 18: disk 'vda': backing chain deeper than 16");
  // Exactly the limit is fine.
  std::string ok = "<domain type='kvm'><name>deep</name><devices><disk type='file'>"
                   "<source file='/i/0.qcow2'/><target dev='vda'/><readonly/>\n";
  for (std::size_t i = 1; i <= kMaxBackingChainDepth; ++i) {
    ok += "<backingStore type='file'><format type='raw'/><source file='/i/" + std::to_string(i) +
          ".img'/>\n";
  }
  for (std::size_t i = 1; i <= kMaxBackingChainDepth; ++i) ok += "</backingStore>";
  ok += "</disk></devices></domain>";
  auto d = Parse(ok);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  ASSERT_EQ(d->inputs.size(), kMaxBackingChainDepth + 1);
  EXPECT_EQ(d->inputs.back().value, "/i/16.img");
  EXPECT_EQ(d->inputs.back().arg, 17u);
  EXPECT_TRUE(d->inputs.back().read_only);
}

TEST(LibvirtDomainTest, RefusesFirmwareAutoselectionWithoutLoaderPath) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>auto-efi</name>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware>
      <feature enabled='yes' name='secure-boot'/>
    </firmware>
  </os>
</domain>
)";
  ExpectError(Parse(kXml), ErrorCode::kInvalidArgument,
              "line 3: firmware autoselection (<os firmware='efi'> or a <loader> without a "
              "path): libvirt picks the firmware file only when the guest starts");
  // A <loader> with attributes but no path is autoselection too.
  ExpectError(Parse("<domain type='kvm'><name>a</name><os firmware='efi'>\n"
                    "<loader secure='yes'/></os></domain>"),
              ErrorCode::kInvalidArgument, "line 2: firmware autoselection");
}

TEST(LibvirtDomainTest, RefusesDoctype) {
  ExpectError(Parse("<?xml version='1.0'?>\n<!DOCTYPE domain SYSTEM \"file:///etc/passwd\">\n"
                    "<domain type='kvm'><name>x</name></domain>"),
              ErrorCode::kMalformed, "DTDs are not accepted");
  ExpectError(Parse("<!DOCTYPE domain>\n<domain type='kvm'><name>x</name></domain>"),
              ErrorCode::kMalformed, "line 1: DTDs are not accepted");
}

TEST(LibvirtDomainTest, RefusesExternalEntityWithoutReadingIt) {
  // XXE: were the entity substituted, the kernel path would come from a
  // host file.
  ExpectError(Parse(R"(<?xml version="1.0"?>
<!DOCTYPE domain [ <!ENTITY k SYSTEM "file:///etc/hostname"> ]>
<domain type='kvm'><name>x</name><os><kernel>/boot/&k;</kernel></os></domain>)"),
              ErrorCode::kMalformed, "DTDs are not accepted");
}

TEST(LibvirtDomainTest, RefusesBillionLaughsQuickly) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE domain [\n <!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 20; ++i) {
    xml += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) xml += "&lol" + std::to_string(i - 1) + ";";
    xml += "\">\n";
  }
  xml += "]>\n<domain type='kvm'><name>&lol20;</name></domain>\n";
  const auto start = std::chrono::steady_clock::now();
  auto d = Parse(xml);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ExpectError(d, ErrorCode::kMalformed, "DTDs are not accepted");
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
}

TEST(LibvirtDomainTest, RefusesUndefinedEntity) {
  ExpectError(Parse("<domain type='kvm'>\n<name>&lol;</name></domain>"), ErrorCode::kMalformed,
              "line 2, column");
}

TEST(LibvirtDomainTest, ReportsMalformedXmlWithLineAndColumn) {
  constexpr std::string_view kXml = R"(<domain type='kvm'>
  <name>broken</name>
  <os>
    <kernel>/boot/vmlinuz</kernl>
  </os>
</domain>
)";
  auto d = Parse(kXml);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), ErrorCode::kMalformed);
  // libxml2 gives the column just past the bad end tag.
  EXPECT_THAT(d.error().message(), HasSubstr("line 4, column 34: "));
  EXPECT_THAT(d.error().message(), HasSubstr("kernel"));
  ExpectError(Parse("<domain type='kvm'><name>x</name>"), ErrorCode::kMalformed, "line 1, column");
  ExpectError(Parse(""), ErrorCode::kMalformed, "empty domain XML");
  ExpectError(Parse("   "), ErrorCode::kMalformed, "line 1");
}

TEST(LibvirtDomainTest, RefusesOtherRootElement) {
  ExpectError(Parse("<network>\n<name>default</name></network>"), ErrorCode::kInvalidArgument,
              "line 1: the root element is 'network', not libvirt's <domain>");
  ExpectError(Parse("<domain xmlns='urn:evil' type='kvm'><name>x</name></domain>"),
              ErrorCode::kInvalidArgument, "namespace 'urn:evil'");
}

TEST(LibvirtDomainTest, RefusesMissingNameAndType) {
  ExpectError(Parse("<domain type='kvm'>\n<uuid>x</uuid></domain>"), ErrorCode::kInvalidArgument,
              "line 1: the domain has no <name>");
  ExpectError(Parse("<domain type='kvm'>\n<name></name></domain>"), ErrorCode::kInvalidArgument,
              "line 2: the domain has no <name>");
  ExpectError(Parse("<domain><name>x</name></domain>"), ErrorCode::kInvalidArgument,
              "<domain> has no type attribute");
}

TEST(LibvirtDomainTest, RefusesDomainTypesQemuDoesNotRun) {
  ExpectError(Parse("<domain type='xen'><name>x</name></domain>"), ErrorCode::kUnsupported,
              "domain type 'xen' is not run by QEMU");
  ExpectError(Parse("<domain type='lxc'><name>x</name></domain>"), ErrorCode::kUnsupported,
              "'lxc'");
}

TEST(LibvirtDomainTest, RefusesRelativeAndEmptyPaths) {
  ExpectError(Parse("<domain type='kvm'><name>r</name>\n<os>\n<kernel>boot/vmlinuz</kernel>"
                    "</os></domain>"),
              ErrorCode::kInvalidArgument, "line 3: <kernel> path 'boot/vmlinuz' is not absolute");
  ExpectError(Parse("<domain type='kvm'><name>r</name><os><loader>/fw</loader></os>\n<devices>\n"
                    "<disk type='file'>\n<source file='images/a.img'/><target dev='vda'/>"
                    "</disk></devices></domain>"),
              ErrorCode::kInvalidArgument,
              "line 4: disk 'vda' path 'images/a.img' is not absolute");
  ExpectError(Parse("<domain type='kvm'><name>r</name><os>\n<loader>/fw</loader>"
                    "<nvram template='OVMF_VARS.fd'/></os></domain>"),
              ErrorCode::kInvalidArgument, "line 2: <nvram template> path 'OVMF_VARS.fd'");
  ExpectError(Parse("<domain type='kvm'><name>r</name><os>\n<kernel>/boot/a</kernel>"
                    "<initrd> /boot/initrd</initrd></os></domain>"),
              ErrorCode::kInvalidArgument, "line 2: <initrd> path ' /boot/initrd' is not absolute");
  ExpectError(Parse("<domain type='kvm'><name>r</name><os>\n<kernel>/boot/a</kernel>"
                    "<initrd></initrd></os></domain>"),
              ErrorCode::kInvalidArgument, "line 2: <initrd> has an empty path");
}

TEST(LibvirtDomainTest, RefusesQemuCommandlinePassthrough) {
  constexpr std::string_view kXml = R"(<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>passthrough</name>
  <os><loader>/fw/bios.bin</loader></os>
  <qemu:commandline>
    <qemu:arg value='-option-rom'/>
    <qemu:arg value='/tmp/evil.rom'/>
  </qemu:commandline>
</domain>
)";
  ExpectError(Parse(kXml), ErrorCode::kUnsupported,
              "line 4: <qemu:commandline>: extra QEMU arguments could load files this check "
              "does not see");
  // Matched on the namespace, not the prefix.
  ExpectError(Parse("<domain type='kvm' xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'>"
                    "<name>p</name><q:override/></domain>"),
              ErrorCode::kUnsupported, "<qemu:override>");
}

TEST(LibvirtDomainTest, RefusesAmbiguousRepeats) {
  ExpectError(Parse("<domain type='kvm'><name>d</name><os>\n<kernel>/boot/a</kernel>\n"
                    "<kernel>/boot/b</kernel></os></domain>"),
              ErrorCode::kInvalidArgument, "line 3: <os> has a second <kernel> (the first is on line 2)");
  ExpectError(Parse("<domain type='kvm'><name>d</name>\n<name>e</name></domain>"),
              ErrorCode::kInvalidArgument, "line 2: <domain> has a second <name>");
  ExpectError(Parse("<domain type='kvm'><name>d</name><devices><disk type='file'>\n"
                    "<source file='/a'/>\n<source file='/b'/></disk></devices></domain>"),
              ErrorCode::kInvalidArgument, "line 3: <disk> has a second <source>");
  // Two attributes with one local name: libvirt's xmlGetProp ignores the
  // prefix, so which one it reads is not ours to guess.
  ExpectError(Parse("<domain type='kvm'><name>d</name><devices><disk type='file'>\n"
                    "<source xmlns:x='urn:x' x:file='/a' file='/b'/></disk></devices></domain>"),
              ErrorCode::kInvalidArgument, "line 2: <source> has attribute 'file' twice");
}

TEST(LibvirtDomainTest, RefusesUnknownAttributeValues) {
  ExpectError(Parse("<domain type='kvm'><name>d</name><os><loader type='flash'>/a</loader></os>"
                    "</domain>"),
              ErrorCode::kInvalidArgument, "<loader type='flash'>: expected 'rom' or 'pflash'");
  ExpectError(Parse("<domain type='kvm'><name>d</name><os><loader readonly='on'>/a</loader></os>"
                    "</domain>"),
              ErrorCode::kInvalidArgument, "<loader readonly='on'>: expected 'yes' or 'no'");
  ExpectError(Parse("<domain type='kvm'><name>d</name><os firmware='uefi'/></domain>"),
              ErrorCode::kInvalidArgument, "<os firmware='uefi'>");
  ExpectError(Parse("<domain type='kvm'><name>d</name><os><loader>/a</loader>"
                    "<nvram type='network'><source protocol='iscsi'/></nvram></os></domain>"),
              ErrorCode::kUnsupported, "<nvram type='network'>");
}

TEST(LibvirtDomainTest, RefusesOversizedInput) {
  std::string xml = "<domain type='kvm'><name>big</name><description>";
  xml.append(kMaxDomainXmlSize, 'a');
  xml += "</description></domain>";
  ExpectError(Parse(xml), ErrorCode::kInvalidArgument, "larger than the 16777216 byte limit");
}

TEST(LibvirtDomainTest, QuotesHostileValuesInMessages) {
  std::string xml = "<domain type='kvm'><name>q</name><os><kernel>rel&#10;path&#9;";
  xml.append(1000, 'x');
  xml += "</kernel></os></domain>";
  auto d = Parse(xml);
  ASSERT_FALSE(d.has_value());
  EXPECT_THAT(d.error().message(), HasSubstr("'rel\\x0apath\\x09xxx"));
  EXPECT_THAT(d.error().message(), HasSubstr("...' is not absolute"));
  EXPECT_LT(d.error().message().size(), 300u);
}

}  // namespace
}  // namespace tc::launch
