/* SPDX-License-Identifier: MIT */
/* load.c — see load.h. */
#include "load.h"

/* A request in flight.  Its tag is its slot's index + 1, so a completion
   finds its extent and length without a search. */
struct bl__slot {
    uint32_t len;
    unsigned ext;
};

/* The window: where submission stands and what the device holds. */
struct bl__window {
    struct vblk *b;
    struct bl_extent *ext;
    unsigned n, cur;    /* extents; the one being submitted */
    uint64_t off;       /* next byte of ext[cur] to submit */
    uint32_t chunk;
    unsigned inflight;
    uint64_t busy;      /* one bit per slot in flight */
    struct bl__slot slot[BL_LOAD_MAX_DEPTH];
    struct bl_load_stats *st;
};

/* Every argument, before the first request; chunk and depth capped. */
static int bl__check(struct vblk *b, const struct bl_extent *ext, unsigned n, uint32_t *chunk,
                     unsigned *depth)
{
    unsigned i;
    /* The window owns the device's requests: a tag it did not hand out
       could not be told from its own. */
    if (!b || n == 0u || *depth == 0u || *chunk == 0u || vblk_pending(b) != 0u)
        return BL_EARG;
    for (i = 0; i < n; i++) {
        if (!ext[i].dst)
            return BL_EARG;
        if (ext[i].bytes % b->blk_size != 0u)
            return BL_ELOAD_ALIGN;
    }
    /* Chunks: whole logical blocks, within one request's reach. */
    if (*chunk > b->max_transfer)
        *chunk = b->max_transfer;
    *chunk -= *chunk % b->blk_size;
    if (*chunk == 0u)
        return BL_ELOAD_ALIGN;
    if (*depth > b->nreqs)
        *depth = b->nreqs;
    if (*depth > BL_LOAD_MAX_DEPTH)
        *depth = BL_LOAD_MAX_DEPTH;
    return BL_OK;
}

/* Anything left to submit?  Steps past extents already submitted whole. */
static int bl__more(struct bl__window *w)
{
    while (w->cur < w->n && w->off == w->ext[w->cur].bytes) {
        w->cur++;
        w->off = 0;
    }
    return w->cur < w->n;
}

/* Queue the next chunk, unpublished: VIRTQ_OK, VIRTQ_ENOSPC (the ring is
   full) or the driver's error.  Only when bl__more() said there is one and
   a slot is free (inflight < depth). */
static int bl__submit_next(struct bl__window *w)
{
    struct bl_extent *e = &w->ext[w->cur];
    uint64_t left = e->bytes - w->off;
    struct virtq_buf seg;
    unsigned s = 0;
    int rc;
    while (w->busy & (1ull << s))
        s++;
    seg.addr = (uint8_t *)e->dst + w->off;
    seg.len = left < w->chunk ? (uint32_t)left : w->chunk;
    rc = vblk_submit(w->b, VIRTIO_BLK_T_IN, e->sector + w->off / VBLK_SECTOR, &seg, 1,
                     (void *)(uintptr_t)(s + 1u), VBLK_NOKICK);
    if (rc != VIRTQ_OK)
        return rc;
    w->busy |= 1ull << s;
    w->slot[s].len = seg.len;
    w->slot[s].ext = w->cur;
    w->off += seg.len;
    w->inflight++;
    w->st->requests++;
    return VIRTQ_OK;
}

/* Take one completion (bounded wait).  A failed request's error goes to
   *first_err; the return value is the wait's. */
static int bl__take(struct bl__window *w, int *first_err)
{
    void *tag;
    int result, rc;
    unsigned s;
    rc = vblk_complete(w->b, &tag, &result, w->b->timeout_us);
    if (rc != VIRTQ_OK)
        return rc;
    s = (unsigned)(uintptr_t)tag - 1u; /* ours: nothing else was pending */
    w->busy &= ~(1ull << s);
    w->inflight--;
    if (result != VIRTQ_OK) {
        if (*first_err == BL_OK)
            *first_err = result;
        return VIRTQ_OK;
    }
    w->ext[w->slot[s].ext].done += w->slot[s].len;
    w->st->bytes += w->slot[s].len;
    return VIRTQ_OK;
}

/* Publish what was queued (and notify if the device wants it). */
static void bl__kick(struct bl__window *w, int *first_err)
{
    int rc = vblk_kick(w->b);
    w->st->kicks++;
    if (rc != VIRTQ_OK && *first_err == BL_OK)
        *first_err = rc;
}

/* err, with *failed set to the first extent not read whole. */
static int bl__fail(const struct bl_extent *ext, unsigned n, unsigned *failed, int err)
{
    unsigned i = 0;
    while (i + 1u < n && ext[i].done == ext[i].bytes)
        i++;
    if (failed)
        *failed = i;
    return err;
}

int bl_load_extents(struct vblk *b, struct bl_extent *ext, unsigned n, uint32_t chunk,
                    unsigned depth, struct bl_load_stats *st, unsigned *failed)
{
    struct bl__window w;
    int first_err = BL_OK;
    unsigned i, queued;

    if (!ext || !st)
        return bl__fail(ext, 0, failed, BL_EARG);
    for (i = 0; i < n; i++)
        ext[i].done = 0;
    first_err = bl__check(b, ext, n, &chunk, &depth);
    w.b = b;
    w.ext = ext;
    w.n = n;
    w.cur = 0;
    w.off = 0;
    w.chunk = chunk;
    w.inflight = 0;
    w.busy = 0;
    w.st = st;

    while (first_err == BL_OK && (bl__more(&w) || w.inflight > 0u)) {
        /* 1. Fill the window, across extents: queue chunks without
              notifying, then one kick publishes the batch (the notify is
              the costly exit). */
        for (queued = 0; first_err == BL_OK && w.inflight < depth && bl__more(&w); queued++) {
            int rc = bl__submit_next(&w);
            if (rc == VIRTQ_ENOSPC && w.inflight > 0u)
                break; /* the ring is full: take a completion first */
            if (rc != VIRTQ_OK) {
                first_err = rc;
                break;
            }
        }
        if (queued > 0u)
            bl__kick(&w, &first_err);
        if (w.inflight > st->max_inflight)
            st->max_inflight = w.inflight;
        /* 2. Take completions: one per round while all is well, every one
              after an error; on a timeout the device keeps the rest, and
              only a reset takes them back. */
        do {
            int rc = w.inflight > 0u ? bl__take(&w, &first_err) : VIRTQ_OK;
            if (rc != VIRTQ_OK)
                return bl__fail(ext, n, failed, first_err != BL_OK ? first_err : rc);
        } while (first_err != BL_OK && w.inflight > 0u);
    }
    return first_err == BL_OK ? BL_OK : bl__fail(ext, n, failed, first_err);
}

int bl_load(struct vblk *b, uint64_t sector, void *dst, uint64_t bytes, uint32_t chunk,
            unsigned depth, struct bl_load_stats *st)
{
    struct bl_extent e;
    e.sector = sector;
    e.dst = dst;
    e.bytes = bytes;
    e.done = 0;
    return bl_load_extents(b, &e, 1, chunk, depth, st, NULL);
}
