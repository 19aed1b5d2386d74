/* SPDX-License-Identifier: MIT */
/* Every wait strategy on the host: SPIN against a deferred and a threaded
   device, WFI on the fake CPU (routed and connected; never routed, the seed
   bug; routed but not connected, bounded by the alarm), OS blocking woken
   by virtq_dev_isr() from the device's thread, and lost-wakeup stress with
   the completion landing between virtq's last check and the block. */
#include "core.h"

#define ISR_REG VIRTIO_MMIO_INTERRUPT_STATUS

/* ---- a stand-in device thread: completes once the waiter is seen waiting -- */

enum { WHEN_DELAY, WHEN_WFI, WHEN_OS_BLOCKED, WHEN_SPINNING };

struct stepper {
    pthread_t t;
    struct rig *r;
    int when;
    unsigned base;          /* the counter's value before the wait */
    struct virtq_fake_os *os;
    int seen;               /* the waiter was observed waiting */
};

static unsigned waiting_count(const struct stepper *s)
{
    struct virtq_fake_cpu_stats cs;
    struct virtq_fake_os_stats os;
    switch (s->when) {
    case WHEN_WFI:
        virtq_fake_cpu_get_stats(&cs);
        return cs.wfi_calls;
    case WHEN_OS_BLOCKED:
        virtq_fake_os_get_stats(s->os, &os);
        return os.waits;
    case WHEN_SPINNING:
        return core_mmio_reads(virtq_fake_base(s->r->fd) + ISR_REG);
    default:
        return 0;
    }
}

static void *stepper_main(void *arg)
{
    struct stepper *s = arg;
    unsigned t;
    if (s->when == WHEN_DELAY) {
        sleep_us(5000);
    } else {
        for (t = 0; t < 5000000u && waiting_count(s) <= s->base; t += 50u)
            sleep_us(50);
        s->seen = waiting_count(s) > s->base;
    }
    (void)virtq_fake_step(s->r->fd, 0, -1); /* interrupts are raised on this thread */
    return NULL;
}

static void stepper_start(struct stepper *s, struct rig *r, int when, struct virtq_fake_os *os)
{
    memset(s, 0, sizeof *s);
    s->r = r;
    s->when = when;
    s->os = os;
    s->base = waiting_count(s);
    assert_int_equal(pthread_create(&s->t, NULL, stepper_main, s), 0);
}

static void stepper_join(struct stepper *s)
{
    assert_int_equal(pthread_join(s->t, NULL), 0);
    if (s->when != WHEN_DELAY)
        assert_true(s->seen); /* the completion came while the waiter waited */
}

/* Add one read, kick; in deferred mode nothing is used yet. */
static struct breq *submit_one(struct rig *r, uint64_t sector)
{
    struct breq *q = breqs_new(1);
    assert_int_equal(breq_add(r, q, VIRTIO_BLK_T_IN, sector, 1, SH_PLAIN, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    return q;
}

static void finish_one(struct rig *r, struct breq *q)
{
    assert_ptr_equal(rig_get_one(r), q);
    free(q);
}

/* The fake CPU's interrupt handler: the driver's ISR. */
static void cpu_isr(void *ctx)
{
    struct rig *r = ctx;
    r->last_isr = virtq_dev_isr(&r->dev);
    r->isr_calls++;
}

/* Take an interrupt still pending on the fake CPU (an instruction boundary). */
static void cpu_boundary(void)
{
    virtq_fake_cpu_irq_restore(virtq_fake_cpu_irq_save());
}

/* ---- choosing a strategy --------------------------------------------------------------- */

static void wait_set_strategy(void **state)
{
    struct rig *r = rig_new(2, 0, 0);
    struct virtq_dev unprobed;
    static const int bad[] = {0, 3, 5, 6, 7, 16, -1, 255};
    unsigned i;
    int os_ctx;
    (void)state;
    rig_up(r, 0, 16);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(virtq_dev_set_wait(&r->dev, bad[i], &os_ctx), VIRTQ_EINVAL);
        assert_int_equal(r->dev.wait, VIRTQ_WAIT_SPIN);
        assert_null(r->dev.os_ctx);
    }
    /* Built in here (core_impl.c enables every strategy); "not built in"
       is checked in tests/ring (a SPIN-only build). */
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_CUSTOM, NULL), VIRTQ_OK);
    assert_int_equal(r->dev.wait, VIRTQ_WAIT_CUSTOM);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_SPIN, NULL), VIRTQ_OK);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_OS, &os_ctx), VIRTQ_OK);
    assert_int_equal(r->dev.wait, VIRTQ_WAIT_OS);
    assert_ptr_equal(r->dev.os_ctx, &os_ctx);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
    assert_int_equal(r->dev.wait, VIRTQ_WAIT_WFI);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_SPIN, NULL), VIRTQ_OK);
    memset(&unprobed, 0, sizeof unprobed);
    assert_int_equal(virtq_dev_set_wait(&unprobed, VIRTQ_WAIT_SPIN, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_dev_set_wait(NULL, VIRTQ_WAIT_SPIN, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_wait(NULL, &r->vq, 0), VIRTQ_EINVAL);
    assert_int_equal(virtq_wait(&r->dev, NULL, 0), VIRTQ_EINVAL);
    assert_int_equal(virtq_wait(&unprobed, &r->vq, 0), VIRTQ_EINVAL);
    /* Nothing submitted: a zero timeout says so at once. */
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 0), VIRTQ_ETIMEDOUT);
    rig_free(r);
}

/* ---- SPIN ---------------------------------------------------------------------------------- */

/* VIRTQ_WAIT_CUSTOM: the user's hook runs once per round with the time
   left; virtq re-checks the ring after each call, and still stops at the
   deadline when the hook never makes progress. */
struct custom_run {
    struct rig *r;
    unsigned calls, complete_at;
    uint64_t last_remaining;
    int remaining_grew;
};

static void custom_round(void *ctx, struct virtq_dev *dev, struct virtq *vq, uint64_t remaining)
{
    struct custom_run *c = ctx;
    assert_ptr_equal(dev, &c->r->dev);
    assert_ptr_equal(vq, &c->r->vq);
    if (c->calls > 0 && remaining > c->last_remaining)
        c->remaining_grew = 1;
    c->last_remaining = remaining;
    if (++c->calls == c->complete_at)
        assert_int_equal(virtq_fake_step(c->r->fd, 0, 1), 1); /* the device finishes now */
}

static void custom_wait_strategy(void **state)
{
    struct custom_run c;
    struct rig *r = rig_new(2, 0, 0);
    struct breq *q;
    (void)state;
    rig_up(r, 0, 16);
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_CUSTOM, NULL), VIRTQ_OK);
    memset(&c, 0, sizeof c);
    c.r = r;
    c.complete_at = 3;
    core_set_custom_wait(custom_round, &c);
    q = submit_one(r, 5);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
    assert_int_equal(c.calls, 3); /* found on the re-check right after */
    assert_int_equal(c.remaining_grew, 0);
    finish_one(r, q);
    /* A hook that never helps: the deadline still ends the wait. */
    memset(&c, 0, sizeof c);
    c.r = r;
    c.complete_at = 0;
    q = submit_one(r, 6);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 20000u), VIRTQ_ETIMEDOUT);
    assert_true(c.calls > 0);
    assert_int_equal(c.remaining_grew, 0);
    assert_int_equal(virtq_is_broken(&r->vq), 0); /* consistent, not broken */
    assert_int_equal(virtq_fake_step(r->fd, 0, 1), 1);
    finish_one(r, q);
    core_set_custom_wait(NULL, NULL);
    ledger_assert_all_back(&r->led);
    rig_free(r);
}

static void spin_deferred_completion(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct stepper s;
        struct breq *q;
        uintptr_t isr_reg;
        unsigned reads;
        rig_up(r, 0, 16);
        isr_reg = virtq_fake_base(r->fd) + ISR_REG;
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
        q = submit_one(r, 3);
        assert_int_equal(virtq_has_used(&r->vq), 0);
        reads = core_mmio_reads(isr_reg);
        stepper_start(&s, r, WHEN_SPINNING, NULL);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
        stepper_join(&s);
        /* The spin read a device register each round (an emulator's event
           loop gets to run) and never acknowledged anything. */
        assert_true(core_mmio_reads(isr_reg) > reads);
        finish_one(r, q);
        /* And once after a plain delay. */
        q = submit_one(r, 4);
        stepper_start(&s, r, WHEN_DELAY, NULL);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
        stepper_join(&s);
        finish_one(r, q);
        ledger_assert_all_back(&r->led);
        rig_free(r);
    }
}

/* The device thread completes in random order with random delays. */
static void spin_device_thread(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct breq *q = breqs_new(16);
        unsigned i, got = 0;
        rig_up(r, 0, 64);
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_SYNC, 1234u + (unsigned)v);
        virtq_fake_set_thread_delay(r->fd, 300);
        assert_int_equal(virtq_fake_start_thread(r->fd), 0);
        for (i = 0; i < 16; i++) /* disjoint 8-sector windows */
            assert_int_equal(breq_add(r, &q[i], i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, i * 8u, 1u + i % 4u,
                                      i % 3 ? SH_PLAIN : SH_SPLIT, i),
                             VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        while (got < 16) {
            assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
            while (virtq_has_used(&r->vq) == 1) {
                (void)rig_get_one(r);
                got++;
            }
        }
        virtq_fake_stop_thread(r->fd);
        ledger_assert_all_back(&r->led);
        rig_assert_disk(r);
        free(q);
        rig_free(r);
    }
}

/* ---- WFI ---------------------------------------------------------------------------------------- */

static struct rig *wfi_rig(int version, int connected, int routed)
{
    struct rig *r = rig_new(version, 0, 0);
    rig_up(r, 0, 16);
    virtq_fake_cpu_set_isr(cpu_isr, r);
    virtq_fake_connect_irq(r->fd, connected);
    if (routed)
        virtq_dev_irq_routed(&r->dev, 1);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    return r;
}

/* Routed and connected: the device's interrupt ends the wfi and the
   handler runs when interrupts are unmasked again. */
static void wfi_routed_irq_wakes(void **state)
{
    int v, round;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = wfi_rig(v, 1, 1);
        struct virtq_fake_cpu_stats cs;
        for (round = 0; round < 6; round++) {
            struct stepper s;
            struct breq *q = submit_one(r, (uint64_t)round);
            stepper_start(&s, r, WHEN_WFI, NULL);
            assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
            stepper_join(&s);
            finish_one(r, q);
        }
        cpu_boundary();
        virtq_fake_cpu_get_stats(&cs);
        assert_true(cs.wfi_irq_wakes >= 1);
        assert_int_equal(cs.wfi_stuck, 0);
        assert_int_equal(cs.isr_runs, 6);
        assert_int_equal(r->isr_calls, 6);
        assert_int_equal(r->dev.irqs, 6); /* each one through virtq_dev_isr */
        assert_int_equal(r->last_isr, VIRTIO_MMIO_INT_VRING);
        assert_int_equal(virtq_fake_interrupt_status(r->fd), 0);
        ledger_assert_all_back(&r->led);
        virtq_fake_cpu_reset();
        rig_free(r);
    }
}

/* The seed bug: the board never routed the device interrupt and never said
   so (virtq_dev_irq_routed not called).  A wfi would sleep forever; the
   wait spins instead and still completes, or times out.  The same once a
   board routed the line and un-routed it again (virtq_dev_irq_routed(0)). */
static void wfi_unrouted_falls_back_to_spin(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 4; v++) {
        struct rig *r = wfi_rig(v > 2 ? v - 2 : v, 0, 0);
        struct virtq_fake_cpu_stats cs;
        struct stepper s;
        struct breq *q;
        if (v > 2) {
            virtq_dev_irq_routed(&r->dev, 1);
            virtq_dev_irq_routed(&r->dev, 0);
        }
        q = submit_one(r, 1);
        stepper_start(&s, r, WHEN_SPINNING, NULL);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
        stepper_join(&s);
        finish_one(r, q);
        /* Never completes: bounded by the timeout, still no wfi. */
        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1), 0);
        q = submit_one(r, 2);
        assert_int_equal(virtq_fake_step(r->fd, 0, -1), 1);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 20000u), VIRTQ_ETIMEDOUT);
        assert_false(virtq_is_broken(&r->vq));
        virtq_fake_cpu_get_stats(&cs);
        assert_int_equal(cs.wfi_calls, 0);
        assert_int_equal(cs.isr_runs, 0);
        rig_reset_detach(r);
        free(q);
        virtq_fake_cpu_reset();
        rig_free(r);
    }
}

/* Routed (so virtq does wfi) but the line goes nowhere: the alarm slices
   bound every wfi, so the wait still sees the completion, and a request
   that never completes ends in VIRTQ_ETIMEDOUT. */
static void wfi_unconnected_alarm_bounds(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = wfi_rig(v, 0, 1);
        struct virtq_fake_cpu_stats cs, cs2;
        struct stepper s;
        struct breq *q = submit_one(r, 1);
        stepper_start(&s, r, WHEN_WFI, NULL);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
        stepper_join(&s);
        finish_one(r, q);
        virtq_fake_cpu_get_stats(&cs);
        assert_true(cs.wfi_alarm_wakes >= 1);
        assert_int_equal(cs.wfi_irq_wakes, 0);
        assert_int_equal(cs.isr_runs, 0);
        assert_int_equal(cs.wfi_stuck, 0);
        assert_int_equal(r->dev.irqs, 0);

        assert_int_equal(virtq_fake_inject(r->fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1), 0);
        q = submit_one(r, 2);
        assert_int_equal(virtq_fake_step(r->fd, 0, -1), 1);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 30000u), VIRTQ_ETIMEDOUT);
        virtq_fake_cpu_get_stats(&cs2);
        assert_true(cs2.wfi_alarm_wakes > cs.wfi_alarm_wakes);
        assert_int_equal(cs2.wfi_stuck, 0);
        assert_false(virtq_is_broken(&r->vq));
        rig_reset_detach(r);
        free(q);
        virtq_fake_cpu_reset();
        rig_free(r);
    }
}

/* ---- OS --------------------------------------------------------------------------------------------- */

static struct rig *os_rig(int version, struct virtq_fake_os **os)
{
    struct rig *r = rig_new(version, 0, 0);
    *os = virtq_fake_os_create();
    assert_non_null(*os);
    rig_irq_to_isr(r); /* the interrupt handler: virtq_dev_isr wakes the channel */
    rig_up(r, 0, 64);
    assert_int_equal(virtq_dev_set_wait(&r->dev, VIRTQ_WAIT_OS, *os), VIRTQ_OK);
    return r;
}

/* A waiter blocked in VIRTQ_OS_WAIT is woken by virtq_dev_isr() running on
   the device's thread. */
static void os_blocked_waiter_woken(void **state)
{
    int v, round;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct virtq_fake_os *os;
        struct rig *r = os_rig(v, &os);
        struct virtq_fake_os_stats st;
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
        for (round = 0; round < 5; round++) {
            struct stepper s;
            struct breq *q = submit_one(r, (uint64_t)round);
            stepper_start(&s, r, WHEN_OS_BLOCKED, os);
            assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
            stepper_join(&s);
            finish_one(r, q);
        }
        virtq_fake_os_get_stats(os, &st);
        assert_true(st.waits >= 5);
        assert_true(st.wakes >= 5);
        assert_int_equal(st.timeouts, 0);
        assert_int_equal(r->dev.irqs, 5);
        ledger_assert_all_back(&r->led);
        rig_free(r);
        virtq_fake_os_destroy(os);
    }
}

/* The real device thread: random order, random delays, interrupts from
   that thread. */
static void os_device_thread(void **state)
{
    struct virtq_fake_os *os;
    struct rig *r = os_rig(2, &os);
    struct breq *q = breqs_new(20);
    struct virtq_fake_os_stats st;
    unsigned i, got = 0;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_SYNC, 99);
    virtq_fake_set_thread_delay(r->fd, 2000);
    assert_int_equal(virtq_fake_start_thread(r->fd), 0);
    for (i = 0; i < 20; i++) /* 3 descriptors each: 60 of the 64 */
        assert_int_equal(breq_add(r, &q[i], i % 3 == 0 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, i * 8u, 1u + i % 8u,
                                  SH_PLAIN, i),
                         VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    while (got < 20) {
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
        while (virtq_has_used(&r->vq) == 1) {
            (void)rig_get_one(r);
            got++;
        }
    }
    virtq_fake_stop_thread(r->fd);
    virtq_fake_os_get_stats(os, &st);
    assert_true(st.waits >= 1); /* it did block, and was woken */
    assert_true(st.wakes >= 1);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(r->dev.spurious, 0);
    ledger_assert_all_back(&r->led);
    rig_assert_disk(r);
    free(q);
    rig_free(r);
    virtq_fake_os_destroy(os);
}

/* Spurious interrupts while a task is blocked: InterruptStatus 0 wakes
   nobody; a "used buffer" with nothing used wakes the waiter, which waits
   again; the real completion after them is not lost. */
struct spurious_ctx {
    struct rig *r;
    struct virtq_fake_os *os;
    unsigned waits_after_status0, waits_after_vring;
    int ok;
};

static unsigned os_waits(struct virtq_fake_os *os)
{
    struct virtq_fake_os_stats st;
    virtq_fake_os_get_stats(os, &st);
    return st.waits;
}

static unsigned until_waits(struct virtq_fake_os *os, unsigned n)
{
    unsigned t;
    for (t = 0; t < 5000000u && os_waits(os) < n; t += 50u)
        sleep_us(50);
    return os_waits(os);
}

static void *spurious_main(void *arg)
{
    struct spurious_ctx *c = arg;
    if (until_waits(c->os, 1) < 1)
        return NULL;
    virtq_fake_inject(c->r->fd, 0, VIRTQ_FAKE_FAULT_SPURIOUS_IRQ, 1);
    sleep_us(2000);
    c->waits_after_status0 = os_waits(c->os);
    virtq_fake_inject(c->r->fd, 0, VIRTQ_FAKE_FAULT_SPURIOUS_VRING, 1);
    c->waits_after_vring = until_waits(c->os, 2); /* woken, found nothing, blocked again */
    c->ok = c->waits_after_vring >= 2;
    (void)virtq_fake_step(c->r->fd, 0, -1);
    return NULL;
}

static void os_spurious_then_real(void **state)
{
    struct virtq_fake_os *os;
    struct rig *r = os_rig(2, &os);
    struct spurious_ctx c;
    struct virtq_fake_os_stats st;
    pthread_t t;
    struct breq *q;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    q = submit_one(r, 7);
    memset(&c, 0, sizeof c);
    c.r = r;
    c.os = os;
    assert_int_equal(pthread_create(&t, NULL, spurious_main, &c), 0);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(c.ok);
    assert_int_equal(c.waits_after_status0, 1); /* status 0 woke nobody */
    finish_one(r, q);
    virtq_fake_os_get_stats(os, &st);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(r->dev.spurious, 1);
    assert_int_equal(r->dev.early, 0); /* status 0 after DRIVER_OK is not "early" */
    assert_int_equal(r->dev.irqs, 2); /* the empty "used buffer" one and the real one */
    assert_false(virtq_is_broken(&r->vq));
    rig_free(r);
    virtq_fake_os_destroy(os);
}

/* DEVICE_NEEDS_RESET while a task is blocked: the configuration interrupt
   wakes it and the wait ends with VIRTQ_EBROKEN then, not at its deadline
   (the channel never timed out). */
static void *needs_reset_main(void *arg)
{
    struct spurious_ctx *c = arg;
    c->ok = until_waits(c->os, 1) >= 1;
    virtq_fake_inject(c->r->fd, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1);
    return NULL;
}

static void os_needs_reset_wakes_waiter(void **state)
{
    struct virtq_fake_os *os;
    struct rig *r = os_rig(2, &os);
    struct spurious_ctx c;
    struct virtq_fake_os_stats st;
    pthread_t t;
    struct breq *q;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    q = submit_one(r, 9);
    memset(&c, 0, sizeof c);
    c.r = r;
    c.os = os;
    assert_int_equal(pthread_create(&t, NULL, needs_reset_main, &c), 0);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 5000000u), VIRTQ_EBROKEN);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(c.ok);
    virtq_fake_os_get_stats(os, &st);
    assert_int_equal(st.timeouts, 0);
    assert_true(r->last_isr & VIRTIO_MMIO_INT_CONFIG);
    assert_true(virtq_is_broken(&r->vq));
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_EBROKEN);
    rig_reset_detach(r); /* the request comes back */
    free(q);
    rig_free(r);
    virtq_fake_os_destroy(os);
}

/* ---- lost wake-ups ------------------------------------------------------------------------------- */

static void step_all(void *ctx)
{
    struct rig *r = ctx;
    (void)virtq_fake_step(r->fd, 0, -1);
}

/* The completion lands between virtq's last "nothing yet" check and the
   block: early (before the re-arm and re-check, through VIRTQ_NOW_US) or
   late (inside VIRTQ_OS_WAIT, after the re-check).  Either way the wait
   must not sleep on it: the re-check catches the early one, the futex
   sequence taken before the re-check ends the block for the late one. */
static void lost_wakeup_os_in_the_window(void **state)
{
    struct virtq_fake_os *os;
    struct rig *r = os_rig(2, &os);
    struct virtq_fake_os_stats st;
    unsigned i, n = 300;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
    for (i = 0; i < n; i++) {
        struct breq *q = submit_one(r, i % RIG_SECTORS);
        if (i % 2) {
            core_set_os_wait_hook(NULL, NULL);
            core_arm_now_hook(step_all, r, 1);
        } else {
            core_set_os_wait_hook(step_all, r);
        }
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 500000u), VIRTQ_OK);
        assert_int_equal(core_hook_runs(), i + 1u); /* it landed in the window */
        finish_one(r, q);
        virtq_fake_os_get_stats(os, &st);
        assert_int_equal(st.timeouts, 0); /* a lost wake-up would sleep to the deadline */
    }
    assert_int_equal(st.waits, n / 2); /* only the late ones reached the block */
    assert_int_equal(r->dev.irqs, n);
    ledger_assert_all_back(&r->led);
    rig_free(r);
    virtq_fake_os_destroy(os);
}

/* The same for wfi.  Early: the handler runs at once and the masked
   re-check sees the buffer, so no wfi.  Late (after the masked re-check,
   right before wfi): the interrupt stays pending, wfi returns at once and
   the handler runs at the unmask. */
static void lost_wakeup_wfi_in_the_window(void **state)
{
    struct rig *r = wfi_rig(2, 1, 1);
    struct virtq_fake_cpu_stats cs;
    unsigned i, n = 300;
    (void)state;
    for (i = 0; i < n; i++) {
        struct breq *q = submit_one(r, i % RIG_SECTORS);
        if (i % 2) {
            core_set_wfi_hook(NULL, NULL);
            core_arm_now_hook(step_all, r, 1);
        } else {
            core_set_wfi_hook(step_all, r);
        }
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 500000u), VIRTQ_OK);
        assert_int_equal(core_hook_runs(), i + 1u);
        finish_one(r, q);
    }
    virtq_fake_cpu_get_stats(&cs);
    assert_int_equal(cs.wfi_calls, n / 2);
    assert_int_equal(cs.wfi_irq_wakes, n / 2);
    assert_int_equal(cs.wfi_alarm_wakes, 0); /* none waited for the alarm */
    assert_int_equal(cs.isr_runs, n);
    assert_int_equal(r->dev.irqs, n);
    ledger_assert_all_back(&r->led);
    virtq_fake_cpu_reset();
    rig_free(r);
}

/* A real race: the device thread completes at random moments around the
   waiter's check-then-block, many times. */
static void lost_wakeup_os_race(void **state)
{
    struct virtq_fake_os *os;
    struct rig *r = os_rig(2, &os);
    struct virtq_fake_os_stats st;
    unsigned i, n = 400;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_SYNC, 7);
    virtq_fake_set_thread_delay(r->fd, 20);
    assert_int_equal(virtq_fake_start_thread(r->fd), 0);
    for (i = 0; i < n; i++) {
        struct breq *q = submit_one(r, i % RIG_SECTORS);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 2000000u), VIRTQ_OK);
        finish_one(r, q);
    }
    virtq_fake_stop_thread(r->fd);
    virtq_fake_os_get_stats(os, &st);
    assert_int_equal(st.timeouts, 0);
    ledger_assert_all_back(&r->led);
    rig_free(r);
    virtq_fake_os_destroy(os);
}

static void lost_wakeup_wfi_race(void **state)
{
    struct rig *r = wfi_rig(2, 1, 1);
    struct virtq_fake_cpu_stats cs;
    unsigned i, n = 200;
    (void)state;
    virtq_fake_set_mode(r->fd, VIRTQ_FAKE_SYNC, 8);
    virtq_fake_set_thread_delay(r->fd, 20);
    assert_int_equal(virtq_fake_start_thread(r->fd), 0);
    for (i = 0; i < n; i++) {
        struct breq *q = submit_one(r, i % RIG_SECTORS);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 2000000u), VIRTQ_OK);
        finish_one(r, q);
    }
    virtq_fake_stop_thread(r->fd);
    cpu_boundary();
    virtq_fake_cpu_get_stats(&cs);
    /* Nothing left pending, and every handler run accounted for.  Not one
       run per request: two raises before the handler runs coalesce, as on
       a level-triggered line (the waits above prove no wake-up was lost). */
    assert_int_equal(virtq_fake_cpu_pending(), 0);
    assert_true(cs.isr_runs >= 1u && cs.isr_runs <= n);
    assert_int_equal(r->dev.irqs + r->dev.spurious, cs.isr_runs);
    assert_int_equal(r->dev.early, 0);
    assert_int_equal(cs.wfi_stuck, 0);
    ledger_assert_all_back(&r->led);
    virtq_fake_cpu_reset();
    rig_free(r);
}

int core_group_waits(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(wait_set_strategy),
        CORE_TEST(custom_wait_strategy),
        CORE_TEST(spin_deferred_completion),
        CORE_TEST(spin_device_thread),
        CORE_TEST(wfi_routed_irq_wakes),
        CORE_TEST(wfi_unrouted_falls_back_to_spin),
        CORE_TEST(wfi_unconnected_alarm_bounds),
        CORE_TEST(os_blocked_waiter_woken),
        CORE_TEST(os_device_thread),
        CORE_TEST(os_spurious_then_real),
        CORE_TEST(os_needs_reset_wakes_waiter),
        CORE_TEST(lost_wakeup_os_in_the_window),
        CORE_TEST(lost_wakeup_wfi_in_the_window),
        CORE_TEST(lost_wakeup_os_race),
        CORE_TEST(lost_wakeup_wfi_race),
    };
    return cmocka_run_group_tests_name("core: wait strategies", tests, NULL, NULL);
}
