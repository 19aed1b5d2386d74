/* SPDX-License-Identifier: MIT */
/* fuzz_ring.c - libFuzzer target: the split ring between a fuzzed driver
 * and a fuzzed (honest or hostile) device.
 *
 * The input drives both sides of one queue.  The driver side calls the
 * public ring API (add with 1-4 segments, add_indirect, publish, get,
 * has_used, interrupt enable/disable, break, detach, re-init) with good and
 * bad arguments; the device side either behaves (completes published chains
 * in any order with a length it may legally write, sets its notification
 * suppression) or does not (arbitrary used.idx and used elements: duplicate,
 * out-of-range, non-head and unpublished ids, lengths over the posted
 * writable bytes; scribbles over the descriptor table, the available ring
 * and the used ring).
 *
 * A model of the queue, built only from what the API documents and the
 * spec says, predicts every result; after every step the oracles below are
 * checked and any failure aborts with a message:
 *   - every return code is the documented one (get is predicted exactly
 *     from the used ring and the model; add's error must name a condition
 *     that holds, and success needs none to hold);
 *   - a failed call changes no driver-private state (a get that finds a
 *     protocol violation changes only the broken latch);
 *   - free + in-flight descriptors == queue size; the private free list is
 *     acyclic, exactly num_free long, disjoint from every in-flight chain;
 *   - each cookie comes back at most once, with a length <= the writable
 *     bytes posted, and after detach every cookie has come back exactly once;
 *   - the descriptors written by add describe exactly the buffers given;
 *   - broken stays latched until detach (or re-init) resets the queue, and
 *     a device that only ever behaved never breaks the queue;
 *   - the kick decision follows the spec's rule for EVENT_IDX / NO_NOTIFY;
 *     an interrupt re-armed by virtq_enable_intr() (result 0) is not lost;
 *   - loops are bounded (iteration caps here, -timeout in libFuzzer).
 *
 * Input format (a byte stream; reads past the end give 0):
 *   byte 0   ring size: log2 = b & 7, or b & 15 when (b & 0xf0) == 0xf0
 *   byte 1   bit0 EVENT_IDX, bit1 INDIRECT_DESC, bit2 ORDER_PLATFORM,
 *            bit3 legacy alignment (4096), bit7 try a bad virtq_init first
 *            (variant in bits 4-6)
 *   byte 2-3 start index S (little-endian): the fresh queue is fast-forwarded
 *            to the index state S honest add/publish/complete/get cycles
 *            leave behind (avail.idx = used.idx = S, used_event = S), so
 *            inputs reach the 16-bit wrap cheaply
 *   then ops: one opcode byte (value % OP_COUNT) and its operands, see
 *   the enum below and tests/fuzz/gen_corpus.py, which writes the seeds.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
#define VQ_TEST_NAME "fuzz_ring"
#define VQ_TEST_STEP (m.steps)
#include "../common/vq_test.h"


enum {
    OP_ADD,          /* b: nseg-1 (bits 0-1), out (bits 2-4 % (nseg+1)), bad (5-7); v; lens */
    OP_ADD_INDIRECT, /* same operands */
    OP_PUBLISH,
    OP_GET,          /* b: bit0 pass len, bit1 NULL cookie pointer */
    OP_HAS_USED,
    OP_DISABLE_INTR,
    OP_ENABLE_INTR,
    OP_ENABLE_DELAYED,
    OP_BREAK,
    OP_DETACH_ALL,
    OP_DETACH_ONE,
    OP_DEV_HONEST,   /* b: count-1 (bits 0-1); per completion: pick, lensel, u32 */
    OP_DEV_SUPPRESS, /* u16 used.flags, u16 avail_event */
    OP_DEV_USED_IDX, /* u16 */
    OP_DEV_USED_ELEM,/* pos, kind, pick, lenkind, u32, bump */
    OP_DEV_SCRIB_DESC,
    OP_DEV_SCRIB_AVAIL,
    OP_DEV_SCRIB_USED, /* each: u16 offset, count byte, count bytes */
    OP_REINIT,       /* features byte */
    OP_GET_ALL,      /* drain with get until not OK (bounded) */
    OP_CYCLE,        /* 1 + (u8 & 15) times: add, publish, honest completion, get */
    OP_IGNORE_LEN,   /* u8: virtq_ignore_used_len(vq, b & 1) */
    OP_NULLS,        /* every ring call with NULL arguments */
    OP_ENABLE_AFTER, /* u8: virtq_enable_intr_after(vq, b % (num + 3)) */
    OP_COUNT
};

#define MAXREQ 2048u
#define MAXSTEPS 4096u

enum { R_UNUSED, R_INFLIGHT, R_DONE };

struct req {
    uint8_t state, dev_done, indirect;
    uint16_t head, ndesc, pos; /* pos: its index in the available ring */
    uint32_t wlen;
    struct virtq_desc *table; /* indirect table, exactly 16 * nseg bytes */
};

struct input {
    const uint8_t *p;
    size_t n;
};

static struct model {
    struct virtq vq;
    struct virtq_slot *slots;
    uint8_t *mem;
    size_t mem_bytes;
    uint32_t num, align;
    uint64_t features;
    struct req req[MAXREQ];
    unsigned nreq;
    uint16_t avail, kicked, last_used; /* model ring indices since reset */
    unsigned inflight;
    int broken, detaching, break_called;
    int any_len; /* virtq_ignore_used_len() set: used.len is not bounded */
    int taint_used, taint_intr; /* hostile device touched used ring / avail side */
    int armed, arm_delayed;
    uint16_t arm_outstanding;
    unsigned since_arm;
    int32_t last_returned_head;
    unsigned steps;
    uint16_t done_stack[MAXREQ]; /* finished requests, reused once req[] is full */
    unsigned ndone;
} m;

static int32_t head_req[VIRTQ_MAX_SIZE]; /* in-flight request per head, or -1 */
static uint8_t mark[VIRTQ_MAX_SIZE];

static uint8_t u8(struct input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}
static uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | (uint16_t)(u8(in) << 8));
}
static uint32_t u32(struct input *in)
{
    uint32_t lo = u16(in);
    return lo | ((uint32_t)u16(in) << 16);
}

static int evidx(void) { return (m.features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)) != 0; }
static uint16_t mask(void) { return (uint16_t)(m.num - 1u); }

/* The spec's rule, spelled independently of virtq_need_event(): notify
   when event lies in [old, new). */
static int crossed(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(event - old) < (uint16_t)(new_idx - old);
}

/* ---- snapshots: a failed call must change no private state ------------- */

static struct virtq snap_vq;
static struct virtq_slot *snap_slots;
static uint8_t *snap_mem; /* the ring memory: a failed call writes no byte of it */

/* Slots are compared for rings up to 256 entries (larger ones cost too
   much per step; their struct virtq is still compared). */
static void snapshot(void)
{
    memcpy(&snap_vq, &m.vq, sizeof(snap_vq)); /* bytes, padding included */
    if (m.num <= 256u) {
        memcpy(snap_slots, m.slots, sizeof(*m.slots) * m.num);
        memcpy(snap_mem, m.mem, m.mem_bytes);
    }
}

static void check_unchanged(const char *what, uint16_t allowed_flags)
{
    struct virtq now;
    memcpy(&now, &m.vq, sizeof(now));
    now.flags = (uint16_t)(now.flags & ~allowed_flags);
    snap_vq.flags = (uint16_t)(snap_vq.flags & ~allowed_flags);
    if (allowed_flags & VIRTQ__Q_BROKEN)
        snap_vq.broken_reason = now.broken_reason; /* latching broken records why */
    CHECK(memcmp(&now, &snap_vq, sizeof(now)) == 0, "%s failed but changed struct virtq", what);
    CHECK(m.num > 256u || memcmp(snap_slots, m.slots, sizeof(*m.slots) * m.num) == 0,
          "%s failed but changed the private slots", what);
    CHECK(m.num > 256u || memcmp(snap_mem, m.mem, m.mem_bytes) == 0,
          "%s failed but changed ring memory", what);
}

/* ---- invariants after every step --------------------------------------- */

static void check_invariants(void)
{
    uint32_t i, k, num = m.num, descs = 0, heads = 0;
    uint16_t idx;
    CHECK(virtq_is_broken(&m.vq) == m.broken, "broken is %d, model says %d",
          virtq_is_broken(&m.vq), m.broken);
    CHECK(virtq_num_free(&m.vq) == m.vq.num_free, "virtq_num_free disagrees");
    CHECK(m.vq.num == num, "queue size changed");
    if (m.detaching)
        return; /* cookies are being handed back; the lists are stale by design */
    CHECK(m.vq.avail_idx == m.avail && m.vq.published_idx == m.kicked &&
              m.vq.last_used == m.last_used,
          "ring indices %u/%u/%u, model %u/%u/%u", m.vq.avail_idx, m.vq.published_idx,
          m.vq.last_used, m.avail, m.kicked, m.last_used);
    CHECK((uint16_t)(m.avail - m.last_used) == m.inflight, "in-flight count %u vs indices",
          m.inflight);
    memset(mark, 0, num);
    /* The free list: exactly num_free distinct entries. */
    CHECK(m.vq.num_free <= num, "num_free %u > num %u", m.vq.num_free, num);
    idx = m.vq.free_head;
    for (i = 0; i < m.vq.num_free; i++) {
        CHECK(idx < num, "free list leaves the ring at %u (entry %u)", idx, i);
        CHECK(!mark[idx], "free list has a cycle at %u (entry %u of %u)", idx, i,
              m.vq.num_free);
        mark[idx] = 1;
        idx = m.slots[idx].next;
    }
    /* In-flight chains: private records match the model, disjoint. */
    for (i = 0; i < num; i++) {
        int32_t r = head_req[i];
        struct virtq_slot *s = &m.slots[i];
        if (r < 0) {
            CHECK(s->cookie == NULL, "slot %u holds a cookie the model does not know", i);
            continue;
        }
        CHECK(s->cookie == &m.req[r], "slot %u cookie is not request %d", i, r);
        CHECK(s->ndesc == m.req[r].ndesc && s->wlen == m.req[r].wlen,
              "slot %u records %u desc/%u bytes, posted %u/%u", i, s->ndesc, s->wlen,
              m.req[r].ndesc, m.req[r].wlen);
        idx = (uint16_t)i;
        for (k = 0; k < s->ndesc; k++) {
            CHECK(idx < num, "chain of head %u leaves the ring", i);
            CHECK(!mark[idx], "descriptor %u is free and in flight, or in two chains", idx);
            mark[idx] = 2;
            idx = m.slots[idx].next;
        }
        descs += s->ndesc;
        heads++;
    }
    CHECK(heads == m.inflight, "%u heads in flight, model has %u", heads, m.inflight);
    CHECK(m.vq.num_free + descs == num, "free %u + in flight %u != size %u", m.vq.num_free,
          descs, num);
}

/* ---- ring setup -------------------------------------------------------- */

static size_t ring_bytes_model(uint32_t num, uint32_t align)
{
    size_t a = 16u * (size_t)num + 6u + 2u * (size_t)num;
    size_t b = 6u + 8u * (size_t)num;
    a = (a + align - 1u) / align * align;
    b = (b + align - 1u) / align * align;
    return a + b;
}

static void model_reset(void)
{
    uint32_t i;
    for (i = 0; i < m.num; i++)
        head_req[i] = -1;
    m.avail = m.kicked = m.last_used = 0;
    m.inflight = 0;
    m.broken = m.detaching = m.break_called = 0;
    m.taint_used = m.taint_intr = 0;
    m.armed = 0;
    m.last_returned_head = -1;
}

/* Published: its avail position lies before the last published index. */
static int published(const struct req *r)
{
    return (uint16_t)(r->pos - m.kicked) >= (uint16_t)(m.avail - m.kicked);
}

static void retire(struct req *r)
{
    r->state = R_DONE;
    free(r->table);
    r->table = NULL;
    head_req[r->head] = -1;
    m.inflight--;
    m.done_stack[m.ndone++] = (uint16_t)(r - m.req);
}

static void do_init(uint64_t features)
{
    int rc = virtq_init(&m.vq, m.num, m.align, m.mem, m.slots, features);
    CHECK(rc == VIRTQ_OK, "virtq_init(%u, %u) = %d", m.num, m.align, rc);
    m.features = features;
    m.any_len = 0; /* virtq_init clears it; detach does not */
    model_reset();
}

/* The index state after s honest cycles on an empty queue (white box:
   the private copies and the shared indices; free-list order aside,
   nothing else differs). */
static void fast_forward(uint16_t s)
{
    m.vq.avail_idx = m.vq.published_idx = m.vq.last_used = s;
    m.vq.avail->idx = s;
    m.vq.used->idx = s;
    if (evidx())
        *m.vq.used_event = s; /* as virtq_get() leaves it */
    m.avail = m.kicked = m.last_used = s;
}

/* Bad virtq_init calls: the documented error, struct untouched. */
static void bad_init(unsigned variant)
{
    struct virtq before;
    int rc, want = VIRTQ_EINVAL;
    memset(&m.vq, 0x5a, sizeof(m.vq));
    memcpy(&before, &m.vq, sizeof(before));
    switch (variant & 7u) {
    case 0: rc = virtq_init(&m.vq, m.num == 1 ? 3u : m.num + 1u, m.align, m.mem, m.slots, 0); break;
    case 1: rc = virtq_init(&m.vq, m.num, 8u * 3u, m.mem, m.slots, 0); break;
    case 2: rc = virtq_init(&m.vq, m.num, m.align, m.mem + 8, m.slots, 0); break;
    case 3: rc = virtq_init(&m.vq, m.num, m.align, NULL, m.slots, 0); break;
    case 4: rc = virtq_init(&m.vq, m.num, m.align, m.mem, NULL, 0); break;
    case 5: rc = virtq_init(&m.vq, 0, m.align, m.mem, m.slots, 0); break;
    case 6: rc = virtq_init(&m.vq, 65536u, m.align, m.mem, m.slots, 0); break;
    default:
        rc = virtq_init(&m.vq, m.num, m.align, m.mem, m.slots,
                        VIRTQ_FEATURE(VIRTIO_F_RING_PACKED));
        want = VIRTQ_ENOTSUP;
        break;
    }
    CHECK(rc == want, "bad virtq_init variant %u returned %d, want %d", variant & 7u, rc, want);
    CHECK(memcmp(&before, &m.vq, sizeof(before)) == 0, "failed virtq_init changed the queue");
}

static uint64_t features_from(uint8_t b)
{
    uint64_t f = 0;
    if (b & 1u)
        f |= VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    if (b & 2u)
        f |= VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    if (b & 4u)
        f |= VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM);
    return f;
}

/* ---- driver operations ------------------------------------------------- */

static void verify_desc(const struct virtq_desc *d, const struct virtq_buf *b, unsigned i,
                        unsigned out, unsigned n)
{
    uint16_t want = (uint16_t)((i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u) |
                               (i >= out ? VIRTQ_DESC_F_WRITE : 0u));
    CHECK(d->addr == (uint64_t)(uintptr_t)b->addr, "descriptor %u addr wrong", i);
    CHECK(d->len == b->len, "descriptor %u len %u, buffer %u", i, d->len, b->len);
    CHECK(d->flags == want, "descriptor %u flags %#x, want %#x", i, d->flags, want);
}

static void op_add(struct input *in, int indirect)
{
    uint8_t b = u8(in), v = u8(in), bad = (uint8_t)(b >> 5);
    unsigned nseg = 1u + (b & 3u), out = ((b >> 2) & 7u) % (nseg + 1u), i;
    struct virtq_buf bufs[4];
    struct req *r;
    void *cookie;
    struct virtq_desc *table = NULL, *pass_table = NULL;
    uint64_t wsum = 0, total = 0;
    int rc, einval, enospc, enotsup, ebroken;
    unsigned ri;
    if (m.nreq < MAXREQ)
        ri = m.nreq;
    else if (m.ndone > 0u)
        ri = m.done_stack[m.ndone - 1u]; /* a cookie used before: drivers reuse them */
    else
        return;
    r = &m.req[ri];
    cookie = r;
    for (i = 0; i < nseg; i++) {
        uint8_t l = u8(in);
        /* The driver never touches buffer memory: fake addresses suffice. */
        bufs[i].addr = (void *)(uintptr_t)(0x100000u + ri * 0x100u + i * 0x10u);
        bufs[i].len = bad == 7u ? 0xffffffffu - l : 1u + l;
    }
    if (bad == 5u)
        bufs[v % nseg].addr = NULL;
    if (bad == 6u)
        bufs[v % nseg].len = 0;
    if (bad == 4u && (v & 0x80u))
        nseg = out = 0; /* no segments at all */
    if (bad == 4u && (v & 0x40u))
        cookie = NULL;
    for (i = 0; i < nseg; i++) {
        total += bufs[i].len;
        if (i >= out)
            wsum += bufs[i].len;
    }
    if (indirect) {
        void *t = NULL;
        if (posix_memalign(&t, 16, 16u * (nseg ? nseg : 1u)) != 0)
            abort();
        memset(t, 0xee, 16u * (nseg ? nseg : 1u));
        table = pass_table = (struct virtq_desc *)t;
        if (bad == 4u && (v & 0x20u))
            pass_table = NULL;
        else if (bad == 4u && (v & 0x10u))
            pass_table = (struct virtq_desc *)(void *)((uint8_t *)t + 8); /* misaligned */
    }
    einval = cookie == NULL || nseg == 0u || nseg > m.num || bad == 5u || bad == 6u ||
             total > UINT32_MAX || (indirect && (pass_table == NULL || pass_table != table));
    ebroken = m.broken;
    enotsup = indirect && !(m.features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC));
    enospc = indirect ? m.vq.num_free == 0u : nseg > m.vq.num_free;
    snapshot();
    if (indirect)
        rc = virtq_add_indirect(&m.vq, bufs, out, nseg - out, pass_table, cookie);
    else
        rc = virtq_add(&m.vq, bufs, out, nseg - out, cookie);
    if (rc != VIRTQ_OK) {
        CHECK((rc == VIRTQ_EINVAL && einval) || (rc == VIRTQ_EBROKEN && ebroken) ||
                  (rc == VIRTQ_ENOTSUP && enotsup) || (rc == VIRTQ_ENOSPC && enospc),
              "add%s(nseg %u out %u bad %u) = %d with einval %d ebroken %d enotsup %d "
              "enospc %d",
              indirect ? "_indirect" : "", nseg, out, bad, rc, einval, ebroken, enotsup, enospc);
        check_unchanged("add", 0);
        free(table);
        return;
    }
    CHECK(!einval && !ebroken && !enotsup && !enospc,
          "add%s succeeded despite einval %d ebroken %d enotsup %d enospc %d",
          indirect ? "_indirect" : "", einval, ebroken, enotsup, enospc);
    /* The head the device will see, and the chain it describes. */
    r->head = m.vq.avail->ring[m.avail & mask()];
    CHECK(r->head < m.num, "avail ring entry %u out of range", r->head);
    CHECK(head_req[r->head] < 0, "add reused in-flight head %u", r->head);
    if (indirect) {
        const struct virtq_desc *d = &m.vq.desc[r->head];
        CHECK(d->addr == (uint64_t)(uintptr_t)table && d->len == 16u * nseg &&
                  d->flags == VIRTQ_DESC_F_INDIRECT,
              "indirect descriptor wrong (len %u flags %#x)", d->len, d->flags);
        for (i = 0; i < nseg; i++) {
            verify_desc(&table[i], &bufs[i], i, out, nseg);
            if (i + 1u < nseg)
                CHECK(table[i].next == i + 1u, "indirect entry %u next %u", i, table[i].next);
        }
        r->ndesc = 1;
    } else {
        uint16_t idx = r->head;
        for (i = 0; i < nseg; i++) {
            verify_desc(&m.vq.desc[idx], &bufs[i], i, out, nseg);
            if (i + 1u < nseg) {
                uint16_t next = m.vq.desc[idx].next;
                CHECK(next < m.num, "chain next %u out of range", next);
                CHECK(next == m.slots[idx].next, "shared and private links differ");
                idx = next;
            }
        }
        r->ndesc = (uint16_t)nseg;
    }
    r->state = R_INFLIGHT;
    r->dev_done = 0;
    r->pos = m.avail;
    r->indirect = (uint8_t)indirect;
    r->wlen = (uint32_t)wsum;
    r->table = table;
    head_req[r->head] = (int32_t)ri;
    if (ri == m.nreq)
        m.nreq++;
    else
        m.ndone--;
    m.inflight++;
    m.avail++;
}

static void op_publish(void)
{
    uint16_t old = m.kicked, now = m.avail;
    uint16_t ae = *m.vq.avail_event, uflags = m.vq.used->flags;
    int rc, want;
    snapshot();
    rc = vq_test_publish(&m.vq);
    if (m.broken) {
        CHECK(rc == VIRTQ_EBROKEN, "publish on a broken queue = %d", rc);
        check_unchanged("publish", 0);
        return;
    }
    if (old == now) {
        CHECK(rc == 0, "publish with nothing new = %d", rc);
        return;
    }
    want = evidx() ? crossed(ae, now, old) : !(uflags & VIRTQ_USED_F_NO_NOTIFY);
    CHECK(rc == want, "publish %u..%u: kick %d, the spec says %d (avail_event %u flags %#x)",
          old, now, rc, want, ae, uflags);
    CHECK(m.vq.avail->idx == now, "avail.idx %u after publish, want %u", m.vq.avail->idx, now);
    m.kicked = now;
}

static void op_get(struct input *in)
{
    uint8_t b = u8(in);
    uint16_t uidx = m.vq.used->idx, pending = (uint16_t)(uidx - m.last_used);
    int want, rc;
    enum virtq_broken_reason why = VIRTQ_BROKEN_NONE; /* the model's reason */
    int32_t r = -1;
    uint32_t id = 0, elen = 0, len = 0xdeadbeefu;
    void *cookie = (void *)&len;
    if (b & 2u) {
        snapshot();
        rc = virtq_get(&m.vq, NULL, &len);
        CHECK(rc == VIRTQ_EINVAL || (rc == VIRTQ_EBROKEN && m.broken),
              "get with NULL cookie pointer = %d", rc);
        check_unchanged("get(NULL)", 0);
        return;
    }
    if (m.broken)
        want = VIRTQ_EBROKEN;
    else if (pending == 0u)
        want = VIRTQ_EAGAIN;
    else if (pending > (uint16_t)(m.kicked - m.last_used)) {
        want = VIRTQ_EBROKEN; /* used.idx ran ahead of what was published */
        why = VIRTQ_BROKEN_USED_IDX;
    } else {
        const struct virtq_used_elem *e = &m.vq.used->ring[m.last_used & mask()];
        id = e->id;
        elen = e->len;
        if (id >= m.num) {
            want = VIRTQ_EBROKEN; /* out of range */
            why = VIRTQ_BROKEN_USED_ID;
        } else if (head_req[id] < 0) {
            want = VIRTQ_EBROKEN; /* non-head, or not in flight */
            why = VIRTQ_BROKEN_NOT_IN_FLIGHT;
        } else if (!published(&m.req[head_req[id]])) {
            want = VIRTQ_EBROKEN; /* the device cannot have seen it yet */
            why = VIRTQ_BROKEN_UNPUBLISHED;
        } else if (elen > m.req[head_req[id]].wlen && !m.any_len) {
            want = VIRTQ_EBROKEN; /* longer than the writable bytes posted */
            why = VIRTQ_BROKEN_USED_LEN;
        } else {
            want = VIRTQ_OK;
            r = head_req[id];
        }
    }
    snapshot();
    rc = virtq_get(&m.vq, &cookie, (b & 1u) ? &len : NULL);
    CHECK(rc == want, "get = %d, model %d (used.idx %u last %u kicked %u id %u len %u)", rc,
          want, uidx, m.last_used, m.kicked, id, elen);
    if (rc == VIRTQ_OK) {
        struct req *q = (struct req *)cookie;
        CHECK(q == &m.req[r], "get returned the wrong cookie");
        CHECK(q->state == R_INFLIGHT, "cookie came back twice");
        if (b & 1u)
            CHECK(len == elen && (len <= q->wlen || m.any_len), "get len %u, used %u, posted %u",
                  len, elen, q->wlen);
        m.last_returned_head = q->head;
        retire(q);
        m.last_used++;
        /* The driver is awake and draining: a plain re-arm's promise ends
           here (get asks for the next buffer, which may be behind the
           device); a delayed one stands until its buffer is used. */
        if (!m.arm_delayed)
            m.armed = 0;
        return;
    }
    if (rc == VIRTQ_EBROKEN && !m.broken) {
        CHECK(m.taint_used, "a well-behaved device broke the queue");
        CHECK(virtq_broken_reason(&m.vq) == why, "get broke the queue for reason %d, model %d",
              (int)virtq_broken_reason(&m.vq), (int)why);
        m.broken = 1;
        snap_vq.broken_reason = m.vq.broken_reason; /* the latch records why */
        check_unchanged("get", VIRTQ__Q_BROKEN);
        return;
    }
    check_unchanged("get", 0);
}

static void op_has_used(void)
{
    int rc = virtq_has_used(&m.vq);
    int want = m.broken ? 1 : m.vq.used->idx != m.last_used; /* broken: go to get */
    CHECK(rc == want, "has_used = %d, want %d", rc, want);
}

static void op_disable_intr(void)
{
    virtq_disable_intr(&m.vq);
    m.armed = 0;
    if (m.broken)
        return;
    /* The hint must hold at least for the next used buffer. */
    if (evidx())
        CHECK(!crossed(*m.vq.used_event, (uint16_t)(m.last_used + 1u), m.last_used),
              "disable_intr left used_event %u at last_used %u", *m.vq.used_event,
              m.last_used);
    else
        CHECK(m.vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT, "NO_INTERRUPT not set");
}

/* delayed: 0 virtq_enable_intr, 1 _delayed, 2 _after(n). */
static void op_enable_intr(int delayed, unsigned n)
{
    uint16_t pending = (uint16_t)(m.vq.used->idx - m.last_used);
    uint16_t outstanding = (uint16_t)(m.kicked - m.last_used);
    /* _after: the n-th buffer from now, n clamped to what is published. */
    unsigned want_n = n > outstanding ? outstanding : n;
    int rc;
    snapshot();
    rc = delayed == 2 ? virtq_enable_intr_after(&m.vq, n)
         : delayed    ? virtq_enable_intr_delayed(&m.vq)
                      : virtq_enable_intr(&m.vq);
    if (delayed == 2 && want_n <= 1u)
        delayed = 0; /* the plain re-arm */
    m.armed = 0;
    if (m.broken) {
        CHECK(rc == 1, "enable_intr on a broken queue = %d, want 1 (do not sleep)", rc);
        check_unchanged("enable_intr", 0);
        return;
    }
    CHECK(rc == 0 || rc == 1, "enable_intr = %d", rc);
    if (!delayed || !evidx()) /* without EVENT_IDX, _delayed cannot delay */
        CHECK(rc == (pending != 0u), "enable_intr = %d with %u pending", rc, pending);
    else if (delayed == 2 && !m.taint_used)
        CHECK(rc == (pending >= want_n), "enable_intr_after(%u) = %d with %u of %u used", n, rc,
              pending, outstanding);
    else if (rc == 1)
        CHECK(pending != 0u, "enable_intr_delayed = 1 with nothing pending");
    else /* 0 with buffers pending: fine while more are coming to interrupt */
        CHECK(pending == 0u || pending < outstanding,
              "enable_intr_delayed = 0 with %u of %u outstanding already used", pending,
              outstanding);
    if (rc == 0) {
        if (evidx()) {
            uint16_t ev = (uint16_t)(*m.vq.used_event - m.last_used);
            /* Not crossed yet (so an interrupt will come) and within reach. */
            CHECK(pending <= ev, "armed at event +%u but %u already used", ev, pending);
            CHECK(ev == 0u || ev < outstanding, "event +%u beyond %u outstanding", ev,
                  outstanding);
            if (delayed == 2)
                CHECK(ev + 1u == want_n, "enable_intr_after(%u): event +%u, want +%u", n, ev,
                      want_n - 1u);
        } else {
            CHECK(!(m.vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT), "NO_INTERRUPT still set");
        }
        m.armed = 1;
        m.arm_delayed = delayed && evidx();
        m.arm_outstanding = delayed == 2 ? (uint16_t)want_n : outstanding;
        m.since_arm = 0;
    }
}

static void op_detach_all(void)
{
    uint32_t k;
    void *cookie;
    int rc = VIRTQ_OK;
    for (k = 0; k <= m.num + 1u; k++) {
        rc = virtq_detach(&m.vq, &cookie);
        if (rc != VIRTQ_OK)
            break;
        {
            struct req *q = (struct req *)cookie;
            CHECK(q >= m.req && q < m.req + m.nreq, "detach returned a foreign cookie");
            CHECK(q->state == R_INFLIGHT, "detach returned a cookie twice");
            retire(q);
        }
    }
    CHECK(rc == VIRTQ_EAGAIN, "detach did not finish in %u calls (rc %d)", k, rc);
    CHECK(m.inflight == 0u, "%u cookies never came back", m.inflight);
    CHECK(!virtq_is_broken(&m.vq), "queue still broken after detach");
    CHECK(m.vq.num_free == m.num, "num_free %u after detach", m.vq.num_free);
    CHECK(m.vq.used->idx == 0 && m.vq.avail->idx == 0, "ring not reset by detach");
    for (k = 0; k < m.nreq; k++)
        CHECK(m.req[k].state == R_DONE, "request %u lost", k);
    model_reset();
}

static void op_detach_one(void)
{
    void *cookie;
    int rc = virtq_detach(&m.vq, &cookie);
    if (rc == VIRTQ_EAGAIN) {
        CHECK(m.inflight == 0u, "detach finished with %u cookies out", m.inflight);
        model_reset();
        return;
    }
    CHECK(rc == VIRTQ_OK, "detach = %d", rc);
    {
        struct req *q = (struct req *)cookie;
        CHECK(q >= m.req && q < m.req + m.nreq, "detach returned a foreign cookie");
        CHECK(q->state == R_INFLIGHT, "detach returned a cookie twice");
        retire(q);
    }
    m.detaching = m.broken = 1;
    m.armed = 0;
}

/* Every ring call with NULL arguments: a clear error (or nothing), no crash,
   and the live queue untouched. */
static void op_nulls(void)
{
    struct virtq_buf b = {(void *)(uintptr_t)0x1000u, 1};
    void *c;
    uint32_t len;
    snapshot();
    CHECK(virtq_add(NULL, &b, 1, 0, &b) == VIRTQ_EINVAL, "add(NULL vq)");
    CHECK(virtq_add(&m.vq, NULL, 1, 0, &b) == VIRTQ_EINVAL, "add(NULL bufs)");
    CHECK(virtq_add_indirect(NULL, &b, 1, 0, NULL, &b) == VIRTQ_EINVAL, "add_indirect(NULL vq)");
    CHECK(virtq_add_indirect(&m.vq, NULL, 1, 0, NULL, &b) == VIRTQ_EINVAL,
          "add_indirect(NULL bufs)");
    CHECK(vq_test_publish(NULL) == VIRTQ_EINVAL, "publish(NULL)");
    CHECK(virtq_get(NULL, &c, &len) == VIRTQ_EINVAL, "get(NULL)");
    CHECK(virtq_has_used(NULL), "has_used(NULL)");
    virtq_disable_intr(NULL);
    CHECK(virtq_enable_intr(NULL), "enable_intr(NULL)");
    CHECK(virtq_enable_intr_delayed(NULL), "enable_intr_delayed(NULL)");
    CHECK(virtq_is_broken(NULL) == 1, "is_broken(NULL)");
    virtq_break(NULL);
    CHECK(virtq_num_free(NULL) == 0u, "num_free(NULL)");
    virtq_ignore_used_len(NULL, 1);
    CHECK(virtq_detach(NULL, &c) == VIRTQ_EINVAL, "detach(NULL vq)");
    CHECK(virtq_detach(&m.vq, NULL) == VIRTQ_EINVAL, "detach(NULL cookie)");
    CHECK(virtq_init(NULL, m.num, m.align, m.mem, m.slots, 0) == VIRTQ_EINVAL, "init(NULL)");
    check_unchanged("NULL-argument calls", 0);
}

/* ---- device operations ------------------------------------------------- */

/* After the device moved used.idx from old to old+1: its interrupt rule,
   and the lost-wake-up oracle for a driver that armed and would sleep. */
static void device_used_one(uint16_t old)
{
    int irq = evidx() ? crossed(*m.vq.used_event, (uint16_t)(old + 1u), old)
                      : !(m.vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (!m.armed || m.taint_intr || m.taint_used)
        return;
    if (irq) {
        m.armed = 0;
        return;
    }
    m.since_arm++;
    {
        unsigned need = m.arm_delayed && m.arm_outstanding ? m.arm_outstanding : 1u;
        CHECK(m.since_arm < need, "lost interrupt: %u buffers used after arming, no interrupt",
              m.since_arm);
    }
}

static void op_dev_honest(struct input *in)
{
    unsigned count = 1u + (u8(in) & 3u), c;
    for (c = 0; c < count; c++) {
        uint32_t i, start;
        uint8_t lensel;
        struct req *q = NULL;
        uint32_t len;
        uint16_t u;
        if (m.detaching)
            return;
        /* The first completable head at or after a chosen start. */
        start = (uint32_t)u8(in) * m.num / 256u;
        for (i = 0; i < m.num && q == NULL; i++) {
            int32_t r = head_req[(start + i) & mask()];
            if (r >= 0 && published(&m.req[r]) && !m.req[r].dev_done)
                q = &m.req[r];
        }
        if (q == NULL)
            return;
        lensel = u8(in);
        len = lensel % 3u == 0u ? q->wlen
              : lensel % 3u == 1u ? 0u
                                  : (uint32_t)(u32(in) % ((uint64_t)q->wlen + 1u));
        u = m.vq.used->idx;
        m.vq.used->ring[u & mask()].id = q->head;
        m.vq.used->ring[u & mask()].len = len;
        m.vq.used->idx = (uint16_t)(u + 1u);
        q->dev_done = 1;
        device_used_one(u);
    }
}

static uint32_t hostile_id(struct input *in, uint8_t kind)
{
    uint32_t i, pick = u8(in);
    switch (kind % 6u) {
    case 0: /* an in-flight head (legal if published) */
    case 1: /* a non-head descriptor of an in-flight chain */
        for (i = 0; i < m.num; i++) {
            uint32_t h = (i + pick) & mask();
            if (head_req[h] < 0)
                continue;
            if (kind % 6u == 0u)
                return h;
            if (m.slots[h].ndesc > 1u)
                return m.slots[h].next;
        }
        return pick;
    case 2: /* the head returned last: a double completion */
        return m.last_returned_head >= 0 ? (uint32_t)m.last_returned_head : pick;
    case 3: return m.num + pick; /* just out of range */
    case 4: return u32(in);      /* anything */
    default:                     /* an unpublished head */
        for (i = 0; i < m.num; i++) {
            uint32_t h = (i + pick) & mask();
            if (head_req[h] >= 0 && !published(&m.req[head_req[h]]))
                return h;
        }
        return pick;
    }
}

static void op_dev_used_elem(struct input *in)
{
    uint8_t pos = u8(in), kind = u8(in), lk = u8(in);
    uint16_t u = m.vq.used->idx, at;
    uint32_t id = hostile_id(in, kind), len, w = 0;
    if (id < m.num && head_req[id] >= 0)
        w = m.req[head_req[id]].wlen;
    switch (lk % 5u) {
    case 0: len = 0; break;
    case 1: len = w; break;
    case 2: len = w + 1u; break;
    case 3: len = 0xffffffffu; break;
    default: len = u32(in); break;
    }
    at = (pos & 3u) == 0u ? u : (pos & 3u) == 1u ? m.last_used : (uint16_t)(pos >> 2);
    m.vq.used->ring[at & mask()].id = id;
    m.vq.used->ring[at & mask()].len = len;
    m.taint_used = 1;
    if (pos & 0x80u) {
        m.vq.used->idx = (uint16_t)(u + 1u);
        device_used_one(u);
    }
}

static void scribble(struct input *in, uint8_t *base, size_t bytes)
{
    size_t off, cnt, i;
    if (bytes == 0u)
        return;
    off = u16(in) % bytes;
    cnt = 1u + u8(in) % 16u;
    for (i = 0; i < cnt && off + i < bytes; i++)
        base[off + i] = u8(in);
}

/* ---- the target -------------------------------------------------------- */

static const char *const op_names[OP_COUNT] = {
    "add", "add_indirect", "publish", "get", "has_used", "disable_intr", "enable_intr",
    "enable_delayed", "break", "detach_all", "detach_one", "dev_honest", "dev_suppress",
    "dev_used_idx", "dev_used_elem", "dev_scrib_desc", "dev_scrib_avail", "dev_scrib_used",
    "reinit", "get_all", "cycle", "ignore_len", "nulls", "enable_after"};
static int trace; /* FUZZ_RING_TRACE=1 ./fuzz_ring crash-file: print the steps */

static void step(struct input *in)
{
    uint8_t op = (uint8_t)(u8(in) % OP_COUNT);
    if (trace)
        fprintf(stderr, "step %u: %s (num_free %u, used.idx %u, last_used %u, inflight %u)\n",
                m.steps, op_names[op], m.vq.num_free, m.vq.used->idx, m.last_used, m.inflight);
    size_t avail_off = 16u * (size_t)m.num, used_off = (uint8_t *)m.vq.used - m.mem;
    switch (op) {
    case OP_ADD: op_add(in, 0); break;
    case OP_ADD_INDIRECT: op_add(in, 1); break;
    case OP_PUBLISH: op_publish(); break;
    case OP_GET: op_get(in); break;
    case OP_HAS_USED: op_has_used(); break;
    case OP_DISABLE_INTR: op_disable_intr(); break;
    case OP_ENABLE_INTR: op_enable_intr(0, 0); break;
    case OP_ENABLE_DELAYED: op_enable_intr(1, 0); break;
    case OP_ENABLE_AFTER: op_enable_intr(2, u8(in) % (m.num + 3u)); break;
    case OP_BREAK:
        virtq_break(&m.vq);
        m.broken = m.break_called = 1;
        m.armed = 0;
        break;
    case OP_DETACH_ALL: op_detach_all(); break;
    case OP_DETACH_ONE: op_detach_one(); break;
    case OP_DEV_HONEST: op_dev_honest(in); break;
    case OP_DEV_SUPPRESS:
        m.vq.used->flags = u16(in);
        *m.vq.avail_event = u16(in);
        break;
    case OP_DEV_USED_IDX:
        m.vq.used->idx = u16(in);
        m.taint_used = 1;
        break;
    case OP_DEV_USED_ELEM: op_dev_used_elem(in); break;
    case OP_DEV_SCRIB_DESC: scribble(in, m.mem, avail_off); break;
    case OP_DEV_SCRIB_AVAIL:
        scribble(in, m.mem + avail_off, used_off - avail_off);
        m.taint_intr = 1; /* used_event and avail.flags live here */
        break;
    case OP_DEV_SCRIB_USED:
        scribble(in, m.mem + used_off, m.mem_bytes - used_off);
        m.taint_used = 1;
        break;
    case OP_REINIT: {
        uint8_t f = u8(in);
        if (m.inflight != 0u || m.detaching)
            break;
        do_init(features_from(f));
        break;
    }
    case OP_CYCLE: {
        static const uint8_t add1[] = {0x00, 0x00, 0x07}; /* 1 writable segment */
        static const uint8_t honest1[] = {0x00, 0x00, 0x00};
        static const uint8_t get1[] = {0x01};
        uint32_t count = 1u + (u8(in) & 15u), k; /* short: wrap comes from the header */
        for (k = 0; k < count && !m.broken; k++) {
            struct input a = {add1, sizeof(add1)}, h = {honest1, sizeof(honest1)},
                         g = {get1, sizeof(get1)};
            op_add(&a, 0);
            op_publish();
            op_dev_honest(&h);
            op_get(&g);
        }
        break;
    }
    case OP_IGNORE_LEN: {
        uint8_t b = u8(in);
        virtq_ignore_used_len(&m.vq, b & 1u);
        m.any_len = b & 1u;
        break;
    }
    case OP_NULLS: op_nulls(); break;
    default: { /* OP_GET_ALL */
        uint32_t k;
        for (k = 0; k <= m.num; k++) {
            uint16_t before = m.last_used;
            struct input none = {NULL, 0};
            op_get(&none);
            if (m.last_used == before)
                break;
        }
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    uint8_t b0 = u8(&in), b1 = u8(&in);
    uint16_t start = u16(&in);
    unsigned log2 = (b0 & 0xf0u) == 0xf0u ? (b0 & 15u) : (b0 & 7u);
    void *mem = NULL;
    uint32_t k;
    memset(&m, 0, sizeof(m));
    trace = getenv("FUZZ_RING_TRACE") != NULL;
    m.num = 1u << log2;
    m.align = (b1 & 8u) ? VIRTQ_ALIGN_LEGACY : VIRTQ_ALIGN_MODERN;
    m.mem_bytes = virtq_ring_bytes(m.num, m.align);
    CHECK(m.mem_bytes == ring_bytes_model(m.num, m.align), "virtq_ring_bytes(%u, %u) = %zu",
          m.num, m.align, m.mem_bytes);
    CHECK(virtq_ring_bytes(m.num + (m.num > 2u), m.align) == (m.num > 2u ? 0u : m.mem_bytes),
          "virtq_ring_bytes accepts a non-power of two");
    /* Exactly the bytes asked for, so ASan sees any overrun of the ring. */
    if (posix_memalign(&mem, m.align > 16u ? m.align : 16u, m.mem_bytes) != 0)
        abort();
    memset(mem, 0xa5, m.mem_bytes);
    m.mem = (uint8_t *)mem;
    m.slots = (struct virtq_slot *)malloc(sizeof(*m.slots) * m.num);
    snap_slots = (struct virtq_slot *)malloc(sizeof(*m.slots) * m.num);
    snap_mem = (uint8_t *)malloc(m.mem_bytes);
    if (m.slots == NULL || snap_slots == NULL || snap_mem == NULL)
        abort();
    memset(m.slots, 0x5a, sizeof(*m.slots) * m.num);
    if (b1 & 0x80u)
        bad_init((unsigned)(b1 >> 4));
    do_init(features_from(b1));
    fast_forward(start);
    check_invariants();
    while (in.n > 0u && m.steps < MAXSTEPS) {
        m.steps++;
        step(&in);
        if (m.num <= 256u || (m.steps & 15u) == 0u)
            check_invariants();
    }
    /* Every input ends with a device reset: every cookie comes back. */
    op_detach_all();
    check_invariants();
    for (k = 0; k < m.nreq; k++)
        CHECK(m.req[k].state == R_DONE, "request %u never came back", k);
    free(m.slots);
    free(snap_slots);
    free(snap_mem);
    free(mem);
    return 0;
}
