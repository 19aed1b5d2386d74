/* SPDX-License-Identifier: MIT */
/* Completion modes (sync, deferred, out of order, reversed, device thread),
   a model that holds requests, and every fault the fake can inject. */
#include <pthread.h>
#include <time.h>

#include "minidrv.h"

static struct virtq_fake_dev *dev;
static struct md m;
static uint8_t buf[8][64];

static void setup_plain(uint64_t features, uint16_t num)
{
    dev = plain_dev(2, features, num);
    md_init(&m, virtq_fake_base(dev), features, num);
}

static void teardown_plain(void)
{
    virtq_fake_destroy(dev);
    md_free(&m);
}

/* Post n one-descriptor writable chains at heads 0..n-1, one notify. */
static void post(int n)
{
    for (int i = 0; i < n; i++) {
        md_desc(&m, (uint16_t)i, buf[i], sizeof buf[i], VIRTQ_DESC_F_WRITE, 0);
        md_publish(&m, (uint16_t)i);
    }
    md_notify(&m, 0);
}

/* The ids of everything used so far, in used-ring order. */
static int drain(uint32_t *ids, int max)
{
    uint32_t id, len;
    int n = 0;
    while (n < max && md_get(&m, &id, &len))
        ids[n++] = id;
    return n;
}

static void mode_sync(void **state)
{
    uint32_t ids[8];
    int irqs = 0;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    post(3);
    assert_int_equal(drain(ids, 8), 3);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[2], 2);
    assert_int_equal(irqs, 1); /* one batch, one interrupt */
    assert_int_equal(virtq_fake_pending(dev, 0), 0);
    assert_clean();
    teardown_plain();
}

static void mode_deferred(void **state)
{
    uint32_t ids[8];
    int irqs = 0;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_DEFERRED, 0);
    post(4);
    assert_int_equal(md_used_idx(&m), 0);
    assert_int_equal(virtq_fake_pending(dev, 0), 4);
    assert_int_equal(irqs, 0);
    assert_int_equal(virtq_fake_step(dev, 0, 1), 1);
    assert_int_equal(irqs, 1);
    assert_int_equal(virtq_fake_step(dev, 0, 2), 2);
    assert_int_equal(irqs, 2);
    assert_int_equal(virtq_fake_step(dev, 0, 5), 1);
    assert_int_equal(virtq_fake_step(dev, 0, 1), 0);
    assert_int_equal(drain(ids, 8), 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(ids[i], i);
    assert_clean();
    teardown_plain();
}

static void mode_reversed(void **state)
{
    uint32_t ids[8];
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_REVERSED, 0);
    post(4);
    assert_int_equal(virtq_fake_step(dev, 0, -1), 4);
    assert_int_equal(drain(ids, 8), 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(ids[i], 3 - i);
    assert_clean();
    teardown_plain();
}

static void out_of_order_run(uint64_t seed, uint32_t *ids)
{
    setup_plain(0, 8);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_OUT_OF_ORDER, seed);
    post(8);
    assert_int_equal(virtq_fake_step(dev, 0, -1), 8);
    assert_int_equal(drain(ids, 8), 8);
    assert_clean();
    teardown_plain();
}

static void mode_out_of_order(void **state)
{
    uint32_t a[8], b[8], c[8];
    int seen = 0, in_order = 1;
    (void)state;
    out_of_order_run(42, a);
    out_of_order_run(42, b);
    out_of_order_run(7, c);
    assert_memory_equal(a, b, sizeof a); /* seeded: repeatable */
    assert_memory_not_equal(a, c, sizeof a);
    for (int i = 0; i < 8; i++) {
        seen |= 1 << a[i];
        in_order &= a[i] == (uint32_t)i;
    }
    assert_int_equal(seen, 0xff); /* a permutation */
    assert_false(in_order);
}

/* ---- the device thread ---- */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int irqs;
};

static void thread_irq(struct virtq_fake_dev *d, void *ctx)
{
    struct waiter *w = ctx;
    (void)d;
    pthread_mutex_lock(&w->m);
    w->irqs++;
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

static void mode_thread(void **state)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    uint32_t ids[64];
    int got = 0, seen = 0, rounds;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_irq_callback(dev, thread_irq, &w);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_SYNC, 99);
    virtq_fake_set_thread_delay(dev, 300);
    assert_int_equal(virtq_fake_start_thread(dev), 0);
    assert_int_equal(virtq_fake_step(dev, 0, 1), -1); /* the thread owns completion */
    post(8);
    for (rounds = 0; rounds < 500 && got < 8; rounds++) {
        struct timespec ts;
        pthread_mutex_lock(&w.m);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (w.irqs == 0)
            pthread_cond_timedwait(&w.c, &w.m, &ts);
        w.irqs = 0;
        pthread_mutex_unlock(&w.m);
        /* Ack as an interrupt handler would. */
        md_w(&m, VIRTIO_MMIO_INTERRUPT_ACK, md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS));
        got += drain(ids + got, 64 - got);
    }
    assert_int_equal(got, 8);
    for (int i = 0; i < 8; i++)
        seen |= 1 << ids[i];
    assert_int_equal(seen, 0xff);
    /* Reused descriptors after they came back: fine. */
    post(8);
    for (rounds = 0; rounds < 500 && got < 16; rounds++) {
        struct timespec ts = {0, 2000000L};
        nanosleep(&ts, NULL);
        got += drain(ids + got, 64 - got);
    }
    assert_int_equal(got, 16);
    virtq_fake_stop_thread(dev);
    assert_clean();
    teardown_plain();
}

/* A violation found on the device thread reaches the handler on ours. */
static pthread_t handler_thread;
static int handler_calls;

static void note_thread(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
    handler_thread = pthread_self();
    handler_calls++;
}

static void thread_violation_delivery(void **state)
{
    int rounds;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_violation_handler(note_thread, NULL);
    handler_calls = 0;
    assert_int_equal(virtq_fake_start_thread(dev), 0);
    md_desc(&m, 0, buf[0], 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    md_desc(&m, 1, buf[1], 8, 0, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    for (rounds = 0; rounds < 500 && !(virtq_fake_status(dev) & VIRTIO_STATUS_NEEDS_RESET); rounds++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(virtq_fake_status(dev) & VIRTIO_STATUS_NEEDS_RESET);
    virtq_fake_stop_thread(dev);
    assert_int_equal(handler_calls, 1);
    assert_true(pthread_equal(handler_thread, pthread_self()));
    assert_violation("readable descriptor 1 after a writable one");
    virtq_fake_set_violation_handler(count_violation, NULL);
    teardown_plain();
}

/* ---- a model that holds requests (a net receive queue, say) ---- */

struct holder {
    struct virtq_fake_req *held[8];
    int n;
    int resets;
};

static uint32_t hold_request(struct virtq_fake_dev *d, void *ctx, struct virtq_fake_req *req)
{
    struct holder *h = ctx;
    (void)d;
    h->held[h->n++] = req;
    return VIRTQ_FAKE_HELD;
}

static void hold_reset(struct virtq_fake_dev *d, void *ctx)
{
    struct holder *h = ctx;
    (void)d;
    h->n = 0;
    h->resets++;
}

static void model_holds_requests(void **state)
{
    static const struct virtq_fake_model model = {.name = "holder", .request = hold_request, .reset = hold_reset};
    struct holder h;
    struct virtq_fake_params p;
    uint32_t id, len;
    const char msg[] = "packet";
    (void)state;
    memset(&h, 0, sizeof h);
    memset(&p, 0, sizeof p);
    p.device_id = VIRTIO_ID_NET;
    p.features = VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    p.num_queues = 1;
    p.queue_num_max[0] = 8;
    p.model = &model;
    p.model_ctx = &h;
    dev = virtq_fake_create(&p);
    md_init(&m, virtq_fake_base(dev), 0, 8);
    post(2);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.held[0]->writable, sizeof buf[0]);
    assert_int_equal(md_used_idx(&m), 0);
    assert_int_equal(virtq_fake_in_flight(dev, 0), 2);
    /* The model fills the second buffer first. */
    assert_int_equal(virtq_fake_req_write(h.held[1], 0, msg, sizeof msg), sizeof msg);
    virtq_fake_req_complete(dev, h.held[1], sizeof msg);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 1);
    assert_int_equal(len, sizeof msg);
    assert_string_equal((char *)buf[1], "packet");
    assert_int_equal(virtq_fake_in_flight(dev, 0), 1);
    /* Completing something it does not hold is the model's bug. */
    virtq_fake_req_complete(dev, h.held[1], 1);
    assert_violation("model completed a request it does not hold");
    /* A reset makes the model forget the rest. */
    md_w(&m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(h.resets, 2); /* md_init reset it once too */
    assert_int_equal(virtq_fake_in_flight(dev, 0), 0);
    teardown_plain();
}

/* ---- faults: each produces the bad used element it promises ---- */

static void fault_never_complete(void **state)
{
    uint32_t ids[8];
    (void)state;
    setup_plain(0, 8);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1);
    post(3);
    assert_int_equal(drain(ids, 8), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(virtq_fake_in_flight(dev, 0), 1);
    assert_clean();
    teardown_plain();
}

static void fault_complete_twice(void **state)
{
    uint32_t id, len;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_COMPLETE_TWICE, 1);
    post(1);
    assert_int_equal(md_used_idx(&m), 2);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0);
    teardown_plain();
}

static void fault_ids(void **state)
{
    uint32_t id, len;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_mode(dev, VIRTQ_FAKE_DEFERRED, 0);
    post(3);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_ID_RANGE, 1);
    virtq_fake_step(dev, 0, 1);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 8 + 0); /* Queue Size + head */
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_ID_HIGH, 1);
    virtq_fake_step(dev, 0, 1);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0x10001); /* head 1, bit 16 set */
    virtq_fake_step(dev, 0, 1); /* the fault count ran out */
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 2);
    teardown_plain();

    /* A descriptor in the middle of an in-flight chain. */
    setup_plain(0, 8);
    md_desc(&m, 4, buf[0], 8, VIRTQ_DESC_F_NEXT, 6);
    md_desc(&m, 6, buf[1], 8, VIRTQ_DESC_F_WRITE, 0);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_ID_NOT_HEAD, 1);
    md_publish(&m, 4);
    md_notify(&m, 0);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 6);
    teardown_plain();
}

static void fault_len_over(void **state)
{
    uint32_t id, len;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_LEN_OVER, 1);
    md_desc(&m, 0, buf[0], 8, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&m, 1, buf[1], 24, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 0);
    md_notify(&m, 0);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, 25); /* 24 writable bytes */
    teardown_plain();
}

static void fault_used_idx(void **state)
{
    uint32_t id, len;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_USED_IDX_JUMP, 1);
    post(1);
    assert_int_equal(md_used_idx(&m), 9); /* 1 element, idx + Queue Size + 1 */
    teardown_plain();

    setup_plain(0, 8);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_USED_IDX_AHEAD, 1);
    post(1);
    assert_int_equal(md_used_idx(&m), 2);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0);
    assert_true(md_get(&m, &id, &len)); /* the slot the device never wrote */
    assert_int_equal(id, 0);
    assert_int_equal(len, 0);
    teardown_plain();
}

static void fault_interrupts(void **state)
{
    int irqs = 0;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    m.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT, 1);
    post(1);
    assert_int_equal(irqs, 1);
    md_desc(&m, 1, buf[1], 8, VIRTQ_DESC_F_WRITE, 0);
    md_publish(&m, 1);
    md_notify(&m, 0);
    assert_int_equal(irqs, 1); /* only once */
    md_w(&m, VIRTIO_MMIO_INTERRUPT_ACK, md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS));

    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_SPURIOUS_IRQ, 1);
    assert_int_equal(irqs, 2);
    assert_int_equal(md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_SPURIOUS_VRING, 1);
    assert_int_equal(irqs, 3);
    assert_int_equal(md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_int_equal(md_used_idx(&m), 2); /* nothing new used */
    virtq_fake_inject(dev, 0, VIRTQ_FAKE_FAULT_NEEDS_RESET, 1);
    assert_int_equal(irqs, 4);
    assert_true(md_r(&m, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(virtq_fake_inject(dev, 3, VIRTQ_FAKE_FAULT_LEN_OVER, 1), -1);
    assert_int_equal(virtq_fake_inject(dev, 0, (enum virtq_fake_fault)99, 1), -1);
    assert_clean();
    teardown_plain();
}

static void scribbling(void **state)
{
    struct virtq_fake_queue_view v;
    uint32_t id, len;
    int irqs = 0;
    (void)state;
    setup_plain(0, 8);
    virtq_fake_set_irq_callback(dev, count_irq, &irqs);
    assert_int_equal(virtq_fake_queue_view(dev, 0, &v), 0);
    assert_ptr_equal(v.desc, m.desc);
    assert_ptr_equal(v.avail, m.avail);
    assert_ptr_equal(v.used, m.used);
    assert_ptr_equal(v.used_event, &m.avail->ring[8]);
    assert_int_equal(v.num, 8);
    assert_int_equal(virtq_fake_push_used_raw(dev, 0, 0xabcdef, 77), 0);
    assert_int_equal(irqs, 1);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0xabcdef);
    assert_int_equal(len, 77);
    assert_int_equal(virtq_fake_queue_view(dev, 0, &v), 0);
    assert_int_equal(v.used_idx, 1);
    /* The device's own idea of used.idx goes on from there. */
    post(1);
    assert_true(md_get(&m, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(md_used_idx(&m), 2);
    assert_int_equal(virtq_fake_push_used_raw(dev, 1, 0, 0), -1);
    assert_clean();
    teardown_plain();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(mode_sync, fake_setup),
        cmocka_unit_test_setup(mode_deferred, fake_setup),
        cmocka_unit_test_setup(mode_reversed, fake_setup),
        cmocka_unit_test_setup(mode_out_of_order, fake_setup),
        cmocka_unit_test_setup(mode_thread, fake_setup),
        cmocka_unit_test_setup(thread_violation_delivery, fake_setup),
        cmocka_unit_test_setup(model_holds_requests, fake_setup),
        cmocka_unit_test_setup(fault_never_complete, fake_setup),
        cmocka_unit_test_setup(fault_complete_twice, fake_setup),
        cmocka_unit_test_setup(fault_ids, fake_setup),
        cmocka_unit_test_setup(fault_len_over, fake_setup),
        cmocka_unit_test_setup(fault_used_idx, fake_setup),
        cmocka_unit_test_setup(fault_interrupts, fake_setup),
        cmocka_unit_test_setup(scribbling, fake_setup),
    };
    return cmocka_run_group_tests_name("fake: completion modes and faults", tests, NULL, NULL);
}
