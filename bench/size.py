#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Code size of virtq as a user links it, for RISC-V.

For each row (an API set and a build configuration) and each target
(rv32imac -Os, rv64gc -O2):

  1. compile the implementation (bench/virtq_impl.c) with
     -ffunction-sections -fdata-sections and the row's configuration
     (wait strategies; WFI/OS hooks are extern dummies from cfg_*.h);
  2. link it with a stub that holds only _start and the dummy hooks,
     -nostdlib, -Wl,--gc-sections, and -Wl,-u,<fn> for exactly the row's
     functions, so the linker keeps those and what they call, nothing else;
  3. read the link map and add up every input section kept from the
     implementation object (and from libgcc, if the compiler called it),
     by kind: .text, .rodata (+.srodata), .data (+.sdata), .bss (+.sbss).
     The stub's own bytes are not counted.

Example drivers (examples/drivers/*.c) are picked up by wildcard: each is
compiled the same way, linked with the implementation keeping every
global function the driver defines, and reported as the driver's bytes
plus the virtq bytes it pulls in.

Writes bench/results/size.csv, size_functions_<target>.txt (nm
--size-sort of the implementation object, every function) and
size_ring_mmio_<target>.txt (the functions of the ring+mmio row as linked).

  python3 bench/size.py [--build DIR] [--results DIR] [--header-dir DIR]

--header-dir DIR measures DIR/virtq.h instead of the project's (a scratch
copy, as bench/size_floor.py makes; its warnings are not errors).
"""
import argparse
import csv
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CROSS = "riscv64-unknown-elf-"

TARGETS = [
    # name, flags (compile and link), optimisation
    ("rv32imac-Os", ["-march=rv32imac", "-mabi=ilp32"], "-Os"),
    ("rv64gc-O2", ["-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany"], "-O2"),
]

RING = ["virtq_ring_bytes", "virtq_init", "virtq_add", "virtq_publish", "virtq_get",
        "virtq_has_used", "virtq_disable_intr", "virtq_enable_intr",
        "virtq_enable_intr_delayed", "virtq_enable_intr_after", "virtq_is_broken", "virtq_break",
        "virtq_num_free", "virtq_detach"]
MMIO = ["virtq_mmio_probe", "virtq_dev_reset", "virtq_dev_begin", "virtq_dev_negotiate",
        "virtq_dev_queue_setup", "virtq_dev_driver_ok", "virtq_dev_fail", "virtq_dev_kick",
        "virtq_dev_notify", "virtq_dev_isr", "virtq_dev_check", "virtq_dev_config_read8",
        "virtq_dev_config_read16", "virtq_dev_config_read32", "virtq_dev_config_read64",
        "virtq_dev_config_read_bytes", "virtq_dev_config_write32"]
INDIRECT = ["virtq_add_indirect"]
WAIT = ["virtq_wait", "virtq_dev_set_wait", "virtq_dev_irq_routed"]
MISC = ["virtq_strerror"]
# What a small polled driver (blk-like, one queue) calls, for comparison.
MINIMAL = ["virtq_mmio_probe", "virtq_dev_begin", "virtq_dev_negotiate",
           "virtq_dev_queue_setup", "virtq_dev_driver_ok", "virtq_dev_config_read64",
           "virtq_add", "virtq_dev_kick", "virtq_get"]

# (row name, configuration header or None, functions kept, what it is)
ROWS = [
    ("ring", None, RING,
     "split ring: every ring call except virtq_add_indirect"),
    ("ring+mmio", None, RING + MMIO,
     "+ virtio-mmio v1/v2 transport, status machine, config space, kick, isr"),
    ("ring+mmio minimal", None, MINIMAL,
     "only what a polled blk-style driver calls: probe, begin, negotiate, queue_setup, "
     "driver_ok, config_read64, add, kick, get"),
    ("ring+mmio minimal, v2 only, no event idx", "bench/size/cfg_min.h", MINIMAL,
     "the same calls built with VIRTQ_EVENT_IDX 0 and VIRTQ_MMIO_LEGACY 0 "
     "(split ring, spin waits, no indirect: bench/size/cfg_min.h)"),
    ("ring+mmio+indirect", None, RING + MMIO + INDIRECT,
     "+ virtq_add_indirect"),
    ("+wait SPIN", None, RING + MMIO + INDIRECT + WAIT,
     "+ virtq_wait, VIRTQ_WAIT=SPIN (iteration-bounded)"),
    ("+wait WFI", "bench/size/cfg_wfi.h", RING + MMIO + INDIRECT + WAIT,
     "+ virtq_wait, VIRTQ_WAIT=SPIN|WFI, clock and alarm hooks"),
    ("+wait OS", "bench/size/cfg_os.h", RING + MMIO + INDIRECT + WAIT,
     "+ virtq_wait, VIRTQ_WAIT=SPIN|OS, clock and OS wait/wake hooks"),
    ("everything", "bench/size/cfg_all.h", RING + MMIO + INDIRECT + WAIT + MISC,
     "every public function, VIRTQ_WAIT=SPIN|WFI|OS, + virtq_strerror"),
]

CFLAGS = ["-std=c99", "-ffreestanding", "-ffunction-sections", "-fdata-sections",
          "-Wall", "-Wextra", "-Werror", "-I" + ROOT]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def kind(section):
    """Map an input section name to the size class it belongs to."""
    for prefix, k in ((".text", "text"), (".rodata", "rodata"), (".srodata", "rodata"),
                      (".sdata", "data"), (".data", "data"), (".sbss", "bss"),
                      (".bss", "bss"), ("COMMON", "bss")):
        if section == prefix or section.startswith(prefix + ".") or \
                (prefix == "COMMON" and section == "COMMON"):
            return k
    return None


# An input section line in a GNU ld map: " .name  0xADDR  0xSIZE file", the
# name alone on its line when it is long.
MAP_LINE = re.compile(r"^ (\S+)(?:\n[ \t]+|[ \t]+)0x([0-9a-f]+)[ \t]+0x([0-9a-f]+)[ \t]+(\S.*)$",
                      re.M)


def map_sizes(map_path, counted):
    """Sum kept input sections whose file matches counted(file)."""
    text = open(map_path).read()
    start = text.find("Linker script and memory map")
    if start < 0:
        raise RuntimeError("no memory map in " + map_path)
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0, "libgcc_text": 0}
    for m in MAP_LINE.finditer(text, start):
        name, size, fname = m.group(1), int(m.group(3), 16), m.group(4).strip()
        if size == 0 or not counted(fname):
            continue
        k = kind(name)
        if k is None:
            continue
        sizes[k] += size
        if k == "text" and "libgcc" in fname:
            sizes["libgcc_text"] += size
    return sizes


def compile_impl(tdir, tflags, opt, cfg):
    obj = os.path.join(tdir, "impl_%s.o" % (os.path.basename(cfg)[:-2] if cfg else "spin"))
    cmd = [CROSS + "gcc"] + tflags + [opt] + CFLAGS
    if cfg:
        cmd.append('-DVIRTQ_CONFIG_FILE="%s"' % os.path.join(ROOT, cfg))
    run(cmd + ["-c", os.path.join(ROOT, "bench/virtq_impl.c"), "-o", obj])
    return obj


def link(tdir, tflags, opt, name, objs, keep, extra=()):
    elf = os.path.join(tdir, name + ".elf")
    mp = os.path.join(tdir, name + ".map")
    stub = os.path.join(tdir, "stub.o")
    if not os.path.exists(stub):
        run([CROSS + "gcc"] + tflags + [opt] + CFLAGS +
            ["-c", os.path.join(ROOT, "bench/size/stub.c"), "-o", stub])
    cmd = [CROSS + "gcc"] + tflags + [opt, "-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
                                      "-Wl,-e,_start", "-Wl,-Map," + mp, "-o", elf, stub]
    cmd += objs + ["-Wl,-u," + f for f in keep] + list(extra) + ["-lgcc"]
    run(cmd)
    return elf, mp


def defined_functions(obj):
    out = run([CROSS + "nm", "--defined-only", "-g", obj])
    return [l.split()[2] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] == "T"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build/bench/size"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--header-dir", help="measure DIR/virtq.h instead (warnings allowed)")
    args = ap.parse_args()
    if args.header_dir:
        # Searched before ROOT: bench/virtq_impl.c's "virtq.h" is found there.
        CFLAGS[:] = ["-I" + os.path.abspath(args.header_dir)] + \
            [f for f in CFLAGS if f != "-Werror"]
    os.makedirs(args.results, exist_ok=True)
    rows = []
    drivers = sorted(glob.glob(os.path.join(ROOT, "examples/drivers/*.c")))
    failures = 0
    for tname, tflags, opt in TARGETS:
        tdir = os.path.join(args.build, tname)
        os.makedirs(tdir, exist_ok=True)
        for f in glob.glob(os.path.join(tdir, "*")):
            os.remove(f)
        impls = {}
        for rname, cfg, keep, what in ROWS:
            if cfg not in impls:
                impls[cfg] = compile_impl(tdir, tflags, opt, cfg)
            safe = re.sub(r"[^a-z0-9]+", "_", rname.lower()).strip("_")
            elf, mp = link(tdir, tflags, opt, safe, [impls[cfg]], keep)
            impl = impls[cfg]
            s = map_sizes(mp, lambda f, impl=impl: f == impl or "libgcc" in f)
            rows.append(dict(target=tname, row=rname, text=s["text"], rodata=s["rodata"],
                             data=s["data"], bss=s["bss"], libgcc_text=s["libgcc_text"],
                             driver_text=0, what=what))
            print("size: %-12s %-20s text %5d rodata %4d data %3d bss %3d" %
                  (tname, rname, s["text"], s["rodata"], s["data"], s["bss"]))
            if rname == "ring+mmio":
                # Per function, exactly as linked (the target row).
                nm = run([CROSS + "nm", "--size-sort", "-S", elf])
                with open(os.path.join(args.results, "size_ring_mmio_%s.txt" % tname), "w") as f:
                    f.write("# bytes function -- ring+mmio row, %s %s, as linked "
                            "(--gc-sections)\n" % (" ".join(tflags), opt))
                    for line in nm.splitlines():
                        a = line.split()
                        if len(a) == 4 and a[2] in "tTrRdDbB" and \
                                not a[3].startswith(("_start", "bench_")):
                            f.write("%5d %s %s\n" % (int(a[1], 16), a[2], a[3]))
        # nm --size-sort of every function in the full build.
        nm = run([CROSS + "nm", "--size-sort", "-S", impls["bench/size/cfg_all.h"]])
        with open(os.path.join(args.results, "size_functions_%s.txt" % tname), "w") as f:
            f.write("# %snm --size-sort -S of virtq_impl.c, %s %s, every function and\n"
                    "# wait strategy built in (bench/size/cfg_all.h); size is hex bytes\n"
                    % (CROSS, " ".join(tflags), opt))
            f.write(nm)
        # Example drivers: their own bytes plus the virtq bytes they pull in.
        for drv in drivers:
            name = os.path.splitext(os.path.basename(drv))[0]
            dobj = os.path.join(tdir, "drv_%s.o" % name)
            try:
                # Drivers are portable C that may use <string.h>: picolibc's
                # headers (only headers: memcpy and friends stay unresolved
                # and uncounted, as the board's libc provides them).
                run([CROSS + "gcc"] + tflags + [opt, "--specs=picolibc.specs"] +
                    [f for f in CFLAGS if f != "-ffreestanding"] +
                    ["-I" + os.path.join(ROOT, "examples/drivers"), "-c", drv, "-o", dobj])
                keep = defined_functions(dobj)
                elf, mp = link(tdir, tflags, opt, "drv_" + name, [dobj, impls[None]], keep,
                               ["-Wl,--unresolved-symbols=ignore-all"])
            except RuntimeError as e:
                failures += 1
                sys.stderr.write("size: driver %s does not build for %s:\n%s\n" % (name, tname, e))
                rows.append(dict(target=tname, row="driver " + name, text=-1, rodata=-1, data=-1,
                                 bss=-1, libgcc_text=-1, driver_text=-1,
                                 what="examples/drivers/%s.c: BUILD FAILED" % name))
                continue
            v = map_sizes(mp, lambda f: f == impls[None] or "libgcc" in f)
            d = map_sizes(mp, lambda f: f == dobj)
            rows.append(dict(target=tname, row="driver " + name,
                             text=v["text"] + d["text"], rodata=v["rodata"] + d["rodata"],
                             data=v["data"] + d["data"], bss=v["bss"] + d["bss"],
                             libgcc_text=v["libgcc_text"], driver_text=d["text"],
                             what="examples/drivers/%s.c (its %d global functions kept) "
                                  "+ the virtq it calls" % (name, len(keep))))
            print("size: %-12s %-20s text %5d (driver %d) rodata %4d data %3d bss %3d" %
                  (tname, "driver " + name, v["text"] + d["text"], d["text"],
                   v["rodata"] + d["rodata"], v["data"] + d["data"], v["bss"] + d["bss"]))
    with open(os.path.join(args.results, "size.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["target", "row", "text", "rodata", "data", "bss",
                                          "libgcc_text", "driver_text", "what"])
        w.writeheader()
        w.writerows(rows)
    if failures:
        sys.stderr.write("size: %d driver build(s) failed; see BUILD FAILED rows\n" % failures)


if __name__ == "__main__":
    main()
