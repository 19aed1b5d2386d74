#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stitch src/ into the single header virtq.h.

The manifest below is the one place that says which parts exist and in
which order.  A .h file in src/ that the manifest does not name is an error,
so a new part cannot be forgotten.  Local includes (#include "x.h" naming a
file in src/) are inlined once, at their first use.  Output is
deterministic: same inputs, same bytes.

  python3 amalgamate.py           write virtq.h
  python3 amalgamate.py --check   exit 1 if the committed virtq.h is stale
  --src DIR --out FILE            read the parts from DIR and write (or check)
                                  FILE instead of src/ and virtq.h (the gates
                                  in tests/gates use this on scratch copies)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "src")
OUT = os.path.join(ROOT, "virtq.h")

# (part, section) in output order.  Sections: "decl" parts go inside the
# include guard; "impl" parts inside the VIRTQ_IMPLEMENTATION guard.
MANIFEST = [
    ("manual.h", "top"),
    ("config.h", "decl"),
    ("wire.h", "decl"),
    ("api.h", "decl"),
    ("api_end.h", "decl"),
    ("impl_begin.h", "impl"),
    ("ring_flags.h", "impl"),
    ("shim_arch.h", "impl"),
    ("shim_access.h", "impl"),
    ("shim_dma.h", "impl"),
    ("shim_log.h", "impl"),
    ("shim_wait.h", "impl"),
    ("errors.h", "impl"),
    ("ring_broken.h", "impl"),
    ("ring_select.h", "impl"),
    ("ring_packed.h", "impl"),
    ("ring_split.h", "impl"),
    ("device_flags.h", "impl"),
    ("transport_select.h", "impl"),
    ("transport_mmio.h", "impl"),
    ("mmio_scan.h", "impl"),
    ("transport_pci.h", "impl"),
    ("transport.h", "impl"),
    ("device.h", "impl"),
    ("wait.h", "impl"),
    ("impl_end.h", "impl"),
    ("license.h", "bottom"),
]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$')


SPDX_LINE = "/* SPDX-License-Identifier: MIT */\n"
SPDX_RE = re.compile(r"^/\* SPDX-License-Identifier: [^*]+ \*/\n?$")


def fail(msg):
    sys.stderr.write("amalgamate.py: %s\n" % msg)
    sys.exit(2)


def read_part(name, seen):
    path = os.path.join(SRC, name)
    if not os.path.isfile(path):
        fail("manifest names %s, which is not in src/" % name)
    out = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            if SPDX_RE.match(line):
                continue  # each part carries one; virtq.h gets one, at its top
            m = INCLUDE_RE.match(line)
            if m and os.path.isfile(os.path.join(SRC, m.group(1))):
                inc = m.group(1)
                if inc not in seen:
                    seen.add(inc)
                    out.append(read_part(inc, seen))
                continue
            out.append(line)
    text = "".join(out)
    if not text.endswith("\n"):
        text += "\n"
    return text


def build():
    listed = [p for p, _ in MANIFEST]
    if len(set(listed)) != len(listed):
        fail("a part is listed twice in the manifest")
    present = sorted(f for f in os.listdir(SRC) if f.endswith(".h"))
    unlisted = [f for f in present if f not in listed]
    if unlisted:
        fail("src/ parts not in the manifest: %s" % ", ".join(unlisted))
    seen = set()
    chunks = []
    for part, section in MANIFEST:
        if part in seen:
            continue  # already inlined by an include
        seen.add(part)
        body = read_part(part, seen)
        if section == "top":
            chunks.append(body)
            continue
        chunks.append("/* ==== begin %s ==== */\n%s/* ==== end %s ==== */\n\n"
                      % (part, body, part))
    return SPDX_LINE + "".join(chunks)


def parse_args(args):
    """--check, --src DIR, --out FILE (also --src=DIR, --out=FILE)."""
    global SRC, OUT
    check = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--check":
            check = True
        elif a in ("--src", "--out") and i + 1 < len(args):
            i += 1
            if a == "--src":
                SRC = os.path.abspath(args[i])
            else:
                OUT = os.path.abspath(args[i])
        elif a.startswith("--src=") and len(a) > 6:
            SRC = os.path.abspath(a[6:])
        elif a.startswith("--out=") and len(a) > 6:
            OUT = os.path.abspath(a[6:])
        else:
            fail("usage: amalgamate.py [--check] [--src DIR] [--out FILE]")
        i += 1
    if not os.path.isdir(SRC):
        fail("no parts directory %s" % SRC)
    return check


def main(argv):
    check = parse_args(argv[1:])
    text = build()
    if check:
        try:
            with open(OUT, "r", encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.stderr.write("amalgamate.py: %s is stale; run `python3 amalgamate.py`\n"
                             % os.path.basename(OUT))
            return 1
        print("amalgamate.py: %s is up to date" % os.path.basename(OUT))
        return 0
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
