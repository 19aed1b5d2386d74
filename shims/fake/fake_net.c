/* SPDX-License-Identifier: MIT */
/* fake_net.c — the virtio-net model.  See fake_net.h. */
#define _GNU_SOURCE
#include "fake_net.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NET_FEAT "5.1.3 \"Feature bits\" (Network Device)"
#define S_NET_TX "5.1.6.2.1 \"Driver Requirements: Packet Transmission\""
#define S_NET_RXBUF "5.1.6.3.1 \"Driver Requirements: Setting Up Receive Buffers\""
#define S_NET_LEGACY "\"Legacy Interface: Framing Requirements\" (Network Device)"
#define S_NET_CTRL "5.1.6.5 \"Control Virtqueue\""

/* Feature bits ("Feature bits", Network Device), private to the model. */
#define FN_CSUM 0
#define FN_GUEST_CSUM 1
#define FN_CTRL_GUEST_OFFLOADS 2
#define FN_MTU 3
#define FN_MAC 5
#define FN_GUEST_TSO4 7
#define FN_GUEST_TSO6 8
#define FN_GUEST_ECN 9
#define FN_GUEST_UFO 10
#define FN_HOST_TSO4 11
#define FN_HOST_TSO6 12
#define FN_HOST_ECN 13
#define FN_HOST_UFO 14
#define FN_MRG_RXBUF 15
#define FN_STATUS 16
#define FN_CTRL_VQ 17
#define FN_CTRL_RX 18
#define FN_CTRL_VLAN 19
#define FN_GUEST_ANNOUNCE 21
#define FN_MQ 22
#define FN_CTRL_MAC_ADDR 23
#define FN_ANY_LAYOUT 27
#define F(b) VIRTQ_FEATURE(b)

/* What the model does not implement: accepting any of these is refused. */
#define UNIMPLEMENTED                                                                                       \
    (F(FN_CSUM) | F(FN_GUEST_CSUM) | F(FN_CTRL_GUEST_OFFLOADS) | F(FN_GUEST_TSO4) | F(FN_GUEST_TSO6) |     \
     F(FN_GUEST_ECN) | F(FN_GUEST_UFO) | F(FN_HOST_TSO4) | F(FN_HOST_TSO6) | F(FN_HOST_ECN) |                \
     F(FN_HOST_UFO) | F(FN_CTRL_VQ) | F(FN_CTRL_RX) | F(FN_CTRL_VLAN) | F(FN_GUEST_ANNOUNCE) | F(FN_MQ) |      \
     F(FN_CTRL_MAC_ADDR))
#define LURES (F(FN_CSUM) | F(FN_GUEST_CSUM) | F(FN_GUEST_TSO4) | F(FN_HOST_TSO4) | F(FN_CTRL_VQ))

#define CFG_BYTES 12u  /* mac[6], status, max_virtqueue_pairs, mtu */
#define HDR_FULL 12u
#define HDR_LEGACY 10u
#define ETH_MIN 14u

struct frame {
    uint32_t len;
    int has_fault;
    struct virtq_fake_net_rx_fault fault;
    uint8_t data[VIRTQ_FAKE_NET_FRAME_MAX];
};

/* One receive buffer a frame goes into, and the bytes written there. */
struct place {
    struct virtq_fake_req *req;
    uint32_t written;
};

struct net {
    struct virtq_fake_dev *dev;
    pthread_mutex_t mu; /* the fields below; never held while calling the core */
    int version, loopback;
    virtq_fake_net_tx_fn peer;
    void *peer_ctx;
    /* receive buffers held, oldest first */
    struct virtq_fake_req **fifo;
    unsigned fifo_head, fifo_n, fifo_cap;
    /* frames waiting for buffers */
    struct frame *bl;
    unsigned bl_head, bl_n, bl_cap;
    struct virtq_fake_net_stats st;
};

/* The fields of struct virtio_net_config, with the bit that makes each
   exist ("Device configuration layout": mac always exists). */
static const struct virtq_fake_cfg_field net_fields[] = {
    {0, 6, 1, 0, -1},        /* mac */
    {6, 2, 2, 0, FN_STATUS}, /* status */
    {8, 2, 2, 0, FN_MQ},     /* max_virtqueue_pairs */
    {10, 2, 2, 0, FN_MTU},   /* mtu */
};

static uint64_t negotiated(struct virtq_fake_dev *dev)
{
    return virtq_fake_driver_features(dev);
}

uint32_t virtq_fake_net_hdr_len(struct virtq_fake_dev *dev)
{
    uint64_t f = negotiated(dev);
    /* "Device Operation": num_buffers is there with VERSION_1 or
       MRG_RXBUF; "Legacy Interface: Device Operation": 2 bytes shorter. */
    return (f & (F(VIRTIO_F_VERSION_1) | F(FN_MRG_RXBUF))) ? HDR_FULL : HDR_LEGACY;
}

/* Legacy without ANY_LAYOUT: the header alone in the first descriptor. */
static int legacy_framing(struct virtq_fake_dev *dev)
{
    return !(negotiated(dev) & (F(VIRTIO_F_VERSION_1) | F(FN_ANY_LAYOUT)));
}

static struct virtq_fake_req *fifo_at(const struct net *m, unsigned k)
{
    return m->fifo[(m->fifo_head + k) % m->fifo_cap];
}

static void fifo_pop(struct net *m, unsigned k)
{
    m->fifo_head = (m->fifo_head + k) % m->fifo_cap;
    m->fifo_n -= k;
}

/* ---- placing a frame into receive buffers ------------------------------ */

/* Choose the buffers for a frame: the held ones oldest first, then cur
   (the buffer being posted right now, if any).  Returns the number used,
   0 when there are too few (the frame waits), -1 when it can never fit
   (without MRG_RXBUF: a buffer too small; then it is dropped). */
static int plan(struct net *m, uint32_t hdr, int mrg, const struct frame *f, struct virtq_fake_req *cur,
                struct place *out)
{
    uint32_t left = hdr + f->len;
    unsigned avail = m->fifo_n + (cur != NULL), k = 0;
    while (left > 0u) {
        struct virtq_fake_req *r;
        uint32_t cap;
        if (k >= avail)
            return 0;
        r = k < m->fifo_n ? fifo_at(m, k) : cur;
        cap = r->writable;
        if (k == 0u && f->has_fault && f->fault.short_fill > 0)
            cap = cap > (uint32_t)f->fault.short_fill ? cap - (uint32_t)f->fault.short_fill : 0u;
        if (!mrg && cap < left)
            return -1;
        if (k == 0u && cap < hdr)
            return -1;
        out[k].req = r;
        out[k].written = cap < left ? cap : left;
        left -= out[k].written;
        k++;
    }
    return (int)k;
}

/* Write the header and the frame into the planned buffers. */
static void fill(struct net *m, uint32_t hdr, const struct frame *f, struct place *p, int n)
{
    uint8_t h[HDR_FULL];
    uint32_t off = 0;
    int i, nb = n;
    memset(h, 0, sizeof h);
    if (f->has_fault) {
        h[0] = f->fault.flags;
        h[1] = f->fault.gso_type;
        if (f->fault.num_buffers >= 0)
            nb = f->fault.num_buffers;
    }
    /* "Processing of Incoming Packets": num_buffers in the first header
       only; later buffers carry frame bytes alone. */
    h[10] = (uint8_t)nb;
    h[11] = (uint8_t)(nb >> 8);
    virtq_fake_req_write(p[0].req, 0, h, hdr);
    for (i = 0; i < n; i++) {
        uint32_t start = i == 0 ? hdr : 0u, len = p[i].written - start;
        virtq_fake_req_write(p[i].req, start, f->data + off, len);
        off += len;
    }
    if (f->has_fault && f->fault.first_len >= 0 && (uint32_t)f->fault.first_len <= p[0].req->writable)
        p[0].written = (uint32_t)f->fault.first_len;
    m->st.rx_frames++;
    m->st.rx_bytes += f->len;
    m->st.rx_buffers += (uint32_t)n;
    if (n > 1)
        m->st.rx_merged++;
    if ((uint32_t)n > m->st.max_num_buffers)
        m->st.max_num_buffers = (uint32_t)n;
}

static void complete_all(struct net *m, struct place *p, int n)
{
    int i;
    for (i = 0; i < n; i++)
        virtq_fake_req_complete(m->dev, p[i].req, p[i].written);
}

static int backlog_push(struct net *m, const struct frame *f)
{
    if (m->bl_n == m->bl_cap) {
        m->st.dropped++;
        return -1;
    }
    m->bl[(m->bl_head + m->bl_n) % m->bl_cap] = *f;
    m->bl_n++;
    m->st.backlogged++;
    if (m->bl_n > m->st.backlog_max)
        m->st.backlog_max = m->bl_n;
    return 0;
}

static int deliver(struct virtq_fake_dev *dev, const void *data, uint32_t len,
                   const struct virtq_fake_net_rx_fault *fault)
{
    struct net *m = virtq_fake_model_ctx(dev);
    struct frame *f;
    struct place *p;
    uint32_t hdr;
    int n, rc, mrg;
    if (data == NULL || len < ETH_MIN || len > VIRTQ_FAKE_NET_FRAME_MAX) {
        pthread_mutex_lock(&m->mu);
        m->st.dropped++;
        pthread_mutex_unlock(&m->mu);
        return -1;
    }
    f = malloc(sizeof *f);
    p = malloc(sizeof *p * (m->fifo_cap + 1u));
    if (f == NULL || p == NULL) {
        free(f);
        free(p);
        return -1;
    }
    f->len = len;
    memcpy(f->data, data, len);
    f->has_fault = fault != NULL;
    if (fault)
        f->fault = *fault;
    /* The core's lock is never taken with ours held (the core calls the
       model with its own held): features first. */
    hdr = virtq_fake_net_hdr_len(dev);
    mrg = (negotiated(dev) & F(FN_MRG_RXBUF)) != 0;
    pthread_mutex_lock(&m->mu);
    /* Frames stay in order: behind a backlog, a new one waits too. */
    n = m->bl_n ? 0 : plan(m, hdr, mrg, f, NULL, p);
    if (n > 0) {
        fill(m, hdr, f, p, n);
        fifo_pop(m, (unsigned)n);
        rc = 1;
    } else if (n == 0) {
        rc = backlog_push(m, f);
    } else {
        m->st.dropped++;
        rc = -1;
    }
    pthread_mutex_unlock(&m->mu);
    if (n > 0)
        complete_all(m, p, n);
    free(f);
    free(p);
    return rc;
}

int virtq_fake_net_inject(struct virtq_fake_dev *dev, const void *frame, uint32_t len)
{
    return deliver(dev, frame, len, NULL);
}

int virtq_fake_net_inject_fault(struct virtq_fake_dev *dev, const void *frame, uint32_t len,
                                const struct virtq_fake_net_rx_fault *fault)
{
    static const struct virtq_fake_net_rx_fault none = {-1, 0, 0, -1, 0};
    return deliver(dev, frame, len, fault ? fault : &none);
}

/* ---- requests ------------------------------------------------------------- */

/* A receive buffer the driver made available. */
static uint32_t rx_request(struct net *m, struct virtq_fake_dev *dev, struct virtq_fake_req *req)
{
    uint32_t hdr = virtq_fake_net_hdr_len(dev), cur_written = VIRTQ_FAKE_HELD;
    int mrg = (negotiated(dev) & F(FN_MRG_RXBUF)) != 0, n, total = 0;
    struct place *done;

    if (req->readable != 0u) {
        virtq_fake_violation(dev, "%s: receive buffer with %u device-readable bytes", S_NET_RXBUF, req->readable);
        goto bad;
    }
    if (mrg && req->writable < hdr) {
        virtq_fake_violation(dev, "%s: with VIRTIO_NET_F_MRG_RXBUF each buffer MUST be at least the %u-byte header, "
                                  "got %u", S_NET_RXBUF, hdr, req->writable);
        goto bad;
    }
    if (!mrg && req->writable < hdr + VIRTQ_FAKE_NET_FRAME_MAX) {
        virtq_fake_violation(dev, "%s: without VIRTIO_NET_F_MRG_RXBUF buffers hold header + 1514 bytes (%u), got %u",
                             S_NET_RXBUF, hdr + VIRTQ_FAKE_NET_FRAME_MAX, req->writable);
        goto bad;
    }
    if (legacy_framing(dev) && req->seg[0].len != hdr) {
        virtq_fake_violation(dev, "%s: without VIRTIO_F_ANY_LAYOUT the %u-byte header takes the first "
                                  "descriptor alone, got %u bytes", S_NET_LEGACY, hdr, req->seg[0].len);
        goto bad;
    }

    done = malloc(sizeof *done * (m->fifo_cap + 1u) * 2u);
    if (done == NULL)
        goto bad;
    pthread_mutex_lock(&m->mu);
    m->st.rx_posted++;
    /* Frames waiting for buffers go first, in order; this buffer (the
       newest) can only be the last one used. */
    while (m->bl_n > 0u && req != NULL) {
        struct frame *f = &m->bl[m->bl_head];
        struct place *p = done + total;
        n = plan(m, hdr, mrg, f, req, p);
        if (n == 0)
            break;
        if (n > 0) {
            fill(m, hdr, f, p, n);
            if (p[n - 1].req == req) { /* used: completed by our return */
                cur_written = p[n - 1].written;
                fifo_pop(m, (unsigned)n - 1u);
                req = NULL;
                n--;
            } else {
                fifo_pop(m, (unsigned)n);
            }
            total += n;
        } else {
            m->st.dropped++;
        }
        m->bl_head = (m->bl_head + 1u) % m->bl_cap;
        m->bl_n--;
    }
    if (req != NULL)
        m->fifo[(m->fifo_head + m->fifo_n++) % m->fifo_cap] = req;
    pthread_mutex_unlock(&m->mu);
    complete_all(m, done, total);
    free(done);
    return cur_written;

bad:
    pthread_mutex_lock(&m->mu);
    m->st.rx_bad++;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

/* A transmitted frame: check the header and the framing, then hand it on. */
static uint32_t tx_request(struct net *m, struct virtq_fake_dev *dev, struct virtq_fake_req *req)
{
    uint32_t hdr = virtq_fake_net_hdr_len(dev), len;
    uint8_t h[HDR_FULL], *frame;
    uint16_t nb;

    if (req->writable != 0u) {
        virtq_fake_violation(dev, "%s: transmit buffer with %u device-writable bytes", S_NET_TX, req->writable);
        goto bad;
    }
    if (req->readable < hdr + ETH_MIN || req->readable > hdr + VIRTQ_FAKE_NET_FRAME_MAX) {
        virtq_fake_violation(dev, "%s: transmit buffer of %u bytes: want the %u-byte header and a 14..1514-byte "
                                  "frame (no GSO negotiated)", S_NET_TX, req->readable, hdr);
        goto bad;
    }
    if (legacy_framing(dev) && req->seg[0].len != hdr) {
        virtq_fake_violation(dev, "%s: without VIRTIO_F_ANY_LAYOUT the %u-byte header takes the first "
                                  "descriptor alone, got %u bytes", S_NET_LEGACY, hdr, req->seg[0].len);
        goto bad;
    }
    memset(h, 0, sizeof h);
    virtq_fake_req_read(req, 0, h, hdr);
    nb = (uint16_t)(h[10] | (h[11] << 8));
    if (h[0] != 0) {
        virtq_fake_violation(dev, "%s: flags %#x without VIRTIO_NET_F_CSUM: the driver MUST set flags to zero",
                             S_NET_TX, h[0]);
        goto bad;
    }
    if (h[1] != 0) {
        virtq_fake_violation(dev, "%s: gso_type %#x with no segmentation offload negotiated: MUST be "
                                  "VIRTIO_NET_HDR_GSO_NONE", S_NET_TX, h[1]);
        goto bad;
    }
    if (hdr == HDR_FULL && nb != 0u) {
        virtq_fake_violation(dev, "%s: num_buffers %u: the driver MUST set num_buffers to zero", S_NET_TX, nb);
        goto bad;
    }
    len = req->readable - hdr;
    frame = malloc(len);
    if (frame == NULL)
        goto bad;
    virtq_fake_req_read(req, hdr, frame, len);
    pthread_mutex_lock(&m->mu);
    m->st.tx_frames++;
    m->st.tx_bytes += len;
    pthread_mutex_unlock(&m->mu);
    if (m->peer)
        m->peer(m->peer_ctx, dev, frame, len);
    if (m->loopback)
        (void)virtq_fake_net_inject(dev, frame, len);
    free(frame);
    return 0;

bad:
    pthread_mutex_lock(&m->mu);
    m->st.tx_bad++;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

static uint32_t net_request(struct virtq_fake_dev *dev, void *ctx, struct virtq_fake_req *req)
{
    struct net *m = ctx;
    if (req->queue == VIRTQ_FAKE_NET_RX)
        return rx_request(m, dev, req);
    if (req->queue == VIRTQ_FAKE_NET_TX)
        return tx_request(m, dev, req);
    virtq_fake_violation(dev, "%s: a request on the control queue, which this model does not implement "
                              "(VIRTIO_NET_F_CTRL_VQ should not have been negotiated)", S_NET_CTRL);
    return 0;
}

/* Reset: the core drops the held requests; forget them, and the frames
   that were waiting. */
static void net_reset(struct virtq_fake_dev *dev, void *ctx)
{
    struct net *m = ctx;
    (void)dev;
    pthread_mutex_lock(&m->mu);
    m->fifo_head = m->fifo_n = 0;
    m->bl_head = m->bl_n = 0;
    pthread_mutex_unlock(&m->mu);
}

static int net_features_ok(struct virtq_fake_dev *dev, void *ctx, uint64_t accepted)
{
    (void)ctx;
    if (accepted & UNIMPLEMENTED) {
        virtq_fake_violation(dev, "%s: the driver accepted features %#llx this model does not implement "
                                  "(offloads, control queue): refused",
                             S_NET_FEAT, (unsigned long long)(accepted & UNIMPLEMENTED));
        return 0;
    }
    return 1;
}

static void net_destroy(void *ctx)
{
    struct net *m = ctx;
    pthread_mutex_destroy(&m->mu);
    free(m->fifo);
    free(m->bl);
    free(m);
}

static const struct virtq_fake_model net_model = {
    "net", net_request, net_reset, net_features_ok, NULL, net_destroy,
};

struct virtq_fake_dev *virtq_fake_net_create(const struct virtq_fake_net_params *p)
{
    static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static const uint8_t zero_mac[6] = {0, 0, 0, 0, 0, 0};
    const uint8_t *mac;
    struct virtq_fake_params fp;
    struct virtq_fake_dev *dev;
    uint8_t cfg[CFG_BYTES];
    struct net *m;
    uint16_t qmax;
    int version, i;

    if (p == NULL || p->version < 0 || p->version > 2 || p->queue_num_max > 4096u) {
        fprintf(stderr, "virtq_fake_net_create: bad parameters\n");
        return NULL;
    }
    version = p->version ? p->version : 2;
    qmax = p->queue_num_max ? p->queue_num_max : 256u;
    m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->version = version;
    m->loopback = p->loopback;
    m->peer = p->peer;
    m->peer_ctx = p->peer_ctx;
    m->fifo_cap = qmax;
    m->bl_cap = p->backlog ? p->backlog : 1024u;
    m->fifo = calloc(m->fifo_cap, sizeof(struct virtq_fake_req *));
    m->bl = calloc(m->bl_cap, sizeof *m->bl);
    if (m->fifo == NULL || m->bl == NULL) {
        net_destroy(m);
        return NULL;
    }

    mac = memcmp(p->mac, zero_mac, sizeof zero_mac) != 0 ? p->mac : default_mac;
    memset(cfg, 0, sizeof cfg);
    for (i = 0; i < 6; i++)
        cfg[i] = mac[i];
    cfg[6] = p->link_down ? 0u : 1u; /* VIRTIO_NET_S_LINK_UP */
    cfg[8] = 1;                      /* max_virtqueue_pairs */
    cfg[10] = 1500 & 0xff;           /* mtu */
    cfg[11] = 1500 >> 8;

    memset(&fp, 0, sizeof fp);
    fp.version = version;
    fp.device_id = VIRTIO_ID_NET;
    fp.vendor_id = 0x1af4;
    fp.features = F(FN_MAC) | F(FN_STATUS) | p->features;
    if (!p->no_mrg_rxbuf)
        fp.features |= F(FN_MRG_RXBUF);
    if (!p->no_lures)
        fp.features |= LURES;
    if (version == 2)
        fp.features |= F(VIRTIO_F_VERSION_1);
    fp.num_queues = (fp.features & F(FN_CTRL_VQ)) ? 3 : 2;
    fp.queue_num_max[0] = fp.queue_num_max[1] = fp.queue_num_max[2] = qmax;
    fp.config = cfg;
    fp.config_len = CFG_BYTES;
    fp.config_fields = net_fields;
    fp.num_config_fields = (int)(sizeof net_fields / sizeof net_fields[0]);
    fp.base = p->base;
    fp.model = &net_model;
    fp.model_ctx = m;
    dev = virtq_fake_create(&fp);
    if (dev == NULL) {
        net_destroy(m);
        return NULL;
    }
    m->dev = dev;
    return dev;
}

int virtq_fake_net_rx_buffers(struct virtq_fake_dev *dev)
{
    struct net *m = virtq_fake_model_ctx(dev);
    int n;
    pthread_mutex_lock(&m->mu);
    n = (int)m->fifo_n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int virtq_fake_net_backlog(struct virtq_fake_dev *dev)
{
    struct net *m = virtq_fake_model_ctx(dev);
    int n;
    pthread_mutex_lock(&m->mu);
    n = (int)m->bl_n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void virtq_fake_net_set_link(struct virtq_fake_dev *dev, int up)
{
    uint8_t st[2] = {up ? 1u : 0u, 0u};
    (void)virtq_fake_config_set(dev, 6, st, 2, 1);
}

void virtq_fake_net_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_net_stats *out)
{
    struct net *m = virtq_fake_model_ctx(dev);
    pthread_mutex_lock(&m->mu);
    *out = m->st;
    pthread_mutex_unlock(&m->mu);
}
