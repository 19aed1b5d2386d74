/* SPDX-License-Identifier: MIT */
/* Probe, the status machine and queue setup ("Device Initialization",
   "MMIO Device Register Layout", "Legacy interface"), legacy and modern. */
#include "core.h"

#define BLK_BITS                                                                                  \
    (VIRTQ_FEATURE(VIRTIO_BLK_F_SIZE_MAX) | VIRTQ_FEATURE(VIRTIO_BLK_F_SEG_MAX) |                 \
     VIRTQ_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VIRTQ_FEATURE(VIRTIO_BLK_F_FLUSH))
#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define F_V1 VIRTQ_FEATURE(VIRTIO_F_VERSION_1)
#define ST_AD (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)

static uintptr_t base_of(const struct rig *r)
{
    return virtq_fake_base(r->fd);
}

/* ---- probe ----------------------------------------------------------------- */

static void probe_version(int version)
{
    struct rig *r = rig_new(version, 0, 0);
    struct virtq_fake_stats st;
    memset(&r->dev, 0x5a, sizeof r->dev);
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
    assert_int_equal(r->dev.base, base_of(r));
    assert_int_equal(r->dev.transport, VIRTQ_TRANSPORT_MMIO);
    assert_int_equal(r->dev.version, version);
    assert_int_equal(r->dev.device_id, VIRTIO_ID_BLOCK);
    assert_int_equal(r->dev.vendor_id, 0x554d4551u); /* the fake's default, "QEMU" */
    assert_int_equal(r->dev.wait, VIRTQ_WAIT_SPIN);
    assert_int_equal(r->dev.device_features, 0);
    assert_int_equal(r->dev.features, 0);
    assert_int_equal(r->dev.irqs, 0);
    assert_int_equal(r->dev.notifies, 0);
    assert_int_equal(r->dev.spurious, 0);
    assert_int_equal(r->dev.wake_seq, 0);
    assert_null(r->dev.os_ctx);
    assert_null(r->dev.user);
    /* Probing touches no status and writes no register. */
    virtq_fake_get_stats(r->fd, &st);
    assert_int_equal(st.status_writes, 0);
    assert_int_equal(core_mmio_writes(base_of(r)), 0);
    assert_int_equal(virtq_fake_status(r->fd), 0);
    rig_free(r);
}

static void probe_legacy(void **state)
{
    (void)state;
    probe_version(1);
}

static void probe_modern(void **state)
{
    (void)state;
    probe_version(2);
}

static void probe_other_ids(void **state)
{
    struct virtq_fake_params p;
    struct virtq_fake_dev *fd;
    struct virtq_dev dev;
    (void)state;
    memset(&p, 0, sizeof p);
    p.version = 2;
    p.device_id = VIRTIO_ID_RNG;
    p.vendor_id = 0x1af4u;
    p.features = F_V1;
    p.num_queues = 1;
    fd = virtq_fake_create(&p);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&dev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(dev.device_id, VIRTIO_ID_RNG);
    assert_int_equal(dev.vendor_id, 0x1af4u);
    virtq_fake_destroy(fd);
}

/* "Device ID 0 is a placeholder": an empty slot, as QEMU virt shows 32. */
static void probe_empty_slot(void **state)
{
    struct virtq_fake_params p;
    struct virtq_dev dev, before;
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct virtq_fake_dev *fd;
        memset(&p, 0, sizeof p);
        p.version = v;
        p.device_id = 0;
        fd = virtq_fake_create(&p);
        assert_non_null(fd);
        memset(&dev, 0x5a, sizeof dev);
        before = dev;
        assert_int_equal(virtq_mmio_probe(&dev, virtq_fake_base(fd)), VIRTQ_ENODEV);
        assert_memory_equal(&dev, &before, sizeof dev); /* untouched */
        assert_int_equal(core_mmio_writes(virtq_fake_base(fd)), 0);
        virtq_fake_destroy(fd);
    }
}

static void probe_bad_magic(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    struct virtq_dev before;
    (void)state;
    memset(&r->dev, 0x5a, sizeof r->dev);
    before = r->dev;
    core_mmio_override(base_of(r) + VIRTIO_MMIO_MAGIC_VALUE, 0x12345678u);
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_ENODEV);
    core_mmio_reset();
    /* "virt" byte-swapped: a big-endian view of a real device is not one. */
    core_mmio_override(base_of(r) + VIRTIO_MMIO_MAGIC_VALUE, 0x76697274u);
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_ENODEV);
    assert_memory_equal(&r->dev, &before, sizeof before);
    assert_int_equal(core_mmio_writes(base_of(r)), 0);
    rig_free(r);
}

/* Nothing mapped at all: the fake reports the stray access (a bus error on
   hardware) and reads 0, which is no magic. */
static void probe_nothing_there(void **state)
{
    struct virtq_dev dev;
    (void)state;
    core_expect_violations(1);
    assert_int_equal(virtq_mmio_probe(&dev, (uintptr_t)0x20000000u), VIRTQ_ENODEV);
    core_expect_violation("no fake device there");
    core_expect_violations(0);
    assert_int_equal(virtq_mmio_probe(NULL, (uintptr_t)0x10001000u), VIRTQ_EINVAL);
    assert_int_equal(virtq_mmio_probe(&dev, 0), VIRTQ_EINVAL);
}

static void probe_unknown_version(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    struct virtq_dev before;
    static const uint32_t versions[] = {3, 0, 0xffffffffu};
    unsigned i;
    (void)state;
    memset(&r->dev, 0x5a, sizeof r->dev);
    before = r->dev;
    for (i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        core_mmio_reset();
        core_mmio_override(base_of(r) + VIRTIO_MMIO_VERSION, versions[i]);
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_ENOTSUP);
        assert_memory_equal(&r->dev, &before, sizeof before);
    }
    rig_free(r);
}

/* ---- begin and negotiate ----------------------------------------------------------- */

static void begin_reads_features(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, F_EVENT | F_INDIRECT, 0);
        struct virtq_fake_stats st;
        struct virtq_dev unprobed;
        memset(&unprobed, 0, sizeof unprobed);
        assert_int_equal(virtq_dev_begin(&unprobed), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_begin(NULL), VIRTQ_EINVAL);
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_fake_status(r->fd), ST_AD);
        assert_int_equal(r->dev.device_features, BLK_BITS | F_EVENT | F_INDIRECT | (v == 2 ? F_V1 : 0));
        virtq_fake_get_stats(r->fd, &st);
        assert_int_equal(st.resets, 1); /* begin starts with a reset */
        assert_int_equal(st.stale_feature_reads, 0);
        rig_free(r);
    }
}

/* Accept wanted & offered only; legacy never gets bit 32. */
static void negotiate_wanted_and_offered(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, F_EVENT | F_INDIRECT, 0);
        uint64_t wanted = F_EVENT | VIRTQ_FEATURE(VIRTIO_BLK_F_RO) | VIRTQ_FEATURE(40) | F_V1;
        uint64_t expect = F_EVENT | (v == 2 ? F_V1 : 0);
        unsigned w;
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
        if (v == 1) /* even if a legacy device claimed it, its register cannot show it */
            virtq_fake_set_offered_features(r->fd, BLK_BITS | F_EVENT | F_INDIRECT | F_V1);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&r->dev, wanted, 0), VIRTQ_OK);
        assert_int_equal(r->dev.features, expect);
        assert_int_equal(virtq_fake_driver_features(r->fd), expect);
        assert_int_equal(virtq_fake_status(r->fd), ST_AD | (v == 2 ? VIRTIO_STATUS_FEATURES_OK : 0));
        if (v == 1) {
            assert_int_equal(r->dev.device_features & F_V1, 0);
            assert_int_equal(virtq_fake_driver_features(r->fd) >> 32, 0);
        }
        /* A second negotiation is out of order: refused, nothing written. */
        w = core_mmio_writes(base_of(r));
        assert_int_equal(virtq_dev_negotiate(&r->dev, 0, 0), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        assert_int_equal(r->dev.features, expect);
        rig_free(r);
    }
}

/* The device ends FAILED; after a new begin (which resets it) the device
   initialises normally. */
static void assert_failed_then_recovers(struct rig *r, uint64_t wanted)
{
    assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_FAILED);
    assert_false(virtq_fake_status(r->fd) & VIRTIO_STATUS_FEATURES_OK);
    assert_int_equal(r->dev.features, 0);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_EINVAL);
    assert_false(virtq_fake_queue_ready(r->fd, 0));
    rig_reinit(r, wanted, 8);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
    rig_io(r, VIRTIO_BLK_T_IN, 3, 1, SH_PLAIN, 0);
}

static void negotiate_required_missing(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, F_EVENT, 0);
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT, F_INDIRECT | F_EVENT), VIRTQ_ENOTSUP);
        assert_int_equal(virtq_fake_driver_features(r->fd), 0); /* nothing accepted */
        assert_failed_then_recovers(r, F_EVENT);
        rig_free(r);
    }
}

/* A device offering the packed ring: virtq cannot drive it, so it is never
   accepted when merely wanted, and required means ENOTSUP + FAILED. */
static void negotiate_packed_ring_refused(void **state)
{
    const uint64_t packed = VIRTQ_FEATURE(VIRTIO_F_RING_PACKED);
    struct rig *r = rig_new(2, F_EVENT, 0);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
    virtq_fake_set_offered_features(r->fd, BLK_BITS | F_V1 | F_EVENT | packed);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_true(r->dev.device_features & packed);
    assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT | packed, 0), VIRTQ_OK);
    assert_int_equal(r->dev.features & packed, 0);
    assert_int_equal(virtq_fake_driver_features(r->fd) & packed, 0);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_OK);
    /* Required: refused like any bit virtq cannot honour. */
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, 0, packed), VIRTQ_ENOTSUP);
    assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_FAILED);
    rig_free(r);
}

/* A modern device must be driven as one: no VERSION_1, no deal. */
static void negotiate_modern_without_version1(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
    virtq_fake_set_offered_features(r->fd, BLK_BITS);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, F_V1, 0), VIRTQ_ENOTSUP);
    virtq_fake_set_offered_features(r->fd, BLK_BITS | F_V1);
    assert_failed_then_recovers(r, 0);
    rig_free(r);
}

static void negotiate_features_ok_refused(void **state)
{
    struct rig *r = rig_new(2, F_EVENT, 0);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
    virtq_fake_refuse_features_ok(r->fd, 1);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT, 0), VIRTQ_EIO);
    virtq_fake_refuse_features_ok(r->fd, 0);
    assert_failed_then_recovers(r, F_EVENT);
    rig_free(r);
}

/* Negotiation belongs between begin (ACKNOWLEDGE, DRIVER) and
   FEATURES_OK: before begin, or on a device left FAILED, it is refused
   without touching the device. */
static void negotiate_out_of_order(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, F_EVENT, 0);
        unsigned w = core_mmio_writes(base_of(r)); /* the window may have served an earlier device */
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT, 0), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        assert_int_equal(virtq_fake_status(r->fd), 0);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&r->dev, 0, F_INDIRECT), VIRTQ_ENOTSUP);
        w = core_mmio_writes(base_of(r));
        assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT, 0), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        assert_failed_then_recovers(r, F_EVENT);
        rig_free(r);
    }
}

/* virtq_dev_fail marks the device FAILED; the driver's later checks see it. */
static void fail_marks_failed(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    (void)state;
    rig_up(r, 0, 8);
    virtq_dev_fail(&r->dev);
    assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_FAILED);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 0), VIRTQ_EBROKEN); /* the queue follows */
    rig_reset_detach(r);
    rig_reinit(r, 0, 8);
    rig_io(r, VIRTIO_BLK_T_IN, 0, 2, SH_PLAIN, 0);
    rig_free(r);
}

/* ---- queue setup --------------------------------------------------------------------- */

static void negotiated(struct rig *r, uint64_t wanted)
{
    assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, wanted, 0), VIRTQ_OK);
}

static void queue_missing(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct virtq before;
        memset(&r->vq, 0x5a, sizeof r->vq);
        before = r->vq;
        negotiated(r, 0);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 1, 8, r->ring, r->slots), VIRTQ_ENODEV);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 7, 8, r->ring, r->slots), VIRTQ_ENODEV);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0xffff, 8, r->ring, r->slots), VIRTQ_ENODEV);
        assert_memory_equal(&r->vq, &before, sizeof before);
        assert_false(virtq_fake_queue_ready(r->fd, 0));
        /* The real queue still sets up. */
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_OK);
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
        rig_io(r, VIRTIO_BLK_T_IN, 1, 1, SH_PLAIN, 0);
        rig_free(r);
    }
}

/* num is a wish: min(num, QueueNumMax, 32768) rounded down to a power of two. */
static void queue_size_shrinks(void **state)
{
    static const struct {
        uint16_t qmax;
        uint32_t wish, got;
    } cases[] = {
        {100, 1000, 64}, {100, 100, 64}, {128, 48, 32}, {128, 65536, 128},
        {128, 1, 1},     {256, 255, 128}, {3, 200, 2},
    };
    unsigned i;
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct rig *r = rig_new(v, 0, cases[i].qmax);
            struct virtq_fake_queue_view view;
            negotiated(r, 0);
            assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 0, r->ring, r->slots), VIRTQ_EINVAL);
            assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, cases[i].wish, r->ring, r->slots),
                             VIRTQ_OK);
            assert_int_equal(r->vq.num, cases[i].got);
            assert_int_equal(virtq_fake_queue_view(r->fd, 0, &view), 0);
            assert_int_equal(view.num, cases[i].got);
            assert_ptr_equal(view.desc, r->ring);
            assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
            if (cases[i].got >= 3) /* a blk request takes 3 descriptors */
                rig_io(r, VIRTIO_BLK_T_IN, i, 1, SH_PLAIN, 0);
            rig_free(r);
        }
    }
}

static void queue_live_is_busy(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct rig *other = rig_new(v, 0, 0); /* only for its memory */
        struct virtq before;
        struct virtq_fake_queue_view view;
        negotiated(r, 0);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 16, r->ring, r->slots), VIRTQ_OK);
        memset(&other->vq, 0x5a, sizeof other->vq);
        before = other->vq;
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &other->vq, 0, 16, other->ring, other->slots),
                         VIRTQ_EBUSY);
        assert_memory_equal(&other->vq, &before, sizeof before);
        assert_int_equal(virtq_fake_queue_view(r->fd, 0, &view), 0);
        assert_ptr_equal(view.desc, r->ring); /* the live queue is untouched */
        assert_int_equal(view.num, 16);
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
        rig_io(r, VIRTIO_BLK_T_IN, 2, 2, SH_PLAIN, 0);
        rig_free(other);
        rig_free(r);
    }
}

/* Legacy: one region on a 4096 boundary, named by a 32-bit page number
   (so below 2^44).  Modern: 16-byte aligned descriptor table. */
static void queue_memory_rules(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    void *high = aligned_alloc(4096, r->ring_bytes + 4096u);
    (void)state;
    assert_non_null(high);
    negotiated(r, 0);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring + 64, r->slots), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring + 2048, r->slots), VIRTQ_EINVAL);
    /* Host heap sits above 2^44: its page number does not fit QueuePFN. */
    assert_true(((uint64_t)(uintptr_t)high >> 44) != 0);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, high, r->slots), VIRTQ_EINVAL);
    assert_false(virtq_fake_queue_ready(r->fd, 0));
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, NULL, r->slots), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, NULL, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
    rig_io(r, VIRTIO_BLK_T_IN, 5, 1, SH_PLAIN, 0);
    rig_free(r);

    r = rig_new(2, 0, 0);
    negotiated(r, 0);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring + 8, r->slots), VIRTQ_EINVAL);
    assert_false(virtq_fake_queue_ready(r->fd, 0));
    /* 16 is enough for a modern ring, and the heap is fine. */
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, (uint8_t *)high + 16, r->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
    rig_io(r, VIRTIO_BLK_T_IN, 6, 1, SH_PLAIN, 0);
    rig_free(r);
    free(high);
}

/* Calls out of order are refused and write nothing to the device. */
static void calls_out_of_order(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct virtq before;
        unsigned w = core_mmio_writes(base_of(r)); /* the window may have served an earlier device */
        memset(&r->vq, 0x5a, sizeof r->vq);
        before = r->vq;
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
        assert_int_equal(virtq_mmio_probe(&r->dev, base_of(r)), VIRTQ_OK);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        w = core_mmio_writes(base_of(r));
        /* Before negotiate. */
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        assert_int_equal(virtq_fake_status(r->fd), ST_AD);
        assert_memory_equal(&r->vq, &before, sizeof before);
        assert_false(virtq_fake_queue_ready(r->fd, 0));
        /* In order, then late calls. */
        assert_int_equal(virtq_dev_negotiate(&r->dev, 0, 0), VIRTQ_OK);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_OK);
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
        w = core_mmio_writes(base_of(r));
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 8, r->ring, r->slots), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_negotiate(&r->dev, 0, 0), VIRTQ_EINVAL);
        assert_int_equal(core_mmio_writes(base_of(r)), w);
        rig_io(r, VIRTIO_BLK_T_IN, 7, 1, SH_PLAIN, 0);
        rig_free(r);
    }
}

int core_group_init(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(probe_legacy),
        CORE_TEST(probe_modern),
        CORE_TEST(probe_other_ids),
        CORE_TEST(probe_empty_slot),
        CORE_TEST(probe_bad_magic),
        CORE_TEST(probe_nothing_there),
        CORE_TEST(probe_unknown_version),
        CORE_TEST(begin_reads_features),
        CORE_TEST(negotiate_wanted_and_offered),
        CORE_TEST(negotiate_packed_ring_refused),
        CORE_TEST(negotiate_required_missing),
        CORE_TEST(negotiate_modern_without_version1),
        CORE_TEST(negotiate_features_ok_refused),
        CORE_TEST(negotiate_out_of_order),
        CORE_TEST(fail_marks_failed),
        CORE_TEST(queue_missing),
        CORE_TEST(queue_size_shrinks),
        CORE_TEST(queue_live_is_busy),
        CORE_TEST(queue_memory_rules),
        CORE_TEST(calls_out_of_order),
    };
    return cmocka_run_group_tests_name("core: probe, status machine, queue setup", tests, NULL, NULL);
}
