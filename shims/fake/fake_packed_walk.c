/* SPDX-License-Identifier: MIT */
/* fake_packed_walk.c — the device taking available descriptors from a
   packed ring, in ring order, checking each list against the driver's
   rules ("Packed Virtqueues"). */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <string.h>

#define PW_WRAP 0x8000u
#define PW_POS 0x7fffu
#define ALLOWED_IN_TABLE VIRTQ_DESC_F_WRITE

struct pwalk {
    struct virtq_fake_dev *d;
    struct fake_queue *q;
    int qi;
    uint16_t nseg;
    int seen_write, indirect;
    uint64_t readable, writable;
};

/* "Driver and Device Ring Wrap Counters": available in the lap of pw
   means AVAIL equal to its wrap counter and USED the inverse. */
static int is_avail(uint16_t flags, uint16_t pw)
{
    int w = (pw & PW_WRAP) != 0;
    return ((flags & VIRTQ_DESC_F_AVAIL) != 0) == w && ((flags & VIRTQ_DESC_F_USED) != 0) != w;
}

/* AVAIL and USED both equal to the wrap counter of pw: "used in this lap",
   which only the device writes, and only behind the descriptors it read. */
static int is_used_now(uint16_t flags, uint16_t pw)
{
    uint16_t want = (pw & PW_WRAP) ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u;
    return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == want;
}

/* One buffer element; where names it for messages.  -1 after a violation. */
static int add_seg(struct pwalk *w, const struct pvirtq_desc *x, int writable, const char *where, unsigned at)
{
    struct virtq_fake_seg *s;
    if (w->nseg >= w->q->num) {
        fk_vio(w->d, w->qi, S_P_SG, "a descriptor list longer than Queue Size %u", w->q->num);
        return -1;
    }
    if (x->addr == 0 || x->len == 0) {
        /* QEMU refuses both too ("zero sized buffers are not allowed"). */
        fk_vio(w->d, w->qi, S_P_ELEM, "%s %u has %s: an element is a physically-contiguous buffer", where, at,
            x->addr == 0 ? "address 0" : "length 0");
        return -1;
    }
    if (!writable && w->seen_write) {
        fk_vio(w->d, w->qi, S_P_SG, "device-readable %s %u after a device-writable one", where, at);
        return -1;
    }
    w->seen_write |= writable;
    if (writable)
        w->writable += x->len;
    else
        w->readable += x->len;
    if (w->readable + w->writable > 0xffffffffull) {
        fk_vio(w->d, w->qi, S_P_SG, "a descriptor list of more than 2^32 bytes");
        return -1;
    }
    s = &w->q->scratch_seg[w->nseg++];
    s->addr = (void *)(uintptr_t)x->addr;
    s->len = x->len;
    s->writable = (uint8_t)writable;
    return 0;
}

/* An indirect table in packed form: struct pvirtq_desc entries one after
   the other, only WRITE among the flags, Buffer ID reserved. */
static int walk_table(struct pwalk *w, const struct pvirtq_desc *ind, unsigned at, int k)
{
    const struct pvirtq_desc *t = (const struct pvirtq_desc *)(uintptr_t)ind->addr;
    uint32_t i, n;
    if (!fk_has_feat(w->d, VIRTIO_F_INDIRECT_DESC)) {
        fk_vio(w->d, w->qi, S_P_INDIRECT,
            "descriptor %u sets VIRTQ_DESC_F_INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated", at);
        return -1;
    }
    if ((ind->flags & VIRTQ_DESC_F_NEXT) || k > 0) {
        fk_vio(w->d, w->qi, S_P_INDIRECT, "descriptor %u sets VIRTQ_DESC_F_INDIRECT in a list linked by "
            "VIRTQ_DESC_F_NEXT", at);
        return -1;
    }
    if (ind->len == 0 || (ind->len % 16u) != 0 || ind->addr == 0) {
        fk_vio(w->d, w->qi, S_P_IND_FLAG, "indirect table at %#llx of %u bytes (descriptor %u): a non-zero "
            "multiple of 16 at a non-zero address", (unsigned long long)ind->addr, ind->len, at);
        return -1;
    }
    n = ind->len / 16u;
    for (i = 0; i < n; i++) {
        struct pvirtq_desc x;
        /* One copy, never re-read; as the device sees it when the
           non-coherent cache is modelled (fake_cache.c). */
        if (!fk_cache_dev_read("indirect table", t, w->qi, -1, &t[i], &x, sizeof x))
            memcpy(&x, &t[i], sizeof x);
        if (x.flags & (uint16_t)~ALLOWED_IN_TABLE) {
            fk_vio(w->d, w->qi, S_P_INDIRECT, "indirect descriptor %u (table of descriptor %u) has flags %#x: "
                "only VIRTQ_DESC_F_WRITE is allowed", i, at, x.flags);
            return -1;
        }
        if (add_seg(w, &x, (x.flags & VIRTQ_DESC_F_WRITE) != 0, "indirect descriptor", i) < 0)
            return -1;
    }
    w->indirect = 1;
    return 0;
}

/* The list whose first descriptor is at q->avail_pw (seen available):
   walk it, check it, and queue it as a request.  -1 after a violation, 1
   when it is left for later (no room: only once the checks are off). */
static int take_list(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    struct pwalk w = {d, q, qi, 0, 0, 0, 0, 0};
    struct fake_req *r;
    uint16_t pw = q->avail_pw, id = 0;
    uint32_t k;
    for (k = 0;; k++) {
        struct pvirtq_desc x;
        unsigned at = pw & PW_POS;
        if (k >= q->num) {
            fk_vio(d, qi, S_P_SG, "the list at %u is longer than Queue Size %u", q->avail_pw & PW_POS, q->num);
            return -1;
        }
        /* Acquire: the descriptor's other fields were written before its
           flags ("Updating flags"). */
        x.flags = __atomic_load_n(&q->pdesc[at].flags, __ATOMIC_ACQUIRE);
        if (k > 0 && !is_avail(x.flags, pw)) {
            fk_vio(d, qi, S_P_SG, "descriptor %u, number %u of the list at %u, is not available (flags %#x, wrap %d) "
                "although its first one is: the driver MUST NOT make the first descriptor available before the "
                "rest of the list", at, k + 1, q->avail_pw & PW_POS, x.flags, (pw & PW_WRAP) != 0);
            return -1;
        }
        x.addr = __atomic_load_n(&q->pdesc[at].addr, __ATOMIC_RELAXED);
        x.len = __atomic_load_n(&q->pdesc[at].len, __ATOMIC_RELAXED);
        x.id = __atomic_load_n(&q->pdesc[at].id, __ATOMIC_RELAXED);
        id = x.id; /* "Buffer ID is included in the last descriptor in the list" */
        pw = fk_pw_add(q, pw, 1);
        if (x.flags & VIRTQ_DESC_F_INDIRECT) {
            if (walk_table(&w, &x, at, (int)k) < 0)
                return -1;
        } else if (add_seg(&w, &x, (x.flags & VIRTQ_DESC_F_WRITE) != 0, "descriptor", at) < 0) {
            return -1;
        }
        if (!(x.flags & VIRTQ_DESC_F_NEXT))
            break;
    }
    /* The ring holds at most Queue Size descriptors not yet used: a list
       beyond that overwrote descriptors the device has not used. */
    if (!q->nocheck && fk_pw_dist(q, q->used_pw, q->avail_pw) + k + 1 > q->num) {
        fk_vio(d, qi, S_P_SG, "the list at %u (%u descriptors) does not fit: %u of Queue Size %u are not used yet; "
            "the driver MUST make sure there's enough space in the ring", q->avail_pw & PW_POS, k + 1,
            fk_pw_dist(q, q->used_pw, q->avail_pw), q->num);
        return -1;
    }
    if (q->owned[id]) {
        fk_vio(d, qi, S_P_PLACE, "Buffer ID %u (list at %u) is made available while still in flight", id,
            q->avail_pw & PW_POS);
        return -1;
    }
    if (q->npending >= q->num)
        return 1; /* checked, more than a ring in flight: a fault lied */
    r = fk_xcalloc(1, sizeof *r + sizeof(struct virtq_fake_seg) * w.nseg + sizeof(uint16_t));
    memcpy(r + 1, q->scratch_seg, sizeof(struct virtq_fake_seg) * w.nseg);
    r->pub.seg = (const struct virtq_fake_seg *)(r + 1);
    r->ring = (uint16_t *)((struct virtq_fake_seg *)(r + 1) + w.nseg);
    r->ring[0] = id; /* owned[] is indexed by Buffer ID */
    r->nring = 1;
    r->ndesc = (uint16_t)(k + 1);
    r->pub.queue = qi;
    r->pub.head = id;
    r->pub.nseg = w.nseg;
    r->pub.readable = (uint32_t)w.readable;
    r->pub.writable = (uint32_t)w.writable;
    r->epoch = q->epoch;
    r->state = REQ_PENDING;
    q->owned[id] = 1;
    q->avail_pw = pw;
    q->pending[q->npending++] = r;
    q->st.popped++;
    q->st.indirect += (uint32_t)w.indirect;
    if (w.nseg > q->st.max_chain)
        q->st.max_chain = w.nseg;
    return 0;
}

/* What the next descriptor says: 1 available, 0 nothing new, -1 a flag
   pair that contradicts the ring's state (reported). */
static int next_state(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    uint16_t f = __atomic_load_n(&q->pdesc[q->avail_pw & PW_POS].flags, __ATOMIC_SEQ_CST);
    if (is_avail(f, q->avail_pw))
        return 1;
    if (!q->nocheck && is_used_now(f, q->avail_pw)) {
        fk_vio(d, qi, S_P_WRAP, "descriptor %u has flags %#x, \"used\" with wrap counter %d, but the device has not "
            "used it in this lap: AVAIL/USED contradict the ring (a wrong Driver Ring Wrap Counter?)",
            q->avail_pw & PW_POS, f, (q->avail_pw & PW_WRAP) != 0);
        return -1;
    }
    return 0;
}

/* Take every list made available into q->pending.  Returns the number
   taken; a violation latches the queue broken. */
int fk_packed_pop(struct virtq_fake_dev *d, int qi)
{
    struct fake_queue *q = &d->q[qi];
    int n = 0, st;
    for (;;) {
        while ((st = next_state(d, qi, q)) == 1) {
            int rc = take_list(d, qi, q);
            if (rc < 0) {
                fk_break_queue(d, q);
                return n;
            }
            if (rc > 0)
                return n;
            n++;
        }
        if (st < 0) {
            fk_break_queue(d, q);
            return n;
        }
        /* Re-arm (EVENT_IDX: "notify when the next one is made
           available"), then look once more: one made available before
           the driver could see it would wait for a notify never sent. */
        if (!fk_has_feat(d, VIRTIO_F_EVENT_IDX) || q->suppress || st == 1)
            break;
        fk_packed_notify_wish(d, q);
        if (next_state(d, qi, q) == 0)
            break;
    }
    return n;
}
