/* SPDX-License-Identifier: MIT */
/* Every fault the fake can inject, each ending in its documented outcome,
   and a reset that never completes.  After every break: reset, detach,
   every cookie back exactly once, and the queue works again. */
#include "core.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)

/* After the device misbehaved: the queue is broken and every call on it
   says so, without touching the device. */
static void assert_latched(struct rig *r, struct breq *spare)
{
    uint32_t notifies = r->dev.notifies;
    struct virtq_fake_stats a, b;
    void *ck = NULL;
    uint32_t len = 0;
    virtq_fake_get_stats(r->fd, &a);
    assert_true(virtq_is_broken(&r->vq));
    assert_int_equal(breq_add(r, spare, VIRTIO_BLK_T_IN, 0, 1, SH_PLAIN, 0), VIRTQ_EBROKEN);
    if (r->dev.features & F_INDIRECT)
        assert_int_equal(breq_add(r, spare, VIRTIO_BLK_T_IN, 0, 1, SH_INDIRECT, 0), VIRTQ_EBROKEN);
    assert_int_equal(vq_test_publish(&r->vq), VIRTQ_EBROKEN);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_EBROKEN);
    assert_int_equal(virtq_get(&r->vq, &ck, &len), VIRTQ_EBROKEN);
    assert_null(ck);
    assert_true(virtq_has_used(&r->vq)); /* virtq_get says EBROKEN */
    assert_true(virtq_enable_intr(&r->vq)); /* never sleep on it */
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 0), VIRTQ_EBROKEN);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 100000u), VIRTQ_EBROKEN);
    virtq_fake_get_stats(r->fd, &b);
    assert_int_equal(r->dev.notifies, notifies);
    assert_int_equal(b.q[0].notifies, a.q[0].notifies);
}

/* Back in business after a reset and a new setup. */
static void assert_recovers(struct rig *r, uint64_t wanted)
{
    rig_reset_detach(r);
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_SYNC, 0);
    rig_reinit(r, wanted, 16);
    rig_io(r, VIRTIO_BLK_T_OUT, 40, 2, SH_SPLIT, 77);
    rig_io(r, VIRTIO_BLK_T_IN, 40, 2, SH_PLAIN, 0);
    ledger_assert_all_back(&r->led);
    rig_assert_disk(r);
}

/* ---- a used element that breaks the rules ------------------------------------ */

struct bad_case {
    enum virtq_fake_fault fault;
    const char *name;
    int good_first; /* the first element is a real completion */
};

static const struct bad_case bad_cases[] = {
    {VIRTQ_FAKE_FAULT_COMPLETE_TWICE, "complete twice", 1},
    {VIRTQ_FAKE_FAULT_ID_RANGE, "id >= Queue Size", 0},
    {VIRTQ_FAKE_FAULT_ID_HIGH, "id with bit 16 set", 0},
    {VIRTQ_FAKE_FAULT_ID_NOT_HEAD, "id not a chain head", 0},
    {VIRTQ_FAKE_FAULT_LEN_OVER, "len beyond the writable bytes", 0},
    {VIRTQ_FAKE_FAULT_USED_IDX_JUMP, "used.idx jumps past the ring", 0},
    {VIRTQ_FAKE_FAULT_USED_IDX_AHEAD, "used.idx ahead of the elements", 1},
};

static void bad_used(int version, const struct bad_case *c, int indirect)
{
    uint64_t wanted = indirect ? F_INDIRECT : 0;
    struct rig *r = rig_new(version, F_INDIRECT, 0);
    struct breq *q = breqs_new(5);
    int i, rc, good = 0;
    print_message("  v%d %s%s\n", version, c->name, indirect ? " (indirect)" : "");
    rig_up(r, wanted, 16);
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(breq_add(r, &q[i], VIRTIO_BLK_T_IN, (uint64_t)i * 4u, 2,
                                  indirect ? SH_INDIRECT : SH_PLAIN, 0),
                         VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    assert_int_equal(virtq_fake_pending(r->fd, 0), 4);
    assert_int_equal(virtq_fake_inject(r->fd, 0, c->fault, 1), 0);
    assert_int_equal(virtq_fake_step(r->fd, 0, 1), 1);
    /* Drain: at most one real completion, then the break. */
    for (;;) {
        void *ck = NULL;
        uint32_t len = 0;
        rc = virtq_wait(&r->dev, &r->vq, 1000000u);
        if (rc != VIRTQ_OK)
            break;
        rc = virtq_get(&r->vq, &ck, &len);
        if (rc != VIRTQ_OK)
            break;
        ledger_back(&r->led, ck);
        breq_check(r, ck, len);
        assert_ptr_equal(ck, &q[0]);
        good++;
        assert_true(good <= 1);
    }
    assert_int_equal(rc, VIRTQ_EBROKEN);
    assert_int_equal(good, c->good_first);
    assert_latched(r, &q[4]);
    /* The device goes on completing; the broken queue ignores it. */
    assert_int_equal(virtq_fake_step(r->fd, 0, -1), 3);
    assert_latched(r, &q[4]);
    assert_int_equal(ledger_outstanding(&r->led), 4u - (unsigned)good);
    assert_recovers(r, wanted);
    free(q);
    rig_free(r);
}

static void fault_bad_used_elements(void **state)
{
    unsigned i;
    int v, ind;
    (void)state;
    for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        for (v = 1; v <= 2; v++)
            for (ind = 0; ind <= 1; ind++)
                bad_used(v, &bad_cases[i], ind);
}

/* ---- a request the device swallows ---------------------------------------------- */

static void fault_never_complete(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct breq *q = breqs_new(1);
        void *ck = NULL;
        rig_up(r, 0, 16);
        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1), 0);
        assert_int_equal(breq_add(r, q, VIRTIO_BLK_T_IN, 9, 3, SH_SPLIT, 0), VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        assert_int_equal(virtq_fake_in_flight(r->fd, 0), 1);
        /* Bounded, and the queue stays consistent: not broken, nothing to get. */
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 20000u), VIRTQ_ETIMEDOUT);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 0), VIRTQ_ETIMEDOUT);
        assert_false(virtq_is_broken(&r->vq));
        assert_int_equal(virtq_get(&r->vq, &ck, NULL), VIRTQ_EAGAIN);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_num_free(&r->vq), 16u - 5u);
        /* Other requests still go through around the lost one. */
        rig_io(r, VIRTIO_BLK_T_OUT, 20, 1, SH_PLAIN, 5);
        rig_io(r, VIRTIO_BLK_T_IN, 20, 1, SH_PLAIN, 0);
        assert_int_equal(ledger_outstanding(&r->led), 1);
        /* The reset hands the swallowed one back. */
        assert_recovers(r, 0);
        free(q);
        rig_free(r);
    }
}

/* ---- interrupts the driver did not ask for ------------------------------------------ */

static void fault_ignore_no_interrupt(void **state)
{
    int v, ev;
    (void)state;
    for (v = 1; v <= 2; v++) {
        for (ev = 0; ev <= 1; ev++) {
            struct rig *r = rig_new(v, F_EVENT, 0);
            rig_irq_to_isr(r);
            rig_up(r, ev ? F_EVENT : 0, 16);
            virtq_disable_intr(&r->vq);
            /* Suppressed: no interrupt. */
            rig_io(r, VIRTIO_BLK_T_IN, 1, 1, SH_PLAIN, 0);
            assert_int_equal(r->isr_calls, 0);
            /* The device interrupts anyway: a real cause, harmless. */
            assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT, 1), 0);
            rig_io(r, VIRTIO_BLK_T_IN, 2, 1, SH_PLAIN, 0);
            assert_int_equal(r->isr_calls, 1);
            assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_VRING);
            assert_int_equal(r->dev.spurious, 0);
            assert_false(virtq_is_broken(&r->vq));
            rig_io(r, VIRTIO_BLK_T_IN, 3, 1, SH_PLAIN, 0);
            assert_int_equal(r->isr_calls, 1); /* suppressed again */
            /* Re-armed: interrupts come back. */
            assert_int_equal(virtq_enable_intr(&r->vq), 0);
            rig_io(r, VIRTIO_BLK_T_IN, 4, 1, SH_PLAIN, 0);
            assert_int_equal(r->isr_calls, 2);
            assert_int_equal(r->dev.irqs, 2);
            ledger_assert_all_back(&r->led);
            rig_free(r);
        }
    }
}

static void fault_spurious_interrupts(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        uint32_t seq;
        void *ck;
        rig_irq_to_isr(r);
        rig_up(r, 0, 16);
        /* The line with InterruptStatus 0: counted as spurious, no wake-up. */
        seq = r->dev.wake_seq;
        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_SPURIOUS_IRQ, 1), 0);
        assert_int_equal(r->isr_calls, 1);
        assert_int_equal(r->last_isr, 0);
        assert_int_equal(r->dev.spurious, 1);
        assert_int_equal(r->dev.irqs, 0);
        assert_int_equal(r->dev.wake_seq, seq);
        /* Called with nothing pending at all: the same. */
        assert_int_equal(virtq_dev_isr(&r->dev), 0);
        assert_int_equal(r->dev.spurious, 2);
        /* "Used buffer" with nothing used: indistinguishable from a real one
           here, so it wakes waiters (who find nothing and wait again). */
        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_SPURIOUS_VRING, 1), 0);
        assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_VRING);
        assert_int_equal(r->dev.irqs, 1);
        assert_int_equal(r->dev.wake_seq, seq + 1u);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), 0); /* acknowledged */
        assert_int_equal(virtq_has_used(&r->vq), 0);
        assert_int_equal(virtq_get(&r->vq, &ck, NULL), VIRTQ_EAGAIN);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000u), VIRTQ_ETIMEDOUT);
        assert_false(virtq_is_broken(&r->vq));
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        rig_io(r, VIRTIO_BLK_T_IN, 5, 1, SH_PLAIN, 0);
        assert_int_equal(r->dev.irqs, 2);
        assert_int_equal(r->dev.spurious, 2);
        ledger_assert_all_back(&r->led);
        rig_free(r);
    }
}

/* DEVICE_NEEDS_RESET, seen by the interrupt handler. */
static void fault_needs_reset(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct breq *q = breqs_new(3);
        rig_irq_to_isr(r);
        rig_up(r, 0, 16);
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
        assert_int_equal(breq_add(r, &q[0], VIRTIO_BLK_T_IN, 0, 1, SH_PLAIN, 0), VIRTQ_OK);
        assert_int_equal(breq_add(r, &q[1], VIRTIO_BLK_T_OUT, 8, 1, SH_PLAIN, 3), VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1), 0);
        assert_true(virtq_fake_status(r->fd) & VIRTIO_STATUS_NEEDS_RESET);
        assert_int_equal(r->isr_calls, 1);
        assert_true(r->last_isr & VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000000u), VIRTQ_EBROKEN);
        assert_int_equal(virtq_broken_reason(&r->vq), VIRTQ_BROKEN_DEVICE);
        assert_latched(r, &q[2]);
        assert_int_equal(virtq_fake_step(r->fd, 0, -1), 0); /* the device stopped too */
        assert_recovers(r, 0);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        free(q);
        rig_free(r);
    }
}

/* NEEDS_RESET with no interrupt handler (spin, interrupts not wired): the
   spin's register read sees the pending config change, so the wait ends
   long before its deadline, and says EBROKEN. */
static void fault_needs_reset_polled(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    struct breq *q = breqs_new(2);
    (void)state;
    rig_up(r, 0, 16);
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(breq_add(r, &q[0], VIRTIO_BLK_T_IN, 0, 1, SH_PLAIN, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1), 0);
    {
        /* 30 s budget; a return within half of it can only be the early
           detection (the deadline path would take all 30 s). */
        uint64_t t0 = virtq_fake_now_us();
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 30000000u), VIRTQ_EBROKEN);
        assert_true(virtq_fake_now_us() - t0 < 15000000u);
    }
    assert_int_equal(virtq_broken_reason(&r->vq), VIRTQ_BROKEN_DEVICE);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
    assert_latched(r, &q[1]);
    assert_recovers(r, 0);
    free(q);
    rig_free(r);
}

/* "Interrupts before DRIVER_OK are ignored, not trusted." */
static void fault_irq_before_driver_ok(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct virtq_dev unprobed;
        memset(&unprobed, 0, sizeof unprobed);
        assert_int_equal(virtq_dev_isr(&unprobed), 0);
        assert_int_equal(virtq_dev_isr(NULL), 0);
        rig_irq_to_isr(r);
        assert_int_equal(virtq_mmio_probe(&r->dev, virtq_fake_base(r->fd)), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&r->dev, 0, 0), VIRTQ_OK);
        assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, 16, r->ring, r->slots), VIRTQ_OK);
        virtq_fake_raise_irq(r->fd, VIRTIO_MMIO_INT_VRING);
        assert_int_equal(r->isr_calls, 1);
        assert_int_equal(r->last_isr, 0);
        virtq_fake_raise_irq(r->fd, VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(r->last_isr, 0);
        assert_int_equal(r->dev.spurious, 2);
        assert_int_equal(r->dev.early, 2);
        assert_int_equal(r->dev.irqs, 0);
        assert_int_equal(r->dev.wake_seq, 0);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), 0); /* acknowledged: the line drops */
        assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
        rig_io(r, VIRTIO_BLK_T_IN, 6, 1, SH_PLAIN, 0);
        assert_int_equal(r->dev.irqs, 1);
        assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_VRING);
        rig_free(r);
    }
}

/* ---- a reset that never completes ------------------------------------------------------ */

static void reset_times_out(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct breq *q = breqs_new(1);
        uintptr_t status = virtq_fake_base(r->fd) + VIRTIO_MMIO_STATUS;
        uint32_t before;
        unsigned reads;
        rig_up(r, 0, 16);
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
        assert_int_equal(breq_add(r, q, VIRTIO_BLK_T_IN, 2, 1, SH_PLAIN, 0), VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        virtq_fake_stick_reset(r->fd, 1);
        before = virtq_fake_status(r->fd);
        reads = core_mmio_reads(status);
        assert_int_equal(virtq_dev_reset(&r->dev), VIRTQ_ETIMEDOUT);
        /* Bounded: exactly VIRTQ_RESET_POLLS looks at the status. */
        assert_int_equal(core_mmio_reads(status) - reads, core_reset_polls);
        assert_int_equal(virtq_fake_status(r->fd), before);
        reads = core_mmio_reads(status);
        assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_ETIMEDOUT);
        assert_int_equal(core_mmio_reads(status) - reads, core_reset_polls);
        assert_int_equal(virtq_fake_status(r->fd), before); /* begin went no further */
        /* The device finally resets: the request comes back by detach. */
        virtq_fake_stick_reset(r->fd, 0);
        assert_recovers(r, 0);
        free(q);
        rig_free(r);
    }
}

int core_group_faults(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(fault_bad_used_elements),  CORE_TEST(fault_never_complete),
        CORE_TEST(fault_ignore_no_interrupt), CORE_TEST(fault_spurious_interrupts),
        CORE_TEST(fault_needs_reset),        CORE_TEST(fault_needs_reset_polled),
        CORE_TEST(fault_irq_before_driver_ok), CORE_TEST(reset_times_out),
    };
    return cmocka_run_group_tests_name("core: device faults and resets", tests, NULL, NULL);
}
