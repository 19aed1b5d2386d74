/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_hostile.c — a device that breaks the packed rules:
   the queue latches broken, every later call says so, and detach still
   hands back every cookie exactly once. */
#include "pk_test.h"

static unsigned char bytes[256];
static struct pk_chain ch;

enum fault {
    F_ID_RANGE,      /* Buffer ID >= Queue Size */
    F_ID_HUGE,       /* 0xffff */
    F_ID_FREE,       /* an id never handed out */
    F_REPEAT,        /* the same id used twice */
    F_UNPUBLISHED,   /* the id of a chain added but not yet published */
    F_LEN,           /* more bytes than were posted writable */
    F_NOTHING_OUT,   /* a used descriptor when nothing was made available */
    F_FAULTS
};

static const char *fault_name[F_FAULTS] = {"id range", "id 0xffff", "free id", "repeat",
                                           "unpublished", "len",
                                           "nothing outstanding"};

/* Ring of 5 (not a power of two): three buffers of 1, 2 and 1 descriptors
   published, one of 1 added and not published.  The device pops the
   published ones; then the fault. */
static void run_fault(enum fault f, unsigned laps)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b[2] = {{&bytes[0], 8}, {&bytes[8], 8}};
    int cookies[4], seen[4] = {0};
    uint16_t ids[3], wrap_flags;
    void *c;
    uint32_t len;
    unsigned i, n = 0;
    pk_ring_init(&r, 5, 0);
    pk_dev_attach(&d, &r);
    /* Move the ring on so the fault lands at various positions and laps. */
    for (i = 0; i < laps; i++) {
        assert_int_equal(virtq_add(&r.vq, b, 1, 0, &r), VIRTQ_OK);
        (void)pk_pub(&r.vq);
        assert_int_equal(pk_dev_complete_all(&d, 0), 1);
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_OK);
    }
    if (f == F_NOTHING_OUT) {
        /* Only an unpublished buffer; the device writes a used descriptor
           with this lap's wrap bits anyway. */
        assert_int_equal(virtq_add(&r.vq, b, 0, 1, &cookies[0]), VIRTQ_OK);
        wrap_flags = (uint16_t)(d.used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u);
        pk_dev_raw_used(&d, d.desc[d.used_pos].id, 0, wrap_flags);
        n = 1;
        goto check;
    }
    assert_int_equal(virtq_add(&r.vq, b, 0, 1, &cookies[0]), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, b, 1, 1, &cookies[1]), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, b, 0, 1, &cookies[2]), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    for (i = 0; i < 3; i++) {
        assert_int_equal(pk_dev_pop(&d, &ch), 1);
        ids[i] = ch.id;
    }
    assert_int_equal(virtq_add(&r.vq, b, 0, 1, &cookies[3]), VIRTQ_OK);
    n = 4;
    wrap_flags = (uint16_t)(d.used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u);
    switch (f) {
    case F_ID_RANGE:
        pk_dev_raw_used(&d, 5, 0, wrap_flags);
        break;
    case F_ID_HUGE:
        pk_dev_raw_used(&d, 0xffff, 0, wrap_flags);
        break;
    case F_ID_FREE: {
        /* 5 ids, 4 in flight: the fifth is free. */
        uint16_t id;
        for (id = 0; id < 5; id++)
            if (id != ids[0] && id != ids[1] && id != ids[2] &&
                id != d.desc[(d.avail_pos) % 5u].id)
                break;
        pk_dev_raw_used(&d, id, 0, wrap_flags);
        break;
    }
    case F_REPEAT:
        (void)pk_dev_use(&d, ids[0], 8);
        assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
        assert_ptr_equal(c, &cookies[0]);
        seen[0] = 1;
        n = 3;
        wrap_flags = (uint16_t)(d.used_wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u);
        pk_dev_raw_used(&d, ids[0], 0, wrap_flags);
        break;
    case F_UNPUBLISHED:
        /* The device peeks at the not-yet-available descriptor's id. */
        pk_dev_raw_used(&d, d.desc[d.avail_pos].id, 0, wrap_flags);
        break;
    case F_LEN:
        pk_dev_raw_used(&d, ids[1], 9, wrap_flags); /* 8 writable posted */
        break;
    default:
        fail();
    }
check:
    assert_int_equal(virtq_has_used(&r.vq), 1);
    if (virtq_get(&r.vq, &c, &len) != VIRTQ_EBROKEN)
        fail_msg("fault '%s' at lap %u not caught", fault_name[f], laps);
    assert_true(virtq_is_broken(&r.vq));
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_EBROKEN);
    assert_int_equal(virtq_add(&r.vq, b, 1, 0, &r), VIRTQ_EBROKEN);
    {
        bool notify = true;
        assert_int_equal(virtq_publish(&r.vq, &notify), VIRTQ_EBROKEN);
        assert_false(notify);
    }
    /* Questions answer true on a broken queue, so callers reach virtq_get(). */
    assert_true(virtq_has_used(&r.vq));
    assert_true(virtq_enable_intr(&r.vq));
    /* Every cookie not yet returned comes back exactly once. */
    while (virtq_detach(&r.vq, &c) == VIRTQ_OK) {
        unsigned k = (unsigned)((int *)c - cookies);
        assert_true(k < 4);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        n--;
    }
    assert_int_equal(n, 0);
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    assert_int_equal(virtq_num_free(&r.vq), 5);
    pk_ring_free(&r);
}

static void t_faults(void **st)
{
    unsigned f, lap;
    (void)st;
    for (f = 0; f < F_FAULTS; f++)
        for (lap = 0; lap < 11; lap++)
            run_fault((enum fault)f, lap);
}

/* The length bound can be lifted (legacy junk lengths); nothing else. */
static void t_ignore_len(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = {&bytes[0], 8};
    void *c;
    uint32_t len;
    (void)st;
    pk_ring_init(&r, 3, 0);
    pk_dev_attach(&d, &r);
    virtq_ignore_used_len(&r.vq, 1);
    assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    (void)pk_dev_use(&d, ch.id, 12345);
    assert_int_equal(virtq_get(&r.vq, &c, &len), VIRTQ_OK);
    assert_int_equal(len, 12345);
    pk_ring_free(&r);
}

/* A device that writes its used descriptor one position too far is a
   stall, not a corruption: the driver looks only at its own used position
   ("Polling of available and used descriptors"), and a bounded wait ends
   it; nothing is freed on the device's word. */
static void t_skip_is_stall(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = {&bytes[0], 8};
    int cookies[2];
    void *c;
    unsigned n = 0;
    (void)st;
    pk_ring_init(&r, 4, 0);
    pk_dev_attach(&d, &r);
    assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &cookies[0]), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &cookies[1]), VIRTQ_OK);
    (void)pk_pub(&r.vq);
    assert_int_equal(pk_dev_pop(&d, &ch), 1);
    d.used_pos++;
    (void)pk_dev_use(&d, ch.id, 0);
    assert_int_equal(virtq_has_used(&r.vq), 0);
    assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_EAGAIN);
    assert_int_equal(virtq_num_free(&r.vq), 2);
    while (virtq_detach(&r.vq, &c) == VIRTQ_OK)
        n++;
    assert_int_equal(n, 2);
    pk_ring_free(&r);
}

/* Flag pairs that are not "used in this lap" are never taken, whatever
   the id and length say: available now, used last lap, or (AVAIL of the
   last lap, USED of this one) a chain's inner descriptor the device
   skipped, which is where a device stands after a multi-descriptor chain
   ("Next Flag: Descriptor Chaining"). */
static void t_not_used_pairs(void **st)
{
    struct pk_ring r;
    struct pk_dev d;
    struct virtq_buf b = {&bytes[0], 8};
    void *c;
    unsigned k;
    (void)st;
    for (k = 0; k < 3; k++) {
        uint16_t w = 1, f = 0;
        pk_ring_init(&r, 4, 0);
        pk_dev_attach(&d, &r);
        assert_int_equal(virtq_add(&r.vq, &b, 1, 0, &r), VIRTQ_OK);
        (void)pk_pub(&r.vq);
        assert_int_equal(pk_dev_pop(&d, &ch), 1);
        if (k == 0)
            f = (uint16_t)(w ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
        else if (k == 1)
            f = (uint16_t)(w ? 0u : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED));
        else
            f = (uint16_t)(w ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL);
        pk_dev_raw_used(&d, ch.id, 0, f);
        assert_int_equal(virtq_has_used(&r.vq), 0);
        assert_int_equal(virtq_get(&r.vq, &c, NULL), VIRTQ_EAGAIN);
        assert_int_equal(virtq_is_broken(&r.vq), 0);
        pk_ring_free(&r);
    }
}

int pk_group_hostile(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_faults),
        cmocka_unit_test(t_ignore_len),
        cmocka_unit_test(t_skip_is_stall),
        cmocka_unit_test(t_not_used_pairs),
    };
    return cmocka_run_group_tests_name("packed hostile device", tests, NULL, NULL);
}
