/* SPDX-License-Identifier: MIT */
/* virtq platform shim: AArch64 at EL1 (bare metal or a small kernel).
 *
 * Use it as the configuration header:
 *     cc ... -DVIRTQ_CONFIG_FILE='"virtq_aarch64.h"' -Ishims/aarch64
 * or include it from your own configuration header (a board header that
 * also defines the OS-wait hooks or its own alarm, as
 * examples/boards/qemu-virt-aarch64/virtq_board.h does).  Every hook here is
 * #ifndef-guarded: define one before this header to replace it alone.
 *
 * What it provides
 *   clock     VIRTQ_NOW_US()        CNTVCT_EL0 / CNTFRQ_EL0 in microseconds
 *   alarm     VIRTQ_WFI_ALARM_US(d) one-shot on the EL1 virtual timer
 *                                   (CNTV_CVAL_EL0 / CNTV_CTL_EL0)
 *   masking   VIRTQ_IRQ_SAVE/RESTORE  DAIF.I around check-then-wfi
 *             VIRTQ_WFI()            dsb sy; wfi
 *   ordering  VIRTQ_MB/RMB/WMB, VIRTQ_DMA_MB/RMB/WMB, the MMIO accessors
 *             (8/16/32-bit reads and writes; the PCI configuration space
 *             defaults to them for ECAM)
 *   DMA       VIRTQ_DMA_SYNC_FOR_DEVICE/CPU (dc cvac / civac / ivac by
 *             line) when VIRTQ_AARCH64_DMA_NONCOHERENT is 1; else no-ops
 *
 * What the platform must do for the WFI strategy (see shims/PORTING.md):
 * route the virtual timer's PPI (INTID 27 on most boards) through the GIC to
 * this core with a priority the priority mask lets through, and silence it
 * in its handler (virtq_aarch64_alarm_silence(), or program a later
 * deadline).  `wfi` wakes on a pending interrupt even while DAIF.I masks
 * it, so no handler needs to run for the wait to end; the handler only
 * stops the level-triggered line from waking every later wfi at once.
 * A platform that multiplexes the timer (a scheduler tick on the same
 * comparator) defines VIRTQ_WFI_ALARM_US itself, as the qemu-virt-aarch64
 * board does.
 *
 * Compiler flags: the library has no FP code, but compilers may use SIMD
 * registers for integer work (clang emits `cnt v0.8b` for the popcount in
 * virtq_dev_queue_setup), so either enable FP/SIMD at EL1 (CPACR_EL1.FPEN =
 * 0b11, and save q0-q31/FPCR/FPSR in every context switch) or build every
 * file with -mgeneral-regs-only.  While the MMU is off all data accesses are
 * Device-nGnRnE and must be aligned: build such code with -mstrict-align.
 */
#ifndef VIRTQ_AARCH64_H
#define VIRTQ_AARCH64_H

#if !defined(__aarch64__)
#error "shims/aarch64/virtq_aarch64.h is for AArch64 targets"
#endif

#include <stdint.h>

#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI)
#endif

/* ---- system registers ---------------------------------------------------- */
#define VIRTQ_AARCH64_MRS(reg, v) __asm__ __volatile__("mrs %0, " #reg : "=r"(v))
#define VIRTQ_AARCH64_MSR(reg, v) \
    __asm__ __volatile__("msr " #reg ", %0" : : "r"((uint64_t)(v)) : "memory")
#define VIRTQ_AARCH64_ISB() __asm__ __volatile__("isb" ::: "memory")

/* ---- clock: the generic timer's virtual count --------------------------- */
static inline uint64_t virtq_aarch64_timer_hz(void)
{
    uint64_t f;
    VIRTQ_AARCH64_MRS(cntfrq_el0, f);
    return f ? f : 1u; /* firmware must set CNTFRQ; never divide by 0 */
}

static inline uint64_t virtq_aarch64_ticks(void)
{
    uint64_t t;
    /* isb: the counter read is not speculated ahead of earlier
       instructions, so a timestamp taken after an event is not older
       than the event (the architecture allows an early read). */
    VIRTQ_AARCH64_ISB();
    VIRTQ_AARCH64_MRS(cntvct_el0, t);
    return t;
}

/* Split the multiply so ticks * 1e6 cannot overflow within 2^64 ticks. */
static inline uint64_t virtq_aarch64_ticks_to_us(uint64_t t)
{
    uint64_t hz = virtq_aarch64_timer_hz();
    return t / hz * 1000000u + t % hz * 1000000u / hz;
}

/* UINT64_MAX ("never") maps to the largest count, never wraps to small. */
static inline uint64_t virtq_aarch64_us_to_ticks(uint64_t us)
{
    uint64_t hz = virtq_aarch64_timer_hz(), sec = us / 1000000u;
    if (sec >= UINT64_MAX / hz)
        return UINT64_MAX;
    return sec * hz + us % 1000000u * hz / 1000000u;
}

static inline uint64_t virtq_aarch64_now_us(void)
{
    return virtq_aarch64_ticks_to_us(virtq_aarch64_ticks());
}

/* ---- alarm: EL1 virtual timer, one-shot ---------------------------------- */
#define VIRTQ_AARCH64_CNTV_ENABLE 1u
#define VIRTQ_AARCH64_CNTV_IMASK 2u
#define VIRTQ_AARCH64_CNTV_ISTATUS 4u

/* Fire the virtual timer's PPI at deadline_us (absolute, virtq_aarch64_now_us
   scale); a deadline already past fires at once.  Replaces any earlier one. */
static inline void virtq_aarch64_alarm_us(uint64_t deadline_us)
{
    VIRTQ_AARCH64_MSR(cntv_cval_el0, virtq_aarch64_us_to_ticks(deadline_us));
    VIRTQ_AARCH64_MSR(cntv_ctl_el0, VIRTQ_AARCH64_CNTV_ENABLE);
    /* isb: system-register writes take effect at the next context
       synchronisation; without it a wfi right after could sleep with the
       comparator still holding its old value. */
    VIRTQ_AARCH64_ISB();
}

/* From the timer's handler: drop the level-triggered line. */
static inline void virtq_aarch64_alarm_silence(void)
{
    VIRTQ_AARCH64_MSR(cntv_ctl_el0, VIRTQ_AARCH64_CNTV_IMASK);
    VIRTQ_AARCH64_ISB(); /* as above: the line drops before the EOI */
}

#ifndef VIRTQ_NOW_US
#define VIRTQ_NOW_US() virtq_aarch64_now_us()
#endif
#if !defined(VIRTQ_WFI_ALARM_US) && !defined(VIRTQ_WFI_TICK_US)
#define VIRTQ_WFI_ALARM_US(deadline_us) virtq_aarch64_alarm_us(deadline_us)
#endif

/* ---- interrupt mask and wfi ---------------------------------------------- */
/* Mask IRQs (DAIF.I) between the last "nothing completed" check and wfi; a
   pending IRQ still ends the wfi ("Wait for Interrupt": a masked interrupt
   is a wake-up event), and its handler runs once the caller restores.
   FIQ stays as it was: on a GICv3 non-secure EL1 it is not used. */
static inline unsigned long virtq_aarch64_irq_save(void)
{
    unsigned long daif;
    __asm__ __volatile__("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif) : : "memory");
    return daif;
}
#ifndef VIRTQ_IRQ_SAVE
#define VIRTQ_IRQ_SAVE() virtq_aarch64_irq_save()
#define VIRTQ_IRQ_RESTORE(f) __asm__ __volatile__("msr daif, %0" ::"r"((unsigned long)(f)) : "memory")
#endif
#ifndef VIRTQ_WFI
/* dsb sy: every earlier access (the GIC EOI, an MMIO write that re-armed a
   device) has completed before the core may stop; wfi itself orders
   nothing.  This is also what Linux's cpu_do_idle() issues. */
#define VIRTQ_WFI() __asm__ __volatile__("dsb sy\n\twfi" ::: "memory")
#endif

/* ---- barriers ------------------------------------------------------------ */
/* Without VIRTIO_F_ORDER_PLATFORM the device is another CPU (QEMU's I/O
   thread, a hypervisor's backend) in the same inner-shareable domain:
   `dmb ish` orders our accesses as that CPU observes them.  With it, the
   device is a bus master outside the inner domain: `dmb osh` (outer
   shareable) covers it.  The ld/st forms order only loads (acquire side:
   used.idx before used entries) or only stores (release side: descriptors
   before avail.idx), which is all those two pairs need.  dmb, not dsb:
   virtqueues need ordering between accesses, never completion. */
#ifndef VIRTQ_MB
#define VIRTQ_MB() __asm__ __volatile__("dmb ish" ::: "memory")
#endif
#ifndef VIRTQ_RMB
#define VIRTQ_RMB() __asm__ __volatile__("dmb ishld" ::: "memory")
#endif
#ifndef VIRTQ_WMB
#define VIRTQ_WMB() __asm__ __volatile__("dmb ishst" ::: "memory")
#endif
#ifndef VIRTQ_DMA_MB
#define VIRTQ_DMA_MB() __asm__ __volatile__("dmb osh" ::: "memory")
#endif
#ifndef VIRTQ_DMA_RMB
#define VIRTQ_DMA_RMB() __asm__ __volatile__("dmb oshld" ::: "memory")
#endif
#ifndef VIRTQ_DMA_WMB
#define VIRTQ_DMA_WMB() __asm__ __volatile__("dmb oshst" ::: "memory")
#endif

/* ---- MMIO ---------------------------------------------------------------- */
/* One ldr/str with a plain base register, written in asm: a compiler may
   pick a writeback addressing mode for a volatile access, and such an
   access carries no instruction syndrome (ESR_EL2.ISV = 0), so a hypervisor
   that traps the register (KVM does for virtio-mmio) cannot emulate it.
   Device-nGnRE accesses to one peripheral stay in program order, so MMIO
   needs no barrier against other MMIO; what it needs is ordering against
   normal memory (the rings):
     write: `dmb oshst` before the store, so ring and buffer writes are
            observed by the device before the notify ("Notifying the
            device"); the device is outside the inner domain, hence osh;
     read:  `dmb oshld` after the load, so later ring reads (used ring after
            the interrupt status said "used buffer") are not satisfied
            before the register read. */
static inline uint32_t virtq_aarch64_mmio_read32(uintptr_t a)
{
    uint32_t v;
    __asm__ __volatile__("ldr %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline uint16_t virtq_aarch64_mmio_read16(uintptr_t a)
{
    uint16_t v;
    __asm__ __volatile__("ldrh %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline uint8_t virtq_aarch64_mmio_read8(uintptr_t a)
{
    uint8_t v;
    __asm__ __volatile__("ldrb %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void virtq_aarch64_mmio_write32(uintptr_t a, uint32_t v)
{
    __asm__ __volatile__("dmb oshst\n\tstr %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
/* 8- and 16-bit stores: virtio-pci's common configuration is written at
   each field's natural width. */
static inline void virtq_aarch64_mmio_write16(uintptr_t a, uint16_t v)
{
    __asm__ __volatile__("dmb oshst\n\tstrh %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void virtq_aarch64_mmio_write8(uintptr_t a, uint8_t v)
{
    __asm__ __volatile__("dmb oshst\n\tstrb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
#ifndef VIRTQ_MMIO_READ32
#define VIRTQ_MMIO_READ32(a) virtq_aarch64_mmio_read32(a)
#endif
#ifndef VIRTQ_MMIO_READ16
#define VIRTQ_MMIO_READ16(a) virtq_aarch64_mmio_read16(a)
#endif
#ifndef VIRTQ_MMIO_READ8
#define VIRTQ_MMIO_READ8(a) virtq_aarch64_mmio_read8(a)
#endif
#ifndef VIRTQ_MMIO_WRITE32
#define VIRTQ_MMIO_WRITE32(a, v) virtq_aarch64_mmio_write32((a), (v))
#endif
#ifndef VIRTQ_MMIO_WRITE16
#define VIRTQ_MMIO_WRITE16(a, v) virtq_aarch64_mmio_write16((a), (uint16_t)(v))
#endif
#ifndef VIRTQ_MMIO_WRITE8
#define VIRTQ_MMIO_WRITE8(a, v) virtq_aarch64_mmio_write8((a), (uint8_t)(v))
#endif

/* ---- cache maintenance for non-coherent DMA ------------------------------ */
/* Off by default: QEMU virt and most Arm servers are coherent.  With
   VIRTQ_AARCH64_DMA_NONCOHERENT=1 the data buffers are cleaned/invalidated
   to the point of coherency by line.  The rings themselves must then be in
   memory the device sees coherently (mapped Normal Non-cacheable), as in
   Linux.  Writable buffers should start and end on a cache line: a line
   shared with other data can be written back over what the device wrote. */
#ifndef VIRTQ_AARCH64_DMA_NONCOHERENT
#define VIRTQ_AARCH64_DMA_NONCOHERENT 0
#endif

/* Smallest data cache line of any level: CTR_EL0.DminLine is log2 words. */
static inline uintptr_t virtq_aarch64_dcache_line(void)
{
    uint64_t ctr;
    VIRTQ_AARCH64_MRS(ctr_el0, ctr);
    return (uintptr_t)4u << ((ctr >> 16) & 0xfu);
}

/* op 0: dc cvac (clean: the device will read), 1: dc civac (clean and
   invalidate: the device will write, so no dirty line may be evicted over
   its data later), 2: dc ivac (invalidate: drop lines fetched while the
   device owned the buffer).  An invalidate's first and last lines, when
   the buffer covers them only in part, are cleaned and invalidated
   instead (as Linux's arm64 __dma_inv_area does): a plain invalidate
   would silently drop whatever the CPU wrote next to the buffer.
   Counted (per translation unit: the one that holds the implementation)
   so tests can see the hooks ran. */
static volatile uint32_t virtq_aarch64_dcache_ops;
static inline void virtq_aarch64_dcache_range(const void *p, uintptr_t len, int op)
{
    uintptr_t line = virtq_aarch64_dcache_line();
    uintptr_t a = (uintptr_t)p & ~(line - 1u), end = (uintptr_t)p + len;

    if (len == 0)
        return;
    for (; a < end; a += line) {
        if (op == 0)
            __asm__ __volatile__("dc cvac, %0" : : "r"(a) : "memory");
        else if (op == 1 || a < (uintptr_t)p || a + line > end)
            __asm__ __volatile__("dc civac, %0" : : "r"(a) : "memory");
        else
            __asm__ __volatile__("dc ivac, %0" : : "r"(a) : "memory");
    }
    /* dsb sy: the maintenance must complete (reach the point of coherency)
       before the descriptor that hands the buffer over is published, or
       before the CPU reads what the device wrote; a dmb does not wait for
       cache maintenance to finish. */
    __asm__ __volatile__("dsb sy" ::: "memory");
    virtq_aarch64_dcache_ops = virtq_aarch64_dcache_ops + 1u;
}

#if VIRTQ_AARCH64_DMA_NONCOHERENT
#ifndef VIRTQ_DMA_SYNC_FOR_DEVICE
#define VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes) \
    virtq_aarch64_dcache_range((p), (uintptr_t)(len), (device_writes) ? 1 : 0)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_CPU
#define VIRTQ_DMA_SYNC_FOR_CPU(p, len) virtq_aarch64_dcache_range((p), (uintptr_t)(len), 2)
#endif
#endif

#endif /* VIRTQ_AARCH64_H */
