/* SPDX-License-Identifier: MIT */
/* place.c — see place.h.  Each rule is one numbered step. */
#include "place.h"

static bool inside(uint64_t a, uint64_t len, uint64_t base, uint64_t size)
{
    return a >= base && len <= size && a - base <= size - len;
}

int bl_place(const struct bl_layout *L, const struct arm64_image *img, uint64_t kernel_part_bytes,
             uint64_t initrd_bytes, uint32_t block, struct bl_plan *plan)
{
    uint64_t ram_end, room, lo, hi;

    if (!L || !img || !plan || block == 0u)
        return BL_EARG;
    ram_end = L->ram_base + L->ram_size;

    /* 1. The layout itself: a 2 MiB-aligned kernel base in RAM ("The Image
          must be placed text_offset bytes from a 2MB aligned base"). */
    if ((L->kernel_base & (BL_SZ_2M - 1u)) != 0u || ram_end < L->ram_base ||
        L->kernel_base < L->ram_base || L->kernel_base >= ram_end || L->self_hi < L->self_lo)
        return BL_EPL_LAYOUT;

    /* 2. The DTB: 8-byte aligned, at most 2 MiB, in RAM ("Setup the device
          tree"). */
    if ((L->dtb_addr & 7u) != 0u || L->dtb_max == 0u || L->dtb_max > BL_DTB_MAX ||
        !inside(L->dtb_addr, L->dtb_max, L->ram_base, L->ram_size))
        return BL_EPL_DTB;

    /* 3. The kernel: the partition and image_size fit the RAM from the
          load address ("At least image_size bytes from the start of the
          image must be free"). */
    plan->kernel_entry = L->kernel_base + img->text_offset;
    if (plan->kernel_entry < L->kernel_base || plan->kernel_entry >= ram_end)
        return BL_EPL_KERNEL_RAM;
    room = ram_end - plan->kernel_entry;
    if (kernel_part_bytes > room || img->image_size > room)
        return BL_EPL_KERNEL_RAM;
    plan->kernel_load = (img->file_bytes + block - 1u) / block * block;
    plan->kernel_span = img->image_size > plan->kernel_load ? img->image_size : plan->kernel_load;
    if (plan->kernel_span > room)
        return BL_EPL_KERNEL_RAM;
    if (bl_overlap(plan->kernel_entry, plan->kernel_span, L->self_lo, L->self_hi - L->self_lo) ||
        bl_overlap(plan->kernel_entry, plan->kernel_span, L->dtb_addr, L->dtb_max))
        return BL_EPL_KERNEL_SELF;

    /* 4. The initrd: in RAM, clear of the kernel's image_size, the DTB and
          the bootloader. */
    plan->initrd_start = initrd_bytes ? L->initrd_addr : 0u;
    plan->initrd_bytes = initrd_bytes;
    if (initrd_bytes) {
        if (!inside(L->initrd_addr, initrd_bytes, L->ram_base, L->ram_size))
            return BL_EPL_INITRD_RAM;
        if (bl_overlap(L->initrd_addr, initrd_bytes, plan->kernel_entry, plan->kernel_span))
            return BL_EPL_INITRD_KERNEL;
        if (bl_overlap(L->initrd_addr, initrd_bytes, L->dtb_addr, L->dtb_max))
            return BL_EPL_INITRD_DTB;
        if (bl_overlap(L->initrd_addr, initrd_bytes, L->self_lo, L->self_hi - L->self_lo))
            return BL_EPL_INITRD_SELF;
        /* 5. "it must reside entirely within a 1 GB aligned physical memory
              window of up to 32 GB in size that fully covers the kernel
              Image as well." */
        lo = plan->kernel_entry < L->initrd_addr ? plan->kernel_entry : L->initrd_addr;
        hi = plan->kernel_entry + plan->kernel_span;
        if (L->initrd_addr + initrd_bytes > hi)
            hi = L->initrd_addr + initrd_bytes;
        lo &= ~(BL_SZ_1G - 1u);
        hi = (hi + BL_SZ_1G - 1u) & ~(BL_SZ_1G - 1u);
        if (hi - lo > 32u * BL_SZ_1G)
            return BL_EPL_WINDOW;
    }
    plan->dtb = L->dtb_addr;
    plan->dtb_max = L->dtb_max;
    return BL_OK;
}
