/* SPDX-License-Identifier: MIT */
/* Out-of-order completion: the fake's OUT_OF_ORDER (seeded random) and
   REVERSED modes with many requests in flight, mixed chain shapes, reads
   and writes, new requests added as old ones come back; every chain is
   freed through private state, every cookie comes back once, data checked. */
#include "core.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)

#define SLOTS 32 /* request slots; slot k owns sectors 8k..8k+7 */
#define TOTAL 600

static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

static void ooo_run(int version, uint64_t wanted, enum virtq_fake_mode mode, uint64_t seed)
{
    struct rig *r = rig_new(version, F_EVENT | F_INDIRECT, 0);
    struct breq *q = breqs_new(SLOTS);
    struct virtq_fake_stats st;
    unsigned seq[SLOTS], busy[SLOTS], next_seq = 0, max_done = 0, inversions = 0, in_flight = 0;
    unsigned submitted = 0, done = 0, most_in_flight = 0, enospc = 0, k;
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 1u;
    int shapes[SH_COUNT], nshapes = 0;
    print_message("  v%d%s%s %s seed %llu\n", version, wanted & F_EVENT ? " event_idx" : "",
                  wanted & F_INDIRECT ? " indirect" : "", mode == VIRTQ_FAKE_REVERSED ? "reversed" : "random",
                  (unsigned long long)seed);
    rig_up(r, wanted, 64);
    virtq_fake_set_mode(r->fd, mode, seed);
    shapes[nshapes++] = SH_PLAIN;
    shapes[nshapes++] = SH_SPLIT;
    if (wanted & F_INDIRECT)
        shapes[nshapes++] = SH_INDIRECT;
    if (version == 2)
        shapes[nshapes++] = SH_MERGED;
    memset(busy, 0, sizeof busy);

    while (done < TOTAL) {
        unsigned adds = 1u + rnd(&rng) % 10u, a;
        /* Add a few, until the ring is full. */
        for (a = 0; a < adds && submitted < TOTAL; a++) {
            unsigned start = rnd(&rng) % SLOTS, i;
            uint32_t type = rnd(&rng) % 3u == 0 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
            int shape = shapes[rnd(&rng) % (unsigned)nshapes], rc;
            if (shape == SH_MERGED && type == VIRTIO_BLK_T_OUT)
                shape = SH_SPLIT;
            for (i = 0; i < SLOTS && busy[(start + i) % SLOTS]; i++)
                ;
            if (i == SLOTS)
                break;
            k = (start + i) % SLOTS;
            rc = breq_add(r, &q[k], type, (uint64_t)k * 8u, 1u + rnd(&rng) % BREQ_MAX_SECT, shape, next_seq);
            if (rc == VIRTQ_ENOSPC) {
                assert_true(virtq_num_free(&r->vq) < 5); /* a chain takes at most 5 */
                enospc++;
                break;
            }
            assert_int_equal(rc, VIRTQ_OK);
            busy[k] = 1;
            seq[k] = next_seq++;
            submitted++;
            in_flight++;
        }
        if (in_flight > most_in_flight)
            most_in_flight = in_flight;
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        /* The device completes some, in its own order. */
        (void)virtq_fake_step(r->fd, 0, submitted == TOTAL ? -1 : (int)(1u + rnd(&rng) % 8u));
        if (in_flight > 0 && virtq_has_used(&r->vq) == 0)
            continue;
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000000u), VIRTQ_OK);
        while (virtq_has_used(&r->vq) == 1) {
            struct breq *b = rig_get_one(r);
            k = (unsigned)(b - q);
            assert_true(k < SLOTS && busy[k]);
            busy[k] = 0;
            if (seq[k] < max_done)
                inversions++;
            if (seq[k] > max_done)
                max_done = seq[k];
            in_flight--;
            done++;
        }
    }
    assert_int_equal(in_flight, 0);
    assert_int_equal(virtq_num_free(&r->vq), r->vq.num); /* every chain freed */
    ledger_assert_all_back(&r->led);
    assert_int_equal(r->led.submitted, TOTAL);
    rig_assert_disk(r);
    assert_true(inversions > 0);       /* it really was out of order */
    assert_true(most_in_flight >= 10); /* with many in flight */
    virtq_fake_get_stats(r->fd, &st);
    assert_int_equal(st.q[0].completed, TOTAL);
    if (wanted & F_INDIRECT)
        assert_true(st.q[0].indirect > 0);
    (void)enospc;
    free(q);
    rig_free(r);
}

static void ooo_random(void **state)
{
    int v, ev, ind;
    uint64_t seed = 11;
    (void)state;
    for (v = 1; v <= 2; v++)
        for (ev = 0; ev <= 1; ev++)
            for (ind = 0; ind <= 1; ind++)
                ooo_run(v, (ev ? F_EVENT : 0) | (ind ? F_INDIRECT : 0), VIRTQ_FAKE_OUT_OF_ORDER, seed++);
}

static void ooo_reversed(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        ooo_run(v, F_EVENT | F_INDIRECT, VIRTQ_FAKE_REVERSED, 3);
        ooo_run(v, 0, VIRTQ_FAKE_REVERSED, 4);
    }
}

int core_group_ooo(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(ooo_random),
        CORE_TEST(ooo_reversed),
    };
    return cmocka_run_group_tests_name("core: out-of-order completion", tests, NULL, NULL);
}
