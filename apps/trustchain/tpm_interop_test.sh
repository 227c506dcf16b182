#!/usr/bin/env bash
# Quotes both ways between trustchain and tpm2-tools on a real swtpm process
# (issue 3): tpm2_quote's quote passes `trustchain tpm checkquote`, and
# `trustchain tpm quote`'s quote passes tpm2_checkquote; for RSA and ECC AKs.
# Usage: tpm_interop_test.sh TRUSTCHAIN. Exit 77 = skipped (says why).
set -u
tc=$1
for tool in swtpm tpm2_createek tpm2_createak tpm2_quote tpm2_checkquote; do
  command -v "$tool" >/dev/null || { echo "skip: $tool missing (scripts/setup.sh installs it)"; exit 77; }
done
tmp=$(mktemp -d)
# Manufacture the vTPM as QEMU setups do: an EK certificate from swtpm's
# local CA in NV (EK Credential Profile index 0x01C00002).
have_cert=0
if command -v swtpm_setup >/dev/null && swtpm_setup --tpm2 --tpmstate "$tmp" --create-ek-cert --pcr-banks sha1,sha256 \
     --overwrite >"$tmp/setup.log" 2>&1; then
  have_cert=1
fi
. "$(dirname "$0")/../../scripts/swtpm.sh"
trap 'stop_swtpm; rm -rf "$tmp"' EXIT
start_swtpm "$tmp" || exit 1
port=$swtpm_port
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
export TSS2_LOG=all+NONE
spec="swtpm:host=127.0.0.1,port=$port"
fail=0
# swtpm has no resource manager: tpm2-tools leave their objects loaded.
flush() { tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; }
check() { if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1 (exit $2)"; fail=1; fi; }
cd "$tmp" || exit 1
if [ $have_cert = 1 ]; then
  "$tc" tpm ek --tpm "$spec" -G rsa -u tc_ek.pub --certificate ek.der >/dev/null
  check "trustchain tpm ek reads the EK certificate from NV" $?
  # The certificate certifies the very key trustchain made from the template.
  cert_n=$(openssl x509 -inform der -in ek.der -noout -modulus | sed 's/Modulus=//' | tr A-F a-f)
  ek_n=$(python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); print(b[-256:].hex())' tc_ek.pub)
  [ -n "$cert_n" ] && [ "$cert_n" = "$ek_n" ]; check "... and it certifies trustchain's EK (same modulus)" $?
else
  echo "skip EK certificate checks: swtpm_setup could not create one ($(tail -n 1 "$tmp/setup.log" 2>/dev/null))"
fi
nonce=$(openssl rand -hex 20)
for g in rsa ecc; do
  s=$([ $g = rsa ] && echo rsassa || echo ecdsa)
  tpm2_createek -c ek_$g.ctx -G $g -u ek_$g.pub >/dev/null 2>&1; flush
  tpm2_createak -C ek_$g.ctx -c ak_$g.ctx -G $g -g sha256 -s $s -u ak_$g.pub -n ak_$g.name >/dev/null 2>&1
  check "tpm2_createak $g" $?; flush
  tpm2_quote -c ak_$g.ctx -l sha256:0,1,2,3,16 -q "$nonce" -m q_$g.msg -s q_$g.sig -o q_$g.pcrs -g sha256 >/dev/null 2>&1
  check "tpm2_quote $g" $?; flush
  "$tc" tpm checkquote -u ak_$g.pub -m q_$g.msg -s q_$g.sig -f q_$g.pcrs -q "$nonce" >out 2>&1
  check "tpm2_quote ($g AK) passes trustchain tpm checkquote" $?
  "$tc" tpm checkquote -u ak_$g.pub -m q_$g.msg -s q_$g.sig -f q_$g.pcrs -q 00"$nonce" >/dev/null 2>&1
  [ $? = 1 ]; check "... and fails it with another nonce" $?
  "$tc" tpm ak create --tpm "$spec" -G $g --ek $g -o tc_$g.tcak -u tc_$g.pub >/dev/null
  check "trustchain tpm ak create $g on swtpm" $?
  "$tc" tpm quote --tpm "$spec" -c tc_$g.tcak -l sha256:0,7,16+sha1:0 -q "$nonce" -m t_$g.msg -s t_$g.sig -o t_$g.pcrs >/dev/null
  check "trustchain tpm quote $g on swtpm" $?
  tpm2_checkquote -u tc_$g.pub -m t_$g.msg -s t_$g.sig -f t_$g.pcrs -q "$nonce" >/dev/null 2>&1
  check "trustchain's quote ($g AK) passes tpm2_checkquote" $?
done
exit $fail
