#include "tc/launch/qemu_args.h"

#include <gtest/gtest.h>

namespace tc::launch {
namespace {

std::vector<std::string> Args(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

std::string Summary(const QemuCommand& c) {
  std::string out;
  for (const LaunchInput& in : c.inputs) {
    out += std::string(InputKindName(in.kind)) + "=" + in.value + (in.read_only ? "(ro)" : "") + " ";
  }
  return out;
}

TEST(QemuArgsTest, FindsWhatAnOvmfGuestLoads) {
  // The shape of ../shared/reference/real-vm-measured-boot.sh's command.
  const auto argv = Args({"qemu-system-x86_64", "-machine", "q35", "-m", "512", "-smp", "1",
                          "-nodefaults", "-nographic", "-no-user-config", "-drive",
                          "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                          "-drive", "if=pflash,format=raw,unit=1,file=/vm/ovmf-vars.fd", "-chardev",
                          "socket,id=chrtpm,path=/vm/swtpm.ctrl", "-tpmdev",
                          "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0",
                          "-serial", "file:/vm/console.log", "-drive",
                          "file=/vm/disk.img,format=raw,if=virtio", "-action",
                          "reboot=shutdown,shutdown=pause"});
  auto c = ParseQemuCommand(argv);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c),
            "firmware-code=/usr/share/OVMF/OVMF_CODE_4M.fd(ro) firmware-vars=/vm/ovmf-vars.fd "
            "disk=/vm/disk.img ");
  EXPECT_EQ(c->inputs[0].arg, 10u);  // the -drive option
}

TEST(QemuArgsTest, DirectKernelBoot) {
  auto c = ParseQemuCommand(Args({"qemu", "-bios", "/fw/OVMF.fd", "--kernel", "/b/vmlinuz",
                                  "-initrd", "/b/initrd.img", "-append",
                                  "console=ttyS0 quiet mbtest.variant=A", "-enable-kvm"}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c),
            "firmware-code=/fw/OVMF.fd(ro) kernel=/b/vmlinuz(ro) initrd=/b/initrd.img(ro) "
            "cmdline=console=ttyS0 quiet mbtest.variant=A(ro) ");
}

TEST(QemuArgsTest, SubOptionsFollowQemuQuoting) {
  // ",," is a literal comma; the last repeated key wins; a drive without a
  // file is empty; pflash drives without units are code, then variables.
  auto c = ParseQemuCommand(Args({"qemu", "-drive", "file=/a,,b.img,format=raw,file=/c.img",
                                  "-drive", "if=ide,media=cdrom", "-drive", "if=pflash,file=/code",
                                  "-drive", "if=pflash,file=/vars", "-hda", "/h.img", "-cdrom",
                                  "/cd.iso", "-blockdev",
                                  "driver=file,node-name=f0,filename=/q.qcow2,read-only=on",
                                  "-blockdev", "driver=qcow2,node-name=q0,file=f0", "/lone.img"}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c),
            "disk=/c.img firmware-code=/code firmware-vars=/vars disk=/h.img disk=/cd.iso(ro) "
            "disk=/q.qcow2(ro) disk=/lone.img ");
  auto comma = ParseQemuCommand(Args({"qemu", "-drive", "file=/a,,b.img"}));
  ASSERT_TRUE(comma.has_value());
  EXPECT_EQ(comma->inputs.at(0).value, "/a,b.img");
}

TEST(QemuArgsTest, RefusesWhatItCannotMeasureNamingTheArgument) {
  struct Case {
    std::vector<std::string> argv;
    std::string want;
  };
  const std::vector<Case> cases = {
      {Args({"qemu", "-frobnicate", "x"}), "argument 1: unknown QEMU option '-frobnicate'"},
      {Args({"qemu", "-m", "512", "-kernel"}), "argument 3: '-kernel' needs an argument"},
      {Args({"qemu", "-drive", "file=nbd:host:10809,format=raw"}), "'nbd:' block protocol"},
      {Args({"qemu", "-drive", "file=json:{\"driver\":\"http\"}"}), "'json:' block protocol"},
      {Args({"qemu", "-blockdev", "driver=nbd,filename=x"}), "-blockdev driver 'nbd'"},
      {Args({"qemu", "-blockdev", "{\"driver\":\"file\"}"}), "JSON -blockdev"},
      {Args({"qemu", "-readconfig", "vm.cfg"}), "argument 1: -readconfig"},
      {Args({"qemu", "-kernel", ""}), "argument 1: empty file name"},
      {Args({}), "empty QEMU command line"},
  };
  for (const Case& c : cases) {
    auto r = ParseQemuCommand(c.argv);
    ASSERT_FALSE(r.has_value()) << c.want;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.want), std::string::npos) << r.error().message();
  }
}

TEST(QemuArgsTest, PathsWithColonsThatAreNotProtocolsAreFiles) {
  auto c = ParseQemuCommand(Args({"qemu", "-kernel", "/boot/a:b", "-hda", "disk:1.img"}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c), "kernel=/boot/a:b(ro) disk=disk:1.img ");
}

TEST(QemuArgsTest, DeviceRomsAndTheGenericLoaderAreMeasured) {
  auto c = ParseQemuCommand(Args({"qemu", "-device", "virtio-net-pci,netdev=n0,romfile=/vm/efi-virtio.rom",
                                  "-device", "loader,file=/vm/blob.bin,addr=0x1000", "-device",
                                  "virtio-net-pci,romfile=", "-device", "tpm-tis,tpmdev=t"}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c), "firmware-code=/vm/efi-virtio.rom(ro) firmware-code=/vm/blob.bin(ro) ");
}

TEST(QemuArgsTest, WhatCannotBeMeasuredIsRefusedOrNoted) {
  auto incoming = ParseQemuCommand(Args({"qemu", "-incoming", "file:/vm/state"}));
  ASSERT_FALSE(incoming.has_value());
  EXPECT_NE(incoming.error().message().find("-incoming"), std::string::npos);
  auto c = ParseQemuCommand(Args({"qemu", "-drive", "file.filename=/vm/a.qcow2,format=qcow2",
                                  "-object", "memory-backend-file,id=m,mem-path=/dev/hugepages",
                                  "-mem-path", "/dev/hugepages"}));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(Summary(*c), "disk=/vm/a.qcow2 ");
  ASSERT_EQ(c->notes.size(), 3u);
  EXPECT_NE(c->notes[0].find("qcow2 image: files its header names"), std::string::npos);
  EXPECT_NE(c->notes[1].find("memory-backend-file"), std::string::npos);
  EXPECT_NE(c->notes[2].find("-mem-path"), std::string::npos);
}

}  // namespace
}  // namespace tc::launch
