/* SPDX-License-Identifier: MIT */
/* fake_lock.c — the device lock; violations and the interrupt line are delivered
   after the outermost unlock. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

/* ---- locking: deliveries happen after the outermost unlock -------------------------- */

void fk_dev_lock(struct virtq_fake_dev *d)
{
    pthread_mutex_lock(&d->lock);
    d->depth++;
}

void fk_dev_unlock(struct virtq_fake_dev *d)
{
    char msgs[MAX_UNDELIVERED][VIRTQ_FAKE_MSG_MAX];
    int nmsg = 0, raise, connected, i, dev_thread;
    virtq_fake_irq_fn fn;
    void *ctx;
    if (--d->depth > 0) {
        pthread_mutex_unlock(&d->lock);
        return;
    }
    dev_thread = d->thread_running && pthread_equal(pthread_self(), d->thread);
    if (!dev_thread) {
        nmsg = d->nundelivered;
        memcpy(msgs, d->undelivered, sizeof msgs[0] * (size_t)nmsg);
        d->nundelivered = 0;
    }
    raise = d->raise_pending;
    d->raise_pending = 0;
    fn = d->irq_fn;
    ctx = d->irq_ctx;
    connected = d->connected;
    pthread_mutex_unlock(&d->lock);
    for (i = 0; i < nmsg; i++)
        fk_vio_deliver(msgs[i]);
    if (!dev_thread)
        fk_cache_flush(); /* what the modelled data cache found meanwhile */
    if (raise) {
        if (fn != NULL)
            fn(d, ctx);
        if (connected)
            virtq_fake__cpu_raise();
    }
}

void virtq_fake_lock(struct virtq_fake_dev *dev)
{
    fk_dev_lock(dev);
}

void virtq_fake_unlock(struct virtq_fake_dev *dev)
{
    fk_dev_unlock(dev);
}

void virtq_fake_violation(struct virtq_fake_dev *dev, const char *fmt, ...)
{
    va_list ap;
    if (dev == NULL)
        return;
    fk_dev_lock(dev);
    va_start(ap, fmt);
    fk_dev_vio_v(dev, -1, NULL, fmt, ap);
    va_end(ap);
    fk_dev_unlock(dev);
}

unsigned virtq_fake_dev_violation_count(struct virtq_fake_dev *dev)
{
    unsigned n;
    fk_dev_lock(dev);
    n = dev->violations;
    fk_dev_unlock(dev);
    return n;
}
