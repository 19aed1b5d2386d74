/* SPDX-License-Identifier: MIT */
/* tests/ring/sim.c — a randomised driver/device run over one ring, checked
   step by step against a model kept in unwrapped 64-bit counters:

   - every request's chain reaches the device exactly as added (segments,
     flags, readable bytes), and the device's writes come back (len and
     data), every cookie exactly once;
   - each virtq_publish() notifies exactly when the model says: avail_event
     in [old, new) counted without 16-bit wrap (EVENT_IDX), or used.flags
     NO_NOTIFY clear;
   - each device flush interrupts exactly when the model of what the driver
     asked for (used_event, or avail.flags) says; each enable re-check
     returns what the model expects;
   - after every batch of gets the free list and in-flight chains
     partition the ring, and num_free matches the descriptors held.
*/
#include <stdio.h>
#include <stdlib.h>

#include "ring_test.h"

#define SEGMAX 4
#define SEGBYTES 64

struct pool {
    struct virtq_desc table[SEGMAX] __attribute__((aligned(16))); /* indirect */
    unsigned char seg[SEGMAX][SEGBYTES];
    unsigned long seq;
    int busy;
};

enum { RQ_NONE, RQ_ADDED, RQ_PUBLISHED, RQ_POPPED, RQ_USED, RQ_RETURNED };

struct rq {
    uint32_t pool;
    uint8_t out, in, indirect, state;
    uint8_t seglen[SEGMAX];
};

struct held {
    unsigned long seq;
    uint16_t head;
    uint32_t wlen;
};

struct sim {
    const struct rt_sim_opts *o;
    struct rt_sim_result *res;
    struct rt_ring r;
    struct rt_dev d;
    uint32_t rng;
    int event_idx, indirect;

    struct rq *rq;
    struct pool *pool;
    unsigned *pool_free;
    unsigned npool_free;

    unsigned long *unpub; /* added since the last publish */
    unsigned nunpub;
    struct held *held;    /* popped by the device, not yet used */
    unsigned nheld, threshold;

    /* model, unwrapped */
    uint64_t published, popped, used_pub, consumed;
    uint64_t avail_event; /* as the device last set it */
    int no_notify;
    int intr_off;
    int delayed;          /* re-armed with a delay not yet taken past */
    uint64_t used_event;  /* what the driver asked for */
    unsigned desc_held;   /* ring descriptors held by outstanding requests */
    unsigned long outstanding;
};

static uint32_t rnd(struct sim *s, uint32_t n) { return n ? rt_rand(&s->rng) % n : 0u; }

static uint8_t rd_byte(unsigned long seq, unsigned k) { return (uint8_t)(seq * 131u + k); }
static uint8_t wr_byte(unsigned long seq, unsigned k) { return (uint8_t)(seq * 7u + k + 1u); }

/* What the device reports as written for a request: a function of seq,
   bounded by the writable bytes, so the driver side can check it. */
static uint32_t dev_len(unsigned long seq, uint32_t wlen)
{
    uint32_t h = (uint32_t)seq * 2654435761u;
    return wlen ? (h >> 7) % (wlen + 1u) : 0u;
}

/* ---- driver side --------------------------------------------------------------- */

static int try_add(struct sim *s)
{
    unsigned long seq = s->res->submitted;
    struct rq *q = &s->rq[seq];
    struct virtq_buf b[SEGMAX];
    unsigned len = 1u + rnd(s, s->o->max_chain), k, p, need;
    int rc;
    q->out = (uint8_t)rnd(s, len + 1u);
    q->in = (uint8_t)(len - q->out);
    q->indirect = s->indirect && rnd(s, 100) < s->o->indirect_pct;
    need = q->indirect ? 1u : len;
    if (need > virtq_num_free(&s->r.vq)) {
        unsigned before = virtq_num_free(&s->r.vq);
        static int dummy;
        b[0].addr = &dummy;
        b[0].len = 1;
        /* Refused for space, and nothing changes. */
        if (q->indirect) {
            rc = virtq_add_indirect(&s->r.vq, b, 1, 0, s->pool[0].table, &dummy);
        } else {
            struct virtq_buf many[SEGMAX];
            for (k = 0; k < len; k++)
                many[k] = b[0];
            rc = virtq_add(&s->r.vq, many, len, 0, &dummy);
        }
        assert_int_equal(rc, VIRTQ_ENOSPC);
        assert_int_equal(virtq_num_free(&s->r.vq), before);
        s->res->enospc++;
        return 0;
    }
    /* Each outstanding request holds a descriptor, so a pool slot is free
       whenever a descriptor is. */
    assert_true(s->npool_free > 0);
    p = s->pool_free[--s->npool_free];
    assert_false(s->pool[p].busy);
    s->pool[p].busy = 1;
    s->pool[p].seq = seq;
    q->pool = p;
    for (k = 0; k < len; k++) {
        unsigned j;
        q->seglen[k] = (uint8_t)(1u + rnd(s, SEGBYTES));
        b[k].addr = s->pool[p].seg[k];
        b[k].len = q->seglen[k];
        for (j = 0; j < SEGBYTES; j++)
            s->pool[p].seg[k][j] = k < q->out ? rd_byte(seq, j + k * SEGBYTES) : 0xee;
    }
    if (q->indirect)
        rc = virtq_add_indirect(&s->r.vq, b, q->out, q->in, s->pool[p].table, q);
    else
        rc = virtq_add(&s->r.vq, b, q->out, q->in, q);
    assert_int_equal(rc, VIRTQ_OK);
    q->state = RQ_ADDED;
    s->desc_held += need;
    s->outstanding++;
    if (s->outstanding > s->res->max_outstanding)
        s->res->max_outstanding = s->outstanding;
    if (q->indirect)
        s->res->indirect++;
    s->unpub[s->nunpub++] = seq;
    s->res->submitted++;
    return 1;
}

static int in_window(uint64_t e, uint64_t old, uint64_t now) { return e >= old && e < now; }

static int publish(struct sim *s)
{
    uint64_t old = s->published, now = old + s->nunpub;
    int rc = vq_test_publish(&s->r.vq), want; /* notify as 1/0 */
    unsigned i;
    if (s->event_idx)
        want = now != old && in_window(s->avail_event, old, now);
    else
        want = now != old && !s->no_notify;
    if (rc != want)
        fail_msg("publish %llu..%llu: virtq says %d, model %d (avail_event %llu, no_notify %d)",
                 (unsigned long long)old, (unsigned long long)now, rc, want,
                 (unsigned long long)s->avail_event, s->no_notify);
    assert_int_equal(s->r.vq.avail->idx, (uint16_t)now);
    for (i = 0; i < s->nunpub; i++)
        s->rq[s->unpub[i]].state = RQ_PUBLISHED;
    s->nunpub = 0;
    s->published = now;
    s->res->publishes++;
    s->res->kicks += (unsigned long)rc;
    return rc;
}

static void take_one(struct sim *s, void *cookie, uint32_t len)
{
    struct rq *q = cookie;
    unsigned long seq;
    struct pool *pl;
    uint32_t wlen = 0, left;
    unsigned k, j, pos = 0;
    if (q < s->rq || q >= s->rq + s->o->total)
        fail_msg("get returned a cookie that was never submitted");
    seq = (unsigned long)(q - s->rq);
    if (q->state != RQ_USED)
        fail_msg("cookie %lu returned in state %d (want used)", seq, q->state);
    pl = &s->pool[q->pool];
    assert_true(pl->busy);
    assert_int_equal(pl->seq, seq);
    for (k = q->out; k < (unsigned)(q->out + q->in); k++)
        wlen += q->seglen[k];
    if (len != dev_len(seq, wlen))
        fail_msg("cookie %lu: len %u, device wrote %u", seq, len, dev_len(seq, wlen));
    /* The device's data landed in this request's writable buffers. */
    left = len;
    for (k = q->out; k < (unsigned)(q->out + q->in) && left; k++)
        for (j = 0; j < q->seglen[k] && left; j++, left--, pos++)
            if (pl->seg[k][j] != wr_byte(seq, pos))
                fail_msg("cookie %lu: written byte %u wrong", seq, pos);
    q->state = RQ_RETURNED;
    pl->busy = 0;
    s->pool_free[s->npool_free++] = q->pool;
    s->desc_held -= q->indirect ? 1u : (unsigned)(q->out + q->in);
    s->outstanding--;
    s->consumed++;
    s->res->completed++;
    /* get asks for the next one, except after a delayed re-arm, which
       stands until the next re-arm */
    if (s->event_idx && !s->intr_off && !s->delayed)
        s->used_event = s->consumed;
}

static void drain(struct sim *s, unsigned max)
{
    void *cookie;
    uint32_t len;
    int rc;
    while (max-- && (rc = virtq_get(&s->r.vq, &cookie, &len)) != VIRTQ_EAGAIN) {
        assert_int_equal(rc, VIRTQ_OK);
        take_one(s, cookie, len);
    }
    assert_int_equal(virtq_is_broken(&s->r.vq), 0);
    assert_int_equal(virtq_num_free(&s->r.vq), s->r.num - s->desc_held);
    assert_int_equal(rt_check_freelist(&s->r.vq), s->outstanding);
}

/* Interrupt suppression games; returns 1 when the driver must drain. */
static int intr_game(struct sim *s)
{
    uint32_t choice = rnd(s, 3);
    uint64_t used_now = s->used_pub;
    int rc;
    if (choice == 0) {
        virtq_disable_intr(&s->r.vq);
        s->intr_off = 1;
        s->delayed = 0;
        /* The event one behind: crossed only 2^16 buffers later. */
        if (s->event_idx)
            s->used_event = s->consumed + 65535u;
        return 0;
    }
    if (choice == 1) {
        rc = virtq_enable_intr(&s->r.vq);
        s->intr_off = 0;
        s->delayed = 0;
        if (s->event_idx)
            s->used_event = s->consumed;
        assert_int_equal(rc, used_now > s->consumed);
        return rc;
    }
    rc = virtq_enable_intr_delayed(&s->r.vq);
    s->intr_off = 0;
    if (s->event_idx) {
        uint64_t ahead = (uint16_t)(*s->r.vq.used_event - (uint16_t)s->consumed);
        uint64_t outst = s->published - s->consumed;
        /* About 3/4 of the published-and-not-taken ones, and reachable. */
        assert_true(4u * ahead <= 3u * outst);
        assert_true(4u * ahead + 4u > 3u * outst);
        s->used_event = s->consumed + ahead;
        s->delayed = ahead != 0u;
        assert_int_equal(rc, used_now - s->consumed > ahead);
    } else {
        /* Flag mode cannot delay: it is virtq_enable_intr(), so buffers
           used before the re-arm are always reported. */
        assert_int_equal(rc, used_now > s->consumed);
    }
    return rc;
}

/* ---- device side --------------------------------------------------------------- */

static void dev_take(struct sim *s)
{
    static struct rt_chain c;
    while (rt_dev_pop(&s->d, &c)) {
        uintptr_t base = (uintptr_t)s->pool, a = (uintptr_t)c.seg[0].addr;
        size_t p;
        unsigned long seq;
        struct rq *q;
        unsigned k, j;
        s->popped++;
        if (a < base || a >= base + sizeof(struct pool) * s->r.num)
            fail_msg("device: first segment %#lx is no request's", (unsigned long)a);
        p = (a - base) / sizeof(struct pool);
        assert_true(s->pool[p].busy);
        seq = s->pool[p].seq;
        q = &s->rq[seq];
        if (q->state != RQ_PUBLISHED)
            fail_msg("device: request %lu seen in state %d", seq, q->state);
        /* The chain is the request, exactly. */
        assert_int_equal(c.indirect, q->indirect);
        assert_int_equal(c.ndesc, q->indirect ? 1u : (unsigned)(q->out + q->in));
        assert_int_equal(c.nseg, q->out + q->in);
        assert_int_equal(c.nout, q->out);
        for (k = 0; k < c.nseg; k++) {
            assert_int_equal(c.seg[k].addr, (uint64_t)(uintptr_t)s->pool[p].seg[k]);
            assert_int_equal(c.seg[k].len, q->seglen[k]);
            assert_int_equal(c.seg[k].write, k >= q->out);
            if (k < q->out)
                for (j = 0; j < c.seg[k].len; j++)
                    assert_int_equal(s->pool[p].seg[k][j], rd_byte(seq, j + k * SEGBYTES));
        }
        q->state = RQ_POPPED;
        s->held[s->nheld].seq = seq;
        s->held[s->nheld].head = c.head;
        s->held[s->nheld].wlen = (uint32_t)c.wlen;
        s->nheld++;
        assert_true(s->nheld <= s->r.num);
    }
    /* Going idle: ask to be notified at (or a little after) the next
       entry; or, without EVENT_IDX, sometimes say "don't notify". */
    s->avail_event = s->popped + rnd(s, s->o->event_slack + 1u);
    rt_dev_set_avail_event(&s->d, (uint16_t)s->avail_event);
    if (!s->event_idx) {
        s->no_notify = rnd(s, 3) == 0;
        rt_dev_set_no_notify(&s->d, s->no_notify);
    }
}

static int dev_flush(struct sim *s, uint64_t before)
{
    int irq = rt_dev_flush(&s->d), want;
    if (s->event_idx)
        want = in_window(s->used_event, before, s->used_pub);
    else
        want = s->used_pub != before && !s->intr_off;
    if (irq != want)
        fail_msg("flush %llu..%llu: device interrupts %d, model %d (used_event %llu)",
                 (unsigned long long)before, (unsigned long long)s->used_pub, irq, want,
                 (unsigned long long)s->used_event);
    s->res->flushes++;
    s->res->irqs += (unsigned long)irq;
    return irq;
}

/* Complete m of the held chains in the configured order; returns whether
   any flush interrupted. */
static int dev_complete(struct sim *s, unsigned m)
{
    uint64_t before = s->used_pub;
    int irq = 0;
    while (m-- && s->nheld) {
        unsigned i, k, j, pos = 0;
        struct held h;
        struct rq *q;
        struct pool *pl;
        uint32_t len, left;
        switch (s->o->order) {
        case RT_ORDER_FIFO: i = 0; break;
        case RT_ORDER_REVERSE: i = s->nheld - 1u; break;
        default: i = rnd(s, s->nheld); break;
        }
        h = s->held[i];
        memmove(&s->held[i], &s->held[i + 1u], sizeof(h) * (s->nheld - i - 1u));
        s->nheld--;
        q = &s->rq[h.seq];
        pl = &s->pool[q->pool];
        len = dev_len(h.seq, h.wlen);
        left = len;
        for (k = q->out; k < (unsigned)(q->out + q->in) && left; k++)
            for (j = 0; j < q->seglen[k] && left; j++, left--, pos++)
                pl->seg[k][j] = wr_byte(h.seq, pos);
        q->state = RQ_USED;
        rt_dev_use(&s->d, h.head, len);
        s->used_pub++; /* counted now, visible at the flush below */
        if (rnd(s, 2) == 0) {
            irq |= dev_flush(s, before);
            before = s->used_pub;
        }
    }
    if (before != s->used_pub)
        irq |= dev_flush(s, before);
    return irq;
}

/* ---- the run ------------------------------------------------------------------- */

void rt_sim_run(const struct rt_sim_opts *o, struct rt_sim_result *res)
{
    struct sim s;
    unsigned long rounds = 0, limit = o->total * 40u + 100000u, i;
    unsigned p;
    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    s.o = o;
    s.res = res;
    s.rng = o->seed ? o->seed : 1u;
    s.event_idx = (o->features & RT_F_EVENT_IDX) != 0u;
    s.indirect = (o->features & RT_F_INDIRECT) != 0u;
    assert_true(o->max_chain >= 1 && o->max_chain <= SEGMAX && o->max_chain <= o->num);
    rt_ring_init(&s.r, o->num, o->align ? o->align : VIRTQ_ALIGN_MODERN, o->features);
    rt_dev_attach(&s.d, &s.r.vq, o->features);
    s.rq = calloc(o->total, sizeof(*s.rq));
    s.pool = rt_aligned_alloc(16, sizeof(struct pool) * o->num);
    s.pool_free = malloc(sizeof(unsigned) * o->num);
    s.unpub = malloc(sizeof(unsigned long) * o->num);
    s.held = malloc(sizeof(struct held) * o->num);
    assert_true(s.rq && s.pool_free && s.unpub && s.held);
    memset(s.pool, 0, sizeof(struct pool) * o->num);
    for (p = 0; p < o->num; p++)
        s.pool_free[s.npool_free++] = o->num - 1u - p;
    s.threshold = 1;

    while (res->completed < o->total) {
        int kick = 0, irq = 0, recheck = 0;
        unsigned n;
        if (++rounds > limit)
            fail_msg("no progress after %lu rounds (%lu/%lu done)", rounds, res->completed,
                     o->total);
        /* Driver: add a few, publish (sometimes with nothing new). */
        n = 1u + rnd(&s, 8);
        while (n-- && res->submitted < o->total && try_add(&s))
            ;
        if (s.nunpub || rnd(&s, 8) == 0)
            kick = publish(&s);
        /* Device: wakes on a kick, or on its own now and then (it polls,
           or is busy from an earlier notification). */
        if (kick || rnd(&s, 4) == 0 || res->submitted == o->total)
            dev_take(&s);
        if (s.nheld &&
            (s.nheld >= s.threshold || rnd(&s, 8) == 0 || res->submitted == o->total ||
             virtq_num_free(&s.r.vq) == 0)) {
            irq = dev_complete(&s, 1u + rnd(&s, s.nheld));
            s.threshold = 1u + rnd(&s, o->lag ? o->lag : 1u);
        }
        /* Driver: interrupt handler, or a poll. */
        if (o->intr_games && rnd(&s, 6) == 0)
            recheck = intr_game(&s);
        if (irq || recheck || rnd(&s, 3) == 0 || res->submitted == o->total)
            drain(&s, rnd(&s, 4) == 0 ? 1u + rnd(&s, 4) : ~0u);
    }
    /* Everything back, exactly once. */
    assert_int_equal(res->submitted, o->total);
    assert_int_equal(res->completed, o->total);
    for (i = 0; i < o->total; i++)
        if (s.rq[i].state != RQ_RETURNED)
            fail_msg("request %lu ended in state %d", i, s.rq[i].state);
    assert_int_equal(s.published, o->total);
    assert_int_equal(s.consumed, o->total);
    assert_int_equal(virtq_num_free(&s.r.vq), o->num);
    assert_int_equal(rt_check_freelist(&s.r.vq), 0);
    assert_int_equal(s.npool_free, o->num);
    res->wraps = (unsigned long)(s.published >> 16);
    assert_int_equal(s.r.vq.avail->idx, (uint16_t)s.published);
    assert_int_equal(s.r.vq.used->idx, (uint16_t)s.used_pub);
    free(s.rq);
    rt_aligned_free(s.pool);
    free(s.pool_free);
    free(s.unpub);
    free(s.held);
    rt_ring_free(&s.r);
}
