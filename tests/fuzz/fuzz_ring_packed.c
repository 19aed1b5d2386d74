/* SPDX-License-Identifier: MIT */
/* fuzz_ring_packed.c - libFuzzer target: the packed ring ("Packed
 * Virtqueues") between a fuzzed driver and a fuzzed (honest or hostile)
 * device.
 *
 * The driver side calls the public ring API (add with 1-4 segments, good or
 * bad; add_indirect; publish; get; has_used; interrupt disable / enable /
 * enable_delayed; break; detach; re-init) on a packed queue of any size
 * 1..300 (not only powers of two).  The device side either behaves (takes
 * available buffers in ring order, checking every driver rule; uses them in
 * any order with a legal length; sets its event suppression) or does not
 * (writes used descriptors with arbitrary id, length and flags; scribbles
 * over descriptors and the event structures).
 *
 * Oracles, from the API contract and the spec only:
 *   - the honest device finds every driver rule kept: AVAIL/USED pairs of
 *     the lap, NEXT on all but the last, readable before writable, INDIRECT
 *     only with the feature and never with NEXT, table entries WRITE-only,
 *     a chain no longer than the ring, buffer ids unique among those taken;
 *     the segments it reads are exactly the ones the driver added;
 *   - with only an honest device, get returns exactly the cookie and length
 *     the device used, in the order it used them, and the queue never
 *     breaks; virtq_num_free() equals the ring size minus what is in flight;
 *   - every cookie comes back at most once, never one that was not added,
 *     with a length <= the writable bytes posted; after detach, every cookie
 *     added since the last reset has come back exactly once;
 *   - a failed add changes no driver-private state (struct and slots);
 *   - broken stays latched (every call EBROKEN or true) until detach;
 *   - publish's answer follows the device event suppression (ENABLE,
 *     DISABLE, or the DESC offset/wrap by enumeration with EVENT_IDX);
 *   - after virtq_enable_intr() answers false, the honest device's next use
 *     must raise an interrupt per the driver event suppression (no lost
 *     wake-up); after virtq_enable_intr_after(n) answers false, one of the
 *     next n uses must.
 *
 * Input: byte 0 ring size (1 + b % 300 via two bytes: 0,1), byte 2 features
 * (bit0 EVENT_IDX, bit1 INDIRECT, bit2 ORDER_PLATFORM), then ops (opcode
 * byte % OP_COUNT and operands).  Reads past the end give 0.
 */
#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTQ_RINGS (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
#define VQ_TEST_NAME "fuzz_ring_packed"
#define VQ_TEST_STEP (steps)
#include "../common/vq_test.h"

#define MAXN 300u
#define MAXC 1024u /* cookies per run (reused after they come back) */


enum {
    OP_ADD, OP_ADD_INDIRECT, OP_PUBLISH, OP_GET, OP_HAS_USED, OP_DISABLE, OP_ENABLE,
    OP_ENABLE_DELAYED, OP_BREAK, OP_DETACH, OP_DEV_POP, OP_DEV_USE, OP_DEV_EVENT,
    OP_EVIL_USED, OP_EVIL_SCRIBBLE, OP_REINIT, OP_ENABLE_AFTER, OP_COUNT
};

static const uint8_t *in;
static size_t in_len, in_pos;
static unsigned steps;

static uint8_t next8(void) { return in_pos < in_len ? in[in_pos++] : 0; }
static uint16_t next16(void) { return (uint16_t)(next8() | (next8() << 8)); }

/* ---- state --------------------------------------------------------------- */

static struct virtq vq;
static struct virtq_slot slots[MAXN];
static unsigned char ring[VIRTQ_PACKED_RING_BYTES(MAXN)] __attribute__((aligned(16)));
static struct virtq_desc tables[MAXC][4] __attribute__((aligned(16)));
static unsigned char arena[MAXC][4][16]; /* segment memory: identifies the cookie */
static uint32_t num;
static uint64_t feats;

struct cookie {
    int state;     /* 0 free, 1 added (driver holds it), 2 returned */
    uint32_t wlen; /* writable bytes posted */
    unsigned ndesc;
    unsigned nseg, nout, lens[4];
    int indirect;
};
static struct cookie ck[MAXC];
static unsigned inflight_desc;
static int hostile; /* a hostile op ran since the last reset */

/* The honest device. */
static uint16_t d_avail, d_used;
static int d_avail_wrap, d_used_wrap;
static unsigned char d_taken[65536];
static uint16_t d_ndesc[65536];
static unsigned d_cookie_of[65536];
struct held { uint16_t id; unsigned cookie; };
static struct held held[MAXN];
static unsigned nheld;
/* Completions the driver must return, in order (honest device). */
static unsigned expect_ck[MAXN * 2], expect_len[MAXN * 2], nexpect, expect_head;
static int armed; /* enable_intr answered false: the next use must interrupt */
static unsigned armed_after, after_uses; /* _after(n) answered false: within n uses */
static uint16_t pub_end; /* where the last publish's batch ended (model) */
static int pub_end_wrap;

static volatile struct pvirtq_desc *D(void) { return (volatile struct pvirtq_desc *)ring; }
static volatile struct pvirtq_event_suppress *DRV(void)
{
    return (volatile struct pvirtq_event_suppress *)(ring + 16u * num);
}
static volatile struct pvirtq_event_suppress *DEV(void)
{
    return (volatile struct pvirtq_event_suppress *)(ring + 16u * num + 4u);
}

static void step_pos(uint16_t *p, int *w)
{
    if (++*p == num) {
        *p = 0;
        *w = !*w;
    }
}

static void reset_model(void)
{
    memset(ck, 0, sizeof(ck));
    memset(d_taken, 0, sizeof(d_taken));
    inflight_desc = 0;
    hostile = 0;
    d_avail = d_used = 0;
    d_avail_wrap = d_used_wrap = 1;
    nheld = nexpect = expect_head = 0;
    armed = 0;
    armed_after = after_uses = 0;
    pub_end = 0;
    pub_end_wrap = 1;
}

static void init_queue(void)
{
    memset(ring, 0xa5, sizeof(ring));
    CHECK(virtq_init(&vq, num, VIRTQ_ALIGN_MODERN, ring, slots, feats) == VIRTQ_OK, "init");
    reset_model();
}

static unsigned cookie_index(void *c)
{
    unsigned k = (unsigned)((struct cookie *)c - ck);
    CHECK((struct cookie *)c >= ck && k < MAXC, "cookie %p was never added", c);
    return k;
}

/* ---- driver ops ---------------------------------------------------------- */

static void op_add(int indirect)
{
    uint8_t b = next8();
    unsigned nseg = 1u + (b & 3u), out = ((b >> 2) & 7u) % (nseg + 1u), bad = b >> 5, i, k;
    struct virtq_buf bufs[4];
    struct virtq snap;
    static struct virtq_slot sslots[MAXN];
    int rc;
    for (k = 0; k < MAXC && ck[k].state == 1; k++)
        ;
    if (k == MAXC)
        return;
    for (i = 0; i < nseg; i++) {
        bufs[i].addr = arena[k][i];
        bufs[i].len = 1u + next8() % 16u;
    }
    if (bad == 1)
        bufs[nseg - 1].addr = NULL;
    if (bad == 2)
        bufs[0].len = 0;
    memcpy(&snap, &vq, sizeof(vq));
    memcpy(sslots, slots, sizeof(slots[0]) * num);
    rc = indirect ? virtq_add_indirect(&vq, bufs, out, nseg - out, tables[k], &ck[k])
                  : virtq_add(&vq, bufs, out, nseg - out, &ck[k]);
    {
        /* Each refusal must name a condition that holds; with none, OK. */
        int is_broken = virtq_is_broken(&vq);
        int einval = bad == 1 || bad == 2 || nseg > num;
        int enotsup = indirect && !(feats & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC));
        int enospc = (indirect ? 1u : nseg) > num - inflight_desc;
        if (rc != VIRTQ_OK) {
            CHECK(memcmp(&snap, &vq, sizeof(vq)) == 0, "failed add (%d) changed the queue", rc);
            CHECK(memcmp(sslots, slots, sizeof(slots[0]) * num) == 0, "failed add changed slots");
            CHECK((rc == VIRTQ_EBROKEN && is_broken) || (rc == VIRTQ_EINVAL && einval) ||
                      (rc == VIRTQ_ENOTSUP && enotsup) || (rc == VIRTQ_ENOSPC && enospc),
                  "add refused with %d: broken %d einval %d enotsup %d enospc %d (%u free)", rc,
                  is_broken, einval, enotsup, enospc, num - inflight_desc);
            return;
        }
        CHECK(!is_broken && !einval && !enotsup && !enospc, "add accepted against a refusal");
    }
    CHECK(bad != 1 && bad != 2, "a bad segment was accepted");
    ck[k].state = 1;
    ck[k].indirect = indirect;
    ck[k].ndesc = indirect ? 1u : nseg;
    ck[k].nseg = nseg;
    ck[k].nout = out;
    ck[k].wlen = 0;
    for (i = 0; i < nseg; i++) {
        ck[k].lens[i] = bufs[i].len;
        if (i >= out)
            ck[k].wlen += bufs[i].len;
    }
    inflight_desc += ck[k].ndesc;
    CHECK(virtq_num_free(&vq) == num - inflight_desc, "num_free %u, want %u",
          virtq_num_free(&vq), num - inflight_desc);
}

static void op_publish(void)
{
    bool notify = true;
    uint16_t ev_flags = DEV()->flags & 3u, ev = DEV()->desc, p = pub_end;
    int w = pub_end_wrap, want = 0, rc;
    unsigned n;
    rc = virtq_publish(&vq, &notify);
    if (virtq_is_broken(&vq)) {
        CHECK(rc == VIRTQ_EBROKEN && !notify, "publish on a broken queue");
        return;
    }
    CHECK(rc == VIRTQ_OK, "publish %d", rc);
    if (hostile)
        return; /* a scribbled ring or event structure says nothing reliable */
    /* The batch just made available: from where the last one ended, while
       the flags say available in the lap. */
    for (n = 0; n < num; n++) {
        uint16_t f = D()[p].flags;
        int a = (f & VIRTQ_DESC_F_AVAIL) != 0, u = (f & VIRTQ_DESC_F_USED) != 0;
        if (!(a == w && u != w))
            break;
        if (p == (ev & 0x7fffu) && w == (ev >> 15))
            want = 1;
        step_pos(&p, &w);
    }
    pub_end = p;
    pub_end_wrap = w;
    /* "Driver and Device Event Suppression". */
    if (ev_flags == RING_EVENT_FLAGS_DISABLE)
        CHECK(!notify, "notify though the device disabled notifications");
    else if (ev_flags == RING_EVENT_FLAGS_DESC)
        CHECK(notify == (want != 0), "DESC event %#x: notify %d over %u new descriptors", ev,
              notify, n);
    else
        CHECK(notify == (n > 0u), "ENABLE: notify %d over %u new descriptors", notify, n);
}

static void got_cookie(void *c, uint32_t len)
{
    unsigned k = cookie_index(c);
    CHECK(ck[k].state == 1, "cookie %u returned twice (or never added)", k);
    CHECK(len <= ck[k].wlen, "length %u over the %u writable bytes posted", len, ck[k].wlen);
    if (!hostile) {
        CHECK(expect_head < nexpect, "honest device: get returned cookie %u before its use", k);
        CHECK(expect_ck[expect_head] == k && expect_len[expect_head] == len,
              "honest device: got cookie %u len %u, the device used %u len %u", k, len,
              expect_ck[expect_head], expect_len[expect_head]);
        expect_head++;
    }
    ck[k].state = 2;
    inflight_desc -= ck[k].ndesc;
}

static void op_get(void)
{
    void *c = NULL;
    uint32_t len = 0;
    int was_broken = virtq_is_broken(&vq), rc = virtq_get(&vq, &c, &len);
    if (was_broken) {
        CHECK(rc == VIRTQ_EBROKEN, "get on a broken queue: %d", rc);
        return;
    }
    if (rc == VIRTQ_OK) {
        got_cookie(c, len);
        CHECK(virtq_num_free(&vq) == num - inflight_desc, "num_free after get");
    } else if (rc == VIRTQ_EBROKEN) {
        CHECK(hostile, "an honest device broke the queue");
    } else {
        CHECK(rc == VIRTQ_EAGAIN, "get: %d", rc);
        if (!hostile)
            CHECK(expect_head == nexpect, "honest device used a buffer get does not return");
    }
}

static void op_detach(void)
{
    void *c;
    unsigned k, n = 0;
    while (virtq_detach(&vq, &c) == VIRTQ_OK) {
        k = cookie_index(c);
        CHECK(ck[k].state == 1, "detach returned cookie %u twice", k);
        ck[k].state = 2;
        CHECK(++n <= MAXC, "detach does not end");
    }
    for (k = 0; k < MAXC; k++)
        CHECK(ck[k].state != 1, "cookie %u never came back", k);
    CHECK(!virtq_is_broken(&vq) && virtq_num_free(&vq) == num, "detach left the queue unusable");
    reset_model();
}

/* ---- the honest device ---------------------------------------------------------- */

static unsigned seg_cookie(uint64_t addr)
{
    uintptr_t a = (uintptr_t)addr, base = (uintptr_t)arena;
    CHECK(a >= base && a < base + sizeof(arena), "segment address %#llx not a buffer",
          (unsigned long long)addr);
    return (unsigned)((a - base) / sizeof(arena[0]));
}

static void dev_pop(void)
{
    uint16_t p = d_avail, id = 0, f;
    int w = d_avail_wrap;
    unsigned n = 0, nseg = 0, k = MAXC, i;
    f = D()[p].flags;
    if (!(((f & VIRTQ_DESC_F_AVAIL) != 0) == w && ((f & VIRTQ_DESC_F_USED) != 0) != w))
        return;
    if (nheld >= num)
        return;
    for (;;) {
        volatile struct pvirtq_desc *x = &D()[p];
        f = x->flags;
        CHECK(((f & VIRTQ_DESC_F_AVAIL) != 0) == w && ((f & VIRTQ_DESC_F_USED) != 0) != w,
              "list descriptor %u not available (Next Flag: Descriptor Chaining)", p);
        CHECK(++n <= num, "list longer than Queue Size (Scatter-Gather Support)");
        id = x->id;
        if (f & VIRTQ_DESC_F_INDIRECT) {
            const struct pvirtq_desc *t = (const struct pvirtq_desc *)(uintptr_t)x->addr;
            unsigned tn = x->len / 16u;
            CHECK(feats & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC), "INDIRECT without the feature");
            CHECK(!(f & VIRTQ_DESC_F_NEXT) && n == 1u, "INDIRECT with NEXT (Indirect Descriptors)");
            CHECK(x->len % 16u == 0u && tn >= 1u && tn <= 4u, "table length %u", x->len);
            k = seg_cookie(t[0].addr);
            CHECK(t == (const struct pvirtq_desc *)tables[k], "table is not the one given");
            for (i = 0; i < tn; i++) {
                CHECK(!(t[i].flags & (uint16_t)~VIRTQ_DESC_F_WRITE),
                      "table flags %#x (Indirect Descriptors)", t[i].flags);
                CHECK(t[i].addr == (uint64_t)(uintptr_t)arena[k][i] && t[i].len == ck[k].lens[i] &&
                          (!(t[i].flags & VIRTQ_DESC_F_WRITE)) == (i < ck[k].nout),
                      "table entry %u differs from the segment added", i);
            }
            nseg = tn;
        } else {
            if (nseg == 0u)
                k = seg_cookie(x->addr);
            CHECK(nseg < 4u && x->addr == (uint64_t)(uintptr_t)arena[k][nseg] &&
                      x->len == ck[k].lens[nseg] &&
                      (!(f & VIRTQ_DESC_F_WRITE)) == (nseg < ck[k].nout),
                  "descriptor %u differs from segment %u added", p, nseg);
            nseg++;
        }
        step_pos(&p, &w);
        if (!(f & VIRTQ_DESC_F_NEXT))
            break;
    }
    CHECK(ck[k].state == 1 && nseg == ck[k].nseg && n == ck[k].ndesc,
          "buffer %u: %u segments in %u descriptors, added %u in %u", k, nseg, n, ck[k].nseg,
          ck[k].ndesc);
    CHECK(!d_taken[id], "buffer id %u taken twice", id);
    d_taken[id] = 1;
    d_ndesc[id] = (uint16_t)n;
    d_cookie_of[id] = k;
    held[nheld].id = id;
    held[nheld].cookie = k;
    nheld++;
    d_avail = p;
    d_avail_wrap = w;
}

static void dev_use(void)
{
    uint8_t b = next8();
    unsigned j, k, i;
    uint32_t len;
    uint16_t old = d_used, ev_flags;
    int oldw = d_used_wrap, irq = 0;
    volatile struct pvirtq_desc *x;
    if (nheld == 0u)
        return;
    j = b % nheld;
    k = held[j].cookie;
    len = ck[k].wlen ? next8() % (ck[k].wlen + 1u) : 0u;
    x = &D()[d_used];
    x->id = held[j].id;
    x->len = len;
    __atomic_store_n(&x->flags,
                     (uint16_t)(d_used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u),
                     __ATOMIC_RELEASE);
    for (i = 0; i < d_ndesc[held[j].id]; i++)
        step_pos(&d_used, &d_used_wrap);
    d_taken[held[j].id] = 0;
    held[j] = held[--nheld];
    expect_ck[nexpect] = k;
    expect_len[nexpect] = len;
    nexpect++;
    if (nexpect == sizeof(expect_ck) / sizeof(expect_ck[0])) {
        /* keep the window bounded: drop what was returned already */
        memmove(expect_ck, expect_ck + expect_head, (nexpect - expect_head) * sizeof(unsigned));
        memmove(expect_len, expect_len + expect_head, (nexpect - expect_head) * sizeof(unsigned));
        nexpect -= expect_head;
        expect_head = 0;
    }
    /* The interrupt decision by enumeration of the positions covered. */
    ev_flags = DRV()->flags & 3u;
    if (ev_flags == RING_EVENT_FLAGS_ENABLE) {
        irq = 1;
    } else if (ev_flags == RING_EVENT_FLAGS_DESC) {
        uint16_t ev = DRV()->desc, p = old;
        int w = oldw;
        CHECK(feats & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX), "DESC event without EVENT_IDX");
        while (p != d_used || w != d_used_wrap) {
            if (p == (ev & 0x7fffu) && w == (ev >> 15))
                irq = 1;
            step_pos(&p, &w);
        }
    } else {
        CHECK(ev_flags == RING_EVENT_FLAGS_DISABLE, "reserved driver event flags");
    }
    if (armed && !hostile)
        CHECK(irq, "enable_intr answered false, the next used buffer raised no interrupt");
    if (armed_after && !hostile && !irq)
        CHECK(++after_uses < armed_after, "enable_intr_after(%u) answered false, %u uses since "
              "raised no interrupt", armed_after, after_uses);
    if (irq)
        armed = 0, armed_after = 0;
}

static void dev_event(void)
{
    uint8_t b = next8();
    uint16_t off = (uint16_t)(next16() % num);
    DEV()->desc = (uint16_t)(off | ((b & 4u) ? 0x8000u : 0u));
    DEV()->flags = (uint16_t)(b % 3u);
    if (!(feats & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)) && DEV()->flags == RING_EVENT_FLAGS_DESC)
        DEV()->flags = RING_EVENT_FLAGS_ENABLE;
}

/* ---- the hostile device ----------------------------------------------------------- */

static void evil_used(void)
{
    uint16_t pos = (uint16_t)(next16() % num), id = next16(), fl = next16();
    uint32_t len = (uint32_t)next16();
    hostile = 1;
    if (next8() & 1u)
        pos = d_used, fl = (uint16_t)(d_used_wrap ? 0x8080u : 0u) | (fl & 0x7f7fu);
    if (next8() & 1u)
        id = (uint16_t)(id % (num + 2u));
    D()[pos].id = id;
    D()[pos].len = len;
    D()[pos].flags = fl;
}

static void evil_scribble(void)
{
    uint8_t b = next8();
    uint32_t off = next16() % (16u * num + 8u);
    hostile = 1;
    ring[off] = b;
}

/* ---- run ---------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in = data;
    in_len = size;
    in_pos = 0;
    steps = 0;
    num = 1u + next16() % MAXN;
    feats = VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) | VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    {
        uint8_t f = next8();
        if (f & 1u)
            feats |= VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
        if (f & 2u)
            feats |= VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
        if (f & 4u)
            feats |= VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM);
    }
    init_queue();
    while (in_pos < in_len && steps < 4000u) {
        int broken = virtq_is_broken(&vq), op = next8() % OP_COUNT;
        steps++;
        switch (op) {
        case OP_ADD: op_add(0); break;
        case OP_ADD_INDIRECT: op_add(1); break;
        case OP_PUBLISH: op_publish(); break;
        case OP_GET: op_get(); break;
        case OP_HAS_USED: {
            bool h = virtq_has_used(&vq);
            if (broken)
                CHECK(h, "has_used false on a broken queue");
            else if (!hostile)
                CHECK(h == (expect_head < nexpect), "has_used %d, %u used buffers waiting", h,
                      nexpect - expect_head);
            break;
        }
        case OP_DISABLE: virtq_disable_intr(&vq); armed = 0, armed_after = 0; break;
        case OP_ENABLE:
        case OP_ENABLE_DELAYED: {
            int delayed = op == OP_ENABLE_DELAYED;
            bool more = delayed ? virtq_enable_intr_delayed(&vq) : virtq_enable_intr(&vq);
            if (broken)
                CHECK(more, "enable_intr false on a broken queue");
            else if (!hostile && !delayed && expect_head < nexpect)
                CHECK(more, "enable_intr false with a used buffer waiting");
            armed = !more && !delayed && !broken;
            armed_after = 0;
            break;
        }
        case OP_ENABLE_AFTER: {
            unsigned n = next8();
            bool more = virtq_enable_intr_after(&vq, n);
            if (broken)
                CHECK(more, "enable_intr_after false on a broken queue");
            else if (!hostile && n <= 1u && expect_head < nexpect)
                CHECK(more, "enable_intr_after(%u) false with a used buffer waiting", n);
            else if (!hostile && more)
                CHECK(expect_head < nexpect, "enable_intr_after(%u) true with nothing used", n);
            armed = 0;
            armed_after = !more && !broken ? (n > 1u ? n : 1u) : 0u;
            after_uses = 0;
            break;
        }
        case OP_BREAK: virtq_break(&vq); break;
        case OP_DETACH: op_detach(); break;
        case OP_DEV_POP: if (!hostile) dev_pop(); break;
        case OP_DEV_USE: if (!hostile) dev_use(); break;
        case OP_DEV_EVENT: dev_event(); break;
        case OP_EVIL_USED: evil_used(); break;
        case OP_EVIL_SCRIBBLE: evil_scribble(); break;
        case OP_REINIT: op_detach(); init_queue(); break;
        }
        if (broken)
            CHECK(virtq_is_broken(&vq) || op == OP_DETACH || op == OP_REINIT,
                  "broken did not stay latched");
    }
    op_detach();
    return 0;
}
