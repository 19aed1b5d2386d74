/* SPDX-License-Identifier: MIT */
/* fake_cache.c — a write-back, non-coherent data cache between the driver
   (the CPU) and the fake device, over buffer memory only (virtq_fake.h,
   "Non-coherent DMA", says what it models and what it reports).

   Per 64-byte line the model keeps what memory holds (mem: the device's
   view) and what the CPU's copy held when it last agreed with memory
   (base).  The CPU's copy itself is the host bytes the driver reads and
   writes; a byte that differs from base was written by the CPU since
   (the line is dirty).  unseen marks bytes the device wrote that the
   driver has not invalidated since. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FK_ASAN 1
#endif
#endif
#ifdef FK_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define LINE VIRTQ_FAKE_CACHE_LINE
#define NBUCKET 4096u
#define MAX_PENDING 8

struct who {
    const char *kind; /* "segment", "indirect table", "backing" */
    const void *buf;  /* start of that buffer */
    int qi;
    int head;         /* -1: none */
};

struct cline {
    struct cline *next;
    uintptr_t addr;
    uint8_t mem[LINE];
    uint8_t base[LINE];
    uint64_t unseen;   /* device-written bytes the driver has not invalidated */
    uint8_t wr_owned;  /* handed over with device_writes, not taken back yet */
    uint8_t reported;  /* one ownership report per hand-over */
    struct who last_wr;
};

static pthread_mutex_t c_lock = PTHREAD_MUTEX_INITIALIZER;
static int c_on;
static pthread_t c_cpu; /* the thread that enabled the model: the CPU */
static uint64_t c_rng;
static unsigned c_evict_pct = 25, c_refill_pct = 25;
static struct cline *c_bucket[NBUCKET];
static struct virtq_fake_cache_stats c_st;
static char c_pending[MAX_PENDING][VIRTQ_FAKE_MSG_MAX];
static int c_npending;

/* ---- helpers ---------------------------------------------------------------------------------- */

static unsigned rnd_pct(void)
{
    uint64_t x = c_rng; /* xorshift64*, as the device's */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c_rng = x;
    return (unsigned)((x * 0x2545f4914f6cdd1dull) >> 33) % 100u;
}

/* A byte of the line that is real memory (not an ASan red zone). */
static int byte_ok(uintptr_t a)
{
#ifdef FK_ASAN
    return !__asan_address_is_poisoned((const void *)a);
#else
    (void)a;
    return 1;
#endif
}

static uint8_t host_get(uintptr_t a) { return *(const volatile uint8_t *)a; }
static void host_set(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void report(const char *fmt, ...)
{
    va_list ap;
    c_st.reports++;
    if (c_npending >= MAX_PENDING)
        return;
    va_start(ap, fmt);
    vsnprintf(c_pending[c_npending++], VIRTQ_FAKE_MSG_MAX, fmt, ap);
    va_end(ap);
}

static void where(char *out, size_t n, const struct who *w, uintptr_t a)
{
    if (w->buf == NULL)
        snprintf(out, n, "buffer byte %p", (void *)a);
    else if (w->head >= 0)
        snprintf(out, n, "%s %p offset %lu (q%d head %d)", w->kind, w->buf,
                 (unsigned long)(a - (uintptr_t)w->buf), w->qi, w->head);
    else
        snprintf(out, n, "%s %p offset %lu", w->kind, w->buf, (unsigned long)(a - (uintptr_t)w->buf));
}

/* First dirty byte of the line (CPU copy differs from base), or -1. */
static int first_dirty(const struct cline *l)
{
    int i;
    for (i = 0; i < LINE; i++)
        if (byte_ok(l->addr + (uintptr_t)i) && host_get(l->addr + (uintptr_t)i) != l->base[i])
            return i;
    return -1;
}

/* The line, entered into the model as clean (memory = the CPU's copy) if new. */
static struct cline *line_get(uintptr_t a, int *created)
{
    uintptr_t la = a & ~(uintptr_t)(LINE - 1);
    unsigned b = (unsigned)((la / LINE) % NBUCKET);
    struct cline *l;
    int i;
    for (l = c_bucket[b]; l != NULL; l = l->next)
        if (l->addr == la) {
            if (created)
                *created = 0;
            return l;
        }
    l = fk_xcalloc(1, sizeof *l);
    l->addr = la;
    for (i = 0; i < LINE; i++)
        l->mem[i] = l->base[i] = byte_ok(la + (uintptr_t)i) ? host_get(la + (uintptr_t)i) : 0;
    l->next = c_bucket[b];
    c_bucket[b] = l;
    c_st.lines++;
    if (created)
        *created = 1;
    return l;
}

/* Write the whole CPU line back to memory (a clean or an eviction). */
static void write_back(struct cline *l)
{
    int i;
    for (i = 0; i < LINE; i++) {
        uintptr_t a = l->addr + (uintptr_t)i;
        if (byte_ok(a))
            l->mem[i] = l->base[i] = host_get(a);
    }
}

/* Memory into the CPU's copy (an invalidate followed by a refill). */
static void refill(struct cline *l)
{
    int i;
    for (i = 0; i < LINE; i++) {
        uintptr_t a = l->addr + (uintptr_t)i;
        if (byte_ok(a)) {
            host_set(a, l->mem[i]);
            l->base[i] = l->mem[i];
        }
    }
}

/* "At an arbitrary moment": a dirty line may be evicted (written back),
   a clean one dropped and refilled from memory.  A refill rewrites the
   CPU's bytes, so only the CPU's own thread does one (on the device
   thread the moment passes with no refill). */
static void arbitrary_moment(struct cline *l)
{
    if (first_dirty(l) >= 0) {
        if (rnd_pct() < c_evict_pct) {
            write_back(l);
            c_st.evictions++;
        }
    } else if (rnd_pct() < c_refill_pct && pthread_equal(pthread_self(), c_cpu)) {
        refill(l);
        c_st.refills++;
    }
}

/* ---- the device's side -------------------------------------------------------------------------- */

/* The device reads n bytes at a into rd, or writes n bytes from wr there. */
static void dev_access(const struct who *w, uintptr_t a, uint8_t *rd, const uint8_t *wr, size_t n)
{
    int write = wr != NULL;
    char at[160];
    size_t done = 0;
    while (done < n) {
        uintptr_t p = a + done;
        int created, off = (int)(p & (LINE - 1)), i, d;
        size_t k = (size_t)(LINE - off) < n - done ? (size_t)(LINE - off) : n - done;
        struct cline *l = line_get(p, &created);
        if (created) {
            where(at, sizeof at, w, p);
            report("cache: the device %s %s, which the driver never synced for it "
                   "(VIRTQ_DMA_SYNC_FOR_DEVICE)", write ? "wrote" : "read", at);
        }
        d = first_dirty(l);
        if (write && d >= 0 && !l->reported) {
            where(at, sizeof at, w, p);
            report("cache: the device wrote %s while the CPU holds its line %p dirty "
                   "(byte +%d written and not cleaned+invalidated since the hand-over): its "
                   "write-back would destroy the device's data", at, (void *)l->addr, d);
            l->reported = 1;
        }
        /* The rule is checked on the line as the driver left it, so a
           missing clean is reported even when a chance eviction below
           happens to rescue the data this time. */
        for (i = 0; !write && i < (int)k; i++) {
            int j = off + i;
            uintptr_t b = l->addr + (uintptr_t)j;
            if (byte_ok(b) && host_get(b) != l->base[j] && host_get(b) != l->mem[j]) {
                where(at, sizeof at, w, b);
                report("cache: the device read stale memory at %s: the driver wrote it "
                       "and never cleaned it (VIRTQ_DMA_SYNC_FOR_DEVICE)", at);
                c_st.stale++;
                break;
            }
        }
        arbitrary_moment(l);
        for (i = 0; write && i < (int)k; i++) {
            l->mem[off + i] = wr[done + (size_t)i];
            l->unseen |= 1ull << (off + i);
        }
        if (write)
            l->last_wr = *w;
        else
            memcpy(rd + done, l->mem + off, k);
        if (write)
            c_st.dev_writes++;
        else
            c_st.dev_reads++;
        arbitrary_moment(l);
        done += k;
    }
}

static int dev_io(const struct who *w, uintptr_t a, uint8_t *rd, const uint8_t *wr, size_t n)
{
    int on;
    pthread_mutex_lock(&c_lock);
    on = c_on;
    if (on)
        dev_access(w, a, rd, wr, n);
    pthread_mutex_unlock(&c_lock);
    return on;
}

int fk_cache_dev_read(const char *kind, const void *buf, int qi, int head, const void *src,
                      void *dst, size_t n)
{
    struct who w = {kind, buf, qi, head};
    return dev_io(&w, (uintptr_t)src, dst, NULL, n);
}

int fk_cache_dev_write(const char *kind, const void *buf, int qi, int head, void *dst,
                       const void *src, size_t n)
{
    struct who w = {kind, buf, qi, head};
    return dev_io(&w, (uintptr_t)dst, NULL, src, n);
}

void virtq_fake_dma_read(const void *src, void *dst, size_t n, const void *buf)
{
    if (!fk_cache_dev_read("backing", buf, -1, -1, src, dst, n))
        memcpy(dst, src, n);
}

/* Hand the reports found so far to the violation handler (no fake lock
   may be held: fake_lock.c calls this after its outermost unlock). */
void fk_cache_flush(void)
{
    char msgs[MAX_PENDING][VIRTQ_FAKE_MSG_MAX];
    int n, i;
    pthread_mutex_lock(&c_lock);
    n = c_npending;
    memcpy(msgs, c_pending, sizeof msgs[0] * (size_t)n);
    c_npending = 0;
    pthread_mutex_unlock(&c_lock);
    for (i = 0; i < n; i++)
        virtq_fake__violation_now("%s", msgs[i]); /* it prepends "fake: " */
}

/* ---- the driver's side: the sync hooks ---------------------------------------------------------- */

/* Device-written bytes of l the driver never invalidated; `when` says
   what the driver is doing instead, nlines how many lines are in that
   state (one report for them all). */
static void report_unseen(const struct cline *l, const char *when, unsigned nlines)
{
    char at[160];
    int i;
    for (i = 0; i < LINE; i++)
        if (l->unseen & (1ull << i))
            break;
    where(at, sizeof at, &l->last_wr, l->addr + (uintptr_t)i);
    report("cache: the device wrote %s and the driver %s without invalidating it "
           "(VIRTQ_DMA_SYNC_FOR_CPU after virtq_get; %u line%s): what it read there was stale",
           at, when, nlines, nlines == 1 ? "" : "s in all");
    c_st.stale++;
}

void virtq_fake_dma_sync_for_device(const void *p, size_t len, int device_writes)
{
    uintptr_t a, end = (uintptr_t)p + len;
    int unseen_reported = 0;
    pthread_mutex_lock(&c_lock);
    if (!c_on || len == 0) {
        pthread_mutex_unlock(&c_lock);
        return;
    }
    for (a = (uintptr_t)p & ~(uintptr_t)(LINE - 1); a < end; a += LINE) {
        struct cline *l = line_get(a, NULL);
        arbitrary_moment(l);
        if (l->unseen != 0 && !unseen_reported++)
            report_unseen(l, "handed it to the device again", 1);
        l->unseen = 0;
        if (first_dirty(l) >= 0) /* clean: the whole line goes to memory */
            write_back(l);
        c_st.cleans++;
        if (device_writes) {
            /* ... and invalidate: the CPU copy stays as memory has it. */
            l->wr_owned = 1;
            l->reported = 0;
            c_st.invalidates++;
        }
    }
    pthread_mutex_unlock(&c_lock);
    fk_cache_flush();
}

void virtq_fake_dma_sync_for_cpu(const void *p, size_t len)
{
    uintptr_t a, end = (uintptr_t)p + len;
    char at[160];
    pthread_mutex_lock(&c_lock);
    if (!c_on || len == 0) {
        pthread_mutex_unlock(&c_lock);
        return;
    }
    for (a = (uintptr_t)p & ~(uintptr_t)(LINE - 1); a < end; a += LINE) {
        struct cline *l = line_get(a, NULL);
        int d = first_dirty(l);
        if (d >= 0) {
            /* Like dc civac on a partial line: the CPU's writes go back
               first, over whatever the device wrote in this line. */
            if (l->wr_owned && !l->reported) {
                struct who w = {NULL, NULL, -1, -1};
                where(at, sizeof at, &w, l->addr + (uintptr_t)d);
                report("cache: the CPU wrote %s while the device owned its line for "
                       "writing; invalidating the line now loses either write", at);
            }
            write_back(l);
        }
        refill(l);
        l->unseen = 0;
        l->wr_owned = 0;
        l->reported = 0;
        c_st.invalidates++;
    }
    pthread_mutex_unlock(&c_lock);
    fk_cache_flush();
}

/* ---- switches ------------------------------------------------------------------------------------ */

static void drop_lines(void)
{
    unsigned b;
    for (b = 0; b < NBUCKET; b++) {
        while (c_bucket[b] != NULL) {
            struct cline *l = c_bucket[b];
            c_bucket[b] = l->next;
            free(l);
        }
    }
}

void virtq_fake_cache_enable(uint64_t seed)
{
    pthread_mutex_lock(&c_lock);
    drop_lines();
    memset(&c_st, 0, sizeof c_st);
    c_npending = 0;
    c_rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    c_cpu = pthread_self();
    c_on = 1;
    pthread_mutex_unlock(&c_lock);
}

void virtq_fake_cache_set_rates(unsigned evict_pct, unsigned refill_pct)
{
    pthread_mutex_lock(&c_lock);
    c_evict_pct = evict_pct > 100u ? 100u : evict_pct;
    c_refill_pct = refill_pct > 100u ? 100u : refill_pct;
    pthread_mutex_unlock(&c_lock);
}

unsigned virtq_fake_cache_check(void)
{
    unsigned b, before;
    pthread_mutex_lock(&c_lock);
    before = c_st.reports;
    if (c_on) {
        const struct cline *first = NULL;
        unsigned n = 0;
        for (b = 0; b < NBUCKET; b++) {
            struct cline *l;
            for (l = c_bucket[b]; l != NULL; l = l->next)
                if (l->unseen != 0) {
                    n++;
                    if (first == NULL || l->addr < first->addr)
                        first = l; /* the lowest address: the same report every run */
                }
        }
        if (first != NULL)
            report_unseen(first, "finished", n);
        for (b = 0; b < NBUCKET; b++) {
            struct cline *l;
            for (l = c_bucket[b]; l != NULL; l = l->next)
                l->unseen = 0;
        }
    }
    before = c_st.reports - before;
    pthread_mutex_unlock(&c_lock);
    fk_cache_flush();
    return before;
}

unsigned virtq_fake_cache_disable(void)
{
    unsigned n = virtq_fake_cache_check();
    pthread_mutex_lock(&c_lock);
    c_on = 0;
    drop_lines();
    pthread_mutex_unlock(&c_lock);
    return n;
}

int virtq_fake_cache_enabled(void)
{
    int on;
    pthread_mutex_lock(&c_lock);
    on = c_on;
    pthread_mutex_unlock(&c_lock);
    return on;
}

void virtq_fake_cache_get_stats(struct virtq_fake_cache_stats *out)
{
    pthread_mutex_lock(&c_lock);
    *out = c_st;
    pthread_mutex_unlock(&c_lock);
}
