/* SPDX-License-Identifier: MIT */
/* Spec rules at the device level (issue 15): InterruptStatus bits the spec
   does not define are ignored, and a queue whose QueueReady does not stick
   is left unusable with the device FAILED, as src/api.h documents. */
#include "core.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define INT_UNDEFINED 0x80000004u /* bits 2 and 31: no meaning in "MMIO Device Register Layout" */

/* "MMIO Device Register Layout", driver requirements: undefined
   InterruptStatus bits are ignored: not acknowledged (the fake reports an
   InterruptACK with undefined bits as a violation), not reported, and a
   status with only undefined bits is spurious, not a device interrupt. */
static void isr_ignores_undefined_bits(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, F_EVENT, 0);
        uint32_t seq;
        rig_irq_to_isr(r);
        rig_up(r, F_EVENT, 16);
        seq = r->dev.wake_seq;
        virtq_fake_raise_irq(r->fd, INT_UNDEFINED);
        assert_int_equal(r->isr_calls, 1);
        assert_int_equal(r->last_isr, 0);
        assert_int_equal(r->dev.spurious, 1);
        assert_int_equal(r->dev.early, 0);
        assert_int_equal(r->dev.irqs, 0);
        assert_int_equal(r->dev.wake_seq, seq);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), INT_UNDEFINED); /* not acked */
        /* Defined and undefined together: only the defined ones count. */
        virtq_fake_raise_irq(r->fd, VIRTIO_MMIO_INT_VRING);
        assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_VRING);
        assert_int_equal(r->dev.irqs, 1);
        assert_int_equal(r->dev.spurious, 1);
        assert_int_equal(r->dev.wake_seq, seq + 1u);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), INT_UNDEFINED);
        virtq_fake_raise_irq(r->fd, VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(r->dev.irqs, 2);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        /* Called directly with only undefined bits pending: the same. */
        assert_int_equal(virtq_dev_isr(&r->dev), 0);
        assert_int_equal(r->dev.spurious, 2);
        assert_int_equal(r->dev.irqs, 2);
        /* The queue still works, its interrupts still count. */
        rig_io(r, VIRTIO_BLK_T_IN, 3, 1, SH_PLAIN, 0);
        assert_int_equal(r->dev.irqs, 3);
        ledger_assert_all_back(&r->led);
        rig_free(r);
    }
}

/* Every ring call on q fails cleanly (no crash, nothing returned). */
static void assert_queue_unusable(struct rig *r)
{
    static uint8_t data[8];
    static _Alignas(16) struct virtq_desc table[1];
    struct virtq_buf b = {data, sizeof data};
    void *ck = NULL;
    uint32_t len = 0;
    assert_int_equal(virtq_add(&r->vq, &b, 1, 0, data), VIRTQ_EINVAL);
    assert_int_equal(virtq_add_indirect(&r->vq, &b, 1, 0, table, data), VIRTQ_EINVAL);
    bool notify = true;
    assert_int_equal(virtq_publish(&r->vq, &notify), VIRTQ_EINVAL);
    assert_false(notify);
    assert_int_equal(virtq_get(&r->vq, &ck, &len), VIRTQ_EINVAL);
    assert_null(ck);
    /* "Do not sleep, call virtq_get()", which then says EINVAL. */
    assert_true(virtq_has_used(&r->vq));
    assert_true(virtq_enable_intr(&r->vq));
    assert_true(virtq_enable_intr_delayed(&r->vq));
    virtq_disable_intr(&r->vq);
    assert_int_equal(virtq_detach(&r->vq, &ck), VIRTQ_EINVAL);
    assert_null(ck);
    assert_int_equal(virtq_num_free(&r->vq), 0);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_EINVAL);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000u), VIRTQ_EINVAL);
}

/* QueueReady written 1 reads back 0: VIRTQ_EIO, the queue unusable, the
   device FAILED ("Device Initialization": the driver gave up), and every
   further initialisation step refused until a reset, after which the
   device comes up normally. */
static void queue_ready_does_not_stick(void **state)
{
    struct rig *r = rig_new(2, F_EVENT | F_INDIRECT, 0);
    uintptr_t base = virtq_fake_base(r->fd);
    (void)state;
    assert_int_equal(virtq_mmio_probe(&r->dev, base), VIRTQ_OK);
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT | F_INDIRECT, 0), VIRTQ_OK);
    core_mmio_override(base + VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 16, r->ring, r->slots), VIRTQ_EIO);
    assert_queue_unusable(r);
    assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_FAILED);
    assert_false(virtq_fake_status(r->fd) & VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 16, r->ring, r->slots), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_negotiate(&r->dev, F_EVENT, 0), VIRTQ_EINVAL);
    assert_false(virtq_fake_status(r->fd) & VIRTIO_STATUS_DRIVER_OK);
    assert_queue_unusable(r);
    /* A reset starts over; with a device whose QueueReady sticks, all is well. */
    core_mmio_reset();
    rig_reinit(r, F_EVENT | F_INDIRECT, 16);
    rig_io(r, VIRTIO_BLK_T_IN, 1, 2, SH_INDIRECT, 0);
    ledger_assert_all_back(&r->led);
    rig_free(r);
}

int core_group_spec(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(isr_ignores_undefined_bits),
        CORE_TEST(queue_ready_does_not_stick),
    };
    return cmocka_run_group_tests_name("core: spec rules (issue 15)", tests, NULL, NULL);
}
