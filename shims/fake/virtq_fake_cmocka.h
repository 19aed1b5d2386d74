/* SPDX-License-Identifier: MIT */
/* virtq_fake_cmocka.h — small glue between the fake device and cmocka.

   Include after <cmocka.h> and virtq_fake.h.  A test that wants to look at
   violations itself installs virtq_fake_count_violations (the fake keeps the
   count and the last message) and asserts with virtq_fake_assert_clean();
   a test that wants any violation to fail at once uses the fake's default
   handler or its own fail_msg. */
#ifndef VIRTQ_FAKE_CMOCKA_H
#define VIRTQ_FAKE_CMOCKA_H

/* A violation handler that only lets the fake count. */
static inline void virtq_fake_count_violations(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

/* Fail the current test, naming the last rule broken, if any was. */
#define virtq_fake_assert_clean()                                                        \
    do {                                                                                 \
        if (virtq_fake_violation_count() != 0)                                           \
            fail_msg("unexpected violation (%u): %s", virtq_fake_violation_count(),       \
                     virtq_fake_last_violation());                                       \
    } while (0)

/* End a run under virtq_fake_cache_enable() (the modelled non-coherent
   cache): stop modelling, final check included, and fail unless the run
   was silent and the model was exercised, so a pass cannot come from an
   idle model: the device went through it (both ways when both_ways), lines
   were cleaned and invalidated, and the PRNG evicted or refilled some. */
#define virtq_fake_cache_assert_exercised(both_ways)                                     \
    do {                                                                                 \
        struct virtq_fake_cache_stats st_;                                               \
        virtq_fake_cache_get_stats(&st_);                                                \
        assert_int_equal(virtq_fake_cache_disable(), 0);                                 \
        virtq_fake_assert_clean();                                                       \
        assert_true(st_.dev_reads + st_.dev_writes > 0);                                 \
        assert_true(!(both_ways) || (st_.dev_reads > 0 && st_.dev_writes > 0));          \
        assert_true(st_.cleans > 0 && st_.invalidates > 0);                              \
        assert_true(st_.evictions + st_.refills > 0);                                    \
        assert_int_equal(st_.stale, 0);                                                  \
        assert_int_equal(st_.reports, 0);                                                \
    } while (0)

#endif /* VIRTQ_FAKE_CMOCKA_H */
