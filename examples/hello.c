/* SPDX-License-Identifier: MIT */
/* hello: proves a board (examples/boards/<board>/) with no virtio driver
 * involved; the same source runs on every board.
 *
 *   1. banner and virtio-mmio slot scan
 *   2. the clock advances; a one-shot alarm wakes a masked wfi in bounds
 *   3. the scheduler: three counting tasks (busy/preempted, busy/yielding,
 *      sleeping), a waiter on sched_wait_seq and its waker, covering wake by
 *      a task, wake from an interrupt handler (ping-pong), timeout, "already
 *      changed", and alarm + tick sharing the comparator
 *      and a real device interrupt through the interrupt controller: the
 *      UART's "transmitter empty" source (BOARD_UART_IRQ) claimed,
 *      dispatched and completed, waking a task
 *   4. FIGURE lines, then `RESULT hello PASS|FAIL ...` and the exit status.
 */
#include "board_api.h"
#include "sched.h"

#include <errno.h>
#include <stdio.h>

#define STACK_BYTES 8192
#define PINGPONG_ROUNDS 50
/* Bound for every wait and latency check.  Generous: guest time follows the
 * host clock, so a loaded host that deschedules QEMU makes the guest see
 * long gaps; a lost wakeup still shows up as a timeout. */
#define WAIT_BOUND_US 500000u
#define SLEEP_US 500u
#define UART_IRQ_ROUNDS 20

enum { T_BUSY, T_YIELD, T_SLEEP, T_WAITER, T_WAKER, T_COUNT };
static uint8_t stacks[T_COUNT][STACK_BYTES] __attribute__((aligned(16)));

static volatile int stop;                 /* counting tasks run until set */
static volatile uint32_t exited;          /* tasks that finished, + chan  */

/* ---- counting tasks ----------------------------------------------------- */

struct counter {
    volatile uint64_t count;
    volatile uint64_t bad;                /* integrity violations seen */
    volatile uint64_t late_max_us;        /* sleeping task: worst oversleep */
};
static struct counter counters[3];

static void task_done(void)
{
    uintptr_t s = board_irq_save();
    exited++;
    board_irq_restore(s);
    sched_wake((void *)&exited);
}

/* Never yields: only the timer tick lets anyone else run.  Integer and FP
 * state live in registers across preemptions and are cross-checked. */
static void busy_task(void *arg)
{
    struct counter *c = arg;
    uint64_t n = 0, sum = 0;
    double d = 0.0;

    errno = 1001;                          /* errno is per task (TLS) */
    while (!stop) {
        n++;
        sum += n;
        d += 1.0;
    }
    if (d != (double)n || sum != n * (n + 1) / 2 || errno != 1001)
        c->bad++;
    c->count = n;
    task_done();
}

/* Same work with different FP values, but gives the CPU up every 256 loops. */
static void yield_task(void *arg)
{
    struct counter *c = arg;
    uint64_t n = 0;
    double d = 0.0;

    errno = 2002;
    while (!stop) {
        n++;
        d += 0.5;
        if ((n & 255) == 0)
            sched_yield();
    }
    if (d != 0.5 * (double)n || errno != 2002)
        c->bad++;
    c->count = n;
    task_done();
}

static void sleep_task(void *arg)
{
    struct counter *c = arg;
    uint64_t n = 0, late_max = 0;

    while (!stop) {
        uint64_t t0 = board_now_us();
        if (sched_sleep_us(SLEEP_US) != SCHED_OK)
            c->bad++;
        uint64_t slept = board_now_us() - t0;
        if (slept < SLEEP_US)
            c->bad++;                      /* woke before its deadline */
        else if (slept - SLEEP_US > late_max)
            late_max = slept - SLEEP_US;
        n++;
    }
    c->count = n;
    c->late_max_us = late_max;
    task_done();
}

/* ---- waiter / waker ----------------------------------------------------- */

static volatile uint32_t go;              /* waiter -> waker: next phase  */
static volatile uint32_t wake_seq;        /* waker -> waiter, task wake    */
static volatile uint64_t wake_sent_us;
static volatile uint32_t isr_seq;         /* bumped by the swi handler     */
static volatile uint32_t ack;             /* waiter -> waker, ping-pong    */
static volatile int waker_failed;

static void swi_handler(void *ctx, int irq)
{
    (void)ctx;
    (void)irq;
    isr_seq++;                            /* bump first, then wake */
    sched_wake((void *)&isr_seq);
}

/* Interrupt-controller test without virtio: arming the UART's "transmitter
 * empty" interrupt raises BOARD_UART_IRQ at once; the handler turns it off again (so the
 * level drops before the claim is completed) and wakes the waiter. */
static volatile uint32_t uart_seq;

static void uart_handler(void *ctx, int irq)
{
    (void)ctx;
    if (irq != BOARD_UART_IRQ)
        board_fail("uart handler got irq %d", irq);
    board_uart_tx_irq(0);                  /* disarm and acknowledge */
    uart_seq++;
    sched_wake((void *)&uart_seq);
}

/* Wait until *seq >= target, every wait bounded; 0 on success. */
static int wait_until(void *chan, volatile uint32_t *seq, uint32_t target)
{
    for (int tries = 0; tries < 100; tries++) {
        uint32_t seen = *seq;
        if ((int32_t)(seen - target) >= 0)
            return 0;
        if (sched_wait_seq(chan, seq, seen, WAIT_BOUND_US) == SCHED_ETIMEDOUT)
            return -1;
    }
    return -1;
}

static void waker_run(void)
{
    /* Phase 1: wake the waiter from a task after a short sleep. */
    if (wait_until((void *)&go, &go, 1) != 0) {
        waker_failed = 1;
        return;
    }
    sched_sleep_us(2000);
    wake_sent_us = board_now_us();
    wake_seq++;
    sched_wake((void *)&wake_seq);

    /* Phase 2: ping-pong through the software interrupt handler. */
    if (wait_until((void *)&go, &go, 2) != 0) {
        waker_failed = 2;
        return;
    }
    for (uint32_t i = 1; i <= PINGPONG_ROUNDS; i++) {
        board_swi_raise();
        if (wait_until((void *)&ack, &ack, i) != 0) {
            waker_failed = 3;
            return;
        }
    }
}

static void waker_task(void *arg)
{
    (void)arg;
    waker_run();
    task_done();
}

struct results {
    uint64_t wake_latency_us;
    int wake_changed;              /* the wake landed before the waiter blocked */
    uint64_t timeout_late_us;
    uint64_t alarm_sched_ticks;
};
static struct results res;

static void go_phase(uint32_t phase)
{
    go = phase;
    sched_wake((void *)&go);
}

static void waiter_task(void *arg)
{
    uint64_t t0, t1;
    int r;

    (void)arg;
    /* A device interrupt wakes a blocked task.  The source is raised while
     * this task has interrupts masked, so the handler can only run after
     * the task blocked (in whichever context runs next): every round must
     * end in SCHED_OK, never CHANGED or a timeout. */
    board_stats p0, p1;
    board_get_stats(&p0);
    for (uint32_t i = 1; i <= UART_IRQ_ROUNDS; i++) {
        uintptr_t m = board_irq_save();
        uint32_t seen = uart_seq;
        board_uart_tx_irq(1);
        r = sched_wait_seq((void *)&uart_seq, &uart_seq, seen, WAIT_BOUND_US);
        board_irq_restore(m);
        if (r != SCHED_OK || uart_seq != i)
            board_fail("uart irq round %lu: wait returned %d, seq %lu",
                       (unsigned long)i, r, (unsigned long)uart_seq);
    }
    board_get_stats(&p1);
    if (p1.ext_irqs - p0.ext_irqs != UART_IRQ_ROUNDS || p1.spurious_irqs)
        board_fail("irq: %lu claims for %d uart irqs, %lu spurious",
                   (unsigned long)(p1.ext_irqs - p0.ext_irqs), UART_IRQ_ROUNDS,
                   (unsigned long)p1.spurious_irqs);

    /* "Already changed": must not block. */
    r = sched_wait_seq((void *)&wake_seq, &wake_seq, wake_seq + 1, WAIT_BOUND_US);
    if (r != SCHED_CHANGED)
        board_fail("wait_seq with a stale value returned %d, want CHANGED", r);

    /* Timeout: nobody wakes this channel. */
    static volatile uint32_t quiet;
    t0 = board_now_us();
    r = sched_wait_seq((void *)&quiet, &quiet, 0, 3000);
    t1 = board_now_us();
    if (r != SCHED_ETIMEDOUT)
        board_fail("wait_seq on a quiet channel returned %d, want ETIMEDOUT", r);
    if (t1 - t0 < 3000 || t1 - t0 > 3000 + WAIT_BOUND_US)
        board_fail("3000 us timeout took %llu us", (unsigned long long)(t1 - t0));
    res.timeout_late_us = t1 - t0 - 3000;

    /* Zero timeout only checks. */
    r = sched_wait_seq((void *)&quiet, &quiet, 0, 0);
    if (r != SCHED_ETIMEDOUT)
        board_fail("wait_seq with timeout 0 returned %d, want ETIMEDOUT", r);

    /* Wake by another task.  `seen` is read before the waker is released,
     * so a wake that lands before we block shows up as CHANGED, not lost. */
    uint32_t seen = wake_seq;
    go_phase(1);
    r = sched_wait_seq((void *)&wake_seq, &wake_seq, seen, 1000000);
    t1 = board_now_us();
    if (r == SCHED_ETIMEDOUT || wake_seq == seen)
        board_fail("task wake lost: wait_seq returned %d", r);
    res.wake_changed = r == SCHED_CHANGED;
    res.wake_latency_us = t1 - wake_sent_us;

    /* Ping-pong: each round the waker raises the software interrupt, whose
     * handler bumps isr_seq and wakes us; we ack.  A lost wake times out. */
    go_phase(2);
    for (uint32_t i = 1; i <= PINGPONG_ROUNDS; i++) {
        if (wait_until((void *)&isr_seq, &isr_seq, i) != 0)
            board_fail("interrupt wake lost in ping-pong round %lu",
                       (unsigned long)i);
        ack = i;
        sched_wake((void *)&ack);
    }

    /* Alarm and scheduler share one timer comparator; whichever deadline is first must
     * fire and the other must survive it.  (a) An alarm inside a sleep
     * fires once and the sleep still ends on its own deadline. */
    board_stats b0, b1;
    sched_stats s0, s1;
    board_get_stats(&b0);
    sched_get_stats(&s0);
    t0 = board_now_us();
    board_alarm_us(t0 + 2500);
    sched_sleep_us(6000);
    t1 = board_now_us();
    board_get_stats(&b1);
    sched_get_stats(&s1);
    if (board_alarm_pending() || b1.alarm_fires != b0.alarm_fires + 1)
        board_fail("alarm under the scheduler did not fire once (fires %lu->%lu)",
                   (unsigned long)b0.alarm_fires, (unsigned long)b1.alarm_fires);
    if (t1 - t0 < 6000)
        board_fail("6000 us sleep ended after %llu us", (unsigned long long)(t1 - t0));
    if (s1.ticks == s0.ticks)
        board_fail("no scheduler tick across a 6 ms sleep with an alarm armed");
    /* (b) A far alarm must not hold back a nearer scheduler deadline. */
    t0 = board_now_us();
    board_alarm_us(t0 + 10 * WAIT_BOUND_US);
    sched_sleep_us(3000);
    t1 = board_now_us();
    if (!board_alarm_pending())
        board_fail("far alarm fired early");
    board_alarm_cancel();
    if (t1 - t0 < 3000 || t1 - t0 >= 10 * WAIT_BOUND_US)
        board_fail("3000 us sleep under a far alarm took %llu us",
                   (unsigned long long)(t1 - t0));
    res.alarm_sched_ticks = s1.ticks - s0.ticks;

    /* Let the counters run a little longer, then stop everybody. */
    sched_sleep_us(20000);
    stop = 1;
    if (wait_until((void *)&exited, &exited, 4) != 0)
        board_fail("tasks did not finish (exited %lu of 4, waker state %d)",
                   (unsigned long)exited, waker_failed);
    if (waker_failed)
        board_fail("waker task failed in phase %d", waker_failed);

    /* Verdict. */
    static const char *const names[3] = { "busy", "yield", "sleep" };
    for (int i = 0; i < 3; i++) {
        if (counters[i].bad)
            board_fail("%s task saw %llu integrity errors", names[i],
                       (unsigned long long)counters[i].bad);
        if (counters[i].count == 0)
            board_fail("%s task never ran", names[i]);
    }
    sched_stats ss;
    board_stats bs;
    sched_get_stats(&ss);
    board_get_stats(&bs);
    board_printf("counts: busy=%llu yield=%llu sleep=%llu\n",
                 (unsigned long long)counters[0].count,
                 (unsigned long long)counters[1].count,
                 (unsigned long long)counters[2].count);
    board_figure("wake_latency", (long long)res.wake_latency_us, "us");
    board_figure("wake_before_block", res.wake_changed, "bool");
    board_figure("timeout_late", (long long)res.timeout_late_us, "us");
    board_figure("sleep_late_max", (long long)counters[2].late_max_us, "us");
    board_figure("sleeps", (long long)counters[2].count, "count");
    board_figure("pingpong_rounds", PINGPONG_ROUNDS, "count");
    board_figure("ctx_switches", ss.switches, "count");
    board_figure("sched_ticks", ss.ticks, "count");
    board_figure("ticks_in_alarm_sleep", (long long)res.alarm_sched_ticks, "count");
    board_figure("swi_irqs", bs.swi_irqs, "count");
    board_figure("uart_irqs", (long long)uart_seq, "count");
    board_pass();
}

/* ---- before the scheduler ---------------------------------------------- */

static void check_scan(void)
{
    board_virtio_slot slots[BOARD_VIRTIO_SLOTS];
    int n = board_virtio_scan(slots, BOARD_VIRTIO_SLOTS);

    board_virtio_report();
    for (int i = 0; i < BOARD_VIRTIO_SLOTS; i++) {
        if (slots[i].magic != BOARD_VIRTIO_MAGIC)
            board_fail("virtio slot %d: bad magic 0x%08lx", i,
                       (unsigned long)slots[i].magic);
        if (slots[i].version != 1 && slots[i].version != 2)
            board_fail("virtio slot %d: version %lu", i,
                       (unsigned long)slots[i].version);
    }
    board_printf("virtio-mmio: %d device(s) in %d slots\n", n,
                 BOARD_VIRTIO_SLOTS);
    board_figure("virtio_devices", n, "count");
    /* No queue is set up here: the transport is the one the scan probed,
     * the ring is "none". */
    board_tag("transport", "mmio");
    board_tag("ring", "none");
}

static void check_clock(void)
{
    uint64_t t0 = board_now_us();

    board_delay_us(1000);
    uint64_t dt = board_now_us() - t0;
    if (dt < 1000 || dt > 1000 + WAIT_BOUND_US)
        board_fail("board_delay_us(1000) took %llu us", (unsigned long long)dt);
}

/* The pattern a wfi wait strategy uses before interrupts are wired: mask,
 * arm the alarm, then wfi until the condition or the deadline. */
static void check_alarm(void)
{
    uintptr_t s = board_irq_save();
    uint64_t deadline = board_now_us() + 2000;
    unsigned wakeups = 0;
    uint64_t woke;

    board_alarm_us(deadline);
    while (board_now_us() < deadline && wakeups < 1000) {
        board_wfi();
        wakeups++;
    }
    woke = board_now_us();
    board_alarm_cancel();
    board_irq_restore(s);

    if (woke < deadline)
        board_fail("alarm: wfi returned %u times before the deadline", wakeups);
    if (woke - deadline > WAIT_BOUND_US)
        board_fail("alarm: woke %llu us late", (unsigned long long)(woke - deadline));
    if (wakeups > 100)
        board_fail("alarm: wfi did not sleep (%u wakeups)", wakeups);
    if (board_alarm_pending())
        board_fail("alarm: still pending after cancel");
    board_figure("alarm_late", (long long)(woke - deadline), "us");
    board_figure("alarm_wfi_wakeups", wakeups, "count");
}

int main(void)
{
    board_set_name("hello");
    board_printf("virtq board: hello on %s\n", board_platform());
    check_scan();
    check_clock();
    check_alarm();

    static const sched_fn fns[T_COUNT] = {
        busy_task, yield_task, sleep_task, waiter_task, waker_task,
    };
    static void *const args[T_COUNT] = {
        &counters[0], &counters[1], &counters[2], NULL, NULL,
    };
    for (int i = 0; i < T_COUNT; i++) {
        int id = sched_create(fns[i], args[i], stacks[i], sizeof(stacks[i]));
        if (id < 0)
            board_fail("sched_create(%d) returned %d", i, id);
    }
    /* Interrupts are wired last, after every device (here only the UART,
     * set up by the board) finished init; sched_start() turns them on. */
    if (board_irq_register(BOARD_UART_IRQ, uart_handler, NULL) != 0 ||
        board_irq_enable(BOARD_UART_IRQ) != 0)
        board_fail("cannot wire the uart irq");
    board_swi_register(swi_handler, NULL);
    sched_start();
}
