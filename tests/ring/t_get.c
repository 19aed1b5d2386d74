/* SPDX-License-Identifier: MIT */
/* tests/ring/t_get.c — virtq_get: returns cookie and len; every device-side
   protocol violation ("Errors and bad input": used.idx jump, id out of
   range in all 32 bits, non-head or double completion, len beyond the
   writable bytes posted) latches the queue broken, frees nothing, and
   keeps every call failing until virtq_detach hands every outstanding
   cookie back and resets the queue. */
#include "ring_test.h"

static unsigned char buf[8][32];
static struct rt_chain chain;

/* Three published requests:
     A: 1 readable + 2 writable (wlen 32 + 16)
     B: 2 readable, nothing writable
     C: 1 readable + 1 writable (wlen 8)
   and, when asked, D added but not published. */
enum { REQ_A, REQ_B, REQ_C, REQ_D, NREQ };
static int cookies[NREQ];
#define WLEN_A 48u
#define WLEN_C 8u

struct fixture {
    struct rt_ring r;
    struct rt_dev d;
    uint16_t head[NREQ];
    int outstanding[NREQ];
};

static void setup(struct fixture *f, uint64_t features, int with_d)
{
    struct virtq_buf a[3] = {{buf[0], 4}, {buf[1], 32}, {buf[2], 16}};
    struct virtq_buf b[2] = {{buf[3], 8}, {buf[4], 8}};
    struct virtq_buf c[2] = {{buf[5], 4}, {buf[6], WLEN_C}};
    int i;
    memset(f, 0, sizeof(*f));
    rt_ring_init(&f->r, 8, VIRTQ_ALIGN_MODERN, features);
    rt_dev_attach(&f->d, &f->r.vq, features);
    assert_int_equal(virtq_add(&f->r.vq, a, 1, 2, &cookies[REQ_A]), VIRTQ_OK);
    assert_int_equal(virtq_add(&f->r.vq, b, 2, 0, &cookies[REQ_B]), VIRTQ_OK);
    assert_int_equal(virtq_add(&f->r.vq, c, 1, 1, &cookies[REQ_C]), VIRTQ_OK);
    assert_true(vq_test_publish(&f->r.vq) >= 0);
    for (i = REQ_A; i <= REQ_C; i++) {
        assert_int_equal(rt_dev_pop(&f->d, &chain), 1);
        f->head[i] = chain.head;
        f->outstanding[i] = 1;
    }
    assert_int_equal(virtq_num_free(&f->r.vq), 1);
    if (with_d) {
        assert_int_equal(virtq_add(&f->r.vq, &c[0], 1, 0, &cookies[REQ_D]), VIRTQ_OK);
        f->head[REQ_D] = f->r.vq.avail->ring[3];
        f->outstanding[REQ_D] = 1;
    }
}

static void get_ok(struct fixture *f, int req, uint32_t want_len)
{
    void *cookie = NULL;
    uint32_t len = 0xdeadbeefu;
    assert_int_equal(virtq_get(&f->r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &cookies[req]);
    assert_int_equal(len, want_len);
    f->outstanding[req] = 0;
}

/* The next get must detect the violation: EBROKEN, and nothing changes
   but the latch (no descriptor freed, no output written). */
/* The words VIRTQ_LOG must use for each reason (each unique). */
static const char *const reason_log[] = {
    [VIRTQ_BROKEN_USED_IDX] = "used.idx past what was published",
    [VIRTQ_BROKEN_USED_ID] = "used id out of range",
    [VIRTQ_BROKEN_NOT_IN_FLIGHT] = "no in-flight head",
    [VIRTQ_BROKEN_UNPUBLISHED] = "not yet published",
    [VIRTQ_BROKEN_USED_LEN] = "used len beyond the writable bytes",
};

static void expect_broken(struct fixture *f, enum virtq_broken_reason why)
{
    unsigned free_before = virtq_num_free(&f->r.vq);
    void *cookie = &chain;
    uint32_t len = 0xdeadbeefu;
    assert_int_equal(virtq_is_broken(&f->r.vq), 0);
    assert_int_equal(virtq_broken_reason(&f->r.vq), VIRTQ_BROKEN_NONE);
    rt_last_log[0] = '\0';
    assert_int_equal(virtq_get(&f->r.vq, &cookie, &len), VIRTQ_EBROKEN);
    assert_int_equal(virtq_broken_reason(&f->r.vq), why);
    /* One VIRTQ_LOG line, naming this reason and no other. */
    assert_non_null(strstr(rt_last_log, reason_log[why]));
    assert_ptr_equal(cookie, &chain);
    assert_int_equal(len, 0xdeadbeefu);
    assert_int_equal(virtq_num_free(&f->r.vq), free_before);
    assert_int_equal(virtq_is_broken(&f->r.vq), 1);
    rt_check_freelist(&f->r.vq);
}

/* Once broken, every call fails, even after the device "fixes" the used
   ring; then detach returns exactly the outstanding cookies, once each,
   and the queue is usable again. */
static void broken_then_detach(struct fixture *f)
{
    enum virtq_broken_reason why = virtq_broken_reason(&f->r.vq);
    static struct virtq_desc table[2] __attribute__((aligned(16)));
    struct virtq_buf b = {buf[7], 1};
    void *cookie = NULL;
    uint32_t len;
    int seen[NREQ] = {0};
    int i, n = 0, want = 0, rc;

    /* A plausible used ring now: still refused. */
    f->r.vq.used->ring[f->r.vq.last_used & 7u].id = f->head[REQ_C];
    f->r.vq.used->ring[f->r.vq.last_used & 7u].len = 0;
    f->r.vq.used->idx = (uint16_t)(f->r.vq.last_used + 1u);
    for (i = 0; i < 3; i++) {
        assert_int_equal(virtq_get(&f->r.vq, &cookie, &len), VIRTQ_EBROKEN);
        assert_true(virtq_has_used(&f->r.vq)); /* leads to get: EBROKEN */
        assert_int_equal(virtq_add(&f->r.vq, &b, 1, 0, &b), VIRTQ_EBROKEN);
        assert_int_equal(virtq_add_indirect(&f->r.vq, &b, 1, 0, table, &b), VIRTQ_EBROKEN);
        assert_int_equal(vq_test_publish(&f->r.vq), VIRTQ_EBROKEN);
        assert_true(virtq_enable_intr(&f->r.vq)); /* do not sleep */
        assert_true(virtq_enable_intr_delayed(&f->r.vq));
        virtq_disable_intr(&f->r.vq);
        assert_int_equal(virtq_is_broken(&f->r.vq), 1);
        assert_int_equal(virtq_broken_reason(&f->r.vq), why); /* the first sticks */
    }
    assert_int_not_equal(why, VIRTQ_BROKEN_NONE);
    /* The device was reset: hand everything back. */
    while ((rc = virtq_detach(&f->r.vq, &cookie)) == VIRTQ_OK) {
        int idx = 0;
        while (idx < NREQ && cookie != (void *)&cookies[idx])
            idx++;
        assert_true(idx < NREQ);
        assert_true(f->outstanding[idx]);
        assert_int_equal(seen[idx], 0);
        seen[idx] = 1;
        n++;
        assert_true(n <= NREQ);
    }
    assert_int_equal(rc, VIRTQ_EAGAIN);
    for (i = 0; i < NREQ; i++) {
        assert_int_equal(seen[i], f->outstanding[i]);
        want += f->outstanding[i];
    }
    assert_int_equal(n, want);
    assert_int_equal(virtq_is_broken(&f->r.vq), 0);
    assert_int_equal(virtq_broken_reason(&f->r.vq), VIRTQ_BROKEN_NONE);
    assert_int_equal(virtq_num_free(&f->r.vq), 8);
    assert_int_equal(rt_check_freelist(&f->r.vq), 0);
    /* Reusable: a fresh device on the reset ring. */
    rt_dev_attach(&f->d, &f->r.vq, f->r.features);
    assert_int_equal(virtq_add(&f->r.vq, &b, 1, 0, &b), VIRTQ_OK);
    assert_int_equal(vq_test_publish(&f->r.vq), 1);
    assert_int_equal(rt_dev_complete_all(&f->d, 0), 1);
    assert_int_equal(virtq_get(&f->r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &b);
    assert_int_equal(len, 0);
    rt_ring_free(&f->r);
}

/* Complete the three published requests of setup() in order. */
static void get_ok_after(struct fixture *f)
{
    rt_dev_use(&f->d, f->head[REQ_A], WLEN_A);
    rt_dev_use(&f->d, f->head[REQ_B], 0);
    rt_dev_use(&f->d, f->head[REQ_C], WLEN_C);
    rt_dev_flush(&f->d);
    get_ok(f, REQ_A, WLEN_A);
    get_ok(f, REQ_B, 0);
    get_ok(f, REQ_C, WLEN_C);
}

static const uint64_t feature_sets[] = {0, RT_F_EVENT_IDX, RT_F_EVENT_IDX | RT_F_INDIRECT};

static void test_get_good(void **state)
{
    struct fixture f;
    void *cookie;
    size_t s;
    (void)state;
    for (s = 0; s < 3; s++) {
        setup(&f, feature_sets[s], 0);
        assert_int_equal(virtq_has_used(&f.r.vq), 0);
        assert_int_equal(virtq_get(&f.r.vq, &cookie, NULL), VIRTQ_EAGAIN);
        /* The bounds themselves are fine: len == writable bytes posted,
           0 for a read-only chain, any order. */
        rt_dev_use(&f.d, f.head[REQ_C], WLEN_C);
        rt_dev_use(&f.d, f.head[REQ_A], WLEN_A);
        rt_dev_use(&f.d, f.head[REQ_B], 0);
        assert_int_equal(virtq_has_used(&f.r.vq), 0); /* not flushed */
        rt_dev_flush(&f.d);
        assert_int_equal(virtq_has_used(&f.r.vq), 1);
        get_ok(&f, REQ_C, WLEN_C);
        get_ok(&f, REQ_A, WLEN_A);
        get_ok(&f, REQ_B, 0);
        assert_int_equal(virtq_has_used(&f.r.vq), 0);
        assert_int_equal(virtq_get(&f.r.vq, &cookie, NULL), VIRTQ_EAGAIN);
        assert_int_equal(virtq_num_free(&f.r.vq), 8);
        assert_int_equal(rt_check_freelist(&f.r.vq), 0);
        assert_int_equal(virtq_is_broken(&f.r.vq), 0);
        rt_ring_free(&f.r);
    }
}

/* Each violation, on each feature set. */
enum bad {
    BAD_IDX_PLUS_ONE,  /* used.idx one more than published */
    BAD_IDX_FAR,       /* used.idx far beyond the ring */
    BAD_IDX_UNPUB,     /* counts an added-but-unpublished chain */
    BAD_UNPUB_LATER,   /* a good one, then a jump past what was published */
    BAD_ID_NUM,        /* id == ring size */
    BAD_ID_FFFF,       /* id 0xffff */
    BAD_ID_32BIT,      /* id >= 65536 whose low 16 bits are a live head */
    BAD_ID_MAX,        /* id 0xffffffff */
    BAD_NON_HEAD,      /* the second descriptor of A's chain */
    BAD_FREE_DESC,     /* a descriptor on the free list */
    BAD_TWICE_BATCH,   /* the same head twice in one batch */
    BAD_TWICE_LATER,   /* a head completed again after it was taken */
    BAD_LEN_PLUS_ONE,  /* len = writable + 1 */
    BAD_LEN_READONLY,  /* len 1 on a read-only chain */
    BAD_LEN_MAX,       /* len 0xffffffff */
    BAD_AFTER_GOOD,    /* a good element, then an out-of-range id */
    BAD_UNPUB_HEAD,    /* the head of an added-but-unpublished chain */
    BAD_COUNT
};

/* The reason each violation must be reported with. */
static const enum virtq_broken_reason bad_reason[BAD_COUNT] = {
    [BAD_IDX_PLUS_ONE] = VIRTQ_BROKEN_USED_IDX,  [BAD_IDX_FAR] = VIRTQ_BROKEN_USED_IDX,
    [BAD_IDX_UNPUB] = VIRTQ_BROKEN_USED_IDX,     [BAD_UNPUB_LATER] = VIRTQ_BROKEN_USED_IDX,
    [BAD_ID_NUM] = VIRTQ_BROKEN_USED_ID,         [BAD_ID_FFFF] = VIRTQ_BROKEN_USED_ID,
    [BAD_ID_32BIT] = VIRTQ_BROKEN_USED_ID,       [BAD_ID_MAX] = VIRTQ_BROKEN_USED_ID,
    [BAD_NON_HEAD] = VIRTQ_BROKEN_NOT_IN_FLIGHT, [BAD_FREE_DESC] = VIRTQ_BROKEN_NOT_IN_FLIGHT,
    [BAD_TWICE_BATCH] = VIRTQ_BROKEN_NOT_IN_FLIGHT,
    [BAD_TWICE_LATER] = VIRTQ_BROKEN_NOT_IN_FLIGHT,
    [BAD_LEN_PLUS_ONE] = VIRTQ_BROKEN_USED_LEN,  [BAD_LEN_READONLY] = VIRTQ_BROKEN_USED_LEN,
    [BAD_LEN_MAX] = VIRTQ_BROKEN_USED_LEN,       [BAD_AFTER_GOOD] = VIRTQ_BROKEN_USED_ID,
    [BAD_UNPUB_HEAD] = VIRTQ_BROKEN_UNPUBLISHED,
};

static void run_bad(enum bad which, uint64_t features)
{
    struct fixture f;
    setup(&f, features,
          which == BAD_IDX_UNPUB || which == BAD_UNPUB_LATER || which == BAD_UNPUB_HEAD);
    switch (which) {
    case BAD_IDX_PLUS_ONE:
        rt_dev_use(&f.d, f.head[REQ_A], 0);
        rt_dev_use(&f.d, f.head[REQ_B], 0);
        rt_dev_use(&f.d, f.head[REQ_C], 0);
        rt_dev_use(&f.d, f.head[REQ_C], 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_IDX_FAR:
        rt_dev_use(&f.d, f.head[REQ_A], 0);
        rt_dev_flush(&f.d);
        f.r.vq.used->idx = 0x8001u;
        break;
    case BAD_IDX_UNPUB:
        rt_dev_use(&f.d, f.head[REQ_A], 0);
        rt_dev_use(&f.d, f.head[REQ_B], 0);
        rt_dev_use(&f.d, f.head[REQ_C], 0);
        rt_dev_use(&f.d, f.head[REQ_D], 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_UNPUB_LATER:
        rt_dev_use(&f.d, f.head[REQ_B], 0);
        rt_dev_flush(&f.d);
        get_ok(&f, REQ_B, 0);
        rt_dev_use(&f.d, f.head[REQ_A], 0);
        rt_dev_use(&f.d, f.head[REQ_C], 0);
        rt_dev_use(&f.d, f.head[REQ_D], 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_ID_NUM:
        rt_dev_use(&f.d, 8, 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_ID_FFFF:
        rt_dev_use(&f.d, 0xffffu, 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_ID_32BIT:
        rt_dev_use(&f.d, 0x10000u | f.head[REQ_A], 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_ID_MAX:
        rt_dev_use(&f.d, 0xffffffffu, 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_NON_HEAD:
        /* virtq's private links are the truth; find A's second descriptor
           from the device-visible table the device walked. */
        rt_dev_use(&f.d, f.r.vq.desc[f.head[REQ_A]].next, 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_FREE_DESC:
        assert_int_equal(virtq_num_free(&f.r.vq), 1);
        rt_dev_use(&f.d, f.r.vq.free_head, 0);
        rt_dev_flush(&f.d);
        break;
    case BAD_TWICE_BATCH:
        rt_dev_use(&f.d, f.head[REQ_C], 1);
        rt_dev_use(&f.d, f.head[REQ_C], 1);
        rt_dev_flush(&f.d);
        get_ok(&f, REQ_C, 1);
        break;
    case BAD_TWICE_LATER:
        rt_dev_use(&f.d, f.head[REQ_A], 5);
        rt_dev_flush(&f.d);
        get_ok(&f, REQ_A, 5);
        rt_dev_use(&f.d, f.head[REQ_A], 5);
        rt_dev_flush(&f.d);
        break;
    case BAD_LEN_PLUS_ONE:
        rt_dev_use(&f.d, f.head[REQ_A], WLEN_A + 1u);
        rt_dev_flush(&f.d);
        break;
    case BAD_LEN_READONLY:
        rt_dev_use(&f.d, f.head[REQ_B], 1);
        rt_dev_flush(&f.d);
        break;
    case BAD_LEN_MAX:
        rt_dev_use(&f.d, f.head[REQ_C], 0xffffffffu);
        rt_dev_flush(&f.d);
        break;
    case BAD_AFTER_GOOD:
        rt_dev_use(&f.d, f.head[REQ_C], WLEN_C);
        rt_dev_use(&f.d, 9, 0);
        rt_dev_flush(&f.d);
        get_ok(&f, REQ_C, WLEN_C);
        break;
    case BAD_UNPUB_HEAD:
        /* The count is within what was published; only the head's avail
           position shows the device read ahead of avail.idx. */
        rt_dev_use(&f.d, f.head[REQ_D], 0);
        rt_dev_flush(&f.d);
        break;
    default:
        fail();
    }
    expect_broken(&f, bad_reason[which]);
    broken_then_detach(&f);
}

static void test_get_hostile_device(void **state)
{
    size_t s;
    int b;
    (void)state;
    for (s = 0; s < 3; s++)
        for (b = 0; b < BAD_COUNT; b++)
            run_bad((enum bad)b, feature_sets[s]);
}

/* virtq_break (the transport saw NEEDS_RESET) latches the same way. */
static void test_get_break_by_transport(void **state)
{
    struct fixture f;
    (void)state;
    setup(&f, RT_F_EVENT_IDX, 1);
    rt_dev_use(&f.d, f.head[REQ_B], 0);
    rt_dev_flush(&f.d);
    get_ok(&f, REQ_B, 0);
    rt_dev_use(&f.d, f.head[REQ_A], 0); /* a valid one, left waiting */
    rt_dev_flush(&f.d);
    rt_last_log[0] = '\0';
    virtq_break(&f.r.vq);
    assert_non_null(strstr(rt_last_log, "broken by the caller"));
    assert_int_equal(virtq_is_broken(&f.r.vq), 1);
    assert_int_equal(virtq_broken_reason(&f.r.vq), VIRTQ_BROKEN_CALLER);
    broken_then_detach(&f);
}

/* A legacy transmit queue may carry junk used lengths: with the opt-out a
   read-only chain reported as fully "written" is accepted, every other
   check still breaks the queue, and turning it off restores the bound. */
static void test_get_ignore_used_len(void **state)
{
    struct virtq_buf b = {buf[7], 64};
    struct fixture f;
    void *cookie = NULL;
    uint32_t len = 0;
    (void)state;
    setup(&f, RT_F_EVENT_IDX, 0);
    get_ok_after(&f);
    virtq_ignore_used_len(&f.r.vq, 1);
    assert_int_equal(virtq_add(&f.r.vq, &b, 1, 0, &b), VIRTQ_OK);
    assert_int_equal(vq_test_publish(&f.r.vq) >= 0, 1);
    assert_int_equal(rt_dev_pop(&f.d, &chain), 1);
    rt_dev_use(&f.d, chain.head, 64); /* junk: 64 "written" on a read-only buffer */
    rt_dev_flush(&f.d);
    assert_int_equal(virtq_get(&f.r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &b);
    assert_int_equal(virtq_is_broken(&f.r.vq), 0);
    /* Still refused: an id that is not an in-flight head. */
    rt_dev_use(&f.d, chain.head, 0);
    rt_dev_flush(&f.d);
    assert_int_equal(virtq_get(&f.r.vq, &cookie, &len), VIRTQ_EBROKEN);
    rt_ring_free(&f.r);
    /* Off again (and init clears it): the bound is back. */
    setup(&f, RT_F_EVENT_IDX, 0);
    virtq_ignore_used_len(&f.r.vq, 1);
    virtq_ignore_used_len(&f.r.vq, 0);
    virtq_ignore_used_len(NULL, 1); /* harmless */
    get_ok_after(&f);
    assert_int_equal(virtq_add(&f.r.vq, &b, 1, 0, &b), VIRTQ_OK);
    assert_int_equal(vq_test_publish(&f.r.vq) >= 0, 1);
    assert_int_equal(rt_dev_pop(&f.d, &chain), 1);
    rt_dev_use(&f.d, chain.head, 1);
    rt_dev_flush(&f.d);
    assert_int_equal(virtq_get(&f.r.vq, &cookie, &len), VIRTQ_EBROKEN);
    rt_ring_free(&f.r);
}

int rt_group_get(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_good),
        cmocka_unit_test(test_get_hostile_device),
        cmocka_unit_test(test_get_break_by_transport),
        cmocka_unit_test(test_get_ignore_used_len),
    };
    return cmocka_run_group_tests_name("ring_get", tests, NULL, NULL);
}
