/* SPDX-License-Identifier: MIT */
/* ---- device.h: status machine, features, queues, config ("Device
   Initialization", "Device Status Field") ---------------------------------- */

/* Feature bits virtq cannot drive, so never negotiates: the packed ring
   unless it is built in (VIRTQ_RINGS, ring_select.h); plus, per device,
   what its transport cannot carry (virtq__t_unsupported). */
#define VIRTQ__UNSUPPORTED \
    ((VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) & ~VIRTQ__RING_FEATURES) | VIRTQ__FEATURES_OUT)

#ifndef VIRTQ_CONFIG_RETRIES
#define VIRTQ_CONFIG_RETRIES 64u /* ConfigGeneration retries before EIO */
#endif

#if VIRTQ_USE_ATOMICS
#define VIRTQ__BUMP(p) ((void)__atomic_fetch_add((p), 1u, __ATOMIC_RELAXED))
#else
/* Spelled out: C++20 deprecates compound assignment to a volatile. */
#define VIRTQ__BUMP(p) ((void)(*(p) = *(p) + 1u))
#endif

VIRTQ__INLINE int virtq__dev_ok(const struct virtq_dev *dev)
{
    return dev != NULL && (dev->state & VIRTQ__D_PROBED);
}

static void virtq__add_status(const struct virtq_dev *dev, uint32_t bit)
{
    virtq__t_set_status(dev, virtq__t_status(dev) | bit);
}

VIRTQ_API int virtq_dev_reset(struct virtq_dev *dev)
{
    uint32_t i;
    if (!virtq__dev_ok(dev))
        return VIRTQ_EINVAL;
    virtq__t_set_status(dev, 0);
    /* "Device Reset": not complete until the status reads back 0. */
    for (i = 0; i < VIRTQ_RESET_POLLS; i++) {
        if (virtq__t_status(dev) == 0u) {
            dev->state = (uint8_t)(VIRTQ__D_PROBED | (dev->state & VIRTQ__D_IRQ_ROUTED));
            dev->features = 0;
            return VIRTQ_OK;
        }
        VIRTQ_CPU_RELAX();
    }
    return VIRTQ_ETIMEDOUT;
}

VIRTQ_API int virtq_dev_begin(struct virtq_dev *dev)
{
    int rc = virtq_dev_reset(dev);
    if (rc != VIRTQ_OK)
        return rc;
    /* "Device Initialization" steps 2 and 3. */
    virtq__add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    virtq__add_status(dev, VIRTIO_STATUS_DRIVER);
    dev->device_features = virtq__t_features(dev);
    dev->state |= VIRTQ__D_BEGUN;
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_negotiate(struct virtq_dev *dev, uint64_t wanted, uint64_t required)
{
    uint64_t accepted, unsupported;
    /* Only between begin and FEATURES_OK: before begin the status is not
       DRIVER, and a FAILED device must be reset first ("Device Status
       Field"), so either way nothing may be written. */
    if (!virtq__dev_ok(dev) ||
        (dev->state & (VIRTQ__D_BEGUN | VIRTQ__D_FEATURES_OK | VIRTQ__D_DRIVER_OK)) != VIRTQ__D_BEGUN)
        return VIRTQ_EINVAL;
    /* "Legacy Interface: Device Initialization": a modern device must be
       driven as one, which VERSION_1 says. */
    if (!VIRTQ__LEGACY(dev))
        required |= VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    required |= VIRTQ__RING_REQUIRED; /* a packed-only build needs RING_PACKED */
    /* Never accept what virtq cannot drive (the packed ring, for now): a
       device that agreed to it would expect a layout virtq never builds. */
    unsupported = VIRTQ__UNSUPPORTED | virtq__t_unsupported(dev);
    if (required & (~dev->device_features | unsupported)) {
        virtq_dev_fail(dev);
        return VIRTQ_ENOTSUP;
    }
    /* The packed ring, when built in, is taken whenever offered. */
    accepted = dev->device_features & (wanted | required | VIRTQ__RING_FEATURES) &
               ~unsupported;
    virtq__t_set_features(dev, accepted);
    if (!VIRTQ__LEGACY(dev)) {
        /* Step 5-6: FEATURES_OK, then re-read it: the device may refuse. */
        virtq__add_status(dev, VIRTIO_STATUS_FEATURES_OK);
        if (!(virtq__t_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
            virtq_dev_fail(dev);
            return VIRTQ_EIO;
        }
    }
    dev->features = accepted;
    dev->state |= VIRTQ__D_FEATURES_OK;
    return VIRTQ_OK;
}

/* Queues are set up between FEATURES_OK and DRIVER_OK, or, with
   VIRTIO_F_RING_RESET, again after a queue reset on a running device. */
static int virtq__setup_allowed(const struct virtq_dev *dev)
{
    if (!(dev->state & VIRTQ__D_FEATURES_OK))
        return 0;
    return !(dev->state & VIRTQ__D_DRIVER_OK) ||
           (dev->features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET)) != 0u;
}

VIRTQ_API int virtq_dev_queue_setup(struct virtq_dev *dev, struct virtq *vq, uint16_t index,
                                    uint32_t num, void *mem, struct virtq_slot *slots)
{
    uint32_t max, align;
    uint64_t page = VIRTQ_VIRT_TO_DMA(mem) / VIRTQ__PAGE;
    int rc;
    if (!virtq__dev_ok(dev) || vq == NULL || num == 0u || !virtq__setup_allowed(dev))
        return VIRTQ_EINVAL;
    align = VIRTQ__LEGACY(dev) ? VIRTQ_ALIGN_LEGACY : VIRTQ_ALIGN_MODERN;
    /* Legacy QueuePFN is a 32-bit page number. */
    /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 bounds pointer values */
    if (VIRTQ__LEGACY(dev) && page != (uint32_t)page)
        return VIRTQ_EINVAL;
    rc = virtq__t_queue_max(dev, index, &max);
    if (rc != VIRTQ_OK)
        return rc;
    if (num > max)
        num = max;
    if (num > VIRTQ_MAX_SIZE)
        num = VIRTQ_MAX_SIZE;
    /* Split rings are a power of two; packed ones any size ("Structure
       Size and Alignment"), so they keep min(num, QueueNumMax). */
    while (!(dev->features & VIRTQ__RING_FEATURES) && !virtq__pow2(num))
        num &= num - 1u; /* round down to a power of two */
    rc = virtq_init(vq, num, align, mem, slots, dev->features);
    if (rc != VIRTQ_OK)
        return rc;
    vq->index = index;
    rc = virtq__t_queue_enable(dev, vq);
    if (rc != VIRTQ_OK) {
        /* The ready/enable write did not stick: the queue is unusable
           (every call on it fails with VIRTQ_EINVAL) and the device FAILED
           ("Device Initialization": an irrecoverable step) until a reset. */
        vq->flags = 0;
        vq->num_free = 0;
        virtq_dev_fail(dev);
    }
    return rc;
}

VIRTQ_API int virtq_dev_queue_reset(struct virtq_dev *dev, struct virtq *vq)
{
    if (!virtq__dev_ok(dev) || vq == NULL)
        return VIRTQ_EINVAL;
    if (!(dev->features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET)))
        return VIRTQ_ENOTSUP;
    return virtq__t_queue_reset(dev, vq);
}

VIRTQ_API int virtq_dev_driver_ok(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev) || !(dev->state & VIRTQ__D_FEATURES_OK))
        return VIRTQ_EINVAL;
    virtq__add_status(dev, VIRTIO_STATUS_DRIVER_OK);
    dev->state |= VIRTQ__D_DRIVER_OK;
    return virtq_dev_check(dev);
}

VIRTQ_API void virtq_dev_fail(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev))
        return;
    virtq__add_status(dev, VIRTIO_STATUS_FAILED);
    /* Only a reset (begin) starts over: no negotiation, queue setup or
       DRIVER_OK on a FAILED device. */
    dev->state &= (uint8_t)~(VIRTQ__D_BEGUN | VIRTQ__D_FEATURES_OK);
}

VIRTQ_API void virtq_dev_notify(struct virtq_dev *dev, const struct virtq *vq)
{
    if (!virtq__dev_ok(dev) || vq == NULL)
        return;
    virtq__t_notify(dev, vq);
    dev->notifies++;
}

VIRTQ_API int virtq_dev_kick(struct virtq_dev *dev, struct virtq *vq)
{
    bool notify;
    int rc = virtq_publish(vq, &notify);
    if (notify)
        virtq_dev_notify(dev, vq);
    return rc;
}

VIRTQ_API int virtq_dev_check(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev))
        return VIRTQ_EINVAL;
    if (!(dev->state & VIRTQ__D_BROKEN) &&
        (virtq__t_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
        dev->state |= VIRTQ__D_BROKEN;
    return (dev->state & VIRTQ__D_BROKEN) ? VIRTQ_EBROKEN : VIRTQ_OK;
}

VIRTQ_API uint32_t virtq_dev_isr(struct virtq_dev *dev)
{
    uint32_t st;
    if (!virtq__dev_ok(dev))
        return 0;
    st = virtq__t_isr(dev); /* acked even when ignored: drops the line */
    if (st == 0u || !(dev->state & VIRTQ__D_DRIVER_OK)) {
        /* Nothing (defined) pending (harmless: an interrupt controller may
           latch a line raised again while the handler ran), or before DRIVER_OK:
           untrusted, and a sign the board wired interrupts too early. */
        dev->spurious++;
        if (!(dev->state & VIRTQ__D_DRIVER_OK))
            dev->early++;
        return 0;
    }
    dev->irqs++;
    if (st & VIRTQ_ISR_CONFIG)
        (void)virtq_dev_check(dev); /* NEEDS_RESET comes as a config change */
    VIRTQ__BUMP(&dev->wake_seq);
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
    if (dev->wait == VIRTQ_WAIT_OS)
        VIRTQ_OS_WAKE(dev->os_ctx);
#endif
    return st;
}

/* Config reads: whole field(s) inside one stable ConfigGeneration
   ("Device Configuration Space").  Width 1 fills buf with len bytes; width
   2 or 4 fills it with one uint32_t per access, the register's value. */
static int virtq__cfg(struct virtq_dev *dev, uint32_t off, void *buf, uint32_t len, unsigned width)
{
    uint32_t tries, i, k;
    if (!virtq__dev_ok(dev) || buf == NULL || len == 0u || (off & (width - 1u)) != 0u ||
        off > virtq__t_cfg_len(dev) || len > virtq__t_cfg_len(dev) - off)
        return VIRTQ_EINVAL;
    for (tries = 0; tries < VIRTQ_CONFIG_RETRIES; tries++) {
        uint32_t gen = virtq__t_generation(dev);
        for (i = 0, k = 0; i < len; i += width, k++) {
            uint32_t v = virtq__t_cfg_read(dev, off + i, width);
            if (width == 1u)
                ((uint8_t *)buf)[k] = (uint8_t)v;
            else
                ((uint32_t *)buf)[k] = v;
        }
        if (virtq__t_generation(dev) == gen)
            return VIRTQ_OK;
    }
    return VIRTQ_EIO;
}

/* A field of size bytes into *out, which has that size (uint8_t ..
   uint64_t); 64-bit ones as two 32-bit reads, low word first, inside one
   generation.  *out is written only on VIRTQ_OK. */
static int virtq__cfg_uint(struct virtq_dev *dev, uint32_t off, unsigned size, void *out)
{
    uint32_t w[2]; /* filled on VIRTQ_OK (no initialiser: it may become memset) */
    unsigned width = size > 4u ? 4u : size;
    int rc = out == NULL ? VIRTQ_EINVAL : virtq__cfg(dev, off, w, size, width);
    if (rc != VIRTQ_OK)
        return rc;
    if (size == 1u)
        *(uint8_t *)out = *(const uint8_t *)w; /* stored as a byte */
    else if (size == 2u)
        *(uint16_t *)out = (uint16_t)w[0];
    else if (size == 4u)
        *(uint32_t *)out = w[0];
    else
        *(uint64_t *)out = (uint64_t)w[1] << 32 | w[0];
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_config_read8(struct virtq_dev *dev, uint32_t off, uint8_t *val)
{
    return virtq__cfg_uint(dev, off, 1, val);
}

VIRTQ_API int virtq_dev_config_read16(struct virtq_dev *dev, uint32_t off, uint16_t *val)
{
    return virtq__cfg_uint(dev, off, 2, val);
}

VIRTQ_API int virtq_dev_config_read32(struct virtq_dev *dev, uint32_t off, uint32_t *val)
{
    return virtq__cfg_uint(dev, off, 4, val);
}

VIRTQ_API int virtq_dev_config_read64(struct virtq_dev *dev, uint32_t off, uint64_t *val)
{
    return virtq__cfg_uint(dev, off, 8, val);
}

VIRTQ_API int virtq_dev_config_read_bytes(struct virtq_dev *dev, uint32_t off, void *buf,
                                          uint32_t len)
{
    return virtq__cfg(dev, off, buf, len, 1);
}

/* Config writes, each with the field's own width like the reads; a 64-bit
   field as two 32-bit writes, low word first. */
static int virtq__cfg_write(struct virtq_dev *dev, uint32_t off, uint64_t val, unsigned size)
{
    unsigned i, width = size > 4u ? 4u : size;
    if (!virtq__dev_ok(dev) || (off & (width - 1u)) != 0u || virtq__t_cfg_len(dev) < size ||
        off > virtq__t_cfg_len(dev) - size)
        return VIRTQ_EINVAL;
    for (i = 0; i < size; i += width) {
        virtq__t_cfg_write(dev, off + i, (uint32_t)val, width);
        val >>= 32; /* constant shift: no libgcc helper on 32-bit CPUs */
    }
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_config_write8(struct virtq_dev *dev, uint32_t off, uint8_t val)
{
    return virtq__cfg_write(dev, off, val, 1);
}

VIRTQ_API int virtq_dev_config_write16(struct virtq_dev *dev, uint32_t off, uint16_t val)
{
    return virtq__cfg_write(dev, off, val, 2);
}

VIRTQ_API int virtq_dev_config_write32(struct virtq_dev *dev, uint32_t off, uint32_t val)
{
    return virtq__cfg_write(dev, off, val, 4);
}

VIRTQ_API int virtq_dev_config_write64(struct virtq_dev *dev, uint32_t off, uint64_t val)
{
    return virtq__cfg_write(dev, off, val, 8);
}
