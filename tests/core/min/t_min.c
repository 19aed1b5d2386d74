/* SPDX-License-Identifier: MIT */
/* t_min.c — the smallest build: VIRTQ_EVENT_IDX 0 and VIRTQ_MMIO_LEGACY 0
   (mk/core.mk compiles core_impl.c with both for this binary).  Each test
   would fail if the knob did nothing: a legacy device would probe, an
   offered EVENT_IDX would be accepted, or virtq_init() would take a
   feature it then ignores (the device would use event indexes the ring
   never writes). */
#include "core.h"

#if VIRTQ_EVENT_IDX || VIRTQ_MMIO_LEGACY
#error "t_min.c: build with -DVIRTQ_EVENT_IDX=0 -DVIRTQ_MMIO_LEGACY=0"
#endif

#define EV VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)

/* A version 1 device is refused before anything is written to it. */
static void legacy_device_refused(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, virtq_fake_base(r->fd)), VIRTQ_ENOTSUP);
    assert_int_equal(core_mmio_writes(virtq_fake_base(r->fd)), 0);
    assert_int_equal(virtq_fake_status(r->fd), 0);
    rig_free(r);
}

/* A modern device offering EVENT_IDX: not accepted, and the queue runs on
   the flags (the fake checks every kick and interrupt against what was
   negotiated); every request comes back once. */
static void event_idx_never_negotiated(void **state)
{
    struct rig *r = rig_new(2, EV, 0);
    unsigned i;
    (void)state;
    rig_up(r, EV, 64);
    assert_true(r->dev.device_features & EV);
    assert_false(r->dev.features & EV);
    assert_false(virtq_fake_driver_features(r->fd) & EV);
    for (i = 0; i < 200; i++)
        rig_io(r, (i & 1u) ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, i % RIG_SECTORS, 1, SH_PLAIN, i);
    rig_assert_disk(r);
    ledger_assert_all_back(&r->led);
    core_assert_clean();
    rig_free(r);
}

/* A driver that requires EVENT_IDX gets VIRTQ_ENOTSUP, the device FAILED. */
static void event_idx_required_refused(void **state)
{
    struct rig *r = rig_new(2, EV, 0);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, virtq_fake_base(r->fd)), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, 0, EV), VIRTQ_ENOTSUP);
    assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_FAILED);
    rig_free(r);
}

/* virtq_init() with EVENT_IDX in the features it is told: refused, the
   queue left as it was (not initialised). */
static void init_refuses_event_idx(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    (void)state;
    memset(&r->vq, 0x5a, sizeof r->vq);
    assert_int_equal(virtq_init(&r->vq, 64, VIRTQ_ALIGN_MODERN, r->ring, r->slots, EV), VIRTQ_ENOTSUP);
    assert_int_equal(r->vq.num, 0x5a5a);
    assert_int_equal(virtq_init(&r->vq, 64, VIRTQ_ALIGN_MODERN, r->ring, r->slots, 0), VIRTQ_OK);
    rig_free(r);
}

int main(int argc, char **argv)
{
    static const struct CMUnitTest tests[] = {
        CORE_TEST(legacy_device_refused),
        CORE_TEST(event_idx_never_negotiated),
        CORE_TEST(event_idx_required_refused),
        CORE_TEST(init_refuses_event_idx),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("core (VIRTQ_EVENT_IDX 0, VIRTQ_MMIO_LEGACY 0)", tests, NULL, NULL);
}
