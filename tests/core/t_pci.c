/* SPDX-License-Identifier: MIT */
/* virtio-pci (issue 11): the same blk rig behind the fake's PCI front end.
   virtq's transport assigns the BAR, walks the capabilities, drives the
   common configuration at natural widths and notifies at the derived
   address; the fake checks each (a violation fails the test).  Hostile
   configuration spaces must each give an error naming the capability and
   field, and leave the device unprobed. */
#include "core.h"

#define F_EVENT VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define F_NDATA VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)
#define F_RESET VIRTQ_FEATURE(VIRTIO_F_RING_RESET)
#define WIN 0x40000000ull /* the memory window BARs are placed in */

struct prig {
    struct rig *r;
    struct virtq_fake_pci *fp;
    uintptr_t cfg;
};

static void prig_new(struct prig *p, int transitional, uint64_t extra)
{
    uint64_t next = WIN;
    p->r = rig_new(2, extra, 0);
    p->fp = virtq_fake_pci_attach(p->r->fd, transitional);
    assert_non_null(p->fp);
    p->cfg = virtq_fake_pci_cfg(p->fp);
    assert_int_equal(virtq_pci_assign_bars(p->cfg, &next, WIN + 0x100000u), VIRTQ_OK);
    assert_true(next > WIN);
}

static void prig_free(struct prig *p)
{
    virtq_fake_pci_detach(p->fp);
    rig_free(p->r);
}

static void prig_up(struct prig *p, uint64_t wanted)
{
    assert_int_equal(virtq_pci_probe(&p->r->dev, p->cfg), VIRTQ_OK);
    assert_null(p->r->dev.why);
    assert_int_equal(p->r->dev.transport, VIRTQ_TRANSPORT_PCI);
    assert_int_equal(p->r->dev.device_id, VIRTIO_ID_BLOCK);
    rig_reinit(p->r, wanted, 16);
}

/* Modern (0x1042) and transitional (0x1001, type in the Subsystem ID, an
   I/O BAR 0 as on QEMU's default line): I/O with interrupts through
   virtq_dev_isr, whose ISR read is the acknowledgement. */
static void pci_blk_io(void **state)
{
    int tr;
    (void)state;
    for (tr = 0; tr <= 1; tr++) {
        struct prig p;
        prig_new(&p, tr, 0);
        rig_irq_to_isr(p.r);
        prig_up(&p, F_EVENT);
        assert_int_equal(virtq_fake_pci_enable_writes(p.fp, 0), 1); /* once, after setup */
        rig_io(p.r, VIRTIO_BLK_T_IN, 3, 2, SH_PLAIN, 0);
        rig_io(p.r, VIRTIO_BLK_T_OUT, 9, 1, SH_PLAIN, 7);
        rig_io(p.r, VIRTIO_BLK_T_IN, 9, 1, SH_PLAIN, 0);
        assert_true(p.r->isr_calls >= 3);
        assert_int_equal(p.r->last_isr, VIRTQ_ISR_QUEUE);
        assert_int_equal(p.r->dev.spurious, 0);
        /* Nothing pending: the ISR read says "not mine" (a shared line). */
        assert_int_equal(virtq_dev_isr(&p.r->dev), 0);
        assert_int_equal(p.r->dev.spurious, 1);
        rig_assert_disk(p.r);
        ledger_assert_all_back(&p.r->led);
        prig_free(&p);
    }
}

/* Every wait strategy over PCI: spin (device_status polled, the ISR left
   alone), os and custom, interrupts through the ISR read. */
static void pci_wait_strategies(void **state)
{
    static const int strat[] = {VIRTQ_WAIT_SPIN, VIRTQ_WAIT_CUSTOM};
    unsigned i;
    (void)state;
    for (i = 0; i < sizeof strat / sizeof strat[0]; i++) {
        struct prig p;
        prig_new(&p, 0, 0);
        rig_irq_to_isr(p.r);
        prig_up(&p, F_EVENT);
        assert_int_equal(virtq_dev_set_wait(&p.r->dev, strat[i], NULL), VIRTQ_OK);
        rig_io(p.r, VIRTIO_BLK_T_IN, 1, 1, SH_PLAIN, 0);
        ledger_assert_all_back(&p.r->led);
        prig_free(&p);
    }
}

/* A window too small for the 16 KiB BAR: VIRTQ_ENOSPC, decode left off,
   *next unchanged. */
static void pci_window_too_small(void **state)
{
    struct prig p;
    uint64_t next = WIN;
    (void)state;
    p.r = rig_new(2, 0, 0);
    p.fp = virtq_fake_pci_attach(p.r->fd, 0);
    p.cfg = virtq_fake_pci_cfg(p.fp);
    assert_int_equal(virtq_pci_assign_bars(p.cfg, &next, WIN + 0x2000u), VIRTQ_ENOSPC);
    assert_int_equal(next, WIN);
    assert_false(virtq_fake_pci_config_space(p.fp)[4] & 2u);
    assert_int_equal(virtq_pci_probe(&p.r->dev, p.cfg), VIRTQ_EIO); /* BAR unassigned */
    assert_non_null(strstr(p.r->dev.why, "not assigned"));
    prig_free(&p);
}

static void put32(uint8_t *c, unsigned off, uint32_t v)
{
    c[off] = (uint8_t)v;
    c[off + 1] = (uint8_t)(v >> 8);
    c[off + 2] = (uint8_t)(v >> 16);
    c[off + 3] = (uint8_t)(v >> 24);
}

/* One corruption of the configuration space and what probe must say. */
struct bad {
    const char *name;
    unsigned off;
    uint32_t val;
    int width;
    int rc;
    const char *why; /* NULL: the probe succeeds */
};

static const struct bad bads[] = {
    {"not virtio", 0x00, 0x1234, 2, VIRTQ_ENODEV, "not a virtio-pci"},
    {"no capability list", 0x06, 0, 2, VIRTQ_ENOTSUP, "legacy-only"},
    {"no virtio capability", 0x34, 0, 1, VIRTQ_ENOTSUP, "legacy-only"},
    {"next below 0x40", 0x41, 0x20, 1, VIRTQ_EIO, "outside 0x40..0xff"},
    {"loop", 0x75, 0x50, 1, VIRTQ_EIO, "loop"},
    {"notify cap_len short", 0x52, 16, 1, VIRTQ_EIO, "notify cap: cap_len"},
    {"common cap_len short", 0x42, 12, 1, VIRTQ_EIO, "common cfg cap: cap_len"},
    {"common length short", 0x4c, 0x20, 4, VIRTQ_EIO, "common cfg cap: length shorter"},
    {"isr beyond the BAR", 0x6c, 0x4000, 4, VIRTQ_EIO, "isr cap: offset + length beyond"},
    {"offset+length wraps", 0x58, 0xfffff000u, 4, VIRTQ_EIO, "notify cap: offset + length beyond"},
    {"multiplier 3", 0x60, 3, 4, VIRTQ_EIO, "notify cap: notify_off_multiplier"},
    {"notify on the I/O BAR", 0x54, 0, 1, VIRTQ_EIO, "notify cap: bar is an I/O BAR"},
    {"common on an absent BAR", 0x44, 2, 1, VIRTQ_EIO, "common cfg cap: bar not implemented"},
    {"reserved bar ignored", 0x64 + 4, 7, 1, VIRTQ_EIO, "isr cap: missing"},
    {"reserved cfg_type ignored", 0x64 + 3, 0x20, 1, VIRTQ_EIO, "isr cap: missing"},
    {"longer cap_len accepted", 0x42, 0x12, 1, VIRTQ_OK, NULL},
    {"device cfg optional", 0x77, 0x20, 1, VIRTQ_OK, NULL},
};

static void pci_hostile_capabilities(void **state)
{
    unsigned i;
    (void)state;
    for (i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        struct prig p;
        uint8_t *c;
        int rc;
        prig_new(&p, 1, 0); /* transitional: BAR 0 is I/O */
        c = virtq_fake_pci_config_space(p.fp);
        if (b->width == 1)
            c[b->off] = (uint8_t)b->val;
        else if (b->width == 2)
            c[b->off] = (uint8_t)b->val, c[b->off + 1] = (uint8_t)(b->val >> 8);
        else
            put32(c, b->off, b->val);
        memset(&p.r->dev, 0x5a, sizeof p.r->dev);
        rc = virtq_pci_probe(&p.r->dev, p.cfg);
        print_message("  %-28s -> %d %s\n", b->name, rc, p.r->dev.why ? p.r->dev.why : "(ok)");
        assert_int_equal(rc, b->rc);
        if (b->why != NULL) {
            assert_non_null(p.r->dev.why);
            assert_non_null(strstr(p.r->dev.why, b->why));
            /* Nothing half-initialised: every other call refuses it. */
            assert_int_equal(virtq_dev_begin(&p.r->dev), VIRTQ_EINVAL);
        } else {
            rig_reinit(p.r, F_EVENT, 16);
            rig_io(p.r, VIRTIO_BLK_T_IN, 0, 1, SH_PLAIN, 0);
            ledger_assert_all_back(&p.r->led);
        }
        prig_free(&p);
    }
}

/* The first usable capability of a type wins: a bad common cfg cap (on
   the I/O BAR) followed by a good one. */
static void pci_first_usable_wins(void **state)
{
    struct prig p;
    uint8_t *c;
    (void)state;
    prig_new(&p, 1, 0);
    c = virtq_fake_pci_config_space(p.fp);
    memcpy(c + 0x84, c + 0x40, 16); /* a second, good common cfg cap at 0x84 */
    c[0x84 + 1] = 0;
    c[0x75] = 0x84;
    c[0x44] = 0; /* the first on BAR 0: I/O, unusable */
    prig_up(&p, F_EVENT);
    rig_io(p.r, VIRTIO_BLK_T_IN, 0, 1, SH_PLAIN, 0);
    ledger_assert_all_back(&p.r->led);
    prig_free(&p);
}

/* Hostile common configuration: queue_size not read back, a notify
   offset beyond the structure, queue_enable not sticking: each refused
   with a reason, the device FAILED. */
static void pci_hostile_queue(void **state)
{
    static const struct {
        unsigned mode;
        const char *why;
    } cases[] = {
        {VIRTQ_FAKE_PCI_QSIZE_STUCK, "queue_size"},
        {VIRTQ_FAKE_PCI_NOFF_HUGE, "notify cap: queue_notify_off"},
        {VIRTQ_FAKE_PCI_ENABLE_STUCK, "queue_enable"},
    };
    unsigned i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct prig p;
        prig_new(&p, 0, 0);
        assert_int_equal(virtq_pci_probe(&p.r->dev, p.cfg), VIRTQ_OK);
        assert_int_equal(virtq_dev_begin(&p.r->dev), VIRTQ_OK);
        assert_int_equal(virtq_dev_negotiate(&p.r->dev, F_EVENT, 0), VIRTQ_OK);
        virtq_fake_pci_set_hostile(p.fp, cases[i].mode);
        assert_int_equal(virtq_dev_queue_setup(&p.r->dev, &p.r->vq, 0, 16, p.r->ring, p.r->slots),
                         VIRTQ_EIO);
        assert_non_null(strstr(p.r->dev.why, cases[i].why));
        assert_true(virtq_fake_status(p.r->fd) & VIRTIO_STATUS_FAILED);
        prig_free(&p);
    }
}

/* A notification names the published position even with a chain added
   since: publish one read, add another without publishing, notify.  The
   fake checks next_off/next_wrap against avail.idx (a value naming the
   unpublished add is a violation); then both are published and served. */
static void notify_after_unpublished_add(struct rig *r)
{
    struct breq *q = breqs_new(2);
    bool notify;
    assert_int_equal(breq_add(r, &q[0], VIRTIO_BLK_T_IN, 1, 1, SH_PLAIN, 0), VIRTQ_OK);
    assert_int_equal(virtq_publish(&r->vq, &notify), VIRTQ_OK);
    assert_int_equal(breq_add(r, &q[1], VIRTIO_BLK_T_IN, 2, 1, SH_PLAIN, 0), VIRTQ_OK);
    virtq_dev_notify(&r->dev, &r->vq);
    assert_int_equal(virtq_fake_violation_count(), 0);
    assert_int_equal(virtq_dev_kick(&r->dev, &r->vq), VIRTQ_OK);
    assert_non_null(rig_get_one(r));
    assert_non_null(rig_get_one(r));
    ledger_assert_all_back(&r->led);
    free(q);
}

/* VIRTIO_F_NOTIFICATION_DATA, with the fake as the device that offers it:
   on PCI (32-bit writes at the queue's address) and on MMIO; the fake
   checks next_off/next_wrap against avail.idx on every notification. */
static void notification_data(void **state)
{
    int pci;
    (void)state;
    for (pci = 0; pci <= 1; pci++) {
        struct prig p;
        int i;
        if (pci) {
            prig_new(&p, 0, F_NDATA);
            prig_up(&p, F_EVENT | F_NDATA);
        } else {
            p.r = rig_new(2, F_NDATA, 0);
            p.fp = NULL;
            rig_up(p.r, F_EVENT | F_NDATA, 16);
        }
        assert_true(p.r->dev.features & F_NDATA);
        for (i = 0; i < 40; i++) /* past one wrap of the 16-entry ring */
            rig_io(p.r, VIRTIO_BLK_T_IN, (uint64_t)i, 1, SH_PLAIN, 0);
        ledger_assert_all_back(&p.r->led);
        notify_after_unpublished_add(p.r);
        if (pci)
            prig_free(&p);
        else
            rig_free(p.r);
    }
}

/* VIRTIO_F_RING_RESET: never negotiated on virtio-mmio (no QueueReset
   register in the layout virtq drives); on PCI one queue is reset and set
   up again while the device runs. */
static void ring_reset(void **state)
{
    struct prig p;
    struct rig *m;
    void *ck;
    (void)state;
    m = rig_new(2, F_RESET, 0);
    rig_up(m, F_EVENT | F_RESET, 16);
    assert_false(m->dev.features & F_RESET);
    assert_int_equal(virtq_dev_queue_reset(&m->dev, &m->vq), VIRTQ_ENOTSUP);
    rig_free(m);

    prig_new(&p, 0, F_RESET);
    prig_up(&p, F_EVENT | F_RESET);
    assert_true(p.r->dev.features & F_RESET);
    rig_io(p.r, VIRTIO_BLK_T_IN, 2, 1, SH_PLAIN, 0);
    assert_int_equal(virtq_dev_queue_reset(&p.r->dev, &p.r->vq), VIRTQ_OK);
    assert_false(virtq_fake_queue_ready(p.r->fd, 0));
    assert_int_equal(virtq_detach(&p.r->vq, &ck), VIRTQ_EAGAIN);
    assert_int_equal(virtq_dev_queue_setup(&p.r->dev, &p.r->vq, 0, 16, p.r->ring, p.r->slots), VIRTQ_OK);
    assert_true(virtq_fake_queue_ready(p.r->fd, 0));
    assert_int_equal(virtq_fake_pci_enable_writes(p.fp, 0), 2); /* once per setup */
    rig_io(p.r, VIRTIO_BLK_T_IN, 2, 1, SH_PLAIN, 0);
    ledger_assert_all_back(&p.r->led);
    prig_free(&p);
}

int core_group_pci(void)
{
    const struct CMUnitTest tests[] = {
        CORE_TEST(pci_blk_io),
        CORE_TEST(pci_wait_strategies),
        CORE_TEST(pci_window_too_small),
        CORE_TEST(pci_hostile_capabilities),
        CORE_TEST(pci_first_usable_wins),
        CORE_TEST(pci_hostile_queue),
        CORE_TEST(notification_data),
        CORE_TEST(ring_reset),
    };
    return cmocka_run_group_tests_name("core: virtio-pci (issue 11)", tests, NULL, NULL);
}
