/* SPDX-License-Identifier: MIT */
/* gpt.c — see gpt.h for the checks and their order. */
#include "gpt.h"
#include "crc32.h"

/* GPT header fields (UEFI 2.10 table 5-5), byte offsets. */
#define H_SIG 0u
#define H_REV 8u
#define H_SIZE 12u
#define H_CRC 16u
#define H_MYLBA 24u
#define H_FIRST 40u
#define H_LAST 48u
#define H_ENTLBA 72u
#define H_COUNT 80u
#define H_ENTSIZE 84u
#define H_ENTCRC 88u
#define H_MIN_SIZE 92u
/* Partition entry fields (table 5-6). */
#define E_TYPE 0u
#define E_FIRST 32u
#define E_LAST 40u
#define E_NAME 56u

struct hdr {
    uint64_t my_lba, first, last, ent_lba;
    uint32_t count, ent_size, ent_crc;
};

/* Step 1-3: the header block at lba, already read into blk. */
static int check_header(const struct gpt_disk *d, uint64_t lba, uint8_t *blk, struct hdr *h)
{
    static const uint8_t sig[8] = {'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'};
    uint32_t size, crc;

    if (bl_memcmp(blk + H_SIG, sig, 8) != 0)
        return BL_EGPT_SIG;
    if ((bl_le32(blk + H_REV) >> 16) != 1u)
        return BL_EGPT_REV;
    size = bl_le32(blk + H_SIZE);
    if (size < H_MIN_SIZE || size > d->block_size)
        return BL_EGPT_HDRSIZE;
    /* The CRC covers HeaderSize bytes with its own field taken as zero. */
    crc = bl_le32(blk + H_CRC);
    bl_memset(blk + H_CRC, 0, 4);
    if (bl_crc32(0, blk, size) != crc)
        return BL_EGPT_HDRCRC;

    h->my_lba = bl_le64(blk + H_MYLBA);
    h->first = bl_le64(blk + H_FIRST);
    h->last = bl_le64(blk + H_LAST);
    h->ent_lba = bl_le64(blk + H_ENTLBA);
    h->count = bl_le32(blk + H_COUNT);
    h->ent_size = bl_le32(blk + H_ENTSIZE);
    h->ent_crc = bl_le32(blk + H_ENTCRC);
    if (h->my_lba != lba)
        return BL_EGPT_MYLBA;
    if (h->first > h->last || h->last >= d->blocks || h->first == 0u ||
        (h->my_lba >= h->first && h->my_lba <= h->last))
        return BL_EGPT_USABLE;
    return BL_OK;
}

/* Step 4-5: entry size and count bound, array placement; returns the
   array's length in blocks through *nblk. */
static int check_array_bounds(const struct gpt_disk *d, const struct hdr *h, size_t room,
                              uint32_t *nblk)
{
    uint64_t bytes, blocks;

    /* 128 * 2^n: a power of two from 128 up to our limit. */
    if (h->ent_size < 128u || h->ent_size > GPT_MAX_ENTRY_SIZE ||
        (h->ent_size & (h->ent_size - 1u)) != 0u)
        return BL_EGPT_ENTSIZE;
    bytes = (uint64_t)h->count * h->ent_size; /* both < 2^32: no overflow */
    if (h->count == 0u || bytes > room)
        return BL_EGPT_ENTCOUNT;
    blocks = (bytes + d->block_size - 1u) / d->block_size;
    if (h->ent_lba == 0u || h->ent_lba >= d->blocks || blocks > d->blocks - h->ent_lba)
        return BL_EGPT_ENTLBA;
    if (bl_overlap(h->ent_lba, blocks, h->first, h->last - h->first + 1u) ||
        bl_overlap(h->ent_lba, blocks, h->my_lba, 1u))
        return BL_EGPT_ENTLBA;
    *nblk = (uint32_t)blocks;
    return BL_OK;
}

static void copy_name(const uint8_t *e, char *name)
{
    uint32_t i;
    for (i = 0; i < GPT_NAME_CHARS; i++) {
        uint16_t c = bl_le16(e + E_NAME + 2u * i);
        if (c == 0u)
            break;
        name[i] = (c >= 0x20u && c < 0x7fu) ? (char)c : '?';
    }
    name[i] = '\0';
}

static bool zero16(const uint8_t *p)
{
    for (unsigned i = 0; i < 16u; i++)
        if (p[i])
            return false;
    return true;
}

/* Step 7: used entries inside the usable range, pairwise disjoint. */
static int collect_parts(const struct hdr *h, const uint8_t *arr, struct gpt_info *out)
{
    out->nparts = 0;
    for (uint32_t i = 0; i < h->count; i++) {
        const uint8_t *e = arr + (size_t)i * h->ent_size;
        struct gpt_part *p;
        if (zero16(e + E_TYPE))
            continue; /* unused entry */
        if (out->nparts == GPT_MAX_PARTS)
            return BL_EGPT_TOOMANY;
        p = &out->parts[out->nparts];
        p->first_lba = bl_le64(e + E_FIRST);
        p->last_lba = bl_le64(e + E_LAST);
        p->index = i;
        if (p->first_lba > p->last_lba || p->first_lba < h->first || p->last_lba > h->last)
            return BL_EGPT_PARTRANGE;
        for (uint32_t j = 0; j < out->nparts; j++) {
            const struct gpt_part *q = &out->parts[j];
            if (p->first_lba <= q->last_lba && q->first_lba <= p->last_lba)
                return BL_EGPT_OVERLAP;
        }
        copy_name(e, p->name);
        out->nparts++;
    }
    return BL_OK;
}

/* One header at lba and its array, steps 1-7. */
static int read_one(const struct gpt_disk *d, uint64_t lba, uint8_t *scratch, size_t bytes,
                    struct gpt_info *out)
{
    struct hdr h;
    uint32_t nblk = 0;
    uint8_t *arr = scratch + d->block_size;
    int err;

    err = d->read(d->ctx, lba, scratch, 1);
    if (err != BL_OK)
        return BL_EIO;
    err = check_header(d, lba, scratch, &h);
    if (err == BL_OK)
        err = check_array_bounds(d, &h, bytes - d->block_size, &nblk);
    if (err != BL_OK)
        return err;
    if (d->read(d->ctx, h.ent_lba, arr, nblk) != BL_OK)
        return BL_EIO;
    /* Step 6: the CRC covers count * size bytes, not the padded blocks. */
    if (bl_crc32(0, arr, (size_t)h.count * h.ent_size) != h.ent_crc)
        return BL_EGPT_ENTCRC;
    out->entries = h.count;
    out->entry_size = h.ent_size;
    return collect_parts(&h, arr, out);
}

int gpt_read(const struct gpt_disk *d, void *scratch, size_t scratch_bytes, struct gpt_info *out)
{
    int err;

    if (!d || !d->read || !scratch || !out)
        return BL_EARG;
    bl_memset(out, 0, sizeof *out);
    if (d->block_size < 512u || (d->block_size & (d->block_size - 1u)) != 0u || d->blocks < 4u ||
        scratch_bytes <= d->block_size)
        return BL_EGPT_DISK;

    /* The primary at LBA 1; the backup in the last block when anything
       about the primary is wrong (5.3.2: "If the primary GPT is corrupt,
       software must check the last LBA of the device"). */
    err = read_one(d, 1u, (uint8_t *)scratch, scratch_bytes, out);
    out->primary_err = err;
    if (err == BL_OK) {
        out->used = GPT_USED_PRIMARY;
        return BL_OK;
    }
    err = read_one(d, d->blocks - 1u, (uint8_t *)scratch, scratch_bytes, out);
    if (err == BL_OK) {
        out->used = GPT_USED_BACKUP;
        return BL_OK;
    }
    out->backup_err = err;
    out->nparts = 0;
    return out->primary_err;
}

int gpt_find(const struct gpt_info *g, const char *name, const struct gpt_part **part)
{
    const struct gpt_part *hit = 0;
    size_t n = bl_strlen(name);

    if (n > GPT_NAME_CHARS)
        return BL_EGPT_NOTFOUND;
    for (uint32_t i = 0; i < g->nparts; i++) {
        if (bl_memcmp(g->parts[i].name, name, n + 1u) != 0)
            continue;
        if (hit)
            return BL_EGPT_DUPNAME;
        hit = &g->parts[i];
    }
    if (!hit)
        return BL_EGPT_NOTFOUND;
    *part = hit;
    return BL_OK;
}
