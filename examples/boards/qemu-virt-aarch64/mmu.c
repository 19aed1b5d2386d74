/* SPDX-License-Identifier: MIT */
/* Identity map and MMU/cache enable for QEMU virt at EL1.
 *
 * Why the MMU at all: with it off every data access is Device-nGnRnE, and
 * QEMU (unlike hardware) lets unaligned and exclusive accesses through, so
 * code that would fault on a real core passes here.  With this map RAM is
 * Normal write-back (unaligned allowed, exclusives work, as on hardware)
 * and every MMIO or PCI window is Device-nGnRE and execute-never, where an
 * unaligned or exclusive access faults as it does on silicon.
 *
 * 4 KiB granule, 48-bit VA (T0SZ = 16), 40-bit PA (1 TiB), 1 GiB blocks:
 *   0x00_0000_0000  1 GiB   Device  GIC, UART, virtio-mmio, PCI MMIO, low ECAM
 *   0x00_4000_0000  3 GiB   Normal  RAM (QEMU's -m up to 3 GiB)
 *   0x40_0000_0000  1 GiB   Device  high PCI ECAM (0x40_1000_0000)
 *   0x80_0000_0000  4 GiB   Device  first 4 GiB of the high PCI MMIO window
 *
 * Called from start.S with the MMU off, before .data/.bss are used by C:
 * it writes only its own tables (in .bss, zeroed by start.S) with aligned
 * 64-bit stores, so it is safe on Device-nGnRnE memory. */
#include <stdint.h>

void board__mmu_on(void);

#define PTE_TABLE 3ull
#define PTE_BLOCK 1ull
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3ull << 8)
#define PTE_AF (1ull << 10)
#define PTE_PXN (1ull << 53)
#define PTE_UXN (1ull << 54)

#define ATTR_DEVICE 0   /* MAIR attr0: Device-nGnRE                    */
#define ATTR_NORMAL 1   /* MAIR attr1: Normal, inner/outer write-back  */
#define MAIR_VALUE ((0x04ull << (8 * ATTR_DEVICE)) | (0xffull << (8 * ATTR_NORMAL)))

#define BLOCK_DEVICE (PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN)
#define BLOCK_NORMAL (PTE_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF)

#define TCR_T0SZ(n) ((uint64_t)(n))
#define TCR_IRGN0_WB (1ull << 8)
#define TCR_ORGN0_WB (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_EPD1 (1ull << 23)        /* no TTBR1 walks: upper half unmapped */
#define TCR_IPS_40 (2ull << 32)
#define TCR_VALUE (TCR_T0SZ(16) | TCR_IRGN0_WB | TCR_ORGN0_WB | TCR_SH0_INNER | \
                   TCR_TG0_4K | TCR_EPD1 | TCR_IPS_40)

#define SCTLR_M (1ull << 0)
#define SCTLR_A (1ull << 1)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

#define GIB (1ull << 30)

static uint64_t l0[512] __attribute__((aligned(4096)));
static uint64_t l1_low[512] __attribute__((aligned(4096)));   /* 0 .. 512 GiB */
static uint64_t l1_high[512] __attribute__((aligned(4096)));  /* 512 GiB .. 1 TiB */

/* Drop any stale cache line over the tables: they were written with the
 * caches off, and the walker will read them through the cache. */
static void dcache_inval(const void *p, uint64_t len)
{
    uint64_t ctr, line, a;

    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    line = 4ull << ((ctr >> 16) & 0xf);
    for (a = (uint64_t)(uintptr_t)p & ~(line - 1); a < (uint64_t)(uintptr_t)p + len; a += line)
        __asm__ volatile("dc ivac, %0" : : "r"(a) : "memory");
}

void board__mmu_on(void)
{
    uint64_t sctlr;

    l1_low[0] = 0 * GIB | BLOCK_DEVICE;
    for (uint64_t i = 1; i < 4; i++)
        l1_low[i] = i * GIB | BLOCK_NORMAL;
    l1_low[256] = 256 * GIB | BLOCK_DEVICE;
    for (uint64_t i = 0; i < 4; i++)
        l1_high[i] = (512 + i) * GIB | BLOCK_DEVICE;
    l0[0] = (uint64_t)(uintptr_t)l1_low | PTE_TABLE;
    l0[1] = (uint64_t)(uintptr_t)l1_high | PTE_TABLE;

    /* dsb: the table stores are complete before the walker may read them. */
    __asm__ volatile("dsb sy" ::: "memory");
    dcache_inval(l0, sizeof(l0));
    dcache_inval(l1_low, sizeof(l1_low));
    dcache_inval(l1_high, sizeof(l1_high));
    __asm__ volatile("msr mair_el1, %0\n\t"
                     "msr tcr_el1, %1\n\t"
                     "msr ttbr0_el1, %2\n\t"
                     "isb\n\t"
                     /* No stale translations or instructions survive. */
                     "tlbi vmalle1\n\t"
                     "ic iallu\n\t"
                     "dsb nsh\n\t"
                     "isb"
                     : : "r"(MAIR_VALUE), "r"(TCR_VALUE), "r"((uint64_t)(uintptr_t)l0)
                     : "memory");
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    sctlr |= SCTLR_M | SCTLR_C | SCTLR_I;
    sctlr &= ~SCTLR_A;   /* Normal memory: unaligned allowed, as Linux runs */
    __asm__ volatile("msr sctlr_el1, %0\n\tisb" : : "r"(sctlr) : "memory");
}
