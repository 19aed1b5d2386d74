/* SPDX-License-Identifier: MIT */
/* handover.S — enter the Linux arm64 kernel.
 *
 * void bl_handover(uint64_t entry, uint64_t dtb, const struct bl_range *r,
 *                  uint64_t nranges)  (never returns)
 *
 * Documentation/arch/arm64/booting.rst, "Call the kernel image", step by
 * step (QEMU cannot show a cache mistake, so each step says why it is here):
 *
 *  1. "All forms of interrupts must be masked in PSTATE.DAIF (Debug,
 *     SError, IRQ and FIQ)."  First, so nothing runs between the steps.
 *     The generic timers are switched off too: the board's alarm must not
 *     stay armed into a kernel that has not set up its vectors.
 *  2. "The address range corresponding to the loaded kernel image must be
 *     cleaned to the PoC ... this will typically require cache maintenance
 *     by VA rather than set/way operations."  Every range the kernel will
 *     read with its MMU off (Image, initrd, the DTB) is cleaned AND
 *     invalidated to the PoC (dc civac): clean so memory holds what we
 *     loaded, invalidate so no line of ours can later be written back or
 *     hit over what the kernel writes with its caches off.  The same for
 *     the bootloader itself and the firmware's DTB: that memory becomes the
 *     kernel's, and a dirty line of our stack evicted later would corrupt
 *     it.  Nothing below writes memory, so no new dirty line appears.
 *     dsb sy: the maintenance completes before the MMU goes off.
 *  3. "The MMU must be off."  SCTLR_ELx.M = 0, and C = 0 (data cache off,
 *     as every boot loader hands over; with M = 0 data accesses are
 *     Device/Non-cacheable anyway).  The program runs identity-mapped, so
 *     the next instruction is fetched from the same address.  isb: the
 *     change takes effect before the next instruction.
 *  4. "The instruction cache may be on or off, and must not hold any stale
 *     entries corresponding to the loaded kernel image."  ic iallu
 *     invalidates it to the PoU (we wrote the Image as data), dsb nsh waits
 *     for that, isb refetches.
 *  5. "x0 = physical address of device tree blob (dtb) in system RAM.
 *     x1 = 0, x2 = 0, x3 = 0 (reserved for future use)", then branch to
 *     the Image's first byte (2 MiB-aligned base + text_offset).
 *
 * Exception level: the kernel may be entered at EL2 or EL1; this runs
 * wherever the board runs and uses that level's SCTLR.
 */
    .section .text.bl_handover, "ax"
    .global bl_handover
    .type bl_handover, %function
    .balign 8
bl_handover:
    /* 1. interrupts masked, timers off */
    msr     daifset, #0xf
    msr     cntv_ctl_el0, xzr
    msr     cntp_ctl_el0, xzr
    isb

    /* 2. clean + invalidate each {base, len} range to the PoC by VA.
       x9: smallest D-cache line (CTR_EL0.DminLine, log2 of 4-byte words). */
    mrs     x9, ctr_el0
    ubfx    x9, x9, #16, #4
    mov     x10, #4
    lsl     x10, x10, x9
    sub     x14, x10, #1
1:  cbz     x3, 4f
    ldp     x11, x12, [x2], #16      /* base, len */
    sub     x3, x3, #1
    cbz     x12, 1b
    add     x12, x11, x12            /* end */
    bic     x11, x11, x14            /* down to a line */
2:  dc      civac, x11
    add     x11, x11, x10
    cmp     x11, x12
    b.lo    2b
    b       1b
4:  dsb     sy

    /* 3. MMU and D-cache off at the current EL (EL2 or EL1). */
    mrs     x9, CurrentEL
    cmp     x9, #(2 << 2)
    b.ne    5f
    mrs     x9, sctlr_el2
    bic     x9, x9, #1               /* M */
    bic     x9, x9, #(1 << 2)        /* C */
    msr     sctlr_el2, x9
    b       6f
5:  mrs     x9, sctlr_el1
    bic     x9, x9, #1               /* M */
    bic     x9, x9, #(1 << 2)        /* C */
    msr     sctlr_el1, x9
6:  isb

    /* 4. no stale instructions */
    ic      iallu
    dsb     nsh
    isb

    /* 5. x0 = DTB, x1..x3 = 0, jump */
    mov     x4, x0
    mov     x0, x1
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    br      x4
    .size bl_handover, . - bl_handover
