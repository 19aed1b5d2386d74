/* virtq board layer: machine-mode trap entry (direct mode).
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
    csrrw   t6, mscratch, t6            /* t6 = frame, mscratch = old t6 */
    beqz    t6, board_trap_nested

    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    STORE   x\n, (\n * BOARD_REGBYTES)(t6)
    .endr
    csrr    t5, mscratch
    STORE   t5, (31 * BOARD_REGBYTES)(t6)
    csrw    mscratch, zero              /* inside the handler from here */
    csrr    t0, mepc
    STORE   t0, BOARD_FRAME_MEPC(t6)
    csrr    t0, mstatus
    STORE   t0, BOARD_FRAME_MSTATUS(t6)
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
    /* FP first: the mstatus write below sets FS back to the saved state. */
    LOAD    t0, BOARD_FRAME_FCSR(t6)
    fscsr   t0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    FLOAD   f\n, (BOARD_FRAME_FP + \n * BOARD_FREGBYTES)(t6)
    .endr
#endif
    LOAD    t0, BOARD_FRAME_MEPC(t6)
    csrw    mepc, t0
    /* The saved mstatus has MIE=0 (the trap cleared it) and MPIE = the
     * context's own MIE, which mret restores. */
    LOAD    t0, BOARD_FRAME_MSTATUS(t6)
    csrw    mstatus, t0
    csrw    mscratch, t6
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    LOAD    x\n, (\n * BOARD_REGBYTES)(t6)
    .endr
    LOAD    t6, (31 * BOARD_REGBYTES)(t6)
    mret

/* A trap while the C handler ran: report on a fresh stack and exit. */
board_trap_nested:
    la      sp, board_trap_stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    board__nested_trap
1:  wfi
    j       1b
