/* SPDX-License-Identifier: MIT */
/* ---- mmio_scan.h: find virtio-mmio devices in a window of slots --------- */
/* virtio-mmio has no enumeration: a platform places slots at a base with a
   stride (QEMU virt riscv64: 8 at 0x10001000, stride 0x1000; aarch64: 32
   at 0x0a000000, stride 0x200) and the device tree lists them.  These
   helpers probe such a window slot by slot (magic, version, device id,
   touching no status), so a driver need not know which slot a device
   landed in: on QEMU virt the first -device takes the LAST slot.  Built
   whatever VIRTQ_TRANSPORTS says; without MMIO they answer VIRTQ_ENOTSUP. */

VIRTQ_API int virtq_mmio_scan(uintptr_t base, uintptr_t stride, unsigned count,
                              struct virtq_mmio_slot *found, unsigned max)
{
    struct virtq_dev probe;
    unsigned i, n = 0;
    if (stride == 0u || (found == NULL && max != 0u))
        return VIRTQ_EINVAL;
    if (!VIRTQ__HAS_MMIO)
        return VIRTQ_ENOTSUP;
    for (i = 0; i < count && n < max; i++) {
        uintptr_t a = base + (uintptr_t)i * stride;
        if (virtq_mmio_probe(&probe, a) != VIRTQ_OK)
            continue; /* no device, an empty slot, or a version virtq lacks */
        found[n].base = a;
        found[n].slot = i;
        found[n].device_id = probe.device_id;
        found[n].version = probe.version;
        n++;
    }
    return (int)n;
}

VIRTQ_API int virtq_mmio_find(struct virtq_dev *dev, uintptr_t base, uintptr_t stride,
                              unsigned count, uint32_t device_id, unsigned nth)
{
    unsigned i;
    if (dev == NULL || stride == 0u || device_id == 0u)
        return VIRTQ_EINVAL;
    if (!VIRTQ__HAS_MMIO)
        return VIRTQ_ENOTSUP;
    /* Slot order, lowest address first; nth counts matching devices. */
    for (i = 0; i < count; i++) {
        if (virtq_mmio_probe(dev, base + (uintptr_t)i * stride) != VIRTQ_OK ||
            dev->device_id != device_id)
            continue;
        if (nth-- == 0u)
            return VIRTQ_OK;
    }
    dev->state = 0; /* a probe that matched another id leaves nothing usable */
    return VIRTQ_ENODEV;
}
