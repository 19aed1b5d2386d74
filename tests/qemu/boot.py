#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a QEMU guest, capture its serial output, and judge the run.

    boot.py [options] -- qemu-system-riscv64 -machine virt ... -kernel prog.elf

A run passes when all of these hold:
  * QEMU exits by itself within --timeout seconds (on timeout it is killed
    and the run fails, printing the last lines of output);
  * QEMU's exit status is 0 (the guest wrote "pass" to the test device);
  * the last line of the form `RESULT <name> PASS|FAIL ...` says PASS (and,
    with --name, names that program);
  * every --tag KEY=VALUE is on that RESULT line exactly (the guest prints
    the tags it detected at run time: arch=, transport=, ring=, mode=...);
  * every --expect REGEX matches some line, and no --reject REGEX does.

RESULT line format: `RESULT <name> PASS|FAIL key=value... [: reason]`.

--repeat N boots N times (a boot loop) and stops at the first failure; the
log file then holds the failing run.  On failure the script prints one line
`boot: FAIL <name> ...: <reason>` to stderr and exits 1.  Usage errors exit 2.
Python 3 standard library only.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

RESULT_RE = re.compile(r"^RESULT (\S+) (PASS|FAIL)\b(.*)$")
TAG_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$")
TAIL_LINES = 20


class RunFailure(Exception):
    pass


def parse_args(argv):
    if "--" in argv:
        split = argv.index("--")
        ours, command = argv[:split], argv[split + 1:]
    else:
        ours, command = argv, []
    p = argparse.ArgumentParser(
        prog="boot.py", usage="%(prog)s [options] -- QEMU COMMAND...",
        description="Boot QEMU with a hard timeout and check its output.")
    p.add_argument("--name", help="program name the RESULT line must carry")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds per boot before QEMU is killed (default 30)")
    p.add_argument("--log", help="write the serial output of the (last or "
                   "failing) run here")
    p.add_argument("--tee", action="store_true",
                   help="copy the output to stdout as it arrives")
    p.add_argument("--expect", action="append", default=[], metavar="REGEX",
                   help="a line must match REGEX (re.search, multiline); "
                   "repeatable")
    p.add_argument("--reject", action="append", default=[], metavar="REGEX",
                   help="no line may match REGEX; repeatable")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="the RESULT line must carry this tag with this value; "
                   "repeatable")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="boot N times, stop at the first failure")
    args = p.parse_args(ours)
    if not command:
        p.error("give the QEMU command after '--'")
    if args.timeout <= 0 or args.repeat < 1:
        p.error("--timeout must be > 0 and --repeat >= 1")
    args.tags = []
    for t in args.tag:
        m = TAG_RE.match(t)
        if not m:
            p.error("bad --tag %r: want KEY=VALUE" % t)
        args.tags.append((m.group(1), m.group(2)))
    try:
        args.expect_re = [re.compile(r, re.M) for r in args.expect]
        args.reject_re = [re.compile(r, re.M) for r in args.reject]
    except re.error as e:
        p.error("bad regex: %s" % e)
    return args, command


def kill_group(proc):
    """Kill QEMU and anything it started; it runs in its own session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def boot_once(command, timeout, tee):
    """Run one boot; return (exit status or None on timeout, output, secs)."""
    chunks = []
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as e:
        raise RunFailure("cannot start %s: %s" % (command[0], e.strerror))

    def reader():
        while True:
            data = proc.stdout.read1(4096)
            if not data:
                break
            chunks.append(data)
            if tee:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    status = None
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
    except BaseException:
        kill_group(proc)
        raise
    # QEMU is gone, so the pipe reaches EOF; the bound only guards a
    # grandchild that kept it open.
    t.join(timeout=5)
    proc.stdout.close()
    text = b"".join(chunks).decode("utf-8", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return status, text, time.monotonic() - start


def tail(text):
    lines = text.rstrip("\n").split("\n")
    return "\n".join("  | " + l for l in lines[-TAIL_LINES:])


def result_tags(rest):
    """key=value tokens after PASS|FAIL, up to a ':' that starts a reason."""
    tags = {}
    for tok in rest.split():
        if tok.startswith(":"):
            break
        m = TAG_RE.match(tok.rstrip(":"))
        if not m:
            break
        tags[m.group(1)] = m.group(2)
        if tok.endswith(":"):
            break
    return tags


def judge(args, status, text):
    """Return None when the run passed, else a one-line reason."""
    if status is None:
        return "timeout after %gs (QEMU killed)" % args.timeout
    results = [RESULT_RE.match(l) for l in text.split("\n")]
    results = [m for m in results if m]
    if not results:
        return "no RESULT line (QEMU exit status %d)" % status
    last = results[-1]
    if args.name and last.group(1) != args.name:
        return "last RESULT names %r, want %r" % (last.group(1), args.name)
    if last.group(2) != "PASS":
        return "RESULT %s FAIL%s" % (last.group(1), last.group(3))
    if status != 0:
        return "RESULT PASS but QEMU exit status %d" % status
    got = result_tags(last.group(3))
    for key, want in args.tags:
        if key not in got:
            return "RESULT has no %s= tag, want %s=%s" % (key, key, want)
        if got[key] != want:
            return "RESULT tag %s=%s, want %s=%s" % (key, got[key], key, want)
    for r in args.expect_re:
        if not r.search(text):
            return "expected output not found: %s" % r.pattern
    for r in args.reject_re:
        m = r.search(text)
        if m:
            return "rejected output found: %s" % m.group(0).strip()
    return None


def main(argv):
    args, command = parse_args(argv)
    name = args.name or os.path.basename(command[0])
    if args.log:
        os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    times = []
    for i in range(1, args.repeat + 1):
        run = "" if args.repeat == 1 else " run %d/%d" % (i, args.repeat)
        try:
            status, text, secs = boot_once(command, args.timeout, args.tee)
        except RunFailure as e:
            print("boot: FAIL %s%s: %s" % (name, run, e), file=sys.stderr)
            return 1
        if args.log:
            with open(args.log, "w") as f:
                f.write(text)
        reason = judge(args, status, text)
        if reason:
            if not args.tee:
                sys.stderr.write("boot: last output of %s%s:\n%s\n"
                                 % (name, run, tail(text)))
            print("boot: FAIL %s%s: %s" % (name, run, reason), file=sys.stderr)
            return 1
        times.append(secs)
    print("boot: PASS %s x%d (%.2fs min, %.2fs max)"
          % (name, args.repeat, min(times), max(times)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("boot: interrupted", file=sys.stderr)
        sys.exit(1)
