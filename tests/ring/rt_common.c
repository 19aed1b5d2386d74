/* SPDX-License-Identifier: MIT */
/* tests/ring/rt_common.c — ring memory, the test's device, invariants. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "ring_test.h"

/* ---- ring memory ----------------------------------------------------------- */

void *rt_aligned_alloc(size_t align, size_t size)
{
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    assert_int_equal(posix_memalign(&p, align, size), 0);
    assert_non_null(p);
    return p;
}

void rt_aligned_free(void *p) { free(p); }

void rt_ring_init(struct rt_ring *r, uint32_t num, uint32_t align, uint64_t features)
{
    memset(r, 0, sizeof(*r));
    r->num = num;
    r->align = align;
    r->features = features;
    r->bytes = virtq_ring_bytes(num, align);
    assert_true(r->bytes > 0);
    /* Base alignment: 16 for the descriptor table, or the legacy
       QueueAlign for the whole ring ("Virtqueue alignment"). */
    r->mem = rt_aligned_alloc(align > 16u ? align : 16u, r->bytes);
    r->slots = malloc(sizeof(struct virtq_slot) * num);
    assert_non_null(r->slots);
    /* Garbage first: virtq_init must not rely on zeroed memory. */
    memset(r->mem, 0xa5, r->bytes);
    memset(r->slots, 0x5a, sizeof(struct virtq_slot) * num);
    memset(&r->vq, 0xc3, sizeof(r->vq));
    assert_int_equal(virtq_init(&r->vq, num, align, r->mem, r->slots, features), VIRTQ_OK);
}

void rt_ring_free(struct rt_ring *r)
{
    rt_aligned_free(r->mem);
    free(r->slots);
    r->mem = NULL;
    r->slots = NULL;
}

/* ---- the device ------------------------------------------------------------------ */

void rt_dev_attach(struct rt_dev *d, const struct virtq *vq, uint64_t features)
{
    memset(d, 0, sizeof(*d));
    d->num = vq->num;
    d->desc = vq->desc;
    d->avail = vq->avail;
    d->used = vq->used;
    /* EVENT_IDX fields sit right after each ring ("The Virtqueue Available
       Ring", "The Virtqueue Used Ring"); derive them from the layout, not
       from virtq's own pointers. */
    d->used_event = (volatile uint16_t *)(void *)((unsigned char *)vq->avail + 4u + 2u * vq->num);
    d->avail_event = (volatile uint16_t *)(void *)((unsigned char *)vq->used + 4u + 8u * vq->num);
    d->event_idx = (features & RT_F_EVENT_IDX) != 0u;
    d->indirect = (features & RT_F_INDIRECT) != 0u;
    d->last_avail = d->avail->idx;
    d->used_idx = d->used->idx;
    d->used_pub = d->used_idx;
}

unsigned rt_dev_avail(const struct rt_dev *d) { return (uint16_t)(d->avail->idx - d->last_avail); }

/* Visited marks for loop detection, by generation so no clearing. */
static uint32_t visit_gen;
static uint32_t visit_ring[VIRTQ_MAX_SIZE];
static uint32_t visit_table[VIRTQ_MAX_SIZE];

static void record(struct rt_chain *c, uint64_t addr, uint32_t len, uint16_t flags)
{
    int write = (flags & VIRTQ_DESC_F_WRITE) != 0u;
    if (c->nseg >= RT_MAX_SEG)
        fail_msg("device: chain longer than the test device records (%u)", RT_MAX_SEG);
    /* "The Virtqueue Descriptor Table": device-writable descriptors come
       after every device-readable one. */
    if (!write && c->nseg > c->nout)
        fail_msg("device: readable descriptor after a writable one (2.7.4.2)");
    /* virtq's contract: no empty or NULL segments reach the ring. */
    if (len == 0u || addr == 0u)
        fail_msg("device: descriptor with len %u addr %#llx", len, (unsigned long long)addr);
    c->seg[c->nseg].addr = addr;
    c->seg[c->nseg].len = len;
    c->seg[c->nseg].write = write;
    c->nseg++;
    if (write)
        c->wlen += len;
    else
        c->nout++;
}

static void walk_indirect(struct rt_dev *d, struct rt_chain *c, uint64_t addr, uint32_t len)
{
    const volatile struct virtq_desc *t = (const volatile struct virtq_desc *)(uintptr_t)addr;
    uint32_t n, count = 0;
    uint16_t i = 0;
    int more = 1;
    if (!d->indirect)
        fail_msg("device: INDIRECT without VIRTIO_F_INDIRECT_DESC (2.7.5.3.1)");
    if (len == 0u || len % 16u != 0u)
        fail_msg("device: indirect table len %u not a multiple of 16", len);
    if ((addr & 15u) != 0u)
        fail_msg("device: indirect table not 16-byte aligned");
    n = len / 16u;
    if (n > d->num)
        fail_msg("device: indirect table of %u entries, ring of %u", n, d->num);
    while (more) {
        uint16_t flags;
        if (i >= n)
            fail_msg("device: indirect next %u outside a table of %u", i, n);
        if (visit_table[i] == visit_gen)
            fail_msg("device: loop in indirect table at %u", i);
        visit_table[i] = visit_gen;
        count++;
        flags = t[i].flags;
        if (flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE))
            fail_msg("device: flags %#x inside an indirect table (2.7.5.3.1)", flags);
        record(c, t[i].addr, t[i].len, flags);
        more = (flags & VIRTQ_DESC_F_NEXT) != 0u;
        i = t[i].next;
    }
    /* virtq fills the whole table it describes. */
    if (count != n)
        fail_msg("device: indirect table len says %u entries, chain has %u", n, count);
}

int rt_dev_pop(struct rt_dev *d, struct rt_chain *c)
{
    uint16_t avail_idx = d->avail->idx;
    uint16_t pending = (uint16_t)(avail_idx - d->last_avail);
    uint16_t idx, head;
    unsigned count = 0;
    int more = 1;
    if (pending == 0u)
        return 0;
    if (pending > d->num)
        fail_msg("device: avail.idx %u runs %u ahead of %u, ring of %u", avail_idx, pending,
                 d->last_avail, d->num);
    head = d->avail->ring[d->last_avail & (d->num - 1u)];
    d->last_avail++;
    d->pops++;
    if (head >= d->num)
        fail_msg("device: avail head %u >= ring size %u", head, d->num);
    memset(c, 0, offsetof(struct rt_chain, seg));
    c->head = head;
    visit_gen++;
    idx = head;
    while (more) {
        uint16_t flags;
        if (idx >= d->num)
            fail_msg("device: next %u >= ring size %u", idx, d->num);
        if (visit_ring[idx] == visit_gen)
            fail_msg("device: loop in descriptor chain at %u", idx);
        visit_ring[idx] = visit_gen;
        /* 2.7.5.3.1: a chain is at most Queue Size long. */
        if (++count > d->num)
            fail_msg("device: chain longer than the ring");
        flags = d->desc[idx].flags;
        if (flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT))
            fail_msg("device: unknown descriptor flags %#x", flags);
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            /* virtq's convention (stricter than the spec): an indirect
               descriptor is a whole request on its own, flags exactly
               INDIRECT — never with NEXT (2.7.5.3.1). */
            if (flags != VIRTQ_DESC_F_INDIRECT || count != 1u)
                fail_msg("device: indirect descriptor with flags %#x at chain position %u",
                         flags, count);
            c->indirect = 1;
            walk_indirect(d, c, d->desc[idx].addr, d->desc[idx].len);
            break;
        }
        record(c, d->desc[idx].addr, d->desc[idx].len, flags);
        more = (flags & VIRTQ_DESC_F_NEXT) != 0u;
        idx = d->desc[idx].next;
    }
    c->ndesc = (uint16_t)count;
    return 1;
}

void rt_dev_use(struct rt_dev *d, uint32_t id, uint32_t len)
{
    volatile struct virtq_used_elem *e = &d->used->ring[d->used_idx & (d->num - 1u)];
    e->id = id;
    e->len = len;
    d->used_idx++;
}

int rt_in_window(uint16_t e, uint16_t new_idx, uint16_t old)
{
    uint16_t i;
    for (i = old; i != new_idx; i++)
        if (i == e)
            return 1;
    return 0;
}

int rt_dev_flush(struct rt_dev *d)
{
    uint16_t old = d->used_pub, now = d->used_idx;
    int irq;
    d->used->idx = now;
    d->used_pub = now;
    d->flushes++;
    if (old == now)
        return 0;
    /* "Used Buffer Notification Suppression": with EVENT_IDX interrupt when
       used.idx moved past used_event; otherwise unless NO_INTERRUPT. */
    if (d->event_idx)
        irq = rt_in_window(*d->used_event, now, old);
    else
        irq = !(d->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (irq)
        d->irqs++;
    return irq;
}

void rt_dev_set_avail_event(struct rt_dev *d, uint16_t v) { *d->avail_event = v; }

void rt_dev_set_no_notify(struct rt_dev *d, int on)
{
    d->used->flags = on ? VIRTQ_USED_F_NO_NOTIFY : 0u;
}

unsigned rt_dev_complete_all(struct rt_dev *d, uint32_t len)
{
    static struct rt_chain c;
    unsigned n = 0;
    while (rt_dev_pop(d, &c)) {
        rt_dev_use(d, c.head, len < c.wlen ? len : (uint32_t)c.wlen);
        n++;
    }
    rt_dev_flush(d);
    return n;
}

/* ---- invariants -------------------------------------------------------------------- */

static unsigned char fl_mark[VIRTQ_MAX_SIZE];

unsigned rt_check_freelist(const struct virtq *vq)
{
    unsigned n = vq->num, h, k, inflight = 0, heads = 0, i;
    uint16_t idx;
    assert_true(n >= 1u && n <= VIRTQ_MAX_SIZE);
    memset(fl_mark, 0, n);
    for (h = 0; h < n; h++) {
        const struct virtq_slot *s = &vq->slot[h];
        if (s->cookie == NULL)
            continue;
        heads++;
        if (s->ndesc == 0u || s->ndesc > n)
            fail_msg("in-flight head %u has ndesc %u", h, s->ndesc);
        idx = (uint16_t)h;
        for (k = 0; k < s->ndesc; k++) {
            if (idx >= n)
                fail_msg("chain of head %u links to %u", h, idx);
            if (fl_mark[idx])
                fail_msg("descriptor %u in two in-flight chains (head %u)", idx, h);
            fl_mark[idx] = 1;
            if (k + 1u < s->ndesc)
                idx = vq->slot[idx].next;
        }
        inflight += s->ndesc;
    }
    if (vq->num_free + inflight != n)
        fail_msg("num_free %u + in flight %u != ring size %u", vq->num_free, inflight, n);
    idx = vq->free_head;
    for (k = 0; k < vq->num_free; k++) {
        if (idx >= n)
            fail_msg("free list link %u out of range at position %u", idx, k);
        if (fl_mark[idx] == 2)
            fail_msg("free list loops back to %u after %u entries", idx, k);
        if (fl_mark[idx] == 1)
            fail_msg("free descriptor %u is part of an in-flight chain", idx);
        fl_mark[idx] = 2;
        idx = vq->slot[idx].next;
    }
    for (i = 0; i < n; i++)
        if (!fl_mark[i])
            fail_msg("descriptor %u neither free nor in flight (leaked)", i);
    return heads;
}

void rt_snap_take(struct rt_snap *s, const struct virtq *vq)
{
    assert_true(vq->num <= RT_MAX_NUM);
    memcpy(&s->vq, vq, sizeof(*vq));
    memcpy(s->slot, vq->slot, sizeof(struct virtq_slot) * vq->num);
    s->mem_len = virtq_ring_bytes(vq->num, vq->align);
    assert_true(s->mem_len <= sizeof(s->mem));
    memcpy(s->mem, vq->desc, s->mem_len);
}

void rt_snap_check(const struct rt_snap *s, const struct virtq *vq)
{
    const unsigned char *now = (const unsigned char *)vq->desc;
    size_t i;
    assert_memory_equal(&s->vq, vq, sizeof(*vq));
    assert_memory_equal(s->slot, vq->slot, sizeof(struct virtq_slot) * vq->num);
    for (i = 0; i < s->mem_len; i++)
        if (s->mem[i] != now[i])
            fail_msg("ring byte %zu (descriptor %zu) changed by a failed call: %#x -> %#x", i,
                     i / 16u, s->mem[i], now[i]);
}

/* ---- barrier hooks ------------------------------------------------------------------ */

unsigned long rt_barrier_count[RT_BARRIER_KINDS];
void (*rt_barrier_hook)(enum rt_barrier_kind kind, void *ctx);
void *rt_barrier_ctx;

void rt_barrier(enum rt_barrier_kind kind)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    rt_barrier_count[kind]++;
    if (rt_barrier_hook != NULL)
        rt_barrier_hook(kind, rt_barrier_ctx);
}

void rt_barrier_reset(void)
{
    memset(rt_barrier_count, 0, sizeof(rt_barrier_count));
    rt_barrier_hook = NULL;
    rt_barrier_ctx = NULL;
}

/* ---- misc ------------------------------------------------------------------------ */

uint32_t rt_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

void rt_advance(struct virtq *vq, struct rt_dev *d, unsigned long n)
{
    static unsigned char byte;
    static struct rt_chain c;
    struct virtq_buf b = {&byte, 1};
    void *cookie;
    uint32_t len;
    while (n--) {
        assert_int_equal(virtq_add(vq, &b, 1, 0, &byte), VIRTQ_OK);
        assert_true(vq_test_publish(vq) >= 0);
        assert_int_equal(rt_dev_pop(d, &c), 1);
        rt_dev_use(d, c.head, 0);
        rt_dev_flush(d);
        assert_int_equal(virtq_get(vq, &cookie, &len), VIRTQ_OK);
        assert_ptr_equal(cookie, &byte);
        assert_int_equal(len, 0);
    }
}

char rt_last_log[256];

void rt_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt_last_log, sizeof rt_last_log, fmt, ap);
    va_end(ap);
}

void rt_assert_failed(const char *what, const char *file, int line)
{
    fail_msg("VIRTQ_ASSERT(%s) failed at %s:%d", what, file, line);
}
