/* SPDX-License-Identifier: MIT */
/* fake_packed_used.c — the device writing used descriptors into a packed
   ring, the injected faults in packed form, and used buffer notifications
   under the driver's event suppression structure ("Packed Virtqueues"). */
#define _GNU_SOURCE
#include "fake_internal.h"

#define PW_WRAP 0x8000u
#define PW_POS 0x7fffu

/* "Driver and Device Ring Wrap Counters": a used descriptor has AVAIL and
   USED both equal to the Device Ring Wrap Counter. */
static uint16_t used_pair(uint16_t pw)
{
    return (pw & PW_WRAP) ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u;
}

/* The descriptor at used_pw was read available and is not used yet: the
   driver may not have changed it ("A driver MUST NOT change a descriptor
   after changing the VIRTQ_DESC_F_AVAIL bit"), unless nothing is out. */
static void check_untouched(struct virtq_fake_dev *d, struct fake_queue *q)
{
    uint16_t f, want;
    uint32_t out = fk_pw_dist(q, q->used_pw, q->avail_pw);
    if (q->nocheck || out == 0 || out > q->num)
        return;
    f = __atomic_load_n(&q->pdesc[q->used_pw & PW_POS].flags, __ATOMIC_RELAXED);
    want = (uint16_t)(used_pair(q->used_pw) ^ VIRTQ_DESC_F_USED); /* available in this lap */
    if ((f & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) != want) {
        fk_vio(d, (int)(q - d->q), S_P_TABLE, "descriptor %u changed (flags %#x) after it was made available and "
            "before the device used it", q->used_pw & PW_POS, f);
        q->nocheck = 1;
    }
}

/* Write {id, len} as a used descriptor at position pw. */
static void write_used(struct fake_queue *q, uint16_t pw, uint32_t id, uint32_t len)
{
    struct pvirtq_desc *x = &q->pdesc[pw & PW_POS];
    /* "Write Flag": in a used descriptor WRITE says data was written. */
    uint16_t flags = (uint16_t)(used_pair(pw) | (len ? VIRTQ_DESC_F_WRITE : 0u));
    __atomic_store_n(&x->id, (uint16_t)id, __ATOMIC_RELAXED);
    __atomic_store_n(&x->len, len, __ATOMIC_RELAXED);
    /* Id and len before the flags (release, "Receiving Used Buffers From
       The Device"); seq_cst also orders it before fk_packed_batch_end()'s
       load of the driver's event suppression structure. */
    __atomic_store_n(&x->flags, flags, __ATOMIC_SEQ_CST);
    q->st.completed++;
}

/* One used descriptor for a list of ndesc descriptors; the device then
   skips the rest of the list ("Next Flag: Descriptor Chaining"). */
void fk_packed_put_used(struct virtq_fake_dev *d, struct fake_queue *q, uint32_t id, uint32_t len,
                        uint16_t ndesc)
{
    check_untouched(d, q);
    write_used(q, q->used_pw, id, len);
    q->used_pw = fk_pw_add(q, q->used_pw, ndesc);
}

/* A Buffer ID the device does not hold (VIRTQ_FAKE_FAULT_ID_NOT_HEAD in
   packed form): the first free one below Queue Size, else Queue Size. */
static uint32_t free_id(const struct fake_queue *q, uint32_t self)
{
    uint32_t i;
    for (i = 0; i < q->num; i++)
        if (!q->owned[i] && i != self)
            return i;
    return q->num;
}

enum lie { LIE_NONE, LIE_REPEAT, LIE_SKIP, LIE_PHANTOM };

/* The armed fault for this completion: may change id and len; returns
   the lie to tell about the ring itself. */
static enum lie pick_fault(struct fake_queue *q, const struct fake_req *r, uint32_t *id, uint32_t *len)
{
    int f = q->fault_count > 0 ? q->fault : VIRTQ_FAKE_FAULT_NONE;
    if (f == VIRTQ_FAKE_FAULT_NONE || f == VIRTQ_FAKE_FAULT_NEVER_COMPLETE || !fk_take_fault(q, f))
        return LIE_NONE;
    switch (f) {
    case VIRTQ_FAKE_FAULT_COMPLETE_TWICE: return LIE_REPEAT;
    case VIRTQ_FAKE_FAULT_ID_RANGE: *id = (uint16_t)(q->num + r->pub.head); break;
    case VIRTQ_FAKE_FAULT_ID_HIGH: *id = r->pub.head | PW_WRAP; break;
    case VIRTQ_FAKE_FAULT_ID_NOT_HEAD: *id = free_id(q, r->pub.head); break;
    case VIRTQ_FAKE_FAULT_LEN_OVER:
        if (r->pub.writable < 0xffffffffu)
            *len = r->pub.writable + 1u;
        break;
    case VIRTQ_FAKE_FAULT_USED_IDX_JUMP: return LIE_SKIP;
    case VIRTQ_FAKE_FAULT_USED_IDX_AHEAD: return LIE_PHANTOM;
    case VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT: q->force_irq = 1; break;
    default: break;
    }
    return LIE_NONE;
}

/* Write the used descriptor for r, with any armed fault, and free it. */
void fk_packed_finish_req(struct virtq_fake_dev *d, struct fake_queue *q, struct fake_req *r, uint32_t len)
{
    uint32_t id = r->pub.head;
    enum lie lie = pick_fault(q, r, &id, &len);
    if (lie != LIE_NONE)
        q->nocheck = 1; /* our ring state is a lie from here on */
    if (lie == LIE_SKIP)
        q->used_pw = fk_pw_add(q, q->used_pw, 1); /* one entry skipped */
    fk_packed_put_used(d, q, id, len, r->ndesc);
    if (lie == LIE_REPEAT)
        write_used(q, q->used_pw, id, len); /* the same element again, next */
    if (lie == LIE_PHANTOM)
        /* The next descriptor marked used in this lap, id and len as found. */
        __atomic_store_n(&q->pdesc[q->used_pw & PW_POS].flags, used_pair(q->used_pw), __ATOMIC_SEQ_CST);
    fk_req_release(q, r);
}

/* The driver's event suppression structure: 1 to interrupt for the used
   descriptors from batch_pw to used_pw. */
static int want_irq(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    /* Seq_cst after our seq_cst flags stores: the store-load pair that
       would otherwise lose an interrupt. */
    uint16_t f = __atomic_load_n(&q->pdrv->flags, __ATOMIC_SEQ_CST);
    uint16_t mode = (uint16_t)(f & 3u), ev;
    int event_idx = fk_has_feat(d, VIRTIO_F_EVENT_IDX);
    if ((f & (uint16_t)~3u || mode == 3u || (mode == RING_EVENT_FLAGS_DESC && !event_idx)) &&
        q->bad_drv != (uint32_t)f + 1u) {
        q->bad_drv = (uint32_t)f + 1u;
        fk_vio(d, qi, S_P_EVFMT, "driver event suppression flags %#x: %s", f,
            (f & (uint16_t)~3u) ? "reserved bits set" : mode == 3u ? "the value 3 is reserved"
                                                                   : "RING_EVENT_FLAGS_DESC without VIRTIO_F_RING_EVENT_IDX");
    }
    if (mode == RING_EVENT_FLAGS_DISABLE)
        return 0;
    if (mode != RING_EVENT_FLAGS_DESC || !event_idx)
        return 1;
    /* "Event will only trigger when this descriptor is made used": when
       the batch covered it (a list's skipped descriptors included). */
    ev = __atomic_load_n(&q->pdrv->desc, __ATOMIC_SEQ_CST);
    if ((ev & PW_POS) >= q->num) {
        if (q->bad_drv != 0x10000u + ev) {
            q->bad_drv = 0x10000u + ev;
            fk_vio(d, qi, S_P_EVFMT, "driver event offset %u is beyond Queue Size %u", ev & PW_POS, q->num);
        }
        return 1;
    }
    return fk_pw_dist(q, q->batch_pw, ev) < fk_pw_dist(q, q->batch_pw, q->used_pw);
}

/* After a batch of used descriptors: interrupt unless the driver asked
   not to be ("Driver and Device Event Suppression"). */
void fk_packed_batch_end(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    int want;
    if (q->used_pw == q->batch_pw && !q->force_irq)
        return;
    want = want_irq(d, qi, q);
    if (q->force_irq) {
        want = 1;
        q->force_irq = 0;
    }
    q->batch_pw = q->used_pw;
    if (want) {
        q->st.irqs++;
        fk_raise_irq(d, VIRTIO_MMIO_INT_VRING);
    } else {
        q->st.irqs_suppressed++;
    }
}
