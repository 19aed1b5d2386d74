# SPDX-License-Identifier: MIT
"""Shared by the QEMU test scripts (tests/*/*qemu*.py): the transport and
ring a run asks QEMU for, and the RESULT tags it then requires.

    add_args(parser)            --tag KEY=VALUE (repeatable), --transport
                                mmio|pci, --ring split|packed
    device(args, "blk", props)  the -device value: virtio-blk-device or
                                virtio-blk-pci, plus packed=on for the
                                packed ring
    want_tags(args, modern)     [(key, value)]: every --tag, transport= and
                                ring= as asked, mmio=1|2 on virtio-mmio
    needs_modern(args)          the packed ring over virtio-mmio: QEMU offers
                                it only on a modern device (legacy MMIO has
                                no high feature word), so such runs force
                                -global virtio-mmio.force-legacy=false
    tag_args(args, modern)      the same as boot.py --tag arguments
    check_tags(line, want)      None, or why a RESULT line's tags differ

The guest prints what it detected and negotiated (board_tag_dev()), never
what was asked for, so a device that silently fell back (a split ring where
packed was offered, legacy where modern was asked) fails here.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot  # noqa: E402  (tests/qemu/boot.py: the RESULT tag parser)

TRANSPORTS = ("mmio", "pci")
RINGS = ("split", "packed")


def add_args(p):
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="the RESULT line must carry this tag (repeatable)")
    p.add_argument("--transport", choices=TRANSPORTS, default="mmio")
    p.add_argument("--ring", choices=RINGS, default="split")


def device(args, kind, props=""):
    bus = "pci" if args.transport == "pci" else "device"
    dev = "virtio-%s-%s" % (kind, bus)
    if bus == "pci" and kind == "net":
        dev += ",romfile="  # no option ROM: our firmware boots nothing from it
    if props:
        dev += "," + props
    if args.ring == "packed":
        dev += ",packed=on"
    return dev


def needs_modern(args):
    return args.ring == "packed" and args.transport == "mmio"


def want_tags(args, modern=None):
    if modern is not None and needs_modern(args):
        modern = True
    tags = []
    for t in args.tag:
        m = boot.TAG_RE.match(t)
        if not m:
            raise SystemExit("bad --tag %r: want KEY=VALUE" % t)
        tags.append((m.group(1), m.group(2)))
    tags += [("transport", args.transport), ("ring", args.ring)]
    if args.transport == "mmio" and modern is not None:
        tags.append(("mmio", "2" if modern else "1"))
    return tags


def tag_args(args, modern=None):
    out = []
    for k, v in want_tags(args, modern):
        out += ["--tag", "%s=%s" % (k, v)]
    return out


def check_tags(result_rest, want):
    got = boot.result_tags(result_rest)
    for k, v in want:
        if k not in got:
            return "RESULT has no %s= tag, want %s=%s" % (k, k, v)
        if got[k] != v:
            return "RESULT tag %s=%s, want %s=%s" % (k, got[k], k, v)
    return None
