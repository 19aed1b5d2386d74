#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot net_demo / net_peer under QEMU with a host-side partner, and judge.

    net_qemu.py user --elf build/riscv/net_demo.elf [options]
    net_qemu.py peer --elf build/riscv/net_peer.elf [options]

Each boot goes through tests/qemu/boot.py (timeout, RESULT line, QEMU exit
status, --expect patterns); this script adds the host side and its own
verdict.  A boot passes only when both pass.

user  QEMU's user network (`-netdev user,restrict=on`: nothing leaves the
      machine) with `hostfwd=udp:127.0.0.1:PORT-10.0.2.15:7`.  The guest
      takes a DHCP lease and pings the gateway by itself; this script
      sends UDP datagrams to 127.0.0.1:PORT until UDP_ECHOES of them came
      back unchanged from the guest's echo service.

peer  `-netdev dgram` between 127.0.0.1:P1 (QEMU) and 127.0.0.1:P2 (this
      script): raw Ethernet frames, one per UDP datagram.  The peer
      (192.0.2.1, 02:00:00:00:00:01) answers ARP, checks every UDP frame
      from the guest (lengths, IPv4 and UDP checksums) and echoes it to
      the guest with MACs, addresses and ports swapped and nothing else
      changed; the guest checks each echo byte for byte.  When the guest
      says "done N" (UDP to port 9) the peer checks N against the frames
      it echoed, then sends ICMP echo requests of several sizes to the
      guest and checks every reply (addresses, id, seq, payload,
      checksums).

Configurations (--configs, cycled over --repeat boots):
  legacy-mrg, legacy-nomrg, modern-mrg, modern-nomrg
(legacy = virtio-mmio version 1, QEMU's default; modern = version 2 via
-global virtio-mmio.force-legacy=false; mrg = mrg_rxbuf=on|off.  With
--transport pci: legacy = a transitional virtio-net-pci, modern = a
modern-only one, disable-legacy=on.)

Ports are picked free on 127.0.0.1 for every boot.  Python 3 stdlib only.
"""
import argparse
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_PY = os.path.join(HERE, "..", "qemu", "boot.py")
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
import qemu_matrix  # noqa: E402
QEMU = ["qemu-system-riscv64", "-machine", "virt", "-bios", "none",
        "-nographic", "-m", "128M", "-no-reboot"]
CONFIGS = ("legacy-mrg", "legacy-nomrg", "modern-mrg", "modern-nomrg")
UDP_ECHOES = 3          # the guest waits for this many (UDP_ECHO_WANTED)

PEER_MAC = bytes.fromhex("020000000001")
PEER_IP = bytes([192, 0, 2, 1])
GUEST_IP = bytes([192, 0, 2, 15])
ECHO_PORT, DONE_PORT = 7, 9
PEER_PINGS = (64, 100, 1000, 1472)   # ICMP payload bytes; 1472 = 1514 frame
PING_ID = 0x5052


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def csum(data):
    """RFC 1071 ones' complement sum, folded and inverted."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_header(total_len, ident, proto, src, dst):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total_len, ident, 0x4000, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


class Peer(threading.Thread):
    """The far end of -netdev dgram: ARP, UDP echo, then pings the guest."""

    def __init__(self, sock, qemu_port, corrupt=-1):
        super().__init__(daemon=True)
        self.sock = sock
        self.qemu = ("127.0.0.1", qemu_port)
        self.corrupt = corrupt   # flip one byte in this echo (a negative test)
        self.stop = threading.Event()
        self.guest_mac = None
        self.echoed = 0
        self.sizes = set()
        self.done_count = None
        self.errors = []
        self.strays = 0
        self.pings_ok = 0
        self.ping_seq = 0
        self.ping_sent = 0.0
        self.ping_tries = 0
        self.late_replies = 0

    def error(self, msg):
        if len(self.errors) < 10:
            self.errors.append(msg)

    def send(self, frame):
        self.sock.sendto(frame, self.qemu)

    def run(self):
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                frame, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                frame = None
            except OSError:
                break
            if frame is not None:
                if addr != self.qemu:
                    self.strays += 1
                else:
                    self.handle(frame)
            self.ping_timer()

    def handle(self, f):
        if len(f) < 14 or len(f) > 1514:
            self.error("frame of %d bytes" % len(f))
            return
        dst, src, etype = f[0:6], f[6:12], struct.unpack("!H", f[12:14])[0]
        if etype == 0x0806:
            self.arp(f, src)
        elif etype == 0x0800 and dst == PEER_MAC:
            self.ipv4(f)

    def arp(self, f, src):
        a = f[14:42]
        if len(a) < 28:
            return self.error("short ARP")
        op = struct.unpack("!H", a[6:8])[0]
        if op == 1 and a[24:28] == PEER_IP:
            self.guest_mac = a[8:14]
            reply = (a[8:14] + PEER_MAC + b"\x08\x06" +
                     struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) +
                     PEER_MAC + PEER_IP + a[8:14] + a[14:18])
            self.send(reply + bytes(max(0, 60 - len(reply))))

    def ipv4(self, f):
        ip = f[14:34]
        if ip[0] != 0x45 or csum(ip) != 0:
            return self.error("bad IPv4 header")
        total = struct.unpack("!H", ip[2:4])[0]
        if 14 + total > len(f) or ip[16:20] != PEER_IP or ip[12:16] != GUEST_IP:
            return self.error("bad IPv4 length or addresses")
        body = f[34:14 + total]
        if ip[9] == 17:
            self.udp(f, ip, body)
        elif ip[9] == 1:
            self.icmp_reply(f, body)
        else:
            self.error("IP protocol %d" % ip[9])

    def udp(self, f, ip, u):
        sport, dport, ulen, c = struct.unpack("!HHHH", u[:8])
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, ulen)
        if ulen != len(u) or (c != 0 and csum(pseudo + u) != 0):
            return self.error("bad UDP length or checksum (%d bytes)" % len(f))
        if dport == ECHO_PORT:
            if len(f) < 60:
                return self.error("echo frame of %d bytes" % len(f))
            # Swap MACs, IP addresses, ports; keep every other byte.
            e = bytearray(f)
            e[0:6], e[6:12] = f[6:12], f[0:6]
            e[26:30], e[30:34] = f[30:34], f[26:30]
            e[34:36], e[36:38] = f[36:38], f[34:36]
            if self.echoed == self.corrupt:
                e[len(e) - 1] ^= 0x01   # the last payload byte
            self.send(bytes(e))
            self.echoed += 1
            self.sizes.add(len(f))
        elif dport == DONE_PORT:
            text = u[8:].decode("ascii", "replace")
            if not text.startswith("done "):
                return self.error("unexpected message %r" % text)
            self.done_count = int(text[5:])
            if self.done_count != self.echoed:
                self.error("guest says done %d, peer echoed %d"
                           % (self.done_count, self.echoed))
            self.ping_next()
        else:
            self.error("UDP to port %d" % dport)

    def ping_payload(self, seq):
        return bytes((seq * 7 + i) & 0xFF for i in range(PEER_PINGS[seq - 1]))

    def ping_next(self):
        if self.ping_seq >= len(PEER_PINGS) or self.guest_mac is None:
            return
        self.ping_seq += 1
        self.ping_tries = 0
        self.ping_send()

    def ping_send(self):
        seq = self.ping_seq
        payload = self.ping_payload(seq)
        icmp = struct.pack("!BBHHH", 8, 0, 0, PING_ID, seq) + payload
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        ip = ip_header(20 + len(icmp), 0x1000 + seq, 1, PEER_IP, GUEST_IP)
        self.send(self.guest_mac + PEER_MAC + b"\x08\x00" + ip + icmp)
        self.ping_sent = time.monotonic()
        self.ping_tries += 1

    def ping_timer(self):
        if (self.ping_seq and self.pings_ok < self.ping_seq and
                time.monotonic() - self.ping_sent > 0.5):
            if self.ping_tries >= 4:
                self.error("ping %d: no reply" % self.ping_seq)
                self.ping_seq = len(PEER_PINGS)   # give up
            else:
                self.ping_send()

    def icmp_reply(self, f, c):
        if csum(c) != 0 or c[0] != 0 or c[1] != 0:
            return self.error("bad ICMP from the guest")
        ident, seq = struct.unpack("!HH", c[4:8])
        if ident == PING_ID and 0 < seq <= self.pings_ok:
            self.late_replies += 1  # the reply to a ping we resent: fine
            return None
        if ident != PING_ID or seq != self.ping_seq:
            return self.error("unexpected echo reply id %#x seq %d" % (ident, seq))
        if f[0:6] != PEER_MAC or f[6:12] != self.guest_mac:
            return self.error("echo reply with wrong MACs")
        if c[8:] != self.ping_payload(seq):
            return self.error("echo reply %d: payload changed" % seq)
        self.pings_ok = seq
        self.ping_next()

    def verdict(self):
        if self.errors:
            return "; ".join(self.errors)
        if self.done_count is None:
            return "the guest never said done (%d frames echoed)" % self.echoed
        if self.pings_ok != len(PEER_PINGS):
            return "%d/%d pings answered" % (self.pings_ok, len(PEER_PINGS))
        return None

    def summary(self):
        return ("echoed %d frames, %d sizes %d..%d bytes; %d/%d pings answered"
                % (self.echoed, len(self.sizes), min(self.sizes or [0]),
                   max(self.sizes or [0]), self.pings_ok, len(PEER_PINGS)))


class Prober(threading.Thread):
    """Sends UDP datagrams to the hostfwd port; counts exact echoes."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.dst = ("127.0.0.1", port)
        self.stop = threading.Event()
        self.sent = 0
        self.matched = 0
        self.bad = 0

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.1)
        outstanding = set()
        while not self.stop.is_set() and self.matched < UDP_ECHOES:
            msg = b"virtq net_demo probe %d " % self.sent + bytes(range(64))
            self.sent += 1
            outstanding.add(msg)
            try:
                s.sendto(msg, self.dst)
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                time.sleep(0.1)
                continue
            if data in outstanding:
                outstanding.discard(data)
                self.matched += 1
            else:
                self.bad += 1
        s.close()


def qemu_args(args, config, netdev):
    """The NIC under test sits in slot 0 (the guest drives the lowest)."""
    legacy, mrg = config.split("-")
    q = shlex.split(args.qemu) if args.qemu else list(QEMU)
    mmio = args.transport == "mmio"
    if legacy == "modern" and mmio:
        q += ["-global", "virtio-mmio.force-legacy=false"]
    # PCI: modern = a modern-only function (disable-legacy=on), legacy = a
    # transitional one (QEMU's default); the guest drives the modern
    # interface of either.  The first -device gets 00:01.0, the lowest.
    q += ["-netdev", netdev, "-device", qemu_matrix.device(
        args, "net", "netdev=n0,%smrg_rxbuf=%s%s"
        % ("bus=virtio-mmio-bus.0," if mmio else "", "on" if mrg == "mrg" else "off",
           ",disable-legacy=on" if legacy == "modern" and not mmio else ""))]
    if args.second_nic:
        q += ["-netdev", "user,id=n1,restrict=on", "-device", qemu_matrix.device(
            args, "net", "netdev=n1" + (",bus=virtio-mmio-bus.1" if mmio else ""))]
    return q


def config_expect(name, config, args):
    """What the guest must report for this configuration."""
    legacy, mrg = config.split("-")
    if args.transport == "pci":  # VERSION_1 always: the 12-byte header
        where, legacy, hdr = r"pci 00:01\.0", "modern", 12
    else:
        where, hdr = r"slot 0", 10 if config == "legacy-nomrg" else 12
    e = [r"^virtio-net: %s .* %s, .* header %d bytes, mrg_rxbuf %s"
         % (where, legacy, hdr, "on" if mrg == "mrg" else "off"),
         r"^FIGURE %s irqs=[1-9][0-9]* count$" % name,
         # Interrupts before DRIVER_OK would mean IRQs wired mid-init.  A few
         # with InterruptStatus 0 are legal: an interrupt controller (QEMU's
         # PLIC) may latch a line that
         # is raised again while the handler runs (reported, not failed).
         r"^FIGURE %s early_irqs=0 count$" % name,
         r"^FIGURE %s rx_dropped=0 count$" % name,
         r"^FIGURE %s rx_merged=%s count$"
         % (name, "[1-9][0-9]*" if mrg == "mrg" else "0")]
    if args.second_nic:
        e.append(r"^irq: 2 device\(s\) wired after init")
    return e


def boot(args, name, config, qemu, extra_expect, quiet=False):
    """Run one boot under boot.py; returns (status, serial log path)."""
    log = os.path.join(args.log_dir, "%s-%s%s.log" % (
        name, config, "-corrupt" if args.corrupt_echo >= 0 else ""))
    cmd = [sys.executable, BOOT_PY, "--name", name, "--timeout",
           str(args.timeout), "--log", log]
    if args.tee:
        cmd.append("--tee")
    for e in args.expect + extra_expect + config_expect(name, config, args):
        cmd += ["--expect", e]
    cmd += qemu_matrix.tag_args(args, config.startswith("modern"))
    cmd += ["--"] + qemu + ["-kernel", args.elf]
    out = subprocess.DEVNULL if quiet else None
    return subprocess.call(cmd, stdout=out, stderr=out), log


def run_user(args, config):
    port = free_udp_port()
    qemu = qemu_args(args, config, "user,id=n0,"
                     "hostfwd=udp:127.0.0.1:%d-10.0.2.15:%d" % (port, ECHO_PORT))
    prober = Prober(port)
    prober.start()
    try:
        rc, _ = boot(args, "net_demo", config, qemu,
                     [r"^FIGURE net_demo udp_echo_answered=([3-9]|[1-9][0-9]+) count$"])
        # The last echo may still be on its way to us when QEMU exits.
        settle = time.monotonic() + 2.0
        while rc == 0 and prober.matched < UDP_ECHOES and time.monotonic() < settle:
            time.sleep(0.02)
    finally:
        prober.stop.set()
        prober.join(5)
    host = None
    if prober.matched < UDP_ECHOES:
        host = "%d/%d UDP echoes came back" % (prober.matched, UDP_ECHOES)
    elif prober.bad:
        host = "%d echo replies did not match a probe" % prober.bad
    note = "host: %d probes sent, %d echoed unchanged" % (prober.sent, prober.matched)
    return rc, host, note


def run_peer(args, config):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    peer_port = sock.getsockname()[1]
    qemu_port = free_udp_port()
    netdev = ("dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=%d,"
              "remote.type=inet,remote.host=127.0.0.1,remote.port=%d"
              % (qemu_port, peer_port))
    peer = Peer(sock, qemu_port, args.corrupt_echo)
    peer.start()
    negative = args.corrupt_echo >= 0
    try:
        rc, log = boot(args, "net_peer", config, qemu_args(args, config, netdev),
                       [], quiet=negative)
        # The guest's last reply may still sit in our socket when QEMU exits:
        # keep reading a little (bounded) before judging.
        settle = time.monotonic() + 2.0
        while (rc == 0 and not negative and peer.pings_ok < len(PEER_PINGS)
               and not peer.errors and time.monotonic() < settle):
            time.sleep(0.02)
    finally:
        peer.stop.set()
        peer.join(5)
        sock.close()
    if negative:
        # The guest must stop at exactly the corrupted echo.
        with open(log) as f:
            text = f.read()
        # RESULT net_peer FAIL <tags>: echo N (...)
        want = re.compile(r"^RESULT net_peer FAIL(?: \S+=\S+)*: echo %d \("
                          % args.corrupt_echo, re.M)
        m = want.search(text)
        if rc != 0 and m:
            line = text[m.start():].split("\n")[0]
            return 0, None, "negative test: guest caught it: " + line
        return 1, "the guest did not catch the corrupted echo %d" % args.corrupt_echo, \
            "negative test"
    return rc, peer.verdict(), "peer: " + peer.summary()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=("user", "peer"))
    p.add_argument("--elf", required=True)
    p.add_argument("--qemu", help="base QEMU command line (one string; "
                   "default: riscv64 virt, M-mode)")
    qemu_matrix.add_args(p)
    p.add_argument("--configs", default=",".join(CONFIGS),
                   help="comma-separated, cycled over the boots")
    p.add_argument("--repeat", type=int, default=0,
                   help="boots in all (default: one per config)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--log-dir", default="build/net")
    p.add_argument("--tee", action="store_true")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--second-nic", action="store_true",
                   help="add an idle second virtio-net (slot 1) the guest "
                   "must also initialise before wiring interrupts")
    p.add_argument("--corrupt-echo", type=int, default=-1, metavar="N",
                   help="peer: flip a byte in echo N; the run passes only "
                   "if the guest catches it (negative test)")
    args = p.parse_args(argv)
    configs = args.configs.split(",")
    for c in configs:
        if c not in CONFIGS:
            p.error("unknown config %r (have %s)" % (c, ", ".join(CONFIGS)))
    os.makedirs(args.log_dir, exist_ok=True)
    runs = args.repeat or len(configs)
    started = time.monotonic()
    for i in range(runs):
        config = configs[i % len(configs)]
        tag = "%s %s" % (args.mode, config)
        if runs > len(configs):
            tag += " (boot %d/%d)" % (i + 1, runs)
        rc, host, note = (run_user if args.mode == "user" else run_peer)(args, config)
        print("net_qemu: %s: %s" % (tag, note), flush=True)
        if rc != 0 or host:
            print("net_qemu: FAIL %s: %s" % (tag, host or "guest run failed"),
                  file=sys.stderr, flush=True)
            return 1
    print("net_qemu: PASS %s x%d (%s) in %.1fs"
          % (args.mode, runs, args.configs, time.monotonic() - started), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("net_qemu: interrupted", file=sys.stderr)
        sys.exit(1)
