/* SPDX-License-Identifier: MIT */
/* ---- ring_split.h: the split virtqueue ("Split Virtqueues") --------------- */
/* Driver side only.  The device-visible memory is written, never trusted:
   chains are walked through the private slot array, and every used element
   is checked before anything is freed. */

/* VIRTQ_HOT_INLINE (with VIRTQ_STATIC, in the implementation file): the
   hot path (virtq_add, virtq_publish, virtq_submit, virtq_get) is inlined
   into every caller, where the segment counts are usually constants: the fastest
   build (BENCHMARKS.md), each call site a little bigger. */
#if defined(VIRTQ_STATIC) && defined(VIRTQ_HOT_INLINE) && (defined(__GNUC__) || defined(__clang__))
#define VIRTQ__HOT inline __attribute__((always_inline))
#else
#define VIRTQ__HOT
#endif

static int virtq__pow2(uint32_t x) { return x != 0u && (x & (x - 1u)) == 0u; }

VIRTQ_API size_t virtq_ring_bytes(uint32_t num, uint32_t align)
{
    if (!virtq__pow2(num) || num > VIRTQ_MAX_SIZE || !virtq__pow2(align) || align < 4u)
        return 0;
    return VIRTQ_RING_BYTES(num, align);
}

/* Empty ring: zeroed shared memory, every descriptor on the free list in
   index order, all indices 0.  Volatile stores, so no memset is needed
   (freestanding) and none is elided. */
static void virtq__reset(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH_VOID(vq, virtq__packed_reset(vq))
    volatile uint32_t *w = (volatile uint32_t *)(void *)vq->desc;
    size_t i, words = VIRTQ_RING_BYTES(vq->num, vq->align) / 4u;
    for (i = 0; i < words; i++)
        w[i] = 0;
    /* A free slot is a NULL cookie and a link; its other fields are
       written by the add that takes it, before anything reads them. */
    for (i = 0; i < vq->num; i++) {
        vq->slot[i].cookie = NULL;
        vq->slot[i].next = (uint16_t)((i + 1u) & (vq->num - 1u));
    }
    vq->num_free = vq->num;
    vq->free_head = 0;
    vq->avail_idx = 0;
    vq->published_idx = 0;
    vq->last_used = 0;
    vq->detach_pos = 0;
    vq->flags &= (uint16_t)~(VIRTQ__Q_BROKEN | VIRTQ__Q_INTR_OFF | VIRTQ__Q_OWED |
                             VIRTQ__Q_DELAYED);
    vq->broken_reason = VIRTQ_BROKEN_NONE;
}

VIRTQ_API int virtq_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                         struct virtq_slot *slots, uint64_t features)
{
    VIRTQ__RING_DISPATCH_INIT(features, virtq__packed_init(vq, num, align, mem, slots, features))
    uintptr_t base = (uintptr_t)mem;
    if (vq == NULL || mem == NULL || slots == NULL || virtq_ring_bytes(num, align) == 0)
        return VIRTQ_EINVAL;
    /* "Virtqueue alignment": descriptor table 16, legacy the whole ring
       on the QueueAlign boundary. */
    if ((base & ((align > 16u ? align : 16u) - 1u)) != 0u)
        return VIRTQ_EINVAL;
    if (features & (VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) | VIRTQ__FEATURES_OUT))
        return VIRTQ_ENOTSUP;
    vq->desc = (struct virtq_desc *)mem;
    vq->avail = (struct virtq_avail *)(void *)(base + (uintptr_t)16u * num);
    vq->used = (struct virtq_used *)(void *)(base +
        VIRTQ__ALIGN_UP((size_t)16u * num + 6u + (size_t)2u * num, align));
    vq->used_event = (uint16_t *)(void *)((uintptr_t)vq->avail + 4u + (uintptr_t)2u * num);
    vq->avail_event = (uint16_t *)(void *)((uintptr_t)vq->used + 4u + (uintptr_t)8u * num);
    vq->slot = slots;
    vq->num = (uint16_t)num;
    vq->mask = (uint16_t)(num - 1u);
    vq->align = align;
    vq->index = 0;
    vq->flags = VIRTQ__Q_READY;
    if (features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
        vq->flags |= VIRTQ__Q_EVENT_IDX;
    if (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC))
        vq->flags |= VIRTQ__Q_INDIRECT;
    if (features & VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM))
        vq->flags |= VIRTQ__Q_PLATFORM;
    virtq__reset(vq);
    return VIRTQ_OK;
}

/* Bytes of the whole chain bufs[0..n), or UINT64_MAX for a NULL or empty
   segment.  Checked before anything is written, so a refused add leaves
   every byte of ring memory, private state and an indirect table as it
   was (docs/HARDENING.md). */
static uint64_t virtq__chain_bytes(const struct virtq_buf *bufs, unsigned n)
{
    uint64_t total = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return UINT64_MAX;
        total += bufs[i].len;
    }
    return total;
}

/* EINVAL for a bad queue, EBROKEN for a broken one. */
static VIRTQ__COLD int virtq__state_error(const struct virtq *vq)
{
    return (vq != NULL && (vq->flags & VIRTQ__Q_BROKEN)) ? VIRTQ_EBROKEN : VIRTQ_EINVAL;
}

/* Why an add was refused, worked out only once it was: the hot path below
   tests everything with one combined condition. */
static VIRTQ__COLD int virtq__add_error(const struct virtq *vq, const struct virtq_buf *bufs,
                                        unsigned out, unsigned in, const void *cookie)
{
    if (vq == NULL || bufs == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    /* "The Virtqueue Descriptor Table": a chain is at most Queue Size long. */
    if (out > vq->num || in > vq->num || out + in == 0u || out + in > vq->num)
        return VIRTQ_EINVAL;
    if (virtq__chain_bytes(bufs, out + in) > UINT32_MAX)
        return VIRTQ_EINVAL;
    return VIRTQ_ENOSPC; /* valid, but not enough free descriptors now */
}

/* Write one descriptor.  The device reads none of it before avail.idx
   publishes the chain, so the field order does not matter. */
VIRTQ__INLINE void virtq__desc_set(struct virtq_desc *d, void *addr, uint32_t len,
                                   uint16_t flags, uint16_t next)
{
    VIRTQ_DMA_SYNC_FOR_DEVICE(addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0u);
    VIRTQ__ST64(&d->addr, VIRTQ_VIRT_TO_DMA(addr));
    VIRTQ__ST32(&d->len, len);
    VIRTQ__ST16(&d->flags, flags);
    VIRTQ__ST16(&d->next, next);
}

/* Fill an indirect table from bufs (already checked), readable first,
   entry i linked to i + 1.  Returns the writable byte count. */
static uint32_t virtq__fill_table(struct virtq_desc *table, const struct virtq_buf *bufs,
                                  unsigned out, unsigned n)
{
    uint32_t wlen = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        uint16_t flags = (uint16_t)(i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u);
        if (i >= out) {
            flags |= VIRTQ_DESC_F_WRITE;
            wlen += bufs[i].len;
        }
        virtq__desc_set(&table[i], bufs[i].addr, bufs[i].len, flags, (uint16_t)(i + 1u));
    }
    return wlen;
}

/* The chain is owned from here on: record it and queue its head in the
   avail ring (not yet visible: virtq_publish() writes avail.idx). */
VIRTQ__INLINE void virtq__commit(struct virtq *vq, uint16_t head, uint16_t tail, uint16_t ndesc,
                                 uint32_t wlen, void *cookie)
{
    struct virtq_slot *s = &vq->slot[head];
    uint16_t pos = vq->avail_idx;
    /* A head taken from the free list is in no chain in flight. */
    VIRTQ_ASSERT(s->cookie == NULL);
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = ndesc;
    s->pos = pos;
    s->tail = tail;
    VIRTQ__ST16(&vq->avail->ring[pos & vq->mask], head);
    vq->avail_idx = (uint16_t)(pos + 1u);
}

/* Every segment of bufs[0..n) present and non-empty, and the chain at most
   2^32 - 1 bytes in total ("The Virtqueue Descriptor Table"; used.len
   could not say more either). */
VIRTQ__INLINE bool virtq__segs_ok(const struct virtq_buf *bufs, unsigned n)
{
    uint64_t total = 0;
    unsigned i;
    /* Same loop twice: unrolled when n is a small constant. */
    if (VIRTQ__CONST_SMALL(n)) { /* NOLINT(bugprone-branch-clone) */
        VIRTQ__UNROLL
        for (i = 0; i < n; i++) {
            if (bufs[i].addr == NULL || bufs[i].len == 0u)
                return false;
            total += bufs[i].len;
        }
    } else {
        for (i = 0; i < n; i++) {
            if (bufs[i].addr == NULL || bufs[i].len == 0u)
                return false;
            total += bufs[i].len;
        }
    }
    return total <= UINT32_MAX;
}

/* Write bufs[0..n) (checked) into the first n descriptors of the free list,
   readable first.  Each descriptor's next is already its free-list link,
   so the chain is linked as it is written.  Returns the writable bytes;
   *tail gets the last descriptor, *after the free list's new head. */
VIRTQ__INLINE uint32_t virtq__write_chain(struct virtq *vq, const struct virtq_buf *bufs,
                                          unsigned out, unsigned n, uint16_t *tail,
                                          uint16_t *after)
{
    struct virtq_desc *desc = vq->desc;
    const struct virtq_slot *slot = vq->slot;
    uint16_t idx = vq->free_head, last = idx, flags = 0;
    uint32_t wlen = 0;
    unsigned i;
    /* Same loop twice: unrolled when n is a small constant. */
    if (VIRTQ__CONST_SMALL(n)) { /* NOLINT(bugprone-branch-clone) */
        /* Straight-line: each descriptor's flags are constants. */
        VIRTQ__UNROLL
        for (i = 0; i < n; i++) {
            flags = (uint16_t)((i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u) |
                               (i >= out ? VIRTQ_DESC_F_WRITE : 0u));
            if (i >= out)
                wlen += bufs[i].len;
            last = idx;
            idx = slot[last].next;
            virtq__desc_set(&desc[last], bufs[i].addr, bufs[i].len, flags, idx);
        }
    } else {
        for (i = 0; i < n; i++) {
            flags = (uint16_t)(i < out ? VIRTQ_DESC_F_NEXT
                                       : VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
            if (i >= out)
                wlen += bufs[i].len;
            last = idx;
            idx = slot[last].next;
            virtq__desc_set(&desc[last], bufs[i].addr, bufs[i].len, flags, idx);
        }
        /* "Message Framing": the chain ends here, no NEXT on the last one
           (rewritten before anything is published). */
        VIRTQ__ST16(&desc[last].flags, flags & (uint16_t)~VIRTQ_DESC_F_NEXT);
    }
    *tail = last;
    *after = idx;
    return wlen;
}

/* Step 3 of an add (the queue, the counts, the free count and every
   segment already checked). */
VIRTQ__INLINE int virtq__add_checked(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                     unsigned n, void *cookie)
{
    uint16_t head, tail, after;
    uint32_t wlen;
    /* Step 3, write the chain, take it off the free list, record it and
       queue its head (not visible to the device before virtq_publish()). */
    head = vq->free_head;
    wlen = virtq__write_chain(vq, bufs, out, n, &tail, &after);
    vq->free_head = after;
    vq->num_free = (uint16_t)(vq->num_free - n);
    virtq__commit(vq, head, tail, (uint16_t)n, wlen, cookie);
    return VIRTQ_OK;
}

/* Steps 2 and 3 of an add (the queue and the counts already checked). */
VIRTQ__INLINE int virtq__add_segs(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                  unsigned n, void *cookie)
{
    /* Step 2, every segment, before anything is written: a refused add
       leaves ring memory and private state exactly as they were. */
    if (VIRTQ__UNLIKELY(!virtq__segs_ok(bufs, n)))
        return VIRTQ_EINVAL;
    return virtq__add_checked(vq, bufs, out, n, cookie);
}

#if !defined(__OPTIMIZE_SIZE__) && (defined(__GNUC__) || defined(__clang__))
/* Out of line, a chain of a variable length: its loops keep many values
   live, and a separate function keeps that cost off the one-segment
   path; the common short chains are unrolled (none of this is built when
   optimising for size). */
static __attribute__((noinline)) int virtq__add_chain(struct virtq *vq,
                                                      const struct virtq_buf *bufs,
                                                      unsigned out, unsigned n, void *cookie)
{
    /* Two and three segments (a request header + data + status) unrolled. */
    if (n == 2u)
        return virtq__add_segs(vq, bufs, out, 2u, cookie);
    if (n == 3u)
        return virtq__add_segs(vq, bufs, out, 3u, cookie);
    return virtq__add_segs(vq, bufs, out, n, cookie);
}
#define VIRTQ__ADD1_FAST 1
#else
#define VIRTQ__ADD1_FAST 0
#endif

/* virtq_add()'s work, shared with virtq_submit(). */
VIRTQ__INLINE int virtq__add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                             unsigned in, void *cookie)
{
    unsigned n = out + in;
    /* Step 1, the queue and the counts (each refusal classified out of
       line): NULLs, not ready or broken, out + in overflowing, n == 0 or
       beyond the free count (which also bounds it by the ring size). */
    if (VIRTQ__UNLIKELY(vq == NULL || bufs == NULL || cookie == NULL))
        return VIRTQ_EINVAL;
    if (VIRTQ__UNLIKELY((vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return virtq__state_error(vq);
    if (VIRTQ__UNLIKELY(n < out))
        return VIRTQ_EINVAL;
#if !VIRTQ__ADD1_FAST
    /* Optimising for size: the same checks with one copy of the segment
       loop, which then also classifies a chain that does not fit. */
    if (VIRTQ__UNLIKELY(n == 0u || n > vq->num || !virtq__segs_ok(bufs, n)))
        return VIRTQ_EINVAL;
    if (VIRTQ__UNLIKELY(n > vq->num_free))
        return VIRTQ_ENOSPC;
    return virtq__add_checked(vq, bufs, out, n, cookie);
#else
    if (VIRTQ__UNLIKELY(n - 1u >= vq->num_free)) {
        /* "The Virtqueue Descriptor Table": a chain is at most Queue Size
           long; a valid one that does not fit now waits for virtq_get().
           (Classified here, not in a helper that takes bufs: the caller's
           segment list then need not live in memory.) */
        if (n == 0u || n > vq->num || !virtq__segs_ok(bufs, n))
            return VIRTQ_EINVAL;
        return VIRTQ_ENOSPC;
    }
    /* A variable count: one segment (a receive buffer, a single transfer)
       takes a straight path, longer chains the loops. */
    if (!VIRTQ__CONST_SMALL(n)) {
        if (n == 1u)
            return virtq__add_segs(vq, bufs, out, 1u, cookie);
        return virtq__add_chain(vq, bufs, out, n, cookie);
    }
    return virtq__add_segs(vq, bufs, out, n, cookie);
#endif
}

VIRTQ_API VIRTQ__HOT int virtq_add(struct virtq *vq, const struct virtq_buf *bufs,
                                   unsigned out, unsigned in, void *cookie)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_add(vq, bufs, out, in, cookie))
    return virtq__add(vq, bufs, out, in, cookie);
}

VIRTQ_API int virtq_add_indirect(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                 unsigned in, struct virtq_desc *table, void *cookie)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_add_indirect(vq, bufs, out, in, table, cookie))
    uint32_t wlen;
    uint16_t head;
    unsigned n = out + in;
    if (vq == NULL || bufs == NULL || cookie == NULL ||
        (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY || n == 0u ||
        n > vq->num || n < out) {
        int rc = virtq__add_error(vq, bufs, out, in, cookie);
        return rc == VIRTQ_ENOSPC ? VIRTQ_EINVAL : rc;
    }
    if (table == NULL || ((uintptr_t)table & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (!(vq->flags & VIRTQ__Q_INDIRECT))
        return VIRTQ_ENOTSUP; /* "Indirect Descriptors" need the feature */
    /* As for virtq_add(): the whole chain checked before the table is. */
    if (virtq__chain_bytes(bufs, n) > UINT32_MAX)
        return VIRTQ_EINVAL;
    if (vq->num_free == 0u)
        return VIRTQ_ENOSPC;
    wlen = virtq__fill_table(table, bufs, out, n);
    head = vq->free_head;
    /* INDIRECT never with NEXT ("Indirect Descriptors"). */
    virtq__desc_set(&vq->desc[head], table, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
    vq->free_head = vq->slot[head].next;
    vq->num_free--;
    virtq__commit(vq, head, head, 1, wlen, cookie);
    return VIRTQ_OK;
}

/* Why a publish was refused (cold): EINVAL or EBROKEN, never a kick. */
static VIRTQ__COLD int virtq__publish_error(const struct virtq *vq, bool *notify)
{
    if (notify == NULL)
        return VIRTQ_EINVAL;
    *notify = false;
    return virtq__state_error(vq);
}

/* The full barrier of the queue's strength (VIRTIO_F_ORDER_PLATFORM), from
   flags the caller already holds. */
VIRTQ__INLINE void virtq__mb_of(uint16_t flags)
{
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_MB();
    else
        VIRTQ_MB();
}

/* Make avail.idx = now visible: every chain added before it, descriptors
   and ring entries, goes with it (release). */
VIRTQ__INLINE void virtq__expose(struct virtq *vq, uint16_t now)
{
    VIRTQ__ST16_RELEASE(vq, &vq->avail->idx, now);
    vq->published_idx = now;
}

/* After the full barrier: does the device want a notification for any of
   old..now, all published? */
VIRTQ__INLINE bool virtq__wants_kick(const struct virtq *vq, uint16_t flags, uint16_t old,
                                     uint16_t now)
{
    if (flags & VIRTQ__Q_EVENT_IDX)
        return virtq_need_event(VIRTQ__LD16(vq->avail_event), now, old);
    return (VIRTQ__LD16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0u;
}

/* The kick decision for old..now with the queue's own full barrier. */
VIRTQ__INLINE bool virtq__decide(const struct virtq *vq, uint16_t flags, uint16_t old,
                                 uint16_t now)
{
    /* 2.7.13.4 "Notifying The Device": avail.idx must be visible before we
       read the device's suppression state, or both sides skip the kick. */
    virtq__mb_of(flags);
    return virtq__wants_kick(vq, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* The kick decision's less common cases, out of line: a queue ordered by
   the platform's DMA barriers (VIRTIO_F_ORDER_PLATFORM), and one where
   virtq_publish_defer() left a decision owed, whose window then starts at
   the last decision, kicked_idx.  That window holds the deferred batches
   (together at most a ring: virtq_publish_defer() refuses more) and the
   adds since (at most a ring), so it is at most 2^16 wide; exactly 2^16 (a
   Queue Size of 32768 run through twice) reads as empty, and gets a
   notification, which is always safe. */
static VIRTQ__NOINLINE bool virtq__decide_slow(struct virtq *vq, uint16_t flags, uint16_t old,
                                               uint16_t now)
{
    bool wrapped = false;
    if (flags & VIRTQ__Q_OWED) {
        old = vq->kicked_idx;
        wrapped = old == now;
        flags = (uint16_t)(flags & ~VIRTQ__Q_OWED);
        vq->flags = flags;
    }
    return virtq__decide(vq, flags, old, now) || wrapped;
}
#endif

/* Publish up to now, which is ahead of what was published (the queue
   checked usable): write avail.idx and decide. */
VIRTQ__INLINE bool virtq__publish_new(struct virtq *vq, uint16_t flags, uint16_t old,
                                      uint16_t now)
{
    /* Unpublished adds never exceed the ring size (each holds a descriptor),
       so old..now always fits the 16-bit event-index window: the "kick
       before 2^16 adds" rule holds by construction. */
    virtq__expose(vq, now);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & (VIRTQ__Q_PLATFORM | VIRTQ__Q_OWED)))
        return virtq__decide_slow(vq, flags, old, now);
    /* 2.7.13.4 "Notifying The Device": avail.idx must be visible before we
       read the device's suppression state, or both sides skip the kick
       (the plain barrier: PLATFORM queues took the slow path). */
    VIRTQ_MB();
    return virtq__wants_kick(vq, flags, old, now);
#else
    return virtq__decide(vq, flags, old, now);
#endif
}

VIRTQ__INLINE bool virtq__publish(struct virtq *vq, uint16_t flags, uint16_t now)
{
    uint16_t old = vq->published_idx;
    if (old == now)
        return false; /* nothing new never asks for a kick */
    return virtq__publish_new(vq, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* virtq_publish() while a decision is owed (cold): publish what is new,
   then decide from the last decision, even when nothing was added. */
static VIRTQ__COLD bool virtq__publish_owed(struct virtq *vq, uint16_t now)
{
    if (vq->published_idx != now)
        virtq__expose(vq, now);
    return virtq__decide_slow(vq, vq->flags, now, now);
}
#endif

VIRTQ_API VIRTQ__HOT int virtq_publish(struct virtq *vq, bool *notify)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_publish(vq, notify))
    uint16_t flags;
    if (VIRTQ__UNLIKELY(vq == NULL))
        return virtq__publish_error(vq, notify);
    flags = vq->flags;
    if (VIRTQ__UNLIKELY(notify == NULL ||
                        (flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return virtq__publish_error(vq, notify);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED)) {
        *notify = virtq__publish_owed(vq, vq->avail_idx);
        return VIRTQ_OK;
    }
#endif
    *notify = virtq__publish(vq, flags, vq->avail_idx);
    return VIRTQ_OK;
}

#if VIRTQ_PUBLISH_DEFER
VIRTQ_API int virtq_publish_defer(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_publish_defer(vq))
    uint16_t flags;
    if (vq == NULL)
        return VIRTQ_EINVAL;
    flags = vq->flags;
    if ((flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return virtq__state_error(vq);
    if (vq->published_idx == vq->avail_idx)
        return VIRTQ_OK; /* nothing added: nothing to publish */
    if (!(flags & VIRTQ__Q_OWED))
        vq->kicked_idx = vq->published_idx; /* decided up to here */
    else if ((unsigned)(uint16_t)(vq->published_idx - vq->kicked_idx) +
                 (uint16_t)(vq->avail_idx - vq->published_idx) > vq->num)
        return VIRTQ_EBUSY; /* more than a ring owed: decide first (window < 2^16) */
    virtq__expose(vq, vq->avail_idx);
    vq->flags = (uint16_t)(flags | VIRTQ__Q_OWED);
    return VIRTQ_OK;
}

VIRTQ_API int virtq_kick_prepare(struct virtq *vq, bool *notify)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_kick_prepare(vq, notify))
    uint16_t flags;
    if (vq == NULL || notify == NULL)
        return virtq__publish_error(vq, notify);
    flags = vq->flags;
    if ((flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return virtq__publish_error(vq, notify);
    if (!(flags & VIRTQ__Q_OWED)) {
        *notify = false; /* nothing owed */
        return VIRTQ_OK;
    }
    *notify = virtq__decide_slow(vq, flags, vq->published_idx, vq->published_idx);
    return VIRTQ_OK;
}
#endif

/* virtq_submit()'s work (vq and notify checked). */
VIRTQ__INLINE int virtq__submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                unsigned in, void *cookie, bool *notify)
{
    uint16_t flags = vq->flags;
    int rc = virtq__add(vq, bufs, out, in, cookie);
    if (VIRTQ__UNLIKELY(rc != VIRTQ_OK)) {
        *notify = false;
        return rc;
    }
    /* The add succeeded, so the queue is usable (an add changes no flag)
       and there is something new to publish. */
    *notify = virtq__publish_new(vq, flags, vq->published_idx, vq->avail_idx);
    return VIRTQ_OK;
}

#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)
/* The packed ring's submit: its add, then its publish. */
static int virtq__packed_submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                unsigned in, void *cookie, bool *notify)
{
    int rc = virtq__packed_add(vq, bufs, out, in, cookie);
    if (rc != VIRTQ_OK) {
        *notify = false;
        return rc;
    }
    return virtq__packed_publish(vq, notify);
}
#endif

#if VIRTQ__ADD1_FAST
/* Longer chains out of line, as for virtq_add(). */
static __attribute__((noinline)) int virtq__submit_chain(struct virtq *vq,
                                                         const struct virtq_buf *bufs,
                                                         unsigned out, unsigned in, void *cookie,
                                                         bool *notify)
{
    return virtq__submit(vq, bufs, out, in, cookie, notify);
}
#endif

VIRTQ_API VIRTQ__HOT int virtq_submit(struct virtq *vq, const struct virtq_buf *bufs,
                                      unsigned out, unsigned in, void *cookie, bool *notify)
{
    if (VIRTQ__UNLIKELY(notify == NULL || vq == NULL))
        return VIRTQ_EINVAL; /* before the add: a refused call changes nothing */
    VIRTQ__RING_DISPATCH(vq, virtq__packed_submit(vq, bufs, out, in, cookie, notify))
#if VIRTQ__ADD1_FAST
    if (!VIRTQ__CONST_SMALL(out + in) && out + in != 1u)
        return virtq__submit_chain(vq, bufs, out, in, cookie, notify);
#endif
    return virtq__submit(vq, bufs, out, in, cookie, notify);
}

/* Which check a used element with an in-range id failed, in the order
   the spec's rules build on each other (private state only). */
static VIRTQ__COLD enum virtq_broken_reason virtq__slot_fault(const struct virtq *vq,
                                                              const struct virtq_slot *s)
{
    if (s->cookie == NULL)
        return VIRTQ_BROKEN_NOT_IN_FLIGHT;
    if ((uint16_t)(s->pos - vq->published_idx) < (uint16_t)(vq->avail_idx - vq->published_idx))
        return VIRTQ_BROKEN_UNPUBLISHED;
    return VIRTQ_BROKEN_USED_LEN;
}

/* A used element broke the protocol: latch why, nothing else changes. */
static VIRTQ__COLD int virtq__used_broken(struct virtq *vq, enum virtq_broken_reason why)
{
    virtq__break(vq, why);
    return VIRTQ_EBROKEN;
}

VIRTQ_API VIRTQ__HOT int virtq_get(struct virtq *vq, void **cookie, uint32_t *len)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_get(vq, cookie, len))
    const struct virtq_used *used;
    struct virtq_slot *s;
    uint16_t last, pub, pending;
    uint32_t id, ulen;
    void *c;
    if (VIRTQ__UNLIKELY(vq == NULL || cookie == NULL ||
                        (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return cookie == NULL ? VIRTQ_EINVAL : virtq__state_error(vq);
    used = vq->used;
    last = vq->last_used;
    /* Step 1: read used.idx once; the acquire orders the element reads
       after it.  The device cannot use more chains than were published. */
    pending = (uint16_t)(VIRTQ__LD16_ACQUIRE(vq, &used->idx) - last);
    if (pending == 0u)
        return VIRTQ_EAGAIN;
    if (VIRTQ__UNLIKELY(pending > (uint16_t)(vq->published_idx - last)))
        return virtq__used_broken(vq, VIRTQ_BROKEN_USED_IDX);
    /* Step 2: copy the element once; shared memory is never read twice. */
    id = VIRTQ__LD32(&used->ring[last & vq->mask].id);
    ulen = VIRTQ__LD32(&used->ring[last & vq->mask].len);
    /* Step 3: the full 32-bit id must name an in-flight head (not a chain's
       middle, not one already used, not one added but not yet published),
       and the device may not claim to have written more than was posted
       writable. */
    if (VIRTQ__UNLIKELY(id >= vq->num))
        return virtq__used_broken(vq, VIRTQ_BROKEN_USED_ID);
    s = &vq->slot[id];
    c = s->cookie;
    pub = vq->published_idx;
    if (VIRTQ__UNLIKELY(c == NULL ||
                        (ulen > s->wlen && !(vq->flags & VIRTQ__Q_ANY_LEN)) ||
                        (uint16_t)(s->pos - pub) < (uint16_t)(vq->avail_idx - pub)))
        return virtq__used_broken(vq, virtq__slot_fault(vq, s));
    /* Step 4: the caller's (nothing of ours is left to check). */
    *cookie = c;
    if (len != NULL)
        *len = ulen;
    /* Step 5: free the chain through private state only: its links are
       intact from the free list, so splice head..tail back in front. */
    VIRTQ_ASSERT(s->ndesc >= 1u && vq->num_free + s->ndesc <= vq->num);
    s->cookie = NULL;
    vq->slot[s->tail].next = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
    last++;
    vq->last_used = last;
    /* Keep the device interrupting for the next buffer.  No barrier: this
       is a hint, and every sleep re-arms through virtq_enable_intr().  Not
       after a delayed re-arm, which asked for one interrupt at a set
       buffer: moved back to the next one, the event could fall behind
       what the device has used, and that interrupt would never come. */
    if (VIRTQ__Q_EVENT_IDX != 0u &&
        (vq->flags & (VIRTQ__Q_EVENT_IDX | VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED)) ==
            VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, last);
    return VIRTQ_OK;
}

/* What virtq_get() would say about its next call, without taking
   anything: VIRTQ_OK (a used buffer waits), VIRTQ_EAGAIN (none yet),
   VIRTQ_EINVAL (no usable queue) or VIRTQ_EBROKEN.  The used element is
   checked only when virtq_get() takes it. */
static int virtq__used_state(const struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_used_state(vq))
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    return VIRTQ__LD16(&vq->used->idx) != vq->last_used ? VIRTQ_OK : VIRTQ_EAGAIN;
}

VIRTQ_API bool virtq_has_used(const struct virtq *vq)
{
    return virtq__used_state(vq) != VIRTQ_EAGAIN;
}

VIRTQ_API void virtq_disable_intr(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH_VOID(vq, virtq__packed_disable_intr(vq))
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return;
    vq->flags |= VIRTQ__Q_INTR_OFF; /* a DELAYED bit left here is inert */
    /* "Used Buffer Notification Suppression".  With EVENT_IDX an event one
       behind what we consumed is crossed only after 2^16 more buffers. */
    if (vq->flags & VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, (uint16_t)(vq->last_used - 1u));
    else
        VIRTQ__ST16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Re-arm with the event at last_used + delay, then re-check: true if
   more than delay buffers are already used, or virtq_get() has an error
   to report (no usable queue, broken): never sleep on those. */
static bool virtq__arm(struct virtq *vq, uint16_t delay)
{
    if (vq == NULL || (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return true;
    vq->flags &= (uint16_t)~(VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED);
    if (vq->flags & VIRTQ__Q_EVENT_IDX) {
        VIRTQ__ST16(vq->used_event, (uint16_t)(vq->last_used + delay));
        if (delay != 0u)
            vq->flags |= VIRTQ__Q_DELAYED;
    } else {
        VIRTQ__ST16(&vq->avail->flags, 0);
    }
    /* 2.7.10: the re-arm must be visible before we re-read used.idx, or a
       buffer used in between raises no interrupt and we sleep on it. */
    virtq__mb(vq);
    return (uint16_t)(VIRTQ__LD16(&vq->used->idx) - vq->last_used) > delay;
}

VIRTQ_API bool virtq_enable_intr(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_arm(vq, 0))
    return virtq__arm(vq, 0);
}

VIRTQ_API bool virtq_enable_intr_after(struct virtq *vq, unsigned n)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_enable_intr_after(vq, n))
    uint16_t outstanding;
    /* Only an event index can ask for a later interrupt; with flags, a
       delay would leave buffers used before the re-arm unannounced. */
    if (vq == NULL || !(vq->flags & VIRTQ__Q_EVENT_IDX))
        return virtq__arm(vq, 0);
    /* Never past the last published buffer: that interrupt would not come. */
    outstanding = (uint16_t)(vq->published_idx - vq->last_used);
    if (n > outstanding)
        n = outstanding;
    return virtq__arm(vq, (uint16_t)(n != 0u ? n - 1u : 0u));
}

/* About 3/4 of what is in flight, as Linux's virtqueue_enable_cb_delayed. */
VIRTQ_API bool virtq_enable_intr_delayed(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_enable_intr_delayed(vq))
    uint16_t outstanding;
    if (vq == NULL)
        return true;
    outstanding = (uint16_t)(vq->published_idx - vq->last_used);
    return virtq_enable_intr_after(vq, outstanding * 3u / 4u + 1u);
}

VIRTQ_API bool virtq_is_broken(const struct virtq *vq)
{
    return vq == NULL || (vq->flags & VIRTQ__Q_BROKEN) != 0u;
}

VIRTQ_API unsigned virtq_num_free(const struct virtq *vq)
{
    return vq == NULL ? 0u : vq->num_free;
}

VIRTQ_API void virtq_ignore_used_len(struct virtq *vq, bool ignore)
{
    if (vq == NULL)
        return;
    if (ignore)
        vq->flags |= VIRTQ__Q_ANY_LEN;
    else
        vq->flags &= (uint16_t)~VIRTQ__Q_ANY_LEN;
}

VIRTQ_API int virtq_detach(struct virtq *vq, void **cookie)
{
    if (vq == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    /* Until the last cookie is out, the queue is unusable: latch broken
       so no add or get interleaves with the hand-back. */
    virtq__break(vq, VIRTQ_BROKEN_DETACH);
    while (vq->detach_pos < vq->num) {
        struct virtq_slot *s = &vq->slot[vq->detach_pos++];
        if (s->cookie != NULL) {
            *cookie = s->cookie;
            s->cookie = NULL;
            return VIRTQ_OK;
        }
    }
    virtq__reset(vq);
    return VIRTQ_EAGAIN;
}
