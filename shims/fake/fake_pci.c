/* SPDX-License-Identifier: MIT */
/* fake_pci.c — the virtio-pci front end ("Virtio Over PCI Bus"): a PCI
   function (configuration space behind a fake ECAM window, one 64-bit
   memory BAR) over the same device models, checking the driver against
   the PCI rules.  The configuration space is plain bytes a test may
   corrupt (virtq_fake_pci_config_space) to play a hostile device. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PCI_COMMON "4.1.4.3 \"Common configuration structure layout\""
#define S_PCI_NOTIFY "4.1.4.4 \"Notification structure layout\""
#define S_PCI_VQ "4.1.5.1.3 \"Virtqueue Configuration\""

/* The BAR's layout (offsets inside BAR 4). */
#define BAR_SIZE 0x4000u
#define OFF_COMMON 0x0000u
#define OFF_ISR 0x1000u
#define OFF_DEVICE 0x2000u
#define OFF_NOTIFY 0x3000u
#define NOTIFY_MULT 4u
#define COMMON_LEN 0x40u /* up to and with queue_reset */
#define IO_BAR_SIZE 0x40u /* a transitional device's legacy BAR 0 */

struct virtq_fake_pci {
    struct virtq_fake_dev *dev;
    int slot;
    uintptr_t ecam;
    uint8_t cfg[256];
    uint32_t bar_size[6]; /* per BAR register: size of its low half (0: none) */
    unsigned hostile;     /* VIRTQ_FAKE_PCI_* */
    uint8_t enable_writes[VIRTQ_FAKE_MAX_QUEUES];
};

static pthread_mutex_t pci_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virtq_fake_pci *pci_tab[VIRTQ_FAKE_PCI_MAX];

/* ---- configuration space bytes ---- */

static void put(uint8_t *c, unsigned off, uint32_t v, int width)
{
    int i;
    for (i = 0; i < width; i++)
        c[off + (unsigned)i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get(const uint8_t *c, unsigned off, int width)
{
    uint32_t v = 0;
    int i;
    for (i = width - 1; i >= 0; i--)
        v = (v << 8) | c[off + (unsigned)i];
    return v;
}

static void put_cap(uint8_t *c, unsigned pos, unsigned next, unsigned len, unsigned type,
                    uint32_t offset, uint32_t length)
{
    put(c, pos + VIRTIO_PCI_CAP_VNDR, 0x09, 1);
    put(c, pos + VIRTIO_PCI_CAP_NEXT, next, 1);
    put(c, pos + VIRTIO_PCI_CAP_LEN, len, 1);
    put(c, pos + VIRTIO_PCI_CAP_CFG_TYPE, type, 1);
    put(c, pos + VIRTIO_PCI_CAP_BAR, 4, 1);
    put(c, pos + VIRTIO_PCI_CAP_OFFSET, offset, 4);
    put(c, pos + VIRTIO_PCI_CAP_LENGTH, length, 4);
}

/* A header like QEMU's: vendor 0x1af4, modern or transitional id, the
   capabilities at 0x40 common, 0x50 notify, 0x64 isr, 0x74 device. */
static void build_config(struct virtq_fake_pci *fp, int transitional)
{
    uint8_t *c = fp->cfg;
    uint32_t type = fp->dev->device_id;
    put(c, 0x00, VIRTIO_PCI_VENDOR_ID, 2);
    put(c, 0x02, transitional ? 0x1000u + type - 1u : 0x1040u + type, 2);
    put(c, 0x06, 0x10, 2); /* status: capabilities list */
    put(c, 0x08, transitional ? 0 : 1, 1);
    put(c, 0x2c, VIRTIO_PCI_VENDOR_ID, 2);
    put(c, 0x2e, transitional ? type : 0x1100u, 2);
    put(c, 0x34, 0x40, 1);
    if (transitional) {
        put(c, 0x10, 1, 4); /* I/O BAR 0 */
        fp->bar_size[0] = IO_BAR_SIZE;
    }
    put(c, 0x20, 0x4, 4); /* BAR 4: 64-bit memory, unassigned */
    fp->bar_size[4] = BAR_SIZE;
    fp->bar_size[5] = 0; /* upper half: all bits writable */
    put_cap(c, 0x40, 0x50, 16, VIRTIO_PCI_CAP_COMMON_CFG, OFF_COMMON, COMMON_LEN);
    put_cap(c, 0x50, 0x64, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, OFF_NOTIFY, 0x1000);
    put(c, 0x50 + VIRTIO_PCI_NOTIFY_CAP_MULT, NOTIFY_MULT, 4);
    put_cap(c, 0x64, 0x74, 16, VIRTIO_PCI_CAP_ISR_CFG, OFF_ISR, 4);
    put_cap(c, 0x74, 0x00, 16, VIRTIO_PCI_CAP_DEVICE_CFG, OFF_DEVICE,
            fp->dev->config_len ? fp->dev->config_len : 4);
}

static void bar_write(struct virtq_fake_pci *fp, unsigned i, uint32_t v)
{
    uint32_t low_bits = get(fp->cfg, 0x10 + 4 * i, 4) & ((i == 5) ? 0u : 0xfu);
    if (i == 5) {
        put(fp->cfg, 0x24, v, 4); /* upper half of BAR 4 */
        return;
    }
    if (fp->bar_size[i] == 0u)
        return; /* not implemented: reads 0 */
    if (low_bits & 1u)
        v = (v & ~(fp->bar_size[i] - 1u) & ~3u) | 1u;
    else
        v = (v & ~(fp->bar_size[i] - 1u) & ~0xfu) | low_bits;
    put(fp->cfg, 0x10 + 4 * i, v, 4);
}

static void cfg_space_write(struct virtq_fake_pci *fp, uint32_t off, uint32_t v, int width)
{
    if (off == 0x04 && width == 2) {
        put(fp->cfg, 0x04, v & 0x7u, 2); /* I/O, memory, bus master */
        return;
    }
    if (off >= 0x10 && off < 0x28 && width == 4 && !(off & 3u)) {
        bar_write(fp, (off - 0x10) / 4, v);
        return;
    }
    /* Everything else is read-only here. */
}

/* ---- the BAR ---- */

static uint64_t bar_base(const struct virtq_fake_pci *fp)
{
    return ((uint64_t)get(fp->cfg, 0x24, 4) << 32) | (get(fp->cfg, 0x20, 4) & ~0xfu);
}

/* Natural width of a common configuration field ("MUST access each field
   using the natural width"); 64-bit fields go as two 32-bit halves. */
static int common_width(uint32_t off)
{
    if (off < 0x10 || (off >= 0x20 && off < 0x38))
        return 4;
    if (off == VIRTIO_PCI_COMMON_STATUS || off == VIRTIO_PCI_COMMON_CFGGENERATION)
        return 1;
    return 2;
}

static struct fake_queue *pci_queue(struct virtq_fake_dev *d)
{
    return d->queue_sel < (uint32_t)d->nq ? &d->q[d->queue_sel] : NULL;
}

static uint32_t common_read(struct virtq_fake_pci *fp, uint32_t off)
{
    struct virtq_fake_dev *d = fp->dev;
    struct fake_queue *q = pci_queue(d);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return d->dev_sel;
    case VIRTIO_PCI_COMMON_DF:
        d->st.feature_reads++;
        if (!d->dev_sel_written)
            fk_vio(d, -1, S_PCI_COMMON, "device_feature read before device_feature_select was written");
        return d->dev_sel == 0 ? (uint32_t)d->offered : d->dev_sel == 1 ? (uint32_t)(d->offered >> 32) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return d->drv_sel;
    case VIRTIO_PCI_COMMON_GF: return (uint32_t)(d->drv_features >> (d->drv_sel == 1 ? 32 : 0));
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_MSIX: return 0xffffu; /* NO_VECTOR: INTx only */
    case VIRTIO_PCI_COMMON_NUMQ: return (uint32_t)d->nq;
    case VIRTIO_PCI_COMMON_STATUS:
        d->fo_unchecked = 0;
        return d->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        d->st.generation_reads++;
        return d->generation & 0xffu;
    case VIRTIO_PCI_COMMON_Q_SELECT: return d->queue_sel;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (q == NULL)
            return 0;
        if (fp->hostile & VIRTQ_FAKE_PCI_QSIZE_STUCK)
            return q->num_max;
        return q->num ? q->num : q->num_max;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (fp->hostile & VIRTQ_FAKE_PCI_ENABLE_STUCK)
            return 0;
        return q ? q->ready : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        if (fp->hostile & VIRTQ_FAKE_PCI_NOFF_HUGE)
            return 0xffffu;
        return q ? d->queue_sel : 0;
    case VIRTIO_PCI_COMMON_Q_NDATA: return d->queue_sel;
    case VIRTIO_PCI_COMMON_Q_RESET: /* 0: a queue reset completes at once */
        return (fp->hostile & VIRTQ_FAKE_PCI_RESET_STUCK) ? 1u : 0u;
    default: return 0; /* ring addresses read back as 0: virtq never reads them */
    }
}

static void queue_size_write(struct virtq_fake_dev *d, struct fake_queue *q, uint32_t val)
{
    if (q->ready)
        fk_vio(d, (int)d->queue_sel, S_PCI_VQ, "queue_size written while the queue is enabled");
    else if (val == 0 || val > q->num_max ||
             ((val & (val - 1u)) && !fk_has_feat(d, VIRTIO_F_RING_PACKED)))
        fk_vio(d, (int)d->queue_sel, S_PCI_VQ, "queue_size %u: a power of 2 up to the %u offered", val,
            q->num_max);
    else
        q->num = (uint16_t)val;
}

/* queue_enable: 1, once, after the other fields ("The driver MUST NOT
   write a 0 to queue_enable"; "MUST configure the other virtqueue fields
   before enabling"). */
static void queue_enable_write(struct virtq_fake_pci *fp, struct fake_queue *q, uint32_t val)
{
    struct virtq_fake_dev *d = fp->dev;
    int qi = (int)d->queue_sel;
    fp->enable_writes[qi]++;
    if (val != 1) {
        fk_vio(d, qi, S_PCI_VQ, "queue_enable written with %u: the driver never writes 0", val);
        return;
    }
    if (q->ready) {
        fk_vio(d, qi, S_PCI_VQ, "queue_enable written again while the queue is enabled");
        return;
    }
    if (q->desc_addr == 0 || q->driver_addr == 0 || q->device_addr == 0)
        fk_vio(d, qi, S_PCI_VQ, "queue_enable written before queue_desc/queue_driver/queue_device");
    if (q->num == 0)
        q->num = q->num_max;
    if (fp->hostile & VIRTQ_FAKE_PCI_ENABLE_STUCK)
        return;
    (void)fk_queue_activate(d, qi, q->desc_addr, q->driver_addr, q->device_addr);
}

static void queue_reset_write(struct virtq_fake_pci *fp, struct fake_queue *q, uint32_t val)
{
    struct virtq_fake_dev *d = fp->dev;
    if (!fk_has_feat(d, VIRTIO_F_RING_RESET) || val != 1) {
        fk_vio(d, (int)d->queue_sel, S_PCI_COMMON, "queue_reset written with %u (RING_RESET %snegotiated)", val,
            fk_has_feat(d, VIRTIO_F_RING_RESET) ? "" : "not ");
        return;
    }
    if (fp->hostile & VIRTQ_FAKE_PCI_RESET_STUCK)
        return; /* never lets go: the queue keeps running, queue_reset reads 1 */
    fk_queue_teardown(q, 0);
    q->num = 0;
    q->desc_addr = q->driver_addr = q->device_addr = 0;
}

static void queue_addr_write(struct virtq_fake_dev *d, struct fake_queue *q, uint32_t off, uint32_t val)
{
    uint64_t *a = off < VIRTIO_PCI_COMMON_Q_AVAILLO ? &q->desc_addr
                  : off < VIRTIO_PCI_COMMON_Q_USEDLO ? &q->driver_addr : &q->device_addr;
    if (q->ready) {
        fk_vio(d, (int)d->queue_sel, S_PCI_VQ, "a ring address written while the queue is enabled");
        return;
    }
    if (off & 4u)
        *a = (*a & 0xffffffffull) | ((uint64_t)val << 32);
    else
        *a = (*a & ~0xffffffffull) | val;
}

static void common_write(struct virtq_fake_pci *fp, uint32_t off, uint32_t val)
{
    struct virtq_fake_dev *d = fp->dev;
    struct fake_queue *q = pci_queue(d);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        d->dev_sel = val;
        d->dev_sel_written = d->dev_sel_fresh = 1;
        return;
    case VIRTIO_PCI_COMMON_GFSELECT:
        d->drv_sel = val;
        d->drv_sel_written = 1;
        return;
    case VIRTIO_PCI_COMMON_GF: fk_driver_features_write(d, val); return;
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_Q_MSIX: return; /* no MSI-X: vectors stay NO_VECTOR */
    case VIRTIO_PCI_COMMON_STATUS: fk_status_write(d, val); return;
    case VIRTIO_PCI_COMMON_Q_SELECT: d->queue_sel = val; return;
    default: break;
    }
    if (q == NULL) {
        fk_vio(d, -1, S_PCI_COMMON, "queue field %#x written for queue %u, which does not exist", off, d->queue_sel);
        return;
    }
    if (off == VIRTIO_PCI_COMMON_Q_SIZE)
        queue_size_write(d, q, val);
    else if (off == VIRTIO_PCI_COMMON_Q_ENABLE)
        queue_enable_write(fp, q, val);
    else if (off == VIRTIO_PCI_COMMON_Q_RESET)
        queue_reset_write(fp, q, val);
    else if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_Q_NDATA)
        queue_addr_write(d, q, off, val);
    else
        fk_vio(d, -1, S_PCI_COMMON, "write to read-only common configuration field %#x", off);
}

/* A notification: at the queue's own address (cap.offset + queue_notify_off
   * notify_off_multiplier), 16 bits, or 32 with NOTIFICATION_DATA. */
static void notify_write(struct virtq_fake_pci *fp, uint32_t off, uint32_t val, int width)
{
    struct virtq_fake_dev *d = fp->dev;
    int want = fk_has_feat(d, VIRTIO_F_NOTIFICATION_DATA) ? 4 : 2;
    if (width != want) {
        fk_vio(d, -1, S_PCI_NOTIFY, "%d-bit notification: %d-bit expected", width * 8, want * 8);
        return;
    }
    if (off != (val & 0xffffu) * NOTIFY_MULT) {
        fk_vio(d, (int)(val & 0xffffu), S_PCI_NOTIFY,
            "notification for queue %u written at offset %#x, not at queue_notify_off * multiplier (%#x)",
            val & 0xffffu, off, (val & 0xffffu) * NOTIFY_MULT);
        return;
    }
    fk_notify(d, val);
}

static int bar_access(struct virtq_fake_pci *fp, uint32_t off, int width, uint32_t *val, int write)
{
    struct virtq_fake_dev *d = fp->dev;
    if (!(get(fp->cfg, 0x04, 2) & 0x2u))
        fk_vio(d, -1, "PCI", "BAR access with memory decode off (command register)");
    if (off < OFF_COMMON + COMMON_LEN) {
        if (width != common_width(off))
            fk_vio(d, -1, S_PCI_COMMON, "%d-bit access to common configuration field %#x (natural width %d)",
                width * 8, off, common_width(off) * 8);
        if (write)
            common_write(fp, off, *val);
        else
            *val = common_read(fp, off);
    } else if (off >= OFF_ISR && off < OFF_ISR + 4u) {
        if (!write) { /* reading is the acknowledgement */
            *val = off == OFF_ISR ? (d->isr & 3u) : 0;
            if (off == OFF_ISR)
                d->isr = 0;
        }
    } else if (off >= OFF_DEVICE && off < OFF_NOTIFY) {
        if (write)
            fk_cfg_write(d, off - OFF_DEVICE, *val, width);
        else
            *val = fk_cfg_read(d, off - OFF_DEVICE, width);
    } else if (off >= OFF_NOTIFY && write) {
        notify_write(fp, off - OFF_NOTIFY, *val, width);
    } else {
        fk_vio(d, -1, "PCI", "%s at BAR offset %#x, outside every structure", write ? "write" : "read", off);
        *val = 0;
    }
    return 1;
}

/* Find the function whose ECAM window or BAR holds addr. */
static struct virtq_fake_pci *pci_find(uintptr_t addr, uint32_t *off, int *in_bar)
{
    struct virtq_fake_pci *fp = NULL;
    int i;
    pthread_mutex_lock(&pci_lock);
    for (i = 0; i < VIRTQ_FAKE_PCI_MAX && fp == NULL; i++) {
        struct virtq_fake_pci *p = pci_tab[i];
        uint64_t b;
        if (p == NULL)
            continue;
        b = bar_base(p);
        if (addr >= p->ecam && addr - p->ecam < 0x1000u) {
            fp = p, *off = (uint32_t)(addr - p->ecam), *in_bar = 0;
        } else if (b != 0 && addr >= b && addr - b < BAR_SIZE) {
            fp = p, *off = (uint32_t)(addr - b), *in_bar = 1;
        }
    }
    pthread_mutex_unlock(&pci_lock);
    return fp;
}

int fk_pci_read(uintptr_t addr, int width, uint32_t *val)
{
    uint32_t off;
    int in_bar;
    struct virtq_fake_pci *fp = pci_find(addr, &off, &in_bar);
    if (fp == NULL)
        return 0;
    fk_dev_lock(fp->dev);
    if (in_bar)
        (void)bar_access(fp, off, width, val, 0);
    else
        *val = off + (uint32_t)width <= 256u ? get(fp->cfg, off, width) : 0u;
    fk_dev_unlock(fp->dev);
    return 1;
}

int fk_pci_write(uintptr_t addr, uint32_t val, int width)
{
    uint32_t off;
    int in_bar;
    struct virtq_fake_pci *fp = pci_find(addr, &off, &in_bar);
    if (fp == NULL)
        return 0;
    fk_dev_lock(fp->dev);
    if (in_bar)
        (void)bar_access(fp, off, width, &val, 1);
    else
        cfg_space_write(fp, off, val, width);
    fk_dev_unlock(fp->dev);
    return 1;
}

/* ---- create / destroy ---- */

struct virtq_fake_pci *virtq_fake_pci_attach(struct virtq_fake_dev *dev, int transitional)
{
    struct virtq_fake_pci *fp;
    int i, slot = -1;
    if (dev == NULL || dev->version != 2) {
        fprintf(stderr, "fake: virtq_fake_pci_attach: needs a modern fake device\n");
        return NULL;
    }
    fp = calloc(1, sizeof *fp);
    if (fp == NULL)
        abort();
    fp->dev = dev;
    pthread_mutex_lock(&pci_lock);
    for (i = 0; i < VIRTQ_FAKE_PCI_MAX && slot < 0; i++)
        if (pci_tab[i] == NULL)
            slot = i;
    if (slot >= 0) {
        fp->slot = slot;
        fp->ecam = VIRTQ_FAKE_PCI_ECAM + (uintptr_t)slot * 0x8000u; /* device slot, function 0 */
        build_config(fp, transitional);
        pci_tab[slot] = fp;
    }
    pthread_mutex_unlock(&pci_lock);
    if (slot >= 0)
        return fp;
    fprintf(stderr, "fake: virtq_fake_pci_attach: more than %d functions\n", VIRTQ_FAKE_PCI_MAX);
    free(fp);
    return NULL;
}

void virtq_fake_pci_detach(struct virtq_fake_pci *fp)
{
    if (fp == NULL)
        return;
    pthread_mutex_lock(&pci_lock);
    pci_tab[fp->slot] = NULL;
    pthread_mutex_unlock(&pci_lock);
    free(fp);
}

uintptr_t virtq_fake_pci_cfg(const struct virtq_fake_pci *fp)
{
    return fp->ecam;
}

struct virtq_fake_dev *virtq_fake_pci_dev(const struct virtq_fake_pci *fp)
{
    return fp->dev;
}

uint8_t *virtq_fake_pci_config_space(struct virtq_fake_pci *fp)
{
    return fp->cfg;
}

void virtq_fake_pci_set_hostile(struct virtq_fake_pci *fp, unsigned modes)
{
    fk_dev_lock(fp->dev);
    fp->hostile = modes;
    fk_dev_unlock(fp->dev);
}

unsigned virtq_fake_pci_enable_writes(struct virtq_fake_pci *fp, int q)
{
    unsigned n;
    fk_dev_lock(fp->dev);
    n = q >= 0 && q < VIRTQ_FAKE_MAX_QUEUES ? fp->enable_writes[q] : 0u;
    fk_dev_unlock(fp->dev);
    return n;
}
