/* SPDX-License-Identifier: MIT */
/* QEMU `virt` RISC-V board, M-mode or S-mode (-DBOARD_SMODE): exit, UART,
 * PLIC, timer and alarm, software interrupt, trap dispatch.  The board API
 * is ../board_api.h; the board-neutral half is ../common/board_common.c.
 * The clock, the timer comparator (CLINT mtimecmp in M-mode, the SBI TIME
 * extension in S-mode) and the PLIC registers come from the virtq RISC-V
 * shim (shims/riscv/virtq_riscv.h), configured in virtq_board.h. */
#include "virtq_board.h"
#include "board_timer.h"

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

/* CSR names come from board.h (CSR_STATUS = mstatus or sstatus, ...). */
static inline uintptr_t csr_cause(void)
{
    uintptr_t v;
    __asm__ volatile("csrr %0, " BOARD_STR(CSR_CAUSE) : "=r"(v));
    return v;
}
static inline uintptr_t csr_tval(void)
{
    uintptr_t v;
    __asm__ volatile("csrr %0, " BOARD_STR(CSR_TVAL) : "=r"(v));
    return v;
}
#define CSR_SET(name, bits) \
    __asm__ volatile("csrs " BOARD_STR(name) ", %0" : : "r"((uintptr_t)(bits)) : "memory")
#define CSR_CLEAR(name, bits) \
    __asm__ volatile("csrc " BOARD_STR(name) ", %0" : : "r"((uintptr_t)(bits)) : "memory")

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
    board__timer_stats(out);
    board_irq_restore(s);
}

/* ---- PLIC -------------------------------------------------------------- */

/* Registers through the shim's helpers, context BOARD_PLIC_CONTEXT. */
#define PLIC_CLAIMS_PER_TRAP 64   /* a stuck source cannot hold the hart here */

static struct {
    board_irq_fn fn;
    void *ctx;
} irq_table[BOARD_IRQ_COUNT];

static void plic_init(void)
{
    for (int irq = 1; irq < BOARD_IRQ_COUNT; irq++) {
        virtq_riscv_plic_priority((uint32_t)irq, 0);  /* 0 = never delivered */
        virtq_riscv_plic_enable((uint32_t)irq, 0);
    }
    virtq_riscv_plic_threshold(0);         /* deliver any priority >= 1 */
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

int board_irq_enable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq) || !irq_table[irq].fn)
        return -1;
    s = board_irq_save();
    /* Enable first, priority last: QEMU's PLIC (7.2) re-evaluates its
     * output on a priority write but not on an enable write, so a level
     * source already pending (a PCI INTx left high since before wiring)
     * would otherwise never reach the hart. */
    virtq_riscv_plic_enable((uint32_t)irq, 1);
    virtq_riscv_plic_priority((uint32_t)irq, 1);
    board_irq_restore(s);
    return 0;
}

int board_irq_disable(int irq)
{
    uintptr_t s;

    if (!irq_valid(irq))
        return -1;
    s = board_irq_save();
    virtq_riscv_plic_enable((uint32_t)irq, 0);
    virtq_riscv_plic_priority((uint32_t)irq, 0);
    board_irq_restore(s);
    return 0;
}

static void external_isr(void)
{
    for (int n = 0; n < PLIC_CLAIMS_PER_TRAP; n++) {
        uint32_t irq = virtq_riscv_plic_claim();

        if (irq == 0)
            break;
        if (irq < BOARD_IRQ_COUNT && irq_table[irq].fn) {
            stats.ext_irqs++;
            irq_table[irq].fn(irq_table[irq].ctx, (int)irq);
        } else {
            /* Nobody owns it: mask it so it cannot storm. */
            stats.spurious_irqs++;
            if (irq < BOARD_IRQ_COUNT)
                virtq_riscv_plic_enable(irq, 0);
        }
        virtq_riscv_plic_complete(irq);
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

/* M-mode: the CLINT's msip word for hart 0.  S-mode: sip.SSIP, which
 * supervisor software may set and clear itself. */
static void swi_set(int on)
{
#if defined(BOARD_SMODE)
    if (on)
        CSR_SET(CSR_IP, BOARD_IE_SOFT);
    else
        CSR_CLEAR(CSR_IP, BOARD_IE_SOFT);
#else
    mmio_w32(BOARD_CLINT_MSIP, on ? 1u : 0u);
#endif
}

void board_swi_raise(void)
{
    swi_set(1);
}

static void swi_isr(void)
{
    swi_set(0);                      /* acknowledge before running the handler */
    stats.swi_irqs++;
    if (swi_fn)
        swi_fn(swi_ctx, 0);
}

void board_interrupts_on(void)
{
    virtq_riscv_external_irqs_on();        /* mie.MEIE / sie.SEIE */
    if (swi_fn)
        CSR_SET(CSR_IE, BOARD_IE_SOFT);
    CSR_SET(CSR_STATUS, BOARD_STATUS_IE);
}

/* ---- clock, alarm, scheduler timer ------------------------------------ */

#define TICKS_PER_US (BOARD_TIMEBASE_HZ / 1000000u)

/* The alarm and the scheduler tick share mtimecmp (common/board_timer.c). */
static int switch_requested;
static int in_trap;

uint64_t board_now_ticks(void)
{
    return virtq_riscv_now_ticks();
}

uint64_t board_ticks_hz(void) { return BOARD_TIMEBASE_HZ; }

const char *board_platform(void)
{
    return "QEMU virt " BOARD_ARCH " " BOARD_MODE_NAME " hart 0";
}

uint64_t board_now_us(void)
{
    return virtq_riscv_now_us();
}

uint64_t board__us_to_ticks(uint64_t us) { return virtq_riscv_us_to_ticks(us); }

uint64_t board__ticks_to_us(uint64_t ticks) { return ticks / TICKS_PER_US; }

/* Call with interrupts masked.  Writing a future value also clears a
 * pending MTIP; a past value makes the interrupt fire at once. */
void board__timer_hw(uint64_t ticks)
{
    if (ticks == BOARD_NEVER)
        virtq_riscv_timer_disarm();
    else
        virtq_riscv_timer_arm(ticks);
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
    /* A synchronous trap, taken even with interrupts masked; board__trap
     * steps the epc past it and runs the switch hook.  M-mode: ecall.
     * S-mode: ebreak (an ecall would go to the SBI), never compressed so
     * the step is 4 bytes. */
#if defined(BOARD_SMODE)
    __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
#else
    __asm__ volatile("ecall" ::: "memory");
#endif
}

void board_frame_init(board_frame *f, void (*entry)(void *), void *arg,
                      uintptr_t sp, void *tls)
{
    uintptr_t gp;

    __asm__("mv %0, gp" : "=r"(gp));
    memset(f, 0, sizeof(*f));
    f->x[0] = (uintptr_t)entry;          /* epc: where mret/sret lands */
    f->x[1] = 0;                         /* ra: a return faults at 0, visibly */
    f->x[2] = sp & ~(uintptr_t)15;
    f->x[3] = gp;
    f->x[4] = (uintptr_t)tls;
    f->x[10] = (uintptr_t)arg;
    f->status = BOARD_STATUS_PP | BOARD_STATUS_PIE
#if defined(__riscv_flen)
                | BOARD_FS_INIT
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

static void trap_fail(const board_frame *f, uintptr_t cause)
{
    uintptr_t tval = csr_tval();

    printf("trap: unexpected %s %lu (%s) cause=0x%lx epc=0x%lx tval=0x%lx"
           " ra=0x%lx sp=0x%lx\n",
           (cause & MCAUSE_INT) ? "interrupt" : "exception",
           (unsigned long)(cause & ~MCAUSE_INT),
           (cause & MCAUSE_INT) ? "-" : exception_name(cause),
           (unsigned long)cause, (unsigned long)f->x[0], (unsigned long)tval,
           (unsigned long)f->x[1], (unsigned long)f->x[2]);
    board_fail("trap cause=0x%lx epc=0x%lx tval=0x%lx",
               (unsigned long)cause, (unsigned long)f->x[0],
               (unsigned long)tval);
}

board_frame *board__trap(board_frame *f)
{
    uintptr_t cause = csr_cause();

    in_trap = 1;
    if (cause & MCAUSE_INT) {
        switch (cause & ~MCAUSE_INT) {
        case BOARD_IRQ_CAUSE_TIMER: board__timer_isr(); break;
        case BOARD_IRQ_CAUSE_EXT: external_isr(); break;
        case BOARD_IRQ_CAUSE_SOFT: swi_isr(); break;
        default: trap_fail(f, cause);
        }
    } else if (cause == BOARD_EXC_SWITCH) {
        f->x[0] += 4;                     /* resume after the ecall/ebreak */
        stats.ecalls++;
        switch_requested = 1;
    } else {
        trap_fail(f, cause);
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
    raw_puts("\r\ntrap: fault inside the trap handler cause=");
    raw_hex(cause);
    raw_puts(" epc=");
    raw_hex(epc);
    raw_puts(" tval=");
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
    board_tag("mode", BOARD_MODE_TAG);
    board__timer_start();
    swi_set(0);
    __libc_init_array();
    exit(main());
}
