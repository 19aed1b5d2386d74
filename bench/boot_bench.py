#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boot_bench.py — the virtq bootloader against Debian's U-Boot, same QEMU, same disk.

  boot_bench.py --disk DISK --image IMAGE --elf bootloader.elf --uboot u-boot.bin
                [--runs N] [--out CSV]

Both loaders run on one QEMU line (virt, GICv2, cortex-a72, 1 GiB, the
disk on a virtio-blk-device, a 64 MiB pflash holding U-Boot's environment);
only -kernel bootloader.elf or -bios u-boot.bin differs.  U-Boot's
environment (written here into the pflash image, as mkenvimage would) is
bootdelay=0 and a bootcmd of only `virtio scan`, two `virtio read`s (the
same blocks our loader reads) and `booti`.

Measured per run:
  entry_s      time from the guest CPU's first instruction to the kernel's
               first instruction: QEMU starts halted (-S) with its gdbstub,
               a breakpoint is set at the kernel's entry address (ours:
               0x4020_0000; U-Boot's booti: kernel_addr_r 0x4040_0000, a
               2 MiB-aligned Image with text_offset 0 runs in place), the
               host takes the time at "continue" and at the stop reply.
  spawn_s      the same from the QEMU process's start (adds QEMU's own set-up)
  load_mib_s   kernel + initrd bytes / load time, both timed the same way on
               the host from the arrival of serial bytes (unbuffered): U-Boot
               from the end of each "virtio read: ... count N ... " to its
               "N blocks read: OK", ours from the end of each "bootloader:
               loading X, N bytes ..." line to "bootloader: loaded X" (one
               pair: ours loads kernel and initrd in one window); summed over
               U-Boot's two reads.  (Ours also reports its own generic-timer
               figure, guest_load_s.)
  dev_load_mib_s  the same bytes / the device-side load time, from QEMU's own
               trace (virtio_blk_handle_read / virtio_blk_rw_complete, -msg
               timestamp=on, microseconds): from the first submission to the
               last completion of the reads that load kernel and initrd (the
               last run of reads before the kernel's entry that all touch
               them): the whole load, with U-Boot's pause between its two
               commands and our overlap of the two files both counted as
               they happen.  (dev_files_s, the old figure, adds up per-file
               windows instead.)  It is the same measurement for both
               loaders and leaves out the
               serial console (the host's read of a serial line can land
               milliseconds late on a busy 2-core host; the initrd's 3 KiB
               read showed 0.26 ms in the guest and 1.6-3.2 ms on the host).
With --prealloc both run with -mem-prealloc (guest RAM faulted in before
the guest starts), which takes the host's page-fault cost out of the load.
And after every pair of runs: host_copy_mib_s, the host copying the same
kernel bytes from the disk file (page cache) with 4 MiB preads into a fresh
anonymous mapping (as QEMU's guest RAM is fresh at boot; transparent huge
pages asked for, as QEMU asks for them), and into a reused (warm) buffer;
the best of all of them is the limit (one measurement at the end swung
from 4,700 to 8,200 MiB/s between runs on this host).
"""
import argparse
import csv
import mmap
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
import bootdisk  # noqa: E402

MIB = 1 << 20
OUR_ENTRY = 0x40200000
UB_KERNEL = 0x40400000
UB_INITRD = 0x48000000
ENV_SIZE = 0x40000  # qemu_arm64: environment at the start of pflash bank 1


class Gdb:
    """The little of the GDB remote protocol needed: a breakpoint and continue."""

    def __init__(self, port, deadline):
        self.s = None
        while True:
            try:
                self.s = socket.create_connection(('127.0.0.1', port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.s.settimeout(None)
        self.buf = b''

    def send(self, body):
        pkt = b'$' + body + b'#%02x' % (sum(body) & 0xff)
        self.s.sendall(pkt)

    def reply(self, deadline):
        while True:
            m = re.search(rb'\$([^#]*)#..', self.buf)
            if m:
                self.buf = self.buf[m.end():]
                self.s.sendall(b'+')
                return m.group(1)
            r, _, _ = select.select([self.s], [], [], max(0, deadline - time.monotonic()))
            if not r:
                raise TimeoutError('gdbstub: no reply')
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError('gdbstub closed')
            self.buf += chunk.replace(b'+', b'')

    def poll(self):
        """Take what the socket holds (it is readable); a complete packet or None."""
        chunk = self.s.recv(4096)
        if not chunk:
            raise EOFError('gdbstub closed')
        self.buf += chunk.replace(b'+', b'')  # acks of our packets
        m = re.search(rb'\$([^#]*)#..', self.buf)
        if not m:
            return None
        self.buf = self.buf[m.end():]
        self.s.sendall(b'+')
        return m.group(1)

    def cmd(self, body, deadline):
        self.send(body)
        return self.reply(deadline)


def env_image(path, bootcmd, bootargs):
    env = ('bootdelay=0\0bootargs=%s\0bootcmd=%s\0\0' % (bootargs, bootcmd)).encode()
    data = env + b'\0' * (ENV_SIZE - 4 - len(env))
    img = struct.pack('<I', zlib.crc32(data)) + data
    with open(path, 'wb') as f:
        f.write(img + b'\xff' * (64 * MIB - len(img)))


def qemu_line(a, loader, flash):
    q = ['qemu-system-aarch64', '-M', 'virt,gic-version=2', '-cpu', 'cortex-a72', '-m', '1G',
         '-nographic', '-no-reboot', '-nic', 'none', '-global', 'virtio-mmio.force-legacy=false',
         '-drive', 'if=pflash,unit=1,format=raw,file=%s' % flash,
         '-drive', 'file=%s,format=raw,if=none,id=d0' % a.disk,
         '-device', 'virtio-blk-device,drive=d0']
    if a.prealloc:
        q.append('-mem-prealloc')
    return q + (['-kernel', a.elf] if loader == 'virtq' else ['-bios', a.uboot])


TRACE_LINE = re.compile(r'^\d+@(\d+)\.(\d+):virtio_blk_(handle_read|rw_complete) .*?'
                        r'req (0x[0-9a-f]+)(?: sector (\d+) nsectors (\d+))?', re.M)


def trace_reads(trace_text):
    """The reads in a QEMU trace, in submission order: {'t0': submitted,
    't1': completed or None, 'lo': first sector, 'n': sectors}."""
    reads, open_req = [], {}
    for m in TRACE_LINE.finditer(trace_text):
        t = int(m.group(1)) + int(m.group(2)) / 1e6
        if m.group(3) == 'handle_read':
            r = {'t0': t, 't1': None, 'lo': int(m.group(5)), 'n': int(m.group(6))}
            reads.append(r)
            open_req[m.group(4)] = r
        elif m.group(4) in open_req:
            open_req.pop(m.group(4))['t1'] = t
    return reads


def device_window(reads, first, blocks):
    """Seconds the device spent loading blocks first..first+blocks-1: walk
    the reads touching them from the last one back to the last read that
    starts at first; from its submission to the last completion."""
    touching = [r for r in reads if r['lo'] < first + blocks and r['lo'] + r['n'] > first]
    t1 = None
    for r in reversed(touching):
        if r['t1'] is None:
            return None
        t1 = r['t1'] if t1 is None else max(t1, r['t1'])
        if r['lo'] == first:
            return t1 - r['t0']
    return None


def device_span(reads, regions):
    """Seconds the device spent on the whole load: the last run of reads in
    the trace that all touch kernel or initrd (the run ends at the kernel's
    entry, where the trace stops; the read before it, a GPT or command-line
    block, is not part of the load), from its first submission to its last
    completion, whatever the order or overlap of the files' requests."""
    run = []
    for r in reversed(reads):
        if not any(r['lo'] < lo + n and r['lo'] + r['n'] > lo for lo, n in regions):
            break
        run.append(r)
    if not run or any(r['t1'] is None for r in run):
        return None
    return max(r['t1'] for r in run) - min(r['t0'] for r in run)


def one_run(a, loader, flash, port):
    entry = OUR_ENTRY if loader == 'virtq' else UB_KERNEL
    trace = os.path.join(a.logdir, '%s-%d.trace' % (loader, port))
    cmd = qemu_line(a, loader, flash) + ['-S', '-gdb', 'tcp:127.0.0.1:%d' % port,
                                         '-msg', 'timestamp=on', '-D', trace,
                                         '-trace', 'virtio_blk_handle_read',
                                         '-trace', 'virtio_blk_rw_complete']
    t_spawn = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0)
    deadline = t_spawn + a.timeout
    out, marks = b'', []
    try:
        g = Gdb(port, deadline)
        if g.cmd(b'Z1,%x,4' % entry, deadline) != b'OK':
            raise RuntimeError('gdbstub refused the breakpoint')
        t_cont = time.monotonic()
        g.send(b'c')
        fd = p.stdout.fileno()
        while True:
            r, _, _ = select.select([g.s, fd], [], [], max(0, deadline - time.monotonic()))
            if not r:
                raise TimeoutError('%s: no kernel entry within %d s' % (loader, a.timeout))
            if fd in r:
                chunk = os.read(fd, 65536)
                if chunk:
                    out += chunk
                    marks.append((len(out), time.monotonic()))
            if g.s in r:
                t_stop = time.monotonic()
                rep = g.poll()
                if rep is not None and rep[:1] in (b'T', b'S'):
                    break
        # Drain what the serial line still holds.
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
            marks.append((len(out), time.monotonic()))
    finally:
        p.kill()
        p.wait()
    text = out.decode('utf-8', 'replace')
    res = {'loader': loader, 'entry_s': t_stop - t_cont, 'spawn_s': t_stop - t_spawn}
    def at(off):
        return next(t for end, t in marks if end >= off)
    if loader == 'virtq':
        fig = dict(re.findall(r'FIGURE bootloader (\w+)=(\d+)', text))
        if 'RESULT bootloader PASS' not in text:
            raise RuntimeError('virtq bootloader did not pass:\n' + text[-800:])
        res['load_bytes'] = int(fig['kernel_bytes']) + int(fig['initrd_bytes'])
        res['guest_load_s'] = int(fig['load_us']) / 1e6
        total_s = 0.0
        for m in re.finditer(rb'bootloader: loading ([\w+]+), \d+ bytes \.\.\.\r?\n', out):
            done = re.compile(rb'bootloader: loaded %s\r?\n' % re.escape(m.group(1))).search(out, m.end())
            total_s += at(done.end()) - at(m.end())
        res['load_s'] = total_s
    else:
        total_b, total_s = 0, 0.0
        for m in re.finditer(rb'count (\d+) \.\.\. ', out):
            ok = re.compile(rb'%s blocks read: OK' % m.group(1)).search(out, m.end())
            if not ok:
                raise RuntimeError('U-Boot read failed:\n' + text[-800:])
            total_b += int(m.group(1)) * 512
            total_s += at(ok.end()) - at(m.end())
        if 'Starting kernel' not in text or total_b == 0:
            raise RuntimeError('U-Boot did not boot:\n' + text[-800:])
        res['load_bytes'], res['load_s'] = total_b, total_s
    res['load_mib_s'] = res['load_bytes'] / MIB / res['load_s'] if res['load_s'] > 0 else 0
    with open(trace) as f:
        tt = f.read()
    os.remove(trace)
    reads = trace_reads(tt)
    dev = [device_window(reads, lo, n) for lo, n in a.regions]
    span = device_span(reads, a.regions)
    if None in dev or span is None:
        raise RuntimeError('%s: the QEMU trace does not show the whole load' % loader)
    res['dev_files_s'] = sum(dev)
    res['dev_load_s'] = span
    res['dev_load_mib_s'] = res['load_bytes'] / MIB / res['dev_load_s']
    return res, text


def host_copy(disk, off, n, reps=5):
    """MiB/s of 4 MiB preads of n bytes at off: into fresh mappings, and warm."""
    fd = os.open(disk, os.O_RDONLY)
    chunk = 4 * MIB
    best = {'cold': 0.0, 'warm': 0.0}
    warm = mmap.mmap(-1, n + chunk)
    try:
        for _ in range(reps + 1):
            for kind in ('cold', 'warm'):
                buf = mmap.mmap(-1, n + chunk) if kind == 'cold' else warm
                if kind == 'cold' and hasattr(mmap, 'MADV_HUGEPAGE'):
                    buf.madvise(mmap.MADV_HUGEPAGE)  # as QEMU does for guest RAM
                view = memoryview(buf)
                t = time.perf_counter()
                pos = 0
                while pos < n:
                    got = os.preadv(fd, [view[pos:pos + min(chunk, n - pos)]], off + pos)
                    if got <= 0:
                        raise RuntimeError('short read')
                    pos += got
                dt = time.perf_counter() - t
                view.release()
                if kind == 'cold':
                    buf.close()
                best[kind] = max(best[kind], n / MIB / dt)
    finally:
        os.close(fd)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--disk', required=True)
    ap.add_argument('--image', required=True)
    ap.add_argument('--elf', required=True)
    ap.add_argument('--uboot', default='/usr/lib/u-boot/qemu_arm64/u-boot.bin')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--out', default='bench/results/boot.csv')
    ap.add_argument('--logdir', default='build/bench-boot')
    ap.add_argument('--cmdline', default='console=ttyAMA0 panic=-1')
    ap.add_argument('--prealloc', action='store_true')
    a = ap.parse_args()
    os.makedirs(a.logdir, exist_ok=True)
    os.makedirs(os.path.dirname(a.out) or '.', exist_ok=True)

    # The same blocks our loader reads: the Image's file bytes (its PE
    # sections end at the file's end) rounded to a block, the whole initrd
    # partition.
    img = bytearray(open(a.disk, 'rb').read(64 * MIB))
    parts = {}
    for name in ('kernel', 'initrd'):
        e = bootdisk.entry_off(img, 0, bootdisk.find_entry(img, name))
        parts[name] = (bootdisk.get(img, e + 32, 'Q'), bootdisk.get(img, e + 40, 'Q'))
    kblocks = (os.path.getsize(a.image) + 511) // 512
    iblocks = parts['initrd'][1] - parts['initrd'][0] + 1
    # The device-side window covers the blocks both loaders read (ours stops
    # at the PE length, a few blocks short of the file's end).
    a.regions = [(parts['kernel'][0], kblocks - 8), (parts['initrd'][0], iblocks)]
    bootcmd = ('virtio scan; virtio read 0x%x 0x%x 0x%x; virtio read 0x%x 0x%x 0x%x; '
               'booti 0x%x 0x%x:0x%x ${fdtcontroladdr}' %
               (UB_KERNEL, parts['kernel'][0], kblocks, UB_INITRD, parts['initrd'][0], iblocks,
                UB_KERNEL, UB_INITRD, iblocks * 512))
    flash = os.path.join(a.logdir, 'uboot-env.img')
    env_image(flash, bootcmd, a.cmdline)
    print('boot_bench: U-Boot bootcmd: ' + bootcmd)
    print('boot_bench: QEMU (virtq): ' + ' '.join(qemu_line(a, 'virtq', flash)))
    print('boot_bench: QEMU (U-Boot): ' + ' '.join(qemu_line(a, 'uboot', flash)))

    rows = []
    hc = {'cold': 0.0, 'warm': 0.0}
    port = 12000 + os.getpid() % 20000
    for i in range(a.runs):
        # ABBA order: neither loader always runs first in its pair (a QEMU
        # started right after another one meets a warmer host).
        for loader in (('virtq', 'uboot') if i % 2 == 0 else ('uboot', 'virtq')):
            res, text = one_run(a, loader, flash, port)
            port += 1
            with open(os.path.join(a.logdir, '%s-%d.log' % (loader, i)), 'w') as f:
                f.write(text)
            res['run'] = i
            rows.append(res)
            print('boot_bench: run %d %-6s entry %.3f s (from spawn %.3f s), load %.1f MiB in %.1f ms = %.0f MiB/s'
                  ' (device side %.1f ms = %.0f MiB/s)'
                  % (i, loader, res['entry_s'], res['spawn_s'], res['load_bytes'] / MIB,
                     res['load_s'] * 1e3, res['load_mib_s'], res['dev_load_s'] * 1e3,
                     res['dev_load_mib_s']))
        c = host_copy(a.disk, parts['kernel'][0] * 512, kblocks * 512, reps=1)
        hc = {k: max(hc[k], c[k]) for k in hc}
    print('boot_bench: host copy of the kernel bytes: %.0f MiB/s into fresh memory, %.0f MiB/s warm'
          % (hc['cold'], hc['warm']))
    with open(a.out, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['loader', 'prealloc', 'run', 'entry_s', 'spawn_s', 'load_bytes', 'load_s',
                    'load_mib_s', 'guest_load_s', 'dev_load_s', 'dev_load_mib_s', 'dev_files_s'])
        for r in rows:
            w.writerow([r['loader'], int(a.prealloc), r['run'], '%.4f' % r['entry_s'],
                        '%.4f' % r['spawn_s'], r['load_bytes'], '%.5f' % r['load_s'],
                        '%.1f' % r['load_mib_s'], '%.5f' % r.get('guest_load_s', 0),
                        '%.5f' % r['dev_load_s'], '%.1f' % r['dev_load_mib_s'],
                        '%.5f' % r['dev_files_s']])
        w.writerow(['host_copy_cold', int(a.prealloc), '', '', '', kblocks * 512, '', '%.1f' % hc['cold'], '', '', '', ''])
        w.writerow(['host_copy_warm', int(a.prealloc), '', '', '', kblocks * 512, '', '%.1f' % hc['warm'], '', '', '', ''])

    def med(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2]
    summary = {}
    for loader in ('virtq', 'uboot'):
        rs = [r for r in rows if r['loader'] == loader]
        summary[loader] = (med([r['entry_s'] for r in rs]), min(r['entry_s'] for r in rs),
                           med([r['load_mib_s'] for r in rs]), max(r['load_mib_s'] for r in rs),
                           med([r['dev_load_mib_s'] for r in rs]), max(r['dev_load_mib_s'] for r in rs))
    v, u = summary['virtq'], summary['uboot']
    print('boot_bench: median (best) entry: virtq %.3f (%.3f) s, U-Boot %.3f (%.3f) s: ratio %.2f'
          % (v[0], v[1], u[0], u[1], v[0] / u[0]))
    print('boot_bench: median (best) load: virtq %.0f (%.0f) MiB/s, U-Boot %.0f (%.0f) MiB/s, '
          'host copy %.0f MiB/s fresh, %.0f warm' % (v[2], v[3], u[2], u[3], hc['cold'], hc['warm']))
    print('boot_bench: median (best) device-side load: virtq %.0f (%.0f) MiB/s, U-Boot %.0f (%.0f) MiB/s'
          % (v[4], v[5], u[4], u[5]))
    # Paired: each run's two loaders ran back to back on the same host state.
    pairs = sorted(next(r['dev_load_mib_s'] for r in rows if r['run'] == i and r['loader'] == 'virtq') /
                   next(r['dev_load_mib_s'] for r in rows if r['run'] == i and r['loader'] == 'uboot')
                   for i in range(a.runs))
    print('boot_bench: device-side load, paired: virtq at or above U-Boot in %d of %d runs, '
          'ratio median %.3f (range %.2f-%.2f)'
          % (sum(1 for x in pairs if x >= 1.0), len(pairs), med(pairs), pairs[0], pairs[-1]))
    limit = hc['warm'] if a.prealloc else hc['cold']
    for what, k in (('serial-timed', 2), ('device-side', 4)):
        print('boot_bench: targets (%s load): entry <= 0.5 x U-Boot: %s; load >= U-Boot: %s; load '
              'within 10%% of the host copy (%s memory, %.0f MiB/s): %s'
              % (what, 'met' if v[0] <= 0.5 * u[0] else 'MISSED', 'met' if v[k] >= u[k] else 'MISSED',
                 'prefaulted' if a.prealloc else 'fresh', limit,
                 'met' if v[k] >= 0.9 * limit else 'MISSED'))


if __name__ == '__main__':
    main()
