#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Which virtq.h each results file measured, and whether it is still current.

  python3 bench/stamp.py --results DIR stamp FILE...   after a step wrote FILEs
  python3 bench/stamp.py --results DIR check           warn about stale files

`stamp` records, in <results>/provenance.csv, for each file: the git blob
hash of virtq.h as it was when the file was written (the header the
figures describe), the commit checked out (with "+dirty" when src/, virtq.h
or bench/ sources had uncommitted changes) and the UTC time.  `check`
compares each recorded hash with the virtq.h in the tree now and says which
results files are older than the header they describe (or have no record),
so a reader of BENCHMARKS.md, and `make bench`, know which figures are
stale.  bench/report.py puts the same table into BENCHMARKS.md.
"""
import argparse
import csv
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["file", "virtq_h", "commit", "date"]
# The results files BENCHMARKS.md is generated from, and the step that writes each.
TRACKED = [("machine.txt", "bench-machine"), ("icount.csv", "bench-icount"), ("icount_lines.csv", "bench-icount"),
           ("size.csv", "bench-size"), ("size_floor.csv", "bench-size"), ("ring.csv", "bench-ring"),
           ("ring_batch.png", "bench-chart"), ("qemu_runs_blk.csv", "bench-qemu-blk"),
           ("qemu_runs_gpu.csv", "bench-qemu-gpu"), ("qemu_runs_net.csv", "bench-qemu-net"),
           ("qemu_runs_uboot.csv", "bench-uboot"), ("qemu_runs_transport.csv", "bench-qemu-pci")]


def git(*args):
    r = subprocess.run(["git", "-C", ROOT] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def header_hash():
    return git("hash-object", os.path.join(ROOT, "virtq.h")) or "unknown"


def commit():
    c = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--", "src",
                            "virtq.h", "bench", ":!bench/results"],
                           stderr=subprocess.DEVNULL).returncode
    return c + ("+dirty" if dirty else "")


def read(results):
    path = os.path.join(results, "provenance.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def stamp(results, files):
    recs = read(results)
    h, c, d = header_hash(), commit(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for f in files:
        recs[os.path.basename(f)] = dict(file=os.path.basename(f), virtq_h=h, commit=c, date=d)
    with open(os.path.join(results, "provenance.csv"), "w", newline="") as out:
        w = csv.DictWriter(out, fieldnames=FIELDS)
        w.writeheader()
        for name in sorted(recs):
            w.writerow(recs[name])


def status(results):
    """[(file, step, commit, date, state)] for every tracked results file."""
    recs, h = read(results), header_hash()
    out = []
    for name, step in TRACKED:
        if not os.path.exists(os.path.join(results, name)):
            out.append((name, step, "-", "-", "missing"))
            continue
        r = recs.get(name)
        if r is None:
            out.append((name, step, "?", "?", "no record of the virtq.h it measured"))
        elif r["virtq_h"] != h:
            out.append((name, step, r["commit"], r["date"], "STALE: virtq.h changed since"))
        else:
            out.append((name, step, r["commit"], r["date"], "current"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("cmd", choices=["stamp", "check"])
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.cmd == "stamp":
        stamp(a.results, a.files)
        return 0
    stale = [s for s in status(a.results) if s[4] != "current"]
    for name, step, c, d, state in stale:
        print("bench: WARNING: bench/results/%s (%s; measured %s at %s): %s; `make %s` "
              "re-measures it" % (name, step, c, d, state, step))
    if not stale:
        print("bench: every results file describes the current virtq.h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
