#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Gate: the I/O ordering and the wfi survive in every barrier flavour.

The host build never executes the RISC-V `fence w,o` / `fence i,r`, the Arm
`dmb` around MMIO, or `wfi`, so a change that drops one (as taking the C11
atomics branch before the architecture branches once did) passes every host
test.  This gate compiles tests/shims/io_paths.c (virtq.h's implementation
with the WFI strategy) for riscv64 (M-mode and S-mode) and aarch64, with gcc
and clang, at -O2 and -Os, with VIRTQ_USE_ATOMICS=0 and =1, disassembles
each object and requires, in the call tree of each path (the function and
every local function it branches to):

  path      function          riscv64                 aarch64
  notify    virtq_dev_notify  fence w,o               dmb oshst
  isr       virtq_dev_isr     fence i,r               dmb oshld
  wfi       virtq_wait        wfi, csrrc+csrrs on     wfi, msr daifset #2,
                              mstatus (sstatus in S)  msr daif

Control: one build per target with the MMIO accessors and VIRTQ_WFI
replaced by plain user macros (no barrier, no wfi) must be reported as
missing every item; if the counter passes that build, the gate fails
(so the gate itself can fail).  Python 3 standard library only.

    io_order.py [--build DIR] [--verbose]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "tests", "shims", "io_paths.c")

RV_GCC = ["riscv64-unknown-elf-gcc", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany"]
RV_CLANG = ["clang", "--target=riscv64-unknown-elf", "-march=rv64gc", "-mabi=lp64d",
            "-mcmodel=medany"]
A64_GCC = ["aarch64-linux-gnu-gcc", "-mgeneral-regs-only"]
A64_CLANG = ["clang", "--target=aarch64-none-elf", "-mgeneral-regs-only"]

# (name, compiler command, extra flags, requirements {path: [regex, ...]})
RV_REQ_M = {
    "notify": [r"\bfence\s*w,\s*o\b"],
    "isr": [r"\bfence\s*i,\s*r\b"],
    "wfi": [r"\bwfi\b", r"\bcsrrc\b.*\bmstatus\b", r"\bcsrrs\b.*\bmstatus\b"],
}
RV_REQ_S = dict(RV_REQ_M, wfi=[r"\bwfi\b", r"\bcsrrc\b.*\bsstatus\b",
                               r"\bcsrrs\b.*\bsstatus\b"])
A64_REQ = {
    "notify": [r"\bdmb\s+oshst\b"],
    "isr": [r"\bdmb\s+oshld\b"],
    "wfi": [r"\bwfi\b", r"\bmsr\s+daifset,\s*#(?:0x)?2\b", r"\bmsr\s+daif,\s*x\d+"],
}
TARGETS = [
    ("riscv64-M gcc", RV_GCC, [], RV_REQ_M),
    ("riscv64-M clang", RV_CLANG, [], RV_REQ_M),
    ("riscv64-S gcc", RV_GCC, ["-DVIRTQ_RISCV_SMODE"], RV_REQ_S),
    ("riscv64-S clang", RV_CLANG, ["-DVIRTQ_RISCV_SMODE"], RV_REQ_S),
    ("aarch64 gcc", A64_GCC, [], A64_REQ),
    ("aarch64 clang", A64_CLANG, [], A64_REQ),
]
PATHS = {"notify": "virtq_dev_notify", "isr": "virtq_dev_isr", "wfi": "virtq_wait"}
OPTS = ["-O2", "-Os"]
FLAVOURS = [("asm", "-DVIRTQ_USE_ATOMICS=0"), ("atomics", "-DVIRTQ_USE_ATOMICS=1")]
# The control: user accessors without ordering and a wfi that is no wfi.
CONTROL = [
    "-DVIRTQ_MMIO_READ32(a)=(*(const volatile uint32_t *)(a))",
    "-DVIRTQ_MMIO_READ16(a)=(*(const volatile uint16_t *)(a))",
    "-DVIRTQ_MMIO_READ8(a)=(*(const volatile uint8_t *)(a))",
    "-DVIRTQ_MMIO_WRITE32(a,v)=(*(volatile uint32_t *)(a) = (v))",
    "-DVIRTQ_WFI()=((void)0)",
    "-DVIRTQ_IRQ_SAVE()=0ul",
    "-DVIRTQ_IRQ_RESTORE(f)=((void)(f))",
]

FUNC_RE = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
# In a relocatable object a call to another function is a relocation.
RELOC_RE = re.compile(r"^[0-9a-f]+:\s+R_(?:RISCV_CALL|RISCV_CALL_PLT|RISCV_JAL|"
                      r"AARCH64_CALL26|AARCH64_JUMP26)\s+([A-Za-z0-9_.$]+)")
BRANCH_RE = re.compile(r"\b(?:jal|j|call|tail|bl|b|cbz|cbnz|tbz|tbnz|beq|bne|"
                       r"blt|bge|bltu|bgeu|beqz|bnez)\b.*<([A-Za-z0-9_.$]+)(?:\+0x[0-9a-f]+)?>")


def run(cmd, verbose):
    if verbose:
        print("  $ " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("command failed: %s\n%s" % (" ".join(cmd), p.stdout))
    return p.stdout


def functions(disasm):
    """{symbol: [instruction text, ...]} from objdump -d."""
    funcs, cur = {}, None
    for line in disasm.split("\n"):
        m = FUNC_RE.match(line.strip())
        if m and m.group(1).startswith(".L"):
            continue  # a local label inside the current function (gcc)
        if m:
            cur = m.group(1)
            funcs[cur] = []
        elif cur and RELOC_RE.match(line.strip()):
            funcs[cur].append("call <%s>" % RELOC_RE.match(line.strip()).group(1))
        elif cur and ":" in line and line.startswith(" "):
            funcs[cur].append(line.split(":", 1)[1].strip())
    return funcs


def call_tree(funcs, root):
    seen, todo = set(), [root]
    while todo:
        f = todo.pop()
        if f in seen or f not in funcs:
            continue
        seen.add(f)
        for insn in funcs[f]:
            m = BRANCH_RE.search(insn)
            if m and m.group(1) in funcs:
                todo.append(m.group(1))
    return seen


def missing(funcs, req):
    """[(path, regex)] not found in the path's call tree."""
    out = []
    for path, regexes in req.items():
        root = PATHS[path]
        if root not in funcs:
            out.append((path, "function %s not in the object" % root))
            continue
        text = "\n".join(i for f in call_tree(funcs, root) for i in funcs[f])
        for r in regexes:
            if not re.search(r, text, re.I):
                out.append((path, r))
    return out


def compile_and_check(build, name, cc, extra, opt, flags, req, verbose):
    tag = re.sub(r"[^A-Za-z0-9]+", "-", "%s %s %s" % (name, opt, " ".join(flags))).strip("-")
    obj = os.path.join(build, tag[:120] + ".o")
    cmd = cc + ["-std=c99", opt, "-ffreestanding", "-I" + ROOT, "-c", SRC, "-o", obj]
    if cc[0] == "clang":
        cmd += ["-nostdinc", "-isystem",
                run(["clang", "-print-resource-dir"], False).strip() + "/include"]
    cmd += extra + flags
    run(cmd, verbose)
    objdump = "llvm-objdump" if shutil.which("llvm-objdump") else None
    dis = run([objdump or "objdump", "-d", "-r", "--no-show-raw-insn", obj], verbose)
    return missing(functions(dis), req)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join("build", "shims", "io_order"))
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()
    os.makedirs(a.build, exist_ok=True)
    failures, n = [], 0
    for name, cc, extra, req in TARGETS:
        if not shutil.which(cc[0]):
            failures.append("%s: %s not installed" % (name, cc[0]))
            continue
        for opt in OPTS:
            for flavour, flag in FLAVOURS:
                try:
                    miss = compile_and_check(a.build, name, cc, extra, opt, [flag], req,
                                             a.verbose)
                except RuntimeError as e:
                    failures.append("%s %s %s: %s" % (name, opt, flavour, e))
                    continue
                n += 1
                for path, what in miss:
                    failures.append("%s %s %s: %s path lacks %s"
                                    % (name, opt, flavour, path, what))
        # The control must be caught, item by item.
        try:
            miss = compile_and_check(a.build, name, cc, extra, "-O2", CONTROL, req, a.verbose)
        except RuntimeError as e:
            failures.append("%s control: %s" % (name, e))
            continue
        n += 1
        want = sum(len(v) for v in req.values())
        if len(miss) != want:
            failures.append("%s control: the counter found %d of %d items it must miss "
                            "(missing only %s)" % (name, want - len(miss), want,
                                                   ", ".join(w for _, w in miss)))
    if failures:
        for f in failures:
            print("io_order: FAIL " + f, file=sys.stderr)
        return 1
    print("io_order: PASS %d objects: notify (fence w,o | dmb oshst), isr (fence i,r | "
          "dmb oshld) and wfi (wfi + interrupt mask) present in every barrier flavour; "
          "the control without them was caught on every target" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
