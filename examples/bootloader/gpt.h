/* SPDX-License-Identifier: MIT */
/* gpt.h — a GPT reader that trusts nothing on the disk.
 *
 * UEFI 2.10 section 5.3 "GUID Partition Table (GPT) Disk Layout".  Reads
 * the primary header at LBA 1 and, when anything about it or its entry
 * array is wrong, the backup header in the disk's last block.  For the
 * header in use it checks, in this order (each failure a distinct BL_EGPT_*):
 *
 *   1. signature "EFI PART", revision 1.x, 92 <= HeaderSize <= block size;
 *   2. HeaderCRC32 over HeaderSize bytes with the CRC field zeroed;
 *   3. MyLBA is the block it was read from; FirstUsableLBA <= LastUsableLBA,
 *      both inside the disk and not covering the header itself;
 *   4. SizeOfPartitionEntry is 128 * 2^n (<= 4096) and the entry array
 *      (count * size) is non-empty and fits the caller's scratch buffer,
 *      checked before any CRC is computed or any entry read;
 *   5. the entry array's LBAs lie inside the disk, outside the usable range
 *      and off the header's block;
 *   6. PartitionEntryArrayCRC32 over count * size bytes;
 *   7. every used entry (type GUID not zero): FirstLBA <= LastLBA inside the
 *      usable range, and no two used entries share a block.
 *
 * The disk is reached through one callback, so the same code reads a
 * virtio-blk device on the board, the fake device on the host, or a byte
 * buffer in the fuzzer.
 */
#ifndef BL_GPT_H_INCLUDED
#define BL_GPT_H_INCLUDED

#include "bl_common.h"

#define GPT_MAX_PARTS 128u      /* used entries kept (the usual array size) */
#define GPT_NAME_CHARS 36u      /* PartitionName: 36 UTF-16LE code units */
#define GPT_MAX_ENTRY_SIZE 4096u

/* Read nblocks blocks starting at lba into buf; BL_OK or a negative code. */
typedef int (*gpt_read_fn)(void *ctx, uint64_t lba, void *buf, uint32_t nblocks);

struct gpt_disk {
    gpt_read_fn read;
    void *ctx;
    uint64_t blocks;     /* disk size in blocks */
    uint32_t block_size; /* 512 or 4096 (a power of two, >= 512) */
};

struct gpt_part {
    uint64_t first_lba, last_lba; /* inclusive */
    uint32_t index;               /* entry number in the array */
    char name[GPT_NAME_CHARS + 1u]; /* ASCII; other code units read as '?' */
};

#define GPT_USED_PRIMARY 1
#define GPT_USED_BACKUP 2

struct gpt_info {
    int used;              /* GPT_USED_PRIMARY or GPT_USED_BACKUP */
    int primary_err;       /* why the primary was not used (BL_OK if it was) */
    int backup_err;        /* the backup's error when both failed */
    uint32_t entries;      /* NumberOfPartitionEntries of the header used */
    uint32_t entry_size;
    uint32_t nparts;       /* used entries, in array order */
    struct gpt_part parts[GPT_MAX_PARTS];
};

/* Read and check the GPT.  scratch holds one block for the header and then
   the entry array (so it bounds count * size: 16 KiB + a block reads the
   usual 128 x 128).  BL_OK with *out filled, or the primary's error when
   the backup failed too (out->primary_err/backup_err say both). */
int gpt_read(const struct gpt_disk *d, void *scratch, size_t scratch_bytes, struct gpt_info *out);

/* The one used partition called name: BL_OK and *part, BL_EGPT_NOTFOUND,
   or BL_EGPT_DUPNAME when two carry it. */
int gpt_find(const struct gpt_info *g, const char *name, const struct gpt_part **part);

/* Bytes of a partition (its blocks times the block size). */
static inline uint64_t gpt_part_bytes(const struct gpt_part *p, uint32_t block_size)
{
    return (p->last_lba - p->first_lba + 1u) * block_size;
}

#endif /* BL_GPT_H_INCLUDED */
