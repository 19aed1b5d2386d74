/* SPDX-License-Identifier: MIT */
/* ---- shim_dma.h: device addresses and cache maintenance for DMA --------- */

/* DMA.  Default: the device sees CPU addresses 1:1 and caches are coherent
   (QEMU virt, most SoCs with an IOMMU off).  On a non-coherent system,
   place the rings in uncached memory and define the sync hooks; virtq
   calls SYNC_FOR_DEVICE on each buffer in virtq_add().  After virtq_get()
   the caller syncs its writable buffers with VIRTQ_DMA_SYNC_FOR_CPU. */
#ifndef VIRTQ_VIRT_TO_DMA
#define VIRTQ_VIRT_TO_DMA(p) ((uint64_t)(uintptr_t)(p))
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_DEVICE
#define VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes) ((void)0)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_CPU
#define VIRTQ_DMA_SYNC_FOR_CPU(p, len) ((void)0)
#endif
