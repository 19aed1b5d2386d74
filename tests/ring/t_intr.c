/* SPDX-License-Identifier: MIT */
/* tests/ring/t_intr.c — used-buffer notification suppression ("Used Buffer
   Notification Suppression"): avail.flags without EVENT_IDX, used_event
   with it; enable re-checks and reports buffers used while off; the
   delayed form asks for the interrupt about 3/4 of the way, _after at
   the n-th buffer. */
#include "ring_test.h"

static unsigned char byte;

static void add_pub(struct virtq *vq, unsigned k)
{
    struct virtq_buf b = {&byte, 1};
    unsigned i;
    for (i = 0; i < k; i++)
        assert_int_equal(virtq_add(vq, &b, 1, 0, &byte), VIRTQ_OK);
    assert_true(vq_test_publish(vq) >= 0);
}

/* Device: take one published chain and use it; returns the interrupt
   decision of the flush. */
static int dev_one(struct rt_dev *d)
{
    static struct rt_chain c;
    assert_int_equal(rt_dev_pop(d, &c), 1);
    rt_dev_use(d, c.head, 0);
    return rt_dev_flush(d);
}

static void get_one(struct virtq *vq)
{
    void *cookie;
    assert_int_equal(virtq_get(vq, &cookie, NULL), VIRTQ_OK);
    assert_ptr_equal(cookie, &byte);
}

static void test_intr_flag_mode(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    assert_int_equal(r.vq.avail->flags, 0);
    add_pub(&r.vq, 4);
    assert_int_equal(dev_one(&d), 1); /* enabled: interrupt */
    get_one(&r.vq);

    virtq_disable_intr(&r.vq);
    assert_int_equal(r.vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    assert_int_equal(dev_one(&d), 0); /* the device honours the hint */
    get_one(&r.vq); /* polling while off leaves the flag alone */
    assert_int_equal(r.vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);

    /* Re-arm with nothing pending: 0. */
    assert_int_equal(virtq_enable_intr(&r.vq), 0);
    assert_int_equal(r.vq.avail->flags, 0);
    assert_int_equal(dev_one(&d), 1);
    get_one(&r.vq);

    /* A buffer used while off: enable reports it (no interrupt will). */
    virtq_disable_intr(&r.vq);
    assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr(&r.vq), 1);
    assert_int_equal(r.vq.avail->flags, 0);
    get_one(&r.vq);
    assert_int_equal(virtq_enable_intr(&r.vq), 0);
    /* used_event is EVENT_IDX's: untouched in flag mode. */
    assert_int_equal(*r.vq.used_event, 0);
    rt_ring_free(&r);
}

static void test_intr_event_idx(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    /* Every get while enabled asks for the very next buffer. */
    for (i = 1; i <= 5; i++) {
        add_pub(&r.vq, 1);
        assert_int_equal(dev_one(&d), 1);
        get_one(&r.vq);
        assert_int_equal(*r.vq.used_event, i);
    }
    virtq_disable_intr(&r.vq);
    /* EVENT_IDX: avail.flags stays 0 ("the driver MUST set flags to 0"). */
    assert_int_equal(r.vq.avail->flags, 0);
    /* The event moves behind: crossed only after 2^16 more buffers. */
    assert_int_equal(*r.vq.used_event, 4);
    add_pub(&r.vq, 3);
    for (i = 0; i < 3; i++)
        assert_int_equal(dev_one(&d), 0);
    for (i = 0; i < 3; i++)
        get_one(&r.vq);
    assert_int_equal(*r.vq.used_event, 4); /* gets while off don't re-arm */
    assert_int_equal(virtq_enable_intr(&r.vq), 0);
    assert_int_equal(*r.vq.used_event, 8);
    add_pub(&r.vq, 2);
    assert_int_equal(dev_one(&d), 1);
    /* Used while off: enable says so. */
    virtq_disable_intr(&r.vq);
    assert_int_equal(*r.vq.used_event, 7);
    assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr(&r.vq), 1);
    assert_int_equal(*r.vq.used_event, 8);
    get_one(&r.vq);
    assert_int_equal(*r.vq.used_event, 9);
    get_one(&r.vq);
    assert_int_equal(*r.vq.used_event, 10);
    assert_int_equal(virtq_enable_intr(&r.vq), 0);
    assert_int_equal(r.vq.avail->flags, 0);
    rt_ring_free(&r);
}

/* Disabling across the 16-bit wrap: used_event = last_used - 1 wraps too. */
static void test_intr_event_idx_wrap(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 4, VIRTQ_ALIGN_LEGACY, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    rt_advance(&r.vq, &d, 65534);
    for (i = 0; i < 6; i++) {
        uint16_t last = r.vq.last_used;
        assert_int_equal(last, (uint16_t)(65534u + 2u * i));
        virtq_disable_intr(&r.vq);
        assert_int_equal(*r.vq.used_event, (uint16_t)(last - 1u));
        add_pub(&r.vq, 1);
        assert_int_equal(dev_one(&d), 0);
        assert_int_equal(virtq_enable_intr(&r.vq), 1);
        assert_int_equal(*r.vq.used_event, last);
        get_one(&r.vq);
        assert_int_equal(*r.vq.used_event, (uint16_t)(last + 1u));
        add_pub(&r.vq, 1);
        assert_int_equal(dev_one(&d), 1);
        get_one(&r.vq);
    }
    rt_ring_free(&r);
}

/* _delayed: the event about 3/4 of the outstanding buffers ahead; the
   interrupt still comes before the last one is used; the re-check says 1
   when more than that many are used already. */
static void test_intr_delayed(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned o, i;
    (void)state;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    rt_advance(&r.vq, &d, 65530); /* run across the wrap as well */
    for (o = 0; o <= 16; o++) {
        uint16_t last = r.vq.last_used;
        uint16_t delay;
        unsigned fired_at = 0;
        if (o)
            add_pub(&r.vq, o);
        virtq_disable_intr(&r.vq);
        assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0);
        delay = (uint16_t)(*r.vq.used_event - last);
        /* about 3/4 ahead, and always reachable */
        assert_true(4u * delay <= 3u * o);
        assert_true(4u * delay + 4u > 3u * o);
        assert_true(o == 0 || delay < o);
        /* The device uses them one by one: exactly one interrupt, when the
           (delay+1)-th buffer is used. */
        for (i = 1; i <= o; i++)
            if (dev_one(&d)) {
                assert_int_equal(fired_at, 0);
                fired_at = i;
            }
        if (o)
            assert_int_equal(fired_at, delay + 1u);
        for (i = 0; i < o; i++)
            get_one(&r.vq);
    }
    /* Re-check: 8 outstanding, delay 6.  6 used already: 0; 7: 1. */
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 6; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0);
    assert_int_equal((uint16_t)(*r.vq.used_event - r.vq.last_used), 6);
    assert_int_equal(dev_one(&d), 1);
    assert_int_equal(dev_one(&d), 0);
    for (i = 0; i < 8; i++)
        get_one(&r.vq);
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 7; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 1);
    assert_int_equal(dev_one(&d), 0); /* 8th: past the event already */
    for (i = 0; i < 8; i++)
        get_one(&r.vq);
    rt_ring_free(&r);
}

/* Flag mode has no event to move: _delayed and _after just re-enable and
   re-check. */
static void test_intr_delayed_flag_mode(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned i, k;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 7; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 1);
    assert_int_equal(r.vq.avail->flags, 0);
    assert_int_equal(dev_one(&d), 1);
    for (i = 0; i < 8; i++)
        get_one(&r.vq);
    add_pub(&r.vq, 4);
    virtq_disable_intr(&r.vq);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0);
    assert_int_equal(r.vq.avail->flags, 0);
    assert_int_equal(dev_one(&d), 1);
    for (i = 0; i < 3; i++)
        assert_int_equal(dev_one(&d), 1);
    for (i = 0; i < 4; i++)
        get_one(&r.vq);
    /* One buffer used while off, of eight outstanding: below any "3/4"
       delay (or _after(6)), but flag mode cannot ask for a later
       interrupt, so it must still be reported or it would sit
       unannounced. */
    for (k = 0; k < 2; k++) {
        add_pub(&r.vq, 8);
        virtq_disable_intr(&r.vq);
        assert_int_equal(dev_one(&d), 0);
        assert_int_equal(k ? virtq_enable_intr_after(&r.vq, 6) : virtq_enable_intr_delayed(&r.vq),
                         1);
        assert_int_equal(r.vq.avail->flags, 0);
        for (i = 0; i < 7; i++)
            assert_int_equal(dev_one(&d), 1);
        for (i = 0; i < 8; i++)
            get_one(&r.vq);
    }
    assert_int_equal(*r.vq.used_event, 0);
    rt_ring_free(&r);
}

/* _after(n): the interrupt with the n-th buffer from now, never past the
   last published one (n clamped), 0 and 1 as the plain re-arm; the
   re-check says 1 when n are used already.  Across the 16-bit wrap. */
static void test_intr_after(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned o, n, i;
    (void)state;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    rt_advance(&r.vq, &d, 65530);
    for (o = 0; o <= 16; o += 4)
        for (n = 0; n <= 20; n++) {
            unsigned want = n == 0u ? 1u : (n > o ? o : n), fired_at = 0;
            if (o)
                add_pub(&r.vq, o);
            virtq_disable_intr(&r.vq);
            assert_int_equal(virtq_enable_intr_after(&r.vq, n), 0);
            if (o == 0u) { /* nothing in flight: armed for the next one */
                assert_int_equal(*r.vq.used_event, r.vq.last_used);
                continue;
            }
            /* The device uses them one by one: exactly one interrupt, with
               the n-th (or the last, when fewer are in flight). */
            for (i = 1; i <= o; i++)
                if (dev_one(&d)) {
                    assert_int_equal(fired_at, 0);
                    fired_at = i;
                }
            assert_int_equal(fired_at, want);
            for (i = 0; i < o; i++)
                get_one(&r.vq);
        }
    /* Re-check: 8 outstanding, n = 5.  4 used already: 0; 5: 1, and the
       device, past the event, stays quiet. */
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 4; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 5), 0);
    assert_int_equal(dev_one(&d), 1);
    for (i = 0; i < 3; i++)
        assert_int_equal(dev_one(&d), 0);
    for (i = 0; i < 8; i++)
        get_one(&r.vq);
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 5; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 5), 1);
    for (i = 0; i < 3; i++)
        assert_int_equal(dev_one(&d), 0);
    for (i = 0; i < 8; i++)
        get_one(&r.vq);
    /* Added but not published: not in flight, so not counted. */
    add_pub(&r.vq, 2);
    {
        struct virtq_buf b = {&byte, 1};
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &byte), VIRTQ_OK);
    }
    virtq_disable_intr(&r.vq);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 3), 0);
    assert_int_equal(dev_one(&d), 0);
    assert_int_equal(dev_one(&d), 1); /* the 2nd, the last published */
    assert_true(vq_test_publish(&r.vq) >= 0);
    assert_int_equal(dev_one(&d), 0); /* armed once; the next is unasked */
    for (i = 0; i < 3; i++)
        get_one(&r.vq);
    /* Taking buffers before the interrupt leaves the event where the
       re-arm put it: moved back to the next buffer, it would fall behind
       what the device used, and the 5th would raise nothing.  One
       interrupt, at the 5th; the rest wait for the next re-arm. */
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    for (i = 0; i < 3; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_after(&r.vq, 5), 0);
    get_one(&r.vq);
    get_one(&r.vq);
    assert_int_equal((uint16_t)(*r.vq.used_event - r.vq.last_used), 2);
    assert_int_equal(dev_one(&d), 0); /* the 4th */
    get_one(&r.vq);
    get_one(&r.vq);
    assert_int_equal(dev_one(&d), 1); /* the 5th, as promised */
    get_one(&r.vq);
    assert_int_equal(dev_one(&d), 0); /* no hint moved: the 6th is quiet */
    get_one(&r.vq);
    assert_int_equal(virtq_enable_intr(&r.vq), 0); /* the plain re-arm */
    for (i = 0; i < 2; i++) {
        assert_int_equal(dev_one(&d), 1);
        get_one(&r.vq);
        assert_int_equal(*r.vq.used_event, r.vq.last_used); /* hints again */
    }
    /* The same for _delayed: 8 in flight, event 6 ahead. */
    add_pub(&r.vq, 8);
    virtq_disable_intr(&r.vq);
    assert_int_equal(dev_one(&d), 0);
    assert_int_equal(virtq_enable_intr_delayed(&r.vq), 0);
    get_one(&r.vq);
    assert_int_equal((uint16_t)(*r.vq.used_event - r.vq.last_used), 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(dev_one(&d), 0);
    assert_int_equal(dev_one(&d), 1); /* the 7th */
    for (i = 0; i < 6; i++)
        get_one(&r.vq);
    assert_int_equal(dev_one(&d), 0);
    get_one(&r.vq);
    /* NULL and an unready queue: true, never sleep on them. */
    assert_true(virtq_enable_intr_after(NULL, 4));
    rt_ring_free(&r);
}

int rt_group_intr(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intr_flag_mode),
        cmocka_unit_test(test_intr_event_idx),
        cmocka_unit_test(test_intr_event_idx_wrap),
        cmocka_unit_test(test_intr_delayed),
        cmocka_unit_test(test_intr_delayed_flag_mode),
        cmocka_unit_test(test_intr_after),
    };
    return cmocka_run_group_tests_name("ring_intr", tests, NULL, NULL);
}
