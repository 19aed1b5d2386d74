/* SPDX-License-Identifier: MIT */
/* arm64_image.h — checks the header of a Linux arm64 kernel Image.
 *
 * Documentation/arch/arm64/booting.rst, "Call the kernel image": a 64-byte
 * little-endian header {code0, code1, text_offset, image_size, flags,
 * res2..4, magic "ARM\x64", res5 = PE header offset}.  An EFI-stub kernel
 * (Debian's) also carries a PE/COFF header ("MZ" at 0, "PE\0\0" at res5)
 * whose section table says how long the file is: that is how a truncated
 * Image is told from a complete one (the Image header itself has no file
 * length, and image_size includes the BSS, which is not in the file).
 */
#ifndef BL_ARM64_IMAGE_H_INCLUDED
#define BL_ARM64_IMAGE_H_INCLUDED

#include "bl_common.h"

#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" little endian */
#define ARM64_HDR_BYTES 64u
#define ARM64_PROBE_BYTES 4096u       /* what arm64_image_check() wants to see */
#define ARM64_FLAG_BE 1u
#define ARM64_FLAG_ANYWHERE 8u        /* bit 3: 2 MiB base may be anywhere */

struct arm64_image {
    uint64_t text_offset; /* load at a 2 MiB-aligned base + this */
    uint64_t image_size;  /* bytes from the load address the kernel owns (BSS included) */
    uint64_t flags;
    uint64_t file_bytes;  /* bytes to load: PE raw end, or the partition without PE */
    bool pe;              /* an EFI-stub PE/COFF header was found */
};

/* head: the first min(ARM64_PROBE_BYTES, part_bytes) bytes of the
   partition; part_bytes: its size.  Checks magic, endianness, image_size,
   and with a PE header the machine (0xaa64) and that every section's raw
   data lies inside the partition and inside image_size.  BL_OK and *out,
   or BL_EIMG_*. */
int arm64_image_check(const void *head, size_t head_bytes, uint64_t part_bytes,
                      struct arm64_image *out);

#endif
