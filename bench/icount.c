/* SPDX-License-Identifier: MIT */
/* bench/icount.c — instructions per request, single thread, lock-step.

   Each round: virtq_add() one request (1 or 3 segments), virtq_publish()
   (which makes the kick decision), a minimal device consumes it and
   returns it on the used ring, then virtq_get().  Run under
       valgrind --tool=callgrind
   and read the inclusive cost of virtq_add, virtq_publish and virtq_get:
   the library lives in its own translation unit (virtq_impl.c), so those
   counts are exactly the driver's instructions, none of the harness's.

   Built with -DICOUNT_INLINE it measures the build README recommends for
   speed instead: virtq.h is included here with VIRTQ_STATIC,
   VIRTQ_HOT_INLINE and VIRTQ_IMPLEMENTATION, so the hot path is inlined
   into its caller.  The caller is then small noinline functions written as
   a driver writes them for a fixed request shape (segment counts known at
   compile time): icount_submit_1 (one writable buffer, address and length
   at run time), icount_submit_3 (a blk-like request: 16-byte header and
   status byte of fixed size in the request, data buffer and length at run
   time), each calling virtq_submit (the add and the publish with its kick
   decision), and icount_get (virtq_get).  They are noipa: the compiler
   may not use what it knows of the harness's arguments (constant buffer
   addresses and lengths) to drop checks inside them.

   -S (default build) measures virtq_submit() instead of virtq_add() +
   virtq_publish(): the same work in one call.
   Their inclusive counts are the driver's cost, call and return included.

   usage: icount [-s SEGS] [-e 0|1] [-n ROUNDS] [-r RING]
   The device side checks what it sees and the driver side checks every
   return value, so a count is never taken over a broken run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(ICOUNT_INLINE)
#define VIRTQ_STATIC
#define VIRTQ_HOT_INLINE
#define VIRTQ_IMPLEMENTATION
#endif
#include "virtq.h"

#define RING_MAX 1024u

static unsigned char ring_mem[VIRTQ_RING_BYTES(RING_MAX, VIRTQ_ALIGN_MODERN)]
    __attribute__((aligned(4096)));
static struct virtq_slot slots[RING_MAX];
static struct virtq vq;
static unsigned char hdr[16], data[512], status[1];

/* The device side, from the spec's layout (not from struct virtq). */
static struct {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t *avail_event;
    uint16_t num, last_avail, used_idx;
    int event_idx;
} dev;

#if defined(ICOUNT_INLINE)
/* A driver's submit for a fixed request shape, and its completion. */
/* One device-writable buffer, address and length known only at run time
   (a receive buffer; ringtest's add_inbuf(len, buf, data)). */
static __attribute__((noipa)) int icount_submit_1(void *buf, uint32_t len, void *cookie)
{
    struct virtq_buf b[1];
    bool kick;
    int rc;
    b[0].addr = buf;
    b[0].len = len;
    rc = virtq_submit(&vq, b, 0, 1, cookie, &kick);
    return rc != VIRTQ_OK ? rc : (int)kick; /* the caller notifies on 1 */
}

/* A blk-like request as examples/drivers/virtio_blk.c builds it: the
   header and the status byte live in the request and have fixed sizes,
   the data buffer and its length are the caller's. */
struct icount_req {
    unsigned char hdr[16];
    unsigned char status;
};

static __attribute__((noipa)) int icount_submit_3(struct icount_req *r, void *buf, uint32_t len)
{
    struct virtq_buf b[3];
    bool kick;
    int rc;
    b[0].addr = r->hdr;
    b[0].len = (uint32_t)sizeof r->hdr;
    b[1].addr = buf;
    b[1].len = len;
    b[2].addr = &r->status;
    b[2].len = (uint32_t)sizeof r->status;
    rc = virtq_submit(&vq, b, 1, 2, r, &kick);
    return rc != VIRTQ_OK ? rc : (int)kick;
}

/* A completion as a driver writes it: the cookie back, the length kept. */
static uint32_t icount_len;

static __attribute__((noipa)) void *icount_get(void)
{
    void *c = NULL;
    uint32_t len = 0;
    if (virtq_get(&vq, &c, &len) != VIRTQ_OK)
        return NULL;
    icount_len = len;
    return c;
}
#endif

static void die(const char *what, int rc)
{
    fprintf(stderr, "icount: %s failed: %d (%s)\n", what, rc, virtq_strerror(rc));
    exit(1);
}

/* Consume every available chain; return each with its writable bytes. */
static void device_run(void)
{
    uint16_t avail = __atomic_load_n(&dev.avail->idx, __ATOMIC_ACQUIRE);
    while (dev.last_avail != avail) {
        uint16_t head = dev.avail->ring[dev.last_avail & (dev.num - 1u)], id = head;
        uint32_t wlen = 0, n = 0;
        for (;;) {
            const struct virtq_desc *d = &dev.desc[id];
            if (++n > dev.num) {
                fprintf(stderr, "icount: device: chain loop\n");
                exit(1);
            }
            if (d->flags & VIRTQ_DESC_F_WRITE)
                wlen += d->len;
            if (!(d->flags & VIRTQ_DESC_F_NEXT))
                break;
            id = d->next;
        }
        dev.used->ring[dev.used_idx & (dev.num - 1u)].id = head;
        dev.used->ring[dev.used_idx & (dev.num - 1u)].len = wlen;
        dev.used_idx++;
        dev.last_avail++;
    }
    __atomic_store_n(&dev.used->idx, dev.used_idx, __ATOMIC_RELEASE);
    /* Ask for a kick on the next publish, as a device that went idle does,
       so the kick decision takes its full path every round. */
    if (dev.event_idx)
        __atomic_store_n(dev.avail_event, dev.last_avail, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
    unsigned segs = 1, num = 256, i, rounds = 100000;
    int event_idx = 1, opt, rc, kicks = 0, one_call = 0;
    bool notify;
    uint64_t features = VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    struct virtq_buf bufs[3];
    unsigned out, in;
    struct timespec t0, t1;
#if defined(ICOUNT_INLINE)
    static struct icount_req ireq;
#endif

    while ((opt = getopt(argc, argv, "s:e:n:r:S")) != -1) {
        switch (opt) {
        case 'S': one_call = 1; break;
        case 's': segs = (unsigned)atoi(optarg); break;
        case 'e': event_idx = atoi(optarg); break;
        case 'n': rounds = (unsigned)atoi(optarg); break;
        case 'r': num = (unsigned)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: icount [-s 1|3] [-e 0|1] [-n rounds] [-r ring] [-S]\n");
            return 2;
        }
    }
    if ((segs != 1 && segs != 3) || num < 4 || num > RING_MAX) {
        fprintf(stderr, "icount: segs must be 1 or 3, ring 4..%u\n", RING_MAX);
        return 2;
    }
    if (event_idx)
        features |= VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    rc = virtq_init(&vq, num, VIRTQ_ALIGN_MODERN, ring_mem, slots, features);
    if (rc != VIRTQ_OK)
        die("virtq_init", rc);

    dev.desc = (struct virtq_desc *)(void *)ring_mem;
    dev.avail = (struct virtq_avail *)(void *)(ring_mem + 16u * num);
    dev.used = (struct virtq_used *)(void *)(ring_mem +
        VIRTQ__ALIGN_UP(16u * num + 6u + 2u * num, VIRTQ_ALIGN_MODERN));
    dev.avail_event = (uint16_t *)(void *)((unsigned char *)dev.used + 4u + 8u * num);
    dev.num = (uint16_t)num;
    dev.event_idx = event_idx;

    if (segs == 1) { /* one device-writable buffer (ringtest's in-buffer) */
        bufs[0].addr = data; bufs[0].len = sizeof data;
        out = 0; in = 1;
    } else { /* blk-like: header out, data and status in */
        bufs[0].addr = hdr; bufs[0].len = sizeof hdr;
        bufs[1].addr = data; bufs[1].len = sizeof data;
        bufs[2].addr = status; bufs[2].len = sizeof status;
        out = 1; in = 2;
    }

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (i = 0; i < rounds; i++) {
        void *cookie;
        uint32_t len;
#if defined(ICOUNT_INLINE)
        if (segs == 1)
            rc = icount_submit_1(bufs[0].addr, bufs[0].len, data);
        else
            rc = icount_submit_3(&ireq, bufs[1].addr, bufs[1].len);
        if (rc < 0)
            die("virtq_submit", rc);
        kicks += rc;
        device_run();
        cookie = icount_get();
        len = icount_len;
        rc = cookie != NULL ? VIRTQ_OK : VIRTQ_EAGAIN;
        (void)out;
        (void)in;
        (void)notify;
        (void)one_call;
#else
        if (one_call) {
            rc = virtq_submit(&vq, bufs, out, in, data, &notify);
            if (rc != VIRTQ_OK)
                die("virtq_submit", rc);
        } else {
            rc = virtq_add(&vq, bufs, out, in, data);
            if (rc != VIRTQ_OK)
                die("virtq_add", rc);
            rc = virtq_publish(&vq, &notify);
            if (rc != VIRTQ_OK)
                die("virtq_publish", rc);
        }
        kicks += notify;
        device_run();
        rc = virtq_get(&vq, &cookie, &len);
#endif
        if (rc != VIRTQ_OK)
            die("virtq_get", rc);
#if defined(ICOUNT_INLINE)
        if (segs == 3 && cookie == &ireq)
            cookie = data; /* the blk-like wrapper's cookie is its request */
#endif
        if (cookie != data || len != (segs == 1 ? sizeof data : sizeof data + sizeof status)) {
            fprintf(stderr, "icount: wrong completion (len %u)\n", (unsigned)len);
            return 1;
        }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    if (virtq_num_free(&vq) != num) {
        fprintf(stderr, "icount: descriptors leaked\n");
        return 1;
    }
    /* Run natively (not under valgrind), the time per round is the
       single-CPU cost of a request: driver and the harness's device, no
       cache line crossing CPUs.  Thread CPU time, so time spent preempted
       on a shared machine is not counted. */
    printf("icount: segs=%u event_idx=%d rounds=%u kicks=%d ns_per_round=%.1f\n", segs, event_idx,
           rounds, kicks,
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / rounds);
    return 0;
}
