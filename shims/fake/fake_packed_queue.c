/* SPDX-License-Identifier: MIT */
/* fake_packed_queue.c — the packed ring's memory, positions and the
   device's half of available buffer notifications ("Packed Virtqueues").
   A position is pos | wrap << 15: a ring offset with the wrap counter of
   its lap, as in the event suppression "desc" field. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW_WRAP 0x8000u
#define PW_POS 0x7fffu
#define ID_SPACE 0x10000u /* a Buffer ID is 16 bits */

/* Position pw moved on by n descriptors (the wrap bit flips at the end). */
uint16_t fk_pw_add(const struct fake_queue *q, uint16_t pw, uint32_t n)
{
    uint32_t p = (pw & PW_POS) + n;
    uint16_t wrap = (uint16_t)(pw & PW_WRAP);
    while (p >= q->num) {
        p -= q->num;
        wrap ^= PW_WRAP;
    }
    return (uint16_t)(p | wrap);
}

/* Descriptors from a forward to b, in [0, 2 num). */
uint32_t fk_pw_dist(const struct fake_queue *q, uint16_t a, uint16_t b)
{
    int32_t d = (int32_t)(b & PW_POS) - (int32_t)(a & PW_POS);
    if ((a ^ b) & PW_WRAP)
        d += q->num;
    if (d < 0)
        d += 2 * (int32_t)q->num;
    return (uint32_t)d;
}

/* "The descriptor ring is zero-initialized": report the first entry that
   is not (once; the queue still comes up). */
static void check_zeroed(struct virtq_fake_dev *d, int qi, const struct fake_queue *q)
{
    static const struct pvirtq_desc zero;
    uint32_t i;
    for (i = 0; i < q->num; i++)
        if (memcmp(&q->pdesc[i], &zero, sizeof zero) != 0) {
            fk_vio(d, qi, S_P_FORMAT, "descriptor %u is not zero when the queue is enabled (flags %#x)", i,
                q->pdesc[i].flags);
            return;
        }
}

/* Bring a packed queue live over its Descriptor Area, Driver Area (the
   driver's event suppression structure) and Device Area (ours).  Returns
   0, or -1 (queue stays off) after a violation. */
int fk_packed_activate(struct virtq_fake_dev *d, int qi, uint64_t desc, uint64_t drv, uint64_t dev)
{
    struct fake_queue *q = &d->q[qi];
    if (q->num == 0 || q->num > 32768u || q->num > q->num_max) {
        fk_vio(d, qi, S_PACKED, "queue enabled with Queue Size %u (QueueNumMax %u; packed queues have up to 2^15)",
            q->num, q->num_max);
        return -1;
    }
    if (desc == 0 || drv == 0 || dev == 0) {
        fk_vio(d, qi, S_VQCFG, "queue enabled with a zero address (descriptor %#llx, driver %#llx, device %#llx)",
            (unsigned long long)desc, (unsigned long long)drv, (unsigned long long)dev);
        return -1;
    }
    if ((desc & 15u) || (drv & 3u) || (dev & 3u)) {
        fk_vio(d, qi, S_P_VQ,
            "misaligned packed ring: descriptor ring %#llx (16), driver event suppression %#llx (4), "
            "device event suppression %#llx (4)",
            (unsigned long long)desc, (unsigned long long)drv, (unsigned long long)dev);
        return -1;
    }
    q->pdesc = (struct pvirtq_desc *)(uintptr_t)desc;
    q->pdrv = (struct pvirtq_event_suppress *)(uintptr_t)drv;
    q->pdev = (struct pvirtq_event_suppress *)(uintptr_t)dev;
    check_zeroed(d, qi, q);
    /* "Driver and Device Ring Wrap Counters": both start at 1. */
    q->avail_pw = q->used_pw = q->batch_pw = PW_WRAP;
    q->packed = 1;
    q->nocheck = 0;
    q->bad_drv = 0;
    q->owned = fk_xcalloc(ID_SPACE, 1); /* Buffer IDs in flight */
    q->scratch_seg = fk_xcalloc(q->num, sizeof *q->scratch_seg);
    q->pending = fk_xcalloc(q->num, sizeof(struct fake_req *));
    q->ready = 1;
    fk_publish_notify_wish(d, q);
    return 0;
}

/* Tell the driver whether to notify (the Device Event Suppression
   structure): DISABLE while suppressed; else with EVENT_IDX "notify when
   the descriptor we read next is made available", without it ENABLE. */
void fk_packed_notify_wish(struct virtq_fake_dev *d, struct fake_queue *q)
{
    uint16_t flags = RING_EVENT_FLAGS_ENABLE;
    if (q->suppress) {
        flags = RING_EVENT_FLAGS_DISABLE;
    } else if (fk_has_feat(d, VIRTIO_F_EVENT_IDX)) {
        __atomic_store_n(&q->pdev->desc, q->avail_pw, __ATOMIC_SEQ_CST);
        flags = RING_EVENT_FLAGS_DESC;
    }
    /* Seq_cst, like the loads of the next descriptor's flags after it: our
       wish is ordered before the re-check (a store-load pair). */
    __atomic_store_n(&q->pdev->flags, flags, __ATOMIC_SEQ_CST);
}

/* VIRTIO_F_NOTIFICATION_DATA on a packed queue: next_off and next_wrap
   name "the next descriptor not yet made available".  exact: the device
   has just taken every available descriptor, so it knows that position;
   otherwise (a device thread takes them later) the named descriptor must
   at least not be available yet. */
void fk_packed_notify_data(struct virtq_fake_dev *d, int qi, uint32_t data, int exact)
{
    struct fake_queue *q = &d->q[qi];
    uint16_t off = (uint16_t)(data & PW_POS), flags;
    int wrap = (data & PW_WRAP) != 0;
    if (q->broken || q->nocheck)
        return;
    if (off >= q->num) {
        fk_vio(d, qi, S_P_TABLE, "notification data next_off %u is beyond Queue Size %u", off, q->num);
        return;
    }
    if (exact) {
        if (data != q->avail_pw)
            fk_vio(d, qi, S_P_TABLE,
                "notification data next_off %u next_wrap %d: the next descriptor not yet made available is %u "
                "with wrap %d",
                off, wrap, q->avail_pw & PW_POS, (q->avail_pw & PW_WRAP) != 0);
        return;
    }
    flags = __atomic_load_n(&q->pdesc[off].flags, __ATOMIC_ACQUIRE);
    if (((flags & VIRTQ_DESC_F_AVAIL) != 0) == wrap && ((flags & VIRTQ_DESC_F_USED) != 0) != wrap)
        fk_vio(d, qi, S_P_TABLE,
            "notification data next_off %u next_wrap %d names a descriptor already made available", off, wrap);
}

int virtq_fake_packed_view(struct virtq_fake_dev *dev, int q, struct virtq_fake_packed_view *out)
{
    struct fake_queue *fq;
    int rc = -1;
    if (dev == NULL || q < 0 || q >= dev->nq || out == NULL)
        return -1;
    fk_dev_lock(dev);
    fq = &dev->q[q];
    if (fq->ready && fq->packed) {
        out->desc = fq->pdesc;
        out->driver = fq->pdrv;
        out->device = fq->pdev;
        out->num = fq->num;
        out->next_avail = fq->avail_pw;
        out->next_used = fq->used_pw;
        rc = 0;
    }
    fk_dev_unlock(dev);
    return rc;
}

/* The test knob VIRTQ_FAKE_RING=packed (environment): every modern
   device also offers VIRTIO_F_RING_PACKED and refuses FEATURES_OK without
   it, so a whole test binary runs its modern queues packed, or fails. */
void fk_packed_default(struct virtq_fake_dev *d)
{
    const char *ring = getenv("VIRTQ_FAKE_RING");
    if (d->version != 2 || ring == NULL || strcmp(ring, "packed") != 0)
        return;
    d->offered |= VIRTQ_FEATURE(VIRTIO_F_RING_PACKED);
    d->want_packed = 1;
}
