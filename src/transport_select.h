/* SPDX-License-Identifier: MIT */
/* ---- transport_select.h: which transports are built in ------------------ */
/* VIRTQ_TRANSPORTS is a mask of VIRTQ_TRANSPORT_MMIO (1) and
   VIRTQ_TRANSPORT_PCI (2).  Default: MMIO only, so an existing build is
   unchanged; define it to VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI (or
   PCI alone) to drive virtio-pci.  It matters only in the implementation
   file: every public declaration and struct is the same either way. */
#ifndef VIRTQ_TRANSPORTS
#define VIRTQ_TRANSPORTS VIRTQ_TRANSPORT_MMIO
#endif
#if (VIRTQ_TRANSPORTS) <= 0 || ((VIRTQ_TRANSPORTS) & ~3) != 0
#error "virtq: VIRTQ_TRANSPORTS must be VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI"
#endif
#define VIRTQ__HAS_MMIO (((VIRTQ_TRANSPORTS) & VIRTQ_TRANSPORT_MMIO) != 0)
#define VIRTQ__HAS_PCI (((VIRTQ_TRANSPORTS) & VIRTQ_TRANSPORT_PCI) != 0)

#define VIRTQ__PAGE 4096u /* legacy GuestPageSize and QueueAlign we use */

/* VIRTQ_MMIO_LEGACY 0 leaves out virtio-mmio version 1 ("Legacy
   interface"): virtq_mmio_probe() refuses such a device with
   VIRTQ_ENOTSUP, and every legacy branch compiles away. */
#ifndef VIRTQ_MMIO_LEGACY
#define VIRTQ_MMIO_LEGACY 1
#endif
#define VIRTQ__LEGACY(dev) (VIRTQ_MMIO_LEGACY && (dev)->version == 1u)

#ifndef VIRTQ_RESET_POLLS
#define VIRTQ_RESET_POLLS 100000u /* reads before a device or queue reset times out */
#endif

/* VIRTIO_F_NOTIFICATION_DATA's 32-bit value ("Available Buffer
   Notifications"): vqn, then next_off (15 bits) and next_wrap (bit 31):
   where the device finds the next available buffer, i.e. the published
   position, not avail_idx (chains added since the last virtq_publish()
   are not available yet).  A split ring's avail.idx and a packed ring's
   position with its wrap counter in bit 15 both live in published_idx,
   so one formula serves both. */
static inline uint32_t virtq__notify_data(const struct virtq *vq)
{
    return (uint32_t)vq->index | ((uint32_t)vq->published_idx << 16);
}
