/* SPDX-License-Identifier: MIT */
/* virtq configuration for the QEMU `virt` RISC-V board (M-mode, or S-mode
 * with -DBOARD_SMODE).
 *
 * Board programs compile the virtq implementation file with
 *   -DVIRTQ_CONFIG_FILE='"virtq_board.h"'   (and -Iexamples/boards/qemu-virt-riscv64)
 * It is the RISC-V shim (shims/riscv/virtq_riscv.h) with this board's
 * parameters, plus two board hooks: the WFI alarm shares the timer
 * comparator with the scheduler tick (board_alarm_us multiplexes both on
 * the shim's virtq_riscv_timer_arm), and the OS strategy blocks in the
 * board scheduler.  VIRTQ_WFI / VIRTQ_IRQ_SAVE / VIRTQ_IRQ_RESTORE are
 * virtq's built-ins for the mode; they mask the same mstatus.MIE /
 * sstatus.SIE as board_irq_save().  Each define is #ifndef-guarded, so a
 * program can wrap one hook (e.g. count the times VIRTQ_OS_WAIT really
 * blocks) by defining it before including virtq.h.
 */
#ifndef VIRTQ_BOARD_H
#define VIRTQ_BOARD_H

#include "board_api.h"
#include "sched.h"

/* ---- the shim's parameters ------------------------------------------- */
#define VIRTQ_RISCV_TIMEBASE_HZ BOARD_TIMEBASE_HZ
#if defined(BOARD_SMODE)
#define VIRTQ_RISCV_SMODE 1
#else
#define VIRTQ_RISCV_MTIMECMP BOARD_CLINT_MTIMECMP   /* hart 0's */
#endif
#define VIRTQ_RISCV_PLIC_BASE BOARD_PLIC_BASE
#define VIRTQ_RISCV_PLIC_CONTEXT BOARD_PLIC_CONTEXT

/* ---- board hooks ------------------------------------------------------- */
/* Both transports: board_virtio_find() returns a virtio-mmio slot or a
   virtio-pci function, whichever the machine has, and board_virtio_probe()
   opens it over that transport. */
#ifndef VIRTQ_TRANSPORTS
#define VIRTQ_TRANSPORTS (VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI)
#endif
/* Both rings: the packed one is negotiated whenever the device offers it
   (QEMU: packed=on on a modern transport), the split one otherwise. */
#ifndef VIRTQ_RINGS
#define VIRTQ_RINGS (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#endif
#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS)
#endif
/* A wfi wake-up that needs no device, sharing the comparator with the tick. */
#ifndef VIRTQ_WFI_ALARM_US
#define VIRTQ_WFI_ALARM_US(deadline_us) board_alarm_us(deadline_us)
#endif
/* Tasks block here; virtq_dev_isr() wakes them from the board's IRQ handler. */
#ifndef VIRTQ_OS_WAIT
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    sched_wait_seq((ctx), (seqptr), (seen), (timeout_us))
#endif
#ifndef VIRTQ_OS_WAKE
#define VIRTQ_OS_WAKE(ctx) sched_wake(ctx)
#endif

/* VIRTQ_NOW_US (the time CSR) and the rest from the shim. */
#include "shims/riscv/virtq_riscv.h"

#endif /* VIRTQ_BOARD_H */
