/* SPDX-License-Identifier: MIT */
/* boot.h — the bootloader's portable sequence: from a virtio-blk disk to a
 * kernel, an initrd and an edited device tree in RAM, ready to enter.
 *
 *   1. read and check the GPT (gpt.h), primary or backup;
 *   2. find the partitions named "kernel" (required), "initrd" and
 *      "cmdline" (optional: the default command line otherwise);
 *   3. check the kernel's Image header (arm64_image.h);
 *   4. check the placement of kernel, initrd and DTB (place.h) — nothing
 *      is written to RAM before this passes;
 *   5. load kernel and initrd through one window of requests (load.h);
 *   6. copy the firmware's DTB to its place with /chosen set (fdt_chosen.h).
 *
 * The caller then quiesces the device (vblk_reset: status reads 0) and
 * enters the kernel; that part is the board's (handover.S).
 */
#ifndef BL_BOOT_H_INCLUDED
#define BL_BOOT_H_INCLUDED

#include "arm64_image.h"
#include "fdt_chosen.h"
#include "gpt.h"
#include "load.h"
#include "place.h"

enum bl_stage {
    BL_STAGE_GPT = 1,
    BL_STAGE_FIND,
    BL_STAGE_IMAGE,
    BL_STAGE_CMDLINE,
    BL_STAGE_DTB,
    BL_STAGE_PLACE,
    BL_STAGE_LOAD_KERNEL,
    BL_STAGE_LOAD_INITRD,
    BL_STAGE_FDT,
    BL_STAGE_DONE
};

struct bl_config {
    const struct bl_layout *layout;
    uint8_t *ram;                /* CPU pointer to layout->ram_base */
    const void *dtb_in;          /* the firmware's DTB */
    size_t dtb_in_max;           /* bytes readable there */
    const char *default_cmdline; /* when the disk has no "cmdline" partition */
    uint32_t chunk;              /* bytes per load request */
    unsigned depth;              /* requests in flight */
    uint64_t (*now_us)(void);    /* a clock for the figures, or NULL */
    /* Called just before (done 0) and after (done 1) the load of kernel
       and initrd ("kernel+initrd", or "kernel" alone), e.g. to print a
       line a host can time; NULL: nothing. */
    void (*progress)(const char *what, uint64_t bytes, int done);
    void *scratch;               /* >= BL_SCRATCH_BYTES, 8-byte aligned */
};

#define BL_SCRATCH_BYTES (64u * 1024u)

struct bl_result {
    enum bl_stage stage;         /* where it stopped (BL_STAGE_DONE: all went well) */
    struct gpt_info gpt;
    const struct gpt_part *kernel, *initrd, *cmdline_part;
    struct arm64_image img;
    struct bl_plan plan;
    struct bl_load_stats load_st; /* the one load of kernel and initrd */
    uint64_t kernel_bytes, initrd_bytes; /* read into RAM */
    uint64_t us_gpt, us_load, us_total;
    size_t dtb_size;
    char cmdline[BL_CMDLINE_MAX];
};

const char *bl_stage_name(enum bl_stage s);

/* Run steps 1-6.  BL_OK with r->stage == BL_STAGE_DONE, or the error of
   the stage in r->stage (a BL_E*, VBLK_E* or VIRTQ_E* code). */
int bl_prepare(struct vblk *b, const struct bl_config *cfg, struct bl_result *r);

#endif
