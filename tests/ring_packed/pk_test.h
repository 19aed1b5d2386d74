/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_test.h — shared pieces of the packed-ring unit tests.
 *
 * The test plays the device straight on the ring memory (no MMIO): it
 * reads available descriptors at its own position and wrap counter,
 * checks each against the driver rules of "Packed Virtqueues" (the
 * section is named in every failure), and writes used descriptors.  The
 * checks come from the spec and the contract in src/api.h, never from
 * virtq's code paths.
 */
#ifndef PK_TEST_H
#define PK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define VIRTQ_PUBLISH_DEFER 1 /* the publish in two steps is tested here */
#define VIRTQ_RINGS (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#include "virtq.h"

#define PK_F_PACKED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#define PK_F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define PK_F_EVENT_IDX VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define PK_F_ORDER_PLATFORM VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM)
#define PK_MAX_SEG 512u
#define PK_MAX_NUM 1024u

/* A packed queue over heap memory of exactly virtq_packed_ring_bytes(num)
   bytes and num slots, so ASan flags any access past either. */
struct pk_ring {
    struct virtq vq;
    void *mem;
    struct virtq_slot *slots;
    size_t bytes;
    uint32_t num;
    uint64_t features;
};
void pk_ring_init(struct pk_ring *r, uint32_t num, uint64_t features);
void pk_ring_free(struct pk_ring *r);

struct pk_seg {
    uint64_t addr;
    uint32_t len;
    int write;
};

/* One buffer as the device took it. */
struct pk_chain {
    uint16_t id;
    uint16_t ndesc; /* ring descriptors it occupies */
    int indirect;
    unsigned nseg, nout;
    uint64_t wlen;
    struct pk_seg seg[PK_MAX_SEG];
};

struct pk_dev {
    volatile struct pvirtq_desc *desc;
    volatile struct pvirtq_event_suppress *drv; /* Driver Area: device reads */
    volatile struct pvirtq_event_suppress *dev; /* Device Area: device writes */
    uint16_t num;
    int event_idx, indirect;
    uint16_t avail_pos, used_pos; /* next positions */
    int avail_wrap, used_wrap;    /* the device's view of both counters */
    unsigned char inflight[65536]; /* buffer ids taken and not yet used */
    uint16_t ndesc_of[65536];      /* ring descriptors per id in flight */
    unsigned long pops, uses, irqs;
};

/* Attach to a fresh ring: positions 0, both wrap counters 1. */
void pk_dev_attach(struct pk_dev *d, const struct pk_ring *r);
/* Take the next available buffer, checking the driver rules; 1 with *c
   filled, 0 when the next descriptor is not available. */
int pk_dev_pop(struct pk_dev *d, struct pk_chain *c);
/* Write the used descriptor for id (taken by pop) at the device's used
   position and advance by its length.  Returns 1 when the driver event
   suppression asks for an interrupt (computed by enumeration). */
int pk_dev_use(struct pk_dev *d, uint16_t id, uint32_t len);
/* Device event suppression (what the driver reads before notifying). */
void pk_dev_set_event(struct pk_dev *d, uint16_t flags, uint16_t off, int wrap);
/* Pop and use every available buffer in order; returns how many. */
unsigned pk_dev_complete_all(struct pk_dev *d, uint32_t len);
/* Write a raw used descriptor at the used position without any check
   (hostile-device tests); does not advance. */
void pk_dev_raw_used(struct pk_dev *d, uint16_t id, uint32_t len, uint16_t flags);

/* Barriers routed through here by pk_main.c: a real fence, a count, and a
   hook that runs at that exact point of virtq's code. */
enum pk_barrier_kind { PK_MB, PK_RMB, PK_WMB, PK_DMA_MB, PK_DMA_RMB, PK_DMA_WMB, PK_KINDS };
void pk_barrier(enum pk_barrier_kind kind);
extern unsigned long pk_barrier_count[PK_KINDS];
extern void (*pk_barrier_hook)(enum pk_barrier_kind kind, void *ctx);
extern void *pk_barrier_ctx;
void pk_barrier_reset(void);

uint32_t pk_rand(uint32_t *state);

/* virtq_publish(), asserting VIRTQ_OK: the notify answer. */
static inline int pk_pub(struct virtq *vq)
{
    bool notify = true;
    assert_int_equal(virtq_publish(vq, &notify), VIRTQ_OK);
    return notify;
}

int pk_group_basic(void);
int pk_group_hostile(void);
int pk_group_sim(void);

#endif
