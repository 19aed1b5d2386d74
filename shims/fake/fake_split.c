/* SPDX-License-Identifier: MIT */
/* fake_split.c — the device side of the split ring: available ring, used ring,
   serving requests and injected faults. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <string.h>

/* ---- the available ring ------------------------------------------------------------------------------------- */

int fk_can_serve(const struct virtq_fake_dev *d, const struct fake_queue *q)
{
    return q->ready && !q->broken && (d->status & ST_DRIVER_OK) && !(d->status & ST_NEEDS_RESET);
}

static void check_avail_flags(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    uint16_t f = __atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED);
    int event = fk_has_feat(d, VIRTIO_F_EVENT_IDX);
    if ((event ? f != 0 : f > 1) && q->bad_flags != (uint32_t)f + 1u) {
        q->bad_flags = (uint32_t)f + 1u;
        fk_vio(d, qi, S_USED_SUPP, "avail.flags is %#x: the driver MUST set it to %s", f,
            event ? "0 when VIRTIO_F_EVENT_IDX is negotiated" : "0 or 1");
    }
}

/* Take every new chain into q->pending.  Returns the number taken. */
int fk_pop_avail(struct virtq_fake_dev *d, int qi)
{
    struct fake_queue *q = &d->q[qi];
    int n = 0;
    if (!fk_can_serve(d, q))
        return 0;
    if (q->packed)
        return fk_packed_pop(d, qi);
    for (;;) {
        /* 2.7.13: the driver's barrier before its idx store pairs with
           this acquire; ring entries and descriptors are read after it. */
        uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
        if ((int16_t)(idx - q->seen_avail) < 0) {
            fk_vio(d, qi, S_AVAIL, "avail.idx went back from %u to %u: the driver MUST NOT decrement it",
                q->seen_avail, idx);
            fk_break_queue(d, q);
            return n;
        }
        if ((uint16_t)(idx - q->last_avail) > q->num) {
            fk_vio(d, qi, S_SUPPLY, "avail.idx %u is %u entries past the %u the device has taken: more than Queue Size %u",
                idx, (uint16_t)(idx - q->last_avail), q->last_avail, q->num);
            fk_break_queue(d, q);
            return n;
        }
        q->seen_avail = idx;
        check_avail_flags(d, qi, q);
        while (q->last_avail != idx) {
            uint16_t slot = q->last_avail;
            uint16_t head = __atomic_load_n(&q->avail->ring[slot & (q->num - 1u)], __ATOMIC_RELAXED);
            struct fake_req *r;
            q->last_avail++;
            if (head >= q->num) {
                fk_vio(d, qi, S_AVAIL, "available ring entry %u names head %u, beyond Queue Size %u", slot, head,
                    q->num);
                fk_break_queue(d, q);
                return n;
            }
            r = fk_walk_chain(d, qi, head);
            if (r == NULL) {
                fk_break_queue(d, q);
                return n;
            }
            q->pending[q->npending++] = r;
            n++;
        }
        /* Re-arm, then look once more: a chain published before the
           driver could see avail_event would otherwise wait for a notify
           that never comes (the device's half of 2.7.10). */
        if (!fk_has_feat(d, VIRTIO_F_EVENT_IDX) || q->suppress)
            break;
        fk_publish_notify_wish(d, q);
        if (__atomic_load_n(&q->avail->idx, __ATOMIC_SEQ_CST) == q->last_avail)
            break;
    }
    return n;
}

/* ---- the used ring ------------------------------------------------------------------------------------------- */

void fk_put_used(struct fake_queue *q, uint32_t id, uint32_t len)
{
    struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1u)];
    __atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
    q->used_idx++;
    /* "The Virtqueue Used Ring": id and len before used.idx (release);
       seq_cst also orders it before fk_batch_end()'s loads of the driver's
       used_event/flags. */
    __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_SEQ_CST);
    q->st.completed++;
}

/* A descriptor inside an in-flight chain, not its head. */
static uint32_t pick_non_head(struct fake_queue *q, const struct fake_req *self)
{
    const struct fake_req *r;
    uint32_t i;
    int k;
    if (self->nring >= 2)
        return self->ring[1];
    for (k = 0; k < q->npending; k++)
        if (q->pending[k]->nring >= 2)
            return q->pending[k]->ring[1];
    for (r = q->parked; r; r = r->next)
        if (r->nring >= 2 && r->epoch == q->epoch)
            return r->ring[1];
    /* Only one-descriptor chains in flight: any index that is no head. */
    for (i = 0; i < q->num; i++) {
        int head = (i == self->pub.head);
        for (k = 0; k < q->npending && !head; k++)
            head = (i == q->pending[k]->pub.head);
        if (!head)
            return i;
    }
    return q->num;
}

/* Use up one of the armed fault's count: 1 when it fires now. */
int fk_take_fault(struct fake_queue *q, int fault)
{
    if (q->fault != fault || q->fault_count <= 0)
        return 0;
    if (--q->fault_count == 0)
        q->fault = VIRTQ_FAKE_FAULT_NONE;
    return 1;
}

/* Write the used element(s) for r, with any armed fault, and free it. */
void fk_finish_req(struct virtq_fake_dev *d, struct fake_queue *q, struct fake_req *r, uint32_t len)
{
    uint32_t id = r->pub.head;
    int twice = 0;
    uint16_t extra = 0;
    if (q->packed) {
        fk_packed_finish_req(d, q, r, len);
        return;
    }
    switch (q->fault_count > 0 ? q->fault : VIRTQ_FAKE_FAULT_NONE) {
    case VIRTQ_FAKE_FAULT_COMPLETE_TWICE:
        twice = fk_take_fault(q, q->fault);
        break;
    case VIRTQ_FAKE_FAULT_ID_RANGE:
        if (fk_take_fault(q, q->fault))
            id = (uint32_t)q->num + r->pub.head;
        break;
    case VIRTQ_FAKE_FAULT_ID_HIGH:
        if (fk_take_fault(q, q->fault))
            id = r->pub.head | 0x10000u;
        break;
    case VIRTQ_FAKE_FAULT_ID_NOT_HEAD:
        if (fk_take_fault(q, q->fault))
            id = pick_non_head(q, r);
        break;
    case VIRTQ_FAKE_FAULT_LEN_OVER:
        if (fk_take_fault(q, q->fault) && r->pub.writable < 0xffffffffu)
            len = r->pub.writable + 1u;
        break;
    case VIRTQ_FAKE_FAULT_USED_IDX_JUMP:
        if (fk_take_fault(q, q->fault))
            extra = q->num;
        break;
    case VIRTQ_FAKE_FAULT_USED_IDX_AHEAD:
        if (fk_take_fault(q, q->fault))
            extra = 1;
        break;
    case VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT:
        if (fk_take_fault(q, q->fault))
            q->force_irq = 1;
        break;
    default:
        break;
    }
    fk_put_used(q, id, len);
    if (twice)
        fk_put_used(q, id, len);
    if (extra) {
        q->used_idx = (uint16_t)(q->used_idx + extra);
        __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_SEQ_CST);
    }
    (void)d;
    fk_req_release(q, r);
}

void fk_batch_begin(struct fake_queue *q)
{
    q->batch_old = q->used_idx;
    q->batch_pw = q->used_pw;
}

/* After a batch of used elements: interrupt unless the driver asked not
   to be ("Used Buffer Notification Suppression"). */
void fk_batch_end(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    int want;
    if (q->packed) {
        fk_packed_batch_end(d, qi, q);
        return;
    }
    if (q->used_idx == q->batch_old && !q->force_irq)
        return;
    /* Our used.idx store (seq_cst, put_used) before these seq_cst loads
       of the driver's used_event/flags: the store-load pair that would
       otherwise lose an interrupt. */
    check_avail_flags(d, qi, q);
    if (q->force_irq) {
        want = 1;
        q->force_irq = 0;
    } else if (fk_has_feat(d, VIRTIO_F_EVENT_IDX)) {
        uint16_t ev = __atomic_load_n(fk_used_event_ptr(q), __ATOMIC_SEQ_CST);
        want = virtq_need_event(ev, q->used_idx, q->batch_old);
    } else {
        want = !(__atomic_load_n(&q->avail->flags, __ATOMIC_SEQ_CST) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    q->batch_old = q->used_idx;
    if (want) {
        q->st.irqs++;
        fk_raise_irq(d, VIRTIO_MMIO_INT_VRING);
    } else {
        q->st.irqs_suppressed++;
    }
}

static void park(struct fake_queue *q, struct fake_req *r, int state)
{
    r->state = (uint8_t)state;
    r->next = q->parked;
    q->parked = r;
}

/* Serve one taken request: the model, then the used element. */
static void serve_req(struct virtq_fake_dev *d, int qi, struct fake_req *r)
{
    struct fake_queue *q = &d->q[qi];
    uint32_t w = 0;
    if (fk_take_fault(q, VIRTQ_FAKE_FAULT_NEVER_COMPLETE)) {
        park(q, r, REQ_LOST);
        return;
    }
    if (d->model && d->model->request)
        w = d->model->request(d, d->model_ctx, &r->pub);
    if (w == VIRTQ_FAKE_HELD) {
        park(q, r, REQ_HELD);
        return;
    }
    if (w > r->pub.writable) {
        fk_vio(d, qi, NULL, "model %s says it wrote %u bytes into %u writable ones",
            d->model && d->model->name ? d->model->name : "?", w, r->pub.writable);
        w = r->pub.writable;
    }
    fk_finish_req(d, q, r, w);
}

static struct fake_req *take_pending(struct virtq_fake_dev *d, struct fake_queue *q, int random)
{
    int k = 0;
    struct fake_req *r;
    if (random || d->mode == VIRTQ_FAKE_OUT_OF_ORDER)
        k = (int)(fk_rng_next(d) % (uint64_t)q->npending);
    else if (d->mode == VIRTQ_FAKE_REVERSED)
        k = q->npending - 1;
    r = q->pending[k];
    memmove(&q->pending[k], &q->pending[k + 1], sizeof(struct fake_req *) * (size_t)(q->npending - k - 1));
    q->npending--;
    return r;
}

/* Complete up to n (n < 0: all) taken requests as one batch. */
int fk_complete_some(struct virtq_fake_dev *d, int qi, int n, int random)
{
    struct fake_queue *q = &d->q[qi];
    int k = 0;
    if (!fk_can_serve(d, q))
        return 0;
    fk_batch_begin(q);
    while ((n < 0 || k < n) && q->npending > 0 && fk_can_serve(d, q)) {
        serve_req(d, qi, take_pending(d, q, random));
        k++;
    }
    fk_batch_end(d, qi, q);
    return k;
}
