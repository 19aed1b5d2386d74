/* SPDX-License-Identifier: MIT */
/* tests/ring/t_layout.c — ring sizes and layout (virtq_ring_bytes,
   VIRTQ_RING_BYTES, virtq_init) and virtq_strerror. */
#include <stdlib.h>

#include "ring_test.h"

/* The spec's sizes ("Split Virtqueues"): descriptor table 16*n, available
   ring 6+2n (flags, idx, ring[n], used_event), used ring 6+8n (flags, idx,
   ring[n], avail_event).  The used ring starts at the next multiple of the
   alignment; legacy rounds both parts to QueueAlign ("Legacy Interfaces: A
   Note on Virtqueue Layout", virtq_size()). */
static size_t up(size_t x, size_t a) { return (x + a - 1u) / a * a; }
static size_t used_off(size_t n, size_t align) { return up(16u * n + 6u + 2u * n, align); }
static size_t spec_bytes(size_t n, size_t align)
{
    return used_off(n, align) + up(6u + 8u * n, align);
}

/* VIRTQ_RING_BYTES must be an integer constant expression: usable for a
   static array's size and in a compile-time check. */
static unsigned char static_ring[VIRTQ_RING_BYTES(8, VIRTQ_ALIGN_MODERN)]
    __attribute__((aligned(16)));
static unsigned char static_legacy[VIRTQ_RING_BYTES(4, VIRTQ_ALIGN_LEGACY)]
    __attribute__((aligned(4096)));
typedef char rt_ring_bytes_is_constant[VIRTQ_RING_BYTES(8, VIRTQ_ALIGN_MODERN) == 224u ? 1 : -1];
enum { RT_LEGACY_256 = VIRTQ_RING_BYTES(256, VIRTQ_ALIGN_LEGACY) };

static void test_ring_bytes_formula(void **state)
{
    uint32_t n;
    (void)state;
    for (n = 1; n <= VIRTQ_MAX_SIZE; n <<= 1) {
        assert_int_equal(virtq_ring_bytes(n, VIRTQ_ALIGN_MODERN), spec_bytes(n, 4));
        assert_int_equal(virtq_ring_bytes(n, VIRTQ_ALIGN_LEGACY), spec_bytes(n, 4096));
        assert_int_equal(virtq_ring_bytes(n, 8), spec_bytes(n, 8));
        assert_int_equal(virtq_ring_bytes(n, 64), spec_bytes(n, 64));
        assert_int_equal(VIRTQ_RING_BYTES(n, VIRTQ_ALIGN_MODERN), spec_bytes(n, 4));
        assert_int_equal(VIRTQ_RING_BYTES(n, VIRTQ_ALIGN_LEGACY), spec_bytes(n, 4096));
    }
    /* Worked by hand from the formulas above. */
    assert_int_equal(virtq_ring_bytes(1, 4), 40);       /* 16+6 -> 24, 14 -> 16 */
    assert_int_equal(virtq_ring_bytes(8, 4), 224);      /* 150 -> 152, 70 -> 72 */
    assert_int_equal(virtq_ring_bytes(256, 4), 6672);   /* 4614 -> 4616, 2054 -> 2056 */
    assert_int_equal(virtq_ring_bytes(32768, 4), 851984);
    assert_int_equal(virtq_ring_bytes(1, 4096), 8192);  /* one page each */
    assert_int_equal(virtq_ring_bytes(64, 4096), 8192);
    assert_int_equal(virtq_ring_bytes(256, 4096), 12288); /* 2 pages + 1 page */
    assert_int_equal(virtq_ring_bytes(32768, 4096), 860160);
    assert_int_equal(RT_LEGACY_256, 12288);
}

static void test_ring_bytes_invalid(void **state)
{
    static const uint32_t bad_num[] = {0u, 3u, 5u, 6u, 7u, 12u, 100u, 255u, 257u, 1000u, 32767u,
                                       32769u, 65535u, 65536u, 65537u, 131072u, 0x80000000u,
                                       0xffffffffu};
    static const uint32_t bad_align[] = {0u, 1u, 2u, 3u, 5u, 6u, 12u, 100u, 4095u, 4097u,
                                         0x80000001u, 0xffffffffu};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad_num) / sizeof(bad_num[0]); i++) {
        assert_int_equal(virtq_ring_bytes(bad_num[i], VIRTQ_ALIGN_MODERN), 0);
        assert_int_equal(virtq_ring_bytes(bad_num[i], VIRTQ_ALIGN_LEGACY), 0);
    }
    for (i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++) {
        assert_int_equal(virtq_ring_bytes(8, bad_align[i]), 0);
        assert_int_equal(virtq_ring_bytes(32768, bad_align[i]), 0);
    }
    /* The edges that are valid. */
    assert_true(virtq_ring_bytes(1, 4) > 0);
    assert_true(virtq_ring_bytes(32768, 4) > 0);
    assert_true(virtq_ring_bytes(32768, 0x10000u) > 0);
}

static void test_ring_bytes_static_array(void **state)
{
    struct virtq vq;
    struct virtq_slot slots[8], slots4[4];
    size_t i;
    (void)state;
    assert_int_equal(sizeof(static_ring), 224);
    assert_int_equal(sizeof(static_ring), virtq_ring_bytes(8, VIRTQ_ALIGN_MODERN));
    assert_int_equal(sizeof(static_legacy), virtq_ring_bytes(4, VIRTQ_ALIGN_LEGACY));
    assert_int_equal(sizeof(rt_ring_bytes_is_constant), 1);
    memset(static_ring, 0xee, sizeof(static_ring));
    assert_int_equal(virtq_init(&vq, 8, VIRTQ_ALIGN_MODERN, static_ring, slots, 0), VIRTQ_OK);
    for (i = 0; i < sizeof(static_ring); i++)
        assert_int_equal(static_ring[i], 0);
    /* The last field (avail_event) ends inside the array. */
    assert_true((unsigned char *)vq.avail_event + 2 <= static_ring + sizeof(static_ring));
    memset(static_legacy, 0xee, sizeof(static_legacy));
    assert_int_equal(virtq_init(&vq, 4, VIRTQ_ALIGN_LEGACY, static_legacy, slots4, 0), VIRTQ_OK);
    for (i = 0; i < sizeof(static_legacy); i++)
        assert_int_equal(static_legacy[i], 0);
}

static void check_layout(uint32_t n, uint32_t align)
{
    struct rt_ring r;
    unsigned char *base;
    rt_ring_init(&r, n, align, 0);
    base = r.mem;
    assert_ptr_equal(r.vq.desc, base);
    assert_ptr_equal(r.vq.avail, base + 16u * n);
    assert_ptr_equal(r.vq.used, base + used_off(n, align));
    /* "Virtqueue alignment": desc 16, avail 2, used 4 (legacy: QueueAlign). */
    assert_int_equal((uintptr_t)r.vq.desc % 16u, 0);
    assert_int_equal((uintptr_t)r.vq.avail % 2u, 0);
    assert_int_equal((uintptr_t)r.vq.used % align, 0);
    /* used_event follows avail->ring[n], avail_event follows used->ring[n]. */
    assert_ptr_equal(r.vq.used_event, (unsigned char *)r.vq.avail + 4u + 2u * n);
    assert_ptr_equal(r.vq.avail_event, (unsigned char *)r.vq.used + 4u + 8u * n);
    assert_true((unsigned char *)r.vq.used_event + 2 <= (unsigned char *)r.vq.used);
    assert_true((unsigned char *)r.vq.avail_event + 2 <= base + r.bytes);
    assert_int_equal(r.vq.num, n);
    assert_int_equal(virtq_num_free(&r.vq), n);
    assert_int_equal(virtq_is_broken(&r.vq), 0);
    assert_int_equal(virtq_has_used(&r.vq), 0);
    assert_int_equal(rt_check_freelist(&r.vq), 0);
    rt_ring_free(&r);
}

static void test_init_layout(void **state)
{
    uint32_t n;
    (void)state;
    for (n = 1; n <= 4096; n <<= 1) {
        check_layout(n, VIRTQ_ALIGN_MODERN);
        check_layout(n, VIRTQ_ALIGN_LEGACY);
    }
    check_layout(VIRTQ_MAX_SIZE, VIRTQ_ALIGN_MODERN);
    check_layout(VIRTQ_MAX_SIZE, VIRTQ_ALIGN_LEGACY);
}

/* virtq_init zeroes exactly the ring: nothing before, nothing after. */
static void test_init_zeroes_ring(void **state)
{
    static const uint32_t aligns[] = {VIRTQ_ALIGN_MODERN, VIRTQ_ALIGN_LEGACY};
    uint32_t n;
    size_t a, i;
    (void)state;
    for (a = 0; a < 2; a++) {
        for (n = 1; n <= 1024; n <<= 2) {
            size_t bytes = virtq_ring_bytes(n, aligns[a]);
            size_t pad = 4096;
            unsigned char *blk = rt_aligned_alloc(4096, pad + bytes + pad);
            struct virtq_slot *slots = malloc(sizeof(*slots) * n);
            struct virtq vq;
            assert_non_null(slots);
            memset(blk, 0x77, pad + bytes + pad);
            memset(slots, 0x5a, sizeof(*slots) * n);
            assert_int_equal(virtq_init(&vq, n, aligns[a], blk + pad, slots, RT_F_EVENT_IDX),
                             VIRTQ_OK);
            for (i = 0; i < pad; i++)
                assert_int_equal(blk[i], 0x77);
            for (i = 0; i < bytes; i++)
                assert_int_equal(blk[pad + i], 0);
            for (i = 0; i < pad; i++)
                assert_int_equal(blk[pad + bytes + i], 0x77);
            /* Private state: every slot free, no cookies. */
            for (i = 0; i < n; i++)
                assert_null(slots[i].cookie);
            assert_int_equal(rt_check_freelist(&vq), 0);
            free(slots);
            rt_aligned_free(blk);
        }
    }
}

/* A failed virtq_init changes nothing: not the struct, memory or slots. */
static void expect_init_fails(int want, struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                              size_t mem_len, struct virtq_slot *slots, uint64_t features)
{
    static struct virtq before;
    static unsigned char mem_before[16384];
    static struct virtq_slot slots_before[16];
    assert_true(mem_len <= sizeof(mem_before));
    if (vq)
        memcpy(&before, vq, sizeof(before));
    if (mem)
        memcpy(mem_before, mem, mem_len);
    if (slots)
        memcpy(slots_before, slots, sizeof(slots_before));
    assert_int_equal(virtq_init(vq, num, align, mem, slots, features), want);
    if (vq)
        assert_memory_equal(&before, vq, sizeof(before));
    if (mem)
        assert_memory_equal(mem_before, mem, mem_len);
    if (slots)
        assert_memory_equal(slots_before, slots, sizeof(slots_before));
}

static void test_init_bad_args(void **state)
{
    unsigned char *mem = rt_aligned_alloc(4096, 16384);
    struct virtq_slot slots[16];
    struct virtq vq;
    (void)state;
    memset(mem, 0x3c, 16384);
    memset(slots, 0x5a, sizeof(slots));
    memset(&vq, 0xc3, sizeof(vq));
    expect_init_fails(VIRTQ_EINVAL, NULL, 16, 4, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4, NULL, 0, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4, mem, 4096, NULL, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 0, 4, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 12, 4, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 65536, 4, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 0, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 2, mem, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4095, mem, 4096, slots, 0);
    /* Misaligned memory: the descriptor table needs 16 bytes ("Virtqueue
       alignment"), a legacy ring the whole QueueAlign. */
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4, mem + 1, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4, mem + 4, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 16, 4, mem + 8, 4096, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 4, 4096, mem + 16, 8192, slots, 0);
    expect_init_fails(VIRTQ_EINVAL, &vq, 4, 4096, mem + 2048, 8192, slots, 0);
    /* Packed rings are not supported, whatever else is negotiated. */
    expect_init_fails(VIRTQ_ENOTSUP, &vq, 16, 4, mem, 4096, slots, RT_F_PACKED);
    expect_init_fails(VIRTQ_ENOTSUP, &vq, 16, 4, mem, 4096, slots,
                      RT_F_PACKED | RT_F_EVENT_IDX | RT_F_INDIRECT |
                          VIRTQ_FEATURE(VIRTIO_F_VERSION_1));
    /* And the good calls right next to them work: modern on a 16-aligned
       address that is not page aligned, legacy on a page. */
    assert_int_equal(virtq_init(&vq, 16, 4, mem + 16, slots, 0), VIRTQ_OK);
    assert_int_equal(virtq_init(&vq, 4, 4096, mem + 4096, slots,
                                RT_F_EVENT_IDX | RT_F_INDIRECT | RT_F_ORDER_PLATFORM |
                                    VIRTQ_FEATURE(VIRTIO_F_VERSION_1)),
                     VIRTQ_OK);
    assert_int_equal(virtq_num_free(&vq), 4);
    rt_aligned_free(mem);
}

/* Calls on a queue that virtq_init never set up (zeroed struct) fail
   cleanly instead of touching memory. */
static void test_uninitialised_queue(void **state)
{
    struct virtq vq;
    unsigned char byte;
    struct virtq_buf b = {&byte, 1};
    void *cookie = &byte;
    (void)state;
    memset(&vq, 0, sizeof(vq));
    assert_int_equal(virtq_add(&vq, &b, 1, 0, &byte), VIRTQ_EINVAL);
    assert_int_equal(vq_test_publish(&vq), VIRTQ_EINVAL);
    assert_int_equal(virtq_get(&vq, &cookie, NULL), VIRTQ_EINVAL);
    /* Questions on an unusable queue answer "go to virtq_get", which
       reports VIRTQ_EINVAL; the re-arm writes nothing. */
    assert_true(virtq_has_used(&vq));
    assert_true(virtq_enable_intr(&vq));
    assert_true(virtq_enable_intr_delayed(&vq));
    assert_false(virtq_is_broken(&vq));
    assert_int_equal(virtq_detach(&vq, &cookie), VIRTQ_EINVAL);
    virtq_disable_intr(&vq);
    assert_ptr_equal(cookie, &byte);
    /* NULL queues everywhere. */
    assert_int_equal(virtq_add(NULL, &b, 1, 0, &byte), VIRTQ_EINVAL);
    assert_int_equal(virtq_add_indirect(NULL, &b, 1, 0, NULL, &byte), VIRTQ_EINVAL);
    assert_int_equal(vq_test_publish(NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_get(NULL, &cookie, NULL), VIRTQ_EINVAL);
    assert_true(virtq_has_used(NULL));
    assert_true(virtq_enable_intr(NULL));
    assert_true(virtq_enable_intr_delayed(NULL));
    assert_int_equal(virtq_detach(NULL, &cookie), VIRTQ_EINVAL);
    assert_int_equal(virtq_num_free(NULL), 0);
    assert_int_equal(virtq_is_broken(NULL), 1);
    virtq_disable_intr(NULL);
    virtq_break(NULL);
}

/* This binary builds virtq with the default VIRTQ_WAIT (SPIN only): asking
   a device for a strategy that is not built in is VIRTQ_ENOTSUP and
   changes nothing.  A plain array stands in for the register file. */
static void test_wait_not_built_in(void **state)
{
    static uint32_t regs[64] __attribute__((aligned(16)));
    struct virtq_dev dev;
    int ctx;
    (void)state;
    regs[VIRTIO_MMIO_MAGIC_VALUE / 4] = VIRTIO_MMIO_MAGIC;
    regs[VIRTIO_MMIO_VERSION / 4] = 2;
    regs[VIRTIO_MMIO_DEVICE_ID / 4] = VIRTIO_ID_BLOCK;
    assert_int_equal(virtq_mmio_probe(&dev, (uintptr_t)regs), VIRTQ_OK);
    assert_int_equal(dev.wait, VIRTQ_WAIT_SPIN);
    assert_int_equal(virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL), VIRTQ_ENOTSUP);
    assert_int_equal(virtq_dev_set_wait(&dev, VIRTQ_WAIT_OS, &ctx), VIRTQ_ENOTSUP);
    assert_int_equal(virtq_dev_set_wait(&dev, VIRTQ_WAIT_CUSTOM, NULL), VIRTQ_ENOTSUP);
    assert_int_equal(dev.wait, VIRTQ_WAIT_SPIN);
    assert_null(dev.os_ctx);
    assert_int_equal(virtq_dev_set_wait(&dev, VIRTQ_WAIT_SPIN, NULL), VIRTQ_OK);
}

static void test_strerror(void **state)
{
    static const int codes[] = {VIRTQ_OK,     VIRTQ_EINVAL,    VIRTQ_ENOSPC, VIRTQ_EAGAIN,
                                VIRTQ_EBROKEN, VIRTQ_ETIMEDOUT, VIRTQ_ENOTSUP, VIRTQ_ENODEV,
                                VIRTQ_EIO,    VIRTQ_EBUSY};
    static const int unknown[] = {1, 2, -10, -11, -100, 0x7fffffff, -0x7fffffff - 1};
    const char *unk = virtq_strerror(-12345);
    size_t i, j;
    (void)state;
    assert_non_null(unk);
    /* Codes are distinct negative numbers (OK is 0). */
    for (i = 0; i < 10; i++) {
        assert_true(codes[i] == 0 ? i == 0 : codes[i] < 0);
        for (j = 0; j < i; j++)
            assert_true(codes[i] != codes[j]);
    }
    /* Each code has its own non-empty name, different from "unknown". */
    for (i = 0; i < 10; i++) {
        const char *s = virtq_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, unk);
        for (j = 0; j < i; j++)
            assert_string_not_equal(s, virtq_strerror(codes[j]));
    }
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_string_equal(virtq_strerror(unknown[i]), unk);
    /* The names say what the code means. */
    assert_non_null(strstr(virtq_strerror(VIRTQ_EINVAL), "invalid"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_ENOSPC), "free"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_EBROKEN), "broken"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_ETIMEDOUT), "timed out"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_ENOTSUP), "not supported"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_ENODEV), "device"));
    assert_non_null(strstr(virtq_strerror(VIRTQ_EBUSY), "busy"));
    assert_non_null(strstr(unk, "unknown"));
}

int rt_group_layout(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_bytes_formula),
        cmocka_unit_test(test_ring_bytes_invalid),
        cmocka_unit_test(test_ring_bytes_static_array),
        cmocka_unit_test(test_init_layout),
        cmocka_unit_test(test_init_zeroes_ring),
        cmocka_unit_test(test_init_bad_args),
        cmocka_unit_test(test_uninitialised_queue),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_wait_not_built_in),
    };
    return cmocka_run_group_tests_name("ring_layout", tests, NULL, NULL);
}
