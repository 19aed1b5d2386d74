/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_sim.c — randomised driver and device: chains of
   random length, direct and indirect, completed out of order, batches of
   random size, across many laps of rings of many sizes.  Every cookie
   comes back exactly once with the length the device wrote, and the free
   count always matches what is in flight. */
#include <stdlib.h>

#include "pk_test.h"

#define SIM_COOKIES 4096u

static unsigned char bytes[4096];
static struct pk_chain ch;

struct held {
    uint16_t id;
    uint32_t wlen;
    unsigned cookie_hint;
};

static void sim(uint32_t num, uint64_t features, uint32_t seed, unsigned long total)
{
    struct pk_ring r;
    struct pk_dev d;
    static struct held held[PK_MAX_NUM];
    static unsigned char inflight[SIM_COOKIES];
    static unsigned ndesc_of[SIM_COOKIES];
    static struct virtq_desc tables[SIM_COOKIES][4] __attribute__((aligned(16)));
    unsigned nheld = 0, descs_out = 0, i;
    unsigned long submitted = 0, completed = 0;
    uint32_t rs = seed;
    memset(inflight, 0, sizeof(inflight));
    pk_ring_init(&r, num, features);
    pk_dev_attach(&d, &r);
    while (completed < total) {
        unsigned op = pk_rand(&rs) % 8u;
        if (op < 4u && submitted < total) {
            /* Add a request; cookie k of SIM_COOKIES, never reused while in flight. */
            unsigned k = (unsigned)(submitted % SIM_COOKIES), n, out;
            struct virtq_buf b[6];
            int ind = (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)) && pk_rand(&rs) % 3u == 0u;
            int rc;
            if (inflight[k])
                goto complete;
            n = 1u + pk_rand(&rs) % (num < 6u ? num : 6u);
            out = pk_rand(&rs) % (n + 1u);
            if (ind && n > 4u)
                n = 4u;
            if (out > n)
                out = n;
            for (i = 0; i < n; i++) {
                b[i].addr = &bytes[(k * 7u + i * 64u) % 4000u];
                b[i].len = 1u + (k + i) % 64u;
            }
            rc = ind ? virtq_add_indirect(&r.vq, b, out, n - out, tables[k], &inflight[k])
                     : virtq_add(&r.vq, b, out, n - out, &inflight[k]);
            if (rc == VIRTQ_ENOSPC) {
                assert_true((ind ? 1u : n) > virtq_num_free(&r.vq));
                goto complete;
            }
            assert_int_equal(rc, VIRTQ_OK);
            inflight[k] = 1;
            ndesc_of[k] = ind ? 1u : n;
            descs_out += ndesc_of[k];
            submitted++;
            assert_int_equal(virtq_num_free(&r.vq), num - descs_out);
            continue;
        }
        if (op < 5u) {
            assert_true(pk_pub(&r.vq) >= 0);
            while (nheld < num && pk_dev_pop(&d, &ch)) {
                held[nheld].id = ch.id;
                held[nheld].wlen = (uint32_t)ch.wlen;
                nheld++;
            }
            continue;
        }
    complete:
        if (nheld > 0u) {
            /* The device completes a random held buffer (out of order). */
            unsigned j = pk_rand(&rs) % nheld;
            struct held h = held[j];
            held[j] = held[--nheld];
            (void)pk_dev_use(&d, h.id, h.wlen ? pk_rand(&rs) % (h.wlen + 1u) : 0u);
        }
        {
            void *c;
            uint32_t len;
            int rc;
            while ((rc = virtq_get(&r.vq, &c, &len)) == VIRTQ_OK) {
                unsigned k = (unsigned)((unsigned char *)c - inflight);
                assert_true(k < SIM_COOKIES);
                assert_int_equal(inflight[k], 1);
                inflight[k] = 0;
                descs_out -= ndesc_of[k];
                completed++;
            }
            if (rc != VIRTQ_EAGAIN || virtq_num_free(&r.vq) != num - descs_out)
                fail_msg("num %u features %#llx after %lu completions: rc %d, free %u, %u in flight",
                         num, (unsigned long long)features, completed, rc,
                         virtq_num_free(&r.vq), descs_out);
        }
        if (submitted >= total && nheld == 0u && completed < total) {
            assert_true(pk_pub(&r.vq) >= 0);
            while (nheld < num && pk_dev_pop(&d, &ch)) {
                held[nheld].id = ch.id;
                held[nheld].wlen = (uint32_t)ch.wlen;
                nheld++;
            }
        }
    }
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    assert_int_equal(descs_out, 0);
    assert_int_equal(virtq_num_free(&r.vq), num);
    pk_ring_free(&r);
}

static void t_sim(void **st)
{
    static const uint32_t sizes[] = {1, 2, 3, 4, 6, 7, 16, 31, 64, 100, 256, 1000};
    static const uint64_t feats[] = {0, VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC),
                                     VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX) |
                                         VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)};
    unsigned s, f;
    (void)st;
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (f = 0; f < 3; f++)
            sim(sizes[s], feats[f], 0x9e3779b9u ^ (s * 131u + f), 20000);
}

int pk_group_sim(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_sim)};
    return cmocka_run_group_tests_name("packed simulation", tests, NULL, NULL);
}
