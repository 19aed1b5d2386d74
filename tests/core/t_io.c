/* SPDX-License-Identifier: MIT */
/* Real blk I/O end to end: virtq_add / virtq_dev_kick / virtq_wait /
   virtq_get against the fake blk model, legacy and modern, EVENT_IDX and
   INDIRECT_DESC on and off, every request shape, data verified. */
#include "core.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define F_V1 VIRTQ_FEATURE(VIRTIO_F_VERSION_1)

static int shape_ok(const struct rig *r, int shape, uint32_t type)
{
    if (shape == SH_INDIRECT)
        return (r->dev.features & F_INDIRECT) != 0;
    if (shape == SH_MERGED) /* legacy framing: status alone in the last descriptor */
        return r->version == 2 && type == VIRTIO_BLK_T_IN;
    return 1;
}

static void io_config(int version, int event, int indirect)
{
    uint64_t wanted = (event ? F_EVENT : 0) | (indirect ? F_INDIRECT : 0);
    struct rig *r = rig_new(version, F_EVENT | F_INDIRECT, 0);
    struct breq *q = breqs_new(32);
    struct virtq_fake_stats st;
    struct virtq_fake_blk_stats bs;
    uint32_t round, i, seed = 1;
    void *ck;
    rig_irq_to_isr(r);
    rig_up(r, wanted, 64);
    assert_int_equal(r->dev.features, wanted | (version == 2 ? F_V1 : 0));
    assert_int_equal(r->vq.num, 64);
    if (!indirect) {
        struct virtq_buf b = {q[0].buf, 16};
        assert_int_equal(virtq_add_indirect(&r->vq, &b, 1, 0, q[0].table, &q[0]), VIRTQ_ENOTSUP);
    }

    /* One at a time, every shape, write then read back; enough rounds to
       wrap the 64-entry ring several times. */
    for (round = 0; round < 120; round++) {
        int shape = (int)(round % SH_COUNT);
        uint64_t sector = (round * 7u) % (RIG_SECTORS - BREQ_MAX_SECT);
        uint32_t nsect = 1u + round % BREQ_MAX_SECT;
        if (shape_ok(r, shape, VIRTIO_BLK_T_OUT))
            rig_io(r, VIRTIO_BLK_T_OUT, sector, nsect, shape, seed++);
        if (shape_ok(r, shape, VIRTIO_BLK_T_IN))
            rig_io(r, VIRTIO_BLK_T_IN, sector, nsect, shape, 0);
    }

    /* Batches: 12 requests (at most 5 descriptors each, so they fit the
       64 entries) published with one kick, on disjoint sectors so their
       order does not matter. */
    for (round = 0; round < 12; round++) {
        unsigned n = 0, got = 0;
        for (i = 0; i < 12; i++) {
            uint32_t type = (i + round) % 3 == 0 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
            int shape = (int)((i + round) % SH_COUNT);
            if (!shape_ok(r, shape, type))
                shape = SH_SPLIT;
            assert_int_equal(breq_add(r, &q[n], type, (uint64_t)i * 16u + round % 8u, 1u + i % 8u, shape, seed++),
                             VIRTQ_OK);
            n++;
        }
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        while (got < n) {
            assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000000u), VIRTQ_OK);
            while (virtq_has_used(&r->vq) == 1) {
                (void)rig_get_one(r);
                got++;
            }
        }
        assert_int_equal(virtq_get(&r->vq, &ck, NULL), VIRTQ_EAGAIN);
    }

    assert_int_equal(virtq_num_free(&r->vq), r->vq.num);
    ledger_assert_all_back(&r->led);
    rig_assert_disk(r);
    virtq_fake_get_stats(r->fd, &st);
    virtq_fake_blk_get_stats(r->fd, &bs);
    assert_int_equal(bs.bad, 0);
    assert_int_equal(bs.ioerr, 0);
    assert_int_equal(st.q[0].popped, r->led.submitted);
    assert_int_equal(st.q[0].completed, r->led.submitted);
    assert_int_equal(st.q[0].notifies, r->dev.notifies); /* every notify reached the device */
    assert_int_equal(st.q[0].notifies_empty, 0);         /* and none was for nothing */
    if (indirect)
        assert_true(st.q[0].indirect > 0);
    else
        assert_int_equal(st.q[0].indirect, 0);
    /* Interrupts arrived through virtq_dev_isr, none of them spurious. */
    assert_true(r->dev.irqs > 0);
    assert_int_equal(r->dev.irqs, st.irqs);
    assert_int_equal(r->dev.spurious, 0);
    assert_int_equal(virtq_fake_interrupt_status(r->fd), 0); /* all acknowledged */
    free(q);
    rig_free(r);
}

static void io_legacy_plain(void **state) { (void)state; io_config(1, 0, 0); }
static void io_legacy_event(void **state) { (void)state; io_config(1, 1, 0); }
static void io_legacy_indirect(void **state) { (void)state; io_config(1, 0, 1); }
static void io_legacy_event_indirect(void **state) { (void)state; io_config(1, 1, 1); }
static void io_modern_plain(void **state) { (void)state; io_config(2, 0, 0); }
static void io_modern_event(void **state) { (void)state; io_config(2, 1, 0); }
static void io_modern_indirect(void **state) { (void)state; io_config(2, 0, 1); }
static void io_modern_event_indirect(void **state) { (void)state; io_config(2, 1, 1); }

/* A full ring: adds beyond the free descriptors are refused with ENOSPC
   and change nothing; after the completions the ring takes them again. */
static void io_full_ring(void **state)
{
    int v;
    (void)state;
    for (v = 1; v <= 2; v++) {
        struct rig *r = rig_new(v, 0, 0);
        struct breq *q = breqs_new(8);
        unsigned n = 0, i;
        rig_up(r, 0, 16);
        virtq_fake_set_mode(r->fd, VIRTQ_FAKE_DEFERRED, 0);
        while (n < 8) {
            int rc = breq_add(r, &q[n], VIRTIO_BLK_T_IN, n, 1, SH_PLAIN, 0);
            if (rc == VIRTQ_ENOSPC)
                break;
            assert_int_equal(rc, VIRTQ_OK);
            n++;
        }
        assert_int_equal(n, 5); /* 16 descriptors, 3 per request */
        assert_int_equal(virtq_num_free(&r->vq), 1);
        assert_int_equal(breq_add(r, &q[5], VIRTIO_BLK_T_IN, 5, 1, SH_PLAIN, 0), VIRTQ_ENOSPC);
        assert_int_equal(virtq_num_free(&r->vq), 1);
        assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
        assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000), VIRTQ_ETIMEDOUT); /* deferred: nothing yet */
        assert_int_equal(virtq_fake_step(r->fd, 0, -1), 5);
        for (i = 0; i < n; i++) {
            assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000000u), VIRTQ_OK);
            assert_ptr_equal(rig_get_one(r), &q[i]); /* deferred mode: in order */
        }
        assert_int_equal(virtq_num_free(&r->vq), 16);
        ledger_assert_all_back(&r->led);
        free(q);
        rig_free(r);
    }
}

int core_group_io(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(io_legacy_plain),   CORE_TEST(io_legacy_event),   CORE_TEST(io_legacy_indirect),
        CORE_TEST(io_legacy_event_indirect), CORE_TEST(io_modern_plain), CORE_TEST(io_modern_event),
        CORE_TEST(io_modern_indirect), CORE_TEST(io_modern_event_indirect), CORE_TEST(io_full_ring),
    };
    return cmocka_run_group_tests_name("core: blk I/O end to end", tests, NULL, NULL);
}
