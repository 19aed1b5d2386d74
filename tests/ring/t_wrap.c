/* SPDX-License-Identifier: MIT */
/* tests/ring/t_wrap.c — the 16-bit index wrap: far more than 65,536
   requests through small rings with a device that lags behind in batches,
   every cookie back exactly once, every kick and interrupt decision
   cross-checked against an unwrapped model (sim.c). */
#include "ring_test.h"

static void report(const char *name, const struct rt_sim_result *r)
{
    print_message("%s: %lu requests, %lu publishes, %lu kicks, %lu flushes, %lu irqs, "
                  "%lu indirect, %lu ENOSPC, %lu index wraps, max %lu outstanding\n",
                  name, r->completed, r->publishes, r->kicks, r->flushes, r->irqs, r->indirect,
                  r->enospc, r->wraps, r->max_outstanding);
}

/* The brief's case: 200,000 requests, EVENT_IDX, a lagging device. */
static void test_wrap_200k_event_idx(void **state)
{
    struct rt_sim_opts o = {0};
    struct rt_sim_result r;
    (void)state;
    o.num = 64;
    o.features = RT_F_EVENT_IDX | RT_F_INDIRECT;
    o.total = 200000;
    o.seed = 0x2545f491u;
    o.max_chain = 4;
    o.indirect_pct = 25;
    o.order = RT_ORDER_FIFO;
    o.lag = 48;
    o.event_slack = 3;
    o.intr_games = 1;
    rt_sim_run(&o, &r);
    report("wrap/event_idx", &r);
    assert_true(r.wraps >= 3);
    /* Suppression did something, and notifications still happened. */
    assert_true(r.kicks > 0 && r.kicks < r.publishes);
    assert_true(r.irqs > 0 && r.irqs < r.flushes);
    assert_true(r.enospc > 0);         /* the device really lagged */
    assert_true(r.max_outstanding > 32);
}

/* The same without EVENT_IDX (flags only), completing out of order. */
static void test_wrap_flags_shuffled(void **state)
{
    struct rt_sim_opts o = {0};
    struct rt_sim_result r;
    (void)state;
    o.num = 32;
    o.align = VIRTQ_ALIGN_LEGACY;
    o.features = RT_F_INDIRECT;
    o.total = 140000;
    o.seed = 0x9e3779b1u;
    o.max_chain = 3;
    o.indirect_pct = 30;
    o.order = RT_ORDER_SHUFFLE;
    o.lag = 24;
    o.intr_games = 1;
    rt_sim_run(&o, &r);
    report("wrap/flags", &r);
    assert_true(r.wraps >= 2);
    assert_true(r.kicks > 0 && r.kicks < r.publishes);
    assert_true(r.irqs > 0 && r.irqs < r.flushes);
}

/* A one-entry ring: every index equals its own wrap boundary mod 1. */
static void test_wrap_ring_of_one(void **state)
{
    struct rt_sim_opts o = {0};
    struct rt_sim_result r;
    (void)state;
    o.num = 1;
    o.align = VIRTQ_ALIGN_LEGACY;
    o.features = RT_F_EVENT_IDX | RT_F_INDIRECT;
    o.total = 70000;
    o.seed = 0x51ed27u;
    o.max_chain = 1;
    o.indirect_pct = 50;
    o.order = RT_ORDER_FIFO;
    o.lag = 1;
    o.intr_games = 1;
    rt_sim_run(&o, &r);
    report("wrap/ring of 1", &r);
    assert_true(r.wraps >= 1);
}

int rt_group_wrap(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_200k_event_idx),
        cmocka_unit_test(test_wrap_flags_shuffled),
        cmocka_unit_test(test_wrap_ring_of_one),
    };
    return cmocka_run_group_tests_name("ring_wrap", tests, NULL, NULL);
}
