#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Driver instructions per request, from callgrind.

Runs the lock-step harness (bench/icount.c) under
    valgrind --tool=callgrind
for 1 and 3 segments, EVENT_IDX off and on, and reads the inclusive
instruction count (Ir) of virtq_add, virtq_publish and virtq_get with
callgrind_annotate --inclusive=yes.  The library is its own translation
unit, so these are the driver's instructions only: the harness's device
side and its loop are not counted.  Each count divided by the number of
rounds is exact: every round takes the same path.  The harness is also
run natively (best of 5 x 2M rounds) for the single-CPU time of a
lock-step round, driver plus harness device.

The same lock-step count is taken, in the same run, for:
- the default build calling virtq_submit() (add + publish in one call,
  icount -S) instead of virtq_add() + virtq_publish();
- virtq built the way README recommends for speed (--inline BIN: icount.c
  compiled with -DICOUNT_INLINE, virtq.h included with VIRTQ_STATIC in the
  harness's own translation unit, so the compiler inlines the hot path into
  the caller).  The harness's noinline wrappers, icount_submit_1 / _3 (add
  + publish with its kick decision, for a fixed request shape as a driver
  writes it) and icount_get, are counted inclusively: what a caller pays,
  call and return included;
- Linux's tools/virtio/ringtest rings (--ringtest NAME=BIN, built from
  bench/ringtest_icount.c): add_inbuf (which also publishes),
  kick_available (full barrier + event-index kick decision, less the
  harness's own kick()), get_buf.

Writes <results>/icount.csv.

  python3 bench/icount.py --bin build/bench/icount [--rounds N]
      [--inline build/bench/icount_inline] [--ringtest NAME=BIN ...]
"""
import argparse
import csv
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCS = ("virtq_add", "virtq_publish", "virtq_get")
INLINE_FUNCS = {1: ("icount_submit_1", "icount_get"), 3: ("icount_submit_3", "icount_get")}
RINGTEST_FUNCS = ("add_inbuf", "kick_available", "get_buf", "kick")
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*:(\w+)(?:\s|$)")


def measure(binary, build, segs, ev, rounds, funcs=FUNCS, tag="", args=None):
    out = os.path.join(build, "callgrind%s.s%d.e%d.out" % (tag, segs, ev))
    argv = args if args is not None else ["-s", str(segs), "-e", str(ev)]
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary] +
                   argv + ["-n", str(rounds)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True).stdout
    inc = {}
    for line in ann.splitlines():
        m = LINE.match(line)
        if m:
            n = int(m.group(1).replace(",", ""))
            inc[m.group(2)] = max(inc.get(m.group(2), 0), n)
    missing = [f for f in funcs if f not in inc]
    if missing:
        raise SystemExit("icount: callgrind saw no %s (inlined?)" % ", ".join(missing))
    per = {f: inc[f] / rounds for f in funcs}
    for f, v in per.items():
        if v != int(v):
            raise SystemExit("icount: %s: %d instructions over %d rounds is not whole"
                             % (f, inc[f], rounds))
    return {f: int(v) for f, v in per.items()}


def lockstep_ns(binary, segs, ev, rounds=2000000, reps=5):
    """Best-of-reps native time per lock-step round (driver + harness device)."""
    best = None
    for _ in range(reps):
        out = subprocess.run([binary, "-s", str(segs), "-e", str(ev), "-n", str(rounds)],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        ns = float(re.search(r"ns_per_round=([\d.]+)", out).group(1))
        best = ns if best is None else min(best, ns)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/bench/icount"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build/bench"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--rounds", type=int, default=10000)
    ap.add_argument("--inline", help="icount built with -DICOUNT_INLINE (VIRTQ_STATIC)")
    ap.add_argument("--ringtest", action="append", default=[], metavar="NAME=BIN")
    args = ap.parse_args()
    os.makedirs(args.results, exist_ok=True)
    rows = []
    for segs in (1, 3):
        for ev in (0, 1):
            c = measure(args.bin, args.build, segs, ev, args.rounds)
            row = dict(driver="virtq", segments=segs, event_idx=ev, add=c["virtq_add"],
                       publish=c["virtq_publish"], get=c["virtq_get"],
                       submit=c["virtq_add"] + c["virtq_publish"],
                       total=c["virtq_add"] + c["virtq_publish"] + c["virtq_get"],
                       lockstep_ns="%.1f" % lockstep_ns(args.bin, segs, ev))
            rows.append(row)
            print("icount: segments %d event_idx %d: add %d + publish %d + get %d = %d "
                  "(%s ns per lock-step round natively)" %
                  (segs, ev, row["add"], row["publish"], row["get"], row["total"],
                   row["lockstep_ns"]))
    for segs in (1, 3):
        for ev in (0, 1):
            c = measure(args.bin, args.build, segs, ev, args.rounds,
                        ("virtq_submit", "virtq_get"), ".submit",
                        ["-s", str(segs), "-e", str(ev), "-S"])
            row = dict(driver="virtq submit", segments=segs, event_idx=ev, add="", publish="",
                       get=c["virtq_get"], submit=c["virtq_submit"],
                       total=c["virtq_submit"] + c["virtq_get"], lockstep_ns="")
            rows.append(row)
            print("icount: submit, segments %d event_idx %d: submit %d + get %d = %d"
                  % (segs, ev, row["submit"], row["get"], row["total"]))
    if args.inline:
        for segs in (1, 3):
            for ev in (0, 1):
                c = measure(args.inline, args.build, segs, ev, args.rounds, INLINE_FUNCS[segs],
                            ".inline")
                sub = c["icount_submit_%d" % segs]
                row = dict(driver="virtq static inline", segments=segs, event_idx=ev, add="",
                           publish="", get=c["icount_get"], submit=sub,
                           total=sub + c["icount_get"],
                           lockstep_ns="%.1f" % lockstep_ns(args.inline, segs, ev))
                rows.append(row)
                print("icount: static inline, segments %d event_idx %d: submit %d + get %d = %d"
                      % (segs, ev, row["submit"], row["get"], row["total"]))
    for spec in args.ringtest:
        name, binary = spec.split("=", 1)
        c = measure(binary, args.build, 1, 1, args.rounds, RINGTEST_FUNCS, "." + name, [])
        kd = c["kick_available"] - c["kick"]
        row = dict(driver="ringtest:" + name, segments=1, event_idx=1, add=c["add_inbuf"],
                   publish=kd, get=c["get_buf"], submit=c["add_inbuf"] + kd,
                   total=c["add_inbuf"] + kd + c["get_buf"], lockstep_ns="")
        rows.append(row)
        print("icount: ringtest %s: add_inbuf %d + kick decision %d + get_buf %d = %d"
              % (name, row["add"], kd, row["get"], row["total"]))
    with open(os.path.join(args.results, "icount.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
