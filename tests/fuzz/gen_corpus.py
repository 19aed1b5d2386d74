#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of the virtq fuzz targets.

  python3 tests/fuzz/gen_corpus.py            (re)write tests/fuzz/corpus/*/seed-*
  python3 tests/fuzz/gen_corpus.py --check    exit 1 if a committed seed differs

Each seed is a short script in the targets' input language (documented at
the top of fuzz_ring.c and fuzz_mmio.c) that walks into a state random
mutation takes long to find: a double completion, a used.idx jump, a
chain middle returned as a head, 16-bit index wrap-around, a device that
refuses FEATURES_OK, flapping ConfigGeneration, a reset that never ends.
Regression inputs (crashes fixed in src/) live next to them as regress-*
and are not touched here.  Standard library only.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def u16(v):
    return list(struct.pack("<H", v & 0xFFFF))


def u32(v):
    return list(struct.pack("<I", v & 0xFFFFFFFF))


def u64(v):
    return list(struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF))


# ---- fuzz_ring ---------------------------------------------------------------

(ADD, ADD_IND, PUBLISH, GET, HAS_USED, DISABLE, ENABLE, DELAYED, BREAK, DETACH_ALL,
 DETACH_ONE, HONEST, SUPPRESS, USED_IDX, USED_ELEM, SCRIB_DESC, SCRIB_AVAIL, SCRIB_USED,
 REINIT, GET_ALL, CYCLE, IGNORE_LEN, NULLS, AFTER) = range(24)

EVENT_IDX, INDIRECT, ORDER_PLATFORM, LEGACY = 1, 2, 4, 8


def ring_header(log2, feats=0, bad_init=None, start=0):
    b0 = log2 if log2 <= 7 else 0xF0 | log2
    b1 = feats
    if bad_init is not None:
        b1 |= 0x80 | (bad_init << 4)
    return [b0, b1] + u16(start)


def add(nseg, out, lens=None, bad=0, v=0, indirect=False):
    lens = lens or [8 * (i + 1) for i in range(nseg)]
    b = (nseg - 1) | (out << 2) | (bad << 5)
    return [ADD_IND if indirect else ADD, b, v] + lens[:nseg]


def honest(*picks):
    """picks: (pick, lensel[, u32]) per completion; lensel%3: 0 all, 1 none, 2 u32."""
    out = [HONEST, len(picks) - 1]
    for p in picks:
        out += [p[0], p[1]] + (u32(p[2]) if p[1] % 3 == 2 else [])
    return out


def used_elem(pos, kind, lenkind, pick=0, id32=None, len32=None):
    out = [USED_ELEM, pos, kind, lenkind, pick]
    if kind % 6 == 4:
        out += u32(id32)
    if lenkind % 5 == 4:
        out += u32(len32)
    return out


def scribble(op, off, data):
    return [op] + u16(off) + [len(data) - 1] + list(data)


def get(passlen=True):
    return [GET, 1 if passlen else 0]


RING_SEEDS = {
    # The happy path with both features: chains of 1-4 segments, an
    # indirect table, out-of-order completion, suppression, re-arm.
    "basic-evidx-indirect": ring_header(3, EVENT_IDX | INDIRECT)
    + add(2, 1) + add(3, 1, indirect=True) + add(4, 2) + add(1, 0) + [PUBLISH]
    + honest((2, 0), (0, 2, 5)) + [GET_ALL] + [ENABLE] + [SUPPRESS] + u16(0) + u16(5)
    + add(1, 1) + [PUBLISH] + honest((0, 0), (0, 1)) + get() + get() + [DISABLE, HAS_USED]
    + [DELAYED] + [DETACH_ALL],
    # Without features: NO_NOTIFY / NO_INTERRUPT flags.
    "basic-flags": ring_header(2)
    + add(1, 0) + add(2, 1) + [PUBLISH] + [SUPPRESS] + u16(1) + u16(0) + add(1, 1) + [PUBLISH]
    + [ENABLE] + honest((1, 0)) + get() + [DISABLE] + honest((0, 0), (0, 0)) + [GET_ALL],
    # A chain completed twice: the second completion must break the queue.
    "double-completion": ring_header(2)
    + add(1, 0) + add(1, 0) + [PUBLISH] + honest((0, 0)) + get()
    + used_elem(0x81, 2, 0) + get() + [HAS_USED] + add(1, 0) + [PUBLISH, DETACH_ALL]
    + add(1, 0) + [PUBLISH] + honest((0, 0)) + get(),
    # A chain's middle descriptor returned as a head.
    "non-head-id": ring_header(3, EVENT_IDX)
    + add(3, 1) + add(1, 0) + [PUBLISH] + used_elem(0x80, 1, 1) + get() + [DETACH_ALL],
    # Ids just out of range and anywhere in 32 bits; lengths over the posted.
    "bad-ids-and-lens": ring_header(1)
    + add(1, 0) + [PUBLISH] + used_elem(0x80, 3, 0, pick=1) + get() + [DETACH_ALL]
    + add(1, 0) + [PUBLISH] + used_elem(0x80, 4, 1, id32=0x80000000) + get() + [DETACH_ALL]
    + add(2, 1) + [PUBLISH] + used_elem(0x80, 0, 2) + get() + [DETACH_ALL]
    + add(1, 0) + [PUBLISH] + used_elem(0x80, 0, 4, len32=0xFFFFFFFF) + get(),
    # used.idx jumping past what was published.
    "used-idx-jump": ring_header(4, EVENT_IDX)
    + add(1, 0) + add(1, 0) + [PUBLISH] + [USED_IDX] + u16(0x8000) + [HAS_USED] + get()
    + [ENABLE, PUBLISH] + add(1, 0) + [DETACH_ONE, DETACH_ONE, GET] + [0] + [DETACH_ALL],
    # An unpublished chain completed by a device that guessed it: broken.
    "unpublished-head": ring_header(3)
    + add(1, 0) + [PUBLISH] + add(2, 1) + used_elem(0x80, 5, 0) + get() + [PUBLISH]
    + honest((0, 0)) + get() + [GET_ALL],
    # The device scribbling over everything the driver must not trust.
    "scribbles": ring_header(3, EVENT_IDX | INDIRECT)
    + add(3, 1) + add(2, 0, indirect=True) + [PUBLISH]
    + scribble(SCRIB_DESC, 0, b"\xff" * 16) + scribble(SCRIB_AVAIL, 2, b"\x07\x00\x09\x00")
    + honest((0, 0)) + get() + scribble(SCRIB_USED, 4, b"\x01\x00\x00\x00\xff\xff\xff\xff")
    + get() + [DETACH_ALL],
    # A reset midway: partial detach, refusals while broken, full detach.
    "detach-midway": ring_header(3, INDIRECT)
    + add(2, 1) + add(4, 3, indirect=True) + add(1, 1) + [PUBLISH] + honest((1, 0))
    + [DETACH_ONE] + add(1, 0) + get() + [PUBLISH, ENABLE, HAS_USED] + [DETACH_ONE, DETACH_ALL]
    + add(1, 0) + [PUBLISH] + honest((0, 0)) + get(),
    # Bad adds: NULL segment, zero length, no segments, NULL cookie,
    # > 4 GiB writable, misaligned and NULL indirect tables, ring full.
    "bad-adds": ring_header(1, INDIRECT)
    + add(2, 0, bad=5) + add(2, 1, bad=6, v=1) + add(1, 0, bad=4, v=0x80)
    + add(1, 0, bad=4, v=0x40) + add(2, 0, bad=7, lens=[0, 0])
    + add(1, 0, bad=4, v=0x10, indirect=True) + add(1, 0, bad=4, v=0x20, indirect=True)
    + add(1, 0) + add(1, 0) + add(1, 0, indirect=True) + add(4, 2) + [PUBLISH, DETACH_ALL],
    # Indices wrap at 2^16: kick and interrupt decisions across the wrap.
    "wrap-evidx": ring_header(1, EVENT_IDX, start=65530)
    + [CYCLE, 2, ENABLE] + add(1, 0) + [PUBLISH] + honest((0, 0)) + get()
    + [SUPPRESS] + u16(0) + u16(65535) + add(1, 0) + [PUBLISH] + [CYCLE, 15, DETACH_ALL],
    "wrap-flags": ring_header(0, start=65534) + [ENABLE, CYCLE, 4],
    "wrap-delayed": ring_header(3, EVENT_IDX | INDIRECT, start=65533)
    + add(1, 0) * 5 + add(2, 1, indirect=True) + [PUBLISH, DELAYED]
    + honest((0, 0), (0, 0), (0, 0), (0, 0)) + honest((0, 0), (0, 0)) + [GET_ALL],
    # Delayed interrupt: the lost-wake-up oracle over several completions.
    "delayed-intr": ring_header(4, EVENT_IDX)
    + add(1, 0) * 8 + [PUBLISH, DELAYED] + honest((0, 0), (0, 0), (0, 0), (0, 0))
    + honest((0, 0), (0, 0), (0, 0), (0, 0)) + [GET_ALL, DISABLE, ENABLE],
    # Interrupt after the n-th buffer: in reach, clamped, across the wrap.
    "after-intr": ring_header(4, EVENT_IDX, start=65532)
    + add(1, 0) * 8 + [PUBLISH, AFTER, 3] + honest((0, 0), (0, 0), (0, 0))
    + [AFTER, 40] + honest((0, 0), (0, 0), (0, 0), (0, 0)) + honest((0, 0))
    + [GET_ALL, AFTER, 1],
    # Gets between the re-arm and the interrupt: the event must stand.
    "after-get": ring_header(3, EVENT_IDX)
    + add(1, 0) * 8 + [PUBLISH, DISABLE] + honest((0, 0), (0, 0), (0, 0))
    + [AFTER, 5] + get() + get() + honest((0, 0), (0, 0), (0, 0), (0, 0))
    + honest((0, 0)) + [GET_ALL],
    # Legacy alignment, a 1024-entry ring, bad virtq_init variants, re-init.
    "legacy-big": ring_header(10, LEGACY | INDIRECT, bad_init=2)
    + add(4, 1) + add(3, 3, indirect=True) + [PUBLISH] + honest((0, 0), (0, 0))
    + [GET_ALL, REINIT, EVENT_IDX] + add(1, 0) + [PUBLISH] + honest((0, 0)) + get(),
    # Legacy junk in used.len, accepted once asked for; NULL arguments.
    "ignore-used-len": ring_header(2, 0)
    + add(2, 0) + [PUBLISH, IGNORE_LEN, 1] + used_elem(0x80, 0, 3) + get() + [NULLS]
    + add(1, 0) + [PUBLISH, DETACH_ALL, IGNORE_LEN, 0] + add(1, 0) + [PUBLISH]
    + used_elem(0x80, 0, 2) + get() + [NULLS, DETACH_ALL],
    "bad-init": ring_header(2, 0, bad_init=7) + add(1, 0) + [PUBLISH, BREAK] + get()
    + [DETACH_ALL, REINIT, ORDER_PLATFORM | EVENT_IDX] + add(2, 1) + [PUBLISH],
}

# ---- fuzz_mmio ---------------------------------------------------------------

V1 = 1 << 32
F_INDIRECT, F_EVIDX, F_PACKED = 1 << 28, 1 << 29, 1 << 34
S_REFUSE_FOK, S_NEVER_RESET, S_SLOW_RESET, S_NEEDS_RESET, S_GARBAGE = 1, 2, 4, 8, 16
Q_STICKS, Q_NEVER, Q_LIVE, Q_GARBAGE = 0, 1, 2, 3


def mmio(version=2, magic_ok=True, device_id=2, offered=V1 | F_EVIDX | F_INDIRECT,
         qmax=(64, 8), status=0, ready=Q_STICKS, gen_mode=0, slow=0, cfg=None, gen=0,
         completes=True, int_garbage=False, boot_status=False, misuse=0,
         wanted=F_EVIDX | F_INDIRECT, required=None, num=16, qidx=0, ops=()):
    vsel = {2: 0, 1: 1, 3: 2}.get(version, 3)
    b = (0 if magic_ok else 7) | (vsel << 3) | (completes << 5) | (int_garbage << 6) \
        | (boot_status << 7)
    out = [b]
    if not magic_ok:
        out += u32(0x12345678)
    if vsel == 3:
        out += u32(version)
    out += [device_id] + u64(offered) + list(qmax)
    out += [status | (ready << 5), gen_mode, slow]
    out += list(cfg or range(0x10, 0x30)) + [gen]
    if required is not None:
        misuse |= 0x80
    out += [misuse] + u64(wanted)
    if required is not None:
        out += u64(required)
    out += u16(num) + [qidx]
    for op in ops:
        out += op
    return out


def cfg_read(kind, off, length=None):
    out = [(kind << 3) | 0] + u16(off)
    if kind == 4:
        out += u16(length)
    return out


def cfg_write(off, val):
    return [(5 << 3) | 0] + u16(off) + u32(val)


def add_kick(nseg=1, out=0, kick=True, lens=(8, 8)):
    return [1, (nseg - 1) | (out << 1) | (4 if kick else 0)] + list(lens)


def wait(us, *device_bytes):
    """device_bytes: one per InterruptStatus read (bit 0: complete one)."""
    return [3, us] + list(device_bytes)


GET_OP, ISR_OP, CHECK_OP = [4], [5], [6]

MMIO_SEEDS = {
    "modern-happy": mmio(ops=[
        cfg_read(0, 0), cfg_read(1, 2), cfg_read(2, 4), cfg_read(3, 8), cfg_read(4, 0, 24),
        cfg_write(0, 0xdeadbeef), add_kick(1, 0, lens=(8, 8)) + [1],
        add_kick(2, 1) + [0], wait(5, 0, 1), GET_OP, GET_OP, wait(3, 1), GET_OP, ISR_OP + [0],
        CHECK_OP, [7 | 8], wait(2, 0, 0, 0)]),
    "legacy": mmio(version=1, offered=F_INDIRECT | F_EVIDX, qmax=(128, 0), num=300,
                   ops=[cfg_read(2, 0), cfg_read(3, 4), add_kick(1, 0) + [1], wait(4, 1),
                        GET_OP, ISR_OP + [0]]),
    "refuse-features-ok": mmio(status=S_REFUSE_FOK),
    "never-reset": mmio(status=S_NEVER_RESET),
    "slow-reset-ok": mmio(status=S_SLOW_RESET, slow=40, boot_status=True,
                          ops=[add_kick(1, 0) + [1], wait(2, 1), GET_OP]),
    "slow-reset-timeout": mmio(status=S_SLOW_RESET, slow=200, boot_status=True),
    "needs-reset": mmio(status=S_NEEDS_RESET, completes=False,
                        ops=[add_kick(1, 0), [0x40] + CHECK_OP, [0x40], wait(3, 0x40)]),
    "garbage-status": mmio(status=S_GARBAGE | S_NEEDS_RESET, completes=False),
    "gen-flap": mmio(gen_mode=1, ops=[cfg_read(2, 0)] + [[1, 0]] + [cfg_read(4, 4, 16)]
                     + [[1] * 150]),
    "gen-garbage": mmio(gen_mode=2, ops=[cfg_read(3, 0) + u32(7) + u32(7)]),
    "qmax-zero": mmio(qmax=(0, 0)),
    "qmax-huge": mmio(qmax=(1, 1), num=0x9000, qidx=1),
    "qmax-odd": mmio(qmax=(3, 100), num=100, qidx=1),
    "ready-never-sticks": mmio(ready=Q_NEVER),
    "queue-already-live": mmio(ready=Q_LIVE),
    "bad-magic": mmio(magic_ok=False),
    "bad-version": mmio(version=7),
    "empty-slot": mmio(device_id=0),
    "missing-required": mmio(offered=F_EVIDX, required=F_INDIRECT),
    "packed-wanted": mmio(offered=V1 | F_PACKED, wanted=F_PACKED),
    "misuse": mmio(misuse=1 | 2 | 4 | 16 | 0x40, ops=[cfg_read(2, 0xf00), cfg_read(4, 0xef0, 0x20),
                                                     cfg_write(0xefd, 1), cfg_read(1, 3)]),
    "early-interrupt": mmio(int_garbage=True, misuse=32, ops=[[0] + u32(1)]),
    "hostile-completions": mmio(int_garbage=True, ops=[
        add_kick(1, 0) + [0], add_kick(1, 0) + [0], wait(4, 0xfe, 3, 0xff, 0xff, 0xff, 0xff, 2),
        GET_OP, ISR_OP + [0] + u32(3), GET_OP]),
}


# ---- fuzz_pci ----------------------------------------------------------------
# 256 bytes of configuration space laid out as QEMU's (and the fake's)
# virtio-pci functions are, a BAR size choice, a flag byte, then the BAR.


def pci_config(transitional=False):
    c = bytearray(256)

    def put(off, v, n):
        c[off:off + n] = v.to_bytes(n, "little")

    def cap(pos, nxt, ln, typ, offset, length):
        put(pos, 0x09, 1); put(pos + 1, nxt, 1); put(pos + 2, ln, 1)
        put(pos + 3, typ, 1); put(pos + 4, 4, 1)
        put(pos + 8, offset, 4); put(pos + 12, length, 4)

    put(0x00, 0x1af4, 2)
    put(0x02, 0x1001 if transitional else 0x1042, 2)
    put(0x06, 0x10, 2)
    put(0x2e, 2, 2)
    put(0x34, 0x40, 1)
    cap(0x40, 0x50, 16, 1, 0x0000, 0x40)
    cap(0x50, 0x64, 20, 2, 0x3000, 0x1000)
    put(0x60, 4, 4)
    cap(0x64, 0x74, 16, 3, 0x1000, 4)
    cap(0x74, 0x00, 16, 4, 0x2000, 0x100)
    return bytes(c)


def pci_bar(numq, qsize):
    b = bytearray(0x40)
    b[0x12:0x14] = numq.to_bytes(2, "little")
    b[0x18:0x1a] = qsize.to_bytes(2, "little")
    return bytes(b)


PCI_SEEDS = {
    "modern": pci_config() + bytes([2, 0]) + pci_bar(1, 64),
    "transitional": pci_config(True) + bytes([2, 0]) + pci_bar(1, 64),
    "no-queues": pci_config() + bytes([2, 0]) + pci_bar(0, 0),
    "bar-too-small": pci_config() + bytes([0, 0]) + pci_bar(1, 64),
}


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for target, seeds in (("fuzz_ring", RING_SEEDS), ("fuzz_mmio", MMIO_SEEDS),
                          ("fuzz_pci", PCI_SEEDS)):
        d = os.path.join(ROOT, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            path = os.path.join(d, "seed-" + name)
            blob = bytes(data)
            if check:
                try:
                    with open(path, "rb") as f:
                        same = f.read() == blob
                except OSError:
                    same = False
                if not same:
                    sys.stderr.write("gen_corpus.py: %s is stale\n" % path)
                    bad = 1
            else:
                with open(path, "wb") as f:
                    f.write(blob)
    return bad


if __name__ == "__main__":
    sys.exit(main())
