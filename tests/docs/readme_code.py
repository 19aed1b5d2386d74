#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile (and where possible run) the C examples in README.md and the
quickstart in virtq.h's manual, so the documentation cannot drift from the
API.  Usage: readme_code.py BUILD_DIR FAKE_LIB"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def blocks(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return re.findall(r"^```c\n(.*?)^```$", f.read(), re.S | re.M)


def manual_quickstart():
    """The indented quickstart in the manual comment, wrapped in a function."""
    with open(os.path.join(ROOT, "src", "manual.h"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"QUICKSTART[^\n]*\n\n(.*?)\n\n   ERRORS", text, re.S)
    if not m:
        sys.exit("readme_code: no QUICKSTART block in src/manual.h")
    body = "\n".join(line[7:] for line in m.group(1).splitlines())
    decls, code = [], []
    for line in body.splitlines():
        (decls if line.startswith(("static", "    __attribute")) else code).append(line)
    return ("#define VIRTQ_IMPLEMENTATION\n#include \"virtq.h\"\n" + "\n".join(decls) +
            "\nvoid quickstart(void);\nvoid quickstart(void)\n{\n" + "\n".join(code) + "\n}\n")


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        sys.exit("readme_code: failed: %s" % " ".join(cmd))


def main():
    build, fake_lib = sys.argv[1], sys.argv[2]
    os.makedirs(build, exist_ok=True)
    warn = ["-Wall", "-Wextra", "-Werror", "-Wno-unused-variable", "-Wno-unused-but-set-variable"]
    found = blocks("README.md")
    if len(found) < 2:
        sys.exit("readme_code: expected the quickstart and the fake-device example in README.md")
    checked = 0
    for i, code in enumerate(found):
        src = os.path.join(build, "readme_%d.c" % i)
        exe = os.path.join(build, "readme_%d" % i)
        if "virtq_fake" in code:
            fn = re.search(r"void (\w+)\(void\)", code).group(1)
            with open(src, "w") as f:
                f.write(code + "\nint main(void) { %s(); return 0; }\n" % fn)
            run(["gcc", "-std=c11", *warn, "-fsanitize=address,undefined", "-I" + ROOT,
                 "-I" + os.path.join(ROOT, "shims", "fake"), src, fake_lib, "-lpthread", "-o", exe])
            run([exe])
        else:
            with open(src, "w") as f:
                f.write(code)
            run(["gcc", "-std=c99", *warn, "-Wno-unused-function", "-I" + ROOT, "-c", src,
                 "-o", exe + ".o"])
        checked += 1
    src = os.path.join(build, "manual_quickstart.c")
    with open(src, "w") as f:
        f.write(manual_quickstart())
    run(["gcc", "-std=c99", *warn, "-Wno-unused-value", "-I" + ROOT, "-c", src, "-o", src + ".o"])
    checked += 1
    print("readme_code: %d examples compile%s" % (checked, ", the fake-device one runs"))


if __name__ == "__main__":
    main()
