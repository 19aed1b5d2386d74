/* SPDX-License-Identifier: MIT */
/* load.c — see load.h. */
#include "load.h"

int bl_load(struct vblk *b, uint64_t sector, void *dst, uint64_t bytes, uint32_t chunk,
            unsigned depth, struct bl_load_stats *st)
{
    uint8_t *p = (uint8_t *)dst;
    uint64_t next = 0; /* bytes submitted so far */
    unsigned inflight = 0, queued;
    int first_err = BL_OK;

    if (!b || !dst || !st || depth == 0u || chunk == 0u)
        return BL_EARG;
    if (bytes % b->blk_size != 0u)
        return BL_ELOAD_ALIGN;
    /* Chunks: whole logical blocks, within one request's reach. */
    if (chunk > b->max_transfer)
        chunk = b->max_transfer;
    chunk -= chunk % b->blk_size;
    if (chunk == 0u)
        return BL_ELOAD_ALIGN;
    if (depth > b->nreqs)
        depth = b->nreqs;
    if (depth > BL_LOAD_MAX_DEPTH)
        depth = BL_LOAD_MAX_DEPTH;

    while (next < bytes || inflight > 0u) {
        /* 1. Fill the window: queue chunks without notifying, then one
              kick publishes the batch (the notify is the costly exit). */
        for (queued = 0; first_err == BL_OK && next < bytes && inflight < depth; queued++) {
            uint64_t left = bytes - next;
            struct virtq_buf seg;
            int rc;
            seg.addr = p + next;
            seg.len = left < chunk ? (uint32_t)left : chunk;
            rc = vblk_submit(b, VIRTIO_BLK_T_IN, sector + next / VBLK_SECTOR, &seg, 1,
                             (void *)(uintptr_t)seg.len, VBLK_NOKICK);
            if (rc == VIRTQ_ENOSPC && inflight > 0u)
                break; /* the ring is full: take a completion first */
            if (rc != VIRTQ_OK) {
                first_err = rc;
                break;
            }
            next += seg.len;
            inflight++;
            st->requests++;
        }
        if (queued > 0u) {
            int rc = vblk_kick(b);
            st->kicks++;
            if (rc != VIRTQ_OK && first_err == BL_OK)
                first_err = rc;
        }
        if (inflight > st->max_inflight)
            st->max_inflight = inflight;
        if (inflight == 0u)
            break;
        /* 2. Take one completion (bounded wait); on a timeout the device
              keeps the rest, and only a reset takes them back. */
        {
            void *tag;
            int result, rc;
            rc = vblk_complete(b, &tag, &result, b->timeout_us);
            if (rc != VIRTQ_OK)
                return first_err != BL_OK ? first_err : rc;
            inflight--;
            if (result != VIRTQ_OK && first_err == BL_OK)
                first_err = result;
            else if (result == VIRTQ_OK)
                st->bytes += (uint32_t)(uintptr_t)tag;
        }
    }
    return first_err;
}
