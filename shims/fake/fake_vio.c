/* SPDX-License-Identifier: MIT */
/* fake_vio.c — violations: counting, recording and handing them to the handler. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- violations ---------------------------------------------------------------- */

static pthread_mutex_t vio_lock = PTHREAD_MUTEX_INITIALIZER;
static virtq_fake_violation_fn vio_fn;
static void *vio_ctx;
static unsigned vio_count;
static char vio_last[VIRTQ_FAKE_MSG_MAX];

static void vio_record(const char *msg)
{
    pthread_mutex_lock(&vio_lock);
    vio_count++;
    snprintf(vio_last, sizeof vio_last, "%s", msg);
    pthread_mutex_unlock(&vio_lock);
}

void fk_vio_deliver(const char *msg)
{
    virtq_fake_violation_fn fn;
    void *ctx;
    pthread_mutex_lock(&vio_lock);
    fn = vio_fn;
    ctx = vio_ctx;
    pthread_mutex_unlock(&vio_lock);
    if (fn != NULL) {
        fn(ctx, msg);
        return;
    }
    fprintf(stderr, "%s\n", msg);
    abort();
}

void virtq_fake_set_violation_handler(virtq_fake_violation_fn fn, void *ctx)
{
    pthread_mutex_lock(&vio_lock);
    vio_fn = fn;
    vio_ctx = ctx;
    pthread_mutex_unlock(&vio_lock);
}

unsigned virtq_fake_violation_count(void)
{
    unsigned n;
    pthread_mutex_lock(&vio_lock);
    n = vio_count;
    pthread_mutex_unlock(&vio_lock);
    return n;
}

const char *virtq_fake_last_violation(void)
{
    return vio_last;
}

void virtq_fake_clear_violations(void)
{
    pthread_mutex_lock(&vio_lock);
    vio_count = 0;
    vio_last[0] = '\0';
    pthread_mutex_unlock(&vio_lock);
}

void virtq_fake__violation_now(const char *fmt, ...)
{
    char msg[VIRTQ_FAKE_MSG_MAX];
    int n = snprintf(msg, sizeof msg, "fake: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    vio_record(msg);
    fk_vio_deliver(msg);
}

/* Record a violation on d (lock held); it is handed to the handler when
   the outermost lock is released on a thread other than the device's. */
void fk_dev_vio_v(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt,
                      va_list ap)
{
    char msg[VIRTQ_FAKE_MSG_MAX];
    size_t n = (size_t)snprintf(msg, sizeof msg, "fake: %s%s", sec ? sec : "", sec ? ": " : "");
    if (n < sizeof msg)
        n += (size_t)vsnprintf(msg + n, sizeof msg - n, fmt, ap);
    if (n < sizeof msg) {
        if (qi >= 0)
            snprintf(msg + n, sizeof msg - n, " [dev %#lx q%d]", (unsigned long)d->base, qi);
        else
            snprintf(msg + n, sizeof msg - n, " [dev %#lx]", (unsigned long)d->base);
    }
    vio_record(msg);
    d->violations++;
    d->st.violations++;
    if (d->nundelivered < MAX_UNDELIVERED)
        memcpy(d->undelivered[d->nundelivered++], msg, sizeof msg);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void fk_vio(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fk_dev_vio_v(d, qi, sec, fmt, ap);
    va_end(ap);
}
