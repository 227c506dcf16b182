#include "tc/vm/spec.h"

#include <gtest/gtest.h>

#include "tc/base/hex.h"

namespace tc::vm {
namespace {

Result<Spec> Parse(std::string_view text) { return ParseSpec(AsBytes(text), "/srv/vm"); }

TEST(SpecTest, DirectKernelGuest) {
  auto s = Parse(
      "# test guest\n"
      "name = web1\n"
      "firmware = /usr/share/OVMF/OVMF_CODE_4M.fd\n"
      "firmware_vars = /usr/share/OVMF/OVMF_VARS_4M.fd\n"
      "kernel = vmlinuz\n"
      "initrd = initrd.cpio\r\n"
      "cmdline = console=ttyS0 a=b  quiet\n"
      "\n"
      "disk = data.img\n"
      "disk = /abs/more.img\n"
      "memory = 1024\n"
      "cpus = 2\n"
      "vtpm = off\n"
      "accel = tcg\n"
      "boot_timeout = 60\n");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->name, "web1");
  EXPECT_EQ(s->kernel, "/srv/vm/vmlinuz");
  EXPECT_EQ(s->initrd, "/srv/vm/initrd.cpio");
  EXPECT_EQ(s->cmdline, "console=ttyS0 a=b  quiet");
  EXPECT_TRUE(s->has_cmdline);
  ASSERT_EQ(s->disks.size(), 2u);
  EXPECT_EQ(s->disks[0], "/srv/vm/data.img");
  EXPECT_EQ(s->disks[1], "/abs/more.img");
  EXPECT_EQ(s->memory_mib, 1024u);
  EXPECT_EQ(s->cpus, 2u);
  EXPECT_FALSE(s->vtpm);
  EXPECT_EQ(s->accel, Accel::kTcg);
  EXPECT_EQ(s->boot_timeout, 60u);
}

TEST(SpecTest, ErrorsNameTheLine) {
  const std::string head = "name = a\nfirmware = f\nfirmware_vars = v\n";
  struct Case {
    std::string text, message;
  } cases[] = {
      {head + "kernel = k\nmemory = lots\n", "line 5: memory must be a number from 64 to 65536"},
      {head + "kernel = k\nkernel = k2\n", "line 5: kernel is given twice"},
      {head + "kernel = k\ncolour = blue\n", "line 5: unknown key \"colour\""},
      {head + "kernel = k\njust words\n", "line 5: expected \"key = value\""},
      {head + "kernel = k,x\n", "line 4: kernel: a path may not contain ','"},
      {head + "kernel = k\nvtpm = maybe\n", "line 5: vtpm must be on or off"},
      {"name = ../x\n", "line 1: name:"},
      {head, "needs either kernel"},
      {head + "kernel = k\nesp = e\n", "needs either kernel"},
      {head + "esp = e\ncmdline = x\n", "has initrd or cmdline without kernel"},
      {"name = a\nkernel = k\n", "needs firmware and firmware_vars"},
      {"firmware = f\n", "needs a name"},
  };
  for (const Case& c : cases) {
    auto s = Parse(c.text);
    ASSERT_FALSE(s.has_value()) << c.text;
    EXPECT_NE(s.error().message().find(c.message), std::string::npos)
        << "got: " << s.error().message() << "\nwanted: " << c.message;
  }
  EXPECT_FALSE(Parse(std::string(kMaxSpecSize + 1, '#')).has_value());
}

}  // namespace
}  // namespace tc::vm
