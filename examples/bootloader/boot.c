/* SPDX-License-Identifier: MIT */
/* boot.c — see boot.h. */
#include "boot.h"

const char *bl_stage_name(enum bl_stage s)
{
    switch (s) {
    case BL_STAGE_GPT: return "gpt";
    case BL_STAGE_FIND: return "partitions";
    case BL_STAGE_IMAGE: return "kernel image";
    case BL_STAGE_CMDLINE: return "cmdline";
    case BL_STAGE_DTB: return "firmware dtb";
    case BL_STAGE_PLACE: return "placement";
    case BL_STAGE_LOAD_KERNEL: return "load kernel";
    case BL_STAGE_LOAD_INITRD: return "load initrd";
    case BL_STAGE_FDT: return "dtb /chosen";
    case BL_STAGE_DONE: return "done";
    }
    return "?";
}

struct disk_ctx {
    struct vblk *b;
    uint32_t per_block; /* 512-byte sectors per GPT block */
};

static int disk_read(void *ctx, uint64_t lba, void *buf, uint32_t nblocks)
{
    struct disk_ctx *d = (struct disk_ctx *)ctx;
    int rc = vblk_read(d->b, lba * d->per_block, buf, (size_t)nblocks * d->per_block * VBLK_SECTOR);
    return rc == VIRTQ_OK ? BL_OK : BL_EIO;
}

static uint64_t now(const struct bl_config *cfg)
{
    return cfg->now_us ? cfg->now_us() : 0u;
}

/* The first min(n, part) bytes of a partition, read as whole blocks. */
static int read_head(struct vblk *b, const struct gpt_part *p, void *buf, uint32_t n,
                     uint32_t *got)
{
    uint64_t part = gpt_part_bytes(p, b->blk_size);
    uint32_t len = part < n ? (uint32_t)part : n;
    len -= len % b->blk_size;
    *got = len;
    if (len == 0u)
        return BL_EIMG_SHORT;
    return vblk_read(b, p->first_lba * (b->blk_size / VBLK_SECTOR), buf, len) == VIRTQ_OK ? BL_OK
                                                                                          : BL_EIO;
}

/* A command line partition: printable ASCII up to the first NUL or
   newline, shorter than BL_CMDLINE_MAX. */
static int read_cmdline(struct vblk *b, const struct gpt_part *p, uint8_t *buf, char *out)
{
    uint32_t got, i;
    int err = read_head(b, p, buf, BL_CMDLINE_MAX, &got);
    if (err != BL_OK)
        return err;
    for (i = 0; i < got && buf[i] != 0u && buf[i] != '\n'; i++) {
        if (buf[i] < 0x20u || buf[i] > 0x7eu)
            return BL_EFDT_CMDLINE;
        out[i] = (char)buf[i];
    }
    if (i == BL_CMDLINE_MAX)
        return BL_EFDT_CMDLINE;
    out[i] = '\0';
    return BL_OK;
}

/* The firmware's DTB is read after the loads: no load may land on it, and
   the edited copy may not be written over it. */
static int check_dtb_in(const struct bl_config *cfg, const struct bl_plan *p)
{
    uintptr_t in = (uintptr_t)cfg->dtb_in, ram = (uintptr_t)cfg->ram;
    uint64_t base = cfg->layout->ram_base;
    if (bl_overlap(in, cfg->dtb_in_max, ram + (p->kernel_entry - base), p->kernel_span))
        return BL_EPL_KERNEL_SELF;
    if (bl_overlap(in, cfg->dtb_in_max, ram + (p->initrd_start - base), p->initrd_bytes))
        return BL_EPL_INITRD_DTB;
    if (bl_overlap(in, cfg->dtb_in_max, ram + (p->dtb - base), p->dtb_max))
        return BL_EPL_DTB;
    return BL_OK;
}

static int optional(int err)
{
    return err == BL_EGPT_NOTFOUND ? BL_OK : err;
}

/* Step 5: kernel and initrd through one window of requests: the initrd's
   request is queued behind the kernel's last chunks and published with
   them, so the device has it without a round trip of its own (the
   completion, its interrupt and our next submission and kick). */
static int load(struct vblk *b, const struct bl_config *cfg, uint32_t per_block,
                struct bl_result *r)
{
    const struct bl_layout *L = cfg->layout;
    const char *what = r->initrd ? "kernel+initrd" : "kernel";
    struct bl_extent ext[2];
    unsigned n = r->initrd ? 2u : 1u, failed = 0;
    uint64_t total = r->plan.kernel_load + r->plan.initrd_bytes, t1;
    int err;
    ext[0].sector = r->kernel->first_lba * per_block;
    ext[0].dst = cfg->ram + (r->plan.kernel_entry - L->ram_base);
    ext[0].bytes = r->plan.kernel_load;
    if (r->initrd) {
        ext[1].sector = r->initrd->first_lba * per_block;
        ext[1].dst = cfg->ram + (r->plan.initrd_start - L->ram_base);
        ext[1].bytes = r->plan.initrd_bytes;
    }
    r->stage = BL_STAGE_LOAD_KERNEL;
    if (cfg->progress)
        cfg->progress(what, total, 0);
    t1 = now(cfg);
    err = bl_load_extents(b, ext, n, cfg->chunk, cfg->depth, &r->load_st, &failed);
    r->us_load = now(cfg) - t1;
    r->kernel_bytes = ext[0].done;
    r->initrd_bytes = r->initrd ? ext[1].done : 0u;
    if (cfg->progress)
        cfg->progress(what, total, 1);
    if (err != BL_OK && failed == 1u)
        r->stage = BL_STAGE_LOAD_INITRD;
    return err;
}

int bl_prepare(struct vblk *b, const struct bl_config *cfg, struct bl_result *r)
{
    const struct bl_layout *L = cfg->layout;
    struct disk_ctx dc;
    struct gpt_disk disk;
    uint8_t *scratch = (uint8_t *)cfg->scratch;
    uint64_t t0 = now(cfg), initrd_bytes = 0;
    uint32_t got;
    struct bl_chosen ch;
    int err;

    bl_memset(r, 0, sizeof *r);
    /* 1. GPT, in the device's logical blocks. */
    r->stage = BL_STAGE_GPT;
    dc.b = b;
    dc.per_block = b->blk_size / VBLK_SECTOR;
    disk.read = disk_read;
    disk.ctx = &dc;
    disk.block_size = b->blk_size;
    disk.blocks = b->capacity / dc.per_block;
    err = gpt_read(&disk, scratch, BL_SCRATCH_BYTES, &r->gpt);
    r->us_gpt = now(cfg) - t0;
    if (err != BL_OK)
        return err;

    /* 2. Partitions by name. */
    r->stage = BL_STAGE_FIND;
    err = gpt_find(&r->gpt, "kernel", &r->kernel);
    if (err == BL_OK)
        err = optional(gpt_find(&r->gpt, "initrd", &r->initrd));
    if (err == BL_OK)
        err = optional(gpt_find(&r->gpt, "cmdline", &r->cmdline_part));
    if (err != BL_OK)
        return err;

    /* 3. The kernel's header (and PE section table) from its first 4 KiB. */
    r->stage = BL_STAGE_IMAGE;
    err = read_head(b, r->kernel, scratch, ARM64_PROBE_BYTES, &got);
    if (err == BL_OK)
        err = arm64_image_check(scratch, got, gpt_part_bytes(r->kernel, b->blk_size), &r->img);
    if (err != BL_OK)
        return err;

    r->stage = BL_STAGE_CMDLINE;
    if (r->cmdline_part) {
        err = read_cmdline(b, r->cmdline_part, scratch, r->cmdline);
        if (err != BL_OK)
            return err;
    } else {
        size_t n = cfg->default_cmdline ? bl_strlen(cfg->default_cmdline) : 0u;
        if (n >= BL_CMDLINE_MAX)
            return BL_EFDT_CMDLINE;
        bl_memcpy(r->cmdline, cfg->default_cmdline ? cfg->default_cmdline : "", n + 1u);
    }

    r->stage = BL_STAGE_DTB;
    err = bl_fdt_check_header(cfg->dtb_in, cfg->dtb_in_max, 0);
    if (err != BL_OK)
        return err;

    /* 4. Placement, before any byte lands in RAM. */
    r->stage = BL_STAGE_PLACE;
    if (r->initrd)
        initrd_bytes = gpt_part_bytes(r->initrd, b->blk_size);
    err = bl_place(L, &r->img, gpt_part_bytes(r->kernel, b->blk_size), initrd_bytes, b->blk_size,
                   &r->plan);
    if (err == BL_OK)
        err = check_dtb_in(cfg, &r->plan);
    if (err != BL_OK)
        return err;

    /* 5. Load kernel and initrd, several requests in flight. */
    err = load(b, cfg, dc.per_block, r);
    if (err != BL_OK)
        return err;

    /* 6. The DTB the kernel gets: the firmware's, /chosen set. */
    r->stage = BL_STAGE_FDT;
    ch.bootargs = r->cmdline;
    ch.initrd_start = r->plan.initrd_start;
    ch.initrd_end = r->plan.initrd_start + r->plan.initrd_bytes;
    err = bl_fdt_set_chosen(cfg->dtb_in, cfg->dtb_in_max, cfg->ram + (r->plan.dtb - L->ram_base),
                            (size_t)r->plan.dtb_max, &ch, &r->dtb_size);
    if (err != BL_OK)
        return err;
    r->stage = BL_STAGE_DONE;
    r->us_total = now(cfg) - t0;
    return BL_OK;
}
