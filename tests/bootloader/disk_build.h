/* SPDX-License-Identifier: MIT */
/* disk_build.h — builds GPT disks, arm64 Image headers and DTBs in memory
   for the bootloader's host tests and fuzz seeds (a writer of our own, so
   a test can break any one field and recompute the CRCs around it). */
#ifndef BL_DISK_BUILD_H
#define BL_DISK_BUILD_H

#include "examples/bootloader/crc32.h"

#include <stdint.h>
#include <string.h>

#define DB_SEC 512u
#define DB_ENTRIES 128u
#define DB_ENTSIZE 128u
#define DB_ARRAY_SECS (DB_ENTRIES * DB_ENTSIZE / DB_SEC) /* 32 */

struct db_part {
    const char *name;
    uint64_t first, last; /* inclusive LBAs */
};

static inline void db_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void db_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t db_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t db_get64(const uint8_t *p)
{
    return db_get32(p) | (uint64_t)db_get32(p + 4) << 32;
}

/* The header block of the primary (backup = 0) or backup (1) GPT. */
static inline uint8_t *db_hdr(uint8_t *img, uint64_t nsec, int backup)
{
    return img + (backup ? nsec - 1u : 1u) * DB_SEC;
}

/* Recompute the entry array CRC (over count * size from the header's
   fields, if they are sane) and then the header CRC. */
static inline void db_fix_crcs(uint8_t *img, uint64_t nsec, int backup)
{
    uint8_t *h = db_hdr(img, nsec, backup);
    uint64_t ent_lba = db_get64(h + 72);
    uint64_t bytes = (uint64_t)db_get32(h + 80) * db_get32(h + 84);
    if (ent_lba < nsec && bytes <= (nsec - ent_lba) * DB_SEC)
        db_le32(h + 88, bl_crc32(0, img + ent_lba * DB_SEC, (size_t)bytes));
    db_le32(h + 16, 0);
    db_le32(h + 16, bl_crc32(0, h, db_get32(h + 12)));
}

/* Only the header CRC (after changing a header field). */
static inline void db_fix_hdr_crc(uint8_t *img, uint64_t nsec, int backup)
{
    uint8_t *h = db_hdr(img, nsec, backup);
    db_le32(h + 16, 0);
    db_le32(h + 16, bl_crc32(0, h, db_get32(h + 12)));
}

static inline void db_entry(uint8_t *e, const struct db_part *p, unsigned i)
{
    /* Linux filesystem data type GUID 0FC63DAF-8483-4772-8E79-3D69D8477DE4. */
    static const uint8_t type[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                     0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};
    memcpy(e, type, 16);
    memset(e + 16, 0, 16);
    e[16] = (uint8_t)(i + 1u);
    db_le64(e + 32, p->first);
    db_le64(e + 40, p->last);
    for (unsigned k = 0; p->name[k] && k < 36u; k++) {
        e[56 + 2 * k] = (uint8_t)p->name[k];
        e[57 + 2 * k] = 0;
    }
}

/* A disk of nsec 512-byte sectors with primary and backup GPTs (128
   entries of 128 bytes) holding parts. */
static inline void db_build_gpt(uint8_t *img, uint64_t nsec, const struct db_part *parts,
                                unsigned n)
{
    uint8_t arr[DB_ENTRIES * DB_ENTSIZE];
    memset(arr, 0, sizeof arr);
    for (unsigned i = 0; i < n; i++)
        db_entry(arr + i * DB_ENTSIZE, &parts[i], i);
    /* Protective MBR: one 0xEE partition over the disk. */
    memset(img, 0, DB_SEC);
    img[446 + 4] = 0xee;
    db_le32(img + 446 + 8, 1);
    db_le32(img + 446 + 12, nsec - 1u > 0xffffffffu ? 0xffffffffu : (uint32_t)(nsec - 1u));
    img[510] = 0x55;
    img[511] = 0xaa;
    for (int backup = 0; backup < 2; backup++) {
        uint8_t *h = db_hdr(img, nsec, backup);
        uint64_t my = backup ? nsec - 1u : 1u, alt = backup ? 1u : nsec - 1u;
        uint64_t ent = backup ? nsec - 1u - DB_ARRAY_SECS : 2u;
        memset(h, 0, DB_SEC);
        memcpy(h, "EFI PART", 8);
        db_le32(h + 8, 0x00010000u);
        db_le32(h + 12, 92);
        db_le64(h + 24, my);
        db_le64(h + 32, alt);
        db_le64(h + 40, 2u + DB_ARRAY_SECS);
        db_le64(h + 48, nsec - 2u - DB_ARRAY_SECS);
        memset(h + 56, 0x5a, 16); /* disk GUID */
        db_le64(h + 72, ent);
        db_le32(h + 80, DB_ENTRIES);
        db_le32(h + 84, DB_ENTSIZE);
        memcpy(img + ent * DB_SEC, arr, sizeof arr);
        db_fix_crcs(img, nsec, backup);
    }
}

/* The entry array of the primary (0) or backup (1) GPT. */
static inline uint8_t *db_entries(uint8_t *img, uint64_t nsec, int backup)
{
    return img + db_get64(db_hdr(img, nsec, backup) + 72) * DB_SEC;
}

/* An arm64 Image of file_bytes (>= 4096) with an EFI-stub PE header: two
   sections whose raw data ends at raw_end (normally file_bytes). */
static inline void db_build_image(uint8_t *p, uint64_t file_bytes, uint64_t raw_end,
                                  uint64_t image_size, uint64_t flags, uint16_t machine)
{
    const uint32_t pe = 0x40, opt = 0x70, sec = pe + 24 + opt;
    memset(p, 0, 4096);
    for (uint64_t i = 4096; i < file_bytes; i++)
        p[i] = (uint8_t)(i * 29u + (i >> 12));
    p[0] = 'M';
    p[1] = 'Z';
    db_le64(p + 8, 0);          /* text_offset */
    db_le64(p + 16, image_size);
    db_le64(p + 24, flags);
    db_le32(p + 56, 0x644d5241u);
    db_le32(p + 60, pe);
    memcpy(p + pe, "PE\0\0", 4);
    p[pe + 4] = (uint8_t)machine;
    p[pe + 5] = (uint8_t)(machine >> 8);
    p[pe + 6] = 2; /* sections */
    p[pe + 20] = (uint8_t)opt;
    memcpy(p + sec, ".text", 5);
    db_le32(p + sec + 16, 0x1000);          /* SizeOfRawData */
    db_le32(p + sec + 20, 0x1000);          /* PointerToRawData */
    memcpy(p + sec + 40, ".data", 5);
    db_le32(p + sec + 40 + 16, (uint32_t)(raw_end - 0x2000));
    db_le32(p + sec + 40 + 20, 0x2000);
}

#endif
