/* SPDX-License-Identifier: MIT */
/* fake_irq.c — interrupts: InterruptStatus bits, NEEDS_RESET, broken queues. */
#define _GNU_SOURCE
#include "fake_internal.h"

/* ---- interrupts ------------------------------------------------------------------------------ */

/* Set InterruptStatus bits and raise the line (delivered at unlock). */
void fk_raise_irq(struct virtq_fake_dev *d, uint32_t bits)
{
    d->isr |= bits;
    d->raise_pending = 1;
    d->st.irqs++;
    if (bits & VIRTIO_MMIO_INT_CONFIG)
        d->st.config_irqs++;
}

/* "Device Status Field": DEVICE_NEEDS_RESET, then (once DRIVER_OK is set)
   a configuration change notification. */
void fk_set_needs_reset(struct virtq_fake_dev *d)
{
    if (d->status & ST_NEEDS_RESET)
        return;
    d->status |= ST_NEEDS_RESET;
    if (d->status & ST_DRIVER_OK)
        fk_raise_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

/* A queue the driver corrupted: stop serving it until reset (QEMU's
   virtio_error() does the same). */
void fk_break_queue(struct virtq_fake_dev *d, struct fake_queue *q)
{
    q->broken = 1;
    fk_set_needs_reset(d);
}
