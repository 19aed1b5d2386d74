/* SPDX-License-Identifier: MIT */
/* QEMU `virt` RISC-V board: trap entry (direct mode), M-mode or S-mode
 * (the CSR_* names come from board.h; "mscratch" below means xscratch).
 *
 * mscratch holds the board_frame of the running context: the boot/idle
 * context or a scheduler task.  Each context saves into its own frame, so a
 * trap that ends in another task (the scheduler returns a different frame)
 * never overwrites a frame that is still waiting to be resumed -- the shared
 * trap stack failure from field note 001.  The C handler runs on a separate
 * trap stack with interrupts masked and never nests; while it runs mscratch
 * is 0, so a fault inside it is reported instead of corrupting a frame.
 *
 * Everything is saved (not only caller-saved registers) because the frame
 * may be resumed by a context switch.
 */
#include "board.h"

#if __riscv_xlen == 64
#define STORE sd
#define LOAD  ld
#else
#define STORE sw
#define LOAD  lw
#endif
#if defined(__riscv_flen) && __riscv_flen == 64
#define FSTORE fsd
#define FLOAD  fld
#elif defined(__riscv_flen)
#define FSTORE fsw
#define FLOAD  flw
#endif

    .section .text.trap, "ax"
    .globl board_trap_entry
    .align 4
board_trap_entry:
    csrrw   t6, CSR_SCRATCH, t6         /* t6 = frame, xscratch = old t6 */
    beqz    t6, board_trap_nested

    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    STORE   x\n, (\n * BOARD_REGBYTES)(t6)
    .endr
    csrr    t5, CSR_SCRATCH
    STORE   t5, (31 * BOARD_REGBYTES)(t6)
    csrw    CSR_SCRATCH, zero           /* inside the handler from here */
    csrr    t0, CSR_EPC
    STORE   t0, BOARD_FRAME_EPC(t6)
    csrr    t0, CSR_STATUS
    STORE   t0, BOARD_FRAME_STATUS(t6)
#if defined(__riscv_flen)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    FSTORE  f\n, (BOARD_FRAME_FP + \n * BOARD_FREGBYTES)(t6)
    .endr
    frcsr   t0
    STORE   t0, BOARD_FRAME_FCSR(t6)
#endif

    la      sp, board_trap_stack_top
    mv      a0, t6
    call    board__trap                 /* a0 = frame to resume */
    mv      t6, a0

#if defined(__riscv_flen)
    /* FP first: the xstatus write below sets FS back to the saved state. */
    LOAD    t0, BOARD_FRAME_FCSR(t6)
    fscsr   t0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    FLOAD   f\n, (BOARD_FRAME_FP + \n * BOARD_FREGBYTES)(t6)
    .endr
#endif
    LOAD    t0, BOARD_FRAME_EPC(t6)
    csrw    CSR_EPC, t0
    /* The saved xstatus has xIE=0 (the trap cleared it) and xPIE = the
     * context's own xIE, which mret/sret restores. */
    LOAD    t0, BOARD_FRAME_STATUS(t6)
    csrw    CSR_STATUS, t0
    csrw    CSR_SCRATCH, t6
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    LOAD    x\n, (\n * BOARD_REGBYTES)(t6)
    .endr
    LOAD    t6, (31 * BOARD_REGBYTES)(t6)
    BOARD_XRET

/* A trap while the C handler ran: report on a fresh stack and exit. */
board_trap_nested:
    la      sp, board_trap_stack_top
    csrr    a0, CSR_CAUSE
    csrr    a1, CSR_EPC
    csrr    a2, CSR_TVAL
    call    board__nested_trap
1:  wfi
    j       1b
