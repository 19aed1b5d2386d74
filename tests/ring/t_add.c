/* SPDX-License-Identifier: MIT */
/* tests/ring/t_add.c — virtq_add / virtq_add_indirect: bad input gets its
   documented code and changes nothing; good input builds the chains the
   spec asks for; a broken queue refuses everything. */
#include <limits.h>

#include "ring_test.h"

static unsigned char data[16][64];
static struct virtq_desc table[16] __attribute__((aligned(16)));
static struct rt_snap snap;
static struct rt_chain chain;

/* The indirect table shifted off its 16-byte alignment. */
static struct virtq_desc *misaligned(unsigned off)
{
    return (struct virtq_desc *)(void *)((char *)table + off);
}

static void fill_bufs(struct virtq_buf *b, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++) {
        b[i].addr = data[i];
        b[i].len = 1u + i * 3u;
    }
}

/* Leave the queue in a non-trivial state: one chain published, one
   chain added but not published, a used element waiting. */
static void busy_queue(struct rt_ring *r, struct rt_dev *d)
{
    static int c1, c2, c3;
    struct virtq_buf b[3];
    void *cookie;
    fill_bufs(b, 3);
    assert_int_equal(virtq_add(&r->vq, b, 1, 1, &c1), VIRTQ_OK);
    assert_int_equal(virtq_add(&r->vq, b, 2, 1, &c2), VIRTQ_OK);
    assert_true(vq_test_publish(&r->vq) >= 0);
    assert_int_equal(rt_dev_pop(d, &chain), 1);
    rt_dev_use(d, chain.head, 1);
    rt_dev_flush(d);
    assert_int_equal(virtq_get(&r->vq, &cookie, NULL), VIRTQ_OK);
    assert_ptr_equal(cookie, &c1);
    assert_int_equal(rt_dev_pop(d, &chain), 1);
    rt_dev_use(d, chain.head, 0);
    rt_dev_flush(d);
    assert_int_equal(virtq_add(&r->vq, b, 1, 0, &c3), VIRTQ_OK); /* unpublished */
    assert_int_equal(virtq_num_free(&r->vq), r->num - 4u);
}

/* A refused add changes nothing: the queue, its slots, every byte of its
   ring memory, and the caller's indirect table. */
static struct virtq_desc table_before[16];
#define EXPECT_ADD(r, want, call)                                                          \
    do {                                                                                   \
        rt_snap_take(&snap, &(r)->vq);                                                     \
        memcpy(table_before, table, sizeof(table));                                        \
        assert_int_equal((call), (want));                                                  \
        rt_snap_check(&snap, &(r)->vq);                                                    \
        assert_memory_equal(table_before, table, sizeof(table));                           \
    } while (0)

static void test_add_bad_args(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[17];
    static int ck;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, RT_F_INDIRECT | RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    busy_queue(&r, &d);

    fill_bufs(b, 17);
    /* NULL queue, buffers, cookie; no segments. */
    assert_int_equal(virtq_add(NULL, b, 1, 0, &ck), VIRTQ_EINVAL);
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, NULL, 1, 0, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 1, 0, NULL));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0, 0, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, NULL, 1, 0, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 0, table, NULL));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 0, 0, table, &ck));

    /* A zero-length or NULL segment anywhere, readable or writable. */
    for (i = 0; i < 4; i++) {
        uint32_t len = b[i].len;
        void *addr = b[i].addr;
        b[i].len = 0;
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 2, 2, &ck));
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 2, 2, table, &ck));
        b[i].len = len;
        b[i].addr = NULL;
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 2, 2, &ck));
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0, 4, &ck));
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 4, 0, &ck));
        EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 2, 2, table, &ck));
        b[i].addr = addr;
    }

    /* More segments than the ring (2.7.5.3.1), including counts whose sum
       wraps an unsigned. */
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 17, 0, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 9, 8, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0, 17, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 8, 9, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, UINT_MAX, 1, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 1, UINT_MAX, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0x80000000u, 0x80000000u, &ck));
    /* ...and sums that wrap to a small, plausible chain length. */
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, UINT_MAX, 2, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 2, UINT_MAX, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, UINT_MAX - 1u, 5, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0x80000001u, 0x80000000u, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, UINT_MAX, 2, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 3, UINT_MAX, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, UINT_MAX, 2, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL,
               virtq_add_indirect(&r.vq, b, 0x80000000u, 0x80000000u, table, &ck));

    /* Writable bytes over 4 GiB (used.len is 32 bits).  The addresses are
       never dereferenced by the ring. */
    b[1].len = 0x80000000u;
    b[2].len = 0x80000000u;
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 1, 2, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 2, table, &ck));
    b[1].len = b[2].len = b[3].len = 0xffffffffu;
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0, 4, &ck));
    /* "The Virtqueue Descriptor Table": no chain over 2^32 - 1 bytes in
       total, readable bytes counted too. */
    b[0].len = 0xffffffffu;
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 4, 0, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 4, 0, table, &ck));
    fill_bufs(b, 17);
    b[2].len = 0xffffffffu; /* the last segment is the one too many */
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 3, 0, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 2, 1, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 3, 0, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 2, table, &ck));
    fill_bufs(b, 17);

    /* Indirect table NULL or not 16-byte aligned. */
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 1, NULL, &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 1, misaligned(8), &ck));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 1, 1, misaligned(4), &ck));
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

/* Without VIRTIO_F_INDIRECT_DESC, indirect adds are refused ("Indirect
   Descriptors"), and the caller's table is not touched either. */
static void test_add_indirect_not_negotiated(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[4];
    struct virtq_desc before[4];
    static int ck;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_LEGACY, RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    busy_queue(&r, &d);
    fill_bufs(b, 4);
    memset(table, 0x6b, sizeof(table));
    memcpy(before, table, sizeof(before));
    EXPECT_ADD(&r, VIRTQ_ENOTSUP, virtq_add_indirect(&r.vq, b, 2, 2, table, &ck));
    EXPECT_ADD(&r, VIRTQ_ENOTSUP, virtq_add_indirect(&r.vq, b, 1, 0, table, &ck));
    assert_memory_equal(before, table, sizeof(before));
    /* A plain add still works. */
    assert_int_equal(virtq_add(&r.vq, b, 2, 2, &ck), VIRTQ_OK);
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

/* ENOSPC when the free descriptors don't suffice, nothing changes, and
   the same add succeeds once a get has freed enough. */
static void test_add_queue_full(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[8];
    static int ck[8], big, ind;
    void *cookie;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_INDIRECT);
    rt_dev_attach(&d, &r.vq, r.features);
    fill_bufs(b, 8);
    for (i = 0; i < 8; i++)
        assert_int_equal(virtq_add(&r.vq, &b[i], 1, 0, &ck[i]), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 0);
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add(&r.vq, b, 1, 0, &big));
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add_indirect(&r.vq, b, 1, 1, table, &ind));
    assert_int_equal(vq_test_publish(&r.vq), 1);
    /* Still full while nothing is used. */
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add(&r.vq, b, 1, 0, &big));
    assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_EAGAIN);
    /* The device uses three; the driver takes them; room for three. */
    for (i = 0; i < 3; i++) {
        assert_int_equal(rt_dev_pop(&d, &chain), 1);
        rt_dev_use(&d, chain.head, 0);
    }
    rt_dev_flush(&d);
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add(&r.vq, b, 1, 0, &big)); /* not taken yet */
    for (i = 0; i < 3; i++) {
        assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
        assert_ptr_equal(cookie, &ck[i]);
    }
    assert_int_equal(virtq_num_free(&r.vq), 3);
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add(&r.vq, b, 2, 2, &big));
    assert_int_equal(virtq_add(&r.vq, b, 2, 1, &big), VIRTQ_OK);
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add_indirect(&r.vq, b, 1, 1, table, &ind));
    assert_int_equal(vq_test_publish(&r.vq), 1);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    rt_dev_use(&d, chain.head, 0);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK);
    assert_ptr_equal(cookie, &ck[3]);
    /* One free descriptor is enough for an indirect request of any size. */
    assert_int_equal(virtq_num_free(&r.vq), 1);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 3, 5, table, &ind), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 0);
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

/* A chain of exactly 2^32 - 1 bytes is fine, readable or writable, and
   the device may report that many as used; one byte more is refused even
   when the ring is full (EINVAL, not ENOSPC: it will never fit). */
static void test_add_chain_bytes_limit(void **state)
{
    struct rt_ring r;
    struct virtq_buf b[3];
    static int ck[8];
    unsigned i;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_INDIRECT);
    fill_bufs(b, 3);
    b[0].len = 0x7fffffffu;
    b[1].len = 0x7fffffffu;
    b[2].len = 1u;
    assert_int_equal(virtq_add(&r.vq, b, 3, 0, &ck[0]), VIRTQ_OK);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 2, 1, table, &ck[1]), VIRTQ_OK);
    b[2].len = 2u;
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 1, 2, &ck[2]));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 3, 0, &ck[2]));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 3, 0, table, &ck[2]));
    /* Full ring: still EINVAL for the oversized chain, ENOSPC for a fine one. */
    for (i = 2; i < 6; i++)
        assert_int_equal(virtq_add(&r.vq, &b[2], 1, 0, &ck[i]), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 0);
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 3, 0, &ck[6]));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add(&r.vq, b, 0, 3, &ck[6]));
    EXPECT_ADD(&r, VIRTQ_EINVAL, virtq_add_indirect(&r.vq, b, 0, 3, table, &ck[6]));
    EXPECT_ADD(&r, VIRTQ_ENOSPC, virtq_add(&r.vq, b, 1, 0, &ck[6]));
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

/* A chain of 2^32 - 1 bytes, nearly all writable, is fine, and the device
   may report every writable byte as used. */
static void test_add_4gib_edge(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[3];
    static int ck;
    void *cookie;
    uint32_t len;
    (void)state;
    rt_ring_init(&r, 4, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    fill_bufs(b, 3);
    b[1].len = 0x80000000u;
    b[2].len = 0x7ffffffeu; /* with b[0]'s one byte: 2^32 - 1 in total */
    assert_int_equal(virtq_add(&r.vq, b, 1, 2, &ck), VIRTQ_OK);
    assert_int_equal(vq_test_publish(&r.vq), 1);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_int_equal(chain.wlen, 0xfffffffeu);
    rt_dev_use(&d, chain.head, 0xfffffffeu);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &ck);
    assert_int_equal(len, 0xfffffffeu);
    rt_ring_free(&r);
}

/* A broken queue refuses every call with VIRTQ_EBROKEN and changes
   nothing, even for otherwise bad arguments. */
static void test_broken_queue_refuses(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[2];
    static int ck;
    void *cookie = &ck;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_MODERN, RT_F_INDIRECT | RT_F_EVENT_IDX);
    rt_dev_attach(&d, &r.vq, r.features);
    busy_queue(&r, &d);
    fill_bufs(b, 2);
    virtq_break(&r.vq);
    assert_int_equal(virtq_is_broken(&r.vq), 1);
    EXPECT_ADD(&r, VIRTQ_EBROKEN, virtq_add(&r.vq, b, 1, 1, &ck));
    EXPECT_ADD(&r, VIRTQ_EBROKEN, virtq_add_indirect(&r.vq, b, 1, 1, table, &ck));
    EXPECT_ADD(&r, VIRTQ_EBROKEN, vq_test_publish(&r.vq));
    EXPECT_ADD(&r, VIRTQ_EBROKEN, virtq_get(&r.vq, &cookie, NULL));
    EXPECT_ADD(&r, true, virtq_has_used(&r.vq)); /* virtq_get reports it */
    EXPECT_ADD(&r, true, virtq_enable_intr(&r.vq)); /* never sleep on it */
    EXPECT_ADD(&r, true, virtq_enable_intr_delayed(&r.vq));
    assert_ptr_equal(cookie, &ck);
    assert_int_equal(virtq_is_broken(&r.vq), 1);
    rt_ring_free(&r);
}

/* Walk a chain from head through the device-visible table and check it
   against bufs: addr, len, flags (readable then writable, NEXT on all but
   the last), every descriptor distinct. */
static void check_chain(const struct virtq_desc *t, unsigned size, uint16_t head,
                        const struct virtq_buf *bufs, unsigned out, unsigned in)
{
    unsigned char seen[RT_MAX_NUM] = {0};
    uint16_t idx = head;
    unsigned i;
    for (i = 0; i < out + in; i++) {
        uint16_t want = (uint16_t)((i >= out ? VIRTQ_DESC_F_WRITE : 0u) |
                                   (i + 1u < out + in ? VIRTQ_DESC_F_NEXT : 0u));
        assert_true(idx < size);
        assert_false(seen[idx]);
        seen[idx] = 1;
        assert_int_equal(t[idx].addr, (uint64_t)(uintptr_t)bufs[i].addr);
        assert_int_equal(t[idx].len, bufs[i].len);
        assert_int_equal(t[idx].flags, want);
        idx = t[idx].next;
    }
}

static void test_add_good_path(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[16];
    static int c1, c2, c3, c4;
    void *cookie;
    uint32_t len;
    unsigned i;
    (void)state;
    rt_ring_init(&r, 16, VIRTQ_ALIGN_MODERN, 0);
    rt_dev_attach(&d, &r.vq, 0);
    fill_bufs(b, 16);

    /* 2 readable + 3 writable. */
    assert_int_equal(virtq_add(&r.vq, b, 2, 3, &c1), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 11);
    check_chain(r.vq.desc, 16, r.vq.avail->ring[0], b, 2, 3);
    /* Invisible until published. */
    assert_int_equal(r.vq.avail->idx, 0);
    assert_int_equal(rt_dev_pop(&d, &chain), 0);
    /* Readable only, writable only. */
    assert_int_equal(virtq_add(&r.vq, &b[5], 1, 0, &c2), VIRTQ_OK);
    assert_int_equal(virtq_add(&r.vq, &b[6], 0, 2, &c3), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 8);
    check_chain(r.vq.desc, 16, r.vq.avail->ring[1], &b[5], 1, 0);
    check_chain(r.vq.desc, 16, r.vq.avail->ring[2], &b[6], 0, 2);
    assert_int_equal(r.vq.avail->idx, 0);
    rt_check_freelist(&r.vq);
    /* One publish makes all three visible at once, in order. */
    assert_int_equal(vq_test_publish(&r.vq), 1);
    assert_int_equal(r.vq.avail->idx, 3);
    assert_int_equal(vq_test_publish(&r.vq), 0); /* nothing new */
    assert_int_equal(rt_dev_avail(&d), 3);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_int_equal(chain.nseg, 5);
    assert_int_equal(chain.nout, 2);
    assert_int_equal(chain.wlen, b[2].len + b[3].len + b[4].len);
    for (i = 0; i < 5; i++) {
        assert_int_equal(chain.seg[i].addr, (uint64_t)(uintptr_t)b[i].addr);
        assert_int_equal(chain.seg[i].len, b[i].len);
    }
    rt_dev_use(&d, chain.head, 7);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_int_equal(chain.nseg, 1);
    assert_int_equal(chain.nout, 1);
    rt_dev_use(&d, chain.head, 0);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_int_equal(chain.nseg, 2);
    assert_int_equal(chain.nout, 0);
    rt_dev_use(&d, chain.head, b[6].len + b[7].len);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &c1);
    assert_int_equal(len, 7);
    assert_int_equal(virtq_get(&r.vq, &cookie, NULL), VIRTQ_OK); /* len may be NULL */
    assert_ptr_equal(cookie, &c2);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &c3);
    assert_int_equal(len, b[6].len + b[7].len);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_EAGAIN);
    assert_int_equal(virtq_num_free(&r.vq), 16);
    rt_check_freelist(&r.vq);

    /* A chain as long as the ring. */
    assert_int_equal(virtq_add(&r.vq, b, 7, 9, &c4), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 0);
    check_chain(r.vq.desc, 16, r.vq.avail->ring[3], b, 7, 9);
    rt_check_freelist(&r.vq);
    assert_int_equal(vq_test_publish(&r.vq), 1);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_int_equal(chain.nseg, 16);
    rt_dev_use(&d, chain.head, 1);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &c4);
    assert_int_equal(virtq_num_free(&r.vq), 16);
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

static void test_add_indirect_good_path(void **state)
{
    struct rt_ring r;
    struct rt_dev d;
    struct virtq_buf b[16];
    static struct virtq_desc t2[16] __attribute__((aligned(16)));
    static int c1, c2;
    void *cookie;
    uint32_t len;
    uint16_t head;
    (void)state;
    rt_ring_init(&r, 8, VIRTQ_ALIGN_LEGACY, RT_F_INDIRECT);
    rt_dev_attach(&d, &r.vq, r.features);
    fill_bufs(b, 16);
    memset(table, 0xff, sizeof(table));
    assert_int_equal(virtq_add_indirect(&r.vq, b, 1, 2, table, &c1), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 7);
    head = r.vq.avail->ring[0];
    assert_true(head < 8);
    /* One ring descriptor: exactly INDIRECT (never with NEXT, 2.7.5.3.1),
       pointing at the table, len 16 per entry. */
    assert_int_equal(r.vq.desc[head].flags, VIRTQ_DESC_F_INDIRECT);
    assert_int_equal(r.vq.desc[head].addr, (uint64_t)(uintptr_t)table);
    assert_int_equal(r.vq.desc[head].len, 3 * 16);
    /* The table: readable then writable, NEXT to i + 1. */
    check_chain(table, 3, 0, b, 1, 2);
    assert_int_equal(table[0].next, 1);
    assert_int_equal(table[1].next, 2);
    /* Entries past the request are untouched. */
    assert_int_equal(table[3].flags, 0xffff);
    /* Longer than the ring is refused, as long as the ring is fine. */
    assert_int_equal(virtq_add_indirect(&r.vq, b, 4, 5, t2, &c2), VIRTQ_EINVAL);
    assert_int_equal(virtq_add_indirect(&r.vq, b, 4, 4, t2, &c2), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&r.vq), 6);
    assert_int_equal(r.vq.avail->idx, 0);
    rt_check_freelist(&r.vq);
    assert_int_equal(vq_test_publish(&r.vq), 1);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_true(chain.indirect);
    assert_int_equal(chain.nseg, 3);
    assert_int_equal(chain.wlen, b[1].len + b[2].len);
    rt_dev_use(&d, chain.head, b[1].len + b[2].len);
    assert_int_equal(rt_dev_pop(&d, &chain), 1);
    assert_true(chain.indirect);
    assert_int_equal(chain.nseg, 8);
    assert_int_equal(chain.nout, 4);
    rt_dev_use(&d, chain.head, 3);
    rt_dev_flush(&d);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &c1);
    assert_int_equal(len, b[1].len + b[2].len);
    assert_int_equal(virtq_get(&r.vq, &cookie, &len), VIRTQ_OK);
    assert_ptr_equal(cookie, &c2);
    assert_int_equal(len, 3);
    assert_int_equal(virtq_num_free(&r.vq), 8);
    rt_check_freelist(&r.vq);
    rt_ring_free(&r);
}

int rt_group_add(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_bad_args),
        cmocka_unit_test(test_add_indirect_not_negotiated),
        cmocka_unit_test(test_add_queue_full),
        cmocka_unit_test(test_add_chain_bytes_limit),
        cmocka_unit_test(test_add_4gib_edge),
        cmocka_unit_test(test_broken_queue_refuses),
        cmocka_unit_test(test_add_good_path),
        cmocka_unit_test(test_add_indirect_good_path),
    };
    return cmocka_run_group_tests_name("ring_add", tests, NULL, NULL);
}
