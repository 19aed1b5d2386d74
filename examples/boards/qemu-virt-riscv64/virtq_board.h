/* virtq configuration for the QEMU `virt` board layer.
 *
 * Board programs that use virtq compile the implementation file with
 *   -DVIRTQ_CONFIG_FILE='"virtq_board.h"'   (and -Iexamples/boards/qemu-virt-riscv64)
 * so virtq's wait strategies run on this board's clock, alarm and scheduler.
 * VIRTQ_WFI / VIRTQ_IRQ_SAVE / VIRTQ_IRQ_RESTORE are virtq's built-in RISC-V
 * M-mode versions; they mask the same mstatus.MIE as board_irq_save().
 * Each define is #ifndef-guarded, so a program can wrap one hook (e.g. count
 * the times VIRTQ_OS_WAIT really blocks) by defining it before including
 * virtq.h in its implementation file.
 */
#ifndef VIRTQ_BOARD_H
#define VIRTQ_BOARD_H

#include "board_api.h"
#include "sched.h"

#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS)
#endif
/* rdtime at 10 MHz: monotonic microseconds. */
#ifndef VIRTQ_NOW_US
#define VIRTQ_NOW_US() board_now_us()
#endif
/* A wfi wake-up that needs no device: shares mtimecmp with the tick. */
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

#endif /* VIRTQ_BOARD_H */
