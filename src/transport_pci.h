/* SPDX-License-Identifier: MIT */
/* ---- transport_pci.h: virtio-pci modern ("Virtio Over PCI Bus") ---------- */
/* The transport interface (transport.h) over the four structures a modern
   virtio-pci function maps through its BARs, found by walking the PCI
   capability list.  Everything read from configuration space is untrusted:
   a bad value gives an error and a reason in dev->why, never an access
   outside the structure the device declared. */
#if VIRTQ__HAS_PCI

/* PCI configuration space.  cfg is an opaque handle for one function; the
   default treats it as the function's ECAM address (PCIe "Enhanced
   Configuration Access Mechanism").  Port I/O or a firmware's own PCI
   layer replaces any of these. */
#ifndef VIRTQ_PCI_CFG_READ8
#define VIRTQ_PCI_CFG_READ8(cfg, off) VIRTQ_MMIO_READ8((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_READ16
#define VIRTQ_PCI_CFG_READ16(cfg, off) VIRTQ_MMIO_READ16((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_READ32
#define VIRTQ_PCI_CFG_READ32(cfg, off) VIRTQ_MMIO_READ32((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_WRITE16
#define VIRTQ_PCI_CFG_WRITE16(cfg, off, v) VIRTQ_MMIO_WRITE16((cfg) + (off), (v))
#endif
#ifndef VIRTQ_PCI_CFG_WRITE32
#define VIRTQ_PCI_CFG_WRITE32(cfg, off, v) VIRTQ_MMIO_WRITE32((cfg) + (off), (v))
#endif
/* A BAR holds a PCI bus address; where the CPU sees it (identity on QEMU
   virt).  Return 0 if the CPU cannot reach it. */
#ifndef VIRTQ_PCI_BAR_TO_CPU
#define VIRTQ_PCI_BAR_TO_CPU(bus_addr)                                                   \
    ((uint64_t)(bus_addr) > (uint64_t)UINTPTR_MAX ? (uintptr_t)0 : (uintptr_t)(bus_addr))
#endif

/* Type-0 configuration header (PCI Local Bus, "Configuration Space"). */
#define VIRTQ__PCI_VENDOR 0x00
#define VIRTQ__PCI_DEVICE 0x02
#define VIRTQ__PCI_COMMAND 0x04
#define VIRTQ__PCI_STATUS 0x06
#define VIRTQ__PCI_HEADER_TYPE 0x0e
#define VIRTQ__PCI_BAR0 0x10
#define VIRTQ__PCI_SUBSYS_ID 0x2e
#define VIRTQ__PCI_CAP_PTR 0x34
#define VIRTQ__PCI_CMD_MEM 0x2u
#define VIRTQ__PCI_CMD_MASTER 0x4u
#define VIRTQ__PCI_STATUS_CAPS 0x10u
#define VIRTQ__PCI_CAP_ID_VNDR 0x09

#define VIRTQ__C(dev) ((dev)->base) /* the common configuration */

/* ---- configuration-space helpers ---- */

/* Why a capability cannot be used: an index into virtq__pci_why[type]. */
enum {
    VIRTQ__PCI_MISSING,
    VIRTQ__PCI_CAP_LEN,
    VIRTQ__PCI_LENGTH,
    VIRTQ__PCI_BAR_IO,
    VIRTQ__PCI_BAR_64_5,
    VIRTQ__PCI_BAR_UNSET,
    VIRTQ__PCI_BAR_OVER,
    VIRTQ__PCI_BAR_CPU,
    VIRTQ__PCI_MULT,
    VIRTQ__PCI_OK
};
#define VIRTQ__PCI_WHYS(cap)                                                               \
    {                                                                                      \
        cap ": missing", cap ": cap_len shorter than its structure",                       \
            cap ": length shorter than its structure", cap ": bar is an I/O BAR",          \
            cap ": bar is a 64-bit BAR 5 (no upper half)",                                 \
            cap ": bar not implemented or not assigned",                                   \
            cap ": offset + length beyond the BAR's size",                                 \
            cap ": BAR address not reachable by the CPU",                                  \
            cap ": notify_off_multiplier neither 0 nor an even power of 2"                 \
    }
/* Size and place BAR i: *addr its bus address, *size its size (0: not
   implemented), *is64 when it spans BARs i and i+1.  Memory decode is
   off around the all-ones write, as sizing requires.  VIRTQ__PCI_OK, or
   why the BAR cannot hold a structure (virtq maps memory BARs only). */
static int virtq__pci_bar(uintptr_t cfg, unsigned i, uint64_t *addr, uint64_t *size,
                                  int *is64)
{
    uint32_t off = VIRTQ__PCI_BAR0 + 4u * i, lo, hi = 0, slo, shi = 0xffffffffu;
    uint16_t cmd = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND);
    lo = VIRTQ_PCI_CFG_READ32(cfg, off);
    *is64 = 0;
    *size = 0;
    *addr = 0;
    if (lo & 1u)
        return VIRTQ__PCI_BAR_IO;
    *is64 = ((lo >> 1) & 3u) == 2u;
    if (*is64 && i == 5u)
        return VIRTQ__PCI_BAR_64_5;
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd & ~VIRTQ__PCI_CMD_MEM);
    VIRTQ_PCI_CFG_WRITE32(cfg, off, 0xffffffffu);
    slo = VIRTQ_PCI_CFG_READ32(cfg, off);
    VIRTQ_PCI_CFG_WRITE32(cfg, off, lo);
    if (*is64) {
        hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, 0xffffffffu);
        shi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, hi);
    }
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd);
    {
        uint64_t mask = ((uint64_t)(*is64 ? shi : 0xffffffffu) << 32) | (slo & ~0xfu);
        *size = (slo & ~0xfu) == 0u && !*is64 ? 0u : (~mask + 1u);
        if (!*is64)
            *size &= 0xffffffffu;
    }
    *addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
    return VIRTQ__PCI_OK;
}

/* ---- the capability walk ("Virtio Structure PCI Capabilities") ---- */

static const char *const virtq__pci_why[5][VIRTQ__PCI_OK] = {
    VIRTQ__PCI_WHYS(""), VIRTQ__PCI_WHYS("common cfg cap"), VIRTQ__PCI_WHYS("notify cap"),
    VIRTQ__PCI_WHYS("isr cap"), VIRTQ__PCI_WHYS("device cfg cap")};

struct virtq__pci_found {
    uintptr_t addr[5]; /* by cfg_type 1..4: CPU address of the structure */
    uint32_t len[5];   /* its length */
    uint32_t mult;     /* notify_off_multiplier */
    uint8_t why[5];    /* VIRTQ__PCI_*: why the first one of a type was refused */
    uint8_t any;       /* saw at least one virtio capability */
};

/* Smallest length each structure must have. */
static uint32_t virtq__pci_min_len(unsigned type)
{
    return type == VIRTIO_PCI_CAP_COMMON_CFG ? VIRTIO_PCI_COMMON_SIZE
           : type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 2u
                                                : 1u;
}

/* Check one virtio capability at pos of a type the driver uses:
   VIRTQ__PCI_OK and the structure recorded in f, or why it is unusable. */
static int virtq__pci_cap(uintptr_t cfg, uint8_t pos, unsigned type, struct virtq__pci_found *f)
{
    uint8_t cap_len = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_LEN);
    unsigned bar = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_BAR);
    uint32_t need = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_SIZE
                                                      : VIRTIO_PCI_CAP_SIZE;
    uint32_t offset, length;
    uint64_t base, size;
    uintptr_t cpu;
    int is64, why;
    /* 1. the capability itself: long enough, inside configuration space
       (a longer cap_len is accepted) */
    if (cap_len < need || (uint32_t)pos + need > 0x100u)
        return VIRTQ__PCI_CAP_LEN;
    offset = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_CAP_OFFSET);
    length = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_CAP_LENGTH);
    if (length < virtq__pci_min_len(type))
        return VIRTQ__PCI_LENGTH;
    /* 2. the BAR: memory, assigned, and holding offset + length */
    why = virtq__pci_bar(cfg, bar, &base, &size, &is64);
    if (why != VIRTQ__PCI_OK)
        return why;
    if (size == 0u || base == 0u)
        return VIRTQ__PCI_BAR_UNSET;
    if ((uint64_t)offset + length > size)
        return VIRTQ__PCI_BAR_OVER;
    cpu = VIRTQ_PCI_BAR_TO_CPU(base + offset);
    if (cpu == 0u)
        return VIRTQ__PCI_BAR_CPU;
    /* 3. notify_off_multiplier: 0 (one address for all) or a power of 2
       of at least 2 (the per-queue offset is checked at queue setup) */
    if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
        uint32_t m = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_NOTIFY_CAP_MULT);
        if (m == 1u || (m & (m - 1u)) != 0u)
            return VIRTQ__PCI_MULT;
        f->mult = m;
    }
    f->addr[type] = cpu;
    f->len[type] = length;
    return VIRTQ__PCI_OK;
}

/* Walk the list: first usable capability of each type wins; a reserved
   bar or cfg_type is ignored ("The driver MUST ignore ...").  A list that
   loops or points outside 0x40..0xff is refused outright. */
static const char *virtq__pci_walk(uintptr_t cfg, struct virtq__pci_found *f)
{
    uint32_t seen_lo = 0, seen_hi = 0; /* dwords visited (no 64-bit shifts on rv32) */
    uint8_t pos = (uint8_t)(VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_CAP_PTR) & 0xfcu);
    while (pos != 0u) {
        unsigned type, bar;
        if (pos < 0x40u)
            return "capability list: next pointer outside 0x40..0xff";
        {
            uint32_t *seen = pos >= 0x80u ? &seen_hi : &seen_lo, bit = 1u << ((pos >> 2) & 31u);
            if (*seen & bit)
                return "capability list: loop";
            *seen |= bit;
        }
        /* A virtio capability needs 16 bytes: one closer to the end of
           configuration space cannot be one (its fields are not read). */
        if (VIRTQ_PCI_CFG_READ8(cfg, pos) == VIRTQ__PCI_CAP_ID_VNDR &&
            pos <= 0x100u - VIRTIO_PCI_CAP_SIZE) {
            type = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_CFG_TYPE);
            bar = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_BAR);
            if (type >= VIRTIO_PCI_CAP_COMMON_CFG && type <= VIRTIO_PCI_CAP_DEVICE_CFG &&
                bar <= 5u) {
                f->any = 1;
                if (f->addr[type] == 0u) {
                    int why = virtq__pci_cap(cfg, pos, type, f);
                    if (why != VIRTQ__PCI_OK && f->why[type] == VIRTQ__PCI_MISSING)
                        f->why[type] = (uint8_t)why;
                }
            }
        }
        pos = (uint8_t)(VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_NEXT) & 0xfcu);
    }
    return NULL;
}

/* ---- probe ---- */

/* Device type from the PCI ids ("PCI Device Discovery"), 0 if none. */
static uint32_t virtq__pci_type(uintptr_t cfg)
{
    uint16_t id = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_DEVICE);
    if (VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_VENDOR) != VIRTIO_PCI_VENDOR_ID)
        return 0;
    if (id >= VIRTIO_PCI_DEVICE_ID_MODERN && id <= VIRTIO_PCI_DEVICE_ID_MODERN + 0x3fu)
        return id - VIRTIO_PCI_DEVICE_ID_MODERN;
    if (id >= VIRTIO_PCI_DEVICE_ID_TRANS_LO && id <= VIRTIO_PCI_DEVICE_ID_TRANS_HI)
        return VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_SUBSYS_ID);
    return 0;
}

/* Fail the probe with a reason: nothing else in dev was touched. */
static int virtq__pci_refuse(struct virtq_dev *dev, int err, const char *why)
{
    dev->why = why;
    dev->state = 0; /* unprobed: every other call refuses it */
    return err;
}

/* Every required structure found (common, notify, ISR; the device
   configuration is optional: not every device type has one)? */
static int virtq__pci_check_found(struct virtq_dev *dev, const struct virtq__pci_found *f)
{
    unsigned t;
    if (!f->any)
        return virtq__pci_refuse(dev, VIRTQ_ENOTSUP,
                                 "legacy-only device: no virtio capabilities");
    for (t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_ISR_CFG; t++)
        if (f->addr[t] == 0u)
            return virtq__pci_refuse(dev, VIRTQ_EIO, virtq__pci_why[t][f->why[t]]);
    return VIRTQ_OK;
}

VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg)
{
    struct virtq__pci_found f;
    uint32_t type;
    unsigned t;
    int rc;
    if (dev == NULL || cfg == 0u)
        return VIRTQ_EINVAL;
    dev->why = NULL;
    /* 1. identity */
    type = virtq__pci_type(cfg);
    if (type == 0u)
        return virtq__pci_refuse(dev, VIRTQ_ENODEV, "not a virtio-pci function (ids)");
    if ((VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_HEADER_TYPE) & 0x7fu) != 0u)
        return virtq__pci_refuse(dev, VIRTQ_ENODEV, "not a type-0 header");
    if (!(VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_STATUS) & VIRTQ__PCI_STATUS_CAPS))
        return virtq__pci_refuse(dev, VIRTQ_ENOTSUP,
                                 "legacy-only device: no capability list");
    /* 2. the capabilities */
    for (t = 0; t < 5u; t++) {
        f.addr[t] = 0;
        f.len[t] = 0;
        f.why[t] = VIRTQ__PCI_MISSING;
    }
    f.mult = 0;
    f.any = 0;
    {
        const char *why = virtq__pci_walk(cfg, &f);
        if (why != NULL)
            return virtq__pci_refuse(dev, VIRTQ_EIO, why);
    }
    rc = virtq__pci_check_found(dev, &f);
    if (rc != VIRTQ_OK)
        return rc;
    /* 3. decode and DMA on; then the device, field by field */
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND,
                          VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND) | VIRTQ__PCI_CMD_MEM |
                              VIRTQ__PCI_CMD_MASTER);
    dev->base = f.addr[VIRTIO_PCI_CAP_COMMON_CFG];
    dev->common_len = f.len[VIRTIO_PCI_CAP_COMMON_CFG];
    dev->notify_base = f.addr[VIRTIO_PCI_CAP_NOTIFY_CFG];
    dev->notify_len = f.len[VIRTIO_PCI_CAP_NOTIFY_CFG];
    dev->notify_mult = f.mult;
    dev->isr = f.addr[VIRTIO_PCI_CAP_ISR_CFG];
    dev->device_cfg = f.addr[VIRTIO_PCI_CAP_DEVICE_CFG];
    dev->device_cfg_len = f.len[VIRTIO_PCI_CAP_DEVICE_CFG] > 0x1000u
                              ? 0x1000u
                              : f.len[VIRTIO_PCI_CAP_DEVICE_CFG];
    dev->pci_cfg = cfg;
    dev->transport = VIRTQ_TRANSPORT_PCI;
    dev->version = 2; /* modern: VERSION_1 and FEATURES_OK are required */
    dev->device_id = type;
    dev->vendor_id = VIRTIO_PCI_VENDOR_ID;
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

/* ---- the transport interface (see transport.h) ---- */

#define VIRTQ__PCI_R8(dev, off) VIRTQ_MMIO_READ8(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_R16(dev, off) VIRTQ_MMIO_READ16(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_R32(dev, off) VIRTQ_MMIO_READ32(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_W8(dev, off, v) VIRTQ_MMIO_WRITE8(VIRTQ__C(dev) + (off), (uint8_t)(v))
#define VIRTQ__PCI_W16(dev, off, v) VIRTQ_MMIO_WRITE16(VIRTQ__C(dev) + (off), (uint16_t)(v))
#define VIRTQ__PCI_W32(dev, off, v) VIRTQ_MMIO_WRITE32(VIRTQ__C(dev) + (off), (uint32_t)(v))

static uint32_t virtq__pci_status(const struct virtq_dev *dev)
{
    return VIRTQ__PCI_R8(dev, VIRTIO_PCI_COMMON_STATUS);
}

static void virtq__pci_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__PCI_W8(dev, VIRTIO_PCI_COMMON_STATUS, status);
}

static uint64_t virtq__pci_features(const struct virtq_dev *dev)
{
    uint64_t f;
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = VIRTQ__PCI_R32(dev, VIRTIO_PCI_COMMON_DF);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_DFSELECT, 1);
    f |= (uint64_t)VIRTQ__PCI_R32(dev, VIRTIO_PCI_COMMON_DF) << 32;
    return f;
}

static void virtq__pci_set_features(const struct virtq_dev *dev, uint64_t f)
{
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GFSELECT, 0);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GF, (uint32_t)f);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GFSELECT, 1);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32));
}

/* queue_reset exists only in a common configuration long enough to hold
   it; without it RING_RESET cannot be driven. */
static uint64_t virtq__pci_unsupported(const struct virtq_dev *dev)
{
    return dev->common_len < VIRTIO_PCI_COMMON_SIZE_RESET ? VIRTQ_FEATURE(VIRTIO_F_RING_RESET)
                                                           : 0u;
}

static int virtq__pci_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    if (index >= VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_NUMQ))
        return VIRTQ_ENODEV;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SELECT, index);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) != 0u)
        return VIRTQ_EBUSY;
    *max = VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_SIZE);
    return *max == 0u ? VIRTQ_ENODEV : VIRTQ_OK;
}

/* Bytes one notification writes: the queue index, or with
   NOTIFICATION_DATA the 32-bit value ("Available Buffer Notifications"). */
static uint32_t virtq__pci_notify_width(const struct virtq_dev *dev)
{
    return (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)) ? 4u : 2u;
}

/* The queue's notification address, "cap.offset + queue_notify_off *
   notify_off_multiplier", checked to lie, aligned, inside the structure. */
static int virtq__pci_notify_addr(struct virtq_dev *dev, struct virtq *vq)
{
    uint64_t off = (uint64_t)VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_NOFF) * dev->notify_mult;
    uint32_t width = virtq__pci_notify_width(dev);
    if (off + width > dev->notify_len) {
        dev->why = "notify cap: queue_notify_off * notify_off_multiplier beyond its length";
        return VIRTQ_EIO;
    }
    if ((dev->notify_base + (uintptr_t)off) & (width - 1u)) {
        dev->why = "notify cap: queue notify address unaligned";
        return VIRTQ_EIO;
    }
    vq->notify = dev->notify_base + (uintptr_t)off;
    return VIRTQ_OK;
}

/* On the selected queue: size (read back), ring addresses, notification
   address, then queue_enable, written once and last ("Virtqueue
   Configuration": the other fields before enabling). */
static int virtq__pci_queue_enable(struct virtq_dev *dev, struct virtq *vq)
{
    uint64_t desc = VIRTQ_VIRT_TO_DMA(vq->desc), avail = VIRTQ_VIRT_TO_DMA(vq->avail),
             used = VIRTQ_VIRT_TO_DMA(vq->used);
    int rc;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SIZE, vq->num);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_SIZE) != vq->num) {
        dev->why = "common cfg: queue_size did not read back as written";
        return VIRTQ_EIO;
    }
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(desc >> 32));
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(avail >> 32));
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(used >> 32));
    rc = virtq__pci_notify_addr(dev, vq);
    if (rc != VIRTQ_OK)
        return rc;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) != 1u) {
        dev->why = "common cfg: queue_enable did not read back as 1";
        return VIRTQ_EIO;
    }
    return VIRTQ_OK;
}

/* VIRTIO_F_RING_RESET: write 1 to queue_reset, then the reset is done
   only once it reads back 0 (with queue_enable 0). */
static int virtq__pci_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    uint32_t i;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SELECT, vq->index);
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_RESET, 1);
    for (i = 0; i < VIRTQ_RESET_POLLS; i++) {
        if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_RESET) == 0u)
            return VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) == 0u ? VIRTQ_OK : VIRTQ_EIO;
        VIRTQ_CPU_RELAX();
    }
    return VIRTQ_ETIMEDOUT;
}

static void virtq__pci_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    /* Ordered after the avail.idx store by the MMIO write shim. */
    if (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA))
        VIRTQ_MMIO_WRITE32(vq->notify, virtq__notify_data(vq));
    else
        VIRTQ_MMIO_WRITE16(vq->notify, vq->index);
}

/* Reading the ISR status is the acknowledgement ("ISR status
   capability"); undefined bits are ignored.  0: not this device's
   interrupt (INTx lines are shared). */
static uint32_t virtq__pci_isr(const struct virtq_dev *dev)
{
    return VIRTQ_MMIO_READ8(dev->isr) & (VIRTQ_ISR_QUEUE | VIRTQ_ISR_CONFIG);
}

/* While spinning: the ISR cannot be peeked (reading acknowledges), so look
   at device_status itself. */
static int virtq__pci_poll(const struct virtq_dev *dev)
{
    return (virtq__pci_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) != 0u;
}

static uint32_t virtq__pci_generation(const struct virtq_dev *dev)
{
    return VIRTQ__PCI_R8(dev, VIRTIO_PCI_COMMON_CFGGENERATION);
}

static uint32_t virtq__pci_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    uintptr_t a = dev->device_cfg + off;
    if (width == 1u)
        return VIRTQ_MMIO_READ8(a);
    if (width == 2u)
        return VIRTQ_MMIO_READ16(a);
    return VIRTQ_MMIO_READ32(a);
}

static void virtq__pci_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                 unsigned width)
{
    uintptr_t a = dev->device_cfg + off;
    if (width == 1u)
        VIRTQ_MMIO_WRITE8(a, v);
    else if (width == 2u)
        VIRTQ_MMIO_WRITE16(a, v);
    else
        VIRTQ_MMIO_WRITE32(a, v);
}

static uint32_t virtq__pci_cfg_len(const struct virtq_dev *dev)
{
    return dev->device_cfg_len;
}

/* ---- BAR assignment for firmware that enumerates nothing ---- */

/* Size memory BAR i (decode must be off); 0 when not implemented or an
   I/O BAR.  *is64 when it takes BARs i and i+1. */
static uint64_t virtq__pci_bar_size(uintptr_t cfg, unsigned i, int *is64)
{
    uint32_t off = VIRTQ__PCI_BAR0 + 4u * i, orig = VIRTQ_PCI_CFG_READ32(cfg, off), lo,
             hi = 0xffffffffu;
    uint64_t mask;
    *is64 = ((orig >> 1) & 3u) == 2u && !(orig & 1u) && i < 5u;
    if (orig & 1u)
        return 0; /* I/O space: not ours to place */
    /* All ones, read the size mask, put the old value back: a failed
       assignment leaves every BAR as it was. */
    VIRTQ_PCI_CFG_WRITE32(cfg, off, 0xffffffffu);
    lo = VIRTQ_PCI_CFG_READ32(cfg, off) & ~0xfu;
    VIRTQ_PCI_CFG_WRITE32(cfg, off, orig);
    if (*is64) {
        uint32_t orig_hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, 0xffffffffu);
        hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, orig_hi);
    }
    if (lo == 0u && (!*is64 || hi == 0u))
        return 0;
    mask = ((uint64_t)hi << 32) | lo;
    return *is64 ? ~mask + 1u : (uint64_t)(uint32_t)(~lo + 1u);
}

VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end)
{
    uint64_t at;
    uint16_t cmd;
    unsigned i;
    if (cfg == 0u || next == NULL)
        return VIRTQ_EINVAL;
    if (VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_VENDOR) == 0xffffu ||
        (VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_HEADER_TYPE) & 0x7fu) != 0u)
        return VIRTQ_ENODEV;
    /* 1. decode off while BARs move */
    cmd = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND);
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd & ~VIRTQ__PCI_CMD_MEM);
    /* 2. each memory BAR at the next multiple of its size */
    for (at = *next, i = 0; i < 6u; i++) {
        int is64;
        uint64_t size = virtq__pci_bar_size(cfg, i, &is64);
        uint32_t off = VIRTQ__PCI_BAR0 + 4u * i;
        if (size == 0u) {
            i += (unsigned)is64;
            continue;
        }
        at = (at + size - 1u) & ~(size - 1u);
        if (at < *next || at > end || end - at < size || (!is64 && at + size - 1u > 0xffffffffu))
            return VIRTQ_ENOSPC; /* decode stays off: nothing half-mapped is live */
        VIRTQ_PCI_CFG_WRITE32(cfg, off, (uint32_t)at);
        if (is64)
            VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, (uint32_t)(at >> 32));
        at += size;
        i += (unsigned)is64;
    }
    /* 3. decode and bus mastering on */
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND,
                          cmd | VIRTQ__PCI_CMD_MEM | VIRTQ__PCI_CMD_MASTER);
    *next = at;
    return VIRTQ_OK;
}

#else /* !VIRTQ__HAS_PCI: the calls exist (one API whatever is built), and say so */

VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg)
{
    (void)dev;
    (void)cfg;
    return VIRTQ_ENOTSUP;
}

/* NOLINTNEXTLINE(readability-non-const-parameter): the built-in form advances *next */
VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end)
{
    (void)cfg;
    (void)next;
    (void)end;
    return VIRTQ_ENOTSUP;
}
#endif /* VIRTQ__HAS_PCI */
