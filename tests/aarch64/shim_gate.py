#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile gate for the AArch64 platform shim (shims/aarch64/virtq_aarch64.h).

    shim_gate.py --build DIR

tests/aarch64/shim_tu.c (virtq's implementation configured by the shim
alone) is compiled freestanding with strict warnings as errors by
aarch64-linux-gnu-gcc and clang --target=aarch64-none-elf in four
configurations: default; -mgeneral-regs-only -mstrict-align (a start-up that
leaves FP/SIMD trapped and the MMU off); the cache hooks on
(VIRTQ_AARCH64_DMA_NONCOHERENT=1); the C11-atomics barrier flavour
(VIRTQ_USE_ATOMICS=1).  Each object must have no undefined symbol (the shim
is self-contained: no libgcc outline atomics, no helper), the general-regs
builds must use no FP/SIMD register, the cache-hook builds must contain
dc cvac/civac/ivac, and every build must keep the shim's I/O ordering
(dmb oshst before an MMIO store, dmb oshld after a load), DAIF masking and
wfi, whichever barrier flavour is chosen.  It also reports whether clang
uses SIMD registers in the default build (clang 14 does: a `cnt v.8b`
popcount), which is why a bare-metal start-up must enable FP or build with
-mgeneral-regs-only.  Python 3 standard library only.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TU = os.path.join(ROOT, "tests", "aarch64", "shim_tu.c")
WARN = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Wundef",
        "-Wstrict-prototypes", "-Wmissing-prototypes", "-Werror"]
COMPILERS = {
    "gcc": ["aarch64-linux-gnu-gcc", "-fno-pie", "-mno-outline-atomics"],
    "clang": ["clang", "--target=aarch64-none-elf"],
}
CONFIGS = {
    "default": [],
    "general-regs": ["-mgeneral-regs-only", "-mstrict-align"],
    "noncoherent": ["-DVIRTQ_AARCH64_DMA_NONCOHERENT=1"],
    "atomics": ["-DVIRTQ_USE_ATOMICS=1"],
}
SIMD_RE = re.compile(r"\s(v\d+\.\d*[bhsd]|q\d+|d\d+|s\d+)(,|$|\[)")
NM = "aarch64-linux-gnu-nm"
OBJDUMP = "aarch64-linux-gnu-objdump"


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def function_body(dis, name):
    m = re.search(r"^[0-9a-f]+ <%s>:\n(.*?)(?:\n\n|\Z)" % re.escape(name), dis, re.S | re.M)
    return m.group(1) if m else ""


def check(comp, cfg, obj):
    problems = []
    rc, out = run([NM, "-u", obj])
    if rc != 0 or out.strip():
        problems.append("undefined symbols: %s" % " ".join(out.split()))
    rc, dis = run([OBJDUMP, "-d", "--no-show-raw-insn", obj])
    if rc != 0:
        return ["objdump failed: %s" % dis]
    simd = [l.strip() for l in dis.splitlines() if SIMD_RE.search(l)]
    if cfg == "general-regs" and simd:
        problems.append("FP/SIMD registers used: %s" % "; ".join(simd[:3]))
    dc = set(re.findall(r"\bdc\s+(cvac|civac|ivac)\b", dis))
    if cfg == "noncoherent" and dc != {"cvac", "civac", "ivac"}:
        problems.append("cache hooks: found dc %s, want cvac civac ivac" % sorted(dc))
    if cfg != "noncoherent" and dc:
        problems.append("cache maintenance in a coherent build: dc %s" % sorted(dc))
    notify = function_body(dis, "shim_gate_notify")
    for st in ("str", "strh", "strb"):
        if not re.search(r"dmb\s+oshst\s*\n\s*[0-9a-f]+:\s+%s\s" % st, notify):
            problems.append("shim_gate_notify: no `dmb oshst` right before the MMIO %s" % st)
    if not re.search(r"ldr\s+w\d+, \[x\d+\]\s*\n\s*[0-9a-f]+:\s+dmb\s+oshld", notify):
        problems.append("shim_gate_notify: no `dmb oshld` right after the MMIO ldr")
    mask = function_body(dis, "shim_gate_mask")
    for pat, what in ((r"msr\s+daifset, #0x2", "msr daifset, #2"),
                      (r"dsb\s+sy\s*\n\s*[0-9a-f]+:\s+wfi", "dsb sy; wfi"),
                      (r"msr\s+daif, x\d+", "msr daif (restore)")):
        if not re.search(pat, mask):
            problems.append("shim_gate_mask: no %s" % what)
    return problems, simd


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", required=True)
    a = p.parse_args()
    os.makedirs(a.build, exist_ok=True)
    bad = 0
    for comp, cc in COMPILERS.items():
        for cfg, flags in CONFIGS.items():
            obj = os.path.join(a.build, "shim-%s-%s.o" % (comp, cfg))
            cmd = cc + ["-std=c99", "-O2", "-ffreestanding"] + WARN + \
                ['-DVIRTQ_CONFIG_FILE="virtq_aarch64.h"', "-I" + os.path.join(ROOT, "shims", "aarch64"),
                 "-I" + ROOT] + flags + ["-c", TU, "-o", obj]
            rc, out = run(cmd)
            if rc != 0:
                print("shim_gate: FAIL %s %s: compile:\n%s" % (comp, cfg, out), file=sys.stderr)
                bad += 1
                continue
            res = check(comp, cfg, obj)
            if isinstance(res, list):
                problems, simd = res, []
            else:
                problems, simd = res
            if problems:
                print("shim_gate: FAIL %s %s: %s" % (comp, cfg, "; ".join(problems)),
                      file=sys.stderr)
                bad += 1
            else:
                print("shim_gate: PASS %s %s (%d FP/SIMD instructions)" % (comp, cfg, len(simd)))
            if comp == "clang" and cfg == "default":
                cnt = [s for s in simd if re.search(r"\bcnt\b", s)]
                print("shim_gate: note: clang default build uses FP/SIMD registers in %d "
                      "instructions%s" % (len(simd), " (popcount: %s)" % cnt[0] if cnt else ""))
    total = len(COMPILERS) * len(CONFIGS)
    if bad:
        print("shim_gate: %d of %d builds failed" % (bad, total), file=sys.stderr)
        return 1
    print("shim_gate: all %d builds passed" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
