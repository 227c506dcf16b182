#pragma once

// A guest's vTPM (swtpm), manufactured by trustchain (issue 6):
//
// - The vTPM CA: a local certificate authority that trustchain keeps in one
//   directory (default /var/lib/trustchain/vtpm-ca). swtpm_localca (swtpm-
//   tools) signs with it: on first use it makes a root CA
//   (swtpm-localca-rootca-cert.pem) and an intermediate (issuercert.pem,
//   signkey.pem). A verifier that trusts the root trusts every EK
//   certificate of every vTPM of this host.
// - Manufacturing: swtpm_setup --createek --create-ek-cert
//   --create-platform-cert --lock-nvram with the sha256 PCR bank: the EK
//   (TCG EK Credential Profile default RSA 2048 template) and its
//   certificate (NV index 0x01C00002) are made once per VM and kept in the
//   VM's state directory, so the guest's TPM identity is stable across boots.
// - Running: for QEMU, swtpm with a control socket (QEMU's tpm-emulator
//   backend hands it the data channel); for the host (reading the EK,
//   making an AK, quoting after the guest powered off), swtpm on a pair of
//   local TCP ports for tpm2-tss's swtpm TCTI.
//
// Everything started is a Child (process.h): killed on every exit path.

#include <optional>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/vm/process.h"

namespace tc::vm {

// Writes the CA's swtpm_setup / swtpm_localca configuration into `ca_dir`
// (mode 0700) unless present. The keys are made by swtpm_localca on the
// first manufacture.
[[nodiscard]] Result<void> EnsureVtpmCa(const std::string& ca_dir);

// Manufactures a vTPM in `state_dir` unless it holds one already. Returns
// true when it made one. Tool output goes to `log_path`.
[[nodiscard]] Result<bool> EnsureVtpm(const std::string& ca_dir, const std::string& state_dir,
                                      const std::string& log_path);

// The CA's root certificate and intermediates (PEM), for checking EK
// certificates (crypto::VerifyCertificateChain). kNotFound before the first
// manufacture.
struct VtpmCaCertificates {
  std::string root_pem;
  std::string intermediates_pem;
};
[[nodiscard]] Result<VtpmCaCertificates> ReadVtpmCa(const std::string& ca_dir);

// swtpm for QEMU: control channel on the unix socket `ctrl_path`.
[[nodiscard]] Result<Child> StartVtpmForQemu(const std::string& state_dir,
                                             const std::string& ctrl_path,
                                             const std::string& log_path);

// swtpm for this process, on free local TCP ports; `spec` is the --tpm /
// OpenTpm spec. With `resume`, the TPM continues from the volatile state
// an earlier StopKeepingPcrs() saved (its PCRs), instead of starting fresh.
struct HostVtpm {
  Child process;
  std::string spec;  // "swtpm:host=127.0.0.1,port=N"
};
[[nodiscard]] Result<HostVtpm> StartVtpmForHost(const std::string& state_dir,
                                                const std::string& log_path, bool resume);

// Makes swtpm save its volatile state (PCRs included) into its state
// directory and stop, through the control socket (swtpm_ioctl -v, -s): how
// a guest's PCRs outlive QEMU for the host to quote them.
[[nodiscard]] Result<void> StopKeepingPcrs(const std::string& ctrl_path,
                                           const std::string& log_path);

}  // namespace tc::vm
