#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qemu_bootloader.py — boots the virtq bootloader (examples/bootloader) in QEMU.

  qemu_bootloader.py [--tee] [--log F] [--timeout S] -- QEMU ARGS...
      One real boot: the bootloader's figures, then
      `RESULT bootloader PASS arch=aarch64 transport=... ring=...`, then
      Linux's own messages, the init marker and the command line init read
      from /proc/cmdline AFTER the RESULT line, and QEMU exiting by itself
      (PSCI power-off from the kernel) with status 0.
  qemu_bootloader.py --hostile DIR [...] -- QEMU ARGS with @DISK@
      Each hostile disk of tools/bootdisk.py (DIR/<case>.img): the expected
      error on the serial line, `RESULT bootloader FAIL`, and no sign of a
      jump (no "entering Linux", no kernel message).  The case whose
      primary GPT is bad but whose backup is good must reach RESULT PASS
      through the backup; QEMU is stopped there (no second kernel boot).
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tools'))
import bootdisk  # noqa: E402

RESULT_RE = re.compile(r'^RESULT bootloader (PASS|FAIL)( .*)?$')
KERNEL_RE = re.compile(r'^\[ *\d+\.\d+\] Booting Linux on physical CPU')
MARKER = 'VIRTQ-INIT: init reached user space'


def run(cmd, timeout, tee, stop_at_result=False):
    """Run QEMU; return (exit code or None if stopped/timed out, lines, t_first_kernel)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True, errors='replace', bufsize=1)
    lines, t_kernel, rc = [], None, None
    try:
        for line in p.stdout:
            line = line.rstrip('\r\n')
            lines.append(line)
            if tee:
                print(line, flush=True)
            if t_kernel is None and KERNEL_RE.match(line):
                t_kernel = time.monotonic() - t0
            if stop_at_result and RESULT_RE.match(line):
                p.kill()
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                lines.append('qemu_bootloader: TIMEOUT after %d s' % timeout)
                break
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return rc, lines, t_kernel


def check_boot(lines, rc, expect_tags):
    errs = []
    idx = [i for i, l in enumerate(lines) if RESULT_RE.match(l)]
    if len(idx) != 1:
        return ['expected exactly one RESULT line, got %d' % len(idx)]
    r = idx[0]
    m = RESULT_RE.match(lines[r])
    if m.group(1) != 'PASS':
        errs.append('bootloader: ' + lines[r])
    tags = dict(t.split('=', 1) for t in (m.group(2) or '').split() if '=' in t)
    for k, v in expect_tags.items():
        if tags.get(k) != v:
            errs.append('RESULT tag %s=%s, expected %s' % (k, tags.get(k), v))
    for fig in ('load_mib_s', 'kernel_bytes', 'max_inflight'):
        if not any(l.startswith('FIGURE bootloader %s=' % fig) for l in lines[:r]):
            errs.append('no FIGURE %s before RESULT' % fig)
    after = lines[r + 1:]
    if not any(KERNEL_RE.match(l) for l in after):
        errs.append('no kernel message after RESULT (not quiet: "Booting Linux ...")')
    if not any(l.startswith('[') and 'Unpacking initramfs' in l or 'Run /init as init process' in l
               for l in after):
        errs.append('the kernel did not run /init from the initramfs')
    if not any(l.startswith(MARKER) for l in after):
        errs.append('no init marker after RESULT')
    cmd = [l for l in after if l.startswith('VIRTQ-INIT: cmdline: ')]
    args = [l for l in lines[:r] if 'bootargs "' in l]
    if not cmd or not args or args[0].split('bootargs "', 1)[1].split('"', 1)[0] != \
            cmd[0][len('VIRTQ-INIT: cmdline: '):].strip():
        errs.append('init did not see the bootargs the bootloader set')
    if rc != 0:
        errs.append('QEMU did not exit by itself with status 0 (rc=%s)' % rc)
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tee', action='store_true')
    ap.add_argument('--log')
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--hostile')
    ap.add_argument('--tag', action='append', default=['arch=aarch64'])
    ap.add_argument('qemu', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.qemu[1:] if a.qemu and a.qemu[0] == '--' else a.qemu
    tags = dict(t.split('=', 1) for t in a.tag)
    log = open(a.log, 'w') if a.log else None
    failed = []

    if not a.hostile:
        rc, lines, tk = run(cmd, a.timeout, a.tee)
        if log:
            log.write('\n'.join(lines) + '\n')
        errs = check_boot(lines, rc, tags)
        if tk is not None:
            print('qemu_bootloader: first kernel line %.3f s after QEMU started' % tk)
        for e in errs:
            print('qemu_bootloader: FAIL: ' + e)
        print('qemu_bootloader: boot %s' % ('FAILED' if errs else 'passed'))
        return 1 if errs else 0

    for case, (what, msg) in bootdisk.CASES.items():
        disk = os.path.join(a.hostile, case + '.img')
        c = [x.replace('@DISK@', disk) for x in cmd]
        rc, lines, _ = run(c, a.timeout, a.tee, stop_at_result=True)
        if log:
            log.write('=== %s: %s\n' % (case, what) + '\n'.join(lines) + '\n')
        res = [l for l in lines if RESULT_RE.match(l)]
        jumped = any('entering Linux' in l or KERNEL_RE.match(l) for l in lines)
        errs = []
        if msg is None:  # boots through the backup GPT
            if not res or 'PASS' not in res[0]:
                errs.append('expected RESULT PASS through the backup GPT')
            if not any('GPT backup header' in l and 'primary refused: GPT: header CRC32 mismatch' in l
                       for l in lines):
                errs.append('expected the backup header to be used, the primary refused for its CRC')
        else:
            if not res or not res[0].startswith('RESULT bootloader FAIL'):
                errs.append('expected RESULT FAIL, got %s' % (res[0] if res else 'no RESULT'))
            if not any(msg in l for l in lines):
                errs.append('expected the message "%s"' % msg)
            if jumped:
                errs.append('the bootloader jumped to the kernel')
        shown = [l for l in lines if l.startswith('bootloader: ') and
                 ('not entering' in l or 'backup' in l)]
        print('qemu_bootloader: %-20s %s  %s' % (case, 'FAILED' if errs else 'ok',
                                                  shown[-1] if shown else (res[0] if res else '')))
        for e in errs:
            print('qemu_bootloader:   ' + e)
        failed += [case] if errs else []
    print('qemu_bootloader: hostile disks: %d passed, %d failed' %
          (len(bootdisk.CASES) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
