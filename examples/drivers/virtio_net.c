/* SPDX-License-Identifier: MIT */
/* virtio_net.c — the portable virtio-net driver.  See virtio_net.h. */
#include "virtio_net.h"

#include <string.h>

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* Buffer index of a receive or transmit cookie (the buffer's address). */
static unsigned rx_index(const struct virtio_net *n, const void *cookie)
{
    return (unsigned)((size_t)((const uint8_t *)cookie - &n->rx_buf[0][0]) / VIRTIO_NET_BUF_BYTES);
}

static unsigned tx_index(const struct virtio_net *n, const void *cookie)
{
    return (unsigned)((size_t)((const uint8_t *)cookie - &n->tx_buf[0][0]) / VIRTIO_NET_BUF_BYTES);
}

/* Descriptors one buffer takes: two when the legacy header must sit alone
   ("Legacy Interface: Framing Requirements"). */
static unsigned descs_per_buf(const struct virtio_net *n)
{
    return n->split_hdr ? 2u : 1u;
}

/* Give receive buffer i to the device (not yet published). */
static int rx_post(struct virtio_net *n, unsigned i)
{
    uint8_t *b = n->rx_buf[i];
    struct virtq_buf seg[2];
    unsigned nseg = 1;
    if (n->split_hdr) {
        seg[0].addr = b;
        seg[0].len = n->hdr_len;
        seg[1].addr = b + n->hdr_len;
        seg[1].len = n->rx_buf_bytes - n->hdr_len;
        nseg = 2;
    } else {
        seg[0].addr = b;
        seg[0].len = n->rx_buf_bytes;
    }
    return virtq_add(&n->rx, seg, 0, nseg, b);
}

/* Take every finished transmit buffer back. */
static int tx_reclaim(struct virtio_net *n)
{
    void *cookie;
    int rc;
    /* The used length of a transmit buffer means nothing (legacy devices
       put junk there, "Legacy Interface: Device Operation"): not read. */
    while ((rc = virtq_get(&n->tx, &cookie, NULL)) == VIRTQ_OK) {
        n->tx_free[n->tx_nfree++] = (uint16_t)tx_index(n, cookie);
        n->stats.tx_completed++;
    }
    return rc == VIRTQ_EAGAIN ? VIRTQ_OK : rc;
}

/* virtio_net_init, step 2b: what the negotiated features mean for the
   header and the receive buffers. */
static void net__layout(struct virtio_net *n, const struct virtio_net_config *cfg)
{
    n->features = n->dev->features;
    n->mergeable = (n->features & VIRTQ_FEATURE(VIRTIO_NET_F_MRG_RXBUF)) != 0;
    /* "Device Operation": num_buffers exists with VERSION_1 or MRG_RXBUF
       ("Legacy Interface: Device Operation": 2 bytes shorter without). */
    n->hdr_len = ((n->features & VIRTQ_FEATURE(VIRTIO_F_VERSION_1)) || n->mergeable)
                     ? VIRTIO_NET_HDR_BYTES
                     : VIRTIO_NET_HDR_LEGACY_BYTES;
    n->split_hdr = !(n->features & VIRTQ_FEATURE(VIRTIO_F_VERSION_1)) &&
                   !(n->features & VIRTQ_FEATURE(VIRTIO_F_ANY_LAYOUT));
    /* "Setting Up Receive Buffers": without MRG_RXBUF a buffer holds the
       header and a 1514-byte frame (1526 bytes); with it any size from the
       header up, the packet then spans num_buffers of them. */
    n->rx_buf_bytes = VIRTIO_NET_BUF_BYTES;
    if (n->mergeable && cfg->rx_buf_bytes != 0u)
        n->rx_buf_bytes = cfg->rx_buf_bytes;

}

/* virtio_net_init, step 3: the MAC, the device's with VIRTIO_NET_F_MAC,
   else a locally administered one ("Device configuration layout"). */
static int net__read_mac(struct virtio_net *n, struct virtq_dev *dev)
{
    int rc;
    if (n->features & VIRTQ_FEATURE(VIRTIO_NET_F_MAC)) {
        rc = virtq_dev_config_read_bytes(dev, VIRTIO_NET_CFG_MAC, n->mac, 6);
        if (rc != VIRTQ_OK)
            return rc;
    } else {
        uint32_t b = (uint32_t)dev->base;
        n->mac[0] = 0x02; /* locally administered, unicast */
        n->mac[1] = 0x76;
        n->mac[2] = (uint8_t)(b >> 24);
        n->mac[3] = (uint8_t)(b >> 16);
        n->mac[4] = (uint8_t)(b >> 8);
        n->mac[5] = (uint8_t)b;
    }
    return VIRTQ_OK;
}

/* virtio_net_init, step 4: receiveq1 and transmitq1 ("Virtqueues"). */
static int net__setup_queues(struct virtio_net *n, struct virtq_dev *dev)
{
    unsigned i;
    int rc;
    rc = virtq_dev_queue_setup(dev, &n->rx, VIRTIO_NET_RX_ID, VIRTIO_NET_RX_NUM, n->rx_ring, n->rx_slot);
    if (rc != VIRTQ_OK)
        return rc;
    rc = virtq_dev_queue_setup(dev, &n->tx, VIRTIO_NET_TX_ID, VIRTIO_NET_TX_NUM, n->tx_ring, n->tx_slot);
    if (rc != VIRTQ_OK)
        return rc;
    /* Legacy devices may report the whole buffer as "used" on transmit;
       the length is not read here, so don't let it break the queue. */
    if (dev->version == 1u)
        virtq_ignore_used_len(&n->tx, true);
    n->rx_num = (uint16_t)(n->rx.num / descs_per_buf(n));
    n->tx_num = (uint16_t)(n->tx.num / descs_per_buf(n));
    if (n->rx_num == 0u || n->tx_num == 0u)
        return VIRTQ_ENOTSUP; /* a one-entry ring cannot hold a split buffer */
    for (i = 0; i < n->tx_num; i++)
        n->tx_free[i] = (uint16_t)(n->tx_num - 1u - i);
    n->tx_nfree = n->tx_num;
    /* "Packet Transmission Interrupt": completions are reclaimed on the
       next send or poll; virtio_net_wait_tx() re-arms while it waits. */
    virtq_disable_intr(&n->tx);
    return VIRTQ_OK;
}

int virtio_net_init(struct virtio_net *n, struct virtq_dev *dev, const struct virtio_net_config *cfg)
{
    static const struct virtio_net_config defaults = {0, 0, 0};
    uint64_t wanted;
    unsigned i, nbufs;
    int rc;

    if (n == NULL || dev == NULL)
        return VIRTQ_EINVAL;
    if (cfg == NULL)
        cfg = &defaults;
    if (cfg->rx_buf_bytes != 0u &&
        (cfg->rx_buf_bytes < VIRTIO_NET_RX_BUF_MIN || cfg->rx_buf_bytes > VIRTIO_NET_BUF_BYTES))
        return VIRTQ_EINVAL;
    if (dev->device_id != VIRTIO_ID_NET)
        return VIRTQ_ENODEV;
    memset(n, 0, sizeof *n);
    n->dev = dev;

    /* 1. Reset, ACKNOWLEDGE, DRIVER, read the offered features. */
    rc = virtq_dev_begin(dev);
    if (rc != VIRTQ_OK)
        return rc;

    /* 2. Accept only what is implemented here: no checksum or
       segmentation offload, no control queue ("Feature bits"). */
    wanted = VIRTQ_FEATURE(VIRTIO_NET_F_MAC) | VIRTQ_FEATURE(VIRTIO_NET_F_STATUS) |
             VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    if (!cfg->no_mrg_rxbuf)
        wanted |= VIRTQ_FEATURE(VIRTIO_NET_F_MRG_RXBUF);
    if (dev->version == 1u)
        wanted |= VIRTQ_FEATURE(VIRTIO_F_ANY_LAYOUT);
    wanted &= ~cfg->features_off;
    rc = virtq_dev_negotiate(dev, wanted, 0);
    if (rc != VIRTQ_OK)
        return rc;
    net__layout(n, cfg);

    /* 3. The MAC. */
    rc = net__read_mac(n, dev);
    if (rc != VIRTQ_OK)
        goto fail;

    /* 4. receiveq1 and transmitq1 ("Virtqueues"). */
    rc = net__setup_queues(n, dev);
    if (rc != VIRTQ_OK)
        goto fail;

    /* 5. DRIVER_OK, then fill the receive ring ("Device Initialization":
       notifications only go to a live device). */
    rc = virtq_dev_driver_ok(dev);
    if (rc != VIRTQ_OK)
        goto fail;
    nbufs = n->rx_num;
    for (i = 0; i < nbufs; i++) {
        rc = rx_post(n, i);
        if (rc != VIRTQ_OK)
            goto fail;
    }
    rc = virtq_dev_kick(dev, &n->rx);
    if (rc != VIRTQ_OK)
        goto fail;
    n->up = 1;
    return VIRTQ_OK;

fail:
    virtq_dev_fail(dev);
    return rc;
}

const uint8_t *virtio_net_mac(const struct virtio_net *n)
{
    return n->mac;
}

int virtio_net_link_up(struct virtio_net *n)
{
    uint16_t st;
    int rc;
    if (n == NULL || n->dev == NULL)
        return VIRTQ_EINVAL;
    /* "Device configuration layout": without STATUS assume the link up. */
    if (!(n->features & VIRTQ_FEATURE(VIRTIO_NET_F_STATUS)))
        return 1;
    rc = virtq_dev_config_read16(n->dev, VIRTIO_NET_CFG_STATUS, &st);
    if (rc != VIRTQ_OK)
        return rc;
    return (st & VIRTIO_NET_S_LINK_UP) != 0;
}

int virtio_net_send(struct virtio_net *n, const void *frame, uint32_t len)
{
    struct virtq_buf seg[2];
    unsigned nseg = 1;
    uint16_t i;
    uint8_t *b;
    int rc;

    if (n == NULL || !n->up || frame == NULL || len < VIRTIO_NET_ETH_HDR || len > VIRTIO_NET_FRAME_MAX)
        return VIRTQ_EINVAL;
    rc = tx_reclaim(n);
    if (rc != VIRTQ_OK)
        return rc;
    if (n->tx_nfree == 0u) {
        n->stats.tx_full++;
        return VIRTQ_ENOSPC;
    }
    i = n->tx_free[n->tx_nfree - 1u];
    b = n->tx_buf[i];
    /* "Packet Transmission": flags 0 (no CSUM), GSO_NONE, num_buffers 0. */
    memset(b, 0, n->hdr_len);
    memcpy(b + n->hdr_len, frame, len);
    if (n->split_hdr) {
        seg[0].addr = b;
        seg[0].len = n->hdr_len;
        seg[1].addr = b + n->hdr_len;
        seg[1].len = len;
        nseg = 2;
    } else {
        seg[0].addr = b;
        seg[0].len = n->hdr_len + len;
    }
    rc = virtq_add(&n->tx, seg, nseg, 0, b);
    if (rc != VIRTQ_OK)
        return rc;
    n->tx_nfree--;
    n->stats.tx_frames++;
    n->stats.tx_bytes += len;
    return virtq_dev_kick(n->dev, &n->tx);
}

/* End of a frame: hand it over (or count the drop). */
static int rx_deliver(struct virtio_net *n, const uint8_t *frame, uint32_t len, uint32_t bufs, int bad,
                      virtio_net_rx_fn fn, void *ctx)
{
    if (bad || len < VIRTIO_NET_ETH_HDR || len > VIRTIO_NET_FRAME_MAX) {
        n->stats.rx_dropped++;
        return 0;
    }
    n->stats.rx_frames++;
    n->stats.rx_bytes += len;
    if (bufs > 1u)
        n->stats.rx_merged++;
    if (bufs > n->stats.rx_max_buffers)
        n->stats.rx_max_buffers = bufs;
    if (fn != NULL)
        fn(ctx, frame, len);
    return 1;
}

/* One used receive buffer of len bytes: the start of a frame or the next
   part of one ("Processing of Incoming Packets").  Returns frames
   delivered (0 or 1). */
static int rx_one(struct virtio_net *n, unsigned i, uint32_t len, virtio_net_rx_fn fn, void *ctx)
{
    const uint8_t *b = n->rx_buf[i];
    int done = 0;

    if (n->asm_left == 0u) {
        uint32_t nb, dlen;
        int bad;
        if (len < n->hdr_len) {
            n->stats.rx_dropped++; /* not even a header */
            return 0;
        }
        /* flags: nothing negotiated gives them a meaning, ignore them. */
        bad = b[1] != VIRTIO_NET_HDR_GSO_NONE;
        nb = n->mergeable ? le16(b + 10) : 1u;
        dlen = len - n->hdr_len;
        if (nb == 0u || nb > n->rx_num) {
            n->stats.rx_dropped++; /* cannot be: drop this buffer alone */
            return 0;
        }
        if (nb == 1u)
            return rx_deliver(n, b + n->hdr_len, dlen, 1, bad, fn, ctx);
        /* "the device MUST use all buffers but the last completely" */
        if (len != n->rx_buf_bytes || dlen > VIRTIO_NET_FRAME_MAX)
            bad = 1;
        else
            memcpy(n->asm_frame, b + n->hdr_len, dlen);
        n->asm_len = dlen;
        n->asm_bad = (uint8_t)bad;
        n->asm_bufs = nb;
        n->asm_left = (uint16_t)(nb - 1u);
        return 0;
    }
    /* Later buffers carry no header. */
    n->asm_left--;
    if (n->asm_left != 0u && len != n->rx_buf_bytes)
        n->asm_bad = 1;
    if (!n->asm_bad && len <= VIRTIO_NET_FRAME_MAX - n->asm_len)
        memcpy(n->asm_frame + n->asm_len, b, len);
    else
        n->asm_bad = 1;
    n->asm_len += len;
    if (n->asm_left == 0u)
        done = rx_deliver(n, n->asm_frame, n->asm_len, n->asm_bufs, n->asm_bad, fn, ctx);
    return done;
}

int virtio_net_poll(struct virtio_net *n, virtio_net_rx_fn fn, void *ctx, unsigned budget)
{
    int delivered = 0, rc;

    if (n == NULL || !n->up || n->in_poll)
        return VIRTQ_EINVAL;
    n->in_poll = 1;
    rc = tx_reclaim(n);
    if (rc != VIRTQ_OK)
        goto out;
    /* "Processing of Incoming Packets": no interrupts while draining... */
    virtq_disable_intr(&n->rx);
    for (;;) {
        while ((unsigned)delivered < budget) {
            void *cookie;
            uint32_t len;
            unsigned i;
            rc = virtq_get(&n->rx, &cookie, &len);
            if (rc == VIRTQ_EAGAIN)
                break;
            if (rc != VIRTQ_OK)
                goto out;
            i = rx_index(n, cookie);
            /* Non-coherent DMA: drop the CPU's stale copy of what the
               device wrote (len is bounded by what was posted). */
            virtq_dma_sync_for_cpu(n->rx_buf[i], len);
            delivered += rx_one(n, i, len, fn, ctx);
            /* Refill at once: the frame was consumed or copied. */
            rc = rx_post(n, i);
            if (rc != VIRTQ_OK)
                goto out;
            n->stats.rx_reposted++;
            rc = virtq_dev_kick(n->dev, &n->rx);
            if (rc != VIRTQ_OK)
                goto out;
        }
        /* ...then re-arm and look once more: a buffer used between the
           last get and the re-arm raises no interrupt.  true also for a
           broken queue: the next virtq_get() reports it. */
        if (!virtq_enable_intr(&n->rx) || (unsigned)delivered >= budget)
            break;
    }
    rc = delivered;
out:
    n->in_poll = 0;
    return rc;
}

/* After a wait that ran out: a transmit queue that kept buffers and gave
   none back over two such waits in a row is notified again.  A working
   device reads avail.idx, finds nothing new and carries on; a device that
   missed the notification takes the buffers.  Seen under QEMU 7.2 (TCG, a
   loaded host, 1 boot in a few hundred): virtio-net stopped with 8 frames
   available and avail_event already past them, so no later publish asked
   for a kick ("Driver notifications": the driver only kicks when the new
   avail.idx crosses avail_event), and the link stayed silent for good. */
static int tx_watchdog(struct virtio_net *n, int rc)
{
    int rrc;
    if (rc != VIRTQ_ETIMEDOUT) {
        n->tx_watch = 0;
        return rc;
    }
    rrc = tx_reclaim(n);
    if (rrc != VIRTQ_OK || n->tx_nfree == n->tx_num) {
        n->tx_watch = 0;
        return rrc != VIRTQ_OK ? rrc : rc; /* a broken transmit queue says so */
    }
    if (n->tx_watch && n->tx_watch_done == n->stats.tx_completed) {
        virtq_dev_notify(n->dev, &n->tx);
        n->stats.tx_renotified++;
    }
    n->tx_watch = 1;
    n->tx_watch_done = n->stats.tx_completed;
    return rc;
}

int virtio_net_wait(struct virtio_net *n, uint32_t timeout_us)
{
    if (n == NULL || !n->up)
        return VIRTQ_EINVAL;
    return tx_watchdog(n, virtq_wait(n->dev, &n->rx, timeout_us));
}

int virtio_net_wait_tx(struct virtio_net *n, uint32_t timeout_us)
{
    int rc;
    if (n == NULL || !n->up)
        return VIRTQ_EINVAL;
    rc = tx_reclaim(n);
    if (rc != VIRTQ_OK || n->tx_nfree != 0u)
        return rc;
    rc = virtq_wait(n->dev, &n->tx, timeout_us);
    virtq_disable_intr(&n->tx); /* virtq_wait armed it (WFI, OS) */
    rc = tx_watchdog(n, rc);
    if (rc != VIRTQ_OK)
        return rc;
    rc = tx_reclaim(n);
    if (rc == VIRTQ_OK && n->tx_nfree == 0u)
        rc = VIRTQ_ETIMEDOUT; /* cannot be: virtq_wait saw a used buffer */
    return rc;
}

unsigned virtio_net_tx_in_flight(const struct virtio_net *n)
{
    return n == NULL ? 0u : (unsigned)(n->tx_num - n->tx_nfree);
}

int virtio_net_stop(struct virtio_net *n)
{
    void *cookie;
    int rc, back = 0;
    if (n == NULL || n->dev == NULL)
        return VIRTQ_EINVAL;
    n->up = 0;
    rc = virtq_dev_reset(n->dev);
    if (rc != VIRTQ_OK)
        return rc;
    /* The device no longer touches the rings: every buffer comes back. */
    while (virtq_detach(&n->rx, &cookie) == VIRTQ_OK)
        back++;
    while (virtq_detach(&n->tx, &cookie) == VIRTQ_OK) {
        n->tx_free[n->tx_nfree++] = (uint16_t)tx_index(n, cookie);
        back++;
    }
    n->asm_left = 0;
    return back;
}
