/* SPDX-License-Identifier: MIT */
/* bl_common.h — shared pieces of the bootloader's portable parts.
 *
 * The GPT reader, the arm64 Image check, the placement rules, the FDT
 * editor and the loader are plain C99 with no libc (only stdint/stddef/
 * stdbool), so they build for the board and run on the host under
 * ASan/UBSan and libFuzzer.  Errors are negative BL_E* codes; bl_strerror()
 * gives each a sentence that names what was wrong, for the serial line.
 */
#ifndef BL_COMMON_H_INCLUDED
#define BL_COMMON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_OK 0
/* Errors start below virtq's (-1..-19) and the blk driver's (-20..-29). */
enum {
    BL_EIO = -100,         /* a disk read failed */
    BL_EARG = -101,        /* bad argument from the caller */
    /* GPT ("GUID Partition Table (GPT) Disk Layout", UEFI 2.10 5.3) */
    BL_EGPT_SIG = -110,        /* no "EFI PART" signature */
    BL_EGPT_REV = -111,        /* revision not 1.x */
    BL_EGPT_HDRSIZE = -112,    /* HeaderSize < 92 or > the block */
    BL_EGPT_HDRCRC = -113,     /* HeaderCRC32 mismatch */
    BL_EGPT_MYLBA = -114,      /* MyLBA is not where the header was read */
    BL_EGPT_USABLE = -115,     /* usable LBA range outside the disk or inverted */
    BL_EGPT_ENTSIZE = -116,    /* SizeOfPartitionEntry not 128 * 2^n <= 4096 */
    BL_EGPT_ENTCOUNT = -117,   /* entry array empty or larger than the scratch */
    BL_EGPT_ENTLBA = -118,     /* entry array outside the disk or over the usable range */
    BL_EGPT_ENTCRC = -119,     /* PartitionEntryArrayCRC32 mismatch */
    BL_EGPT_PARTRANGE = -120,  /* a partition outside the usable LBAs or inverted */
    BL_EGPT_OVERLAP = -121,    /* two partitions share blocks */
    BL_EGPT_TOOMANY = -122,    /* more used entries than GPT_MAX_PARTS */
    BL_EGPT_NOTFOUND = -123,   /* no partition with that name */
    BL_EGPT_DUPNAME = -124,    /* two partitions with that name */
    BL_EGPT_DISK = -125,       /* disk too small for a GPT, or block size unusable */
    /* arm64 Image (Documentation/arch/arm64/booting.rst "Call the kernel image") */
    BL_EIMG_SHORT = -130,      /* partition smaller than the 64-byte header */
    BL_EIMG_MAGIC = -131,      /* no "ARM\x64" magic: not an arm64 Image */
    BL_EIMG_BE = -132,         /* big-endian kernel */
    BL_EIMG_NOSIZE = -133,     /* image_size 0 (pre-3.17): size unknown */
    BL_EIMG_PE = -134,         /* PE/COFF header malformed */
    BL_EIMG_MACHINE = -135,    /* PE machine is not arm64 (0xaa64) */
    BL_EIMG_TRUNC = -136,      /* the file (per its PE sections) is longer than the partition */
    BL_EIMG_FILESIZE = -137,   /* file longer than image_size */
    /* placement */
    BL_EPL_LAYOUT = -140,      /* bad layout (kernel base not 2 MiB aligned, DTB misaligned...) */
    BL_EPL_KERNEL_RAM = -141,  /* kernel partition or image_size beyond the RAM window */
    BL_EPL_KERNEL_SELF = -142, /* kernel would overwrite the bootloader or the DTB */
    BL_EPL_INITRD_RAM = -143,  /* initrd beyond the RAM window */
    BL_EPL_INITRD_KERNEL = -144, /* initrd overlaps the kernel's image_size */
    BL_EPL_INITRD_DTB = -145,  /* initrd overlaps the DTB */
    BL_EPL_INITRD_SELF = -146, /* initrd would overwrite the bootloader */
    BL_EPL_WINDOW = -147,      /* kernel + initrd not in one 1 GiB-aligned window <= 32 GiB */
    BL_EPL_DTB = -148,         /* DTB beyond RAM, over 2 MiB, or not 8-byte aligned */
    /* FDT ("Devicetree Specification" 5, "Flattened Devicetree (DTB) Format") */
    BL_EFDT_HDR = -150,        /* bad magic, version or block offsets */
    BL_EFDT_STRUCT = -151,     /* structure block malformed */
    BL_EFDT_SPACE = -152,      /* the edited tree does not fit the output */
    BL_EFDT_CMDLINE = -153,    /* command line too long or not printable */
    /* loader */
    BL_ELOAD_ALIGN = -160,     /* length not a whole number of device blocks */
};

const char *bl_strerror(int err);

/* Little- and big-endian loads/stores on byte pointers (no alignment). */
static inline uint16_t bl_le16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t bl_le32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}
static inline uint64_t bl_le64(const void *p)
{
    return (uint64_t)bl_le32(p) | ((uint64_t)bl_le32((const uint8_t *)p + 4) << 32);
}
static inline uint32_t bl_be32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) |
           (uint32_t)b[3];
}
static inline void bl_put_be32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}
static inline void bl_put_be64(void *p, uint64_t v)
{
    bl_put_be32(p, (uint32_t)(v >> 32));
    bl_put_be32((uint8_t *)p + 4, (uint32_t)v);
}

/* Byte helpers, so the portable parts need no libc. */
void bl_memcpy(void *dst, const void *src, size_t n);
void bl_memset(void *dst, int c, size_t n);
int bl_memcmp(const void *a, const void *b, size_t n);
size_t bl_strlen(const char *s);

/* [a0, a0+alen) and [b0, b0+blen) share a byte (empty ranges share none). */
static inline bool bl_overlap(uint64_t a0, uint64_t alen, uint64_t b0, uint64_t blen)
{
    return alen != 0 && blen != 0 && a0 < b0 + blen && b0 < a0 + alen;
}

#endif /* BL_COMMON_H_INCLUDED */
