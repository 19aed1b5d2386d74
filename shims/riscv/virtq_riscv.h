/* SPDX-License-Identifier: MIT */
/* virtq shim for RISC-V bare metal, M-mode or S-mode (under an SBI such as
 * OpenSBI).  Header only: every function is static inline.
 *
 *   -DVIRTQ_CONFIG_FILE='"shims/riscv/virtq_riscv.h"'   (and -I<virtq root>)
 *   or include it from your own configuration header after the parameters.
 *
 * Parameters (define before this header is included):
 *   VIRTQ_RISCV_SMODE            define it for S-mode: sstatus.SIE, sie.STIE,
 *                                the alarm through the SBI TIME extension.
 *                                Without it: M-mode, mstatus.MIE, mie.MTIE,
 *                                the alarm on the CLINT's mtimecmp.
 *   VIRTQ_RISCV_TIMEBASE_HZ      required: the rate of the `time` CSR (the
 *                                device tree's /cpus/timebase-frequency;
 *                                10000000 on QEMU virt).  A multiple of 1 MHz.
 *   VIRTQ_RISCV_MTIMECMP         M-mode, for the alarm: the address of this
 *                                hart's mtimecmp (CLINT base + 0x4000 +
 *                                8 * hartid on the SiFive CLINT layout).
 *   VIRTQ_RISCV_PLIC_BASE        optional: enables the PLIC helpers below
 *   VIRTQ_RISCV_PLIC_CONTEXT     with PLIC_BASE: this hart's context in the
 *                                mode you run in (QEMU virt: 2*hart for M,
 *                                2*hart+1 for S)
 *
 * What it maps (each #ifndef-guarded, so one can be replaced alone):
 *   VIRTQ_WAIT            SPIN | WFI (add OS with your scheduler's hooks)
 *   VIRTQ_NOW_US()        the `time` CSR in microseconds
 *   VIRTQ_WFI_ALARM_US(d) virtq_riscv_alarm_us(d): the timer interrupt fires
 *                         by absolute time d (microseconds, VIRTQ_NOW_US scale)
 *   VIRTQ_IRQ_SAVE/RESTORE, VIRTQ_WFI: virtq's built-ins for the mode
 *                         (src/shim_arch.h reads VIRTQ_RISCV_SMODE)
 *
 * The alarm contract (shims/PORTING.md): the alarm only has to wake the hart
 * from wfi by the deadline; your timer interrupt handler must then silence
 * it with virtq_riscv_timer_disarm() (or re-arm a later deadline), or the
 * still-pending timer interrupt fires again the moment interrupts unmask.
 * If something else (a scheduler tick) shares the comparator, define
 * VIRTQ_WFI_ALARM_US to your own multiplexer and build it on
 * virtq_riscv_timer_arm()/virtq_riscv_timer_disarm(), as
 * examples/boards/qemu-virt-riscv64 does.
 */
#ifndef VIRTQ_RISCV_H
#define VIRTQ_RISCV_H

#include <stdint.h>

#ifndef __riscv
#error "shims/riscv: not a RISC-V target"
#endif
#ifndef VIRTQ_RISCV_TIMEBASE_HZ
#error "shims/riscv: define VIRTQ_RISCV_TIMEBASE_HZ (the time CSR's rate, e.g. 10000000 on QEMU virt)"
#endif
#if (VIRTQ_RISCV_TIMEBASE_HZ) % 1000000 != 0 || (VIRTQ_RISCV_TIMEBASE_HZ) < 1000000
#error "shims/riscv: VIRTQ_RISCV_TIMEBASE_HZ must be a multiple of 1 MHz"
#endif
#define VIRTQ__RV_TICKS_PER_US ((uint64_t)(VIRTQ_RISCV_TIMEBASE_HZ) / 1000000u)

/* ---- CSR access and the mode's bits ------------------------------------ */
/* Spelled with .insn (SYSTEM opcode 0x73; funct3 2 csrrs, 3 csrrc) and CSR
 * numbers, like src/shim_arch.h, so a plain -march=rv64gc needs no _zicsr
 * or _zicntr with newer binutils. */
#define VIRTQ__RV_CSR_SET(csr, bits)                                              \
    do {                                                                          \
        unsigned long ignored_;                                                   \
        __asm__ __volatile__(".insn i 0x73, 2, %0, %1, " csr                      \
                             : "=r"(ignored_) : "r"((unsigned long)(bits)) : "memory"); \
        (void)ignored_;                                                           \
    } while (0)
#define VIRTQ__RV_CSR_CLEAR(csr, bits)                                            \
    do {                                                                          \
        unsigned long ignored_;                                                   \
        __asm__ __volatile__(".insn i 0x73, 3, %0, %1, " csr                      \
                             : "=r"(ignored_) : "r"((unsigned long)(bits)) : "memory"); \
        (void)ignored_;                                                           \
    } while (0)
#define VIRTQ__RV_CSR_READ(csr, out) \
    __asm__ __volatile__(".insn i 0x73, 2, %0, x0, " csr : "=r"(out))
#if defined(VIRTQ_RISCV_SMODE)
#define VIRTQ__RV_IE_CSR "0x104" /* sie */
#define VIRTQ__RV_TIE (1ul << 5) /* sie.STIE */
#define VIRTQ__RV_EIE (1ul << 9) /* sie.SEIE */
#else
#define VIRTQ__RV_IE_CSR "0x304" /* mie */
#define VIRTQ__RV_TIE (1ul << 7)  /* mie.MTIE */
#define VIRTQ__RV_EIE (1ul << 11) /* mie.MEIE */
#endif

/* ---- clock ------------------------------------------------------------- */
/* The `time` CSR (rdtime; in S-mode the SBI must allow it, mcounteren.TM,
 * which OpenSBI does).  rv32 reads the halves until the high one is stable. */
static inline uint64_t virtq_riscv_now_ticks(void)
{
#if __riscv_xlen == 64
    uint64_t t;
    VIRTQ__RV_CSR_READ("-1023", t); /* time, 0xc01 (a signed 12-bit field) */
    return t;
#else
    uint32_t hi, lo, hi2;
    do {
        VIRTQ__RV_CSR_READ("-895", hi); /* timeh, 0xc81 */
        VIRTQ__RV_CSR_READ("-1023", lo); /* time, 0xc01 */
        VIRTQ__RV_CSR_READ("-895", hi2);
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
#endif
}

static inline uint64_t virtq_riscv_now_us(void)
{
    return virtq_riscv_now_ticks() / VIRTQ__RV_TICKS_PER_US;
}

static inline uint64_t virtq_riscv_us_to_ticks(uint64_t us)
{
    return us >= UINT64_MAX / VIRTQ__RV_TICKS_PER_US ? UINT64_MAX : us * VIRTQ__RV_TICKS_PER_US;
}

/* ---- the timer comparator ---------------------------------------------- */
/* Program the comparator to ticks.  A value in the future also clears a
 * pending timer interrupt; a past value makes it pending at once.
 * Call with interrupts masked when a handler may re-program it too. */
static inline void virtq_riscv_timer_set(uint64_t ticks)
{
#if defined(VIRTQ_RISCV_SMODE)
    /* SBI TIME extension ("TIME", EID 0x54494D45), function 0 set_timer:
     * a0 = stime_value (rv32: a0 low, a1 high).  It clears the pending
     * supervisor timer interrupt (sip.STIP) itself. */
    register unsigned long a0 __asm__("a0") = (unsigned long)ticks;
#if __riscv_xlen == 64
    register unsigned long a1 __asm__("a1") = 0;
#else
    register unsigned long a1 __asm__("a1") = (unsigned long)(ticks >> 32);
#endif
    register unsigned long a6 __asm__("a6") = 0;          /* FID set_timer */
    register unsigned long a7 __asm__("a7") = 0x54494D45; /* EID "TIME" */
    __asm__ __volatile__("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
#else
#ifndef VIRTQ_RISCV_MTIMECMP
#error "shims/riscv: M-mode timer: define VIRTQ_RISCV_MTIMECMP (this hart's mtimecmp address)"
#endif
#if __riscv_xlen == 64
    *(volatile uint64_t *)(uintptr_t)(VIRTQ_RISCV_MTIMECMP) = ticks;
#else
    /* High word to all-ones first, so no transient value below both fires. */
    volatile uint32_t *cmp = (volatile uint32_t *)(uintptr_t)(VIRTQ_RISCV_MTIMECMP);
    cmp[1] = 0xffffffffu;
    cmp[0] = (uint32_t)ticks;
    cmp[1] = (uint32_t)(ticks >> 32);
#endif
#endif
}

/* Arm: comparator to ticks and the timer interrupt enabled at the hart
 * (mie.MTIE / sie.STIE), so a wfi wakes by then even with interrupts
 * masked globally. */
static inline void virtq_riscv_timer_arm(uint64_t ticks)
{
    virtq_riscv_timer_set(ticks);
    VIRTQ__RV_CSR_SET(VIRTQ__RV_IE_CSR, VIRTQ__RV_TIE);
}

/* Disarm: what a timer interrupt handler calls to silence a fired alarm
 * (comparator to the far future, which also clears the pending bit, and
 * the enable bit cleared). */
static inline void virtq_riscv_timer_disarm(void)
{
    VIRTQ__RV_CSR_CLEAR(VIRTQ__RV_IE_CSR, VIRTQ__RV_TIE);
    virtq_riscv_timer_set(UINT64_MAX);
}

/* The WFI alarm: the timer interrupt by deadline_us (absolute). */
static inline void virtq_riscv_alarm_us(uint64_t deadline_us)
{
    virtq_riscv_timer_arm(virtq_riscv_us_to_ticks(deadline_us));
}

/* Enable external (PLIC) interrupts at the hart: mie.MEIE / sie.SEIE. */
static inline void virtq_riscv_external_irqs_on(void)
{
    VIRTQ__RV_CSR_SET(VIRTQ__RV_IE_CSR, VIRTQ__RV_EIE);
}

/* ---- PLIC helpers (optional) ------------------------------------------- */
/* The platform-level interrupt controller, register layout of the RISC-V
 * PLIC specification: priority at base + 4*source, enable bits at base +
 * 0x2000 + 0x80*context, threshold at base + 0x200000 + 0x1000*context and
 * claim/complete 4 bytes above.  Each hart has one context per privilege
 * mode; pass the one for the mode you run in. */
#if defined(VIRTQ_RISCV_PLIC_BASE)
#ifndef VIRTQ_RISCV_PLIC_CONTEXT
#error "shims/riscv: VIRTQ_RISCV_PLIC_BASE needs VIRTQ_RISCV_PLIC_CONTEXT (QEMU virt: 2*hart, +1 in S-mode)"
#endif
#define VIRTQ__PLIC_REG(off) (*(volatile uint32_t *)(uintptr_t)((VIRTQ_RISCV_PLIC_BASE) + (off)))
#define VIRTQ__PLIC_ENABLE_OFF(src) \
    (0x2000u + 0x80u * (uint32_t)(VIRTQ_RISCV_PLIC_CONTEXT) + 4u * ((uint32_t)(src) / 32u))
#define VIRTQ__PLIC_CTX_OFF (0x200000u + 0x1000u * (uint32_t)(VIRTQ_RISCV_PLIC_CONTEXT))

static inline void virtq_riscv_plic_priority(uint32_t src, uint32_t prio)
{
    VIRTQ__PLIC_REG(4u * src) = prio; /* 0 = never delivered */
}

static inline void virtq_riscv_plic_enable(uint32_t src, int on)
{
    uint32_t bit = 1u << (src % 32u);
    uint32_t v = VIRTQ__PLIC_REG(VIRTQ__PLIC_ENABLE_OFF(src));
    VIRTQ__PLIC_REG(VIRTQ__PLIC_ENABLE_OFF(src)) = on ? (v | bit) : (v & ~bit);
}

static inline void virtq_riscv_plic_threshold(uint32_t t)
{
    VIRTQ__PLIC_REG(VIRTQ__PLIC_CTX_OFF) = t;
}

/* The highest-priority pending source (0: none); complete it when done. */
static inline uint32_t virtq_riscv_plic_claim(void)
{
    return VIRTQ__PLIC_REG(VIRTQ__PLIC_CTX_OFF + 4u);
}

static inline void virtq_riscv_plic_complete(uint32_t src)
{
    VIRTQ__PLIC_REG(VIRTQ__PLIC_CTX_OFF + 4u) = src;
}
#endif /* VIRTQ_RISCV_PLIC_BASE */

/* ---- virtq hooks ------------------------------------------------------- */
#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI)
#endif
#ifndef VIRTQ_NOW_US
#define VIRTQ_NOW_US() virtq_riscv_now_us()
#endif
#ifndef VIRTQ_WFI_ALARM_US
#define VIRTQ_WFI_ALARM_US(deadline_us) virtq_riscv_alarm_us(deadline_us)
#endif

#endif /* VIRTQ_RISCV_H */
