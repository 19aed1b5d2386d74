/* SPDX-License-Identifier: MIT */
/* load.h — reads a run of blocks into memory with several requests in
 * flight through the portable virtio-blk driver's asynchronous calls.
 *
 * The run is cut into chunks; up to `depth` chunk requests are queued
 * (VBLK_NOKICK) and published with one kick, then each completion taken
 * is replaced by the next chunk's request until the run is done.  A failed
 * request stops new submissions; the ones in flight are still taken back,
 * so the caller owns every byte of dst again when bl_load() returns (or
 * the device timed out: then the caller must reset it before reusing dst).
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

/* Read bytes (a multiple of the device's blk_size) from 512-byte sector
   `sector` into dst: chunks of at most `chunk` bytes (rounded down to
   blk_size and capped at the driver's max_transfer), `depth` requests in
   flight at most (capped by the request pool and BL_LOAD_MAX_DEPTH).
   BL_OK, or the first error (a VBLK_E* or VIRTQ_E* code, or BL_ELOAD_ALIGN). */
int bl_load(struct vblk *b, uint64_t sector, void *dst, uint64_t bytes, uint32_t chunk,
            unsigned depth, struct bl_load_stats *st);

#endif
