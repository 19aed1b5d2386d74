#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""blk_demo against a second, independent virtio-blk implementation:
qemu-storage-daemon's vhost-user-blk export (its rings are processed by
libvhost-user, not by QEMU's virtio core).

    vhost_user_blk.py --elf build/riscv/blk_demo_quick.elf --qemu "qemu-system-riscv64 ..."
                      [--build DIR] [--timeout S] [--tee] [--tag KEY=VALUE]...

Two boots, each against a fresh export of a fresh image:
  modern  (-global virtio-mmio.force-legacy=false): the whole demo passes
          (boot.py: RESULT PASS with the tags, transport v2, the export's
          size_max 0 taken as 4 KiB), and tests/blk/check_image.py finds
          the patterns the guest wrote in the exported image;
  legacy  (QEMU's default virtio-mmio v1): vhost-user needs a modern
          transport, the export never completes a request, and the demo
          must end by itself with a clean "timed out" FAIL (no hang).
QEMU shares guest memory with the daemon through a memfd backend.
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
CHECK_PY = os.path.join(HERE, "check_image.py")
IMAGE_BYTES = 128 << 20
MEM = "128M"


def start_export(build, name):
    img = os.path.join(build, "%s.img" % name)
    sock = os.path.join(build, "%s.sock" % name)
    for p in (img, sock):
        if os.path.exists(p):
            os.unlink(p)
    with open(img, "wb") as f:
        f.truncate(IMAGE_BYTES)
    log = open(os.path.join(build, "%s-qsd.log" % name), "w")
    qsd = subprocess.Popen(
        ["qemu-storage-daemon",
         "--blockdev", "driver=file,node-name=f0,filename=%s" % img,
         "--export", "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,"
         "addr.path=%s,writable=on" % sock],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not os.path.exists(sock):
        if qsd.poll() is not None or time.monotonic() > deadline:
            qsd.kill()
            raise SystemExit("vhost_user_blk: qemu-storage-daemon did not start "
                             "(see %s)" % log.name)
        time.sleep(0.05)
    return qsd, img, sock


def qemu_line(qemu, sock, modern, elf):
    cmd = list(qemu)
    # The machine's RAM must be a shared memfd so the daemon can map it.
    for i, w in enumerate(cmd):
        if w == "-machine" and i + 1 < len(cmd):
            cmd[i + 1] += ",memory-backend=mem"
    if "-m" in cmd:
        i = cmd.index("-m")
        del cmd[i:i + 2]
    cmd += ["-m", MEM, "-object", "memory-backend-memfd,id=mem,size=%s,share=on" % MEM]
    if modern:
        cmd += ["-global", "virtio-mmio.force-legacy=false"]
    cmd += ["-chardev", "socket,id=vu0,path=%s" % sock,
            "-device", "vhost-user-blk,chardev=vu0", "-kernel", elf]
    return cmd


def modern(a, qemu):
    qsd, img, sock = start_export(a.build, "modern")
    try:
        log = os.path.join(a.build, "modern.log")
        boot = [sys.executable, BOOT_PY, "--name", "blk_demo", "--timeout", str(a.timeout),
                "--log", log,
                "--tag", "transport=mmio", "--tag", "ring=split", "--tag", "mmio=2",
                "--expect", r"virtio-mmio v2 \(modern\)$",
                "--expect", r"^blk: capacity=\d+ sectors .* size_max=4096 ",
                "--expect", r"^blk: wfi: wrote 128 KiB as 32 requests in flight at once",
                "--reject", r"timed out"]
        for t in a.tag:
            boot += ["--tag", t]
        if a.tee:
            boot.append("--tee")
        boot += ["--"] + qemu_line(qemu, sock, True, a.elf)
        if subprocess.call(boot) != 0:
            return "modern: boot failed (log: %s)" % log
    finally:
        qsd.terminate()
        qsd.wait(timeout=10)
    if subprocess.call([sys.executable, CHECK_PY, "--log", log, "--image", img]) != 0:
        return "modern: image check failed (log %s, image %s)" % (log, img)
    return None


def legacy(a, qemu):
    qsd, _, sock = start_export(a.build, "legacy")
    try:
        log = os.path.join(a.build, "legacy.log")
        try:
            p = subprocess.run(qemu_line(qemu, sock, False, a.elf), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=a.timeout,
                               universal_newlines=True)
        except subprocess.TimeoutExpired:
            return "legacy: the demo hung (no RESULT within %.0f s)" % a.timeout
        with open(log, "w") as f:
            f.write(p.stdout)
        if a.tee:
            sys.stdout.write(p.stdout)
        results = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
        if p.returncode == 0 or len(results) != 1 or " FAIL " not in results[0] \
                or "timed out" not in results[0] or "mmio=1" not in results[0]:
            return "legacy: expected one clean 'timed out' FAIL over mmio=1, got %r " \
                   "(exit %d, log %s)" % (results, p.returncode, log)
    finally:
        qsd.terminate()
        qsd.wait(timeout=10)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--elf", required=True)
    p.add_argument("--qemu", required=True, help="base QEMU command line (one string)")
    p.add_argument("--build", default=os.path.join("build", "vhost"))
    p.add_argument("--timeout", type=float, default=90)
    p.add_argument("--tee", action="store_true")
    p.add_argument("--tag", action="append", default=[])
    a = p.parse_args()
    os.makedirs(a.build, exist_ok=True)
    qemu = shlex.split(a.qemu)
    for name, fn in (("modern", modern), ("legacy", legacy)):
        t0 = time.monotonic()
        why = fn(a, qemu)
        if why:
            print("vhost_user_blk: FAIL %s" % why, file=sys.stderr)
            return 1
        print("vhost_user_blk: PASS %s (%.1fs)" % (name, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
