/* SPDX-License-Identifier: MIT */
/* virtio_net.h — a small portable virtio-net driver on virtq.h.
 *
 * One receive queue and one transmit queue ("Network Device"), on legacy
 * (virtio-mmio version 1) and modern (version 2) devices.  No malloc: the
 * whole driver, rings and packet buffers included, lives in one struct
 * virtio_net the caller places (statically, usually).  No board code: the
 * caller probes the device, wires its interrupt and picks the wait strategy
 * through virtq.h.
 *
 * Features
 *   accepted: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF
 *             (unless the config refuses it), VIRTIO_F_EVENT_IDX, and on a
 *             legacy device VIRTIO_F_ANY_LAYOUT; VIRTIO_F_VERSION_1 on a
 *             modern one (virtq_dev_negotiate adds it).
 *   refused:  every checksum and segmentation offload (CSUM, GUEST_CSUM,
 *             TSO, UFO, USO: not implemented, so not negotiated), the
 *             control queue and multiqueue, MTU (frames are standard
 *             Ethernet: at most 1514 bytes without the FCS).
 *
 * The header ("Device Operation"): struct virtio_net_hdr is 12 bytes when
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF is negotiated and 10 bytes
 * (no num_buffers) on a legacy device without MRG_RXBUF.  Transmit headers
 * are all zero: no offload flags, GSO_NONE, num_buffers 0 (a MUST).  On a
 * legacy device without VIRTIO_F_ANY_LAYOUT the header sits alone in the
 * first descriptor of each buffer ("Legacy Interface: Framing
 * Requirements"); otherwise header and frame share one descriptor.
 *
 * Receive: the ring is filled at init and each buffer is posted again as
 * soon as its packet was handed to the caller, so the device always sees a
 * full ring.  Without MRG_RXBUF each buffer holds header + 1514 bytes;
 * with it buffers may be smaller (config rx_buf_bytes) and a packet spans
 * num_buffers of them, reassembled here.  A packet the device frames
 * wrongly (short, num_buffers 0 or beyond the ring, a non-final buffer not
 * full, a GSO type, over 1514 bytes) is dropped and counted, and its
 * buffers go back to the ring.
 *
 * Transmit: the frame is copied into a driver buffer, so the caller's
 * memory is free at once.  Completed buffers are reclaimed by every send
 * and every poll; transmit interrupts stay suppressed except while
 * virtio_net_wait_tx() waits for room.
 *
 * Use (single-threaded: one context calls into a struct virtio_net at a
 * time; the interrupt handler only calls virtq_dev_isr()):
 *
 *     static struct virtio_net net;          // large: rings and buffers
 *     struct virtq_dev dev;
 *     virtq_mmio_probe(&dev, base);
 *     virtio_net_init(&net, &dev, NULL);     // DRIVER_OK, rx ring full
 *     ...init the other devices, then wire interrupts and switch
 *        virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL)...
 *     for (;;) {
 *         virtio_net_poll(&net, on_frame, ctx, 64);  // rx, refill, tx reclaim
 *         virtio_net_send(&net, frame, len);
 *         virtio_net_wait(&net, timeout_us);         // until rx or timeout
 *     }
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits ("Feature bits", Network Device). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#ifndef VIRTIO_F_ANY_LAYOUT
#define VIRTIO_F_ANY_LAYOUT 27 /* legacy: any descriptor layout */
#endif

/* Config space (struct virtio_net_config). */
#define VIRTIO_NET_CFG_MAC 0u    /* u8 mac[6] */
#define VIRTIO_NET_CFG_STATUS 6u /* le16, with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_S_LINK_UP 1u
#define VIRTIO_NET_S_ANNOUNCE 2u

/* struct virtio_net_hdr, little-endian on the wire.  num_buffers exists
   only with VERSION_1 or MRG_RXBUF (virtio_net.hdr_len says which). */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_BYTES 12u        /* with num_buffers */
#define VIRTIO_NET_HDR_LEGACY_BYTES 10u /* legacy without MRG_RXBUF */

#define VIRTIO_NET_ETH_HDR 14u
#define VIRTIO_NET_FRAME_MAX 1514u /* 14-byte Ethernet header + 1500, no FCS */
#define VIRTIO_NET_RX_ID 0u        /* receiveq1 */
#define VIRTIO_NET_TX_ID 1u        /* transmitq1 */

/* Sizes, fixed at compile time (they shape struct virtio_net).  A device
   with a smaller QueueNumMax gets a smaller ring; only that many buffers
   are used. */
#ifndef VIRTIO_NET_RX_NUM
#define VIRTIO_NET_RX_NUM 64u
#endif
#ifndef VIRTIO_NET_TX_NUM
#define VIRTIO_NET_TX_NUM 32u
#endif
/* One packet buffer: the 12-byte header and a full frame, rounded up. */
#define VIRTIO_NET_BUF_BYTES 1536u
/* The smallest mergeable receive buffer this driver posts. */
#define VIRTIO_NET_RX_BUF_MIN 64u

#if defined(__GNUC__) || defined(__clang__)
#define VIRTIO_NET__ALIGNED(n) __attribute__((aligned(n)))
#else
#define VIRTIO_NET__ALIGNED(n) /* place struct virtio_net 4096-aligned yourself */
#endif

struct virtio_net_config {
    /* Receive buffer size with MRG_RXBUF negotiated: VIRTIO_NET_RX_BUF_MIN
       .. VIRTIO_NET_BUF_BYTES (0: VIRTIO_NET_BUF_BYTES).  Without
       MRG_RXBUF buffers are always VIRTIO_NET_BUF_BYTES. */
    uint32_t rx_buf_bytes;
    /* Do not negotiate MRG_RXBUF even if offered. */
    int no_mrg_rxbuf;
    /* Extra feature bits not to negotiate (e.g. VIRTIO_F_EVENT_IDX). */
    uint64_t features_off;
};

struct virtio_net_stats {
    uint32_t rx_frames;  /* handed to the caller */
    uint64_t rx_bytes;
    uint32_t rx_merged;  /* frames that spanned more than one buffer */
    uint32_t rx_max_buffers; /* most buffers one frame used */
    uint32_t rx_dropped; /* framing errors from the device (see above) */
    uint32_t rx_reposted; /* buffers given back to the device */
    uint32_t tx_frames;  /* queued to the device */
    uint64_t tx_bytes;
    uint32_t tx_completed; /* transmit buffers reclaimed */
    uint32_t tx_full;    /* sends refused with VIRTQ_ENOSPC */
    uint32_t tx_renotified; /* transmit notifications repeated (see virtio_net_wait) */
};

/* Called by virtio_net_poll() for each received frame (Ethernet header
   first, no FCS, len 14..1514).  frame is valid only during the call; the
   callback may call virtio_net_send() but not virtio_net_poll(). */
typedef void (*virtio_net_rx_fn)(void *ctx, const uint8_t *frame, uint32_t len);

struct virtio_net {
    /* device-visible memory first: it carries the 4096 alignment */
    uint8_t rx_ring[VIRTQ_RING_BYTES(VIRTIO_NET_RX_NUM, VIRTQ_ALIGN_LEGACY)] VIRTIO_NET__ALIGNED(4096);
    uint8_t tx_ring[VIRTQ_RING_BYTES(VIRTIO_NET_TX_NUM, VIRTQ_ALIGN_LEGACY)] VIRTIO_NET__ALIGNED(4096);
    uint8_t rx_buf[VIRTIO_NET_RX_NUM][VIRTIO_NET_BUF_BYTES] VIRTIO_NET__ALIGNED(64);
    uint8_t tx_buf[VIRTIO_NET_TX_NUM][VIRTIO_NET_BUF_BYTES] VIRTIO_NET__ALIGNED(64);
    /* driver-private */
    struct virtq_slot rx_slot[VIRTIO_NET_RX_NUM];
    struct virtq_slot tx_slot[VIRTIO_NET_TX_NUM];
    struct virtq rx, tx;
    struct virtq_dev *dev;
    uint64_t features;     /* negotiated */
    uint32_t hdr_len;      /* 10 or 12 */
    uint32_t rx_buf_bytes; /* bytes posted per receive buffer */
    uint16_t rx_num, tx_num; /* ring sizes the device granted */
    uint8_t mergeable;     /* MRG_RXBUF negotiated */
    uint8_t split_hdr;     /* legacy without ANY_LAYOUT: header alone */
    uint8_t up;            /* init finished, not stopped */
    uint8_t in_poll;
    uint8_t mac[6];
    uint16_t tx_nfree;
    uint16_t tx_free[VIRTIO_NET_TX_NUM];
    uint8_t tx_watch;       /* the last wait ran out with transmits pending */
    uint32_t tx_watch_done; /* stats.tx_completed then */
    /* reassembly of a packet spread over several buffers */
    uint16_t asm_left;     /* buffers still to come (0: none pending) */
    uint8_t asm_bad;       /* drop it when complete */
    uint32_t asm_len;
    uint32_t asm_bufs;
    uint8_t asm_frame[VIRTIO_NET_FRAME_MAX];
    struct virtio_net_stats stats;
};

/* Initialise the device probed into dev (virtq_mmio_probe): reset,
   negotiate, set up both queues, DRIVER_OK, fill the receive ring.  cfg
   may be NULL.  Waits spin until the caller changes dev's strategy.
   VIRTQ_ENODEV: not a network device; VIRTQ_ENOTSUP: a required feature
   is missing or the config is unusable; else virtq's error.  On failure
   the device is left FAILED or reset. */
int virtio_net_init(struct virtio_net *n, struct virtq_dev *dev,
                    const struct virtio_net_config *cfg);

/* The MAC address: config space with VIRTIO_NET_F_MAC, else a locally
   administered one made from the device's base address. */
const uint8_t *virtio_net_mac(const struct virtio_net *n);

/* 1 link up, 0 down (VIRTIO_NET_F_STATUS; always 1 without it), or a
   negative virtq error. */
int virtio_net_link_up(struct virtio_net *n);

/* Queue one frame (14..1514 bytes, copied) and notify the device if it
   wants that.  VIRTQ_ENOSPC: every transmit buffer is in flight (poll, or
   virtio_net_wait_tx(), then retry); VIRTQ_EINVAL: bad length. */
int virtio_net_send(struct virtio_net *n, const void *frame, uint32_t len);

/* Receive up to budget frames (each through fn), posting every buffer
   again right after its frame, and reclaim finished transmit buffers.
   Suppresses receive interrupts while draining and re-arms them at the
   end (re-checking the ring, so nothing slips between).  Returns the
   frames handed to fn (budget: call again, more may be waiting) or a
   negative virtq error (VIRTQ_EBROKEN). */
int virtio_net_poll(struct virtio_net *n, virtio_net_rx_fn fn, void *ctx, unsigned budget);

/* Wait (dev's strategy, bounded) until a received buffer is ready:
   VIRTQ_OK, VIRTQ_ETIMEDOUT or VIRTQ_EBROKEN.  When this wait and the one
   before it both ran out while transmit buffers stayed with the device and
   none came back, the transmit queue is notified again (a device that
   missed a notification would otherwise sit on them for good; counted in
   stats.tx_renotified).  A transmit queue found broken meanwhile makes a
   timed-out wait return VIRTQ_EBROKEN. */
int virtio_net_wait(struct virtio_net *n, uint32_t timeout_us);

/* Wait until a transmit buffer is free (reclaiming): VIRTQ_OK,
   VIRTQ_ETIMEDOUT or VIRTQ_EBROKEN.  Notifies again as virtio_net_wait(). */
int virtio_net_wait_tx(struct virtio_net *n, uint32_t timeout_us);

/* Transmit buffers still owned by the device. */
unsigned virtio_net_tx_in_flight(const struct virtio_net *n);

/* Reset the device and take every buffer back (virtq_detach), so nothing
   is left in flight; virtio_net_init() may be called again.  Returns the
   buffers taken back, or a negative virtq error. */
int virtio_net_stop(struct virtio_net *n);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* VIRTIO_NET_H */
