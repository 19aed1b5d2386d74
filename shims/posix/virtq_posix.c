/* SPDX-License-Identifier: MIT */
/* virtq shim for POSIX hosts: the OS wait channel and the clock.  See
 * virtq_posix.h. */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "virtq_posix.h"

#include <errno.h>
#include <time.h>

int virtq_posix_chan_init(struct virtq_posix_chan *ch)
{
    pthread_condattr_t a;
    int rc = pthread_condattr_init(&a);

    if (rc != 0)
        return rc;
    /* Deadlines on the monotonic clock: a wall-clock step must not stretch
     * or cut a wait. */
    rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_mutex_init(&ch->m, NULL);
    if (rc == 0) {
        rc = pthread_cond_init(&ch->c, &a);
        if (rc != 0)
            pthread_mutex_destroy(&ch->m);
    }
    pthread_condattr_destroy(&a);
    return rc;
}

void virtq_posix_chan_destroy(struct virtq_posix_chan *ch)
{
    pthread_cond_destroy(&ch->c);
    pthread_mutex_destroy(&ch->m);
}

uint64_t virtq_posix_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void deadline_in(struct timespec *ts, uint64_t us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(us / 1000000u);
    ts->tv_nsec += (long)(us % 1000000u) * 1000;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int virtq_posix_wait(struct virtq_posix_chan *ch, const volatile uint32_t *seq, uint32_t seen,
                     uint64_t timeout_us)
{
    struct timespec ts;
    int rc = 0;

    /* Cap the wait so the timespec arithmetic cannot overflow. */
    if (timeout_us > (uint64_t)1000000u * 86400u * 365u)
        timeout_us = (uint64_t)1000000u * 86400u * 365u;
    deadline_in(&ts, timeout_us);
    pthread_mutex_lock(&ch->m);
    /* The check under the mutex pairs with the mutex in virtq_posix_wake:
     * a bump after this load wakes the condvar wait below. */
    while (__atomic_load_n(seq, __ATOMIC_ACQUIRE) == seen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&ch->c, &ch->m, &ts);
    pthread_mutex_unlock(&ch->m);
    return __atomic_load_n(seq, __ATOMIC_ACQUIRE) == seen ? ETIMEDOUT : 0;
}

void virtq_posix_wake(struct virtq_posix_chan *ch)
{
    pthread_mutex_lock(&ch->m);
    pthread_cond_broadcast(&ch->c);
    pthread_mutex_unlock(&ch->m);
}

/* NOLINTNEXTLINE(readability-non-const-parameter): *seq is written, by the atomic add */
void virtq_posix_signal(struct virtq_posix_chan *ch, uint32_t *seq)
{
    __atomic_fetch_add(seq, 1u, __ATOMIC_RELEASE);
    virtq_posix_wake(ch);
}
