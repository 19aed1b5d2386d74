/* SPDX-License-Identifier: MIT */
/* fake_net.h — a virtio-net model for the fake device ("Network Device").

   Two queues: receiveq1 (0) and transmitq1 (1); a third, the control
   queue, exists when VIRTIO_NET_F_CTRL_VQ is offered (the model implements
   no commands: using it is a violation).  Offers VIRTIO_NET_F_MAC,
   VIRTIO_NET_F_STATUS and VIRTIO_NET_F_MRG_RXBUF (unless no_mrg_rxbuf),
   and, as lures a driver must leave alone unless it implements them,
   CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4 and CTRL_VQ (unless
   no_lures), plus the test's features (VIRTIO_F_EVENT_IDX,
   VIRTIO_F_ANY_LAYOUT...); a modern device also offers VIRTIO_F_VERSION_1.
   Accepting a lure is reported as a violation and refused.

   The header is 12 bytes with VERSION_1 or MRG_RXBUF negotiated and 10
   bytes without (legacy).  Both directions are read and written as byte
   streams ("Message Framing"), except on a legacy device without
   VIRTIO_F_ANY_LAYOUT, where the header must sit alone in the first
   descriptor ("Legacy Interface: Framing Requirements").

   Transmit: each buffer is checked (device-readable only; header present;
   flags 0, gso_type NONE and num_buffers 0, as "Packet Transmission"
   requires when no offload is negotiated; a frame of 14..1514 bytes) and
   completed with used len 0.  The frame then goes to the peer callback,
   and back to the driver when loopback is set.

   Receive: buffers are held until a frame arrives ("keep the receive ring
   full").  Each must be device-writable only; without MRG_RXBUF it must
   hold header + 1514 bytes, with MRG_RXBUF at least the header
   ("Setting Up Receive Buffers").  A frame goes into the oldest buffer(s)
   in the order they were made available: without MRG_RXBUF into one
   (num_buffers 1 in a 12-byte header), with it across as many buffers as
   it needs, every one but the last filled completely, num_buffers in the
   first header ("Processing of Incoming Packets").  A frame that finds too
   few buffers waits in a backlog (like QEMU's queue) and is delivered, in
   order, as the driver posts more; when the backlog is full it is dropped
   and counted.

   Threads: virtq_fake_net_inject() may be called from any thread, also
   while a device thread runs or from inside the peer callback, but not
   concurrently with a reset of the same device. */
#ifndef VIRTQ_FAKE_NET_H_INCLUDED
#define VIRTQ_FAKE_NET_H_INCLUDED

#include "virtq_fake.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTQ_FAKE_NET_FRAME_MAX 1514u
#define VIRTQ_FAKE_NET_RX 0
#define VIRTQ_FAKE_NET_TX 1
#define VIRTQ_FAKE_NET_CTRL 2

/* Called for each transmitted frame that passed the checks (device lock
   held: it may call virtq_fake_net_inject(), e.g. to answer). */
typedef void (*virtq_fake_net_tx_fn)(void *ctx, struct virtq_fake_dev *dev, const uint8_t *frame,
                                     uint32_t len);

struct virtq_fake_net_params {
    int version;            /* 1 legacy, 2 modern (0 means 2) */
    uintptr_t base;         /* 0: the next free fake base */
    uint64_t features;      /* offered on top of the net bits above */
    int no_mrg_rxbuf;       /* do not offer VIRTIO_NET_F_MRG_RXBUF */
    int no_lures;           /* do not offer the offload / control-queue lures */
    uint8_t mac[6];         /* all zero: 52:54:00:12:34:56 */
    int link_down;          /* status starts without VIRTIO_NET_S_LINK_UP */
    uint16_t queue_num_max; /* 0 means 256 */
    int loopback;           /* transmitted frames come back on receiveq1 */
    virtq_fake_net_tx_fn peer;
    void *peer_ctx;
    uint32_t backlog;       /* frames waiting for buffers (0 means 1024) */
};

struct virtq_fake_net_stats {
    uint32_t tx_frames;     /* transmitted frames that passed the checks */
    uint64_t tx_bytes;
    uint32_t tx_bad;        /* transmit buffers with a violation */
    uint32_t rx_frames;     /* frames placed in receive buffers */
    uint64_t rx_bytes;
    uint32_t rx_buffers;    /* receive buffers used */
    uint32_t rx_merged;     /* frames that used more than one buffer */
    uint32_t max_num_buffers;
    uint32_t rx_posted;     /* receive buffers the driver made available */
    uint32_t rx_bad;        /* receive buffers with a violation */
    uint32_t backlogged;    /* frames that had to wait for buffers */
    uint32_t backlog_max;
    uint32_t dropped;       /* frames lost: backlog full, or bad length */
};

/* A fake device with the net model; free it with virtq_fake_destroy(). */
struct virtq_fake_dev *virtq_fake_net_create(const struct virtq_fake_net_params *p);

/* Deliver a frame (14..1514 bytes) to the driver: 1 placed in receive
   buffers now, 0 queued in the backlog, -1 dropped. */
int virtq_fake_net_inject(struct virtq_fake_dev *dev, const void *frame, uint32_t len);

/* The same with a broken receive header, for hostile-device tests. */
struct virtq_fake_net_rx_fault {
    int num_buffers;   /* >= 0: write this instead of the true count */
    uint8_t gso_type;  /* written into the header as is */
    uint8_t flags;
    int first_len;     /* >= 0: used len of the first buffer (e.g. < header) */
    int short_fill;    /* > 0: fill the first buffer this many bytes short
                          (breaks "all buffers but the last completely") */
};
int virtq_fake_net_inject_fault(struct virtq_fake_dev *dev, const void *frame, uint32_t len,
                                const struct virtq_fake_net_rx_fault *fault);

int virtq_fake_net_rx_buffers(struct virtq_fake_dev *dev); /* receive buffers held */
int virtq_fake_net_backlog(struct virtq_fake_dev *dev);    /* frames waiting */
uint32_t virtq_fake_net_hdr_len(struct virtq_fake_dev *dev); /* by negotiated features */
/* Change VIRTIO_NET_S_LINK_UP as the device: config change interrupt. */
void virtq_fake_net_set_link(struct virtq_fake_dev *dev, int up);
void virtq_fake_net_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_net_stats *out);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif
