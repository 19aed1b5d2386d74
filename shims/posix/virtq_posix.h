/* SPDX-License-Identifier: MIT */
/* virtq shim for POSIX hosts (Linux, the BSDs: anything with
 * pthread_condattr_setclock and CLOCK_MONOTONIC): a thread that drives
 * a device whose "interrupt" is another thread (a fake device, a vhost-user
 * backend, a userspace PCI driver with an eventfd reader).
 *
 *   -DVIRTQ_CONFIG_FILE='"shims/posix/virtq_posix.h"'   (and -I<virtq root>)
 *   link shims/posix/virtq_posix.c, -lpthread
 *
 * What it maps (each #ifndef-guarded, so a program may replace one):
 *   VIRTQ_WAIT        SPIN | OS  (no wfi on a host)
 *   VIRTQ_NOW_US()    clock_gettime(CLOCK_MONOTONIC), microseconds
 *   VIRTQ_OS_WAIT     block on a struct virtq_posix_chan (mutex + condvar on
 *                     CLOCK_MONOTONIC) while the sequence word still holds
 *                     the value the caller saw, at most timeout_us
 *   VIRTQ_OS_WAKE     broadcast on that channel; callable from any thread,
 *                     including the one playing the interrupt handler
 *
 * Usage: one channel per device (or per group of devices sharing a waiter):
 *   struct virtq_posix_chan ch;
 *   virtq_posix_chan_init(&ch);
 *   virtq_dev_set_wait(&dev, VIRTQ_WAIT_OS, &ch);
 *   ...the interrupt thread calls virtq_dev_isr(&dev), which bumps
 *   dev.wake_seq and calls VIRTQ_OS_WAKE(&ch)
 *
 * Why no wake is lost: the waiter re-reads the sequence word with the mutex
 * held before it sleeps, and the waker takes the same mutex to broadcast, so
 * a bump that happens after the waiter's check finds it either not yet
 * asleep (it then sees the new value) or asleep on the condvar (the
 * broadcast wakes it).  Spurious condvar wake-ups only cause a re-check.
 */
#ifndef VIRTQ_POSIX_H
#define VIRTQ_POSIX_H

#include <pthread.h>
#include <stdint.h>

struct virtq_posix_chan {
    pthread_mutex_t m;
    pthread_cond_t c;
};

/* 0, or the pthread error number. */
int virtq_posix_chan_init(struct virtq_posix_chan *ch);
void virtq_posix_chan_destroy(struct virtq_posix_chan *ch);
/* Block while *seq == seen, at most timeout_us.  0 when *seq changed (now
 * or while blocked), ETIMEDOUT when it did not change in time. */
int virtq_posix_wait(struct virtq_posix_chan *ch, const volatile uint32_t *seq, uint32_t seen,
                     uint64_t timeout_us);
/* Wake every thread blocked on ch (bump the sequence word first). */
void virtq_posix_wake(struct virtq_posix_chan *ch);
/* Bump *seq (release) and wake ch: the interrupt side in one call. */
void virtq_posix_signal(struct virtq_posix_chan *ch, uint32_t *seq);
/* Monotonic microseconds. */
uint64_t virtq_posix_now_us(void);

#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_OS)
#endif
#ifndef VIRTQ_NOW_US
#define VIRTQ_NOW_US() virtq_posix_now_us()
#endif
#ifndef VIRTQ_OS_WAIT
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    virtq_posix_wait((struct virtq_posix_chan *)(ctx), (seqptr), (seen), (timeout_us))
#endif
#ifndef VIRTQ_OS_WAKE
#define VIRTQ_OS_WAKE(ctx) virtq_posix_wake((struct virtq_posix_chan *)(ctx))
#endif

#endif /* VIRTQ_POSIX_H */
