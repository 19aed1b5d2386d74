/* SPDX-License-Identifier: MIT */
/* fake_queue.c — queue memory: activation, teardown and reset. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdlib.h>

/* ---- queue memory --------------------------------------------------------------------------------- */

void fk_req_release(struct fake_queue *q, struct fake_req *r)
{
    int i;
    if (q->owned != NULL && r->epoch == q->epoch)
        for (i = 0; i < r->nring; i++)
            q->owned[r->ring[i]] = 0;
    free(r);
}

/* Drop everything the queue holds; held requests stay parked for the
   model unless drop_held (reset, destroy). */
void fk_queue_teardown(struct fake_queue *q, int drop_held)
{
    struct fake_req **pp = &q->parked;
    int i;
    for (i = 0; i < q->npending; i++)
        free(q->pending[i]);
    q->npending = 0;
    while (*pp) {
        struct fake_req *r = *pp;
        if (drop_held || r->state != REQ_HELD) {
            *pp = r->next;
            free(r);
        } else {
            pp = &r->next;
        }
    }
    free(q->owned);
    free(q->visit);
    free(q->scratch_seg);
    free(q->scratch_ring);
    free(q->pending);
    q->owned = NULL;
    q->visit = NULL;
    q->scratch_seg = NULL;
    q->scratch_ring = NULL;
    q->pending = NULL;
    q->desc = NULL;
    q->avail = NULL;
    q->used = NULL;
    q->ready = 0;
    q->broken = 0;
    q->force_irq = 0;
    q->packed = 0;
    q->nocheck = 0;
    q->epoch++;
}

uint16_t *fk_avail_event_ptr(struct fake_queue *q)
{
    return (uint16_t *)&q->used->ring[q->num];
}

uint16_t *fk_used_event_ptr(struct fake_queue *q)
{
    return &q->avail->ring[q->num];
}

/* Tell the driver whether to notify ("Available Buffer Notification
   Suppression"): used.flags without EVENT_IDX, avail_event with it. */
void fk_publish_notify_wish(struct virtq_fake_dev *d, struct fake_queue *q)
{
    /* Seq_cst stores here and seq_cst loads of avail.idx after: our flag
       store is ordered before the re-check (a store-load pair, which a
       release/acquire pair does not order). */
    if (!q->ready)
        return;
    if (q->packed) {
        fk_packed_notify_wish(d, q);
        return;
    }
    if (fk_has_feat(d, VIRTIO_F_EVENT_IDX)) {
        uint16_t ev = (uint16_t)(q->suppress ? q->last_avail - 1u : q->last_avail);
        __atomic_store_n(fk_avail_event_ptr(q), ev, __ATOMIC_SEQ_CST);
    } else {
        __atomic_store_n(&q->used->flags, (uint16_t)(q->suppress ? VIRTQ_USED_F_NO_NOTIFY : 0),
                         __ATOMIC_SEQ_CST);
    }
}

/* Bring a queue live over desc/avail/used (host addresses).  Returns 0, or
   -1 (queue stays off) after a violation. */
int fk_queue_activate(struct virtq_fake_dev *d, int qi, uint64_t desc, uint64_t avail,
                          uint64_t used)
{
    struct fake_queue *q = &d->q[qi];
    const char *sec = d->version == 1 ? S_LEGACY : S_VQCFG;
    if (fk_has_feat(d, VIRTIO_F_RING_PACKED))
        return fk_packed_activate(d, qi, desc, avail, used);
    if (!fk_is_pow2(q->num) || q->num > q->num_max) {
        fk_vio(d, qi, S_SPLIT, "queue enabled with Queue Size %u (QueueNumMax %u, must be a power of 2)",
            q->num, q->num_max);
        return -1;
    }
    if (desc == 0 || avail == 0 || used == 0) {
        fk_vio(d, qi, sec, "queue enabled with a zero address (descriptor %#llx, driver %#llx, device %#llx)",
            (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return -1;
    }
    if ((desc & 15u) || (avail & 1u) || (used & 3u)) {
        fk_vio(d, qi, S_SPLIT,
            "misaligned ring: descriptor table %#llx (16), available ring %#llx (2), used ring %#llx (4)",
            (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return -1;
    }
    q->desc = (struct virtq_desc *)(uintptr_t)desc;
    q->avail = (struct virtq_avail *)(uintptr_t)avail;
    q->used = (struct virtq_used *)(uintptr_t)used;
    /* The driver zeroes the queue memory before handing it over
       ("Virtqueue Configuration"); used.flags must start at 0. */
    if (__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) != 0)
        fk_vio(d, qi, S_AVAIL_SUPP, "used.flags is %#x when the queue is enabled: the driver MUST initialize it to 0",
            __atomic_load_n(&q->used->flags, __ATOMIC_RELAXED));
    q->last_avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    q->used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED);
    if (q->last_avail != 0 || q->used_idx != 0)
        fk_vio(d, qi, sec, "queue memory not zeroed when enabled: avail.idx %u, used.idx %u (both start at 0)",
            q->last_avail, q->used_idx);
    q->seen_avail = q->last_avail;
    q->owned = fk_xcalloc(q->num, 1);
    q->visit = fk_xcalloc(q->num, sizeof *q->visit);
    q->scratch_seg = fk_xcalloc(q->num, sizeof *q->scratch_seg);
    q->scratch_ring = fk_xcalloc(q->num, sizeof *q->scratch_ring);
    q->pending = fk_xcalloc(q->num, sizeof(struct fake_req *));
    q->stamp = 0;
    q->bad_flags = 0;
    q->ready = 1;
    fk_publish_notify_wish(d, q);
    return 0;
}

/* ---- reset -------------------------------------------------------------------------------------------- */

void fk_queue_defaults(struct fake_queue *q)
{
    q->num = q->num_max;
    q->desc_addr = q->driver_addr = q->device_addr = 0;
    q->pfn = 0;
    q->align = 4096;
    q->fault = VIRTQ_FAKE_FAULT_NONE;
    q->fault_count = 0;
}

void fk_dev_reset(struct virtq_fake_dev *d)
{
    int i;
    if (d->model && d->model->reset)
        d->model->reset(d, d->model_ctx);
    for (i = 0; i < d->nq; i++) {
        fk_queue_teardown(&d->q[i], 1);
        fk_queue_defaults(&d->q[i]);
    }
    d->status = 0;
    d->isr = 0;
    d->dev_sel = d->drv_sel = 0;
    d->dev_sel_written = d->dev_sel_fresh = d->drv_sel_written = d->drv_high_garbage = 0;
    d->fo_unchecked = 0;
    d->drv_features = d->negotiated = 0;
    d->flap = 0;
    d->st.resets++;
}
