#!/usr/bin/env python3
"""Run ringbench over the configurations BENCHMARKS.md reports.

Every configuration runs REPS times (default 3), interleaved (the whole
list once, then again), so a burst of load from other work on the machine
hits one repetition of many configurations rather than every repetition of
one.  The summary keeps the best (lowest ns/request) and the median run of
each configuration; the 1-minute load average before each run is kept in
the raw file, because the machine is shared.

Writes  <results>/ring_raw.csv   every run
        <results>/ring.csv       per configuration: best and median
        <results>/ring_batch.dat ns/request against batch size, for gnuplot

  python3 bench/ring_sweep.py --bin build/bench/ringbench [--reps N] [--ms T]
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (mode, wake) pairs: how idle sides wait.
MODES = [("poll", "eventfd"), ("sleep", "eventfd"), ("sleep", "futex")]


def configs():
    """(group, args) for each configuration, groups as in BENCHMARKS.md."""
    out = []
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
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr))
    return next(csv.DictReader(io.StringIO(header(binary) + r.stdout)))


_header = None


def header(binary):
    global _header
    if _header is None:
        _header = subprocess.run([binary, "--csv-header"], stdout=subprocess.PIPE, text=True,
                                 check=True).stdout
    return _header


def key(row):
    return tuple(row[k] for k in ("mode", "wake", "ring", "chain", "batch", "inflight",
                                  "event_idx", "delayed"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/bench/ringbench"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ms", type=int, default=300, help="measured time per run")
    ap.add_argument("--warm", type=int, default=50, help="warm-up per run")
    args = ap.parse_args()
    os.makedirs(args.results, exist_ok=True)
    cfgs = configs()
    raw = []
    t0 = time.time()
    for rep in range(args.reps):
        for group, a in cfgs:
            load = loadavg()
            row = run_one(args.bin, a, args.ms, args.warm)
            row["group"], row["rep"], row["load1"] = group, rep, load
            raw.append(row)
        sys.stdout.write("ring_sweep: repetition %d/%d done (%.0f s)\n" %
                         (rep + 1, args.reps, time.time() - t0))
        sys.stdout.flush()
    # Calibration: a cache line's round trip between the two CPUs.
    cal = []
    for rep in range(args.reps):
        r = subprocess.run([args.bin, "--c2c", "--csv", "-T", "100"], stdout=subprocess.PIPE,
                           text=True, check=True, timeout=60)
        cal.append(float(r.stdout.split(",")[8]))

    fields = list(raw[0].keys())
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
    for k in order:
        rs = sorted(runs[k], key=lambda r: float(r["ns_per_req"]))
        best, med = rs[0], rs[len(rs) // 2]
        summary.append(dict(
            group=best["group"], mode=best["mode"], wake=best["wake"], ring=best["ring"],
            chain=best["chain"], batch=best["batch"], inflight=best["inflight"],
            event_idx=best["event_idx"], delayed=best["delayed"],
            ns_best=best["ns_per_req"], ns_median=med["ns_per_req"],
            req_per_s_best=best["req_per_s"],
            kicks_per_req=best["kicks_per_req"], intr_per_req=best["intr_per_req"],
            runs=len(rs), load1_max=max(r["load1"] for r in rs)))
    summary.append(dict(group="calibration", mode="c2c", wake="-", ring=0, chain=0, batch=0,
                        inflight=0, event_idx=0, delayed=0, ns_best="%.1f" % min(cal),
                        ns_median="%.1f" % statistics.median(cal), req_per_s_best=0,
                        kicks_per_req=0, intr_per_req=0, runs=len(cal),
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
                         s["batch"] == batch and s["mode"] == m and s["event_idx"] == ev and
                         (m == "poll" or s["wake"] == wk)]
                    vals.append(v[0]["ns_best"] if v else "NaN")
                f.write("%s %s\n" % (batch, " ".join(vals)))
            f.write("\n\n")
    print("ring_sweep: %d configurations x %d runs in %.0f s; c2c round trip %.0f ns (best)" %
          (len(cfgs), args.reps, time.time() - t0, min(cal)))


if __name__ == "__main__":
    main()
