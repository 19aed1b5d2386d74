#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot the AArch64 board's selftest in each mode and judge how it ends.

    a64_selftest.py --qemu "qemu-system-aarch64 -M virt ..." --elf-dir build/aarch64

Modes (examples/boards/qemu-virt-aarch64/selftest.c, one ELF each):
  selftest-0     must PASS, exit status 0 (system registers, DTB, shim clock,
                 alarm, cache hooks, MMIO accessors)
  selftest-1     board_fail(): RESULT FAIL and exit status 1 through
                 semihosting; then again with semihosting off: RESULT FAIL
                 and exit status 0 (PSCI SYSTEM_OFF cannot carry a status),
                 which proves the fallback ends the run instead of hanging
  selftest-2     an unmapped load: a data abort, RESULT FAIL, status 1
  selftest-3     a branch into device memory: an instruction abort (XN)

A mode that must fail is judged on the failure it reports, so a board that
fails for another reason (or passes) fails this test.  Python 3 stdlib only.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

RESULT_RE = re.compile(r"^RESULT (\S+) (PASS|FAIL)\b(.*)$")


def boot(qemu, elf, timeout, semihosting=True):
    cmd = shlex.split(qemu)
    if not semihosting:
        # Drop the semihosting option and its value.
        out, skip = [], False
        for w in cmd:
            if skip:
                skip = False
                continue
            if w.startswith("-semihosting"):
                skip = w == "-semihosting-config"
                continue
            out.append(w)
        cmd = out
    cmd += ["-kernel", elf]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode("utf-8", "replace")
        return None, text.replace("\r", "").splitlines()
    return p.returncode, p.stdout.decode("utf-8", "replace").replace("\r", "").splitlines()


def last_result(lines):
    res = None
    for l in lines:
        m = RESULT_RE.match(l)
        if m:
            res = m
    return res


def check(name, rc, lines, want_rc, want_verdict, want_text, tags):
    res = last_result(lines)
    problems = []
    if rc != want_rc:
        problems.append("exit status %s, want %d" % (rc, want_rc))
    if not res or res.group(1) != "selftest" or res.group(2) != want_verdict:
        problems.append("last RESULT %r, want selftest %s" %
                        (res.group(0) if res else None, want_verdict))
    else:
        have = dict(kv.split("=", 1) for kv in res.group(3).split(":")[0].split()
                    if "=" in kv)
        for k, v in tags.items():
            if have.get(k) != v:
                problems.append("tag %s=%s, want %s" % (k, have.get(k), v))
    for t in want_text:
        if not any(re.search(t, l) for l in lines):
            problems.append("no line matches %r" % t)
    if problems:
        print("a64_selftest: FAIL %s: %s" % (name, "; ".join(problems)), file=sys.stderr)
        for l in lines[-15:]:
            print("  | " + l, file=sys.stderr)
        return 1
    print("a64_selftest: PASS %s (exit %s, %s)" % (name, rc, res.group(0)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--qemu", required=True)
    p.add_argument("--elf-dir", required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--tag", action="append", default=[], help="key=value the RESULT must carry")
    a = p.parse_args()
    tags = dict(t.split("=", 1) for t in a.tag)
    elf = lambda m: os.path.join(a.elf_dir, "selftest-%d.elf" % m)
    bad = 0
    rc, lines = boot(a.qemu, elf(0), a.timeout)
    bad += check("pass", rc, lines, 0, "PASS",
                 [r"^FIGURE selftest cntfrq=\d+ Hz$", r"^selftest: DTB at 0x40000000",
                  r"^FIGURE selftest dcache_line=\d+ bytes$"], tags)
    rc, lines = boot(a.qemu, elf(1), a.timeout)
    bad += check("fail-semihosting", rc, lines, 1, "FAIL", [r"deliberate failure"], tags)
    rc, lines = boot(a.qemu, elf(1), a.timeout, semihosting=False)
    bad += check("fail-psci", rc, lines, 0, "FAIL", [r"deliberate failure"], tags)
    rc, lines = boot(a.qemu, elf(2), a.timeout)
    bad += check("unmapped-load", rc, lines, 1, "FAIL",
                 [r"^SELFTEST expect data abort", r"\(data abort\).*far=0x100000000\b"], tags)
    rc, lines = boot(a.qemu, elf(3), a.timeout)
    bad += check("device-execute", rc, lines, 1, "FAIL",
                 [r"^SELFTEST expect instruction abort",
                  r"\(instruction abort\).*elr=0x9000000\b"], tags)
    if bad:
        print("a64_selftest: %d of 5 runs failed" % bad, file=sys.stderr)
        return 1
    print("a64_selftest: 5 runs passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
