#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fail when a public function or a configuration macro of virtq.h is not
named in the manual (the comment at the top of virtq.h).

Public functions: every VIRTQ_API or `static inline` virtq_* function
declared before the implementation section.  Configuration macros: every
VIRTQ_* name the header tests with #ifndef / defined() (a user may define
it), minus the include guards; plus the version macros.  A name counts as
documented when it appears as a whole word in the manual.

Usage: manual_complete.py [--header virtq.h] [--drop NAME]...
  --drop NAME  delete NAME from the manual text first (the self-test: the
               check must then fail)."""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUARDS = {"VIRTQ_H_INCLUDED", "VIRTQ_IMPLEMENTATION_INCLUDED"}


def public_names(text):
    impl = text.find("#if defined(VIRTQ_IMPLEMENTATION)")
    decl = text if impl < 0 else text[:impl]
    decl = re.sub(r"/\*.*?\*/", " ", decl, flags=re.S)  # declarations only
    funcs = set(re.findall(r"\bVIRTQ_API\b[^;{}()]*?\b(virtq_[a-z0-9_]+)\s*\(", decl))
    funcs |= set(re.findall(r"\bstatic\s+inline\b[^;{}()]*?\b(virtq_[a-z0-9_]+)\s*\(", decl))
    code = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    macros = set(re.findall(r"#\s*ifndef\s+(VIRTQ_[A-Z0-9][A-Z0-9_]*)", code))
    macros |= set(re.findall(r"\bdefined\s*\(?\s*(VIRTQ_[A-Z0-9][A-Z0-9_]*)", code))
    macros |= set(re.findall(r"#\s*define\s+(VIRTQ_VERSION[A-Z0-9_]*)", code))
    return sorted(funcs), sorted(macros - GUARDS)


def manual_text(text):
    text = re.sub(r"\A/\* SPDX-License-Identifier: [^*]+ \*/\n", "", text)
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    if not m:
        sys.exit("manual_complete: virtq.h does not open with the manual comment")
    return m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", default=os.path.join(ROOT, "virtq.h"))
    ap.add_argument("--drop", action="append", default=[])
    a = ap.parse_args()
    with open(a.header, encoding="utf-8") as f:
        text = f.read()
    manual = manual_text(text)
    for name in a.drop:
        manual = re.sub(r"\b%s\b" % re.escape(name), "", manual)
    funcs, macros = public_names(text)
    if len(funcs) < 20 or len(macros) < 20:
        sys.exit("manual_complete: found only %d functions / %d macros: parser broken?"
                 % (len(funcs), len(macros)))
    missing = [n for n in funcs + macros if not re.search(r"\b%s\b" % re.escape(n), manual)]
    for n in missing:
        kind = "function" if n in funcs else "configuration macro"
        print("manual_complete: %s %s is not in the manual (src/manual.h)" % (kind, n))
    if missing:
        sys.exit(1)
    print("manual_complete: %d public functions and %d configuration macros documented"
          % (len(funcs), len(macros)))


if __name__ == "__main__":
    main()
