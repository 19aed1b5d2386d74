/* SPDX-License-Identifier: MIT */
/* The fake CPU (IRQ save/restore, wfi, alarm), the OS wait channel and
   the shim macros virtq.h uses. */
#include <pthread.h>
#include <time.h>

#include "minidrv.h"

static struct virtq_fake_dev *dev;
static struct md m;
static uint8_t buf[64];
static int isr_runs;
static uint32_t isr_status;

/* What a driver's interrupt handler does: read and acknowledge. */
static void isr(void *ctx)
{
    (void)ctx;
    isr_runs++;
    isr_status = VIRTQ_MMIO_READ32(m.base + VIRTIO_MMIO_INTERRUPT_STATUS);
    VIRTQ_MMIO_WRITE32(m.base + VIRTIO_MMIO_INTERRUPT_ACK, isr_status);
}

static void setup(void)
{
    isr_runs = 0;
    isr_status = 0;
    dev = plain_dev(2, 0, 8);
    md_init(&m, virtq_fake_base(dev), 0, 8);
    md_desc(&m, 0, buf, sizeof buf, VIRTQ_DESC_F_WRITE, 0);
}

static void teardown(void)
{
    virtq_fake_stop_thread(dev);
    virtq_fake_destroy(dev);
    md_free(&m);
}

static void macros_reach_the_fake(void **state)
{
    uint64_t t0, t1;
    (void)state;
    setup();
    assert_int_equal(VIRTQ_MMIO_READ32(m.base + VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    assert_int_equal(VIRTQ_MMIO_READ32(m.base + VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
    assert_clean();
    (void)VIRTQ_MMIO_READ16(m.base + VIRTIO_MMIO_CONFIG); /* this device has no config space */
    assert_violation("16-bit config read", "beyond the 0-byte configuration space");
    VIRTQ_MMIO_WRITE8(m.base + VIRTIO_MMIO_STATUS, 0);
    assert_violation("8-bit write");
    t0 = VIRTQ_NOW_US();
    t1 = VIRTQ_NOW_US();
    assert_true(t1 >= t0 && t0 > 0);
    teardown();
}

/* An interrupt raised on the CPU's own thread while unmasked runs the
   handler right away; while masked it waits for the restore. */
static void save_restore(void **state)
{
    unsigned long flags;
    struct virtq_fake_cpu_stats st;
    (void)state;
    setup();
    virtq_fake_cpu_set_isr(isr, NULL);
    virtq_fake_connect_irq(dev, 1);
    md_publish(&m, 0);
    md_notify(&m, 0); /* synchronous completion, interrupt now */
    assert_int_equal(isr_runs, 1);
    assert_int_equal(isr_status, VIRTIO_MMIO_INT_VRING);
    flags = VIRTQ_IRQ_SAVE();
    assert_int_equal(flags, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_int_equal(isr_runs, 1);
    assert_true(virtq_fake_cpu_pending());
    {
        unsigned long inner = VIRTQ_IRQ_SAVE(); /* nested: stays masked */
        VIRTQ_IRQ_RESTORE(inner);
        assert_int_equal(isr_runs, 1);
    }
    VIRTQ_IRQ_RESTORE(flags);
    assert_int_equal(isr_runs, 2);
    assert_false(virtq_fake_cpu_pending());
    virtq_fake_cpu_get_stats(&st);
    assert_int_equal(st.isr_runs, 2);
    assert_clean();
    teardown();
}

/* wfi wakes for an interrupt from the device thread even while masked;
   the handler runs at the restore. */
static void wfi_wakes_on_connected_irq(void **state)
{
    struct virtq_fake_cpu_stats st;
    unsigned long flags;
    uint64_t t0;
    (void)state;
    setup();
    virtq_fake_cpu_set_isr(isr, NULL);
    virtq_fake_connect_irq(dev, 1);
    virtq_fake_set_thread_delay(dev, 2000);
    assert_int_equal(virtq_fake_start_thread(dev), 0);
    flags = VIRTQ_IRQ_SAVE();
    md_publish(&m, 0);
    md_notify(&m, 0);
    t0 = VIRTQ_NOW_US();
    VIRTQ_WFI_ALARM_US(t0 + 2000000u); /* a bound, not expected to fire */
    do /* at least once: a completion already in stays pending while masked */
        VIRTQ_WFI();
    while (md_used_idx(&m) == 0 && VIRTQ_NOW_US() - t0 < 2000000u);
    assert_int_equal(md_used_idx(&m), 1);
    assert_int_equal(isr_runs, 0);
    VIRTQ_IRQ_RESTORE(flags);
    assert_int_equal(isr_runs, 1);
    virtq_fake_cpu_get_stats(&st);
    assert_true(st.wfi_irq_wakes >= 1);
    assert_int_equal(st.wfi_alarm_wakes, 0);
    VIRTQ_WFI_ALARM_US(0);
    assert_clean();
    teardown();
}

/* The seed bug: the board never routed the device IRQ.  The completion
   happens, but only the alarm ends the wfi. */
static void wfi_unrouted_irq_needs_the_alarm(void **state)
{
    struct virtq_fake_cpu_stats st;
    unsigned long flags;
    uint64_t t0, t1;
    (void)state;
    setup();
    virtq_fake_cpu_set_isr(isr, NULL);
    flags = VIRTQ_IRQ_SAVE();
    md_publish(&m, 0);
    md_notify(&m, 0); /* done at once; the line goes nowhere */
    assert_int_equal(md_used_idx(&m), 1);
    t0 = VIRTQ_NOW_US();
    VIRTQ_WFI_ALARM_US(t0 + 20000u);
    VIRTQ_WFI();
    t1 = VIRTQ_NOW_US();
    assert_true(t1 - t0 >= 20000u);
    VIRTQ_WFI(); /* the alarm stays expired until re-armed, like mtimecmp */
    VIRTQ_IRQ_RESTORE(flags);
    assert_int_equal(isr_runs, 0);
    virtq_fake_cpu_get_stats(&st);
    assert_int_equal(st.wfi_alarm_wakes, 2);
    assert_int_equal(st.wfi_irq_wakes, 0);
    VIRTQ_WFI_ALARM_US(0);
    assert_clean();
    /* No alarm and nothing connected: a wfi that would never end. */
    VIRTQ_WFI();
    assert_violation("cpu: wfi", "no device interrupt connected", "sleep forever");
    /* Connected but silent beyond the wfi limit, with no alarm. */
    virtq_fake_connect_irq(dev, 1);
    virtq_fake_cpu_set_wfi_limit_us(10000);
    VIRTQ_WFI();
    assert_violation("no interrupt within the wfi limit");
    virtq_fake_cpu_get_stats(&st);
    assert_int_equal(st.wfi_stuck, 2);
    teardown();
}

/* An interrupt raised on another thread while the CPU runs unmasked is
   taken at the CPU's next MMIO access. */
static void irq_taken_at_boundary(void **state)
{
    int rounds;
    (void)state;
    setup();
    virtq_fake_cpu_set_isr(isr, NULL);
    virtq_fake_connect_irq(dev, 1);
    virtq_fake_set_thread_delay(dev, 0);
    assert_int_equal(virtq_fake_start_thread(dev), 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    for (rounds = 0; rounds < 1000 && !virtq_fake_cpu_pending() && isr_runs == 0; rounds++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    virtq_fake_stop_thread(dev);
    (void)md_r(&m, VIRTIO_MMIO_STATUS); /* an instruction boundary */
    assert_int_equal(isr_runs, 1);
    assert_clean();
    teardown();
}

/* ---- the OS channel ---- */

struct waker {
    struct virtq_fake_os *os;
    volatile uint32_t *seq;
    int bump;
};

static void *wake_later(void *arg)
{
    struct waker *w = arg;
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    if (w->bump)
        __atomic_fetch_add(w->seq, 1u, __ATOMIC_RELAXED);
    VIRTQ_OS_WAKE(w->os);
    return NULL;
}

static void os_wait_and_wake(void **state)
{
    struct virtq_fake_os *os = virtq_fake_os_create();
    struct virtq_fake_os_stats st;
    volatile uint32_t seq = 5;
    struct waker w = {os, &seq, 1};
    pthread_t t;
    uint64_t t0;
    (void)state;
    assert_non_null(os);
    /* Timeout. */
    t0 = VIRTQ_NOW_US();
    assert_int_equal(VIRTQ_OS_WAIT(os, &seq, 5, 10000u), 1);
    assert_true(VIRTQ_NOW_US() - t0 >= 10000u);
    /* Already changed: no wait. */
    assert_int_equal(VIRTQ_OS_WAIT(os, &seq, 4, 10000000u), 0);
    /* Woken from another thread (the "interrupt handler"). */
    assert_int_equal(pthread_create(&t, NULL, wake_later, &w), 0);
    assert_int_equal(VIRTQ_OS_WAIT(os, &seq, 5, 5000000u), 0);
    pthread_join(t, NULL);
    assert_int_equal(seq, 6);
    /* A wake without a change also ends the wait. */
    w.bump = 0;
    assert_int_equal(pthread_create(&t, NULL, wake_later, &w), 0);
    assert_int_equal(VIRTQ_OS_WAIT(os, &seq, 6, 5000000u), 0);
    pthread_join(t, NULL);
    virtq_fake_os_get_stats(os, &st);
    assert_int_equal(st.waits, 4);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.wakes, 2);
    virtq_fake_os_destroy(os);
    /* NULL: the global channel. */
    assert_int_equal(VIRTQ_OS_WAIT(NULL, &seq, 6, 1000u), 1);
    VIRTQ_OS_WAKE(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(macros_reach_the_fake, fake_setup),
        cmocka_unit_test_setup(save_restore, fake_setup),
        cmocka_unit_test_setup(wfi_wakes_on_connected_irq, fake_setup),
        cmocka_unit_test_setup(wfi_unrouted_irq_needs_the_alarm, fake_setup),
        cmocka_unit_test_setup(irq_taken_at_boundary, fake_setup),
        cmocka_unit_test_setup(os_wait_and_wake, fake_setup),
    };
    return cmocka_run_group_tests_name("fake: cpu and os wait", tests, NULL, NULL);
}
