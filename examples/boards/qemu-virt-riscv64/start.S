/* SPDX-License-Identifier: MIT */
/* QEMU `virt` RISC-V board: reset entry.
 *
 * M-mode (-bios none): QEMU's reset vector jumps every hart here with
 * a0 = hartid.  S-mode (-DBOARD_SMODE, -bios default): OpenSBI enters the
 * boot hart here at 0x80200000 with a0 = hartid, a1 = the device tree.
 * Hart 0 sets up gp, its stack, .bss, FP state and its TLS block, installs
 * the trap vector and calls board__start() (board.c), which runs main().
 * Every other hart parks in wfi with interrupts off.  The ELF is loaded in
 * place, so .data needs no copy.
 */
#include "board.h"

    .section .text.start, "ax"
    .globl _start
_start:
    /* Until the real vector is in place, any trap ends the run with a
     * recognisable status (238) instead of looping at a garbage mtvec. */
    la      t0, board_early_trap
    csrw    CSR_TVEC, t0
    csrw    CSR_IE, zero
    csrci   CSR_STATUS, BOARD_STATUS_IE

#if !defined(BOARD_SMODE)
    csrr    a0, mhartid                 /* S-mode: the SBI passed it in a0 */
#endif
    bnez    a0, board_park_hart

    /* gp must be loaded without relaxation: it is what relaxation uses. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, board_boot_stack_top

#if defined(__riscv_flen)
    /* Compiled with an FPU: FP instructions trap while xstatus.FS is Off. */
    li      t0, BOARD_FS_INIT
    csrs    CSR_STATUS, t0
    csrw    fcsr, zero
#endif

    /* Zero .bss; the linker script aligns both ends to 16 bytes. */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
#if __riscv_xlen == 64
    sd      zero, 0(t0)
    addi    t0, t0, 8
#else
    sw      zero, 0(t0)
    addi    t0, t0, 4
#endif
    j       1b
2:
    /* Boot context's thread-local block (errno and friends in picolibc),
     * copied from the template so tasks can copy a pristine one later. */
    la      a0, board_boot_tls
    call    _init_tls
    la      tp, board_boot_tls

    /* xscratch holds the frame of the running context (see trap.S). */
    call    board_boot_frame
    csrw    CSR_SCRATCH, a0
    la      t0, board_trap_entry
    csrw    CSR_TVEC, t0

    call    board__start
    /* board__start does not return; if it ever did, fail loudly. */
    j       board_early_trap

/* Harts other than 0: nothing enabled in mie, so wfi may only wake
 * spuriously; loop back to sleep. */
board_park_hart:
    csrw    CSR_IE, zero
3:  wfi
    j       3b

    .align  2
board_early_trap:
    li      t0, BOARD_TEST_BASE
    li      t1, (0xee << 16) | 0x3333
    sw      t1, 0(t0)
4:  wfi
    j       4b
