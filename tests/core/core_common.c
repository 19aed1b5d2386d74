/* SPDX-License-Identifier: MIT */
/* core_common.c — setup, violations, the cookie ledger, the blk rig. */
#define _GNU_SOURCE
#include "core.h"

#include <time.h>

/* ---- violations ---------------------------------------------------------- */

static pthread_t test_thread;
static int expecting; /* read by the device thread's deliveries too */

static void on_violation(void *ctx, const char *msg)
{
    (void)ctx;
    if (__atomic_load_n(&expecting, __ATOMIC_RELAXED))
        return; /* counted by the fake; the test asserts it */
    /* fail_msg() longjmps: only on the test's own thread.  Elsewhere the
       fake's count makes the teardown fail. */
    if (pthread_equal(pthread_self(), test_thread)) {
        virtq_fake_clear_violations(); /* reported here, not again by the teardown */
        fail_msg("fake violation: %s", msg);
    }
}

int core_setup(void **state)
{
    (void)state;
    test_thread = pthread_self();
    __atomic_store_n(&expecting, 0, __ATOMIC_RELAXED);
    virtq_fake_set_violation_handler(on_violation, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    core_mmio_reset();
    core_watchdog_arm();
    return 0;
}

int core_teardown(void **state)
{
    int bad = !__atomic_load_n(&expecting, __ATOMIC_RELAXED) && virtq_fake_violation_count() != 0;
    (void)state;
    core_watchdog_disarm();
    if (bad)
        print_error("unexpected fake violation(s) (%u), last: %s\n", virtq_fake_violation_count(),
                    virtq_fake_last_violation());
    core_mmio_reset();
    virtq_fake_cpu_reset();
    __atomic_store_n(&expecting, 0, __ATOMIC_RELAXED);
    virtq_fake_clear_violations();
    return bad ? -1 : 0;
}

void core_expect_violations(int on)
{
    __atomic_store_n(&expecting, on != 0, __ATOMIC_RELAXED);
}

void core_expect_violation(const char *frag)
{
    if (virtq_fake_violation_count() == 0)
        fail_msg("expected a fake violation mentioning \"%s\", got none", frag);
    if (strstr(virtq_fake_last_violation(), frag) == NULL)
        fail_msg("fake violation \"%s\" does not mention \"%s\"", virtq_fake_last_violation(), frag);
    virtq_fake_clear_violations();
}

void core_assert_clean(void)
{
    if (virtq_fake_violation_count() != 0)
        fail_msg("unexpected fake violation (%u): %s", virtq_fake_violation_count(),
                 virtq_fake_last_violation());
}

/* ---- the ledger --------------------------------------------------------------- */

void ledger_init(struct ledger *l)
{
    memset(l, 0, sizeof *l);
}

static int ledger_find(const struct ledger *l, const void *ck)
{
    unsigned i;
    for (i = 0; i < l->n; i++)
        if (l->ck[i] == ck)
            return (int)i;
    return -1;
}

void ledger_out(struct ledger *l, void *ck)
{
    int i = ledger_find(l, ck);
    assert_non_null(ck);
    if (i < 0) {
        assert_true(l->n < LEDGER_MAX);
        i = (int)l->n++;
        l->ck[i] = ck;
    }
    if (l->out[i])
        fail_msg("cookie %p submitted while still outstanding", ck);
    l->out[i] = 1;
    l->submitted++;
}

void ledger_back(struct ledger *l, void *ck)
{
    int i = ledger_find(l, ck);
    if (i < 0)
        fail_msg("cookie %p came back but was never submitted", ck);
    if (!l->out[i])
        fail_msg("cookie %p came back twice", ck);
    l->out[i] = 0;
    l->returned++;
}

unsigned ledger_outstanding(const struct ledger *l)
{
    return l->submitted - l->returned;
}

void ledger_assert_all_back(const struct ledger *l)
{
    unsigned i;
    for (i = 0; i < l->n; i++)
        if (l->out[i])
            fail_msg("cookie %p never came back (%u submitted, %u returned)", l->ck[i], l->submitted,
                     l->returned);
    assert_int_equal(l->submitted, l->returned);
}

/* ---- the rig ----------------------------------------------------------------------- */

uint8_t disk_pattern(uint64_t off)
{
    return (uint8_t)(off * 37u + (off >> 9) * 101u + 7u);
}

struct rig *rig_new(int version, uint64_t extra_features, uint16_t qmax)
{
    struct rig *r = calloc(1, sizeof *r);
    struct virtq_fake_blk_params bp;
    size_t bytes = (size_t)RIG_SECTORS * VIRTIO_BLK_SECTOR, i;
    assert_non_null(r);
    r->version = version;
    r->sectors = RIG_SECTORS;
    r->image = malloc(bytes);
    r->expect = malloc(bytes);
    assert_non_null(r->image);
    assert_non_null(r->expect);
    for (i = 0; i < bytes; i++)
        r->image[i] = r->expect[i] = disk_pattern(i);
    memset(&bp, 0, sizeof bp);
    bp.version = version;
    bp.image = r->image;
    bp.image_bytes = bytes;
    bp.features = extra_features;
    bp.queue_num_max = qmax;
    r->fd = virtq_fake_blk_create(&bp);
    assert_non_null(r->fd);
    r->ring_bytes = VIRTQ_RING_BYTES(RIG_QMAX, VIRTQ_ALIGN_LEGACY);
    /* Legacy rings are named by a 32-bit page number: low memory.  Modern
       ones sit in the heap, far above 4 GiB (64-bit queue addresses). */
    if (version == 1)
        r->ring = virtq_fake_lowmem_alloc(r->ring_bytes);
    else
        r->ring = aligned_alloc(4096, (r->ring_bytes + 4095u) & ~(size_t)4095u);
    assert_non_null(r->ring);
    memset(r->ring, 0xa5, r->ring_bytes); /* virtq must zero it itself */
    ledger_init(&r->led);
    return r;
}

void rig_reinit(struct rig *r, uint64_t wanted, uint32_t num)
{
    uint32_t want_status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK;
    assert_int_equal(virtq_dev_begin(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_dev_negotiate(&r->dev, wanted, 0), VIRTQ_OK);
    assert_int_equal(virtq_dev_queue_setup(&r->dev, &r->vq, 0, num, r->ring, r->slots), VIRTQ_OK);
    assert_int_equal(virtq_dev_driver_ok(&r->dev), VIRTQ_OK);
    if (r->version == 2)
        want_status |= VIRTIO_STATUS_FEATURES_OK;
    assert_int_equal(virtq_fake_status(r->fd), want_status);
    assert_true(virtq_fake_queue_ready(r->fd, 0));
    assert_int_equal(virtq_fake_driver_features(r->fd), r->dev.features);
}

void rig_up(struct rig *r, uint64_t wanted, uint32_t num)
{
    assert_int_equal(virtq_mmio_probe(&r->dev, virtq_fake_base(r->fd)), VIRTQ_OK);
    rig_reinit(r, wanted, num);
}

void rig_reset_detach(struct rig *r)
{
    void *ck;
    int rc;
    unsigned n = 0;
    assert_int_equal(virtq_dev_reset(&r->dev), VIRTQ_OK);
    assert_int_equal(virtq_fake_status(r->fd), 0);
    assert_int_equal(virtq_dev_check(&r->dev), VIRTQ_OK);
    while ((rc = virtq_detach(&r->vq, &ck)) == VIRTQ_OK) {
        ledger_back(&r->led, ck);
        assert_true(++n <= r->vq.num);
    }
    assert_int_equal(rc, VIRTQ_EAGAIN);
    ledger_assert_all_back(&r->led);
    assert_false(virtq_is_broken(&r->vq));
    assert_int_equal(virtq_num_free(&r->vq), r->vq.num);
}

static void irq_to_isr(struct virtq_fake_dev *fd, void *ctx)
{
    struct rig *r = ctx;
    (void)fd;
    r->last_isr = virtq_dev_isr(&r->dev);
    r->isr_calls++;
}

void rig_irq_to_isr(struct rig *r)
{
    virtq_fake_set_irq_callback(r->fd, irq_to_isr, r);
}

void rig_free(struct rig *r)
{
    if (r == NULL)
        return;
    virtq_fake_destroy(r->fd);
    if (r->version == 1)
        virtq_fake_lowmem_free(r->ring);
    else
        free(r->ring);
    free(r->image);
    free(r->expect);
    free(r);
}

struct breq *breqs_new(unsigned n)
{
    struct breq *q = calloc(n, sizeof *q);
    assert_non_null(q);
    assert_int_equal((uintptr_t)q->table & 15u, 0);
    return q;
}

int breq_add(struct rig *r, struct breq *q, uint32_t type, uint64_t sector, uint32_t nsect, int shape,
             uint32_t seed)
{
    struct virtq_buf b[6];
    unsigned n = 0, out, in;
    uint32_t len = nsect * VIRTIO_BLK_SECTOR, i;
    int rc, wr = type == VIRTIO_BLK_T_OUT;
    assert_true(nsect >= 1 && nsect <= BREQ_MAX_SECT);
    q->type = type;
    q->sector = sector;
    q->nsect = nsect;
    q->shape = shape;
    q->hdr.type = type;
    q->hdr.reserved = 0;
    q->hdr.sector = sector;
    q->status = 0xff;
    for (i = 0; i < sizeof q->buf; i++)
        q->buf[i] = wr ? (uint8_t)((seed * 2654435761u >> 13) + i * 13u + (i >> 9)) : 0xee;
    b[n++] = (struct virtq_buf){&q->hdr, (uint32_t)sizeof q->hdr};
    if (shape == SH_MERGED && !wr) {
        b[n++] = (struct virtq_buf){q->buf, len + 1u}; /* the status is buf[len] */
    } else {
        if (shape == SH_SPLIT || shape == SH_INDIRECT) {
            b[n++] = (struct virtq_buf){q->buf, 100};
            b[n++] = (struct virtq_buf){q->buf + 100, len - 107u};
            b[n++] = (struct virtq_buf){q->buf + len - 7u, 7};
        } else {
            b[n++] = (struct virtq_buf){q->buf, len};
        }
        b[n++] = (struct virtq_buf){&q->status, 1};
    }
    out = wr ? n - 1u : 1u;
    in = n - out;
    if (shape == SH_INDIRECT)
        rc = virtq_add_indirect(&r->vq, b, out, in, q->table, q);
    else
        rc = virtq_add(&r->vq, b, out, in, q);
    if (rc == VIRTQ_OK)
        ledger_out(&r->led, q);
    return rc;
}

void breq_check(struct rig *r, struct breq *q, uint32_t len)
{
    uint32_t data = q->nsect * VIRTIO_BLK_SECTOR;
    uint64_t off = q->sector * VIRTIO_BLK_SECTOR;
    uint8_t st = (q->shape == SH_MERGED && q->type == VIRTIO_BLK_T_IN) ? q->buf[data] : q->status;
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    if (q->type == VIRTIO_BLK_T_IN) {
        assert_int_equal(len, data + 1u);
        assert_memory_equal(q->buf, r->expect + off, data);
    } else {
        assert_int_equal(len, 1u);
        assert_memory_equal(r->image + off, q->buf, data);
        memcpy(r->expect + off, q->buf, data);
    }
}

struct breq *rig_get_one(struct rig *r)
{
    void *ck = NULL;
    uint32_t len = 0xdeadbeef;
    assert_int_equal(virtq_get(&r->vq, &ck, &len), VIRTQ_OK);
    ledger_back(&r->led, ck);
    breq_check(r, ck, len);
    return ck;
}

void rig_io(struct rig *r, uint32_t type, uint64_t sector, uint32_t nsect, int shape, uint32_t seed)
{
    struct breq *q = breqs_new(1);
    assert_int_equal(breq_add(r, q, type, sector, nsect, shape, seed), VIRTQ_OK);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    assert_int_equal(virtq_wait(&r->dev, &r->vq, 1000000u), VIRTQ_OK);
    assert_ptr_equal(rig_get_one(r), q);
    free(q);
}

void rig_assert_disk(const struct rig *r)
{
    assert_memory_equal(r->image, r->expect, (size_t)r->sectors * VIRTIO_BLK_SECTOR);
}

/* ---- utilities --------------------------------------------------------------------- */

void sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

int wait_until(int (*cond)(void *ctx), void *ctx, unsigned limit_us)
{
    unsigned t;
    for (t = 0; t < limit_us; t += 100u) {
        if (cond(ctx))
            return 1;
        sleep_us(100);
    }
    return cond(ctx);
}
