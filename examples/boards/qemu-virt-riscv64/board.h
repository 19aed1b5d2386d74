/* SPDX-License-Identifier: MIT */
/* QEMU `virt` RISC-V board (hart 0; M-mode with -bios none, or S-mode under
 * OpenSBI with -DBOARD_SMODE): the board.h half
 * of the board API (../board_api.h), with the memory map, the trap frame
 * layout shared with trap.S, and the interrupt mask and wfi inlines.
 *
 * Hardware: 16550 UART, PLIC (context 0 = hart 0 M-mode), CLINT timer and
 * software interrupt, sifive_test exit device, eight virtio-mmio slots.
 *
 * Included by start.S and trap.S too: constants above the C part carry no
 * C suffixes, and everything C-only is under !__ASSEMBLER__.
 */
#ifndef BOARD_H
#define BOARD_H

/* ---- memory map (QEMU virt) ------------------------------------------- */
#define BOARD_TEST_BASE        0x00100000  /* sifive_test: exit/reset     */
#define BOARD_CLINT_BASE       0x02000000
#define BOARD_CLINT_MSIP       (BOARD_CLINT_BASE + 0x0000)
#define BOARD_CLINT_MTIMECMP   (BOARD_CLINT_BASE + 0x4000)
#define BOARD_CLINT_MTIME      (BOARD_CLINT_BASE + 0xbff8)
#define BOARD_PLIC_BASE        0x0c000000
#define BOARD_UART_BASE        0x10000000
#define BOARD_UART_IRQ         10
#define BOARD_VIRTIO_BASE      0x10001000
#define BOARD_VIRTIO_STRIDE    0x1000
#define BOARD_VIRTIO_SLOTS     8
#define BOARD_VIRTIO_IRQ0      1            /* slot i raises PLIC source 1+i */
#define BOARD_VIRTIO_IRQ(i)    (BOARD_VIRTIO_IRQ0 + (i))
/* PCIe host bridge (hw/riscv/virt.c virt_memmap; the DTB's pci@30000000
 * reg and ranges say the same): ECAM, bus 0 at its start, and the 32-bit
 * memory window BARs are assigned from. */
#define BOARD_PCIE_ECAM        0x30000000
#define BOARD_PCIE_MMIO_BASE   0x40000000
#define BOARD_PCIE_MMIO_END    0x80000000
/* INTA of bus-0 device d: virt swizzles pin and slot onto PLIC sources
 * 32..35 (hw/riscv/virt.c, create_pcie_irq_map), level, shared. */
#define BOARD_PCIE_INTX_IRQ(d) (32 + ((d) % 4))
#define BOARD_RAM_BASE         0x80000000
#define BOARD_TIMEBASE_HZ      10000000     /* mtime / rdtime rate on virt  */
#define BOARD_IRQ_COUNT        97  /* table size: sources 1..96 (riscv,ndev) */

/* ---- trap frame layout (shared with trap.S) ---------------------------- */
/* One frame per execution context (boot/idle and each task).  Slot 0 of the
 * integer area holds mepc/sepc (x0 needs no saving); slot n holds register
 * xn.  Slot 32 is mstatus/sstatus, slot 33 pads so the FP area is 8-byte aligned on rv32. */
#if __riscv_xlen == 64
#define BOARD_REGBYTES 8
#else
#define BOARD_REGBYTES 4
#endif
#define BOARD_FRAME_EPC        0
#define BOARD_FRAME_X(n)       ((n) * BOARD_REGBYTES)
#define BOARD_FRAME_STATUS     (32 * BOARD_REGBYTES)
#define BOARD_FRAME_FP         (34 * BOARD_REGBYTES)
#if defined(__riscv_flen)
#define BOARD_FREGBYTES        (__riscv_flen / 8)
#define BOARD_FRAME_F(n)       (BOARD_FRAME_FP + (n) * BOARD_FREGBYTES)
#define BOARD_FRAME_FCSR       BOARD_FRAME_F(32)
#define BOARD_FRAME_SIZE       ((BOARD_FRAME_FCSR + BOARD_REGBYTES + 15) & ~15)
#else
#define BOARD_FRAME_SIZE       ((BOARD_FRAME_FP + 15) & ~15)
#endif

/* ---- privilege mode ----------------------------------------------------
 * One source for both modes.  M-mode (default): QEMU -bios none, the board
 * owns the machine, the trap CSRs are m*, the alarm is the CLINT's
 * mtimecmp, PLIC context 0.  S-mode (-DBOARD_SMODE): under OpenSBI
 * (-bios default, image linked at 0x80200000), the trap CSRs are s*, the
 * alarm goes through the SBI TIME extension, PLIC context 1 (hart 0 S), and
 * the synchronous switch trap is ebreak (an ecall would go to the SBI). */
#define BOARD_FS_INIT          0x00002000   /* xstatus.FS = Initial */
#if defined(BOARD_SMODE)
#define CSR_STATUS             sstatus
#define CSR_IE                 sie
#define CSR_IP                 sip
#define CSR_EPC                sepc
#define CSR_CAUSE              scause
#define CSR_TVAL               stval
#define CSR_SCRATCH            sscratch
#define CSR_TVEC               stvec
#define BOARD_XRET             sret
#define BOARD_STATUS_IE        0x00000002   /* sstatus.SIE */
#define BOARD_STATUS_PIE       0x00000020   /* sstatus.SPIE */
#define BOARD_STATUS_PP        0x00000100   /* sstatus.SPP = S */
#define BOARD_IE_SOFT          0x00000002   /* sie.SSIE */
#define BOARD_IE_TIMER         0x00000020   /* sie.STIE */
#define BOARD_IE_EXT           0x00000200   /* sie.SEIE */
#define BOARD_IRQ_CAUSE_SOFT   1
#define BOARD_IRQ_CAUSE_TIMER  5
#define BOARD_IRQ_CAUSE_EXT    9
#define BOARD_EXC_SWITCH       3            /* breakpoint (ebreak) */
#define BOARD_PLIC_CONTEXT     1            /* hart 0, S-mode */
#define BOARD_MODE_TAG         "s"
#define BOARD_MODE_NAME        "S-mode under OpenSBI"
#else
#define CSR_STATUS             mstatus
#define CSR_IE                 mie
#define CSR_IP                 mip
#define CSR_EPC                mepc
#define CSR_CAUSE              mcause
#define CSR_TVAL               mtval
#define CSR_SCRATCH            mscratch
#define CSR_TVEC               mtvec
#define BOARD_XRET             mret
#define BOARD_STATUS_IE        0x00000008   /* mstatus.MIE */
#define BOARD_STATUS_PIE       0x00000080   /* mstatus.MPIE */
#define BOARD_STATUS_PP        0x00001800   /* mstatus.MPP = M */
#define BOARD_IE_SOFT          0x00000008   /* mie.MSIE */
#define BOARD_IE_TIMER         0x00000080   /* mie.MTIE */
#define BOARD_IE_EXT           0x00000800   /* mie.MEIE */
#define BOARD_IRQ_CAUSE_SOFT   3
#define BOARD_IRQ_CAUSE_TIMER  7
#define BOARD_IRQ_CAUSE_EXT    11
#define BOARD_EXC_SWITCH       11           /* ecall from M */
#define BOARD_PLIC_CONTEXT     0            /* hart 0, M-mode */
#define BOARD_MODE_TAG         "m"
#define BOARD_MODE_NAME        "M-mode"
#endif
#define BOARD_STR_(x)          #x
#define BOARD_STR(x)           BOARD_STR_(x)

#if __riscv_xlen == 64
#define BOARD_ARCH "riscv64"
#else
#define BOARD_ARCH "riscv32"
#endif

#ifndef __ASSEMBLER__

#include <stdint.h>
#include <stddef.h>

/* ---- interrupt mask and wfi -------------------------------------------- */
/* Mask interrupts (mstatus.MIE / sstatus.SIE); returns the previous state. */
static inline uintptr_t board_irq_save(void)
{
    uintptr_t old;
    __asm__ volatile("csrrc %0, " BOARD_STR(CSR_STATUS) ", %1" : "=r"(old)
                     : "r"((uintptr_t)BOARD_STATUS_IE) : "memory");
    return old & BOARD_STATUS_IE;
}
static inline void board_irq_restore(uintptr_t saved)
{
    if (saved)
        __asm__ volatile("csrs " BOARD_STR(CSR_STATUS) ", %0" : : "r"(saved) : "memory");
}
/* Sleep until an interrupt enabled in mie/sie is pending, even while it is
 * masked globally (then the handler runs only after the caller unmasks).  May
 * return early: callers loop on their own condition and a deadline. */
static inline void board_wfi(void)
{
    __asm__ volatile("wfi" : : : "memory");
}

/* ---- trap frames and the scheduler hook -------------------------------- */
typedef struct board_frame {
    uintptr_t x[32];         /* x[0] = mepc/sepc, x[n] = register xn */
    uintptr_t status;        /* mstatus / sstatus */
    uintptr_t pad_;
#if defined(__riscv_flen) && __riscv_flen == 64
    uint64_t f[32];
    uintptr_t fcsr;
#elif defined(__riscv_flen)
    uint32_t f[32];
    uintptr_t fcsr;
#endif
} __attribute__((aligned(16))) board_frame;
/* The stack pointer the frame resumes with: x2 (sp). */
static inline uintptr_t board_frame_sp(const board_frame *f) { return f->x[2]; }

#endif /* !__ASSEMBLER__ */
#endif /* BOARD_H */
