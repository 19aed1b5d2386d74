/* SPDX-License-Identifier: MIT */
/* tests/ring/trace/tr_tests.c — tests that read virtq's own access trace
   (tr.h): what is volatile, where each barrier sits relative to the index
   access it orders, and what happens when the device acts at an exact
   point of virtq's code.  Each test names the break it catches (issue 15,
   "Breaks that no test notices"); tests/mutants/ holds those breaks as
   mutants and `make mutate` checks this binary kills them. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "ring_test.h"
#include "tr.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define F_PLATFORM VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM)
#define F_V1 VIRTQ_FEATURE(VIRTIO_F_VERSION_1)
#define NUM 16u

/* One device with one queue, brought up through the register model. */
struct tq {
    struct virtq_dev dev;
    struct virtq vq;
    struct virtq_slot slots[NUM];
    struct rt_dev d;
    struct rt_chain chain;
    void *mem;
    size_t bytes;
    uint64_t features;
    _Alignas(16) struct virtq_desc table[4];
    uint8_t buf[4][32];
    int ck[8];
};

static struct tq the_tq;

static void tq_up(struct tq *t, uint64_t features)
{
    if (t->mem != NULL)
        rt_aligned_free(t->mem); /* a failed test left it */
    memset(t, 0, sizeof *t);
    tr_reset_all();
    tr_regs_reset(F_V1 | features);
    t->features = features;
    t->bytes = virtq_ring_bytes(NUM, VIRTQ_ALIGN_MODERN);
    t->mem = rt_aligned_alloc(16, t->bytes);
    assert_int_equal(virtq_mmio_probe(&t->dev, TR_BASE), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&t->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&t->dev, features, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_queue_setup(&t->dev, &t->vq, 0, NUM, t->mem, t->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&t->dev), VIRTQ_OK);
    rt_dev_attach(&t->d, &t->vq, features);
    tr_watch(TR_REGION_RING, t->mem, t->bytes);
    tr_watch(TR_REGION_SEQ, (const void *)&t->dev.wake_seq, sizeof t->dev.wake_seq);
    tr_watch(TR_REGION_TABLE, t->table, sizeof t->table);
    tr_log_clear();
}

static void tq_down(struct tq *t)
{
    tr_reset_all();
    rt_aligned_free(t->mem);
    t->mem = NULL;
}

/* Add one request (a readable and a writable segment) and publish it;
   the device takes it but does not complete it yet. */
static void tq_submit(struct tq *t, int i)
{
    struct virtq_buf b[2] = {{t->buf[0], 8}, {t->buf[1], 8}};
    assert_int_equal(virtq_add(&t->vq, b, 1, 1, &t->ck[i]), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&t->dev, &t->vq), VIRTQ_OK);
    assert_int_equal(rt_dev_pop(&t->d, &t->chain), 1);
}

/* The device completes the chain it took and raises its interrupt. */
static void tq_complete(struct tq *t)
{
    rt_dev_use(&t->d, t->chain.head, 8);
    (void)rt_dev_flush(&t->d);
    tr_dev_regs.isr |= VIRTIO_MMIO_INT_VRING;
}

static void tq_isr(void *ctx)
{
    struct tq *t = ctx;
    (void)virtq_dev_isr(&t->dev);
}

static int is_platform(const struct tq *t) { return (t->features & F_PLATFORM) != 0u; }

/* ---- log queries ---------------------------------------------------------------- */

static int at(const struct tr_event *e, enum tr_ev ev, const volatile void *p)
{
    return e->ev == ev && e->addr == (uintptr_t)p;
}

static int in_range(const struct tr_event *e, enum tr_ev ev, const volatile void *p, size_t len)
{
    return e->ev == ev && e->addr >= (uintptr_t)p && e->addr < (uintptr_t)p + len;
}

static void dump_log(unsigned from, unsigned to)
{
    char s[128];
    unsigned i;
    for (i = from; i < to && i < tr_nlog; i++)
        fprintf(stderr, "  #%u %s\n", i, tr_event_str(&tr_log[i], s, sizeof s));
}

/* First event index >= from matching, or -1. */
static int find(unsigned from, enum tr_ev ev, const volatile void *p, size_t len)
{
    unsigned i;
    for (i = from; i < tr_nlog; i++)
        if (in_range(&tr_log[i], ev, p, len))
            return (int)i;
    return -1;
}

/* Barriers: what kind a full / read / write barrier must be here. */
enum need { NEED_FULL, NEED_READ, NEED_WRITE };

static int is_barrier(const struct tq *t, const struct tr_event *e, enum need n)
{
    if (tr_config == TR_CFG_ATOMICS) {
        if (e->ev != EV_FENCE)
            return 0;
        if (n == NEED_FULL)
            return e->arg == TR_MO_SEQ_CST;
        return e->arg == (n == NEED_READ ? TR_MO_ACQUIRE : TR_MO_RELEASE) ||
               e->arg == TR_MO_SEQ_CST;
    }
    if (e->ev != EV_BARRIER)
        return 0;
    /* ORDER_PLATFORM: the DMA forms; without it the SMP ones.  Exact
       kinds, so a weakened or swapped barrier shows. */
    switch (n) {
    case NEED_FULL: return e->arg == (is_platform(t) ? TR_DMA_MB : TR_MB);
    case NEED_READ: return e->arg == (is_platform(t) ? TR_DMA_RMB : TR_RMB);
    default: return e->arg == (is_platform(t) ? TR_DMA_WMB : TR_WMB);
    }
}

/* A barrier of kind n strictly between events a and b. */
static int barrier_between(const struct tq *t, int a, int b, enum need n)
{
    int i;
    for (i = a + 1; i < b; i++)
        if (is_barrier(t, &tr_log[i], n))
            return 1;
    return 0;
}

static void expect_order(int ok, const char *what, unsigned from)
{
    if (!ok) {
        fprintf(stderr, "trace (%s):\n", what);
        dump_log(from, tr_nlog);
        fail_msg("%s", what);
    }
}

/* ---- 1. every shared-memory access is volatile or atomic ------------------------- */

/* Break: a volatile shared-ring access turned into a plain one.  Every
   access virtq makes to the ring memory, the indirect tables and the wake
   sequence, over every operation, must be volatile (or atomic in the
   atomics build); a plain one is listed. */
static void run_workload(struct tq *t)
{
    struct virtq_buf b[3] = {{t->buf[0], 8}, {t->buf[1], 8}, {t->buf[2], 4}};
    void *ck;
    uint32_t len;
    bool notify;
    int i;
    for (i = 0; i < 3; i++) {
        assert_int_equal(virtq_add(&t->vq, b, 2, 1, &t->ck[i]), VIRTQ_OK);
        if (i == 0)
            assert_int_equal(virtq_add_indirect(&t->vq, b, 1, 2, t->table, &t->ck[4]),
                             (t->features & F_INDIRECT) ? VIRTQ_OK : VIRTQ_ENOTSUP);
        assert_int_equal(virtq_publish(&t->vq, &notify), VIRTQ_OK);
        virtq_dev_notify(&t->dev, &t->vq);
        while (rt_dev_pop(&t->d, &t->chain) == 1)
            rt_dev_use(&t->d, t->chain.head, 1);
        (void)rt_dev_flush(&t->d);
        tr_dev_regs.isr |= VIRTIO_MMIO_INT_VRING;
        (void)virtq_dev_isr(&t->dev);
        assert_true(virtq_has_used(&t->vq));
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 100), VIRTQ_OK);
        while (virtq_get(&t->vq, &ck, &len) == VIRTQ_OK)
            ;
        virtq_disable_intr(&t->vq);
        (void)virtq_enable_intr(&t->vq);
        (void)virtq_enable_intr_delayed(&t->vq);
    }
    assert_int_equal(virtq_add(&t->vq, b, 1, 0, &t->ck[5]), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&t->dev, &t->vq), VIRTQ_OK);
    assert_int_equal(virtq_wait(&t->dev, &t->vq, 20), VIRTQ_ETIMEDOUT);
    /* The OS strategy's accesses too (the wake sequence read). */
    if (virtq_dev_set_wait(&t->dev, VIRTQ_WAIT_OS, NULL) == VIRTQ_OK)
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 20), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtq_dev_reset(&t->dev), VIRTQ_OK);
    while (virtq_detach(&t->vq, &ck) == VIRTQ_OK)
        ;
}

static void check_no_plain(void)
{
    unsigned i, sized = 0, ring_loads = 0, ring_stores = 0, seq = 0;
    char s[128];
    for (i = 0; i < tr_nlog; i++) {
        const struct tr_event *e = &tr_log[i];
        if (e->size == 0)
            continue;
        sized++;
        if (e->region == TR_REGION_RING)
            e->ev == EV_LOAD ? ring_loads++ : ring_stores++;
        if (e->region == TR_REGION_SEQ)
            seq++;
        if (e->fl == FL_PLAIN)
            fail_msg("plain access to shared memory: %s (event %u)", tr_event_str(e, s, sizeof s),
                     i);
        if (tr_config == TR_CFG_ATOMICS && e->fl == FL_VOLATILE && e->region != TR_REGION_RING)
            fail_msg("volatile, not atomic, in the atomics build: %s", tr_event_str(e, s, sizeof s));
    }
    /* The trace really saw virtq at work (instrumentation is live). */
    assert_true(ring_loads >= 20u);
    assert_true(ring_stores >= 40u);
    assert_true(seq >= 3u);
}

static void shared_accesses_are_volatile(void **state)
{
    static const uint64_t feats[] = {F_EVENT | F_INDIRECT, 0, F_PLATFORM | F_INDIRECT,
                                     F_PLATFORM | F_EVENT};
    struct tq *t = &the_tq;
    unsigned k;
    (void)state;
    for (k = 0; k < sizeof feats / sizeof feats[0]; k++) {
        unsigned i, words = 0;
        tq_up(t, feats[k]);
        run_workload(t);
        check_no_plain();
        /* The detach that emptied the queue zeroed the whole ring memory
           word by word through volatile stores (not a memset the compiler
           may drop or the device may see torn). */
        for (i = 0; i < tr_nlog; i++)
            if (tr_log[i].ev == EV_STORE && tr_log[i].fl == FL_VOLATILE && tr_log[i].size == 4u &&
                tr_log[i].region == TR_REGION_RING)
                words++;
        if (words < t->bytes / 4u)
            fail_msg("ring reset: %u volatile word stores for %zu bytes", words, t->bytes);
        tq_down(t);
    }
}

/* ---- 2. where the barriers sit -------------------------------------------------- */

/* Break: the read barrier moved in front of the used.idx load.  "Receiving
   Used Buffers": used.idx is loaded, then a read barrier (or the load is
   an acquire), then the element; a barrier only before the index load
   leaves the element read unordered. */
static void get_orders_element_after_index(void **state)
{
    static const uint64_t feats[] = {0, F_PLATFORM, F_EVENT, F_EVENT | F_PLATFORM};
    struct tq *t = &the_tq;
    unsigned k;
    (void)state;
    for (k = 0; k < 4; k++) {
        void *ck;
        int ix, el, acquire;
        tq_up(t, feats[k]);
        tq_submit(t, 0);
        tq_complete(t);
        tr_log_clear();
        assert_int_equal(virtq_get(&t->vq, &ck, NULL), VIRTQ_OK);
        ix = find(0, EV_LOAD, &t->vq.used->idx, 2);
        el = find(0, EV_LOAD, &t->vq.used->ring[0], 8);
        expect_order(ix >= 0 && el > ix, "used.idx loaded, then the element", 0);
        acquire = tr_log[ix].fl == FL_ATOMIC && tr_log[ix].mo == TR_MO_ACQUIRE;
        expect_order(acquire || barrier_between(t, ix, el, NEED_READ),
                     "a read barrier (or acquire) between the used.idx load and the element", 0);
        /* Only the element's two fields, each read once. */
        assert_int_equal(find((unsigned)el + 1u, EV_LOAD, &t->vq.used->ring[0], 8),
                         find((unsigned)el + 1u, EV_LOAD, &t->vq.used->ring[0].len, 4));
        tq_down(t);
    }
}

/* Break: the write barrier before avail.idx, or the full barrier between
   avail.idx and the suppression read, weakened, swapped or removed
   ("Supplying Buffers to The Device", "Notifying The Device"); with
   ORDER_PLATFORM the DMA forms; in the atomics build a release store (or
   fence) and a seq_cst fence. */
static void publish_barriers(void **state)
{
    static const uint64_t feats[] = {0, F_PLATFORM, F_EVENT, F_EVENT | F_PLATFORM};
    struct tq *t = &the_tq;
    unsigned k;
    (void)state;
    for (k = 0; k < 4; k++) {
        struct virtq_buf b = {t->buf[0], 8};
        bool notify;
        int last_ring, st, ld, i, release;
        const volatile void *ev;
        tq_up(t, feats[k]);
        tr_log_clear();
        assert_int_equal(virtq_add(&t->vq, &b, 1, 0, &t->ck[0]), VIRTQ_OK);
        assert_int_equal(virtq_publish(&t->vq, &notify), VIRTQ_OK);
        assert_true(notify);
        st = find(0, EV_STORE, &t->vq.avail->idx, 2);
        ev = (t->features & F_EVENT) ? (const volatile void *)t->vq.avail_event
                                     : (const volatile void *)&t->vq.used->flags;
        ld = find(0, EV_LOAD, ev, 2);
        expect_order(st >= 0 && ld > st, "avail.idx stored, then the suppression state read", 0);
        last_ring = -1;
        for (i = 0; i < st; i++)
            if (tr_log[i].ev == EV_STORE && tr_log[i].region == TR_REGION_RING)
                last_ring = i;
        expect_order(last_ring >= 0, "descriptors and avail ring written before avail.idx", 0);
        release = tr_log[st].fl == FL_ATOMIC && tr_log[st].mo == TR_MO_RELEASE;
        expect_order(release || barrier_between(t, last_ring, st, NEED_WRITE),
                     "a write barrier (or release) between the ring writes and avail.idx", 0);
        expect_order(barrier_between(t, st, ld, NEED_FULL),
                     "a full barrier between avail.idx and the suppression read", 0);
        tq_down(t);
    }
}

/* Break: the full barrier of the re-arm weakened or removed ("Used Buffer
   Notification Suppression" re-check): store used_event / avail.flags,
   full barrier, load used.idx; for enable_intr, _delayed and _after. */
static void arm_barrier(void **state)
{
    static const uint64_t feats[] = {0, F_PLATFORM, F_EVENT, F_EVENT | F_PLATFORM};
    struct tq *t = &the_tq;
    unsigned k, delayed;
    (void)state;
    for (k = 0; k < 4; k++) {
        for (delayed = 0; delayed < 3; delayed++) {
            int st, ld;
            const volatile void *arm;
            tq_up(t, feats[k]);
            tq_submit(t, 0);
            if (delayed == 2u)
                tq_submit(t, 1); /* two in flight: _after(2) really delays */
            virtq_disable_intr(&t->vq);
            tr_log_clear();
            assert_false(delayed == 2u   ? virtq_enable_intr_after(&t->vq, 2)
                         : delayed != 0u ? virtq_enable_intr_delayed(&t->vq)
                                         : virtq_enable_intr(&t->vq));
            arm = (t->features & F_EVENT) ? (const volatile void *)t->vq.used_event
                                          : (const volatile void *)&t->vq.avail->flags;
            st = find(0, EV_STORE, arm, 2);
            ld = find(0, EV_LOAD, &t->vq.used->idx, 2);
            expect_order(st >= 0 && ld > st, "re-arm stored, then used.idx re-read", 0);
            expect_order(barrier_between(t, st, ld, NEED_FULL),
                         "a full barrier between the re-arm and the re-check", 0);
            tq_down(t);
        }
    }
}

/* ---- 3. the wait protocol, with the device acting at exact points ---------------- */

/* Fires on the re-check: a load of used.idx after an arming store and a
   full barrier. */
struct recheck {
    struct tq *t;
    int armed, fenced;
};

static int recheck_trigger(const struct tr_event *e, void *ctx)
{
    struct recheck *r = ctx;
    struct tq *t = r->t;
    const volatile void *arm = (t->features & F_EVENT) ? (const volatile void *)t->vq.used_event
                                                       : (const volatile void *)&t->vq.avail->flags;
    if (at(e, EV_STORE, arm))
        r->armed = 1, r->fenced = 0;
    else if (r->armed && is_barrier(t, e, NEED_FULL))
        r->fenced = 1;
    else if (r->armed && r->fenced && at(e, EV_LOAD, &t->vq.used->idx))
        return 1;
    return 0;
}

/* Right after the re-check found nothing: the device completes and its
   interrupt is handled (OS: the handler runs on another CPU). */
static void complete_and_isr(void *ctx)
{
    struct recheck *r = ctx;
    tq_complete(r->t);
    (void)virtq_dev_isr(&r->t->dev);
}

/* Break: the wake sequence sampled after re-arming instead of before.  A
   completion whose interrupt lands between the re-check and the sample
   bumps the sequence the waiter then blocks on: a lost wake-up, the whole
   timeout slept.  Correct order: the OS wait sees the sequence moved and
   returns at once. */
static void os_wait_samples_sequence_before_arming(void **state)
{
    static const uint64_t feats[] = {0, F_EVENT, F_PLATFORM};
    struct tq *t = &the_tq;
    struct recheck rc;
    unsigned k;
    (void)state;
    for (k = 0; k < 3; k++) {
        uint64_t start;
        tq_up(t, feats[k]);
        assert_int_equal(virtq_dev_set_wait(&t->dev, VIRTQ_WAIT_OS, NULL), VIRTQ_OK);
        tq_submit(t, 0);
        memset(&rc, 0, sizeof rc);
        rc.t = t;
        tr_set_action(recheck_trigger, complete_and_isr, &rc);
        start = tr_clock;
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 1000000u), VIRTQ_OK);
        assert_int_equal(tr_action_runs(), 1);
        if (tr_os_blocked != 0u || tr_clock - start >= 1000000u)
            fail_msg("lost wake-up: the OS wait blocked on a sequence that had moved "
                     "(%u blocked, %llu us)", tr_os_blocked,
                     (unsigned long long)(tr_clock - start));
        tq_down(t);
    }
}

/* The fake CPU's handler. */
static void cpu_handler(void *ctx) { tq_isr(ctx); }

/* Right after the re-check: the device completes and raises its line;
   the CPU takes it at once unless interrupts are masked. */
static void complete_and_raise(void *ctx)
{
    struct recheck *r = ctx;
    tq_complete(r->t);
    tr_cpu_raise();
}

/* Break (WFI): interrupts masked after the arm and re-check instead of
   before.  The interrupt is then taken before wfi, and wfi sleeps with
   nothing pending until the alarm slice: a lost wake-up. */
static void wfi_masks_before_arming(void **state)
{
    static const uint64_t feats[] = {0, F_EVENT};
    struct tq *t = &the_tq;
    struct recheck rc;
    unsigned k;
    (void)state;
    for (k = 0; k < 2; k++) {
        tq_up(t, feats[k]);
        assert_int_equal(virtq_dev_set_wait(&t->dev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
        virtq_dev_irq_routed(&t->dev, true);
        tr_cpu_isr = cpu_handler;
        tr_cpu_isr_ctx = t;
        tq_submit(t, 0);
        memset(&rc, 0, sizeof rc);
        rc.t = t;
        tr_set_action(recheck_trigger, complete_and_raise, &rc);
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 1000000u), VIRTQ_OK);
        assert_int_equal(tr_action_runs(), 1);
        if (tr_wfi_slept != 0u)
            fail_msg("lost wake-up: wfi slept to its alarm with the completion's interrupt "
                     "already taken");
        assert_int_equal(t->dev.irqs, 1); /* the handler ran, once, after the wfi */
        assert_false(tr_irq_masked);
        tq_down(t);
    }
}

static void complete_now(void *ctx)
{
    tq_complete(ctx);
}

/* Break: the last look at the ring after the deadline dropped.  A
   completion that arrives exactly at the deadline is a completion, not a
   timeout. */
static void completion_at_the_deadline(void **state)
{
    struct tq *t = &the_tq;
    int strat;
    (void)state;
    for (strat = 0; strat < 2; strat++) {
        tq_up(t, 0);
        if (strat)
            assert_int_equal(virtq_dev_set_wait(&t->dev, VIRTQ_WAIT_OS, NULL), VIRTQ_OK);
        tq_submit(t, 0);
        tr_clock_step = 1;
        /* virtq_wait's first reading is tr_clock + 1: the deadline 50 later. */
        tr_deadline_at = tr_clock + 1u + 50u;
        tr_deadline_fn = complete_now;
        tr_deadline_ctx = t;
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 50u), VIRTQ_OK);
        assert_null(tr_deadline_fn); /* it did run, at the deadline */
        tq_down(t);
    }
}

static void set_needs_reset(void *ctx)
{
    (void)ctx;
    tr_dev_regs.status |= VIRTIO_STATUS_NEEDS_RESET; /* no configuration interrupt */
}

/* Break: at the deadline, a device that set NEEDS_RESET reported as a
   timeout instead of broken.  Here NEEDS_RESET comes without a
   configuration change interrupt, so only the deadline's status read can
   see it. */
static void needs_reset_at_the_deadline(void **state)
{
    struct tq *t = &the_tq;
    int when;
    (void)state;
    for (when = 0; when < 2; when++) {
        tq_up(t, 0);
        tq_submit(t, 0);
        if (tr_config == TR_CFG_NOCLOCK || when == 0) {
            set_needs_reset(NULL); /* already there when the wait starts */
        } else {
            tr_deadline_at = tr_clock + 1u + 40u;
            tr_deadline_fn = set_needs_reset;
        }
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 40u), VIRTQ_EBROKEN);
        assert_true(virtq_is_broken(&t->vq));
        assert_int_equal(virtq_dev_check(&t->dev), VIRTQ_EBROKEN);
        tq_down(t);
    }
}

/* Completes after the n-th spin round. */
struct late {
    struct tq *t;
    unsigned long at_relax;
};

static int relax_trigger(const struct tr_event *e, void *ctx)
{
    struct late *l = ctx;
    return e->ev == EV_RELAX && tr_relaxes >= l->at_relax;
}

static void late_complete(void *ctx)
{
    struct late *l = ctx;
    tq_complete(l->t);
}

/* Break: a wait without a clock that gives up at once (the spin budget
   counted the wrong way).  Without VIRTQ_NOW_US the budget is timeout_us *
   VIRTQ_SPINS_PER_US rounds: a silent device gets at least that many, a
   device that answers within it is waited for.  With a clock: the wait
   lasts until the deadline, not less. */
static void wait_uses_its_whole_budget(void **state)
{
    struct tq *t = &the_tq;
    struct late l;
    (void)state;
    tq_up(t, 0);
    tq_submit(t, 0);
    if (tr_config == TR_CFG_NOCLOCK) {
        unsigned long budget = 200ul * tr_spins_per_us;
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 200u), VIRTQ_ETIMEDOUT);
        if (tr_relaxes < budget || tr_relaxes > budget + 2u)
            fail_msg("clock-less wait spun %lu rounds for a budget of %lu", tr_relaxes, budget);
        tr_relaxes = 0;
        l.t = t;
        l.at_relax = budget - 5u;
        tr_set_action(relax_trigger, late_complete, &l);
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 200u), VIRTQ_OK);
    } else {
        uint64_t start = tr_clock;
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 200u), VIRTQ_ETIMEDOUT);
        if (tr_clock - start < 200u)
            fail_msg("the wait gave up after %llu of 200 us",
                     (unsigned long long)(tr_clock - start));
        l.t = t;
        l.at_relax = tr_relaxes + 150u;
        tr_set_action(relax_trigger, late_complete, &l);
        assert_int_equal(virtq_wait(&t->dev, &t->vq, 200u), VIRTQ_OK);
    }
    assert_int_equal(tr_action_runs(), 1);
    tq_down(t);
}

/* Break: DRIVER_OK not followed by a status check.  A device that answers
   DRIVER_OK with NEEDS_RESET (no interrupt) is broken from the start. */
static void driver_ok_checks_the_status(void **state)
{
    struct tq *t = &the_tq;
    (void)state;
    tr_reset_all();
    tr_regs_reset(F_V1);
    tr_dev_regs.needs_reset_on_driver_ok = 1;
    t->mem = rt_aligned_alloc(16, virtq_ring_bytes(NUM, VIRTQ_ALIGN_MODERN));
    assert_int_equal(virtq_mmio_probe(&t->dev, TR_BASE), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&t->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&t->dev, 0, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_queue_setup(&t->dev, &t->vq, 0, NUM, t->mem, t->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&t->dev), VIRTQ_EBROKEN);
    assert_int_equal(virtq_wait(&t->dev, &t->vq, 10), VIRTQ_EBROKEN);
    tq_down(t);
}

/* Break: the interrupt wired before DRIVER_OK and its early interrupts
   trusted.  The handler runs from the first status write on (a board that
   routed the line too early), the device raising "used buffer" and
   "configuration change" at every step; none of it may count as an
   interrupt, wake a waiter or look like a completion, and the queue then
   works normally. */
static void early_interrupts_ignored(void **state)
{
    struct tq *t = &the_tq;
    void *ck;
    (void)state;
    tr_reset_all();
    tr_regs_reset(F_V1 | F_EVENT);
    tr_dev_regs.early_irqs = 1;
    memset(&t->dev, 0, sizeof t->dev);
    tr_cpu_isr = cpu_handler;
    tr_cpu_isr_ctx = t;
    t->features = F_EVENT;
    t->mem = rt_aligned_alloc(16, virtq_ring_bytes(NUM, VIRTQ_ALIGN_MODERN));
    assert_int_equal(virtq_mmio_probe(&t->dev, TR_BASE), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&t->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&t->dev, F_EVENT, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_queue_setup(&t->dev, &t->vq, 0, NUM, t->mem, t->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&t->dev), VIRTQ_OK);
    /* reset, ACKNOWLEDGE, DRIVER, FEATURES_OK: four raises before DRIVER_OK */
    assert_true(t->dev.early >= 3u);
    assert_int_equal(t->dev.spurious, t->dev.early);
    assert_int_equal(t->dev.irqs, 0);
    assert_int_equal(t->dev.wake_seq, 0);
    assert_int_equal(virtq_dev_check(&t->dev), VIRTQ_OK);
    assert_false(virtq_has_used(&t->vq));
    assert_int_equal(virtq_get(&t->vq, &ck, NULL), VIRTQ_EAGAIN);
    /* Now a real request and its interrupt. */
    rt_dev_attach(&t->d, &t->vq, F_EVENT);
    tq_submit(t, 0);
    tq_complete(t);
    tr_cpu_raise();
    assert_int_equal(t->dev.irqs, 1);
    assert_int_equal(virtq_wait(&t->dev, &t->vq, 100), VIRTQ_OK);
    assert_int_equal(virtq_get(&t->vq, &ck, NULL), VIRTQ_OK);
    assert_ptr_equal(ck, &t->ck[0]);
    tq_down(t);
}

/* Break: an OS wait that blocks for the whole timeout instead of what is
   left of it (a wait past its bound).  The clock moves 10 us per reading;
   no block may reach beyond the wait's deadline. */
static void os_wait_never_past_the_deadline(void **state)
{
    struct tq *t = &the_tq;
    uint64_t deadline;
    (void)state;
    tq_up(t, 0);
    assert_int_equal(virtq_dev_set_wait(&t->dev, VIRTQ_WAIT_OS, NULL), VIRTQ_OK);
    tq_submit(t, 0);
    tr_clock_step = 10;
    deadline = tr_clock + 10u + 1000u; /* the wait's first reading + timeout */
    assert_int_equal(virtq_wait(&t->dev, &t->vq, 1000u), VIRTQ_ETIMEDOUT);
    assert_true(tr_os_waits >= 1u);
    if (tr_os_until_max > deadline)
        fail_msg("an OS wait asked to block until %llu, past the deadline %llu",
                 (unsigned long long)tr_os_until_max, (unsigned long long)deadline);
    tq_down(t);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"", "vol", "atomics", "noclock"};
    /* Every build runs every test that applies to it: the OS and WFI
       strategies and a deadline exist only with a clock. */
    const struct CMUnitTest all[] = {
        cmocka_unit_test(shared_accesses_are_volatile),
        cmocka_unit_test(get_orders_element_after_index),
        cmocka_unit_test(publish_barriers),
        cmocka_unit_test(arm_barrier),
        cmocka_unit_test(needs_reset_at_the_deadline),
        cmocka_unit_test(wait_uses_its_whole_budget),
        cmocka_unit_test(driver_ok_checks_the_status),
        cmocka_unit_test(early_interrupts_ignored),
        cmocka_unit_test(os_wait_samples_sequence_before_arming),
        cmocka_unit_test(wfi_masks_before_arming),
        cmocka_unit_test(completion_at_the_deadline),
        cmocka_unit_test(os_wait_never_past_the_deadline),
    };
    const size_t clockless = 8, n = tr_config == TR_CFG_NOCLOCK ? clockless : sizeof all / sizeof all[0];
    char group[64];
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    snprintf(group, sizeof group, "ring trace (%s build)", names[tr_config]);
    return _cmocka_run_group_tests(group, all, n, NULL, NULL) != 0;
}
