/* SPDX-License-Identifier: MIT */
/* fake_walk.c — chain walking ("The Virtqueue Descriptor Table"). */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- chain walking ("The Virtqueue Descriptor Table") --------------------------------------------------- */

struct walk {
    struct virtq_fake_dev *d;
    struct fake_queue *q;
    int qi;
    uint16_t nseg;  /* descriptors carrying data (chain length) */
    uint16_t nring; /* descriptor-table entries used */
    int seen_write;
    uint64_t readable, writable;
};

static void load_desc(const void *p, struct virtq_desc *out)
{
    /* One copy; the driver may scribble afterwards, we never re-read. */
    memcpy(out, p, sizeof *out);
}

/* Add one data descriptor; where names it for messages. */
static int walk_seg(struct walk *w, const struct virtq_desc *dsc, const char *where, unsigned idx)
{
    struct virtq_fake_seg *s;
    int writable = (dsc->flags & VIRTQ_DESC_F_WRITE) != 0;
    if (w->nseg >= w->q->num) {
        fk_vio(w->d, w->qi, S_INDIRECT, "descriptor chain longer than Queue Size %u", w->q->num);
        return -1;
    }
    if (dsc->addr == 0) {
        fk_vio(w->d, w->qi, S_DESC, "%s %u has address 0", where, idx);
        return -1;
    }
    if (!writable && w->seen_write) {
        fk_vio(w->d, w->qi, S_FRAMING, "readable %s %u after a writable one", where, idx);
        return -1;
    }
    w->seen_write |= writable;
    if (writable)
        w->writable += dsc->len;
    else
        w->readable += dsc->len;
    if (w->readable + w->writable > 0xffffffffull) {
        fk_vio(w->d, w->qi, S_DESC, "descriptor chain longer than 2^32 bytes in total");
        return -1;
    }
    s = &w->q->scratch_seg[w->nseg++];
    s->addr = (void *)(uintptr_t)dsc->addr;
    s->len = dsc->len;
    s->writable = (uint8_t)writable;
    return 0;
}

static int walk_indirect(struct walk *w, const struct virtq_desc *ind, unsigned at)
{
    const unsigned char *table = (const unsigned char *)(uintptr_t)ind->addr;
    uint32_t n, i = 0, steps = 0;
    if (!fk_has_feat(w->d, VIRTIO_F_INDIRECT_DESC)) {
        fk_vio(w->d, w->qi, S_INDIRECT,
            "descriptor %u sets VIRTQ_DESC_F_INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated", at);
        return -1;
    }
    if (ind->flags & VIRTQ_DESC_F_NEXT) {
        fk_vio(w->d, w->qi, S_INDIRECT, "descriptor %u sets both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT", at);
        return -1;
    }
    if (ind->len == 0 || (ind->len % 16u) != 0) {
        fk_vio(w->d, w->qi, S_INDIRECT, "indirect table length %u (descriptor %u) is not a non-zero multiple of 16",
            ind->len, at);
        return -1;
    }
    if (ind->addr == 0) {
        fk_vio(w->d, w->qi, S_DESC, "descriptor %u points at an indirect table at address 0", at);
        return -1;
    }
    n = ind->len / 16u;
    for (;;) {
        struct virtq_desc t;
        if (i >= n) {
            fk_vio(w->d, w->qi, S_INDIRECT, "indirect descriptor next %u is beyond the table of %u (descriptor %u)",
                i, n, at);
            return -1;
        }
        if (++steps > n) {
            fk_vio(w->d, w->qi, S_DESC, "indirect descriptor chain loops (table of descriptor %u)", at);
            return -1;
        }
        /* The table is buffer memory the driver wrote: read it as the
           device sees it when the non-coherent cache is modelled. */
        if (!fk_cache_dev_read("indirect table", table, w->qi, -1, table + (size_t)16u * i, &t, sizeof t))
            load_desc(table + (size_t)16u * i, &t);
        if (t.flags & VIRTQ_DESC_F_INDIRECT) {
            fk_vio(w->d, w->qi, S_INDIRECT, "indirect descriptor %u sets VIRTQ_DESC_F_INDIRECT (nested table)", i);
            return -1;
        }
        if (walk_seg(w, &t, "indirect descriptor", i) < 0)
            return -1;
        if (!(t.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = t.next;
    }
}

/* Walk the chain at head; NULL after reporting a violation. */
struct fake_req *fk_walk_chain(struct virtq_fake_dev *d, int qi, uint16_t head)
{
    struct fake_queue *q = &d->q[qi];
    struct walk w = {d, q, qi, 0, 0, 0, 0, 0};
    struct fake_req *r;
    uint16_t idx = head;
    size_t size;
    int indirect = 0;
    if (++q->stamp == 0) {
        memset(q->visit, 0, sizeof *q->visit * q->num);
        q->stamp = 1;
    }
    for (;;) {
        struct virtq_desc dsc;
        if (idx >= q->num) {
            fk_vio(d, qi, S_DESC, "descriptor next %u is beyond Queue Size %u (chain at head %u)", idx, q->num, head);
            return NULL;
        }
        if (q->visit[idx] == q->stamp) {
            fk_vio(d, qi, S_DESC, "descriptor chain at head %u loops back to descriptor %u", head, idx);
            return NULL;
        }
        q->visit[idx] = q->stamp;
        if (q->owned[idx]) {
            fk_vio(d, qi, S_SUPPLY, "descriptor %u is made available again while still in flight (chain at head %u)",
                idx, head);
            return NULL;
        }
        q->scratch_ring[w.nring++] = idx;
        load_desc(&q->desc[idx], &dsc);
        if (dsc.flags & VIRTQ_DESC_F_INDIRECT) {
            if (walk_indirect(&w, &dsc, idx) < 0)
                return NULL;
            indirect = 1;
            break;
        }
        if (walk_seg(&w, &dsc, "descriptor", idx) < 0)
            return NULL;
        if (!(dsc.flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = dsc.next;
    }
    size = sizeof *r + sizeof(struct virtq_fake_seg) * w.nseg + sizeof(uint16_t) * w.nring;
    r = fk_xcalloc(1, size);
    memcpy(r + 1, q->scratch_seg, sizeof(struct virtq_fake_seg) * w.nseg);
    r->pub.seg = (const struct virtq_fake_seg *)(r + 1);
    r->ring = (uint16_t *)((struct virtq_fake_seg *)(r + 1) + w.nseg);
    memcpy(r->ring, q->scratch_ring, sizeof(uint16_t) * w.nring);
    r->pub.queue = qi;
    r->pub.head = head;
    r->pub.nseg = w.nseg;
    r->pub.readable = (uint32_t)w.readable;
    r->pub.writable = (uint32_t)w.writable;
    r->nring = w.nring;
    r->epoch = q->epoch;
    r->state = REQ_PENDING;
    for (idx = 0; idx < w.nring; idx++)
        q->owned[r->ring[idx]] = 1;
    q->st.popped++;
    if (indirect)
        q->st.indirect++;
    if (w.nseg > q->st.max_chain)
        q->st.max_chain = w.nseg;
    return r;
}
