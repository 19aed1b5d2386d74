#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot blk_demo under QEMU over a matrix of virtio-blk configurations.

    qemu_blk.py --elf build/riscv/blk_demo_quick.elf --qemu "qemu-system-riscv64 ..." \
                [--config NAME]... [--repeat N] [--timeout S] [--tee] [--build DIR]
                [--tag KEY=VALUE]... [--transport mmio|pci] [--ring split|packed]

For each configuration (default: the whole matrix below) and each of
--repeat rounds:
  1. create a fresh sparse disk image under --build (truncate),
  2. boot through tests/qemu/boot.py (hard timeout, RESULT line and QEMU exit
     status checked) with the RESULT tags (--tag, transport=, ring=, mmio=
     as detected by the guest) and --expect lines for the transport version, the
     negotiated features, the serial given on the -device line, each phase's
     wait strategy and the FIGURE lines,
  3. run tests/blk/check_image.py: the patterns the guest wrote are in the
     image file (or, read-only, the image is untouched).
Stops at the first failure and exits 1; prints one PASS line per boot.

Matrix: legacy virtio-mmio (QEMU's default) and modern
(-global virtio-mmio.force-legacy=false); with --transport pci, a
transitional virtio-blk-pci (QEMU's default) and a modern-only one
(disable-legacy=on), the guest driving the modern interface of both; each with event_idx and
indirect_desc on and off, plus a read-only disk (modern).  `demo` is QEMU's
defaults with serial=virtq-demo.  Python 3 standard library only.
"""
import argparse
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOOT_PY = os.path.join(ROOT, "tests", "qemu", "boot.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
import qemu_matrix  # noqa: E402
CHECK_PY = os.path.join(HERE, "check_image.py")
IMAGE_BYTES = 128 << 20

# name: (modern, event_idx, indirect_desc, read_only); None = QEMU's default
CONFIGS = {}
for _modern in (False, True):
    for _ev in (True, False):
        for _ind in (True, False):
            CONFIGS["%s-ev%d-in%d" % ("modern" if _modern else "legacy", _ev, _ind)] = \
                (_modern, _ev, _ind, False)
CONFIGS["modern-ro"] = (True, True, True, True)
CONFIGS["demo"] = (False, None, None, False)
MATRIX = [n for n in CONFIGS if n != "demo"]


def serial_for(name):
    s = "virtq-demo" if name == "demo" else "vq-" + name
    assert len(s) <= 20  # GET_ID carries at most 20 bytes
    return s


def onoff(v):
    return "on" if v else "off"


def build_command(a, qemu, elf, img, name):
    modern, ev, ind, ro = CONFIGS[name]
    cmd = list(qemu)
    if modern and a.transport == "mmio":
        cmd += ["-global", "virtio-mmio.force-legacy=false"]
    drive = "if=none,id=d0,file=%s,format=raw" % img
    if ro:
        drive += ",readonly=on"
    dev = qemu_matrix.device(a, "blk", "drive=d0,serial=%s" % serial_for(name))
    if modern and a.transport == "pci":
        dev += ",disable-legacy=on"  # modern-only id 0x1042; else transitional 0x1001
    if ev is not None:
        dev += ",event_idx=%s" % onoff(ev)
    if ind is not None:
        dev += ",indirect_desc=%s" % onoff(ind)
    cmd += ["-drive", drive, "-device", dev, "-kernel", elf]
    return cmd


def expectations(a, name):
    modern, ev, ind, ro = CONFIGS[name]
    if a.transport == "pci":  # virtq drives a transitional function's modern interface
        where = r"^blk: pci 00:[0-9a-f]{2}\.0 irq \d+, virtio-pci \(modern\)$"
    else:
        where = (r"^blk: slot \d+ @0x[0-9a-f]+ irq \d+, virtio-mmio v%s \(%s\)$"
                 % (("2", "modern") if modern else ("1", "legacy")))
    if a.transport == "pci":  # QEMU 7.2 offers VIRTIO_F_RING_RESET on virtio-pci
        reset = [r"^blk: ring_reset: queue 0 reset and set up again, 32 reads and the "
                 r"spin region re-read after it: ok$",
                 r"^FIGURE blk_demo ring_resets=1 count$"]
    else:
        reset = [r"^blk_demo: phase=ring_reset: not negotiated \(never on virtio-mmio\)$"]
    ex = reset + [
        r'^blk: serial="%s"$' % serial_for(name),
        where,
        r"^blk_demo: phase=spin: early init, no interrupt configured$",
        r"^blk: spin: wait=SPIN, \d+ QD1 reads$",
        r"^blk_demo: phase=wfi: irq \d+ routed, interrupts on, wait=WFI$",
        r"^blk_demo: phase=os: scheduler running \(tick \d+ us\), task \d, wait=OS$",
        r"^FIGURE blk_demo seq_read=\d+\.\d{3} MiB/s$",
        r"^FIGURE blk_demo qd1=\d+ IOPS$",
        r"^FIGURE blk_demo qd32=\d+ IOPS$",
        r"^FIGURE blk_demo os_qd1=\d+ IOPS$",
        r"^FIGURE blk_demo (seq|qd1|qd32|os_qd1)_kicks_per_req=\d+\.\d{3} count$",
        r"^FIGURE blk_demo (seq|qd1|qd32|os_qd1)_irqs_per_req=\d+\.\d{3} count$",
        r"^FIGURE blk_demo os_blocks_other_task_ran=[1-9]\d* count$",
    ]
    if ev is not None:
        ex.append(r"indirect=%d event_idx=%d " % (int(ind), int(ev)))
    if ro:
        ex += [r" ro=1$", r'^blk: read-only: writes refused with "device is read-only"']
    else:
        ex += [r" ro=0$", r"^blk: spin: wrote 128 KiB as one 8-segment request",
               r"^blk: wfi: wrote 128 KiB as 32 requests in flight at once"]
    return ex


def run_one(a, qemu, name, round_no):
    os.makedirs(a.build, exist_ok=True)
    img = os.path.join(a.build, "%s.img" % name)
    log = os.path.join(a.build, "%s.log" % name)
    if os.path.exists(img):
        os.unlink(img)  # fresh every boot: nothing left over can pass the check
    with open(img, "wb") as f:
        f.truncate(IMAGE_BYTES)
    boot = [sys.executable, BOOT_PY, "--name", "blk_demo", "--timeout", str(a.timeout),
            "--log", log]
    if a.tee:
        boot.append("--tee")
    for e in expectations(a, name):
        boot += ["--expect", e]
    boot += ["--reject", r"^blk: .*timed out"]
    boot += qemu_matrix.tag_args(a, CONFIGS[name][0])
    boot += ["--"] + build_command(a, qemu, a.elf, img, name)
    t0 = time.monotonic()
    if subprocess.call(boot) != 0:
        return "boot failed (log: %s)" % log
    check = [sys.executable, CHECK_PY, "--log", log, "--image", img]
    if CONFIGS[name][3]:
        check.append("--untouched")
    if subprocess.call(check) != 0:
        return "image check failed (log: %s, image: %s)" % (log, img)
    print("qemu_blk: PASS %s%s (%.1fs)" % (name, "" if a.repeat == 1 else " round %d/%d"
                                           % (round_no, a.repeat), time.monotonic() - t0))
    sys.stdout.flush()
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--elf", required=True)
    p.add_argument("--qemu", required=True, help="base QEMU command line (one string)")
    p.add_argument("--config", action="append", choices=sorted(CONFIGS),
                   help="configuration(s) to boot (default: the matrix)")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--build", default=os.path.join("build", "blk"))
    p.add_argument("--tee", action="store_true")
    qemu_matrix.add_args(p)
    a = p.parse_args()
    if a.repeat < 1:
        p.error("--repeat must be >= 1")
    if not os.path.exists(a.elf):
        p.error("no such ELF: %s" % a.elf)
    qemu = shlex.split(a.qemu)
    names = a.config or MATRIX
    if qemu_matrix.needs_modern(a):
        # Packed needs modern virtio-mmio: `demo` (QEMU's defaults) goes
        # modern, and a legacy cell cannot be asked for.
        CONFIGS["demo"] = (True, None, None, False)
        if any(not CONFIGS[n][0] for n in names):
            p.error("--ring packed over virtio-mmio needs modern configurations")
    t0 = time.monotonic()
    for r in range(1, a.repeat + 1):
        for name in names:
            reason = run_one(a, qemu, name, r)
            if reason:
                print("qemu_blk: FAIL %s: %s" % (name, reason), file=sys.stderr)
                return 1
    print("qemu_blk: all %d boot(s) passed in %.1fs"
          % (a.repeat * len(names), time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
