/* SPDX-License-Identifier: MIT */
/* fake_util.c — small helpers: random numbers, allocation, feature tests. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- small helpers ------------------------------------------------------------------------ */

uint64_t fk_rng_next(struct virtq_fake_dev *d)
{
    /* xorshift64*: deterministic per seed, good enough to shuffle. */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

int fk_is_pow2(uint32_t x)
{
    return x != 0u && (x & (x - 1u)) == 0u;
}

void *fk_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "fake: out of memory\n");
        abort();
    }
    return p;
}

/* Features the ring runs with: modern ones are fixed at FEATURES_OK;
   a legacy device uses the guest features as written. */
static uint64_t feats(const struct virtq_fake_dev *d)
{
    return d->version == 1 ? d->drv_features : d->negotiated;
}

int fk_has_feat(const struct virtq_fake_dev *d, int bit)
{
    return (feats(d) & VIRTQ_FEATURE(bit)) != 0;
}
