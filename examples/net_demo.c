/* SPDX-License-Identifier: MIT */
/* net_demo: virtio-net on a board (examples/boards/) with the portable driver and a tiny
 * IPv4 stack (net_stack.c).  Two builds of this file:
 *
 * net_demo (user network, `-netdev user`): DHCP lease from QEMU's slirp
 *   (10.0.2.15), ARP for the gateway 10.0.2.2, five pings to it with their
 *   round-trip times, then it answers UDP echo requests (port 7) that the
 *   host sends through a `hostfwd=udp:...` rule.  ICMP echo requests sent
 *   to it are answered too (slirp cannot send those; the peer build is
 *   where that is exercised).
 *
 * net_peer (NET_DEMO_PEER=1, `-netdev dgram` to tests/net/net_qemu.py):
 *   static address 192.0.2.15, ARP for the peer 192.0.2.1, then a fixed
 *   sequence of UDP frames from 60 to 1514 bytes, a window of them in
 *   flight, each echoed by the peer with addresses swapped and checked
 *   here byte for byte; then it answers the peer's ICMP echo requests.
 *
 * Order of events (field note 004): every virtio-net device is brought to
 * DRIVER_OK with spinning waits first; only then are the interrupt
 * handlers registered, the interrupt sources enabled, interrupts turned on and
 * the devices told their IRQ is routed; from then on the main loop sleeps
 * in wfi (virtq's WFI strategy) between frames.
 *
 * NET_DEMO_OS=1 (either build): after the interrupts are wired the same
 *   run happens in a task under the board's preemptive scheduler, its
 *   waits blocking through virtq's OS strategy (sched_wait_seq, woken by
 *   the device interrupt) while a second task spins on the CPU.
 *
 * Output: FIGURE lines and `RESULT net_demo|net_peer PASS|FAIL <why>`.
 */
#include <stdint.h>
#if defined(NET_DEMO_OS) && NET_DEMO_OS
/* The OS strategy's block, counted: still sched_wait_seq() (virtq_board.h
 * leaves a hook defined here alone). */
static int net_os_wait(void *chan, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    net_os_wait((ctx), (seqptr), (seen), (timeout_us))
#endif
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#include "board_api.h"
#include "net_stack.h"
#include "sched.h"
#include "virtio_net.h"
#include "board_virtio.h"

#include <stdio.h>
#include <string.h>

#ifndef NET_DEMO_PEER
#define NET_DEMO_PEER 0
#endif
#ifndef NET_DEMO_OS
#define NET_DEMO_OS 0
#endif
#ifndef NET_PEER_ROUNDS
#define NET_PEER_ROUNDS 64
#endif

#define MAX_NETS 2          /* every virtio-net found is initialised (up to this) */
#define RX_BUF_MERGEABLE 512u /* with MRG_RXBUF: a 1514-byte frame spans 3 buffers */
#define POLL_BUDGET 32u
#define SLICE_US 100000u    /* longest single sleep of the main loop */

static struct virtio_net nets[MAX_NETS];
static struct virtq_dev devs[MAX_NETS];
static board_virtio_slot slots[MAX_NETS];
static int nnets;
static struct virtio_net *net; /* the one the demo talks through */
static struct ns stack;
static volatile uint32_t config_irqs;

/* ---- glue: board <-> driver <-> stack ------------------------------------ */

static void net_isr(void *ctx, int irq)
{
    (void)ctx;
    /* Acknowledges the device and wakes the wait; the main loop does the
       work (the ring is used from one context only).  A PCI INTx line may
       be shared: every device on it reads its own ISR status (the read is
       the acknowledgement; no bit set means "not mine"). */
    for (int i = 0; i < nnets; i++)
        if (slots[i].irq == irq && (virtq_dev_isr(&devs[i]) & VIRTIO_MMIO_INT_CONFIG))
            config_irqs++;
}

static uint64_t now_us(void)
{
    return board_now_us();
}

static int stack_tx(void *ctx, const uint8_t *f, uint32_t len)
{
    struct virtio_net *n = ctx;
    int rc = virtio_net_send(n, f, len);
    if (rc == VIRTQ_ENOSPC) {
        rc = virtio_net_wait_tx(n, 1000000u);
        if (rc == VIRTQ_OK)
            rc = virtio_net_send(n, f, len);
    }
    if (rc == VIRTQ_EBROKEN)
        board_fail("transmit: device broke the protocol (%s)", virtq_strerror(rc));
    return rc;
}

static void on_frame(void *ctx, const uint8_t *f, uint32_t len)
{
    ns_input((struct ns *)ctx, f, len);
}

/* One turn of the main loop: take what arrived; if nothing did, sleep
   (wfi, bounded) until a frame arrives or deadline_us, then run timers. */
static void service(uint64_t deadline_us)
{
    int got = virtio_net_poll(net, on_frame, &stack, POLL_BUDGET);
    if (got < 0)
        board_fail("poll: %s", virtq_strerror(got));
    if (got == 0) {
        uint64_t now = board_now_us();
        if (deadline_us > now) {
            uint64_t d = deadline_us - now;
            int rc = virtio_net_wait(net, (uint32_t)(d < SLICE_US ? d : SLICE_US));
            if (rc == VIRTQ_EBROKEN)
                board_fail("wait: %s", virtq_strerror(rc));
        }
    }
    (void)ns_tick(&stack);
}

/* Exit only once every frame has left: a transmit completion means QEMU
   handed the frame to its backend, while exiting with one still queued
   would lose it (QEMU transmits in a bottom half).  Bounded. */
static void drain_tx(void)
{
    uint64_t t0 = board_now_us();
    while (net->tx_nfree != net->tx_num) {
        if (board_now_us() - t0 > 2000000u)
            board_fail("transmit queue did not drain");
        service(board_now_us() + 1000u);
    }
}

static void print_mac(const char *what, const uint8_t *m)
{
    board_printf("%s%02x:%02x:%02x:%02x:%02x:%02x", what, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_ip(const char *what, uint32_t ip)
{
    board_printf("%s%lu.%lu.%lu.%lu", what, (unsigned long)(ip >> 24), (unsigned long)((ip >> 16) & 255u),
                 (unsigned long)((ip >> 8) & 255u), (unsigned long)(ip & 255u));
}

/* Resolve ip, asking every 200 ms, for at most timeout_us. */
static void resolve(uint32_t ip, uint64_t timeout_us, uint8_t mac[6])
{
    uint64_t t0 = board_now_us(), next = 0;
    while (!ns_arp_lookup(&stack, ip, mac)) {
        uint64_t now = board_now_us();
        if (now - t0 > timeout_us) {
            print_ip("arp: no answer for ", ip);
            board_printf("\n");
            board_fail("ARP timeout");
        }
        if (now >= next) {
            (void)ns_arp_request(&stack, ip);
            next = now + 200000u;
        }
        service(next);
    }
    print_ip("arp: ", ip);
    print_mac(" is at ", mac);
    board_printf(" (%lu ms)\n", (unsigned long)((board_now_us() - t0) / 1000u));
}

/* ---- init: every device first, then interrupts ----------------------------- */

static void init_devices(void)
{
    struct virtio_net_config cfg;
    char where[32];
    int i, rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.rx_buf_bytes = RX_BUF_MERGEABLE; /* only used with MRG_RXBUF */
    for (i = 0; i < MAX_NETS; i++) {
        struct virtio_net *n = &nets[i];
        if (board_virtio_find(VIRTIO_ID_NET, i, &slots[i]) != 0)
            break;
        rc = board_virtio_probe(&devs[i], &slots[i]);
        if (rc != VIRTQ_OK)
            board_fail("probe %s: %s%s%s", board_virtio_where(&slots[i], where, sizeof where),
                       virtq_strerror(rc), devs[i].why ? ": " : "",
                       devs[i].why ? devs[i].why : "");
        rc = virtio_net_init(n, &devs[i], &cfg);
        if (rc != VIRTQ_OK)
            board_fail("virtio-net init (slot %d): %s", slots[i].index, virtq_strerror(rc));
        if (i == 0)
            board_tag_dev(&devs[0]);   /* transport= ring= mmio= as negotiated */
        board_printf("virtio-net: %s irq %d %s, features 0x%08lx%08lx, header %lu bytes, "
                     "mrg_rxbuf %s (rx buffers %lu bytes), rx ring %u, tx ring %u\n",
                     board_virtio_where(&slots[i], where, sizeof where), slots[i].irq,
                     devs[i].version == 1u ? "legacy" : "modern", (unsigned long)(n->features >> 32),
                     (unsigned long)(n->features & 0xffffffffu), (unsigned long)n->hdr_len,
                     n->mergeable ? "on" : "off", (unsigned long)n->rx_buf_bytes, n->rx_num, n->tx_num);
        print_mac("virtio-net: mac ", virtio_net_mac(n));
        board_printf(", link %s\n", virtio_net_link_up(n) == 1 ? "up" : "down");
        nnets++;
    }
    if (nnets == 0)
        board_fail("no virtio-net device");
    net = &nets[0];
}

static void wire_interrupts(void)
{
    int i;
    /* Field note 004: only after every device reached DRIVER_OK. */
    for (i = 0; i < nnets; i++) {
        if (board_irq_register(slots[i].irq, net_isr, &devs[i]) != 0 || board_irq_enable(slots[i].irq) != 0)
            board_fail("cannot wire irq %d", slots[i].irq);
    }
    board_interrupts_on();
    for (i = 0; i < nnets; i++) {
        virtq_dev_irq_routed(&devs[i], 1);
        if (virtq_dev_set_wait(&devs[i], VIRTQ_WAIT_WFI, NULL) != VIRTQ_OK)
            board_fail("WFI wait strategy not built in");
    }
    board_printf("irq: %d device(s) wired after init, waits now sleep in wfi\n", nnets);
}

static void wait_link(void)
{
    uint64_t t0 = board_now_us();
    while (virtio_net_link_up(net) != 1) {
        if (board_now_us() - t0 > 2000000u)
            board_fail("link down");
        service(board_now_us() + 10000u);
    }
}

static void common_figures(void)
{
    board_figure("irqs", (long long)net->dev->irqs, "count");
    board_figure("spurious_irqs", (long long)net->dev->spurious, "count");
    board_figure("early_irqs", (long long)net->dev->early, "count");
    board_figure("rx_frames", (long long)net->stats.rx_frames, "count");
    board_figure("rx_merged", (long long)net->stats.rx_merged, "count");
    board_figure("rx_dropped", (long long)net->stats.rx_dropped, "count");
    board_figure("tx_frames", (long long)net->stats.tx_frames, "count");
    board_figure("tx_renotified", (long long)net->stats.tx_renotified, "count");
}

#if !NET_DEMO_PEER
/* ---- user network: DHCP, gateway, ping, UDP echo ---------------------------- */

#define PINGS 5
#define PING_PAYLOAD 56u
#define UDP_ECHO_WANTED 3u
#define UDP_ECHO_WAIT_US 5000000u

static void run(void)
{
    uint8_t gw_mac[6];
    uint64_t t0, rtt_min = ~0ull, rtt_max = 0, rtt_sum = 0;
    int seq;

    ns_init(&stack, virtio_net_mac(net), stack_tx, net, now_us);
    /* 1. DHCP from slirp's built-in server. */
    t0 = board_now_us();
    if (ns_dhcp_start(&stack) != 0)
        board_fail("cannot send DHCPDISCOVER");
    while (stack.dhcp != NS_DHCP_BOUND) {
        if (stack.dhcp == NS_DHCP_FAILED || board_now_us() - t0 > 20000000u)
            board_fail("no DHCP lease (%lu messages sent)", (unsigned long)stack.st.dhcp_sent);
        service(board_now_us() + SLICE_US);
    }
    print_ip("dhcp: lease ", stack.ip);
    print_ip(" mask ", stack.mask);
    print_ip(" router ", stack.gw);
    print_ip(" dns ", stack.dns);
    print_ip(" server ", stack.server);
    board_printf(" lease %lu s, after %lu ms\n", (unsigned long)stack.lease_s,
                 (unsigned long)((board_now_us() - t0) / 1000u));
    board_figure("dhcp_ms", (long long)((board_now_us() - t0) / 1000u), "ms");
    if (stack.gw == 0) {
        /* slirp with restrict=on leaves out the router option; its DHCP
           server is the gateway address itself. */
        stack.gw = stack.server;
        print_ip("dhcp: no router option, using the server ", stack.gw);
        board_printf("\n");
    }
    if (stack.gw == 0)
        board_fail("the lease names no router");

    /* 2. The gateway's MAC. */
    resolve(stack.gw, 5000000u, gw_mac);

    /* 3. Pings (slirp answers those for its own address itself). */
    for (seq = 1; seq <= PINGS; seq++) {
        uint64_t sent;
        if (ns_ping(&stack, stack.gw, 0x7671, (uint16_t)seq, PING_PAYLOAD) != 0)
            board_fail("cannot send ping %d", seq);
        sent = board_now_us();
        while (!stack.ping_answered) {
            if (board_now_us() - sent > 2000000u)
                board_fail("ping %d: no reply", seq);
            service(sent + 2000000u);
        }
        print_ip("ping: ", stack.gw);
        board_printf(" seq=%d bytes=%lu rtt=%lu us\n", seq, (unsigned long)(PING_PAYLOAD + NS_ICMP_HDR),
                     (unsigned long)stack.ping_rtt_us);
        rtt_sum += stack.ping_rtt_us;
        if (stack.ping_rtt_us < rtt_min)
            rtt_min = stack.ping_rtt_us;
        if (stack.ping_rtt_us > rtt_max)
            rtt_max = stack.ping_rtt_us;
        sent = board_now_us();
        while (board_now_us() - sent < 20000u)
            service(sent + 20000u); /* a short gap; still answering */
    }
    board_figure("pings", PINGS, "count");
    board_figure("ping_rtt_min_us", (long long)rtt_min, "us");
    board_figure("ping_rtt_avg_us", (long long)(rtt_sum / PINGS), "us");
    board_figure("ping_rtt_max_us", (long long)rtt_max, "us");

    /* 4. Serve: UDP echo requests from the host through hostfwd. */
    t0 = board_now_us();
    while (stack.st.udp_echo_answered < UDP_ECHO_WANTED && board_now_us() - t0 < UDP_ECHO_WAIT_US)
        service(t0 + UDP_ECHO_WAIT_US);
    board_printf("udp echo: answered %lu request(s) on port 7\n", (unsigned long)stack.st.udp_echo_answered);
    board_figure("udp_echo_answered", (long long)stack.st.udp_echo_answered, "count");
    board_figure("icmp_echo_answered", (long long)stack.st.icmp_echo_answered, "count");
    common_figures();
    if (net->stats.rx_dropped != 0 || stack.st.rx_bad != 0)
        board_fail("%lu frame(s) dropped by the driver, %lu bad", (unsigned long)net->stats.rx_dropped,
                   (unsigned long)stack.st.rx_bad);
}

#else
/* ---- peer: frame-exact UDP echo, then answer pings ---------------------------- */

#define MY_IP NS_IP(192, 0, 2, 15)  /* TEST-NET-1: never routed anywhere */
#define PEER_IP NS_IP(192, 0, 2, 1)
#define MY_PORT 40007u
#define PEER_PORT_DONE 9u           /* discard: "done <frames>" */
#define WINDOW 8u
#define FRAME_TIMEOUT_US 2000000u
#define PEER_PINGS 4u
#define PEER_PING_WAIT_US 10000000u

static const uint16_t sizes[] = {60,  61,  64,   65,   127,  128,  129,  255,  256,  257,  511, 512,
                                 513, 1000, 1023, 1024, 1025, 1279, 1280, 1499, 1500, 1513, 1514};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define TOTAL ((uint32_t)NSIZES * NET_PEER_ROUNDS)

static uint8_t peer_mac[6];
static uint8_t txf[NS_FRAME_MAX], expect[NS_FRAME_MAX];
static uint32_t echoed, peer_err;
static char err_msg[96];

static uint32_t frame_size(uint32_t seq)
{
    return sizes[seq % NSIZES];
}

/* Frame seq as we send it: UDP MY_PORT -> peer port 7, payload = seq,
   size, then a pattern that differs per frame and per byte. */
static void build(uint32_t seq, uint8_t *f)
{
    uint32_t size = frame_size(seq), plen = size - NS_ETH_HDR - NS_IP_HDR - NS_UDP_HDR, j;
    uint8_t *ip = f + NS_ETH_HDR, *u = ip + NS_IP_HDR, *p = u + NS_UDP_HDR;
    memcpy(f, peer_mac, 6);
    memcpy(f + 6, stack.mac, 6);
    ns_put16(f + 12, NS_ETH_IP);
    ns_put32(p, seq);
    ns_put16(p + 4, (uint16_t)size);
    for (j = 6; j < plen; j++)
        p[j] = (uint8_t)(seq * 13u + j * 7u + (j >> 8));
    ns_put16(u, MY_PORT);
    ns_put16(u + 2, NS_PORT_ECHO);
    ns_put16(u + 4, (uint16_t)(NS_UDP_HDR + plen));
    ns_put16(u + 6, 0);
    ns_put16(u + 6, ns_udp_checksum(u, NS_UDP_HDR + plen, MY_IP, PEER_IP));
    ns_ip_header(ip, (uint16_t)(size - NS_ETH_HDR), (uint16_t)seq, NS_PROTO_UDP, MY_IP, PEER_IP);
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Sees every frame first: the echoes are checked here, in order, against
   the frame sent with MACs, addresses and ports swapped (checksums do not
   change: one's complement sums commute). */
static int peer_hook(void *ctx, struct ns *s, const uint8_t *f, uint32_t len)
{
    uint32_t size, i;
    (void)ctx;
    (void)s;
    if (len < NS_ETH_HDR + NS_IP_HDR + NS_UDP_HDR || ns_get16(f + 12) != NS_ETH_IP ||
        f[NS_ETH_HDR + 9] != NS_PROTO_UDP || ns_get16(f + NS_ETH_HDR + NS_IP_HDR + 2) != MY_PORT)
        return 0;
    if (peer_err)
        return 1;
    size = frame_size(echoed);
    build(echoed, expect);
    swap(expect, expect + 6, 6);
    swap(expect + NS_ETH_HDR + 12, expect + NS_ETH_HDR + 16, 4);
    swap(expect + NS_ETH_HDR + NS_IP_HDR, expect + NS_ETH_HDR + NS_IP_HDR + 2, 2);
    if (len != size) {
        peer_err = 1;
        snprintf(err_msg, sizeof err_msg, "echo %lu: %lu bytes, sent %lu", (unsigned long)echoed,
                 (unsigned long)len, (unsigned long)size);
        return 1;
    }
    for (i = 0; i < len && f[i] == expect[i]; i++)
        ;
    if (i != len) {
        peer_err = 1;
        snprintf(err_msg, sizeof err_msg, "echo %lu (%lu bytes): byte %lu is 0x%02x, want 0x%02x",
                 (unsigned long)echoed, (unsigned long)len, (unsigned long)i, f[i], expect[i]);
        return 1;
    }
    echoed++;
    return 1;
}

/* Where a frame stopped: still in the transmit ring (the device never took
   it: a lost kick or a stalled device) or handed on (lost past the device). */
static void stall_report(uint32_t sent)
{
    (void)virtio_net_poll(net, on_frame, &stack, POLL_BUDGET); /* reclaims tx */
    board_printf("stall: sent %lu, echoed %lu; tx ring: %u of %u buffers still with the device, "
                 "%lu notifications repeated\n",
                 (unsigned long)sent, (unsigned long)echoed, virtio_net_tx_in_flight(net), (unsigned)net->tx_num,
                 (unsigned long)net->stats.tx_renotified);
}

static void run(void)
{
    uint32_t sent = 0, last = 0;
    uint64_t t0, t1, progress, us;
    int rc;

    ns_init(&stack, virtio_net_mac(net), stack_tx, net, now_us);
    ns_set_ip(&stack, MY_IP, 0xffffff00u, 0);
    stack.hook = peer_hook;
    print_ip("peer: static address ", MY_IP);
    print_ip(", peer ", PEER_IP);
    board_printf("\n");
    resolve(PEER_IP, 10000000u, peer_mac);

    /* 1. The size sequence, WINDOW frames in flight. */
    t0 = progress = board_now_us();
    while (echoed < TOTAL) {
        while (sent < TOTAL && sent - echoed < WINDOW) {
            build(sent, txf);
            rc = stack_tx(net, txf, frame_size(sent));
            if (rc != VIRTQ_OK)
                board_fail("send frame %lu: %s", (unsigned long)sent, virtq_strerror(rc));
            sent++;
        }
        service(progress + FRAME_TIMEOUT_US);
        if (peer_err)
            board_fail("%s", err_msg);
        if (echoed != last) {
            last = echoed;
            progress = board_now_us();
        } else if (board_now_us() - progress > FRAME_TIMEOUT_US) {
            stall_report(sent);
            board_fail("frame %lu (%lu bytes) not echoed", (unsigned long)echoed,
                       (unsigned long)frame_size(echoed));
        }
    }
    t1 = board_now_us();
    us = t1 > t0 ? t1 - t0 : 1;
    board_printf("peer: %lu frames of %lu sizes (%u..%u bytes) echoed unchanged in %lu ms\n",
                 (unsigned long)TOTAL, (unsigned long)NSIZES, sizes[0], sizes[NSIZES - 1],
                 (unsigned long)(us / 1000u));
    board_figure("echo_frames", (long long)TOTAL, "count");
    board_figure("echo_pps", (long long)((uint64_t)TOTAL * 1000000u / us), "pps");
    /* Tell the peer we are done (discard port): it checks the count and
       starts pinging us. */
    snprintf(err_msg, sizeof err_msg, "done %lu", (unsigned long)TOTAL);
    if (ns_udp_send(&stack, PEER_IP, MY_PORT, PEER_PORT_DONE, err_msg, (uint32_t)strlen(err_msg)) != 0)
        board_fail("cannot send the done message");

    /* 2. The peer pings us now (seq 1..PEER_PINGS, one at a time, resending
       one whose reply is slow); answer until the last one was answered:
       counting replies would end early when a resent ping is answered twice. */
    t0 = board_now_us();
    while (stack.st.icmp_echo_last_seq < PEER_PINGS) {
        if (board_now_us() - t0 > PEER_PING_WAIT_US)
            board_fail("only %lu ICMP echo request(s) from the peer", (unsigned long)stack.st.icmp_echo_answered);
        service(t0 + PEER_PING_WAIT_US);
    }
    board_printf("peer: answered %lu ICMP echo requests\n", (unsigned long)stack.st.icmp_echo_answered);
    board_figure("icmp_echo_answered", (long long)stack.st.icmp_echo_answered, "count");
    common_figures();
    if (net->stats.rx_dropped != 0)
        board_fail("%lu frame(s) dropped by the driver", (unsigned long)net->stats.rx_dropped);
}
#endif

#if !NET_DEMO_OS
static void finish(void)
{
    wait_link();
    run();
    drain_tx();
    if (net->dev->irqs == 0)
        board_fail("no device interrupt was taken");
    board_pass();
}
#endif

#if NET_DEMO_OS
static int os_chan;                       /* the channel the net task blocks on */
static volatile uint64_t spins;           /* the busy task's progress */
static uint32_t os_waits, os_woken;       /* OS waits entered / ended by a wake */

static int net_os_wait(void *chan, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    int r = sched_wait_seq(chan, seq, seen, timeout_us);

    os_waits++;
    if (r == SCHED_OK)
        os_woken++;
    return r;
}
static uint8_t net_stack_mem[16384] __attribute__((aligned(16)));
static uint8_t busy_stack_mem[4096] __attribute__((aligned(16)));

static void net_task(void *arg)
{
    sched_stats st;

    (void)arg;
    wait_link();
    run();
    drain_tx();
    sched_get_stats(&st);
    board_figure("os_waits", (long long)os_waits, "count");
    board_figure("os_waits_woken", (long long)os_woken, "count");
    board_figure("os_task_wakes", (long long)st.wakes, "count");
    board_figure("os_ctx_switches", (long long)st.switches, "count");
    /* Every wait went through the OS strategy; whether one also slept until
       the interrupt depends on timing (QEMU's user network often answers
       before the task blocks), so that is a figure, not a condition. */
    if (os_waits == 0)
        board_fail("no wait went through the OS strategy");
    if (spins == 0)
        board_fail("the busy task never ran");
    if (net->dev->irqs == 0)
        board_fail("no device interrupt was taken");
    board_pass();
}

static void busy_task(void *arg)
{
    (void)arg;
    for (;;)
        spins++;                          /* never yields: only the tick preempts */
}
#endif

int main(void)
{
    board_set_name(NET_DEMO_PEER ? "net_peer" : "net_demo");
    board_printf("%s: virtio-net over virtq.h\n", board_name());
    init_devices();
    wire_interrupts();
#if NET_DEMO_OS
    for (int i = 0; i < nnets; i++)
        if (virtq_dev_set_wait(&devs[i], VIRTQ_WAIT_OS, &os_chan) != VIRTQ_OK)
            board_fail("OS wait strategy not built in");
    board_printf("sched: net task blocks in the OS wait, a busy task spins beside it\n");
    if (sched_create(net_task, NULL, net_stack_mem, sizeof net_stack_mem) < 0 ||
        sched_create(busy_task, NULL, busy_stack_mem, sizeof busy_stack_mem) < 0)
        board_fail("sched_create failed");
    sched_start();
#else
    finish();
#endif
}
