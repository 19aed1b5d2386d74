/* SPDX-License-Identifier: MIT */
/* ---- shim_access.h: shared-memory and MMIO accesses ----------------------- */
/* Every access to memory the device also sees goes through these, so each
   is a single access of the right width that the compiler can neither
   cache nor split nor merge ("Split Virtqueues": the rings are shared). */

#if VIRTQ_USE_ATOMICS
#define VIRTQ__LD16(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define VIRTQ__LD32(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define VIRTQ__ST16(p, v) __atomic_store_n((p), (uint16_t)(v), __ATOMIC_RELAXED)
#define VIRTQ__ST32(p, v) __atomic_store_n((p), (uint32_t)(v), __ATOMIC_RELAXED)
#define VIRTQ__ST64(p, v) __atomic_store_n((p), (uint64_t)(v), __ATOMIC_RELAXED)
/* The barrier and the index access are one atomic operation here. */
#define VIRTQ__LD16_ACQUIRE(vq, p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define VIRTQ__ST16_RELEASE(vq, p, v) __atomic_store_n((p), (uint16_t)(v), __ATOMIC_RELEASE)
#else
#define VIRTQ__LD16(p) (*(const volatile uint16_t *)(p))
#define VIRTQ__LD32(p) (*(const volatile uint32_t *)(p))
#define VIRTQ__ST16(p, v) (*(volatile uint16_t *)(p) = (uint16_t)(v))
#define VIRTQ__ST32(p, v) (*(volatile uint32_t *)(p) = (uint32_t)(v))
#define VIRTQ__ST64(p, v) (*(volatile uint64_t *)(p) = (uint64_t)(v))
static inline uint16_t virtq__ld16_acquire(const struct virtq *vq, const uint16_t *p)
{
    uint16_t v = VIRTQ__LD16(p);
    /* 2.7.14 "Receiving Used Buffers": the used entries are read only
       after the index that covers them; the load above stays first. */
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_RMB();
    else
        VIRTQ_RMB();
    return v;
}
static inline void virtq__st16_release(const struct virtq *vq, uint16_t *p, uint16_t v)
{
    /* 2.7.13 "Supplying Buffers": descriptors and ring entries must be
       visible before the index that publishes them. */
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_WMB();
    else
        VIRTQ_WMB();
    VIRTQ__ST16(p, v);
}
#define VIRTQ__LD16_ACQUIRE(vq, p) virtq__ld16_acquire((vq), (p))
#define VIRTQ__ST16_RELEASE(vq, p, v) virtq__st16_release((vq), (p), (v))
#endif

/* Full barrier between our store of an index/event and our load of the
   device's (avail.idx -> used.flags/avail_event; used_event -> used.idx):
   the store-load pair that otherwise loses a notification or an interrupt. */
static inline void virtq__mb(const struct virtq *vq)
{
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_MB();
    else
        VIRTQ_MB();
}

/* MMIO.  Like Linux's writel/readl: a write is ordered after earlier memory
   writes (so the device sees avail.idx before the notify), a read before
   later memory reads. */
#ifndef VIRTQ_MMIO_READ32
static inline uint32_t virtq__mmio_read32(uintptr_t a)
{
    uint32_t v = *(const volatile uint32_t *)a;
    VIRTQ__IO_AFTER_READ(); /* the register value precedes dependent reads */
    return v;
}
#define VIRTQ_MMIO_READ32(a) virtq__mmio_read32(a)
#endif
#ifndef VIRTQ_MMIO_READ16
static inline uint16_t virtq__mmio_read16(uintptr_t a)
{
    uint16_t v = *(const volatile uint16_t *)a;
    VIRTQ__IO_AFTER_READ(); /* as for 32-bit reads */
    return v;
}
#define VIRTQ_MMIO_READ16(a) virtq__mmio_read16(a)
#endif
#ifndef VIRTQ_MMIO_READ8
static inline uint8_t virtq__mmio_read8(uintptr_t a)
{
    uint8_t v = *(const volatile uint8_t *)a;
    VIRTQ__IO_AFTER_READ(); /* as for 32-bit reads */
    return v;
}
#define VIRTQ_MMIO_READ8(a) virtq__mmio_read8(a)
#endif
#ifndef VIRTQ_MMIO_WRITE32
static inline void virtq__mmio_write32(uintptr_t a, uint32_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* prior ring writes reach memory first */
    *(volatile uint32_t *)a = v;
}
#define VIRTQ_MMIO_WRITE32(a, v) virtq__mmio_write32((a), (v))
#endif
/* 8- and 16-bit writes: virtio-pci's common configuration is accessed at
   each field's natural width ("Virtio Over PCI Bus", driver requirements). */
#ifndef VIRTQ_MMIO_WRITE16
static inline void virtq__mmio_write16(uintptr_t a, uint16_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* as for 32-bit writes */
    *(volatile uint16_t *)a = v;
}
#define VIRTQ_MMIO_WRITE16(a, v) virtq__mmio_write16((a), (uint16_t)(v))
#endif
#ifndef VIRTQ_MMIO_WRITE8
static inline void virtq__mmio_write8(uintptr_t a, uint8_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* as for 32-bit writes */
    *(volatile uint8_t *)a = v;
}
#define VIRTQ_MMIO_WRITE8(a, v) virtq__mmio_write8((a), (uint8_t)(v))
#endif
