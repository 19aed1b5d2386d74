/* SPDX-License-Identifier: MIT */
/* tests/ring/t_ooo.c — out-of-order completion ("The Virtqueue Used Ring":
   buffers may be used in any order): chains of 1..4 descriptors, direct
   and indirect, completed in reverse and shuffled order.  After every get
   the private free list and the in-flight chains partition the ring; at
   the end every descriptor is free again. */
#include "ring_test.h"

static unsigned char data[16][8];
static struct virtq_desc tables[16][4] __attribute__((aligned(16)));
static struct rt_chain chain;

struct req {
    uint16_t head;
    uint16_t ndesc;
    uint32_t wlen;
    int done;
};

/* Fill the ring with a pattern of chain shapes until it is full, publish,
   let the device take all, complete them in the given order (perm[] of
   indices), taking each with a get and checking the free list. */
static void round_trip(struct rt_ring *r, struct rt_dev *d, unsigned pattern, int reverse,
                       uint32_t *rng)
{
    static struct req reqs[16];
    static int cookie_of[16];
    struct virtq_buf b[4];
    unsigned n = 0, i, k, order[16];
    void *cookie;
    uint32_t len;
    for (k = 0; k < 4; k++) {
        b[k].addr = data[k];
        b[k].len = 2u + k;
    }
    for (;;) {
        unsigned len_ = 1u + (pattern + n * 3u) % 4u;
        unsigned out = (pattern + n) % (len_ + 1u);
        int ind = (r->features & RT_F_INDIRECT) && ((pattern + n) % 3u == 0u);
        int rc = ind ? virtq_add_indirect(&r->vq, b, out, len_ - out, tables[n], &cookie_of[n])
                     : virtq_add(&r->vq, b, out, len_ - out, &cookie_of[n]);
        if (rc == VIRTQ_ENOSPC)
            break;
        assert_int_equal(rc, VIRTQ_OK);
        reqs[n].ndesc = (uint16_t)(ind ? 1u : len_);
        reqs[n].done = 0;
        n++;
        assert_true(n <= 16);
        rt_check_freelist(&r->vq);
    }
    assert_true(n >= 4);
    assert_true(vq_test_publish(&r->vq) >= 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(rt_dev_pop(d, &chain), 1);
        reqs[i].head = chain.head;
        reqs[i].wlen = (uint32_t)chain.wlen;
        assert_int_equal(chain.ndesc, reqs[i].ndesc);
    }
    for (i = 0; i < n; i++)
        order[i] = reverse ? n - 1u - i : i;
    if (!reverse)
        for (i = n - 1u; i > 0; i--) {
            unsigned j = rt_rand(rng) % (i + 1u), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    for (i = 0; i < n; i++) {
        struct req *q = &reqs[order[i]];
        unsigned before = virtq_num_free(&r->vq);
        rt_dev_use(d, q->head, q->wlen);
        rt_dev_flush(d);
        assert_int_equal(virtq_get(&r->vq, &cookie, &len), VIRTQ_OK);
        assert_ptr_equal(cookie, &cookie_of[order[i]]);
        assert_int_equal(len, q->wlen);
        assert_false(q->done);
        q->done = 1;
        /* Exactly this chain's descriptors went back. */
        assert_int_equal(virtq_num_free(&r->vq), before + q->ndesc);
        assert_int_equal(rt_check_freelist(&r->vq), n - 1u - i);
    }
    assert_int_equal(virtq_get(&r->vq, &cookie, &len), VIRTQ_EAGAIN);
    assert_int_equal(virtq_num_free(&r->vq), r->num);
}

static void run_rounds(uint64_t features, int reverse)
{
    struct rt_ring r;
    struct rt_dev d;
    uint32_t rng = 0xc0ffee11u;
    unsigned p;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&d, &r.vq, features);
    for (p = 0; p < 200; p++)
        round_trip(&r, &d, p, reverse, &rng);
    rt_ring_free(&r);
}

static void test_ooo_reverse(void **state)
{
    (void)state;
    run_rounds(0, 1);
    run_rounds(RT_F_INDIRECT | RT_F_EVENT_IDX, 1);
}

static void test_ooo_shuffled(void **state)
{
    (void)state;
    run_rounds(0, 0);
    run_rounds(RT_F_INDIRECT, 0);
}

/* Continuous traffic: completions out of order while new requests keep
   arriving into the holes they leave. */
static void test_ooo_sim(void **state)
{
    static const enum rt_order orders[] = {RT_ORDER_REVERSE, RT_ORDER_SHUFFLE};
    static const uint64_t feats[] = {RT_F_INDIRECT, RT_F_INDIRECT | RT_F_EVENT_IDX, 0};
    size_t a, f;
    (void)state;
    for (a = 0; a < 2; a++)
        for (f = 0; f < 3; f++) {
            struct rt_sim_opts o = {0};
            struct rt_sim_result r;
            o.num = 16;
            o.align = (f & 1u) ? VIRTQ_ALIGN_LEGACY : VIRTQ_ALIGN_MODERN;
            o.features = feats[f];
            o.total = 15000;
            o.seed = 0x1000u + (uint32_t)(a * 3u + f);
            o.max_chain = 4;
            o.indirect_pct = 35;
            o.order = orders[a];
            o.lag = 12;
            o.event_slack = 2;
            o.intr_games = 1;
            rt_sim_run(&o, &r);
            assert_int_equal(r.completed, 15000);
            if (feats[f] & RT_F_INDIRECT)
                assert_true(r.indirect > 1000);
        }
}

int rt_group_ooo(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ooo_reverse),
        cmocka_unit_test(test_ooo_shuffled),
        cmocka_unit_test(test_ooo_sim),
    };
    return cmocka_run_group_tests_name("ring_ooo", tests, NULL, NULL);
}
