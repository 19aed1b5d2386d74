/* SPDX-License-Identifier: MIT */
/* ---- ring_packed.h: the packed virtqueue ("Packed Virtqueues") ------------ */
/* Driver side only, built when VIRTQ_RINGS has VIRTQ_RING_PACKED; the
   public ring functions (ring_split.h) hand a packed queue to these.
   As for the split ring, device-visible memory is written, never trusted:
   chain lengths, cookies and posted lengths live in the private slots,
   indexed by buffer id (not by descriptor position), and every used
   descriptor is checked before anything is freed.

   A position is pos | wrap << 15: the ring offset with the wrap counter
   that goes with it, as in the event suppression "desc" field ("Driver
   and Device Ring Wrap Counters": both counters start at 1).
     avail_idx   where the next chain goes (Driver Ring Wrap Counter)
     published_idx  the first position not yet made available: the head of
                 the oldest unpublished chain
     last_used   where the device writes its next used descriptor
   Descriptors from published_idx to avail_idx are added but not visible; the
   published ones in flight add up to last_used..published_idx.  A buffer may
   stay in flight while the ring laps past it many times (the device uses
   out of order), so "published?" is a mark in its slot, never a position:
   each add numbers its buffer with the batch being added (slot.tail, the
   batch number in mask), and virtq_publish() closes the batch by counting
   on, so "unpublished" is "numbered with the current batch" and publishing
   any batch is O(1).  The flags of the batch's first head wait in align,
   and where they go in avail_event (neither has another use in a packed
   ring), until virtq_publish() writes them. */
#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)

#define VIRTQ__PW_WRAP 0x8000u
#define VIRTQ__PW_POS 0x7fffu
#define VIRTQ__PDESC(vq) ((struct pvirtq_desc *)(void *)(vq)->desc)
/* Driver Area: the driver event suppression structure (we write it). */
#define VIRTQ__PDRIVER(vq) ((struct pvirtq_event_suppress *)(void *)(vq)->avail)
/* Device Area: the device event suppression structure (we only read it). */
#define VIRTQ__PDEVICE(vq) ((struct pvirtq_event_suppress *)(void *)(vq)->used)
#define VIRTQ__P_BATCH(vq) ((vq)->mask) /* number of the batch being added: 1..0xffff */
#define VIRTQ__P_HEADF(vq) ((vq)->align) /* flags of the head at published_idx */
/* Its descriptor, kept in avail_event (a uint16_t *; a descriptor is 16-aligned). */
#define VIRTQ__P_HEADP(vq) ((struct pvirtq_desc *)(void *)(vq)->avail_event)
#define VIRTQ__P_SET_HEADP(vq, d) ((vq)->avail_event = (uint16_t *)(void *)(d))
#define VIRTQ__P_LIVE (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)

#if !defined(__OPTIMIZE_SIZE__) && (defined(__GNUC__) || defined(__clang__))
/* One segment straight and the common two and three unrolled (as
   ring_split.h does), other chains out of line, and add, publish and get
   inlined into the public functions; none of it when optimising for
   size (one copy of each, called). */
#define VIRTQ__P_ADD1_FAST 1
#define VIRTQ__P_APART static __attribute__((noinline))
#define VIRTQ__P_HOT VIRTQ__INLINE
#else
#define VIRTQ__P_ADD1_FAST 0
#define VIRTQ__P_APART static
#define VIRTQ__P_HOT static
#endif

/* Position pw moved on by n (<= num) descriptors; the wrap bit flips when
   it passes the end of the ring. */
VIRTQ__INLINE uint16_t virtq__pw_add(const struct virtq *vq, uint16_t pw, uint32_t n)
{
    uint32_t p = (pw & VIRTQ__PW_POS) + n;
    if (p >= vq->num)
        return (uint16_t)((p - vq->num) | ((pw & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP));
    return (uint16_t)(p | (pw & VIRTQ__PW_WRAP));
}

/* Descriptors from position a forward to position b, in [0, 2 num): two
   laps tell the wrap bits apart.  Values up to num mean b is at or after
   a; larger ones that b is behind a. */
VIRTQ__INLINE uint32_t virtq__pw_dist(const struct virtq *vq, uint16_t a, uint16_t b)
{
    int32_t d = (int32_t)(b & VIRTQ__PW_POS) - (int32_t)(a & VIRTQ__PW_POS);
    if ((a ^ b) & VIRTQ__PW_WRAP)
        d += vq->num;
    if (d < 0)
        d += 2 * (int32_t)vq->num;
    return (uint32_t)d;
}

/* AVAIL equal to the wrap counter, USED its inverse: "available" in the
   lap of position pw ("Driver and Device Ring Wrap Counters"). */
VIRTQ__INLINE uint16_t virtq__pavail(uint16_t pw)
{
    return (uint16_t)((pw & VIRTQ__PW_WRAP) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
}

/* Empty ring: "The descriptor ring is zero-initialized", event structures
   0 (ENABLE), every buffer id free, all positions 0 with wrap 1. */
static void virtq__packed_reset(struct virtq *vq)
{
    volatile uint32_t *w = (volatile uint32_t *)(void *)vq->desc;
    size_t i, words = VIRTQ_PACKED_RING_BYTES(vq->num) / 4u;
    for (i = 0; i < words; i++)
        w[i] = 0;
    for (i = 0; i < vq->num; i++) {
        vq->slot[i].cookie = NULL;
        vq->slot[i].wlen = 0;
        vq->slot[i].ndesc = 0;
        vq->slot[i].pos = 0;
        vq->slot[i].tail = 0; /* batch 0: older than any batch */
        vq->slot[i].next = (uint16_t)(i + 1u); /* the last one is never followed */
    }
    vq->num_free = vq->num;
    vq->free_head = 0;
    vq->avail_idx = VIRTQ__PW_WRAP;
    vq->published_idx = VIRTQ__PW_WRAP;
    vq->last_used = VIRTQ__PW_WRAP;
    VIRTQ__P_BATCH(vq) = 1;
    VIRTQ__P_HEADF(vq) = 0;
    VIRTQ__P_SET_HEADP(vq, &VIRTQ__PDESC(vq)[0]);
    vq->detach_pos = 0;
    vq->flags &= (uint16_t)~(VIRTQ__Q_BROKEN | VIRTQ__Q_INTR_OFF | VIRTQ__Q_OWED |
                             VIRTQ__Q_DELAYED);
    vq->broken_reason = VIRTQ_BROKEN_NONE;
}

static int virtq__packed_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                              struct virtq_slot *slots, uint64_t features)
{
    uintptr_t base = (uintptr_t)mem;
    if (vq == NULL || mem == NULL || slots == NULL || virtq_packed_ring_bytes(num) == 0u)
        return VIRTQ_EINVAL;
    /* "Structure Size and Alignment": descriptor ring 16, the event
       structures 4 (they follow at 16 num and 16 num + 4). */
    if ((base & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (features & VIRTQ__FEATURES_OUT)
        return VIRTQ_ENOTSUP;
    vq->desc = (struct virtq_desc *)mem;
    vq->avail = (struct virtq_avail *)(void *)(base + (uintptr_t)16u * num);
    vq->used = (struct virtq_used *)(void *)(base + (uintptr_t)16u * num + 4u);
    vq->used_event = &VIRTQ__PDRIVER(vq)->desc;
    vq->slot = slots;
    vq->num = (uint16_t)num; /* 32768 fits: positions use 15 bits */
    (void)align; /* "Structure Size and Alignment" fixes the layout */
    vq->index = 0;
    vq->flags = VIRTQ__Q_READY | VIRTQ__Q_PACKED;
    if (features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
        vq->flags |= VIRTQ__Q_EVENT_IDX;
    if (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC))
        vq->flags |= VIRTQ__Q_INDIRECT;
    if (features & VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM))
        vq->flags |= VIRTQ__Q_PLATFORM;
    virtq__packed_reset(vq);
    return VIRTQ_OK;
}

/* Why an add was refused, worked out only once it was. */
static VIRTQ__COLD int virtq__packed_add_error(const struct virtq *vq, const struct virtq_buf *bufs,
                                               unsigned out, unsigned in, const void *cookie)
{
    unsigned i;
    if (vq == NULL || bufs == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    /* "Scatter-Gather Support": a list is at most Queue Size long. */
    if (out > vq->num || in > vq->num || out + in == 0u || out + in > vq->num)
        return VIRTQ_EINVAL;
    for (i = 0; i < out + in; i++)
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return VIRTQ_EINVAL;
    return VIRTQ_ENOSPC;
}

/* Write one descriptor but its flags.  Nothing here is visible before the
   flags of the oldest unpublished head, so the field order is free. */
VIRTQ__INLINE void virtq__pdesc_set(struct pvirtq_desc *d, const void *addr, uint32_t len,
                                    uint16_t id, int device_writes)
{
    (void)device_writes; /* used by some VIRTQ_DMA_SYNC_FOR_DEVICE only */
    VIRTQ_DMA_SYNC_FOR_DEVICE(addr, len, device_writes);
    VIRTQ__ST64(&d->addr, VIRTQ_VIRT_TO_DMA(addr));
    VIRTQ__ST32(&d->len, len);
    VIRTQ__ST16(&d->id, id);
}

/* The chain of n descriptors from head (avail_idx) to end, head flags
   head_flags, is written: take buffer id off the free list, record it in
   private state numbered with the batch being added (unpublished), and
   either keep the head flags for virtq_publish() (the batch's first
   chain) or write them now (a later chain: the device cannot pass the
   unpublished head before it, "Polling of available and used
   descriptors"). */
VIRTQ__INLINE void virtq__packed_commit(struct virtq *vq, uint16_t id, uint16_t head, uint16_t end,
                                        uint16_t n, uint16_t head_flags, uint32_t wlen,
                                        void *cookie)
{
    struct virtq_slot *s = &vq->slot[id];
    vq->free_head = s->next;
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = n;
    s->tail = VIRTQ__P_BATCH(vq);
    if (head == vq->published_idx) {
        VIRTQ__P_HEADF(vq) = head_flags;
        VIRTQ__P_SET_HEADP(vq, &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS]);
    } else
        VIRTQ__ST16(&VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS].flags, head_flags);
    vq->avail_idx = end;
}

/* A refused add wrote the flags of descriptors 1..written-1 after
   avail_idx as available in this lap.  Nothing can reach them now, but a
   later chain whose head lands before them would expose them with its own
   flags, so turn each back into "not available" (AVAIL of the last lap,
   USED of this one: what a skipped inner descriptor looks like), and
   give back the taken descriptors the free count was charged already. */
static VIRTQ__COLD int virtq__packed_add_undo(struct virtq *vq, unsigned written, unsigned taken)
{
    uint16_t pw = vq->avail_idx;
    unsigned k;
    vq->num_free = (uint16_t)(vq->num_free + taken);
    for (k = 1; k < written; k++) {
        pw = virtq__pw_add(vq, pw, 1);
        VIRTQ__ST16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].flags,
                    virtq__pavail(pw) ^ (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED));
    }
    return VIRTQ_EINVAL;
}

/* One segment, the queue and the count checked (out + in == 1, so out
   above 1 means the sum wrapped): the segment is checked before anything
   is written, so a refusal needs no undo.  The steps in the order that
   keeps fewest values live. */
VIRTQ__INLINE int virtq__packed_add1(struct virtq *vq, const struct virtq_buf *b, unsigned out,
                                     void *cookie)
{
    const void *addr = b->addr;
    uint32_t len = b->len, wlen = 0;
    struct pvirtq_desc *d;
    struct virtq_slot *s;
    uint16_t head, id, flags, end;
    if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
        return VIRTQ_EINVAL;
    head = vq->avail_idx;
    flags = virtq__pavail(head); /* no NEXT: the chain ends here */
    if (VIRTQ__LIKELY(out == 0u)) { /* a receive buffer, the usual one */
        flags |= VIRTQ_DESC_F_WRITE;
        wlen = len;
    } else if (VIRTQ__UNLIKELY(out != 1u)) {
        return VIRTQ_EINVAL; /* out + in wrapped */
    }
    id = vq->free_head;
    d = &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS];
    virtq__pdesc_set(d, addr, len, id, out == 0u);
    s = &vq->slot[id];
    vq->free_head = s->next;
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = 1;
    s->tail = VIRTQ__P_BATCH(vq);
    if (head == vq->published_idx) { /* the batch's first head: publish writes it */
        VIRTQ__P_HEADF(vq) = flags;
        VIRTQ__P_SET_HEADP(vq, d);
    } else {
        VIRTQ__ST16(&d->flags, flags);
    }
    end = (uint16_t)(head + 1u);
    if ((end & VIRTQ__PW_POS) == vq->num) /* past the end: the next lap */
        end = (uint16_t)((head & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP);
    vq->avail_idx = end;
    vq->num_free--;
    return VIRTQ_OK;
}

/* Where a chain is being written: ring position (offset, wrap bit), the
   AVAIL/USED pair of its lap, writable bytes so far, the head's flags. */
struct virtq__pchain {
    uint16_t pos, wrap, avail, head_flags;
    uint64_t wlen;
};

/* Descriptor i of n, buffer id, at the chain's position: 0 for a bad
   segment (nothing written).  "Placing Available Buffers Into The
   Descriptor Ring": flags AVAIL = wrap counter, USED = its inverse, NEXT
   on all but the last ("Next Flag: Descriptor Chaining"), Buffer ID in
   every one (the spec reads it from the last).  The head's flags are kept:
   it is made available last.  The wrap is tracked here: n <= num, so a
   chain crosses the end of the ring at most once. */
VIRTQ__INLINE int virtq__packed_put(struct pvirtq_desc *ring, uint16_t num, struct virtq__pchain *ch,
                                    const struct virtq_buf *b, unsigned i, unsigned out,
                                    unsigned n, uint16_t id)
{
    const void *addr = b->addr;
    uint32_t len = b->len;
    uint16_t flags = (uint16_t)(ch->avail | (i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u));
    struct pvirtq_desc *d = &ring[ch->pos];
    if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
        return 0;
    if (i >= out) {
        flags |= VIRTQ_DESC_F_WRITE;
        ch->wlen += len;
    }
    virtq__pdesc_set(d, addr, len, id, i >= out);
    if (i == 0u)
        ch->head_flags = flags;
    else
        VIRTQ__ST16(&d->flags, flags);
    if (++ch->pos == num) { /* past the end: the next lap */
        ch->pos = 0;
        ch->wrap ^= VIRTQ__PW_WRAP;
        ch->avail ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
    }
    return 1;
}

/* A chain of n (1..num_free) descriptors, the queue and the count checked
   (out + in may have wrapped).  The positions from avail_idx on are free:
   the device does not read them before the oldest unpublished head is
   made available; a bad segment found half-way undoes the flags
   written. */
VIRTQ__P_APART int virtq__packed_chain(struct virtq *vq, const struct virtq_buf *bufs,
                                       unsigned out, unsigned n, void *cookie)
{
    struct pvirtq_desc *ring = VIRTQ__PDESC(vq);
    struct virtq__pchain ch;
    uint16_t head = vq->avail_idx, id = vq->free_head, num = vq->num;
    unsigned i;
    if (VIRTQ__UNLIKELY(n < out))
        return VIRTQ_EINVAL; /* out + in wrapped */
    ch.pos = (uint16_t)(head & VIRTQ__PW_POS);
    ch.wrap = (uint16_t)(head & VIRTQ__PW_WRAP);
    ch.avail = virtq__pavail(head);
    ch.head_flags = 0;
    ch.wlen = 0;
    for (i = 0; i < n; i++)
        if (VIRTQ__UNLIKELY(!virtq__packed_put(ring, num, &ch, &bufs[i], i, out, n, id)))
            return virtq__packed_add_undo(vq, i, 0);
    if (VIRTQ__UNLIKELY(ch.wlen > UINT32_MAX))
        return virtq__packed_add_undo(vq, n, 0); /* a used length could not say it */
    vq->num_free = (uint16_t)(vq->num_free - n);
    virtq__packed_commit(vq, id, head, (uint16_t)(ch.pos | ch.wrap), (uint16_t)n, ch.head_flags,
                         (uint32_t)ch.wlen, cookie);
    return VIRTQ_OK;
}

#if VIRTQ__P_ADD1_FAST
/* virtq__packed_chain() for a constant n that does not reach past the end
   of the ring (one lap: the same AVAIL/USED pair on every descriptor), in
   straight-line code; a chain that wraps takes the loop. */
VIRTQ__INLINE int virtq__packed_run(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                    unsigned n, void *cookie)
{
    struct pvirtq_desc *d;
    uint64_t wlen = 0;
    uint16_t head = vq->avail_idx, id, avail, head_flags = 0, end;
    unsigned i;
    if (VIRTQ__UNLIKELY((head & VIRTQ__PW_POS) + n > vq->num || n < out))
        return virtq__packed_chain(vq, bufs, out, n, cookie);
    id = vq->free_head;
    avail = virtq__pavail(head);
    d = &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS];
    vq->num_free = (uint16_t)(vq->num_free - n); /* put back by an undo */
    VIRTQ__UNROLL
    for (i = 0; i < n; i++) {
        const void *addr = bufs[i].addr;
        uint32_t len = bufs[i].len;
        uint16_t flags = (uint16_t)(avail | (i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u));
        if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
            return virtq__packed_add_undo(vq, i, n);
        if (i >= out) {
            flags |= VIRTQ_DESC_F_WRITE;
            wlen += len;
        }
        virtq__pdesc_set(&d[i], addr, len, id, i >= out);
        if (i == 0u)
            head_flags = flags; /* the head is made available last */
        else
            VIRTQ__ST16(&d[i].flags, flags);
    }
    if (VIRTQ__UNLIKELY(wlen > UINT32_MAX))
        return virtq__packed_add_undo(vq, n, n); /* a used length could not say it */
    end = (uint16_t)(head + n);
    if ((end & VIRTQ__PW_POS) == vq->num) /* ends at the end: the next lap */
        end = (uint16_t)((head & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP);
    virtq__packed_commit(vq, id, head, end, (uint16_t)n, head_flags, (uint32_t)wlen, cookie);
    return VIRTQ_OK;
}

/* Two and three segments (a request header + data + status) unrolled. */
static __attribute__((noinline)) int virtq__packed_add_chain(struct virtq *vq,
                                                             const struct virtq_buf *bufs,
                                                             unsigned out, unsigned n,
                                                             void *cookie)
{
    if (n == 2u)
        return virtq__packed_run(vq, bufs, out, 2u, cookie);
    if (n == 3u)
        return virtq__packed_run(vq, bufs, out, 3u, cookie);
    return virtq__packed_chain(vq, bufs, out, n, cookie);
}
#else
#define virtq__packed_add_chain virtq__packed_chain
#endif

VIRTQ__P_HOT int virtq__packed_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                             unsigned in, void *cookie)
{
    unsigned n = out + in;
    /* One test for every refusal (as the split ring): NULLs, not ready or
       broken, n == 0 or beyond the free descriptors (so never beyond the
       ring), out + in overflowing.  A free descriptor means a free buffer
       id: each id in flight holds at least one descriptor. */
    if (VIRTQ__UNLIKELY(vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY ||
                        bufs == NULL || n - 1u >= vq->num_free || cookie == NULL))
        return virtq__packed_add_error(vq, bufs, out, in, cookie);
#if VIRTQ__P_ADD1_FAST
    if (n == 1u)
        return virtq__packed_add1(vq, bufs, out, cookie);
#endif
    return virtq__packed_add_chain(vq, bufs, out, n, cookie);
}

static int virtq__packed_add_indirect(struct virtq *vq, const struct virtq_buf *bufs,
                                      unsigned out, unsigned in, struct virtq_desc *table,
                                      void *cookie)
{
    struct pvirtq_desc *t = (struct pvirtq_desc *)(void *)table;
    uint64_t wlen = 0;
    uint16_t id, head;
    unsigned i, n = out + in;
    if (vq == NULL || bufs == NULL || cookie == NULL ||
        (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY || n == 0u || n > vq->num || n < out) {
        int rc = virtq__packed_add_error(vq, bufs, out, in, cookie);
        return rc == VIRTQ_ENOSPC ? VIRTQ_EINVAL : rc;
    }
    if (table == NULL || ((uintptr_t)table & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (!(vq->flags & VIRTQ__Q_INDIRECT))
        return VIRTQ_ENOTSUP; /* "Indirect Flag: Scatter-Gather Support" needs the feature */
    if (vq->num_free == 0u)
        return VIRTQ_ENOSPC;
    /* The table is struct pvirtq_desc entries (same size as struct
       virtq_desc): WRITE is the only valid flag, Buffer ID reserved, and
       the entries follow each other with no NEXT. */
    for (i = 0; i < n; i++) {
        int w = i >= out;
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return VIRTQ_EINVAL;
        if (w)
            wlen += bufs[i].len;
        virtq__pdesc_set(&t[i], bufs[i].addr, bufs[i].len, 0, w);
        VIRTQ__ST16(&t[i].flags, w ? VIRTQ_DESC_F_WRITE : 0u);
    }
    if (wlen > UINT32_MAX)
        return VIRTQ_EINVAL;
    id = vq->free_head;
    head = vq->avail_idx;
    /* One ring descriptor: INDIRECT, never with NEXT; WRITE is reserved on
       it ("Indirect Descriptors"). */
    virtq__pdesc_set(&VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS], table, 16u * n, id, 0);
    vq->num_free--;
    virtq__packed_commit(vq, id, head, virtq__pw_add(vq, head, 1), 1,
                         (uint16_t)(virtq__pavail(head) | VIRTQ_DESC_F_INDIRECT),
                         (uint32_t)wlen, cookie);
    return VIRTQ_OK;
}

/* EINVAL for a bad queue, EBROKEN for a broken one. */
static VIRTQ__COLD int virtq__packed_state_error(const struct virtq *vq)
{
    return (vq != NULL && (vq->flags & VIRTQ__Q_BROKEN)) ? VIRTQ_EBROKEN : VIRTQ_EINVAL;
}

/* Why a publish was refused (cold): EINVAL or EBROKEN, never a kick. */
static VIRTQ__COLD int virtq__packed_publish_error(const struct virtq *vq, bool *notify)
{
    if (notify == NULL)
        return VIRTQ_EINVAL;
    *notify = false;
    return virtq__packed_state_error(vq);
}

/* With EVENT_IDX, the device's event descriptor ev (offset and wrap
   counter) asks for a notification when it is among the descriptors just
   made available, [old, now).  Each position is put in now's lap (one lap
   behind: num less), and the wrap-safe vring_need_event form decides
   (positions are at most two laps, 65536, apart). */
VIRTQ__INLINE bool virtq__packed_need_event(uint16_t num, uint16_t ev, uint16_t old, uint16_t now)
{
    uint16_t e = (uint16_t)(ev & VIRTQ__PW_POS), o = (uint16_t)(old & VIRTQ__PW_POS);
    if ((ev ^ now) & VIRTQ__PW_WRAP)
        e = (uint16_t)(e - num);
    if ((old ^ now) & VIRTQ__PW_WRAP)
        o = (uint16_t)(o - num);
    return virtq_need_event(e, (uint16_t)(now & VIRTQ__PW_POS), o);
}

/* The kick decision for old..now, all published. */
VIRTQ__INLINE bool virtq__packed_decide(const struct virtq *vq, uint16_t flags, uint16_t old,
                                        uint16_t now)
{
    const struct pvirtq_event_suppress *dev_ev;
    uint16_t ev;
    /* "Sending Available Buffer Notifications": the flags must be visible
       before we read the device's suppression structure, or both sides
       skip the notification. */
    virtq__mb(vq);
    dev_ev = VIRTQ__PDEVICE(vq);
    ev = (uint16_t)(VIRTQ__LD16(&dev_ev->flags) & 3u);
    if (ev == RING_EVENT_FLAGS_DESC && (flags & VIRTQ__Q_EVENT_IDX)) {
        /* The event at old (a device that went idle waiting for the next
           descriptor) is among them without the arithmetic. */
        ev = VIRTQ__LD16(&dev_ev->desc);
        return ev == old || virtq__packed_need_event(vq->num, ev, old, now);
    }
    /* DESC without EVENT_IDX and the reserved value 3 mean nothing the
       driver may rely on: notify. */
    return ev != RING_EVENT_FLAGS_DISABLE;
}

/* Publish the batch old..now (not empty, its number closed): the oldest
   head's flags, then the kick decision. */
VIRTQ__P_HOT int virtq__packed_publish_batch(struct virtq *vq, bool *notify, uint16_t flags,
                                             uint16_t old, uint16_t now)
{
    /* "Updating flags": every descriptor of every chain added since the
       last publish (later heads included) before the oldest head's flags,
       which make the whole batch available at once. */
    VIRTQ__ST16_RELEASE(vq, &VIRTQ__P_HEADP(vq)->flags, (uint16_t)VIRTQ__P_HEADF(vq));
    vq->published_idx = now;
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED)) {
        /* virtq_publish_defer(): the decision waits for virtq_kick_prepare(). */
        *notify = false;
        return VIRTQ_OK;
    }
    *notify = virtq__packed_decide(vq, flags, old, now);
    return VIRTQ_OK;
}

/* Batch numbers run 1..0xffff.  When the count wraps, every buffer (all
   published at this point) is renumbered 0, older than any batch to come,
   so one in flight for 65535 publishes is never taken for one of the
   newest batch.  O(num) once per 65535 publishes; then the publish goes
   on (a tail call: the hot path saves no registers for it). */
static VIRTQ__COLD int virtq__packed_publish_renumbered(struct virtq *vq, bool *notify,
                                                        uint16_t flags, uint16_t old,
                                                        uint16_t now)
{
    uint32_t i;
    for (i = 0; i < vq->num; i++)
        vq->slot[i].tail = 0;
    VIRTQ__P_BATCH(vq) = 1;
    return virtq__packed_publish_batch(vq, notify, flags, old, now);
}

/* The publish of a checked queue: close the added batch and make it
   available, then decide, unless flags has OWED (the decision waits). */
VIRTQ__INLINE int virtq__packed_publish_as(struct virtq *vq, bool *notify, uint16_t flags)
{
    uint16_t old = vq->published_idx, now = vq->avail_idx;
    if (old == now) {
        *notify = false; /* nothing added (a full ring of adds differs in wrap) */
        return VIRTQ_OK;
    }
    /* The batch is published: later adds get the next number. */
    if (VIRTQ__UNLIKELY(++VIRTQ__P_BATCH(vq) == 0u))
        return virtq__packed_publish_renumbered(vq, notify, flags, old, now);
    return virtq__packed_publish_batch(vq, notify, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* A publish while virtq_publish_defer() left a decision owed (cold): the
   new batch (if any), then one decision from kicked_idx.  The deferred
   batches (together: virtq__packed_publish_defer() refuses more) and the
   adds since are each at most a ring, so the window is at
   most two laps; the event arithmetic is exact up to one, and a wider
   window (a ring run through between the two calls) just notifies, which
   is always safe. */
static VIRTQ__COLD int virtq__packed_publish_owed(struct virtq *vq, bool *notify)
{
    uint16_t old = vq->kicked_idx;
    uint32_t dist;
    (void)virtq__packed_publish_as(vq, notify, vq->flags); /* OWED: no decision */
    vq->flags &= (uint16_t)~VIRTQ__Q_OWED;
    dist = virtq__pw_dist(vq, old, vq->published_idx);
    *notify = virtq__packed_decide(vq, vq->flags, old, vq->published_idx) || dist == 0u ||
              dist > vq->num;
    return VIRTQ_OK;
}
#endif

VIRTQ__P_HOT int virtq__packed_publish(struct virtq *vq, bool *notify)
{
    uint16_t flags;
    if (VIRTQ__UNLIKELY(vq == NULL))
        return virtq__packed_publish_error(vq, notify);
    flags = vq->flags;
    if (VIRTQ__UNLIKELY(notify == NULL || (flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY))
        return virtq__packed_publish_error(vq, notify);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED))
        return virtq__packed_publish_owed(vq, notify);
#endif
    return virtq__packed_publish_as(vq, notify, flags);
}

#if VIRTQ_PUBLISH_DEFER
static int virtq__packed_publish_defer(struct virtq *vq)
{
    bool unused;
    uint16_t flags;
    if (vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return virtq__packed_state_error(vq);
    flags = vq->flags;
    if (vq->published_idx == vq->avail_idx)
        return VIRTQ_OK; /* nothing added: nothing to publish */
    if (!(flags & VIRTQ__Q_OWED)) {
        vq->kicked_idx = vq->published_idx; /* decided up to here */
        flags = (uint16_t)(flags | VIRTQ__Q_OWED);
        vq->flags = flags;
    } else if (virtq__pw_dist(vq, vq->kicked_idx, vq->published_idx) +
                   virtq__pw_dist(vq, vq->published_idx, vq->avail_idx) > vq->num) {
        return VIRTQ_EBUSY; /* more than a ring owed: decide first (a lap at most) */
    }
    return virtq__packed_publish_as(vq, &unused, flags);
}

static int virtq__packed_kick_prepare(struct virtq *vq, bool *notify)
{
    uint16_t flags;
    if (vq == NULL || notify == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return virtq__packed_publish_error(vq, notify);
    flags = vq->flags;
    if (!(flags & VIRTQ__Q_OWED)) {
        *notify = false; /* nothing owed */
        return VIRTQ_OK;
    }
    flags = (uint16_t)(flags & ~VIRTQ__Q_OWED);
    vq->flags = flags;
    *notify = virtq__packed_decide(vq, flags, vq->kicked_idx, vq->published_idx);
    return VIRTQ_OK;
}
#endif

/* 1 when the descriptor at position pw is used in its lap: AVAIL and USED
   both equal the wrap counter ("Driver and Device Ring Wrap Counters").
   Every other pair means "not yet": available in this lap, used in the
   last, or a chain's inner descriptor from the last lap, which the device
   skips and never overwrites ("Next Flag: Descriptor Chaining"). */
VIRTQ__INLINE int virtq__packed_used_flags(uint16_t flags, uint16_t pw)
{
    uint16_t want = (pw & VIRTQ__PW_WRAP) ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u;
    return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == want;
}

VIRTQ__INLINE int virtq__packed_is_used(const struct virtq *vq, uint16_t pw)
{
    return virtq__packed_used_flags(VIRTQ__LD16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].flags), pw);
}

/* A used descriptor broke the rules: which one, from private state only
   (ring_broken.h logs it); nothing else changes. */
static VIRTQ__COLD int virtq__packed_used_broken(struct virtq *vq, uint32_t id)
{
    virtq__break(vq, id >= vq->num                             ? VIRTQ_BROKEN_USED_ID
                     : vq->slot[id].cookie == NULL             ? VIRTQ_BROKEN_NOT_IN_FLIGHT
                     : vq->slot[id].tail == VIRTQ__P_BATCH(vq) ? VIRTQ_BROKEN_UNPUBLISHED
                                                               : VIRTQ_BROKEN_USED_LEN);
    return VIRTQ_EBROKEN;
}

VIRTQ__P_HOT int virtq__packed_get(struct virtq *vq, void **cookie, uint32_t *len)
{
    const struct pvirtq_desc *d;
    struct virtq_slot *s;
    uint32_t ulen;
    uint16_t id, pw, pos, flags, n;
    void *c;
    if (VIRTQ__UNLIKELY(vq == NULL || cookie == NULL ||
                        (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY))
        return cookie == NULL ? VIRTQ_EINVAL : virtq__packed_state_error(vq);
    pw = vq->last_used;
    d = &VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS];
    /* "Receiving Used Buffers From The Device": the flags first, then (the
       acquire) the rest of the descriptor, which the device wrote before
       them. */
    flags = VIRTQ__LD16_ACQUIRE(vq, &d->flags);
    if (!virtq__packed_used_flags(flags, pw))
        return VIRTQ_EAGAIN;
    /* Copy the element once; shared memory is never read twice. */
    id = VIRTQ__LD16(&d->id);
    ulen = VIRTQ__LD32(&d->len);
    /* The id must name a buffer in flight (not free, not used already:
       a repeat) and published (not a device running ahead of what was
       made available, nor a used descriptor where none was outstanding,
       whose wrap bits contradict the ring's state); the length may not
       exceed what was posted writable.  Published chains in flight add up
       to last_used..published_idx, so this also bounds the skip below.
       The WRITE bit of a used descriptor is not needed for the length
       (QEMU leaves it clear). */
    if (VIRTQ__UNLIKELY(id >= vq->num))
        return virtq__packed_used_broken(vq, id);
    s = &vq->slot[id];
    /* "Next Flag: Descriptor Chaining": where the next used descriptor
       goes, the chain's length taken from private state, never from the
       device (at most num); worked out here, where it frees the most
       registers, and stored only once the id checks out. */
    n = s->ndesc;
    pos = (uint16_t)((pw & VIRTQ__PW_POS) + n);
    pw &= VIRTQ__PW_WRAP;
    if (pos >= vq->num) { /* past the end: the next lap */
        pos = (uint16_t)(pos - vq->num);
        pw ^= VIRTQ__PW_WRAP;
    }
    pw |= pos;
    c = s->cookie;
    if (VIRTQ__UNLIKELY(c == NULL || s->tail == VIRTQ__P_BATCH(vq) ||
                        (ulen > s->wlen && !(vq->flags & VIRTQ__Q_ANY_LEN))))
        return virtq__packed_used_broken(vq, id);
    /* Checked: the caller's first, then ours (the order keeps few values
       live). */
    *cookie = c;
    if (len != NULL)
        *len = ulen;
    vq->last_used = pw;
    /* Keep the device interrupting for the next used descriptor, as the
       split ring moves used_event.  A hint: no barrier, every sleep
       re-arms through virtq_enable_intr().  Not after a delayed re-arm
       (see virtq_get in ring_split.h). */
    if (VIRTQ__Q_EVENT_IDX != 0u &&
        (vq->flags & (VIRTQ__Q_EVENT_IDX | VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED)) ==
            VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, pw);
    /* Free the id. */
    vq->num_free = (uint16_t)(vq->num_free + n);
    s->cookie = NULL;
    s->next = vq->free_head;
    vq->free_head = id;
    return VIRTQ_OK;
}

/* What virtq_get() would say next, taking nothing (see ring_split.h). */
static int virtq__packed_used_state(const struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    return virtq__packed_is_used(vq, vq->last_used) ? VIRTQ_OK : VIRTQ_EAGAIN;
}

static void virtq__packed_disable_intr(struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return;
    vq->flags |= VIRTQ__Q_INTR_OFF; /* a DELAYED bit left here is inert */
    /* "Driver and Device Event Suppression": DISABLE, with or without
       EVENT_IDX. */
    VIRTQ__ST16(&VIRTQ__PDRIVER(vq)->flags, RING_EVENT_FLAGS_DISABLE);
}

/* True when the device has written used descriptors beyond delay positions
   past last_used (it crossed the event), walking the used chains through
   private lengths; an id that does not check out ends the walk with 1, so
   the caller's virtq_get() finds and latches it. */
static bool virtq__packed_used_past(const struct virtq *vq, uint32_t delay)
{
    uint16_t pw = vq->last_used;
    uint32_t walked = 0, i;
    for (i = 0; i < vq->num && walked <= delay; i++) {
        uint32_t id;
        if (!virtq__packed_is_used(vq, pw))
            return false;
        id = VIRTQ__LD16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].id);
        if (id >= vq->num || vq->slot[id].cookie == NULL ||
            vq->slot[id].tail == VIRTQ__P_BATCH(vq))
            return true;
        walked += vq->slot[id].ndesc;
        pw = virtq__pw_add(vq, pw, vq->slot[id].ndesc);
    }
    return walked > delay;
}

/* Re-arm with the event delay descriptors past last_used (EVENT_IDX) or
   plain ENABLE, then re-check: true when the device crossed the event
   already, or virtq_get() has an error to report (never sleep on it). */
static bool virtq__packed_arm(struct virtq *vq, uint32_t delay)
{
    struct pvirtq_event_suppress *drv;
    if (vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return true;
    drv = VIRTQ__PDRIVER(vq);
    vq->flags &= (uint16_t)~(VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED);
    if (vq->flags & VIRTQ__Q_EVENT_IDX) {
        VIRTQ__ST16(&drv->desc, virtq__pw_add(vq, vq->last_used, delay));
        VIRTQ__ST16(&drv->flags, RING_EVENT_FLAGS_DESC);
        if (delay != 0u)
            vq->flags |= VIRTQ__Q_DELAYED;
    } else {
        VIRTQ__ST16(&drv->flags, RING_EVENT_FLAGS_ENABLE);
    }
    /* "Receiving Used Buffers From The Device" (the note): the re-arm must
       be visible before we look at the ring again, or a buffer used in
       between raises no interrupt and we sleep on it. */
    virtq__mb(vq);
    return delay == 0u ? virtq__packed_is_used(vq, vq->last_used) != 0
                       : virtq__packed_used_past(vq, delay);
}

/* The event counts descriptors, and a chain may have several: n
   descriptors are used no later than n buffers, so the interrupt is
   never later than asked (earlier with longer chains). */
static bool virtq__packed_enable_intr_after(struct virtq *vq, unsigned n)
{
    uint32_t outstanding;
    if (vq == NULL || !(vq->flags & VIRTQ__Q_EVENT_IDX))
        return virtq__packed_arm(vq, 0); /* only an event can be delayed */
    /* Published descriptors in flight: at most num. */
    outstanding = virtq__pw_dist(vq, vq->last_used, vq->published_idx);
    if (n > outstanding)
        n = outstanding;
    return virtq__packed_arm(vq, n != 0u ? n - 1u : 0u);
}

static bool virtq__packed_enable_intr_delayed(struct virtq *vq)
{
    if (vq == NULL)
        return true;
    return virtq__packed_enable_intr_after(
        vq, virtq__pw_dist(vq, vq->last_used, vq->published_idx) * 3u / 4u + 1u);
}

#endif /* VIRTQ_RINGS & VIRTQ_RING_PACKED */
