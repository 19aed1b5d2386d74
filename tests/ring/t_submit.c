/* SPDX-License-Identifier: MIT */
/* tests/ring/t_submit.c — virtq_submit (virtq_add + virtq_publish in one
   call) and the add paths by chain length: the one-segment straight path,
   the unrolled two- and three-segment paths and the loop for longer
   chains must all lay out the chain "Message Framing" asks for, and a
   refused submit changes nothing (docs/HARDENING.md). */
#include <stdlib.h>

#include "ring_test.h"

static unsigned char bytes[8][64];

static void fill(struct virtq_buf *b, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++) {
        b[i].addr = bytes[i];
        b[i].len = 10u + i;
    }
}

/* Every chain length 1..6 with every split into readable/writable, through
   virtq_add and virtq_submit: the device sees exactly the segments given,
   readable first, and the driver gets the cookie and length back. */
static void test_submit_chain_shapes(void **state)
{
    static const uint64_t feats[] = {0, RT_F_EVENT_IDX};
    size_t f;
    (void)state;
    for (f = 0; f < 2; f++) {
        unsigned n, out, way;
        struct rt_ring r;
        struct rt_dev d;
        rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, feats[f]);
        rt_dev_attach(&d, &r.vq, feats[f]);
        for (way = 0; way < 2; way++)
            for (n = 1; n <= 6; n++)
                for (out = 0; out <= n; out++) {
                    struct virtq_buf b[8];
                    struct rt_chain c;
                    bool notify = false;
                    void *cookie = NULL;
                    uint32_t len = 0, wlen = 0;
                    unsigned i;
                    fill(b, n);
                    for (i = out; i < n; i++)
                        wlen += b[i].len;
                    if (way == 0) {
                        assert_int_equal(virtq_submit(&r.vq, b, out, n - out, &r, &notify),
                                         VIRTQ_OK);
                    } else {
                        assert_int_equal(virtq_add(&r.vq, b, out, n - out, &r), VIRTQ_OK);
                        assert_int_equal(virtq_publish(&r.vq, &notify), VIRTQ_OK);
                    }
                    assert_int_equal(rt_dev_avail(&d), 1);
                    assert_int_equal(rt_dev_pop(&d, &c), 1);
                    assert_int_equal(c.nseg, n);
                    assert_int_equal(c.nout, out);
                    assert_int_equal(c.ndesc, n);
                    for (i = 0; i < n; i++) {
                        assert_true(c.seg[i].addr == (uint64_t)(uintptr_t)bytes[i]);
                        assert_int_equal(c.seg[i].len, 10u + i);
                        assert_int_equal(c.seg[i].write, i >= out);
                    }
                    rt_dev_use(&d, c.head, wlen);
                    rt_dev_flush(&d);
                    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
                    assert_ptr_equal(cookie, &r);
                    assert_int_equal(len, wlen);
                    assert_int_equal(virtq_num_free(&r.vq), 16);
                    assert_int_equal(rt_check_freelist(&r.vq), 0);
                }
        rt_ring_free(&r);
    }
}

/* *notify is virtq_publish()'s answer: with flags, NO_NOTIFY; with
   EVENT_IDX, avail_event. */
static void test_submit_notify_answer(void **state)
{
    struct virtq_buf b[1];
    struct rt_ring r;
    struct rt_dev d;
    bool notify;
    (void)state;
    fill(b, 1);
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    notify = false;
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_OK);
    assert_true(notify);
    rt_dev_set_no_notify(&d, 1);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_OK);
    assert_false(notify);
    assert_int_equal(r.vq.avail->idx, 2);
    rt_ring_free(&r);

    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, RT_F_EVENT_IDX);
    rt_dev_set_avail_event(&d, 5); /* kick when avail.idx passes 5 */
    {
        unsigned i;
        for (i = 1; i <= 7; i++) {
            notify = !(i == 6);
            assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_OK);
            assert_int_equal(notify, i == 6);
        }
    }
    rt_ring_free(&r);
}

/* A refused submit: the error virtq_add() gives, *notify false, and not a
   byte of ring memory, slots or struct virtq changed. */
static void test_submit_refused_changes_nothing(void **state)
{
    struct virtq_buf b[4];
    struct rt_snap *snap = malloc(sizeof *snap);
    struct rt_ring r;
    bool notify;
    unsigned i;
    (void)state;
    assert_non_null(snap);
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    fill(b, 4);
    assert_int_equal(virtq_submit(&r.vq, b, 1, 1, &r, &notify), VIRTQ_OK);

    rt_snap_take(snap, &r.vq);
    assert_int_equal(virtq_submit(&r.vq, b, 1, 1, &r, NULL), VIRTQ_EINVAL);
    rt_snap_check(snap, &r.vq);
    notify = true;
    assert_int_equal(virtq_submit(NULL, b, 1, 1, &r, &notify), VIRTQ_EINVAL);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, NULL, 1, 1, &r, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, b, 1, 1, NULL, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, b, 0, 0, &r, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    /* A bad segment anywhere, for each chain length (every add path). */
    for (i = 1; i <= 4; i++) {
        unsigned bad;
        for (bad = 0; bad < i; bad++) {
            fill(b, 4);
            b[bad].len = 0;
            notify = true;
            assert_int_equal(virtq_submit(&r.vq, b, 1, i - 1, &r, &notify), VIRTQ_EINVAL);
            assert_false(notify);
            fill(b, 4);
            b[bad].addr = NULL;
            assert_int_equal(virtq_submit(&r.vq, b, 0, i, &r, &notify), VIRTQ_EINVAL);
            assert_int_equal(virtq_add(&r.vq, b, 0, i, &r), VIRTQ_EINVAL);
            rt_snap_check(snap, &r.vq);
        }
    }
    /* More than 2^32 - 1 bytes in one chain. */
    fill(b, 3);
    b[0].len = b[1].len = b[2].len = 0x60000000u;
    assert_int_equal(virtq_submit(&r.vq, b, 1, 2, &r, &notify), VIRTQ_EINVAL);
    assert_int_equal(virtq_submit(&r.vq, b, 3, 0, &r, &notify), VIRTQ_EINVAL);
    /* Longer than the ring, and more than is free (6 left of 8). */
    fill(b, 4);
    assert_int_equal(virtq_submit(&r.vq, b, 9, 0, &r, &notify), VIRTQ_EINVAL);
    assert_int_equal(virtq_submit(&r.vq, b, 0, 0u - 1u, &r, &notify), VIRTQ_EINVAL);
    rt_snap_check(snap, &r.vq);
    for (i = 0; i < 6; i++)
        assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_OK);
    rt_snap_take(snap, &r.vq);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_ENOSPC);
    assert_false(notify);
    rt_snap_check(snap, &r.vq);
    virtq_break(&r.vq);
    rt_snap_take(snap, &r.vq);
    notify = true;
    assert_int_equal(virtq_submit(&r.vq, b, 0, 1, &r, &notify), VIRTQ_EBROKEN);
    assert_false(notify);
    rt_snap_check(snap, &r.vq);
    rt_ring_free(&r);
    free(snap);
}

int rt_group_submit(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_chain_shapes),
        cmocka_unit_test(test_submit_notify_answer),
        cmocka_unit_test(test_submit_refused_changes_nothing),
    };
    return cmocka_run_group_tests_name("ring_submit", tests, NULL, NULL);
}
