/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_dev.c — ring memory and the device played by the
   test, checking the driver against "Packed Virtqueues". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"

void pk_ring_init(struct pk_ring *r, uint32_t num, uint64_t features)
{
    void *p = NULL;
    memset(r, 0, sizeof(*r));
    r->num = num;
    r->features = features | PK_F_PACKED;
    r->bytes = virtq_packed_ring_bytes(num);
    assert_true(r->bytes == (size_t)16u * num + 8u);
    assert_int_equal(posix_memalign(&p, 16, r->bytes), 0);
    r->mem = p;
    r->slots = malloc(sizeof(struct virtq_slot) * num);
    assert_non_null(r->slots);
    /* Garbage first: virtq_init must not rely on zeroed memory. */
    memset(r->mem, 0xa5, r->bytes);
    memset(r->slots, 0x5a, sizeof(struct virtq_slot) * num);
    memset(&r->vq, 0xc3, sizeof(r->vq));
    assert_int_equal(virtq_init(&r->vq, num, VIRTQ_ALIGN_MODERN, r->mem, r->slots, r->features),
                     VIRTQ_OK);
}

void pk_ring_free(struct pk_ring *r)
{
    free(r->mem);
    free(r->slots);
    r->mem = NULL;
    r->slots = NULL;
}

void pk_dev_attach(struct pk_dev *d, const struct pk_ring *r)
{
    unsigned i;
    unsigned char *base = r->mem;
    memset(d, 0, sizeof(*d));
    d->num = (uint16_t)r->num;
    /* Descriptor ring, then the driver and device event suppression
       structures ("Structure Size and Alignment"), taken from the layout,
       not from virtq's pointers. */
    d->desc = (volatile struct pvirtq_desc *)(void *)base;
    d->drv = (volatile struct pvirtq_event_suppress *)(void *)(base + 16u * r->num);
    d->dev = (volatile struct pvirtq_event_suppress *)(void *)(base + 16u * r->num + 4u);
    d->event_idx = (r->features & PK_F_EVENT_IDX) != 0u;
    d->indirect = (r->features & PK_F_INDIRECT) != 0u;
    d->avail_wrap = d->used_wrap = 1; /* "Driver and Device Ring Wrap Counters" */
    /* "The descriptor ring is zero-initialized." */
    for (i = 0; i < r->num; i++)
        if (d->desc[i].flags != 0 || d->desc[i].addr != 0 || d->desc[i].len != 0 ||
            d->desc[i].id != 0)
            fail_msg("descriptor %u not zero-initialized (The Virtqueue Descriptor Format)", i);
    if (d->drv->flags != 0 || d->drv->desc != 0 || d->dev->flags != 0 || d->dev->desc != 0)
        fail_msg("event suppression structures not zeroed at init");
}

static int is_avail(uint16_t flags, int wrap)
{
    int a = (flags & VIRTQ_DESC_F_AVAIL) != 0, u = (flags & VIRTQ_DESC_F_USED) != 0;
    return a == wrap && u != wrap;
}

static void step(uint16_t *pos, int *wrap, uint16_t num)
{
    if (++*pos == num) {
        *pos = 0;
        *wrap = !*wrap;
    }
}

static void take_indirect(struct pk_dev *d, struct pk_chain *c, uint64_t addr, uint32_t len)
{
    const struct pvirtq_desc *t = (const struct pvirtq_desc *)(uintptr_t)addr;
    unsigned i, n = len / 16u;
    if (!d->indirect)
        fail_msg("INDIRECT without VIRTIO_F_INDIRECT_DESC (Indirect Descriptors)");
    if (len == 0u || len % 16u != 0u)
        fail_msg("indirect table length %u not a multiple of 16 (Indirect Flag)", len);
    if (((uintptr_t)t & 15u) != 0u)
        fail_msg("indirect table not 16-aligned");
    if (n > PK_MAX_SEG)
        fail_msg("indirect table of %u entries", n);
    for (i = 0; i < n; i++) {
        uint16_t f = t[i].flags;
        int w = (f & VIRTQ_DESC_F_WRITE) != 0u;
        /* "Indirect Descriptors": no flags except WRITE in the table. */
        if (f & (uint16_t)~VIRTQ_DESC_F_WRITE)
            fail_msg("indirect entry %u flags %#x: only WRITE is allowed (Indirect Descriptors)", i,
                     f);
        if (!w && c->nseg > c->nout)
            fail_msg("readable after writable in indirect table (Scatter-Gather Support)");
        if (t[i].len == 0u || t[i].addr == 0u)
            fail_msg("indirect entry %u empty", i);
        c->seg[c->nseg].addr = t[i].addr;
        c->seg[c->nseg].len = t[i].len;
        c->seg[c->nseg].write = w;
        if (w)
            c->wlen += t[i].len;
        else
            c->nout++;
        c->nseg++;
    }
}

int pk_dev_pop(struct pk_dev *d, struct pk_chain *c)
{
    uint16_t pos = d->avail_pos, f, id = 0;
    int wrap = d->avail_wrap;
    unsigned k;
    f = __atomic_load_n(&d->desc[pos].flags, __ATOMIC_ACQUIRE);
    if (!is_avail(f, wrap))
        return 0;
    memset(c, 0, offsetof(struct pk_chain, seg));
    for (k = 0;; k++) {
        volatile struct pvirtq_desc *x = &d->desc[pos];
        f = __atomic_load_n(&x->flags, __ATOMIC_ACQUIRE);
        /* "Next Flag": every descriptor of the list carries AVAIL/USED for
           the lap it is in. */
        if (!is_avail(f, wrap))
            fail_msg("descriptor %u of a list not available (flags %#x, wrap %d): "
                     "Next Flag: Descriptor Chaining", pos, f, wrap);
        if (k >= d->num)
            fail_msg("list longer than Queue Size (Scatter-Gather Support)");
        id = x->id;
        if (f & VIRTQ_DESC_F_INDIRECT) {
            if (f & VIRTQ_DESC_F_NEXT)
                fail_msg("INDIRECT with NEXT (Indirect Descriptors)");
            if (k != 0u)
                fail_msg("INDIRECT inside a NEXT list (Indirect Descriptors)");
            c->indirect = 1;
            take_indirect(d, c, x->addr, x->len);
        } else {
            int w = (f & VIRTQ_DESC_F_WRITE) != 0u;
            if (x->len == 0u || x->addr == 0u)
                fail_msg("empty element at %u", pos);
            if (!w && c->nseg > c->nout)
                fail_msg("readable after writable (Scatter-Gather Support)");
            if (c->nseg >= PK_MAX_SEG)
                fail_msg("list too long for the test");
            c->seg[c->nseg].addr = x->addr;
            c->seg[c->nseg].len = x->len;
            c->seg[c->nseg].write = w;
            if (w)
                c->wlen += x->len;
            else
                c->nout++;
            c->nseg++;
        }
        step(&pos, &wrap, d->num);
        if (!(f & VIRTQ_DESC_F_NEXT))
            break;
    }
    /* "Next Flag": the Buffer ID is in the last descriptor; it must not be
       one still in flight. */
    if (d->inflight[id])
        fail_msg("buffer id %u made available while in flight", id);
    d->inflight[id] = 1;
    d->ndesc_of[id] = (uint16_t)(k + 1u);
    c->id = id;
    c->ndesc = (uint16_t)(k + 1u);
    d->avail_pos = pos;
    d->avail_wrap = wrap;
    d->pops++;
    return 1;
}

int pk_dev_use(struct pk_dev *d, uint16_t id, uint32_t len)
{
    uint16_t old_pos = d->used_pos, n, i, ev_flags;
    int old_wrap = d->used_wrap, irq = 0;
    volatile struct pvirtq_desc *x = &d->desc[d->used_pos];
    if (!d->inflight[id])
        fail_msg("test bug: use of id %u not in flight", id);
    n = d->ndesc_of[id];
    d->inflight[id] = 0;
    x->id = id;
    x->len = len;
    /* Used: AVAIL and USED both equal the Device Ring Wrap Counter,
       written last with a release. */
    __atomic_store_n(&x->flags,
                     (uint16_t)(d->used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u),
                     __ATOMIC_RELEASE);
    for (i = 0; i < n; i++)
        step(&d->used_pos, &d->used_wrap, d->num);
    d->uses++;
    /* Used buffer notification per the driver's structure, by enumerating
       the positions this used descriptor covered. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    ev_flags = (uint16_t)(d->drv->flags & 3u);
    if (ev_flags == RING_EVENT_FLAGS_ENABLE) {
        irq = 1;
    } else if (ev_flags == RING_EVENT_FLAGS_DESC) {
        uint16_t ev = d->drv->desc, p = old_pos;
        int w = old_wrap;
        if (!d->event_idx)
            fail_msg("RING_EVENT_FLAGS_DESC without EVENT_IDX (Driver and Device Event Suppression)");
        for (i = 0; i < n; i++) {
            if (p == (ev & 0x7fffu) && w == (ev >> 15))
                irq = 1;
            step(&p, &w, d->num);
        }
    } else if (ev_flags != RING_EVENT_FLAGS_DISABLE) {
        fail_msg("driver event flags %#x reserved (Driver and Device Event Suppression)", ev_flags);
    }
    if (d->drv->flags & (uint16_t)~3u)
        fail_msg("reserved driver event flag bits set");
    d->irqs += (unsigned long)irq;
    return irq;
}

void pk_dev_set_event(struct pk_dev *d, uint16_t flags, uint16_t off, int wrap)
{
    d->dev->desc = (uint16_t)(off | (wrap ? 0x8000u : 0u));
    d->dev->flags = flags;
}

unsigned pk_dev_complete_all(struct pk_dev *d, uint32_t len)
{
    static struct pk_chain c;
    unsigned n = 0;
    while (pk_dev_pop(d, &c)) {
        (void)pk_dev_use(d, c.id, c.wlen < len ? (uint32_t)c.wlen : len);
        n++;
    }
    return n;
}

void pk_dev_raw_used(struct pk_dev *d, uint16_t id, uint32_t len, uint16_t flags)
{
    volatile struct pvirtq_desc *x = &d->desc[d->used_pos];
    x->id = id;
    x->len = len;
    __atomic_store_n(&x->flags, flags, __ATOMIC_RELEASE);
}

/* ---- barriers ------------------------------------------------------------ */

unsigned long pk_barrier_count[PK_KINDS];
void (*pk_barrier_hook)(enum pk_barrier_kind kind, void *ctx);
void *pk_barrier_ctx;

void pk_barrier(enum pk_barrier_kind kind)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    pk_barrier_count[kind]++;
    if (pk_barrier_hook != NULL)
        pk_barrier_hook(kind, pk_barrier_ctx);
}

void pk_barrier_reset(void)
{
    memset(pk_barrier_count, 0, sizeof(pk_barrier_count));
    pk_barrier_hook = NULL;
    pk_barrier_ctx = NULL;
}

uint32_t pk_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}
