/* SPDX-License-Identifier: MIT */
/* test_net.c — the portable virtio-net driver (examples/drivers/virtio_net.c)
   against the fake device's net model (shims/fake/fake_net.c), cmocka,
   ASan+UBSan.

   The fake checks every register access, descriptor chain and net header
   against the spec; every test also asserts that no violation was
   reported (or exactly the one it provokes).  Covered: feature
   negotiation (offload and control-queue lures refused, MRG_RXBUF on and
   off, EVENT_IDX, ANY_LAYOUT); the 12-byte header (VERSION_1 or
   MRG_RXBUF) against the 10-byte legacy one; the legacy framing with the
   header alone in a descriptor; byte-exact loopback of every frame size
   from 14 to 1514; mergeable receive buffers (frames over 2..24 buffers,
   exact fits); bursts several times larger than the receive ring (the
   ring is refilled after each frame, nothing lost, order kept); hostile
   receive headers (num_buffers 0 or too big, GSO type, short header,
   a non-final buffer not full): dropped and counted, ring still full;
   a full transmit ring and its reclaim; link status and its config
   interrupt; stop (every buffer handed back) and re-init; a WFI main loop
   woken by the device interrupt while a second thread delivers frames;
   a device thread completing transmits out of order. */
#define VIRTQ_IMPLEMENTATION
#include "virtq_fake.h" /* first: points virtq.h's shims at the fake */
#include "virtq.h"

#include "fake_blk.h"
#include "fake_net.h"
#include "virtq_fake_cmocka.h"
#include "virtio_net.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define ETH_TYPE_TEST 0x88b5u /* IEEE 802 local experimental */

/* ---- environment ------------------------------------------------------- */

static struct virtq_fake_dev *fd;
static struct virtq_dev vdev;
static struct virtio_net *net; /* below 4 GiB: a legacy QueuePFN is 32-bit */

/* What the driver handed up, and what the device was given. */
#define LOG_MAX 4096
static uint32_t rx_seq[LOG_MAX];
static unsigned rx_n, rx_bad;
static unsigned tx_seen;
static int echo_peer; /* the peer sends every frame straight back */

#define assert_clean() virtq_fake_assert_clean()

#define assert_violation(frag)                                                           \
    do {                                                                                 \
        if (virtq_fake_violation_count() == 0)                                           \
            fail_msg("expected a violation mentioning \"%s\", got none", frag);           \
        if (strstr(virtq_fake_last_violation(), frag) == NULL)                           \
            fail_msg("violation \"%s\" does not mention \"%s\"",                          \
                     virtq_fake_last_violation(), frag);                                 \
        virtq_fake_clear_violations();                                                   \
    } while (0)

/* Frame seq of len bytes (len >= 20): to the driver's MAC, a test
   EtherType, seq and len, then a pattern that differs per frame. */
static void make_frame(uint8_t *f, uint32_t seq, uint32_t len)
{
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
    uint32_t i;
    memcpy(f, net ? virtio_net_mac(net) : src, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETH_TYPE_TEST >> 8;
    f[13] = ETH_TYPE_TEST & 0xff;
    f[14] = (uint8_t)(seq >> 24);
    f[15] = (uint8_t)(seq >> 16);
    f[16] = (uint8_t)(seq >> 8);
    f[17] = (uint8_t)seq;
    f[18] = (uint8_t)(len >> 8);
    f[19] = (uint8_t)len;
    for (i = 20; i < len; i++)
        f[i] = (uint8_t)(seq * 29u + i * 11u + (i >> 8));
}

/* Every received frame must be exactly the one its seq and len name. */
static void on_frame(void *ctx, const uint8_t *f, uint32_t len)
{
    uint8_t want[VIRTIO_NET_FRAME_MAX];
    uint32_t seq;
    (void)ctx;
    if (len < 20 || len > VIRTIO_NET_FRAME_MAX || (uint32_t)((f[18] << 8) | f[19]) != len) {
        rx_bad++;
        return;
    }
    seq = ((uint32_t)f[14] << 24) | ((uint32_t)f[15] << 16) | ((uint32_t)f[16] << 8) | f[17];
    make_frame(want, seq, len);
    if (memcmp(f, want, len) != 0) {
        rx_bad++;
        return;
    }
    if (rx_n < LOG_MAX)
        rx_seq[rx_n] = seq;
    rx_n++;
}

/* The wire: every transmitted frame is checked here, and echoed if asked. */
static void peer(void *ctx, struct virtq_fake_dev *dev, const uint8_t *f, uint32_t len)
{
    uint8_t want[VIRTIO_NET_FRAME_MAX];
    uint32_t seq;
    (void)ctx;
    tx_seen++;
    if (len >= 20) {
        seq = ((uint32_t)f[14] << 24) | ((uint32_t)f[15] << 16) | ((uint32_t)f[16] << 8) | f[17];
        make_frame(want, seq, len);
        if (memcmp(f, want, len) != 0)
            rx_bad++; /* counted with the receive errors: any is a failure */
    }
    if (echo_peer)
        (void)virtq_fake_net_inject(dev, f, len);
}

static void params(struct virtq_fake_net_params *p, int version)
{
    memset(p, 0, sizeof *p);
    p->version = version;
    p->features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    p->peer = peer;
}

static int env_up_rc(struct virtq_fake_net_params *p, const struct virtio_net_config *cfg)
{
    virtq_fake_set_violation_handler(virtq_fake_count_violations, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    rx_n = rx_bad = tx_seen = 0;
    echo_peer = 0;
    fd = virtq_fake_net_create(p);
    assert_non_null(fd);
    if (net == NULL)
        net = virtq_fake_lowmem_alloc(sizeof *net);
    assert_non_null(net);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    return virtio_net_init(net, &vdev, cfg);
}

static void env_up(struct virtq_fake_net_params *p, const struct virtio_net_config *cfg)
{
    int rc = env_up_rc(p, cfg);
    if (rc != VIRTQ_OK)
        fail_msg("virtio_net_init: %s (%s)", virtq_strerror(rc), virtq_fake_last_violation());
    assert_clean();
}

static void env_down(void)
{
    virtq_fake_destroy(fd);
    fd = NULL;
    virtq_fake_cpu_reset();
}

static int teardown(void **state)
{
    (void)state;
    if (fd)
        env_down();
    return 0;
}

/* Poll until n frames arrived in all, or a bound on idle polls. */
static void poll_until(unsigned n)
{
    unsigned idle = 0;
    while (rx_n + rx_bad < n && idle < 1000) {
        int got = virtio_net_poll(net, on_frame, NULL, 16);
        assert_true(got >= 0);
        idle = got ? 0 : idle + 1;
    }
}

static void send_ok(uint32_t seq, uint32_t len)
{
    uint8_t f[VIRTIO_NET_FRAME_MAX];
    make_frame(f, seq, len);
    assert_int_equal(virtio_net_send(net, f, len), VIRTQ_OK);
}

/* The ring stays full: every buffer is back with the device. */
static void assert_ring_full(void)
{
    assert_int_equal(virtq_fake_net_rx_buffers(fd), net->rx_num);
}

/* ---- negotiation and headers -------------------------------------------- */

/* The packed pass (mk/fake.mk, VIRTQ_FAKE_RING=packed) runs modern
   devices with VIRTIO_F_RING_PACKED offered and required. */
static uint64_t ring_feature(void)
{
    const char *r = getenv("VIRTQ_FAKE_RING");
    return (r != NULL && strcmp(r, "packed") == 0) ? VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) : 0;
}

static void negotiate_modern(void **state)
{
    struct virtq_fake_net_params p;
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    (void)state;
    params(&p, 2);
    memcpy(p.mac, mac, 6);
    env_up(&p, NULL);
    /* MAC, STATUS, MRG_RXBUF, EVENT_IDX, VERSION_1; none of the lures
       (CSUM, GUEST_CSUM, TSO4 both ways, CTRL_VQ) the fake offers. */
    assert_int_equal(net->features,
                     VIRTQ_FEATURE(VIRTIO_NET_F_MAC) | VIRTQ_FEATURE(VIRTIO_NET_F_STATUS) |
                         VIRTQ_FEATURE(VIRTIO_NET_F_MRG_RXBUF) | VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX) |
                         VIRTQ_FEATURE(VIRTIO_F_VERSION_1) | ring_feature());
    assert_int_equal(virtq_fake_driver_features(fd), net->features);
    assert_memory_equal(virtio_net_mac(net), mac, 6);
    assert_int_equal(net->hdr_len, 12);
    assert_int_equal(virtq_fake_net_hdr_len(fd), 12);
    assert_int_equal(net->rx_num, 64);
    assert_int_equal(net->tx_num, 32);
    assert_true(virtq_fake_status(fd) & VIRTIO_STATUS_DRIVER_OK);
    assert_ring_full(); /* filled at init */
    assert_int_equal(virtio_net_link_up(net), 1);
    assert_clean();
}

/* Header size and framing for each kind of device, proven by a byte-exact
   round trip: a driver and device that disagree on the header shift the
   frame, which the peer and the receive check both see. */
static void header_sizes(void **state)
{
    static const struct {
        int version, offer_mrg, refuse_mrg, any_layout;
        uint32_t hdr;
        int split;
    } c[] = {
        {2, 1, 0, 0, 12, 0}, /* modern: always 12 */
        {2, 0, 0, 0, 12, 0},
        {2, 1, 1, 0, 12, 0},
        {1, 1, 0, 1, 12, 0}, /* legacy + MRG_RXBUF: 12 */
        {1, 0, 0, 1, 10, 0}, /* legacy without: 10 */
        {1, 1, 1, 1, 10, 0}, /* offered but refused: 10 */
        {1, 0, 0, 0, 10, 1}, /* legacy, no ANY_LAYOUT: header alone */
        {1, 1, 0, 0, 12, 1},
    };
    unsigned i;
    (void)state;
    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct virtq_fake_net_params p;
        struct virtio_net_config cfg;
        uint32_t len;
        unsigned n = 0;
        params(&p, c[i].version);
        p.no_mrg_rxbuf = !c[i].offer_mrg;
        p.loopback = 1;
        if (c[i].any_layout)
            p.features |= VIRTQ_FEATURE(VIRTIO_F_ANY_LAYOUT);
        memset(&cfg, 0, sizeof cfg);
        cfg.no_mrg_rxbuf = c[i].refuse_mrg;
        env_up(&p, &cfg);
        assert_int_equal(net->hdr_len, c[i].hdr);
        assert_int_equal(virtq_fake_net_hdr_len(fd), c[i].hdr);
        assert_int_equal(net->split_hdr, c[i].split);
        assert_int_equal(net->mergeable, c[i].offer_mrg && !c[i].refuse_mrg);
        assert_int_equal(net->rx_num, c[i].split ? 32 : 64); /* 2 descriptors each */
        for (len = 20; len <= VIRTIO_NET_FRAME_MAX; len += 97, n++) {
            send_ok(n, len);
            poll_until(n + 1);
        }
        send_ok(n, VIRTIO_NET_FRAME_MAX);
        poll_until(++n);
        assert_int_equal(rx_n, n);
        assert_int_equal(rx_bad, 0);
        assert_int_equal(tx_seen, n);
        assert_int_equal(net->stats.rx_dropped, 0);
        assert_ring_full();
        assert_clean();
        env_down();
    }
}

/* Every length from the Ethernet header alone to a full frame, loopback. */
static void loopback_every_size(void **state)
{
    static const int versions[] = {1, 2};
    unsigned v;
    (void)state;
    for (v = 0; v < 2; v++) {
        struct virtq_fake_net_params p;
        uint8_t f[VIRTIO_NET_FRAME_MAX];
        uint32_t len;
        unsigned n = 0;
        params(&p, versions[v]);
        p.loopback = 1;
        p.features |= VIRTQ_FEATURE(VIRTIO_F_ANY_LAYOUT);
        env_up(&p, NULL);
        /* 14..19: too short for a seq; the driver still passes them up. */
        memset(f, 0xa5, sizeof f);
        assert_int_equal(virtio_net_send(net, f, 14), VIRTQ_OK);
        assert_int_equal(virtio_net_poll(net, NULL, NULL, 16), 1);
        assert_int_equal(net->stats.rx_bytes, 14);
        for (len = 20; len <= VIRTIO_NET_FRAME_MAX; len++, n++) {
            send_ok(n, len);
            if ((n & 7) == 7)
                poll_until(n + 1);
        }
        poll_until(n);
        assert_int_equal(rx_n, n);
        assert_int_equal(rx_bad, 0);
        for (len = 0; len < n; len++)
            assert_int_equal(rx_seq[len], len); /* in order */
        assert_ring_full();
        assert_clean();
        env_down();
    }
}

/* ---- mergeable receive buffers -------------------------------------------- */

static void mergeable_buffers(void **state)
{
    static const uint32_t sizes[] = {20, 244, 245, 500, 1000, 1514, 756, 757, 1514};
    struct virtq_fake_net_params p;
    struct virtio_net_config cfg;
    struct virtq_fake_net_stats st;
    unsigned i;
    (void)state;
    params(&p, 2);
    memset(&cfg, 0, sizeof cfg);
    cfg.rx_buf_bytes = 256; /* 12 + 244 fill one exactly */
    env_up(&p, &cfg);
    assert_int_equal(net->rx_buf_bytes, 256);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t f[VIRTIO_NET_FRAME_MAX];
        make_frame(f, i, sizes[i]);
        assert_int_equal(virtq_fake_net_inject(fd, f, sizes[i]), 1);
        poll_until(i + 1);
        assert_int_equal(rx_n, i + 1);
        /* buffers this frame took: ceil((12 + len) / 256) */
        assert_int_equal(net->stats.rx_max_buffers >= (12u + sizes[i] + 255u) / 256u, 1);
    }
    assert_int_equal(rx_bad, 0);
    assert_int_equal(net->stats.rx_max_buffers, 6); /* 1514 + 12 over 256 */
    assert_int_equal(net->stats.rx_merged, 7);      /* all but 20 and 244 */
    virtq_fake_net_get_stats(fd, &st);
    assert_int_equal(st.max_num_buffers, 6);
    assert_int_equal(st.rx_merged, 7);
    assert_ring_full();
    assert_clean();
    env_down();

    /* Smallest buffers: a full frame over 24 of them, legacy framing. */
    params(&p, 1);
    cfg.rx_buf_bytes = VIRTIO_NET_RX_BUF_MIN;
    env_up(&p, &cfg);
    assert_int_equal(net->split_hdr, 1);
    for (i = 0; i < 8; i++) {
        uint8_t f[VIRTIO_NET_FRAME_MAX];
        make_frame(f, i, VIRTIO_NET_FRAME_MAX - i);
        assert_int_equal(virtq_fake_net_inject(fd, f, VIRTIO_NET_FRAME_MAX - i), 1);
        poll_until(i + 1);
    }
    assert_int_equal(rx_n, 8);
    assert_int_equal(rx_bad, 0);
    assert_int_equal(net->stats.rx_max_buffers, 24); /* 1526 over 64 */
    assert_ring_full();
    assert_clean();
}

/* ---- bursts larger than the ring -------------------------------------------- */

static void burst(int version, const struct virtio_net_config *cfg, uint16_t qmax, unsigned frames,
                  uint32_t len)
{
    struct virtq_fake_net_params p;
    struct virtq_fake_net_stats st;
    unsigned i, delivered_now = 0;
    params(&p, version);
    p.queue_num_max = qmax;
    p.backlog = 4096;
    env_up(&p, cfg);
    /* All at once: the device holds what does not fit (like QEMU). */
    for (i = 0; i < frames; i++) {
        uint8_t f[VIRTIO_NET_FRAME_MAX];
        int rc;
        make_frame(f, i, len - (i % 7));
        rc = virtq_fake_net_inject(fd, f, len - (i % 7));
        assert_true(rc >= 0);
        delivered_now += rc == 1;
    }
    assert_true(delivered_now < frames); /* the ring really ran out */
    assert_true(virtq_fake_net_backlog(fd) > 0);
    poll_until(frames);
    assert_int_equal(rx_n, frames);
    assert_int_equal(rx_bad, 0);
    for (i = 0; i < frames; i++)
        assert_int_equal(rx_seq[i], i); /* none lost, order kept */
    virtq_fake_net_get_stats(fd, &st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.rx_frames, frames);
    assert_int_equal(virtq_fake_net_backlog(fd), 0);
    assert_int_equal(net->stats.rx_dropped, 0);
    assert_int_equal(net->stats.rx_reposted, st.rx_buffers); /* every buffer went back */
    assert_ring_full();
    assert_clean();
    env_down();
}

static void burst_larger_than_ring(void **state)
{
    struct virtio_net_config cfg;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_mrg_rxbuf = 1;
    burst(2, &cfg, 16, 16 * 5, 600);  /* 5 rings' worth */
    burst(1, &cfg, 16, 16 * 5, 1514);
    cfg.no_mrg_rxbuf = 0;
    cfg.rx_buf_bytes = 128;           /* 12 buffers per frame, ring of 16 */
    burst(2, &cfg, 16, 40, 1514);
    burst(1, NULL, 32, 32 * 8, 64);   /* small frames, 8 rings */
}

/* ---- a device that frames receive buffers wrongly -------------------------------- */

static void hostile_rx_headers(void **state)
{
    struct virtq_fake_net_params p;
    struct virtio_net_config cfg;
    struct virtq_fake_net_rx_fault fl;
    uint8_t f[VIRTIO_NET_FRAME_MAX];
    unsigned good = 0, dropped = 0;
    (void)state;
    params(&p, 2);
    memset(&cfg, 0, sizeof cfg);
    cfg.rx_buf_bytes = 512;
    env_up(&p, &cfg);

#define BAD_THEN_GOOD(len_)                                                              \
    do {                                                                                 \
        make_frame(f, 1000 + good, len_);                                                \
        assert_int_equal(virtq_fake_net_inject_fault(fd, f, len_, &fl), 1);              \
        make_frame(f, good, 300);                                                        \
        assert_int_equal(virtq_fake_net_inject(fd, f, 300), 1);                          \
        good++;                                                                          \
        dropped++;                                                                       \
        poll_until(good);                                                                \
        assert_int_equal(rx_n, good);                                                    \
        assert_int_equal(rx_seq[good - 1], good - 1);                                    \
        assert_int_equal(net->stats.rx_dropped, dropped);                                \
        assert_ring_full();                                                              \
    } while (0)

    memset(&fl, 0, sizeof fl);
    fl.first_len = -1;
    fl.num_buffers = 0; /* "cannot be" */
    BAD_THEN_GOOD(100);
    fl.num_buffers = 65; /* more than the ring holds */
    BAD_THEN_GOOD(100);
    fl.num_buffers = -1;
    fl.gso_type = 1; /* TCPV4 without GUEST_TSO4 */
    BAD_THEN_GOOD(100);
    fl.gso_type = 0;
    fl.first_len = 11; /* shorter than the header */
    BAD_THEN_GOOD(100);
    fl.first_len = -1;
    fl.short_fill = 3; /* a non-final buffer not used completely */
    BAD_THEN_GOOD(1400);
    fl.short_fill = 0;
    fl.flags = 0x80; /* unknown flag bits: ignored ("MUST ignore") */
    make_frame(f, good, 200);
    assert_int_equal(virtq_fake_net_inject_fault(fd, f, 200, &fl), 1);
    good++;
    poll_until(good);
    assert_int_equal(rx_n, good);
    assert_int_equal(net->stats.rx_dropped, dropped);
    assert_int_equal(rx_bad, 0);
    assert_clean();
#undef BAD_THEN_GOOD
}

/* ---- transmit ring ------------------------------------------------------------ */

static void tx_full_and_reclaim(void **state)
{
    struct virtq_fake_net_params p;
    struct virtq_fake_stats fs;
    uint8_t f[64];
    unsigned i;
    (void)state;
    params(&p, 2);
    env_up(&p, NULL);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    for (i = 0; i < net->tx_num; i++)
        send_ok(i, 64);
    assert_int_equal(virtio_net_tx_in_flight(net), net->tx_num);
    make_frame(f, 999, 64);
    assert_int_equal(virtio_net_send(net, f, 64), VIRTQ_ENOSPC);
    assert_int_equal(net->stats.tx_full, 1);
    assert_int_equal(tx_seen, 0);
    /* The device sends them all; a poll takes the buffers back. */
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, -1), (int)net->tx_num);
    assert_int_equal(tx_seen, net->tx_num);
    /* Transmit interrupts are suppressed from init on: reclaim polls. */
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].irqs, 0);
    assert_int_equal(virtio_net_poll(net, on_frame, NULL, 8), 0);
    assert_int_equal(virtio_net_tx_in_flight(net), 0);
    assert_int_equal(net->stats.tx_completed, net->tx_num);
    /* Full again: wait_tx runs out while the device sits on them, and
       returns at once when a buffer is back. */
    for (i = 0; i < net->tx_num; i++)
        send_ok(100 + i, 64);
    assert_int_equal(virtio_net_wait_tx(net, 20000), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, 1), 1);
    assert_int_equal(virtio_net_wait_tx(net, 0), VIRTQ_OK);
    assert_int_equal(virtio_net_tx_in_flight(net), net->tx_num - 1);
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, -1), (int)net->tx_num - 1);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].irqs, 0); /* wait_tx disarmed again */
    assert_int_equal(rx_bad, 0);
    assert_clean();
}

/* A device that sat on transmit buffers through two silent waits in a row
   is notified again, once per such pair; progress in between, nothing in
   flight, or a wait that saw a frame resets the count.  Would fail if the
   driver never repeated the notification (QEMU 7.2's lost kick, see
   virtio_net_wait) or repeated it on every timeout. */
static void tx_renotify_after_silent_waits(void **state)
{
    struct virtq_fake_net_params p;
    struct virtq_fake_stats fs;
    uint32_t base;
    (void)state;
    params(&p, 2);
    env_up(&p, NULL);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    /* Nothing in flight: timeouts never notify. */
    virtq_fake_get_stats(fd, &fs);
    base = fs.q[VIRTIO_NET_TX_ID].notifies;
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].notifies, base);
    /* Two frames the device sits on. */
    send_ok(1, 64);
    send_ok(2, 64);
    virtq_fake_get_stats(fd, &fs);
    base = fs.q[VIRTIO_NET_TX_ID].notifies;
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT); /* first: watch */
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].notifies, base);
    /* Progress between the two waits: no repeat. */
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, 1), 1);
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].notifies, base);
    assert_int_equal(net->stats.tx_renotified, 0);
    /* Silent since: the next timeout repeats the notification, once. */
    assert_int_equal(virtio_net_wait_tx(net, 1000), VIRTQ_OK); /* a buffer is free: no wait */
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].notifies, base + 1);
    assert_int_equal(net->stats.tx_renotified, 1);
    assert_int_equal(virtio_net_tx_in_flight(net), 1);
    /* The device takes it; nothing in flight, no more repeats. */
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, -1), 1);
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_ETIMEDOUT);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[VIRTIO_NET_TX_ID].notifies, base + 1);
    assert_int_equal(net->stats.tx_renotified, 1);
    assert_int_equal(net->stats.tx_completed, 2);
    assert_int_equal(tx_seen, 2);
    assert_clean();
}

/* A device that breaks the transmit ring while the caller only waits for
   frames: the timed-out wait reports VIRTQ_EBROKEN, not a plain timeout. */
static void wait_reports_broken_tx(void **state)
{
    struct virtq_fake_net_params p;
    (void)state;
    params(&p, 2);
    env_up(&p, NULL);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    send_ok(1, 64);
    assert_int_equal(virtq_fake_inject(fd, VIRTIO_NET_TX_ID, VIRTQ_FAKE_FAULT_ID_RANGE, 1), 0);
    assert_int_equal(virtq_fake_step(fd, VIRTIO_NET_TX_ID, -1), 1);
    assert_int_equal(virtio_net_wait(net, 1000), VIRTQ_EBROKEN);
    assert_true(virtq_is_broken(&net->tx));
    assert_int_equal(net->stats.tx_renotified, 0);
}

static void bad_arguments(void **state)
{
    struct virtq_fake_net_params p;
    struct virtio_net_config cfg;
    struct virtq_fake_blk_params bp;
    static uint8_t disk[4096];
    uint8_t f[VIRTIO_NET_FRAME_MAX + 1];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.rx_buf_bytes = 32; /* below VIRTIO_NET_RX_BUF_MIN */
    params(&p, 2);
    assert_int_equal(env_up_rc(&p, &cfg), VIRTQ_EINVAL);
    assert_int_equal(virtq_fake_status(fd), 0); /* untouched */
    env_down();
    env_up(&p, NULL);
    memset(f, 0, sizeof f);
    assert_int_equal(virtio_net_send(net, f, 13), VIRTQ_EINVAL);
    assert_int_equal(virtio_net_send(net, f, VIRTIO_NET_FRAME_MAX + 1), VIRTQ_EINVAL);
    assert_int_equal(virtio_net_send(net, NULL, 60), VIRTQ_EINVAL);
    assert_int_equal(net->stats.tx_frames, 0);
    assert_int_equal(tx_seen, 0);
    env_down();
    /* Not a network device. */
    memset(&bp, 0, sizeof bp);
    bp.version = 2;
    bp.image = disk;
    bp.image_bytes = sizeof disk;
    fd = virtq_fake_blk_create(&bp);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(virtio_net_init(net, &vdev, NULL), VIRTQ_ENODEV);
    assert_int_equal(virtq_fake_status(fd), 0);
    assert_clean();
}

/* ---- link, stop, re-init ---------------------------------------------------------- */

static void link_status(void **state)
{
    struct virtq_fake_net_params p;
    struct virtio_net_config cfg;
    struct virtq_fake_stats fs;
    (void)state;
    params(&p, 2);
    p.link_down = 1;
    env_up(&p, NULL);
    assert_int_equal(virtio_net_link_up(net), 0);
    virtq_fake_net_set_link(fd, 1);
    assert_int_equal(virtio_net_link_up(net), 1);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.config_irqs, 1);
    assert_clean();
    env_down();
    /* Without STATUS negotiated the link is assumed up. */
    memset(&cfg, 0, sizeof cfg);
    cfg.features_off = VIRTQ_FEATURE(VIRTIO_NET_F_STATUS);
    env_up(&p, &cfg);
    assert_int_equal(net->features & VIRTQ_FEATURE(VIRTIO_NET_F_STATUS), 0);
    assert_int_equal(virtio_net_link_up(net), 1);
    assert_clean();
}

static void stop_and_reinit(void **state)
{
    struct virtq_fake_net_params p;
    unsigned i;
    int back;
    (void)state;
    params(&p, 1);
    p.loopback = 1;
    env_up(&p, NULL);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    for (i = 0; i < 5; i++)
        send_ok(i, 100);
    /* 64 receive buffers held by the device, 5 transmits not yet taken. */
    back = virtio_net_stop(net);
    assert_int_equal(back, (int)net->rx_num + 5);
    assert_int_equal(virtq_fake_status(fd), 0);
    assert_int_equal(virtio_net_tx_in_flight(net), 0);
    assert_int_equal(virtio_net_send(net, "0123456789abcdef", 16), VIRTQ_EINVAL); /* stopped */
    assert_int_equal(virtq_fake_net_rx_buffers(fd), 0);
    /* Again from the start, and it works. */
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    assert_int_equal(virtio_net_init(net, &vdev, NULL), VIRTQ_OK);
    send_ok(7, 200);
    poll_until(1);
    assert_int_equal(rx_n, 1);
    assert_int_equal(rx_seq[0], 7);
    assert_ring_full();
    assert_clean();
}

/* ---- waits: WFI main loop, device thread -------------------------------------------- */

static void cpu_isr(void *ctx)
{
    (void)virtq_dev_isr((struct virtq_dev *)ctx);
}

#define WIRE_FRAMES 300u

static void *wire_thread(void *arg)
{
    unsigned i;
    (void)arg;
    for (i = 0; i < WIRE_FRAMES; i++) {
        uint8_t f[VIRTIO_NET_FRAME_MAX];
        struct timespec ts = {0, (long)((i % 5) * 100000)}; /* 0..0.4 ms apart */
        make_frame(f, i, 60 + (i * 37) % 1455);
        if (virtq_fake_net_inject(fd, f, 60 + (i * 37) % 1455) < 0)
            break;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void wfi_main_loop(void **state)
{
    struct virtq_fake_net_params p;
    struct virtio_net_config cfg;
    struct virtq_fake_cpu_stats cs;
    pthread_t t;
    unsigned timeouts = 0;
    (void)state;
    params(&p, 2);
    p.backlog = 4096;
    memset(&cfg, 0, sizeof cfg);
    cfg.rx_buf_bytes = 256;
    env_up(&p, &cfg);
    /* Interrupts wired after init, as on a board. */
    virtq_fake_cpu_set_isr(cpu_isr, &vdev);
    virtq_fake_connect_irq(fd, 1);
    virtq_dev_irq_routed(&vdev, 1);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
    assert_int_equal(pthread_create(&t, NULL, wire_thread, NULL), 0);
    while (rx_n + rx_bad < WIRE_FRAMES && timeouts < 5) {
        int got = virtio_net_poll(net, on_frame, NULL, 16);
        assert_true(got >= 0);
        if (got == 0) {
            int rc = virtio_net_wait(net, 1000000);
            assert_true(rc == VIRTQ_OK || rc == VIRTQ_ETIMEDOUT);
            timeouts += rc == VIRTQ_ETIMEDOUT;
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(rx_n, WIRE_FRAMES);
    assert_int_equal(rx_bad, 0);
    assert_int_equal(timeouts, 0); /* no wake-up was lost */
    virtq_fake_cpu_get_stats(&cs);
    assert_true(cs.wfi_calls > 0);
    assert_true(cs.wfi_irq_wakes > 0);
    assert_int_equal(cs.wfi_stuck, 0);
    assert_true(vdev.irqs > 0);
    assert_ring_full();
    assert_clean();
}

/* A device thread takes transmits in random order and with delays; the
   peer echoes each one, so receive completions come from that thread. */
static void device_thread_echo(void **state)
{
    struct virtq_fake_net_params p;
    static uint8_t seen[2048];
    unsigned sent = 0, i;
    const unsigned total = 1500;
    /* A hang guard, not a timing check: generous, because on a loaded
       2-core machine the device thread may wait long for a CPU. */
    const uint64_t give_up = virtq_fake_now_us() + 60000000u;
    (void)state;
    params(&p, 2);
    p.backlog = 4096;
    env_up(&p, NULL);
    echo_peer = 1;
    memset(seen, 0, sizeof seen);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_OUT_OF_ORDER, 11);
    virtq_fake_set_thread_delay(fd, 50);
    assert_int_equal(virtq_fake_start_thread(fd), 0);
    while (rx_n + rx_bad < total && virtq_fake_now_us() < give_up) {
        int got;
        while (sent < total && sent - rx_n < 24) {
            uint8_t f[VIRTIO_NET_FRAME_MAX];
            int rc;
            make_frame(f, sent, 20 + (sent * 53) % 1495);
            rc = virtio_net_send(net, f, 20 + (sent * 53) % 1495);
            if (rc == VIRTQ_ENOSPC)
                break;
            assert_int_equal(rc, VIRTQ_OK);
            sent++;
        }
        got = virtio_net_poll(net, on_frame, NULL, 32);
        assert_true(got >= 0);
        if (got == 0)
            sched_yield(); /* let the device thread have the CPU */
    }
    virtq_fake_stop_thread(fd);
    if (rx_n != total)
        print_message("device_thread_echo: sent %u, received %u, tx completed %lu\n", sent, rx_n,
                      (unsigned long)net->stats.tx_completed);
    assert_int_equal(rx_n, total);
    assert_int_equal(rx_bad, 0);
    for (i = 0; i < total && i < LOG_MAX; i++) {
        assert_true(rx_seq[i] < total);
        assert_int_equal(seen[rx_seq[i]], 0); /* each exactly once */
        seen[rx_seq[i]] = 1;
    }
    assert_clean();
}

/* ---- non-coherent DMA: the fake's modelled write-back cache --------------------- */

/* A functional test with the fake modelling a non-coherent data cache over
   buffer memory (seeded).  The frames must arrive intact, the fake stay
   silent, and the model must have been exercised. */
static void in_cache_mode(void (*fn)(void **), uint64_t seed)
{
    virtq_fake_cache_enable(seed);
    fn(NULL);
    if (fd)
        env_down();
    virtq_fake_cache_assert_exercised(0);
}

static void cache_loopback(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        in_cache_mode(loopback_every_size, seed);
}

static void cache_mergeable(void **state)
{
    (void)state;
    in_cache_mode(mergeable_buffers, 4);
}

static void cache_burst(void **state)
{
    (void)state;
    in_cache_mode(burst_larger_than_ring, 5);
}

static void cache_tx_full(void **state)
{
    (void)state;
    in_cache_mode(tx_full_and_reclaim, 6);
    in_cache_mode(header_sizes, 7);
}

/* The device on its own thread (echoing, out of order) and a wire thread
   feeding frames while the driver sleeps in wfi. */
static void threaded_in_cache_mode(void **state)
{
    (void)state;
    in_cache_mode(device_thread_echo, 8);
    in_cache_mode(wfi_main_loop, 9);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(negotiate_modern, teardown),
        cmocka_unit_test_teardown(header_sizes, teardown),
        cmocka_unit_test_teardown(loopback_every_size, teardown),
        cmocka_unit_test_teardown(mergeable_buffers, teardown),
        cmocka_unit_test_teardown(burst_larger_than_ring, teardown),
        cmocka_unit_test_teardown(hostile_rx_headers, teardown),
        cmocka_unit_test_teardown(tx_full_and_reclaim, teardown),
        cmocka_unit_test_teardown(tx_renotify_after_silent_waits, teardown),
        cmocka_unit_test_teardown(wait_reports_broken_tx, teardown),
        cmocka_unit_test_teardown(bad_arguments, teardown),
        cmocka_unit_test_teardown(link_status, teardown),
        cmocka_unit_test_teardown(stop_and_reinit, teardown),
        cmocka_unit_test_teardown(wfi_main_loop, teardown),
        cmocka_unit_test_teardown(device_thread_echo, teardown),
        cmocka_unit_test_teardown(cache_loopback, teardown),
        cmocka_unit_test_teardown(cache_mergeable, teardown),
        cmocka_unit_test_teardown(cache_burst, teardown),
        cmocka_unit_test_teardown(cache_tx_full, teardown),
        cmocka_unit_test_teardown(threaded_in_cache_mode, teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* e.g. 'cache_*' */
    int rc = cmocka_run_group_tests_name("virtio-net", tests, NULL, NULL);
    virtq_fake_lowmem_free(net);
    return rc;
}
