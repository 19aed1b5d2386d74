/* SPDX-License-Identifier: MIT */
/* virtq's own packed ring against the fake's packed device side, over the
   MMIO and PCI front ends: the driver obeys every rule the fake checks
   (no violation), and every fault the fake injects in packed form is one
   the driver latches (or, for a skip, bounds) and hands every cookie back
   from. */
#define _POSIX_C_SOURCE 200809L
#define VIRTQ_RINGS (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#define VIRTQ_TRANSPORTS (VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI)
#define VIRTQ_IMPLEMENTATION
#include "virtq_fake.h" /* first: points virtq.h's shims at the fake */
#include "virtq.h"

#include "minidrv.h"

#define F_PACKED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_IND VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define F_NDATA VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)
#define QNUM 6u /* not a power of 2: packed rings need not be */
#define WIN 0x40000000ull
#define SECTORS 64u

struct req {
    struct virtio_blk_outhdr hdr;
    uint8_t status;
    uint8_t data[512];
    struct pvirtq_desc table[3] __attribute__((aligned(16)));
};

struct rig {
    struct virtq_fake_dev *fd;
    struct virtq_fake_pci *fp;
    struct virtq_dev dev;
    struct virtq vq;
    struct virtq_slot slots[QNUM];
    int irqs;
};

static uint8_t disk[SECTORS * 512];
static uint8_t ring_mem[VIRTQ_PACKED_RING_BYTES(QNUM)] __attribute__((aligned(16)));
static struct req reqs[QNUM];

static void irq_count(struct virtq_fake_dev *d, void *ctx)
{
    struct rig *r = ctx;
    (void)d;
    r->irqs++;
    (void)virtq_dev_isr(&r->dev);
}

static void rig_up(struct rig *r, int pci, uint64_t features)
{
    struct virtq_fake_blk_params bp;
    unsigned i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i / 512 + 1);
    memset(&bp, 0, sizeof bp);
    bp.version = 2;
    bp.image = disk;
    bp.image_bytes = sizeof disk;
    bp.features = features | F_PACKED;
    bp.queue_num_max = QNUM;
    r->fd = virtq_fake_blk_create(&bp);
    assert_non_null(r->fd);
    virtq_fake_set_irq_callback(r->fd, irq_count, r);
    if (pci) {
        uint64_t next = WIN;
        r->fp = virtq_fake_pci_attach(r->fd, 0);
        assert_non_null(r->fp);
        assert_int_equal(virtq_pci_assign_bars(virtq_fake_pci_cfg(r->fp), &next, WIN + 0x100000u), VIRTQ_OK);
        assert_int_equal(virtq_pci_probe(&r->dev, virtq_fake_pci_cfg(r->fp)), VIRTQ_OK);
        assert_int_equal(r->dev.transport, VIRTQ_TRANSPORT_PCI);
    } else {
        assert_int_equal(virtq_mmio_probe(&r->dev, virtq_fake_base(r->fd)), VIRTQ_OK);
    }
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, features, 0), VIRTQ_OK);
    assert_true(r->dev.features & F_PACKED); /* taken whenever offered */
    assert_true(virtq_fake_driver_features(r->fd) & F_PACKED);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, QNUM, ring_mem, r->slots), VIRTQ_OK);
    assert_int_equal(r->vq.num, QNUM);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
    assert_clean();
}

static void rig_down(struct rig *r)
{
    if (r->fp != NULL)
        virtq_fake_pci_detach(r->fp);
    virtq_fake_destroy(r->fd);
}

/* A blk read of sector s into rq: a list of 3, or one indirect table. */
static int submit_read(struct rig *r, struct req *rq, uint64_t s, int indirect)
{
    struct virtq_buf b[3];
    memset(rq->data, 0, sizeof rq->data);
    rq->hdr.type = VIRTIO_BLK_T_IN;
    rq->hdr.reserved = 0;
    rq->hdr.sector = s;
    rq->status = 0xff;
    b[0] = (struct virtq_buf){&rq->hdr, sizeof rq->hdr};
    b[1] = (struct virtq_buf){rq->data, sizeof rq->data};
    b[2] = (struct virtq_buf){&rq->status, 1};
    if (indirect)
        return virtq_add_indirect(&r->vq, b, 1, 2, (struct virtq_desc *)(void *)rq->table, rq);
    return virtq_add(&r->vq, b, 1, 2, rq);
}

static void check_read(const struct req *rq, uint32_t len)
{
    assert_int_equal(len, 513);
    assert_int_equal(rq->status, VIRTIO_BLK_S_OK);
    assert_int_equal(rq->data[0], rq->hdr.sector + 1);
    assert_int_equal(rq->data[511], rq->hdr.sector + 1);
}

/* Reads in batches of 1..3, direct and indirect, completed in reverse:
   many laps of a ring of 6, used descriptors overwriting other lists. */
static void io_run(int pci)
{
    struct rig r;
    struct virtq_fake_stats st;
    unsigned round, total = 0;
    rig_up(&r, pci, F_EVENT | F_IND);
    virtq_fake_set_mode(r.fd, VIRTQ_FAKE_REVERSED, 1);
    for (round = 0; round < 12; round++) {
        unsigned n = round % 3 + 1, i, got = 0;
        void *c;
        uint32_t len;
        for (i = 0; i < n; i++)
            /* one list of 3 at most (6 descriptors), the rest indirect */
            assert_int_equal(submit_read(&r, &reqs[i], (round * 3 + i) % SECTORS, i > 0 || round % 2), VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
        assert_int_equal(virtq_fake_step(r.fd, 0, -1), (int)n);
        while (virtq_get(&r.vq, &c, &len) == VIRTQ_OK) {
            check_read(c, len);
            got++;
        }
        assert_int_equal(got, n);
        total += n;
    }
    virtq_fake_get_stats(r.fd, &st);
    assert_int_equal(st.q[0].popped, total);
    assert_int_equal(st.q[0].completed, total);
    assert_true(st.q[0].indirect > 0);
    assert_int_equal(virtq_num_free(&r.vq), QNUM);
    assert_clean();
    rig_down(&r);
}

static void virtq_packed_io_mmio(void **state)
{
    (void)state;
    io_run(0);
}

static void virtq_packed_io_pci(void **state)
{
    (void)state;
    io_run(1);
}

/* NOTIFICATION_DATA over both front ends: virtq's next_off/next_wrap are
   what the fake expects. */
static void virtq_packed_notification_data(void **state)
{
    int pci;
    (void)state;
    for (pci = 0; pci <= 1; pci++) {
        struct rig r;
        unsigned i;
        rig_up(&r, pci, F_NDATA);
        assert_true(r.dev.features & F_NDATA);
        for (i = 0; i < 9; i++) {
            void *c;
            uint32_t len;
            assert_int_equal(submit_read(&r, &reqs[0], i, 0), VIRTQ_OK);
            assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
            assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
            check_read(c, len);
        }
        assert_clean();
        rig_down(&r);
    }
}

/* Interrupt suppression both ways with EVENT_IDX: the driver's DISABLE
   holds the fake's interrupts back, re-enabling brings them back; the
   fake's device event structure keeps virtq's kicks to what it asked. */
static void virtq_packed_suppression(void **state)
{
    struct rig r;
    struct virtq_fake_stats st;
    void *c;
    uint32_t len;
    (void)state;
    rig_up(&r, 0, F_EVENT);
    virtq_disable_intr(&r.vq);
    assert_int_equal(submit_read(&r, &reqs[0], 1, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    assert_int_equal(r.irqs, 0);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_false(virtq_enable_intr(&r.vq));
    assert_int_equal(submit_read(&r, &reqs[0], 2, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    assert_int_equal(r.irqs, 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    /* The device asks for no kicks: virtq sends none, the device polls. */
    virtq_fake_suppress_notify(r.fd, 0, 1);
    virtq_fake_get_stats(r.fd, &st);
    assert_int_equal(submit_read(&r, &reqs[0], 3, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    {
        struct virtq_fake_stats st2;
        virtq_fake_get_stats(r.fd, &st2);
        assert_int_equal(st2.q[0].notifies, st.q[0].notifies);
    }
    assert_int_equal(virtq_fake_poll(r.fd, 0), 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    check_read(c, len);
    assert_clean();
    rig_down(&r);
}

/* ---- faults in packed form ----------------------------------------------- */

/* Every cookie comes back exactly once by detach after a reset. */
static void reset_and_detach(struct rig *r, unsigned expect)
{
    void *c;
    unsigned n = 0;
    assert_int_equal(virtq_dev_reset(&r->dev), VIRTQ_OK);
    while (virtq_detach(&r->vq, &c) == VIRTQ_OK)
        n++;
    assert_int_equal(n, expect);
    assert_int_equal(virtq_num_free(&r->vq), QNUM);
}

static void fault_case(enum virtq_fake_fault f, enum virtq_broken_reason why, int first_ok)
{
    struct rig r;
    void *c;
    uint32_t len;
    unsigned i;
    rig_up(&r, 0, 0);
    /* Move the ring on (a lap and a bit) so the fault lands mid-ring. */
    for (i = 0; i < 3; i++) {
        assert_int_equal(submit_read(&r, &reqs[0], i, 0), VIRTQ_OK);
        assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
        assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    }
    assert_int_equal(virtq_fake_inject(r.fd, 0, f, 1), 0);
    assert_int_equal(submit_read(&r, &reqs[1], 7, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    if (first_ok) {
        assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
        check_read(c, len);
    }
    if (virtq_get(&r.vq, &c, &len) != VIRTQ_EBROKEN)
        fail_msg("packed fault %d not caught by the driver", (int)f);
    assert_int_equal(virtq_broken_reason(&r.vq), why);
    assert_clean(); /* a lying device is no driver violation */
    reset_and_detach(&r, first_ok ? 0u : 1u);
    rig_down(&r);
}

static void virtq_packed_faults(void **state)
{
    (void)state;
    fault_case(VIRTQ_FAKE_FAULT_ID_RANGE, VIRTQ_BROKEN_USED_ID, 0);
    fault_case(VIRTQ_FAKE_FAULT_ID_HIGH, VIRTQ_BROKEN_USED_ID, 0);
    fault_case(VIRTQ_FAKE_FAULT_ID_NOT_HEAD, VIRTQ_BROKEN_NOT_IN_FLIGHT, 0);
    fault_case(VIRTQ_FAKE_FAULT_LEN_OVER, VIRTQ_BROKEN_USED_LEN, 0);
    fault_case(VIRTQ_FAKE_FAULT_COMPLETE_TWICE, VIRTQ_BROKEN_NOT_IN_FLIGHT, 1); /* a repeat */
    fault_case(VIRTQ_FAKE_FAULT_USED_IDX_AHEAD, VIRTQ_BROKEN_NOT_IN_FLIGHT, 1); /* a phantom */
}

/* A skipped entry: the used descriptor one position too far.  The driver
   sees nothing where it looks, a stall a bounded wait ends; nothing is
   freed on the device's word. */
static void virtq_packed_fault_skip(void **state)
{
    struct rig r;
    void *c;
    uint32_t len;
    (void)state;
    rig_up(&r, 1, 0);
    assert_int_equal(virtq_fake_inject(r.fd, 0, VIRTQ_FAKE_FAULT_USED_IDX_JUMP, 1), 0);
    assert_int_equal(submit_read(&r, &reqs[0], 1, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    {
        struct virtq_fake_stats st;
        virtq_fake_get_stats(r.fd, &st);
        assert_int_equal(st.q[0].completed, 1); /* written, one too far */
    }
    assert_false(virtq_has_used(&r.vq));
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EAGAIN);
    assert_int_equal(virtq_wait(&r.dev, &r.vq, 2000), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtq_num_free(&r.vq), QNUM - 3u);
    assert_clean();
    reset_and_detach(&r, 1);
    rig_down(&r);
}

static void virtq_packed_fault_never_and_irq(void **state)
{
    struct rig r;
    void *c;
    uint32_t len;
    (void)state;
    rig_up(&r, 0, F_EVENT);
    assert_int_equal(virtq_fake_inject(r.fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1), 0);
    assert_int_equal(submit_read(&r, &reqs[0], 1, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    assert_int_equal(virtq_fake_in_flight(r.fd, 0), 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EAGAIN);
    reset_and_detach(&r, 1);
    rig_down(&r);
    /* Interrupting although the driver's structure says DISABLE. */
    rig_up(&r, 0, F_EVENT);
    virtq_disable_intr(&r.vq);
    assert_int_equal(virtq_fake_inject(r.fd, 0, VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT, 1), 0);
    assert_int_equal(submit_read(&r, &reqs[0], 1, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
    assert_int_equal(r.irqs, 1);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_clean();
    rig_down(&r);
}

/* A raw used descriptor from the test: id 5 is not in flight. */
static void virtq_packed_push_raw(void **state)
{
    struct rig r;
    struct virtq_fake_queue_view v;
    void *c;
    uint32_t len;
    (void)state;
    rig_up(&r, 0, 0);
    assert_int_equal(virtq_fake_queue_view(r.fd, 0, &v), -1); /* split pointers only */
    {
        struct virtq_fake_packed_view pv;
        assert_int_equal(virtq_fake_packed_view(r.fd, 0, &pv), 0);
        assert_ptr_equal(pv.desc, (void *)ring_mem);
        assert_int_equal(pv.next_used, 0x8000u);
    }
    assert_int_equal(virtq_fake_push_used_raw(r.fd, 0, 5, 0), 0);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EBROKEN);
    assert_int_equal(virtq_broken_reason(&r.vq), VIRTQ_BROKEN_NOT_IN_FLIGHT);
    rig_down(&r);
}

/* The device thread completes in random order with random delays while
   this thread adds, kicks and takes: the packed rules hold under
   concurrency (every violation would fail the test).  A request's memory
   is reused only once its cookie came back (one may stay in flight while
   many later ones complete). */
static void virtq_packed_threaded(void **state)
{
    int pci;
    (void)state;
    for (pci = 0; pci <= 1; pci++) {
        struct rig r;
        int busy[QNUM] = {0};
        unsigned sent = 0, done = 0, k;
        rig_up(&r, pci, F_EVENT | F_IND);
        virtq_fake_set_mode(r.fd, VIRTQ_FAKE_OUT_OF_ORDER, 42u + (unsigned)pci);
        virtq_fake_set_thread_delay(r.fd, 50);
        assert_int_equal(virtq_fake_start_thread(r.fd), 0);
        while (done < 300) {
            void *c;
            uint32_t len;
            while (sent < 300 && sent - done < QNUM / 3u) {
                for (k = 0; busy[k]; k++)
                    ;
                busy[k] = 1;
                assert_int_equal(submit_read(&r, &reqs[k], sent % SECTORS, (int)(sent % 2)), VIRTQ_OK);
                sent++;
                assert_int_equal(virtq_dev_kick(&r.dev, &r.vq), VIRTQ_OK);
            }
            if (virtq_get(&r.vq, &c, &len) == VIRTQ_OK) {
                check_read(c, len);
                k = (unsigned)((struct req *)c - reqs);
                assert_true(k < QNUM && busy[k]);
                busy[k] = 0;
                done++;
            }
        }
        virtq_fake_stop_thread(r.fd);
        assert_clean();
        rig_down(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(virtq_packed_io_mmio, fake_setup),
        cmocka_unit_test_setup(virtq_packed_io_pci, fake_setup),
        cmocka_unit_test_setup(virtq_packed_notification_data, fake_setup),
        cmocka_unit_test_setup(virtq_packed_suppression, fake_setup),
        cmocka_unit_test_setup(virtq_packed_faults, fake_setup),
        cmocka_unit_test_setup(virtq_packed_fault_skip, fake_setup),
        cmocka_unit_test_setup(virtq_packed_fault_never_and_irq, fake_setup),
        cmocka_unit_test_setup(virtq_packed_push_raw, fake_setup),
        cmocka_unit_test_setup(virtq_packed_threaded, fake_setup),
    };
    return cmocka_run_group_tests_name("virtq packed vs the fake", tests, NULL, NULL);
}
