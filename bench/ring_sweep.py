#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run ringbench over the configurations BENCHMARKS.md reports.

Every configuration runs REPS times (default 3), interleaved (the whole
list once, then again), so a burst of load from other work on the machine
hits one repetition of many configurations rather than every repetition of
one.  The summary keeps the best (lowest ns/request) and the median run of
each configuration; the 1-minute load average before each run is kept in
the raw file, because the machine is shared.

The peer runs in the same sweep, interleaved with ringbench, on the same
two CPUs: Linux's tools/virtio/ringtest programs (`ring`,
`virtio_ring_0_9`, built unmodified by mk/bench.mk), one per --ringtest
NAME=PATH, at ring 256 and batch 1/8/32, polling and sleeping (ringtest
sleeps on eventfds, its only way).  ringtest runs a fixed number of
requests and reports nothing, so bench/ringtest_shim.so (LD_PRELOAD)
times it from its first pthread_create() to exit and counts its eventfd
writes (kicks, calls); the request count per run is calibrated once so a
run lasts about --ms.  virtq's own driver also runs in that harness
(build/bench/ringtest_virtq, bench/ringtest_virtq.c: ringtest's main.c and
virtio_ring_0_9's host with virtq as the guest), as --ringtest virtq=...,
so the two drivers can be compared with nothing else different.

A run that fails (e.g. "no request completed in the measured window" when
the shared machine starves a thread, or a timeout) is tried again, twice;
a configuration whose every attempt failed is recorded as missing and the
sweep goes on.

Writes  <results>/ring_raw.csv   every run (missing runs have no figures)
        <results>/ring.csv       per configuration: best and median
        <results>/ring_batch.dat ns/request against batch size, for gnuplot

  python3 bench/ring_sweep.py --bin build/bench/ringbench [--reps N] [--ms T]
      [--shim build/bench/ringtest_shim.so --ringtest NAME=PATH ...]
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (mode, wake) pairs: how idle sides wait.
MODES = [("poll", "eventfd"), ("sleep", "eventfd"), ("sleep", "futex")]


RINGTEST_BATCHES = (1, 8, 32)
ATTEMPTS = 3          # a failed run is tried this many times in all


def configs(ringtests=()):
    """(group, args) for each configuration, groups as in BENCHMARKS.md."""
    out = []
    # The peer, side by side with the grid's 1-segment, event-idx rows.
    for name, _ in ringtests:
        for mode in ("poll", "sleep"):
            for batch in RINGTEST_BATCHES:
                out.append(("ringtest", dict(driver="ringtest:" + name, m=mode, b=batch)))
    # The main grid: ring 256, chain 1 and 3, batch 1/8/32, EVENT_IDX off/on,
    # polling and both ways of sleeping.
    for chain in (1, 3):
        for mode, wake in MODES:
            for ev in (0, 1):
                for batch in (1, 8, 32):
                    out.append(("grid", dict(m=mode, w=wake, r=256, c=chain, b=batch, e=ev, i=0)))
    # Ring size at batch 32 (the other sizes; 256 is in the grid).
    for mode, wake in (("poll", "eventfd"), ("sleep", "futex")):
        for ring in (16, 64, 1024):
            out.append(("ring", dict(m=mode, w=wake, r=ring, c=1, b=32, e=1, i=0)))
    # In-flight cap at batch 1 (cap 1 is a ping-pong: latency, not throughput).
    for mode, wake in (("poll", "eventfd"), ("sleep", "futex")):
        for cap in (1, 4, 16, 64):
            out.append(("inflight", dict(m=mode, w=wake, r=256, c=1, b=1, e=1, i=cap)))
    return out


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return -1.0


def run_one(binary, args, ms, warm):
    cmd = [binary, "--csv", "-W", str(warm), "-T", str(ms)]
    for k, v in args.items():
        cmd += ["-" + k, str(v)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=ms / 1000.0 + warm / 1000.0 + 60)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                   r.stderr.strip()))
    row = next(csv.DictReader(io.StringIO(header(binary) + r.stdout)))
    row["driver"] = "virtq"
    return row


def cpus():
    """The two CPUs ringbench pins to: the first two this process may use."""
    c = sorted(os.sched_getaffinity(0))
    return (c[0], c[1]) if len(c) >= 2 else (None, None)


def ringtest_cmd(path, args, cycles):
    # PATH may carry arguments of its own ("ringtest_virtq --param 1").
    cmd = path.split() + ["--ring-size", "256", "--run-cycles", str(cycles),
                          "--batch", str(args["b"])]
    g, h = cpus()
    if g is not None:     # ringbench: driver on the first CPU, device on the second
        cmd += ["--guest-affinity", str(g), "--host-affinity", str(h)]
    if args["m"] == "sleep":
        cmd.append("--sleep")
    return cmd


def run_ringtest(path, shim, args, cycles, timeout):
    """One ringtest run under the shim: a row shaped like ringbench's."""
    with tempfile.NamedTemporaryFile("r", prefix="ringtest_shim.", suffix=".txt") as out:
        env = dict(os.environ, LD_PRELOAD=shim, RINGTEST_SHIM_OUT=out.name)
        cmd = ringtest_cmd(path, args, cycles)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                       r.stderr.strip()))
        fig = dict(kv.split("=") for kv in open(out.name).read().split())
    ns, n = float(fig["ns"]), float(cycles)
    if ns <= 0:
        raise RuntimeError("%s: the shim measured no time" % " ".join(cmd))
    return dict(mode=args["m"], wake="eventfd" if args["m"] == "sleep" else "-", ring="256",
                chain="1", batch=str(args["b"]), inflight="256", event_idx="1", delayed="0",
                ns_per_req="%.1f" % (ns / n), req_per_s="%.0f" % (n * 1e9 / ns),
                kicks_per_req="%.4f" % (int(fig["kicks"]) / n),
                intr_per_req="%.4f" % (int(fig["calls"]) / n), requests="%d" % cycles,
                elapsed_ns="%.0f" % ns, drv_sleeps="", dev_sleeps="", driver=args["driver"])


def attempt(what, fn):
    """fn() up to ATTEMPTS times; None (and a warning) when every try failed."""
    err = None
    for i in range(ATTEMPTS):
        try:
            return fn()
        except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
            err = e
            sys.stderr.write("ring_sweep: %s: attempt %d/%d failed: %s\n"
                             % (what, i + 1, ATTEMPTS, str(e).splitlines()[-1] if str(e) else e))
    sys.stderr.write("ring_sweep: %s: recorded as missing (%s)\n" % (what, err))
    return None


_header = None


def header(binary):
    global _header
    if _header is None:
        _header = subprocess.run([binary, "--csv-header"], stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
    return _header


def key(row):
    return tuple(row[k] for k in ("driver", "mode", "wake", "ring", "chain", "batch",
                                  "inflight", "event_idx", "delayed"))


def missing_row(group, a):
    """The row of a run that failed every attempt: the configuration, no figures."""
    if group == "ringtest":
        r = dict(driver=a["driver"], mode=a["m"], wake="eventfd" if a["m"] == "sleep" else "-",
                 ring="256", chain="1", batch=str(a["b"]), inflight="256", event_idx="1",
                 delayed="0")
    else:
        chain = int(a["c"])
        r = dict(driver="virtq", mode=a["m"], wake=a["w"] if a["m"] == "sleep" else "-",
                 ring=str(a["r"]), chain=str(chain), batch=str(a["b"]),
                 inflight=str(a["i"] or int(a["r"]) // chain), event_idx=str(a["e"]),
                 delayed=str(a["e"]))
    r.update(ns_per_req="", req_per_s="", kicks_per_req="", intr_per_req="", requests="",
             elapsed_ns="", drv_sleeps="", dev_sleeps="")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/bench/ringbench"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ms", type=int, default=300, help="measured time per run")
    ap.add_argument("--warm", type=int, default=50, help="warm-up per run")
    ap.add_argument("--shim", help="bench/ringtest_shim.so, for --ringtest")
    ap.add_argument("--ringtest", action="append", default=[], metavar="NAME=PATH",
                    help="a ringtest program to run side by side (repeatable)")
    args = ap.parse_args()
    os.makedirs(args.results, exist_ok=True)
    ringtests = [tuple(x.split("=", 1)) for x in args.ringtest]
    if ringtests and not args.shim:
        ap.error("--ringtest needs --shim")
    paths = dict(ringtests)
    cfgs = configs(ringtests)
    raw = []
    t0 = time.time()
    # ringtest runs a fixed number of requests: size each configuration's
    # runs to about --ms from one short calibration run (not counted).
    cycles = {}
    for group, a in cfgs:
        if group != "ringtest":
            continue
        name = a["driver"].split(":", 1)[1]
        cal = attempt("%s calibration %s batch %d" % (a["driver"], a["m"], a["b"]),
                      lambda: run_ringtest(paths[name], args.shim, a, 100000, 120))
        ns = float(cal["ns_per_req"]) if cal else 1000.0
        n = int(min(50e6, max(50e3, args.ms * 1e6 / ns)))
        # A whole number of batches: ringtest's guest decides a kick only
        # every --batch adds, so a partial last batch is published but never
        # kicked, and a host asleep by then never wakes (the run hangs).
        cycles[(a["driver"], a["m"], a["b"])] = n - n % max(RINGTEST_BATCHES)
    for rep in range(args.reps):
        for group, a in cfgs:
            load = loadavg()
            if group == "ringtest":
                name = a["driver"].split(":", 1)[1]
                n = cycles[(a["driver"], a["m"], a["b"])]
                what = "%s %s batch %d" % (a["driver"], a["m"], a["b"])
                row = attempt(what, lambda: run_ringtest(paths[name], args.shim, a, n,
                                                         15 + 20 * args.ms / 1000.0))
            else:
                what = "ringbench " + " ".join("-%s %s" % kv for kv in a.items())
                row = attempt(what, lambda: run_one(args.bin, a, args.ms, args.warm))
            if row is None:
                row = missing_row(group, a)
            row["group"], row["rep"], row["load1"] = group, rep, load
            raw.append(row)
        sys.stdout.write("ring_sweep: repetition %d/%d done (%.0f s)\n" %
                         (rep + 1, args.reps, time.time() - t0))
        sys.stdout.flush()
    # Calibration: a cache line's round trip between the two CPUs.
    cal = []
    for rep in range(args.reps):
        def c2c():
            r = subprocess.run([args.bin, "--c2c", "--csv", "-T", "100"], stdout=subprocess.PIPE,
                               text=True, check=True, timeout=60)
            return float(r.stdout.split(",")[8])
        v = attempt("c2c calibration", c2c)
        if v is not None:
            cal.append(v)

    fields = ["group", "rep", "load1", "driver"] + [f for f in raw[0].keys() if f not in
                                                     ("group", "rep", "load1", "driver")]
    with open(os.path.join(args.results, "ring_raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(raw)

    summary = []
    order = []
    runs = {}
    for row in raw:
        k = key(row)
        if k not in runs:
            runs[k] = []
            order.append(k)
        runs[k].append(row)
    missing = 0
    for k in order:
        done = [r for r in runs[k] if r["ns_per_req"] != ""]
        first = runs[k][0]
        base = dict(group=first["group"], driver=first["driver"], mode=first["mode"],
                    wake=first["wake"], ring=first["ring"], chain=first["chain"],
                    batch=first["batch"], inflight=first["inflight"],
                    event_idx=first["event_idx"], delayed=first["delayed"])
        if not done:
            missing += 1
            summary.append(dict(base, ns_best="missing", ns_median="missing",
                                req_per_s_best="", kicks_per_req="", intr_per_req="",
                                runs=0, load1_max=max(r["load1"] for r in runs[k])))
            continue
        rs = sorted(done, key=lambda r: float(r["ns_per_req"]))
        best, med = rs[0], rs[len(rs) // 2]
        summary.append(dict(
            base, ns_best=best["ns_per_req"], ns_median=med["ns_per_req"],
            req_per_s_best=best["req_per_s"],
            kicks_per_req=best["kicks_per_req"], intr_per_req=best["intr_per_req"],
            runs=len(rs), load1_max=max(r["load1"] for r in runs[k])))
    summary.append(dict(group="calibration", driver="-", mode="c2c", wake="-", ring=0, chain=0,
                        batch=0, inflight=0, event_idx=0, delayed=0,
                        ns_best="%.1f" % min(cal) if cal else "missing",
                        ns_median="%.1f" % statistics.median(cal) if cal else "missing",
                        req_per_s_best=0, kicks_per_req=0, intr_per_req=0, runs=len(cal),
                        load1_max=loadavg()))
    with open(os.path.join(args.results, "ring.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0].keys()))
        w.writeheader()
        w.writerows(summary)

    # gnuplot data: one block per chain length (index 0: chain 1, 1: chain 3),
    # rows by batch, columns by mode/wake/event_idx (best ns/request).
    series = [(m, wk, ev) for m, wk in MODES for ev in ("0", "1")]
    with open(os.path.join(args.results, "ring_batch.dat"), "w") as f:
        f.write("# ns/request (best of %d runs), ring 256; columns: batch, then\n" % args.reps)
        f.write("# " + " ".join("%s-%s-ev%s" % (m, wk if m == "sleep" else "", ev)
                                for m, wk, ev in series) + "\n")
        for chain in ("1", "3"):
            f.write("# chain %s\n" % chain)
            for batch in ("1", "8", "32"):
                vals = []
                for m, wk, ev in series:
                    v = [s for s in summary if s["group"] == "grid" and s["chain"] == chain and
                         s["ns_best"] != "missing" and
                         s["batch"] == batch and s["mode"] == m and s["event_idx"] == ev and
                         (m == "poll" or s["wake"] == wk)]
                    vals.append(v[0]["ns_best"] if v else "NaN")
                f.write("%s %s\n" % (batch, " ".join(vals)))
            f.write("\n\n")
    print("ring_sweep: %d configurations x %d runs in %.0f s; c2c round trip %s ns (best); "
          "%d configuration(s) missing" % (len(cfgs), args.reps, time.time() - t0,
                                           "%.0f" % min(cal) if cal else "?", missing))


if __name__ == "__main__":
    main()
