/* SPDX-License-Identifier: MIT */
/* The second translation unit of the two-TU link gate: includes virtq.h
 * for declarations only and calls into the implementation compiled from
 * impl.c (another object, maybe another language: the gate links a C++
 * build of this file with a C implementation and the other way round, so
 * extern "C" must be right on both sides).
 *
 * It checks a few results against values worked out from the spec, then
 * drives one small ring by hand, playing the device through the spec's
 * layout ("Split Virtqueues"), not through virtq's private fields.  Exit
 * status 0 only if every check held. */
#include <stdio.h>
#include <string.h>

#include "virtq.h"
#include "../common/vq_test.h"

static int failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

#define NUM 8u

/* Ring memory for NUM entries, 16-byte aligned by hand (C99 has no
   _Alignas). */
static uint64_t ring_store[(VIRTQ_RING_BYTES(NUM, VIRTQ_ALIGN_MODERN) + 16u) / 8u + 1u];
static struct virtq_slot slots[NUM];

static void check_sizes(void)
{
    /* Spec "Virtqueue alignment" / legacy layout, by hand:
       256 entries, align 4:    16*256 + (6 + 2*256) = 4614 -> 4616,
                                6 + 8*256 = 2054 -> 2056; 6672 in all.
       256 entries, align 4096: 4614 -> 8192, 2054 -> 4096; 12288. */
    CHECK(virtq_ring_bytes(256, VIRTQ_ALIGN_MODERN) == 6672u);
    CHECK(virtq_ring_bytes(256, VIRTQ_ALIGN_LEGACY) == 12288u);
    CHECK(virtq_ring_bytes(1, 4) == 16u + 8u + 16u); /* 16+6+2 -> 24, 6+8 -> 16 */
    CHECK(virtq_ring_bytes(256, 4) == VIRTQ_RING_BYTES(256, 4));
    CHECK(virtq_ring_bytes(32768, 4096) == VIRTQ_RING_BYTES(32768, 4096));
    /* Not a power of two, too big, zero, bad alignment: 0. */
    CHECK(virtq_ring_bytes(3, 4) == 0u);
    CHECK(virtq_ring_bytes(65536, 4) == 0u);
    CHECK(virtq_ring_bytes(0, 4) == 0u);
    CHECK(virtq_ring_bytes(8, 2) == 0u);
    CHECK(virtq_ring_bytes(8, 12) == 0u);
}

static void check_strerror(void)
{
    static const int codes[] = {VIRTQ_OK,      VIRTQ_EINVAL,    VIRTQ_ENOSPC,  VIRTQ_EAGAIN,
                                VIRTQ_EBROKEN, VIRTQ_ETIMEDOUT, VIRTQ_ENOTSUP, VIRTQ_ENODEV,
                                VIRTQ_EIO,     VIRTQ_EBUSY};
    const char *unknown = virtq_strerror(-1000);
    size_t i, j, n = sizeof codes / sizeof codes[0];
    CHECK(unknown != NULL && unknown[0] != '\0');
    CHECK(virtq_strerror(1) == unknown || strcmp(virtq_strerror(1), unknown) == 0);
    for (i = 0; i < n; i++) {
        const char *s = virtq_strerror(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(s != NULL && strcmp(s, unknown) != 0);
        for (j = 0; j < i; j++)
            CHECK(s != NULL && strcmp(s, virtq_strerror(codes[j])) != 0);
    }
}

/* Device-side view of the ring, from the spec's layout alone. */
static struct virtq_desc *dev_desc(unsigned char *mem) { return (struct virtq_desc *)(void *)mem; }
static uint16_t *dev_avail(unsigned char *mem) { return (uint16_t *)(void *)(mem + 16u * NUM); }
static unsigned char *dev_used(unsigned char *mem)
{
    return mem + ((16u * NUM + 6u + 2u * NUM + 3u) & ~3u);
}

static void dev_complete(unsigned char *mem, uint16_t used_idx, uint32_t id, uint32_t len)
{
    unsigned char *used = dev_used(mem);
    struct virtq_used_elem e;
    e.id = id;
    e.len = len;
    memcpy(used + 4u + 8u * (used_idx % NUM), &e, sizeof e);
    used_idx = (uint16_t)(used_idx + 1u);
    memcpy(used + 2u, &used_idx, sizeof used_idx);
}

static void check_ring(void)
{
    unsigned char *mem = (unsigned char *)(((uintptr_t)ring_store + 15u) & ~(uintptr_t)15u);
    struct virtq vq;
    struct virtq_buf bufs[2];
    static char request[] = "request", reply[32];
    int cookie_a = 0, cookie_b = 0;
    void *cookie = NULL;
    uint32_t len = 0;
    uint16_t head;
    struct virtq_desc *d;

    CHECK(virtq_init(&vq, NUM, VIRTQ_ALIGN_MODERN, mem, slots, 0) == VIRTQ_OK);
    CHECK(virtq_num_free(&vq) == NUM);
    CHECK(virtq_get(&vq, &cookie, &len) == VIRTQ_EAGAIN);

    bufs[0].addr = request;
    bufs[0].len = (uint32_t)sizeof request;
    bufs[1].addr = reply;
    bufs[1].len = (uint32_t)sizeof reply;
    CHECK(virtq_add(&vq, bufs, 1, 1, &cookie_a) == VIRTQ_OK);
    CHECK(virtq_num_free(&vq) == NUM - 2u);
    CHECK(virtq_add(&vq, bufs, 1, 1, NULL) == VIRTQ_EINVAL); /* no cookie */
    CHECK(virtq_num_free(&vq) == NUM - 2u);                  /* ...changed nothing */
    CHECK(vq_test_publish(&vq) == 1); /* used.flags 0: the device wants a kick */
    CHECK(vq_test_publish(&vq) == 0); /* nothing new */

    /* The device's view: avail.idx 1, the head in avail.ring[0], a
       readable descriptor chained to a writable one. */
    CHECK(dev_avail(mem)[1] == 1u);
    head = dev_avail(mem)[2];
    CHECK(head < NUM);
    d = dev_desc(mem);
    if (head < NUM) {
        CHECK(d[head].addr == (uint64_t)(uintptr_t)request);
        CHECK(d[head].len == sizeof request);
        CHECK(d[head].flags == VIRTQ_DESC_F_NEXT);
        CHECK(d[head].next < NUM);
        if (d[head].next < NUM) {
            CHECK(d[d[head].next].addr == (uint64_t)(uintptr_t)reply);
            CHECK(d[d[head].next].flags == VIRTQ_DESC_F_WRITE);
        }
    }
    CHECK(virtq_has_used(&vq) == 0);
    dev_complete(mem, 0, head, 5);
    CHECK(virtq_has_used(&vq) == 1);
    CHECK(virtq_get(&vq, &cookie, &len) == VIRTQ_OK);
    CHECK(cookie == &cookie_a && len == 5u);
    CHECK(virtq_num_free(&vq) == NUM);
    CHECK(virtq_get(&vq, &cookie, &len) == VIRTQ_EAGAIN);

    /* A device that returns an id it never got breaks the queue; detach
       then hands the outstanding cookie back, exactly once. */
    CHECK(virtq_add(&vq, bufs, 1, 1, &cookie_b) == VIRTQ_OK);
    CHECK(vq_test_publish(&vq) == 1);
    dev_complete(mem, 1, 99, 0);
    CHECK(virtq_get(&vq, &cookie, &len) == VIRTQ_EBROKEN);
    CHECK(virtq_is_broken(&vq) == 1);
    CHECK(virtq_add(&vq, bufs, 1, 1, &cookie_a) == VIRTQ_EBROKEN);
    cookie = NULL;
    CHECK(virtq_detach(&vq, &cookie) == VIRTQ_OK && cookie == &cookie_b);
    CHECK(virtq_detach(&vq, &cookie) == VIRTQ_EAGAIN);
    CHECK(virtq_is_broken(&vq) == 0);
    CHECK(virtq_num_free(&vq) == NUM);
}

int main(void)
{
    check_sizes();
    check_strerror();
    check_ring();
    if (failures != 0) {
        fprintf(stderr, "link gate: %d check(s) failed\n", failures);
        return 1;
    }
    printf("link gate: two translation units, all checks passed\n");
    return 0;
}
