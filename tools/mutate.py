#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make mutate: run the curated mutants of src/ against a fast test subset.

Mutant files: tests/mutants/*.txt.  One mutant per block:

    [ID] src/file.h            (optionally: "occurrence N" after the path)
    why: what the mutant breaks (one line)
    - exact line(s) of src/file.h to replace (the "- " prefix is stripped)
    + the replacement line(s) (none: the lines are deleted)
    equivalent: a one-line proof that no test can kill it (rare; <= 5%)

The "-" lines must match src/ exactly once (or the N-th time with
"occurrence N"): a mutant whose text no longer matches is an error, so
drift between the set and the code shows at once (`--check`, in make test).

Each mutant is applied to a scratch copy of the tree (build/mutate/tree),
virtq.h regenerated, and the subset run (mk/mutate.mk: MUTATE_SUBSET, the
ring trace, ring and core tests, one compiler, then the fuzz seeds).  A
failing or timed-out subset kills it.  Prints the kill ratio and every
survivor; exits non-zero on a survivor, a drifted mutant, an "equivalent"
mutant that was killed after all, or too many equivalents.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MUTANT_GLOB = os.path.join(ROOT, "tests", "mutants", "*.txt")
MAX_EQUIVALENT = 0.05


def declaration_parts():
    """Parts of virtq.h outside VIRTQ_IMPLEMENTATION, from amalgamate.py's manifest."""
    sys.path.insert(0, ROOT)
    import amalgamate  # pylint: disable=import-outside-toplevel
    return {part for part, where in amalgamate.MANIFEST if where != "impl"}


class Mutant:
    def __init__(self, mid, path, occurrence, where):
        self.id = mid
        self.path = path
        self.occurrence = occurrence
        self.where = where
        self.why = ""
        self.old = []
        self.new = []
        self.equivalent = None

    @property
    def old_text(self):
        return "\n".join(self.old) + "\n"

    @property
    def new_text(self):
        return "\n".join(self.new) + "\n" if self.new else ""


HEAD = re.compile(r"^\[([A-Za-z0-9_.-]+)\]\s+(\S+)(?:\s+occurrence\s+(\d+))?\s*$")


def parse(files):
    mutants, errors, seen = [], [], set()
    for fn in files:
        cur = None
        with open(fn, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                where = "%s:%d" % (os.path.relpath(fn, ROOT), n)
                if not line.strip() or line.startswith("#"):
                    continue
                m = HEAD.match(line)
                if m:
                    cur = Mutant(m.group(1), m.group(2), int(m.group(3) or 0), where)
                    if cur.id in seen:
                        errors.append("%s: duplicate mutant id %s" % (where, cur.id))
                    seen.add(cur.id)
                    mutants.append(cur)
                elif cur is None:
                    errors.append("%s: text before the first [ID] line" % where)
                elif line.startswith("why:"):
                    cur.why = line[4:].strip()
                elif line.startswith("equivalent:"):
                    cur.equivalent = line[11:].strip()
                elif line == "-" or line.startswith("- "):
                    cur.old.append(line[2:])
                elif line == "+" or line.startswith("+ "):
                    cur.new.append(line[2:])
                else:
                    errors.append("%s: cannot read %r" % (where, line))
    for m in mutants:
        if not m.old:
            errors.append("%s: mutant %s has no '-' lines" % (m.where, m.id))
        if not m.why:
            errors.append("%s: mutant %s says nothing after why:" % (m.where, m.id))
        if m.equivalent is not None and len(m.equivalent) < 10:
            errors.append("%s: mutant %s: an equivalence needs its proof" % (m.where, m.id))
        if m.old == m.new:
            errors.append("%s: mutant %s changes nothing" % (m.where, m.id))
    return mutants, errors


def locate(m, text):
    """Offset of the text to replace, or an error string."""
    hits, start = [], 0
    while True:
        i = text.find(m.old_text, start)
        if i < 0:
            break
        # Whole lines only.
        if i == 0 or text[i - 1] == "\n":
            hits.append(i)
        start = i + 1
    if not hits:
        return None, "%s %s: its text no longer matches %s (drift)" % (m.where, m.id, m.path)
    if m.occurrence:
        if m.occurrence > len(hits):
            return None, "%s %s: occurrence %d, but %s has %d" % (
                m.where, m.id, m.occurrence, m.path, len(hits))
        return hits[m.occurrence - 1], None
    if len(hits) > 1:
        return None, "%s %s: matches %s %d times (add context or 'occurrence N')" % (
            m.where, m.id, m.path, len(hits))
    return hits[0], None


def check(mutants, root):
    errors = []
    cache = {}
    decl = declaration_parts()
    for m in mutants:
        p = os.path.join(root, m.path)
        if not m.path.startswith("src/") or not os.path.isfile(p):
            errors.append("%s %s: %s is not a file under src/" % (m.where, m.id, m.path))
            continue
        if os.path.basename(m.path) in decl:
            # mk/mutate.mk rebuilds only the implementation translation units.
            errors.append("%s %s: %s holds declarations; mutate implementation parts only"
                          % (m.where, m.id, m.path))
            continue
        if p not in cache:
            with open(p, encoding="utf-8") as f:
                cache[p] = f.read()
        _, err = locate(m, cache[p])
        if err:
            errors.append(err)
    return errors


def copy_tree(dst):
    """The tracked files of the working tree (as they are now) into dst."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    for rel in files.decode().split("\0"):
        if not rel or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), out)


STILLBORN_BUILDS = [
    ["gcc", "-std=c99", "-O2"],
    ["gcc", "-std=c99", "-O2", "-DVIRTQ_USE_ATOMICS=1", "-DGATE_NOW", "-DGATE_OS", "-DGATE_CUSTOM",
     "-DVIRTQ_WAIT=(VIRTQ_WAIT_SPIN|VIRTQ_WAIT_OS|VIRTQ_WAIT_CUSTOM)"],
    ["clang", "-std=c99", "-O2", "-DGATE_NOW", "-DGATE_OS", "-DGATE_CUSTOM",
     "-DVIRTQ_WAIT=(VIRTQ_WAIT_SPIN|VIRTQ_WAIT_OS|VIRTQ_WAIT_CUSTOM)"],
]


def compiles(tree):
    """None if the mutated virtq.h builds warning-free (so a test, not the
    compiler, has to kill it), else the compiler's complaint."""
    for cc in STILLBORN_BUILDS:
        cmd = cc + ["-Wall", "-Wextra", "-Werror", "-I" + tree, "-fsyntax-only",
                    os.path.join(tree, "tests", "gates", "impl.c")]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            return p.stdout.decode(errors="replace")
    return None


def run_subset(tree, build, target, timeout, log):
    cmd = ["make", "--no-print-directory", "-C", tree, target]  # build/ inside the copy
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        rc, out = p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ %s\n%s" % (" ".join(cmd), out))
    return rc, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutant still matches src/ (fast)")
    ap.add_argument("--list", action="store_true", help="list the mutants")
    ap.add_argument("--only", default="", help="comma-separated ids or id prefixes")
    ap.add_argument("--target", default="mutate-subset", help="make target that kills")
    ap.add_argument("--timeout", type=int, default=240, help="seconds per mutant")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "mutate"))
    args = ap.parse_args()

    files = sorted(glob.glob(MUTANT_GLOB))
    mutants, errors = parse(files)
    errors += check(mutants, ROOT)
    if args.list:
        for m in mutants:
            print("%-12s %-22s %s%s" % (m.id, m.path, m.why,
                                        "  [equivalent]" if m.equivalent else ""))
    if errors:
        print("mutate: %d problem(s) in the mutant set:" % len(errors))
        for e in errors:
            print("  " + e)
        return 1
    neq = sum(1 for m in mutants if m.equivalent)
    if args.check or args.list:
        print("mutate: %d mutants in %d files match src/ (%d marked equivalent)"
              % (len(mutants), len(files), neq))
        if neq > MAX_EQUIVALENT * len(mutants):
            print("mutate: more than 5%% marked equivalent")
            return 1
        return 0

    if args.only:
        keys = [k for k in args.only.split(",") if k]
        mutants = [m for m in mutants if any(m.id == k or m.id.startswith(k) for k in keys)]
    tree = os.path.join(args.build, "tree")
    tbuild = os.path.join(args.build, "tree-build")
    logs = os.path.join(args.build, "logs")
    os.makedirs(logs, exist_ok=True)
    print("mutate: copying the tree to %s" % tree)
    copy_tree(tree)
    # The unmutated tree must pass, or every mutant would look killed.
    print("mutate: baseline (unmutated) %s ..." % args.target, flush=True)
    rc, secs = run_subset(tree, tbuild, args.target, args.timeout * 3,
                          os.path.join(logs, "baseline.log"))
    if rc != 0:
        print("mutate: the unmutated tree fails %s (%s); see %s" % (
            args.target, rc, os.path.join(logs, "baseline.log")))
        return 1
    print("mutate: baseline passes in %.0f s" % secs)

    killed, survivors, bad_equiv, equiv_ok, stillborn = [], [], [], [], []
    t_all = time.time()
    for k, m in enumerate(mutants, 1):
        path = os.path.join(tree, m.path)
        with open(path, encoding="utf-8") as f:
            orig = f.read()
        off, _ = locate(m, orig)
        with open(path, "w", encoding="utf-8") as f:
            f.write(orig[:off] + m.new_text + orig[off + len(m.old_text):])
        try:
            amal = subprocess.run([sys.executable, "amalgamate.py"], cwd=tree,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            born = compiles(tree) if amal.returncode == 0 else "amalgamate.py failed"
            if born is not None:
                rc, secs = "stillborn", 0.0
                stillborn.append((m, born))
            else:
                rc, secs = run_subset(tree, tbuild, args.target, args.timeout,
                                      os.path.join(logs, m.id + ".log"))
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(orig)
        dead = rc != 0
        if rc == "stillborn":
            verdict = "STILLBORN (does not build warning-free: not a mutant)"
        elif m.equivalent:
            (bad_equiv if dead else equiv_ok).append(m)
            verdict = "KILLED (marked equivalent!)" if dead else "equivalent"
        else:
            (killed if dead else survivors).append(m)
            verdict = ("killed (%s)" % ("timeout" if rc == "timeout" else "fails")) if dead \
                else "SURVIVED"
        print("[%3d/%d] %-12s %-28s %5.0f s  %s" % (k, len(mutants), m.id, verdict, secs, m.why),
              flush=True)
    subprocess.run([sys.executable, "amalgamate.py"], cwd=tree, stdout=subprocess.DEVNULL)

    judged = len(killed) + len(survivors)
    for m, why in stillborn:
        print("  STILLBORN %s (%s): %s" % (m.id, m.where, why.strip().splitlines()[-1][:200]))
    print("\nmutate: %d of %d mutants killed (%.1f%%), %d equivalent, %.0f s" % (
        len(killed), judged, 100.0 * len(killed) / judged if judged else 100.0,
        len(equiv_ok), time.time() - t_all))
    for m in survivors:
        print("  SURVIVOR %s (%s): %s  log: %s" % (m.id, m.where, m.why,
                                                  os.path.join(logs, m.id + ".log")))
    for m in bad_equiv:
        print("  WRONG EQUIVALENCE %s (%s): a test kills it; drop the mark" % (m.id, m.where))
    # The 5% bound is on the whole set (checked above as well); a run of a
    # few (--only) is judged on its own mutants.
    if survivors or bad_equiv or stillborn or (
            not args.only and neq > MAX_EQUIVALENT * max(1, len(mutants))):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
