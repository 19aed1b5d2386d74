/* SPDX-License-Identifier: MIT */
/* Reset entry for QEMU virt AArch64 with a bare ELF (-kernel prog.elf).
 *
 * QEMU enters here at EL1 on core 0 (the only one we start): MMU and caches
 * off, FP/SIMD trapped (CPACR_EL1.FPEN = 0), DAIF masked, x0 = 0 (a bare
 * ELF gets no DTB pointer; QEMU writes the DTB at the base of RAM because
 * this image is linked 1 MiB above it).  The ELF is loaded in place: .data
 * needs no copy.
 *
 * Order: FP on (the C below may use SIMD registers), stacks, .bss zeroed,
 * vectors, MMU and caches on, boot TLS, then board__start() in board.c.
 * Code runs in EL1t (SP_EL0 = the running context's stack); exceptions run
 * on SP_EL1, the trap stack, which vectors.S never needs to reload.
 */
#include "board.h"

    .section .text.start, "ax"
    .globl _start
_start:
    msr     daifset, #0xf
    /* Any other core (-smp > 1 with a bare ELF starts them all here):
     * park it.  MPIDR Aff0..Aff2 identify the core. */
    mrs     x1, mpidr_el1
    and     x1, x1, #0xffffff
    cbnz    x1, park

    /* FP/SIMD on at EL1 and EL0 (CPACR_EL1.FPEN = 0b11): picolibc's printf
     * and the compilers' vectoriser (clang's popcount in virtq) use it.
     * The context frame saves q0-q31, FPCR and FPSR. */
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    msr     fpcr, xzr

    /* SP_EL1 = trap stack; then run on SP_EL0 = boot stack. */
    adrp    x1, board_trap_stack_top
    add     x1, x1, :lo12:board_trap_stack_top
    mov     sp, x1
    adrp    x1, board_boot_stack_top
    add     x1, x1, :lo12:board_boot_stack_top
    msr     sp_el0, x1
    msr     spsel, #0

    /* Zero .bss with aligned 16-byte stores (the MMU is still off: every
     * access is Device memory and must be aligned). */
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    adrp    x1, board_vectors
    add     x1, x1, :lo12:board_vectors
    msr     vbar_el1, x1
    /* TPIDR_EL1 = frame of the running context (see vectors.S). */
    adrp    x1, board_boot_frame_storage
    add     x1, x1, :lo12:board_boot_frame_storage
    msr     tpidr_el1, x1
    isb

    bl      board__mmu_on

    /* Boot context's thread-local block (errno), copied from the template
     * so tasks can copy a pristine one later. */
    adrp    x0, board_boot_tls
    add     x0, x0, :lo12:board_boot_tls
    bl      _init_tls
    adrp    x0, board_boot_tls
    add     x0, x0, :lo12:board_boot_tls
    bl      _set_tls

    bl      board__start
    /* board__start does not return; if it ever did, stop here. */
3:  wfi
    b       3b

park:
4:  wfi
    b       4b
