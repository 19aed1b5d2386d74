/* SPDX-License-Identifier: MIT */
/* The fake's modelled non-coherent data cache (virtq_fake.h "Non-coherent
   DMA"), driven by the hand-rolled driver so each mistake can be made on
   purpose: every report names the buffer and the offset, a correct
   sequence is silent, a seed reproduces a run, ring memory stays outside
   the model. */
#include "minidrv.h"

#define SECTORS 16
#define LINE VIRTQ_FAKE_CACHE_LINE
static uint8_t disk[SECTORS * 512];
static uint8_t buf[1024] __attribute__((aligned(LINE)));

/* A request whose device-writable status shares its line with a field
   the CPU writes while the request is in flight, and one that does not. */
struct shared_req {
    struct virtio_blk_outhdr hdr;
    uint8_t status;
    uint8_t busy; /* the CPU's, next to the status */
} __attribute__((aligned(LINE)));
struct own_req {
    struct virtio_blk_outhdr hdr;
    uint8_t busy;
    uint8_t status __attribute__((aligned(LINE)));
} __attribute__((aligned(LINE)));

static struct virtq_fake_dev *blk(void)
{
    struct virtq_fake_blk_params bp;
    memset(&bp, 0, sizeof bp);
    bp.version = 2;
    bp.image = disk;
    bp.image_bytes = sizeof disk;
    bp.features = VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    bp.serial = "cache";
    bp.queue_num_max = 16;
    for (size_t i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i * 3u + i / 512u);
    return virtq_fake_blk_create(&bp);
}

static void publish_notify(struct md *m)
{
    md_publish(m, 0);
    md_notify(m, 0);
}

/* How io() syncs: every segment as virtq_add() does, none, or all but the
   data (whose state the test set up itself). */
enum { SYNC_ALL, SYNC_NONE, SYNC_NOT_DATA };

/* One request: header, data, status at descriptors 0..2, synced for the
   device as sync says (each segment with device_writes as its flag);
   returns the used len. */
static uint32_t io(struct md *m, struct virtio_blk_outhdr *hdr, uint8_t *status, uint32_t type,
                   uint64_t sector, void *data, uint32_t len, int sync)
{
    uint32_t id = 0xdead, ulen = 0;
    int in = type != VIRTIO_BLK_T_OUT;
    hdr->type = type;
    hdr->reserved = 0;
    hdr->sector = sector;
    *status = 0xff;
    md_desc(m, 0, hdr, sizeof *hdr, VIRTQ_DESC_F_NEXT, 1);
    md_desc(m, 1, data, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)), 2);
    md_desc(m, 2, status, 1, VIRTQ_DESC_F_WRITE, 0);
    if (sync != SYNC_NONE) {
        virtq_fake_dma_sync_for_device(hdr, sizeof *hdr, 0);
        if (sync == SYNC_ALL)
            virtq_fake_dma_sync_for_device(data, len, in);
        virtq_fake_dma_sync_for_device(status, 1, 1);
    }
    publish_notify(m);
    assert_true(md_get(m, &id, &ulen));
    assert_int_equal(id, 0);
    return ulen;
}

static void last_says(const char *a, const char *b)
{
    const char *v = virtq_fake_last_violation();
    if (strstr(v, a) == NULL || (b != NULL && strstr(v, b) == NULL))
        fail_msg("want \"%s\"%s%s in: %s", a, b ? " and " : "", b ? b : "", v);
}

static char seen_log[4 * VIRTQ_FAKE_MSG_MAX];

static void log_violation(void *ctx, const char *msg)
{
    (void)ctx;
    strncat(seen_log, msg, sizeof seen_log - strlen(seen_log) - 2);
    strcat(seen_log, "\n");
}

static struct cache_env {
    struct virtq_fake_dev *d;
    struct md m;
} env;

/* A FLUSH at descriptors 0..1, header and status filled and synced for the
   device, not yet published: the test touches memory in between. */
static void flush_prepare(struct virtio_blk_outhdr *hdr, uint8_t *status)
{
    md_desc(&env.m, 0, hdr, sizeof *hdr, VIRTQ_DESC_F_NEXT, 1);
    md_desc(&env.m, 1, status, 1, VIRTQ_DESC_F_WRITE, 0);
    hdr->type = VIRTIO_BLK_T_FLUSH;
    hdr->reserved = 0;
    hdr->sector = 0;
    *status = 0xff;
    virtq_fake_dma_sync_for_device(hdr, sizeof *hdr, 0);
    virtq_fake_dma_sync_for_device(status, 1, 1);
}

static void up(uint64_t seed, unsigned evict, unsigned refill)
{
    virtq_fake_cache_enable(seed);
    virtq_fake_cache_set_rates(evict, refill);
    env.d = blk();
    assert_non_null(env.d);
    md_init(&env.m, virtq_fake_base(env.d), VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC), 16);
}

static void down(void)
{
    virtq_fake_cache_set_rates(25, 25);
    virtq_fake_cache_disable();
    md_free(&env.m);
    virtq_fake_destroy(env.d);
    virtq_fake_clear_violations();
}

/* Off (the default): the hooks do nothing and the device sees host memory. */
static void off_is_coherent(void **state)
{
    struct virtio_blk_outhdr hdr;
    struct virtq_fake_cache_stats st;
    uint8_t status;
    (void)state;
    env.d = blk();
    md_init(&env.m, virtq_fake_base(env.d), 0, 16);
    memset(buf, 0x3c, sizeof buf);
    assert_int_equal(io(&env.m, &hdr, &status, VIRTIO_BLK_T_OUT, 2, buf, 512, SYNC_NONE), 1);
    assert_int_equal(status, VIRTIO_BLK_S_OK);
    assert_int_equal(disk[2 * 512 + 7], 0x3c);
    assert_int_equal(virtq_fake_cache_enabled(), 0);
    virtq_fake_dma_sync_for_cpu(buf, sizeof buf);
    virtq_fake_cache_get_stats(&st);
    assert_int_equal(st.lines + st.cleans + st.invalidates, 0);
    assert_clean();
    md_free(&env.m);
    virtq_fake_destroy(env.d);
}

/* The right sequence: clean, device reads; device writes, invalidate. */
static void correct_sequence_is_silent(void **state)
{
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    struct virtq_fake_cache_stats st;
    (void)state;
    up(1, 25, 25);
    for (int round = 0; round < 8; round++) {
        memset(buf, 0x40 + round, 512);
        assert_int_equal(io(&env.m, &hdr, &status, VIRTIO_BLK_T_OUT, 1, buf, 512, SYNC_ALL), 1);
        virtq_fake_dma_sync_for_cpu(&status, 1);
        assert_int_equal(status, VIRTIO_BLK_S_OK);
        assert_int_equal(disk[512 + 100], 0x40 + round);
        memset(buf, 0, sizeof buf);
        assert_int_equal(io(&env.m, &hdr, &status, VIRTIO_BLK_T_IN, 4, buf, 1024, SYNC_ALL), 1025);
        virtq_fake_dma_sync_for_cpu(&status, 1);
        virtq_fake_dma_sync_for_cpu(buf, 1024);
        assert_int_equal(status, VIRTIO_BLK_S_OK);
        assert_memory_equal(buf, disk + 4 * 512, 1024);
    }
    assert_int_equal(virtq_fake_cache_check(), 0);
    virtq_fake_cache_get_stats(&st);
    assert_true(st.dev_reads > 0 && st.dev_writes > 0 && st.evictions + st.refills > 0);
    assert_int_equal(st.reports, 0);
    assert_clean();
    down();
}

/* No sync at all: the device touches lines no hook covered. */
static void never_synced(void **state)
{
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    char want[192];
    (void)state;
    up(2, 0, 0);
    memset(buf, 0x11, 512);
    io(&env.m, &hdr, &status, VIRTIO_BLK_T_OUT, 1, buf, 512, SYNC_NONE);
    assert_int_equal(virtq_fake_violation_count(), 8); /* at most 8 held reports: hdr, 7 of buf's 8 lines */
    snprintf(want, sizeof want, "segment %p offset 448 (q0 head 0)", (void *)buf);
    if (strstr(virtq_fake_last_violation(), want) != NULL)
        fail_msg("the 9th report should have been dropped: %s", virtq_fake_last_violation());
    virtq_fake_clear_violations();
    /* Again with no sync: the header's line is known now, so its new
       bytes are a stale read, and the device acts on memory's old header
       (an OUT), which the blk model then finds malformed. */
    seen_log[0] = '\0';
    virtq_fake_set_violation_handler(log_violation, NULL);
    io(&env.m, &hdr, &status, VIRTIO_BLK_T_GET_ID, 0, buf + 512, 20, SYNC_NONE);
    assert_int_equal(virtq_fake_violation_count(), 2);
    snprintf(want, sizeof want, "the device read stale memory at segment %p offset 0 (q0 head 0): the driver "
             "wrote it and never cleaned it", (void *)&hdr);
    assert_non_null(strstr(seen_log, want));
    assert_non_null(strstr(seen_log, "VIRTIO_BLK_T_OUT request with 20 device-writable data bytes"));
    down();
}

/* Written after the clean: the device reads memory's old byte, named by
   its offset, and the report stands even when an eviction rescued it. */
static void stale_device_read(void **state)
{
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    char want[192];
    (void)state;
    for (unsigned evict = 0; evict <= 100; evict += 100) {
        up(3, evict, 0);
        memset(buf, 0x22, 512);
        virtq_fake_dma_sync_for_device(buf, 512, 0);
        buf[77] = 0x99; /* after the clean: only in the CPU's cache */
        io(&env.m, &hdr, &status, VIRTIO_BLK_T_OUT, 6, buf, 512, SYNC_NOT_DATA);
        assert_int_equal(virtq_fake_violation_count(), 1);
        snprintf(want, sizeof want, "segment %p offset 77 (q0 head 0)", (void *)buf);
        last_says(want, "never cleaned it (VIRTQ_DMA_SYNC_FOR_DEVICE)");
        /* No eviction: the disk got memory's 0x22; all evicted: the 0x99. */
        assert_int_equal(disk[6 * 512 + 77], evict ? 0x99 : 0x22);
        down();
    }
}

/* Device writes stay in memory until the driver invalidates. */
static void missing_invalidate(void **state)
{
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    char want[192];
    (void)state;
    up(4, 0, 0);
    memset(buf, 0, sizeof buf);
    assert_int_equal(io(&env.m, &hdr, &status, VIRTIO_BLK_T_IN, 3, buf, 512, SYNC_ALL), 513);
    assert_int_equal(status, 0xff); /* the CPU's copy: the device's OK is in memory */
    assert_int_equal(buf[1], 0);
    virtq_fake_dma_sync_for_cpu(&status, 1);
    assert_int_equal(status, VIRTIO_BLK_S_OK);
    /* buf never invalidated: handing it over again is reported ... */
    virtq_fake_dma_sync_for_device(buf, 512, 1);
    snprintf(want, sizeof want, "segment %p offset 0 (q0 head 0)", (void *)buf);
    last_says(want, "handed it to the device again without invalidating it");
    virtq_fake_clear_violations();
    /* ... and so is finishing without it. */
    io(&env.m, &hdr, &status, VIRTIO_BLK_T_IN, 5, buf, 512, SYNC_ALL);
    virtq_fake_dma_sync_for_cpu(&status, 1);
    assert_int_equal(virtq_fake_cache_check(), 1);
    last_says(want, "finished without invalidating it");
    last_says("VIRTQ_DMA_SYNC_FOR_CPU after virtq_get; 8 lines in all", NULL);
    virtq_fake_clear_violations();
    virtq_fake_dma_sync_for_cpu(buf, 512);
    assert_memory_equal(buf, disk + 5 * 512, 512);
    assert_int_equal(virtq_fake_cache_check(), 0);
    down();
}

/* A device-writable byte sharing its line with a field the CPU writes
   while the request is in flight: reported at the device's write (the
   CPU's write before the device's is found at the invalidate: see
   cpu_wrote_owned_line); the same request with the status in a line of
   its own is silent. */
static void shared_line(void **state)
{
    static struct shared_req s;
    static struct own_req o;
    char want[192];
    (void)state;
    up(5, 0, 0);
    s.busy = 0;
    flush_prepare(&s.hdr, &s.status);
    s.busy = 1; /* the CPU writes the status's line while the device owns it */
    publish_notify(&env.m);
    assert_int_equal(virtq_fake_violation_count(), 1);
    snprintf(want, sizeof want, "segment %p offset 0 (q0 head 0) while the CPU holds its line %p dirty",
             (void *)&s.status, (void *)&s);
    last_says(want, "would destroy the device's data");
    virtq_fake_dma_sync_for_cpu(&s.status, 1);
    assert_int_equal(virtq_fake_violation_count(), 1); /* one report per hand-over */
    assert_int_equal(s.status, 0xff); /* the write-back of the dirty line lost the device's OK */
    virtq_fake_clear_violations();
    {
        uint32_t id, len;
        assert_true(md_get(&env.m, &id, &len));
    }

    o.busy = 0;
    flush_prepare(&o.hdr, &o.status);
    o.busy = 1; /* a line the device only reads: harmless */
    publish_notify(&env.m);
    virtq_fake_dma_sync_for_cpu(&o.status, 1);
    assert_int_equal(o.status, VIRTIO_BLK_S_OK);
    assert_clean();
    down();
}

/* The CPU writes a line it handed over for writing, after the device
   wrote it: found at the invalidate, which loses one of the writes. */
static void cpu_wrote_owned_line(void **state)
{
    static struct shared_req s;
    char want[192];
    uint32_t id, len;
    (void)state;
    up(7, 0, 0);
    virtq_fake_set_mode(env.d, VIRTQ_FAKE_DEFERRED, 0);
    s.busy = 0;
    flush_prepare(&s.hdr, &s.status);
    publish_notify(&env.m);
    assert_int_equal(virtq_fake_step(env.d, 0, -1), 1); /* the device wrote the status */
    assert_clean();
    s.busy = 1; /* now the CPU dirties the line before taking it back */
    assert_true(md_get(&env.m, &id, &len));
    virtq_fake_dma_sync_for_cpu(&s.status, 1);
    assert_int_equal(virtq_fake_violation_count(), 1);
    snprintf(want, sizeof want, "the CPU wrote buffer byte %p while the device owned its line", (void *)&s.busy);
    last_says(want, "loses either write");
    down();
}

/* An indirect table is buffer memory too: the device reads it through
   the cache, so a table written and not cleaned is found. */
static void indirect_table(void **state)
{
    static struct virtq_desc table[3] __attribute__((aligned(LINE)));
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    char want[192];
    (void)state;
    up(6, 100, 0); /* evicted: the device then gets the table, and only the rule breaks */
    hdr.type = VIRTIO_BLK_T_IN;
    hdr.reserved = 0;
    hdr.sector = 1;
    status = 0xff;
    virtq_fake_dma_sync_for_device(table, sizeof table, 0); /* the old, empty table */
    table[0] = (struct virtq_desc){(uint64_t)(uintptr_t)&hdr, sizeof hdr, VIRTQ_DESC_F_NEXT, 1};
    table[1] = (struct virtq_desc){(uint64_t)(uintptr_t)buf, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2};
    table[2] = (struct virtq_desc){(uint64_t)(uintptr_t)&status, 1, VIRTQ_DESC_F_WRITE, 0};
    virtq_fake_dma_sync_for_device(&hdr, sizeof hdr, 0);
    virtq_fake_dma_sync_for_device(buf, 512, 1);
    virtq_fake_dma_sync_for_device(&status, 1, 1);
    md_desc(&env.m, 0, table, sizeof table, VIRTQ_DESC_F_INDIRECT, 0);
    publish_notify(&env.m);
    assert_int_equal(virtq_fake_violation_count(), 1);
    snprintf(want, sizeof want, "stale memory at indirect table %p offset ", (void *)table);
    last_says(want, "never cleaned it");
    down();
}

/* One seed, one run: the same evictions and refills every time. */
static unsigned long run_seed(uint64_t seed)
{
    struct virtio_blk_outhdr hdr __attribute__((aligned(LINE)));
    uint8_t status __attribute__((aligned(LINE)));
    struct virtq_fake_cache_stats st;
    up(seed, 50, 50);
    for (int round = 0; round < 16; round++) {
        memset(buf, round, sizeof buf);
        io(&env.m, &hdr, &status, VIRTIO_BLK_T_IN, 2, buf, 1024, SYNC_ALL);
        virtq_fake_dma_sync_for_cpu(&status, 1);
        virtq_fake_dma_sync_for_cpu(buf, 1024);
        assert_memory_equal(buf, disk + 2 * 512, 1024);
    }
    virtq_fake_cache_get_stats(&st);
    assert_clean();
    down();
    return (unsigned long)st.evictions << 16 | st.refills;
}

static void seed_reproduces(void **state)
{
    unsigned long a, b, c;
    (void)state;
    a = run_seed(11);
    b = run_seed(11);
    c = run_seed(12);
    assert_int_equal(a, b);
    assert_true(a != 0);
    assert_int_not_equal(a, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(off_is_coherent, fake_setup),
        cmocka_unit_test_setup(correct_sequence_is_silent, fake_setup),
        cmocka_unit_test_setup(never_synced, fake_setup),
        cmocka_unit_test_setup(stale_device_read, fake_setup),
        cmocka_unit_test_setup(missing_invalidate, fake_setup),
        cmocka_unit_test_setup(shared_line, fake_setup),
        cmocka_unit_test_setup(cpu_wrote_owned_line, fake_setup),
        cmocka_unit_test_setup(indirect_table, fake_setup),
        cmocka_unit_test_setup(seed_reproduces, fake_setup),
    };
    return cmocka_run_group_tests_name("fake cache", tests, NULL, NULL);
}
