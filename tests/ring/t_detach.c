/* SPDX-License-Identifier: MIT */
/* tests/ring/t_detach.c — virtq_detach after a device reset: every
   outstanding cookie (published, unpublished, used-but-not-taken, on a
   broken queue or not) comes back exactly once, then VIRTQ_EAGAIN, and the
   queue is empty, un-broken and works again. */
#include <stdlib.h>

#include "ring_test.h"

static unsigned char data[8][16];
static struct virtq_desc tables[4][4] __attribute__((aligned(16)));
static struct rt_chain chain;
static struct rt_snap snap;

#define NCK 300
static int ck[NCK];

/* Drain detach; every cookie returned must be in want[] (indices into ck),
   each exactly once, and all of want[] must come back. */
static void detach_expect(struct virtq *vq, const int *want, unsigned nwant)
{
    static unsigned char got[NCK];
    void *cookie;
    unsigned n = 0, i;
    int rc;
    enum virtq_broken_reason why = virtq_broken_reason(vq);
    memset(got, 0, sizeof(got));
    while ((rc = virtq_detach(vq, &cookie)) == VIRTQ_OK) {
        int idx = -1;
        /* Mid-hand-back the queue is latched; a violation seen before
           keeps its reason, a healthy queue says DETACH. */
        assert_true(virtq_is_broken(vq));
        assert_int_equal(virtq_broken_reason(vq),
                         why == VIRTQ_BROKEN_NONE ? VIRTQ_BROKEN_DETACH : why);
        for (i = 0; i < NCK; i++)
            if (cookie == (void *)&ck[i])
                idx = (int)i;
        if (idx < 0)
            fail_msg("detach returned a cookie never submitted");
        if (got[idx])
            fail_msg("detach returned cookie %d twice", idx);
        got[idx] = 1;
        n++;
        assert_true(n <= nwant);
    }
    assert_int_equal(rc, VIRTQ_EAGAIN);
    for (i = 0; i < nwant; i++)
        if (!got[want[i]])
            fail_msg("outstanding cookie %d not returned by detach", want[i]);
    assert_int_equal(n, nwant);
    /* Idempotent once empty. */
    assert_int_equal(virtq_detach(vq, &cookie), VIRTQ_EAGAIN);
}

/* After the hand-back: empty, un-broken, shared memory zeroed (as after
   virtq_init), and a full round trip works. */
static void check_reusable(struct rt_ring *r, struct rt_dev *d)
{
    const unsigned char *m = r->mem;
    struct virtq_buf b[2] = {{data[0], 4}, {data[1], 8}};
    void *cookie;
    uint32_t len;
    size_t i;
    assert_int_equal(virtq_is_broken(&r->vq), 0);
    assert_int_equal(virtq_broken_reason(&r->vq), VIRTQ_BROKEN_NONE);
    assert_int_equal(virtq_num_free(&r->vq), r->num);
    assert_int_equal(rt_check_freelist(&r->vq), 0);
    for (i = 0; i < r->bytes; i++)
        if (m[i] != 0)
            fail_msg("ring byte %zu is %#x after detach, want 0", i, m[i]);
    assert_int_equal(virtq_has_used(&r->vq), 0);
    rt_dev_attach(d, &r->vq, r->features);
    assert_int_equal(virtq_add(&r->vq, b, 1, 1, &ck[0]), VIRTQ_OK);
    assert_int_equal(vq_test_publish(&r->vq), 1);
    assert_int_equal(rt_dev_pop(d, &chain), 1);
    rt_dev_use(d, chain.head, 8);
    assert_int_equal(rt_dev_flush(d), 1); /* interrupts are on again */
    assert_int_equal(virtq_get(&r->vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &ck[0]);
    assert_int_equal(len, 8);
    assert_int_equal(virtq_num_free(&r->vq), r->num);
}

static void run_mixed(uint64_t features, int break_first)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[4];
    void *cookie;
    unsigned i;
    static const int want[] = {1, 2, 3, 4, 5, 6};
    for (i = 0; i < 4; i++) {
        b[i].addr = data[i];
        b[i].len = 16;
    }
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&d, &r.vq, features);
    /* 0: used and taken (not outstanding any more) */
    assert_int_equal(virtq_add(&r.vq, b, 1, 1, &ck[0]), VIRTQ_OK);
    /* 1: used, not taken */
    assert_int_equal(virtq_add(&r.vq, b, 2, 2, &ck[1]), VIRTQ_OK);
    /* 2: taken by the device, not used */
    assert_int_equal(virtq_add(&r.vq, b, 1, 0, &ck[2]), VIRTQ_OK);
    /* 3: published, the device never looked */
    if (features & RT_F_INDIRECT)
        assert_int_equal(virtq_add_indirect(&r.vq, b, 2, 1, tables[0], &ck[3]), VIRTQ_OK);
    else
        assert_int_equal(virtq_add(&r.vq, b, 2, 1, &ck[3]), VIRTQ_OK);
    assert_true(vq_test_publish(&r.vq) >= 0);
    for (i = 0; i < 3; i++)
        assert_int_equal(rt_dev_pop(&d, &chain), 1);
    rt_dev_use(&d, r.vq.avail->ring[0], 16);
    rt_dev_use(&d, r.vq.avail->ring[1], 0);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
    assert_ptr_equal(cookie, &ck[0]);
    /* 4, 5, 6: added, never published */
    assert_int_equal(virtq_add(&r.vq, b, 0, 3, &ck[4]), VIRTQ_OK);
    if (features & RT_F_INDIRECT)
        assert_int_equal(virtq_add_indirect(&r.vq, b, 4, 0, tables[1], &ck[5]), VIRTQ_OK);
    else
        assert_int_equal(virtq_add(&r.vq, b, 4, 0, &ck[5]), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, b, 1, 0, &ck[6]), VIRTQ_OK);
    virtq_disable_intr(&r.vq);
    if (break_first) {
        /* A device violation (id out of range) after the good element. */
        rt_dev_use(&d, 0x10000u, 0);
        rt_dev_flush(&d);
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
        assert_ptr_equal(cookie, &ck[1]);
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_EBROKEN);
        assert_int_equal(virtq_is_broken(&r.vq), 1);
        detach_expect(&r.vq, want + 1, 5);
    } else {
        /* While handing back, the queue refuses new work. */
        assert_int_equal(virtq_detach(&r.vq, &cookie), VIRTQ_OK);
        assert_int_equal(virtq_is_broken(&r.vq), 1);
        assert_int_equal(virtq_add(&r.vq, b, 1, 0, &ck[7]), VIRTQ_EBROKEN);
        assert_int_equal(vq_test_publish(&r.vq), VIRTQ_EBROKEN);
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_EBROKEN);
        /* Put the one we took back into the expectation: restart the
           count with what is left. */
        {
            int rest[6];
            unsigned n = 0;
            for (i = 0; i < 6; i++)
                if (cookie != (void *)&ck[want[i]])
                    rest[n++] = want[i];
            assert_int_equal(n, 5);
            detach_expect(&r.vq, rest, n);
        }
    }
    check_reusable(&r, &d);
    rt_ring_free(&r);
}

static void test_detach_mixed(void **state)
{
    (void)state;
    run_mixed(0, 0);
    run_mixed(RT_F_EVENT_IDX, 0);
    run_mixed(RT_F_INDIRECT | RT_F_EVENT_IDX, 0);
    run_mixed(RT_F_INDIRECT, 0);
}

static void test_detach_broken(void **state)
{
    (void)state;
    run_mixed(0, 1);
    run_mixed(RT_F_INDIRECT | RT_F_EVENT_IDX, 1);
}

static void test_detach_empty(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    void *cookie = &ck[0];
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_LEGACY, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    assert_int_equal(virtq_detach(&r.vq, &cookie), VIRTQ_EAGAIN);
    assert_ptr_equal(cookie, &ck[0]);
    check_reusable(&r, &d);
    /* After some traffic, with nothing outstanding: also empty. */
    rt_advance(&r.vq, &d, 100);
    assert_int_equal(virtq_detach(&r.vq, &cookie), VIRTQ_EAGAIN);
    check_reusable(&r, &d);
    rt_ring_free(&r);
}

static void test_detach_bad_args(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b = {data[0], 1};
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &ck[1]), VIRTQ_OK);
    rt_snap_take(&snap, &r.vq);
    assert_int_equal(virtq_detach(&r.vq, NULL), VIRTQ_EINVAL);
    rt_snap_check(&snap, &r.vq);
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    {
        static const int want[] = {1};
        detach_expect(&r.vq, want, 1);
    }
    check_reusable(&r, &d);
    rt_ring_free(&r);
}

/* A full large ring: a mix of published and unpublished one-descriptor
   requests, half of them in flight at the device. */
static void test_detach_full_ring(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b = {data[0], 1};
    static int want[256];
    unsigned i;
    (void)state;
    rt_ring_init(&r, 256, VIRTQ_ALIGN_LEGACY, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    rt_advance(&r.vq, &d, 65500); /* indices near the wrap */
    for (i = 0; i < 256; i++) {
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &ck[i + 10u]), VIRTQ_OK);
        want[i] = (int)i + 10;
        if (i == 150)
            assert_true(vq_test_publish(&r.vq) >= 0);
    }
    assert_int_equal(virtq_num_free(&r.vq), 0);
    for (i = 0; i < 100; i++)
        assert_int_equal(rt_dev_pop(&d, &chain), 1);
    detach_expect(&r.vq, want, 256);
    check_reusable(&r, &d);
    rt_ring_free(&r);
}

int rt_group_detach(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detach_mixed),
        cmocka_unit_test(test_detach_broken),
        cmocka_unit_test(test_detach_empty),
        cmocka_unit_test(test_detach_bad_args),
        cmocka_unit_test(test_detach_full_ring),
    };
    return cmocka_run_group_tests_name("ring_detach", tests, NULL, NULL);
}
