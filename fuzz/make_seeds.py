#!/usr/bin/env python3
"""Writes the hand-built seed inputs of the fuzz targets (fuzz/seeds/<target>/).

The seeds are made here, from the layouts in the TCG PC Client PFP spec 1.05
(10.2.1 TCG_PCR_EVENT, 10.2.2 TCG_PCR_EVENT2, 10.4.5.1 Spec ID event), so the
repository holds no third-party logs. scripts/test.sh adds ../shared's real
logs to the fuzz corpus when they are present.
"""
import hashlib
import os
import struct
import sys

ALGS = {0x0004: hashlib.sha1, 0x000B: hashlib.sha256, 0x000C: hashlib.sha384,
        0x000D: hashlib.sha512}


def spec_id(algs, vendor=b""):
    body = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(algs))
    for a in algs:
        body += struct.pack("<HH", a, ALGS[a]().digest_size)
    body += bytes([len(vendor)]) + vendor
    return struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(body)) + body


def event2(algs, pcr, typ, data):
    out = struct.pack("<III", pcr, typ, len(algs))
    for a in algs:
        out += struct.pack("<H", a) + ALGS[a](data).digest()
    return out + struct.pack("<I", len(data)) + data


def event1(pcr, typ, data):
    return struct.pack("<II", pcr, typ) + hashlib.sha1(data).digest() + \
        struct.pack("<I", len(data)) + data


def utf16(s):
    return s.encode("utf-16-le")


def efi_var(guid, name, data):
    return guid + struct.pack("<QQ", len(name), len(data)) + utf16(name) + data


GLOBAL = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
DEVICE_PATH = (bytes([2, 1, 12, 0]) + struct.pack("<II", 0x0A0341D0, 0) +
               bytes([1, 1, 6, 0, 1, 0]) +
               bytes([4, 4]) + struct.pack("<H", 4 + len(utf16("\\EFI\\BOOT\\BOOTX64.EFI\0"))) +
               utf16("\\EFI\\BOOT\\BOOTX64.EFI\0") + bytes([0x7F, 0xFF, 4, 0]))


def seeds():
    a = [0x0004, 0x000B]
    agile = spec_id(a)
    agile += event2(a, 0, 3, b"StartupLocality\0\x03")
    agile += event2(a, 0, 8, utf16("FW 1.0\0"))
    agile += event2(a, 0, 0x80000008, struct.pack("<QQ", 0xFFC00000, 0x400000))
    agile += event2(a, 0, 1, b"ACPI DATA")
    agile += event2(a, 7, 0x80000001, efi_var(GLOBAL, "SecureBoot", b"\x01"))
    agile += event2(a, 1, 0x80000002, efi_var(GLOBAL, "BootOrder", b"\x01\x00\x00\x00"))
    agile += event2(a, 4, 0x80000007, b"Calling EFI Application from Boot Option")
    for p in range(8):
        agile += event2(a, p, 4, b"\0\0\0\0")
    agile += event2(a, 4, 0x80000003, struct.pack("<QQQQ", 0x1000, 0x2000, 0, len(DEVICE_PATH)) + DEVICE_PATH)
    agile += event2(a, 8, 0xD, b"grub_cmd: linux /vmlinuz root=/dev/sda1\0")
    agile += event2(a, 5, 0x80000007, b"Exit Boot Services Invocation")
    yield "agile-sha1-sha256.bin", agile
    yield "agile-padded.bin", agile + b"\xff" * 64
    legacy = event1(0, 8, b"v1") + event1(7, 0x80000001, efi_var(GLOBAL, "SecureBoot", b"\0"))
    legacy += event1(0xFFFFFFFF, 6, b"trust point") + event1(4, 4, b"\0\0\0\0")
    yield "legacy-sha1.bin", legacy
    big = [0x0004, 0x000B, 0x000C, 0x000D]
    yield "agile-four-banks.bin", spec_id(big, b"VEND") + event2(big, 0, 0x80000008, struct.pack("<QQ", 1, 2))
    ccel = bytearray(spec_id([0x000C]))
    ccel[0] = 1
    yield "ccel.bin", bytes(ccel) + event2([0x000C], 1, 4, b"\0\0\0\0")
    yield "truncated.bin", agile[:-7]


def tpm2b(b):
    return struct.pack(">H", len(b)) + b


def quote_seeds():
    """TPM 2.0 Part 2 layouts: TPMS_ATTEST (10.12.12), TPMT_SIGNATURE (11.3.4),
    TPM2B_PUBLIC (12.2.5); the first byte selects the parser in tpm_quote_fuzz."""
    sel = struct.pack(">I", 1) + struct.pack(">HB", 0x000B, 3) + bytes([0xFF, 0x04, 0x00])
    attest = (struct.pack(">IH", 0xFF544347, 0x8018) + tpm2b(b"\x00\x0b" + b"\x5a" * 32)
              + tpm2b(b"nonce") + struct.pack(">QIIB", 1, 2, 3, 1) + struct.pack(">Q", 7)
              + sel + tpm2b(hashlib.sha256(b"pcrs").digest()))
    yield "attest.bin", b"\x00" + attest
    yield "sig-rsassa.bin", b"\x01" + struct.pack(">HH", 0x0014, 0x000B) + tpm2b(b"\x42" * 256)
    yield "sig-ecdsa.bin", b"\x01" + struct.pack(">HH", 0x0018, 0x000B) + tpm2b(b"\x01" * 32) + tpm2b(b"\x02" * 32)
    rsa = (struct.pack(">HHI", 0x0001, 0x000B, 0x00050072) + tpm2b(b"")
           + struct.pack(">HHH", 0x0010, 0x0014, 0x000B) + struct.pack(">HI", 2048, 0)
           + tpm2b(b"\xc3" + b"\x11" * 254 + b"\x01"))
    yield "public-rsa.bin", b"\x02" + tpm2b(rsa)
    # NIST P-256 generator point: a valid public key.
    gx = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
    gy = bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
    ecc = (struct.pack(">HHI", 0x0023, 0x000B, 0x00050072) + tpm2b(b"")
           + struct.pack(">HHHHH", 0x0010, 0x0018, 0x000B, 0x0003, 0x0010) + tpm2b(gx) + tpm2b(gy))
    yield "public-ecc.bin", b"\x02" + tpm2b(ecc)
    blob = struct.pack("<I", 1) + struct.pack("<HB", 0x000B, 3) + bytes([3, 0, 0, 0]) + b"\0" * (8 * 15)
    blob += struct.pack("<I", 1) + struct.pack("<I", 2)
    for v in (b"\x01" * 32, b"\x02" * 32):
        blob += struct.pack("<H", 32) + v + b"\0" * 32
    blob += (struct.pack("<H", 0) + b"\0" * 64) * 6
    yield "tools-pcr.bin", b"\x03" + blob
    sig = struct.pack(">HH", 0x0014, 0x000B) + tpm2b(b"\x42" * 256)
    yield "attest-and-sig.bin", b"\x04" + bytes([len(attest) + 1]) + attest + sig


def ima_field(b):
    return struct.pack("<I", len(b)) + b


def ima_ng_data(alg, digest, path, extra=()):
    """Linux ima_template_lib.c: d-ng = "alg:" NUL digest; n-ng = path NUL."""
    data = ima_field(alg.encode() + b":\0" + digest) + ima_field(path.encode() + b"\0")
    for e in extra:
        data += ima_field(e)
    return data


def ima_binary_entry(name, data, size=20, violation=False):
    """Linux ima_fs.c ima_measurements_show (little-endian)."""
    if violation:
        digest = b"\0" * size
    elif name == "ima":
        padded = data[:20] + data[24:].ljust(256, b"\0")
        digest = hashlib.sha1(padded).digest()
    else:
        digest = {20: hashlib.sha1, 32: hashlib.sha256}[size](data).digest()
    out = struct.pack("<I", 10) + digest + struct.pack("<I", len(name)) + name.encode()
    if name != "ima":
        out += struct.pack("<I", len(data))
    return out + data


def ima_binary_seeds():
    f = hashlib.sha256(b"file").digest()
    ng = ima_binary_entry("ima-ng", ima_ng_data("sha256", f, "boot_aggregate"))
    ng += ima_binary_entry("ima-ng", ima_ng_data("sha256", f, "/usr/bin/bash"))
    ng += ima_binary_entry("ima-ng", ima_ng_data("sha256", b"\0" * 32, "/var/log/x"), violation=True)
    yield "ima-ng.bin", ng
    yield "ima-ng-sha256-bank.bin", ima_binary_entry("ima-ng", ima_ng_data("sha256", f, "/init"), 32)
    yield "ima-sig.bin", ima_binary_entry("ima-sig", ima_ng_data("sha256", f, "/bin/sh", [b"\x03\x02\x04" + b"\x11" * 10]))
    yield "ima-buf.bin", ima_binary_entry("ima-buf", ima_ng_data("sha256", hashlib.sha256(b"key").digest(), ".ima", [b"key"]))
    yield "ima-modsig.bin", ima_binary_entry("ima-modsig", ima_ng_data("sha256", f, "/lib/m.ko", [b"", b"", b""]))
    yield "custom.bin", ima_binary_entry("d-ngv2|n-ng", ima_field(b"ima:sha256:\0" + f) + ima_field(b"/x\0"))
    legacy = hashlib.sha1(b"x").digest() + struct.pack("<I", 4) + b"/bin"
    yield "ima-legacy.bin", ima_binary_entry("ima", legacy)
    yield "truncated.bin", ng[:-5]


def ima_ascii_seeds():
    lines = []
    for name, data in (("boot_aggregate", b"a"), ("/usr/bin/bash", b"b"), ("/path with space", b"c")):
        d = hashlib.sha256(data).digest()
        th = hashlib.sha1(ima_ng_data("sha256", d, name)).hexdigest()
        lines.append(f"10 {th} ima-ng sha256:{d.hex()} {name}")
    d = hashlib.sha256(b"s").digest()
    sig = bytes.fromhex("030204aabbccdd0002beef")
    th = hashlib.sha1(ima_ng_data("sha256", d, "/bin/sh", [sig])).hexdigest()
    lines.append(f"10 {th} ima-sig sha256:{d.hex()} /bin/sh {sig.hex()}")
    lines.append("10 " + "0" * 40 + " ima-ng sha256:" + "0" * 64 + " /var/log/v")
    yield "ima-ng.txt", ("\n".join(lines) + "\n").encode()
    legacy = hashlib.sha1(b"x").digest()
    th = hashlib.sha1(legacy + b"/init".ljust(256, b"\0")).hexdigest()
    yield "ima-legacy.txt", f"10 {th} ima {legacy.hex()} /init\n".encode()
    yield "bad-line.txt", b"10 zz ima-ng sha256:00 /x\n"


def ima_policy_seeds():
    d = hashlib.sha256(b"file").hexdigest()
    yield "keylime-v1.json", ('{"meta": {"version": 1, "generator": 3}, "release": 0, '
                              '"digests": {"/usr/bin/bash": ["' + d + '"], "boot_aggregate": ["' + d + '"]}, '
                              '"excludes": ["/tmp/.*", "/var/log/\\\\d+"], "keyrings": {".ima": ["' + d + '"]}, '
                              '"ima": {"ignored_keyrings": ["*"], "log_hash_alg": "sha1", "dm_policy": null}, '
                              '"ima-buf": {"kexec-cmdline": ["' + d + '"]}, "verification-keys": ""}').encode()
    yield "keylime-allowlist.json", ('{"meta": {"version": 5}, "hashes": {"/init": ["' + d[:40] + '"]}}').encode()
    yield "sha256sum.txt", f"{d}  /usr/bin/bash\n{d} */bin/sh\n# comment\n".encode()
    yield "checkpoint.txt", ("trustchain-ima-checkpoint 1\nentries 3\npcr 10 sha256 " + d + "\n").encode()


def policy_seeds():
    d = hashlib.sha256(b"component").hexdigest()
    e = hashlib.sha1(b"component").hexdigest()
    yield "policy.json", ('{"trustchain_policy": 1, "version": 3, "required_banks": ["sha256"], '
                          '"refuse_sha1_only": true, "components": ['
                          '{"name": "kernel-cmdline", "stage": "cmdline", "match": {"pcr": 12, '
                          '"event_type": 13, "description": "load options"}, "digests": ['
                          '{"alg": "sha256", "digest": "' + d + '", "state": "trusted", "source": "s", '
                          '"added": "2026-11-26T00:00:00Z", "content": "console=ttyS0 quiet"}, '
                          '{"alg": "sha1", "digest": "' + e + '", "state": "quarantined", "reason": "r"}]}, '
                          '{"name": "/usr/bin/x", "stage": "os-file", "match": {"pcr": 10, '
                          '"description": "/usr/bin/x"}, "required": false, "digests": []}], '
                          '"files": {"/usr/bin/bash": ["sha256:' + d + '"]}, "excludes": ["/tmp/.*"], '
                          '"golden_pcrs": {"sha256": {"0": "' + d + '"}}, '
                          '"signature": {"alg": "ecdsa-p256-sha256", "key_id": "' + e + '", '
                          '"value": "3006020101020101"}}').encode()
    yield "refstate.json", ('{"scrtm_and_bios": [{"scrtm": "0x' + d + '", "platform_firmware": ["0x' + d + '"]}], '
                            '"pk": [], "db": [], "mokdig": [{"sha256": "0x' + d + '"}], '
                            '"kernels": [{"shim_authcode_sha256": "0x' + d + '", "kernel_authcode_sha256": "0x' + d + '", '
                            '"initrd_plain_sha256": "0x' + d + '", "kernel_cmdline": "console=.*"}]}').encode()
    for name, data in ima_policy_seeds():
        if name.endswith(".json"):
            yield name, data


def cel_seeds():
    d = hashlib.sha256(b"launch").hexdigest()
    rec = ('{"recnum": %d, "pcr": 15, "digests": [{"hashAlg": "sha256", "digest": "' + d +
           '"}], "content_type": "trustchain", "content": {"string": "trustchain-launch 1 vm=a"}}')
    yield "sequence.json-seq", ("\x1e" + (rec % 0) + "\n\x1e" + (rec % 1) + "\n").encode()
    yield "array.json", ("[" + (rec % 0) + ", " + (rec % 1) + "]").encode()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "seeds")
    for target, gen in (("eventlog", seeds), ("tpm_quote", quote_seeds),
                        ("ima_binary", ima_binary_seeds), ("ima_ascii", ima_ascii_seeds),
                        ("ima_policy", ima_policy_seeds), ("policy", policy_seeds),
                        ("policy_learn", seeds), ("cel", cel_seeds)):
        out = os.path.join(root, target)
        os.makedirs(out, exist_ok=True)
        for name, data in gen():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
