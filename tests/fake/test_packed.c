/* SPDX-License-Identifier: MIT */
/* The device side of the packed ring ("Packed Virtqueues"), driven by a
   hand-rolled packed driver that can do the right thing or, on purpose,
   the wrong one: each check of the fake is shown to fire. */
#define _POSIX_C_SOURCE 200809L
#include "minidrv.h"

#define F_PACKED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_IND VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define F_NDATA VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)
#define AV VIRTQ_DESC_F_AVAIL
#define US VIRTQ_DESC_F_USED
#define WR VIRTQ_DESC_F_WRITE
#define NX VIRTQ_DESC_F_NEXT
#define IND VIRTQ_DESC_F_INDIRECT

/* ---- the packed driver ---------------------------------------------------- */

struct pd {
    struct md m;
    uint16_t num;
    uint8_t *mem;
    struct pvirtq_desc *desc;
    struct pvirtq_event_suppress *drv, *dev;
    uint16_t next, used; /* positions */
    int wrap, used_wrap; /* Driver Ring Wrap Counter; the used side's */
    uint16_t nd[64];     /* descriptors per Buffer ID */
};

struct seg {
    const void *a;
    uint32_t len;
    uint16_t flags; /* WR, IND */
};

static uint16_t avail_pair(int wrap)
{
    return wrap ? AV : US;
}

static void step(uint16_t *pos, int *wrap, uint16_t num)
{
    if (++*pos == num) {
        *pos = 0;
        *wrap = !*wrap;
    }
}

/* Queue 0 over fresh zeroed memory at the given misalignment of the
   descriptor ring (0: aligned); 1 when QueueReady reads back 1. */
static int pd_queue(struct pd *p, uint16_t num, unsigned skew)
{
    size_t bytes = 16u * num + 8u + 16u;
    void *mem = NULL;
    uint8_t *b;
    assert_int_equal(posix_memalign(&mem, 16, bytes), 0);
    memset(mem, 0, bytes);
    p->mem = mem;
    b = (uint8_t *)mem + skew;
    p->num = num;
    p->desc = (struct pvirtq_desc *)(void *)b;
    p->drv = (struct pvirtq_event_suppress *)(void *)(b + 16u * num);
    p->dev = (struct pvirtq_event_suppress *)(void *)(b + 16u * num + 4u);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_SEL, 0);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_NUM, num);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)p->desc);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)p->desc >> 32));
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)p->drv);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)p->drv >> 32));
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)p->dev);
    md_w(&p->m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)p->dev >> 32));
    md_w(&p->m, VIRTIO_MMIO_QUEUE_READY, 1);
    p->next = p->used = 0;
    p->wrap = p->used_wrap = 1;
    return md_r(&p->m, VIRTIO_MMIO_QUEUE_READY) == 1;
}

static void pd_init(struct pd *p, struct virtq_fake_dev *d, uint64_t want, uint16_t num)
{
    memset(p, 0, sizeof *p);
    md_begin(&p->m, virtq_fake_base(d));
    assert_true(p->m.offered & F_PACKED);
    assert_true(md_features(&p->m, (want | F_PACKED | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)) & p->m.offered));
    assert_true(pd_queue(p, num, 0));
    md_status(&p->m, VIRTIO_STATUS_DRIVER_OK);
}

static void pd_free(struct pd *p)
{
    free(p->mem);
    p->mem = NULL;
}

static void pd_desc(struct pd *p, uint16_t pos, const void *a, uint32_t len, uint16_t id)
{
    p->desc[pos].addr = (uint64_t)(uintptr_t)a;
    p->desc[pos].len = len;
    p->desc[pos].id = id;
}

static void pd_flags(struct pd *p, uint16_t pos, uint16_t flags)
{
    __atomic_store_n(&p->desc[pos].flags, flags, __ATOMIC_RELEASE);
}

/* Make a list available the right way (the first descriptor last). */
static void pd_add(struct pd *p, const struct seg *s, unsigned n, uint16_t id)
{
    uint16_t head = p->next, hf = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        uint16_t f = (uint16_t)(avail_pair(p->wrap) | s[i].flags | (i + 1 < n ? NX : 0));
        pd_desc(p, p->next, s[i].a, s[i].len, id);
        if (i == 0)
            hf = f;
        else
            pd_flags(p, p->next, f);
        step(&p->next, &p->wrap, p->num);
    }
    pd_flags(p, head, hf);
    p->nd[id] = (uint16_t)n;
}

static void pd_add1(struct pd *p, const void *a, uint32_t len, uint16_t flags, uint16_t id)
{
    struct seg s = {a, len, flags};
    pd_add(p, &s, 1, id);
}

/* Take one used descriptor: 1 and its id, len and flags, or 0. */
static int pd_get(struct pd *p, uint16_t *id, uint32_t *len, uint16_t *flags)
{
    uint16_t f = __atomic_load_n(&p->desc[p->used].flags, __ATOMIC_ACQUIRE), k;
    uint16_t want = p->used_wrap ? (uint16_t)(AV | US) : 0u;
    if ((f & (AV | US)) != want)
        return 0;
    *id = p->desc[p->used].id;
    *len = p->desc[p->used].len;
    if (flags)
        *flags = f;
    assert_true(*id < 64 && p->nd[*id] > 0);
    for (k = 0; k < p->nd[*id]; k++)
        step(&p->used, &p->used_wrap, p->num);
    return 1;
}

static uint8_t buf[4096];
static uint8_t table_mem[16 * 8] __attribute__((aligned(16)));

static struct virtq_fake_dev *packed_plain(uint64_t features, uint16_t qmax)
{
    return plain_dev(2, features | F_PACKED, qmax);
}

/* A model-less device, the driver up over num descriptors. */
static struct virtq_fake_dev *plain_up(struct pd *p, uint64_t features, uint16_t num)
{
    struct virtq_fake_dev *d = packed_plain(features, 16);
    assert_non_null(d);
    pd_init(p, d, features, num);
    assert_clean();
    return d;
}

static void plain_down(struct virtq_fake_dev *d, struct pd *p)
{
    virtq_fake_destroy(d);
    pd_free(p);
}

/* The queue is latched broken: DEVICE_NEEDS_RESET and nothing served. */
static void expect_broken(struct virtq_fake_dev *d)
{
    assert_true(virtq_fake_status(d) & VIRTIO_STATUS_NEEDS_RESET);
}

/* ---- the device playing it right ------------------------------------------ */

static struct virtq_fake_dev *packed_blk(uint64_t features, uint8_t *disk, size_t bytes)
{
    struct virtq_fake_blk_params bp;
    memset(&bp, 0, sizeof bp);
    bp.version = 2;
    bp.image = disk;
    bp.image_bytes = bytes;
    bp.features = features | F_PACKED;
    bp.queue_num_max = 16;
    return virtq_fake_blk_create(&bp);
}

/* blk I/O over a ring of 5 (not a power of 2) for several laps: lists of
   3, indirect tables, used descriptors with the device's wrap counter. */
static void packed_blk_io(void **state)
{
    static uint8_t disk[16 * 512];
    struct virtq_fake_dev *d;
    struct virtq_fake_stats fs;
    struct pd p;
    unsigned i;
    int irqs = 0;
    (void)state;
    for (i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i / 512 + 1);
    d = packed_blk(F_IND, disk, sizeof disk);
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    pd_init(&p, d, F_IND, 5);
    for (i = 0; i < 12; i++) {
        struct md_blk r = {{VIRTIO_BLK_T_IN, 0, i % 16}, 0xff};
        uint16_t id = (uint16_t)(i % 3), uid = 0xffff, uf = 0;
        uint32_t ulen = 0;
        memset(buf, 0, 512);
        if (i % 2 == 0) {
            struct seg s[3] = {{&r.hdr, sizeof r.hdr, 0}, {buf, 512, WR}, {&r.status, 1, WR}};
            pd_add(&p, s, 3, id);
        } else {
            struct pvirtq_desc *t = (struct pvirtq_desc *)(void *)table_mem;
            memset(table_mem, 0, sizeof table_mem);
            t[0] = (struct pvirtq_desc){(uint64_t)(uintptr_t)&r.hdr, sizeof r.hdr, 0, 0};
            t[1] = (struct pvirtq_desc){(uint64_t)(uintptr_t)buf, 512, 0, WR};
            t[2] = (struct pvirtq_desc){(uint64_t)(uintptr_t)&r.status, 1, 0, WR};
            pd_add1(&p, table_mem, 3 * 16, IND, id);
        }
        md_notify(&p.m, 0);
        assert_true(pd_get(&p, &uid, &ulen, &uf));
        assert_int_equal(uid, id);
        assert_int_equal(ulen, 513);
        assert_true(uf & WR); /* "Write Flag": data was written */
        assert_int_equal(r.status, VIRTIO_BLK_S_OK);
        assert_int_equal(buf[0], i % 16 + 1);
        assert_int_equal(buf[511], i % 16 + 1);
    }
    assert_int_equal(irqs, 12);
    virtq_fake_get_stats(d, &fs);
    assert_int_equal(fs.q[0].popped, 12);
    assert_int_equal(fs.q[0].indirect, 6);
    assert_int_equal(fs.q[0].max_chain, 3);
    assert_int_equal(p.used, p.next);
    assert_int_equal(p.used_wrap, p.wrap);
    assert_clean();
    virtq_fake_destroy(d);
    pd_free(&p);
}

/* Used descriptors go out in completion order, each at the next used
   position, the ring lapping while buffers stay in flight. */
static void packed_out_of_order(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    uint16_t id, f;
    uint32_t len;
    unsigned lap;
    (void)state;
    virtq_fake_set_mode(d, VIRTQ_FAKE_REVERSED, 1);
    for (lap = 0; lap < 5; lap++) {
        struct seg two[2] = {{buf, 8, 0}, {buf + 8, 8, 0}};
        pd_add(&p, two, 2, 10);
        pd_add1(&p, buf, 8, 0, 11);
        md_notify(&p.m, 0);
        assert_int_equal(virtq_fake_pending(d, 0), 2);
        assert_int_equal(pd_get(&p, &id, &len, NULL), 0);
        assert_int_equal(virtq_fake_step(d, 0, 1), 1);
        /* Newest first: id 11 written where the 2-descriptor list began;
           the driver skips 1 (id 11's length), the device its own 1. */
        assert_true(pd_get(&p, &id, &len, &f));
        assert_int_equal(id, 11);
        assert_int_equal(f & WR, 0); /* len 0: nothing written */
        assert_int_equal(virtq_fake_step(d, 0, -1), 1);
        assert_true(pd_get(&p, &id, &len, NULL));
        assert_int_equal(id, 10);
        assert_int_equal(pd_get(&p, &id, &len, NULL), 0);
        /* used and next positions agree again (3 per lap on a ring of 4) */
        assert_int_equal(p.used, p.next);
        {
            struct virtq_fake_packed_view v;
            uint16_t pw = (uint16_t)(p.next | (p.wrap ? 0x8000u : 0u));
            assert_int_equal(virtq_fake_packed_view(d, 0, &v), 0);
            assert_ptr_equal(v.desc, p.desc);
            assert_ptr_equal(v.driver, p.drv);
            assert_ptr_equal(v.device, p.dev);
            assert_int_equal(v.num, 4);
            assert_int_equal(v.next_avail, pw);
            assert_int_equal(v.next_used, pw);
        }
    }
    assert_clean();
    plain_down(d, &p);
}

/* ---- offering the packed ring ---------------------------------------------- */

static void packed_offered_on_request(void **state)
{
    struct virtq_fake_dev *d;
    struct md m;
    (void)state;
    d = plain_dev(2, 0, 8);
    md_begin(&m, virtq_fake_base(d));
    assert_false(m.offered & F_PACKED); /* not unless asked */
    virtq_fake_destroy(d);
    assert_int_equal(setenv("VIRTQ_FAKE_RING", "packed", 1), 0);
    d = plain_dev(2, 0, 8);
    md_begin(&m, virtq_fake_base(d));
    assert_true(m.offered & F_PACKED);
    /* The knob requires it: FEATURES_OK without it does not stick. */
    assert_false(md_features(&m, VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    md_begin(&m, virtq_fake_base(d));
    assert_true(md_features(&m, VIRTQ_FEATURE(VIRTIO_F_VERSION_1) | F_PACKED));
    virtq_fake_destroy(d);
    d = plain_dev(1, 0, 8); /* legacy: 32 feature bits, never packed */
    md_begin(&m, virtq_fake_base(d));
    assert_false(m.offered & F_PACKED);
    virtq_fake_destroy(d);
    assert_int_equal(unsetenv("VIRTQ_FAKE_RING"), 0);
    assert_clean();
}

/* ---- setup: "Structure Size and Alignment", zeroed ring ------------------- */

static void packed_setup_rules(void **state)
{
    struct virtq_fake_dev *d = packed_plain(0, 16);
    struct pd p;
    (void)state;
    memset(&p, 0, sizeof p);
    md_begin(&p.m, virtq_fake_base(d));
    assert_true(md_features(&p.m, F_PACKED | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    /* A ring of 6 is fine packed (a split one would be reported). */
    assert_false(pd_queue(&p, 6, 8)); /* descriptor ring 8-aligned */
    assert_violation("Driver Requirements: Virtqueues", "misaligned");
    pd_free(&p);
    memset(&p, 0, sizeof p);
    md_begin(&p.m, virtq_fake_base(d));
    assert_true(md_features(&p.m, F_PACKED | VIRTQ_FEATURE(VIRTIO_F_VERSION_1)));
    md_w(&p.m, VIRTIO_MMIO_QUEUE_SEL, 0);
    {
        /* The same ring with a stale descriptor 2 left in it. */
        size_t bytes = 16u * 6 + 8u;
        void *mem = NULL;
        assert_int_equal(posix_memalign(&mem, 16, bytes), 0);
        memset(mem, 0, bytes);
        ((struct pvirtq_desc *)mem)[2].flags = AV;
        md_w(&p.m, VIRTIO_MMIO_QUEUE_NUM, 6);
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)mem);
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)mem >> 32));
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)((uintptr_t)mem + 96));
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)((uintptr_t)mem + 96) >> 32));
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)((uintptr_t)mem + 100));
        md_w(&p.m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)((uintptr_t)mem + 100) >> 32));
        md_w(&p.m, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_violation("The Virtqueue Descriptor Format", "descriptor 2 is not zero");
        free(mem);
    }
    virtq_fake_destroy(d);
    /* Good setup of a ring of 6: clean. */
    d = packed_plain(0, 16);
    pd_init(&p, d, 0, 6);
    assert_clean();
    plain_down(d, &p);
}

/* ---- lists ------------------------------------------------------------------- */

/* The first descriptor made available before the rest of its list. */
static void packed_head_first(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 8);
    (void)state;
    pd_desc(&p, 0, buf, 8, 1);
    pd_desc(&p, 1, buf + 8, 8, 1);
    pd_flags(&p, 0, (uint16_t)(AV | NX)); /* head available... */
    md_notify(&p.m, 0);                     /* ...and seen before its second one */
    assert_violation("Driver Requirements: Scatter-Gather Support", "descriptor 1, number 2 of the list at 0",
                     "MUST NOT make the first descriptor available before");
    expect_broken(d);
    plain_down(d, &p);
}

/* AVAIL and USED both 1 on the first lap: "used" where the device used
   nothing (a driver whose wrap counter is inverted writes exactly that
   for the second lap). */
static void packed_wrap_contradiction(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    uint16_t id;
    uint32_t len;
    (void)state;
    pd_add1(&p, buf, 8, 0, 0); /* one good lap entry first */
    md_notify(&p.m, 0);
    assert_true(pd_get(&p, &id, &len, NULL));
    pd_desc(&p, 1, buf, 8, 1);
    pd_flags(&p, 1, (uint16_t)(AV | US));
    md_notify(&p.m, 0);
    assert_violation("Driver and Device Ring Wrap Counters", "descriptor 1", "contradict");
    expect_broken(d);
    plain_down(d, &p);
}

static void packed_list_too_long(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    uint16_t i;
    (void)state;
    for (i = 0; i < 4; i++) {
        pd_desc(&p, i, buf, 8, 0);
        pd_flags(&p, i, (uint16_t)(AV | NX)); /* NEXT on every one: no end */
    }
    md_notify(&p.m, 0);
    assert_violation("Driver Requirements: Scatter-Gather Support", "longer than Queue Size 4");
    expect_broken(d);
    plain_down(d, &p);
}

/* More descriptors made available than the ring has free: the new list
   overwrites one the device took and has not used. */
static void packed_overrun(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    (void)state;
    virtq_fake_set_mode(d, VIRTQ_FAKE_DEFERRED, 1);
    pd_add1(&p, buf, 8, 0, 0);
    pd_add1(&p, buf, 8, 0, 1);
    pd_add1(&p, buf, 8, 0, 2);
    md_notify(&p.m, 0);
    pd_add1(&p, buf, 8, 0, 3); /* the fourth: the ring is full, fine */
    md_notify(&p.m, 0);
    assert_clean();
    pd_add1(&p, buf, 8, 0, 4); /* over id 0's descriptor, not used yet */
    md_notify(&p.m, 0);
    assert_violation("Driver Requirements: Scatter-Gather Support", "does not fit", "enough space");
    expect_broken(d);
    plain_down(d, &p);
}

static void packed_element_rules(void **state)
{
    static const struct {
        const void *a;
        uint32_t len;
        const char *what;
    } bad[] = {{buf, 0, "length 0"}, {NULL, 8, "address 0"}};
    unsigned i;
    (void)state;
    for (i = 0; i < 2; i++) {
        struct pd p;
        struct virtq_fake_dev *d = plain_up(&p, 0, 4);
        struct seg s[2] = {{buf, 8, 0}, {bad[i].a, bad[i].len, WR}};
        pd_add(&p, s, 2, 0);
        md_notify(&p.m, 0);
        assert_violation("Element Address and Length", "descriptor 1", bad[i].what);
        expect_broken(d);
        plain_down(d, &p);
    }
}

static void packed_readable_after_writable(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    struct seg s[2] = {{buf, 8, WR}, {buf + 8, 8, 0}};
    (void)state;
    pd_add(&p, s, 2, 0);
    md_notify(&p.m, 0);
    assert_violation("Driver Requirements: Scatter-Gather Support", "device-readable descriptor 1 after");
    expect_broken(d);
    plain_down(d, &p);
}

/* ---- indirect tables in packed form ---------------------------------------- */

static void indirect_case(uint64_t features, int which, const char *sec, const char *frag)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, features, 4);
    struct pvirtq_desc *t = (struct pvirtq_desc *)(void *)table_mem;
    memset(table_mem, 0, sizeof table_mem);
    t[0] = (struct pvirtq_desc){(uint64_t)(uintptr_t)buf, 8, 0, 0};
    t[1] = (struct pvirtq_desc){(uint64_t)(uintptr_t)buf + 8, 8, 0, WR};
    switch (which) {
    case 0: /* plain, valid with the feature */
    case 1: pd_add1(&p, table_mem, 32, IND, 0); break;
    case 2: { /* INDIRECT with NEXT */
        struct seg s[2] = {{table_mem, 32, IND}, {buf, 8, WR}};
        pd_add(&p, s, 2, 0);
        break;
    }
    case 3: { /* INDIRECT after a NEXT */
        struct seg s[2] = {{buf, 8, 0}, {table_mem, 32, IND}};
        pd_add(&p, s, 2, 0);
        break;
    }
    case 4: /* NEXT inside the table */
        t[0].flags = NX;
        pd_add1(&p, table_mem, 32, IND, 0);
        break;
    case 5: /* a length that is no whole number of entries */
        pd_add1(&p, table_mem, 24, IND, 0);
        break;
    default: fail();
    }
    md_notify(&p.m, 0);
    if (sec == NULL) {
        uint16_t id;
        uint32_t len;
        assert_clean();
        assert_true(pd_get(&p, &id, &len, NULL));
    } else {
        assert_violation(sec, frag);
        expect_broken(d);
    }
    plain_down(d, &p);
}

static void packed_indirect_rules(void **state)
{
    (void)state;
    indirect_case(F_IND, 0, NULL, NULL);
    indirect_case(0, 1, "Driver Requirements: Indirect Descriptors", "VIRTIO_F_INDIRECT_DESC was not negotiated");
    indirect_case(F_IND, 2, "Driver Requirements: Indirect Descriptors", "in a list linked by VIRTQ_DESC_F_NEXT");
    indirect_case(F_IND, 3, "Driver Requirements: Indirect Descriptors", "descriptor 1 sets VIRTQ_DESC_F_INDIRECT");
    indirect_case(F_IND, 4, "Driver Requirements: Indirect Descriptors", "indirect descriptor 0 (table");
    indirect_case(F_IND, 5, "Indirect Flag: Scatter-Gather Support", "of 24 bytes");
}

/* ---- Buffer IDs and descriptors in flight ---------------------------------- */

static void packed_id_in_flight(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    (void)state;
    virtq_fake_set_mode(d, VIRTQ_FAKE_DEFERRED, 1);
    pd_add1(&p, buf, 8, 0, 7);
    md_notify(&p.m, 0);
    assert_int_equal(virtq_fake_step(d, 0, -1), 1); /* used: 7 is free again */
    pd_add1(&p, buf, 8, 0, 7);
    md_notify(&p.m, 0);
    assert_clean();
    pd_add1(&p, buf, 8, 0, 7); /* still in flight */
    md_notify(&p.m, 0);
    assert_violation("Placing Available Buffers Into The Descriptor Ring", "Buffer ID 7",
                     "while still in flight");
    expect_broken(d);
    plain_down(d, &p);
}

/* "A driver MUST NOT change a descriptor after changing the
   VIRTQ_DESC_F_AVAIL bit": the device finds it changed when it uses it. */
static void packed_changed_in_flight(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    (void)state;
    virtq_fake_set_mode(d, VIRTQ_FAKE_DEFERRED, 1);
    pd_add1(&p, buf, 8, 0, 0);
    md_notify(&p.m, 0);
    pd_flags(&p, 0, 0); /* taken back: not the driver's to touch */
    assert_int_equal(virtq_fake_step(d, 0, -1), 1);
    assert_violation("Driver Requirements: The Virtqueue Descriptor Table", "descriptor 0 changed");
    plain_down(d, &p);
}

/* ---- used buffer notifications: the Driver Event Suppression structure ---- */

static void packed_driver_event_flags(void **state)
{
    static const struct {
        uint64_t features;
        uint16_t flags;
        const char *frag;
    } bad[] = {{0, RING_EVENT_FLAGS_DESC, "without VIRTIO_F_RING_EVENT_IDX"},
               {F_EVENT, 3, "the value 3 is reserved"},
               {0, 0x10, "reserved bits set"}};
    unsigned i;
    (void)state;
    for (i = 0; i < 3; i++) {
        struct pd p;
        struct virtq_fake_dev *d = plain_up(&p, bad[i].features, 4);
        int irqs = 0;
        virtq_fake_set_irq_callback(d, count_irq, &irqs);
        p.drv->flags = bad[i].flags;
        pd_add1(&p, buf, 8, 0, 0);
        md_notify(&p.m, 0);
        assert_violation("Event Suppression Structure Format", bad[i].frag);
        assert_int_equal(irqs, 1); /* the safe side: interrupt */
        plain_down(d, &p);
    }
}

/* ENABLE, DISABLE and (EVENT_IDX) DESC: an interrupt exactly when a used
   descriptor covers the event position, a list's skipped ones included. */
static void packed_used_suppression(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, F_EVENT, 8);
    struct virtq_fake_stats st;
    uint16_t id;
    uint32_t len;
    int irqs = 0, i;
    (void)state;
    virtq_fake_set_irq_callback(d, count_irq, &irqs);
    pd_add1(&p, buf, 8, 0, 0); /* ENABLE (0) */
    md_notify(&p.m, 0);
    assert_int_equal(irqs, 1);
    p.drv->flags = RING_EVENT_FLAGS_DISABLE;
    pd_add1(&p, buf, 8, 0, 1);
    md_notify(&p.m, 0);
    assert_int_equal(irqs, 1);
    virtq_fake_get_stats(d, &st);
    assert_int_equal(st.q[0].irqs_suppressed, 1);
    /* Event at position 4 (wrap 1): lists at 2 and 3 pass, the one
       covering 3..4 fires. */
    p.drv->desc = (uint16_t)(4u | 0x8000u);
    p.drv->flags = RING_EVENT_FLAGS_DESC;
    for (i = 0; i < 2; i++) {
        pd_add1(&p, buf, 8, 0, (uint16_t)(2 + i));
        md_notify(&p.m, 0);
    }
    assert_int_equal(irqs, 1);
    {
        struct seg two[2] = {{buf, 8, 0}, {buf, 8, 0}};
        pd_add(&p, two, 2, 4); /* positions 4 and 5 */
        md_notify(&p.m, 0);
    }
    assert_int_equal(irqs, 2);
    /* The same offset with the other wrap counter is the next lap's. */
    p.drv->desc = 6u; /* wrap 0 */
    pd_add1(&p, buf, 8, 0, 5);
    md_notify(&p.m, 0);
    assert_int_equal(irqs, 2);
    while (pd_get(&p, &id, &len, NULL))
        ;
    assert_clean();
    plain_down(d, &p);
}

/* ---- available buffer notifications: the Device Event Suppression ---------- */

static void packed_device_event(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, 0, 4);
    int i;
    (void)state;
    assert_int_equal(p.dev->flags, RING_EVENT_FLAGS_ENABLE);
    virtq_fake_suppress_notify(d, 0, 1);
    assert_int_equal(p.dev->flags, RING_EVENT_FLAGS_DISABLE);
    /* Suppressed, the device still polls. */
    pd_add1(&p, buf, 8, 0, 0);
    assert_int_equal(virtq_fake_poll(d, 0), 1);
    virtq_fake_suppress_notify(d, 0, 0);
    assert_int_equal(p.dev->flags, RING_EVENT_FLAGS_ENABLE);
    plain_down(d, &p);
    /* EVENT_IDX: "notify when the descriptor I read next is made
       available", its position and wrap counter. */
    d = plain_up(&p, F_EVENT, 4);
    assert_int_equal(p.dev->flags, RING_EVENT_FLAGS_DESC);
    assert_int_equal(p.dev->desc, 0x8000u);
    for (i = 0; i < 5; i++) {
        pd_add1(&p, buf, 8, 0, (uint16_t)i);
        md_notify(&p.m, 0);
    }
    assert_int_equal(p.dev->desc, 1u); /* position 1, wrap 0 */
    virtq_fake_suppress_notify(d, 0, 1);
    assert_int_equal(p.dev->flags, RING_EVENT_FLAGS_DISABLE);
    assert_clean();
    plain_down(d, &p);
}

/* VIRTIO_F_NOTIFICATION_DATA: next_off and next_wrap name the next
   descriptor not yet made available. */
static void packed_notification_data(void **state)
{
    struct pd p;
    struct virtq_fake_dev *d = plain_up(&p, F_NDATA, 4);
    int i;
    (void)state;
    for (i = 0; i < 5; i++) {
        pd_add1(&p, buf, 8, 0, (uint16_t)i);
        md_notify(&p.m, (uint32_t)(p.next | (p.wrap ? 0x8000u : 0u)) << 16);
    }
    assert_clean();
    pd_add1(&p, buf, 8, 0, 9);
    assert_int_equal(p.wrap, 0); /* six on a ring of 4: the second lap */
    md_notify(&p.m, (uint32_t)(p.next | 0x8000u) << 16); /* the first lap's wrap */
    assert_violation("Driver Requirements: The Virtqueue Descriptor Table", "next_off 2 next_wrap 1",
                     "is 2 with wrap 0");
    /* With a device thread the device does not know its position yet:
       only what the ring shows can be checked. */
    assert_int_equal(virtq_fake_start_thread(d), 0);
    md_notify(&p.m, 9u << 16);
    virtq_fake_stop_thread(d);
    assert_violation("Driver Requirements: The Virtqueue Descriptor Table", "next_off 9 is beyond Queue Size 4");
    plain_down(d, &p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(packed_blk_io, fake_setup),
        cmocka_unit_test_setup(packed_out_of_order, fake_setup),
        cmocka_unit_test_setup(packed_offered_on_request, fake_setup),
        cmocka_unit_test_setup(packed_setup_rules, fake_setup),
        cmocka_unit_test_setup(packed_head_first, fake_setup),
        cmocka_unit_test_setup(packed_wrap_contradiction, fake_setup),
        cmocka_unit_test_setup(packed_list_too_long, fake_setup),
        cmocka_unit_test_setup(packed_overrun, fake_setup),
        cmocka_unit_test_setup(packed_element_rules, fake_setup),
        cmocka_unit_test_setup(packed_readable_after_writable, fake_setup),
        cmocka_unit_test_setup(packed_indirect_rules, fake_setup),
        cmocka_unit_test_setup(packed_id_in_flight, fake_setup),
        cmocka_unit_test_setup(packed_changed_in_flight, fake_setup),
        cmocka_unit_test_setup(packed_driver_event_flags, fake_setup),
        cmocka_unit_test_setup(packed_used_suppression, fake_setup),
        cmocka_unit_test_setup(packed_device_event, fake_setup),
        cmocka_unit_test_setup(packed_notification_data, fake_setup),
    };
    return cmocka_run_group_tests_name("fake packed ring", tests, NULL, NULL);
}
