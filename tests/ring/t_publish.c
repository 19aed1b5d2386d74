/* SPDX-License-Identifier: MIT */
/* tests/ring/t_publish.c — virtq_publish: avail.idx written only here, and
   the notification decision ("Available Buffer Notification
   Suppression"): used.flags NO_NOTIFY without EVENT_IDX, avail_event with
   it, across the 16-bit wrap. */
#include "ring_test.h"

static unsigned char byte;

static void add_n(struct virtq *vq, unsigned k)
{
    struct virtq_buf b = {&byte, 1};
    unsigned i;
    for (i = 0; i < k; i++)
        assert_int_equal(virtq_add(vq, &b, 1, 0, &byte), VIRTQ_OK);
}

static void drain(struct virtq *vq, struct rt_dev *d, unsigned k)
{
    void *cookie;
    unsigned i;
    assert_int_equal(rt_dev_complete_all(d, 0), k);
    for (i = 0; i < k; i++)
        assert_int_equal(virtq_get(vq, &cookie, NULL), VIRTQ_OK);
    assert_int_equal(virtq_get(vq, &cookie, NULL), VIRTQ_EAGAIN);
}

/* Answers and errors stay apart: a NULL notify pointer is a bad argument
   that publishes nothing; a broken queue answers "no notify". */
static void test_publish_answer_out_param(void **state)
{
    struct rt_ring r;
    bool notify = true;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, 0);
    add_n(&r.vq, 1);
    assert_int_equal(virtq_publish(&r.vq, NULL), VIRTQ_EINVAL);
    assert_int_equal(r.vq.avail->idx, 0);
    assert_int_equal(virtq_publish(&r.vq, &notify), VIRTQ_OK);
    assert_true(notify);
    assert_int_equal(r.vq.avail->idx, 1);
    add_n(&r.vq, 1);
    virtq_break(&r.vq);
    notify = true;
    assert_int_equal(virtq_publish(&r.vq, &notify), VIRTQ_EBROKEN);
    assert_false(notify);
    assert_int_equal(r.vq.avail->idx, 1);
    notify = true;
    assert_int_equal(virtq_publish(NULL, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    rt_ring_free(&r);
}

static void test_publish_nothing_new(void **state)
{
    static const uint64_t feats[] = {0, RT_F_EVENT_IDX};
    size_t f;
    (void)state;
    for (f = 0; f < 2; f++) {
        struct rt_ring r;
        struct rt_dev d;
        rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, feats[f]);
        rt_dev_attach(&d, &r.vq, feats[f]);
        assert_int_equal(vq_test_publish(&r.vq), 0);
        assert_int_equal(r.vq.avail->idx, 0);
        add_n(&r.vq, 2);
        assert_int_equal(r.vq.avail->idx, 0);
        assert_int_equal(vq_test_publish(&r.vq), 1);
        assert_int_equal(r.vq.avail->idx, 2);
        assert_int_equal(vq_test_publish(&r.vq), 0);
        assert_int_equal(vq_test_publish(&r.vq), 0);
        drain(&r.vq, &d, 2);
        /* Completions don't count as something new to publish. */
        assert_int_equal(vq_test_publish(&r.vq), 0);
        assert_int_equal(r.vq.avail->idx, 2);
        rt_ring_free(&r);
    }
}

/* Without EVENT_IDX: notify unless the device set VIRTQ_USED_F_NO_NOTIFY;
   avail_event means nothing. */
static void test_publish_flag_mode(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_ORDER_PLATFORM);
    rt_dev_attach(&d, &r.vq, r.features);
    for (i = 0; i < 40; i++) {
        int no_notify = (i % 3) == 1;
        uint16_t before = r.vq.avail->idx;
        rt_dev_set_no_notify(&d, no_notify);
        /* An avail_event that EVENT_IDX would never cross: ignored here. */
        rt_dev_set_avail_event(&d, (uint16_t)(before + 100u));
        add_n(&r.vq, 1u + i % 4u);
        assert_int_equal(vq_test_publish(&r.vq), !no_notify);
        /* Published either way. */
        assert_int_equal(r.vq.avail->idx, (uint16_t)(before + 1u + i % 4u));
        drain(&r.vq, &d, 1u + i % 4u);
    }
    rt_ring_free(&r);
}

/* With EVENT_IDX: notify exactly when the new avail.idx moved past
   avail_event, i.e. avail_event in [old, new), mod 2^16 (vring_need_event);
   used.flags is ignored.  Positions straddle the 16-bit wrap. */
static void run_event_idx(uint64_t features, uint32_t align)
{
    struct rt_ring r;
    struct rt_dev d;
    uint32_t seed = 0x9e3779b9u;
    unsigned long kicks = 0, quiet = 0, wrapped = 0;
    unsigned it;
    rt_ring_init(&r, 8, align, features);
    rt_dev_attach(&d, &r.vq, features);
    /* Ignored with EVENT_IDX. */
    rt_dev_set_no_notify(&d, 1);
    for (it = 0; it < 3000; it++) {
        uint16_t old, now, e;
        unsigned k = 1u + it % 8u;
        int rc, want;
        if (it == 1000) /* jump to just before the wrap */
            rt_advance(&r.vq, &d, (uint16_t)(65536u - 40u - r.vq.avail->idx));
        old = r.vq.avail->idx;
        if (it % 2u == 0u)
            e = (uint16_t)(old - 3u + it % (k + 7u)); /* at and around the window */
        else
            e = (uint16_t)rt_rand(&seed);
        rt_dev_set_avail_event(&d, e);
        add_n(&r.vq, k);
        now = (uint16_t)(old + k);
        want = rt_in_window(e, now, old);
        rc = vq_test_publish(&r.vq);
        assert_int_equal(rc, want);
        assert_int_equal(rc, virtq_need_event(e, now, old) != 0);
        assert_int_equal(r.vq.avail->idx, now);
        if (now < old)
            wrapped++;
        if (rc)
            kicks++;
        else
            quiet++;
        drain(&r.vq, &d, k);
    }
    /* Both outcomes were exercised, and the wrap was crossed. */
    assert_true(kicks > 100);
    assert_true(quiet > 100);
    assert_true(wrapped >= 1);
    rt_ring_free(&r);
}

static void test_publish_event_idx(void **state)
{
    (void)state;
    run_event_idx(RT_F_EVENT_IDX, VIRTQ_ALIGN_MODERN);
    run_event_idx(RT_F_EVENT_IDX | RT_F_ORDER_PLATFORM | RT_F_INDIRECT, VIRTQ_ALIGN_LEGACY);
}

/* The classic device pattern: it sets avail_event to the next entry it
   has not seen when it goes idle, so exactly the first publish after that
   notifies; publishes while it is busy don't. */
static void test_publish_event_idx_idle_device(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    static struct rt_chain c;
    void *cookie;
    (void)state;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    add_n(&r.vq, 1);
    assert_int_equal(vq_test_publish(&r.vq), 1); /* avail_event 0: first one */
    add_n(&r.vq, 2);
    assert_int_equal(vq_test_publish(&r.vq), 0); /* device never went idle */
    /* Device takes all three, then goes idle asking for entry 3. */
    while (rt_dev_pop(&d, &c))
        rt_dev_use(&d, c.head, 0);
    rt_dev_set_avail_event(&d, d.last_avail);
    rt_dev_flush(&d);
    add_n(&r.vq, 1);
    assert_int_equal(vq_test_publish(&r.vq), 1);
    add_n(&r.vq, 1);
    assert_int_equal(vq_test_publish(&r.vq), 0);
    while (virtq_get(&r.vq, &cookie, NULL) == VIRTQ_OK)
        ;
    rt_ring_free(&r);
}

/* virtq_publish_defer() + virtq_kick_prepare(), mixed at random with
   virtq_publish() and virtq_submit(): every decision, whichever call makes
   it, covers everything published since the last decision (a deferred
   batch is never left out: "Notifying The Device"), checked against the
   model's window; defers add up while a decision is owed, until the owed
   chains would pass the ring size (8): that defer is EBUSY and publishes
   nothing; a prepare with nothing owed says no.  Positions cross the
   16-bit wrap. */
static void run_deferred(uint64_t features)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b = {&byte, 1};
    uint32_t seed = 0x2545f491u;
    uint16_t decided = 0; /* avail.idx at the last decision */
    int owed = 0, ev = (features & RT_F_EVENT_IDX) != 0;
    unsigned long decisions = 0, spanned = 0, stacked = 0, refused = 0;
    unsigned it;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&d, &r.vq, features);
    for (it = 0; it < 6000; it++) {
        /* Defers half the time (ops 1, 4, 5), so they stack up past a ring
           now and then. */
        unsigned op = rt_rand(&seed) % 6u, k = 1u + rt_rand(&seed) % 3u, added = 0;
        uint16_t before = r.vq.avail->idx, e;
        int no_notify = (rt_rand(&seed) % 3u) == 0u, want = -1;
        bool notify = false;
        if (op > 3u)
            op = 1u;
        if (it == 2000 && !owed) { /* to just before the wrap */
            rt_advance(&r.vq, &d, (uint16_t)(65536u - 20u - before));
            decided = before = r.vq.avail->idx;
        }
        e = (uint16_t)(decided - 2u + rt_rand(&seed) % 12u); /* around the window */
        rt_dev_set_avail_event(&d, e);
        rt_dev_set_no_notify(&d, no_notify);
        if (op == 2u) { /* the deferred decision alone */
            assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
            want = owed && (ev ? rt_in_window(e, before, decided) : !no_notify);
            if (owed) {
                spanned++;
                decided = before;
            }
            owed = 0;
        } else if (op == 3u) { /* submit: add + publish, one decision */
            assert_int_equal(virtq_submit(&r.vq, &b, 1, 0, &byte, &notify), VIRTQ_OK);
            added = 1;
            owed = 0;
        } else {
            for (; added < k; added++)
                assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &byte), VIRTQ_OK);
            /* Owed chains after this defer: earlier defers' and these. */
            unsigned owe = (owed ? (uint16_t)(before - decided) : 0u) + added;
            if (op == 1u && owe <= 8u) {
                stacked += owed != 0;
                assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
                assert_int_equal(r.vq.avail->idx, (uint16_t)(before + added)); /* visible */
                owed = 1;
            } else {
                if (op == 1u) { /* more than a ring owed: refused, nothing published */
                    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_EBUSY);
                    assert_int_equal(r.vq.avail->idx, before);
                    refused++;
                }
                assert_int_equal(virtq_publish(&r.vq, &notify), VIRTQ_OK);
                owed = 0;
            }
        }
        if (op == 3u || (op != 2u && !owed)) { /* a publish decided */
            uint16_t now = (uint16_t)(before + added);
            want = ev ? rt_in_window(e, now, decided) : !no_notify;
            decided = now;
        }
        if (want >= 0) {
            assert_int_equal(notify, want);
            decisions++;
        }
        assert_int_equal(r.vq.avail->idx, (uint16_t)(before + added));
        drain(&r.vq, &d, added);
    }
    assert_true(decisions > 2000u);
    assert_true(spanned > 100u);
    assert_true(stacked > 100u);
    assert_true(refused > 20u);
    rt_ring_free(&r);
}

static void test_publish_deferred(void **state)
{
    (void)state;
    run_deferred(0);
    run_deferred(RT_F_EVENT_IDX);
}

/* The two calls' refusals: NULL, broken, a NULL notify; nothing added is
   nothing owed. */
static void test_publish_deferred_errors(void **state)
{
    struct rt_ring r;
    bool notify = true;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_EVENT_IDX);
    assert_int_equal(virtq_publish_defer(NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_kick_prepare(NULL, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    assert_int_equal(virtq_kick_prepare(&r.vq, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK); /* nothing added */
    notify = true;
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_OK);
    assert_false(notify);
    add_n(&r.vq, 1);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_OK);
    virtq_break(&r.vq);
    notify = true;
    assert_int_equal(virtq_kick_prepare(&r.vq, &notify), VIRTQ_EBROKEN);
    assert_false(notify);
    assert_int_equal(virtq_publish_defer(&r.vq), VIRTQ_EBROKEN);
    rt_ring_free(&r);
}

int rt_group_publish(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_nothing_new),
        cmocka_unit_test(test_publish_answer_out_param),
        cmocka_unit_test(test_publish_flag_mode),
        cmocka_unit_test(test_publish_event_idx),
        cmocka_unit_test(test_publish_event_idx_idle_device),
        cmocka_unit_test(test_publish_deferred),
        cmocka_unit_test(test_publish_deferred_errors),
    };
    return cmocka_run_group_tests_name("ring_publish", tests, NULL, NULL);
}
