/* SPDX-License-Identifier: MIT */
/* fake_complete.c — when requests complete: on notify, from the device thread. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <time.h>

/* ---- notify and the completion modes ------------------------------------------------------------------------- */

int fk_serve_queue(struct virtq_fake_dev *d, int qi)
{
    int n = fk_pop_avail(d, qi);
    if (d->mode == VIRTQ_FAKE_SYNC && !d->thread_running)
        fk_complete_some(d, qi, -1, 0);
    return n;
}

static void kick_thread(struct virtq_fake_dev *d)
{
    pthread_mutex_lock(&d->kick_lock);
    d->kicks++;
    pthread_cond_signal(&d->kick_cond);
    pthread_mutex_unlock(&d->kick_lock);
}

void fk_notify(struct virtq_fake_dev *d, uint32_t val)
{
    uint32_t qi = val & 0xffffu;
    struct fake_queue *q;
    if ((val >> 16) && !fk_has_feat(d, VIRTIO_F_NOTIFICATION_DATA))
        fk_vio(d, -1, S_NOTIFY, "QueueNotify %#x: without VIRTIO_F_NOTIFICATION_DATA the value is the queue index",
            val);
    if (!(d->status & ST_DRIVER_OK)) {
        fk_vio(d, -1, S_INIT, "QueueNotify for queue %u before DRIVER_OK (status %#x)", qi, d->status);
        return;
    }
    if ((int)qi >= d->nq || !d->q[qi].ready) {
        fk_vio(d, -1, S_NOTIFY, "QueueNotify names queue %u, which is %s", qi,
            (int)qi >= d->nq ? "not there" : "not enabled");
        return;
    }
    q = &d->q[qi];
    if (fk_has_feat(d, VIRTIO_F_NOTIFICATION_DATA) && !fk_has_feat(d, VIRTIO_F_RING_PACKED) &&
        (val >> 16) != __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE))
        fk_vio(d, (int)qi, S_NOTIFY, "notification data %#x: next_off/next_wrap must be avail.idx (%#x)",
            val >> 16, __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
    q->st.notifies++;
    if (q->suppress)
        q->st.notifies_suppressed++;
    if (fk_has_feat(d, VIRTIO_F_NOTIFICATION_DATA) && q->packed && d->thread_running)
        fk_packed_notify_data(d, (int)qi, val >> 16, 0);
    if (d->thread_running) {
        kick_thread(d);
        return;
    }
    if (fk_serve_queue(d, (int)qi) == 0)
        q->st.notifies_empty++;
    if (fk_has_feat(d, VIRTIO_F_NOTIFICATION_DATA) && q->packed)
        fk_packed_notify_data(d, (int)qi, val >> 16, 1); /* every available one taken */
}

/* ---- the device thread ------------------------------------------------------------------------------------------- */

static void sleep_us(uint32_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static void *dev_thread(void *arg)
{
    struct virtq_fake_dev *d = arg;
    uint32_t seen = 0;
    fk_dev_lock(d);
    while (!d->thread_stop) {
        int qi, did = 0;
        uint32_t delay = 0;
        for (qi = 0; qi < d->nq; qi++) {
            if (!fk_can_serve(d, &d->q[qi]))
                continue;
            fk_pop_avail(d, qi);
            if (d->q[qi].npending > 0 && fk_complete_some(d, qi, 1, 1) > 0)
                did = 1;
        }
        if (did && d->max_delay_us)
            delay = (uint32_t)(fk_rng_next(d) % ((uint64_t)d->max_delay_us + 1u));
        fk_dev_unlock(d); /* interrupts are delivered here, on this thread */
        if (did) {
            sleep_us(delay);
        } else {
            struct timespec ts;
            pthread_mutex_lock(&d->kick_lock);
            if (d->kicks == seen) {
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&d->kick_cond, &d->kick_lock, &ts);
            }
            seen = d->kicks;
            pthread_mutex_unlock(&d->kick_lock);
        }
        fk_dev_lock(d);
    }
    fk_dev_unlock(d);
    return NULL;
}

int virtq_fake_start_thread(struct virtq_fake_dev *dev)
{
    int rc = 0;
    fk_dev_lock(dev);
    if (!dev->thread_running) {
        dev->thread_stop = 0;
        /* The lock is held: the thread cannot run before thread_running says so. */
        if (pthread_create(&dev->thread, NULL, dev_thread, dev) != 0)
            rc = -1;
        else
            dev->thread_running = 1;
    }
    fk_dev_unlock(dev);
    return rc;
}

void virtq_fake_stop_thread(struct virtq_fake_dev *dev)
{
    pthread_t t;
    fk_dev_lock(dev);
    if (!dev->thread_running) {
        fk_dev_unlock(dev);
        return;
    }
    dev->thread_stop = 1;
    t = dev->thread;
    fk_dev_unlock(dev);
    kick_thread(dev);
    pthread_join(t, NULL);
    fk_dev_lock(dev);
    dev->thread_running = 0;
    fk_dev_unlock(dev); /* hands over what the thread found */
}

void virtq_fake_set_thread_delay(struct virtq_fake_dev *dev, uint32_t max_delay_us)
{
    fk_dev_lock(dev);
    dev->max_delay_us = max_delay_us;
    fk_dev_unlock(dev);
}
