/* SPDX-License-Identifier: MIT */
/* virtq configuration for the QEMU virt AArch64 board.
 *
 * Board programs compile the virtq implementation file with
 *   -DVIRTQ_CONFIG_FILE='"virtq_board.h"'
 * The platform shim (shims/aarch64/virtq_aarch64.h) supplies the clock,
 * DAIF masking, wfi, barriers, MMIO accessors and the optional cache hooks;
 * this board replaces only the alarm (its virtual timer also carries the
 * scheduler tick, so the board multiplexes the comparator) and adds the
 * scheduler's OS wait.  Each define is #ifndef-guarded, so a program can
 * wrap a hook by defining it first.
 */
#ifndef VIRTQ_BOARD_H
#define VIRTQ_BOARD_H

#include "board_api.h"
#include "sched.h"

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
/* One comparator, two users: the alarm and the scheduler's tick. */
#ifndef VIRTQ_WFI_ALARM_US
#define VIRTQ_WFI_ALARM_US(deadline_us) board_alarm_us(deadline_us)
#endif
#ifndef VIRTQ_OS_WAIT
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    sched_wait_seq((ctx), (seqptr), (seen), (timeout_us))
#endif
#ifndef VIRTQ_OS_WAKE
#define VIRTQ_OS_WAKE(ctx) sched_wake(ctx)
#endif

#include "virtq_aarch64.h"

#endif /* VIRTQ_BOARD_H */
