#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot gpu_demo under QEMU, look at what it drew, and run the starvation matrix.

    gpu_qemu.py --qemu "QEMU CMD" --elf gpu_demo.elf --out DIR test
    gpu_qemu.py --qemu "QEMU CMD" --elf gpu_demo.elf --out DIR demo
    gpu_qemu.py ... shot --res 1024x768 [--modern] [--mode N]   (by hand)

test:
  * screens: boots at several resolutions (legacy and modern virtio-mmio)
    with a QMP socket; when the guest prints `PATTERN READY ...` and again
    at `FINAL READY ...` it takes a `screendump` (PPM), converts it to PNG,
    and checks pixels: the colour bars, the grey ramp, the box where the
    guest says it is (and, at the end, the pattern back where the box
    started), and the frame counter read back from the digits on screen.
    The guest waits for a 'c' on its UART before it goes on.
  * matrix: a flush storm (2,000+ RESOURCE_FLUSH commands) under each wait
    strategy (SPIN, WFI, OS) with single-threaded and multi-threaded TCG.
    Every cell must end with `RESULT gpu_demo PASS`, exit status 0, no
    command timeout in the guest, within the harness timeout.
demo: one boot at 1280x800; leaves the PNG and prints its path.

Knobs reach the guest through `-device loader` writes to GPU_KNOB_ADDR (see
examples/gpu_demo.c: RAM base + 112 MiB, --ram-base per board).  Every boot
must end with the RESULT tags asked for (--tag, transport=, ring=, mmio=).
Python 3 standard library only.
"""
import argparse
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
import qemu_matrix  # noqa: E402

KNOB_OFFSET = 0x07000000   # GPU_KNOB_ADDR - BOARD_RAM_BASE in gpu_demo.c
KNOB_ADDR = 0x80000000 + KNOB_OFFSET   # main() sets it from --ram-base
OPTS = None                # the parsed arguments, for the tag checks in boot()
KNOB_MAGIC = 0x47505500
MODES = {"SPIN": 1, "WFI": 2, "OS": 4, "DEFAULT": 0}
RUN_TIMEOUT = 120.0      # seconds per boot, screendumps included
QMP_TIMEOUT = 30.0

READY_RE = re.compile(r"^(PATTERN|FINAL) READY frame=(\d+) box=(\d+),(\d+),(\d+),(\d+) "
                      r"res=(\d+)x(\d+)$")
RESULT_RE = re.compile(r"^RESULT (\S+) (PASS|FAIL)\b(.*)$")
FIGURE_RE = re.compile(r"^FIGURE (\S+) (\S+)=(-?\d+) (\S+)$")

# What the guest draws (keep in step with gpu_demo.c).
BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
BOX_COLOUR = (255, 128, 0)
BOX_EDGE = (0, 0, 0)
PANEL_BG = (0, 0, 0x40)
DIGIT_FG = (255, 255, 255)
DIGITS, SCALE = 6, 3
PANEL_W = DIGITS * 6 * SCALE + 2 * SCALE
PANEL_H = 7 * SCALE + 2 * SCALE
FONT = [
    [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
    [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
    [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
    [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
]


class Fail(Exception):
    pass


# ---- images -------------------------------------------------------------

class Image:
    def __init__(self, width, height, rgb):
        self.w, self.h, self.rgb = width, height, rgb

    def px(self, x, y):
        i = 3 * (y * self.w + x)
        return tuple(self.rgb[i:i + 3])


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    # P6 <ws> width <ws> height <ws> maxval <one ws> raster; no comments
    # from QEMU, but skip them anyway.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise Fail("%s: not an 8-bit P6 PPM" % path)
    w, h = int(fields[1]), int(fields[2])
    rgb = data[pos:pos + 3 * w * h]
    if len(rgb) != 3 * w * h:
        raise Fail("%s: truncated (%d of %d bytes)" % (path, len(rgb), 3 * w * h))
    return Image(w, h, rgb)


def write_png(img, path):
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    stride = 3 * img.w
    raw = b"".join(b"\x00" + img.rgb[y * stride:(y + 1) * stride] for y in range(img.h))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", img.w, img.h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


# ---- pixel checks --------------------------------------------------------

def inside(x, y, box, margin=0):
    bx, by, bw, bh = box
    return bx - margin <= x < bx + bw + margin and by - margin <= y < by + bh + margin


def expect(img, x, y, want, what, errors):
    got = img.px(x, y)
    if got != tuple(want):
        errors.append("%s at (%d,%d): got %s, want %s" % (what, x, y, got, tuple(want)))


def read_counter(img):
    """Read the six digits off the panel, or None if a glyph is unknown."""
    px, py = 16, img.h - 16 - PANEL_H
    n = 0
    for i in range(DIGITS):
        x0 = px + SCALE + i * 6 * SCALE
        rows = []
        for row in range(7):
            bits = 0
            for col in range(5):
                c = img.px(x0 + col * SCALE + SCALE // 2, py + SCALE + row * SCALE + SCALE // 2)
                if c == DIGIT_FG:
                    bits |= 0x10 >> col
                elif c != PANEL_BG:
                    return None
            rows.append(bits)
        if rows not in FONT:
            return None
        n = 10 * n + FONT.index(rows)
    return n


def check_screen(img, ready, start_box=None):
    """Pixel checks on one screendump; returns a list of problems."""
    kind, frame, box, (w, h) = ready
    errors = []
    if (img.w, img.h) != (w, h):
        return ["screendump is %dx%d, the guest drew %dx%d" % (img.w, img.h, w, h)]
    bars_h = h * 2 // 3
    # Colour bars: centre of each bar at three heights, unless the box is there.
    for i, colour in enumerate(BARS):
        x = (2 * i + 1) * w // 16
        for y in (bars_h // 6, bars_h // 2, bars_h * 5 // 6):
            if not inside(x, y, box, 2):
                expect(img, x, y, colour, "bar %d" % i, errors)
    # Grey ramp (steps clear of the counter panel).
    for j in range(2, 16):
        x = (2 * j + 1) * w // 32
        expect(img, x, bars_h + (h - bars_h) // 4, (17 * j,) * 3, "ramp step %d" % j, errors)
    # The box where the guest says it is: orange inside, black edge.
    bx, by, bw, bh = box
    for (x, y) in ((bx + bw // 2, by + bh // 2), (bx + 3, by + 3), (bx + bw - 4, by + bh - 4),
                   (bx + 3, by + bh - 4), (bx + bw - 4, by + 3)):
        expect(img, x, y, BOX_COLOUR, "box", errors)
    for (x, y) in ((bx, by), (bx + bw - 1, by + bh - 1), (bx + bw // 2, by + 1)):
        expect(img, x, y, BOX_EDGE, "box edge", errors)
    # Where the box started, the damage flushes put the pattern back.
    if start_box is not None and start_box != box:
        sx, sy, sw, sh = start_box
        for (x, y) in ((sx + sw // 2, sy + sh // 2), (sx + 3, sy + 3), (sx, sy)):
            if not inside(x, y, box, 1):
                expect(img, x, y, BARS[x * 8 // w], "pattern behind the old box", errors)
    # The frame counter, read off the screen.
    n = read_counter(img)
    if n != frame:
        errors.append("frame counter on screen reads %s, the guest said %d" % (n, frame))
    return errors


# ---- QMP -------------------------------------------------------------------

class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + QMP_TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(QMP_TIMEOUT)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Fail("cannot connect to QMP at %s" % path)
                time.sleep(0.05)
        self.buf = b""
        self.recv()                               # greeting
        self.cmd("qmp_capabilities")

    def recv(self):
        import json
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise Fail("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        import json
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.recv()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise Fail("QMP %s: %s" % (name, r["error"].get("desc", r["error"])))
            # an event: keep reading

    def close(self):
        self.sock.close()


# ---- one boot -------------------------------------------------------------

def gpu_device(props):
    return qemu_matrix.device(OPTS, "gpu", props)


def knob_args(mode, hold, storm=0, full=0):
    words = [KNOB_MAGIC | mode, hold, storm, full]
    args = []
    for i, v in enumerate(words):
        args += ["-device", "loader,addr=0x%x,data=0x%x,data-len=4" % (KNOB_ADDR + 4 * i, v)]
    return args


def boot(qemu, elf, name, out, extra, on_ready=None, timeout=RUN_TIMEOUT, tee=False):
    """Boot once; return (status, output lines, seconds).  on_ready(qmp,
    ready) is called for each READY line (then 'c' goes to the guest)."""
    sock = os.path.join(out, name + ".qmp")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = shlex.split(qemu) + extra + ["-kernel", elf]
    if on_ready:
        cmd += ["-qmp", "unix:%s,server=on,wait=off" % sock]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    lines, qmp, err = [], None, []
    timer = threading.Timer(timeout, lambda: proc.kill())
    timer.start()
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
            lines.append(line)
            if tee:
                print(line, flush=True)
            m = READY_RE.match(line)
            if m and on_ready:
                ready = (m.group(1), int(m.group(2)),
                         tuple(int(m.group(i)) for i in range(3, 7)),
                         (int(m.group(7)), int(m.group(8))))
                try:
                    if qmp is None:
                        qmp = Qmp(sock)
                    on_ready(qmp, ready)
                except Fail as e:
                    err.append(str(e))
                try:
                    proc.stdin.write(b"c")    # the guest goes on
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass
        status = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if qmp:
            qmp.close()
        if os.path.exists(sock):
            os.unlink(sock)
    secs = time.monotonic() - t0
    with open(os.path.join(out, name + ".log"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if secs >= timeout:
        raise Fail("%s: timeout after %.0fs (QEMU killed)%s" % (name, timeout, tail(lines)))
    if err:
        raise Fail("%s: %s" % (name, "; ".join(err)))
    results = [RESULT_RE.match(l) for l in lines]
    results = [r for r in results if r]
    if not results or results[-1].group(2) != "PASS" or results[-1].group(1) != "gpu_demo":
        raise Fail("%s: %s%s" % (name, results[-1].group(0) if results else "no RESULT line",
                                 tail(lines)))
    if status != 0:
        raise Fail("%s: RESULT PASS but QEMU exit status %d" % (name, status))
    if OPTS is not None:
        modern = "virtio-mmio.force-legacy=false" in extra
        why = qemu_matrix.check_tags(results[-1].group(3), qemu_matrix.want_tags(OPTS, modern))
        if why:
            raise Fail("%s: %s%s" % (name, why, tail(lines)))
    return lines, secs


def tail(lines, n=12):
    return "\n" + "\n".join("  | " + l for l in lines[-n:])


def figures(lines):
    f = {}
    for l in lines:
        m = FIGURE_RE.match(l)
        if m:
            f[m.group(2)] = int(m.group(3))
    return f


def screens_run(args, name, xres, yres, modern, mode="DEFAULT", keep_png=None):
    """One boot with screendumps at PATTERN and FINAL; returns the PNG paths."""
    pngs = []
    state = {}

    def on_ready(qmp, ready):
        kind = ready[0].lower()
        ppm = os.path.abspath(os.path.join(args.out, "%s-%s.ppm" % (name, kind)))
        png = ppm[:-4] + ".png"
        if os.path.exists(ppm):
            os.unlink(ppm)
        qmp.cmd("screendump", filename=ppm)
        img = read_ppm(ppm)
        write_png(img, png)
        pngs.append(png)
        if kind == "pattern":
            state["start_box"] = ready[2]
        problems = check_screen(img, ready, state.get("start_box") if kind == "final" else None)
        if problems:
            raise Fail("%s screen (%s): %d problem(s): %s" % (kind, png, len(problems),
                                                             "; ".join(problems[:6])))
        print("gpu: %s %s %dx%d: pixels OK (%s)" % (name, kind, img.w, img.h, png), flush=True)

    extra = ["-m", "256M", "-device", gpu_device("xres=%d,yres=%d" % (xres, yres))]
    if modern or qemu_matrix.needs_modern(OPTS):  # packed: modern MMIO only
        extra = ["-global", "virtio-mmio.force-legacy=false"] + extra
    extra += knob_args(MODES[mode], 1)
    lines, secs = boot(args.qemu, args.elf, name, args.out, extra, on_ready, tee=args.tee)
    if len(pngs) != 2:
        raise Fail("%s: expected 2 READY lines, saw %d" % (name, len(pngs)))
    return pngs, figures(lines), secs


def matrix_run(args, accel, mode):
    name = "storm-%s-%s" % (accel.split("=")[1], mode.lower())
    extra = ["-accel", accel, "-m", "256M", "-device", gpu_device("xres=640,yres=480")]
    if qemu_matrix.needs_modern(OPTS):  # packed: modern MMIO only
        extra = ["-global", "virtio-mmio.force-legacy=false"] + extra
    extra += knob_args(MODES[mode], 0, args.storm)
    lines, secs = boot(args.qemu, args.elf, name, args.out, extra, tee=args.tee)
    f = figures(lines)
    if f.get("storm_flushes", 0) < args.storm or f.get("timeouts", -1) != 0:
        raise Fail("%s: storm_flushes=%s timeouts=%s" % (name, f.get("storm_flushes"),
                                                         f.get("timeouts")))
    # WFI and OS waits end on the device's interrupt: none at all means every
    # wait ran out on its alarm (an interrupt never wired or never delivered)
    # and the storm only crawled through.  SPIN routes none.
    if (f.get("irqs", -1) == 0) != (mode == "SPIN"):
        raise Fail("%s: irqs=%s with %s waits" % (name, f.get("irqs"), mode))
    return f, secs


# ---- commands -------------------------------------------------------------------

def cmd_test(args):
    failures = []
    for name, xres, yres, modern in (("screen-800x600", 800, 600, False),
                                     ("screen-1024x768", 1024, 768, True),
                                     ("screen-1280x800", 1280, 800, False)):
        try:
            _, f, secs = screens_run(args, name, xres, yres, modern)
            if args.transport == "pci":
                iface = "virtio-pci"
            else:
                iface = "%s virtio-mmio" % ("modern" if modern or qemu_matrix.needs_modern(args)
                                            else "legacy")
            print("gpu: %s (%s) PASS in %.1fs, full_frame_fps=%s "
                  "small_rect_fps=%s" % (name, iface, secs,
                                         f.get("full_frame_fps"), f.get("small_rect_fps")),
                  flush=True)
        except Fail as e:
            failures.append(str(e))
            print("gpu: FAIL %s" % e, file=sys.stderr, flush=True)
    print("gpu: starvation matrix, %d flushes per cell" % args.storm, flush=True)
    for accel in ("tcg,thread=single", "tcg,thread=multi"):
        for mode in ("SPIN", "WFI", "OS"):
            try:
                f, secs = matrix_run(args, accel, mode)
                print("gpu:   %-18s %-4s PASS %5.1fs  flushes=%d small_rect_fps=%s "
                      "irqs=%s timeouts=%s" % (accel, mode, secs, f.get("flushes"),
                                               f.get("small_rect_fps"), f.get("irqs"),
                                               f.get("timeouts")), flush=True)
            except Fail as e:
                failures.append(str(e))
                print("gpu:   %-18s %-4s FAIL %s" % (accel, mode, e), file=sys.stderr,
                      flush=True)
    if failures:
        print("gpu: %d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("gpu: all screens and all 6 matrix cells passed")
    return 0


def cmd_demo(args):
    pngs, f, secs = screens_run(args, "demo-1280x800", 1280, 800, False)
    for k in ("full_frame_fps", "small_rect_fps", "storm_flushes_per_s", "os_small_rect_fps"):
        print("gpu: %s=%s" % (k, f.get(k)))
    print("gpu: screenshot: %s" % pngs[0])
    return 0


def cmd_bench(args):
    extra = ["-m", "256M", "-device", gpu_device("xres=1280,yres=800")]
    extra += knob_args(MODES["WFI"], 0, 10000, 600)
    lines, secs = boot(args.qemu, args.elf, "bench-1280x800", args.out, extra, tee=args.tee)
    figs = [l for l in lines if FIGURE_RE.match(l)]
    with open(os.path.join(args.out, "bench.txt"), "w") as f:
        f.write("\n".join(figs) + "\n")
    for l in figs:
        print(l)
    print("gpu: bench done in %.1fs (%s)" % (secs, os.path.join(args.out, "bench.txt")))
    return 0


def cmd_control(args):
    """The storm with a memory-only spin (gpu_demo_memspin.elf), both TCG modes."""
    failed = 0
    for accel in ("tcg,thread=single", "tcg,thread=multi"):
        try:
            f, secs = matrix_run(args, accel, "SPIN")
            print("gpu: memory-only spin, %-18s completed %d flushes in %.1fs, no timeout"
                  % (accel, f.get("storm_flushes"), secs))
        except Fail as e:
            failed += 1
            print("gpu: memory-only spin, %-18s did NOT complete: %s" % (accel, e))
    return 1 if failed else 0


def cmd_shot(args):
    xres, yres = (int(v) for v in args.res.split("x"))
    pngs, f, secs = screens_run(args, "shot-%s" % args.res, xres, yres, args.modern,
                                mode=args.mode)
    print("gpu: screenshots: %s" % " ".join(pngs))
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--qemu", required=True, help="base QEMU command line (one string)")
    p.add_argument("--elf", required=True)
    p.add_argument("--out", required=True, help="directory for logs and images")
    p.add_argument("--storm", type=int, default=2000, help="flushes per matrix cell")
    p.add_argument("--tee", action="store_true", help="show guest output")
    p.add_argument("--ram-base", type=lambda v: int(v, 0), default=0x80000000,
                   help="the board's BOARD_RAM_BASE (knobs sit 112 MiB above)")
    qemu_matrix.add_args(p)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("test")
    sub.add_parser("demo")
    sub.add_parser("bench")
    sub.add_parser("control")
    s = sub.add_parser("shot")
    s.add_argument("--res", default="1024x768")
    s.add_argument("--modern", action="store_true")
    s.add_argument("--mode", default="DEFAULT", choices=sorted(MODES))
    args = p.parse_args(argv)
    global OPTS, KNOB_ADDR
    OPTS = args
    KNOB_ADDR = args.ram_base + KNOB_OFFSET
    os.makedirs(args.out, exist_ok=True)
    try:
        return {"test": cmd_test, "demo": cmd_demo, "shot": cmd_shot, "bench": cmd_bench,
                "control": cmd_control}[args.cmd](args)
    except Fail as e:
        print("gpu: FAIL %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
