/* SPDX-License-Identifier: MIT */
/* fake_cpu.c — the host clock, the OS wait channel and one fake CPU for
   the WFI wait strategy.  See virtq_fake.h. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t virtq_fake_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

/* Wait on c until the monotonic deadline (in microseconds). */
static void cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline_us)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_us / 1000000u);
    ts.tv_nsec = (long)(deadline_us % 1000000u) * 1000L;
    pthread_cond_timedwait(c, m, &ts);
}

/* ---- the OS wait channel ------------------------------------------------------ */

struct virtq_fake_os {
    pthread_mutex_t m;
    pthread_cond_t c;
    uint32_t wake_count; /* bumped by every wake: ends the waits under way */
    struct virtq_fake_os_stats st;
};

static struct virtq_fake_os global_os;
static pthread_once_t global_os_once = PTHREAD_ONCE_INIT;

static void os_init(struct virtq_fake_os *os)
{
    memset(os, 0, sizeof *os);
    pthread_mutex_init(&os->m, NULL);
    cond_init_monotonic(&os->c);
}

static void global_os_init(void)
{
    os_init(&global_os);
}

static struct virtq_fake_os *os_of(void *ctx)
{
    if (ctx != NULL)
        return ctx;
    pthread_once(&global_os_once, global_os_init);
    return &global_os;
}

struct virtq_fake_os *virtq_fake_os_create(void)
{
    struct virtq_fake_os *os = malloc(sizeof *os);
    if (os != NULL)
        os_init(os);
    return os;
}

void virtq_fake_os_destroy(struct virtq_fake_os *os)
{
    if (os == NULL)
        return;
    pthread_mutex_destroy(&os->m);
    pthread_cond_destroy(&os->c);
    free(os);
}

int virtq_fake_os_wait(void *ctx, const volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    struct virtq_fake_os *os = os_of(ctx);
    uint64_t deadline = virtq_fake_now_us() + timeout_us;
    uint32_t w0;
    int rc = 0;
    pthread_mutex_lock(&os->m);
    os->st.waits++;
    w0 = os->wake_count;
    /* The waker changes *seq before it takes os->m to wake us, so a
       change we miss here is followed by a broadcast we do not miss. */
    while (__atomic_load_n(seq, __ATOMIC_RELAXED) == seen && os->wake_count == w0) {
        if (virtq_fake_now_us() >= deadline) {
            os->st.timeouts++;
            rc = 1;
            break;
        }
        cond_wait_until(&os->c, &os->m, deadline);
    }
    pthread_mutex_unlock(&os->m);
    return rc;
}

void virtq_fake_os_wake(void *ctx)
{
    struct virtq_fake_os *os = os_of(ctx);
    pthread_mutex_lock(&os->m);
    os->wake_count++;
    os->st.wakes++;
    pthread_cond_broadcast(&os->c);
    pthread_mutex_unlock(&os->m);
}

void virtq_fake_os_get_stats(struct virtq_fake_os *os, struct virtq_fake_os_stats *out)
{
    os = os_of(os);
    pthread_mutex_lock(&os->m);
    *out = os->st;
    pthread_mutex_unlock(&os->m);
}

/* ---- the fake CPU ---------------------------------------------------------------- */

static struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    int pending;  /* an interrupt raised and not yet taken (atomic: read unlocked) */
    int masked;
    int in_isr;
    void (*isr)(void *);
    void *isr_ctx;
    pthread_t owner;
    int has_owner;
    uint64_t alarm; /* virtq_fake_now_us() deadline; 0: none */
    uint64_t wfi_limit_us;
    struct virtq_fake_cpu_stats st;
} cpu = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER, .wfi_limit_us = 2000000u};

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_init(void)
{
    pthread_cond_destroy(&cpu.c);
    cond_init_monotonic(&cpu.c); /* deadlines are CLOCK_MONOTONIC */
}

static void cpu_lock(void)
{
    pthread_once(&cpu_once, cpu_init);
    pthread_mutex_lock(&cpu.m);
}

static int is_owner(void)
{
    return cpu.has_owner && pthread_equal(cpu.owner, pthread_self());
}

/* Take pending interrupts now if this thread is the CPU, interrupts are
   unmasked and no handler is running: like a trap between instructions. */
static void cpu_take(void)
{
    int rounds;
    for (rounds = 0; rounds < 64; rounds++) {
        void (*fn)(void *);
        void *ctx;
        cpu_lock();
        if (!cpu.pending || cpu.masked || cpu.in_isr || !is_owner()) {
            pthread_mutex_unlock(&cpu.m);
            return;
        }
        __atomic_store_n(&cpu.pending, 0, __ATOMIC_RELAXED);
        cpu.in_isr = 1;
        fn = cpu.isr;
        ctx = cpu.isr_ctx;
        pthread_mutex_unlock(&cpu.m);
        if (fn != NULL)
            fn(ctx);
        cpu_lock();
        cpu.in_isr = 0;
        cpu.st.isr_runs++;
        pthread_mutex_unlock(&cpu.m);
    }
}

void virtq_fake__cpu_raise(void)
{
    cpu_lock();
    __atomic_store_n(&cpu.pending, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&cpu.c);
    pthread_mutex_unlock(&cpu.m);
    cpu_take(); /* runs the handler only on the CPU's own thread */
}

void virtq_fake__cpu_boundary(void)
{
    if (__atomic_load_n(&cpu.pending, __ATOMIC_RELAXED))
        cpu_take();
}

void virtq_fake_cpu_set_isr(void (*fn)(void *ctx), void *ctx)
{
    cpu_lock();
    cpu.isr = fn;
    cpu.isr_ctx = ctx;
    cpu.owner = pthread_self();
    cpu.has_owner = 1;
    cpu.masked = 0;
    pthread_mutex_unlock(&cpu.m);
}

void virtq_fake_cpu_reset(void)
{
    cpu_lock();
    cpu.isr = NULL;
    cpu.isr_ctx = NULL;
    cpu.has_owner = 0;
    __atomic_store_n(&cpu.pending, 0, __ATOMIC_RELAXED);
    cpu.masked = 0;
    cpu.in_isr = 0;
    cpu.alarm = 0;
    cpu.wfi_limit_us = 2000000u;
    memset(&cpu.st, 0, sizeof cpu.st);
    pthread_mutex_unlock(&cpu.m);
}

int virtq_fake_cpu_pending(void)
{
    int p;
    cpu_lock();
    p = cpu.pending;
    pthread_mutex_unlock(&cpu.m);
    return p;
}

void virtq_fake_cpu_set_wfi_limit_us(uint64_t us)
{
    cpu_lock();
    cpu.wfi_limit_us = us;
    pthread_mutex_unlock(&cpu.m);
}

void virtq_fake_cpu_get_stats(struct virtq_fake_cpu_stats *out)
{
    cpu_lock();
    *out = cpu.st;
    pthread_mutex_unlock(&cpu.m);
}

unsigned long virtq_fake_cpu_irq_save(void)
{
    unsigned long was;
    cpu_take(); /* an interrupt already pending is taken before the mask */
    cpu_lock();
    was = (unsigned long)cpu.masked;
    cpu.masked = 1;
    pthread_mutex_unlock(&cpu.m);
    return was;
}

void virtq_fake_cpu_irq_restore(unsigned long flags)
{
    cpu_lock();
    cpu.masked = flags != 0;
    pthread_mutex_unlock(&cpu.m);
    cpu_take();
}

void virtq_fake_cpu_alarm_us(uint64_t deadline_us)
{
    cpu_lock();
    cpu.alarm = deadline_us;
    pthread_cond_broadcast(&cpu.c);
    pthread_mutex_unlock(&cpu.m);
}

void virtq_fake_cpu_wfi(void)
{
    uint64_t limit;
    int stuck = 0, lines = virtq_fake__irq_lines_connected();
    cpu_lock();
    cpu.st.wfi_calls++;
    limit = virtq_fake_now_us() + cpu.wfi_limit_us;
    if (!cpu.pending && cpu.alarm == 0 && lines == 0) {
        stuck = 1; /* nothing at all could end this wfi */
    } else {
        for (;;) {
            uint64_t now = virtq_fake_now_us();
            if (cpu.pending) {
                cpu.st.wfi_irq_wakes++;
                break;
            }
            if (cpu.alarm != 0 && now >= cpu.alarm) {
                cpu.st.wfi_alarm_wakes++;
                break;
            }
            if (cpu.alarm == 0 && now >= limit) {
                stuck = 1;
                break;
            }
            cond_wait_until(&cpu.c, &cpu.m, cpu.alarm != 0 ? cpu.alarm : limit);
        }
    }
    if (stuck)
        cpu.st.wfi_stuck++;
    pthread_mutex_unlock(&cpu.m);
    if (stuck)
        virtq_fake__violation_now(
            "cpu: wfi with no interrupt pending and no alarm set%s: it would sleep forever (bound every wfi, "
            "e.g. with VIRTQ_WFI_ALARM_US)",
            lines ? ", and no interrupt within the wfi limit" : " and no device interrupt connected");
    cpu_take(); /* unmasked: the CPU traps right after waking */
}
