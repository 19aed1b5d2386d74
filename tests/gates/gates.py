#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile gates and static analysis for virtq.h.

  gates.py compile     the compiler matrix (make test-compile)
  gates.py tidy        clang-tidy, zero findings (make test-tidy)
  gates.py cppcheck    cppcheck, zero findings (make test-cppcheck)
  gates.py amalgamate  amalgamate.py: freshness, manifest rule, determinism
                       (make test-amalgamate)

Options: --build DIR (scratch, default build/gates), --jobs N (parallel
compiles, default 2), --verbose (print every command).

Every gate either passes or names what failed with the tool's output; none
is skipped silently.  A missing tool is a failure (make deps installs them).
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATES = os.path.join(ROOT, "tests", "gates")
HEADER = os.path.join(ROOT, "virtq.h")

IMPL = os.path.join(GATES, "impl.c")
DECL = os.path.join(GATES, "decl.c")
LINK_MAIN = os.path.join(GATES, "link_main.c")
STATIC_API = os.path.join(GATES, "static_api.c")
STATIC_MAIN = os.path.join(GATES, "static_main.c")

# The C warning set of the brief; -Wcast-align is spelled per compiler (GCC's
# plain form is silent on x86 and Arm, "=strict" checks everywhere).
WARN_C = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Wundef",
          "-Wstrict-prototypes", "-Wmissing-prototypes", "-Werror"]
WARN_CXX = ["-Wall", "-Wextra", "-Wpedantic", "-Werror"]
OPTS = ["-O0", "-O2", "-Os"]
C_STDS = ["-std=c99", "-std=c11"]
CXX_STDS = ["-std=c++11", "-std=c++17", "-std=c++20"]
# Every optimisation level in C99 (warnings such as -Wmaybe-uninitialized and
# libgcc helper calls depend on it), C11 at -O2: the standards differ little
# for this code, and the gate must stay quick.
STD_OPT = [("-std=c99", o) for o in OPTS] + [("-std=c11", "-O2")]

# Hook sets: impl.c turns each GATE_* into a call to an external function,
# the only undefined symbols an implementation object may have.
HOOK_SYMS = {
    "GATE_NOW": ["gate_now_us"],
    "GATE_ALARM": ["gate_wfi_alarm_us"],
    "GATE_TICK": [],
    "GATE_OS": ["gate_os_wait", "gate_os_wake"],
    "GATE_CUSTOM": ["gate_custom_wait"],
}
W_SPIN, W_WFI, W_OS, W_CUSTOM = "VIRTQ_WAIT_SPIN", "VIRTQ_WAIT_WFI", "VIRTQ_WAIT_OS", \
    "VIRTQ_WAIT_CUSTOM"


def wait_flag(*names):
    """-DVIRTQ_WAIT=(A|B), spelled with the public names as a user would."""
    return "-DVIRTQ_WAIT=(%s)" % "|".join(names)


# Configurations of the implementation TU: (name, hooks, extra flags, needs wfi)
SPIN = ("spin", [], [], False)
# Both transports in the "all" builds, PCI alone in the atomics one.
BOTH_TRANSPORTS = "-DVIRTQ_TRANSPORTS=(VIRTQ_TRANSPORT_MMIO|VIRTQ_TRANSPORT_PCI)"
# The "all" builds also build the options that add functions.
OPTION_FLAGS = ["-DVIRTQ_PUBLISH_DEFER=1"]
ALL_WFI = ("all", ["GATE_NOW", "GATE_ALARM", "GATE_OS", "GATE_CUSTOM"],
           [wait_flag(W_SPIN, W_WFI, W_OS, W_CUSTOM), BOTH_TRANSPORTS] + OPTION_FLAGS, True)
ALL_NOWFI = ("all", ["GATE_NOW", "GATE_OS", "GATE_CUSTOM"],
             [wait_flag(W_SPIN, W_OS, W_CUSTOM), BOTH_TRANSPORTS] + OPTION_FLAGS, False)
CLOCK = ("spin-clock", ["GATE_NOW"], [], False)
WFI_TICK = ("wfi-tick", ["GATE_NOW", "GATE_TICK"], [wait_flag(W_SPIN, W_WFI)], True)
ATOMICS = ("atomics", ["GATE_NOW", "GATE_OS", "GATE_CUSTOM"],
           [wait_flag(W_SPIN, W_OS, W_CUSTOM), "-DVIRTQ_USE_ATOMICS=1",
            "-DVIRTQ_TRANSPORTS=VIRTQ_TRANSPORT_PCI"], False)
SMODE = ("wfi-smode", ["GATE_NOW", "GATE_ALARM"],
         [wait_flag(W_SPIN, W_WFI), "-DVIRTQ_RISCV_SMODE"], True)


def hook_flags(hooks):
    return ["-D" + h for h in hooks]


def hook_symbols(hooks):
    return sorted(s for h in hooks for s in HOOK_SYMS[h])


class Failure(Exception):
    pass


class Runner:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.jobs = max(1, args.jobs)
        self.verbose = args.verbose
        self.failures = []
        self.count = 0
        os.makedirs(self.build, exist_ok=True)

    def run(self, cmd, cwd=ROOT, env=None):
        if self.verbose:
            print("+ " + " ".join(cmd), flush=True)
        try:
            p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=300)
        except FileNotFoundError:
            return 127, "%s: not found (run `make deps`)" % cmd[0]
        except subprocess.TimeoutExpired:
            return 124, "%s: timed out" % cmd[0]
        return p.returncode, p.stdout

    def gate(self, name, fn):
        """Run one check; fn raises Failure(text) to fail it."""
        self.count += 1
        try:
            fn()
        except Failure as e:
            self.failures.append((name, str(e)))

    def parallel(self, items):
        """items: (name, fn) pairs, run on self.jobs workers."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as ex:
            futs = [ex.submit(self.gate, n, f) for n, f in items]
            for f in futs:
                f.result()

    def report(self, what):
        if self.failures:
            for name, text in self.failures:
                print("FAIL %s\n%s" % (name, text.rstrip()[-6000:]), file=sys.stderr)
            print("%s: %d of %d checks FAILED" % (what, len(self.failures), self.count),
                  file=sys.stderr)
            return 1
        print("%s: all %d checks passed" % (what, self.count))
        return 0

    def out(self, *parts):
        return os.path.join(self.build, "-".join(parts).replace("=", "").replace("+", "x"))


def crashed(rc, text):
    """The tool died (signal, internal compiler error), as opposed to
    rejecting the input."""
    return rc < 0 or rc in (134, 137, 139) or "PLEASE submit a bug report" in text or \
        "internal compiler error" in text


def must_compile(r, cmd):
    rc, text = r.run(cmd)
    if rc != 0 and crashed(rc, text):
        # A compiler crash says nothing about virtq; seen once under heavy
        # load.  Retry once, and say so; a second crash fails the gate.
        print("note: compiler crashed (rc %d), retrying once: %s" % (rc, " ".join(cmd)),
              flush=True)
        rc, text = r.run(cmd)
    if rc != 0:
        raise Failure("$ %s\n%s" % (" ".join(cmd), text))
    return text


# ---------------------------------------------------------------------------
# Toolchains

def first_tool(*names):
    for n in names:
        if shutil.which(n):
            return n
    return names[0]  # reported as missing when used


CLANG = first_tool("clang-14", "clang")
CLANGXX = first_tool("clang++-14", "clang++")
CLANG_TIDY = first_tool("clang-tidy-14", "clang-tidy")
LLVM_NM = first_tool("llvm-nm-14", "llvm-nm")
RV_GCC = "riscv64-unknown-elf-gcc"
RV_NM = "riscv64-unknown-elf-nm"


def compiler_include(cc_argv):
    """The compiler's own header directory (stdint.h, stddef.h, stdbool.h),
    the only one a freestanding build gets under -nostdinc."""
    if "clang" in os.path.basename(cc_argv[0]):
        p = subprocess.run([cc_argv[0], "-print-resource-dir"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=False)
        return os.path.join(p.stdout.strip(), "include")
    p = subprocess.run(cc_argv + ["-print-file-name=include"], stdout=subprocess.PIPE,
                       universal_newlines=True, check=False)
    return p.stdout.strip()


def cast_align(cc):
    return "-Wcast-align=strict" if "clang" not in os.path.basename(cc) else "-Wcast-align"


# Freestanding targets: (name, compiler argv, nm, built-in wfi, 64-bit)
FS_TARGETS = [
    ("rv32imac-gcc", [RV_GCC, "-march=rv32imac", "-mabi=ilp32"], RV_NM, True, False),
    ("rv64gc-gcc", [RV_GCC, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany"], RV_NM,
     True, True),
    ("rv64gc-clang", [CLANG, "--target=riscv64-unknown-elf", "-march=rv64gc",
                      "-mabi=lp64d", "-mcmodel=medany"], LLVM_NM, True, True),
    ("aarch64-clang", [CLANG, "--target=aarch64-none-elf"], LLVM_NM, True, True),
    ("cortex-m3-clang", [CLANG, "--target=thumbv7m-none-eabi", "-mcpu=cortex-m3",
                         "-mthumb", "-mfloat-abi=soft"], LLVM_NM, True, False),
    ("cortex-a7-clang", [CLANG, "--target=armv7a-none-eabi", "-mcpu=cortex-a7",
                         "-mfloat-abi=soft"], LLVM_NM, True, False),
    ("x86_64-gcc", ["gcc", "-m64"], "nm", False, True),
    ("x86_64-clang", [CLANG, "--target=x86_64-unknown-elf"], LLVM_NM, False, True),
]

# ---------------------------------------------------------------------------
# Symbol checks on implementation objects


API_RE = r"\bVIRTQ_API\b[^;{()]*?\b(virtq_\w+)\s*\("


def public_functions():
    """Every function virtq.h declares with VIRTQ_API."""
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    decl = text.split("VIRTQ_IMPLEMENTATION_INCLUDED", 1)[0]
    names = set(re.findall(API_RE, decl))
    if len(names) < 10:
        raise Failure("could not find the VIRTQ_API declarations in virtq.h")
    return names


def option_functions():
    """The functions declared only under an option (#if VIRTQ_PUBLISH_DEFER)."""
    with open(HEADER, encoding="utf-8") as f:
        decl = f.read().split("VIRTQ_IMPLEMENTATION_INCLUDED", 1)[0]
    blocks = re.findall(r"#if VIRTQ_PUBLISH_DEFER\n(.*?)#endif", decl, re.S)
    names = set(n for b in blocks for n in re.findall(API_RE, b))
    if not names:
        raise Failure("could not find the VIRTQ_PUBLISH_DEFER declarations in virtq.h")
    return names


def api_for(extra, api, optional):
    """The API an implementation built with these flags must define."""
    return api if all(f in extra for f in OPTION_FLAGS) else api - optional


def nm_symbols(r, nm, obj):
    """(undefined, defined-global) symbol names of obj."""
    rc, text = r.run([nm, "-P", obj])
    if rc != 0:
        raise Failure("$ %s -P %s\n%s" % (nm, obj, text))
    undef, glob_def = set(), set()
    for line in text.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        sym, kind = f[0], f[1]
        if kind == "U" or (kind in ("w", "v") and len(f) < 3):
            undef.add(sym)
        elif kind.isupper():
            glob_def.add(sym)
    return undef, glob_def


def check_impl_symbols(r, nm, obj, allowed_undef, api):
    undef, defined = nm_symbols(r, nm, obj)
    problems = []
    extra = sorted(undef - set(allowed_undef))
    if extra:
        problems.append("references undefined symbols beyond the declared hooks %s: %s"
                        % (sorted(allowed_undef), ", ".join(extra)))
    foreign = sorted(s for s in defined if not s.startswith("virtq_"))
    if foreign:
        problems.append("exports symbols outside the virtq_ namespace: " + ", ".join(foreign))
    missing = sorted(api - defined)
    if missing:
        problems.append("declares but does not define: " + ", ".join(missing))
    if problems:
        raise Failure("%s:\n  %s" % (obj, "\n  ".join(problems)))


# ---------------------------------------------------------------------------
# compile


def compile_gates(r):
    api = public_functions()
    optional = option_functions()
    incdirs = {}
    items = []

    # 1. Host, hosted headers: gcc and clang, C99/C11, -O0/-O2/-Os, with
    #    the implementation (spin only, and every strategy but wfi) and the
    #    declarations alone.
    for cc in ("gcc", CLANG):
        warn = WARN_C + [cast_align(cc)]
        for std, opt in STD_OPT:
            for cfg in (SPIN, ALL_NOWFI):
                name, hooks, extra, _ = cfg
                obj = r.out("host", os.path.basename(cc), std[5:], opt[1:], name) + ".o"
                cmd = [cc, std, opt] + warn + ["-I" + ROOT] + hook_flags(hooks) + extra + \
                    ["-c", IMPL, "-o", obj]

                def host_impl(cmd=cmd, obj=obj, cc=cc, hooks=hooks, want=api_for(extra, api, optional)):
                    must_compile(r, cmd)
                    nm = "nm" if cc == "gcc" else LLVM_NM
                    check_impl_symbols(r, nm, obj, hook_symbols(hooks), want)
                items.append(("host %s %s %s impl(%s)" % (cc, std, opt, name), host_impl))
        for std in C_STDS:
            obj = r.out("host", os.path.basename(cc), std[5:], "decl") + ".o"
            cmd = [cc, std, "-O2"] + warn + ["-I" + ROOT, "-c", DECL, "-o", obj]
            items.append(("host %s %s decl" % (cc, std), lambda cmd=cmd: must_compile(r, cmd)))

    # 2. Freestanding, no libc headers at all: -nostdinc with only the
    #    compiler's own include directory.  Every strategy the arch has
    #    built in, and spin alone; the object may reference only the
    #    hooks, must define the whole API and export nothing else.
    for tname, cc_argv, nm, has_wfi, is64 in FS_TARGETS:
        if tname not in incdirs:
            incdirs[tname] = compiler_include(cc_argv)
        base = cc_argv + ["-ffreestanding", "-nostdlib", "-nostdinc", "-isystem",
                          incdirs[tname], "-I" + ROOT] + WARN_C + [cast_align(cc_argv[0])]
        allcfg = ALL_WFI if has_wfi else ALL_NOWFI
        runs = [(cfg, std, opt) for cfg in (SPIN, allcfg) for std, opt in STD_OPT]
        runs += [(CLOCK, "-std=c99", "-O2")]
        if has_wfi:
            runs += [(WFI_TICK, "-std=c99", "-O2")]
        if is64:
            # VIRTQ_USE_ATOMICS (TSan builds, or by request): 64-bit
            # targets only, where 8-byte atomics are lock-free.
            runs += [(ATOMICS, "-std=c99", "-O2")]
        if tname.startswith("rv"):
            runs += [(SMODE, "-std=c99", "-Os")]
        for cfg, std, opt in runs:
            cname, hooks, extra, _ = cfg
            obj = r.out("fs", tname, std[5:], opt[1:], cname) + ".o"
            cmd = base + [std, opt] + hook_flags(hooks) + extra + ["-c", IMPL, "-o", obj]

            def fs_impl(cmd=cmd, obj=obj, nm=nm, hooks=hooks, want=api_for(extra, api, optional)):
                must_compile(r, cmd)
                check_impl_symbols(r, nm, obj, hook_symbols(hooks), want)
            items.append(("freestanding %s %s %s impl(%s)" % (tname, std, opt, cname), fs_impl))

    # 3. C++: declarations and implementation.
    for cxx in ("g++", CLANGXX):
        for std in CXX_STDS:
            for name, src, flags in (("decl", DECL, []),
                                     ("impl(spin)", IMPL, []),
                                     ("impl(all)", IMPL, hook_flags(ALL_NOWFI[1]) + ALL_NOWFI[2])):
                if name == "impl(spin)" and std != CXX_STDS[0]:
                    continue
                cmd = [cxx, "-x", "c++", std, "-O2"] + WARN_CXX + ["-I" + ROOT] + flags + \
                    ["-c", src, "-o", os.devnull]
                items.append(("c++ %s %s %s" % (cxx, std, name),
                              lambda cmd=cmd: must_compile(r, cmd)))

    # 4. Selectors: a bad or incomplete choice must stop the build with the
    #    documented #error; the same file with the missing piece supplied
    #    must build (so the failure is the selector's, not something else).
    rv64 = [t for t in FS_TARGETS if t[0] == "rv64gc-gcc"][0]
    rv64_base = rv64[1] + ["-ffreestanding", "-nostdinc", "-isystem",
                           compiler_include(rv64[1])]
    host_base = ["gcc"]
    must_fail = [
        # (name, base, flags, #error text, flags that make the same file build)
        ("VIRTQ_WAIT=0", host_base, ["-DVIRTQ_WAIT=0"],
         r"VIRTQ_WAIT must be VIRTQ_WAIT_SPIN", ["-DVIRTQ_WAIT=1"]),
        ("VIRTQ_WAIT=16", host_base, ["-DVIRTQ_WAIT=16"],
         r"VIRTQ_WAIT must be VIRTQ_WAIT_SPIN",
         ["-DVIRTQ_WAIT=13", "-DGATE_NOW", "-DGATE_OS", "-DGATE_CUSTOM"]),
        ("VIRTQ_WAIT=-1", host_base, ["-DVIRTQ_WAIT=-1"],
         r"VIRTQ_WAIT must be VIRTQ_WAIT_SPIN", ["-DVIRTQ_WAIT=1"]),
        ("VIRTQ_WAIT misspelt", host_base, ["-DVIRTQ_WAIT=VIRTQ_WAIT_SPINN"],
         r"VIRTQ_WAIT must be VIRTQ_WAIT_SPIN", ["-DVIRTQ_WAIT=VIRTQ_WAIT_SPIN"]),
        ("VIRTQ_TRANSPORTS=0", host_base, ["-DVIRTQ_TRANSPORTS=0"],
         r"VIRTQ_TRANSPORTS must be VIRTQ_TRANSPORT_MMIO", ["-DVIRTQ_TRANSPORTS=1"]),
        ("VIRTQ_TRANSPORTS=4", host_base, ["-DVIRTQ_TRANSPORTS=4"],
         r"VIRTQ_TRANSPORTS must be VIRTQ_TRANSPORT_MMIO", ["-DVIRTQ_TRANSPORTS=1"]),
        ("VIRTQ_TRANSPORTS misspelt", host_base, ["-DVIRTQ_TRANSPORTS=VIRTQ_TRANSPORT_MMI0"],
         r"VIRTQ_TRANSPORTS must be VIRTQ_TRANSPORT_MMIO",
         ["-DVIRTQ_TRANSPORTS=VIRTQ_TRANSPORT_MMIO"]),
        ("WFI without VIRTQ_NOW_US", rv64_base,
         [wait_flag(W_SPIN, W_WFI), "-DGATE_ALARM"],
         r"VIRTQ_WAIT_WFI needs VIRTQ_NOW_US\(\) to bound the wait",
         [wait_flag(W_SPIN, W_WFI), "-DGATE_ALARM", "-DGATE_NOW"]),
        ("WFI without a wake-up source", rv64_base,
         [wait_flag(W_SPIN, W_WFI), "-DGATE_NOW"],
         r"VIRTQ_WAIT_WFI needs VIRTQ_WFI_ALARM_US\(deadline\) or VIRTQ_WFI_TICK_US",
         [wait_flag(W_SPIN, W_WFI), "-DGATE_NOW", "-DGATE_TICK"]),
        ("WFI on x86-64 (no built-in wfi)", host_base,
         [wait_flag(W_SPIN, W_WFI), "-DGATE_NOW", "-DGATE_ALARM"],
         r"VIRTQ_WAIT_WFI needs VIRTQ_WFI/VIRTQ_IRQ_SAVE/VIRTQ_IRQ_RESTORE",
         [wait_flag(W_SPIN, W_WFI), "-DGATE_NOW", "-DGATE_ALARM", "-DVIRTQ_WFI()=(void)0",
          "-DVIRTQ_IRQ_SAVE()=0ul", "-DVIRTQ_IRQ_RESTORE(f)=(void)(f)"]),
        # WFI with VIRTQ_USE_ATOMICS on RISC-V/Arm is no error: the built-in
        # wfi and interrupt mask stay in that flavour (make test-shims-io).
        ("OS without hooks", host_base, [wait_flag(W_SPIN, W_OS), "-DGATE_NOW"],
         r"VIRTQ_WAIT_OS needs VIRTQ_OS_WAIT, VIRTQ_OS_WAKE and VIRTQ_NOW_US",
         [wait_flag(W_SPIN, W_OS), "-DGATE_NOW", "-DGATE_OS"]),
        ("OS without VIRTQ_NOW_US", host_base, [wait_flag(W_SPIN, W_OS), "-DGATE_OS"],
         r"VIRTQ_WAIT_OS needs VIRTQ_OS_WAIT, VIRTQ_OS_WAKE and VIRTQ_NOW_US",
         [wait_flag(W_SPIN, W_OS), "-DGATE_OS", "-DGATE_NOW"]),
        ("CUSTOM without hook", host_base, [wait_flag(W_SPIN, W_CUSTOM)],
         r"VIRTQ_WAIT_CUSTOM needs VIRTQ_CUSTOM_WAIT",
         [wait_flag(W_SPIN, W_CUSTOM), "-DGATE_CUSTOM"]),
        ("big-endian CPU", [CLANG, "--target=aarch64_be-none-elf", "-ffreestanding"], [],
         r"big-endian CPUs are not supported", None),
    ]
    for name, base, flags, msg, fix in must_fail:
        head = base + ["-std=c99"] + WARN_C + ["-I" + ROOT]
        tail = ["-fsyntax-only", IMPL]
        cmd = head + flags + tail

        def expect_error(cmd=cmd, msg=msg, fix=fix, head=head, tail=tail):
            rc, text = r.run(cmd)
            if rc == 0:
                raise Failure("$ %s\ncompiled, but must stop with #error /%s/"
                              % (" ".join(cmd), msg))
            if not re.search(msg, text):
                raise Failure("$ %s\nfailed, but not with the documented #error /%s/:\n%s"
                              % (" ".join(cmd), msg, text))
            if fix is not None:
                must_compile(r, head + fix + tail)
        items.append(("selector: %s" % name, expect_error))

    # 5. Selectors live in the implementation only: the declarations a
    #    user TU sees are token-for-token the same whatever the selectors
    #    say (no layout change, no ODR trap between translation units).
    variants = [
        [],
        ["-DVIRTQ_WAIT=15", "-DVIRTQ_NOW_US()=0ull", "-DVIRTQ_OS_WAIT(a,b,c,d)=0",
         "-DVIRTQ_OS_WAKE(a)=0", "-DVIRTQ_CUSTOM_WAIT(a,b,c)=0", "-DVIRTQ_WFI_TICK_US=1"],
        ["-DVIRTQ_USE_ATOMICS=1"],
        ["-DVIRTQ_SPINS_PER_US=9", "-DVIRTQ_RISCV_SMODE", "-DVIRTQ_RESET_POLLS=5"],
        ["-DVIRTQ_MMIO_READ32(a)=0u", "-DVIRTQ_VIRT_TO_DMA(p)=0u", "-DVIRTQ_MB()=0"],
    ]

    def odr():
        outs = []
        for v in variants:
            rc, text = r.run(["gcc", "-std=c99", "-E", "-P", "-I" + ROOT] + v + [DECL])
            if rc != 0:
                raise Failure("preprocessing decl.c with %s failed:\n%s" % (v, text))
            outs.append(text)
        for v, text in zip(variants[1:], outs[1:]):
            if text != outs[0]:
                raise Failure("the declarations change with %s: a selector leaks out of "
                              "the implementation" % " ".join(v))
    items.append(("selectors leave the declarations unchanged", odr))

    # 6. Linked programs that run: two translation units (declarations in
    #    one, VIRTQ_IMPLEMENTATION in the other), across C and C++ both
    #    ways, and once under ASan+UBSan.
    links = [
        ("gcc", "gcc", ["-O2"]),
        (CLANG, CLANG, ["-O2"]),
        ("gcc", "g++", ["-O2"]),        # C implementation, C++ caller
        ("g++", "gcc", ["-O2"]),        # C++ implementation, C caller
        (CLANG, CLANGXX, ["-O0"]),
        ("gcc", "gcc", ["-O1", "-g", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]),
    ]
    for i, (impl_cc, main_cc, opt) in enumerate(links):
        def link(i=i, impl_cc=impl_cc, main_cc=main_cc, opt=opt):
            cxx = lambda cc: cc in ("g++", CLANGXX)
            warn = lambda cc: WARN_CXX if cxx(cc) else WARN_C + [cast_align(cc)]
            lang = lambda cc: ["-x", "c++", "-std=c++11"] if cxx(cc) else ["-std=c99"]
            impl_obj = r.out("link", str(i), "impl") + ".o"
            main_obj = r.out("link", str(i), "main") + ".o"
            exe = r.out("link", str(i), "prog")
            must_compile(r, [impl_cc] + lang(impl_cc) + opt + warn(impl_cc) +
                         ["-I" + ROOT, "-c", IMPL, "-o", impl_obj])
            must_compile(r, [main_cc] + lang(main_cc) + opt + warn(main_cc) +
                         ["-I" + ROOT, "-c", LINK_MAIN, "-o", main_obj])
            linker = "g++" if "g++" in (impl_cc, main_cc) else (
                CLANGXX if CLANGXX in (impl_cc, main_cc) else main_cc)
            must_compile(r, [linker] + opt + [main_obj, impl_obj, "-o", exe])
            rc, text = r.run([exe])
            if rc != 0:
                raise Failure("%s (impl %s, main %s %s) exited %d:\n%s"
                              % (exe, impl_cc, main_cc, " ".join(opt), rc, text))
        items.append(("two TUs linked and run: impl %s + main %s %s"
                      % (impl_cc, main_cc, " ".join(opt)), link))

    # 7. VIRTQ_STATIC: two private copies in one program, each exporting
    #    only its entry point, built with -Wall (-Wunused-function) -Werror.
    for cc in ("gcc", CLANG, "g++"):
        def static(cc=cc):
            cxx = cc == "g++"
            flags = (["-x", "c++", "-std=c++11"] + WARN_CXX) if cxx else \
                (["-std=c99"] + WARN_C + [cast_align(cc)])
            tag = os.path.basename(cc)
            objs = []
            for entry in ("gate_static_a", "gate_static_b"):
                obj = r.out("static", tag, entry) + ".o"
                must_compile(r, [cc] + flags + ["-O2", "-I" + ROOT,
                                                "-DGATE_STATIC_ENTRY=" + entry,
                                                "-c", STATIC_API, "-o", obj])
                nm = "nm" if cc in ("gcc", "g++") else LLVM_NM
                _, defined = nm_symbols(r, nm, obj)
                if defined != {entry}:
                    raise Failure("%s: with VIRTQ_STATIC it must export only %s, exports: %s"
                                  % (obj, entry, ", ".join(sorted(defined))))
                objs.append(obj)
            main_obj = r.out("static", tag, "main") + ".o"
            exe = r.out("static", tag, "prog")
            must_compile(r, ["gcc", "-std=c99", "-O2"] + WARN_C +
                         ["-c", STATIC_MAIN, "-o", main_obj])
            must_compile(r, ["g++" if cxx else cc, main_obj] + objs + ["-o", exe])
            rc, text = r.run([exe])
            if rc != 0:
                raise Failure("%s exited %d:\n%s" % (exe, rc, text))
        items.append(("VIRTQ_STATIC two copies linked and run (%s)" % cc, static))

    r.parallel(items)
    return r.report("test-compile")


# ---------------------------------------------------------------------------
# Static analysis: the implementation TU in several configurations (so code
# under each #if is analysed), plus shims/ and examples/drivers/ sources.

def lint_configs():
    """(name, flags) for analysing impl.c; flags are clang-style."""
    host_all = hook_flags(ALL_NOWFI[1]) + ALL_NOWFI[2]
    all_wfi = hook_flags(ALL_WFI[1]) + ALL_WFI[2]
    fs = ["-ffreestanding"]
    return [
        ("host", ["-std=c99"] + host_all),
        ("host-spin", ["-std=c99"]),
        ("host-atomics", ["-std=c99", "-DVIRTQ_USE_ATOMICS=1"] + host_all),
        ("rv64", ["-std=c99", "--target=riscv64-unknown-elf", "-march=rv64gc"] + fs + all_wfi),
        ("rv32", ["-std=c99", "--target=riscv32-unknown-elf", "-march=rv32imac"] + fs +
         hook_flags(WFI_TICK[1]) + WFI_TICK[2]),
        ("aarch64", ["-std=c99", "--target=aarch64-none-elf"] + fs + all_wfi),
        ("cortex-m3", ["-std=c99", "--target=thumbv7m-none-eabi", "-mcpu=cortex-m3"] + fs +
         all_wfi),
        ("cortex-a7", ["-std=c99", "--target=armv7a-none-eabi", "-mcpu=cortex-a7"] + fs +
         all_wfi),
    ]


def extra_sources():
    """shims/ and examples/drivers/ C sources, whatever exists when run."""
    found = []
    for pattern, kind in (("shims/**/*.c", "shim"), ("examples/drivers/**/*.c", "driver")):
        for p in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            found.append((p, kind))
    return found


def extra_flags(kind, p):
    """Host flags for an extra source: its own directory, the repo root (for
    virtq.h) and the fake device's headers."""
    flags = ["-I" + d for d in dict.fromkeys([os.path.dirname(p), ROOT,
                                              os.path.join(ROOT, "shims", "fake"),
                                              os.path.join(ROOT, "examples", "drivers")])]
    # C11 as mk/fake.mk builds the fake; the sources define any feature-test
    # macro they need themselves.
    return (["-std=c11"] if kind == "shim" else ["-std=c99"]) + flags


def tidy_gates(r):
    cfg = os.path.join(ROOT, ".clang-tidy")
    if not os.path.isfile(cfg):
        r.failures.append(("clang-tidy config", "no .clang-tidy at the repository root"))
        return r.report("test-tidy")
    items = []
    # --config-file pins the root configuration even if a directory below
    # has its own; the header filter reports findings inside virtq.h and the
    # project's headers, never in system headers.
    base = [CLANG_TIDY, "--quiet", "--config-file=" + cfg]
    for name, flags in lint_configs():
        cmd = base + [IMPL, "--", "-I" + ROOT] + flags
        items.append(("clang-tidy virtq.h (%s)" % name, lambda cmd=cmd: tidy_one(r, cmd)))
    extras = extra_sources()
    for p, kind in extras:
        cmd = base + [p, "--"] + extra_flags(kind, p)
        items.append(("clang-tidy %s" % os.path.relpath(p, ROOT),
                      lambda cmd=cmd: tidy_one(r, cmd)))
    if not extras:
        print("test-tidy: no shims/**/*.c or examples/drivers/**/*.c yet; "
              "analysing virtq.h only")
    r.parallel(items)
    return r.report("test-tidy")


def tidy_one(r, cmd):
    rc, text = r.run(cmd)
    findings = [l for l in text.splitlines() if re.search(r": (warning|error): ", l)]
    if rc != 0 or findings:
        raise Failure("$ %s\n%s" % (" ".join(cmd), text))


def cppcheck_gates(r):
    items = []
    base = ["cppcheck", "--enable=warning,style,performance,portability", "--error-exitcode=1",
            "--inline-suppr", "--quiet", "--std=c99", "-I" + ROOT,
            "--suppressions-list=" + os.path.join(GATES, "cppcheck.supp")]
    # cppcheck has no compiler: name the architecture macros each
    # configuration implies (a -D makes cppcheck check that one set only).
    arch = {
        "host": ["-D__GNUC__", "-D__x86_64__"],
        "rv64": ["-D__GNUC__", "-D__riscv", "-D__riscv_xlen=64"],
        "rv32": ["-D__GNUC__", "-D__riscv", "-D__riscv_xlen=32"],
        "aarch64": ["-D__GNUC__", "-D__aarch64__"],
        "cortex-m3": ["-D__GNUC__", "-D__arm__", "-D__ARM_ARCH_PROFILE=77"],
        "cortex-a7": ["-D__GNUC__", "-D__arm__", "-D__ARM_ARCH_PROFILE=65"],
    }
    for name, flags in lint_configs():
        key = name.split("-")[0] if name.startswith("host") else name
        defs = [f for f in flags if f.startswith("-D")]
        plat = ["--platform=unix32"] if name in ("rv32", "cortex-m3", "cortex-a7") else \
            ["--platform=unix64"]
        cmd = base + plat + arch[key] + defs + [IMPL]
        items.append(("cppcheck virtq.h (%s)" % name, lambda cmd=cmd: cppcheck_one(r, cmd)))
    extras = extra_sources()
    for p, kind in extras:
        std = "--std=c11" if kind == "shim" else "--std=c99"
        cmd = [a for a in base if not a.startswith("--std=")] + [std, "--platform=unix64",
               "-D__GNUC__", "-D__x86_64__"] + [f for f in extra_flags(kind, p)
                                                 if f.startswith("-I")] + [p]
        items.append(("cppcheck %s" % os.path.relpath(p, ROOT),
                      lambda cmd=cmd: cppcheck_one(r, cmd)))
    if not extras:
        print("test-cppcheck: no shims/**/*.c or examples/drivers/**/*.c yet; "
              "analysing virtq.h only")
    r.parallel(items)
    return r.report("test-cppcheck")


def cppcheck_one(r, cmd):
    rc, text = r.run(cmd)
    if rc != 0 or text.strip():
        raise Failure("$ %s\n%s" % (" ".join(cmd), text))


# ---------------------------------------------------------------------------
# amalgamate.py


def amalgamate_gates(r):
    amal = os.path.join(ROOT, "amalgamate.py")
    py = sys.executable or "python3"
    tmp = tempfile.mkdtemp(prefix="amalgamate-", dir=r.build)

    def run_amal(*args, seed="0"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        return r.run([py, amal] + list(args), env=env)

    def copy_src(name):
        d = os.path.join(tmp, name)
        shutil.copytree(os.path.join(ROOT, "src"), d)
        return d

    def fresh():
        rc, text = run_amal("--check")
        if rc != 0:
            raise Failure("amalgamate.py --check: %s" % text)

    def deterministic():
        src = copy_src("det")
        outs = []
        for i, seed in enumerate(("0", "1", "random")):
            out = os.path.join(tmp, "det-%d.h" % i)
            rc, text = run_amal("--src", src, "--out", out, seed=seed)
            if rc != 0:
                raise Failure("amalgamate.py --src %s --out %s: %s" % (src, out, text))
            with open(out, "rb") as f:
                outs.append(f.read())
        if outs[0] != outs[1] or outs[0] != outs[2]:
            raise Failure("two builds from the same parts differ")
        # Same bytes as the committed header: nothing depends on where the
        # parts live.
        with open(HEADER, "rb") as f:
            if f.read() != outs[0]:
                raise Failure("a build from a copy of src/ differs from virtq.h")

    def unlisted_part():
        src = copy_src("unlisted")
        with open(os.path.join(src, "zz_unlisted.h"), "w") as f:
            f.write("/* a part nobody added to the manifest */\n")
        out = os.path.join(tmp, "unlisted.h")
        rc, text = run_amal("--src", src, "--out", out)
        if rc == 0:
            raise Failure("amalgamate.py accepted a part missing from the manifest")
        if "zz_unlisted.h" not in text or "not in the manifest" not in text:
            raise Failure("amalgamate.py failed without naming the unlisted part: %s" % text)
        if os.path.exists(out):
            raise Failure("amalgamate.py wrote %s despite the error" % out)
        # ...and --check fails the same way rather than calling it fresh.
        rc, text = run_amal("--check", "--src", src, "--out", HEADER)
        if rc == 0 or "zz_unlisted.h" not in text:
            raise Failure("--check passed with an unlisted part: %s" % text)

    def missing_part():
        src = copy_src("missing")
        os.remove(os.path.join(src, "wait.h"))
        rc, text = run_amal("--src", src, "--out", os.path.join(tmp, "missing.h"))
        if rc == 0 or "wait.h" not in text:
            raise Failure("amalgamate.py did not refuse a manifest part missing from src/: "
                          "rc %d %s" % (rc, text))

    def stale():
        src = copy_src("stale")
        out = os.path.join(tmp, "stale.h")
        rc, text = run_amal("--src", src, "--out", out)
        if rc != 0:
            raise Failure(text)
        rc, text = run_amal("--check", "--src", src, "--out", out)
        if rc != 0:
            raise Failure("--check called a fresh build stale: %s" % text)
        with open(os.path.join(src, "errors.h"), "a") as f:
            f.write("/* an edit after the last build */\n")
        rc, text = run_amal("--check", "--src", src, "--out", out)
        if rc != 1 or "stale" not in text:
            raise Failure("--check missed an edited part: rc %d %s" % (rc, text))

    for name, fn in (("virtq.h is up to date", fresh),
                     ("output is deterministic and location-independent", deterministic),
                     ("an unlisted part is refused", unlisted_part),
                     ("a listed part that is missing is refused", missing_part),
                     ("--check notices an edited part", stale)):
        r.gate(name, fn)
    shutil.rmtree(tmp, ignore_errors=True)
    return r.report("test-amalgamate")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["compile", "tidy", "cppcheck", "amalgamate"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "gates"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    r = Runner(args)
    fn = {"compile": compile_gates, "tidy": tidy_gates, "cppcheck": cppcheck_gates,
          "amalgamate": amalgamate_gates}[args.what]
    try:
        return fn(r)
    except Failure as e:
        print("FAIL %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
