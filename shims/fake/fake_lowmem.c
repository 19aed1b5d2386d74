/* SPDX-License-Identifier: MIT */
/* fake_lowmem.c — low memory for legacy rings. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdlib.h>
#include <sys/mman.h>

/* ---- low memory for legacy rings ------------------------------------------------------------------------------------ */

/* A legacy queue is named by a 32-bit page number, so its ring must lie
   below 2^44; host heap and PIE addresses do not.  Map pages low (below
   4 GiB, like a small board's RAM); the size sits in the first page. */
void *virtq_fake_lowmem_alloc(size_t bytes)
{
    size_t total = ((bytes + 4095u) & ~(size_t)4095u) + 4096u;
    uintptr_t hint;
    for (hint = 0x40000000u; hint < 0xf0000000u; hint += 0x01000000u) {
        void *p = mmap((void *)hint, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            continue;
        if ((uintptr_t)p + total <= 0x100000000ull) {
            *(size_t *)p = total;
            return (char *)p + 4096;
        }
        munmap(p, total);
    }
    return NULL;
}

void virtq_fake_lowmem_free(void *p)
{
    char *base;
    if (p == NULL)
        return;
    base = (char *)p - 4096;
    munmap(base, *(size_t *)base);
}
