/* SPDX-License-Identifier: MIT */
/* QEMU `virt` RISC-V board, M-mode: exit, UART, PLIC, CLINT timer and alarm,
 * software interrupt, trap dispatch.  The board API is ../board_api.h; the
 * board-neutral half is ../common/board_common.c. */
#include "board_api.h"

#include <picotls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void);
void __libc_init_array(void);
void board__start(void);
board_frame *board__trap(board_frame *f);
void board__nested_trap(uintptr_t cause, uintptr_t epc, uintptr_t tval);

/* ---- MMIO ---------------------------------------------------------------
 * Plain volatile accesses: these registers (UART, PLIC, CLINT, test device)
 * carry no DMA ordering requirement, and QEMU applies MMIO in program order.
 * virtq's own shims handle the ordering virtqueues need. */
static inline uint32_t mmio_r32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t mmio_r8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_w8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }

#define CSR_READ_FN(name) \
    static inline uintptr_t csr_##name(void) \
    { uintptr_t v; __asm__ volatile("csrr %0, " #name : "=r"(v)); return v; }
CSR_READ_FN(mcause)
CSR_READ_FN(mtval)
#define CSR_SET(name, bits) \
    __asm__ volatile("csrs " #name ", %0" : : "r"((uintptr_t)(bits)) : "memory")
#define CSR_CLEAR(name, bits) \
    __asm__ volatile("csrc " #name ", %0" : : "r"((uintptr_t)(bits)) : "memory")

/* ---- exit -------------------------------------------------------------- */

void board_exit(int code)
{
    uint32_t status = (uint32_t)code & 0xffffu;

    (void)board_irq_save();
    /* sifive_test: 0x5555 = pass; (status << 16) | 0x3333 = QEMU exits with
     * `status`, which must not be 0 or a failure would look like a pass. */
    if (code == 0)
        mmio_w32(BOARD_TEST_BASE, 0x5555u);
    else
        mmio_w32(BOARD_TEST_BASE, ((status ? status : 1u) << 16) | 0x3333u);
    /* Without the test device (other hardware) this is the end: halt. */
    for (;;)
        board_wfi();
}

/* ---- UART 16550 (polled) ----------------------------------------------- */

#define UART_THR 0   /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_TX_POLLS 100000   /* a wedged UART drops bytes, never hangs */

static void uart_init(void)
{
    mmio_w8(BOARD_UART_BASE + UART_IER, 0x00);  /* no UART interrupts */
    mmio_w8(BOARD_UART_BASE + UART_LCR, 0x03);  /* 8N1; QEMU ignores baud */
    mmio_w8(BOARD_UART_BASE + UART_FCR, 0x07);  /* FIFOs on and cleared */
}

void board_uart_putc(char c)
{
    for (int i = 0; i < UART_TX_POLLS; i++) {
        if (mmio_r8(BOARD_UART_BASE + UART_LSR) & UART_LSR_THRE) {
            mmio_w8(BOARD_UART_BASE + UART_THR, (uint8_t)c);
            return;
        }
    }
}

/* The "transmitter holding register empty" interrupt (IER bit 1): raised
 * at once while the transmitter is idle, cleared by reading IIR. */
#define UART_IIR 2
#define UART_IER_THRE 0x02

void board_uart_tx_irq(int on)
{
    mmio_w8(BOARD_UART_BASE + UART_IER, on ? UART_IER_THRE : 0);
    if (!on)
        (void)mmio_r8(BOARD_UART_BASE + UART_IIR);
}

int board_uart_getc(void)
{
    if (mmio_r8(BOARD_UART_BASE + UART_LSR) & UART_LSR_DR)
        return mmio_r8(BOARD_UART_BASE + UART_THR);
    return -1;
}

/* ---- statistics -------------------------------------------------------- */

static board_stats stats;

void board_get_stats(board_stats *out)
{
    uintptr_t s = board_irq_save();

    *out = stats;
    board_irq_restore(s);
}

/* ---- PLIC -------------------------------------------------------------- */

#define PLIC_CONTEXT 0   /* hart 0, M-mode */
#define PLIC_PRIORITY(irq) (BOARD_PLIC_BASE + 4u * (uint32_t)(irq))
#define PLIC_ENABLE(irq) \
    (BOARD_PLIC_BASE + 0x2000u + 0x80u * PLIC_CONTEXT + 4u * ((uint32_t)(irq) / 32u))
#define PLIC_THRESHOLD (BOARD_PLIC_BASE + 0x200000u + 0x1000u * PLIC_CONTEXT)
#define PLIC_CLAIM     (BOARD_PLIC_BASE + 0x200004u + 0x1000u * PLIC_CONTEXT)
#define PLIC_CLAIMS_PER_TRAP 64   /* a stuck source cannot hold the hart here */

static struct {
    board_irq_fn fn;
    void *ctx;
} irq_table[BOARD_IRQ_COUNT];

static void plic_init(void)
{
    for (int irq = 1; irq < BOARD_IRQ_COUNT; irq++)
        mmio_w32(PLIC_PRIORITY(irq), 0);   /* priority 0 = never delivered */
    for (int w = 0; w < (BOARD_IRQ_COUNT + 31) / 32; w++)
        mmio_w32(PLIC_ENABLE(w * 32), 0);
    mmio_w32(PLIC_THRESHOLD, 0);           /* deliver any priority >= 1 */
}

static int irq_valid(int irq)
{
    return irq > 0 && irq < BOARD_IRQ_COUNT;
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

static void plic_set_enable(int irq, int on)
{
    uint32_t bit = 1u << ((uint32_t)irq % 32u);
    uint32_t v = mmio_r32(PLIC_ENABLE(irq));

    mmio_w32(PLIC_ENABLE(irq), on ? (v | bit) : (v & ~bit));
}

int board_irq_enable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq) || !irq_table[irq].fn)
        return -1;
    s = board_irq_save();
    mmio_w32(PLIC_PRIORITY(irq), 1);
    plic_set_enable(irq, 1);
    board_irq_restore(s);
    return 0;
}

int board_irq_disable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq))
        return -1;
    s = board_irq_save();
    plic_set_enable(irq, 0);
    mmio_w32(PLIC_PRIORITY(irq), 0);
    board_irq_restore(s);
    return 0;
}

static void external_isr(void)
{
    for (int n = 0; n < PLIC_CLAIMS_PER_TRAP; n++) {
        uint32_t irq = mmio_r32(PLIC_CLAIM);

        if (irq == 0)
            break;
        if (irq < BOARD_IRQ_COUNT && irq_table[irq].fn) {
            stats.ext_irqs++;
            irq_table[irq].fn(irq_table[irq].ctx, (int)irq);
        } else {
            /* Nobody owns it: mask it so it cannot storm. */
            stats.spurious_irqs++;
            if (irq < BOARD_IRQ_COUNT)
                plic_set_enable((int)irq, 0);
        }
        mmio_w32(PLIC_CLAIM, irq);   /* complete */
    }
}

/* ---- software interrupt (CLINT msip, hart 0) ------------------------- */

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
    mmio_w32(BOARD_CLINT_MSIP, 1);
}

static void swi_isr(void)
{
    mmio_w32(BOARD_CLINT_MSIP, 0);   /* acknowledge before running the handler */
    stats.swi_irqs++;
    if (swi_fn)
        swi_fn(swi_ctx, 0);
}

void board_interrupts_on(void)
{
    CSR_SET(mie, BOARD_MIE_MEIE | (swi_fn ? BOARD_MIE_MSIE : 0));
    CSR_SET(mstatus, BOARD_MSTATUS_MIE);
}

/* ---- clock, alarm, scheduler timer ------------------------------------ */

#define TICKS_PER_US (BOARD_TIMEBASE_HZ / 1000000u)

/* Two users share the one comparator; each keeps its own deadline (in
 * timebase ticks, BOARD_NEVER when idle) and mtimecmp gets the earlier. */
static uint64_t alarm_at = BOARD_NEVER;
static uint64_t sched_at = BOARD_NEVER;
static board_tick_fn sched_tick_fn;
static board_switch_fn sched_switch_fn;
static int switch_requested;
static int in_trap;

uint64_t board_now_ticks(void)
{
#if __riscv_xlen == 64
    uint64_t t;

    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
#else
    uint32_t hi, lo, hi2;

    /* Re-read when the low half wrapped between the two reads. */
    do {
        __asm__ volatile("rdtimeh %0" : "=r"(hi));
        __asm__ volatile("rdtime %0" : "=r"(lo));
        __asm__ volatile("rdtimeh %0" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
#endif
}

uint64_t board_ticks_hz(void) { return BOARD_TIMEBASE_HZ; }

const char *board_platform(void)
{
    return "QEMU virt " BOARD_ARCH " M-mode hart 0";
}

uint64_t board_now_us(void)
{
    return board_now_ticks() / TICKS_PER_US;
}

static uint64_t us_to_ticks(uint64_t us)
{
    return us >= BOARD_NEVER / TICKS_PER_US ? BOARD_NEVER : us * TICKS_PER_US;
}

static void mtimecmp_write(uint64_t v)
{
#if __riscv_xlen == 64
    *(volatile uint64_t *)BOARD_CLINT_MTIMECMP = v;
#else
    /* High word to max first, so no transient value below both fires. */
    volatile uint32_t *cmp = (volatile uint32_t *)BOARD_CLINT_MTIMECMP;
    cmp[1] = 0xffffffffu;
    cmp[0] = (uint32_t)v;
    cmp[1] = (uint32_t)(v >> 32);
#endif
}

/* Call with interrupts masked.  Writing a future value also clears a
 * pending MTIP; a past value makes the interrupt fire at once. */
static void timer_program(void)
{
    uint64_t next = alarm_at < sched_at ? alarm_at : sched_at;

    mtimecmp_write(next);
    if (next == BOARD_NEVER)
        CSR_CLEAR(mie, BOARD_MIE_MTIE);
    else
        CSR_SET(mie, BOARD_MIE_MTIE);
}

void board_alarm_us(uint64_t deadline_us)
{
    uintptr_t s = board_irq_save();

    alarm_at = us_to_ticks(deadline_us);
    timer_program();
    board_irq_restore(s);
}

void board_alarm_cancel(void)
{
    uintptr_t s = board_irq_save();

    alarm_at = BOARD_NEVER;
    timer_program();
    board_irq_restore(s);
}

int board_alarm_pending(void)
{
    return alarm_at != BOARD_NEVER;
}

void board_set_sched_hooks(board_switch_fn sw, board_tick_fn tick)
{
    uintptr_t s = board_irq_save();

    sched_switch_fn = sw;
    sched_tick_fn = tick;
    board_irq_restore(s);
}

void board_sched_timer_at(uint64_t deadline_us)
{
    uintptr_t s = board_irq_save();

    sched_at = us_to_ticks(deadline_us);
    timer_program();
    board_irq_restore(s);
}

static void timer_isr(void)
{
    uint64_t now = board_now_ticks();

    stats.timer_irqs++;
    if (alarm_at <= now) {
        alarm_at = BOARD_NEVER;   /* one-shot: the wfi it bounded has woken */
        stats.alarm_fires++;
    }
    if (sched_at <= now) {
        sched_at = BOARD_NEVER;
        if (sched_tick_fn) {
            uint64_t next = us_to_ticks(sched_tick_fn(now / TICKS_PER_US));
            if (next < sched_at)
                sched_at = next;
        }
    }
    timer_program();
}

/* ---- traps --------------------------------------------------------------- */

static board_frame boot_frame;

board_frame *board_boot_frame(void) { return &boot_frame; }

int board_in_trap(void) { return in_trap; }

void board_request_switch(void)
{
    uintptr_t s = board_irq_save();

    switch_requested = 1;
    board_irq_restore(s);
}

void board_switch_now(void)
{
    /* ecall from M-mode traps even with interrupts masked; board__trap
     * steps mepc past it and runs the switch hook. */
    __asm__ volatile("ecall" ::: "memory");
}

void board_frame_init(board_frame *f, void (*entry)(void *), void *arg,
                      uintptr_t sp, void *tls)
{
    uintptr_t gp;

    __asm__("mv %0, gp" : "=r"(gp));
    memset(f, 0, sizeof(*f));
    f->x[0] = (uintptr_t)entry;          /* mepc: where mret lands */
    f->x[1] = 0;                         /* ra: a return faults at 0, visibly */
    f->x[2] = sp & ~(uintptr_t)15;
    f->x[3] = gp;
    f->x[4] = (uintptr_t)tls;
    f->x[10] = (uintptr_t)arg;
    f->mstatus = BOARD_MSTATUS_MPP_M | BOARD_MSTATUS_MPIE
#if defined(__riscv_flen)
                 | BOARD_MSTATUS_FS_INIT
#endif
        ;
}

static const char *exception_name(uintptr_t code)
{
    static const char *const names[] = {
        "instruction address misaligned", "instruction access fault",
        "illegal instruction", "breakpoint", "load address misaligned",
        "load access fault", "store address misaligned",
        "store access fault", "ecall from U", "ecall from S", "reserved",
        "ecall from M", "instruction page fault", "load page fault",
        "reserved", "store page fault",
    };
    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown";
}

#define MCAUSE_INT ((uintptr_t)1 << (__riscv_xlen - 1))
#define IRQ_M_SOFT  3
#define IRQ_M_TIMER 7
#define IRQ_M_EXT   11
#define EXC_ECALL_M 11

static void trap_fail(const board_frame *f, uintptr_t cause)
{
    uintptr_t tval = csr_mtval();

    printf("trap: unexpected %s %lu (%s) mcause=0x%lx mepc=0x%lx mtval=0x%lx"
           " ra=0x%lx sp=0x%lx\n",
           (cause & MCAUSE_INT) ? "interrupt" : "exception",
           (unsigned long)(cause & ~MCAUSE_INT),
           (cause & MCAUSE_INT) ? "-" : exception_name(cause),
           (unsigned long)cause, (unsigned long)f->x[0], (unsigned long)tval,
           (unsigned long)f->x[1], (unsigned long)f->x[2]);
    board_fail("trap mcause=0x%lx mepc=0x%lx mtval=0x%lx",
               (unsigned long)cause, (unsigned long)f->x[0],
               (unsigned long)tval);
}

board_frame *board__trap(board_frame *f)
{
    uintptr_t cause = csr_mcause();

    in_trap = 1;
    if (cause & MCAUSE_INT) {
        switch (cause & ~MCAUSE_INT) {
        case IRQ_M_TIMER: timer_isr(); break;
        case IRQ_M_EXT: external_isr(); break;
        case IRQ_M_SOFT: swi_isr(); break;
        default: trap_fail(f, cause);
        }
    } else if (cause == EXC_ECALL_M) {
        f->x[0] += 4;                     /* resume after the ecall */
        stats.ecalls++;
        switch_requested = 1;
    } else {
        trap_fail(f, cause);
    }
    if (switch_requested) {
        switch_requested = 0;
        if (sched_switch_fn)
            f = sched_switch_fn(f);
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

static void raw_hex(uintptr_t v)
{
    char buf[2 + 2 * sizeof(v) + 1];
    int i = 0;

    buf[i++] = '0';
    buf[i++] = 'x';
    for (int sh = (int)(8 * sizeof(v)) - 4; sh >= 0; sh -= 4)
        buf[i++] = "0123456789abcdef"[(v >> sh) & 0xf];
    buf[i] = 0;
    raw_puts(buf);
}

void board__nested_trap(uintptr_t cause, uintptr_t epc, uintptr_t tval)
{
    raw_puts("\r\ntrap: fault inside the trap handler mcause=");
    raw_hex(cause);
    raw_puts(" mepc=");
    raw_hex(epc);
    raw_puts(" mtval=");
    raw_hex(tval);
    raw_puts("\r\nRESULT ");
    raw_puts(board_name());
    raw_puts(" FAIL nested trap\r\n");
    board_exit(1);
}

/* ---- start-up ---------------------------------------------------------- */

/* Called by start.S on hart 0 with .bss zeroed, gp/tp/sp and the trap vector
 * set, every interrupt masked. */
void board__start(void)
{
    uart_init();
    plic_init();
    board_tag("arch", BOARD_ARCH);   /* from the compiler's target (xlen) */
    board_tag("mode", "m");
    alarm_at = BOARD_NEVER;
    sched_at = BOARD_NEVER;
    timer_program();
    mmio_w32(BOARD_CLINT_MSIP, 0);
    __libc_init_array();
    exit(main());
}
