#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where each instruction of a request goes, from callgrind's per-line counts.

Reads the callgrind outputs bench/icount.py left in the build directory
(1 and 3 segments, event idx on; the default build and the VIRTQ_STATIC +
VIRTQ_HOT_INLINE build), runs callgrind_annotate --auto=yes on each, and
sorts every counted source line of virtq.h (and of the harness's driver
wrappers in the inlined build) into one of:

  checks        a test that refuses a bad argument, a bad queue state or a
                bad used element (every line that is one of those tests)
  add           writing the descriptors, the private slot, the avail entry
  publish       the release store of avail.idx and its bookkeeping
  barrier       the full barrier between avail.idx and the suppression read
  kick decision reading avail_event / used.flags and deciding
  get           reading used.idx and the element, freeing the chain, used_event
  call          the caller's own call, return and argument moves (inlined
                build only: the driver-shaped wrappers in bench/icount.c)

by the function the line belongs to and what the line does.  The sums
equal icount.csv's totals (the harness's device side is never counted).

Writes <results>/icount_lines.csv.
"""
import argparse
import csv
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATS = ["checks", "add", "publish", "barrier", "kick decision", "get", "call"]
FUNC_RE = re.compile(r"^[A-Za-z_][^;#]*\($")
NAME_RE = re.compile(r"\b((?!__attribute__)[A-Za-z_]\w*)\(")
CHECK_RE = re.compile(r"VIRTQ__UNLIKELY|== NULL \|\||\|\| *$|^\s*\(ulen > s->wlen|"
                      r"^\s*\(uint16_t\)\(s->pos|bufs\[i\]\.addr == NULL|return total <=|"
                      r"return VIRTQ_E|return virtq__\w+_error|return virtq__used_broken|"
                      r"total \+= bufs|!= VIRTQ__Q_READY\)")
SRC_RE = re.compile(r"^-- Auto-annotated source: (.*)$")
LINE_RE = re.compile(r"^\s*([\d,]+|\.)\s(.*)$")


def functions_by_line(path):
    """line number -> enclosing function name (by the last definition above)."""
    out, cur = {}, None
    for i, text in enumerate(open(path, errors="replace"), 1):
        t = text.rstrip("\n")
        if t[:1].isalpha() and "(" in t and not t.rstrip().endswith(";") and \
                not t.startswith(("#", "typedef", "struct", "enum", "union")):
            names = [n for n in NAME_RE.findall(t) if n not in
                     ("noinline", "noipa", "cold", "unused", "always_inline", "aligned")]
            if names:
                cur = names[0]
        out[i] = cur
    return out


def category(func, text):
    if func is None:
        return None
    if CHECK_RE.search(text):
        return "checks"
    if func in ("virtq__mb_of", "virtq__mb"):
        return "barrier"
    if func == "virtq_need_event":
        return "kick decision"
    if func in ("virtq__publish_new",):
        if re.search(r"EVENT_IDX|need_event|used->flags|NO_NOTIFY", text):
            return "kick decision"
        if "mb" in text:
            return "barrier"
        return "publish"
    if func in ("virtq__st16_release", "virtq_publish", "virtq__publish", "virtq_submit",
                "virtq__submit", "virtq__submit_chain"):
        return "publish"
    if func in ("virtq__ld16_acquire", "virtq_get"):
        return "get"
    if func.startswith("virtq__add") or func in ("virtq_add", "virtq__write_chain",
                                                  "virtq__desc_set", "virtq__commit",
                                                  "virtq__segs_ok"):
        return "add"
    if func.startswith("icount_"):
        return "call"
    return None


def annotate(out, rounds, icount_c):
    ann = subprocess.run(["callgrind_annotate", "--auto=yes", "--show-percs=no",
                          "--threshold=100", out], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=True).stdout
    sums = dict.fromkeys(CATS, 0.0)
    src = None
    funcs = {}
    lineno = None
    for line in ann.splitlines():
        m = SRC_RE.match(line)
        if m:
            src = m.group(1).strip()
            base = os.path.basename(src)
            if base == "virtq.h":
                funcs = functions_by_line(os.path.join(ROOT, "virtq.h"))
            elif base == "icount.c":
                funcs = functions_by_line(icount_c)
            else:
                funcs = {}
            lineno = None
            continue
        m = re.match(r"^-- line (\d+) -+$", line)
        if m:
            lineno = int(m.group(1))
            continue
        if lineno is None or not funcs:
            continue
        m = LINE_RE.match(line)
        if not m:
            continue
        n, text = m.group(1), m.group(2)
        this = lineno
        lineno += 1
        if n == ".":
            continue
        if text.lstrip().startswith("=>"):
            lineno -= 1  # a call line, not a source line
            continue
        func = funcs.get(this)
        cat = category(func, text)
        if cat is None or (os.path.basename(src) == "icount.c" and cat != "call"):
            continue
        sums[cat] += int(n.replace(",", "")) / rounds
        if os.environ.get("ICOUNT_LINES_DEBUG"):
            print("%-13s %-22s %8s  %s" % (cat, func, n, text.strip()[:70]))
    return sums


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build/bench"))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/results"))
    ap.add_argument("--rounds", type=int, default=10000)
    a = ap.parse_args()
    rows = []
    for tag, name in (("", "virtq default build (add + publish + get)"),
                      (".submit", "virtq default build (submit + get)"),
                      (".inline", "virtq VIRTQ_STATIC + VIRTQ_HOT_INLINE (submit + get)")):
        for segs in (1, 3):
            out = os.path.join(a.build, "callgrind%s.s%d.e1.out" % (tag, segs))
            if not os.path.exists(out):
                continue
            s = annotate(out, a.rounds, os.path.join(ROOT, "bench/icount.c"))
            row = dict(build=name, segments=segs, event_idx=1)
            row.update({c: "%.0f" % s[c] for c in CATS})
            row["total"] = "%.0f" % sum(s.values())
            rows.append(row)
            print("icount_lines: %s, %d segment(s): %s = %s" % (
                name, segs, ", ".join("%s %s" % (c, row[c]) for c in CATS), row["total"]))
    with open(os.path.join(a.results, "icount_lines.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
