#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""In-QEMU figures for `make bench`.

  qemu_figures.py run --part NAME --runs N --cmd "CMD" [--cmd "CMD"]...
      Runs the commands (the examples' own make targets) N times in turn and
      keeps every `FIGURE <example> <key>=<value> <unit>` line they print.
      Writes <results>/qemu_runs_NAME.csv (every run), then rebuilds
      <results>/qemu_figures.csv.

  qemu_figures.py uboot --runs N --qemu "QEMU" --elf blk_demo.elf \\
                        --uboot uboot.elf --image IMG [--rounds R]
      blk_demo and Debian's U-Boot for QEMU riscv64 (M-mode, `-bios none
      -kernel`), side by side on the same disk image with the same QEMU
      command line (the one `make demo-blk` uses; only -kernel differs).
      The image is 128 MiB of random bytes (not sparse), read through once
      before every boot so the host page cache is warm for both.  Boots
      alternate (blk_demo first on even runs, U-Boot first on odd ones).
      U-Boot is driven over its serial console: autoboot interrupted,
      `virtio scan`, one warm-up read checked against the image with
      `crc32`, then R rounds of 64 MiB reads, timed two ways:
        guest clock: the command line is wrapped in `md.q 0x200bff8 1`
          (the CLINT's mtime, 10 MHz, the clock blk_demo times itself
          with), and the same line without the read is the baseline;
        host clock: from writing the line to the console to the return of
          the prompt, minus the same for the baseline line.
      Two ways to read 64 MiB: one `virtio read` of 0x20000 blocks (U-Boot
      sends it as one request), and a hush loop of 64 reads of 1 MiB.
      For scale, the host's own preadv of the cached image (1 MiB chunks,
      and one 64 MiB read) after each run.  Writes
      <results>/qemu_runs_uboot.csv, rebuilds qemu_figures.csv and prints
      blk_demo's sequential MiB/s over U-Boot's.

      With --label L (one per --cmd) a command's figures are filed as
      example@L, so one run can time the same example two ways (e.g. over
      virtio-mmio and virtio-pci, alternating within every run).

  qemu_figures.py summary
      Only rebuilds qemu_figures.csv from the qemu_runs_*.csv files.

qemu_figures.csv: part, example, key, unit, runs, median, min, max; plus
derived rows (unit "x"): blk_demo qd32 over qd1 IOPS per boot, and blk_demo
over U-Boot MiB/s per run.  Python 3 standard library only.
"""
import argparse
import csv
import glob
import os
import re
import select
import shlex
import signal
import statistics
import subprocess
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT_PY = os.path.join(ROOT, "tests", "qemu", "boot.py")
CHECK_PY = os.path.join(ROOT, "tests", "blk", "check_image.py")
sys.path.insert(0, os.path.join(ROOT, "tests", "blk"))
import qemu_blk  # noqa: E402  (build_command/expectations: the demo's exact QEMU line)

FIGURE_RE = re.compile(r"^FIGURE (\S+) (\S+)=(-?\d+(?:\.\d+)?) (\S+)\s*$")
RAW_FIELDS = ["part", "run", "example", "key", "value", "unit"]
SUM_FIELDS = ["part", "example", "key", "unit", "runs", "median", "min", "max"]

IMAGE_BYTES = 128 << 20
SEQ_BYTES = 64 << 20          # blk_demo's sequential read (SEQ_MIB)
MTIME_HZ = 10_000_000         # CLINT mtime on QEMU virt
LOAD_ADDR = 0x81000000        # U-Boot relocates itself near the top of 128 MiB
PROMPT_RE = rb"(?<=\n)=> "   # at the start of a line (lookbehind sees consumed bytes)

# The command lines U-Boot runs (hush; at most 256 characters each).
MT = "md.q 0x200bff8 1"
UB_READ_64M = "virtio read 0x%x 0 0x%x" % (LOAD_ADDR, SEQ_BYTES // 512)
UB_LINES = {
    "base": "%s; %s" % (MT, MT),
    "read_64m": "%s; %s; %s" % (MT, UB_READ_64M, MT),
    "loop_base": "setenv b 0; %s; while itest $b < 20000; do setexpr b $b + 800; done; %s"
                 % (MT, MT),
    "loop_1m": "setenv b 0; %s; while itest $b < 20000; do virtio read %x $b 800; "
               "setexpr b $b + 800; done; %s" % (MT, LOAD_ADDR, MT),
}


def fmt(v):
    s = "%.3f" % v
    return s.rstrip("0").rstrip(".") if "." in s else s


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


# ---- raw files and the summary ---------------------------------------------

def write_raw(results, part, rows):
    path = os.path.join(results, "qemu_runs_%s.csv" % part)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=RAW_FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def read_raw(results):
    rows = []
    for path in sorted(glob.glob(os.path.join(results, "qemu_runs_*.csv"))):
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


def derived(rows):
    """Ratios computed per run, so both sides come from the same boot(s)."""
    out = []
    by_run = {}
    for r in rows:
        by_run.setdefault((r["part"], r["run"].split(".")[0]), []).append(r)
    for (part, run), rs in sorted(by_run.items()):
        def get(example, key):
            vals = [float(r["value"]) for r in rs if r["example"] == example and r["key"] == key]
            return statistics.median(vals) if vals else None
        qd1, qd32 = get("blk_demo", "qd1"), get("blk_demo", "qd32")
        if part == "blk" and qd1 and qd32:
            out.append(dict(part=part, run=run, example="blk_demo", key="qd32_over_qd1",
                            value=fmt(qd32 / qd1), unit="x"))
        seq = get("blk_demo", "seq_read")
        if part == "uboot" and seq:
            for key in ("seq_read_64m_1cmd", "seq_read_1m_x64", "seq_read_64m_1cmd_host",
                        "seq_read_1m_x64_host"):
                ub = get("u-boot", key)
                if ub:
                    out.append(dict(part=part, run=run, example="blk_demo",
                                    key="over_uboot_" + key, value=fmt(seq / ub), unit="x"))
    return out


def write_summary(results):
    rows = read_raw(results)
    rows += derived(rows)
    groups = {}
    for r in rows:
        groups.setdefault((r["part"], r["example"], r["key"], r["unit"]), []).append(
            float(r["value"]))
    path = os.path.join(results, "qemu_figures.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUM_FIELDS, lineterminator="\n")
        w.writeheader()
        for (part, example, key, unit), vals in groups.items():
            w.writerow(dict(part=part, example=example, key=key, unit=unit, runs=len(vals),
                            median=fmt(statistics.median(vals)), min=fmt(min(vals)),
                            max=fmt(max(vals))))
    return path


# ---- run: the examples' own targets, N times --------------------------------

def run_command(cmd, timeout):
    """Run one shell-quoted command; (exit status or None on timeout, output)."""
    p = subprocess.Popen(shlex.split(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        status = None
    return status, out.decode("utf-8", "replace").replace("\r", "")


def figures_of(text):
    found = {}
    for line in text.split("\n"):
        m = FIGURE_RE.match(line.strip())
        if m:
            found[(m.group(1), m.group(2))] = (m.group(3), m.group(4))
    return found


def cmd_run(a):
    rows, ok = [], 0
    if a.label and len(a.label) != len(a.cmd):
        print("qemu_figures: --label must be given once per --cmd", file=sys.stderr)
        return 2
    for i in range(1, a.runs + 1):
        t0 = time.monotonic()
        load = loadavg()
        figs, failed = {}, None
        for n, c in enumerate(a.cmd):
            status, out = run_command(c, a.timeout)
            if status != 0:
                tail = "\n".join("  | " + l for l in out.rstrip().split("\n")[-15:])
                failed = "%s: %s\n%s" % (c, "timeout after %ds" % a.timeout if status is None
                                         else "exit status %d" % status, tail)
                break
            got = figures_of(out)
            if a.label:  # the same example under two setups: keep both apart
                got = {("%s@%s" % (e, a.label[n]), k): v for (e, k), v in got.items()}
            figs.update(got)
        if not failed and not figs:
            # A boot that printed no figure measured nothing (e.g. the
            # command ran as a dry run): never let it replace results.
            failed = "no FIGURE line in the output of %s" % " ; ".join(a.cmd)
        if failed:
            print("qemu_figures: %s run %d/%d FAILED (not counted): %s"
                  % (a.part, i, a.runs, failed), file=sys.stderr, flush=True)
            continue
        ok += 1
        for (example, key), (value, unit) in sorted(figs.items()):
            rows.append(dict(part=a.part, run=i, example=example, key=key, value=value,
                             unit=unit))
        show = ", ".join("%s=%s" % (k, figs[(e, k)][0]) for (e, k) in sorted(figs)
                         if k in a.show)
        print("qemu_figures: %s run %d/%d: %d FIGURE lines in %.1fs (load %s)%s"
              % (a.part, i, a.runs, len(figs), time.monotonic() - t0, load,
                 (": " + show) if show else ""), flush=True)
    if ok == 0:
        print("qemu_figures: %s: no run succeeded; %s left as it was"
              % (a.part, "qemu_runs_%s.csv" % a.part), file=sys.stderr)
        return 1
    print("qemu_figures: %s: %d of %d runs -> %s, %s"
          % (a.part, ok, a.runs, os.path.relpath(write_raw(a.results, a.part, rows), ROOT),
             os.path.relpath(write_summary(a.results), ROOT)))
    return 0


# ---- uboot: the peer, side by side ------------------------------------------

class Fail(Exception):
    pass


class Console:
    """QEMU on pipes; remembers when each byte of output arrived."""

    def __init__(self, cmd, log_path, deadline):
        self.log = open(log_path, "wb")
        self.deadline = deadline
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True, bufsize=0)
        self.fd = self.p.stdout.fileno()
        self.data = b""
        self.marks = []          # (end offset, arrival time) per read
        self.pos = 0             # consumed up to here

    def _read(self, until):
        r, _, _ = select.select([self.fd], [], [], max(0.0, until - time.monotonic()))
        if not r:
            return False
        chunk = os.read(self.fd, 65536)
        now = time.monotonic()
        if not chunk:
            raise Fail("QEMU exited (status %s)" % self.p.wait())
        self.log.write(chunk)
        self.data += chunk
        self.marks.append((len(self.data), now))
        return True

    def expect(self, pattern, timeout=20.0):
        """Wait for pattern (bytes regex) after the consumed point; return
        (match, arrival time of its last byte)."""
        rx = re.compile(pattern)
        until = min(time.monotonic() + timeout, self.deadline)
        while True:
            m = rx.search(self.data, self.pos)
            if m:
                self.pos = m.end()
                t = next(t for end, t in self.marks if end >= m.end())
                return m, t
            if not self._read(until):
                tail = self.data[-400:].decode("utf-8", "replace")
                raise Fail("timeout waiting for %r; last output:\n%s" % (pattern, tail))

    def send(self, text):
        t = time.monotonic()
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()
        return t

    def command(self, line, timeout=20.0):
        """Type a line, wait for the prompt; (output, host seconds)."""
        t0 = self.send(line + "\n")
        self.expect(re.escape(line.encode()) + rb"\r?\n", timeout)
        start = self.pos
        m, t1 = self.expect(PROMPT_RE, timeout)
        return self.data[start:m.start()].decode("utf-8", "replace"), t1 - t0

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
        self.log.close()


def mtimes(out):
    vals = [int(x, 16) for x in re.findall(r"0200bff8: ([0-9a-f]{16})", out)]
    if len(vals) != 2:
        raise Fail("expected two mtime reads, got %r" % out[-300:])
    return vals[1] - vals[0]


def uboot_session(a, cmd, image_crc, log):
    """One U-Boot boot; returns {key: [values]} of its rounds."""
    c = Console(cmd, log, time.monotonic() + a.timeout)
    res = {}
    try:
        c.expect(rb"Hit any key to stop autoboot", 30)
        c.send(" ")
        c.expect(PROMPT_RE)
        c.command("virtio scan")
        out, _ = c.command("virtio info")
        if "262144 x 512" not in out:
            raise Fail("virtio info did not show the 128 MiB disk: %r" % out)
        # Warm-up (the first touch of 64 MiB of guest RAM costs host page
        # faults; blk_demo's first pass is its seq_read_cold), checked.
        out, _ = c.command(UB_READ_64M)
        if "%d blocks read: OK" % (SEQ_BYTES // 512) not in out:
            raise Fail("warm-up read: %r" % out)
        out, _ = c.command("crc32 0x%x 0x%x" % (LOAD_ADDR, SEQ_BYTES), timeout=60)
        m = re.search(r"==> ([0-9a-f]{8})", out)
        if not m or int(m.group(1), 16) != image_crc:
            raise Fail("U-Boot read the wrong bytes: crc32 %s, image %08x"
                       % (m.group(1) if m else "?", image_crc))
        c.command(UB_LINES["loop_1m"])
        for _ in range(a.rounds):
            got = {}
            for name in ("base", "read_64m", "loop_base", "loop_1m"):
                out, host = c.command(UB_LINES[name])
                want = {"read_64m": 1, "loop_1m": 64}.get(name, 0)
                n = out.count("blocks read: OK")
                if n != want:
                    raise Fail("%s: %d reads OK, want %d: %r" % (name, n, want, out[-300:]))
                got[name] = (mtimes(out) / MTIME_HZ, host)
            _, empty = c.command("")
            mib = SEQ_BYTES / float(1 << 20)
            for key, name, base in (("seq_read_64m_1cmd", "read_64m", "base"),
                                    ("seq_read_1m_x64", "loop_1m", "loop_base")):
                g = got[name][0] - got[base][0]
                h = got[name][1] - got[base][1]
                res.setdefault(key, []).append(mib / g)
                if h > 0:
                    res.setdefault(key + "_host", []).append(mib / h)
            res.setdefault("wrap_overhead_us", []).append(got["base"][0] * 1e6)
            res.setdefault("loop_overhead_ms", []).append(got["loop_base"][0] * 1e3)
            res.setdefault("empty_cmd_rtt_ms", []).append(empty * 1e3)
        c.send("poweroff\n")
        c.close()
        if c.p.returncode != 0:
            raise Fail("poweroff: QEMU exit status %s" % c.p.returncode)
    finally:
        if c.p.poll() is None:
            os.killpg(c.p.pid, signal.SIGKILL)
            c.p.wait()
    return res


def prepare_image(path):
    """128 MiB of random bytes; reading it warms the host page cache."""
    if not os.path.exists(path) or os.path.getsize(path) != IMAGE_BYTES:
        with open(path + ".tmp", "wb") as f:
            for _ in range(IMAGE_BYTES >> 20):
                f.write(os.urandom(1 << 20))
            f.flush()
            os.fsync(f.fileno())     # no writeback running under the first boots
        os.replace(path + ".tmp", path)
    crc = 0
    with open(path, "rb") as f:
        done = 0
        while True:
            b = f.read(1 << 22)
            if not b:
                break
            if done < SEQ_BYTES:
                crc = zlib.crc32(b[:SEQ_BYTES - done], crc)
            done += len(b)
    return crc & 0xffffffff


def host_copy(path, reps=3):
    """For scale: what the host itself reads from the cached image with
    preadv, as QEMU's thread pool does for each request; best of reps.
    1 MiB chunks into 4 MiB of reused buffers (blk_demo's pattern) and one
    64 MiB preadv into a 64 MiB buffer (U-Boot's single request)."""
    fd = os.open(path, os.O_RDONLY)
    out = {}
    try:
        buf = memoryview(bytearray(SEQ_BYTES))
        for key, chunk in (("preadv_1m_x64", 1 << 20), ("preadv_64m_x1", SEQ_BYTES)):
            best = 0.0
            for _ in range(reps):
                t0 = time.perf_counter()
                off = 0
                while off < SEQ_BYTES:
                    slot = (off // chunk) % 4 * chunk if chunk < SEQ_BYTES else 0
                    n = os.preadv(fd, [buf[slot:slot + chunk]], off)
                    if n <= 0:
                        raise Fail("short read of %s" % path)
                    off += n
                best = max(best, SEQ_BYTES / float(1 << 20) / (time.perf_counter() - t0))
            out[key] = best
    finally:
        os.close(fd)
    return out


def blk_demo_boot(a, cmd, log):
    boot = [sys.executable, BOOT_PY, "--name", "blk_demo", "--timeout", str(a.boot_timeout),
            "--log", log]
    for e in qemu_blk.expectations(argparse.Namespace(transport="mmio", ring="split"), "demo"):
        boot += ["--expect", e]
    boot += ["--reject", r"^blk: .*timed out", "--"] + cmd
    r = subprocess.run(boot, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Fail("blk_demo boot failed: %s" % r.stdout.decode("utf-8", "replace")[-600:])
    r = subprocess.run([sys.executable, CHECK_PY, "--log", log, "--image", a.image],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Fail("blk_demo image check failed: %s" % r.stdout.decode())
    return figures_of(open(log).read().replace("\r", ""))


def cmd_uboot(a):
    qemu = shlex.split(a.qemu)
    os.makedirs(os.path.dirname(os.path.abspath(a.image)), exist_ok=True)
    logdir = os.path.dirname(os.path.abspath(a.image))
    # The line `make demo-blk` uses: virtio-mmio, split ring (the defaults).
    demo_cmd = qemu_blk.build_command(argparse.Namespace(transport="mmio", ring="split"),
                                      qemu, a.elf, a.image, "demo")
    k = demo_cmd.index("-kernel")
    uboot_cmd = demo_cmd[:k + 1] + [a.uboot] + demo_cmd[k + 2:]
    lines = ["# blk_demo (the QEMU line of `make demo-blk`, on the shared image)",
             " ".join(demo_cmd),
             "# U-Boot: the same line, only -kernel differs",
             " ".join(uboot_cmd),
             "# U-Boot console, after a key stops autoboot:",
             "virtio scan", "virtio info",
             UB_READ_64M + "    # warm-up, then:",
             "crc32 0x%x 0x%x    # must equal the image's first 64 MiB" % (LOAD_ADDR, SEQ_BYTES),
             "# per round, each line timed by mtime (guest) and prompt return (host):"]
    lines += ["%s    # %s" % (UB_LINES[n], n) for n in ("base", "read_64m", "loop_base",
                                                        "loop_1m")]
    lines.append("poweroff")
    with open(os.path.join(a.results, "uboot_commands.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for l in lines:
        print("qemu_figures: uboot: %s" % l)
    rows, failures = [], 0
    for i in range(1, a.runs + 1):
        order = ("blk_demo", "u-boot") if i % 2 else ("u-boot", "blk_demo")
        got = {}
        try:
            for who in order:
                crc = prepare_image(a.image)          # warm cache, and the bytes to expect
                if who == "blk_demo":
                    figs = blk_demo_boot(a, demo_cmd, os.path.join(logdir, "blk_demo.log"))
                    for key in ("seq_read", "seq_read_cold", "seq_kicks_per_req",
                                "seq_irqs_per_req", "os_seq_read", "qd1", "qd32"):
                        if ("blk_demo", key) in figs:
                            v, unit = figs[("blk_demo", key)]
                            got.setdefault("blk_demo", []).append((str(i), key, v, unit))
                else:
                    res = uboot_session(a, uboot_cmd, crc, os.path.join(logdir, "u-boot.log"))
                    for key, vals in res.items():
                        unit = {"wrap_overhead_us": "us", "loop_overhead_ms": "ms",
                                "empty_cmd_rtt_ms": "ms"}.get(key, "MiB/s")
                        for j, v in enumerate(vals, 1):
                            got.setdefault("u-boot", []).append(("%d.%d" % (i, j), key,
                                                                 fmt(v), unit))
        except Fail as e:
            failures += 1
            print("qemu_figures: uboot run %d/%d FAILED (not counted): %s" % (i, a.runs, e),
                  file=sys.stderr, flush=True)
            continue
        for key, v in host_copy(a.image).items():
            got.setdefault("host", []).append((str(i), key, fmt(v), "MiB/s"))
        for example, rs in got.items():
            for run, key, v, unit in rs:
                rows.append(dict(part="uboot", run=run, example=example, key=key, value=v,
                                 unit=unit))
        ub = [float(v) for _, key, v, _ in got["u-boot"] if key == "seq_read_64m_1cmd"]
        ub2 = [float(v) for _, key, v, _ in got["u-boot"] if key == "seq_read_1m_x64"]
        seq = [v for _, key, v, _ in got["blk_demo"] if key == "seq_read"][0]
        print("qemu_figures: uboot run %d/%d (load %s): blk_demo seq_read %s MiB/s; U-Boot "
              "64 MiB in one read %s MiB/s, 64 x 1 MiB %s MiB/s (guest clock, median of %d)"
              % (i, a.runs, loadavg(), seq, fmt(statistics.median(ub)),
                 fmt(statistics.median(ub2)), len(ub)), flush=True)
    if not rows:
        print("qemu_figures: uboot: no run succeeded", file=sys.stderr)
        return 1
    write_raw(a.results, "uboot", rows)
    path = write_summary(a.results)
    with open(path, newline="") as f:
        summ = {(r["part"], r["example"], r["key"]): r for r in csv.DictReader(f)}
    s = summ.get(("uboot", "blk_demo", "seq_read"))
    for key, what in (("seq_read_64m_1cmd", "64 MiB in one virtio read"),
                      ("seq_read_1m_x64", "64 reads of 1 MiB")):
        u = summ.get(("uboot", "u-boot", key))
        r = summ.get(("uboot", "blk_demo", "over_uboot_" + key))
        if s and u and r:
            print("qemu_figures: blk_demo %s MiB/s vs U-Boot (%s) %s MiB/s: ratio %s "
                  "(median of per-run ratios, range %s-%s)"
                  % (s["median"], what, u["median"], r["median"], r["min"], r["max"]))
    print("qemu_figures: uboot: %d of %d runs -> %s" % (a.runs - failures, a.runs,
                                                      os.path.relpath(path, ROOT)))
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--part", required=True)
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--cmd", action="append", required=True, help="one command, shell-quoted")
    r.add_argument("--timeout", type=int, default=300, help="seconds per command")
    r.add_argument("--show", default="", help="comma-separated keys to print per run")
    r.add_argument("--label", action="append", default=[],
                   help="one per --cmd, in order: its figures count as example@LABEL")
    u = sub.add_parser("uboot")
    u.add_argument("--runs", type=int, default=5)
    u.add_argument("--rounds", type=int, default=5, help="timed reads per U-Boot boot")
    u.add_argument("--qemu", required=True)
    u.add_argument("--elf", required=True)
    u.add_argument("--uboot", default="/usr/lib/u-boot/qemu-riscv64/uboot.elf")
    u.add_argument("--image", required=True)
    u.add_argument("--timeout", type=int, default=120, help="seconds per U-Boot boot")
    u.add_argument("--boot-timeout", type=int, default=60, help="seconds per blk_demo boot")
    sub.add_parser("summary")
    a = p.parse_args(argv)
    os.makedirs(a.results, exist_ok=True)
    if a.what == "run":
        a.show = [s for s in a.show.split(",") if s]
        return cmd_run(a)
    if a.what == "uboot":
        for f in (a.elf, a.uboot):
            if not os.path.exists(f):
                p.error("no such file: %s" % f)
        return cmd_uboot(a)
    print(os.path.relpath(write_summary(a.results), ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
