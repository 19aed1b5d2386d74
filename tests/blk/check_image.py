#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that the patterns blk_demo says it wrote really are in the disk image.

    check_image.py --log build/blk/run.log --image build/blk/run.img
                   [--regions spin,wfi,os] [--untouched]

blk_demo prints, for every region it writes,

    PATTERN blk_demo region=<name> seed=0x<16 hex> sector=<N> count=<M>

and fills sector s (N <= s < N+M), 64-bit little-endian word k (0..63) with
mix64(seed ^ s*0x9e3779b97f4a7c15 ^ k*0xbf58476d1ce4e5b9) (splitmix64's
finaliser), the same function as pat_word() in examples/blk_demo.c.
This script recomputes every word and compares it with the image file, so a
pass means the guest's writes went through virtio-blk into the host file.

--regions names the regions that must appear (each exactly once);
--untouched instead requires no PATTERN line and an image of zeros only (a
read-only run).  Exit 0 on success, 1 with a one-line reason otherwise.
Python 3 standard library only.
"""
import argparse
import re
import struct
import sys

M64 = (1 << 64) - 1
SECTOR = 512
PATTERN_RE = re.compile(
    r"^PATTERN (\S+) region=(\S+) seed=0x([0-9a-fA-F]{16}) sector=(\d+) count=(\d+)\s*$")


def mix64(x):
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    x ^= x >> 31
    return x


def expected_sector(seed, s):
    base = seed ^ ((s * 0x9e3779b97f4a7c15) & M64)
    words = [mix64(base ^ ((k * 0xbf58476d1ce4e5b9) & M64)) for k in range(64)]
    return struct.pack("<64Q", *words)


def fail(msg):
    print("check_image: FAIL: %s" % msg, file=sys.stderr)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--log", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--regions", default="spin,wfi,os")
    p.add_argument("--untouched", action="store_true")
    a = p.parse_args()

    with open(a.log, errors="replace") as f:
        text = f.read().replace("\r", "")
    found = {}
    for line in text.split("\n"):
        m = PATTERN_RE.match(line)
        if not m:
            continue
        name = m.group(2)
        if name in found:
            fail("region %s announced twice" % name)
        found[name] = (int(m.group(3), 16), int(m.group(4)), int(m.group(5)))

    with open(a.image, "rb") as img:
        if a.untouched:
            if found:
                fail("read-only run announced patterns: %s" % ", ".join(sorted(found)))
            offset = 0
            while True:
                chunk = img.read(1 << 20)
                if not chunk:
                    break
                if chunk.count(0) != len(chunk):
                    fail("read-only image changed near byte %d" % offset)
                offset += len(chunk)
            print("check_image: PASS: image untouched (%d bytes of zeros)" % offset)
            return
        want = [r for r in a.regions.split(",") if r]
        missing = [r for r in want if r not in found]
        if missing:
            fail("no PATTERN line for region(s) %s" % ", ".join(missing))
        total = 0
        for name in want:
            seed, first, count = found[name]
            if count == 0:
                fail("region %s is empty" % name)
            img.seek(first * SECTOR)
            data = img.read(count * SECTOR)
            if len(data) != count * SECTOR:
                fail("region %s: image too short" % name)
            for i in range(count):
                s = first + i
                got = data[i * SECTOR:(i + 1) * SECTOR]
                if got != expected_sector(seed, s):
                    fail("region %s: sector %d differs from the pattern (seed 0x%016x)"
                         % (name, s, seed))
            total += count
        print("check_image: PASS: %d region(s), %d sectors match (%s)"
              % (len(want), total, ", ".join(want)))


if __name__ == "__main__":
    main()
