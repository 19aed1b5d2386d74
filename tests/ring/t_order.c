/* SPDX-License-Identifier: MIT */
/* tests/ring/t_order.c — what virtq has stored (and not yet loaded) at each
   barrier, per DESIGN.md "Ordering" and the spec sections it cites:
     publish (2.7.13): descriptors + avail entry, write barrier, avail.idx,
       full barrier, then used.flags / avail_event;
     get (2.7.14): used.idx, read barrier, then the used element;
     enable_intr (2.7.10): used_event / avail.flags, full barrier, then
       used.idx.
   The barriers are routed through rt_barrier() (t_main.c); a hook plays a
   device acting at exactly that point, as another CPU could.  Barrier
   strength follows VIRTIO_F_ORDER_PLATFORM. */
#include "ring_test.h"

static unsigned char bytes[8];

struct hook_ctx {
    struct rt_ring *r;
    struct rt_dev *d;
    int mode;
    unsigned calls;
    /* publish */
    uint16_t old_idx, new_idx;
    unsigned k;
    /* get */
    uint32_t elem_id, elem_len;
    /* enable */
    int dev_irq;
    uint16_t want_event;
};

static int is_platform(const struct rt_ring *r)
{
    return (r->features & RT_F_ORDER_PLATFORM) != 0u;
}

static enum rt_barrier_kind want_kind(const struct rt_ring *r, enum rt_barrier_kind smp)
{
    return is_platform(r) ? (enum rt_barrier_kind)(smp + RT_DMA_MB) : smp;
}

static void expect_counts(const struct rt_ring *r, unsigned mb, unsigned rmb, unsigned wmb)
{
    unsigned long want[RT_BARRIER_KINDS] = {0};
    int i;
    want[want_kind(r, RT_MB)] = mb;
    want[want_kind(r, RT_RMB)] = rmb;
    want[want_kind(r, RT_WMB)] = wmb;
    for (i = 0; i < RT_BARRIER_KINDS; i++)
        if (rt_barrier_count[i] != want[i])
            fail_msg("barrier kind %d: %lu issued, %lu expected (platform %d)", i,
                     rt_barrier_count[i], want[i], is_platform(r));
}

/* ---- publish --------------------------------------------------------------- */

enum { PUB_IDLE_AT_MB = 1, PUB_NOTHING };

static void publish_hook(enum rt_barrier_kind kind, void *p)
{
    struct hook_ctx *c = p;
    struct virtq *vq = &c->r->vq;
    static struct rt_chain ch;
    unsigned i;
    c->calls++;
    if (kind == want_kind(c->r, RT_WMB)) {
        /* Before avail.idx: the entries and descriptors are in place,
           the index is not. */
        assert_int_equal(vq->avail->idx, c->old_idx);
        for (i = 0; i < c->k; i++) {
            uint16_t head = vq->avail->ring[(uint16_t)(c->old_idx + i) & (vq->num - 1u)];
            assert_true(head < vq->num);
            assert_int_equal(vq->desc[head].addr, (uint64_t)(uintptr_t)&bytes[i]);
            assert_int_equal(vq->desc[head].len, 1);
        }
    } else if (kind == want_kind(c->r, RT_MB)) {
        /* After avail.idx, before reading the device's suppression state:
           a device looking now already sees every new entry. */
        assert_int_equal(vq->avail->idx, c->new_idx);
        assert_int_equal(rt_dev_avail(c->d), c->k);
        if (c->mode == PUB_IDLE_AT_MB) {
            /* The device takes them all and goes idle, asking to be
               notified for the next one: no kick is needed now. */
            while (rt_dev_pop(c->d, &ch))
                rt_dev_use(c->d, ch.head, 0);
            rt_dev_flush(c->d);
            if (c->d->event_idx)
                rt_dev_set_avail_event(c->d, c->d->last_avail);
            else
                rt_dev_set_no_notify(c->d, 1);
        }
    } else {
        fail_msg("unexpected barrier kind %d in publish", kind);
    }
}

static void run_publish(uint64_t features)
{
    struct rt_ring r;
    struct rt_dev d;
    struct hook_ctx c;
    void *cookie;
    unsigned round, i;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&d, &r.vq, features);
    for (round = 0; round < 6; round++) {
        int rc;
        memset(&c, 0, sizeof(c));
        c.r = &r;
        c.d = &d;
        c.mode = (round & 1u) ? PUB_IDLE_AT_MB : PUB_NOTHING;
        c.k = 1u + round % 3u;
        c.old_idx = r.vq.avail->idx;
        c.new_idx = (uint16_t)(c.old_idx + c.k);
        /* Device idle and waiting for the next entry before we start. */
        rt_dev_set_avail_event(&d, d.last_avail);
        rt_dev_set_no_notify(&d, 0);
        for (i = 0; i < c.k; i++) {
            struct virtq_buf b = {&bytes[i], 1};
            assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &bytes[i]), VIRTQ_OK);
        }
        rt_barrier_reset();
        rt_barrier_hook = publish_hook;
        rt_barrier_ctx = &c;
        rc = vq_test_publish(&r.vq);
        rt_barrier_hook = NULL;
        expect_counts(&r, 1, 0, 1);
        assert_int_equal(c.calls, 2);
        /* Never a lost kick: the device either took them or is notified. */
        if (c.mode == PUB_NOTHING)
            assert_int_equal(rc, 1);
        else
            assert_int_equal(rc, 0);
        rt_dev_complete_all(&d, 0);
        for (i = 0; i < c.k; i++)
            assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
    }
    rt_barrier_reset();
    rt_ring_free(&r);
}

static void test_order_publish(void **state)
{
    (void)state;
    run_publish(0);
    run_publish(RT_F_EVENT_IDX);
    run_publish(RT_F_ORDER_PLATFORM);
    run_publish(RT_F_EVENT_IDX | RT_F_ORDER_PLATFORM);
}

/* ---- get --------------------------------------------------------------------- */

/* The device's element write becomes visible only after its used.idx
   write (as on a weakly ordered machine without the driver's barrier):
   the element is filled in at the driver's read barrier.  A driver that
   read the element before the barrier would see the stale one. */
static void get_hook(enum rt_barrier_kind kind, void *p)
{
    struct hook_ctx *c = p;
    struct virtq *vq = &c->r->vq;
    volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1u)];
    c->calls++;
    if (kind != want_kind(c->r, RT_RMB))
        fail_msg("unexpected barrier kind %d in get", kind);
    e->id = c->elem_id;
    e->len = c->elem_len;
}

static void run_get(uint64_t features)
{
    struct rt_ring r;
    struct rt_dev d;
    struct hook_ctx c;
    static struct rt_chain ch;
    unsigned i;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_LEGACY, features);
    rt_dev_attach(&d, &r.vq, features);
    for (i = 0; i < 20; i++) {
        struct virtq_buf b[2] = {{&bytes[0], 1}, {&bytes[1], 4}};
        void *cookie = NULL;
        uint32_t len = 0;
        assert_int_equal(virtq_add(&r.vq, b, 1, 1, &bytes[i % 8u]), VIRTQ_OK);
        assert_true(vq_test_publish(&r.vq) >= 0);
        assert_int_equal(rt_dev_pop(&d, &ch), 1);
        /* used.idx first, with a stale element (an id no head has). */
        rt_dev_use(&d, 0xffffffffu, 0xffffffffu);
        rt_dev_flush(&d);
        memset(&c, 0, sizeof(c));
        c.r = &r;
        c.elem_id = ch.head;
        c.elem_len = 1u + i % 4u;
        rt_barrier_reset();
        rt_barrier_hook = get_hook;
        rt_barrier_ctx = &c;
        assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
        rt_barrier_hook = NULL;
        assert_ptr_equal(cookie, &bytes[i % 8u]);
        assert_int_equal(len, 1u + i % 4u);
        assert_int_equal(c.calls, 1);
        expect_counts(&r, 0, 1, 0);
    }
    rt_barrier_reset();
    rt_ring_free(&r);
}

static void test_order_get(void **state)
{
    (void)state;
    run_get(0);
    run_get(RT_F_EVENT_IDX | RT_F_INDIRECT);
    run_get(RT_F_ORDER_PLATFORM);
}

/* ---- re-arming interrupts ------------------------------------------------------ */

enum { ARM_USE_AT_MB = 1, ARM_NOTHING };

/* At the full barrier the re-arm is already stored; a device using a
   buffer right now must see it (and interrupt) — and the driver's
   re-check after the barrier must see the buffer too. */
static void arm_hook(enum rt_barrier_kind kind, void *p)
{
    struct hook_ctx *c = p;
    struct virtq *vq = &c->r->vq;
    static struct rt_chain ch;
    c->calls++;
    if (kind != want_kind(c->r, RT_MB))
        fail_msg("unexpected barrier kind %d in enable_intr", kind);
    if (c->d->event_idx)
        assert_int_equal(*vq->used_event, c->want_event);
    else
        assert_int_equal(vq->avail->flags, 0);
    if (c->mode == ARM_USE_AT_MB) {
        assert_int_equal(rt_dev_pop(c->d, &ch), 1);
        rt_dev_use(c->d, ch.head, 0);
        c->dev_irq = rt_dev_flush(c->d);
    }
}

static void run_arm(uint64_t features, int delayed)
{
    struct rt_ring r;
    struct rt_dev d;
    struct hook_ctx c;
    static struct rt_chain ch;
    struct virtq_buf b = {&bytes[0], 1};
    void *cookie;
    unsigned round, i;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&d, &r.vq, features);
    for (round = 0; round < 8; round++) {
        unsigned k = delayed ? 4u : 1u;
        int rc;
        for (i = 0; i < k; i++)
            assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &bytes[0]), VIRTQ_OK);
        assert_true(vq_test_publish(&r.vq) >= 0);
        virtq_disable_intr(&r.vq);
        /* With the delayed form, 3 of the 4 are used before re-arming:
           the event lands on the 4th, used at the barrier. */
        for (i = 0; i + 1u < k; i++) {
            assert_int_equal(rt_dev_pop(&d, &ch), 1);
            rt_dev_use(&d, ch.head, 0);
            assert_int_equal(rt_dev_flush(&d), 0);
        }
        if (delayed)
            for (i = 0; i + 1u < k; i++)
                assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
        memset(&c, 0, sizeof(c));
        c.r = &r;
        c.d = &d;
        c.mode = (round & 1u) ? ARM_USE_AT_MB : ARM_NOTHING;
        c.want_event = r.vq.last_used; /* 1 outstanding either way: delay 0 */
        rt_barrier_reset();
        rt_barrier_hook = arm_hook;
        rt_barrier_ctx = &c;
        rc = delayed ? virtq_enable_intr_delayed(&r.vq) : virtq_enable_intr(&r.vq);
        rt_barrier_hook = NULL;
        assert_int_equal(c.calls, 1);
        expect_counts(&r, 1, 0, 0);
        if (c.mode == ARM_USE_AT_MB) {
            /* Both sides see each other: no lost wake-up. */
            assert_int_equal(rc, 1);
            assert_int_equal(c.dev_irq, 1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(rt_dev_pop(&d, &ch), 1);
            rt_dev_use(&d, ch.head, 0);
            assert_int_equal(rt_dev_flush(&d), 1);
        }
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_EAGAIN);
    }
    rt_barrier_reset();
    rt_ring_free(&r);
}

static void test_order_enable_intr(void **state)
{
    (void)state;
    run_arm(0, 0);
    run_arm(RT_F_EVENT_IDX, 0);
    run_arm(RT_F_ORDER_PLATFORM, 0);
    run_arm(RT_F_EVENT_IDX | RT_F_ORDER_PLATFORM, 0);
    run_arm(RT_F_EVENT_IDX, 1);
    run_arm(RT_F_EVENT_IDX | RT_F_ORDER_PLATFORM, 1);
}

int rt_group_order(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_publish),
        cmocka_unit_test(test_order_get),
        cmocka_unit_test(test_order_enable_intr),
    };
    return cmocka_run_group_tests_name("ring_order", tests, NULL, NULL);
}
