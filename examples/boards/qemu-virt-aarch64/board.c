/* SPDX-License-Identifier: MIT */
/* QEMU `virt` AArch64 board: exit, PL011, GICv2/GICv3, generic timer clock
 * and alarm, exception dispatch, context frames.  The board-neutral half of
 * the board API (output, stdio, slot scan) is examples/boards/common. */
#include "board_api.h"
#include "gic.h"
#include "board_timer.h"
#include "virtq_aarch64.h" /* the platform shim: clock and timer registers */

#include <picotls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void);
void __libc_init_array(void);
void board__start(void);
board_frame *board__trap(board_frame *f, uint64_t kind);
void board__nested_trap(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far);
extern char __arm64_tls_tcb_offset[];

/* ---- MMIO ---------------------------------------------------------------
 * The board's own registers (UART, GIC) take plain volatile accesses: they
 * are Device-nGnRE, so they stay in program order among themselves, and no
 * DMA buffer depends on them.  virtq's shim orders what virtqueues need. */
static inline uint32_t mmio_r32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

#define SYSREG_READ(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " #reg : "=r"(v_)); v_; })
#define SYSREG_WRITE(reg, v) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(v)) : "memory")

/* ---- exit: semihosting, else PSCI -------------------------------------- */

#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_APP_EXIT 0x20026u   /* ADP_Stopped_ApplicationExit */
#define PSCI_SYSTEM_OFF 0x84000008u

static volatile int semihost_broken;   /* the hlt trapped: semihosting is off */

int board_exit_semihosting(void) { return !semihost_broken; }

static void psci_system_off(void)
{
    register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
    /* QEMU virt without EL2/EL3 implements PSCI on the hvc conduit. */
    __asm__ volatile("hvc #0" : "+r"(x0) : : "memory");
}

void board_exit(int code)
{
    static uint64_t block[2];

    (void)board_irq_save();
    if (!semihost_broken) {
        /* AArch64 SYS_EXIT takes {reason, subcode}; QEMU exits with
         * subcode, so a failure is a non-zero status. */
        register uint64_t x0 __asm__("x0") = SEMIHOST_SYS_EXIT;
        register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
        block[0] = SEMIHOST_APP_EXIT;
        block[1] = (uint64_t)(code == 0 ? 0 : (code & 0xff ? code & 0xff : 1));
        /* Without -semihosting the hlt is an undefined instruction; the
         * exception handler marks semihosting broken and steps over it. */
        __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    }
    psci_system_off();
    for (;;)
        board_wfi();
}

/* ---- PL011 UART (polled) ------------------------------------------------ */

#define UART_DR 0x00
#define UART_FR 0x18
#define UART_IBRD 0x24
#define UART_FBRD 0x28
#define UART_LCR_H 0x2c
#define UART_CR 0x30
#define UART_IMSC 0x38
#define UART_RIS 0x3c
#define UART_ICR 0x44
#define UART_FR_RXFE 0x10
#define UART_FR_TXFF 0x20
#define UART_INT_TX 0x20
#define UART_TX_POLLS 100000   /* a wedged UART drops bytes, never hangs */

static void uart_init(void)
{
    mmio_w32(BOARD_UART_BASE + UART_CR, 0);           /* off while configured */
    mmio_w32(BOARD_UART_BASE + UART_IMSC, 0);         /* no interrupts */
    mmio_w32(BOARD_UART_BASE + UART_ICR, 0x7ff);
    mmio_w32(BOARD_UART_BASE + UART_IBRD, 13);        /* 115200 at 24 MHz; QEMU ignores */
    mmio_w32(BOARD_UART_BASE + UART_FBRD, 1);
    mmio_w32(BOARD_UART_BASE + UART_LCR_H, 0x70);     /* 8N1, FIFOs on */
    mmio_w32(BOARD_UART_BASE + UART_CR, 0x301);       /* UARTEN, TXE, RXE */
}

void board_uart_putc(char c)
{
    for (int i = 0; i < UART_TX_POLLS; i++) {
        if (!(mmio_r32(BOARD_UART_BASE + UART_FR) & UART_FR_TXFF)) {
            mmio_w32(BOARD_UART_BASE + UART_DR, (uint8_t)c);
            return;
        }
    }
}

int board_uart_getc(void)
{
    if (mmio_r32(BOARD_UART_BASE + UART_FR) & UART_FR_RXFE)
        return -1;
    return (int)(mmio_r32(BOARD_UART_BASE + UART_DR) & 0xff);
}

/* The transmit interrupt is raised by a transmission: QEMU's PL011 sends at
 * once and then holds TXRIS until it is cleared.  Arming unmasks it and, if
 * nothing is latched, sends a carriage return (invisible: the harness
 * strips CR) so the source fires. */
void board_uart_tx_irq(int on)
{
    if (on) {
        mmio_w32(BOARD_UART_BASE + UART_IMSC, UART_INT_TX);
        if (!(mmio_r32(BOARD_UART_BASE + UART_RIS) & UART_INT_TX))
            board_uart_putc('\r');
    } else {
        mmio_w32(BOARD_UART_BASE + UART_IMSC, 0);
        mmio_w32(BOARD_UART_BASE + UART_ICR, UART_INT_TX);
    }
}

/* ---- statistics -------------------------------------------------------- */

static board_stats stats;

void board_get_stats(board_stats *out)
{
    uintptr_t s = board_irq_save();

    *out = stats;
    board__timer_stats(out);
    board_irq_restore(s);
}

/* ---- device interrupts ---------------------------------------------------- */

#define IRQS_PER_TRAP 64   /* a stuck source cannot hold the core here */

static struct {
    board_irq_fn fn;
    void *ctx;
} irq_table[BOARD_IRQ_COUNT];

/* SGIs and the timer PPI belong to the board. */
static int irq_valid(int irq)
{
    return irq >= 16 && irq < BOARD_IRQ_COUNT && irq != BOARD_TIMER_IRQ;
}

int board_irq_register(int irq, board_irq_fn fn, void *ctx)
{
    uintptr_t s;

    if (!irq_valid(irq) || !fn)
        return -1;
    s = board_irq_save();
    irq_table[irq].fn = fn;
    irq_table[irq].ctx = ctx;
    board_irq_restore(s);
    return 0;
}

int board_irq_enable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq) || !irq_table[irq].fn)
        return -1;
    s = board_irq_save();
    gic_enable((uint32_t)irq, 1);
    board_irq_restore(s);
    return 0;
}

int board_irq_disable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq))
        return -1;
    s = board_irq_save();
    gic_enable((uint32_t)irq, 0);
    board_irq_restore(s);
    return 0;
}

static board_irq_fn swi_fn;
static void *swi_ctx;

void board_swi_register(board_irq_fn fn, void *ctx)
{
    uintptr_t s = board_irq_save();

    swi_fn = fn;
    swi_ctx = ctx;
    board_irq_restore(s);
}

void board_swi_raise(void)
{
    gic_send_sgi_self(BOARD_SWI_IRQ);
}

void board_interrupts_on(void)
{
    __asm__ volatile("msr daifclr, #2" ::: "memory");
}

int board_gic_version(void) { return gic_version(); }

/* ---- clock, alarm, scheduler timer ------------------------------------ */

/* The alarm and the scheduler tick share the virtual timer's comparator
 * (common/board_timer.c). */
static int switch_requested;
static int in_trap;

uint64_t board_now_ticks(void) { return virtq_aarch64_ticks(); }

uint64_t board_ticks_hz(void) { return virtq_aarch64_timer_hz(); }

uint64_t board_now_us(void) { return virtq_aarch64_ticks_to_us(virtq_aarch64_ticks()); }

uint64_t board__us_to_ticks(uint64_t us) { return virtq_aarch64_us_to_ticks(us); }

uint64_t board__ticks_to_us(uint64_t ticks) { return virtq_aarch64_ticks_to_us(ticks); }

const char *board_platform(void)
{
    return gic_version() == 3 ? "QEMU virt aarch64 EL1 GICv3 core 0"
                              : "QEMU virt aarch64 EL1 GICv2 core 0";
}

/* IRQs masked.  A comparator in the past fires at once (the line is a
 * level: CVAL <= count); NEVER disables the timer, which drops the line. */
void board__timer_hw(uint64_t next)
{
    if (next == BOARD_NEVER) {
        virtq_aarch64_alarm_silence();
    } else {
        SYSREG_WRITE(cntv_cval_el0, next);
        SYSREG_WRITE(cntv_ctl_el0, VIRTQ_AARCH64_CNTV_ENABLE);
        __asm__ volatile("isb" ::: "memory");   /* in force before a wfi */
    }
}

/* ---- interrupt dispatch ------------------------------------------------- */

static void irq_dispatch(void)
{
    for (int n = 0; n < IRQS_PER_TRAP; n++) {
        uint32_t iar = gic_ack();
        uint32_t irq = iar & GIC_INTID_MASK;

        if (irq >= GIC_SPURIOUS)
            break;
        if (irq == BOARD_TIMER_IRQ) {
            board__timer_isr();
        } else if (irq == BOARD_SWI_IRQ) {
            stats.swi_irqs++;
            if (swi_fn)
                swi_fn(swi_ctx, 0);
        } else if (irq < BOARD_IRQ_COUNT && irq_table[irq].fn) {
            stats.ext_irqs++;
            irq_table[irq].fn(irq_table[irq].ctx, (int)irq);
        } else {
            /* Nobody owns it: disable it so it cannot storm. */
            stats.spurious_irqs++;
            gic_enable(irq, 0);
        }
        gic_eoi(iar);
    }
}

/* ---- exceptions ------------------------------------------------------------ */

/* The boot/idle context's frame; start.S points TPIDR_EL1 at it. */
board_frame board_boot_frame_storage;

board_frame *board_boot_frame(void) { return &board_boot_frame_storage; }

int board_in_trap(void) { return in_trap; }

void board_request_switch(void)
{
    uintptr_t s = board_irq_save();

    switch_requested = 1;
    board_irq_restore(s);
}

void board_switch_now(void)
{
    /* svc at EL1 traps to EL1 even with IRQs masked; ELR already points
     * past it. */
    __asm__ volatile("svc #0" ::: "memory");
}

void board_frame_init(board_frame *f, void (*entry)(void *), void *arg,
                      uintptr_t sp, void *tls)
{
    memset(f, 0, sizeof(*f));
    f->elr = (uintptr_t)entry;
    f->x[0] = (uintptr_t)arg;
    f->x[30] = 0;                        /* lr: a return faults at 0, visibly */
    f->sp = sp & ~(uintptr_t)15;
    f->spsr = BOARD_SPSR_EL1T;           /* EL1t, IRQs on once resumed */
    /* picolibc's TLS: TPIDR_EL0 sits the TCB size below the block. */
    f->tpidr = (uintptr_t)tls - (uintptr_t)__arm64_tls_tcb_offset;
}

#define ESR_EC(esr) (((esr) >> 26) & 0x3fu)
#define EC_UNKNOWN 0x00u
#define EC_SVC64 0x15u
#define EC_DABT_CUR 0x25u

static const char *ec_name(uint64_t ec)
{
    switch (ec) {
    case 0x00: return "unknown/undefined instruction";
    case 0x07: return "FP/SIMD access trapped";
    case 0x0e: return "illegal execution state";
    case 0x15: return "svc";
    case 0x16: return "hvc";
    case 0x21: return "instruction abort";
    case 0x22: return "pc alignment";
    case 0x25: return "data abort";
    case 0x26: return "sp alignment";
    case 0x3c: return "brk";
    default: return "other";
    }
}

static void trap_fail(const board_frame *f, uint64_t kind)
{
    uint64_t esr = SYSREG_READ(esr_el1), far = SYSREG_READ(far_el1);

    printf("trap: unexpected %s ec=0x%lx (%s) esr=0x%lx elr=0x%lx far=0x%lx"
           " lr=0x%lx sp=0x%lx\n",
           kind == BOARD_EXC_SYNC ? "exception" : kind == BOARD_EXC_FIQ ? "fiq"
           : kind == BOARD_EXC_SERROR ? "serror" : "irq",
           (unsigned long)ESR_EC(esr), ec_name(ESR_EC(esr)), (unsigned long)esr,
           (unsigned long)f->elr, (unsigned long)far, (unsigned long)f->x[30],
           (unsigned long)f->sp);
    board_fail("trap esr=0x%lx elr=0x%lx far=0x%lx", (unsigned long)esr,
               (unsigned long)f->elr, (unsigned long)far);
}

static int is_semihost_hlt(uint64_t elr)
{
    return *(const uint32_t *)(uintptr_t)elr == 0xd45e0000u;   /* hlt #0xf000 */
}

board_frame *board__trap(board_frame *f, uint64_t kind)
{
    in_trap = 1;
    if (kind == BOARD_EXC_IRQ) {
        irq_dispatch();
    } else if (kind == BOARD_EXC_SYNC) {
        uint64_t ec = ESR_EC(SYSREG_READ(esr_el1));

        if (ec == EC_SVC64) {
            stats.ecalls++;
            switch_requested = 1;
        } else if (ec == EC_UNKNOWN && is_semihost_hlt(f->elr)) {
            semihost_broken = 1;   /* QEMU without -semihosting */
            f->elr += 4;
        } else {
            trap_fail(f, kind);
        }
    } else {
        trap_fail(f, kind);
    }
    if (switch_requested) {
        switch_requested = 0;
        if (board__switch_hook())
            f = board__switch_hook()(f);
    }
    in_trap = 0;
    return f;
}

/* The handler itself faulted: stdio may be what broke, so print by hand. */
static void raw_puts(const char *s)
{
    while (*s)
        board_uart_putc(*s++);
}

static void raw_hex(uint64_t v)
{
    char buf[2 + 16 + 1];
    int i = 0;

    buf[i++] = '0';
    buf[i++] = 'x';
    for (int sh = 60; sh >= 0; sh -= 4)
        buf[i++] = "0123456789abcdef"[(v >> sh) & 0xf];
    buf[i] = 0;
    raw_puts(buf);
}

void board__nested_trap(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
    raw_puts("\r\ntrap: exception inside the handler (or from SPx) kind=");
    raw_hex(kind);
    raw_puts(" esr=");
    raw_hex(esr);
    raw_puts(" elr=");
    raw_hex(elr);
    raw_puts(" far=");
    raw_hex(far);
    raw_puts("\r\nRESULT ");
    raw_puts(board_name());
    raw_puts(" FAIL arch=" BOARD_ARCH ": nested trap\r\n");
    board_exit(1);
}

/* ---- start-up ---------------------------------------------------------- */

/* Called by start.S with the MMU and caches on, FP enabled, .bss zeroed,
 * SP_EL0 the boot stack, VBAR set, IRQs masked. */
void board__start(void)
{
    uart_init();
    gic_init();
    board_tag("arch", BOARD_ARCH);
    board_tag("gic", gic_version() == 3 ? "3" : "2");
    board__timer_start();
    gic_enable(BOARD_TIMER_IRQ, 1);   /* the alarm and the tick */
    gic_enable(BOARD_SWI_IRQ, 1);
    __libc_init_array();
    exit(main());
}
