#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source file carries an `SPDX-License-Identifier: MIT` line near
its top (the first 5 lines).

  tools/spdx.py --check [FILE...]   list files without it; exit 1 if any
  tools/spdx.py --fix               add it where missing (comment style by
                                    file type, after a shebang line)

Without FILE arguments: every file git tracks (plus untracked, not ignored
ones) whose name says it is source: C, headers, assembly, linker scripts,
Python, shell, make fragments, CMake, SPIN/Promela models."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "SPDX-License-Identifier: MIT"
C_STYLE = (".c", ".h", ".S", ".s", ".ld", ".pml", ".cc", ".cpp")
HASH_STYLE = (".py", ".sh", ".mk", ".cmake")
HASH_NAMES = ("Makefile", "CMakeLists.txt")


def style(path):
    base = os.path.basename(path)
    if base.endswith(C_STYLE):
        return "c"
    if base.endswith(HASH_STYLE) or base in HASH_NAMES:
        return "hash"
    return None


def source_files():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return sorted(p for p in out.splitlines()
                  if style(p) and os.path.isfile(os.path.join(ROOT, p)))


def has_tag(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        head = [next(f, "") for _ in range(5)]
    return any(TAG in line for line in head)


def fix(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    line = ("/* %s */\n" if style(path) == "c" else "# %s\n") % TAG
    if text.startswith("#!"):
        nl = text.index("\n") + 1
        text = text[:nl] + line + text[nl:]
    else:
        text = line + text
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("--check", "--fix"):
        sys.exit(__doc__)
    os.chdir(ROOT)
    files = args[1:] or source_files()
    missing = [p for p in files if not has_tag(p)]
    if args[0] == "--fix":
        missing = [p for p in missing if p != "virtq.h"]  # amalgamate.py writes its line
        for p in missing:
            fix(p)
        print("spdx: added the line to %d of %d source files" % (len(missing), len(files)))
        return
    for p in missing:
        print("spdx: %s has no '%s' line in its first 5 lines" % (p, TAG))
    if missing:
        sys.exit(1)
    print("spdx: all %d source files carry '%s'" % (len(files), TAG))


if __name__ == "__main__":
    main()
