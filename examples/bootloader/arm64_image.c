/* SPDX-License-Identifier: MIT */
/* arm64_image.c — see arm64_image.h. */
#include "arm64_image.h"

#define PE_MACHINE_ARM64 0xaa64u

/* PE/COFF (Microsoft PE format): "PE\0\0", then the COFF file header
   {Machine u16, NumberOfSections u16, ..., SizeOfOptionalHeader u16 at 16},
   the optional header, then 40-byte section headers with SizeOfRawData
   (u32 at 16) and PointerToRawData (u32 at 20). */
static int pe_file_end(const uint8_t *h, size_t n, uint32_t pe, uint64_t *end)
{
    uint32_t nsec, opt, sec;
    uint64_t e = 0;

    if (pe < ARM64_HDR_BYTES || pe > n || n - pe < 24u || bl_memcmp(h + pe, "PE\0\0", 4) != 0)
        return BL_EIMG_PE;
    if (bl_le16(h + pe + 4u) != PE_MACHINE_ARM64)
        return BL_EIMG_MACHINE;
    nsec = bl_le16(h + pe + 6u);
    opt = bl_le16(h + pe + 20u);
    sec = pe + 24u + opt;
    if (nsec == 0u || sec > n || (uint64_t)nsec * 40u > n - sec)
        return BL_EIMG_PE;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *s = h + sec + 40u * i;
        uint64_t raw_end = (uint64_t)bl_le32(s + 20u) + bl_le32(s + 16u);
        if (bl_le32(s + 16u) != 0u && raw_end > e)
            e = raw_end;
    }
    *end = e;
    return BL_OK;
}

int arm64_image_check(const void *head, size_t head_bytes, uint64_t part_bytes,
                      struct arm64_image *out)
{
    const uint8_t *h = (const uint8_t *)head;
    int err;

    if (!head || !out)
        return BL_EARG;
    if (part_bytes < ARM64_HDR_BYTES || head_bytes < ARM64_HDR_BYTES)
        return BL_EIMG_SHORT;
    if (head_bytes > part_bytes)
        head_bytes = (size_t)part_bytes;
    if (bl_le32(h + 56u) != ARM64_IMAGE_MAGIC)
        return BL_EIMG_MAGIC;
    out->text_offset = bl_le64(h + 8u);
    out->image_size = bl_le64(h + 16u);
    out->flags = bl_le64(h + 24u);
    if (out->flags & ARM64_FLAG_BE)
        return BL_EIMG_BE;
    /* "Where image_size is zero, text_offset can be assumed to be 0x80000":
       then nothing says how much memory the kernel needs; refuse. */
    if (out->image_size == 0u)
        return BL_EIMG_NOSIZE;

    out->pe = h[0] == 'M' && h[1] == 'Z';
    if (out->pe) {
        uint64_t end = 0;
        err = pe_file_end(h, head_bytes, bl_le32(h + 60u), &end);
        if (err != BL_OK)
            return err;
        if (end < ARM64_HDR_BYTES)
            return BL_EIMG_PE;
        if (end > part_bytes)
            return BL_EIMG_TRUNC;
        out->file_bytes = end;
    } else {
        /* No file length to check against: load the partition, up to
           image_size (sector padding beyond it is not the kernel's). */
        out->file_bytes = part_bytes < out->image_size ? part_bytes : out->image_size;
    }
    if (out->file_bytes > out->image_size)
        return BL_EIMG_FILESIZE;
    return BL_OK;
}
