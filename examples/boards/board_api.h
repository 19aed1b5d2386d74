/* SPDX-License-Identifier: MIT */
/* The board API: what every board under examples/boards/<board>/ implements
 * and the only board interface the demo programs in examples/ call.
 *
 * A program includes "board_api.h" and builds with
 *   -Iexamples/boards -Iexamples/boards/common -Iexamples/boards/<board>
 * so "board.h" below is the selected board's own header.  One demo source
 * then runs on every board; nothing here names an ISA, a privilege level or
 * an interrupt controller.
 *
 * Who implements what:
 *   examples/boards/common/board_common.c  output convention (name, tags,
 *       RESULT, FIGURE, printf), picolibc stdio on board_uart_putc/getc,
 *       delays, the virtio-mmio slot scan and the PCI bus-0 scan.  Shared
 *       by every board.
 *   examples/boards/common/board_virtio.h  board_virtio_probe(): open a
 *       found device over its transport (include after virtq.h).
 *   examples/boards/common/sched.c         the scheduler (sched.h), on top of
 *       the frame hooks at the end of this file.  Shared by every board.
 *   examples/boards/<board>/board.h        must provide, see "board.h
 *       contract" below.
 *   examples/boards/<board>/board.c        every other function declared
 *       here: exit, UART, interrupt controller, clock, alarm, traps.
 *
 * board.h contract (constants and static inline functions):
 *   BOARD_ARCH                 "riscv64", "riscv32", "aarch64": the RESULT
 *                              arch= tag, from the compiler's target macros
 *   BOARD_VIRTIO_BASE, BOARD_VIRTIO_STRIDE, BOARD_VIRTIO_SLOTS
 *                              the virtio-mmio window (slot i at BASE+i*STRIDE)
 *   BOARD_VIRTIO_IRQ(i)        interrupt number of slot i (board_irq_* scale)
 *   BOARD_UART_IRQ             the UART's interrupt number
 *   BOARD_PCIE_ECAM, BOARD_PCIE_MMIO_BASE, BOARD_PCIE_MMIO_END,
 *   BOARD_PCIE_INTX_IRQ(d)     optional: a PCIe host bridge (ECAM address of
 *                              bus 0, the memory window BARs are assigned
 *                              from, INTA of bus-0 device d); without them
 *                              board_virtio_find() sees virtio-mmio only
 *   BOARD_RAM_BASE             start of RAM (gpu_demo's knobs sit 112 MiB in;
 *                              the link script defines __end, the image end)
 *   BOARD_IRQ_COUNT            interrupt numbers are 1..BOARD_IRQ_COUNT-1
 *   uintptr_t board_irq_save(void)     mask interrupts, return the old state
 *   void board_irq_restore(uintptr_t)  restore what board_irq_save returned
 *   void board_wfi(void)       sleep until an enabled interrupt is pending,
 *                              even while masked; may return early
 *   board_frame                one saved execution context (see the end)
 *   uintptr_t board_frame_sp(const board_frame *)
 *                              the stack pointer the frame resumes with
 *                              (the scheduler's overflow check)
 *
 * Interrupt wiring rule: initialise every device first, then register and
 * enable its interrupt, then call board_interrupts_on() once.
 * board_irq_register() only records a handler; nothing reaches the core
 * before board_interrupts_on().
 *
 * Output convention (PLAN/DESIGN): the last line of every run is
 *   RESULT <name> PASS|FAIL key=value... [: reason]
 * with at least arch=, transport=, ring= as detected at run time (the board
 * sets arch= and its own tags such as mode=; a demo calls board_tag_dev()
 * after feature negotiation), and figures print as
 *   FIGURE <name> <key>=<value> <unit>
 */
#ifndef BOARD_API_H
#define BOARD_API_H

#include "board.h"

#include <stddef.h>
#include <stdint.h>

/* ---- program identity and the output convention ----------------------- */

/* Names the program in RESULT/FIGURE lines (default "board"). */
void board_set_name(const char *name);
const char *board_name(void);
/* Add or replace one key=value tag of the RESULT line (value: no spaces).
 * Tags print in the order they were first set.  At most BOARD_MAX_TAGS;
 * keys and values are kept by pointer (pass string literals). */
#define BOARD_MAX_TAGS 12
void board_tag(const char *key, const char *value);
/* Current value of a tag, or NULL. */
const char *board_tag_get(const char *key);
/* Tag transport= and ring= from a virtq device after feature negotiation
 * (what was negotiated, never what was asked for), plus mmio=1|2 for the
 * virtio-mmio version.  A macro so this header needs no virtq.h. */
#define board_tag_dev(dev)                                                   \
    board_tag_virtio((dev)->transport == VIRTQ_TRANSPORT_MMIO ? "mmio" : "pci", \
                     ((dev)->features &                                      \
                      VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) != 0,             \
                     (dev)->transport == VIRTQ_TRANSPORT_MMIO ? (dev)->version : 0)
void board_tag_virtio(const char *transport, int packed, int mmio_version);

/* Print `RESULT <name> PASS <tags>` and exit with status 0. */
void board_pass(void) __attribute__((noreturn));
/* Print `RESULT <name> FAIL <tags>: <reason>` and exit with status 1. */
void board_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* Print `FIGURE <name> <key>=<value> <unit>`. */
void board_figure(const char *key, long long value, const char *unit);
/* printf with interrupts masked, so lines from tasks never interleave. */
int board_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line naming the board, ISA and privilege level, for banners,
 * e.g. "QEMU virt riscv64 M-mode hart 0". */
const char *board_platform(void);
/* End the run: code 0 = pass, else the host sees a failure (QEMU exits with
 * `code` where the board can say so).  Prints nothing: use board_pass or
 * board_fail for the RESULT line. */
void board_exit(int code) __attribute__((noreturn));

/* ---- UART (polled output) ---------------------------------------------- */
void board_uart_putc(char c);
int board_uart_getc(void);            /* -1 when no byte is waiting */
/* Arm (on=1) or disarm and acknowledge (on=0) the UART's "transmitter
 * empty" interrupt, BOARD_UART_IRQ: a device-free interrupt source for
 * tests of the interrupt controller path. */
void board_uart_tx_irq(int on);

/* ---- device interrupts ------------------------------------------------- */
typedef void (*board_irq_fn)(void *ctx, int irq);
/* Record the handler for irq (1..BOARD_IRQ_COUNT-1).  Enables nothing.
 * Returns 0, or -1 for a bad irq / NULL fn. */
int board_irq_register(int irq, board_irq_fn fn, void *ctx);
/* Route irq to this core and enable it at the interrupt controller.  It
 * reaches the core only once board_interrupts_on() ran.  -1 for a bad irq
 * or one with no handler. */
int board_irq_enable(int irq);
int board_irq_disable(int irq);
/* Unmask device (and, if registered, software) interrupts at the core. */
void board_interrupts_on(void);
/* A software interrupt to this core: a device-free interrupt source for
 * tests of interrupt-context code such as sched_wake(). */
void board_swi_register(board_irq_fn fn, void *ctx);
void board_swi_raise(void);

/* Counters the trap handler keeps. */
typedef struct board_stats {
    uint32_t timer_irqs;     /* timer interrupts taken                    */
    uint32_t alarm_fires;    /* one-shot alarms that expired              */
    uint32_t ext_irqs;       /* device interrupts dispatched to a handler */
    uint32_t spurious_irqs;  /* device interrupts with no handler (masked) */
    uint32_t swi_irqs;       /* software interrupts taken                 */
    uint32_t ecalls;         /* synchronous switch requests (board_switch_now) */
} board_stats;
void board_get_stats(board_stats *out);

/* ---- clock and alarm --------------------------------------------------- */
#define BOARD_NEVER UINT64_MAX
/* Monotonic microseconds since reset. */
uint64_t board_now_us(void);
/* The raw counter and its rate, for fine-grained figures. */
uint64_t board_now_ticks(void);
uint64_t board_ticks_hz(void);
/* Spin (bounded by the clock) for us microseconds. */
void board_delay_us(uint64_t us);
/* One-shot alarm: an interrupt by deadline_us (absolute, board_now_us()
 * scale) at the latest, so a board_wfi() returns.  Replaces an earlier
 * alarm; shares the timer with the scheduler tick (the earlier wins); its
 * own handler silences it.  A deadline already past fires at once. */
void board_alarm_us(uint64_t deadline_us);
void board_alarm_cancel(void);
int board_alarm_pending(void);        /* 1 while armed and not yet fired */

/* ---- virtio devices: mmio slots and PCI functions (board_common.c) ----- */
#define BOARD_VIRTIO_MAGIC 0x74726976u  /* "virt" little-endian */
typedef struct board_virtio_slot {
    uintptr_t base;          /* MMIO base of the slot, or for a PCI
                                function its ECAM configuration address  */
    int irq;                 /* interrupt number (board_irq_* scale); for
                                PCI the function's INTx (level, shared)  */
    int index;               /* slot number 0..BOARD_VIRTIO_SLOTS-1, or
                                the PCI device number on bus 0           */
    int pci;                 /* 0: virtio-mmio slot, 1: PCI function      */
    uint32_t magic;          /* virtio-mmio only                          */
    uint32_t version;        /* virtio-mmio 1 legacy, 2 modern; PCI 0     */
    uint32_t device_id;      /* virtio device type; 0: empty slot         */
    uint32_t vendor_id;      /* mmio VendorID, PCI 0x1af4                 */
} board_virtio_slot;
/* Fill out[0..n) with virtio-mmio slots 0..n-1; return how many hold a
 * device. */
int board_virtio_scan(board_virtio_slot *out, int n);
/* Find the nth (0-based) device of type device_id: virtio-mmio slots first,
 * then virtio functions on PCI bus 0 (function 0 of each device) when the
 * board has a PCIe host bridge.  The transport is whatever the machine
 * has: the same program runs over either.  0 on success, -1 if none. */
int board_virtio_find(uint32_t device_id, int nth, board_virtio_slot *out);
/* Print one line per mmio slot and per virtio PCI function; returns the
 * device count (both transports). */
int board_virtio_report(void);
/* PCI BARs are assigned by the program (board_virtio_probe) from
 * [*board_pci_next(), BOARD_PCIE_MMIO_END): the next free address of the
 * board's PCI memory window, shared by every function of one program. */
uint64_t *board_pci_next(void);

/* ---- execution contexts: what the shared scheduler needs --------------- */
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
/* Trap now so the switch hook runs; returns when this context is resumed.
 * Works with interrupts masked (a synchronous trap, not an interrupt). */
void board_switch_now(void);
/* 1 while the trap handler runs (interrupt context). */
int board_in_trap(void);
/* The frame the boot context traps into (the scheduler's idle context). */
board_frame *board_boot_frame(void);
/* Fill a fresh frame that starts at entry(arg) on stack top sp (16-byte
 * aligned) with interrupts enabled once resumed, and tls as its thread
 * pointer.  entry must not return. */
void board_frame_init(board_frame *f, void (*entry)(void *), void *arg,
                      uintptr_t sp, void *tls);

#endif /* BOARD_API_H */
