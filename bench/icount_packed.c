/* SPDX-License-Identifier: MIT */
/* bench/icount_packed.c — instructions per request on the packed ring,
   single thread, lock-step: bench/icount.c's method for the packed ring.

   Each round: virtq_add() one request (1 or 3 segments), virtq_publish()
   (the kick decision), a minimal packed device ("Packed Virtqueues") uses
   it in place, then virtq_get().  Run under valgrind --tool=callgrind and
   read the inclusive cost of virtq_add, virtq_publish and virtq_get: the
   library is its own translation unit (bench/virtq_impl.c built with
   VIRTQ_RINGS=VIRTQ_RING_PACKED, so no ring dispatch is counted), so the
   counts are the driver's instructions only.

   usage: icount_packed [-s 1|3] [-e 0|1] [-n ROUNDS] [-r RING] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "virtq.h"

#define RING_MAX 1024u

static unsigned char ring_mem[VIRTQ_PACKED_RING_BYTES(RING_MAX)] __attribute__((aligned(64)));
static struct virtq_slot slots[RING_MAX];
static struct virtq vq;
static unsigned char hdr[16], data[512], status[1];

/* The device side, from the spec's layout (not from struct virtq). */
static struct {
    struct pvirtq_desc *desc;
    struct pvirtq_event_suppress *dev_ev;
    uint16_t num, avail, used;
    int avail_wrap, used_wrap, event_idx;
} dev;

static void die(const char *what, int rc)
{
    fprintf(stderr, "icount_packed: %s failed: %d (%s)\n", what, rc, virtq_strerror(rc));
    exit(1);
}

static void step(uint16_t *p, int *w)
{
    if (++*p == dev.num) {
        *p = 0;
        *w = !*w;
    }
}

/* Use every available buffer in order, its used descriptor written over
   its first descriptor ("Next Flag: Descriptor Chaining"). */
static void device_run(void)
{
    for (;;) {
        uint16_t f = __atomic_load_n(&dev.desc[dev.avail].flags, __ATOMIC_ACQUIRE), id = 0;
        uint32_t wlen = 0, n = 0;
        if (((f & VIRTQ_DESC_F_AVAIL) != 0) != dev.avail_wrap ||
            ((f & VIRTQ_DESC_F_USED) != 0) == dev.avail_wrap)
            break;
        for (;;) {
            struct pvirtq_desc *d = &dev.desc[dev.avail];
            f = d->flags;
            if (++n > dev.num) {
                fprintf(stderr, "icount_packed: device: list longer than the ring\n");
                exit(1);
            }
            if (f & VIRTQ_DESC_F_WRITE)
                wlen += d->len;
            id = d->id;
            step(&dev.avail, &dev.avail_wrap);
            if (!(f & VIRTQ_DESC_F_NEXT))
                break;
        }
        dev.desc[dev.used].id = id;
        dev.desc[dev.used].len = wlen;
        __atomic_store_n(&dev.desc[dev.used].flags,
                         (uint16_t)(dev.used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u),
                         __ATOMIC_RELEASE);
        while (n--)
            step(&dev.used, &dev.used_wrap);
    }
    /* Ask for a kick at the next descriptor, as a device that went idle
       does, so the kick decision takes its full path every round. */
    if (dev.event_idx) {
        dev.dev_ev->desc = (uint16_t)(dev.avail | (dev.avail_wrap ? 0x8000u : 0u));
        dev.dev_ev->flags = RING_EVENT_FLAGS_DESC;
    }
}

int main(int argc, char **argv)
{
    unsigned segs = 1, num = 256, i, rounds = 100000;
    int event_idx = 1, opt, rc, kicks = 0;
    bool notify;
    uint64_t features = VIRTQ_FEATURE(VIRTIO_F_VERSION_1) | VIRTQ_FEATURE(VIRTIO_F_RING_PACKED);
    struct virtq_buf bufs[3];
    unsigned out, in;
    struct timespec t0, t1;

    while ((opt = getopt(argc, argv, "s:e:n:r:")) != -1) {
        switch (opt) {
        case 's': segs = (unsigned)atoi(optarg); break;
        case 'e': event_idx = atoi(optarg); break;
        case 'n': rounds = (unsigned)atoi(optarg); break;
        case 'r': num = (unsigned)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: icount_packed [-s 1|3] [-e 0|1] [-n rounds] [-r ring]\n");
            return 2;
        }
    }
    if ((segs != 1 && segs != 3) || num < 4 || num > RING_MAX) {
        fprintf(stderr, "icount_packed: segs must be 1 or 3, ring 4..%u\n", RING_MAX);
        return 2;
    }
    if (event_idx)
        features |= VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    rc = virtq_init(&vq, num, VIRTQ_ALIGN_MODERN, ring_mem, slots, features);
    if (rc != VIRTQ_OK)
        die("virtq_init", rc);
    /* "Structure Size and Alignment": ring, driver area, device area. */
    dev.desc = (struct pvirtq_desc *)(void *)ring_mem;
    dev.dev_ev = (struct pvirtq_event_suppress *)(void *)(ring_mem + 16u * num + 4u);
    dev.num = (uint16_t)num;
    dev.avail_wrap = dev.used_wrap = 1;
    dev.event_idx = event_idx;

    if (segs == 1) {
        bufs[0].addr = data; bufs[0].len = sizeof data;
        out = 0; in = 1;
    } else {
        bufs[0].addr = hdr; bufs[0].len = sizeof hdr;
        bufs[1].addr = data; bufs[1].len = sizeof data;
        bufs[2].addr = status; bufs[2].len = sizeof status;
        out = 1; in = 2;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (i = 0; i < rounds; i++) {
        void *cookie;
        uint32_t len;
        rc = virtq_add(&vq, bufs, out, in, data);
        if (rc != VIRTQ_OK)
            die("virtq_add", rc);
        rc = virtq_publish(&vq, &notify);
        if (rc != VIRTQ_OK)
            die("virtq_publish", rc);
        kicks += notify;
        device_run();
        rc = virtq_get(&vq, &cookie, &len);
        if (rc != VIRTQ_OK)
            die("virtq_get", rc);
        if (cookie != data || len != (segs == 1 ? sizeof data : sizeof data + sizeof status)) {
            fprintf(stderr, "icount_packed: wrong completion (len %u)\n", (unsigned)len);
            return 1;
        }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    if (virtq_num_free(&vq) != num) {
        fprintf(stderr, "icount_packed: descriptors leaked\n");
        return 1;
    }
    printf("icount_packed: segs=%u event_idx=%d rounds=%u kicks=%d ns_per_round=%.1f\n", segs,
           event_idx, rounds, kicks,
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / rounds);
    return 0;
}
