/* SPDX-License-Identifier: MIT */
/* virtq board layer for QEMU `virt` (AArch64, EL1, one core, -cpu cortex-a72).
 *
 * The board.h half of the board API (../board_api.h); board.c implements
 * the rest.  What it gives a program: printf on the PL011, exception vectors that dispatch the
 * generic timer and GIC interrupts (GICv2 or GICv3, found at run time), a
 * microsecond clock and a one-shot alarm that bounds a `wfi`, a virtio-mmio
 * slot scan, and an exit the host sees as pass/fail (semihosting SYS_EXIT
 * with the status; PSCI SYSTEM_OFF when semihosting is off).
 *
 * Start-up turns the MMU and caches on with an identity map (RAM Normal
 * write-back, MMIO and PCI windows Device-nGnRE, execute-never), so an
 * unaligned or exclusive access to a device register faults as it does on
 * hardware, and FP/SIMD on (CPACR_EL1.FPEN), since picolibc and compilers
 * use SIMD registers; every context switch saves q0-q31, FPCR and FPSR.
 *
 * Interrupt wiring rule (as on RISC-V): initialise every device first, then
 * register and enable its IRQ, then call board_interrupts_on() once.
 * Interrupt numbers are GIC INTIDs: SGI 0-15, PPI 16-31, SPI 32+.
 *
 * Included by start.S and vectors.S too: constants above the C part carry no
 * C suffixes, and everything C-only is under !__ASSEMBLER__.
 */
#ifndef BOARD_H
#define BOARD_H

/* ---- memory map (QEMU virt, hw/arm/virt.c) ----------------------------- */
#define BOARD_GICD_BASE        0x08000000  /* GICv2/v3 distributor          */
#define BOARD_GICC_BASE        0x08010000  /* GICv2 CPU interface           */
#define BOARD_GICR_BASE        0x080a0000  /* GICv3 redistributor, core 0   */
#define BOARD_UART_BASE        0x09000000  /* PL011                         */
#define BOARD_UART_IRQ         33          /* SPI 1                         */
#define BOARD_VIRTIO_BASE      0x0a000000
#define BOARD_VIRTIO_STRIDE    0x200
#define BOARD_VIRTIO_SLOTS     32
#define BOARD_VIRTIO_IRQ0      48          /* slot i raises SPI 16+i         */
#define BOARD_VIRTIO_IRQ(i)    (BOARD_VIRTIO_IRQ0 + (i))
#define BOARD_PCIE_MMIO_BASE   0x10000000  /* 32-bit PCI window             */
#define BOARD_PCIE_ECAM_LOW    0x3f000000  /* ECAM with highmem=off         */
#define BOARD_PCIE_ECAM_HIGH   0x4010000000 /* ECAM (default, highmem=on)   */
#define BOARD_PCIE_IRQ0        35          /* INTA..INTD: SPI 3..6, level    */
/* The PCI window board_virtio_find() scans and assigns BARs from (no
 * firmware enumerated the bus), and the INTA of bus-0 device d: virt
 * swizzles pin and slot onto SPI 3..6 (hw/arm/virt.c, create_pcie_irq_map). */
#define BOARD_PCIE_ECAM        BOARD_PCIE_ECAM_HIGH
#define BOARD_PCIE_MMIO_END    0x3eff0000
#define BOARD_PCIE_INTX_IRQ(d) (BOARD_PCIE_IRQ0 + ((d) % 4))
#define BOARD_RAM_BASE         0x40000000  /* QEMU writes the DTB here      */
#define BOARD_TIMER_IRQ        27          /* EL1 virtual timer, PPI 11      */
#define BOARD_SWI_IRQ          0           /* SGI 0: board_swi_raise()       */
#define BOARD_IRQ_COUNT        288         /* INTIDs 0..287 (virt: 256 SPIs) */

/* ---- context frame layout (shared with vectors.S) ---------------------- */
#define BOARD_FRAME_X(n)       ((n) * 8)     /* x0..x30                      */
#define BOARD_FRAME_SP         (31 * 8)      /* SP_EL0 of the context        */
#define BOARD_FRAME_ELR        (32 * 8)
#define BOARD_FRAME_SPSR       (33 * 8)
#define BOARD_FRAME_TPIDR      (34 * 8)      /* TPIDR_EL0: picolibc's TLS    */
#define BOARD_FRAME_FPSR       (35 * 8)
#define BOARD_FRAME_FPCR       (36 * 8)
#define BOARD_FRAME_Q          (38 * 8)      /* q0..q31, 16-byte aligned     */
#define BOARD_FRAME_SIZE       (BOARD_FRAME_Q + 32 * 16)

/* Exception kinds vectors.S passes to board__trap. */
#define BOARD_EXC_SYNC         0
#define BOARD_EXC_IRQ          1
#define BOARD_EXC_FIQ          2
#define BOARD_EXC_SERROR       3

#define BOARD_ARCH             "aarch64"   /* the RESULT arch= tag */

/* SPSR for a fresh task: EL1t (runs on SP_EL0), D/A/I/F all clear. */
#define BOARD_SPSR_EL1T        0x4
#define BOARD_DAIF_I           0x80

#ifndef __ASSEMBLER__

#include <stdint.h>
#include <stddef.h>

/* ---- aarch64 extras (beyond board_api.h) ------------------------------ */
/* GIC architecture version found at start-up: 2 or 3. */
int board_gic_version(void);
/* How the run ends: 1 = semihosting SYS_EXIT (QEMU exits with the code),
 * 0 = PSCI SYSTEM_OFF (QEMU exits 0; the RESULT line carries the verdict). */
int board_exit_semihosting(void);

/* ---- interrupt mask and wfi -------------------------------------------- */
/* Mask IRQs (DAIF.I); returns the previous DAIF for board_irq_restore. */
static inline uintptr_t board_irq_save(void)
{
    uintptr_t daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif) : : "memory");
    return daif;
}
static inline void board_irq_restore(uintptr_t saved)
{
    __asm__ volatile("msr daif, %0" : : "r"(saved) : "memory");
}
/* Sleep until an interrupt is pending at the GIC CPU interface, even with
 * DAIF.I set.  May return early: callers loop on their own condition. */
static inline void board_wfi(void)
{
    __asm__ volatile("dsb sy\n\twfi" : : : "memory");
}

/* The generic timer's frequency (CNTFRQ_EL0; 62.5 MHz on QEMU 7.2 virt). */
#define BOARD_TIMEBASE_HZ board_ticks_hz()

/* ---- context frames and the scheduler hook ----------------------------- */
typedef struct board_frame {
    uint64_t x[31];
    uint64_t sp;             /* SP_EL0: the context's stack pointer        */
    uint64_t elr;
    uint64_t spsr;
    uint64_t tpidr;          /* TPIDR_EL0                                  */
    uint64_t fpsr;
    uint64_t fpcr;
    uint64_t pad_;
    __uint128_t q[32];
} __attribute__((aligned(16))) board_frame;

/* The stack pointer a frame resumes with (the scheduler's overflow check). */
static inline uintptr_t board_frame_sp(const board_frame *f) { return f->sp; }
#endif /* !__ASSEMBLER__ */
#endif /* BOARD_H */
