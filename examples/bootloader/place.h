/* SPDX-License-Identifier: MIT */
/* place.h — where the kernel, the initrd and the DTB go, and the checks
 * that keep them apart (Documentation/arch/arm64/booting.rst).
 *
 * The layout is fixed per board, as U-Boot's kernel_addr_r/ramdisk_addr_r/
 * fdt_addr_r are: the kernel at a 2 MiB-aligned base (+ text_offset), the
 * initrd at its own address, the edited DTB at its own.  What comes from
 * the disk (image_size, text_offset, partition sizes) is checked against
 * it; nothing is loaded before the plan passes.
 */
#ifndef BL_PLACE_H_INCLUDED
#define BL_PLACE_H_INCLUDED

#include "arm64_image.h"

#define BL_SZ_2M (2ull << 20)
#define BL_SZ_1G (1ull << 30)
#define BL_DTB_MAX (2ull << 20) /* "must not exceed 2 megabytes in size" */

struct bl_layout {
    uint64_t ram_base, ram_size; /* the RAM window the kernel is given */
    uint64_t self_lo, self_hi;   /* the bootloader (code, data, stack, buffers) */
    uint64_t kernel_base;        /* 2 MiB aligned */
    uint64_t initrd_addr;
    uint64_t dtb_addr;           /* where the edited DTB is written */
    uint64_t dtb_max;            /* room reserved for it (<= 2 MiB) */
};

struct bl_plan {
    uint64_t kernel_entry;   /* = kernel_base + text_offset: load address and entry */
    uint64_t kernel_load;    /* bytes loaded there (whole blocks of the file) */
    uint64_t kernel_span;    /* bytes reserved from kernel_entry: max(image_size, kernel_load) */
    uint64_t initrd_start, initrd_bytes; /* 0 bytes: no initrd */
    uint64_t dtb, dtb_max;
};

/* kernel_part_bytes: the kernel partition; initrd_bytes: the initrd's
   partition (0: none); block: device block size (loads are whole blocks). */
int bl_place(const struct bl_layout *L, const struct arm64_image *img, uint64_t kernel_part_bytes,
             uint64_t initrd_bytes, uint32_t block, struct bl_plan *plan);

#endif
