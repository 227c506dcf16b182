#!/usr/bin/env python3
"""Writes the hand-built seed inputs of the pe_fuzz target (fuzz/seeds/pe/).

Small PE/COFF images laid out from Microsoft's "PE Format" specification
(MS-DOS stub, "PE\\0\\0", COFF File Header, Optional Header PE32/PE32+ with
data directories, Section Table, Attribute Certificate Table), so the
repository holds no third-party binaries. Usage: make_pe_seeds.py [outdir]
"""
import os
import struct
import sys


def pe_image(pe32_plus=True, rva_count=16, sections=((b".text", 0x200, 0x200),
                                                      (b".data", 0x400, 0x200)),
             trailing=16, cert_size=0, size_of_headers=0x200, e_lfanew=0x80):
    fixed = 112 if pe32_plus else 96
    opt_size = fixed + 8 * rva_count
    sections_end = max([size_of_headers] + [off + size for _, off, size in sections])
    body = sections_end + trailing
    img = bytearray(body + cert_size)

    img[0:2] = b"MZ"
    struct.pack_into("<I", img, 0x3C, e_lfanew)
    img[e_lfanew:e_lfanew + 4] = b"PE\0\0"
    coff = e_lfanew + 4
    # Machine x64, NumberOfSections, TimeDateStamp, PointerToSymbolTable,
    # NumberOfSymbols, SizeOfOptionalHeader, Characteristics.
    struct.pack_into("<HHIIIHH", img, coff, 0x8664, len(sections), 0, 0, 0,
                     opt_size, 0x0206)
    opt = coff + 20
    struct.pack_into("<H", img, opt, 0x20B if pe32_plus else 0x10B)
    struct.pack_into("<II", img, opt + 32, 0x1000, 0x200)  # Section/FileAlignment
    struct.pack_into("<I", img, opt + 56, 0x1000 * (len(sections) + 1))  # SizeOfImage
    struct.pack_into("<I", img, opt + 60, size_of_headers)
    struct.pack_into("<I", img, opt + 64, 0x5EED)          # CheckSum
    struct.pack_into("<H", img, opt + 68, 10)              # EFI application
    struct.pack_into("<I", img, opt + (108 if pe32_plus else 92), rva_count)
    if rva_count > 4 and cert_size:
        struct.pack_into("<II", img, opt + fixed + 4 * 8, body, cert_size)
    table = opt + opt_size
    for i, (name, off, size) in enumerate(sections):
        struct.pack_into("<8sIIII", img, table + 40 * i, name, size,
                         0x1000 * (i + 1), size, off)
        for k in range(size):
            img[off + k] = ((i + 1) * 31 + k) & 0xFF
    for k in range(trailing):
        img[sections_end + k] = (0xE0 + k) & 0xFF
    if cert_size:
        # WIN_CERTIFICATE: dwLength, wRevision 2.0, WIN_CERT_TYPE_PKCS_SIGNED_DATA.
        struct.pack_into("<IHH", img, body, cert_size, 0x0200, 0x0002)
        img[body + 8:body + cert_size] = bytes((0x30 + k) & 0xFF for k in range(cert_size - 8))
    return bytes(img)


def seeds():
    yield "pe32plus-unsigned.efi", pe_image()
    yield "pe32plus-signed.efi", pe_image(trailing=0, cert_size=0x40)
    yield "pe32-no-cert-dir.efi", pe_image(
        pe32_plus=False, rva_count=4, trailing=8,
        sections=((b".data", 0x400, 0x200), (b".bss", 0, 0), (b".text", 0x200, 0x200)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "seeds", "pe")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
