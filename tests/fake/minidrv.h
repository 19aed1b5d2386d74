/* SPDX-License-Identifier: MIT */
/* minidrv.h — a hand-rolled, minimal virtio-mmio driver for the fake's own
   tests.  It writes registers, descriptors and the available ring by hand
   (only virtq.h's wire structs, not its ring code), so a test can do the
   right thing or, on purpose, the wrong one. */
#ifndef MINIDRV_H
#define MINIDRV_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_blk.h"
#include "virtq_fake.h"

/* ---- violations: counted in every test; a clean test checks for none ---- */

static void count_violation(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg; /* the fake counts and keeps the last message itself */
}

static int fake_setup(void **state)
{
    (void)state;
    virtq_fake_set_violation_handler(count_violation, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    return 0;
}

#define assert_clean()                                                                      \
    do {                                                                                    \
        if (virtq_fake_violation_count() != 0)                                              \
            fail_msg("unexpected violation (%u): %s", virtq_fake_violation_count(),          \
                     virtq_fake_last_violation());                                          \
    } while (0)

/* The last violation mentions every given fragment; then forget it. */
#define assert_violation(...)                                                               \
    do {                                                                                    \
        const char *frags_[] = {__VA_ARGS__};                                               \
        size_t i_;                                                                          \
        if (virtq_fake_violation_count() == 0)                                              \
            fail_msg("expected a violation mentioning \"%s\", got none", frags_[0]);        \
        for (i_ = 0; i_ < sizeof frags_ / sizeof frags_[0]; i_++)                           \
            if (strstr(virtq_fake_last_violation(), frags_[i_]) == NULL)                    \
                fail_msg("violation \"%s\" does not mention \"%s\"",                          \
                         virtq_fake_last_violation(), frags_[i_]);                          \
        virtq_fake_clear_violations();                                                      \
    } while (0)

/* ---- the driver ------------------------------------------------------------------ */

struct md {
    uintptr_t base;
    int version;
    uint16_t num;
    uint8_t *mem; /* ring memory, 4096-aligned */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t avail_idx, last_used;
    uint64_t offered, features;
};

static inline void md_w(struct md *m, uint32_t off, uint32_t v)
{
    virtq_fake_mmio_write(m->base + off, v, 4);
}

static inline uint32_t md_r(struct md *m, uint32_t off)
{
    return virtq_fake_mmio_read(m->base + off, 4);
}

static inline void md_status(struct md *m, uint32_t bits)
{
    md_w(m, VIRTIO_MMIO_STATUS, md_r(m, VIRTIO_MMIO_STATUS) | bits);
}

/* Reset, ACKNOWLEDGE, DRIVER, read the offered features. */
static inline void md_begin(struct md *m, uintptr_t base)
{
    m->base = base;
    m->version = (int)md_r(m, VIRTIO_MMIO_VERSION);
    md_w(m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(md_r(m, VIRTIO_MMIO_STATUS), 0);
    md_status(m, VIRTIO_STATUS_ACKNOWLEDGE);
    md_status(m, VIRTIO_STATUS_DRIVER);
    md_w(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    m->offered = md_r(m, VIRTIO_MMIO_DEVICE_FEATURES);
    md_w(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    m->offered |= (uint64_t)md_r(m, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* Accept features (modern: FEATURES_OK and read it back).  1 if kept. */
static inline int md_features(struct md *m, uint64_t f)
{
    m->features = f;
    md_w(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    md_w(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    md_w(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    md_w(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    if (m->version == 1)
        return 1;
    md_status(m, VIRTIO_STATUS_FEATURES_OK);
    return (md_r(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) != 0;
}

/* Set up queue qi with num entries over fresh zeroed memory. */
static inline void md_queue(struct md *m, uint32_t qi, uint16_t num)
{
    size_t bytes = VIRTQ_RING_BYTES(num, VIRTQ_ALIGN_LEGACY);
    m->num = num;
    m->mem = virtq_fake_lowmem_alloc(bytes); /* legacy QueuePFN is 32-bit */
    assert_non_null(m->mem);
    m->desc = (struct virtq_desc *)m->mem;
    m->avail = (struct virtq_avail *)(m->mem + 16u * num);
    m->used = (struct virtq_used *)(m->mem + ((16u * num + 6u + 2u * num + 4095u) & ~4095u));
    m->avail_idx = m->last_used = 0;
    md_w(m, VIRTIO_MMIO_QUEUE_SEL, qi);
    assert_true(md_r(m, VIRTIO_MMIO_QUEUE_NUM_MAX) >= num);
    md_w(m, VIRTIO_MMIO_QUEUE_NUM, num);
    if (m->version == 1) {
        md_w(m, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
        md_w(m, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
        md_w(m, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)((uintptr_t)m->mem / 4096u));
        return;
    }
    md_w(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)m->desc);
    md_w(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)m->desc >> 32));
    md_w(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)m->avail);
    md_w(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)m->avail >> 32));
    md_w(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)m->used);
    md_w(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)m->used >> 32));
    md_w(m, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* The whole init: begin, features, queue 0, DRIVER_OK. */
static inline void md_init(struct md *m, uintptr_t base, uint64_t want, uint16_t num)
{
    md_begin(m, base);
    if (m->version == 2)
        want |= VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    assert_true(md_features(m, want & m->offered));
    md_queue(m, 0, num);
    md_status(m, VIRTIO_STATUS_DRIVER_OK);
}

static inline void md_free(struct md *m)
{
    virtq_fake_lowmem_free(m->mem);
    m->mem = NULL;
}

static inline void md_desc(struct md *m, uint16_t i, const void *addr, uint32_t len, uint16_t flags,
                           uint16_t next)
{
    m->desc[i].addr = (uint64_t)(uintptr_t)addr;
    m->desc[i].len = len;
    m->desc[i].flags = flags;
    m->desc[i].next = next;
}

/* Put head in the available ring and publish it ("Supplying Buffers"). */
static inline void md_publish(struct md *m, uint16_t head)
{
    m->avail->ring[m->avail_idx & (m->num - 1u)] = head;
    m->avail_idx++;
    __atomic_store_n(&m->avail->idx, m->avail_idx, __ATOMIC_RELEASE);
}

static inline void md_notify(struct md *m, uint32_t qi)
{
    md_w(m, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

/* Take one used element: 1 and its id and len, or 0 when there is none. */
static inline int md_get(struct md *m, uint32_t *id, uint32_t *len)
{
    uint16_t idx = __atomic_load_n(&m->used->idx, __ATOMIC_ACQUIRE);
    struct virtq_used_elem *e;
    if (idx == m->last_used)
        return 0;
    e = &m->used->ring[m->last_used & (m->num - 1u)];
    *id = e->id;
    *len = e->len;
    m->last_used++;
    return 1;
}

static inline uint16_t md_used_idx(struct md *m)
{
    return __atomic_load_n(&m->used->idx, __ATOMIC_ACQUIRE);
}

/* A blk request in descriptors first..first+2: header, data, status. */
struct md_blk {
    struct virtio_blk_outhdr hdr;
    uint8_t status;
};

static inline void md_blk_chain(struct md *m, uint16_t first, struct md_blk *r, uint32_t type, uint64_t sector,
                                void *data, uint32_t len)
{
    uint16_t st = (uint16_t)(first + (len ? 2 : 1));
    r->hdr.type = type;
    r->hdr.reserved = 0;
    r->hdr.sector = sector;
    r->status = 0xff;
    md_desc(m, first, &r->hdr, sizeof r->hdr, VIRTQ_DESC_F_NEXT, (uint16_t)(first + 1));
    if (len)
        md_desc(m, (uint16_t)(first + 1), data, len,
                (uint16_t)(VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE)), st);
    md_desc(m, st, &r->status, 1, VIRTQ_DESC_F_WRITE, 0);
}

/* Submit one blk request at descriptor 0, notify, expect it used now.
   Returns the used len; *status the status byte. */
static inline uint32_t md_blk(struct md *m, uint32_t type, uint64_t sector, void *data, uint32_t len,
                              uint8_t *status)
{
    struct md_blk r;
    uint32_t id = 0xdead, ulen = 0;
    md_blk_chain(m, 0, &r, type, sector, data, len);
    md_publish(m, 0);
    md_notify(m, 0);
    assert_true(md_get(m, &id, &ulen));
    assert_int_equal(id, 0);
    *status = r.status;
    return ulen;
}

/* A model-less device with one queue. */
static inline struct virtq_fake_dev *plain_dev(int version, uint64_t features, uint16_t qmax)
{
    struct virtq_fake_params p;
    memset(&p, 0, sizeof p);
    p.version = version;
    p.device_id = VIRTIO_ID_CONSOLE;
    p.features = features | (version == 2 ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0);
    p.num_queues = 1;
    p.queue_num_max[0] = qmax;
    return virtq_fake_create(&p);
}

static inline void count_irq(struct virtq_fake_dev *dev, void *ctx)
{
    (void)dev;
    (*(int *)ctx)++;
}

#endif
