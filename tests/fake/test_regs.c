/* SPDX-License-Identifier: MIT */
/* The fake's register file, status machine, feature negotiation, queue
   setup rules and config space, for legacy and modern devices. */
#include "minidrv.h"

static struct virtq_fake_dev *two_queue_dev(int version)
{
    static const uint8_t cfg[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    struct virtq_fake_params p;
    memset(&p, 0, sizeof p);
    p.version = version;
    p.device_id = VIRTIO_ID_NET;
    p.vendor_id = 0x1af4;
    p.features = 0x5u | (version == 2 ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0);
    p.num_queues = 2;
    p.queue_num_max[0] = 64;
    p.queue_num_max[1] = 16;
    p.config = cfg;
    p.config_len = sizeof cfg;
    return virtq_fake_create(&p);
}

static void regs_v2(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    uintptr_t b = virtq_fake_base(d);
    (void)state;
    assert_int_equal(b, VIRTQ_FAKE_BASE0);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_MAGIC_VALUE, 4), VIRTIO_MMIO_MAGIC);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_VERSION, 4), 2);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_NET);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_VENDOR_ID, 4), 0x1af4);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4), 0x5);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4), 1); /* VERSION_1 */
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4), 0);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_QUEUE_SEL, 0, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 64);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_READY, 4), 0);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_QUEUE_SEL, 1, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 16);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_QUEUE_SEL, 2, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 0); /* no such queue */
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_INTERRUPT_STATUS, 4), 0);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_STATUS, 4), 0);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4), 0);
    /* Config space at 0x100, any width (no field table), little-endian. */
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 1), 0x11);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG + 2, 2), 0x4433);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG + 4, 4), 0x88776655u);
    assert_clean();
    virtq_fake_destroy(d);
}

static void regs_v1(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(1);
    uintptr_t b = virtq_fake_base(d);
    (void)state;
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_MAGIC_VALUE, 4), VIRTIO_MMIO_MAGIC);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_VERSION, 4), 1);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4), 0x5);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4), 0);
    virtq_fake_mmio_write(b + VIRTIO_MMIO_QUEUE_SEL, 0, 4);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_PFN, 4), 0);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 64);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG + 1, 1), 0x22);
    assert_clean();
    /* Modern-only registers do not exist on a legacy device. */
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_READY, 4);
    assert_violation("4.2.2", "QueueReady is a modern-only register");
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    assert_violation("ConfigGeneration is a modern-only register");
    virtq_fake_mmio_write(b + VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000, 4);
    assert_violation("QueueDescLow is a modern-only register");
    virtq_fake_destroy(d);
}

static void access_rules(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    uintptr_t b = virtq_fake_base(d);
    struct virtq_fake_stats st;
    (void)state;
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4);
    assert_violation("4.2.2 \"MMIO Device Register Layout\"", "before any write to DeviceFeaturesSel");
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_ID, 2);
    assert_violation("16-bit read", "aligned 32-bit accesses only");
    virtq_fake_mmio_write(b + VIRTIO_MMIO_STATUS + 1, 1, 1);
    assert_violation("8-bit write", "aligned 32-bit accesses only");
    virtq_fake_mmio_write(b + VIRTIO_MMIO_MAGIC_VALUE, 0, 4);
    assert_violation("write to read-only register MagicValue");
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_QUEUE_NOTIFY, 4);
    assert_violation("read of write-only register QueueNotify");
    (void)virtq_fake_mmio_read(b + 0x0b0, 4);
    assert_violation("offset 0xb0", "does not describe");
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG + 8, 1);
    assert_violation("beyond the 8-byte configuration space");
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG + 1, 2);
    assert_violation("16-bit config read at offset 0x1 is not aligned");
    (void)virtq_fake_mmio_read(0x7000, 4);
    assert_violation("no fake device there");
    virtq_fake_mmio_write(b + VIRTIO_MMIO_INTERRUPT_ACK, 4, 4);
    assert_violation("InterruptACK 0x4 sets undefined bits");
    /* A select written once, DeviceFeatures read twice: counted. */
    virtq_fake_mmio_write(b + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0, 4);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_DEVICE_FEATURES, 4);
    virtq_fake_get_stats(d, &st);
    assert_int_equal(st.stale_feature_reads, 1);
    assert_int_equal(virtq_fake_dev_violation_count(d), 9);
    assert_clean();
    virtq_fake_destroy(d);
}

/* The blk model's config space has a field table: widths and features. */
static void config_fields(void **state)
{
    static uint8_t disk[8 * 512];
    struct virtq_fake_blk_params bp = {.image = disk, .image_bytes = sizeof disk};
    struct virtq_fake_dev *d = virtq_fake_blk_create(&bp);
    uintptr_t c = virtq_fake_base(d) + VIRTIO_MMIO_CONFIG;
    (void)state;
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_CAPACITY, 4), 8);
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_CAPACITY + 4, 4), 0);
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_SEG_MAX, 4), 126);
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_SIZE_MAX, 4), 65536);
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
    assert_clean();
    (void)virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_CAPACITY, 1);
    assert_violation("4.2.2", "8-bit config read at offset 0", "takes 32-bit accesses");
    (void)virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_CAPACITY + 2, 2);
    assert_violation("takes 32-bit accesses");
    (void)virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_GEOMETRY, 2);
    assert_violation("2.5 \"Device Configuration Space\"", "feature bit 4 is not offered");
    virtq_fake_mmio_write(c + VIRTIO_BLK_CFG_CAPACITY, 1, 4);
    assert_violation("offset 0", "read-only");
    assert_int_equal(virtq_fake_mmio_read(c + VIRTIO_BLK_CFG_CAPACITY, 4), 1); /* stored anyway */
    virtq_fake_clear_violations();
    (void)virtq_fake_mmio_read(c + 36, 4);
    assert_violation("beyond the 36-byte configuration space");
    virtq_fake_destroy(d);
}

static void config_generation(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    uintptr_t b = virtq_fake_base(d);
    uint32_t g0, g1;
    uint8_t nv = 0x99;
    int irqs = 0;
    (void)state;
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    g0 = virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    virtq_fake_config_bump(d);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4), g0 + 1);
    /* Flapping: each of the next 3 config reads changes the generation. */
    virtq_fake_config_flap(d, 3);
    g0 = virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 4);
    g1 = virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    assert_int_not_equal(g0, g1);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 4);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 4);
    g0 = virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    (void)virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 4);
    g1 = virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4);
    assert_int_equal(g0, g1); /* settled */
    /* A device-side change: new bytes, new generation, no interrupt before DRIVER_OK. */
    assert_int_equal(virtq_fake_config_set(d, 0, &nv, 1, 1), 0);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG, 1), 0x99);
    assert_int_equal(virtq_fake_mmio_read(b + VIRTIO_MMIO_CONFIG_GENERATION, 4), g1 + 1);
    assert_int_equal(irqs, 0);
    assert_int_equal(virtq_fake_config_set(d, 8, &nv, 1, 0), -1);
    assert_clean();
    virtq_fake_destroy(d);
}

static void status_good_sequences(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct virtq_fake_dev *d = two_queue_dev(v);
        struct md m;
        md_init(&m, virtq_fake_base(d), 0x4, 16);
        assert_int_equal(virtq_fake_status(d), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                                    (v == 2 ? VIRTIO_STATUS_FEATURES_OK : 0) |
                                                    VIRTIO_STATUS_DRIVER_OK);
        assert_int_equal(virtq_fake_driver_features(d),
                         0x4u | (v == 2 ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0));
        assert_true(virtq_fake_queue_ready(d, 0));
        assert_clean();
        virtq_fake_destroy(d);
        md_free(&m);
    }
}

static void status_bad_order(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    struct md m;
    (void)state;
    m.base = virtq_fake_base(d);
    m.version = 2;
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
    assert_violation("3.1 \"Device Initialization\"", "DRIVER set before ACKNOWLEDGE");
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK);
    assert_violation("FEATURES_OK set before ACKNOWLEDGE and DRIVER");
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    assert_violation("DRIVER_OK set without FEATURES_OK");
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_violation("2.1 \"Device Status Field\"", "clears bit(s) 0x6");
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
    assert_violation("DEVICE_NEEDS_RESET, a bit only the device sets");
    assert_int_equal(virtq_fake_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
    /* FEATURES_OK, then DRIVER_OK without reading the status back. */
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    md_w(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    md_w(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_clean();
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                     VIRTIO_STATUS_DRIVER_OK);
    assert_violation("without re-reading the status after FEATURES_OK");
    /* After FAILED only a reset may follow. */
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FAILED);
    md_w(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FAILED | VIRTIO_STATUS_DRIVER);
    assert_violation("set after FAILED");
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(virtq_fake_status(d), 0);
    assert_clean();
    virtq_fake_destroy(d);
}

static void feature_negotiation(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    struct md m;
    (void)state;
    /* A bit the device does not offer: FEATURES_OK refused. */
    md_begin(&m, virtq_fake_base(d));
    assert_int_equal(m.offered, 0x5u | VIRTQ_FEATURE(VIRTIO_F_VERSION_1));
    assert_false(md_features(&m, 0x2u | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    assert_violation("2.2 \"Feature Bits\"", "bits 0x2");
    /* VERSION_1 offered but not accepted on a modern device. */
    md_begin(&m, virtq_fake_base(d));
    assert_false(md_features(&m, 0x1u));
    assert_violation("6 \"Reserved Feature Bits\"", "VIRTIO_F_VERSION_1");
    /* A device that refuses: no violation, the bit does not stick. */
    virtq_fake_refuse_features_ok(d, 1);
    md_begin(&m, virtq_fake_base(d));
    assert_false(md_features(&m, 0x1u | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    assert_clean();
    virtq_fake_refuse_features_ok(d, 0);
    md_begin(&m, virtq_fake_base(d));
    assert_true(md_features(&m, 0x1u | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    /* Features are frozen after FEATURES_OK. */
    md_w(&m, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    assert_violation("DriverFeatures written outside feature negotiation");
    /* DriverFeatures before any DriverFeaturesSel. */
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    md_status(&m, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    md_w(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    assert_violation("before any write to DriverFeaturesSel");
    /* Legacy: the check happens at DRIVER_OK. */
    {
        struct virtq_fake_dev *l = two_queue_dev(1);
        md_begin(&m, virtq_fake_base(l));
        md_features(&m, 0x2u);
        md_status(&m, VIRTIO_STATUS_DRIVER_OK);
        assert_violation("2.2 \"Feature Bits\"", "bits 0x2");
        virtq_fake_destroy(l);
    }
    virtq_fake_destroy(d);
}

static void reset_clears_everything(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    struct md m;
    char buf[4];
    uint32_t id, len;
    (void)state;
    md_init(&m, virtq_fake_base(d), 0, 8);
    virtq_fake_set_mode(d, VIRTQ_FAKE_DEFERRED, 1);
    md_desc(&m, 0, buf, sizeof buf, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(virtq_fake_pending(d, 0), 1);
    assert_int_equal(virtq_fake_inject(d, 0, VIRTQ_FAKE_FAULT_ID_RANGE, 5), 0);
    assert_int_equal(virtq_fake_inject(d, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1), 0);
    assert_true(virtq_fake_status(d) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(virtq_fake_interrupt_status(d), VIRTIO_MMIO_INT_CONFIG);
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(virtq_fake_status(d), 0);
    assert_int_equal(virtq_fake_interrupt_status(d), 0);
    assert_false(virtq_fake_queue_ready(d, 0));
    assert_int_equal(virtq_fake_pending(d, 0), 0);
    assert_int_equal(virtq_fake_driver_features(d), 0);
    md_free(&m);
    /* Set up again: the armed fault is gone, the request completes normally. */
    md_init(&m, virtq_fake_base(d), 0, 8);
    md_desc(&m, 3, buf, sizeof buf, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 3);
    md_notify(&m, 0);
    assert_int_equal(virtq_fake_step(d, 0, 1), 1);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 3);
    assert_int_equal(len, 0);
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);
}

static void needs_reset_injection(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    struct md m;
    char buf[4];
    int irqs = 0;
    (void)state;
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    /* Before DRIVER_OK: the bit, but no interrupt ("Device Status Field"). */
    md_begin(&m, virtq_fake_base(d));
    virtq_fake_inject(d, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1);
    assert_true(md_r(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(irqs, 0);
    md_init(&m, virtq_fake_base(d), 0, 8);
    assert_int_equal(md_r(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
    virtq_fake_inject(d, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1);
    assert_int_equal(irqs, 1);
    assert_int_equal(md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    assert_true(md_r(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    /* The device stops serving; the driver's status writes keep the bit. */
    md_desc(&m, 0, buf, sizeof buf, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(md_used_idx(&m), 0);
    md_status(&m, VIRTIO_STATUS_FAILED);
    assert_true(virtq_fake_status(d) & VIRTIO_STATUS_NEEDS_RESET);
    assert_clean();
    virtq_fake_destroy(d);
    md_free(&m);
}

static void queue_setup_rules(void **state)
{
    struct virtq_fake_dev *d = two_queue_dev(2);
    struct md m;
    uint8_t *ring[2];
    (void)state;
    ring[0] = virtq_fake_lowmem_alloc(8192);
    ring[1] = virtq_fake_lowmem_alloc(8192);
    md_begin(&m, virtq_fake_base(d));
    md_w(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    assert_violation("QueueNum written outside virtqueue setup", "after FEATURES_OK");
    assert_true(md_features(&m, VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 128);
    assert_violation("QueueNum 128 exceeds QueueNumMax 64");
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 12);
    assert_violation("2.7 \"Split Virtqueues\"", "power of 2");
    md_w(&m, VIRTIO_MMIO_QUEUE_SEL, 5);
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    assert_violation("queue 5, which does not exist");
    md_w(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    md_w(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_violation("queue enabled with a zero address");
    assert_int_equal(md_r(&m, VIRTIO_MMIO_QUEUE_READY), 0);
    md_w(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)(ring[0] + 8));
    md_w(&m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)ring[0] >> 32));
    md_w(&m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)(ring[0] + 4096));
    md_w(&m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)ring[0] >> 32));
    md_w(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)(ring[0] + 6144));
    md_w(&m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)ring[0] >> 32));
    md_w(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_violation("misaligned ring");
    /* used.flags left non-zero by the driver. */
    md_w(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)ring[0]);
    ring[0][6144] = 1;
    md_w(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_violation("2.7.10", "used.flags is 0x1");
    ring[0][6144] = 0;
    assert_int_equal(md_r(&m, VIRTIO_MMIO_QUEUE_READY), 1); /* enabled anyway */
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 4);
    assert_violation("QueueNum written while the queue is enabled");
    md_w(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0);
    assert_violation("QueueDeviceLow written while QueueReady is 1");
    md_w(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_violation("QueueNotify for queue 0 before DRIVER_OK");
    md_status(&m, VIRTIO_STATUS_DRIVER_OK);
    md_w(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_violation("4.2.3.3", "queue 1, which is not enabled");
    md_w(&m, VIRTIO_MMIO_QUEUE_SEL, 1);
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    assert_violation("QueueNum written outside virtqueue setup", "before DRIVER_OK");
    virtq_fake_destroy(d);

    /* Legacy: GuestPageSize before QueuePFN; QueueNumMax only while unused. */
    d = two_queue_dev(1);
    md_begin(&m, virtq_fake_base(d));
    md_features(&m, 0);
    md_w(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
    md_w(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    md_w(&m, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)((uintptr_t)ring[1] / 4096u));
    assert_violation("4.2.4 \"Legacy interface\"", "QueuePFN written before GuestPageSize");
    md_w(&m, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
    md_w(&m, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)((uintptr_t)ring[1] / 4096u));
    assert_clean();
    assert_true(virtq_fake_queue_ready(d, 0));
    (void)md_r(&m, VIRTIO_MMIO_QUEUE_NUM_MAX);
    assert_violation("QueueNumMax read while QueuePFN is set");
    md_w(&m, VIRTIO_MMIO_QUEUE_PFN, 0);
    assert_false(virtq_fake_queue_ready(d, 0));
    md_w(&m, VIRTIO_MMIO_QUEUE_ALIGN, 100);
    assert_violation("QueueAlign 100");
    md_w(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_violation("QueueReady is a modern-only register");
    virtq_fake_destroy(d);
    virtq_fake_lowmem_free(ring[0]);
    virtq_fake_lowmem_free(ring[1]);
}

static void several_devices(void **state)
{
    static uint8_t disk[4 * 512];
    struct virtq_fake_blk_params bp = {.image = disk, .image_bytes = sizeof disk};
    struct virtq_fake_dev *a = two_queue_dev(2), *b = virtq_fake_blk_create(&bp), *c = two_queue_dev(1);
    struct virtq_fake_params p;
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(virtq_fake_base(a), VIRTQ_FAKE_BASE0); /* the lowest free windows */
    assert_int_equal(virtq_fake_base(b), VIRTQ_FAKE_BASE0 + VIRTQ_FAKE_STRIDE);
    assert_int_equal(virtq_fake_base(c), VIRTQ_FAKE_BASE0 + 2 * VIRTQ_FAKE_STRIDE);
    assert_ptr_equal(virtq_fake_find(virtq_fake_base(b)), b);
    assert_int_equal(virtq_fake_mmio_read(virtq_fake_base(b) + VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_BLOCK);
    assert_int_equal(virtq_fake_mmio_read(virtq_fake_base(c) + VIRTIO_MMIO_VERSION, 4), 1);
    /* A base of the test's choosing; an overlapping one is refused. */
    memset(&p, 0, sizeof p);
    p.device_id = VIRTIO_ID_RNG;
    p.base = 0x20000000u;
    {
        struct virtq_fake_dev *e = virtq_fake_create(&p), *f;
        assert_non_null(e);
        assert_int_equal(virtq_fake_mmio_read(0x20000000u + VIRTIO_MMIO_DEVICE_ID, 4), VIRTIO_ID_RNG);
        p.base = 0x20000800u;
        f = virtq_fake_create(&p);
        assert_null(f);
        virtq_fake_destroy(e);
    }
    virtq_fake_destroy(b);
    assert_null(virtq_fake_find(VIRTQ_FAKE_BASE0 + VIRTQ_FAKE_STRIDE));
    assert_clean();
    (void)virtq_fake_mmio_read(VIRTQ_FAKE_BASE0 + VIRTQ_FAKE_STRIDE, 4);
    assert_violation("no fake device there");
    virtq_fake_destroy(a);
    virtq_fake_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(regs_v2, fake_setup),
        cmocka_unit_test_setup(regs_v1, fake_setup),
        cmocka_unit_test_setup(access_rules, fake_setup),
        cmocka_unit_test_setup(config_fields, fake_setup),
        cmocka_unit_test_setup(config_generation, fake_setup),
        cmocka_unit_test_setup(status_good_sequences, fake_setup),
        cmocka_unit_test_setup(status_bad_order, fake_setup),
        cmocka_unit_test_setup(feature_negotiation, fake_setup),
        cmocka_unit_test_setup(reset_clears_everything, fake_setup),
        cmocka_unit_test_setup(needs_reset_injection, fake_setup),
        cmocka_unit_test_setup(queue_setup_rules, fake_setup),
        cmocka_unit_test_setup(several_devices, fake_setup),
    };
    return cmocka_run_group_tests_name("fake: registers and status", tests, NULL, NULL);
}
