/* virtq board layer for QEMU `virt` (RISC-V, M-mode, hart 0, -bios none).
 *
 * What a board program gets: printf on the 16550 UART, a trap vector that
 * dispatches the machine timer and PLIC interrupts, a microsecond clock and a
 * one-shot alarm that bounds a `wfi`, a virtio-mmio slot scan, and an exit
 * through QEMU's test device so the host sees pass/fail.
 *
 * Interrupt wiring rule (field notes 000/001 and 004): initialise every
 * device first, then register and enable its IRQ, then call
 * board_interrupts_on() once.  board_irq_register() only records a handler;
 * nothing reaches the hart before board_interrupts_on() sets mie.MEIE.
 *
 * Included by start.S and trap.S too: constants above the C part carry no
 * C suffixes, and everything C-only is under !__ASSEMBLER__.
 */
#ifndef BOARD_H
#define BOARD_H

/* ---- memory map (QEMU virt) ------------------------------------------- */
#define BOARD_TEST_BASE        0x00100000  /* sifive_test: exit/reset     */
#define BOARD_CLINT_BASE       0x02000000
#define BOARD_CLINT_MSIP       (BOARD_CLINT_BASE + 0x0000)
#define BOARD_CLINT_MTIMECMP   (BOARD_CLINT_BASE + 0x4000)
#define BOARD_CLINT_MTIME      (BOARD_CLINT_BASE + 0xbff8)
#define BOARD_PLIC_BASE        0x0c000000
#define BOARD_UART_BASE        0x10000000
#define BOARD_UART_IRQ         10
#define BOARD_VIRTIO_BASE      0x10001000
#define BOARD_VIRTIO_STRIDE    0x1000
#define BOARD_VIRTIO_SLOTS     8
#define BOARD_VIRTIO_IRQ0      1            /* slot i raises PLIC source 1+i */
#define BOARD_RAM_BASE         0x80000000
#define BOARD_TIMEBASE_HZ      10000000     /* mtime / rdtime rate on virt  */
#define BOARD_IRQ_COUNT        97  /* table size: sources 1..96 (riscv,ndev) */

/* ---- trap frame layout (shared with trap.S) ---------------------------- */
/* One frame per execution context (boot/idle and each task).  Slot 0 of the
 * integer area holds mepc (x0 needs no saving); slot n holds register xn.
 * Slot 32 is mstatus, slot 33 pads so the FP area is 8-byte aligned on rv32. */
#if __riscv_xlen == 64
#define BOARD_REGBYTES 8
#else
#define BOARD_REGBYTES 4
#endif
#define BOARD_FRAME_MEPC       0
#define BOARD_FRAME_X(n)       ((n) * BOARD_REGBYTES)
#define BOARD_FRAME_MSTATUS    (32 * BOARD_REGBYTES)
#define BOARD_FRAME_FP         (34 * BOARD_REGBYTES)
#if defined(__riscv_flen)
#define BOARD_FREGBYTES        (__riscv_flen / 8)
#define BOARD_FRAME_F(n)       (BOARD_FRAME_FP + (n) * BOARD_FREGBYTES)
#define BOARD_FRAME_FCSR       BOARD_FRAME_F(32)
#define BOARD_FRAME_SIZE       ((BOARD_FRAME_FCSR + BOARD_REGBYTES + 15) & ~15)
#else
#define BOARD_FRAME_SIZE       ((BOARD_FRAME_FP + 15) & ~15)
#endif

/* mstatus / mie bits the board and the scheduler use. */
#define BOARD_MSTATUS_MIE      0x00000008
#define BOARD_MSTATUS_MPIE     0x00000080
#define BOARD_MSTATUS_MPP_M    0x00001800
#define BOARD_MSTATUS_FS_INIT  0x00002000
#define BOARD_MIE_MSIE         0x00000008
#define BOARD_MIE_MTIE         0x00000080
#define BOARD_MIE_MEIE         0x00000800

#ifndef __ASSEMBLER__

#include <stdint.h>
#include <stddef.h>

/* ---- program identity and the output convention ----------------------- */

/* Names the program in RESULT/FIGURE lines (default "board"). */
void board_set_name(const char *name);
const char *board_name(void);

/* Print `RESULT <name> PASS` and exit QEMU with status 0. */
void board_pass(void) __attribute__((noreturn));
/* Print `RESULT <name> FAIL <reason>` and exit QEMU with status 1. */
void board_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* Print `FIGURE <name> <key>=<value> <unit>`. */
void board_figure(const char *key, long long value, const char *unit);
/* printf with interrupts masked, so lines from tasks never interleave. */
int board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit through the test device: code 0 = pass, else QEMU exits with `code`
 * (1..65535).  Prints nothing; use board_pass/board_fail for RESULT lines. */
void board_exit(int code) __attribute__((noreturn));

/* ---- UART (polled, no interrupts) ------------------------------------- */
void board_uart_putc(char c);
int board_uart_getc(void);            /* -1 when no byte is waiting */

/* ---- interrupt mask and wfi -------------------------------------------- */
/* Mask machine interrupts (mstatus.MIE); returns the previous state. */
static inline uintptr_t board_irq_save(void)
{
    uintptr_t old;
    __asm__ volatile("csrrc %0, mstatus, %1" : "=r"(old)
                     : "r"((uintptr_t)BOARD_MSTATUS_MIE) : "memory");
    return old & BOARD_MSTATUS_MIE;
}
static inline void board_irq_restore(uintptr_t saved)
{
    if (saved)
        __asm__ volatile("csrs mstatus, %0" : : "r"(saved) : "memory");
}
/* Sleep until an interrupt enabled in mie is pending, even while mstatus.MIE
 * is masked (then the handler runs only after the caller unmasks).  May
 * return early: callers loop on their own condition and a deadline. */
static inline void board_wfi(void)
{
    __asm__ volatile("wfi" : : : "memory");
}

/* ---- PLIC device interrupts -------------------------------------------- */
typedef void (*board_irq_fn)(void *ctx, int irq);
/* Record the handler for PLIC source irq (1..BOARD_IRQ_COUNT-1).  Does not
 * enable anything.  Returns 0, or -1 for a bad irq / NULL fn. */
int board_irq_register(int irq, board_irq_fn fn, void *ctx);
/* Give the source priority 1 and set its enable bit for hart 0 M-mode
 * (context 0).  It reaches the hart only once board_interrupts_on() ran.
 * Returns -1 for a bad irq or one with no handler. */
int board_irq_enable(int irq);
int board_irq_disable(int irq);
/* Set mie.MEIE (device interrupts), mie.MSIE when a software-interrupt
 * handler is registered, and mstatus.MIE.  mie.MTIE follows the timer: it is
 * set whenever an alarm or the scheduler's timer is armed. */
void board_interrupts_on(void);

/* Machine software interrupt (CLINT msip): a device-free interrupt source
 * for tests of interrupt-context code such as sched_wake(). */
void board_swi_register(board_irq_fn fn, void *ctx);
void board_swi_raise(void);

/* Counters the trap handler keeps (read them with interrupts masked if you
 * need a consistent set). */
typedef struct board_stats {
    uint32_t timer_irqs;     /* machine timer interrupts taken           */
    uint32_t alarm_fires;    /* one-shot alarms that expired             */
    uint32_t ext_irqs;       /* PLIC claims dispatched to a handler      */
    uint32_t spurious_irqs;  /* PLIC claims with no handler (then masked) */
    uint32_t swi_irqs;       /* software interrupts taken                */
    uint32_t ecalls;         /* context-switch requests (board_switch_now) */
} board_stats;
void board_get_stats(board_stats *out);

/* ---- clock and alarm --------------------------------------------------- */
#define BOARD_NEVER UINT64_MAX
/* Microseconds since reset, from the `time` CSR (10 MHz on virt). */
uint64_t board_now_us(void);
uint64_t board_now_ticks(void);
/* Spin (bounded by the clock) for us microseconds.  Use only before the
 * scheduler runs or for sub-tick delays: it holds the CPU. */
void board_delay_us(uint64_t us);
/* One-shot alarm: program mtimecmp so that a `wfi` returns by deadline_us
 * (absolute, board_now_us() scale) at the latest.  Replaces any earlier
 * alarm; shares the comparator with the scheduler tick, whichever is first
 * wins.  Sets mie.MTIE.  A deadline already past fires at once. */
void board_alarm_us(uint64_t deadline_us);
void board_alarm_cancel(void);
int board_alarm_pending(void);        /* 1 while armed and not yet fired */

/* ---- virtio-mmio slot scan --------------------------------------------- */
#define BOARD_VIRTIO_MAGIC 0x74726976u  /* "virt" little-endian */
typedef struct board_virtio_slot {
    uintptr_t base;          /* MMIO base of the slot                     */
    int irq;                 /* PLIC source                               */
    int index;               /* slot number 0..7                          */
    uint32_t magic;
    uint32_t version;        /* 1 legacy, 2 modern                        */
    uint32_t device_id;      /* 0: empty slot                             */
    uint32_t vendor_id;
} board_virtio_slot;
/* Fill out[0..n) with slots 0..n-1 (n <= BOARD_VIRTIO_SLOTS) and return how
 * many hold a device (good magic, device id != 0). */
int board_virtio_scan(board_virtio_slot *out, int n);
/* Find the nth (0-based) slot holding device_id; 0 on success, -1 if none. */
int board_virtio_find(uint32_t device_id, int nth, board_virtio_slot *out);
/* Print one line per slot; returns the device count. */
int board_virtio_report(void);

/* ---- trap frames and the scheduler hook -------------------------------- */
typedef struct board_frame {
    uintptr_t x[32];         /* x[0] = mepc, x[n] = register xn */
    uintptr_t mstatus;
    uintptr_t pad_;
#if defined(__riscv_flen) && __riscv_flen == 64
    uint64_t f[32];
    uintptr_t fcsr;
#elif defined(__riscv_flen)
    uint32_t f[32];
    uintptr_t fcsr;
#endif
} __attribute__((aligned(16))) board_frame;

/* Called at the end of a trap after board_request_switch(): gets the frame of
 * the interrupted context (already saved) and returns the frame to resume. */
typedef board_frame *(*board_switch_fn)(board_frame *cur);
/* Called from the timer interrupt when the scheduler's deadline passed;
 * returns the next scheduler deadline in us (or BOARD_NEVER). */
typedef uint64_t (*board_tick_fn)(uint64_t now_us);
void board_set_sched_hooks(board_switch_fn sw, board_tick_fn tick);
/* Move the scheduler's timer deadline (call with interrupts masked). */
void board_sched_timer_at(uint64_t deadline_us);
/* Ask for the switch hook to run when the current trap returns. */
void board_request_switch(void);
/* Trap now (ecall) so the switch hook runs; returns when this context is
 * resumed.  Works with interrupts masked: the ecall is not an interrupt. */
void board_switch_now(void);
/* 1 while the C trap handler runs (interrupt context). */
int board_in_trap(void);
/* The frame the boot context traps into (the scheduler's idle context). */
board_frame *board_boot_frame(void);
/* Fill a fresh frame that starts at entry(arg) on stack top sp (16-byte
 * aligned) with interrupts enabled after its first mret, the shared gp and
 * tls as its thread pointer.  entry must not return. */
void board_frame_init(board_frame *f, void (*entry)(void *), void *arg,
                      uintptr_t sp, void *tls);

#endif /* !__ASSEMBLER__ */
#endif /* BOARD_H */
