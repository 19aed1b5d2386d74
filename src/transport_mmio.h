/* SPDX-License-Identifier: MIT */
/* ---- transport_mmio.h: virtio-mmio v1 (legacy) and v2 ("Virtio Over MMIO") */
/* The transport interface for virtio-mmio (see transport.h for the
   contract of each operation); device.h and wait.h reach these only
   through transport.h. */
#if VIRTQ__HAS_MMIO

/* Register accesses from a base address.  Functions with several take
   dev->base into a local first: every access's barrier is also a compiler
   barrier, which would reload it from *dev each time. */
#define VIRTQ__R32(base, off) VIRTQ_MMIO_READ32((base) + (uintptr_t)(off))
#define VIRTQ__W32(base, off, v) VIRTQ_MMIO_WRITE32((base) + (uintptr_t)(off), (uint32_t)(v))

VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base)
{
    uint32_t version, id;
    if (dev == NULL || base == 0u)
        return VIRTQ_EINVAL;
    if (VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
        return VIRTQ_ENODEV;
    version = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_VERSION);
    if (version != 2u && !(VIRTQ_MMIO_LEGACY && version == 1u))
        return VIRTQ_ENOTSUP;
    /* "Device ID 0 is a placeholder": an empty virtio-mmio slot. */
    id = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_DEVICE_ID);
    if (id == 0u)
        return VIRTQ_ENODEV;
    /* Field by field: a struct assignment may become a memset call. */
    dev->base = base;
    dev->transport = VIRTQ_TRANSPORT_MMIO;
    dev->version = (uint8_t)version;
    dev->device_id = id;
    dev->vendor_id = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_VENDOR_ID);
    dev->wait = VIRTQ_WAIT_SPIN;
    dev->state = VIRTQ__D_PROBED;
    dev->early = 0;
    dev->device_features = 0;
    dev->features = 0;
    dev->os_ctx = NULL;
    dev->wake_seq = 0;
    dev->irqs = 0;
    dev->notifies = 0;
    dev->spurious = 0;
    dev->user = NULL;
    return VIRTQ_OK;
}

static uint32_t virtq__mmio_status(const struct virtq_dev *dev)
{
    return VIRTQ__R32(dev->base, VIRTIO_MMIO_STATUS);
}

static void virtq__mmio_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__W32(dev->base, VIRTIO_MMIO_STATUS, status);
}

/* 64-bit features through two 32-bit windows; the select register is
   written before every access ("Feature bits" in "MMIO Device Register
   Layout"). */
static uint64_t virtq__mmio_features(const struct virtq_dev *dev)
{
    const uintptr_t base = dev->base;
    uint64_t f;
    VIRTQ__W32(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    f = VIRTQ__R32(base, VIRTIO_MMIO_DEVICE_FEATURES);
    VIRTQ__W32(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    f |= (uint64_t)VIRTQ__R32(base, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    return f;
}

static void virtq__mmio_set_features(const struct virtq_dev *dev, uint64_t f)
{
    const uintptr_t base = dev->base;
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* Select queue index and report its QueueNumMax, or an error if it is
   missing or already live. */
static int virtq__mmio_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    const uintptr_t base = dev->base;
    VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_SEL, index);
    if (VIRTQ__R32(base, VIRTQ__LEGACY(dev) ? VIRTIO_MMIO_QUEUE_PFN : VIRTIO_MMIO_QUEUE_READY))
        return VIRTQ_EBUSY;
    *max = VIRTQ__R32(base, VIRTIO_MMIO_QUEUE_NUM_MAX);
    return *max == 0u ? VIRTQ_ENODEV : VIRTQ_OK;
}

/* Hand the (selected, initialised) ring to the device. */
static int virtq__mmio_queue_enable(const struct virtq_dev *dev, const struct virtq *vq)
{
    const uintptr_t base = dev->base;
    uint64_t desc = VIRTQ_VIRT_TO_DMA(vq->desc);
    VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_NUM, vq->num);
    if (VIRTQ__LEGACY(dev)) {
        /* "Legacy interface": GuestPageSize before QueuePFN, which names
           the page holding the whole contiguous ring. */
        VIRTQ__W32(base, VIRTIO_MMIO_GUEST_PAGE_SIZE, VIRTQ__PAGE);
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_ALIGN, VIRTQ__PAGE);
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(desc / VIRTQ__PAGE));
        return VIRTQ_OK;
    }
    {
        /* QueueDesc, QueueDriver, QueueDevice: low/high pairs 0x10 apart. */
        uint64_t area[3];
        unsigned i;
        area[0] = desc;
        area[1] = VIRTQ_VIRT_TO_DMA(vq->avail);
        area[2] = VIRTQ_VIRT_TO_DMA(vq->used);
        for (i = 0; i < 3u; i++) {
            VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_DESC_LOW + 0x10u * i, (uint32_t)area[i]);
            VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_DESC_HIGH + 0x10u * i, (uint32_t)(area[i] >> 32));
        }
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_READY, 1);
        return VIRTQ__R32(base, VIRTIO_MMIO_QUEUE_READY) == 1u ? VIRTQ_OK : VIRTQ_EIO;
    }
}

static void virtq__mmio_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    /* The MMIO write is ordered after the avail.idx store by the shim
       (RISC-V "fence w,o"): "Available Buffer Notifications". */
    VIRTQ__W32(dev->base, VIRTIO_MMIO_QUEUE_NOTIFY,
               (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)) ? virtq__notify_data(vq)
                                                                           : vq->index);
}

/* Read and acknowledge the interrupt causes (VIRTQ_ISR_* bits).  "MMIO
   Device Register Layout": the driver ignores bits the spec does not
   define, so they are neither reported nor acknowledged. */
static uint32_t virtq__mmio_isr(const struct virtq_dev *dev)
{
    const uintptr_t base = dev->base;
    uint32_t st = VIRTQ__R32(base, VIRTIO_MMIO_INTERRUPT_STATUS) &
                  (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    if (st != 0u)
        VIRTQ__W32(base, VIRTIO_MMIO_INTERRUPT_ACK, st);
    return st;
}

static uint32_t virtq__mmio_generation(const struct virtq_dev *dev)
{
    /* Legacy devices have no ConfigGeneration: treat it as constant. */
    return VIRTQ__LEGACY(dev) ? 0u : VIRTQ__R32(dev->base, VIRTIO_MMIO_CONFIG_GENERATION);
}

/* One config-space access of the given width (1, 2 or 4 bytes). */
static uint32_t virtq__mmio_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    uintptr_t a = dev->base + VIRTIO_MMIO_CONFIG + off;
    if (width == 1u)
        return VIRTQ_MMIO_READ8(a);
    if (width == 2u)
        return VIRTQ_MMIO_READ16(a);
    return VIRTQ_MMIO_READ32(a);
}

static void virtq__mmio_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                  unsigned width)
{
    uintptr_t a = dev->base + VIRTIO_MMIO_CONFIG + off;
    if (width == 1u)
        VIRTQ_MMIO_WRITE8(a, (uint8_t)v);
    else if (width == 2u)
        VIRTQ_MMIO_WRITE16(a, (uint16_t)v);
    else
        VIRTQ_MMIO_WRITE32(a, v);
}

/* Bytes of device configuration space the register window holds. */
static uint32_t virtq__mmio_cfg_len(const struct virtq_dev *dev)
{
    (void)dev;
    return 0xf00u;
}

/* A cheap look while spinning: does the device flag a configuration
   change (how NEEDS_RESET arrives)?  Reads without acknowledging, so an
   interrupt handler still sees it. */
static int virtq__mmio_poll(const struct virtq_dev *dev)
{
    return (VIRTQ__R32(dev->base, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTQ_ISR_CONFIG) != 0u;
}
/* No QueueReset register exists before virtio 1.2's MMIO layout, and QEMU
   7.2 offers RING_RESET on virtio-mmio without one: never negotiate it. */
static uint64_t virtq__mmio_unsupported(const struct virtq_dev *dev)
{
    (void)dev;
    return VIRTQ_FEATURE(VIRTIO_F_RING_RESET);
}
/* RING_RESET is never negotiated here (virtq__mmio_unsupported). */
static int virtq__mmio_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    (void)dev;
    (void)vq;
    return VIRTQ_ENOTSUP;
}
#else /* !VIRTQ__HAS_MMIO: the call exists whatever is built, and says so */

VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base)
{
    (void)dev;
    (void)base;
    return VIRTQ_ENOTSUP;
}
#endif /* VIRTQ__HAS_MMIO */
