/* SPDX-License-Identifier: MIT */
/* fdt_chosen.h — copies a flattened device tree, setting /chosen's
 * bootargs, linux,initrd-start and linux,initrd-end on the way.
 *
 * "Devicetree Specification" v0.4, chapter 5 "Flattened Devicetree (DTB)
 * Format".  Debian's libfdt is built for the host only (no freestanding
 * arm64 archive), so this is a small writer of our own; the host tests
 * check its output with libfdt (fdt_check_full and the property reads).
 *
 * The input is read with every offset, length and string bounded by its
 * header and the caller's in_max; the output is rebuilt (header, memory
 * reservation block, structure block, strings block, in that order) into a
 * separate buffer, so nothing is moved in place.  Properties of the same
 * names already in /chosen are replaced (ours are written first, as
 * properties precede subnodes); /chosen is created under the root
 * if the tree has none.
 */
#ifndef BL_FDT_CHOSEN_H_INCLUDED
#define BL_FDT_CHOSEN_H_INCLUDED

#include "bl_common.h"

#define BL_FDT_MAGIC 0xd00dfeedu
#define BL_CMDLINE_MAX 2048u /* COMMAND_LINE_SIZE on arm64 */

struct bl_chosen {
    const char *bootargs;  /* NULL: leave bootargs as they are */
    uint64_t initrd_start; /* initrd_end > initrd_start: set both properties */
    uint64_t initrd_end;
};

/* The input's totalsize after checking the header against in_max
   (BL_EFDT_HDR when it is not a usable version 16/17 tree). */
int bl_fdt_check_header(const void *in, size_t in_max, uint32_t *totalsize);

/* Rebuild in (at most in_max bytes readable) into out (out_max bytes),
   with /chosen set as c says.  BL_OK and *out_size, or BL_EFDT_*. */
int bl_fdt_set_chosen(const void *in, size_t in_max, void *out, size_t out_max,
                      const struct bl_chosen *c, size_t *out_size);

/* The first range of the first /memory node (reg, with the root's
   #address-cells and #size-cells, 1 or 2 each): BL_OK and *base, *size,
   or BL_EFDT_*. */
int bl_fdt_memory(const void *fdt, size_t max, uint64_t *base, uint64_t *size);

#endif
