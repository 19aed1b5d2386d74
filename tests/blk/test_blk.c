/* SPDX-License-Identifier: MIT */
/* test_blk.c — the portable virtio-blk driver (examples/drivers/virtio_blk.c)
   against the fake device's blk model (shims/fake), cmocka, ASan+UBSan.

   The fake checks every register access, descriptor chain and blk request
   against the spec; each test also asserts that no violation was reported.
   Covered: read/write/flush/GET_ID on legacy and modern devices with and
   without INDIRECT_DESC and EVENT_IDX; multi-segment requests (segment
   order honoured); many requests in flight completed out of order, each
   with its own status; read-only disks; seg_max, size_max, blk_size and
   capacity honoured; a device that never completes (timeout, then every
   request handed back by reset); the SPIN, WFI and OS wait strategies with
   a device thread; bad parameters and bad config. */
#define VIRTQ_IMPLEMENTATION
/* Both transports: the queue reset test runs the driver over virtio-pci. */
#define VIRTQ_TRANSPORTS (VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI)
#include "virtq_fake.h" /* first: points virtq.h's shims at the fake */
#include "virtq.h"

#include "fake_blk.h"
#include "virtq_fake_cmocka.h"
#include "examples/drivers/virtio_blk.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define QSIZE 128u
#define NREQ 48u
#define DISK_SECTORS 2048u
#define DISK_BYTES (DISK_SECTORS * 512u)
#define SHORT_US 20000u /* timeout for waits that are meant to run out */

/* ---- environment ------------------------------------------------------- */

#define RING_BYTES VIRTQ_RING_BYTES(QSIZE, VIRTQ_ALIGN_LEGACY)
static uint8_t *ring; /* below 4 GiB: a legacy QueuePFN is a 32-bit page number */
static struct virtq_slot slots[QSIZE];
static struct vblk_req reqs[NREQ];
static uint8_t disk[DISK_BYTES];
/* Data buffers own their cache lines (non-coherent DMA, VIRTQ_DMA_ALIGN). */
static uint8_t buf[DISK_BYTES] __attribute__((aligned(VIRTQ_DMA_ALIGN)));
static uint8_t buf2[DISK_BYTES] __attribute__((aligned(VIRTQ_DMA_ALIGN)));

static struct virtq_fake_dev *fd;
static struct virtq_dev vdev;
static struct vblk blk;

#define assert_clean() virtq_fake_assert_clean()

static void fill_disk(void)
{
    for (size_t i = 0; i < DISK_BYTES; i++)
        disk[i] = (uint8_t)(i * 7u + i / 512u);
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31u + i * 13u + (i >> 9));
}

/* vblk_init() on the probed vdev with the test's ring, slots and pool. */
static int blk_init(uint64_t refuse, uint32_t timeout_us, unsigned nreq)
{
    struct vblk_params p;
    memset(&p, 0, sizeof p);
    p.ring = ring;
    p.ring_bytes = RING_BYTES;
    p.slots = slots;
    p.queue_size = QSIZE;
    p.reqs = reqs;
    p.nreqs = nreq;
    p.refuse = refuse;
    p.timeout_us = timeout_us;
    return vblk_init(&blk, &vdev, &p);
}

/* Create the fake with *bp (image: disk) and bring the driver up. */
static int env_up_rc(struct virtq_fake_blk_params *bp, uint64_t refuse, uint32_t timeout_us,
                     unsigned nreq)
{
    virtq_fake_set_violation_handler(virtq_fake_count_violations, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    fill_disk();
    bp->image = disk;
    bp->image_bytes = DISK_BYTES;
    if (bp->queue_num_max == 0)
        bp->queue_num_max = QSIZE;
    fd = virtq_fake_blk_create(bp);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    return blk_init(refuse, timeout_us, nreq);
}

static void env_up(struct virtq_fake_blk_params *bp, uint64_t refuse)
{
    assert_int_equal(env_up_rc(bp, refuse, 0, NREQ), VIRTQ_OK);
    assert_clean();
}

static void env_down(void)
{
    virtq_fake_destroy(fd);
    fd = NULL;
    virtq_fake_cpu_reset();
}

static unsigned free_reqs(void)
{
    unsigned n = 0;
    for (const struct vblk_req *r = blk.free_list; r != NULL && n <= NREQ; r = r->next)
        n++;
    return n;
}

static struct virtq_fake_blk_stats blk_stats(void)
{
    struct virtq_fake_blk_stats st;
    virtq_fake_blk_get_stats(fd, &st);
    return st;
}

static struct virtq_fake_queue_stats q_stats(void)
{
    struct virtq_fake_stats st;
    virtq_fake_get_stats(fd, &st);
    return st.q[0];
}

/* ---- read, write, flush, GET_ID over the transport/feature matrix ------- */

static void rw_one(int version, uint64_t features)
{
    struct virtq_fake_blk_params bp = {0};
    char id[VBLK_ID_BYTES + 1];
    bp.version = version;
    bp.features = features;
    bp.serial = "disk-under-test";
    env_up(&bp, 0);

    assert_int_equal(blk.capacity, DISK_SECTORS);
    assert_int_equal(blk.blk_size, 512);
    assert_int_equal(blk.seg_max, QSIZE - 2u);
    assert_int_equal(blk.size_max, 65536);
    assert_int_equal(blk.indirect, (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)) != 0);
    assert_int_equal(blk.read_only, 0);
    assert_int_equal(blk.has_flush, 1);
    assert_int_equal(virtq_fake_status(fd) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);

    assert_int_equal(vblk_get_id(&blk, id), VIRTQ_OK);
    assert_string_equal(id, "disk-under-test");

    pattern(buf, 3 * 512, 1);
    assert_int_equal(vblk_write(&blk, 10, buf, 3 * 512), VIRTQ_OK);
    assert_memory_equal(disk + 10 * 512, buf, 3 * 512); /* it reached the image */
    memset(buf2, 0, 3 * 512);
    assert_int_equal(vblk_read(&blk, 10, buf2, 3 * 512), VIRTQ_OK);
    assert_memory_equal(buf2, buf, 3 * 512);
    assert_int_equal(vblk_read(&blk, 100, buf2, 512), VIRTQ_OK);
    assert_memory_equal(buf2, disk + 100 * 512, 512);
    assert_int_equal(vblk_flush(&blk), VIRTQ_OK);

    struct virtq_fake_blk_stats st = blk_stats();
    assert_int_equal(st.writes, 1);
    assert_int_equal(st.reads, 2);
    assert_int_equal(st.flushes, 1);
    assert_int_equal(st.get_ids, 1);
    assert_int_equal(st.bad, 0);
    assert_int_equal(blk.stats.submitted, 5);
    assert_int_equal(blk.stats.completed, 5);
    assert_int_equal(blk.inflight, 0);
    assert_int_equal(free_reqs(), NREQ);
    assert_clean();
    env_down();
}

static void rw_matrix(void **state)
{
    static const uint64_t feats[] = {
        0,
        VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC),
        VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX),
        VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC) | VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX),
    };
    (void)state;
    for (int v = 1; v <= 2; v++)
        for (size_t f = 0; f < sizeof feats / sizeof feats[0]; f++)
            rw_one(v, feats[f]);
}

/* A 20-byte serial has no terminator on the wire; the driver adds one. */
static void get_id_full_length(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    char id[VBLK_ID_BYTES + 1];
    (void)state;
    bp.serial = "ABCDEFGHIJKLMNOPQRST";
    env_up(&bp, 0);
    memset(id, 'x', sizeof id);
    assert_int_equal(vblk_get_id(&blk, id), VIRTQ_OK);
    assert_int_equal(strlen(id), 20);
    assert_string_equal(id, "ABCDEFGHIJKLMNOPQRST");
    assert_clean();
    env_down();
}

/* ---- multi-segment ---------------------------------------------------------- */

/* Segments in the request's order land on the disk in that order, though
   their buffers lie in memory in the opposite order. */
static void multi_segment_one(int version, uint64_t features, uint64_t refuse)
{
    static const uint32_t lens[5] = {512, 1024, 512, 2048, 512};
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf segs[5];
    uint8_t expect[4608];
    size_t off = 0, moff = sizeof buf;
    void *tag;
    int result;

    bp.version = version;
    bp.features = features;
    env_up(&bp, refuse);
    pattern(expect, sizeof expect, 2);
    for (int i = 0; i < 5; i++) {
        moff -= lens[i] + 64u; /* back to front, with gaps */
        memcpy(buf + moff, expect + off, lens[i]);
        segs[i].addr = buf + moff;
        segs[i].len = lens[i];
        off += lens[i];
    }
    assert_int_equal(vblk_request(&blk, VIRTIO_BLK_T_OUT, 40, segs, 5), VIRTQ_OK);
    assert_memory_equal(disk + 40 * 512, expect, sizeof expect);

    /* Read it back scattered, asynchronously. */
    memset(buf, 0, sizeof buf);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 40, segs, 5, (void *)7, 0), VIRTQ_OK);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_ptr_equal(tag, (void *)7);
    assert_int_equal(result, VIRTQ_OK);
    for (int i = 0; i < 5; i++) /* async IN: the caller syncs its data for the CPU */
        virtq_dma_sync_for_cpu(segs[i].addr, segs[i].len);
    off = 0;
    for (int i = 0; i < 5; i++) {
        assert_memory_equal(segs[i].addr, expect + off, lens[i]);
        off += lens[i];
    }
    struct virtq_fake_queue_stats qs = q_stats();
    if (blk.indirect) {
        assert_int_equal(qs.indirect, 2);
        assert_int_equal(blk.stats.indirect, 2);
    } else {
        assert_int_equal(qs.indirect, 0);
        assert_int_equal(qs.max_chain, 7); /* header, 5 data, status */
    }
    assert_clean();
    env_down();
}

static void multi_segment(void **state)
{
    const uint64_t ind = VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    (void)state;
    multi_segment_one(2, ind, 0);
    multi_segment_one(2, ind, ind); /* offered, refused: direct chains */
    multi_segment_one(1, ind, 0);
    multi_segment_one(1, 0, 0);
}

/* ---- many in flight, out of order ------------------------------------------- */

static void in_flight_one(enum virtq_fake_mode mode, uint64_t features)
{
    enum { N = 40 };
    struct virtq_fake_blk_params bp = {0};
    int seen[N + 1] = {0};
    int order[N], n = 0, out_of_order = 0;
    void *tag;
    int result, rc;

    bp.features = features;
    env_up(&bp, 0);
    virtq_fake_set_mode(fd, mode, 1234);
    for (int i = 0; i < N; i++) {
        struct virtq_buf seg = {buf + (size_t)i * 512u, 512};
        memset(seg.addr, 0xee, 512);
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, (uint64_t)(i * 3), &seg, 1,
                                     (void *)(uintptr_t)(i + 1), VBLK_NOKICK),
                         VIRTQ_OK);
    }
    assert_int_equal(vblk_pending(&blk), N);
    assert_int_equal(vblk_poll(&blk, &tag, &result), VIRTQ_EAGAIN); /* not kicked yet */
    assert_int_equal(vblk_kick(&blk), VIRTQ_OK);
    assert_int_equal(virtq_fake_pending(fd, 0), N);
    /* Shrink the disk behind the driver's back: requests past the new end
       fail, the others succeed; each request's own status byte tells. */
    assert_int_equal(virtq_fake_blk_set_capacity(fd, 60), 0);
    assert_int_equal(virtq_fake_step(fd, 0, -1), N);
    while ((rc = vblk_poll(&blk, &tag, &result)) == VIRTQ_OK) {
        int i = (int)(uintptr_t)tag - 1;
        assert_true(i >= 0 && i < N);
        assert_int_equal(seen[i], 0); /* exactly once */
        seen[i] = 1;
        order[n++] = i;
        virtq_dma_sync_for_cpu(buf + (size_t)i * 512u, 512); /* async IN: the caller's job */
        if (i * 3 + 1 <= 60) {
            assert_int_equal(result, VIRTQ_OK);
            assert_memory_equal(buf + (size_t)i * 512u, disk + (size_t)i * 3u * 512u, 512);
        } else {
            assert_int_equal(result, VBLK_EIO);
        }
    }
    assert_int_equal(rc, VIRTQ_EAGAIN);
    assert_int_equal(n, N);
    for (int k = 1; k < n; k++)
        out_of_order += order[k] < order[k - 1];
    if (mode == VIRTQ_FAKE_REVERSED)
        for (int k = 0; k < n; k++)
            assert_int_equal(order[k], N - 1 - k); /* taken in used-ring order */
    assert_true(out_of_order > 0);
    assert_int_equal(blk.stats.errors, (unsigned)(N - 20));
    assert_int_equal(vblk_pending(&blk), 0);
    assert_int_equal(free_reqs(), NREQ);
    assert_clean();
    env_down();
}

static void many_in_flight_out_of_order(void **state)
{
    (void)state;
    in_flight_one(VIRTQ_FAKE_OUT_OF_ORDER, VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    in_flight_one(VIRTQ_FAKE_REVERSED, 0);
    in_flight_one(VIRTQ_FAKE_OUT_OF_ORDER, VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC));
}

/* The pool and the ring bound what is in flight; completed slots are reused. */
static void pool_exhaustion_and_reuse(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    void *tag;
    int result;
    (void)state;
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, 4), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)1, 0), VIRTQ_OK);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)1, 0),
                     VIRTQ_ENOSPC);
    /* A blocking call with the pool full waits for a completion: none comes
       in deferred mode, so it runs out of time and queues nothing. */
    assert_int_equal(vblk_read(&blk, 0, buf2, 512), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtq_fake_pending(fd, 0), 4);
    assert_int_equal(virtq_fake_step(fd, 0, 1), 1);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)2, 0), VIRTQ_OK);
    assert_int_equal(virtq_fake_step(fd, 0, -1), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_EAGAIN);
    assert_int_equal(free_reqs(), 4);
    assert_clean();
    env_down();
}

/* ---- queue reset (VIRTIO_F_RING_RESET) ------------------------------------------------ */

/* Over virtio-pci with RING_RESET: four reads in flight, one completed by
   the device before the reset.  vblk_queue_reset() hands back each exactly
   once (the completed one with its result, three VBLK_ECANCELED), the pool
   is whole again, and the queue set up again on the same memory reads the
   disk without a device re-init.  Over virtio-mmio it is never negotiated. */
static void queue_reset_over_pci(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    struct virtq_fake_pci *fp;
    uint64_t next = 0x40000000u;
    unsigned seen[4] = {0}, ok = 0, cancelled = 0;
    void *tag;
    int result;
    (void)state;
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, NREQ), VIRTQ_OK);
    assert_int_equal(vblk_queue_reset(&blk), VIRTQ_ENOTSUP); /* mmio: not offered */
    env_down();

    bp.features = VIRTQ_FEATURE(VIRTIO_F_RING_RESET);
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, NREQ), VIRTQ_OK);
    assert_false(vdev.features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET)); /* never on mmio */
    assert_int_equal(vblk_queue_reset(&blk), VIRTQ_ENOTSUP);
    fp = virtq_fake_pci_attach(fd, 0);
    assert_non_null(fp);
    assert_int_equal(virtq_pci_assign_bars(virtq_fake_pci_cfg(fp), &next, 0x40100000u), VIRTQ_OK);
    assert_int_equal(virtq_pci_probe(&vdev, virtq_fake_pci_cfg(fp)), VIRTQ_OK);
    assert_int_equal(blk_init(0, SHORT_US, NREQ), VIRTQ_OK);
    assert_true(vdev.features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET));

    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, i, &seg, 1, (void *)(i + 1u), 0),
                         VIRTQ_OK);
    assert_int_equal(virtq_fake_step(fd, 0, 1), 1);
    assert_int_equal(vblk_queue_reset(&blk), VIRTQ_OK);
    while (vblk_poll(&blk, &tag, &result) == VIRTQ_OK) {
        uintptr_t i = (uintptr_t)tag - 1u;
        assert_true(i < 4u);
        assert_int_equal(seen[i]++, 0);
        if (result == VIRTQ_OK)
            ok++;
        else if (result == VBLK_ECANCELED)
            cancelled++;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(cancelled, 3);
    assert_int_equal(vblk_pending(&blk), 0);
    assert_int_equal(free_reqs(), NREQ);

    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    assert_int_equal(vblk_read(&blk, 3, buf2, 512), VIRTQ_OK);
    assert_memory_equal(buf2, disk + 3u * 512u, 512);
    assert_int_equal(virtq_fake_pci_enable_writes(fp, 0), 2); /* init, then after the reset */
    assert_clean();
    virtq_fake_pci_detach(fp);
    env_down();
}

/* A device that never finishes a queue reset (queue_reset keeps reading
   1): vblk_queue_reset() gives up with VIRTQ_ETIMEDOUT and takes nothing
   back, since the device may still own the buffers; the queue stays set
   up, the device still completes both requests, each comes back once,
   and a reset the device does finish then works. */
static void queue_reset_that_never_finishes(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    struct virtq_fake_pci *fp;
    uint64_t next = 0x40000000u;
    unsigned seen[2] = {0};
    void *tag;
    int result;
    (void)state;
    bp.features = VIRTQ_FEATURE(VIRTIO_F_RING_RESET);
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, NREQ), VIRTQ_OK);
    fp = virtq_fake_pci_attach(fd, 0);
    assert_non_null(fp);
    assert_int_equal(virtq_pci_assign_bars(virtq_fake_pci_cfg(fp), &next, 0x40100000u), VIRTQ_OK);
    assert_int_equal(virtq_pci_probe(&vdev, virtq_fake_pci_cfg(fp)), VIRTQ_OK);
    assert_int_equal(blk_init(0, SHORT_US, NREQ), VIRTQ_OK);

    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    for (uintptr_t i = 0; i < 2; i++)
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, i, &seg, 1, (void *)(i + 1u), 0),
                         VIRTQ_OK);
    virtq_fake_pci_set_hostile(fp, VIRTQ_FAKE_PCI_RESET_STUCK);
    assert_int_equal(vblk_queue_reset(&blk), VIRTQ_ETIMEDOUT);
    assert_int_equal(vblk_pending(&blk), 2);
    assert_int_equal(vblk_poll(&blk, &tag, &result), VIRTQ_EAGAIN);
    /* Still the device's: it completes them, each comes back once. */
    assert_int_equal(virtq_fake_step(fd, 0, -1), 2);
    while (vblk_poll(&blk, &tag, &result) == VIRTQ_OK) {
        uintptr_t i = (uintptr_t)tag - 1u;
        assert_true(i < 2u);
        assert_int_equal(seen[i]++, 0);
        assert_int_equal(result, VIRTQ_OK);
    }
    assert_int_equal(seen[0] + seen[1], 2);
    assert_int_equal(vblk_pending(&blk), 0);
    assert_int_equal(free_reqs(), NREQ);
    /* A device that does finish: the reset works and the queue serves again. */
    virtq_fake_pci_set_hostile(fp, 0);
    assert_int_equal(vblk_queue_reset(&blk), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    assert_int_equal(vblk_read(&blk, 1, buf2, 512), VIRTQ_OK);
    assert_memory_equal(buf2, disk + 512u, 512);
    assert_clean();
    virtq_fake_pci_detach(fp);
    env_down();
}

/* ---- read-only ----------------------------------------------------------------------- */

static void read_only_write_is_an_error(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    struct virtq_fake_queue_stats before;
    (void)state;
    bp.read_only = 1;
    env_up(&bp, 0);
    assert_int_equal(blk.read_only, 1);
    before = q_stats();
    memcpy(buf2, disk, DISK_BYTES);
    pattern(buf, 512, 3);
    assert_int_equal(vblk_write(&blk, 0, buf, 512), VBLK_EROFS);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_OUT, 0, &seg, 1, NULL, 0), VBLK_EROFS);
    assert_int_equal(vblk_request(&blk, VIRTIO_BLK_T_OUT, 0, &seg, 1), VBLK_EROFS);
    assert_int_equal(q_stats().popped, before.popped); /* nothing reached the device */
    assert_memory_equal(disk, buf2, DISK_BYTES);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_OK); /* reads still work */
    assert_int_equal(vblk_flush(&blk), VIRTQ_OK);
    assert_int_equal(free_reqs(), NREQ);
    assert_string_equal(vblk_strerror(VBLK_EROFS), "device is read-only");
    assert_clean();
    env_down();
}

/* Even refused by the caller, RO is accepted when offered: a driver that
   does not know the disk is read-only would send writes. */
static void read_only_cannot_be_refused(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    bp.read_only = 1;
    env_up(&bp, VIRTQ_FEATURE(VIRTIO_BLK_F_RO));
    assert_int_equal(blk.read_only, 1);
    assert_int_equal(vblk_write(&blk, 0, buf, 512), VBLK_EROFS);
    env_down();
}

/* ---- seg_max, size_max, blk_size, capacity ------------------------------------------- */

static void seg_max_size_max_one(uint64_t features)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg, segs[5];
    void *tag;
    int result;

    bp.features = features;
    bp.seg_max = 4;
    bp.size_max = 4096;
    env_up(&bp, 0);
    assert_int_equal(blk.seg_max, 4);
    assert_int_equal(blk.size_max, 4096);
    assert_int_equal(blk.max_segs, 4);
    assert_int_equal(blk.seg_bytes, 4096);
    assert_int_equal(blk.max_transfer, 16384);

    /* A blocking 64 KiB write becomes 4 requests of 4 x 4 KiB. */
    pattern(buf, 65536, 4);
    assert_int_equal(vblk_write(&blk, 8, buf, 65536), VIRTQ_OK);
    assert_memory_equal(disk + 8 * 512, buf, 65536);
    assert_int_equal(blk_stats().writes, 4);
    assert_int_equal(vblk_read(&blk, 8, buf2, 65536), VIRTQ_OK);
    assert_memory_equal(buf2, buf, 65536);

    /* One 16 KiB segment is split into 4 descriptors: allowed. */
    seg.addr = buf;
    seg.len = 16384;
    unsigned split0 = blk.stats.split;
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)1, 0), VIRTQ_OK);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_int_equal(result, VIRTQ_OK);
    assert_int_equal(blk.stats.split - split0, 3);
    /* 20 KiB in one segment, or 5 segments: more than seg_max, refused. */
    seg.len = 20480;
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)1, 0), VBLK_E2BIG);
    for (int i = 0; i < 5; i++) {
        segs[i].addr = buf + i * 512;
        segs[i].len = 512;
    }
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, segs, 5, (void *)1, 0), VBLK_E2BIG);
    assert_int_equal(vblk_request(&blk, VIRTIO_BLK_T_OUT, 0, segs, 5), VBLK_E2BIG);
    assert_int_equal(vblk_pending(&blk), 0);
    assert_int_equal(free_reqs(), NREQ);
    assert_true(q_stats().max_chain <= 6);
    assert_int_equal(blk_stats().bad, 0);
    assert_clean(); /* the fake reports any segment over size_max or seg_max */
    env_down();
}

static void seg_max_size_max(void **state)
{
    (void)state;
    seg_max_size_max_one(0);
    seg_max_size_max_one(VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC));
}

/* size_max not a multiple of 512: pieces are whole sectors below it. */
static void size_max_odd(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    bp.size_max = 3000;
    env_up(&bp, 0);
    assert_int_equal(blk.seg_bytes, 2560);
    pattern(buf, 8192, 5);
    assert_int_equal(vblk_write(&blk, 0, buf, 8192), VIRTQ_OK);
    assert_memory_equal(disk, buf, 8192);
    assert_int_equal(blk.stats.split, 3); /* 2560 x 3 + 512 */
    assert_clean();
    env_down();
}

static void blk_size_honoured(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    bp.blk_size = 4096;
    env_up(&bp, 0);
    assert_int_equal(blk.blk_size, 4096);
    assert_int_equal(vblk_read(&blk, 1, buf, 4096), VIRTQ_EINVAL);  /* misaligned sector */
    assert_int_equal(vblk_read(&blk, 8, buf, 512), VIRTQ_EINVAL);   /* part of a block */
    assert_int_equal(vblk_write(&blk, 8, buf, 6144), VIRTQ_EINVAL);
    assert_int_equal(q_stats().popped, 0);
    assert_int_equal(vblk_read(&blk, 8, buf, 8192), VIRTQ_OK);
    assert_memory_equal(buf, disk + 8 * 512, 8192);
    assert_clean();
    env_down();

    /* Advisory: a nonsense blk_size is ignored, not trusted. */
    bp = (struct virtq_fake_blk_params){0};
    bp.blk_size = 1000;
    env_up(&bp, 0);
    assert_int_equal(blk.blk_size, 512);
    assert_int_equal(vblk_read(&blk, 1, buf, 512), VIRTQ_OK);
    env_down();
}

static void capacity_honoured(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 1024};
    (void)state;
    env_up(&bp, 0);
    assert_int_equal(vblk_read(&blk, DISK_SECTORS - 1, buf, 1024), VBLK_ERANGE);
    assert_int_equal(vblk_write(&blk, DISK_SECTORS, buf, 512), VBLK_ERANGE);
    assert_int_equal(vblk_read(&blk, UINT64_MAX, buf, 512), VBLK_ERANGE);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, &seg, 1, NULL, 0),
                     VBLK_ERANGE);
    assert_int_equal(q_stats().popped, 0); /* refused before the device saw them */
    assert_int_equal(vblk_read(&blk, DISK_SECTORS - 2, buf, 1024), VIRTQ_OK);
    /* The device shrinks: its IOERR comes back as VBLK_EIO. */
    assert_int_equal(virtq_fake_blk_set_capacity(fd, 100), 0);
    assert_int_equal(vblk_read(&blk, 200, buf, 512), VBLK_EIO);
    assert_int_equal(blk.stats.errors, 1);
    assert_int_equal(free_reqs(), NREQ);
    assert_clean();
    env_down();
}

/* ---- a device that never completes ------------------------------------------------------ */

static void never_completes_blocking(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    char id[VBLK_ID_BYTES + 1];
    (void)state;
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, NREQ), VIRTQ_OK);
    assert_int_equal(virtq_fake_inject(fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 2), 0);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_ETIMEDOUT);
    assert_int_equal(vblk_get_id(&blk, id), VIRTQ_ETIMEDOUT);
    assert_int_equal(blk.stats.timeouts, 2);
    assert_int_equal(blk.inflight, 2); /* the device still holds them */
    assert_int_equal(free_reqs(), NREQ - 2);
    assert_int_equal(virtq_fake_in_flight(fd, 0), 2);
    /* The device works again, but the lost ones stay lost until a reset. */
    assert_int_equal(vblk_read(&blk, 1, buf, 512), VIRTQ_OK);
    assert_int_equal(vblk_reset(&blk), VIRTQ_OK);
    assert_int_equal(blk.inflight, 0);
    assert_int_equal(free_reqs(), NREQ); /* every request came back */
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_EINVAL); /* dead until re-init */
    struct vblk_params p = {ring, RING_BYTES, slots, QSIZE, reqs, NREQ, 0, SHORT_US};
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_OK);
    assert_memory_equal(buf, disk, 512);
    assert_clean();
    env_down();
}

static void never_completes_async(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    int got[4] = {0};
    void *tag;
    int result, rc;
    (void)state;
    env_up(&bp, 0);
    assert_int_equal(virtq_fake_inject(fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 2), 0);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, (void *)(uintptr_t)i, 0),
                         VIRTQ_OK);
    /* The third completed at once (synchronous fake); the first two never. */
    assert_int_equal(vblk_complete(&blk, &tag, &result, SHORT_US), VIRTQ_OK);
    assert_ptr_equal(tag, (void *)3);
    assert_int_equal(vblk_complete(&blk, &tag, &result, SHORT_US), VIRTQ_ETIMEDOUT);
    assert_int_equal(vblk_pending(&blk), 2);
    assert_int_equal(vblk_reset(&blk), VIRTQ_OK);
    while ((rc = vblk_poll(&blk, &tag, &result)) == VIRTQ_OK) {
        int i = (int)(uintptr_t)tag;
        assert_true(i == 1 || i == 2);
        assert_int_equal(got[i], 0); /* exactly once */
        got[i] = 1;
        assert_int_equal(result, VBLK_ECANCELED);
    }
    assert_int_equal(rc, VIRTQ_EAGAIN);
    assert_true(got[1] && got[2]);
    assert_int_equal(vblk_pending(&blk), 0);
    assert_int_equal(free_reqs(), NREQ);
    assert_clean();
    env_down();
}

/* A blocking call that timed out leaves its request with the device; when
   the device finally completes it, the driver drops it quietly. */
static void late_completion_after_timeout(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    assert_int_equal(env_up_rc(&bp, 0, SHORT_US, NREQ), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_ETIMEDOUT);
    assert_int_equal(free_reqs(), NREQ - 1);
    assert_int_equal(virtq_fake_step(fd, 0, -1), 1);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    assert_int_equal(vblk_read(&blk, 3, buf, 512), VIRTQ_OK);
    assert_memory_equal(buf, disk + 3 * 512, 512);
    assert_int_equal(free_reqs(), NREQ);
    assert_int_equal(blk.inflight, 0);
    assert_int_equal(vblk_pending(&blk), 0); /* not mistaken for an async one */
    assert_clean();
    env_down();
}

/* A device that breaks the ring protocol: EBROKEN, and reset hands back. */
static void broken_device(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    env_up(&bp, 0);
    assert_int_equal(virtq_fake_inject(fd, 0, VIRTQ_FAKE_FAULT_ID_RANGE, 1), 0);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_EBROKEN);
    assert_int_equal(vblk_read(&blk, 0, buf, 512), VIRTQ_EBROKEN);
    assert_int_equal(vblk_reset(&blk), VIRTQ_OK);
    assert_int_equal(free_reqs(), NREQ);
    env_down();
}

/* ---- wait strategies with a device thread --------------------------------------------------- */

static void cpu_isr(void *ctx)
{
    (void)virtq_dev_isr((struct virtq_dev *)ctx);
}

static void irq_to_isr(struct virtq_fake_dev *d, void *ctx)
{
    (void)d;
    (void)virtq_dev_isr((struct virtq_dev *)ctx);
}

/* Blocking reads, then 16 async ones in flight, all checked. */
static void workload(void)
{
    void *tag;
    int result, done = 0;
    for (int i = 0; i < 20; i++) {
        uint64_t s = (uint64_t)(i * 37) % DISK_SECTORS;
        assert_int_equal(vblk_read(&blk, s, buf, 512), VIRTQ_OK);
        assert_memory_equal(buf, disk + s * 512, 512);
    }
    pattern(buf2, 4096, 9);
    assert_int_equal(vblk_write(&blk, 64, buf2, 4096), VIRTQ_OK);
    assert_int_equal(vblk_flush(&blk), VIRTQ_OK);
    assert_memory_equal(disk + 64 * 512, buf2, 4096);
    for (int i = 0; i < 16; i++) {
        struct virtq_buf seg = {buf + (size_t)i * 1024u, 1024};
        assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, (uint64_t)i * 2u, &seg, 1,
                                     (void *)(uintptr_t)(i + 1), 0),
                         VIRTQ_OK);
    }
    while (done < 16) {
        assert_int_equal(vblk_complete(&blk, &tag, &result, 5000000u), VIRTQ_OK);
        int i = (int)(uintptr_t)tag - 1;
        assert_int_equal(result, VIRTQ_OK);
        virtq_dma_sync_for_cpu(buf + (size_t)i * 1024u, 1024); /* async IN: the caller's job */
        assert_memory_equal(buf + (size_t)i * 1024u, disk + (size_t)i * 1024u, 1024);
        done++;
    }
    assert_int_equal(blk.stats.timeouts, 0);
    assert_int_equal(free_reqs(), NREQ);
}

static void wait_spin_threaded(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    (void)state;
    bp.features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    env_up(&bp, 0);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_SPIN, NULL), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_OUT_OF_ORDER, 7);
    virtq_fake_set_thread_delay(fd, 200);
    assert_int_equal(virtq_fake_start_thread(fd), 0);
    workload();
    virtq_fake_stop_thread(fd);
    assert_int_equal(vdev.irqs, 0); /* nothing routed, nothing taken */
    assert_clean();
    env_down();
}

static void wait_wfi_threaded(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_fake_cpu_stats cs;
    (void)state;
    bp.features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX) | VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    env_up(&bp, 0);
    /* Wired after init, as on a board: handler, route, then tell virtq. */
    virtq_fake_cpu_set_isr(cpu_isr, &vdev);
    virtq_fake_connect_irq(fd, 1);
    virtq_dev_irq_routed(&vdev, 1);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_OUT_OF_ORDER, 8);
    virtq_fake_set_thread_delay(fd, 300);
    assert_int_equal(virtq_fake_start_thread(fd), 0);
    workload();
    virtq_fake_stop_thread(fd);
    virtq_fake_cpu_get_stats(&cs);
    assert_true(cs.wfi_calls > 0);
    assert_true(cs.wfi_irq_wakes > 0); /* the device interrupt ended the sleeps */
    assert_int_equal(cs.wfi_stuck, 0);
    assert_true(vdev.irqs > 0);
    assert_clean();
    env_down();
}

static void wait_os_threaded(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_fake_os *os = virtq_fake_os_create();
    struct virtq_fake_os_stats st;
    (void)state;
    assert_non_null(os);
    bp.version = 1;
    env_up(&bp, 0);
    virtq_fake_set_irq_callback(fd, irq_to_isr, &vdev);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_OS, os), VIRTQ_OK);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_OUT_OF_ORDER, 9);
    virtq_fake_set_thread_delay(fd, 300);
    assert_int_equal(virtq_fake_start_thread(fd), 0);
    workload();
    virtq_fake_stop_thread(fd);
    virtq_fake_os_get_stats(os, &st);
    assert_true(st.waits > 0);
    assert_true(st.wakes > 0); /* woken by the interrupt handler */
    assert_true(vdev.irqs > 0);
    assert_clean();
    env_down();
    virtq_fake_os_destroy(os);
}

/* A blocking call and async requests share the queue: completions of
   async requests the blocking call happens to take wait for vblk_poll. */
static void blocking_and_async_share_the_queue(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 512};
    void *tag;
    int result;
    (void)state;
    env_up(&bp, 0);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 5, &seg, 1, (void *)55, 0), VIRTQ_OK);
    assert_int_equal(virtq_fake_step(fd, 0, -1), 1); /* used, not yet taken */
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    /* The blocking read takes both completions off the ring. */
    assert_int_equal(vblk_read(&blk, 6, buf2, 512), VIRTQ_OK);
    assert_int_equal(blk.stats.completed, 2);
    assert_memory_equal(buf2, disk + 6 * 512, 512);
    assert_int_equal(vblk_pending(&blk), 1);
    assert_int_equal(vblk_poll(&blk, &tag, &result), VIRTQ_OK);
    assert_ptr_equal(tag, (void *)55);
    assert_int_equal(result, VIRTQ_OK);
    assert_memory_equal(buf, disk + 5 * 512, 512);
    assert_int_equal(vblk_poll(&blk, &tag, &result), VIRTQ_EAGAIN);
    assert_clean();
    env_down();
}

/* ---- non-coherent DMA: the fake's modelled write-back cache ------------------------- */

/* Run a functional test with the fake modelling a non-coherent data cache
   over buffer memory (seeded: each seed evicts and refills other lines at
   other moments).  Every driver move must keep the data right and the
   fake silent; the model must have been exercised both ways. */
static void in_cache_mode(void (*fn)(void **), uint64_t seed)
{
    virtq_fake_cache_enable(seed);
    fn(NULL);
    virtq_fake_cache_assert_exercised(1);
}

static void cache_rw_matrix(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        in_cache_mode(rw_matrix, seed);
}

static void cache_get_id(void **state)
{
    (void)state;
    in_cache_mode(get_id_full_length, 4);
}

static void cache_multi_segment(void **state)
{
    (void)state;
    in_cache_mode(multi_segment, 5);
}

static void cache_in_flight(void **state)
{
    (void)state;
    in_cache_mode(many_in_flight_out_of_order, 6);
}

/* The device completes from its own thread (random order and delays)
   while the driver spins, sleeps in wfi or blocks in the OS wait. */
static void threaded_in_cache_mode(void **state)
{
    (void)state;
    in_cache_mode(wait_spin_threaded, 8);
    in_cache_mode(wait_wfi_threaded, 9);
    in_cache_mode(wait_os_threaded, 10);
}

/* The reports name the buffer and the offset: a caller that writes its
   data after handing it over, and one that reads an async IN buffer
   without invalidating it. */
static void cache_reports_stale_reads(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct virtq_buf seg = {buf, 1024};
    char expect[160];
    void *tag;
    int result;
    (void)state;
    virtq_fake_cache_enable(7);
    virtq_fake_cache_set_rates(0, 0); /* no luck either way */
    env_up(&bp, 0);
    pattern(buf, 1024, 8);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_OUT, 4, &seg, 1, (void *)1, VBLK_NOKICK),
                     VIRTQ_OK);
    buf[600] ^= 0x5a; /* written after virtq_add cleaned it: the device cannot see it */
    assert_int_equal(vblk_kick(&blk), VIRTQ_OK);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_int_equal(virtq_fake_violation_count(), 1);
    snprintf(expect, sizeof expect, "segment %p offset 600 (q0 head", (void *)buf);
    assert_non_null(strstr(virtq_fake_last_violation(), expect));
    assert_non_null(strstr(virtq_fake_last_violation(), "never cleaned it (VIRTQ_DMA_SYNC_FOR_DEVICE)"));
    assert_int_not_equal(disk[4 * 512 + 600], buf[600]); /* the device wrote the stale byte */

    virtq_fake_clear_violations();
    memset(buf, 0, 1024);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 8, &seg, 1, (void *)2, 0), VIRTQ_OK);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 1000000u), VIRTQ_OK);
    assert_int_equal(result, VIRTQ_OK);
    /* No virtq_dma_sync_for_cpu(): the CPU still sees its zeros ... */
    assert_int_equal(buf[0], 0);
    assert_int_not_equal(disk[8 * 512], 0);
    /* ... and the model says so, at the check or at the next hand-over. */
    assert_int_equal(virtq_fake_cache_check(), 1);
    snprintf(expect, sizeof expect, "segment %p offset 0 (q0 head", (void *)buf);
    assert_non_null(strstr(virtq_fake_last_violation(), expect));
    assert_non_null(strstr(virtq_fake_last_violation(), "VIRTQ_DMA_SYNC_FOR_CPU"));
    assert_non_null(strstr(virtq_fake_last_violation(), "16 lines in all"));
    virtq_fake_clear_violations();
    env_down();
    virtq_fake_cache_set_rates(25, 25);
    assert_int_equal(virtq_fake_cache_disable(), 0);
    assert_clean();
}

/* ---- bad parameters and bad config ---------------------------------------------------------- */

static void bad_params(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct vblk_params p = {ring, RING_BYTES, slots, QSIZE, reqs, NREQ, 0, 0};
    struct virtq_buf seg = {buf, 512};
    (void)state;
    env_up(&bp, 0);
    p.ring_bytes = VIRTQ_RING_BYTES(QSIZE, VIRTQ_ALIGN_LEGACY) - 1u;
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_EINVAL);
    p.ring_bytes = RING_BYTES;
    p.reqs = (struct vblk_req *)((uint8_t *)reqs + 8);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_EINVAL);
    p.reqs = reqs;
    p.nreqs = 0;
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_EINVAL);
    p.nreqs = NREQ;
    p.ring = ring + 16;
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_EINVAL);
    p.ring = ring;
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(vblk_read(&blk, 0, NULL, 512), VIRTQ_EINVAL);
    assert_int_equal(vblk_read(&blk, 0, buf, 0), VIRTQ_EINVAL);
    assert_int_equal(vblk_read(&blk, 0, buf, 100), VIRTQ_EINVAL);
    assert_int_equal(vblk_submit(&blk, 99, 0, &seg, 1, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, NULL, 1, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_FLUSH, 0, &seg, 1, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_GET_ID, 0, &seg, 1, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_GET_ID, 0, NULL, 0, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(q_stats().popped, 0);
    assert_int_equal(free_reqs(), NREQ);
    assert_clean();
    env_down();

    /* Not a block device. */
    struct virtq_fake_params fp = {0};
    fp.device_id = VIRTIO_ID_RNG;
    fp.num_queues = 1;
    fd = virtq_fake_create(&fp);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_ENODEV);
    env_down();
}

static void bad_config(void **state)
{
    struct virtq_fake_blk_params bp = {0};
    struct vblk_params p = {ring, RING_BYTES, slots, QSIZE, reqs, NREQ, 0, 0};
    uint8_t zero[4] = {0}, small[4] = {0x00, 0x01, 0, 0}; /* 256 */
    (void)state;
    env_up(&bp, 0);
    /* seg_max 0: advisory, taken as one data segment per request (Linux). */
    assert_int_equal(virtq_fake_config_set(fd, VIRTIO_BLK_CFG_SEG_MAX, zero, 4, 0), 0);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(blk.seg_max, 1);
    assert_int_equal(blk.max_segs, 1);
    pattern(buf, 8192, 7);
    assert_int_equal(vblk_write(&blk, 0, buf, 8192), VIRTQ_OK);
    assert_memory_equal(disk, buf, 8192);
    assert_clean();
    env_down();

    /* size_max 0 (qemu-storage-daemon's vhost-user-blk export) and below a
       sector: 4 KiB segments, Linux's floor; I/O goes through. */
    bp = (struct virtq_fake_blk_params){0};
    env_up(&bp, 0);
    assert_int_equal(virtq_fake_config_set(fd, VIRTIO_BLK_CFG_SIZE_MAX, zero, 4, 0), 0);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(blk.size_max, VBLK_MIN_SIZE_MAX);
    assert_int_equal(blk.seg_bytes, VBLK_MIN_SIZE_MAX);
    assert_int_equal(vblk_read(&blk, 0, buf, 8192), VIRTQ_OK);
    assert_int_equal(virtq_fake_config_set(fd, VIRTIO_BLK_CFG_SIZE_MAX, small, 4, 0), 0);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(blk.seg_bytes, VBLK_MIN_SIZE_MAX);
    /* Not negotiated: no limit from the device at all. */
    p.refuse = VIRTQ_FEATURE(VIRTIO_BLK_F_SIZE_MAX);
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    assert_int_equal(blk.size_max, 0);
    assert_int_equal(vblk_read(&blk, 0, buf, 8192), VIRTQ_OK);
    assert_clean();
    env_down();
}

static void strerror_names(void **state)
{
    (void)state;
    assert_string_equal(vblk_strerror(VBLK_EIO), "device I/O error");
    assert_string_equal(vblk_strerror(VBLK_ECANCELED), "cancelled by reset");
    assert_string_equal(vblk_strerror(VIRTQ_ETIMEDOUT), virtq_strerror(VIRTQ_ETIMEDOUT));
}

static int group_setup(void **state)
{
    (void)state;
    ring = virtq_fake_lowmem_alloc(RING_BYTES);
    return ring == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    virtq_fake_lowmem_free(ring);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rw_matrix),
        cmocka_unit_test(get_id_full_length),
        cmocka_unit_test(multi_segment),
        cmocka_unit_test(many_in_flight_out_of_order),
        cmocka_unit_test(pool_exhaustion_and_reuse),
        cmocka_unit_test(read_only_write_is_an_error),
        cmocka_unit_test(read_only_cannot_be_refused),
        cmocka_unit_test(seg_max_size_max),
        cmocka_unit_test(size_max_odd),
        cmocka_unit_test(blk_size_honoured),
        cmocka_unit_test(capacity_honoured),
        cmocka_unit_test(never_completes_blocking),
        cmocka_unit_test(never_completes_async),
        cmocka_unit_test(late_completion_after_timeout),
        cmocka_unit_test(broken_device),
        cmocka_unit_test(wait_spin_threaded),
        cmocka_unit_test(wait_wfi_threaded),
        cmocka_unit_test(wait_os_threaded),
        cmocka_unit_test(blocking_and_async_share_the_queue),
        cmocka_unit_test(bad_params),
        cmocka_unit_test(bad_config),
        cmocka_unit_test(strerror_names),
        cmocka_unit_test(queue_reset_over_pci),
        cmocka_unit_test(queue_reset_that_never_finishes),
        cmocka_unit_test(cache_rw_matrix),
        cmocka_unit_test(cache_get_id),
        cmocka_unit_test(cache_multi_segment),
        cmocka_unit_test(cache_in_flight),
        cmocka_unit_test(threaded_in_cache_mode),
        cmocka_unit_test(cache_reports_stale_reads),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* e.g. 'cache_*' */
    return cmocka_run_group_tests_name("blk", tests, group_setup, group_teardown);
}
