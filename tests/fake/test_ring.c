/* SPDX-License-Identifier: MIT */
/* The device side of the split ring, driven by hand: blk requests through
   the blk model, every chain and ring rule, interrupt and notification
   suppression. */
#include "minidrv.h"

#define SECTORS 16
static uint8_t disk[SECTORS * 512];

static struct virtq_fake_dev *blk(int version, uint64_t features, int ro)
{
    struct virtq_fake_blk_params bp;
    memset(&bp, 0, sizeof bp);
    bp.version = version;
    bp.image = disk;
    bp.image_bytes = sizeof disk;
    bp.features = features;
    bp.read_only = ro;
    bp.serial = "fake-serial-01";
    bp.queue_num_max = 16;
    for (size_t i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i / 512);
    return virtq_fake_blk_create(&bp);
}

static void blk_io(int version)
{
    struct virtq_fake_dev *d = blk(version, 0, 0);
    struct virtq_fake_blk_stats bs;
    struct md m;
    uint8_t buf[1024], st = 0xee;
    char id[20];
    int irqs = 0;
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    md_init(&m, virtq_fake_base(d), 0, 16);
    /* Write two sectors at sector 3, read them back. */
    memset(buf, 0xa5, sizeof buf);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_OUT, 3, buf, sizeof buf, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(disk[3 * 512], 0xa5);
    assert_int_equal(disk[5 * 512 - 1], 0xa5);
    assert_int_equal(disk[5 * 512], 5);
    memset(buf, 0, sizeof buf);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_IN, 2, buf, sizeof buf, &st), 1025);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(buf[0], 2);
    assert_int_equal(buf[512], 0xa5);
    /* Flush, GET_ID, an unknown type, beyond the capacity. */
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_GET_ID, 0, id, sizeof id, &st), 21);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_string_equal(id, "fake-serial-01");
    assert_int_equal(md_blk(&m, 99, 0, NULL, 0, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_IN, SECTORS - 1, buf, sizeof buf, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_IOERR);
    assert_int_equal(irqs, 6);
    virtq_fake_blk_get_stats(d, &bs);
    assert_int_equal(bs.writes, 1);
    assert_int_equal(bs.reads, 1);
    assert_int_equal(bs.flushes, 1);
    assert_int_equal(bs.get_ids, 1);
    assert_int_equal(bs.unsupp, 1);
    assert_int_equal(bs.ioerr, 1);
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);
}

static void blk_io_modern(void **state)
{
    (void)state;
    blk_io(2);
}

static void blk_io_legacy(void **state)
{
    (void)state;
    blk_io(1);
}

static void blk_read_only(void **state)
{
    struct virtq_fake_dev *d = blk(2, 0, 1);
    struct md m;
    uint8_t buf[512], st;
    (void)state;
    md_init(&m, virtq_fake_base(d), VIRTQ_FEATURE(VIRTIO_BLK_F_RO), 16);
    assert_true(m.offered & VIRTQ_FEATURE(VIRTIO_BLK_F_RO));
    memset(buf, 0x5a, sizeof buf);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_OUT, 1, buf, sizeof buf, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_IOERR);
    assert_int_equal(disk[512], 1); /* not written */
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);
}

/* One request through an indirect table; and the capacity changing. */
static void blk_indirect_and_resize(void **state)
{
    struct virtq_fake_dev *d = blk(2, VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC), 0);
    struct virtq_fake_stats fs;
    struct md m;
    struct md_blk r = {{VIRTIO_BLK_T_IN, 0, 4}, 0xff};
    struct virtq_desc table[4] __attribute__((aligned(16)));
    uint8_t a[512], b[512];
    uint32_t id, len;
    int irqs = 0;
    (void)state;
    md_init(&m, virtq_fake_base(d), VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC), 16);
    table[0] = (struct virtq_desc){(uint64_t)(uintptr_t)&r.hdr, 16, VIRTQ_DESC_F_NEXT, 1};
    table[1] = (struct virtq_desc){(uint64_t)(uintptr_t)a, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2};
    table[2] = (struct virtq_desc){(uint64_t)(uintptr_t)b, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3};
    table[3] = (struct virtq_desc){(uint64_t)(uintptr_t)&r.status, 1, VIRTQ_DESC_F_WRITE, 0};
    md_desc(&m, 5, table, sizeof table, VIRTQ_DESC_F_INDIRECT, 0);
    md_publish(&m, 5);
    md_notify(&m, 0);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 5);
    assert_int_equal(len, 1025);
    assert_int_equal(r.status, VIRTIO_BLK_S_OK);
    assert_int_equal(a[0], 4);
    assert_int_equal(b[511], 5);
    virtq_fake_get_stats(d, &fs);
    assert_int_equal(fs.q[0].indirect, 1);
    assert_int_equal(fs.q[0].max_chain, 4);
    /* The device shrinks: config change interrupt, reads beyond now fail. */
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    assert_int_equal(virtq_fake_blk_set_capacity(d, 4), 0);
    assert_int_equal(irqs, 1);
    assert_true(md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(virtq_fake_mmio_read(m.base + VIRTIO_MMIO_CONFIG, 4), 4);
    {
        uint8_t st;
        assert_int_equal(md_blk(&m, VIRTIO_BLK_T_IN, 4, a, sizeof a, &st), 1);
        assert_int_equal(st, VIRTIO_BLK_S_IOERR);
    }
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);
}

/* Malformed blk requests: each reported, each answered with IOERR. */
static void blk_violations(void **state)
{
    struct virtq_fake_dev *d = blk(2, 0, 0);
    struct md m;
    struct md_blk r;
    uint8_t buf[1024], st;
    uint32_t id, len;
    (void)state;
    md_init(&m, virtq_fake_base(d), VIRTQ_FEATURE(VIRTIO_BLK_F_SEG_MAX) | VIRTQ_FEATURE(VIRTIO_BLK_F_SIZE_MAX), 16);
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_IN, 0, buf, 100, &st), 1);
    assert_int_equal(st, VIRTIO_BLK_S_IOERR);
    assert_violation("5.2.6 \"Device Operation\" (Block Device)", "data of 100 bytes is not a multiple of 512");
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_FLUSH, 7, NULL, 0, &st), 1);
    assert_violation("VIRTIO_BLK_T_FLUSH with sector 7");
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_GET_ID, 0, buf, 16, &st), 1);
    assert_violation("VIRTIO_BLK_T_GET_ID with 0 readable and 16 writable");
    assert_int_equal(md_blk(&m, VIRTIO_BLK_T_IN, 0, buf, 512 * 200, &st), 1);
    assert_violation("exceeds size_max 65536");
    /* IN whose data is device-readable. */
    md_blk_chain(&m, 0, &r, VIRTIO_BLK_T_IN, 0, buf, 512);
    m.desc[1].flags = VIRTQ_DESC_F_NEXT;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("VIRTIO_BLK_T_IN request with 512 device-readable data bytes");
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
    /* OUT whose data is device-writable. */
    md_blk_chain(&m, 0, &r, VIRTIO_BLK_T_OUT, 0, buf, 512);
    m.desc[1].flags = VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("VIRTIO_BLK_T_OUT request with 512 device-writable data bytes");
    assert_true(md_get(&m, &id, &len));
    /* A short header. */
    md_blk_chain(&m, 0, &r, VIRTIO_BLK_T_IN, 0, buf, 512);
    m.desc[0].len = 8;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("without a 16-byte device-readable header");
    assert_true(md_get(&m, &id, &len));
    /* No status byte at all. */
    md_desc(&m, 0, &r.hdr, 16, 0, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("without a device-writable status byte");
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(len, 0);
    /* Header, data and status in one merged layout are fine on a modern
       device ("Message Framing"): data+status share one descriptor. */
    r.hdr = (struct virtio_blk_outhdr){VIRTIO_BLK_T_IN, 0, 1};
    md_desc(&m, 0, &r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&m, 1, buf, 513, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(len, 513);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[512], VIRTIO_BLK_S_OK);
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);

    /* seg_max counts data segments only. */
    {
        struct virtq_fake_blk_params bp = {.image = disk, .image_bytes = sizeof disk, .seg_max = 2};
        uint8_t s1[512], s2[512], s3[512];
        d = virtq_fake_blk_create(&bp);
        md_init(&m, virtq_fake_base(d), VIRTQ_FEATURE(VIRTIO_BLK_F_SEG_MAX), 16);
        r.hdr = (struct virtio_blk_outhdr){VIRTIO_BLK_T_IN, 0, 0};
        md_desc(&m, 0, &r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
        md_desc(&m, 1, s1, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        md_desc(&m, 2, s2, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
        md_desc(&m, 3, &r.status, 1, VIRTQ_DESC_F_WRITE, 0);
        md_publish(&m, 0);
        md_notify(&m, 0);
        assert_true(md_get(&m, &id, &len));
        assert_clean();
        md_desc(&m, 2, s2, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
        md_desc(&m, 4, s3, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
        md_publish(&m, 0);
        md_notify(&m, 0);
        assert_violation("3 data segments, more than seg_max 2");
        virtq_fake_destroy(d);
        md_free(&m);
    }
    /* Legacy without ANY_LAYOUT: header alone, status alone. */
    d = blk(1, 0, 0);
    md_init(&m, virtq_fake_base(d), 0, 16);
    r.hdr = (struct virtio_blk_outhdr){VIRTIO_BLK_T_IN, 0, 0};
    md_desc(&m, 0, &r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&m, 1, buf, 513, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("5.2.6.3 \"Legacy Interface: Framing Requirements\"", "status must be a separate 1-byte");
    virtq_fake_destroy(d);
    md_free(&m);
}

/* ---- chain and ring rules on a model-less device ---- */

static struct virtq_fake_dev *dev;
static struct md m;
static uint8_t b0[64], b1[64];

static void setup_plain(uint64_t features)
{
    dev = plain_dev(2, features, 8);
    md_init(&m, virtq_fake_base(dev), features, 8);
}

static void teardown_plain(void)
{
    virtq_fake_destroy(dev);
    md_free(&m);
}

/* Publish head, notify, expect the violation and a broken queue. */
static void expect_broken(uint16_t head)
{
    int irqs = 0;
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    md_publish(&m, head);
    md_notify(&m, 0);
    assert_int_equal(md_used_idx(&m), 0);
    assert_true(virtq_fake_status(dev) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(irqs, 1);
    assert_int_equal(virtq_fake_interrupt_status(dev), VIRTIO_MMIO_INT_CONFIG);
}

static void chain_readable_after_writable(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 0, b0, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    md_desc(&m, 3, b1, 8, 0, 0);
    expect_broken(0);
    assert_violation("2.7.4 \"Message Framing\"", "readable descriptor 3 after a writable one", "q0");
    teardown_plain();
}

static void chain_next_out_of_range(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 0, b0, 8, VIRTQ_DESC_F_NEXT, 8);
    expect_broken(0);
    assert_violation("2.7.5 \"The Virtqueue Descriptor Table\"", "next 8 is beyond Queue Size 8");
    teardown_plain();
}

static void chain_loop(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 1, b0, 8, VIRTQ_DESC_F_NEXT, 2);
    md_desc(&m, 2, b0, 8, VIRTQ_DESC_F_NEXT, 1);
    expect_broken(1);
    assert_violation("2.7.5", "loops back to descriptor 1");
    teardown_plain();
}

static void chain_zero_address(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 0, NULL, 8, 0, 0);
    expect_broken(0);
    assert_violation("2.7.5", "descriptor 0 has address 0");
    teardown_plain();
}

static void chain_indirect_not_negotiated(void **state)
{
    struct virtq_desc t[1] __attribute__((aligned(16)));
    (void)state;
    setup_plain(0);
    t[0] = (struct virtq_desc){(uint64_t)(uintptr_t)b0, 8, 0, 0};
    md_desc(&m, 0, t, sizeof t, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("2.7.5.3 \"Indirect Descriptors\"", "VIRTIO_F_INDIRECT_DESC was not negotiated");
    teardown_plain();
}

static void chain_indirect_rules(void **state)
{
    struct virtq_desc t[10] __attribute__((aligned(16)));
    const uint64_t ind = VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    (void)state;
    for (int i = 0; i < 10; i++)
        t[i] = (struct virtq_desc){(uint64_t)(uintptr_t)b0, 8, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1)};
    t[9].flags = 0;

    setup_plain(ind);
    md_desc(&m, 0, t, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    expect_broken(0);
    assert_violation("2.7.5.3", "both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT");
    teardown_plain();

    setup_plain(ind);
    md_desc(&m, 0, t, 24, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("indirect table length 24", "not a non-zero multiple of 16");
    teardown_plain();

    setup_plain(ind);
    md_desc(&m, 0, NULL, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("indirect table at address 0");
    teardown_plain();

    setup_plain(ind); /* 10 entries in a queue of 8 */
    md_desc(&m, 0, t, sizeof t, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("chain longer than Queue Size 8");
    teardown_plain();

    setup_plain(ind); /* next beyond the table */
    md_desc(&m, 0, t, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("next 4 is beyond the table of 4");
    teardown_plain();

    setup_plain(ind); /* nested */
    t[1].flags = VIRTQ_DESC_F_INDIRECT;
    md_desc(&m, 0, t, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("indirect descriptor 1 sets VIRTQ_DESC_F_INDIRECT (nested table)");
    teardown_plain();

    setup_plain(ind); /* a loop inside the table */
    t[1] = (struct virtq_desc){(uint64_t)(uintptr_t)b0, 8, VIRTQ_DESC_F_NEXT, 0};
    md_desc(&m, 0, t, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("indirect descriptor chain loops");
    teardown_plain();

    setup_plain(ind); /* readable after writable, across into the table */
    t[0] = (struct virtq_desc){(uint64_t)(uintptr_t)b0, 8, 0, 0};
    md_desc(&m, 0, b1, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    md_desc(&m, 1, t, 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(0);
    assert_violation("2.7.4", "readable indirect descriptor 0 after a writable one");
    teardown_plain();

    /* Valid: direct descriptors, then one indirect table at the end. */
    setup_plain(ind);
    t[0] = (struct virtq_desc){(uint64_t)(uintptr_t)b1, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1};
    t[1] = (struct virtq_desc){(uint64_t)(uintptr_t)b1, 8, VIRTQ_DESC_F_WRITE, 0};
    md_desc(&m, 0, b0, 8, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&m, 1, t, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0); /* WRITE ignored */
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(md_used_idx(&m), 1);
    assert_clean();
    teardown_plain();
}

static void ring_avail_idx_rules(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 0, b0, 8, 0, 0);
    m.avail_idx = 9; /* 9 new entries in a ring of 8 */
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("2.7.13 \"Supplying Buffers to The Device\"", "avail.idx 10 is 10 entries past");
    assert_true(virtq_fake_status(dev) & VIRTIO_STATUS_NEEDS_RESET);
    teardown_plain();

    setup_plain(0);
    md_desc(&m, 0, b0, 8, 0, 0);
    md_desc(&m, 1, b0, 8, 0, 0);
    md_publish(&m, 0);
    md_publish(&m, 1);
    md_notify(&m, 0);
    assert_int_equal(md_used_idx(&m), 2);
    __atomic_store_n(&m.avail->idx, 1, __ATOMIC_RELEASE);
    md_notify(&m, 0);
    assert_violation("2.7.6 \"The Virtqueue Available Ring\"", "went back from 2 to 1");
    teardown_plain();

    setup_plain(0);
    expect_broken(11);
    assert_violation("2.7.6", "entry 0 names head 11, beyond Queue Size 8");
    teardown_plain();
}

static void ring_descriptor_reuse(void **state)
{
    (void)state;
    setup_plain(0);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_DEFERRED, 1);
    md_desc(&m, 0, b0, 8, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&m, 1, b1, 8, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(virtq_fake_in_flight(dev, 0), 1);
    md_desc(&m, 2, b0, 8, VIRTQ_DESC_F_NEXT, 1); /* descriptor 1 is still the device's */
    md_publish(&m, 2);
    md_notify(&m, 0);
    assert_violation("2.7.13", "descriptor 1 is made available again while still in flight");
    teardown_plain();
}

static void ring_avail_flags(void **state)
{
    (void)state;
    setup_plain(0);
    md_desc(&m, 0, b0, 8, 0, 0);
    m.avail->flags = 2;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("2.7.7 \"Used Buffer Notification Suppression\"", "avail.flags is 0x2", "0 or 1");
    teardown_plain();

    setup_plain(VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    md_desc(&m, 0, b0, 8, 0, 0);
    m.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_violation("avail.flags is 0x1", "0 when VIRTIO_F_EVENT_IDX is negotiated");
    teardown_plain();
}

/* ---- suppression ---- */

static void used_notification_suppression(void **state)
{
    struct virtq_fake_stats st;
    uint32_t id, len;
    int irqs = 0;
    (void)state;
    setup_plain(0);
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    md_desc(&m, 0, b0, 8, 0, 0);
    m.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(md_used_idx(&m), 1);
    assert_int_equal(irqs, 0);
    m.avail->flags = 0;
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(irqs, 1);
    virtq_fake_get_stats(dev, &st);
    assert_int_equal(st.q[0].irqs, 1);
    assert_int_equal(st.q[0].irqs_suppressed, 1);
    assert_clean();
    teardown_plain();

    /* EVENT_IDX: interrupt only when used.idx passes used_event. */
    setup_plain(VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    irqs = 0;
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_DEFERRED, 1);
    for (uint16_t i = 0; i < 4; i++) {
        md_desc(&m, i, b0, 8, 0, 0);
        md_publish(&m, i);
    }
    md_notify(&m, 0);
    m.avail->ring[8] = 2; /* used_event: wake me once entry 2 is used */
    assert_int_equal(virtq_fake_step(dev, 0, 1), 1);
    assert_int_equal(virtq_fake_step(dev, 0, 1), 1);
    assert_int_equal(irqs, 0);
    assert_int_equal(virtq_fake_step(dev, 0, 1), 1);
    assert_int_equal(irqs, 1);
    assert_int_equal(virtq_fake_step(dev, 0, 1), 1);
    assert_int_equal(irqs, 1);
    while (md_get(&m, &id, &len))
        ;
    assert_clean();
    teardown_plain();
}

static void avail_notification_suppression(void **state)
{
    struct virtq_fake_stats st;
    (void)state;
    setup_plain(0);
    virtq_fake_suppress_notify(dev, 0, 1);
    assert_int_equal(m.used->flags, VIRTQ_USED_F_NO_NOTIFY);
    md_desc(&m, 0, b0, 8, 0, 0);
    md_publish(&m, 0);
    assert_int_equal(virtq_fake_poll(dev, 0), 1); /* the device polls instead */
    assert_int_equal(md_used_idx(&m), 1);
    md_publish(&m, 0);
    md_notify(&m, 0); /* allowed, if wasteful */
    virtq_fake_suppress_notify(dev, 0, 0);
    assert_int_equal(m.used->flags, 0);
    virtq_fake_get_stats(dev, &st);
    assert_int_equal(st.q[0].notifies, 1);
    assert_int_equal(st.q[0].notifies_suppressed, 1);
    assert_clean();
    teardown_plain();

    /* EVENT_IDX: avail_event names the next entry, or lags when suppressed. */
    setup_plain(VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    md_desc(&m, 0, b0, 8, 0, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(*(uint16_t *)&m.used->ring[8], 1);
    assert_int_equal(m.used->flags, 0);
    virtq_fake_suppress_notify(dev, 0, 1);
    assert_int_equal(*(uint16_t *)&m.used->ring[8], 0);
    assert_int_equal(m.used->flags, 0);
    md_desc(&m, 1, b0, 8, 0, 0);
    md_desc(&m, 2, b0, 8, 0, 0);
    md_publish(&m, 1);
    md_publish(&m, 2);
    assert_false(virtq_need_event(*(uint16_t *)&m.used->ring[8], m.avail_idx, 1));
    assert_int_equal(virtq_fake_step(dev, 0, -1), 2); /* step polls a suppressed queue */
    assert_int_equal(md_used_idx(&m), 3);
    virtq_fake_suppress_notify(dev, 0, 0);
    assert_int_equal(*(uint16_t *)&m.used->ring[8], 3);
    assert_clean();
    teardown_plain();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(blk_io_modern, fake_setup),
        cmocka_unit_test_setup(blk_io_legacy, fake_setup),
        cmocka_unit_test_setup(blk_read_only, fake_setup),
        cmocka_unit_test_setup(blk_indirect_and_resize, fake_setup),
        cmocka_unit_test_setup(blk_violations, fake_setup),
        cmocka_unit_test_setup(chain_readable_after_writable, fake_setup),
        cmocka_unit_test_setup(chain_next_out_of_range, fake_setup),
        cmocka_unit_test_setup(chain_loop, fake_setup),
        cmocka_unit_test_setup(chain_zero_address, fake_setup),
        cmocka_unit_test_setup(chain_indirect_not_negotiated, fake_setup),
        cmocka_unit_test_setup(chain_indirect_rules, fake_setup),
        cmocka_unit_test_setup(ring_avail_idx_rules, fake_setup),
        cmocka_unit_test_setup(ring_descriptor_reuse, fake_setup),
        cmocka_unit_test_setup(ring_avail_flags, fake_setup),
        cmocka_unit_test_setup(used_notification_suppression, fake_setup),
        cmocka_unit_test_setup(avail_notification_suppression, fake_setup),
    };
    return cmocka_run_group_tests_name("fake: split ring and blk", tests, NULL, NULL);
}
