/* SPDX-License-Identifier: MIT */
/* fake_registry.c — the table of fake devices and address lookup. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdio.h>

/* ---- the device table ------------------------------------------------------------------ */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virtq_fake_dev *reg_tab[VIRTQ_FAKE_MAX_DEVICES];

struct virtq_fake_dev *fk_lookup(uintptr_t addr)
{
    struct virtq_fake_dev *d = NULL;
    int i;
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && addr >= reg_tab[i]->base && addr - reg_tab[i]->base < VIRTQ_FAKE_STRIDE) {
            d = reg_tab[i];
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    return d;
}

int virtq_fake__irq_lines_connected(void)
{
    int i, n = 0;
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && __atomic_load_n(&reg_tab[i]->connected, __ATOMIC_RELAXED))
            n++;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

struct virtq_fake_dev *virtq_fake_find(uintptr_t base)
{
    struct virtq_fake_dev *d = fk_lookup(base);
    return d && d->base == base ? d : NULL;
}

static int overlaps(uintptr_t base, uintptr_t other)
{
    return other < base + VIRTQ_FAKE_STRIDE && base < other + VIRTQ_FAKE_STRIDE;
}

static int window_taken(uintptr_t base, int report)
{
    int i;
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && overlaps(base, reg_tab[i]->base)) {
            if (report)
                fprintf(stderr, "fake: virtq_fake_create: base %#lx overlaps the device at %#lx\n",
                        (unsigned long)base, (unsigned long)reg_tab[i]->base);
            return 1;
        }
    return 0;
}

/* Enter d into the table at base (0: the lowest free default window);
   sets d->slot and d->base.  0, or -1 with the reason on stderr. */
int fk_registry_add(struct virtq_fake_dev *d, uintptr_t base)
{
    int i, slot = -1;
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES && slot < 0; i++)
        if (reg_tab[i] == NULL)
            slot = i;
    if (slot < 0) {
        pthread_mutex_unlock(&reg_lock);
        fprintf(stderr, "fake: virtq_fake_create: more than %d devices\n", VIRTQ_FAKE_MAX_DEVICES);
        return -1;
    }
    if (base == 0) {
        int k;
        for (k = 0; k < 4 * VIRTQ_FAKE_MAX_DEVICES; k++) {
            base = VIRTQ_FAKE_BASE0 + (uintptr_t)k * VIRTQ_FAKE_STRIDE;
            if (!window_taken(base, 0))
                break;
        }
    }
    if (window_taken(base, 1)) {
        pthread_mutex_unlock(&reg_lock);
        return -1;
    }
    d->slot = slot;
    d->base = base;
    reg_tab[slot] = d;
    pthread_mutex_unlock(&reg_lock);
    return 0;
}

void fk_registry_remove(struct virtq_fake_dev *d)
{
    pthread_mutex_lock(&reg_lock);
    reg_tab[d->slot] = NULL;
    pthread_mutex_unlock(&reg_lock);
}
