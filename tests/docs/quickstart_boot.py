#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""README.md's quickstart, for real: extract its C block verbatim and the
QEMU line it prints, build the block with the riscv64 board around
tests/docs/quickstart_main.c, write the disk image the line names, and
boot exactly that line.  Passes only on `RESULT quickstart PASS`.

Usage (from make, see mk/docs.mk):
  quickstart_boot.py --extract FILE   write the README's C block to FILE
  quickstart_boot.py --boot           write the disk image, boot the line"""
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_parts():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Quickstart\n(.*?)^## ", text, re.S | re.M)
    if not m:
        sys.exit("quickstart_boot: no '## Quickstart' section in README.md")
    sec = m.group(1)
    code = re.findall(r"^```c\n(.*?)^```$", sec, re.S | re.M)
    line = re.findall(r"^```sh\n(.*?)^```$", sec, re.S | re.M)
    if len(code) != 1 or len(line) != 1:
        sys.exit("quickstart_boot: want one ```c and one ```sh block in the quickstart")
    cmd = line[0].strip()
    if "\n" in cmd or not cmd.startswith("qemu-system-riscv64 "):
        sys.exit("quickstart_boot: the ```sh block must be one qemu-system-riscv64 line")
    return code[0], shlex.split(cmd)


def disk_image(path):
    sector = bytearray(512)
    sig = b"virtq quickstart sector 0"
    sector[:len(sig)] = sig
    for i in range(256, 512):
        sector[i] = i & 0xff
    with open(path, "wb") as f:
        f.write(bytes(sector) + bytes(512 * 63))


def main():
    os.chdir(ROOT)
    code, argv = readme_parts()
    if sys.argv[1:2] == ["--extract"]:
        os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
        with open(sys.argv[2], "w") as f:
            f.write(code)
        return
    if sys.argv[1:] != ["--boot"]:
        sys.exit(__doc__)
    for i, a in enumerate(argv):
        if a == "-kernel" and not os.path.exists(argv[i + 1]):
            sys.exit("quickstart_boot: the README line boots %s, which the build did not make"
                     % argv[i + 1])
        m = re.match(r"file=([^,]+)", a)
        if m:
            os.makedirs(os.path.dirname(m.group(1)) or ".", exist_ok=True)
            disk_image(m.group(1))
    print("quickstart_boot: " + " ".join(shlex.quote(a) for a in argv))
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120, text=True, errors="replace")
        out = r.stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        sys.stdout.write(out)
        sys.exit("quickstart_boot: QEMU did not finish in 120 s")
    sys.stdout.write(out)
    results = re.findall(r"^RESULT quickstart (PASS|FAIL)\b.*$", out, re.M)
    if results != ["PASS"]:
        sys.exit("quickstart_boot: want exactly one 'RESULT quickstart PASS', got %s" % results)
    print("quickstart_boot: the README quickstart booted and read sector 0")


if __name__ == "__main__":
    main()
