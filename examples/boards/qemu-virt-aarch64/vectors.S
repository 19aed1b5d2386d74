/* SPDX-License-Identifier: MIT */
/* Exception vectors (VBAR_EL1) and the full context save/restore.
 *
 * Every context (boot/idle and each scheduler task) runs in EL1t on its own
 * stack (SP_EL0) and owns a board_frame; TPIDR_EL1 points at the frame of
 * the running one.  An exception from EL1t lands in the "current EL with
 * SP0" group, on SP_EL1 (the trap stack): all registers, SP_EL0, ELR, SPSR,
 * TPIDR_EL0 and the FP/SIMD state go into the frame, board__trap() runs on
 * the trap stack and returns the frame to resume (another task's after a
 * switch), which is restored whole.  Everything is saved, not only the
 * caller-saved registers, because the frame may be resumed by a switch.
 *
 * The C handler runs in EL1h with IRQs masked and never nests: any
 * exception taken there (the "current EL with SPx" group) or from a lower
 * EL is reported by board__nested_trap() and ends the run.
 */
#include "board.h"

    .macro  save_and_call kind
    .align  7
    stp     x0, x1, [sp, #-16]!
    mov     x0, #\kind
    b       board_trap_common
    .endm

    .macro  nested kind
    .align  7
    mov     x0, #\kind
    b       board_trap_nested
    .endm

    .section .text.vectors, "ax"
    .align  11
    .globl  board_vectors
board_vectors:
    /* Current EL with SP0: tasks and the boot/idle context. */
    save_and_call BOARD_EXC_SYNC
    save_and_call BOARD_EXC_IRQ
    save_and_call BOARD_EXC_FIQ
    save_and_call BOARD_EXC_SERROR
    /* Current EL with SPx: inside the handler. */
    nested  0x10
    nested  0x11
    nested  0x12
    nested  0x13
    /* Lower EL, AArch64 and AArch32: nothing runs there. */
    nested  0x20
    nested  0x21
    nested  0x22
    nested  0x23
    nested  0x30
    nested  0x31
    nested  0x32
    nested  0x33

board_trap_common:
    /* x0 = kind; the interrupted x0/x1 are on the trap stack. */
    mrs     x1, tpidr_el1
    stp     x2, x3, [x1, #BOARD_FRAME_X(2)]
    stp     x4, x5, [x1, #BOARD_FRAME_X(4)]
    stp     x6, x7, [x1, #BOARD_FRAME_X(6)]
    stp     x8, x9, [x1, #BOARD_FRAME_X(8)]
    stp     x10, x11, [x1, #BOARD_FRAME_X(10)]
    stp     x12, x13, [x1, #BOARD_FRAME_X(12)]
    stp     x14, x15, [x1, #BOARD_FRAME_X(14)]
    stp     x16, x17, [x1, #BOARD_FRAME_X(16)]
    stp     x18, x19, [x1, #BOARD_FRAME_X(18)]
    stp     x20, x21, [x1, #BOARD_FRAME_X(20)]
    stp     x22, x23, [x1, #BOARD_FRAME_X(22)]
    stp     x24, x25, [x1, #BOARD_FRAME_X(24)]
    stp     x26, x27, [x1, #BOARD_FRAME_X(26)]
    stp     x28, x29, [x1, #BOARD_FRAME_X(28)]
    ldp     x2, x3, [sp], #16           /* interrupted x0, x1; sp = trap top */
    stp     x2, x3, [x1, #BOARD_FRAME_X(0)]
    mrs     x2, sp_el0
    stp     x30, x2, [x1, #BOARD_FRAME_X(30)]      /* x30 and sp */
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [x1, #BOARD_FRAME_ELR]
    mrs     x2, tpidr_el0
    mrs     x3, fpsr
    stp     x2, x3, [x1, #BOARD_FRAME_TPIDR]
    mrs     x2, fpcr
    str     x2, [x1, #BOARD_FRAME_FPCR]
    add     x2, x1, #BOARD_FRAME_Q
    stp     q0, q1, [x2, #0]
    stp     q2, q3, [x2, #32]
    stp     q4, q5, [x2, #64]
    stp     q6, q7, [x2, #96]
    stp     q8, q9, [x2, #128]
    stp     q10, q11, [x2, #160]
    stp     q12, q13, [x2, #192]
    stp     q14, q15, [x2, #224]
    stp     q16, q17, [x2, #256]
    stp     q18, q19, [x2, #288]
    stp     q20, q21, [x2, #320]
    stp     q22, q23, [x2, #352]
    stp     q24, q25, [x2, #384]
    stp     q26, q27, [x2, #416]
    stp     q28, q29, [x2, #448]
    stp     q30, q31, [x2, #480]

    mov     x19, x1
    mov     x1, x0                      /* kind */
    mov     x0, x19                     /* frame */
    bl      board__trap                 /* x0 = frame to resume */

    msr     tpidr_el1, x0
    add     x2, x0, #BOARD_FRAME_Q
    ldp     q0, q1, [x2, #0]
    ldp     q2, q3, [x2, #32]
    ldp     q4, q5, [x2, #64]
    ldp     q6, q7, [x2, #96]
    ldp     q8, q9, [x2, #128]
    ldp     q10, q11, [x2, #160]
    ldp     q12, q13, [x2, #192]
    ldp     q14, q15, [x2, #224]
    ldp     q16, q17, [x2, #256]
    ldp     q18, q19, [x2, #288]
    ldp     q20, q21, [x2, #320]
    ldp     q22, q23, [x2, #352]
    ldp     q24, q25, [x2, #384]
    ldp     q26, q27, [x2, #416]
    ldp     q28, q29, [x2, #448]
    ldp     q30, q31, [x2, #480]
    ldr     x2, [x0, #BOARD_FRAME_FPCR]
    msr     fpcr, x2
    ldp     x2, x3, [x0, #BOARD_FRAME_TPIDR]
    msr     tpidr_el0, x2
    msr     fpsr, x3
    ldp     x2, x3, [x0, #BOARD_FRAME_ELR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x30, x2, [x0, #BOARD_FRAME_X(30)]
    msr     sp_el0, x2
    ldp     x2, x3, [x0, #BOARD_FRAME_X(2)]
    ldp     x4, x5, [x0, #BOARD_FRAME_X(4)]
    ldp     x6, x7, [x0, #BOARD_FRAME_X(6)]
    ldp     x8, x9, [x0, #BOARD_FRAME_X(8)]
    ldp     x10, x11, [x0, #BOARD_FRAME_X(10)]
    ldp     x12, x13, [x0, #BOARD_FRAME_X(12)]
    ldp     x14, x15, [x0, #BOARD_FRAME_X(14)]
    ldp     x16, x17, [x0, #BOARD_FRAME_X(16)]
    ldp     x18, x19, [x0, #BOARD_FRAME_X(18)]
    ldp     x20, x21, [x0, #BOARD_FRAME_X(20)]
    ldp     x22, x23, [x0, #BOARD_FRAME_X(22)]
    ldp     x24, x25, [x0, #BOARD_FRAME_X(24)]
    ldp     x26, x27, [x0, #BOARD_FRAME_X(26)]
    ldp     x28, x29, [x0, #BOARD_FRAME_X(28)]
    ldp     x0, x1, [x0, #BOARD_FRAME_X(0)]
    eret

/* An exception inside the handler or from a lower EL: report and stop, on
 * a fresh trap stack. */
board_trap_nested:
    adrp    x1, board_trap_stack_top
    add     x1, x1, :lo12:board_trap_stack_top
    mov     sp, x1
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      board__nested_trap
1:  wfi
    b       1b
