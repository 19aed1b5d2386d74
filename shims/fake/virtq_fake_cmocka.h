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

#endif /* VIRTQ_FAKE_CMOCKA_H */
