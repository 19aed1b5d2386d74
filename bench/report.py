#!/usr/bin/env python3
"""Write the latest figures from bench/results/ into BENCHMARKS.md.

Only the blocks between
    <!-- bench:NAME:begin -->  and  <!-- bench:NAME:end -->
are rewritten (NAME: targets, machine, ring, icount, size); everything
else in BENCHMARKS.md is prose kept by hand.  A results file that is
missing leaves its block as it was.

  python3 bench/report.py [--results DIR] [--doc BENCHMARKS.md]
"""
import argparse
import csv
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The targets.
T_ICOUNT_1, T_ICOUNT_3 = 70, 110          # instructions, add + publish + get
T_POLL_NS = 100                            # two polling threads
T_SLEEP_NS, T_SLEEP_KICKS = 170, 0.02      # sleeping, batch 32
T_SIZE = 2048                              # ring + MMIO, rv32imac -Os .text


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
    rows = [(r["segments"], "on" if r["event_idx"] == "1" else "off", r["add"], r["publish"],
             r["submit"], r["get"], "**%s**" % r["total"], r.get("lockstep_ns", ""))
            for r in ic]
    return table(["segments", "event idx", "virtq_add", "virtq_publish",
                  "add + publish + kick decision", "virtq_get", "total per request",
                  "ns per lock-step round (native)"], rows)


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
    return "\n".join(out).rstrip()


def block_targets(res):
    ic = read_csv(os.path.join(res, "icount.csv"))
    ring = read_csv(os.path.join(res, "ring.csv"))
    sz = read_csv(os.path.join(res, "size.csv"))
    rows = []
    if ic:
        for segs, limit in (("1", T_ICOUNT_1), ("3", T_ICOUNT_3)):
            worst = max(int(r["total"]) for r in ic if r["segments"] == segs)
            per = ", ".join("%s with event idx %s" % (r["total"], "on" if r["event_idx"] == "1"
                                                       else "off")
                            for r in ic if r["segments"] == segs)
            rows.append(("driver instructions per request, %s segment%s (add + publish + get)"
                         % (segs, "s" if segs != "1" else ""),
                         "<= %d" % limit, per, verdict(worst, limit, "instructions")))
    if ring:
        for batch in ("32", "1"):
            r = find(ring, group="grid", mode="poll", chain="1", batch=batch, event_idx="1")
            if r:
                rows.append(("two polling threads, ns/request (ring 256, 1 segment, batch %s, "
                             "event idx on)" % batch, "<= %d ns" % T_POLL_NS,
                             "%s ns (median %s)" % (r["ns_best"], r["ns_median"]),
                             verdict(float(r["ns_best"]), T_POLL_NS, "ns", "%.0f")))
        for wake in ("futex", "eventfd"):
            r = find(ring, group="grid", mode="sleep", wake=wake, chain="1", batch="32",
                     event_idx="1")
            if r:
                ns, k = float(r["ns_best"]), float(r["kicks_per_req"])
                v1 = verdict(ns, T_SLEEP_NS, "ns", "%.0f")
                v2 = verdict(k, T_SLEEP_KICKS, "kicks/request", "%.4f")
                rows.append(("sleeping (%s) at batch 32 (ring 256, 1 segment, event idx on)"
                             % wake, "<= %d ns and <= %.2f kicks/req" % (T_SLEEP_NS, T_SLEEP_KICKS),
                             "%s ns (median %s), %s kicks/req" % (r["ns_best"], r["ns_median"],
                                                                  r["kicks_per_req"]),
                             "time %s; kicks %s" % (v1, v2)))
    if sz:
        r = [x for x in sz if x["target"] == "rv32imac-Os" and x["row"] == "ring+mmio"]
        if r:
            rows.append(("ring + MMIO transport (v1 and v2), rv32imac -Os .text", "<= %d bytes"
                         % T_SIZE, "%s bytes" % r[0]["text"],
                         verdict(int(r[0]["text"]), T_SIZE, "bytes")))
    if not rows:
        return None
    return table(["target", "goal", "measured", "status"], rows, ["---", "---", "---", "---"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    doc = open(args.doc).read()
    blocks = {"targets": block_targets, "machine": block_machine, "ring": block_ring,
              "icount": block_icount, "size": block_size}
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
