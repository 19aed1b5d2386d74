/* SPDX-License-Identifier: MIT */
/* stress.c - the driver on one thread, an honest device on another.
 *
 * The device thread is written here from the spec, independently of
 * virtq.h: it finds the rings either from the spec's layout (mode "ring":
 * the driver calls virtq_publish/virtq_get/virtq_enable_intr itself) or
 * from the virtio-mmio queue registers the driver programmed (mode "dev":
 * the driver goes through probe/begin/negotiate/queue_setup/driver_ok,
 * virtq_dev_kick and virtq_wait with the VIRTQ_WAIT_OS strategy, and the
 * device thread runs virtq_dev_isr() as the interrupt handler would on
 * another CPU).  It pops the available ring with acquire loads of
 * avail.idx, walks and validates each chain (direct and indirect),
 * completes chains out of order, publishes used.idx with release stores,
 * and honours both notification-suppression schemes in both directions:
 * it sleeps only after re-arming avail_event / clearing NO_NOTIFY and
 * re-checking, and it interrupts only when used_event / NO_INTERRUPT say so.
 *
 * Every byte is verified.  The driver fills readable segments from a
 * per-request pseudo-random stream; the device hashes them and writes a
 * pattern derived from the hash into the writable segments, choosing the
 * used length from the hash too.  The driver recomputes all of it: the
 * used length, every written byte, the untouched tail of the writable
 * buffers and the untouched readable buffers.
 *
 * The packed ring ("Packed Virtqueues") runs the same way (configs marked
 * packed): the device polls the next descriptor's AVAIL/USED flags with
 * acquire loads, walks each list, writes used descriptors with release
 * stores of their flags at its own used position, and honours both event
 * suppression structures (ENABLE, DISABLE, DESC offset/wrap with EVENT_IDX).
 *
 * Liveness: a sleeping side that is never woken would hang; both sides
 * sleep with a long safety timeout (STALL_US) and, if it expires while the
 * other side's work is visible, fail with "lost interrupt" / "lost kick".
 * No speed is asserted.
 *
 * Build it with -fsanitize=thread (virtq.h then uses atomics for its
 * shared-index accesses) and with -fsanitize=address,undefined.
 *
 *   stress [-n requests per configuration] [-s seed] [-c only this config]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t st_mmio_read(uintptr_t a);
static void st_mmio_write(uintptr_t a, uint32_t v);

#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_OS)
#define VIRTQ_RINGS (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
/* The clock and the OS wait/wake are the POSIX shim's (shims/posix): the
   same channel also carries this test's own kick and interrupt signals. */
#define VIRTQ_CONFIG_FILE "shims/posix/virtq_posix.h"
#define VIRTQ_PUBLISH_DEFER 1 /* half the rounds defer the kick decision */
#define VIRTQ_MMIO_READ32(a) st_mmio_read(a)
#define VIRTQ_MMIO_WRITE32(a, v) st_mmio_write((a), (v))
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
#define VQ_TEST_NAME "stress"
#include "../common/vq_test.h"


#define MAXN 256u
#define MAXSEG 4u
#define SEGBYTES 512u
#define POISON 0xeeu
#define STALL_US 20000000u /* 20 s: only a lost wake-up gets near it */
#define MMIO_BASE ((uintptr_t)0x10001000u)

#define LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LDA(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STR(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

/* A signal between the two threads: the shim's channel and its word. */
struct chan {
    struct virtq_posix_chan pc;
    uint32_t seq;
};

static void chan_init(struct chan *ch)
{
    CHECK(virtq_posix_chan_init(&ch->pc) == 0, "virtq_posix_chan_init");
    ch->seq = 0;
}

/* The spec's event rule, written here independently of virtq.h. */
static int crossed(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(event - old) < (uint16_t)(new_idx - old);
}

/* Readable bytes of request id: a reproducible stream. */
static void fill_readable(uint8_t *p, uint32_t len, uint64_t id, unsigned seg)
{
    uint64_t s = (id + 1u) * 0x9e3779b97f4a7c15ull ^ (seg + 1u) * 0xd1b54a32d192ed03ull;
    uint32_t i;
    for (i = 0; i < len; i++) {
        if ((i & 7u) == 0u)
            rnd(&s);
        p[i] = (uint8_t)(s >> (8u * (i & 7u)));
    }
}

static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t len)
{
    uint32_t i;
    for (i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* What the device writes: byte j of the writable space, and how much. */
static uint8_t pattern(uint32_t h, uint32_t j)
{
    return (uint8_t)((h >> (8u * (j & 3u))) + j * 7u);
}

static uint32_t used_len(uint32_t h, uint32_t wcap)
{
    return (h & 3u) == 0u ? (uint32_t)(h % (wcap + 1u)) : wcap;
}

/* ---- configurations -------------------------------------------------------- */

enum { MODE_RING, MODE_DEV };

struct config {
    const char *name;
    uint32_t num;
    uint64_t features;
    int mode;
    unsigned indirect_pct; /* of requests, when INDIRECT_DESC is on */
    int packed;            /* the packed ring (RING_PACKED in features) */
};

#define F(b) VIRTQ_FEATURE(VIRTIO_F_##b)
static const struct config configs[] = {
    {"ring n=8 plain", 8, 0, MODE_RING, 0, 0},
    {"ring n=64 event_idx+indirect+order_platform", 64,
     F(EVENT_IDX) | F(INDIRECT_DESC) | F(ORDER_PLATFORM), MODE_RING, 40, 0},
    {"dev n=256 indirect (virtq_wait OS)", 256, F(INDIRECT_DESC), MODE_DEV, 50, 0},
    {"dev n=16 event_idx (virtq_wait OS)", 16, F(EVENT_IDX), MODE_DEV, 0, 0},
    {"packed ring n=8 plain", 8, F(RING_PACKED), MODE_RING, 0, 1},
    {"packed ring n=50 event_idx+indirect+order_platform", 50,
     F(RING_PACKED) | F(EVENT_IDX) | F(INDIRECT_DESC) | F(ORDER_PLATFORM), MODE_RING, 40, 1},
    {"packed dev n=100 indirect (virtq_wait OS)", 100, F(RING_PACKED) | F(INDIRECT_DESC),
     MODE_DEV, 50, 1},
    {"packed dev n=16 event_idx (virtq_wait OS)", 16, F(RING_PACKED) | F(EVENT_IDX), MODE_DEV,
     0, 1},
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

/* ---- shared state ------------------------------------------------------------ */

struct ctx {
    uint64_t id;
    unsigned nseg, out, indirect;
    uint32_t len[MAXSEG];
    uint8_t *buf[MAXSEG];
    struct virtq_desc *table; /* MAXSEG entries, 16-aligned */
};

static struct run {
    const struct config *cfg;
    uint64_t seed;
    uint64_t total;
    int evidx;
    /* device's view of the ring */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t *used_event, *avail_event;
    uint32_t num;
    /* wake-ups */
    struct chan kick;  /* driver -> device */
    struct chan irq;   /* device -> driver (mode ring) */
    struct chan os;    /* device -> driver via virtq_dev_isr (mode dev) */
    uint32_t stop;
    /* mode dev: the register file */
    uint32_t int_status, status, dfsel, qsel, qnum, qready;
    uint32_t qdesc[2], qdriver[2], qdevice[2];
    /* statistics (each written by one thread, read after join) */
    uint64_t kicks, dev_sleeps, irqs_sent, ooo, popped, indirect_seen;
    uint64_t drv_sleeps, drv_wakes_busy, delayed_arms;
} R;

static struct virtq_dev dev;
static struct virtq vq;

/* ---- mode dev: a minimal virtio-mmio register file ------------------------- */

static uint32_t st_mmio_read(uintptr_t a)
{
    switch (a - MMIO_BASE) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return 2;
    case VIRTIO_MMIO_DEVICE_ID: return VIRTIO_ID_BLOCK;
    case VIRTIO_MMIO_VENDOR_ID: return 0x51455453u;
    case VIRTIO_MMIO_DEVICE_FEATURES: {
        uint64_t f = R.cfg->features | F(VERSION_1);
        return R.dfsel == 0u ? (uint32_t)f : R.dfsel == 1u ? (uint32_t)(f >> 32) : 0u;
    }
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return R.qsel == 0u ? R.cfg->num : 0u;
    case VIRTIO_MMIO_QUEUE_READY: return R.qsel == 0u ? R.qready : 0u;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return __atomic_load_n(&R.int_status, __ATOMIC_ACQUIRE);
    case VIRTIO_MMIO_STATUS: return R.status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;
    default: FAIL("read of register %#lx", (unsigned long)(a - MMIO_BASE));
    }
    return 0;
}

static void st_mmio_write(uintptr_t a, uint32_t v)
{
    switch (a - MMIO_BASE) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: R.dfsel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: break;
    case VIRTIO_MMIO_DRIVER_FEATURES: break;
    case VIRTIO_MMIO_QUEUE_SEL: R.qsel = v; break;
    case VIRTIO_MMIO_QUEUE_NUM: R.qnum = v; break;
    case VIRTIO_MMIO_QUEUE_READY: R.qready = v; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: R.qdesc[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: R.qdesc[1] = v; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: R.qdriver[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: R.qdriver[1] = v; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: R.qdevice[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: R.qdevice[1] = v; break;
    case VIRTIO_MMIO_STATUS: R.status = v; break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        __atomic_fetch_and(&R.int_status, ~v, __ATOMIC_ACQ_REL);
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        CHECK(v == 0u, "notify for queue %u", v);
        R.kicks++;
        virtq_posix_signal(&R.kick.pc, &R.kick.seq);
        break;
    default: FAIL("write of register %#lx", (unsigned long)(a - MMIO_BASE));
    }
}

/* ---- the device thread -------------------------------------------------------- */

struct popped {
    uint16_t head;  /* split: head descriptor; packed: buffer id */
    uint16_t ndesc; /* packed: ring descriptors the list took */
    uint64_t seq; /* avail order, to count out-of-order completions */
    uint32_t h, wcap, nw;
    uint8_t *wbuf[MAXN];
    uint32_t wlen[MAXN];
};

static void *host(uint64_t dma) { return (void *)(uintptr_t)dma; }

/* Walk one chain ("The Virtqueue Descriptor Table", "Indirect
   Descriptors"), hash the readable bytes, note the writable segments. */
static void device_take(struct popped *p, uint16_t head, uint8_t *held)
{
    const struct virtq_desc *table = R.desc;
    uint32_t n = R.num, idx = head, count = 0, rlen = 0;
    int writing = 0;
    uint8_t *rbuf[MAXN];
    uint32_t rl[MAXN], nr = 0, i;
    CHECK(head < R.num, "avail entry %u out of range", head);
    CHECK(!held[head], "head %u made available twice", head);
    held[head] = 1;
    p->head = head;
    p->nw = 0;
    p->wcap = 0;
    if (LD(&R.desc[head].flags) & VIRTQ_DESC_F_INDIRECT) {
        uint32_t len = LD(&R.desc[head].len);
        CHECK(!(LD(&R.desc[head].flags) & VIRTQ_DESC_F_NEXT), "INDIRECT with NEXT");
        CHECK(len % 16u == 0u && len / 16u >= 1u && len / 16u <= MAXSEG,
              "indirect table of %u bytes", len);
        table = (const struct virtq_desc *)host(LD(&R.desc[head].addr));
        n = len / 16u;
        idx = 0;
        R.indirect_seen++;
    }
    for (;;) {
        const struct virtq_desc *d = &table[idx];
        uint16_t flags = LD(&d->flags);
        uint32_t len = LD(&d->len);
        CHECK(++count <= n, "chain from head %u longer than its table (loop?)", head);
        CHECK(!(flags & VIRTQ_DESC_F_INDIRECT), "INDIRECT inside a chain");
        CHECK(len > 0u && len <= SEGBYTES, "segment of %u bytes", len);
        if (flags & VIRTQ_DESC_F_WRITE) {
            writing = 1;
            p->wbuf[p->nw] = (uint8_t *)host(LD(&d->addr));
            p->wlen[p->nw++] = len;
            p->wcap += len;
        } else {
            CHECK(!writing, "readable segment after a writable one (2.7.4.2)");
            rbuf[nr] = (uint8_t *)host(LD(&d->addr));
            rl[nr++] = len;
            rlen += len;
        }
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = LD(&d->next);
        CHECK(idx < n, "next %u out of range", idx);
    }
    p->h = 2166136261u ^ rlen;
    for (i = 0; i < nr; i++)
        p->h = fnv(p->h, rbuf[i], rl[i]);
}

static void device_complete(struct popped *p, uint16_t *used_idx, uint8_t *held)
{
    uint32_t len = used_len(p->h, p->wcap), j = 0, i, k;
    struct virtq_used_elem *e = &R.used->ring[*used_idx & (R.num - 1u)];
    for (i = 0; i < p->nw && j < len; i++)
        for (k = 0; k < p->wlen[i] && j < len; k++, j++)
            p->wbuf[i][k] = pattern(p->h, j);
    held[p->head] = 0;
    ST(&e->id, (uint32_t)p->head);
    ST(&e->len, len);
    (*used_idx)++;
}

/* After used.idx moved from old to now: interrupt if the driver asked
   ("Used Buffer Notification Suppression"). */
static void device_maybe_interrupt(uint16_t old, uint16_t now)
{
    int need;
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* used.idx before used_event */
    if (R.evidx)
        need = crossed(LD(R.used_event), now, old);
    else
        need = !(LD(&R.avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (!need)
        return;
    R.irqs_sent++;
    if (R.cfg->mode == MODE_DEV) {
        __atomic_fetch_or(&R.int_status, VIRTIO_MMIO_INT_VRING, __ATOMIC_RELEASE);
        (void)virtq_dev_isr(&dev); /* the handler, run on "another CPU" */
    } else {
        virtq_posix_signal(&R.irq.pc, &R.irq.seq);
    }
}

static void *device_thread(void *arg)
{
    static struct popped pend[MAXN];
    uint8_t held[MAXN];
    uint64_t rng = R.seed ^ 0xd1ce0000ull, seq_in = 0, seq_out = 0;
    uint16_t last_avail = 0, used_idx = 0;
    unsigned npend = 0;
    (void)arg;
    memset(held, 0, sizeof(held));
    for (;;) {
        uint16_t avail = LDA(&R.avail->idx);
        unsigned cap = 1u + (unsigned)(rnd(&rng) % R.num), progressed = 0;
        /* Pop some of what is available. */
        while (avail != last_avail && npend < cap) {
            uint16_t head = LD(&R.avail->ring[last_avail & (R.num - 1u)]);
            CHECK((uint16_t)(avail - last_avail) <= R.num, "avail.idx ran %u ahead",
                  (uint16_t)(avail - last_avail));
            device_take(&pend[npend], head, held);
            pend[npend++].seq = seq_in++;
            last_avail++;
            R.popped++;
            progressed = 1;
        }
        /* Complete a random subset in random order; everything when no
           more work is coming, so a held-back buffer cannot stall. */
        if (npend) {
            unsigned k = avail == last_avail ? npend : (unsigned)(rnd(&rng) % (npend + 1u));
            uint16_t old = used_idx;
            while (k--) {
                unsigned i = (unsigned)(rnd(&rng) % npend);
                if (pend[i].seq != seq_out)
                    R.ooo++;
                seq_out = pend[i].seq + 1u;
                device_complete(&pend[i], &used_idx, held);
                pend[i] = pend[--npend];
                /* Sometimes publish each one, sometimes a batch. */
                if (rnd(&rng) & 1u) {
                    STR(&R.used->idx, used_idx);
                    device_maybe_interrupt(old, used_idx);
                    old = used_idx;
                }
            }
            if (old != used_idx) {
                STR(&R.used->idx, used_idx);
                device_maybe_interrupt(old, used_idx);
            }
            progressed = 1;
        }
        if (progressed)
            continue;
        /* Idle: ask for a kick, re-check, then sleep. */
        {
            uint32_t seen = LDA(&R.kick.seq);
            if (R.evidx)
                ST(R.avail_event, last_avail);
            else
                ST(&R.used->flags, (uint16_t)0);
            __atomic_thread_fence(__ATOMIC_SEQ_CST); /* re-arm before re-check */
            if (LDA(&R.avail->idx) == last_avail) {
                if (LDA(&R.stop))
                    break;
                R.dev_sleeps++;
                if (virtq_posix_wait(&R.kick.pc, &R.kick.seq, seen, STALL_US) != 0) {
                    CHECK(LDA(&R.avail->idx) == last_avail,
                          "lost kick: avail.idx moved to %u past %u, no notification",
                          LDA(&R.avail->idx), last_avail);
                    CHECK(LDA(&R.stop), "driver idle for %u s", STALL_US / 1000000u);
                }
            }
            if (!R.evidx)
                ST(&R.used->flags, (uint16_t)VIRTQ_USED_F_NO_NOTIFY); /* busy again */
        }
    }
    CHECK(npend == 0u, "device stopped with %u buffers held", npend);
    return NULL;
}

/* ---- the packed device ("Packed Virtqueues") ------------------------------------ */

static struct pvirtq_desc *PD;                  /* descriptor ring */
static struct pvirtq_event_suppress *PDRV, *PDEV; /* driver / device areas */

static int p_avail(uint16_t flags, int w)
{
    return ((flags & VIRTQ_DESC_F_AVAIL) != 0) == w && ((flags & VIRTQ_DESC_F_USED) != 0) != w;
}

static void p_step(uint16_t *pos, int *w)
{
    if (++*pos == R.num) {
        *pos = 0;
        *w = !*w;
    }
}

/* Take the list at *pos (available, flags read with an acquire by the
   caller): walk it ("Next Flag: Descriptor Chaining", "Indirect Flag"),
   hash the readable bytes, note the writable segments and the Buffer ID
   of the last descriptor. */
static void pdevice_take(struct popped *p, uint16_t *pos, int *w, uint8_t *held)
{
    uint32_t count = 0, rlen = 0, i;
    int writing = 0;
    uint8_t *rbuf[MAXN];
    uint32_t rl[MAXN], nr = 0;
    uint16_t id = 0;
    p->nw = 0;
    p->wcap = 0;
    for (;;) {
        struct pvirtq_desc *d = &PD[*pos];
        uint16_t flags = LDA(&d->flags);
        CHECK(p_avail(flags, *w), "list descriptor %u not available (flags %#x, wrap %d)", *pos,
              flags, *w);
        CHECK(++count <= R.num, "list longer than the ring");
        id = LD(&d->id);
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            const struct pvirtq_desc *t = (const struct pvirtq_desc *)host(LD(&d->addr));
            uint32_t len = LD(&d->len), n = len / 16u;
            CHECK(count == 1u && !(flags & VIRTQ_DESC_F_NEXT), "INDIRECT with NEXT");
            CHECK(len % 16u == 0u && n >= 1u && n <= MAXSEG, "indirect table of %u bytes", len);
            R.indirect_seen++;
            for (i = 0; i < n; i++) {
                uint16_t tf = LD(&t[i].flags);
                uint32_t tl = LD(&t[i].len);
                CHECK(!(tf & (uint16_t)~VIRTQ_DESC_F_WRITE), "table flags %#x", tf);
                CHECK(tl > 0u && tl <= SEGBYTES, "segment of %u bytes", tl);
                if (tf & VIRTQ_DESC_F_WRITE) {
                    writing = 1;
                    p->wbuf[p->nw] = (uint8_t *)host(LD(&t[i].addr));
                    p->wlen[p->nw++] = tl;
                    p->wcap += tl;
                } else {
                    CHECK(!writing, "readable after writable (Scatter-Gather Support)");
                    rbuf[nr] = (uint8_t *)host(LD(&t[i].addr));
                    rl[nr++] = tl;
                    rlen += tl;
                }
            }
        } else {
            uint32_t len = LD(&d->len);
            CHECK(len > 0u && len <= SEGBYTES, "segment of %u bytes", len);
            if (flags & VIRTQ_DESC_F_WRITE) {
                writing = 1;
                p->wbuf[p->nw] = (uint8_t *)host(LD(&d->addr));
                p->wlen[p->nw++] = len;
                p->wcap += len;
            } else {
                CHECK(!writing, "readable after writable (Scatter-Gather Support)");
                rbuf[nr] = (uint8_t *)host(LD(&d->addr));
                rl[nr++] = len;
                rlen += len;
            }
        }
        p_step(pos, w);
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
    }
    CHECK(id < R.num && !held[id], "buffer id %u out of range or in flight", id);
    held[id] = 1;
    p->head = id;
    p->ndesc = (uint16_t)count;
    p->h = 2166136261u ^ rlen;
    for (i = 0; i < nr; i++)
        p->h = fnv(p->h, rbuf[i], rl[i]);
}

/* Write the used descriptor at *pos, flags last with a release, and skip
   the list's length ("Receiving Used Buffers From The Device"). */
static void pdevice_complete(struct popped *p, uint16_t *pos, int *w, uint8_t *held)
{
    uint32_t len = used_len(p->h, p->wcap), j = 0, i, k;
    struct pvirtq_desc *d = &PD[*pos];
    for (i = 0; i < p->nw && j < len; i++)
        for (k = 0; k < p->wlen[i] && j < len; k++, j++)
            p->wbuf[i][k] = pattern(p->h, j);
    held[p->head] = 0;
    ST(&d->id, p->head);
    ST(&d->len, len);
    STR(&d->flags, (uint16_t)(*w ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u));
    for (i = 0; i < p->ndesc; i++)
        p_step(pos, w);
}

/* Used descriptors now cover positions old..now: interrupt per the driver
   event suppression (the DESC position among them, by enumeration). */
static void pdevice_maybe_interrupt(uint16_t old, int oldw, uint16_t now, int noww)
{
    int need = 0;
    uint16_t f;
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* used flags before the event structure */
    f = LD(&PDRV->flags) & 3u;
    if (f == RING_EVENT_FLAGS_ENABLE) {
        need = 1;
    } else if (f == RING_EVENT_FLAGS_DESC) {
        uint16_t ev = LD(&PDRV->desc);
        CHECK(R.evidx, "DESC driver event without EVENT_IDX");
        while (old != now || oldw != noww) {
            if (old == (ev & 0x7fffu) && oldw == (ev >> 15))
                need = 1;
            p_step(&old, &oldw);
        }
    } else {
        CHECK(f == RING_EVENT_FLAGS_DISABLE, "reserved driver event flags %u", f);
    }
    if (!need)
        return;
    R.irqs_sent++;
    if (R.cfg->mode == MODE_DEV) {
        __atomic_fetch_or(&R.int_status, VIRTIO_MMIO_INT_VRING, __ATOMIC_RELEASE);
        (void)virtq_dev_isr(&dev);
    } else {
        virtq_posix_signal(&R.irq.pc, &R.irq.seq);
    }
}

static void *pdevice_thread(void *arg)
{
    static struct popped pend[MAXN];
    uint8_t held[MAXN];
    uint64_t rng = R.seed ^ 0xd1ce0000ull, seq_in = 0, seq_out = 0;
    uint16_t apos = 0, upos = 0;
    int aw = 1, uw = 1;
    unsigned npend = 0;
    (void)arg;
    memset(held, 0, sizeof(held));
    ST(&PDEV->flags, (uint16_t)RING_EVENT_FLAGS_DISABLE); /* busy: no kicks needed */
    for (;;) {
        unsigned cap = 1u + (unsigned)(rnd(&rng) % R.num), progressed = 0;
        int more;
        while (npend < cap && p_avail(LDA(&PD[apos].flags), aw)) {
            pdevice_take(&pend[npend], &apos, &aw, held);
            pend[npend++].seq = seq_in++;
            R.popped++;
            progressed = 1;
        }
        more = p_avail(LDA(&PD[apos].flags), aw);
        if (npend) {
            unsigned k = !more ? npend : (unsigned)(rnd(&rng) % (npend + 1u));
            uint16_t old = upos;
            int oldw = uw;
            while (k--) {
                unsigned i = (unsigned)(rnd(&rng) % npend);
                if (pend[i].seq != seq_out)
                    R.ooo++;
                seq_out = pend[i].seq + 1u;
                pdevice_complete(&pend[i], &upos, &uw, held);
                pend[i] = pend[--npend];
                if (rnd(&rng) & 1u) {
                    pdevice_maybe_interrupt(old, oldw, upos, uw);
                    old = upos;
                    oldw = uw;
                }
            }
            if (old != upos || oldw != uw)
                pdevice_maybe_interrupt(old, oldw, upos, uw);
            progressed = 1;
        }
        if (progressed)
            continue;
        /* Idle: ask for a kick (at the next position with EVENT_IDX),
           re-check, then sleep ("Driver and Device Event Suppression"). */
        {
            uint32_t seen = LDA(&R.kick.seq);
            if (R.evidx) {
                ST(&PDEV->desc, (uint16_t)(apos | (aw ? 0x8000u : 0u)));
                ST(&PDEV->flags, (uint16_t)RING_EVENT_FLAGS_DESC);
            } else {
                ST(&PDEV->flags, (uint16_t)RING_EVENT_FLAGS_ENABLE);
            }
            __atomic_thread_fence(__ATOMIC_SEQ_CST); /* re-arm before re-check */
            if (!p_avail(LDA(&PD[apos].flags), aw)) {
                if (LDA(&R.stop))
                    break;
                R.dev_sleeps++;
                if (virtq_posix_wait(&R.kick.pc, &R.kick.seq, seen, STALL_US) != 0) {
                    CHECK(!p_avail(LDA(&PD[apos].flags), aw),
                          "lost kick: descriptor %u available, no notification", apos);
                    CHECK(LDA(&R.stop), "driver idle for %u s", STALL_US / 1000000u);
                }
            }
            ST(&PDEV->flags, (uint16_t)RING_EVENT_FLAGS_DISABLE); /* busy again */
        }
    }
    CHECK(npend == 0u, "device stopped with %u buffers held", npend);
    return NULL;
}

/* ---- the driver ------------------------------------------------------------------ */

static struct ctx ctxs[MAXN];
static struct ctx *freectx[MAXN];
static unsigned nfree;

static void driver_notify(void)
{
    R.kicks++;
    virtq_posix_signal(&R.kick.pc, &R.kick.seq);
}

/* Make the kick decision virtq_publish_defer() left owed. */
static void decide_owed(void)
{
    bool notify;
    int rc = virtq_kick_prepare(&vq, &notify);
    CHECK(rc == VIRTQ_OK, "kick_prepare = %d", rc);
    if (notify)
        driver_notify();
}

static void verify(struct ctx *c, uint32_t len)
{
    uint32_t h, rlen = 0, wcap = 0, want, j = 0, i, k;
    uint8_t tmp[SEGBYTES];
    for (i = 0; i < c->out; i++)
        rlen += c->len[i];
    h = 2166136261u ^ rlen;
    for (i = 0; i < c->out; i++) {
        fill_readable(tmp, c->len[i], c->id, i);
        CHECK(memcmp(tmp, c->buf[i], c->len[i]) == 0, "request %llu: readable segment %u changed",
              (unsigned long long)c->id, i);
        h = fnv(h, tmp, c->len[i]);
    }
    for (i = c->out; i < c->nseg; i++)
        wcap += c->len[i];
    want = used_len(h, wcap);
    CHECK(len == want, "request %llu: used len %u, device wrote %u", (unsigned long long)c->id,
          len, want);
    for (i = c->out; i < c->nseg; i++)
        for (k = 0; k < c->len[i]; k++, j++) {
            uint8_t b = c->buf[i][k];
            if (j < len)
                CHECK(b == pattern(h, j), "request %llu: byte %u is %#x, want %#x",
                      (unsigned long long)c->id, j, b, pattern(h, j));
            else
                CHECK(b == POISON, "request %llu: byte %u past used len written",
                      (unsigned long long)c->id, j);
        }
}

static unsigned drain(uint64_t *done)
{
    unsigned got = 0;
    for (;;) {
        void *cookie;
        uint32_t len;
        int rc = virtq_get(&vq, &cookie, &len);
        if (rc == VIRTQ_EAGAIN)
            return got;
        CHECK(rc == VIRTQ_OK, "virtq_get = %d (%s)", rc, virtq_strerror(rc));
        verify((struct ctx *)cookie, len);
        freectx[nfree++] = (struct ctx *)cookie;
        (*done)++;
        got++;
    }
}

/* The driver slept STALL_US without a wake-up: tell the two lost
   wake-ups apart by whether the device used anything meanwhile. */
static void stalled(const char *what, int rc)
{
    uint16_t used;
    if (R.cfg->packed) {
        /* Packed: is the descriptor at our used position used for its lap? */
        uint16_t f = LDA(&PD[vq.last_used & 0x7fffu].flags);
        uint16_t want = (vq.last_used & 0x8000u) ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u;
        if ((f & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == want)
            FAIL("%s = %d: lost interrupt: a used descriptor waits at %#x, no interrupt came",
                 what, rc, vq.last_used);
        FAIL("%s = %d: no progress in %u s at %#x (lost kick? the device sleeps waiting for "
             "a notification)", what, rc, STALL_US / 1000000u, vq.last_used);
    }
    used = LDA(&vq.used->idx);
    if (used != vq.last_used)
        FAIL("%s = %d: lost interrupt: %u buffers used since used %u, no interrupt came", what,
             rc, (uint16_t)(used - vq.last_used), vq.last_used);
    FAIL("%s = %d: no progress in %u s at used %u with %u published (lost kick? the device "
         "sleeps waiting for a notification)",
         what, rc, STALL_US / 1000000u, vq.last_used, (uint16_t)(vq.published_idx - vq.last_used));
}

static void sleep_for_interrupt(uint64_t *rng)
{
    if (R.cfg->mode == MODE_DEV) {
        int rc = virtq_wait(&dev, &vq, STALL_US);
        if (rc != VIRTQ_OK)
            stalled("virtq_wait", rc);
        R.drv_sleeps++;
    } else {
        uint32_t seen = LDA(&R.irq.seq);
        int delayed = R.evidx && (rnd(rng) & 1u);
        bool r = delayed ? virtq_enable_intr_delayed(&vq) : virtq_enable_intr(&vq);
        R.delayed_arms += (uint64_t)delayed;
        CHECK(!virtq_is_broken(&vq), "queue broken while re-arming");
        if (r) {
            R.drv_wakes_busy++; /* buffers arrived while re-arming */
        } else {
            R.drv_sleeps++;
            if (virtq_posix_wait(&R.irq.pc, &R.irq.seq, seen, STALL_US) != 0)
                stalled("interrupt wait", VIRTQ_ETIMEDOUT);
        }
    }
    /* Half the time keep interrupts on, half the time suppress them. */
    if (rnd(rng) & 1u)
        virtq_disable_intr(&vq);
}

static void run_config(const struct config *cfg, uint64_t total, uint64_t seed)
{
    static struct virtq_slot slots[MAXN];
    size_t bytes = VIRTQ_RING_BYTES(cfg->num, VIRTQ_ALIGN_MODERN);
    uint8_t *mem = NULL;
    uint64_t rng = seed, submitted = 0, done = 0;
    pthread_t th;
    unsigned i;
    int rc;

    memset(&R, 0, sizeof(R));
    R.cfg = cfg;
    R.seed = seed;
    R.total = total;
    R.evidx = (cfg->features & F(EVENT_IDX)) != 0u;
    chan_init(&R.kick);
    chan_init(&R.irq);
    chan_init(&R.os);
    if (posix_memalign((void **)&mem, 4096, bytes) != 0)
        FAIL("out of memory");
    for (i = 0; i < cfg->num; i++) {
        struct ctx *c = &ctxs[i];
        unsigned s;
        for (s = 0; s < MAXSEG; s++)
            c->buf[s] = (uint8_t *)malloc(SEGBYTES);
        if (posix_memalign((void **)&c->table, 16, 16u * MAXSEG) != 0)
            FAIL("out of memory");
        freectx[i] = c;
    }
    nfree = cfg->num;

    if (cfg->mode == MODE_DEV) {
        uint64_t d, a, u;
        CHECK(virtq_mmio_probe(&dev, MMIO_BASE) == VIRTQ_OK, "probe");
        CHECK(virtq_dev_begin(&dev) == VIRTQ_OK, "begin");
        CHECK(virtq_dev_negotiate(&dev, cfg->features, 0) == VIRTQ_OK, "negotiate");
        CHECK(dev.features == (cfg->features | F(VERSION_1)), "features %#llx",
              (unsigned long long)dev.features);
        rc = virtq_dev_queue_setup(&dev, &vq, 0, cfg->num, mem, slots);
        CHECK(rc == VIRTQ_OK && vq.num == cfg->num, "queue_setup = %d", rc);
        CHECK(virtq_dev_set_wait(&dev, VIRTQ_WAIT_OS, &R.os.pc) == VIRTQ_OK, "set_wait");
        CHECK(virtq_dev_driver_ok(&dev) == VIRTQ_OK, "driver_ok");
        /* The device finds its rings where the registers say. */
        d = R.qdesc[0] | (uint64_t)R.qdesc[1] << 32;
        a = R.qdriver[0] | (uint64_t)R.qdriver[1] << 32;
        u = R.qdevice[0] | (uint64_t)R.qdevice[1] << 32;
        CHECK(R.qnum == cfg->num && R.qready == 1u, "queue registers");
        R.desc = (struct virtq_desc *)host(d);
        R.avail = (struct virtq_avail *)host(a);
        R.used = (struct virtq_used *)host(u);
        if (cfg->packed) {
            PD = (struct pvirtq_desc *)host(d);
            PDRV = (struct pvirtq_event_suppress *)host(a);
            PDEV = (struct pvirtq_event_suppress *)host(u);
        }
    } else if (cfg->packed) {
        rc = virtq_init(&vq, cfg->num, VIRTQ_ALIGN_MODERN, mem, slots, cfg->features);
        CHECK(rc == VIRTQ_OK, "virtq_init = %d", rc);
        /* "Structure Size and Alignment": ring, driver area, device area. */
        PD = (struct pvirtq_desc *)(void *)mem;
        PDRV = (struct pvirtq_event_suppress *)(void *)(mem + 16u * cfg->num);
        PDEV = (struct pvirtq_event_suppress *)(void *)(mem + 16u * cfg->num + 4u);
    } else {
        rc = virtq_init(&vq, cfg->num, VIRTQ_ALIGN_MODERN, mem, slots, cfg->features);
        CHECK(rc == VIRTQ_OK, "virtq_init = %d", rc);
        /* The device lays the rings out itself, from "Split Virtqueues". */
        R.desc = (struct virtq_desc *)(void *)mem;
        R.avail = (struct virtq_avail *)(void *)(mem + 16u * cfg->num);
        R.used = (struct virtq_used *)(void *)(mem + ((16u * cfg->num + 6u + 2u * cfg->num + 3u) & ~3u));
    }
    R.num = cfg->num;
    if (!cfg->packed) {
        R.used_event = &R.avail->ring[R.num];
        R.avail_event = (uint16_t *)(void *)&R.used->ring[R.num];
        CHECK((uint8_t *)R.avail_event + 2 <= mem + bytes, "ring layout exceeds the memory");
    }

    if (pthread_create(&th, NULL, cfg->packed ? pdevice_thread : device_thread, NULL) != 0)
        FAIL("pthread_create");

    int owed = 0; /* a deferred kick decision not yet made, maybe from an earlier round */
    unsigned long long stacked = 0, refused = 0; /* defers onto an owed one; EBUSY */
    while (done < total) {
        unsigned nadd = (unsigned)(rnd(&rng) % (cfg->num + 1u)), added = 0, got;
        int sleep_now;
        /* Submit: random chain shapes. */
        while (added < nadd && submitted < total && nfree > 0u) {
            struct ctx *c = freectx[nfree - 1u];
            uint64_t r = rnd(&rng);
            unsigned s;
            c->id = submitted;
            c->nseg = 1u + (unsigned)(r & 3u);
            if (c->nseg > cfg->num)
                c->nseg = cfg->num;
            c->out = (unsigned)((r >> 2) % (c->nseg + 1u));
            c->indirect = (cfg->features & F(INDIRECT_DESC)) && (r >> 8) % 100u < cfg->indirect_pct;
            for (s = 0; s < c->nseg; s++) {
                uint64_t l = rnd(&rng);
                c->len[s] = 1u + (uint32_t)((l & 7u) == 0u ? (l >> 3) % SEGBYTES : (l >> 3) % 64u);
                if (s < c->out)
                    fill_readable(c->buf[s], c->len[s], c->id, s);
                else
                    memset(c->buf[s], POISON, c->len[s]);
            }
            {
                struct virtq_buf b[MAXSEG];
                for (s = 0; s < c->nseg; s++) {
                    b[s].addr = c->buf[s];
                    b[s].len = c->len[s];
                }
                rc = c->indirect ? virtq_add_indirect(&vq, b, c->out, c->nseg - c->out, c->table, c)
                                 : virtq_add(&vq, b, c->out, c->nseg - c->out, c);
            }
            if (rc == VIRTQ_ENOSPC)
                break;
            CHECK(rc == VIRTQ_OK, "add = %d (%s)", rc, virtq_strerror(rc));
            nfree--;
            submitted++;
            added++;
        }
        if (added) {
            if (cfg->mode == MODE_DEV) {
                rc = virtq_dev_kick(&dev, &vq);
                CHECK(rc == VIRTQ_OK, "kick = %d", rc);
            } else if (rnd(&rng) & 1u) {
                /* Half the time the decision comes later: after the drain
                   below, or rounds later, this defer stacked on the owed one
                   (more than a ring owed is refused: decide, then defer). */
                rc = virtq_publish_defer(&vq);
                if (rc == VIRTQ_EBUSY) {
                    CHECK(owed, "publish_defer EBUSY with nothing owed");
                    refused++;
                    decide_owed();
                    rc = virtq_publish_defer(&vq);
                } else {
                    stacked += owed != 0;
                }
                CHECK(rc == VIRTQ_OK, "publish_defer = %d", rc);
                owed = 1;
            } else {
                bool notify;
                rc = virtq_publish(&vq, &notify); /* decides what is owed too */
                CHECK(rc == VIRTQ_OK, "publish = %d", rc);
                if (notify)
                    driver_notify();
                owed = 0;
            }
        }
        /* Complete: drain, decide an owed kick (always before a sleep,
           otherwise half the time), and sleep when nothing came back. */
        got = drain(&done);
        sleep_now = got == 0u && done < submitted &&
                    (nfree == 0u || submitted == total || (rnd(&rng) & 3u) == 0u);
        if (owed && (sleep_now || (rnd(&rng) & 1u))) {
            decide_owed();
            owed = 0;
        }
        if (sleep_now)
            sleep_for_interrupt(&rng);
    }

    __atomic_store_n(&R.stop, 1u, __ATOMIC_RELEASE);
    virtq_posix_signal(&R.kick.pc, &R.kick.seq);
    pthread_join(th, NULL);

    CHECK(virtq_num_free(&vq) == cfg->num, "%u descriptors free at the end", virtq_num_free(&vq));
    CHECK(!virtq_is_broken(&vq), "queue broken");
    CHECK(R.popped == total, "device took %llu requests, driver sent %llu",
          (unsigned long long)R.popped, (unsigned long long)total);
    /* The stacked-defer path ran (a quarter of the deferring rounds). */
    CHECK(cfg->mode == MODE_DEV || stacked > 0u, "no defer was ever stacked on an owed one");
    printf("stress: %-46s %8llu requests ok: kicks %llu, device sleeps %llu, interrupts %llu, "
           "driver sleeps %llu (re-arm found work %llu, delayed %llu), out-of-order %llu, "
           "indirect %llu, stacked defers %llu (refused %llu)\n",
           cfg->name, (unsigned long long)total, (unsigned long long)R.kicks,
           (unsigned long long)R.dev_sleeps, (unsigned long long)R.irqs_sent,
           (unsigned long long)R.drv_sleeps, (unsigned long long)R.drv_wakes_busy,
           (unsigned long long)R.delayed_arms, (unsigned long long)R.ooo,
           (unsigned long long)R.indirect_seen, stacked, refused);
    if (cfg->mode == MODE_DEV)
        CHECK(virtq_dev_reset(&dev) == VIRTQ_OK, "reset");
    {
        void *c;
        CHECK(virtq_detach(&vq, &c) == VIRTQ_EAGAIN, "a cookie was left after the run");
    }
    for (i = 0; i < cfg->num; i++) {
        unsigned s;
        for (s = 0; s < MAXSEG; s++)
            free(ctxs[i].buf[s]);
        free(ctxs[i].table);
    }
    free(mem);
    virtq_posix_chan_destroy(&R.kick.pc);
    virtq_posix_chan_destroy(&R.irq.pc);
    virtq_posix_chan_destroy(&R.os.pc);
}

int main(int argc, char **argv)
{
    uint64_t n = 200000, seed = 1;
    int only = -1, i;
    unsigned c;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            only = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [-n requests per config] [-s seed] [-c config]\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (c = 0; c < NCONFIGS; c++)
        if (only < 0 || (unsigned)only == c)
            run_config(&configs[c], n, seed * 1000003u + c);
    printf("stress: all configurations passed (%llu requests each, seed %llu)\n",
           (unsigned long long)n, (unsigned long long)seed);
    return 0;
}
