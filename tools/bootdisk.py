#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bootdisk.py — GPT disks for the bootloader (examples/bootloader).

  bootdisk.py build OUT --kernel IMAGE [--initrd CPIO] [--cmdline TEXT]
        A GPT disk (sgdisk from Debian's gdisk) with partitions named
        kernel, initrd, cmdline, each just large enough (1 MiB aligned).
  bootdisk.py hostile GOOD OUTDIR [--kernel IMAGE]
        The hostile variants of a good disk, one file per case (see CASES),
        each with the bootloader's expected error message in CASES.
  bootdisk.py seeds DIR [--check]
        Seed inputs for the fuzz targets (fuzz_gpt, fuzz_fdt) in DIR/<name>/;
        --check only verifies the committed seeds are what this writes.

Every mutation recomputes the CRCs it must, so each case tests the one
check it names rather than tripping over a CRC first.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import zlib

SEC = 512
MIB = 1 << 20

# ---- GPT fields (UEFI 2.10, 5.3.2 and 5.3.3) ------------------------------


def hdr_off(img_len, backup):
    return (img_len // SEC - 1) * SEC if backup else SEC


def get(img, off, fmt):
    return struct.unpack_from('<' + fmt, img, off)[0]


def put(img, off, fmt, v):
    struct.pack_into('<' + fmt, img, off, v)


def fix_crcs(img, backup, entries=True):
    h = hdr_off(len(img), backup)
    if entries:
        ent = get(img, h + 72, 'Q') * SEC
        n = get(img, h + 80, 'I') * get(img, h + 84, 'I')
        if ent + n <= len(img):
            put(img, h + 88, 'I', zlib.crc32(bytes(img[ent:ent + n])))
    size = get(img, h + 12, 'I')
    put(img, h + 16, 'I', 0)
    put(img, h + 16, 'I', zlib.crc32(bytes(img[h:h + size])))


def entry_off(img, backup, i):
    h = hdr_off(len(img), backup)
    return get(img, h + 72, 'Q') * SEC + i * get(img, h + 84, 'I')


def find_entry(img, name):
    h = hdr_off(len(img), 0)
    for i in range(get(img, h + 80, 'I')):
        e = entry_off(img, 0, i)
        if img[e + 56:e + 56 + 72].decode('utf-16-le').split('\0')[0] == name:
            return i
    raise SystemExit('bootdisk: no partition %r' % name)


def write_gpt(nsec, parts, count=4):
    """A whole disk image with primary and backup GPT, parts = [(name, first, last)]."""
    img = bytearray(nsec * SEC)
    img[446 + 4] = 0xEE
    put(img, 446 + 8, 'I', 1)
    put(img, 446 + 12, 'I', min(nsec - 1, 0xFFFFFFFF))
    img[510:512] = b'\x55\xaa'
    arr_secs = (count * 128 + SEC - 1) // SEC
    arr = bytearray(count * 128)
    linux = bytes.fromhex('af3dc60f838472478e793d69d8477de4')
    for i, (name, first, last) in enumerate(parts):
        e = i * 128
        arr[e:e + 16] = linux
        arr[e + 16] = i + 1
        put(arr, e + 32, 'Q', first)
        put(arr, e + 40, 'Q', last)
        n = name.encode('utf-16-le')
        arr[e + 56:e + 56 + len(n)] = n
    for backup in (0, 1):
        h = hdr_off(len(img), backup)
        ent = nsec - 1 - arr_secs if backup else 2
        img[h:h + 8] = b'EFI PART'
        put(img, h + 8, 'I', 0x00010000)
        put(img, h + 12, 'I', 92)
        put(img, h + 24, 'Q', nsec - 1 if backup else 1)
        put(img, h + 32, 'Q', 1 if backup else nsec - 1)
        put(img, h + 40, 'Q', 2 + arr_secs)
        put(img, h + 48, 'Q', nsec - 2 - arr_secs)
        img[h + 56:h + 72] = b'\x5a' * 16
        put(img, h + 72, 'Q', ent)
        put(img, h + 80, 'I', count)
        put(img, h + 84, 'I', 128)
        img[ent * SEC:ent * SEC + len(arr)] = arr
        fix_crcs(img, backup)
    return img


# ---- a minimal FDT writer (for fuzz seeds) -------------------------------


def write_fdt(nodes, chosen=True):
    strings = bytearray()
    struct_ = bytearray()

    def soff(name):
        b = name.encode() + b'\0'
        i = strings.find(b)
        if i < 0:
            i = len(strings)
            strings.extend(b)
        return i

    def begin(name):
        struct_.extend(struct.pack('>I', 1))
        b = name.encode() + b'\0'
        struct_.extend(b + b'\0' * (-len(b) % 4))

    def prop(name, val):
        struct_.extend(struct.pack('>III', 3, len(val), soff(name)))
        struct_.extend(val + b'\0' * (-len(val) % 4))

    begin('')
    prop('compatible', b'linux,dummy-virt\0')
    prop('#address-cells', struct.pack('>I', 2))
    if chosen:
        begin('chosen')
        prop('bootargs', b'old\0')
        struct_.extend(struct.pack('>I', 2))
    for n in nodes:
        begin(n)
        prop('reg', struct.pack('>QQ', 0x40000000, 0x8000000))
        struct_.extend(struct.pack('>I', 2))
    struct_.extend(struct.pack('>II', 2, 9))
    rsv = struct.pack('>QQQQ', 0x48000000, 0x1000, 0, 0)
    off_rsv = 40
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(struct_)
    total = off_strings + len(strings)
    hdr = struct.pack('>10I', 0xd00dfeed, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                      len(strings), len(struct_))
    return hdr + rsv + bytes(struct_) + bytes(strings)


def seeds():
    out = {}
    good = write_gpt(64, [('kernel', 4, 20), ('initrd', 21, 40), ('cmdline', 41, 41)])
    out['fuzz_gpt/seed-good'] = bytes(good)
    bad = bytearray(good)
    bad[SEC + 40] ^= 1  # primary header CRC broken: the backup is read
    out['fuzz_gpt/seed-backup'] = bytes(bad)
    fixme = bytearray(good)
    fixme[0] = 1  # odd first byte: the harness recomputes the CRCs
    out['fuzz_gpt/seed-fixcrc'] = bytes(fixme)
    out['fuzz_fdt/seed-chosen'] = write_fdt(['memory@40000000'])
    out['fuzz_fdt/seed-nochosen'] = write_fdt(['memory@40000000', 'pl011@9000000'], chosen=False)
    return out


# ---- hostile variants of a good disk --------------------------------------
# name: (what it is, the bootloader's expected message)

CASES = {
    'gpt-crc-backup-ok': ('primary header CRC bad, backup good: boots from the backup', None),
    'gpt-crc-both': ('both header CRCs bad', 'GPT: header CRC32 mismatch'),
    'gpt-entsize': ('SizeOfPartitionEntry 96 (CRCs recomputed)',
                    'GPT: SizeOfPartitionEntry is not 128*2^n up to 4096'),
    'gpt-entcount': ('NumberOfPartitionEntries 1000000, array CRC stale',
                     'GPT: partition entry count is 0 or the array is too large'),
    'gpt-beyond': ('the initrd entry ends past the disk',
                   'GPT: a partition lies outside the usable LBAs or ends before it starts'),
    'gpt-overlap': ('the initrd starts inside the kernel', 'GPT: two partitions overlap'),
    'kernel-huge': ('kernel partition of 1.2 GiB (sparse) on a 1 GiB machine',
                    'placement: kernel partition or image_size larger than the RAM window'),
    'image-truncated': ('the kernel partition holds the first 4 MiB of the Image only',
                        'Image: truncated, its PE sections end beyond the partition'),
    'image-not-arm64': ('an x86 bzImage header in place of the arm64 one',
                        'Image: no ARM\\x64 magic, not an arm64 kernel Image'),
    'initrd-over-kernel': ('image_size 160 MiB: the kernel reaches past the initrd address',
                           'placement: initrd overlaps the kernel (image_size)'),
    'initrd-over-dtb': ('an initrd partition running into the DTB',
                        'placement: initrd overlaps the DTB'),
}


def both(img, fn):
    for b in (0, 1):
        fn(img, b)


def sgdisk(out, size, parts):
    """parts: [(name, first_sector, last_sector)], written with sgdisk."""
    with open(out, 'wb') as f:
        f.truncate(size)
    args = ['sgdisk', '-a', '1', '-o']
    for i, (name, first, last) in enumerate(parts, 1):
        args += ['-n', '%d:%d:%d' % (i, first, last), '-t', '%d:8300' % i, '-c', '%d:%s' % (i, name)]
    subprocess.run(args + [out], check=True, stdout=subprocess.DEVNULL)


def layout(sizes, start=2048, align=2048):
    parts, s = [], start
    for name, n in sizes:
        secs = max(1, (n + SEC - 1) // SEC)
        parts.append((name, s, s + secs - 1))
        s += (secs + align - 1) // align * align
    return parts, s


def build(out, kernel, initrd, cmdline, sizes_override=None, extra_end=0):
    kb = open(kernel, 'rb').read() if kernel else b''
    ib = open(initrd, 'rb').read() if initrd else b''
    cb = (cmdline + '\n').encode() if cmdline is not None else b''
    files = [('kernel', kb)]
    if initrd:
        files.append(('initrd', ib))
    if cmdline is not None:
        files.append(('cmdline', cb))
    sizes = [(n, len(b)) for n, b in files]
    if sizes_override:
        sizes = [(n, sizes_override.get(n, s)) for n, s in sizes]
    parts, end = layout(sizes)
    total = (end + 2048 + extra_end) * SEC
    sgdisk(out, total, parts)
    with open(out, 'r+b') as f:
        for (name, data), (_, first, _) in zip(files, parts):
            f.seek(first * SEC)
            f.write(data)
    return parts


def hostile(good, outdir, kernel, initrd, cmdline):
    os.makedirs(outdir, exist_ok=True)
    base = bytearray(open(good, 'rb').read())

    def save(name, img):
        assert len(img) == len(base)
        with open(os.path.join(outdir, name + '.img'), 'wb') as f:
            f.write(img)

    img = bytearray(base)
    img[hdr_off(len(img), 0) + 40] ^= 1
    save('gpt-crc-backup-ok', img)
    img[hdr_off(len(img), 1) + 40] ^= 1
    save('gpt-crc-both', img)

    img = bytearray(base)
    both(img, lambda m, b: (put(m, hdr_off(len(m), b) + 84, 'I', 96), fix_crcs(m, b, False)))
    save('gpt-entsize', img)
    img = bytearray(base)
    both(img, lambda m, b: (put(m, hdr_off(len(m), b) + 80, 'I', 1000000), fix_crcs(m, b, False)))
    save('gpt-entcount', img)

    i = find_entry(base, 'initrd')
    k = find_entry(base, 'kernel')
    img = bytearray(base)
    both(img, lambda m, b: (put(m, entry_off(m, b, i) + 40, 'Q', len(m) // SEC + 10), fix_crcs(m, b)))
    save('gpt-beyond', img)
    img = bytearray(base)
    kfirst = get(base, entry_off(base, 0, k) + 32, 'Q')
    both(img, lambda m, b: (put(m, entry_off(m, b, i) + 32, 'Q', kfirst + 8), fix_crcs(m, b)))
    save('gpt-overlap', img)

    # Sparse where large: sgdisk writes the GPT, we write the few bytes.
    tmp = os.path.join(outdir, 'kernel-huge.img')
    build(tmp, kernel, initrd, cmdline, {'kernel': 1200 * MIB})

    kb = open(kernel, 'rb').read()
    tmpk = os.path.join(outdir, 'truncated.Image')
    with open(tmpk, 'wb') as f:
        f.write(kb[:4 * MIB])
    build(os.path.join(outdir, 'image-truncated.img'), tmpk, initrd, cmdline)
    os.unlink(tmpk)

    img = bytearray(base)
    kfirst_b = kfirst * SEC
    img[kfirst_b:kfirst_b + 64] = bytes(64)
    img[kfirst_b + 0x1fe:kfirst_b + 0x200] = b'\x55\xaa'  # x86 boot protocol header
    img[kfirst_b + 0x202:kfirst_b + 0x206] = b'HdrS'
    save('image-not-arm64', img)

    img = bytearray(base)
    put(img, kfirst_b + 16, 'Q', 160 * MIB)  # past the initrd (0x4800_0000), short of the DTB
    save('initrd-over-kernel', img)

    build(os.path.join(outdir, 'initrd-over-dtb.img'), kernel, initrd, cmdline,
          {'initrd': 200 * MIB})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build')
    b.add_argument('out')
    b.add_argument('--kernel', required=True)
    b.add_argument('--initrd')
    b.add_argument('--cmdline')
    h = sub.add_parser('hostile')
    h.add_argument('good')
    h.add_argument('outdir')
    h.add_argument('--kernel', required=True)
    h.add_argument('--initrd')
    h.add_argument('--cmdline')
    s = sub.add_parser('seeds')
    s.add_argument('dir')
    s.add_argument('--check', action='store_true')
    c = sub.add_parser('cases')
    a = ap.parse_args()
    if a.cmd == 'build':
        for name, first, last in build(a.out, a.kernel, a.initrd, a.cmdline):
            print('bootdisk: %s: %s LBA %d..%d' % (a.out, name, first, last))
    elif a.cmd == 'hostile':
        hostile(a.good, a.outdir, a.kernel, a.initrd, a.cmdline)
    elif a.cmd == 'cases':
        for name, (what, msg) in CASES.items():
            print('%s\t%s\t%s' % (name, msg or '', what))
    else:
        bad = []
        for rel, data in seeds().items():
            p = os.path.join(a.dir, rel)
            if a.check:
                if not os.path.exists(p) or open(p, 'rb').read() != data:
                    bad.append(p)
            else:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                open(p, 'wb').write(data)
        if bad:
            sys.exit('bootdisk: seeds out of date (run tools/bootdisk.py seeds %s): %s'
                     % (a.dir, ' '.join(bad)))


if __name__ == '__main__':
    main()
