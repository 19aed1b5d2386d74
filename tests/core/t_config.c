/* SPDX-License-Identifier: MIT */
/* Device configuration space ("Device Configuration Space", "MMIO Device
   Register Layout"): each field read with its own width, 64-bit fields as
   two 32-bit reads inside one ConfigGeneration, retries bounded. */
#include "core.h"

/* ---- a device with small fields (u8 array, le16, le32, a writable one) --- */

#define CFG_MAC 0u
#define CFG_STATUS 6u
#define CFG_PAIRS 8u
#define CFG_MTU 10u
#define CFG_SPEED 12u
#define CFG_DUPLEX 16u
#define CFG_RW 20u
#define CFG_RW8 24u
#define CFG_RW16 26u
#define CFG_RW64 32u
#define CFG_LEN 40u

static const uint8_t cfg_init[CFG_LEN] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* mac */
    0x01, 0x00,                         /* status 0x0001 */
    0x02, 0x01,                         /* max pairs 0x0102 */
    0xdc, 0x05,                         /* mtu 1500 */
    0x78, 0x56, 0x34, 0x12,             /* speed 0x12345678 */
    0x01, 0, 0, 0,                      /* duplex, padding */
    0xef, 0xbe, 0xad, 0xde,             /* a writable le32, 0xdeadbeef */
    0x11, 0, 0x22, 0x33, 0, 0, 0, 0,    /* writable u8, pad, le16, padding */
    1, 2, 3, 4, 5, 6, 7, 8,             /* a writable le64 */
};

static const struct virtq_fake_cfg_field cfg_fields[] = {
    {CFG_MAC, 6, 1, 0, -1},    {CFG_STATUS, 2, 2, 0, -1}, {CFG_PAIRS, 2, 2, 0, -1},
    {CFG_MTU, 2, 2, 0, -1},    {CFG_SPEED, 4, 4, 0, -1},  {CFG_DUPLEX, 1, 1, 0, -1},
    {CFG_RW, 4, 4, 1, -1},     {CFG_RW8, 1, 1, 1, -1},    {CFG_RW16, 2, 2, 1, -1},
    {CFG_RW64, 8, 8, 1, -1},
};

static struct virtq_fake_dev *cfg_dev(int version)
{
    struct virtq_fake_params p;
    struct virtq_fake_dev *fd;
    memset(&p, 0, sizeof p);
    p.version = version;
    p.device_id = VIRTIO_ID_NET;
    p.features = version == 2 ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0;
    p.num_queues = 1;
    p.config = cfg_init;
    p.config_len = sizeof cfg_init;
    p.config_fields = cfg_fields;
    p.num_config_fields = (int)(sizeof cfg_fields / sizeof cfg_fields[0]);
    fd = virtq_fake_create(&p);
    assert_non_null(fd);
    return fd;
}

static void stats(struct virtq_fake_dev *fd, struct virtq_fake_stats *st)
{
    virtq_fake_get_stats(fd, st);
}

/* ---- blk fields --------------------------------------------------------------- */

static void config_blk_fields(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct virtq_fake_stats a, b;
        uint64_t cap = 0;
        uint32_t u = 0;
        uint8_t le[8];
        unsigned i;
        rig_irq_to_isr(r);
        rig_up(r, 0, 8);
        stats(r->fd, &a);
        assert_int_equal(virtq_dev_config_read64(&r->dev, VIRTIO_BLK_CFG_CAPACITY, &cap), VIRTQ_OK);
        assert_int_equal(cap, RIG_SECTORS);
        assert_int_equal(virtq_dev_config_read32(&r->dev, VIRTIO_BLK_CFG_SIZE_MAX, &u), VIRTQ_OK);
        assert_int_equal(u, 65536);
        assert_int_equal(virtq_dev_config_read32(&r->dev, VIRTIO_BLK_CFG_SEG_MAX, &u), VIRTQ_OK);
        assert_int_equal(u, 126); /* QueueNumMax 128 - 2 */
        assert_int_equal(virtq_dev_config_read32(&r->dev, VIRTIO_BLK_CFG_BLK_SIZE, &u), VIRTQ_OK);
        assert_int_equal(u, 512);
        stats(r->fd, &b);
        assert_int_equal(b.config_reads - a.config_reads, 5); /* capacity as two 32-bit reads */
        /* Modern: ConfigGeneration before and after each field; legacy has none. */
        assert_int_equal(b.generation_reads - a.generation_reads, v == 2 ? 8 : 0);

        /* A 64-bit value with both halves set. */
        for (i = 0; i < 8; i++)
            le[i] = (uint8_t)(0x0000000500000010ull >> (8 * i));
        assert_int_equal(virtq_fake_config_set(r->fd, VIRTIO_BLK_CFG_CAPACITY, le, 8, 0), 0);
        assert_int_equal(virtq_dev_config_read64(&r->dev, VIRTIO_BLK_CFG_CAPACITY, &cap), VIRTQ_OK);
        assert_int_equal(cap, 0x0000000500000010ull);

        /* The device resizes itself and says so with a configuration change
           interrupt: noted, not mistaken for NEEDS_RESET. */
        assert_int_equal(virtq_fake_blk_set_capacity(r->fd, 100), 0);
        assert_int_equal(r->dev.irqs, 1);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), 0); /* acknowledged */
        assert_int_equal(virtq_dev_config_read64(&r->dev, VIRTIO_BLK_CFG_CAPACITY, &cap), VIRTQ_OK);
        assert_int_equal(cap, 100);
        rig_io(r, VIRTIO_BLK_T_IN, 99, 1, SH_PLAIN, 0);
        rig_free(r);
    }
}

static void config_small_fields(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct virtq_fake_dev *fd = cfg_dev(v);
        struct virtq_dev dev;
        uint8_t mac[6], b = 0;
        uint16_t h = 0;
        uint32_t u = 0;
        unsigned i;
        assert_int_equal(virtq_mmio_probe(&dev, virtq_fake_base(fd)), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&dev), VIRTQ_OK);
        for (i = 0; i < 6; i++) {
            assert_int_equal(virtq_dev_config_read8(&dev, CFG_MAC + i, &b), VIRTQ_OK);
            assert_int_equal(b, cfg_init[CFG_MAC + i]);
        }
        memset(mac, 0, sizeof mac);
        assert_int_equal(virtq_dev_config_read_bytes(&dev, CFG_MAC, mac, sizeof mac), VIRTQ_OK);
        assert_memory_equal(mac, cfg_init + CFG_MAC, sizeof mac);
        assert_int_equal(virtq_dev_config_read16(&dev, CFG_STATUS, &h), VIRTQ_OK);
        assert_int_equal(h, 0x0001);
        assert_int_equal(virtq_dev_config_read16(&dev, CFG_PAIRS, &h), VIRTQ_OK);
        assert_int_equal(h, 0x0102);
        assert_int_equal(virtq_dev_config_read16(&dev, CFG_MTU, &h), VIRTQ_OK);
        assert_int_equal(h, 1500);
        assert_int_equal(virtq_dev_config_read32(&dev, CFG_SPEED, &u), VIRTQ_OK);
        assert_int_equal(u, 0x12345678u);
        assert_int_equal(virtq_dev_config_read8(&dev, CFG_DUPLEX, &b), VIRTQ_OK);
        assert_int_equal(b, 1);
        /* A write, and a refused one. */
        assert_int_equal(virtq_dev_config_write32(&dev, CFG_RW, 0xcafef00du), VIRTQ_OK);
        assert_int_equal(virtq_dev_config_read32(&dev, CFG_RW, &u), VIRTQ_OK);
        assert_int_equal(u, 0xcafef00du);
        assert_int_equal(virtq_dev_config_write32(&dev, CFG_RW + 2, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_write32(&dev, 0xf00u, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_fake_config_bytes(fd)[CFG_RW], 0x0d);
        /* Every write width, each with the field's own access width (the
           fake flags a wrong one on a modern device): the bytes land
           little-endian and the neighbours stay. */
        assert_int_equal(virtq_dev_config_write8(&dev, CFG_RW8, 0xa5), VIRTQ_OK);
        assert_int_equal(virtq_dev_config_write16(&dev, CFG_RW16, 0xbeefu), VIRTQ_OK);
        assert_int_equal(virtq_dev_config_write64(&dev, CFG_RW64, 0x0123456789abcdefull), VIRTQ_OK);
        {
            static const uint8_t want[16] = {0xa5, 0, 0xef, 0xbe, 0, 0, 0, 0,
                                             0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
            uint64_t q = 0;
            assert_memory_equal(virtq_fake_config_bytes(fd) + CFG_RW8, want, sizeof want);
            assert_int_equal(virtq_dev_config_read64(&dev, CFG_RW64, &q), VIRTQ_OK);
            assert_true(q == 0x0123456789abcdefull);
        }
        assert_int_equal(virtq_dev_config_write16(&dev, CFG_RW16 + 1, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_write64(&dev, CFG_RW64 + 2, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_write64(&dev, 0xefcu, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_write8(NULL, CFG_RW8, 1), VIRTQ_EINVAL);
        assert_int_equal(virtq_fake_config_bytes(fd)[CFG_RW8], 0xa5);
        virtq_fake_destroy(fd);
    }
}

/* ---- ConfigGeneration ------------------------------------------------------------------ */

static void config_generation_flaps(void **state)
{
    struct virtq_fake_dev *fd = cfg_dev(2);
    struct rig *r = rig_new(2, 0, 0);
    struct virtq_dev dev;
    struct virtq_fake_stats a, b;
    uint64_t cap = 0;
    uint8_t mac[6];
    (void)state;
    rig_up(r, 0, 8);
    /* Three reads change the generation: the first tries see it move. */
    virtq_fake_config_flap(r->fd, 3);
    stats(r->fd, &a);
    assert_int_equal(virtq_dev_config_read64(&r->dev, VIRTIO_BLK_CFG_CAPACITY, &cap), VIRTQ_OK);
    stats(r->fd, &b);
    assert_int_equal(cap, RIG_SECTORS);
    /* Each try: generation, two 32-bit halves, generation. */
    assert_true(b.config_reads - a.config_reads > 2); /* retried */
    assert_int_equal(b.generation_reads - a.generation_reads, b.config_reads - a.config_reads);

    assert_int_equal(virtq_mmio_probe(&dev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&dev), VIRTQ_OK);
    virtq_fake_config_flap(fd, 8);
    memset(mac, 0, sizeof mac);
    stats(fd, &a);
    assert_int_equal(virtq_dev_config_read_bytes(&dev, CFG_MAC, mac, sizeof mac), VIRTQ_OK);
    stats(fd, &b);
    assert_memory_equal(mac, cfg_init + CFG_MAC, sizeof mac);
    assert_true(b.config_reads - a.config_reads > 6); /* the 6 bytes read more than once */
    virtq_fake_destroy(fd);
    rig_free(r);
}

/* A generation that never settles: VIRTQ_EIO after a bounded number of
   tries, the output untouched. */
static void config_generation_never_settles(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    struct virtq_fake_stats a, b;
    uint64_t cap = 0x1111111111111111ull;
    uint32_t u = 0x22222222u;
    (void)state;
    rig_up(r, 0, 8);
    virtq_fake_config_flap(r->fd, 0xffffffffu);
    stats(r->fd, &a);
    assert_int_equal(virtq_dev_config_read32(&r->dev, VIRTIO_BLK_CFG_SEG_MAX, &u), VIRTQ_EIO);
    stats(r->fd, &b);
    assert_int_equal(u, 0x22222222u);
    assert_int_equal(b.config_reads - a.config_reads, core_config_retries);
    assert_int_equal(b.generation_reads - a.generation_reads, 2 * core_config_retries);
    assert_int_equal(virtq_dev_config_read64(&r->dev, VIRTIO_BLK_CFG_CAPACITY, &cap), VIRTQ_EIO);
    assert_int_equal(cap, 0x1111111111111111ull);
    stats(r->fd, &a);
    assert_int_equal(a.config_reads - b.config_reads, 2 * core_config_retries);
    virtq_fake_config_flap(r->fd, 0);
    assert_int_equal(virtq_dev_config_read32(&r->dev, VIRTIO_BLK_CFG_SEG_MAX, &u), VIRTQ_OK);
    assert_int_equal(u, 126);
    /* The queue is unaffected. */
    rig_io(r, VIRTIO_BLK_T_IN, 4, 2, SH_PLAIN, 0);
    rig_free(r);

    /* The byte-wise form, on a byte array. */
    {
        struct virtq_fake_dev *fd = cfg_dev(2);
        struct virtq_dev dev;
        uint8_t mac[6];
        assert_int_equal(virtq_mmio_probe(&dev, virtq_fake_base(fd)), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&dev), VIRTQ_OK);
        virtq_fake_config_flap(fd, 0xffffffffu);
        stats(fd, &a);
        assert_int_equal(virtq_dev_config_read_bytes(&dev, CFG_MAC, mac, sizeof mac), VIRTQ_EIO);
        stats(fd, &b);
        assert_int_equal(b.config_reads - a.config_reads, 6 * core_config_retries);
        /* (Unlike the fixed-width reads, the byte-wise one reads straight
           into buf, so after VIRTQ_EIO buf holds a torn copy.) */
        virtq_fake_destroy(fd);
    }
}

/* ---- bad arguments ----------------------------------------------------------------------------- */

static void config_bad_args(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct virtq_fake_stats a, b;
        struct virtq_dev unprobed;
        uint64_t q = 0x77;
        uint32_t u = 0x77;
        uint16_t h = 0x77;
        uint8_t c = 0x77, buf[4] = {0x77, 0x77, 0x77, 0x77};
        rig_up(r, 0, 8);
        memset(&unprobed, 0, sizeof unprobed);
        stats(r->fd, &a);
        assert_int_equal(virtq_dev_config_read16(&r->dev, 1, &h), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read32(&r->dev, 2, &u), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read32(&r->dev, 0xefdu, &u), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read64(&r->dev, 2, &q), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read64(&r->dev, 0xefcu, &q), VIRTQ_EINVAL); /* ends past 0xf00 */
        assert_int_equal(virtq_dev_config_read8(&r->dev, 0xf00u, &c), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read8(&r->dev, 0xffffffffu, &c), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read_bytes(&r->dev, 0xeffu, buf, 2), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read_bytes(&r->dev, 0, buf, 0), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read_bytes(&r->dev, 0, NULL, 4), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read_bytes(&r->dev, 0xfffffff0u, buf, 0x20), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read8(&r->dev, 0, NULL), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read16(&r->dev, 0, NULL), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read32(&r->dev, 0, NULL), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read64(&r->dev, 0, NULL), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read32(&unprobed, 0, &u), VIRTQ_EINVAL);
        assert_int_equal(virtq_dev_config_read32(NULL, 0, &u), VIRTQ_EINVAL);
        stats(r->fd, &b);
        assert_int_equal(b.config_reads, a.config_reads); /* nothing was read */
        assert_int_equal(b.generation_reads, a.generation_reads);
        assert_int_equal(q, 0x77);
        assert_int_equal(u, 0x77);
        assert_int_equal(h, 0x77);
        assert_int_equal(c, 0x77);
        assert_int_equal(buf[0], 0x77);
        rig_free(r);
    }
}

/* virtq cannot know how big a device's config space is: reading past it is
   the caller's mistake, which the fake reports (a real device returns
   whatever it likes). */
static void config_beyond_the_device(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    uint32_t u = 0x77;
    (void)state;
    rig_up(r, 0, 8);
    core_expect_violations(1);
    assert_int_equal(virtq_dev_config_read32(&r->dev, 64, &u), VIRTQ_OK);
    core_expect_violation("beyond the 36-byte configuration space");
    core_expect_violations(0);
    rig_free(r);
}

int core_group_config(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(config_blk_fields),        CORE_TEST(config_small_fields),
        CORE_TEST(config_generation_flaps),  CORE_TEST(config_generation_never_settles),
        CORE_TEST(config_bad_args),          CORE_TEST(config_beyond_the_device),
    };
    return cmocka_run_group_tests_name("core: config space", tests, NULL, NULL);
}
