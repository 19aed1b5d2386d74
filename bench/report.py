#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the latest figures from bench/results/ into BENCHMARKS.md.

Only the blocks between
    <!-- bench:NAME:begin -->  and  <!-- bench:NAME:end -->
are rewritten (NAME: targets, machine, ring, icount, size, qemu, uboot);
everything else in BENCHMARKS.md is prose kept by hand.  A results file
that is missing leaves its block as it was.  The QEMU blocks come from
bench/results/qemu_figures.csv and uboot_commands.txt (bench/qemu_figures.py).

  python3 bench/report.py [--results DIR] [--doc BENCHMARKS.md]
"""
import argparse
import csv
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The targets (issue 14; the QEMU ones from issue 7).
T_ICOUNT_FAST = {"1": 130, "3": 160}       # instructions, add + publish + get, the
                                           # build README recommends for speed
# OpenAMP virtqueue.c (driver-only build), as cited in issue 14: gcc 12 -O2,
# callgrind, lock-step add + publish + get, one thread; event idx off (on).
OPENAMP = {"1": (161, 166), "3": (259, 264)}
T_ICOUNT_DEFAULT = {k: v[0] for k, v in OPENAMP.items()}   # default out-of-line build
PEER = "ringtest:virtio_ring_0_9"          # the ns/request peer
OWN = "ringtest:virtq"                      # virtq's driver in ringtest's harness
OWN_DELAYED = "ringtest:virtq-delayed"      # the same, re-arming with the delay
OWN_AFTER = "ringtest:virtq-after"          # re-arming for the 64th used buffer
T_SIZE = 2600                              # ring + MMIO, rv32imac -Os .text, every feature
T_SIZE_MIN = 2048                          # minimal polled build, rv32imac -Os .text
T_QD32_OVER_QD1 = 5.0                      # QEMU blk: 4 KiB IOPS at QD32 over QD1
T_QD32_KICKS = 0.05                        # QEMU blk: kicks per request at QD32
T_GPU_FPS, T_GPU_RES = 60, (1280, 800)     # QEMU gpu: full-frame flushes per second

# The QEMU figures BENCHMARKS.md shows: (part, example, key, what it is).
QEMU_ROWS = [
    ("blk", "blk_demo", "seq_read", "virtio-blk sequential read: 64 MiB in 4 MiB requests "
     "(16 segments, indirect), 4 in flight, median of 5 warm passes"),
    ("blk", "blk_demo", "seq_read_cold", "the same, first pass (host page cache filling)"),
    ("blk", "blk_demo", "seq_kicks_per_req", "sequential read: kicks per request"),
    ("blk", "blk_demo", "seq_irqs_per_req", "sequential read: interrupts per request"),
    ("blk", "blk_demo", "qd1", "4 KiB random reads at queue depth 1 (WFI wait)"),
    ("blk", "blk_demo", "qd1_kicks_per_req", "QD1: kicks per request"),
    ("blk", "blk_demo", "qd1_irqs_per_req", "QD1: interrupts per request"),
    ("blk", "blk_demo", "qd32", "4 KiB random reads at queue depth 32 (WFI wait)"),
    ("blk", "blk_demo", "qd32_kicks_per_req", "QD32: kicks per request"),
    ("blk", "blk_demo", "qd32_irqs_per_req", "QD32: interrupts per request"),
    ("blk", "blk_demo", "qd32_over_qd1", "QD32 IOPS over QD1 IOPS, per boot"),
    ("blk", "blk_demo", "spin_qd1", "4 KiB random reads at QD1, SPIN wait (no interrupt)"),
    ("blk", "blk_demo", "os_qd1", "4 KiB random reads at QD1, blocking under the scheduler (OS)"),
    ("blk", "blk_demo", "os_seq_read", "32 blocking 1 MiB reads one at a time (OS)"),
    ("gpu", "gpu_demo", "full_frame_fps", "virtio-gpu full-frame flushes per second "
     "(whole-frame TRANSFER_TO_HOST_2D + RESOURCE_FLUSH, fenced, 600 frames)"),
    ("gpu", "gpu_demo", "small_rect_fps", "frames of two damage-rectangle flushes per second"),
    ("gpu", "gpu_demo", "storm_flushes_per_s", "damage-rectangle flushes per second "
     "(storm of 10,000)"),
    ("net", "net_peer", "echo_pps", "virtio-net frames echoed per second (net_peer against "
     "tests/net/net_qemu.py, 8 in flight, 60-1514 bytes)"),
    ("net", "net_demo", "ping_rtt_min_us", "ping round trip to the user network's gateway, min"),
    ("net", "net_demo", "ping_rtt_avg_us", "the same, average of 5"),
    ("net", "net_demo", "ping_rtt_max_us", "the same, max"),
    ("net", "net_demo", "dhcp_ms", "DHCP lease from the user network"),
]
QEMU_FROM = {"blk": "`make demo-blk`", "gpu": "`make bench-gpu` (1280x800, WFI)",
             "net": "`make demo-net`"}


def read_csv(path):
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def table(head, rows, align=None):
    align = align or ["---:"] * len(head)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def verdict(value, limit, unit, fmt="%g"):
    if value <= limit:
        return "**met**"
    return "**missed** by %s %s (%.0f%% over)" % (fmt % (value - limit), unit,
                                                  100.0 * (value - limit) / limit)


def verdict_ge(value, limit, unit, fmt="%g"):
    if value >= limit:
        return "**met**"
    return "**missed** by %s%s (%.0f%% under)" % (fmt % (limit - value),
                                                  " " + unit if unit else "",
                                                  100.0 * (limit - value) / limit)


def qnum(v):
    v = float(v)
    if v.is_integer() or abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def read_qemu(res):
    rows = read_csv(os.path.join(res, "qemu_figures.csv"))
    if rows is None:
        return None
    return {(r["part"], r["example"], r["key"]): r for r in rows}


def block_qemu(res):
    q = read_qemu(res)
    if q is None:
        return None
    rows = []
    for part, example, key, what in QEMU_ROWS:
        r = q.get((part, example, key))
        if r is None:
            continue
        unit = {"count": "", "x": "x"}.get(r["unit"], r["unit"])
        rows.append((what, "**%s**" % qnum(r["median"]), "%s-%s" % (qnum(r["min"]),
                     qnum(r["max"])), unit, r["runs"], "`%s %s`" % (example, key),
                     QEMU_FROM.get(part, "")))
    if not rows:
        return None
    return table(["figure", "median", "range", "unit", "boots", "FIGURE", "boots of"], rows,
                 ["---", "---:", "---:", "---", "---:", "---", "---"])


# virtio-pci against virtio-mmio (bench-qemu-pci): (example, key, what).
TRANSPORT_ROWS = [
    ("blk_demo", "qd1", "blk 4 KiB random reads, QD1 (WFI)"),
    ("blk_demo", "qd32", "blk 4 KiB random reads, QD32 (WFI)"),
    ("blk_demo", "qd1_kicks_per_req", "blk QD1: kicks per request"),
    ("blk_demo", "qd1_irqs_per_req", "blk QD1: interrupts per request"),
    ("blk_demo", "qd32_kicks_per_req", "blk QD32: kicks per request"),
    ("blk_demo", "qd32_irqs_per_req", "blk QD32: interrupts per request"),
    ("blk_demo", "seq_read", "blk sequential read, 4 MiB requests"),
    ("gpu_demo", "full_frame_fps", "gpu full-frame flushes per second (1280x800)"),
    ("gpu_demo", "storm_flushes_per_s", "gpu damage-rectangle flushes per second"),
    ("net_demo", "ping_rtt_avg_us", "net ping round trip to the gateway, average"),
    ("net_peer", "echo_pps", "net frames echoed per second"),
]


def block_transport(res):
    q = read_qemu(res)
    if q is None:
        return None
    rows = []
    for example, key, what in TRANSPORT_ROWS:
        m = q.get(("transport", example + "@mmio", key))
        p = q.get(("transport", example + "@pci", key))
        if m is None or p is None:
            continue
        unit = {"count": "", "x": "x"}.get(m["unit"], m["unit"])
        ratio = float(p["median"]) / float(m["median"]) if float(m["median"]) else float("nan")
        rows.append((what, "**%s**" % qnum(m["median"]), "**%s**" % qnum(p["median"]),
                     "%.2f" % ratio, unit, m["runs"], "`%s %s`" % (example, key)))
        if key == "full_frame_fps" and float(m["median"]) and float(p["median"]):
            rows.append(("gpu full-frame flush time (1 / the line above)",
                         "**%s**" % qnum(1000.0 / float(m["median"])),
                         "**%s**" % qnum(1000.0 / float(p["median"])),
                         "%.2f" % (float(m["median"]) / float(p["median"])), "ms",
                         m["runs"], "derived"))
    if not rows:
        return None
    return table(["figure", "virtio-mmio (median)", "virtio-pci (median)", "pci / mmio",
                  "unit", "runs", "FIGURE"], rows,
                 ["---", "---:", "---:", "---:", "---", "---:", "---"])


def block_uboot(res):
    q = read_qemu(res)
    if q is None or ("uboot", "u-boot", "seq_read_64m_1cmd") not in q:
        return None
    g = lambda ex, key: q.get(("uboot", ex, key))
    spec = [
        ("blk_demo", "seq_read", "blk_demo: 64 MiB in 4 MiB requests, 4 in flight, median of 5 warm passes",
         "guest (mtime)"),
        ("blk_demo", "seq_read_cold", "blk_demo: the same, first pass", "guest (mtime)"),
        ("blk_demo", "os_seq_read", "blk_demo: 32 blocking 1 MiB reads, one at a time (OS)",
         "guest (mtime)"),
        ("u-boot", "seq_read_64m_1cmd", "U-Boot: 64 MiB in one `virtio read` (one request)",
         "guest (mtime)"),
        ("u-boot", "seq_read_64m_1cmd_host", "U-Boot: the same", "host (console)"),
        ("u-boot", "seq_read_1m_x64", "U-Boot: 64 `virtio read`s of 1 MiB in a hush loop",
         "guest (mtime)"),
        ("u-boot", "seq_read_1m_x64_host", "U-Boot: the same", "host (console)"),
        ("host", "preadv_1m_x64", "for scale, the host: `preadv` of the cached image in "
         "1 MiB chunks into 4 MiB of buffers (best of 3)", "host"),
        ("host", "preadv_64m_x1", "for scale, the host: one 64 MiB `preadv` (best of 3)",
         "host"),
    ]
    rows = []
    for ex, key, what, clock in spec:
        r = g(ex, key)
        if r:
            n = r["runs"] + {"u-boot": " reads", "host": " runs"}.get(ex, " boots")
            rows.append((what, "**%s**" % qnum(r["median"]), "%s-%s" % (qnum(r["min"]),
                         qnum(r["max"])), n, clock))
    out = [table(["64 MiB sequential read, same image, same QEMU line", "MiB/s (median)",
                  "range", "n", "clock"], rows, ["---", "---:", "---:", "---:", "---"])]
    ratios = []
    for key, what in (("seq_read_64m_1cmd", "one 64 MiB read"),
                      ("seq_read_1m_x64", "64 x 1 MiB"),
                      ("seq_read_64m_1cmd_host", "one 64 MiB read, host clock"),
                      ("seq_read_1m_x64_host", "64 x 1 MiB, host clock")):
        r = g("blk_demo", "over_uboot_" + key)
        if r:
            ratios.append("**%sx** against %s (range %s-%s)" % (qnum(r["median"]), what,
                                                             qnum(r["min"]), qnum(r["max"])))
    if ratios:
        out.append("\nblk_demo's `seq_read` over U-Boot's, median of the per-run ratios: "
                   + "; ".join(ratios) + ".")
    best = []
    s = g("blk_demo", "seq_read")
    for key, what in (("seq_read_64m_1cmd", "one 64 MiB read"), ("seq_read_1m_x64", "64 x 1 MiB")):
        u = g("u-boot", key)
        if s and u:
            best.append("**%sx** against %s (%s / %s MiB/s)" % (
                qnum(float(s["max"]) / float(u["max"])), what, qnum(s["max"]), qnum(u["max"])))
    if best:
        out.append("Best against best (each side's fastest boot or read, guest clock): "
                   + "; ".join(best) + ".")
    over = []
    for key, what in (("wrap_overhead_us", "the two `md.q` reads of mtime (guest)"),
                      ("loop_overhead_ms", "the hush loop without its reads (guest)"),
                      ("empty_cmd_rtt_ms", "an empty command line's round trip (host)")):
        r = g("u-boot", key)
        if r:
            over.append("%s %s %s" % (what, qnum(r["median"]), r["unit"]))
    if over:
        out.append("Subtracted or for scale (medians): " + "; ".join(over) + ".")
    path = os.path.join(res, "uboot_commands.txt")
    if os.path.exists(path):
        out.append("\nThe exact commands (`bench/results/uboot_commands.txt`):\n")
        out.append("```sh\n" + open(path).read().rstrip("\n") + "\n```")
    return "\n".join(out)


def block_machine(res):
    path = os.path.join(res, "machine.txt")
    if not os.path.exists(path):
        return None
    rows = []
    for line in open(path):
        if ":" in line:
            k, v = line.split(":", 1)
            rows.append((k.strip(), v.strip()))
    return table(["", "value"], rows, ["---", "---"])


def ring_rows(ring, group):
    return [r for r in ring if r["group"] == group]


def find(ring, **kw):
    for r in ring:
        if all(str(r[k]) == str(v) for k, v in kw.items()):
            return r
    return None


def block_ring(res):
    ring = read_csv(os.path.join(res, "ring.csv"))
    if ring is None:
        return None
    out = []
    cal = find(ring, group="calibration")
    if cal:
        out.append("Calibration: one cache line bounced between the two CPUs takes "
                   "**%s ns** per round trip (best; median %s ns).  Any request that "
                   "needs an answer from the other thread pays at least this; batching "
                   "is what amortises it.\n" % (cal["ns_best"], cal["ns_median"]))
    out.append("Ring 256, best of %s runs (median in brackets); kicks and interrupts "
               "per request from the best run.  `-` in *wake*: polling.\n"
               % (ring[0]["runs"]))
    rows = []
    for r in ring_rows(ring, "grid"):
        rows.append((r["chain"], r["mode"], r["wake"], "on" if r["event_idx"] == "1" else "off",
                     r["batch"], "%s (%s)" % (r["ns_best"], r["ns_median"]),
                     "%.2f M" % (float(r["req_per_s_best"]) / 1e6), r["kicks_per_req"],
                     r["intr_per_req"], r["load1_max"]))
    out.append(table(["segments", "mode", "wake", "event idx", "batch", "ns/req",
                      "req/s", "kicks/req", "interrupts/req", "load (1 min, max)"], rows,
                     ["---:", "---", "---", "---", "---:", "---:", "---:", "---:", "---:",
                      "---:"]))
    side = []
    for mode in ("poll", "sleep"):
        for batch in ("1", "8", "32"):
            v = find(ring, group="grid", mode=mode, chain="1", batch=batch, event_idx="1",
                     wake="-" if mode == "poll" else "eventfd")
            cells = [mode, batch, v["ns_best"] if v else "-", v["kicks_per_req"] if v else "-"]
            for name in ("ringtest:virtio_ring_0_9", "ringtest:ring"):
                p = find(ring, group="ringtest", driver=name, mode=mode, batch=batch)
                if p and v and "missing" not in (p["ns_best"], v["ns_best"]):
                    cells += ["%s (%s)" % (p["ns_best"], p["ns_median"]),
                              "**%.2fx**" % (float(v["ns_best"]) / float(p["ns_best"])),
                              p["kicks_per_req"]]
                else:
                    cells += [p["ns_best"] if p else "-", "-", "-"]
            side.append(cells)
    if any(c[4] != "-" for c in side):
        out.append("\nSide by side with Linux's tools/virtio/ringtest, same sweep, same CPUs "
                   "(ring 256, 1 segment, event idx on; ringtest sleeps on eventfds; best "
                   "ns/request, median in brackets; *x* is virtq's ns over ringtest's, below "
                   "1 is faster):\n")
        out.append(table(["mode", "batch", "virtq ns/req", "virtq kicks/req",
                          "`virtio_ring_0_9` ns/req", "x", "its kicks/req",
                          "`ring` ns/req", "x", "its kicks/req"], side,
                         ["---", "---:"] + ["---:"] * 8))
    same = []
    for mode in ("poll", "sleep"):
        for batch in ("1", "8", "32"):
            p = find(ring, group="ringtest", driver=PEER, mode=mode, batch=batch)
            v = find(ring, group="ringtest", driver=OWN, mode=mode, batch=batch)
            d = find(ring, group="ringtest", driver=OWN_DELAYED, mode=mode, batch=batch)
            a = find(ring, group="ringtest", driver=OWN_AFTER, mode=mode, batch=batch)
            if not p or not v:
                continue
            ok = "missing" not in (p["ns_best"], v["ns_best"])
            same.append([mode, batch, "%s (%s)" % (v["ns_best"], v["ns_median"]),
                         "**%.2fx**" % (float(v["ns_best"]) / float(p["ns_best"])) if ok else "-",
                         v["kicks_per_req"], v["intr_per_req"],
                         "%s / %s" % (d["kicks_per_req"], d["intr_per_req"])
                         if d and mode == "sleep" else "-",
                         "%s / %s" % (a["kicks_per_req"], a["intr_per_req"])
                         if a and mode == "sleep" else "-",
                         "%s (%s)" % (p["ns_best"], p["ns_median"]), p["kicks_per_req"],
                         p["intr_per_req"]])
    if same:
        out.append("\nIn ringtest's own harness, so that only the driver differs: "
                   "`build/bench/ringtest_virtq` is ringtest's `main.c` and "
                   "`virtio_ring_0_9`'s host side, unmodified and built with ringtest's own "
                   "flags, with virtq's driver as the guest (`bench/ringtest_virtq.c`); same "
                   "sweep, same CPUs.  virtq re-arms interrupts as `virtio_ring_0_9`'s guest "
                   "does (`virtq_enable_intr`: at the next used buffer); the *delayed* "
                   "column re-arms with `virtq_enable_intr_delayed` (`--param 1`: at 3/4 of "
                   "what is in flight), the *after 64* column with "
                   "`virtq_enable_intr_after(vq, 64)` (`--param 2`: at the 64th):\n")
        out.append(table(["mode", "batch", "virtq ns/req", "x", "virtq kicks/req",
                          "virtq interrupts/req", "delayed kicks / interrupts",
                          "after 64 kicks / interrupts",
                          "`virtio_ring_0_9` ns/req", "its kicks/req", "its interrupts/req"],
                         same, ["---", "---:"] + ["---:"] * 9))
    rows = []
    for r in ring_rows(ring, "ring") + [r for r in ring_rows(ring, "grid")
                                        if r["chain"] == "1" and r["batch"] == "32" and
                                        r["event_idx"] == "1" and
                                        (r["mode"] == "poll" or r["wake"] == "futex")]:
        rows.append((r["ring"], r["mode"], r["wake"], "%s (%s)" % (r["ns_best"], r["ns_median"]),
                     r["kicks_per_req"], r["intr_per_req"]))
    rows.sort(key=lambda x: (x[1], x[2], int(x[0])))
    out.append("\nRing size (1 segment, batch 32, event idx on):\n")
    out.append(table(["ring", "mode", "wake", "ns/req", "kicks/req", "interrupts/req"], rows,
                     ["---:", "---", "---", "---:", "---:", "---:"]))
    rows = []
    for r in ring_rows(ring, "inflight"):
        rows.append((r["inflight"], r["mode"], r["wake"], "%s (%s)" % (r["ns_best"], r["ns_median"]),
                     r["kicks_per_req"], r["intr_per_req"]))
    out.append("\nIn-flight cap (ring 256, 1 segment, batch 1, event idx on; cap 1 is a "
               "ping-pong, so ns/req there is the round-trip latency):\n")
    out.append(table(["in flight", "mode", "wake", "ns/req", "kicks/req", "interrupts/req"], rows,
                     ["---:", "---", "---", "---:", "---:", "---:"]))
    return "\n".join(out)


def block_icount(res):
    ic = read_csv(os.path.join(res, "icount.csv"))
    if ic is None:
        return None
    names = {"virtq": "virtq, default build (extern calls)",
             "virtq submit": "virtq, default build, `virtq_submit` (add + publish) + `virtq_get`",
             "virtq static inline": "virtq, `VIRTQ_STATIC` + `VIRTQ_HOT_INLINE` (README: for "
                                    "speed), `virtq_submit` + `virtq_get` in driver-shaped callers",
             "ringtest:virtio_ring_0_9": "Linux ringtest `virtio_ring_0_9` (no checks)",
             "ringtest:ring": "Linux ringtest `ring` (its own layout, no checks)"}
    rows = [(names.get(r.get("driver", "virtq"), r.get("driver", "virtq")), r["segments"],
             "on" if r["event_idx"] == "1" else "off", r["add"] or "-", r["publish"] or "-",
             r["submit"], r["get"], "**%s**" % r["total"], r.get("lockstep_ns", "") or "-")
            for r in ic]
    for segs, (off, on) in sorted(OPENAMP.items()):
        for ev, n in (("off", off), ("on", on)):
            rows.append(("OpenAMP `virtqueue.c`, driver-only build (cited, issue 14)", segs, ev,
                         "-", "-", "-", "-", "%d" % n, "-"))
    return table(["driver", "segments", "event idx", "add", "publish (kick decision)",
                  "add + publish + kick decision", "get", "total per request",
                  "ns per lock-step round (native)"], rows,
                 ["---"] + ["---:"] * 8)


def block_icount_lines(res):
    rows = read_csv(os.path.join(res, "icount_lines.csv"))
    if rows is None:
        return None
    cats = ["checks", "add", "publish", "barrier", "kick decision", "get", "call"]
    return table(["build", "segments"] + cats + ["total"],
                 [[r["build"], r["segments"]] + [r[c] for c in cats] + ["**%s**" % r["total"]]
                  for r in rows], ["---", "---:"] + ["---:"] * (len(cats) + 1))


def block_size(res):
    sz = read_csv(os.path.join(res, "size.csv"))
    if sz is None:
        return None
    targets = []
    for r in sz:
        if r["target"] not in targets:
            targets.append(r["target"])
    out = []
    for t in targets:
        rows = []
        for r in sz:
            if r["target"] != t:
                continue
            if r["text"] == "-1":
                rows.append((r["row"], "build failed", "", "", "", r["what"]))
                continue
            text = r["text"]
            notes = r["what"]
            if r["driver_text"] not in ("0", "-1"):
                notes += "; driver's own .text %s" % r["driver_text"]
            if r["libgcc_text"] != "0":
                notes += "; includes %s bytes of libgcc" % r["libgcc_text"]
            rows.append((r["row"], text, r["rodata"], r["data"], r["bss"], notes))
        out.append("**%s**\n" % t)
        out.append(table(["row", ".text", ".rodata", ".data", ".bss", "what is linked"], rows,
                         ["---", "---:", "---:", "---:", "---:", "---"]))
        out.append("")
    fn = os.path.join(res, "size_ring_mmio_rv32imac-Os.txt")
    if os.path.exists(fn):
        funcs = []
        for line in open(fn):
            if not line.startswith("#"):
                n, _, name = line.split()
                funcs.append((int(n), name))
        funcs.sort(key=lambda x: -x[0])
        cells = ["`%s` %d" % (name, n) for n, name in funcs]
        out.append("The ring+mmio row on rv32imac -Os, per function as linked (bytes; "
                   "`bench/results/size_ring_mmio_rv32imac-Os.txt`): " + ", ".join(cells) + ".")
    fl = read_csv(os.path.join(res, "size_floor.csv"))
    if fl:
        steps = [("as shipped", "as shipped (every check, every barrier)"),
                 ("checks", "- the ring's hot-path checks (`VIRTQ__UNLIKELY(x)` as 0)"),
                 ("fences", "- and the I/O barrier of every MMIO access"),
                 ("dev_ok", "- and the device-handle check")]
        rows = []
        for step, label in steps:
            cells = [label]
            for row in ("ring+mmio", "ring+mmio minimal, v2 only, no event idx"):
                r = [x for x in fl if x["step"] == step and x["row"] == row and
                     x["target"] == "rv32imac-Os"]
                cells.append(r[0]["text"] if r else "-")
            rows.append(cells)
        out.append("\nWhat the protection costs (`bench/size_floor.py`: scratch copies of "
                   "`src/` with each kind removed in turn, cumulatively; none of them is a "
                   "correct build), rv32imac -Os .text:\n")
        out.append(table(["build", "ring+mmio", "minimal, v2 only, no event idx"], rows,
                         ["---", "---:", "---:"]))
    return "\n".join(out).rstrip()


def block_targets(res):
    ic = read_csv(os.path.join(res, "icount.csv"))
    ring = read_csv(os.path.join(res, "ring.csv"))
    sz = read_csv(os.path.join(res, "size.csv"))
    rows = []
    if ic:
        def per(driver, segs):
            mine = [r for r in ic if r.get("driver", "virtq") == driver and r["segments"] == segs]
            return mine, ", ".join("%s with event idx %s" % (
                r["total"], "on" if r["event_idx"] == "1" else "off") for r in mine)
        for driver, limits, what, also in (
                ("virtq static inline", T_ICOUNT_FAST, "the build README recommends for speed "
                 "(`VIRTQ_STATIC` + `VIRTQ_HOT_INLINE`, `virtq_submit` + `virtq_get` inlined "
                 "into driver-shaped callers)", None),
                ("virtq submit", T_ICOUNT_DEFAULT, "the default out-of-line build, "
                 "`virtq_submit` + `virtq_get` (as OpenAMP's `virtqueue_add_buffer`, which "
                 "also publishes, then the kick decision and the get), against OpenAMP",
                 "virtq")):
            for segs in ("1", "3"):
                mine, text = per(driver, segs)
                if not mine:
                    continue
                worst = max(int(r["total"]) for r in mine)
                if also:
                    _, t2 = per(also, segs)
                    if t2:
                        text += "; as three calls `virtq_add` + `virtq_publish` + `virtq_get`: " + t2
                rows.append(("driver instructions per request, %s segment%s, %s"
                             % (segs, "s" if segs != "1" else "", what),
                             "<= %d" % limits[segs], text,
                             verdict(worst, limits[segs], "instructions")))
    if ring:
        for batch in ("1", "8", "32"):
            r = find(ring, group="grid", mode="poll", chain="1", batch=batch, event_idx="1")
            p = find(ring, group="ringtest", driver=PEER, mode="poll", batch=batch)
            if not r or not p:
                continue
            goal = "<= 1.0x" if batch == "1" else "< 1.0x (ahead)"
            if "missing" in (r["ns_best"], p["ns_best"]):
                rows.append(("two polling threads, batch %s: virtq over ringtest "
                             "`virtio_ring_0_9`, ns/request" % batch, goal,
                             "virtq %s ns, ringtest %s ns" % (r["ns_best"], p["ns_best"]),
                             "**not measured** (a run was starved every time)"))
                continue
            ratio = float(r["ns_best"]) / float(p["ns_best"])
            ok = ratio <= 1.0 if batch == "1" else ratio < 1.0
            rows.append(("two polling threads, batch %s: virtq over ringtest `virtio_ring_0_9`, "
                         "ns/request (ring 256, 1 segment, event idx on, same run, same CPUs)"
                         % batch, goal, "%.2fx: virtq %s ns (median %s), ringtest %s ns "
                         "(median %s)" % (ratio, r["ns_best"], r["ns_median"], p["ns_best"],
                                          p["ns_median"]),
                         "**met**" if ok else "**missed** (%.0f%% slower)" %
                         (100.0 * (ratio - 1.0))))
        r = find(ring, group="grid", mode="sleep", wake="eventfd", chain="1", batch="32",
                 event_idx="1")
        p = find(ring, group="ringtest", driver=PEER, mode="sleep", batch="32")
        if r and p and "missing" not in (r["ns_best"], p["ns_best"]):
            k, pk = float(r["kicks_per_req"]), float(p["kicks_per_req"])
            rows.append(("sleeping (eventfd) at batch 32: kicks per request, virtq against "
                         "ringtest `virtio_ring_0_9` (ring 256, 1 segment, event idx on)",
                         "<= ringtest", "virtq %.4f (%s ns), ringtest %.4f (%s ns)"
                         % (k, r["ns_best"], pk, p["ns_best"]),
                         "**met**" if k <= pk else "**missed** (%.2fx ringtest's kicks)"
                         % (k / pk if pk else float("inf"))))
        # The same two targets with only the driver different (ringtest's harness).
        p = find(ring, group="ringtest", driver=PEER, mode="poll", batch="1")
        v = find(ring, group="ringtest", driver=OWN, mode="poll", batch="1")
        if p and v and "missing" not in (p["ns_best"], v["ns_best"]):
            ratio = float(v["ns_best"]) / float(p["ns_best"])
            rows.append(("two polling threads, batch 1, in ringtest's own harness (its `main.c` "
                         "and `virtio_ring_0_9`'s host, virtq's driver as the guest): virtq "
                         "over `virtio_ring_0_9`'s guest, ns/request", "<= 1.0x",
                         "%.2fx: virtq %s ns (median %s), ringtest %s ns (median %s)"
                         % (ratio, v["ns_best"], v["ns_median"], p["ns_best"], p["ns_median"]),
                         "**met**" if ratio <= 1.0 else "**missed** (%.0f%% slower)"
                         % (100.0 * (ratio - 1.0))))
        p = find(ring, group="ringtest", driver=PEER, mode="sleep", batch="32")
        v = find(ring, group="ringtest", driver=OWN, mode="sleep", batch="32")
        d = find(ring, group="ringtest", driver=OWN_DELAYED, mode="sleep", batch="32")
        a = find(ring, group="ringtest", driver=OWN_AFTER, mode="sleep", batch="32")
        if p and v and "missing" not in (p["ns_best"], v["ns_best"]):
            # Met only with no more notifications overall too: fewer kicks
            # bought with more interrupts is not fewer notifications.
            pk, pt = float(p["kicks_per_req"]), float(p["kicks_per_req"]) + float(
                p["intr_per_req"])
            text = "ringtest %.4f kicks, %s interrupts (%s ns)" % (pk, p["intr_per_req"],
                                                                    p["ns_best"])
            good = []
            for name, r in (("virtq", v), ("virtq re-arming with the delay", d),
                            ("virtq re-arming for the 64th", a)):
                if not r or r["ns_best"] == "missing":
                    continue
                k, t = float(r["kicks_per_req"]), float(r["kicks_per_req"]) + float(
                    r["intr_per_req"])
                text += "; %s %.4f kicks, %s interrupts (%s ns)" % (name, k, r["intr_per_req"],
                                                                     r["ns_best"])
                if k <= pk and t <= pt:
                    good.append(name)
            rows.append(("sleeping (eventfd) at batch 32, in ringtest's own harness: kicks per "
                         "request, virtq's driver against `virtio_ring_0_9`'s guest (same host; "
                         "met only with no more kicks + interrupts either)", "<= ringtest",
                         text, "**met** (%s)" % ", ".join(good) if good else
                         "**missed** (fewer kicks only with more interrupts)"
                         if float(v["kicks_per_req"]) <= pk else "**missed**"))
    if sz:
        def size_row(row):
            r = [x for x in sz if x["target"] == "rv32imac-Os" and x["row"] == row]
            return int(r[0]["text"]) if r and r[0]["text"] != "-1" else None
        n = size_row("ring+mmio")
        if n is not None:
            ind = size_row("ring+mmio+indirect")
            rows.append(("ring + MMIO transport, every feature built in (v1 and v2, event idx; "
                         "`ring+mmio` row), rv32imac -Os .text", "<= %d bytes" % T_SIZE,
                         "%d bytes%s" % (n, "; with `virtq_add_indirect` linked too %d" % ind
                                         if ind else ""),
                         verdict(n, T_SIZE, "bytes")))
        n = size_row("ring+mmio minimal, v2 only, no event idx")
        if n is not None:
            dflt = size_row("ring+mmio minimal")
            rows.append(("minimal polled build (split ring, no event idx, no indirect, MMIO v2 "
                         "only, spin wait: `VIRTQ_EVENT_IDX 0`, `VIRTQ_MMIO_LEGACY 0`; "
                         "`ring+mmio minimal, v2 only, no event idx` row), rv32imac -Os .text",
                         "<= %d bytes" % T_SIZE_MIN,
                         "%d bytes%s" % (n, "; the same calls in the default build %d" % dflt
                                         if dflt else ""),
                         verdict(n, T_SIZE_MIN, "bytes")))
    rows += qemu_targets(res)
    if not rows:
        return None
    return table(["target", "goal", "measured", "status"], rows, ["---", "---", "---", "---"])


def qemu_targets(res):
    q = read_qemu(res)
    if q is None:
        return []
    rows = []
    s = q.get(("uboot", "blk_demo", "seq_read"))
    r1 = q.get(("uboot", "blk_demo", "over_uboot_seq_read_64m_1cmd"))
    r2 = q.get(("uboot", "blk_demo", "over_uboot_seq_read_1m_x64"))
    u1 = q.get(("uboot", "u-boot", "seq_read_64m_1cmd"))
    u2 = q.get(("uboot", "u-boot", "seq_read_1m_x64"))
    if s and r1 and r2 and u1 and u2:
        # Best against best: what each does when the shared machine leaves
        # it alone (as the ring section uses the best run); the per-run
        # ratios say how load moved it.
        b1 = float(s["max"]) / float(u1["max"])
        b2 = float(s["max"]) / float(u2["max"])
        med = min(float(r1["median"]), float(r2["median"]))
        note = ""
        if min(b1, b2) >= 1.0:
            note = (" (also on the median run)" if med >= 1.0 else
                    " on the best runs; **not** on the median run (%sx)" % qnum(med))
        rows.append(("QEMU blk: large sequential reads at least as fast as U-Boot on the same "
                     "image", ">= U-Boot (ratio >= 1)",
                     "best of %s runs: blk_demo %s MiB/s, U-Boot %s MiB/s (one 64 MiB read) and "
                     "%s MiB/s (64 x 1 MiB): %sx and %sx; median of the per-run ratios %sx and "
                     "%sx (medians %s, %s, %s MiB/s)"
                     % (s["runs"], qnum(s["max"]), qnum(u1["max"]), qnum(u2["max"]), qnum(b1),
                        qnum(b2), qnum(r1["median"]), qnum(r2["median"]), qnum(s["median"]),
                        qnum(u1["median"]), qnum(u2["median"])),
                     verdict_ge(min(b1, b2), 1.0, "", "%.2fx") + note))
    r = q.get(("blk", "blk_demo", "qd32_over_qd1"))
    a, b = q.get(("blk", "blk_demo", "qd32")), q.get(("blk", "blk_demo", "qd1"))
    if r and a and b:
        rows.append(("QEMU blk: 4 KiB IOPS at queue depth 32 vs depth 1", ">= %gx" %
                     T_QD32_OVER_QD1, "QD32 %s IOPS, QD1 %s IOPS: %sx (median of %s boots, "
                     "range %s-%s)" % (qnum(a["median"]), qnum(b["median"]), qnum(r["median"]),
                                      r["runs"], qnum(r["min"]), qnum(r["max"])),
                     verdict_ge(float(r["median"]), T_QD32_OVER_QD1, "", "%.2fx")))
    k = q.get(("blk", "blk_demo", "qd32_kicks_per_req"))
    if k:
        rows.append(("QEMU blk: kicks per request at queue depth 32", "<= %g" % T_QD32_KICKS,
                     "%s (range %s-%s; interrupts %s)" % (
                         k["median"], k["min"], k["max"],
                         q.get(("blk", "blk_demo", "qd32_irqs_per_req"), {}).get("median", "?")),
                     verdict(float(k["median"]), T_QD32_KICKS, "kicks/request", "%.3f")))
    f = q.get(("gpu", "gpu_demo", "full_frame_fps"))
    w = q.get(("gpu", "gpu_demo", "full_frame_w"))
    h = q.get(("gpu", "gpu_demo", "full_frame_h"))
    if f and w and h:
        res_ok = (int(float(w["median"])), int(float(h["median"]))) == T_GPU_RES
        rows.append(("QEMU gpu: full-frame flushes per second at %dx%d" % T_GPU_RES,
                     ">= %d" % T_GPU_FPS, "%s (range %s-%s) at %sx%s" % (
                         qnum(f["median"]), qnum(f["min"]), qnum(f["max"]), w["median"],
                         h["median"]),
                     verdict_ge(float(f["median"]), T_GPU_FPS, "flushes/s", "%.0f")
                     if res_ok else "**not measured** at %dx%d" % T_GPU_RES))
    return rows


def block_fresh(res):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import stamp
    rows = [("`%s`" % name, "`make %s`" % step, c, d, state)
            for name, step, c, d, state in stamp.status(res)]
    return ("Which commit each results file measured, and whether `virtq.h` has changed "
            "since (`make bench-status`; written by `make bench-report`):\n\n" +
            table(["results file", "step", "commit", "date", "state against this "
                   "commit's virtq.h"], rows, ["---", "---", "---", "---", "---"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    doc = open(args.doc).read()
    blocks = {"targets": block_targets, "machine": block_machine, "ring": block_ring,
              "icount": block_icount, "size": block_size, "qemu": block_qemu,
              "uboot": block_uboot, "transport": block_transport, "fresh": block_fresh, "icount_lines": block_icount_lines}
    for name, fn in blocks.items():
        body = fn(args.results)
        pat = re.compile(r"(<!-- bench:%s:begin -->\n)(.*?)(<!-- bench:%s:end -->)"
                         % (name, name), re.S)
        if not pat.search(doc):
            sys.stderr.write("report: BENCHMARKS.md has no %s block\n" % name)
            continue
        if body is None:
            sys.stderr.write("report: no results for %s; block left as it was\n" % name)
            continue
        doc = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(3), doc)
    open(args.doc, "w").write(doc)
    print("report: %s updated" % os.path.relpath(args.doc, ROOT))


if __name__ == "__main__":
    main()
