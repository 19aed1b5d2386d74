/* virtq board layer: reset entry for QEMU `virt` with -bios none.
 *
 * QEMU's reset vector jumps every hart here, in M-mode, with a0 = mhartid.
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
    csrw    mtvec, t0
    csrw    mie, zero
    csrci   mstatus, BOARD_MSTATUS_MIE

    csrr    a0, mhartid
    bnez    a0, board_park_hart

    /* gp must be loaded without relaxation: it is what relaxation uses. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, board_boot_stack_top

#if defined(__riscv_flen)
    /* Compiled with an FPU: FP instructions trap while mstatus.FS is Off. */
    li      t0, BOARD_MSTATUS_FS_INIT
    csrs    mstatus, t0
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

    /* mscratch holds the frame of the running context (see trap.S). */
    call    board_boot_frame
    csrw    mscratch, a0
    la      t0, board_trap_entry
    csrw    mtvec, t0

    call    board__start
    /* board__start does not return; if it ever did, fail loudly. */
    j       board_early_trap

/* Harts other than 0: nothing enabled in mie, so wfi may only wake
 * spuriously; loop back to sleep. */
board_park_hart:
    csrw    mie, zero
3:  wfi
    j       3b

    .align  2
board_early_trap:
    li      t0, BOARD_TEST_BASE
    li      t1, (0xee << 16) | 0x3333
    sw      t1, 0(t0)
4:  wfi
    j       4b
