// trustchain vm run SPEC: a self-contained guest, launched measured, with
// its own vTPM bound to the host's launch log, attested after it booted.
// trustchain vm libvirt-hook: libvirt's QEMU hook. trustchain vm log: the
// host launch log against the host TPM. Wiring and printing; the parts are
// tc/vm (spec, processes, vTPM, guest evidence) and tc/launch.

#include "vm_cmd.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "launch_cmd.h"
#include "tc/cel/cel.h"
#include "tc/crypto/x509.h"
#include "tc/eventlog/parser.h"
#include "tc/ima/parser.h"
#include "tc/io/file.h"
#include "tc/json/document.h"
#include "tc/launch/host_log.h"
#include "tc/launch/libvirt_domain.h"
#include "tc/policy/enforce.h"
#include "tc/policy/learn.h"
#include "tc/policy/store.h"
#include "tc/tpm/esys/open.h"
#include "tc/vm/attest.h"
#include "tc/vm/guest_dump.h"
#include "tc/vm/process.h"
#include "tc/vm/spec.h"
#include "tc/vm/vtpm.h"

namespace tc::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct VmFlags {
  LaunchFlags launch;
  std::string spec;
  std::string state_dir = "/var/lib/trustchain";
  std::string accel;  // overrides the spec
  std::string qemu = "qemu-system-x86_64";
};

void Step(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string Hex(std::span<const std::uint8_t> b) { return ToHex(b); }

Result<void> Write(const std::string& path, std::span<const std::uint8_t> bytes) {
  return io::WriteFile(path, bytes, 0600);
}

// The next free evidence directory VMDIR/evidence/N.
Result<std::string> NewEvidenceDir(const std::string& vm_dir) {
  const std::string base = vm_dir + "/evidence";
  std::error_code ec;
  fs::create_directories(base, ec);
  for (int n = 1; n < 1000000; ++n) {
    const std::string dir = fmt::format("{}/{}", base, n);
    if (fs::create_directory(dir, ec)) return dir;
    if (ec) break;
  }
  return Fail(ErrorCode::kIo, fmt::format("cannot create an evidence directory in {}", base));
}

// VMDIR/evidence/latest -> N, once N is complete.
void MarkLatest(const std::string& evidence) {
  const fs::path dir(evidence);
  std::error_code ec;
  const fs::path link = dir.parent_path() / "latest";
  fs::remove(link, ec);
  fs::create_directory_symlink(dir.filename(), link, ec);
}

// The QEMU command line of a spec. The variable store is a fresh copy of
// the template for every boot (the guest may write it).
std::vector<std::string> QemuArgv(const VmFlags& f, const vm::Spec& s, const std::string& vm_dir,
                                  bool kvm) {
  std::vector<std::string> a = {f.qemu,
                                "-name", s.name,
                                "-machine", "q35",
                                "-m", std::to_string(s.memory_mib),
                                "-smp", std::to_string(s.cpus),
                                "-nodefaults", "-nographic", "-no-user-config",
                                "-accel", kvm ? "kvm" : "tcg"};
  if (kvm) {
    a.push_back("-cpu");
    a.push_back("host");
  }
  a.insert(a.end(), {"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + s.firmware,
                     "-drive", "if=pflash,format=raw,unit=1,file=" + vm_dir + "/ovmf-vars.fd"});
  if (s.vtpm) {
    a.insert(a.end(), {"-chardev", "socket,id=chrtpm,path=" + vm_dir + "/swtpm.ctrl", "-tpmdev",
                       "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"});
  }
  a.insert(a.end(), {"-serial", "file:" + vm_dir + "/console.log", "-serial",
                     "file:" + vm_dir + "/data.log",
                     // A guest power-off pauses QEMU instead of ending it: QEMU
                     // then never tells swtpm to shut down, and the vTPM keeps
                     // the guest's PCRs for the quote.
                     "-action", "reboot=shutdown,shutdown=pause"});
  if (!s.kernel.empty()) {
    a.insert(a.end(), {"-kernel", s.kernel});
    if (!s.initrd.empty()) a.insert(a.end(), {"-initrd", s.initrd});
    if (s.has_cmdline) a.insert(a.end(), {"-append", s.cmdline});
  } else {
    a.insert(a.end(), {"-drive", "if=none,id=esp,format=raw,readonly=on,file=" + s.esp, "-device",
                       "virtio-blk-pci,drive=esp,bootindex=0"});
  }
  for (std::size_t i = 0; i < s.disks.size(); ++i) {
    a.insert(a.end(), {"-drive", fmt::format("if=virtio,format=raw,readonly=on,file={}", s.disks[i])});
  }
  return a;
}

bool KvmUsable() { return ::access("/dev/kvm", R_OK | W_OK) == 0; }

// Bytes [from, from + max) of a file that may be growing ("" when absent).
std::string ReadFrom(const std::string& path, std::uint64_t from, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(max, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

std::uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

// What the guest's serial files may grow to (the guest is untrusted).
constexpr std::uint64_t kMaxConsoleLog = 64u << 20;

enum class BootEnd { kDone, kExited, kKvmError, kTimeout, kInterrupted, kFlood };

// Waits for the guest's "@@DONE" on its data port, reading only what is new.
BootEnd WaitForGuest(vm::Child& qemu, const std::string& data_log, const std::string& qemu_log,
                     const std::string& console_log, std::uint32_t timeout_s,
                     Clock::time_point t0) {
  auto last_note = Clock::now();
  std::uint64_t seen = 0;  // bytes of data_log already searched
  while (true) {
    if (vm::Interrupted() != 0) return BootEnd::kInterrupted;
    const std::uint64_t size = FileSize(data_log);
    if (size > vm::kMaxGuestDump || FileSize(console_log) > kMaxConsoleLog) return BootEnd::kFlood;
    if (size > seen) {
      const std::uint64_t from = seen >= 8 ? seen - 8 : 0;  // "@@DONE" across two reads
      const std::string fresh = ReadFrom(data_log, from, static_cast<std::size_t>(size - from));
      if (fresh.find("@@DONE") != std::string::npos) return BootEnd::kDone;
      seen = size;
    }
    const std::uint64_t qsize = FileSize(qemu_log);
    if (ReadFrom(qemu_log, qsize > 4096 ? qsize - 4096 : 0, 4096).find("KVM internal error") !=
        std::string::npos) {
      return BootEnd::kKvmError;
    }
    if (!qemu.Running()) return BootEnd::kExited;
    if (FileSize(qemu_log) > kMaxConsoleLog) return BootEnd::kFlood;
    if (Since(t0) > timeout_s) return BootEnd::kTimeout;
    if (std::chrono::duration<double>(Clock::now() - last_note).count() >= 10) {
      Step(fmt::format("[boot] waiting for the guest's evidence ({:.0f} s)", Since(t0)));
      last_note = Clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

struct VmResult {
  int exit_code = kExitUndecided;
  doc::Value doc = doc::Value::MakeObject();
};

struct VtpmIdentity {
  launch::MeasuredInput input;  // the launch input that binds it
  Bytes ek_public;              // TPM2B_PUBLIC of its EK
};

// Manufactures (first run) and reads the vTPM's EK; checks that its
// certificate chains to the vTPM CA and certifies this EK.
Result<VtpmIdentity> PrepareVtpm(const std::string& ca_dir, const std::string& tpm_dir,
                                 const std::string& log, doc::Value& d) {
  TC_ASSIGN_OR_RETURN(bool made, vm::EnsureVtpm(ca_dir, tpm_dir, log));
  TC_ASSIGN_OR_RETURN(vm::HostVtpm host, vm::StartVtpmForHost(tpm_dir, log, false));
  tpm::EndorsementKey ek;
  {
    TC_ASSIGN_OR_RETURN(auto t, tpm::OpenTpm(host.spec));
    TC_ASSIGN_OR_RETURN(ek, vm::ReadGuestEk(*t));
    TC_RETURN_IF_ERROR(t->Shutdown());  // orderly: see tpm.h
  }
  host.process.Kill();
  if (!ek.certificate) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the vTPM in {} has no EK certificate; remove the directory to "
                            "manufacture it again",
                            tpm_dir));
  }
  TC_ASSIGN_OR_RETURN(vm::VtpmCaCertificates ca, vm::ReadVtpmCa(ca_dir));
  auto chain = crypto::VerifyCertificateChain(*ek.certificate, ca.root_pem, ca.intermediates_pem);
  if (!chain) {
    return Fail(std::move(chain).error().Wrap(
        fmt::format("the EK certificate of the vTPM in {} against the vTPM CA {}", tpm_dir, ca_dir)));
  }
  if (auto same = vm::CheckEkCertificate(ek.public_2b, *ek.certificate); !same) {
    return Fail(std::move(same).error().Wrap(fmt::format("the vTPM in {}", tpm_dir)));
  }
  launch::MeasuredInput m;
  m.input.kind = launch::InputKind::kVtpmEk;
  m.input.value = tpm_dir;
  m.slot = "vtpm-ek";
  m.size = ek.public_2b.size();
  TC_ASSIGN_OR_RETURN(m.sha256, crypto::Hash(crypto::HashAlg::kSha256, ek.public_2b));
  Step(fmt::format("[vtpm] {} vTPM {}: EK certificate issued by the vTPM CA ({}), EK public key "
                   "sha256 {}",
                   made ? "manufactured" : "reusing", tpm_dir, ca_dir, m.sha256.Hex().substr(0, 16)));
  doc::Value v = doc::Value::MakeObject();
  v.Set("state", tpm_dir);
  v.Set("manufactured", made);
  v.Set("ek_sha256", m.sha256.Hex());
  v.Set("ek_certificate", "verified against the vTPM CA root");
  d.Set("vtpm", std::move(v));
  return VtpmIdentity{std::move(m), std::move(ek.public_2b)};
}

// Verifies the evidence with `trustchain verify` (this binary), so that the
// result is exactly the command's; returns its exit code and output.
struct VerifyRun {
  int exit_code = kExitUndecided;
  std::string output;
};
VerifyRun RunVerify(const std::string& policy, const std::string& evidence, bool enforce,
                    const LaunchFlags& lf, bool json, const std::string& out_name) {
  std::vector<std::string> argv = {"/proc/self/exe", "verify", "--policy", policy, "--eventlog",
                                   evidence + "/eventlog.bin"};
  std::error_code ec;
  if (fs::exists(evidence + "/ima.bin", ec)) argv.insert(argv.end(), {"--ima", evidence + "/ima.bin"});
  auto nonce = io::ReadTextFile(evidence + "/nonce.hex", 1024);
  argv.insert(argv.end(), {"--quote", evidence + "/quote.msg", "--ak", evidence + "/ak.pub",
                           "--nonce", nonce ? *nonce : ""});
  if (!lf.policy_key.empty()) argv.insert(argv.end(), {"--policy-key", lf.policy_key});
  if (!lf.anchor.nv_index.empty()) argv.insert(argv.end(), {"--policy-nv", lf.anchor.nv_index});
  if (!lf.anchor.tpm.empty()) argv.insert(argv.end(), {"--tpm", lf.anchor.tpm});
  if (enforce) {
    argv.push_back("--enforce");
    if (!lf.sign_key.empty()) argv.insert(argv.end(), {"--sign-key", lf.sign_key});
    if (!lf.audit.empty()) argv.insert(argv.end(), {"--audit", lf.audit});
  }
  if (json) argv.insert(argv.end(), {"--format", "json"});
  const std::string out = evidence + "/" + out_name + (json ? ".json" : ".txt");
  VerifyRun r;
  std::error_code rm;
  fs::remove(out, rm);
  auto rc = vm::RunToCompletion(argv, out, std::chrono::minutes(10));
  r.exit_code = rc ? *rc : kExitUndecided;
  auto text = io::ReadTextFile(out, 64 << 20);
  r.output = text ? *text : "";
  return r;
}

VmResult RunVm(const VmFlags& f) {
  VmResult res;
  doc::Value& d = res.doc;
  auto fail = [&](const Error& e, std::string_view what) {
    res.exit_code = ReportError(e, what);
    d.Set("error", e.message());
    return std::move(res);
  };
  vm::InstallInterruptHandlers();
  // The spec.
  auto text = io::ReadFile(f.spec, vm::kMaxSpecSize + 1);
  if (!text) return fail(text.error(), "vm run: SPEC");
  const std::string base = fs::absolute(f.spec).parent_path().string();
  auto spec = vm::ParseSpec(*text, base);
  if (!spec) return fail(std::move(spec).error().Wrap(f.spec), "vm run");
  LaunchFlags lf = f.launch;
  if (lf.policy.empty()) lf.policy = spec->policy;
  if (!f.accel.empty()) {
    if (f.accel == "kvm") spec->accel = vm::Accel::kKvm;
    else if (f.accel == "tcg") spec->accel = vm::Accel::kTcg;
    else spec->accel = vm::Accel::kAuto;
  }
  d.Set("vm", spec->name);
  if (!lf.policy.empty() && !spec->vtpm) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      "verifying a guest against a policy needs its vTPM (vtpm = on in the spec)"),
                "vm run");
  }
  auto interrupted = [&]() -> std::optional<VmResult> {
    if (vm::Interrupted() == 0) return std::nullopt;
    return fail(Error(ErrorCode::kIo, fmt::format("interrupted (signal {}); everything started "
                                                  "was stopped",
                                                  vm::Interrupted())),
                "vm run");
  };
  std::error_code ec;
  const std::string state = fs::absolute(f.state_dir, ec).lexically_normal().string();
  const std::string vm_dir = state + "/vms/" + spec->name;
  const std::string ca_dir = state + "/vtpm-ca";
  fs::create_directories(vm_dir, ec);
  if (ec) return fail(Error(ErrorCode::kIo, fmt::format("cannot create {}: {}", vm_dir, ec.message())), "vm run");
  fs::permissions(vm_dir, fs::perms::owner_all, ec);
  const std::string tools_log = vm_dir + "/tools.log";
  Step(fmt::format("[vm] {}: state in {}", spec->name, vm_dir));
  d.Set("state_dir", vm_dir);

  bool kvm = spec->accel == vm::Accel::kKvm || (spec->accel == vm::Accel::kAuto && KvmUsable());
  // A guest KVM could not run before is not tried with KVM again (remove
  // the file to try again).
  const std::string kvm_note = vm_dir + "/kvm-unusable";
  if (kvm && spec->accel == vm::Accel::kAuto && fs::exists(kvm_note, ec)) {
    kvm = false;
    Step(fmt::format("[boot] KVM could not run this guest before ({}): TCG emulation", kvm_note));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    // 1. The vTPM, and its EK as a launch input (host-to-guest binding).
    std::vector<launch::MeasuredInput> extra;
    Bytes ek_public;
    if (spec->vtpm) {
      auto ek = PrepareVtpm(ca_dir, vm_dir + "/tpm", tools_log, d);
      if (!ek) return fail(ek.error(), "vm run: vTPM");
      extra.push_back(std::move(ek->input));
      ek_public = std::move(ek->ek_public);
    }
    if (auto i = interrupted()) return std::move(*i);
    // 2. A fresh variable store, then measure, judge, record.
    fs::copy_file(spec->firmware_vars, vm_dir + "/ovmf-vars.fd",
                  fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return fail(Error(ErrorCode::kIo, fmt::format("cannot copy the variable template {}: {}",
                                                    spec->firmware_vars, ec.message())),
                  "vm run");
    }
    const std::vector<std::string> argv = QemuArgv(f, *spec, vm_dir, kvm);
    auto command = launch::ParseQemuCommand(argv);
    if (!command) return fail(command.error(), "vm run: QEMU command line");
    LaunchOutcome outcome;
    // The JSON report is composed here; the flow prints text.
    LaunchFlags flow = lf;
    flow.print_report = lf.format != Format::kJson;
    const int rc = RunLaunchFlow(flow, spec->name, *command, std::move(extra), &outcome);
    d.Set("launch", launch::LaunchCheckDocument(outcome.check));
    if (rc != kExitOk || !outcome.may_start) {
      d.Set("decision", rc == kExitFailed ? "refused" : "error");
      res.exit_code = rc;
      return res;
    }
    d.Set("decision", "launched");
    if (auto i = interrupted()) return std::move(*i);
    if (!outcome.log_note.empty()) d.Set("launch_log", outcome.log_note);
    std::ofstream(vm_dir + "/qemu.cmd") << [&] {
      std::string s;
      for (const std::string& a : argv) s += "'" + a + "' ";
      return s + "\n";
    }();

    // 3. Boot.
    for (const char* name : {"/console.log", "/data.log", "/qemu.log"}) fs::remove(vm_dir + name, ec);
    std::optional<vm::Child> swtpm;
    if (spec->vtpm) {
      auto s = vm::StartVtpmForQemu(vm_dir + "/tpm", vm_dir + "/swtpm.ctrl", tools_log);
      if (!s) return fail(s.error(), "vm run: vTPM");
      swtpm.emplace(std::move(*s));
    }
    const auto t0 = Clock::now();
    auto qemu = vm::Child::Start(argv, vm_dir + "/qemu.log");
    if (!qemu) return fail(qemu.error(), "vm run: QEMU");
    Step(fmt::format("[boot] {}: QEMU started ({}), waiting for the guest", spec->name,
                     kvm ? "KVM" : "TCG emulation"));
    const BootEnd end = WaitForGuest(*qemu, vm_dir + "/data.log", vm_dir + "/qemu.log",
                                     vm_dir + "/console.log", spec->boot_timeout, t0);
    const double boot_s = Since(t0);
    // The guest is done (or failed): QEMU goes first, killed, so that it does
    // not end the vTPM; then the vTPM keeps its PCRs on disk.
    qemu->Kill();
    if (end == BootEnd::kKvmError && spec->accel == vm::Accel::kAuto && attempt == 0) {
      if (swtpm) swtpm->Kill();
      std::ofstream(kvm_note) << "KVM internal error; see qemu.log of the failed boot\n";
      fs::copy_file(vm_dir + "/qemu.log", vm_dir + "/qemu-kvm-failure.log",
                    fs::copy_options::overwrite_existing, ec);
      Step("[boot] KVM cannot run this guest here (KVM internal error): again with TCG emulation");
      kvm = false;
      continue;
    }
    if (end != BootEnd::kDone) {
      const std::string why =
          end == BootEnd::kExited     ? "QEMU exited before the guest sent its evidence"
          : end == BootEnd::kKvmError ? "KVM internal error (try accel = tcg)"
          : end == BootEnd::kTimeout  ? fmt::format("no evidence within {} s", spec->boot_timeout)
          : end == BootEnd::kFlood    ? "it wrote more to its serial ports than allowed"
                                      : fmt::format("interrupted (signal {}); everything started "
                                                    "was stopped",
                                                    vm::Interrupted());
      return fail(Error(ErrorCode::kIo, fmt::format("{}: the guest did not boot: {}; see {}/qemu.log "
                                                    "and {}/console.log",
                                                    spec->name, why, vm_dir, vm_dir)),
                  "vm run");
    }
    Step(fmt::format("[boot] {}: the guest sent its evidence after {:.1f} s", spec->name, boot_s));
    doc::Value boot = doc::Value::MakeObject();
    boot.Set("accel", kvm ? "kvm" : "tcg");
    boot.Set("seconds", boot_s);
    d.Set("boot", std::move(boot));

    // 4. Evidence: what the guest sent, and a quote from its vTPM.
    auto evidence = NewEvidenceDir(vm_dir);
    if (!evidence) return fail(evidence.error(), "vm run");
    auto capture = io::ReadFile(vm_dir + "/data.log", vm::kMaxGuestDump);
    if (!capture) return fail(capture.error(), "vm run: guest data");
    auto dump = vm::ParseGuestDump(*capture);
    if (!dump) return fail(std::move(dump).error().Wrap(vm_dir + "/data.log"), "vm run: guest evidence");
    for (const vm::GuestFile& g : dump->files) {
      if (auto w = Write(*evidence + "/" + g.name, g.data); !w) return fail(w.error(), "vm run");
    }
    fs::copy_file(vm_dir + "/console.log", *evidence + "/console.log", ec);
    d.Set("evidence", *evidence);
    if (spec->vtpm) {
      if (auto s = vm::StopKeepingPcrs(vm_dir + "/swtpm.ctrl", tools_log); !s) {
        return fail(s.error(), "vm run: vTPM");
      }
      swtpm->Wait(std::chrono::seconds(5));
      swtpm->Kill();
      auto host = vm::StartVtpmForHost(vm_dir + "/tpm", tools_log, true);
      if (!host) return fail(host.error(), "vm run: vTPM");
      Bytes nonce(20);
      if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
        return fail(Error(ErrorCode::kInternal, "no random nonce (RAND_bytes failed)"), "vm run");
      }
      Result<vm::GuestQuote> quote = [&]() -> Result<vm::GuestQuote> {
        TC_ASSIGN_OR_RETURN(auto t, tpm::OpenTpm(host->spec));
        auto q = vm::QuoteGuest(*t, ek_public, nonce);
        TC_RETURN_IF_ERROR(t->Shutdown());  // orderly: see tpm.h
        return q;
      }();
      host->process.Kill();
      fs::remove(vm_dir + "/tpm/tpm2-00.volatilestate", ec);
      if (!quote) return fail(quote.error(), "vm run: quote");
      for (const auto& [name, bytes] :
           std::initializer_list<std::pair<const char*, const Bytes*>>{
               {"/quote.msg", &quote->attest}, {"/quote.sig", &quote->signature},
               {"/quote.pcrs", &quote->pcrs}, {"/ak.pub", &quote->ak_public},
               {"/ek.pub", &quote->ek_public}}) {
        if (auto w = Write(*evidence + name, *bytes); !w) return fail(w.error(), "vm run");
      }
      if (quote->ek_certificate) {
        if (auto w = Write(*evidence + "/ek.crt", *quote->ek_certificate); !w) {
          return fail(w.error(), "vm run");
        }
      }
      if (auto w = Write(*evidence + "/nonce.hex", AsBytes(Hex(nonce))); !w) {
        return fail(w.error(), "vm run");
      }
      Step(fmt::format("[attest] {}: AK bound to the vTPM's EK (credential activated); quote of "
                       "PCRs 0-10,12,14 with nonce {}; evidence in {}",
                       spec->name, Hex(nonce).substr(0, 16), *evidence));
    } else {
      Step(fmt::format("[attest] {}: no vTPM (vtpm = off): the guest's evidence is unproven",
                       spec->name));
    }

    MarkLatest(*evidence);

    // 5. Learn from this boot, and/or verify it.
    if (lf.policy.empty()) {
      res.exit_code = kExitOk;
      return res;
    }
    if (auto i = interrupted()) return std::move(*i);
    const bool json = lf.format == Format::kJson;
    if (lf.learn) {
      // Learned only when the learned policy then verifies the same
      // evidence through the quote: a guest's claims are not admitted
      // unless its vTPM proves them.
      auto key = LoadPolicyKey(lf);
      if (!key) return fail(key.error(), "vm run: --policy-key");
      auto lock = io::FileLock::Acquire(lf.policy);
      if (!lock) return fail(lock.error(), "vm run: --learn");
      auto p = policy::LoadPolicyFile(lf.policy, *key ? &**key : nullptr);
      if (!p) return fail(p.error(), "vm run: --learn");
      auto bytes = io::ReadFile(*evidence + "/eventlog.bin", eventlog::kMaxLogSize);
      if (!bytes) return fail(bytes.error(), "vm run: --learn");
      auto log_digest = crypto::Hash(crypto::HashAlg::kSha256, *bytes);
      if (!log_digest) return fail(log_digest.error(), "vm run: --learn");
      auto log = eventlog::EventLog::Parse(std::move(*bytes));
      if (!log) return fail(log.error(), "vm run: --learn: the guest's event log");
      policy::LearnNotes notes;
      const std::string now = policy::NowRfc3339();
      if (auto l = policy::LearnEventLog(*log, *evidence + "/eventlog.bin", now, *p, notes); !l) {
        return fail(l.error(), "vm run: --learn");
      }
      if (fs::exists(*evidence + "/ima.bin", ec)) {
        auto src = io::OpenFileSource(*evidence + "/ima.bin");
        if (!src) return fail(src.error(), "vm run: --learn");
        if (auto l = policy::LearnImaList(**src, ima::ParseOptions{}, *p, notes); !l) {
          return fail(l.error(), "vm run: --learn: the guest's IMA list");
        }
      }
      const std::string candidate = *evidence + "/learned-policy.json";
      if (auto s = policy::SavePolicyFile(candidate, *p); !s) return fail(s.error(), "vm run: --learn");
      LaunchFlags plain;  // the candidate is neither signed nor anchored
      const VerifyRun check = RunVerify(candidate, *evidence, false, plain, false, "learn-check");
      if (check.exit_code != kExitOk) {
        std::fputs(check.output.c_str(), stdout);
        const Error e(ErrorCode::kVerificationFailed,
                      "the guest's boot does not verify through its vTPM's quote even against "
                      "what it claims (see above): nothing was learned from it");
        (void)ReportError(e, "vm run: --learn");
        d.Set("error", e.message());
        d.Set("verdict", "untrusted");
        res.exit_code = kExitFailed;
        return res;
      }
      std::vector<policy::AuditRecord> records = {policy::MakeAuditRecord(
          "learn", spec->name + " (guest boot)", *log_digest,
          fmt::format("{} boot component(s) and {} runtime file digest(s) learned from a boot "
                      "verified through its vTPM's quote",
                      notes.components_added, notes.files_added),
          *evidence, now)};
      policy::CommitChange(records, *p);
      if (auto s = SavePolicyChange(lf, *p, records); !s) return fail(s.error(), "vm run: --learn");
      Step(fmt::format("[learn] {}: {} boot component(s) and {} runtime file digest(s) of the "
                       "guest admitted into {} (the boot verified through the quote first)",
                       spec->name, notes.components_added, notes.files_added, lf.policy));
    }
    const VerifyRun v =
        RunVerify(lf.policy, *evidence, !lf.learn && !lf.audit_mode, lf, json, "verify");
    if (json) {
      auto parsed = json::ParseDocument(AsBytes(v.output));
      if (parsed) d.Set("verification", std::move(*parsed));
    } else {
      std::fputs(v.output.c_str(), stdout);
    }
    const std::string verdict = v.exit_code == kExitOk       ? "trusted"
                                : v.exit_code == kExitFailed ? "untrusted"
                                                             : "undecided";
    d.Set("verdict", verdict);
    Step(fmt::format("[verify] {}: the guest's boot (event log, IMA, vTPM quote) is {}{}", spec->name,
                     verdict,
                     outcome.check.verdict == policy::Verdict::kTrusted
                         ? ""
                         : fmt::format(" (its launch check was {})",
                                       policy::VerdictName(outcome.check.verdict))));
    res.exit_code = v.exit_code;
    if (v.exit_code == kExitOk && outcome.check.verdict == policy::Verdict::kUntrusted) {
      res.exit_code = kExitFailed;  // --audit launched an untrusted guest
    }
    return res;
  }
  return fail(Error(ErrorCode::kInternal, "no boot attempt left"), "vm run");
}

// trustchain vm log: the host launch log, replayed against the host TPM.
int RunLog(const LaunchFlags& f) {
  auto t = tpm::OpenTpm(f.anchor.tpm.empty() ? tpm::DefaultTpmSpec() : f.anchor.tpm);
  if (!t) return ReportError(t.error(), "vm log: host TPM (--tpm)");
  auto state = launch::ReadLaunchLog(**t, f.launch_log, f.pcr);
  if (!state) return ReportError(state.error(), "vm log");
  auto text = io::ReadFile(f.launch_log, cel::kMaxLogSize);
  std::vector<cel::Record> records;
  if (text) {
    auto r = cel::Parse(*text);
    if (r) records = std::move(*r);
  }
  if (f.format == Format::kJson) {
    doc::Value d = doc::Value::MakeObject();
    d.Set("log", f.launch_log);
    d.Set("pcr", f.pcr);
    d.Set("records", static_cast<std::uint64_t>(state->records));
    d.Set("matches", state->matches());
    doc::Value banks = doc::Value::MakeArray();
    for (const launch::LogState::Bank& b : state->banks) {
      doc::Value v = doc::Value::MakeObject();
      v.Set("bank", std::string(crypto::HashAlgName(b.alg)));
      v.Set("replayed", b.replayed.Hex());
      v.Set("tpm", b.tpm.Hex());
      banks.Push(std::move(v));
    }
    d.Set("banks", std::move(banks));
    doc::Value recs = doc::Value::MakeArray();
    for (const cel::Record& r : records) {
      doc::Value v = doc::Value::MakeObject();
      v.Set("recnum", r.recnum);
      if (const doc::Value* s = r.content.Find("string"); s != nullptr && s->is_string()) {
        v.Set("event", s->str());
      }
      recs.Push(std::move(v));
    }
    d.Set("events", std::move(recs));
    Emit(f.format, d, "");
  } else {
    for (const cel::Record& r : records) {
      const doc::Value* s = r.content.Find("string");
      std::printf("%6llu  PCR %u  %s\n", static_cast<unsigned long long>(r.recnum), r.pcr,
                  s != nullptr && s->is_string() ? s->str().c_str() : "(no trustchain content)");
    }
    for (const launch::LogState::Bank& b : state->banks) {
      std::printf("PCR %u %s: log replays to %s, TPM holds %s: %s\n", f.pcr,
                  std::string(crypto::HashAlgName(b.alg)).c_str(), b.replayed.Hex().c_str(),
                  b.tpm.Hex().c_str(), b.replayed == b.tpm ? "match" : "MISMATCH");
    }
    std::printf("%zu record(s) in %s: %s\n", state->records, f.launch_log.c_str(),
                state->matches() ? "the log is what the TPM measured"
                                 : "the log does NOT replay to the TPM's PCR");
  }
  return state->matches() ? kExitOk : kExitFailed;
}

// libvirt's QEMU hook: `qemu <domain> <operation> <sub-operation> <extra>`
// with the domain XML on stdin. Only "prepare begin" is judged; a non-zero
// exit makes libvirt refuse to start the domain (libvirt "Hooks for specific
// system management": the qemu hook's "prepare" operation).
int RunHook(const LaunchFlags& f, const std::vector<std::string>& args) {
  if (args.size() < 2) {
    return ReportError(Error(ErrorCode::kInvalidArgument,
                             "expected the arguments libvirt passes: DOMAIN OPERATION "
                             "SUB-OPERATION EXTRA"),
                       "vm libvirt-hook");
  }
  const std::string& operation = args[1];
  const std::string sub = args.size() > 2 ? args[2] : "";
  if (operation != "prepare" || (sub != "begin" && sub != "-")) return kExitOk;  // not ours
  std::string xml((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto domain = launch::ParseLibvirtDomain(AsBytes(xml));
  if (!domain) return ReportError(domain.error(), "vm libvirt-hook: the domain XML");
  for (const std::string& note : domain->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  launch::QemuCommand command;
  command.binary = "qemu";
  command.name = domain->name;
  command.inputs = domain->inputs;
  LaunchOutcome outcome;
  return RunLaunchFlow(f, domain->name, command, {}, &outcome);
}

}  // namespace

void AddVmCommands(CLI::App& app, int* exit_code) {
  auto* vm = app.add_subcommand(
      "vm", "Self-contained measured guests (run), libvirt's hook, and the host launch log");
  vm->require_subcommand(1);

  auto f = std::make_shared<VmFlags>();
  auto* run = vm->add_subcommand(
      "run",
      "Run a guest from a spec file, measured: its own vTPM (EK certificate from trustchain's "
      "vTPM CA, EK measured into the host launch log), every input judged against the whitelist "
      "before QEMU starts, then boot (KVM when usable, else TCG), collect the guest's event log "
      "and IMA list, quote its vTPM with an AK bound to the EK, and verify. --learn admits the "
      "first boot. Exit: 0 trusted (or booted, without a policy), 1 refused or untrusted, 2 "
      "error. See docs/launch.md");
  run->add_option("SPEC", f->spec, "The VM spec file (docs/launch.md)")->required();
  AddLaunchFlags(run, &f->launch);
  run->add_option("--state-dir", f->state_dir,
                  "trustchain's state: vms/NAME (per-VM vTPM, logs, evidence) and vtpm-ca")
      ->capture_default_str();
  run->add_option("--accel", f->accel, "kvm, tcg or auto (overrides the spec)");
  run->add_option("--qemu", f->qemu, "The QEMU binary")->capture_default_str();
  run->callback([f, exit_code] {
    VmResult r = RunVm(*f);
    if (f->launch.format == Format::kJson) Emit(Format::kJson, r.doc, "");
    *exit_code = r.exit_code;
  });

  auto lf = std::make_shared<LaunchFlags>();
  auto* log = vm->add_subcommand(
      "log",
      "Show the host launch log and replay it against the host TPM's PCR (exit 0 when it "
      "matches, 1 when not)");
  log->add_option("--launch-log", lf->launch_log, "The host launch log")->capture_default_str();
  log->add_option("--pcr", lf->pcr, "The PCR it extends")->capture_default_str();
  log->add_option("--tpm", lf->anchor.tpm, "The host TPM (default: as for every tpm command)");
  AddFormatOption(log, &lf->format, false);
  log->callback([lf, exit_code] { *exit_code = RunLog(*lf); });

  struct HookFlags {
    LaunchFlags launch;
    std::vector<std::string> args;
  };
  auto hf = std::make_shared<HookFlags>();
  auto* hook = vm->add_subcommand(
      "libvirt-hook",
      "libvirt's QEMU hook (/etc/libvirt/hooks/qemu DOMAIN prepare begin - < domain.xml): "
      "measures and judges the domain's firmware, kernel, initrd, command line and disks; a "
      "non-zero exit makes libvirt refuse to start it. Install: a script running `exec "
      "trustchain vm libvirt-hook --policy P -- \"$@\"`");
  AddLaunchFlags(hook, &hf->launch);
  hook->add_option("args", hf->args, "The hook's arguments from libvirt");
  hook->callback([hf, exit_code] { *exit_code = RunHook(hf->launch, hf->args); });
}

}  // namespace tc::app
