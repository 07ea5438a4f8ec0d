#!/usr/bin/env python3
"""Zero the GPU code for every architecture but one in a shared library's .nv_fatbin section.

Why: the onnxruntime-gpu wheel's CUDA provider is 284 MB, mostly cubins for six GPU
architectures, and the device machine takes at most 64 MiB per call. The CUDA driver loads
the cubin whose architecture matches the GPU (sm_90 on an H100/H200) and never reads the
others, so their payloads can be zeroed: the file keeps its size and layout (every header
and offset stays), and zeros compress to almost nothing. PTX entries are kept, so a kernel
with no cubin for the kept architecture can still be compiled from PTX by the driver.
If the driver ever did read a zeroed cubin it would fail to load the kernel (an error, not a
wrong answer).

Usage: prune_fatbin.py IN.so OUT.so [ARCH=90]
Prints a table of entries kept and zeroed per architecture.
"""
import struct
import sys
from collections import Counter

FATBIN_MAGIC = 0xBA55ED50


def die(msg):
    """Bad input: one line naming the file, exit 2."""
    print(f"prune_fatbin: {msg}", file=sys.stderr)
    sys.exit(2)


def nv_fatbin_section(data, path):
    """(offset, size) of .nv_fatbin in an ELF64 little-endian file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        die(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    strtab_off, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)
    for i in range(shnum):
        base = shoff + i * shentsize
        name_off, = struct.unpack_from("<I", data, base)
        end = data.index(b"\0", strtab_off + name_off)
        if data[strtab_off + name_off:end] == b".nv_fatbin":
            off, size = struct.unpack_from("<QQ", data, base + 0x18)
            return off, size
    die(f"{path}: no .nv_fatbin section")


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and not sys.argv[3].isdigit()):
        die("usage: prune_fatbin.py IN.so OUT.so [ARCH=90]")
    keep_arch = int(sys.argv[3]) if len(sys.argv) == 4 else 90
    try:
        data = bytearray(open(sys.argv[1], "rb").read())
    except OSError as e:
        die(f"cannot read {sys.argv[1]}: {e.strerror}")
    sec_off, sec_size = nv_fatbin_section(data, sys.argv[1])
    pos, end = sec_off, sec_off + sec_size
    kept, zeroed, zero_bytes = Counter(), Counter(), 0
    while pos + 16 <= end:
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:
            pos += 8  # containers are 8-byte aligned; skip padding between them
            continue
        entry = pos + header_size
        container_end = entry + fat_size
        while entry < container_end:
            kind, _v, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
            arch, = struct.unpack_from("<I", data, entry + 28)
            label = ("ptx" if kind == 1 else "sm") + f"_{arch}"
            start = entry + entry_header
            if kind == 2 and arch != keep_arch:
                data[start:start + payload] = bytes(payload)
                zeroed[label] += 1
                zero_bytes += payload
            else:
                kept[label] += 1
            entry = start + payload
        pos = container_end
    open(sys.argv[2], "wb").write(data)
    for label in sorted(set(kept) | set(zeroed)):
        print(f"{label}\tkept {kept[label]}\tzeroed {zeroed[label]}")
    print(f"zeroed {zero_bytes / 2**20:.1f} MiB of {sec_size / 2**20:.1f} MiB in .nv_fatbin")


if __name__ == "__main__":
    main()
