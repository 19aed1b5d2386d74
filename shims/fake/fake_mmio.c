/* SPDX-License-Identifier: MIT */
/* fake_mmio.c — the virtio-mmio front end ("MMIO Device Register Layout"). */
#define _GNU_SOURCE
#include "fake_internal.h"

static const char *reg_name(uint32_t off)
{
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return "MagicValue";
    case VIRTIO_MMIO_VERSION: return "Version";
    case VIRTIO_MMIO_DEVICE_ID: return "DeviceID";
    case VIRTIO_MMIO_VENDOR_ID: return "VendorID";
    case VIRTIO_MMIO_DEVICE_FEATURES: return "DeviceFeatures";
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: return "DeviceFeaturesSel";
    case VIRTIO_MMIO_DRIVER_FEATURES: return "DriverFeatures";
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: return "DriverFeaturesSel";
    case VIRTIO_MMIO_GUEST_PAGE_SIZE: return "GuestPageSize";
    case VIRTIO_MMIO_QUEUE_SEL: return "QueueSel";
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return "QueueNumMax";
    case VIRTIO_MMIO_QUEUE_NUM: return "QueueNum";
    case VIRTIO_MMIO_QUEUE_ALIGN: return "QueueAlign";
    case VIRTIO_MMIO_QUEUE_PFN: return "QueuePFN";
    case VIRTIO_MMIO_QUEUE_READY: return "QueueReady";
    case VIRTIO_MMIO_QUEUE_NOTIFY: return "QueueNotify";
    case VIRTIO_MMIO_INTERRUPT_STATUS: return "InterruptStatus";
    case VIRTIO_MMIO_INTERRUPT_ACK: return "InterruptACK";
    case VIRTIO_MMIO_STATUS: return "Status";
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return "QueueDescLow";
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return "QueueDescHigh";
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return "QueueDriverLow";
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return "QueueDriverHigh";
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return "QueueDeviceLow";
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return "QueueDeviceHigh";
    case VIRTIO_MMIO_CONFIG_GENERATION: return "ConfigGeneration";
    default: return NULL;
    }
}

/* ---- register access ("MMIO Device Register Layout") ----------------------------------------------------------------- */

static struct fake_queue *sel_queue(struct virtq_fake_dev *d)
{
    return d->queue_sel < (uint32_t)d->nq ? &d->q[d->queue_sel] : NULL;
}

/* A register the other interface version has. */
static int wrong_layout(struct virtq_fake_dev *d, uint32_t off, int legacy_reg)
{
    if ((d->version == 1) == legacy_reg)
        return 0;
    fk_vio(d, -1, legacy_reg ? S_LEGACY : S_REGS, "%s is a %s register; this is a %s device", reg_name(off),
        legacy_reg ? "legacy-only" : "modern-only", d->version == 1 ? "legacy (version 1)" : "modern (version 2)");
    return 1;
}

/* Queue registers may be written only while setting queues up. */
static void setup_window(struct virtq_fake_dev *d, const char *what)
{
    uint32_t need = d->version == 2 ? ST_FEATURES_OK : ST_DRIVER;
    if ((d->status & need) && !(d->status & ST_DRIVER_OK))
        return;
    fk_vio(d, (int)d->queue_sel, S_INIT, "%s written outside virtqueue setup (status %#x): after %s and before DRIVER_OK",
        what, d->status, d->version == 2 ? "FEATURES_OK" : "DRIVER");
}

static struct fake_queue *queue_for_write(struct virtq_fake_dev *d, uint32_t off)
{
    struct fake_queue *q = sel_queue(d);
    if (q == NULL)
        fk_vio(d, -1, S_VQCFG, "%s written for queue %u, which does not exist (QueueNumMax reads 0)", reg_name(off),
            d->queue_sel);
    return q;
}

/* ---- control registers ---- */

static uint32_t reg_read32(struct virtq_fake_dev *d, uint32_t off)
{
    struct fake_queue *q = sel_queue(d);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return (uint32_t)d->version;
    case VIRTIO_MMIO_DEVICE_ID: return d->device_id;
    case VIRTIO_MMIO_VENDOR_ID: return d->vendor_id;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        d->st.feature_reads++;
        if (!d->dev_sel_written)
            fk_vio(d, -1, S_REGS, "DeviceFeatures read before any write to DeviceFeaturesSel");
        else if (!d->dev_sel_fresh)
            d->st.stale_feature_reads++;
        d->dev_sel_fresh = 0;
        if (d->dev_sel == 0)
            return (uint32_t)d->offered;
        if (d->dev_sel == 1 && d->version == 2)
            return (uint32_t)(d->offered >> 32);
        return 0; /* legacy devices (like QEMU's) show only bits 0-31 */
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        if (q == NULL)
            return 0;
        if (d->version == 1 && q->pfn != 0)
            fk_vio(d, (int)d->queue_sel, S_LEGACY, "QueueNumMax read while QueuePFN is set (the queue is in use)");
        return q->num_max;
    case VIRTIO_MMIO_QUEUE_READY:
        if (wrong_layout(d, off, 0))
            return 0;
        return q ? q->ready : 0;
    case VIRTIO_MMIO_QUEUE_PFN:
        if (wrong_layout(d, off, 1))
            return 0;
        return q ? q->pfn : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->isr;
    case VIRTIO_MMIO_STATUS:
        d->fo_unchecked = 0;
        return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        if (wrong_layout(d, off, 0))
            return 0;
        d->st.generation_reads++;
        return d->generation;
    default:
        if (reg_name(off) != NULL)
            fk_vio(d, -1, S_REGS, "read of write-only register %s", reg_name(off));
        else
            fk_vio(d, -1, S_REGS, "read at offset %#x, which the register layout does not describe", off);
        return 0;
    }
}

static void queue_addr_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    struct fake_queue *q;
    uint64_t *a;
    if (wrong_layout(d, off, 0) || (q = queue_for_write(d, off)) == NULL)
        return;
    setup_window(d, reg_name(off));
    if (q->ready) {
        fk_vio(d, (int)d->queue_sel, S_REGS, "%s written while QueueReady is 1", reg_name(off));
        return;
    }
    a = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW ? &q->desc_addr
        : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->driver_addr : &q->device_addr;
    if (off & 4u)
        *a = (*a & 0xffffffffull) | ((uint64_t)val << 32);
    else
        *a = (*a & ~0xffffffffull) | val;
}


static void guest_page_size_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    if (wrong_layout(d, off, 1))
        return;
    if (!fk_is_pow2(val))
        fk_vio(d, -1, S_LEGACY, "GuestPageSize %u is not a power of 2", val);
    else
        d->page_size = val;
}

static void queue_num_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    int qi = (int)d->queue_sel;
    struct fake_queue *q = queue_for_write(d, off);
    if (q == NULL)
        return;
    setup_window(d, "QueueNum");
    if (q->ready)
        fk_vio(d, qi, d->version == 1 ? S_LEGACY : S_REGS, "QueueNum written while the queue is enabled");
    else if (val > q->num_max)
        fk_vio(d, qi, S_REGS, "QueueNum %u exceeds QueueNumMax %u", val, q->num_max);
    else if (!fk_is_pow2(val) && !fk_has_feat(d, VIRTIO_F_RING_PACKED))
        fk_vio(d, qi, S_SPLIT, "QueueNum %u: a split queue's size is a power of 2", val);
    else
        q->num = (uint16_t)val;
}

static void queue_align_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    struct fake_queue *q;
    if (wrong_layout(d, off, 1) || (q = queue_for_write(d, off)) == NULL)
        return;
    setup_window(d, "QueueAlign");
    if (!fk_is_pow2(val) || val < 4u)
        fk_vio(d, (int)d->queue_sel, S_LEGACY, "QueueAlign %u is not a power of 2 (>= 4)", val);
    else
        q->align = val;
}

static void queue_pfn_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    int qi = (int)d->queue_sel;
    uint64_t desc, avail, used;
    struct fake_queue *q;
    if (wrong_layout(d, off, 1) || (q = queue_for_write(d, off)) == NULL)
        return;
    if (val == 0) { /* the driver stops using the queue */
        fk_queue_teardown(q, 0);
        q->pfn = 0;
        return;
    }
    setup_window(d, "QueuePFN");
    if (q->ready) {
        fk_vio(d, qi, S_LEGACY, "QueuePFN written while the queue is in use (write 0 first)");
        return;
    }
    if (d->page_size == 0) {
        fk_vio(d, qi, S_LEGACY, "QueuePFN written before GuestPageSize");
        return;
    }
    desc = (uint64_t)val * d->page_size;
    avail = desc + 16u * (uint64_t)q->num;
    used = (avail + 6u + 2u * (uint64_t)q->num + q->align - 1u) & ~((uint64_t)q->align - 1u);
    if (fk_queue_activate(d, qi, desc, avail, used) == 0)
        q->pfn = val;
}

static void queue_ready_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    int qi = (int)d->queue_sel;
    struct fake_queue *q;
    if (wrong_layout(d, off, 0) || (q = queue_for_write(d, off)) == NULL)
        return;
    if (val == 0) {
        fk_queue_teardown(q, 0);
        return;
    }
    setup_window(d, "QueueReady");
    if (val != 1)
        fk_vio(d, qi, S_REGS, "QueueReady written with %u (0 or 1)", val);
    else if (!q->ready)
        (void)fk_queue_activate(d, qi, q->desc_addr, q->driver_addr, q->device_addr);
}

static void reg_write32(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        d->dev_sel = val;
        d->dev_sel_written = d->dev_sel_fresh = 1;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        d->drv_sel = val;
        d->drv_sel_written = 1;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES: fk_driver_features_write(d, val); return;
    case VIRTIO_MMIO_GUEST_PAGE_SIZE: guest_page_size_write(d, off, val); return;
    case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = val; return;
    case VIRTIO_MMIO_QUEUE_NUM: queue_num_write(d, off, val); return;
    case VIRTIO_MMIO_QUEUE_ALIGN: queue_align_write(d, off, val); return;
    case VIRTIO_MMIO_QUEUE_PFN: queue_pfn_write(d, off, val); return;
    case VIRTIO_MMIO_QUEUE_READY: queue_ready_write(d, off, val); return;
    case VIRTIO_MMIO_QUEUE_NOTIFY: fk_notify(d, val); return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        if (val & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
            fk_vio(d, -1, S_REGS, "InterruptACK %#x sets undefined bits", val);
        d->isr &= ~val;
        return;
    case VIRTIO_MMIO_STATUS: fk_status_write(d, val); return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: queue_addr_write(d, off, val); return;
    default:
        if (reg_name(off) != NULL)
            fk_vio(d, -1, S_REGS, "write to read-only register %s", reg_name(off));
        else
            fk_vio(d, -1, S_REGS, "write at offset %#x, which the register layout does not describe", off);
        return;
    }
}

static uint32_t width_mask(int width)
{
    return width >= 4 ? 0xffffffffu : ((1u << (8 * width)) - 1u);
}

static int bad_width(int width)
{
    return width != 1 && width != 2 && width != 4;
}

uint32_t virtq_fake_mmio_read(uintptr_t addr, int width)
{
    struct virtq_fake_dev *d;
    uint32_t off, v;
    virtq_fake__cpu_boundary();
    if (fk_pci_read(addr, width, &v))
        return v;
    d = bad_width(width) ? NULL : fk_lookup(addr);
    if (d == NULL) {
        virtq_fake__violation_now("%d-bit MMIO read at %#lx: %s", width * 8, (unsigned long)addr,
                                  bad_width(width) ? "no such access width" : "no fake device there");
        return 0;
    }
    off = (uint32_t)(addr - d->base);
    fk_dev_lock(d);
    if (off >= VIRTIO_MMIO_CONFIG) {
        v = fk_cfg_read(d, off - VIRTIO_MMIO_CONFIG, width);
    } else {
        if (width != 4 || (off & 3u))
            fk_vio(d, -1, S_REGS, "%d-bit read at offset %#x: control registers take aligned 32-bit accesses only",
                width * 8, off);
        v = (reg_read32(d, off & ~3u) >> (8u * (off & 3u))) & width_mask(width);
    }
    fk_dev_unlock(d);
    return v;
}

void virtq_fake_mmio_write(uintptr_t addr, uint32_t val, int width)
{
    struct virtq_fake_dev *d;
    uint32_t off;
    virtq_fake__cpu_boundary();
    if (fk_pci_write(addr, val, width))
        return;
    d = bad_width(width) ? NULL : fk_lookup(addr);
    if (d == NULL) {
        virtq_fake__violation_now("%d-bit MMIO write of %#x at %#lx: %s", width * 8, val, (unsigned long)addr,
                                  bad_width(width) ? "no such access width" : "no fake device there");
        return;
    }
    off = (uint32_t)(addr - d->base);
    val &= width_mask(width);
    fk_dev_lock(d);
    if (off >= VIRTIO_MMIO_CONFIG) {
        fk_cfg_write(d, off - VIRTIO_MMIO_CONFIG, val, width);
    } else {
        if (width != 4 || (off & 3u))
            fk_vio(d, -1, S_REGS, "%d-bit write at offset %#x: control registers take aligned 32-bit accesses only",
                width * 8, off);
        else
            reg_write32(d, off, val);
    }
    fk_dev_unlock(d);
}
