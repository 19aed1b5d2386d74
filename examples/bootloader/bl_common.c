/* SPDX-License-Identifier: MIT */
/* bl_common.c — error names and byte helpers for the bootloader. */
#include "bl_common.h"

const char *bl_strerror(int err)
{
    switch (err) {
    case BL_OK: return "ok";
    case BL_EIO: return "disk read failed";
    case BL_EARG: return "bad argument";
    case BL_EGPT_SIG: return "GPT: no \"EFI PART\" signature";
    case BL_EGPT_REV: return "GPT: header revision is not 1.x";
    case BL_EGPT_HDRSIZE: return "GPT: HeaderSize below 92 or beyond the block";
    case BL_EGPT_HDRCRC: return "GPT: header CRC32 mismatch";
    case BL_EGPT_MYLBA: return "GPT: MyLBA is not the block the header was read from";
    case BL_EGPT_USABLE: return "GPT: usable LBA range inverted or outside the disk";
    case BL_EGPT_ENTSIZE: return "GPT: SizeOfPartitionEntry is not 128*2^n up to 4096";
    case BL_EGPT_ENTCOUNT: return "GPT: partition entry count is 0 or the array is too large";
    case BL_EGPT_ENTLBA: return "GPT: partition entry array outside the disk or over the usable LBAs";
    case BL_EGPT_ENTCRC: return "GPT: partition entry array CRC32 mismatch";
    case BL_EGPT_PARTRANGE: return "GPT: a partition lies outside the usable LBAs or ends before it starts";
    case BL_EGPT_OVERLAP: return "GPT: two partitions overlap";
    case BL_EGPT_TOOMANY: return "GPT: more partitions than the bootloader keeps";
    case BL_EGPT_NOTFOUND: return "GPT: no partition of that name";
    case BL_EGPT_DUPNAME: return "GPT: two partitions have that name";
    case BL_EGPT_DISK: return "GPT: disk too small or block size unusable";
    case BL_EIMG_SHORT: return "Image: partition smaller than the 64-byte header";
    case BL_EIMG_MAGIC: return "Image: no ARM\\x64 magic, not an arm64 kernel Image";
    case BL_EIMG_BE: return "Image: big-endian kernel";
    case BL_EIMG_NOSIZE: return "Image: image_size is 0 (pre-3.17 kernel), its size is unknown";
    case BL_EIMG_PE: return "Image: PE/COFF header malformed";
    case BL_EIMG_MACHINE: return "Image: PE machine is not arm64";
    case BL_EIMG_TRUNC: return "Image: truncated, its PE sections end beyond the partition";
    case BL_EIMG_FILESIZE: return "Image: file is longer than its image_size";
    case BL_EPL_LAYOUT: return "layout: kernel base not 2 MiB aligned or regions inconsistent";
    case BL_EPL_KERNEL_RAM: return "placement: kernel partition or image_size larger than the RAM window";
    case BL_EPL_KERNEL_SELF: return "placement: kernel would overwrite the bootloader or the DTB";
    case BL_EPL_INITRD_RAM: return "placement: initrd beyond the RAM window";
    case BL_EPL_INITRD_KERNEL: return "placement: initrd overlaps the kernel (image_size)";
    case BL_EPL_INITRD_DTB: return "placement: initrd overlaps the DTB";
    case BL_EPL_INITRD_SELF: return "placement: initrd would overwrite the bootloader";
    case BL_EPL_WINDOW: return "placement: initrd and kernel not within one 1 GiB-aligned window of up to 32 GiB";
    case BL_EPL_DTB: return "placement: DTB outside RAM, over 2 MiB or not 8-byte aligned";
    case BL_EFDT_HDR: return "FDT: bad header (magic, version or block offsets)";
    case BL_EFDT_STRUCT: return "FDT: structure block malformed";
    case BL_EFDT_SPACE: return "FDT: edited tree does not fit its space";
    case BL_EFDT_CMDLINE: return "FDT: command line too long or not printable";
    case BL_ELOAD_ALIGN: return "load: length is not a whole number of device blocks";
    default: return "unknown error";
    }
}

void bl_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    while (n--)
        *d++ = *s++;
}

void bl_memset(void *dst, int c, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    while (n--)
        *d++ = (uint8_t)c;
}

int bl_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t bl_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
