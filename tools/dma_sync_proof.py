#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prove that every DMA sync call matters: for each call site of
VIRTQ_DMA_SYNC_FOR_DEVICE / VIRTQ_DMA_SYNC_FOR_CPU / virtq_dma_sync_for_device
/ virtq_dma_sync_for_cpu in src/*.h and examples/drivers/*.c (found by a
scan, so a new call site is covered without editing this file), build the
driver host tests with that one call disabled (split, then with the
packed ring: VIRTQ_FAKE_RING=packed) and require their
non-coherent-cache tests (cmocka filter 'cache_*', the fake's modelled
write-back cache, shims/fake/virtq_fake.h "Non-coherent DMA") to fail.
The unmodified tree must pass them first, or nothing is proven.

Only the cache_* tests run: the device-thread ones (threaded_in_cache_mode)
are left out, since a failure inside them can leave the device thread
running.  A disabled call still evaluates its arguments (so the build stays
warning-free) but syncs nothing.  A variant that does not build is an
error, not a kill.

Usage: dma_sync_proof.py --lib build/fake/libvirtq_fake.a [--build DIR]
                         [--list] [--only N]...
Exit 0 when every site is killed."""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALL_RE = re.compile(r"\b(VIRTQ_DMA_SYNC_FOR_DEVICE|VIRTQ_DMA_SYNC_FOR_CPU|"
                     r"virtq_dma_sync_for_device|virtq_dma_sync_for_cpu)\s*\(")
OFF = {"VIRTQ_DMA_SYNC_FOR_DEVICE": "VIRTQ__SYNC_OFF3", "virtq_dma_sync_for_device": "VIRTQ__SYNC_OFF3",
       "VIRTQ_DMA_SYNC_FOR_CPU": "VIRTQ__SYNC_OFF2", "virtq_dma_sync_for_cpu": "VIRTQ__SYNC_OFF2"}
OFF_DEFS = ("#define VIRTQ__SYNC_OFF2(p, l) ((void)(p), (void)(l))\n"
            "#define VIRTQ__SYNC_OFF3(p, l, w) ((void)(p), (void)(l), (void)(w))\n")
# driver file -> its host test; a src/ site is tried against every test.
TESTS = {
    "blk": ("tests/blk/test_blk.c", "examples/drivers/virtio_blk.c"),
    "gpu": ("tests/gpu/test_gpu.c", "examples/drivers/virtio_gpu.c"),
    "net": ("tests/net/test_net.c", "examples/drivers/virtio_net.c"),
}
RINGS = (False, True)  # split first; the packed pass only if split did not kill it
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O0", "-fsanitize=address,undefined",
          "-fno-sanitize-recover=all", "-pthread"]


def code_only(text):
    """The text with comments and string literals blanked, line numbers kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + " " * (j - i - 1) + '"')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def sites():
    """(file, line, column, name) of every call, not definitions or declarations."""
    found = []
    files = sorted(os.path.join("src", f) for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".h"))
    files += sorted(os.path.join("examples/drivers", f)
                    for f in os.listdir(os.path.join(ROOT, "examples/drivers")) if f.endswith(".c"))
    for rel in files:
        with open(os.path.join(ROOT, rel)) as fh:
            code = code_only(fh.read())
        for no, line in enumerate(code.split("\n"), 1):
            if re.match(r"\s*#", line) or re.match(r"\s*VIRTQ_API\b", line):
                continue  # the macros' defaults, the functions' own definitions
            for m in CALL_RE.finditer(line):
                found.append((rel, no, m.start(), m.group(1)))
    return found


def tests_for(rel):
    for key, (_, drv) in TESTS.items():
        if rel == drv:
            return [key]
    return list(TESTS)


def prepare(tree, site):
    """A copy of src/, amalgamate.py and the drivers under tree, with one call off."""
    if os.path.exists(tree):
        shutil.rmtree(tree)
    shutil.copytree(os.path.join(ROOT, "src"), os.path.join(tree, "src"))
    shutil.copytree(os.path.join(ROOT, "examples/drivers"), os.path.join(tree, "examples/drivers"))
    shutil.copy(os.path.join(ROOT, "amalgamate.py"), tree)
    if site is not None:
        rel, no, col, name = site
        path = os.path.join(tree, rel)
        with open(path) as fh:
            lines = fh.read().split("\n")
        line = lines[no - 1]
        assert line[col:col + len(name)] == name, (rel, no, line)
        lines[no - 1] = line[:col] + OFF[name] + line[col + len(name):]
        # The no-op macros go first in the file (after its SPDX line).
        lines.insert(1, OFF_DEFS.rstrip("\n").replace("\n", "\n"))
        with open(path, "w") as fh:
            fh.write("\n".join(lines))
    subprocess.run([sys.executable, os.path.join(tree, "amalgamate.py")], check=True,
                   stdout=subprocess.DEVNULL)


def build_and_run(tree, key, lib, packed):
    """'pass', 'fail' (a cache test failed) or 'error: ...' (did not build or
    crashed oddly).  packed: built with both rings and run with
    VIRTQ_FAKE_RING=packed (every modern fake device then plays the packed
    ring, mk/fake.mk's packed pass)."""
    test, drv = TESTS[key]
    exe = os.path.join(tree, "test_" + key + ("_packed" if packed else ""))
    env = dict(os.environ)
    env.pop("VIRTQ_FAKE_RING", None)
    if packed:
        env["VIRTQ_FAKE_RING"] = "packed"
    cmd = ["gcc"] + CFLAGS + (["-DVIRTQ_RINGS=(VIRTQ_RING_SPLIT|VIRTQ_RING_PACKED)"] if packed else []) + ["-I" + tree, "-I" + os.path.join(tree, "examples/drivers"), "-I" + ROOT, "-I" + os.path.join(ROOT, "shims/fake"),
                              os.path.join(ROOT, test), os.path.join(tree, drv), lib, "-lcmocka", "-o", exe]
    b = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if b.returncode != 0:
        return "error: build failed:\n" + b.stdout[-2000:]
    try:
        r = subprocess.run([exe, "cache_*"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return "error: the cache tests did not end within 300 s"
    if r.returncode == 0:
        if "cache_" not in r.stdout:
            return "error: no cache_* test ran"
        return "pass"
    if "[  FAILED  ]" in r.stdout:
        return "fail"
    return "error: exit %d without a cmocka failure:\n%s" % (r.returncode, r.stdout[-2000:])


def self_test(args, lib):
    """The proof can fail: a redundant sync call (the net receive
    invalidate, written twice) is added to a copy; disabling the copy alone
    must leave every cache test passing, i.e. the site would be reported
    as surviving."""
    tree = os.path.join(args.build, "selftest")
    prepare(tree, None)
    path = os.path.join(tree, "examples/drivers/virtio_net.c")
    with open(path) as fh:
        text = fh.read()
    call = "virtq_dma_sync_for_cpu(n->rx_buf[i], len);"
    if text.count(call) != 1:
        print("dma_sync_proof: self-test: the net receive invalidate moved; update self_test()")
        return 1
    dup = "virtq__sync_off_dup(n->rx_buf[i], len); /* self-test: the disabled copy */"
    text = text.replace(call, call + "\n            " + dup)
    text = text.replace("\n", "\n#define virtq__sync_off_dup(p, l) ((void)(p), (void)(l))\n", 1)
    with open(path, "w") as fh:
        fh.write(text)
    res = build_and_run(tree, "net", lib, False)
    if res != "pass":
        print("dma_sync_proof: self-test: a redundant call's removal was not survived: %s" % res)
        return 1
    shutil.rmtree(tree)
    print("dma_sync_proof: self-test ok (a redundant sync call's removal survives, so it would be reported)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="libvirtq_fake.a")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "dma_sync_proof"))
    ap.add_argument("--list", action="store_true", help="list the call sites and stop")
    ap.add_argument("--only", type=int, action="append", help="site number(s) to try")
    ap.add_argument("--no-self-test", action="store_true", help="skip the self-test")
    args = ap.parse_args()
    found = sites()
    if args.list:
        for i, (rel, no, _, name) in enumerate(found):
            print("%2d %s:%d %s" % (i, rel, no, name))
        return 0
    if not found:
        print("dma_sync_proof: no sync call site found (the scan is broken)")
        return 1
    lib = os.path.abspath(args.lib)
    base = os.path.join(args.build, "base")
    prepare(base, None)
    for key in TESTS:
        for packed in RINGS:
            res = build_and_run(base, key, lib, packed)
            if res != "pass":
                print("dma_sync_proof: the unmodified %s cache tests (%s) do not pass: %s"
                      % (key, "packed" if packed else "split", res))
                return 1
    bad = 0
    for i, site in enumerate(found):
        if args.only and i not in args.only:
            continue
        rel, no, _, name = site
        tree = os.path.join(args.build, "site%d" % i)
        prepare(tree, site)
        verdict, by = "SURVIVED", []
        for packed in RINGS:
            for key in tests_for(rel):
                res = build_and_run(tree, key, lib, packed)
                if res.startswith("error"):
                    verdict = "ERROR"
                    by.append("%s %s" % (key, res))
                    break
                if res == "fail":
                    verdict = "killed"
                    by.append(key + (" (packed)" if packed else ""))
                    break  # one failing test proves the call matters
            if verdict != "SURVIVED":
                break
        print("%-8s %s:%d %s%s" % (verdict, rel, no, name, (" by test_" + by[0]) if by else ""))
        if verdict != "killed":
            bad += 1
        else:
            shutil.rmtree(tree)
    print("dma_sync_proof: %d of %d sync call sites killed" % (len(found) - bad, len(found)))
    if bad:
        return 1
    return 0 if args.no_self_test or args.only else self_test(args, lib)


if __name__ == "__main__":
    sys.exit(main())
