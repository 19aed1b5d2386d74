#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What virtq's checks and barriers cost in code size: a floor, not a build.

bench/size.py measures virtq as shipped.  This script measures scratch
copies of it with, cumulatively:

  checks   the ring's hot-path checks compiled out: VIRTQ__UNLIKELY(x)
           defined as 0, which removes every check virtq_add, virtq_publish
           and virtq_get write with it (NULLs, queue state, segment and
           count checks, the used-element checks of "Hardening");
  fences   no I/O barrier around an MMIO register access
           (VIRTQ__IO_BEFORE_WRITE / VIRTQ__IO_AFTER_READ empty);
  dev_ok   no device-handle check (virtq__dev_ok() always true).

Each copy is src/ with those edits, stitched by amalgamate.py into a
scratch header; bench/size.py --header-dir then builds its rows against
it the usual way (rv32imac -Os and rv64gc -O2, --gc-sections).  None of
these copies is correct or shipped: the figures only say how many bytes
each kind of protection takes, so a size goal can be compared with what
is left when it is gone.  An edit whose text is no longer in src/ is an error.

Writes bench/results/size_floor.csv (step, target, row, text).

  python3 bench/size_floor.py [--build DIR] [--results DIR]
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = ["ring", "ring+mmio", "ring+mmio minimal", "ring+mmio minimal, v2 only, no event idx"]

# (step, file in src/, text, replacement): cumulative, in this order.
EDITS = [
    ("checks", "impl_begin.h", "#define VIRTQ__UNLIKELY(x) __builtin_expect(!!(x), 0)",
     "#define VIRTQ__UNLIKELY(x) 0"),
    ("fences", "shim_arch.h",
     '#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("fence w,o" ::: "memory")',
     '#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("" ::: "memory")'),
    ("fences", "shim_arch.h",
     '#define VIRTQ__IO_AFTER_READ() __asm__ __volatile__("fence i,r" ::: "memory")',
     '#define VIRTQ__IO_AFTER_READ() __asm__ __volatile__("" ::: "memory")'),
    ("dev_ok", "device.h", "    return dev != NULL && (dev->state & VIRTQ__D_PROBED);",
     "    return (void)dev, 1;"),
]
STEPS = ["as shipped", "checks", "fences", "dev_ok"]


def tree(build):
    """A scratch copy of src/ to edit."""
    if os.path.exists(build):
        shutil.rmtree(build)
    shutil.copytree(os.path.join(ROOT, "src"), os.path.join(build, "src"))


def edit(build, name, old, new):
    p = os.path.join(build, "src", name)
    s = open(p).read()
    if s.count(old) != 1:
        sys.exit("size_floor: src/%s no longer holds %r; update size_floor.py" % (name, old))
    open(p, "w").write(s.replace(old, new))


def measure(build):
    """Stitch the edited copy with amalgamate.py and size it with size.py."""
    subprocess.run([sys.executable, os.path.join(ROOT, "amalgamate.py"), "--src",
                    os.path.join(build, "src"), "--out", os.path.join(build, "virtq.h")],
                   check=True, stdout=subprocess.DEVNULL)
    res = os.path.join(build, "res")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "size.py"), "--build",
                    os.path.join(build, "obj"), "--results", res, "--header-dir", build],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(res, "size.csv")) as f:
        return [r for r in csv.DictReader(f) if r["row"] in ROWS]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build/bench/size_floor"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    args = ap.parse_args()
    os.makedirs(args.results, exist_ok=True)
    tree(args.build)
    out = []
    for step in STEPS:
        for s, name, old, new in EDITS:
            if s == step:
                edit(args.build, name, old, new)
        for r in measure(args.build):
            out.append({"step": step, "target": r["target"], "row": r["row"], "text": r["text"]})
            if r["target"] == "rv32imac-Os":
                print("size_floor: %-10s %-42s %5s" % (step, r["row"], r["text"]))
    with open(os.path.join(args.results, "size_floor.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["step", "target", "row", "text"])
        w.writeheader()
        w.writerows(out)


if __name__ == "__main__":
    main()
