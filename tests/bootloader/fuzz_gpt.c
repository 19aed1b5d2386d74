/* SPDX-License-Identifier: MIT */
/* fuzz_gpt.c — libFuzzer: the bootloader's GPT reader on arbitrary disks.

   The input is the disk (padded with zeros to whole 512-byte blocks, at
   least 4).  Oracles on success: the header used is primary or backup;
   every partition lies inside the disk, starts before it ends, shares no
   block with another, and has a NUL-terminated ASCII name; gpt_find()
   agrees with a plain scan.  The reader's reads are bounds-checked by the
   callback itself: a read outside the disk is an oracle failure, not an
   error return, since gpt_read must never ask for one.  The first 4 KiB
   are also given to the arm64 Image check (no crash, consistent result).
   An odd first byte makes the harness fix the CRCs first (see fix_crcs). */
#include "examples/bootloader/arm64_image.h"
#include "examples/bootloader/crc32.h"
#include "examples/bootloader/gpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORACLE(c)                                                                  \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_gpt: oracle failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                               \
        }                                                                          \
    } while (0)

struct disk {
    const uint8_t *img;
    uint64_t blocks;
};

static int rd(void *ctx, uint64_t lba, void *buf, uint32_t n)
{
    struct disk *d = ctx;
    ORACLE(n > 0 && lba < d->blocks && n <= d->blocks - lba);
    memcpy(buf, d->img + lba * 512u, (size_t)n * 512u);
    return BL_OK;
}

/* Random bytes almost never carry a right CRC, which would keep the
   fuzzer in front of the first check.  When the input's first byte is odd
   (the MBR's boot code: GPT ignores it) the harness writes correct CRCs
   into both headers first, for whatever their fields say, so the checks
   behind the CRCs get explored too. */
static void fix_crcs(uint8_t *img, size_t blocks)
{
    for (int b = 0; b < 2; b++) {
        uint8_t *h = img + (b ? blocks - 1u : 1u) * 512u;
        uint64_t ent = bl_le64(h + 72);
        uint64_t n = (uint64_t)bl_le32(h + 80) * bl_le32(h + 84);
        uint32_t size = bl_le32(h + 12), crc;
        if (ent < blocks && n <= (blocks - ent) * 512u) {
            crc = bl_crc32(0, img + ent * 512u, (size_t)n);
            memcpy(h + 88, &crc, 4); /* little-endian host */
        }
        if (size >= 92u && size <= 512u) {
            memset(h + 16, 0, 4);
            crc = bl_crc32(0, h, size);
            memcpy(h + 16, &crc, 4);
        }
    }
}

static uint8_t scratch[17u * 1024u]; /* a 16 KiB array and a block */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gpt_info g;
    struct disk d;
    struct gpt_disk gd;
    uint8_t *img;
    size_t blocks = (size + 511u) / 512u;
    struct arm64_image im;

    if (blocks < 4u)
        blocks = 4u;
    if (blocks > 4096u)
        return 0;
    img = calloc(blocks, 512u);
    if (!img)
        return 0;
    memcpy(img, data, size);
    if (size > 0 && (data[0] & 1u))
        fix_crcs(img, blocks);
    d.img = img;
    d.blocks = blocks;
    gd.read = rd;
    gd.ctx = &d;
    gd.blocks = blocks;
    gd.block_size = 512u;

    if (gpt_read(&gd, scratch, sizeof scratch, &g) == BL_OK) {
        ORACLE(g.used == GPT_USED_PRIMARY || g.used == GPT_USED_BACKUP);
        ORACLE(g.nparts <= GPT_MAX_PARTS && g.nparts <= g.entries);
        for (uint32_t i = 0; i < g.nparts; i++) {
            const struct gpt_part *p = &g.parts[i], *q;
            ORACLE(p->first_lba <= p->last_lba && p->last_lba < blocks);
            ORACLE(memchr(p->name, 0, sizeof p->name) != NULL);
            for (uint32_t j = 0; j < i; j++)
                ORACLE(p->last_lba < g.parts[j].first_lba || g.parts[j].last_lba < p->first_lba);
            if (p->name[0] && gpt_find(&g, p->name, &q) == BL_OK)
                ORACLE(q == p);
        }
    } else {
        ORACLE(g.nparts == 0);
    }

    if (arm64_image_check(img, blocks * 512u < 4096u ? blocks * 512u : 4096u, blocks * 512u, &im) ==
        BL_OK) {
        ORACLE(im.image_size != 0 && im.file_bytes <= im.image_size);
        ORACLE(im.file_bytes <= blocks * 512u);
    }
    free(img);
    return 0;
}
