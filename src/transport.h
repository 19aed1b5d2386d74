/* SPDX-License-Identifier: MIT */
/* ---- transport.h: the transport seam ------------------------------------- */
/* The one interface between the device layer (device.h, wait.h) and a
   transport (transport_mmio.h, transport_pci.h).  Nothing above this file
   names a register.  Each transport provides, as virtq__<t>_<op>:

     status / set_status      the device status byte
     features / set_features  64-bit device / driver feature bits
     unsupported              features this transport cannot carry (mask)
     queue_max                select a queue, refuse a live one, its max size
     queue_enable             size + ring addresses + ready, on the selected queue
     queue_reset              VIRTIO_F_RING_RESET's reset of one queue
     notify                   an available buffer notification for a queue
     isr                      read and acknowledge the interrupt causes
     poll                     cheap look for a pending config change
     generation               configuration generation
     cfg_read / cfg_write     device configuration space, 1/2/4 bytes
     cfg_len                  bytes of device configuration space

   With one transport built in, each wrapper below is a direct call the
   compiler inlines: no dispatch at all.  With both, it is a branch on
   dev->transport (recorded by the probe), never a function pointer. */

#if VIRTQ__HAS_MMIO && VIRTQ__HAS_PCI
#define VIRTQ__T(dev, op, args)                                                   \
    ((dev)->transport == VIRTQ_TRANSPORT_PCI ? virtq__pci_##op args : virtq__mmio_##op args)
#elif VIRTQ__HAS_PCI
#define VIRTQ__T(dev, op, args) virtq__pci_##op args
#else
#define VIRTQ__T(dev, op, args) virtq__mmio_##op args
#endif

static inline uint32_t virtq__t_status(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, status, (dev));
}

static inline void virtq__t_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__T(dev, set_status, (dev, status));
}

static inline uint64_t virtq__t_features(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, features, (dev));
}

static inline void virtq__t_set_features(const struct virtq_dev *dev, uint64_t f)
{
    VIRTQ__T(dev, set_features, (dev, f));
}

static inline uint64_t virtq__t_unsupported(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, unsupported, (dev));
}

static inline int virtq__t_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    return VIRTQ__T(dev, queue_max, (dev, index, max));
}

static inline int virtq__t_queue_enable(struct virtq_dev *dev, struct virtq *vq)
{
    return VIRTQ__T(dev, queue_enable, (dev, vq));
}

static inline int virtq__t_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    return VIRTQ__T(dev, queue_reset, (dev, vq));
}

static inline void virtq__t_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    VIRTQ__T(dev, notify, (dev, vq));
}

static inline uint32_t virtq__t_isr(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, isr, (dev));
}

static inline int virtq__t_poll(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, poll, (dev));
}

static inline uint32_t virtq__t_generation(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, generation, (dev));
}

static inline uint32_t virtq__t_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    return VIRTQ__T(dev, cfg_read, (dev, off, width));
}

static inline void virtq__t_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                      unsigned width)
{
    VIRTQ__T(dev, cfg_write, (dev, off, v, width));
}

static inline uint32_t virtq__t_cfg_len(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, cfg_len, (dev));
}
