/* SPDX-License-Identifier: MIT */
/* board_virtio_probe(): open the device board_virtio_find() returned over
 * its own transport, so a demo's source names no transport at all.
 *
 * Include after virtq.h (it calls virtq): the board API itself needs no
 * virtq.h.  A PCI function also needs VIRTQ_TRANSPORT_PCI in the build's
 * VIRTQ_TRANSPORTS (the boards' virtq_board.h builds both in). */
#ifndef BOARD_VIRTIO_H
#define BOARD_VIRTIO_H

#include "board_api.h"

#include <stdio.h>

/* PCI Command register, Memory Space Enable: set once BARs are assigned. */
#define BOARD__PCI_COMMAND 0x04
#define BOARD__PCI_CMD_MEMORY 0x2u

/* 1. a virtio-mmio slot: probe it in place;
 * 2. a PCI function nobody enumerated (memory decode still off; there is
 *    no firmware under -bios none or a bare EL1 image): assign its memory
 *    BARs from the board's PCI window (virtq_pci_assign_bars);
 * 3. probe the function (identity, then the capability list).
 * Returns a VIRTQ_* code; on a PCI failure dev->why names the capability
 * and field that was wrong. */
static inline int board_virtio_probe(struct virtq_dev *dev, const board_virtio_slot *s)
{
    if (!s->pci)
        return virtq_mmio_probe(dev, s->base);
#if defined(BOARD_PCIE_ECAM)
    if ((*(volatile uint16_t *)(s->base + BOARD__PCI_COMMAND) & BOARD__PCI_CMD_MEMORY) == 0) {
        int rc = virtq_pci_assign_bars(s->base, board_pci_next(), BOARD_PCIE_MMIO_END);
        if (rc != VIRTQ_OK)
            return rc;
    }
    return virtq_pci_probe(dev, s->base);
#else
    (void)dev;
    return VIRTQ_ENOTSUP;
#endif
}

/* Where a device sits, for banners: "slot 3 @0x10004000" (virtio-mmio)
 * or "pci 00:01.0" (bus-0 function). */
static inline const char *board_virtio_where(const board_virtio_slot *s, char *buf,
                                             size_t len)
{
    if (s->pci)
        snprintf(buf, len, "pci 00:%02x.0", s->index);
    else
        snprintf(buf, len, "slot %d @0x%08lx", s->index, (unsigned long)s->base);
    return buf;
}

/* The interface driven, for banners: "virtio-mmio v1 (legacy)",
 * "virtio-mmio v2 (modern)" or "virtio-pci (modern)" (virtq drives only
 * the modern interface of a PCI function, transitional or not). */
static inline const char *board_virtio_iface(const struct virtq_dev *dev)
{
    if (dev->transport != VIRTQ_TRANSPORT_MMIO)
        return "virtio-pci (modern)";
    return dev->version == 1 ? "virtio-mmio v1 (legacy)" : "virtio-mmio v2 (modern)";
}

#endif /* BOARD_VIRTIO_H */
