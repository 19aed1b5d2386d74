#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every `src: FILE | STATEMENT` comment in verify/*.pml quotes a statement
of src/FILE; fail when one is no longer there (the model would be checking
code that changed)."""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
ANCHOR = re.compile(r"src: (\S+) \| (.*?) \*/")

bad = n = 0
for pml in sorted(glob.glob(os.path.join(HERE, "*.pml"))):
    for lineno, line in enumerate(open(pml, encoding="utf-8"), 1):
        for f, stmt in ANCHOR.findall(line):
            n += 1
            path = os.path.join(SRC, f)
            text = open(path, encoding="utf-8").read() if os.path.isfile(path) else ""
            if stmt.strip() not in text:
                print("%s:%d: anchor not found in src/%s: %s" % (
                    os.path.basename(pml), lineno, f, stmt.strip()))
                bad += 1
print("anchors: %d quoted statements, %d missing" % (n, bad))
sys.exit(1 if bad else 0)
