/* SPDX-License-Identifier: MIT */
/* virtio-mmio discovery (src/mmio_scan.h): a window laid out as QEMU virt
   lays it out, empty slots (device id 0) between devices, the device in
   the last slot.  The fake flags any access outside a device window, so
   the scan also proves it stays inside base + count * stride. */
#include "core.h"

#define SCAN_SLOTS 6u
#define SCAN_BASE (VIRTQ_FAKE_BASE0 + 8u * VIRTQ_FAKE_STRIDE)

static void scan_window(void **state)
{
    /* slot:            0  1                2  3               4  5 */
    static const uint32_t ids[SCAN_SLOTS] = {0, VIRTIO_ID_NET, 0, VIRTIO_ID_BLOCK, 0,
                                             VIRTIO_ID_BLOCK};
    struct virtq_fake_dev *fd[SCAN_SLOTS];
    struct virtq_mmio_slot found[SCAN_SLOTS];
    struct virtq_dev dev;
    unsigned i;
    (void)state;
    for (i = 0; i < SCAN_SLOTS; i++) {
        struct virtq_fake_params p;
        memset(&p, 0, sizeof p);
        p.version = i == 3u ? 1 : 2;
        p.device_id = ids[i];
        p.features = p.version == 2 ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0;
        p.num_queues = 1;
        p.base = SCAN_BASE + i * VIRTQ_FAKE_STRIDE;
        fd[i] = virtq_fake_create(&p);
        assert_non_null(fd[i]);
    }
    /* Every populated slot, in address order, with its id and version. */
    assert_int_equal(virtq_mmio_scan(SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS, found, SCAN_SLOTS), 3);
    assert_int_equal(found[0].slot, 1);
    assert_int_equal(found[0].device_id, VIRTIO_ID_NET);
    assert_true(found[0].base == SCAN_BASE + VIRTQ_FAKE_STRIDE);
    assert_int_equal(found[1].slot, 3);
    assert_int_equal(found[1].version, 1);
    assert_int_equal(found[2].slot, 5);
    assert_int_equal(found[2].device_id, VIRTIO_ID_BLOCK);
    assert_int_equal(found[2].version, 2);
    /* max bounds what is written; max 0 only counts nothing. */
    assert_int_equal(virtq_mmio_scan(SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS, found, 1), 1);
    assert_int_equal(virtq_mmio_scan(SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS, NULL, 0), 0);
    assert_int_equal(virtq_mmio_scan(SCAN_BASE, 0, SCAN_SLOTS, found, 1), VIRTQ_EINVAL);
    assert_int_equal(virtq_mmio_scan(SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS, NULL, 1), VIRTQ_EINVAL);
    /* find: the nth device of an id, ready for virtq_dev_begin. */
    assert_int_equal(virtq_mmio_find(&dev, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS,
                                     VIRTIO_ID_BLOCK, 0), VIRTQ_OK);
    assert_true(dev.base == SCAN_BASE + 3u * VIRTQ_FAKE_STRIDE);
    assert_int_equal(dev.version, 1);
    assert_int_equal(virtq_mmio_find(&dev, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS,
                                     VIRTIO_ID_BLOCK, 1), VIRTQ_OK);
    assert_true(dev.base == SCAN_BASE + 5u * VIRTQ_FAKE_STRIDE);
    assert_int_equal(virtq_dev_begin(&dev), VIRTQ_OK);
    assert_int_equal(virtq_mmio_find(&dev, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS,
                                     VIRTIO_ID_BLOCK, 2), VIRTQ_ENODEV);
    assert_int_equal(virtq_dev_begin(&dev), VIRTQ_EINVAL); /* nothing usable */
    assert_int_equal(virtq_mmio_find(&dev, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS,
                                     VIRTIO_ID_GPU, 0), VIRTQ_ENODEV);
    assert_int_equal(virtq_mmio_find(NULL, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS,
                                     VIRTIO_ID_BLOCK, 0), VIRTQ_EINVAL);
    assert_int_equal(virtq_mmio_find(&dev, SCAN_BASE, VIRTQ_FAKE_STRIDE, SCAN_SLOTS, 0, 0),
                     VIRTQ_EINVAL);
    for (i = 0; i < SCAN_SLOTS; i++)
        virtq_fake_destroy(fd[i]);
}

int core_group_scan(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(scan_window),
    };
    return cmocka_run_group_tests_name("core: virtio-mmio discovery", tests, NULL, NULL);
}
