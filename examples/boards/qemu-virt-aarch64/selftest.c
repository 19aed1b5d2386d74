/* SPDX-License-Identifier: MIT */
/* selftest: what only the AArch64 board and its shim can get wrong, checked
 * on the running core (tests/aarch64/a64_faults.py boots each mode).
 *
 *   SELFTEST_MODE 0  pass run: MMU, caches and FP on (SCTLR_EL1, CPACR_EL1),
 *                    the GIC the core reports matches the one found, the
 *                    DTB QEMU wrote below the image, the shim's clock
 *                    against the counter, its one-shot alarm ending a
 *                    masked wfi, the cache maintenance hooks over a buffer
 *                    (dc cvac / civac / ivac must not fault on RAM), and
 *                    the shim's MMIO accessors on a device register
 *   1                board_fail(): the run must end with exit status 1
 *   2                a load from an address the identity map leaves out:
 *                    must end in a data abort (the MMU is on)
 *   3                a branch into the UART's page: must end in an
 *                    instruction abort (device memory is execute-never)
 *
 * The modes that end in a fault print `SELFTEST expect ...` first, so the
 * harness knows the run reached the faulting access.
 */
#include "board_api.h"

#define VIRTQ_AARCH64_DMA_NONCOHERENT 1
#include "virtq_aarch64.h"

#include <stdint.h>

#ifndef SELFTEST_MODE
#define SELFTEST_MODE 0
#endif

#define FDT_MAGIC 0xd00dfeedu

static uint8_t dma_buf[3000] __attribute__((aligned(64)));

static uint32_t be32(const volatile uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void check_system_registers(void)
{
    uint64_t sctlr, cpacr, pfr0;

    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
    board_printf("selftest: sctlr_el1=0x%lx cpacr_el1=0x%lx\n", (unsigned long)sctlr,
                 (unsigned long)cpacr);
    if ((sctlr & 0x1005u) != 0x1005u)
        board_fail("MMU/caches not all on: sctlr_el1=0x%lx (want M, C, I)",
                   (unsigned long)sctlr);
    if (sctlr & 0x2u)
        board_fail("SCTLR_EL1.A set: Normal-memory unaligned accesses would fault");
    if (((cpacr >> 20) & 3u) != 3u)
        board_fail("FP/SIMD still trapped: cpacr_el1=0x%lx", (unsigned long)cpacr);
    if ((((pfr0 >> 24) & 0xfu) != 0) != (board_gic_version() == 3))
        board_fail("GIC: core says sysreg interface %lu, board found GICv%d",
                   (unsigned long)((pfr0 >> 24) & 0xfu), board_gic_version());
}

static void check_dtb(void)
{
    const volatile uint8_t *dtb = (const volatile uint8_t *)(uintptr_t)BOARD_RAM_BASE;
    uint32_t magic = be32(dtb), size = be32(dtb + 4);

    if (magic != FDT_MAGIC)
        board_fail("no DTB at 0x%lx (magic 0x%08lx): the image is linked 1 MiB up so "
                   "QEMU writes one", (unsigned long)BOARD_RAM_BASE, (unsigned long)magic);
    board_printf("selftest: DTB at 0x%lx, %lu bytes\n", (unsigned long)BOARD_RAM_BASE,
                 (unsigned long)size);
}

static void check_clock_and_alarm(void)
{
    uint64_t hz = virtq_aarch64_timer_hz(), t0, t1, us0, us1, woke;
    uintptr_t s;

    if (hz < 1000000u)
        board_fail("CNTFRQ_EL0 = %lu Hz: below 1 MHz", (unsigned long)hz);
    board_figure("cntfrq", (long long)hz, "Hz");
    /* Conversions: one second of ticks is 1e6 us; "never" stays never. */
    if (virtq_aarch64_ticks_to_us(hz) != 1000000u ||
        virtq_aarch64_us_to_ticks(1000000u) != hz ||
        virtq_aarch64_us_to_ticks(UINT64_MAX) != UINT64_MAX)
        board_fail("tick/us conversions wrong at %lu Hz", (unsigned long)hz);
    t0 = virtq_aarch64_ticks();
    us0 = virtq_aarch64_now_us();
    board_delay_us(2000);
    t1 = virtq_aarch64_ticks();
    us1 = virtq_aarch64_now_us();
    if (t1 <= t0 || us1 < us0 + 2000u)
        board_fail("clock: ticks %lu -> %lu, us %lu -> %lu over a 2 ms delay",
                   (unsigned long)t0, (unsigned long)t1, (unsigned long)us0,
                   (unsigned long)us1);

    /* The shim's own alarm (not the board's multiplexed one) must end a
     * wfi taken with IRQs masked: only the pending PPI can wake it. */
    s = board_irq_save();
    us0 = virtq_aarch64_now_us();
    virtq_aarch64_alarm_us(us0 + 3000u);
    for (int i = 0; i < 1000 && virtq_aarch64_now_us() < us0 + 3000u; i++)
        VIRTQ_WFI();
    woke = virtq_aarch64_now_us();
    virtq_aarch64_alarm_silence();
    board_irq_restore(s);
    if (woke < us0 + 3000u)
        board_fail("shim alarm: woke at +%lu us, before the 3000 us deadline",
                   (unsigned long)(woke - us0));
    board_figure("shim_alarm_late", (long long)(woke - us0 - 3000u), "us");
    /* Hand the comparator back to the board (the shim's alarm replaced it). */
    board_alarm_cancel();
}

static void check_cache_hooks(void)
{
    uint32_t before = virtq_aarch64_dcache_ops;
    uintptr_t line = virtq_aarch64_dcache_line();

    if (line < 16u || line > 2048u || (line & (line - 1u)))
        board_fail("CTR_EL0 line size %lu", (unsigned long)line);
    board_figure("dcache_line", (long long)line, "bytes");
    for (unsigned i = 0; i < sizeof(dma_buf); i++)
        dma_buf[i] = (uint8_t)i;
    /* Unaligned start and length on purpose: the range rounds outwards. */
    VIRTQ_DMA_SYNC_FOR_DEVICE(dma_buf + 5, sizeof(dma_buf) - 9, 0);
    VIRTQ_DMA_SYNC_FOR_DEVICE(dma_buf + 5, sizeof(dma_buf) - 9, 1);
    VIRTQ_DMA_SYNC_FOR_CPU(dma_buf + 5, sizeof(dma_buf) - 9);
    if (virtq_aarch64_dcache_ops != before + 3u)
        board_fail("cache hooks ran %lu times, want 3",
                   (unsigned long)(virtq_aarch64_dcache_ops - before));
    /* QEMU has no caches to lose data in; on a coherent model the bytes
     * must survive clean+invalidate. */
    for (unsigned i = 0; i < sizeof(dma_buf); i++)
        if (dma_buf[i] != (uint8_t)i)
            board_fail("dma_buf[%u] changed by cache maintenance", i);
}

static void check_mmio_accessors(void)
{
    uintptr_t slot = BOARD_VIRTIO_BASE;

    /* Slot 0's magic through the shim's ldr + dmb accessors. */
    if (VIRTQ_MMIO_READ32(slot) != BOARD_VIRTIO_MAGIC)
        board_fail("shim MMIO read of the virtio magic: 0x%08lx",
                   (unsigned long)VIRTQ_MMIO_READ32(slot));
    if (VIRTQ_MMIO_READ8(slot) != 0x76 || VIRTQ_MMIO_READ16(slot) != 0x6976)
        board_fail("shim 8/16-bit MMIO reads disagree with the 32-bit one");
}

int main(void)
{
    board_set_name("selftest");
    board_tag("transport", "mmio");
    board_tag("ring", "none");
    board_printf("virtq board selftest on %s\n", board_platform());
#if SELFTEST_MODE == 1
    board_fail("deliberate failure (the exit status must say so)");
#elif SELFTEST_MODE == 2
    board_printf("SELFTEST expect data abort\n");
    board_printf("read 0x%lx\n", (unsigned long)*(volatile uint32_t *)(uintptr_t)0x100000000ull);
#elif SELFTEST_MODE == 3
    board_printf("SELFTEST expect instruction abort\n");
    ((void (*)(void))(uintptr_t)BOARD_UART_BASE)();
#endif
    check_system_registers();
    check_dtb();
    check_clock_and_alarm();
    check_cache_hooks();
    check_mmio_accessors();
    board_pass();
}
