/* SPDX-License-Identifier: MIT */
/* load.h — reads runs of blocks into memory with several requests in
 * flight through the portable virtio-blk driver's asynchronous calls.
 *
 * Each run (extent) is cut into chunks; up to `depth` chunk requests,
 * from one extent or the next, are queued (VBLK_NOKICK) and published with
 * one kick, then each completion taken is replaced by the next chunk's
 * request until every extent is done.  A failed request stops new
 * submissions; the ones in flight are still taken back, so the caller owns
 * every byte of every dst again when the call returns (or the device timed
 * out: then the caller must reset it before reusing the memory).
 */
#ifndef BL_LOAD_H_INCLUDED
#define BL_LOAD_H_INCLUDED

#include "bl_common.h"
#include "examples/drivers/virtio_blk.h"

#define BL_LOAD_MAX_DEPTH 64u

struct bl_load_stats {
    uint32_t requests;     /* requests submitted */
    uint32_t max_inflight; /* most requests the device held at once */
    uint32_t kicks;        /* vblk_kick() calls */
    uint64_t bytes;        /* bytes read */
};

/* One run of blocks to read: `bytes` (a multiple of the device's blk_size;
   0 reads nothing) from 512-byte sector `sector` into dst.  bl_load_extents()
   sets `done` to the bytes it read there. */
struct bl_extent {
    uint64_t sector;
    void *dst;
    uint64_t bytes;
    uint64_t done;
};

/* Read every extent through one window of requests: chunks of at most
   `chunk` bytes (rounded down to blk_size and capped at the driver's
   max_transfer), `depth` requests in flight at most (capped by the request
   pool and BL_LOAD_MAX_DEPTH), extents in order, the next extent's first
   chunk queued while the last ones of the one before are still in flight
   (so a small initrd rides along with the kernel instead of waiting for it).
   Everything is checked before the first request: a refused call reads
   nothing.  BL_OK, or the first error (a VBLK_E* or VIRTQ_E* code, BL_EARG,
   or BL_ELOAD_ALIGN); *failed (may be NULL) then names the first extent
   not read whole. */
int bl_load_extents(struct vblk *b, struct bl_extent *ext, unsigned n, uint32_t chunk,
                    unsigned depth, struct bl_load_stats *st, unsigned *failed);

/* One extent: bl_load_extents() on {sector, dst, bytes}. */
int bl_load(struct vblk *b, uint64_t sector, void *dst, uint64_t bytes, uint32_t chunk,
            unsigned depth, struct bl_load_stats *st);

#endif
