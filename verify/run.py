#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the Promela models of virtq's protocol with spin.

Every configuration of each model must verify with zero errors, and every
mutation (one ordering or protocol mistake put into the model) must produce
a counterexample in at least one configuration it applies to: a model that
cannot tell the mistake from the right code proves nothing.  The quoted
"src:" anchors must still be in src/ (verify/anchors.py), so the model
cannot silently drift from the code it mirrors.

  verify/run.py BUILD_DIR
"""
import itertools
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# model -> (configuration switches, mutations)
MODELS = {
    "kick.pml": ([{"EVENT_IDX": e} for e in (0, 1)],
                 {"MUT_PUBLISH_NO_MB": None, "MUT_NOWRAP": {"EVENT_IDX": 1}}),
    "wait.pml": ([{"WFI": w, "EVENT_IDX": e} for w, e in itertools.product((0, 1), (0, 1))],
                 {"MUT_SEQ_AFTER_ARM": {"WFI": 0},
                  "MUT_NO_RECHECK": None,
                  "MUT_ARM_NO_MB": None,
                  "MUT_NO_LAST_LOOK": None,
                  "MUT_RESET_TIMEOUT": None,
                  "MUT_RMB_BEFORE_IDX": None,
                  "MUT_NO_MASK": {"WFI": 1},
                  "MUT_ALARM_UNCLAMPED": {"WFI": 1}}),
}


def run(build, model, defs):
    """Generate, compile and run one verifier; return (errors, states, text)."""
    tag = model.replace(".pml", "") + "".join(
        "_%s%s" % (k, "" if v is None else v) for k, v in sorted(defs.items()))
    d = os.path.join(build, tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(os.path.join(HERE, model), d)
    flags = ["-D%s" % k if v is None else "-D%s=%s" % (k, v) for k, v in sorted(defs.items())]
    subprocess.run(["spin", "-a"] + flags + [model], cwd=d, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cc", "-O0", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"], cwd=d,
                   check=True)
    out = subprocess.run(["./pan", "-m200000"], cwd=d, check=False,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    m = re.search(r"errors: (\d+)", out)
    st = re.search(r"(\d+) states, stored", out)
    if m is None:
        sys.exit("verify: no verdict from pan for %s:\n%s" % (tag, out))
    if "max search depth too small" in out:
        sys.exit("verify: %s: search depth too small, verdict incomplete" % tag)
    return int(m.group(1)), int(st.group(1)) if st else 0, out


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/verify")
    os.makedirs(build, exist_ok=True)
    failed = 0
    for model, (configs, mutants) in MODELS.items():
        for cfg in configs:
            t = time.time()
            errs, states, out = run(build, model, cfg)
            print("verify %-9s %-22s errors=%d states=%d (%.1f s)" % (
                model, " ".join("%s=%s" % kv for kv in sorted(cfg.items())), errs, states,
                time.time() - t))
            if errs:
                print(out)
                failed += 1
        for mut, only in mutants.items():
            hits = []
            for cfg in configs:
                if only and any(cfg.get(k) != v for k, v in only.items()):
                    continue
                errs, _, _ = run(build, model, dict(cfg, **{mut: None}))
                hits.append((cfg, errs))
            caught = [c for c, e in hits if e]
            print("mutant %-9s %-20s %s in %d/%d configurations" % (
                model, mut, "counterexample" if caught else "NOT CAUGHT", len(caught),
                len(hits)))
            if not caught:
                failed += 1
    rc = subprocess.run([sys.executable, os.path.join(HERE, "anchors.py")]).returncode
    if rc:
        failed += 1
    print("verify: %s" % ("all models hold, every mutant has a counterexample"
                          if not failed else "%d FAILED" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
