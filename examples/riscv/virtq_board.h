/* virtq configuration for the QEMU `virt` board layer.
 *
 * Board programs that use virtq compile the implementation file with
 *   -DVIRTQ_CONFIG_FILE='"virtq_board.h"'   (and -Iexamples/riscv)
 * so virtq's wait strategies run on this board's clock, alarm and scheduler.
 * VIRTQ_WFI / VIRTQ_IRQ_SAVE / VIRTQ_IRQ_RESTORE are virtq's built-in RISC-V
 * M-mode versions; they mask the same mstatus.MIE as board_irq_save().
 */
#ifndef VIRTQ_BOARD_H
#define VIRTQ_BOARD_H

#include "board.h"
#include "sched.h"

#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS)
#endif
/* rdtime at 10 MHz: monotonic microseconds. */
#define VIRTQ_NOW_US() board_now_us()
/* A wfi wake-up that needs no device: shares mtimecmp with the tick. */
#define VIRTQ_WFI_ALARM_US(deadline_us) board_alarm_us(deadline_us)
/* Tasks block here; virtq_dev_isr() wakes them from the board's IRQ handler. */
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    sched_wait_seq((ctx), (seqptr), (seen), (timeout_us))
#define VIRTQ_OS_WAKE(ctx) sched_wake(ctx)

#endif /* VIRTQ_BOARD_H */
