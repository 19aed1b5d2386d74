/* SPDX-License-Identifier: MIT */
/* bench/ringbench.c — split-ring throughput between two threads.

   The driver thread uses virtq.h exactly as a user does (virtq_add,
   virtq_publish, virtq_get, virtq_enable_intr/disable_intr, through the
   extern API of virtq_impl.c).  A minimal device runs on a second thread:
   it consumes the available ring straight from shared memory (its own view
   of the spec's layout) and returns each chain on the used ring.  The two
   threads are pinned to different CPUs when there are two; each side's
   private state sits on its own cache lines, so the only shared lines are
   the ring's.

   Notifications: "poll" keeps both sides spinning with notifications
   suppressed; "sleep" blocks a side that has nothing to do (driver: no
   free descriptor or nothing left to add, and nothing used; device: no
   available chain), re-arming the other side's notification first, and
   wakes it through an eventfd or a futex.  A kick is a driver-to-device
   notification that virtq_publish() asked for; an interrupt is a
   device-to-driver one the device decided to send (EVENT_IDX rule or
   NO_INTERRUPT flag).

   The run lasts a fixed time; figures are taken over the measured window
   after a warm-up, then the driver stops adding, drains, and checks that
   every cookie came back exactly once.

   Built with -DRINGBENCH_PACKED (and virtq_impl.c with VIRTQ_RINGS =
   VIRTQ_RING_PACKED, so no ring dispatch is measured) it runs the packed
   ring ("Packed Virtqueues"): the device polls the next descriptor's
   flags, uses each buffer in place (its used descriptor over its first
   descriptor, flags last with a release) and follows both event
   suppression structures.

   usage: ringbench [options]   (see usage() below)
   Prints one human-readable line, or a CSV row with --csv. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "virtq.h"

#define CACHELINE 64
#define MAX_RING 1024u
#define MAX_CHAIN 3u

enum { MODE_POLL, MODE_SLEEP };
enum { WAKE_EVENTFD, WAKE_FUTEX };

/* ---- configuration (read-only once the threads run) -------------------- */
static struct {
    unsigned ring, chain, batch, inflight;
    int event_idx, mode, wake, delayed, pin, csv;
    unsigned warmup_ms, run_ms;
    int late;             /* kick decision after the reap (virtq_publish_defer) */
    int cpu_drv, cpu_dev; /* chosen once, before any thread is pinned */
} cfg = {256, 1, 32, 0, 1, MODE_POLL, WAKE_EVENTFD, 1, 1, 0, 50, 300, VIRTQ_PUBLISH_DEFER, -1, -1};

/* ---- one notification channel: eventfd or futex word --------------------- */
struct chan {
    int fd;        /* eventfd */
    uint32_t seq;  /* futex word, bumped on each signal */
} __attribute__((aligned(CACHELINE)));

static uint32_t chan_seen(struct chan *c)
{
    return __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
}

static void chan_signal(struct chan *c)
{
    if (cfg.wake == WAKE_EVENTFD) {
        uint64_t one = 1;
        if (write(c->fd, &one, sizeof one) != (ssize_t)sizeof one) {
            perror("ringbench: eventfd write");
            exit(1);
        }
    } else {
        __atomic_fetch_add(&c->seq, 1u, __ATOMIC_RELEASE);
        syscall(SYS_futex, &c->seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

/* Block until signalled.  seen was taken before the caller re-armed and
   re-checked (futex order); an eventfd keeps its count, so a signal sent
   between the re-check and the read is not lost either. */
static void chan_wait(struct chan *c, uint32_t seen)
{
    if (cfg.wake == WAKE_EVENTFD) {
        uint64_t v;
        if (read(c->fd, &v, sizeof v) != (ssize_t)sizeof v && errno != EINTR) {
            perror("ringbench: eventfd read");
            exit(1);
        }
    } else {
        syscall(SYS_futex, &c->seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    }
}

/* ---- shared between the threads -------------------------------------------- */
static unsigned char *ring_mem;                          /* device-visible ring */
static struct chan kick_chan, call_chan; /* a line each */
static struct {
    volatile int go, stop;
} __attribute__((aligned(CACHELINE))) ctl;

/* ---- driver-private state ------------------------------------------------- */
struct req {
    unsigned char out_hdr[16];
    unsigned char data[512];
    unsigned char status;
    int busy;                      /* added and not yet returned */
};

static struct {
    struct virtq vq;
    uint64_t started, completed, kicks;
    uint64_t sleeps;
    unsigned inflight;
    unsigned free_top;
    struct req **free_req;        /* stack of idle request structs */
} __attribute__((aligned(CACHELINE))) drv; /* whole lines: size rounded up */
static struct virtq_slot *slots;
static struct req *reqs;

/* ---- device-private state -------------------------------------------------- */
static struct {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t *used_event;  /* &avail->ring[num]: driver's interrupt threshold */
    uint16_t *avail_event; /* &used->ring[num]: our kick threshold */
    uint16_t num, last_avail, used_idx;
    struct pvirtq_desc *pdesc;              /* packed: descriptor ring */
    struct pvirtq_event_suppress *pdrv, *pdev; /* packed: driver / device areas */
    uint16_t pavail, pused;                 /* packed: next positions */
    int pavail_wrap, pused_wrap;
    uint64_t interrupts;   /* read by the driver thread: atomic */
    uint64_t sleeps;
    uint64_t consumed;
} __attribute__((aligned(CACHELINE))) dev; /* whole lines: size rounded up */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what)
{
    fprintf(stderr, "ringbench: %s\n", what);
    exit(1);
}

static void pin_to(int cpu)
{
    cpu_set_t set;
    if (!cfg.pin || cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    /* Best effort: a restricted cpuset just leaves the thread floating. */
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* The which-th CPU this process may run on, or -1.  Called before any
   pinning: a pinned thread's own mask holds one CPU only. */
static int cpu_for(int which)
{
    cpu_set_t set;
    int i, seen = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2)
        return -1; /* one CPU: pinning both threads to it would only hurt */
    for (i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set) && seen++ == which)
            return i;
    return -1;
}

/* ---- the device ------------------------------------------------------------- */

/* Consume one available chain; return it with its writable byte count. */
static void dev_consume_one(void)
{
    uint16_t mask = (uint16_t)(dev.num - 1u);
    uint16_t head = __atomic_load_n(&dev.avail->ring[dev.last_avail & mask], __ATOMIC_RELAXED);
    uint16_t id = head;
    uint32_t wlen = 0, n = 0;
    struct virtq_used_elem *e;
    if (head >= dev.num)
        fail("device: avail entry out of range");
    for (;;) {
        const struct virtq_desc *d = &dev.desc[id];
        uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
        if (++n > MAX_CHAIN)
            fail("device: chain longer than posted");
        if (flags & VIRTQ_DESC_F_WRITE)
            wlen += __atomic_load_n(&d->len, __ATOMIC_RELAXED);
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        id = __atomic_load_n(&d->next, __ATOMIC_RELAXED);
        if (id >= dev.num)
            fail("device: next out of range");
    }
    e = &dev.used->ring[dev.used_idx & mask];
    __atomic_store_n(&e->id, (uint32_t)head, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, wlen, __ATOMIC_RELAXED);
    dev.used_idx++;
    dev.last_avail++;
}

/* Kick suppression ("Available Buffer Notification Suppression"): while
   awake the device does not want kicks; before sleeping it asks for one. */
static void dev_kicks(int want)
{
    if (cfg.event_idx) {
        /* Asleep: kick when avail.idx passes last_avail.  Awake: leave the
           threshold behind us; it is crossed only once per 2^16 chains. */
        if (want)
            __atomic_store_n(dev.avail_event, dev.last_avail, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&dev.used->flags, (uint16_t)(want ? 0u : VIRTQ_USED_F_NO_NOTIFY),
                         __ATOMIC_RELAXED);
    }
}

static void *device_thread(void *arg)
{
    (void)arg;
    pin_to(cfg.cpu_dev);
    dev_kicks(0);
    while (!__atomic_load_n(&ctl.go, __ATOMIC_ACQUIRE))
        ;
    for (;;) {
        uint16_t avail = __atomic_load_n(&dev.avail->idx, __ATOMIC_ACQUIRE);
        uint16_t old_used = dev.used_idx;
        unsigned n = 0;
        if (avail == dev.last_avail) {
            uint32_t seen;
            if (cfg.mode == MODE_POLL) {
                if (__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE))
                    break;
                cpu_relax();
                continue;
            }
            /* Sleep: take the sequence, re-arm kicks, full barrier, re-check
               (the store-load pair that otherwise loses a kick). */
            seen = chan_seen(&kick_chan);
            if (__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE))
                break;
            dev_kicks(1);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (__atomic_load_n(&dev.avail->idx, __ATOMIC_ACQUIRE) == dev.last_avail) {
                dev.sleeps++;
                chan_wait(&kick_chan, seen);
            }
            dev_kicks(0);
            continue;
        }
        /* Up to a batch of chains, then one used.idx update. */
        while (dev.last_avail != avail && n < cfg.batch) {
            dev_consume_one();
            n++;
        }
        __atomic_store_n(&dev.used->idx, dev.used_idx, __ATOMIC_RELEASE);
        dev.consumed += n;
        if (cfg.mode == MODE_SLEEP) {
            /* Used Buffer Notification Suppression: the used.idx store must
               be visible before we read the driver's threshold. */
            int need;
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (cfg.event_idx)
                need = virtq_need_event(__atomic_load_n(dev.used_event, __ATOMIC_RELAXED),
                                        dev.used_idx, old_used);
            else
                need = !(__atomic_load_n(&dev.avail->flags, __ATOMIC_RELAXED) &
                         VIRTQ_AVAIL_F_NO_INTERRUPT);
            if (need) {
                __atomic_store_n(&dev.interrupts, dev.interrupts + 1u, __ATOMIC_RELAXED);
                chan_signal(&call_chan);
            }
        }
    }
    return NULL;
}

#if defined(RINGBENCH_PACKED)
/* ---- the packed device -------------------------------------------------------- */

static int p_is_avail(uint16_t pos, int wrap)
{
    uint16_t f = __atomic_load_n(&dev.pdesc[pos].flags, __ATOMIC_ACQUIRE);
    return ((f & VIRTQ_DESC_F_AVAIL) != 0) == wrap && ((f & VIRTQ_DESC_F_USED) != 0) != wrap;
}

static void p_step(uint16_t *pos, int *wrap)
{
    if (++*pos == dev.num) {
        *pos = 0;
        *wrap = !*wrap;
    }
}

/* Use the next available buffer in place (in order, so its used
   descriptor goes over its first one). */
static void pdev_consume_one(void)
{
    uint32_t wlen = 0, n = 0;
    uint16_t id = 0, f;
    struct pvirtq_desc *u = &dev.pdesc[dev.pused];
    do {
        const struct pvirtq_desc *d = &dev.pdesc[dev.pavail];
        f = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
        if (++n > MAX_CHAIN)
            fail("device: list longer than posted");
        if (f & VIRTQ_DESC_F_WRITE)
            wlen += __atomic_load_n(&d->len, __ATOMIC_RELAXED);
        id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
        p_step(&dev.pavail, &dev.pavail_wrap);
    } while (f & VIRTQ_DESC_F_NEXT);
    __atomic_store_n(&u->id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&u->len, wlen, __ATOMIC_RELAXED);
    __atomic_store_n(&u->flags,
                     (uint16_t)(dev.pused_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u),
                     __ATOMIC_RELEASE);
    while (n--)
        p_step(&dev.pused, &dev.pused_wrap);
}

/* Device event suppression: no kicks while awake; before sleeping one at
   the next descriptor (EVENT_IDX) or any. */
static void pdev_kicks(int want)
{
    if (!want) {
        __atomic_store_n(&dev.pdev->flags, (uint16_t)RING_EVENT_FLAGS_DISABLE, __ATOMIC_RELAXED);
    } else if (cfg.event_idx) {
        __atomic_store_n(&dev.pdev->desc,
                         (uint16_t)(dev.pavail | (dev.pavail_wrap ? 0x8000u : 0u)),
                         __ATOMIC_RELAXED);
        __atomic_store_n(&dev.pdev->flags, (uint16_t)RING_EVENT_FLAGS_DESC, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&dev.pdev->flags, (uint16_t)RING_EVENT_FLAGS_ENABLE, __ATOMIC_RELAXED);
    }
}

static void *pdevice_thread(void *arg)
{
    (void)arg;
    pin_to(cfg.cpu_dev);
    pdev_kicks(0);
    while (!__atomic_load_n(&ctl.go, __ATOMIC_ACQUIRE))
        ;
    for (;;) {
        uint16_t old = dev.pused;
        int oldw = dev.pused_wrap;
        unsigned n = 0;
        if (!p_is_avail(dev.pavail, dev.pavail_wrap)) {
            uint32_t seen;
            if (cfg.mode == MODE_POLL) {
                if (__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE))
                    break;
                cpu_relax();
                continue;
            }
            seen = chan_seen(&kick_chan);
            if (__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE))
                break;
            pdev_kicks(1);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (!p_is_avail(dev.pavail, dev.pavail_wrap)) {
                dev.sleeps++;
                chan_wait(&kick_chan, seen);
            }
            pdev_kicks(0);
            continue;
        }
        while (n < cfg.batch && p_is_avail(dev.pavail, dev.pavail_wrap)) {
            pdev_consume_one();
            n++;
        }
        dev.consumed += n;
        if (cfg.mode == MODE_SLEEP) {
            /* Driver event suppression: the used flags must be visible
               before we read the driver's structure. */
            uint16_t f;
            int need = 0;
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            f = __atomic_load_n(&dev.pdrv->flags, __ATOMIC_RELAXED) & 3u;
            if (f == RING_EVENT_FLAGS_ENABLE) {
                need = 1;
            } else if (f == RING_EVENT_FLAGS_DESC) {
                uint16_t ev = __atomic_load_n(&dev.pdrv->desc, __ATOMIC_RELAXED);
                while (old != dev.pused || oldw != dev.pused_wrap) {
                    if (old == (ev & 0x7fffu) && oldw == (ev >> 15))
                        need = 1;
                    p_step(&old, &oldw);
                }
            }
            if (need) {
                __atomic_store_n(&dev.interrupts, dev.interrupts + 1u, __ATOMIC_RELAXED);
                chan_signal(&call_chan);
            }
        }
    }
    return NULL;
}
#endif

/* ---- the driver -------------------------------------------------------------- */

static int drv_add_one(void)
{
    struct req *r;
    struct virtq_buf b[MAX_CHAIN];
    unsigned out, in;
    int rc;
    if (drv.free_top == 0)
        return VIRTQ_ENOSPC;
    r = drv.free_req[drv.free_top - 1];
    if (cfg.chain == 1) { /* one device-writable buffer */
        b[0].addr = r->data; b[0].len = sizeof r->data;
        out = 0; in = 1;
    } else { /* blk-like: header out, data and status in */
        b[0].addr = r->out_hdr; b[0].len = sizeof r->out_hdr;
        b[1].addr = r->data; b[1].len = sizeof r->data;
        b[2].addr = &r->status; b[2].len = 1;
        out = 1; in = 2;
    }
    rc = virtq_add(&drv.vq, b, out, in, r);
    if (rc == VIRTQ_OK) {
        r->busy = 1;
        drv.free_top--;
        drv.inflight++;
        drv.started++;
    } else if (rc != VIRTQ_ENOSPC) {
        fprintf(stderr, "ringbench: virtq_add: %s\n", virtq_strerror(rc));
        exit(1);
    }
    return rc;
}

static unsigned drv_reap(void)
{
    unsigned got = 0;
    for (;;) {
        void *cookie;
        uint32_t len;
        struct req *r;
        int rc = virtq_get(&drv.vq, &cookie, &len);
        if (rc == VIRTQ_EAGAIN)
            return got;
        if (rc != VIRTQ_OK) {
            fprintf(stderr, "ringbench: virtq_get: %s\n", virtq_strerror(rc));
            exit(1);
        }
        r = cookie;
        if (len != (cfg.chain == 1 ? sizeof r->data : sizeof r->data + 1u))
            fail("driver: wrong used length");
        if (!r->busy)
            fail("driver: a cookie came back twice");
        r->busy = 0;
        drv.free_req[drv.free_top++] = r;
        drv.inflight--;
        drv.completed++;
        got++;
    }
}

struct snap {
    uint64_t t, completed, kicks, interrupts;
};

static void take(struct snap *s)
{
    s->t = now_ns();
    s->completed = drv.completed;
    s->kicks = drv.kicks;
    s->interrupts = __atomic_load_n(&dev.interrupts, __ATOMIC_RELAXED);
}

/* The publish, or its two halves: rc of virtq_publish_defer(), then the
   decision (virtq_publish or virtq_kick_prepare) and the kick it asks for. */
static void drv_publish(int rc, int (*decide)(struct virtq *, bool *))
{
    bool notify = false;
    if (rc == VIRTQ_OK && decide)
        rc = decide(&drv.vq, &notify);
    if (rc != VIRTQ_OK) {
        fprintf(stderr, "ringbench: publish: %s\n", virtq_strerror(rc));
        exit(1);
    }
    if (notify) {
        drv.kicks++;
        chan_signal(&kick_chan);
    }
}

static void drv_run(struct snap *a, struct snap *b)
{
    uint64_t t0 = now_ns();
    uint64_t t_measure = t0 + (uint64_t)cfg.warmup_ms * 1000000u;
    uint64_t t_end = t_measure + (uint64_t)cfg.run_ms * 1000000u;
    int phase = 0; /* 0 warm-up, 1 measuring, 2 draining */
    unsigned iter = 0;
    virtq_disable_intr(&drv.vq); /* awake: no interrupts wanted */
    for (;;) {
        unsigned added = 0, got;
        if ((++iter & 15u) == 0u && phase < 2) {
            uint64_t t = now_ns();
            if (phase == 0 && t >= t_measure) {
                take(a);
                phase = 1;
            } else if (phase == 1 && t >= t_end) {
                take(b);
                phase = 2;
            }
        }
        /* Submit up to a batch, then publish once. */
        while (phase < 2 && added < cfg.batch && drv.inflight < cfg.inflight &&
               drv_add_one() == VIRTQ_OK)
            added++;
#if VIRTQ_PUBLISH_DEFER
        if (added && cfg.late)
            drv_publish(virtq_publish_defer(&drv.vq), NULL); /* decided after the reap */
        else
#endif
        if (added)
            drv_publish(VIRTQ_OK, virtq_publish);
        got = drv_reap();
#if VIRTQ_PUBLISH_DEFER
        if (added && cfg.late)
            drv_publish(VIRTQ_OK, virtq_kick_prepare);
#endif
        if (phase == 2 && drv.inflight == 0)
            break;
        if (added || got)
            continue;
        /* Nothing added (ring full, cap reached or draining), nothing used. */
        if (cfg.mode == MODE_POLL) {
            cpu_relax();
        } else {
            uint32_t seen = chan_seen(&call_chan);
            bool pending = (cfg.event_idx && cfg.delayed) ? virtq_enable_intr_delayed(&drv.vq)
                                                           : virtq_enable_intr(&drv.vq);
            if (virtq_is_broken(&drv.vq))
                fail("driver: queue broken");
            if (!pending) {
                drv.sleeps++;
                chan_wait(&call_chan, seen);
            }
            virtq_disable_intr(&drv.vq);
        }
    }
}

/* ---- calibration: one cache line bounced between the two CPUs ------------ */
static struct {
    volatile uint64_t v;
} __attribute__((aligned(CACHELINE))) ping, pong;
#define C2C_STOP UINT64_MAX

static void *c2c_thread(void *arg)
{
    uint64_t i, v;
    (void)arg;
    pin_to(cfg.cpu_dev);
    for (i = 1;; i++) {
        while ((v = ping.v) != i && v != C2C_STOP)
            ;
        if (v == C2C_STOP)
            return NULL;
        pong.v = i;
    }
}

/* Round-trip time of a cache line between the driver's and the device's
   CPU: the floor under any request that needs the other side to answer.
   Time-bounded like the ring runs. */
static int c2c(void)
{
    pthread_t t;
    uint64_t i, t0, t1, end;
    pin_to(cfg.cpu_drv);
    if (pthread_create(&t, NULL, c2c_thread, NULL) != 0)
        fail("pthread_create failed");
    t0 = now_ns();
    end = t0 + (uint64_t)cfg.run_ms * 1000000u;
    for (i = 1;; i++) {
        ping.v = i;
        while (pong.v != i)
            ;
        if ((i & 15u) == 0u && (t1 = now_ns()) >= end)
            break;
    }
    ping.v = C2C_STOP;
    pthread_join(t, NULL);
    if (cfg.csv)
        printf("c2c,-,0,0,0,0,0,0,%.1f,%.0f,0,0,%llu,%llu,0,0\n", (double)(t1 - t0) / (double)i,
               (double)i * 1e9 / (double)(t1 - t0), (unsigned long long)i,
               (unsigned long long)(t1 - t0));
    else
        printf("ringbench: cache-line round trip between the two CPUs: %.1f ns\n",
               (double)(t1 - t0) / (double)i);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
        "usage: ringbench [options]\n"
        "  -r N     ring size, power of two 16..1024 (256)\n"
        "  -c N     segments per request: 1 (one writable) or 3 (1 out, 2 in) (1)\n"
        "  -b N     batch: requests added per publish, chains consumed per\n"
        "           used.idx update on the device (32)\n"
        "  -i N     in-flight cap (0: as many as the ring holds)\n"
        "  -e 0|1   VIRTIO_F_EVENT_IDX off/on (1)\n"
        "  -m poll|sleep         notifications suppressed and both sides spin,\n"
        "                        or a side blocks when idle (poll)\n"
        "  -w eventfd|futex      how a sleeping side is woken (eventfd)\n"
        "  -d 0|1   with EVENT_IDX, re-arm with virtq_enable_intr_delayed (1)\n"
        "  -k 0|1   1: publish with virtq_publish_defer, take used buffers, then\n"
        "           decide the kick (virtq_kick_prepare); 0: virtq_publish (1 when\n"
        "           built with VIRTQ_PUBLISH_DEFER)\n"
        "  -p 0|1   pin the two threads to different CPUs (1)\n"
        "  -W MS    warm-up (50)   -T MS  measured time (300)\n"
        "  --csv    print a CSV row (header with --csv-header)\n"
        "  --c2c    only measure a cache-line round trip between the two CPUs\n");
    exit(2);
}

static void print_header(void)
{
    printf("mode,wake,ring,chain,batch,inflight,event_idx,delayed,ns_per_req,req_per_s,"
           "kicks_per_req,intr_per_req,requests,elapsed_ns,drv_sleeps,dev_sleeps\n");
}

int main(int argc, char **argv)
{
    pthread_t dev_thread;
    struct snap a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    size_t bytes;
    uint64_t features = VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    unsigned i, avail_off, used_off;
    int rc, argi;
    double ns;
    int do_c2c = 0;

    for (argi = 1; argi < argc; argi++) {
        const char *o = argv[argi], *v = argi + 1 < argc ? argv[argi + 1] : NULL;
        if (!strcmp(o, "--csv")) { cfg.csv = 1; continue; }
        if (!strcmp(o, "--c2c")) { do_c2c = 1; continue; }
        if (!strcmp(o, "--csv-header")) { print_header(); return 0; }
        if (v == NULL || o[0] != '-' || o[1] == '\0' || o[2] != '\0')
            usage();
        argi++;
        switch (o[1]) {
        case 'r': cfg.ring = (unsigned)atoi(v); break;
        case 'c': cfg.chain = (unsigned)atoi(v); break;
        case 'b': cfg.batch = (unsigned)atoi(v); break;
        case 'i': cfg.inflight = (unsigned)atoi(v); break;
        case 'e': cfg.event_idx = atoi(v); break;
        case 'd': cfg.delayed = atoi(v); break;
        case 'k': cfg.late = atoi(v); break;
        case 'p': cfg.pin = atoi(v); break;
        case 'W': cfg.warmup_ms = (unsigned)atoi(v); break;
        case 'T': cfg.run_ms = (unsigned)atoi(v); break;
        case 'm':
            if (!strcmp(v, "poll")) cfg.mode = MODE_POLL;
            else if (!strcmp(v, "sleep")) cfg.mode = MODE_SLEEP;
            else usage();
            break;
        case 'w':
            if (!strcmp(v, "eventfd")) cfg.wake = WAKE_EVENTFD;
            else if (!strcmp(v, "futex")) cfg.wake = WAKE_FUTEX;
            else usage();
            break;
        default: usage();
        }
    }
    if (cfg.ring < 16 || cfg.ring > MAX_RING || (cfg.ring & (cfg.ring - 1u)) ||
        (cfg.chain != 1 && cfg.chain != 3) || cfg.batch == 0 || cfg.run_ms == 0 ||
        (cfg.late && !VIRTQ_PUBLISH_DEFER))
        usage();
    cfg.cpu_drv = cpu_for(0);
    cfg.cpu_dev = cpu_for(1);
    if (do_c2c)
        return c2c();
    if (cfg.inflight == 0 || cfg.inflight > cfg.ring / cfg.chain)
        cfg.inflight = cfg.ring / cfg.chain;
    if (cfg.event_idx)
        features |= VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
#if defined(RINGBENCH_PACKED)
    features |= VIRTQ_FEATURE(VIRTIO_F_RING_PACKED);
#endif

    /* A watchdog: a lost notification must fail the run, not hang it. */
    alarm(cfg.warmup_ms / 1000u + cfg.run_ms / 1000u + 30u);

    bytes = virtq_ring_bytes(cfg.ring, VIRTQ_ALIGN_MODERN);
    ring_mem = aligned_alloc(4096, (bytes + 4095u) & ~(size_t)4095u);
    slots = calloc(cfg.ring, sizeof *slots);
    reqs = aligned_alloc(CACHELINE, (cfg.inflight * sizeof *reqs + CACHELINE - 1) & ~(size_t)(CACHELINE - 1));
    drv.free_req = calloc(cfg.inflight, sizeof *drv.free_req);
    if (!ring_mem || !slots || !reqs || !drv.free_req)
        fail("out of memory");
    memset(reqs, 0, cfg.inflight * sizeof *reqs);
    for (i = 0; i < cfg.inflight; i++)
        drv.free_req[drv.free_top++] = &reqs[i];
    rc = virtq_init(&drv.vq, cfg.ring, VIRTQ_ALIGN_MODERN, ring_mem, slots, features);
    if (rc != VIRTQ_OK)
        fail("virtq_init failed");

    /* The device's view, from the spec's layout ("Split Virtqueues"). */
    avail_off = 16u * cfg.ring;
    used_off = (unsigned)VIRTQ__ALIGN_UP(16u * cfg.ring + 6u + 2u * cfg.ring, VIRTQ_ALIGN_MODERN);
    dev.desc = (struct virtq_desc *)(void *)ring_mem;
    dev.avail = (struct virtq_avail *)(void *)(ring_mem + avail_off);
    dev.used = (struct virtq_used *)(void *)(ring_mem + used_off);
    dev.used_event = (uint16_t *)(void *)(ring_mem + avail_off + 4u + 2u * cfg.ring);
    dev.avail_event = (uint16_t *)(void *)(ring_mem + used_off + 4u + 8u * cfg.ring);
    dev.num = (uint16_t)cfg.ring;
#if defined(RINGBENCH_PACKED)
    /* Packed: "Structure Size and Alignment" (ring, driver, device area). */
    dev.pdesc = (struct pvirtq_desc *)(void *)ring_mem;
    dev.pdrv = (struct pvirtq_event_suppress *)(void *)(ring_mem + 16u * cfg.ring);
    dev.pdev = (struct pvirtq_event_suppress *)(void *)(ring_mem + 16u * cfg.ring + 4u);
    dev.pavail_wrap = dev.pused_wrap = 1;
#endif

    /* Poll mode still sends the rare kick the ring asks for (EVENT_IDX
       wraps past a stale avail_event once per 2^16 chains). */
    if (cfg.wake == WAKE_EVENTFD) {
        kick_chan.fd = eventfd(0, EFD_CLOEXEC);
        call_chan.fd = eventfd(0, EFD_CLOEXEC);
        if (kick_chan.fd < 0 || call_chan.fd < 0)
            fail("eventfd failed");
    }

#if defined(RINGBENCH_PACKED)
    (void)device_thread; /* the split device stays built, not run */
    if (pthread_create(&dev_thread, NULL, pdevice_thread, NULL) != 0)
#else
    if (pthread_create(&dev_thread, NULL, device_thread, NULL) != 0)
#endif
        fail("pthread_create failed");
    pin_to(cfg.cpu_drv);
    __atomic_store_n(&ctl.go, 1, __ATOMIC_RELEASE);
    drv_run(&a, &b);
    __atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
    if (cfg.mode == MODE_SLEEP)
        chan_signal(&kick_chan);
    pthread_join(dev_thread, NULL);

    /* Every cookie came back exactly once, every descriptor is free. */
    for (i = 0; i < cfg.inflight; i++)
        if (reqs[i].busy)
            fail("a cookie never came back");
    if (drv.completed != drv.started || drv.free_top != cfg.inflight ||
        virtq_num_free(&drv.vq) != cfg.ring || dev.consumed != drv.completed)
        fail("driver and device disagree on the requests done");

    ns = (double)(b.t - a.t);
    {
        double n = (double)(b.completed - a.completed);
        if (n <= 0)
            fail("no request completed in the measured window");
        if (cfg.csv) {
            printf("%s,%s,%u,%u,%u,%u,%d,%d,%.1f,%.0f,%.4f,%.4f,%.0f,%.0f,%llu,%llu\n",
                   cfg.mode == MODE_POLL ? "poll" : "sleep",
                   cfg.mode == MODE_POLL ? "-" : cfg.wake == WAKE_EVENTFD ? "eventfd" : "futex",
                   cfg.ring, cfg.chain, cfg.batch, cfg.inflight, cfg.event_idx,
                   cfg.event_idx && cfg.delayed, ns / n, n * 1e9 / ns,
                   (double)(b.kicks - a.kicks) / n, (double)(b.interrupts - a.interrupts) / n, n,
                   ns, (unsigned long long)drv.sleeps, (unsigned long long)dev.sleeps);
        } else {
            printf("ringbench: %s%s%s ring=%u chain=%u batch=%u inflight=%u event_idx=%d: "
                   "%.1f ns/req, %.0f req/s, %.4f kicks/req, %.4f interrupts/req\n",
                   cfg.mode == MODE_POLL ? "poll" : "sleep",
                   cfg.mode == MODE_POLL ? "" : "/",
                   cfg.mode == MODE_POLL ? "" : cfg.wake == WAKE_EVENTFD ? "eventfd" : "futex",
                   cfg.ring, cfg.chain, cfg.batch, cfg.inflight, cfg.event_idx, ns / n,
                   n * 1e9 / ns, (double)(b.kicks - a.kicks) / n,
                   (double)(b.interrupts - a.interrupts) / n);
        }
    }
    return 0;
}
