/* SPDX-License-Identifier: MIT */
/* ---- shim_dma.h: device addresses and cache maintenance for DMA --------- */

/* DMA.  Default: the device sees CPU addresses 1:1 and caches are coherent
   (QEMU virt, most SoCs with an IOMMU off).  On a non-coherent system,
   place the rings in uncached (or cache-coherent) memory and define the
   sync hooks, which cover data buffers only: virtq calls SYNC_FOR_DEVICE
   on each buffer (and indirect table) in virtq_add().  After virtq_get()
   the caller syncs its writable buffers with VIRTQ_DMA_SYNC_FOR_CPU, from
   another file through virtq_dma_sync_for_cpu().  A ring cannot be kept
   right by cache operations: with the split ring's 16/2/4 alignment
   ("Split Virtqueues") the used ring shares a cache line with the end
   of the available ring, each written by a different side, and a packed
   ring's descriptors ("Packed Virtqueues") are rewritten in place by both. */
#ifndef VIRTQ_VIRT_TO_DMA
#define VIRTQ_VIRT_TO_DMA(p) ((uint64_t)(uintptr_t)(p))
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_DEVICE
#define VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes) ((void)0)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_CPU
#define VIRTQ_DMA_SYNC_FOR_CPU(p, len) ((void)0)
#endif

VIRTQ_API void virtq_dma_sync_for_device(const void *p, size_t len, bool device_writes)
{
    (void)p; /* each is unused by the default (coherent) hook */
    (void)len;
    (void)device_writes;
    VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes);
}

VIRTQ_API void virtq_dma_sync_for_cpu(const void *p, size_t len)
{
    (void)p;
    (void)len;
    VIRTQ_DMA_SYNC_FOR_CPU(p, len);
}
