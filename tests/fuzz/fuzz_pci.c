/* SPDX-License-Identifier: MIT */
/* fuzz_pci.c - libFuzzer target: the virtio-pci transport's probe and
 * queue setup against a configuration space and a BAR the input writes.
 *
 * The first 256 input bytes are the function's configuration space (the
 * header's vendor/device ids are forced to a virtio id on most inputs so
 * the walk is reached; the capability list, its pointers, lengths, BAR
 * numbers, offsets and the notify multiplier are the fuzzer's).  BAR 4
 * answers sizing with a size from the input and holds the structures;
 * reads of the common configuration come from the input too.
 *
 * Oracles (abort with a message on failure):
 *   - probe returns VIRTQ_OK, VIRTQ_ENODEV, VIRTQ_ENOTSUP or VIRTQ_EIO;
 *     on failure dev->why is set and every later call refuses the device;
 *   - on success each structure lies inside BAR 4 as sized, and dev->why
 *     is NULL;
 *   - every configuration access is inside the 256 bytes, every memory
 *     access inside BAR 4 and, once probed, inside a structure the device
 *     declared; the number of accesses per input is bounded;
 *   - queue setup that succeeds leaves the notify address aligned inside
 *     the notify structure; one that fails names the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fz_read(uintptr_t a, unsigned width);
static void fz_write(uintptr_t a, uint32_t v, unsigned width);

#define VIRTQ_MMIO_READ8(a) ((uint8_t)fz_read((a), 1))
#define VIRTQ_MMIO_READ16(a) ((uint16_t)fz_read((a), 2))
#define VIRTQ_MMIO_READ32(a) fz_read((a), 4)
#define VIRTQ_MMIO_WRITE8(a, v) fz_write((a), (uint8_t)(v), 1)
#define VIRTQ_MMIO_WRITE16(a, v) fz_write((a), (uint16_t)(v), 2)
#define VIRTQ_MMIO_WRITE32(a, v) fz_write((a), (uint32_t)(v), 4)
#define VIRTQ_TRANSPORTS VIRTQ_TRANSPORT_PCI
#define VIRTQ_SPINS_PER_US 1u
#define VIRTQ_RESET_POLLS 200u
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#define VQ_TEST_NAME "fuzz_pci"
#include "../common/vq_test.h"

#define ECAM ((uintptr_t)0x30000000u)
#define BAR_BASE 0x40000000u
#define MAX_ACCESSES 20000u

static struct {
    uint8_t cfg[256];
    uint32_t bar_size;   /* BAR 4's size, a power of 2 */
    uint32_t bar_lo, bar_hi; /* BAR 4 as written by the driver */
    uint8_t bar[0x10000]; /* what reads of the BAR return */
    const uint8_t *in;
    size_t len, pos;
    unsigned accesses;
    const struct virtq_dev *probed; /* set once probe succeeded */
} fz;

static uint32_t get(const uint8_t *p, unsigned width)
{
    uint32_t v = 0;
    unsigned i;
    for (i = width; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Is [a, a+width) inside one structure the probed device declared? */
static int in_structure(const struct virtq_dev *d, uintptr_t a, unsigned width)
{
    if (a >= d->base && a + width <= d->base + d->common_len)
        return 1;
    if (a >= d->notify_base && a + width <= d->notify_base + d->notify_len)
        return 1;
    if (a >= d->isr && a + width <= d->isr + 1u)
        return 1;
    return d->device_cfg != 0 && a >= d->device_cfg && a + width <= d->device_cfg + d->device_cfg_len;
}

static uint32_t fz_read(uintptr_t a, unsigned width)
{
    CHECK(++fz.accesses < MAX_ACCESSES, "unbounded register accesses");
    if (a >= ECAM && a < ECAM + 256u) {
        unsigned off = (unsigned)(a - ECAM);
        CHECK(off + width <= 256u, "config read past 256 bytes at %#x", off);
        if (off >= 0x10 && off < 0x28) { /* only BAR 4 (64-bit) is implemented */
            CHECK(width == 4 && !(off & 3u), "BAR read of width %u at %#x", width, off);
            return off == 0x20 ? fz.bar_lo : off == 0x24 ? fz.bar_hi : 0u;
        }
        return get(fz.cfg + off, width);
    }
    CHECK(a >= BAR_BASE && a + width <= (uintptr_t)BAR_BASE + fz.bar_size,
          "%u-byte read at %#lx outside BAR 4", width, (unsigned long)a);
    if (fz.probed != NULL)
        CHECK(in_structure(fz.probed, a, width), "read at %#lx outside every structure",
              (unsigned long)a);
    return get(fz.bar + (a - BAR_BASE), width);
}

static void fz_write(uintptr_t a, uint32_t v, unsigned width)
{
    CHECK(++fz.accesses < MAX_ACCESSES, "unbounded register accesses");
    if (a >= ECAM && a < ECAM + 256u) {
        unsigned off = (unsigned)(a - ECAM);
        CHECK(off + width <= 256u, "config write past 256 bytes at %#x", off);
        if (off == 0x20 && width == 4) /* BAR 4 low: 64-bit memory, sized */
            fz.bar_lo = (v & ~(fz.bar_size - 1u) & ~0xfu) | 0x4u;
        if (off == 0x24 && width == 4) /* its upper half: all bits writable */
            fz.bar_hi = v;
        return;
    }
    CHECK(a >= BAR_BASE && a + width <= (uintptr_t)BAR_BASE + fz.bar_size,
          "%u-byte write at %#lx outside BAR 4", width, (unsigned long)a);
    if (fz.probed != NULL)
        CHECK(in_structure(fz.probed, a, width), "write at %#lx outside every structure",
              (unsigned long)a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ring[VIRTQ_RING_BYTES(64, 4)] __attribute__((aligned(4096)));
    static struct virtq_slot slots[64];
    struct virtq_dev dev;
    struct virtq vq;
    int rc;
    if (size < 258)
        return 0;
    memset(&fz, 0, sizeof fz);
    memcpy(fz.cfg, data, 256);
    fz.bar_size = 0x1000u << (data[256] % 5u); /* 4 KiB .. 64 KiB */
    fz.bar_lo = BAR_BASE | 0x4u;
    memcpy(fz.bar, data + 258, size - 258 < sizeof fz.bar ? size - 258 : sizeof fz.bar);
    if (!(data[257] & 0x80)) { /* most inputs: a virtio id, a caps list */
        fz.cfg[0] = 0xf4, fz.cfg[1] = 0x1a;
        fz.cfg[2] = 0x42, fz.cfg[3] = 0x10;
        fz.cfg[6] |= 0x10;
        fz.cfg[0x0e] = 0;
    }
    /* 1. probe */
    memset(&dev, 0xa5, sizeof dev);
    rc = virtq_pci_probe(&dev, ECAM);
    CHECK(rc == VIRTQ_OK || rc == VIRTQ_ENODEV || rc == VIRTQ_ENOTSUP || rc == VIRTQ_EIO,
          "probe returned %d", rc);
    if (rc != VIRTQ_OK) {
        CHECK(dev.why != NULL, "probe failed (%d) without a reason", rc);
        CHECK(virtq_dev_begin(&dev) == VIRTQ_EINVAL, "an unprobed device was used");
        return 0;
    }
    CHECK(dev.why == NULL, "probe succeeded with a reason");
    CHECK(dev.base >= BAR_BASE && dev.base + dev.common_len <= BAR_BASE + fz.bar_size,
          "common cfg outside the BAR");
    CHECK(dev.notify_base >= BAR_BASE && dev.notify_base + dev.notify_len <= BAR_BASE + fz.bar_size,
          "notify outside the BAR");
    CHECK(dev.isr >= BAR_BASE && dev.isr < BAR_BASE + fz.bar_size, "isr outside the BAR");
    fz.probed = &dev;
    /* 2. what a driver does next: every answer comes from the BAR bytes */
    if (virtq_dev_begin(&dev) != VIRTQ_OK)
        return 0;
    if (virtq_dev_negotiate(&dev, VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA), 0) != VIRTQ_OK)
        return 0;
    rc = virtq_dev_queue_setup(&dev, &vq, 0, 64, ring, slots);
    if (rc == VIRTQ_OK) {
        unsigned w = (dev.features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)) ? 4u : 2u;
        CHECK(vq.notify >= dev.notify_base && vq.notify + w <= dev.notify_base + dev.notify_len &&
                  (vq.notify & (w - 1u)) == 0u,
              "notify address %#lx outside or unaligned", (unsigned long)vq.notify);
        (void)virtq_dev_driver_ok(&dev);
        virtq_dev_notify(&dev, &vq);
    } else if (rc == VIRTQ_EIO) {
        CHECK(dev.why != NULL, "queue setup failed without a reason");
    }
    (void)virtq_dev_isr(&dev);
    (void)virtq_dev_check(&dev);
    {
        uint32_t v;
        (void)virtq_dev_config_read32(&dev, 0, &v);
    }
    return 0;
}
