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
