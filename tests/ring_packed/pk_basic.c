/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_basic.c — layout, add/publish/get, chains, indirect,
   event suppression both ways, ordering at the barriers, detach. */
#include <stdlib.h>

#include "pk_test.h"

static unsigned char bytes[4096];
static struct pk_chain ch;

static struct virtq_buf seg(unsigned off, uint32_t len)
{
    struct virtq_buf b;
    b.addr = &bytes[off];
    b.len = len;
    return b;
}

/* ---- layout ------------------------------------------------------------ */

static void t_sizes(void **st)
{
    uint32_t n;
    (void)st;
    assert_int_equal(virtq_packed_ring_bytes(0), 0);
    assert_int_equal(virtq_packed_ring_bytes(32769), 0);
    assert_int_equal(virtq_packed_ring_bytes(1), 24);
    assert_int_equal(virtq_packed_ring_bytes(32768), 16u * 32768u + 8u);
    /* Memory sized for a split ring always holds the packed ring. */
    for (n = 1; n <= 32768u; n *= 2)
        assert_true(VIRTQ_PACKED_RING_BYTES(n) <= VIRTQ_RING_BYTES(n, VIRTQ_ALIGN_MODERN));
}

static void t_init_args(void **st)
{
    static unsigned char mem[VIRTQ_PACKED_RING_BYTES(8) + 16] __attribute__((aligned(16)));
    struct virtq_slot slots[8];
    struct virtq vq;
    (void)st;
    assert_int_equal(virtq_init(&vq, 0, 4, mem, slots, PK_F_PACKED), VIRTQ_EINVAL);
    assert_int_equal(virtq_init(&vq, 32769, 4, mem, slots, PK_F_PACKED), VIRTQ_EINVAL);
    assert_int_equal(virtq_init(&vq, 8, 4, mem + 4, slots, PK_F_PACKED), VIRTQ_EINVAL);
    assert_int_equal(virtq_init(&vq, 8, 4, NULL, slots, PK_F_PACKED), VIRTQ_EINVAL);
    assert_int_equal(virtq_init(&vq, 8, 4, mem, NULL, PK_F_PACKED), VIRTQ_EINVAL);
    assert_int_equal(virtq_init(NULL, 8, 4, mem, slots, PK_F_PACKED), VIRTQ_EINVAL);
    /* Any size: 7 is fine for a packed ring, not for a split one. */
    assert_int_equal(virtq_init(&vq, 7, 4, mem, slots, PK_F_PACKED), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&vq), 7);
    assert_int_equal(virtq_init(&vq, 7, 4, mem, slots, 0), VIRTQ_EINVAL);
}

/* ---- add / publish / get ---------------------------------------------------- */

static void t_roundtrip(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[3] = {seg(0, 16), seg(64, 512), seg(1024, 1)};
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 8, 0);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_add(&r.vq, b, 1, 2, &r), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 5);
    /* Not visible before publish: nothing for the device. */
    assert_int_equal(pk_dev_pop(&d, &ch), 0);
    assert_int_equal(virtq_has_used(&r.vq), 0);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EAGAIN);
    assert_int_equal(pk_pub(&r.vq), 1); /* ENABLE: notify */
    assert_int_equal(pk_pub(&r.vq), 0); /* nothing new */
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    assert_int_equal(ch.ndesc, 3);
    assert_int_equal(ch.nseg, 3);
    assert_int_equal(ch.nout, 1);
    assert_int_equal(ch.wlen, 513);
    assert_true(ch.seg[0].addr == (uint64_t)(uintptr_t)&bytes[0] && ch.seg[0].len == 16);
    assert_true(ch.seg[1].addr == (uint64_t)(uintptr_t)&bytes[64] && ch.seg[1].write);
    assert_int_equal(pk_dev_use(&d, ch.id, 200), 1);
    assert_int_equal(virtq_has_used(&r.vq), 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_ptr_equal(c, &r);
    assert_int_equal(len, 200);
    assert_int_equal(virtq_num_free(&r.vq), 8);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EAGAIN);
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    pk_ring_free(&r);
}

/* Whole-ring chains, non-power-of-two sizes, many laps: the used position
   advances by each chain's length and the wrap counters stay in step. */
static void t_chains_any_size(void **st)
{
    static const uint32_t sizes[] = {1, 2, 3, 5, 7, 13, 100, 257};
    struct virtq_buf b[PK_MAX_SEG];
    unsigned si, i, lap;
    (void)st;
    for (i = 0; i < PK_MAX_SEG; i++)
        b[i] = seg(i % 4000u, 1);
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        struct pk_ring r;
        struct pk_dev d;
        uint32_t num = sizes[si], n = 1;
        pk_ring_init(&r, num, 0);
        pk_dev_attach(&d, &r);
        for (lap = 0; lap < 3u * num + 5u; lap++) {
            void *c;
            uint32_t len;
            unsigned out;
            n = n % num + 1u; /* 1..num, every length comes round */
            out = n / 2u;
            assert_int_equal(virtq_add(&r.vq, b, out, n - out, &b[lap % 7u]), VIRTQ_OK);
            assert_int_equal(virtq_num_free(&r.vq), num - n);
            assert_true(pk_pub(&r.vq) >= 0);
            assert_int_equal(pk_dev_pop(&d, &ch), 1);
            assert_int_equal(ch.ndesc, n);
            assert_int_equal(ch.nout, out);
            assert_int_equal(pk_dev_use(&d, ch.id, (uint32_t)ch.wlen) >= 0, 1);
            assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
            assert_ptr_equal(c, &b[lap % 7u]);
            assert_int_equal(len, n - out);
            assert_int_equal(virtq_num_free(&r.vq), num);
        }
        /* A chain longer than the ring is refused; so is an empty one. */
        assert_int_equal(virtq_add(&r.vq, b, 0, num + 1u, &r), VIRTQ_EINVAL);
        assert_int_equal(virtq_add(&r.vq, b, 0, 0, &r), VIRTQ_EINVAL);
        assert_int_equal(virtq_is_broken(&r.vq), 0);
        pk_ring_free(&r);
    }
}

/* A batch: several chains added, then one publish makes them all
   available; buffer ids are distinct from descriptor positions. */
static void t_batch_ids(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[2] = {seg(0, 8), seg(8, 8)};
    int cookies[6];
    unsigned i, got = 0;
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 12, 0);
    pk_dev_attach(&d, &r);
    for (i = 0; i < 6; i++)
        assert_int_equal(virtq_add(&r.vq, b, 1, 1, &cookies[i]), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 0);
    assert_int_equal(virtq_add(&r.vq, b, 1, 0, &r), VIRTQ_ENOSPC);
    assert_int_equal(pk_dev_pop(&d, &ch), 0);
    assert_int_equal(pk_pub(&r.vq), 1);
    /* Take all, complete in reverse: used descriptors land at the device's
       used position, not where each buffer was. */
    {
        uint16_t ids[6];
        for (i = 0; i < 6; i++) {
            assert_int_equal(pk_dev_pop(&d, &ch), 1);
            ids[i] = ch.id;
        }
        for (i = 0; i < 6; i++)
            (void)pk_dev_use(&d, ids[5 - i], 8);
    }
    while (virtq_get(&r.vq, &c, &len) == VIRTQ_OK) {
        assert_ptr_equal(c, &cookies[5 - got]);
        got++;
    }
    assert_int_equal(got, 6);
    assert_int_equal(virtq_num_free(&r.vq), 12);
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    pk_ring_free(&r);
}

/* Buffers held in flight across 2^16 publishes (a device using out of
   order): each still completes exactly once, never taken for one added
   but not published, whatever count of publishes it spans; an id added
   after that and not published is still refused. */
static void t_long_in_flight(void **st)
{
    enum { HELD = 8, FIRST = 65531 };
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = seg(0, 8);
    int held[HELD], other;
    uint16_t ids[HELD];
    unsigned i, round, done = 0;
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 12, 0);
    pk_dev_attach(&d, &r);
    for (i = 0; i < HELD; i++)
        assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &held[i]), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    for (i = 0; i < HELD; i++) {
        assert_int_equal(pk_dev_pop(&d, &ch), 1);
        ids[i] = ch.id;
    }
    /* One publish per round; held[k] completes after round FIRST + k. */
    for (round = 1; round < FIRST + HELD; round++) {
        assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &other), VIRTQ_OK);
        (void)pk_pub(&r.vq);
        assert_int_equal(pk_dev_pop(&d, &ch), 1);
        (void)pk_dev_use(&d, ch.id, 8);
        if (virtq_get(&r.vq, &c, &len) != VIRTQ_OK || c != &other)
            fail_msg("round %u: the buffer of this round not returned", round);
        if (round >= FIRST) {
            (void)pk_dev_use(&d, ids[round - FIRST], 8);
            if (virtq_get(&r.vq, &c, &len) != VIRTQ_OK)
                fail_msg("round %u: held buffer %u refused (%s)", round, round - FIRST,
                         virtq_strerror(virtq_get(&r.vq, &c, &len)));
            assert_ptr_equal(c, &held[round - FIRST]);
            done++;
        }
    }
    assert_int_equal(done, HELD);
    assert_int_equal(virtq_num_free(&r.vq), 12);
    /* Added, not published: the device peeks at its id and uses it. */
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &other), VIRTQ_OK);
    pk_dev_raw_used(&d, d.desc[d.avail_pos].id, 0,
                    (uint16_t)(d.used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u));
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EBROKEN);
    assert_int_equal(virtq_broken_reason(&r.vq), VIRTQ_BROKEN_UNPUBLISHED);
    pk_ring_free(&r);
}

static void t_indirect(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[3] = {seg(0, 16), seg(100, 300), seg(500, 1)};
    static struct virtq_desc table[3] __attribute__((aligned(16)));
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 4, 0);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 1, 2, table, &r), VIRTQ_ENOTSUP);
    pk_ring_free(&r);
    pk_ring_init(&r, 4, PK_F_INDIRECT);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 1, 2, (struct virtq_desc *)((char *)table + 8),
                                        &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 1, 2, table, &r), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 3);
    assert_int_equal(pk_pub(&r.vq), 1);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    assert_true(ch.indirect);
    assert_int_equal(ch.ndesc, 1);
    assert_int_equal(ch.nseg, 3);
    assert_int_equal(ch.nout, 1);
    assert_int_equal(ch.wlen, 301);
    (void)pk_dev_use(&d, ch.id, 301);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_int_equal(len, 301);
    assert_int_equal(virtq_num_free(&r.vq), 4);
    pk_ring_free(&r);
}

/* ---- notifications ------------------------------------------------------------ */

/* Device event suppression: DISABLE never notifies; DESC (EVENT_IDX)
   notifies exactly when the event descriptor is among those just made
   available (checked by enumeration against every offset and wrap). */
static void t_kick_decision(void **st)
{
    struct virtq_buf b = seg(0, 4);
    const uint32_t num = 5;
    unsigned adds, ev, w, start;
    (void)st;
    for (start = 0; start < 2u * num; start++)
        for (adds = 1; adds <= num; adds++)
            for (ev = 0; ev < num; ev++)
                for (w = 0; w < 2; w++) {
                    struct pk_ring r;
                    struct pk_dev d;
                    uint16_t p;
                    int pw, want = 0;
                    unsigned i;
                    pk_ring_init(&r, num, PK_F_EVENT_IDX);
                    pk_dev_attach(&d, &r);
                    /* Move both sides on by start descriptors. */
                    for (i = 0; i < start; i++) {
                        void *c;
                        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
                        (void)pk_pub(&r.vq);
                        assert_int_equal(pk_dev_complete_all(&d, 0), 1);
                        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
                    }
                    p = d.avail_pos;
                    pw = d.avail_wrap;
                    for (i = 0; i < adds; i++) {
                        if (p == ev && pw == (int)w)
                            want = 1;
                        if (++p == num) {
                            p = 0;
                            pw = !pw;
                        }
                    }
                    pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, (uint16_t)ev, (int)w);
                    for (i = 0; i < adds; i++)
                        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
                    if (pk_pub(&r.vq) != want)
                        fail_msg("start %u adds %u event %u/%u: kick %d expected", start, adds,
                                 ev, w, want);
                    pk_ring_free(&r);
                }
    {
        struct pk_ring r;
        struct pk_dev d;
        pk_ring_init(&r, num, 0);
        pk_dev_attach(&d, &r);
        pk_dev_set_event(&d, RING_EVENT_FLAGS_DISABLE, 0, 0);
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
        assert_int_equal(pk_pub(&r.vq), 0);
        /* DESC without EVENT_IDX is nothing to rely on: notify. */
        pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, 3, 0);
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
        assert_int_equal(pk_pub(&r.vq), 1);
        pk_ring_free(&r);
    }
}

/* Driver event suppression: disable writes DISABLE; enable writes ENABLE
   (or DESC at the next used position with EVENT_IDX) and reports a used
   buffer that arrived before the re-arm. */
static void t_intr(void **st)
{
    struct virtq_buf b = seg(0, 4);
    void *c;
    int ei;
    (void)st;
    for (ei = 0; ei < 2; ei++) {
        struct pk_ring r;
        struct pk_dev d;
        unsigned i;
        pk_ring_init(&r, 6, ei ? PK_F_EVENT_IDX : 0);
        pk_dev_attach(&d, &r);
        virtq_disable_intr(&r.vq);
        assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_DISABLE);
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
        assert_int_equal(pk_pub(&r.vq), 1);
        assert_int_equal(pk_dev_complete_all(&d, 0), 1);
        assert_int_equal(d.irqs, 0); /* suppressed */
        assert_int_equal(virtq_enable_intr(&r.vq), 1); /* one is waiting */
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
        assert_int_equal(virtq_enable_intr(&r.vq), 0);
        if (ei) {
            assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_DESC);
            assert_int_equal(d.drv->desc, (uint16_t)(1u | 0x8000u));
        } else {
            assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_ENABLE);
        }
        /* Every later completion interrupts, across wraps. */
        for (i = 0; i < 20; i++) {
            unsigned long before = d.irqs;
            assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
            (void)pk_pub(&r.vq);
            assert_int_equal(pk_dev_complete_all(&d, 0), 1);
            assert_int_equal(d.irqs, before + 1u);
            assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
        }
        pk_ring_free(&r);
    }
}

/* Add k chains of bufs (out readable, then in writable), publish them and
   let the device take them all; ids[] gets their buffer ids in order. */
static void pk_add_pop(struct pk_ring *r, struct pk_dev *d, const struct virtq_buf *bufs,
                       unsigned out, unsigned in, unsigned k, uint16_t *ids)
{
    unsigned i;
    for (i = 0; i < k; i++)
        assert_int_equal(virtq_add(&r->vq, bufs, out, in, r), VIRTQ_OK);
    (void)pk_pub(&r->vq);
    for (i = 0; i < k; i++) {
        assert_int_equal(pk_dev_pop(d, &ch), 1);
        ids[i] = ch.id;
    }
}

/* enable_intr_delayed with EVENT_IDX: the event sits about 3/4 into what
   is outstanding; 1 only once the device has used past it. */
static void t_intr_delayed(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = seg(0, 4);
    uint16_t ids[8];
    unsigned i;
    void *c;
    (void)st;
    pk_ring_init(&r, 8, PK_F_EVENT_IDX);
    pk_dev_attach(&d, &r);
    pk_add_pop(&r, &d, &b, 1, 0, 8, ids);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0);
    assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_DESC);
    assert_int_equal(d.drv->desc & 0x7fffu, 6); /* 8 * 3 / 4 */
    for (i = 0; i < 6; i++)
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0); /* re-armed: 6 again */
    assert_int_equal(pk_dev_use(&d, ids[6], 0), 1);    /* crosses position 6 */
    for (i = 0; i < 7; i++)
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    (void)pk_dev_use(&d, ids[7], 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 1); /* 1 outstanding, used */
    pk_ring_free(&r);
}

/* enable_intr_after(n) with EVENT_IDX: the event at the n-th descriptor
   from last_used, n clamped to what is in flight; 1 once n are used.
   With chains of two, the event is crossed by an earlier buffer: early,
   never late. */
static void t_intr_after(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = seg(0, 4), two[2];
    uint16_t ids[8];
    unsigned i;
    void *c;
    (void)st;
    two[0] = seg(0, 4);
    two[1] = seg(8, 4);
    pk_ring_init(&r, 8, PK_F_EVENT_IDX);
    pk_dev_attach(&d, &r);
    pk_add_pop(&r, &d, &b, 1, 0, 8, ids);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 3), 0);
    assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_DESC);
    assert_int_equal(d.drv->desc & 0x7fffu, 2);
    for (i = 0; i < 2; i++)
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 3), 0); /* 2 used of 3 */
    assert_int_equal(pk_dev_use(&d, ids[2], 0), 1);          /* the 3rd */
    assert_int_equal(virtq_enable_intr_after(&r.vq, 3), 1);  /* 3 used */
    for (i = 0; i < 3; i++)
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    /* 5 in flight, 10 asked: the 5th (position 7). */
    assert_int_equal(virtq_enable_intr_after(&r.vq, 10), 0);
    assert_int_equal(d.drv->desc & 0x7fffu, 7);
    for (i = 3; i < 7; i++)
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 0);
    assert_int_equal(pk_dev_use(&d, ids[7], 0), 1);
    for (i = 3; i < 8; i++)
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    /* Chains of two descriptors: n = 2 puts the event one descriptor on,
       which the first chain's used element already passes. */
    pk_add_pop(&r, &d, two, 1, 1, 3, ids);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 2), 0);
    assert_int_equal(pk_dev_use(&d, ids[0], 0), 1);
    for (i = 1; i < 3; i++)
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 0);
    for (i = 0; i < 3; i++)
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    /* Gets before the interrupt leave the event where the re-arm put it
       (moved back, it would fall behind the device): one interrupt, at the
       5th; the rest wait for the next re-arm. */
    pk_add_pop(&r, &d, &b, 1, 0, 8, ids);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 3; i++)
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 5), 0);
    {
        uint16_t ev = d.drv->desc;
        for (i = 0; i < 2; i++)
            assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
        assert_int_equal(d.drv->desc, ev);
    }
    assert_int_equal(pk_dev_use(&d, ids[3], 0), 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    assert_int_equal(pk_dev_use(&d, ids[4], 0), 1); /* the 5th, as promised */
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    assert_int_equal(pk_dev_use(&d, ids[5], 0), 0); /* no hint moved */
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    assert_int_equal(virtq_enable_intr(&r.vq), 0);
    for (i = 6; i < 8; i++) {
        assert_int_equal(pk_dev_use(&d, ids[i], 0), 1);
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
        assert_int_equal(d.drv->desc, r.vq.last_used); /* hints again */
    }
    assert_true(virtq_enable_intr_after(NULL, 2));
    pk_ring_free(&r);
    /* Without EVENT_IDX: plain ENABLE, any used buffer reported. */
    pk_ring_init(&r, 8, 0);
    pk_dev_attach(&d, &r);
    for (i = 0; i < 4; i++)
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    virtq_disable_intr(&r.vq);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    assert_int_equal(pk_dev_use(&d, ch.id, 0), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 3), 1);
    assert_int_equal(d.drv->flags, RING_EVENT_FLAGS_ENABLE);
    pk_ring_free(&r);
}

/* ---- ordering at the barriers ----------------------------------------------------- */

struct pub_ctx {
    struct pk_ring *r;
    unsigned wmb_seen, mb_seen;
    uint16_t head;
    int head_avail_at_wmb, body_ready_at_wmb, head_avail_at_mb;
};

static void pub_hook(enum pk_barrier_kind k, void *p)
{
    struct pub_ctx *x = p;
    const volatile struct pvirtq_desc *ring = (const volatile struct pvirtq_desc *)x->r->mem;
    if (k == PK_WMB || k == PK_DMA_WMB) {
        unsigned i;
        x->wmb_seen++;
        /* Release point: the head is not yet available, everything else of
           the batch is ("Updating flags", "Next Flag"). */
        x->head_avail_at_wmb = (ring[x->head].flags & VIRTQ_DESC_F_AVAIL) != 0u;
        x->body_ready_at_wmb = 1;
        for (i = 1; i < 5; i++)
            if (!(ring[i].flags & VIRTQ_DESC_F_AVAIL) || ring[i].addr == 0u)
                x->body_ready_at_wmb = 0;
    }
    if (k == PK_MB || k == PK_DMA_MB) {
        x->mb_seen++;
        /* "Sending Available Buffer Notifications": flags exposed before
           the device structure is read. */
        x->head_avail_at_mb = (ring[x->head].flags & VIRTQ_DESC_F_AVAIL) != 0u;
    }
}

static void t_order_publish(void **st)
{
    struct virtq_buf b[3] = {seg(0, 4), seg(4, 4), seg(8, 4)};
    int plat;
    (void)st;
    for (plat = 0; plat < 2; plat++) {
        struct pk_ring r;
        struct pub_ctx x;
        memset(&x, 0, sizeof(x));
        pk_ring_init(&r, 8, plat ? PK_F_ORDER_PLATFORM : 0);
        x.r = &r;
        x.head = 0;
        /* Two chains (3 + 2 descriptors) in one batch. */
        assert_int_equal(virtq_add(&r.vq, b, 1, 2, &r), VIRTQ_OK);
        assert_int_equal(virtq_add(&r.vq, b, 2, 0, &r), VIRTQ_OK);
        pk_barrier_reset();
        pk_barrier_hook = pub_hook;
        pk_barrier_ctx = &x;
        assert_int_equal(pk_pub(&r.vq), 1);
        pk_barrier_hook = NULL;
        assert_int_equal(x.wmb_seen, 1);
        assert_int_equal(x.mb_seen, 1);
        assert_int_equal(x.head_avail_at_wmb, 0);
        assert_int_equal(x.body_ready_at_wmb, 1);
        assert_int_equal(x.head_avail_at_mb, 1);
        /* Strength follows ORDER_PLATFORM. */
        assert_int_equal(pk_barrier_count[plat ? PK_DMA_WMB : PK_WMB], 1);
        assert_int_equal(pk_barrier_count[plat ? PK_WMB : PK_DMA_WMB], 0);
        pk_ring_free(&r);
    }
}

struct get_ctx {
    struct pk_ring *r;
    struct pk_dev *d;
    unsigned rmb;
};

/* get reads the flags with an acquire ("Receiving Used Buffers From The
   Device"): one read barrier per look at the ring. */
static void get_hook(enum pk_barrier_kind k, void *p)
{
    struct get_ctx *x = p;
    if (k == PK_RMB || k == PK_DMA_RMB)
        x->rmb++;
}

static void t_order_get(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct get_ctx x;
    struct virtq_buf b = seg(0, 64);
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 4, 0);
    pk_dev_attach(&d, &r);
    memset(&x, 0, sizeof(x));
    x.r = &r;
    x.d = &d;
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    pk_barrier_reset();
    pk_barrier_hook = get_hook;
    pk_barrier_ctx = &x;
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EAGAIN);
    assert_int_equal(x.rmb, 1); /* the flags load is an acquire */
    assert_int_equal(pk_dev_complete_all(&d, 10), 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_int_equal(x.rmb, 2);
    assert_int_equal(len, 10);
    pk_barrier_hook = NULL;
    pk_ring_free(&r);
}

/* enable_intr: the full barrier comes after the event structure is written
   and before the ring is re-read. */
struct arm_ctx {
    struct pk_ring *r;
    struct pk_dev *d;
    uint16_t flags_at_mb;
    int use_at_mb;
    uint16_t id;
};

static void arm_hook(enum pk_barrier_kind k, void *p)
{
    struct arm_ctx *x = p;
    if (k != PK_MB && k != PK_DMA_MB)
        return;
    x->flags_at_mb = x->d->drv->flags;
    if (x->use_at_mb) {
        x->use_at_mb = 0;
        (void)pk_dev_use(x->d, x->id, 0); /* the device completes right then */
    }
}

static void t_order_arm(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct arm_ctx x;
    struct virtq_buf b = seg(0, 4);
    (void)st;
    pk_ring_init(&r, 4, 0);
    pk_dev_attach(&d, &r);
    memset(&x, 0, sizeof(x));
    x.r = &r;
    x.d = &d;
    virtq_disable_intr(&r.vq);
    assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    x.id = ch.id;
    x.use_at_mb = 1;
    pk_barrier_reset();
    pk_barrier_hook = arm_hook;
    pk_barrier_ctx = &x;
    /* A completion racing the re-arm is seen by the re-check. */
    assert_int_equal(virtq_enable_intr(&r.vq), 1);
    pk_barrier_hook = NULL;
    assert_int_equal(x.flags_at_mb, RING_EVENT_FLAGS_ENABLE);
    assert_int_equal(d.irqs, 1);
    pk_ring_free(&r);
}

/* ---- detach and bad input ---------------------------------------------------------- */

static void t_detach(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[2] = {seg(0, 4), seg(4, 4)};
    int cookies[5], seen[5] = {0};
    void *c;
    unsigned i, n = 0;
    (void)st;
    pk_ring_init(&r, 9, 0);
    pk_dev_attach(&d, &r);
    for (i = 0; i < 3; i++)
        assert_int_equal(virtq_add(&r.vq, b, 1, 1, &cookies[i]), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    (void)pk_dev_use(&d, ch.id, 4);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK); /* cookie 0 back */
    assert_ptr_equal(c, &cookies[0]);
    seen[0] = 1;
    /* Two published in flight, two added but not published. */
    for (i = 3; i < 5; i++)
        assert_int_equal(virtq_add(&r.vq, b, 1, 1, &cookies[i]), VIRTQ_OK);
    while (virtq_detach(&r.vq, &c) == VIRTQ_OK) {
        unsigned k = (unsigned)((int *)c - cookies);
        assert_true(k < 5);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        n++;
    }
    assert_int_equal(n, 4);
    for (i = 0; i < 5; i++)
        assert_int_equal(seen[i], 1);
    /* Reusable as new. */
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    assert_int_equal(virtq_num_free(&r.vq), 9);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_add(&r.vq, b, 1, 1, &cookies[0]), VIRTQ_OK);
    assert_int_equal(pk_pub(&r.vq), 1);
    assert_int_equal(pk_dev_complete_all(&d, 4), 1);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    pk_ring_free(&r);
}

/* Refused calls change nothing: the queue struct, the slots and the ring
   memory compare equal afterwards. */
static void t_bad_args(void **st)
{
    struct pk_ring r;
    struct virtq_buf b[8] = {seg(0, 4), seg(4, 4), seg(8, 4), seg(12, 4), seg(16, 4), seg(20, 4), seg(24, 4), seg(28, 4)};
    struct virtq_buf bad[2] = {seg(0, 4), {NULL, 4}};
    struct virtq snap;
    struct virtq_slot sl[6];
    unsigned char mem[VIRTQ_PACKED_RING_BYTES(6)];
    void *c;
    (void)st;
    pk_ring_init(&r, 6, 0);
    assert_int_equal(virtq_add(&r.vq, b, 1, 1, &r), VIRTQ_OK);
    memcpy(&snap, &r.vq, sizeof(snap));
    memcpy(sl, r.slots, sizeof(sl));
    memcpy(mem, r.mem, sizeof(mem));
    assert_int_equal(virtq_add(&r.vq, b, 1, 1, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_publish(&r.vq, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, NULL, 1, 1, &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, b, 0, 0, &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, b, 7, 0, &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, b, 5, 0, &r), VIRTQ_ENOSPC);
    assert_int_equal(virtq_add(&r.vq, b, 1, UINT32_MAX, &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_get(&r.vq, NULL, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_EAGAIN);
    assert_memory_equal(&snap, &r.vq, sizeof(snap));
    assert_memory_equal(sl, r.slots, sizeof(sl));
    assert_memory_equal(mem, r.mem, sizeof(mem));
    /* A bad segment half-way: the private state is unchanged (descriptors
       past the pending head may be written, the device cannot reach them). */
    assert_int_equal(virtq_add(&r.vq, bad, 1, 1, &r), VIRTQ_EINVAL);
    assert_memory_equal(&snap, &r.vq, sizeof(snap));
    assert_memory_equal(sl, r.slots, sizeof(sl));
    assert_int_equal(pk_pub(&r.vq), 1);
    pk_ring_free(&r);
}

/* A refused add must leave nothing a later chain could expose: add a
   chain that fails on its last segment, then a good one at the same
   position; before publish the device sees nothing, after it exactly the
   good chain (found by the fuzzer: the refused chain's inner descriptors
   were left available and showed up behind the good head). */
static void t_refused_add_leaves_nothing(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf bad[3] = {seg(0, 4), seg(4, 4), {NULL, 4}}, good = seg(8, 4);
    struct virtq_buf huge[2] = {{&bytes[0], UINT32_MAX}, {&bytes[1], 2}};
    /* Four segments take the general loop, not the unrolled 2/3 path. */
    struct virtq_buf huge4[4] = {{&bytes[0], UINT32_MAX}, {&bytes[1], 1}, {&bytes[2], 1},
                                 {&bytes[3], 1}};
    (void)st;
    pk_ring_init(&r, 8, 0);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_add(&r.vq, bad, 1, 2, &r), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, huge, 0, 2, &r), VIRTQ_EINVAL); /* wlen over 4 GiB */
    assert_int_equal(virtq_add(&r.vq, huge4, 0, 4, &r), VIRTQ_EINVAL); /* the same, looped */
    assert_int_equal(virtq_num_free(&r.vq), 8);
    assert_int_equal(virtq_add(&r.vq, &good, 1, 0, &bytes[8]), VIRTQ_OK);
    assert_int_equal(pk_dev_pop(&d, &ch), 0);
    assert_int_equal(pk_pub(&r.vq), 1);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    assert_int_equal(ch.ndesc, 1);
    assert_int_equal(pk_dev_pop(&d, &ch), 0);
    pk_ring_free(&r);
}

/* virtq_submit (add + publish in one call) on a packed queue: visible at
   once, the notify answer follows the device event suppression, a refused
   submit asks for nothing. */
static void t_submit(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[2] = {seg(0, 16), seg(64, 100)}, bad = {NULL, 4};
    bool notify = false;
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 3, 0);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_submit(&r.vq, b, 1, 1, &r, &notify), VIRTQ_OK);
    assert_true(notify);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    assert_int_equal(ch.ndesc, 2);
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DISABLE, 0, 0);
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &d, &notify), VIRTQ_OK);
    assert_false(notify);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, &bad, 0, 1, &d, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &d, &notify), VIRTQ_ENOSPC);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    (void)pk_dev_use(&d, ch.id, 7);
    /* The second buffer, used first, lands at the device's first used
       position; its id names it. */
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_ptr_equal(c, &d);
    assert_int_equal(len, 7);
    assert_int_equal(pk_dev_pop(&d, &ch), 0);
    pk_ring_free(&r);
}

/* virtq_publish_defer() + virtq_kick_prepare() on a packed queue: the
   deferred batch is visible at once and its decision made later; a
   publish or submit while one is owed decides over both batches (an
   event at the deferred head still asks for the notification); defers
   add up, until more than a ring would be owed: that defer is EBUSY and
   publishes nothing. */
static void pk_drain_all(struct pk_ring *r, struct pk_dev *d, unsigned n)
{
    void *c;
    unsigned i;
    assert_int_equal(pk_dev_complete_all(d, 0), n);
    for (i = 0; i < n; i++)
        assert_int_equal(virtq_get(&r->vq, &c, NULL), VIRTQ_OK);
}

static void pk_add_n(struct virtq *vq, struct virtq_buf *b, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++)
        assert_int_equal(virtq_add(vq, b, 0, 1, vq), VIRTQ_OK);
}

static void t_publish_deferred(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = seg(0, 8);
    bool notify = true;
    void *c;
    (void)st;
    pk_ring_init(&r, 8, VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    pk_dev_attach(&d, &r);
    /* Positions 0, 1 deferred: visible, decided later at the first head. */
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, 0, 1);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    assert_int_equal(pk_dev_complete_all(&d, 0), 2); /* the device sees both */
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_true(notify);
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_false(notify); /* nothing owed */
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    /* Positions 2 and 3 deferred one by one: both visible, one decision
       over 2..3, which the event at 2 is in. */
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, 2, 1);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    assert_int_equal(pk_dev_complete_all(&d, 0), 2); /* both visible */
    notify = false;
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_true(notify);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    /* Deferred then submitted: the same, through virtq_submit(). */
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, 4, 1);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    notify = false;
    assert_int_equal(virtq_submit(&r.vq, &b, 0, 1, &r, &notify), VIRTQ_OK);
    assert_true(notify);
    pk_drain_all(&r, &d, 2);
    /* More than a ring owed (5 deferred and taken, then 4 more): that
       defer is refused and publishes nothing; the publish after it
       decides over all nine, which the event at 6 is in. */
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DESC, 6, 1);
    pk_add_n(&r.vq, &b, 5);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    pk_drain_all(&r, &d, 5);
    pk_add_n(&r.vq, &b, 4);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_EBUSY);
    assert_int_equal(pk_dev_complete_all(&d, 0), 0); /* nothing new visible */
    assert_int_equal(pk_pub(&r.vq), 1);
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_false(notify); /* decided by the publish */
    pk_drain_all(&r, &d, 4);
    /* The device asked for none: deferred or not, no notification. */
    pk_dev_set_event(&d, RING_EVENT_FLAGS_DISABLE, 0, 0);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    notify = true;
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_false(notify);
    pk_drain_all(&r, &d, 1);
    /* Refusals. */
    assert_int_equal(virtq_kick_prepare(&r.vq, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&r.vq, &b, 0, 1, &r), VIRTQ_OK);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    virtq_break(&r.vq);
    notify = true;
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_EBROKEN);
    assert_false(notify);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_EBROKEN);
    pk_ring_free(&r);
}

int pk_group_basic(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_sizes),         cmocka_unit_test(t_init_args),
        cmocka_unit_test(t_roundtrip),     cmocka_unit_test(t_chains_any_size),
        cmocka_unit_test(t_batch_ids),     cmocka_unit_test(t_long_in_flight),
        cmocka_unit_test(t_indirect),
        cmocka_unit_test(t_kick_decision), cmocka_unit_test(t_intr),
        cmocka_unit_test(t_intr_delayed),  cmocka_unit_test(t_intr_after),
        cmocka_unit_test(t_order_publish),
        cmocka_unit_test(t_publish_deferred),
        cmocka_unit_test(t_order_get),     cmocka_unit_test(t_order_arm),
        cmocka_unit_test(t_detach),        cmocka_unit_test(t_bad_args),
        cmocka_unit_test(t_refused_add_leaves_nothing), cmocka_unit_test(t_submit),
    };
    return cmocka_run_group_tests_name("packed basic", tests, NULL, NULL);
}
