/* SPDX-License-Identifier: MIT */
/* core.h — end-to-end tests of virtq's transport, device status machine
   and waits against the fake virtio-mmio device (shims/fake).

   Every test runs virtq's real code (virtq.h, implemented once in
   core_impl.c with the fake's shims) against the fake blk model or a plain
   fake device, fails on any violation the fake reports (unless it provokes
   one on purpose and asserts it), and accounts for every cookie it submits
   with a ledger: each must come back exactly once, from virtq_get() or
   virtq_detach(). */
#ifndef CORE_H
#define CORE_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_blk.h"
#include "virtq_fake.h"
#include "../common/vq_test.h"

/* ---- per-test setup: violations ------------------------------------------ */

/* cmocka setup/teardown for every test: the violation handler fails the
   test (on the test's thread; elsewhere it is counted and the teardown
   fails), the fake CPU and the MMIO hooks start clean. */
int core_setup(void **state);
int core_teardown(void **state);
#define CORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, core_setup, core_teardown)

/* A test that misbehaves on purpose: violations are counted, not fatal,
   until core_expect_violations(0).  core_expect_violation() then checks the
   last one mentions frag and forgets them. */
void core_expect_violations(int on);
void core_expect_violation(const char *frag);
void core_assert_clean(void);
/* A per-test time limit (core_watchdog.c), armed by core_setup. */
void core_watchdog_arm(void);
void core_watchdog_disarm(void);

/* ---- the MMIO interposer (core_impl.c) --------------------------------------
   virtq's VIRTQ_MMIO_READ32/WRITE32 go through here to the fake.  Tests
   count accesses and make one register read as something else (a device
   with a bad magic or an unknown version). */
void core_mmio_reset(void);
unsigned core_mmio_writes(uintptr_t base); /* 32-bit writes into base's window */
unsigned core_mmio_reads(uintptr_t addr);  /* 32-bit reads of exactly addr */
void core_mmio_override(uintptr_t addr, uint32_t val); /* reads of addr return val */

/* Hooks inside virtq's blocking shims, after virtq's last check and right
   before it blocks (VIRTQ_OS_WAIT) or sleeps (VIRTQ_WFI): the window in
   which a completion must not be lost. */
typedef void (*core_hook_fn)(void *ctx);
/* VIRTQ_WAIT_CUSTOM's body: called once per round of virtq_wait. */
typedef void (*core_custom_fn)(void *ctx, struct virtq_dev *dev, struct virtq *vq,
                               uint64_t remaining_us);
void core_set_custom_wait(core_custom_fn fn, void *ctx);
void core_set_os_wait_hook(core_hook_fn fn, void *ctx);
void core_set_wfi_hook(core_hook_fn fn, void *ctx);
/* Once: run fn inside the (skip + 1)-th VIRTQ_NOW_US() from now.  In
   virtq_wait() the first reading sets the deadline and the second follows
   the first "nothing yet" check: skip 1 lands a completion between that
   check and the re-arm. */
void core_arm_now_hook(core_hook_fn fn, void *ctx, unsigned skip);
unsigned core_hook_runs(void);

/* VIRTQ_CONFIG_RETRIES and VIRTQ_RESET_POLLS as the implementation has them. */
extern const unsigned core_config_retries;
extern const unsigned core_reset_polls;

/* ---- the cookie ledger -------------------------------------------------------- */

#define LEDGER_MAX 512
struct ledger {
    void *ck[LEDGER_MAX];
    uint8_t out[LEDGER_MAX];
    unsigned n, submitted, returned;
};
void ledger_init(struct ledger *l);
/* A cookie was accepted by virtq_add*(): it must not be outstanding. */
void ledger_out(struct ledger *l, void *ck);
/* A cookie came back (get or detach): it must be outstanding. */
void ledger_back(struct ledger *l, void *ck);
unsigned ledger_outstanding(const struct ledger *l);
void ledger_assert_all_back(const struct ledger *l);

/* ---- the blk rig ------------------------------------------------------------------- */

#define RIG_QMAX 256
#define RIG_SECTORS 256u /* 128 KiB disk */
#define BREQ_MAX_SECT 8u

struct rig {
    struct virtq_fake_dev *fd;
    struct virtq_dev dev;
    struct virtq vq;
    struct virtq_slot slots[RIG_QMAX];
    uint8_t *ring;
    size_t ring_bytes;
    int version;
    uint8_t *image;  /* the disk the fake serves (in place) */
    uint8_t *expect; /* what the test believes is on it */
    uint32_t sectors;
    struct ledger led;
    uint32_t last_isr; /* what virtq_dev_isr() returned last (rig_irq_to_isr) */
    unsigned isr_calls;
};

/* A fake blk device (version 1 or 2) offering extra features on top of the
   blk bits, QueueNumMax qmax (0: 128), over a patterned disk. */
struct rig *rig_new(int version, uint64_t extra_features, uint16_t qmax);
/* Probe, begin, negotiate(wanted, 0), queue 0 with num entries, DRIVER_OK. */
void rig_up(struct rig *r, uint64_t wanted, uint32_t num);
/* After a reset: begin, negotiate, queue 0 again, DRIVER_OK. */
void rig_reinit(struct rig *r, uint64_t wanted, uint32_t num);
/* Reset the device, detach every outstanding cookie into the ledger and
   check the ledger balances; the queue is then empty and un-broken. */
void rig_reset_detach(struct rig *r);
/* Route the fake's interrupt callback to virtq_dev_isr(&r->dev), noting
   its result in r->last_isr and counting calls in r->isr_calls. */
void rig_irq_to_isr(struct rig *r);
void rig_free(struct rig *r);

/* Request shapes (all are valid blk framings). */
enum {
    SH_PLAIN,    /* header | data | status */
    SH_SPLIT,    /* header | data in 3 uneven pieces | status */
    SH_INDIRECT, /* SH_SPLIT through one indirect descriptor */
    SH_MERGED,   /* IN only: header | data+status in one buffer (modern) */
    SH_COUNT
};

struct breq {
    _Alignas(16) struct virtq_desc table[8]; /* indirect table (16-aligned) */
    struct virtio_blk_outhdr hdr;
    uint32_t type, nsect;
    uint64_t sector;
    int shape;
    uint8_t status;
    uint8_t buf[BREQ_MAX_SECT * VIRTIO_BLK_SECTOR + 1];
};
/* calloc'd (16-aligned) requests. */
struct breq *breqs_new(unsigned n);

/* Build and add one read (VIRTIO_BLK_T_IN) or write (T_OUT, data made
   from seed) as shape; returns virtq_add*()'s result and records the
   cookie in the ledger on success. */
int breq_add(struct rig *r, struct breq *q, uint32_t type, uint64_t sector, uint32_t nsect, int shape,
             uint32_t seed);
/* q came back with used len: status OK, len right, read data equal to the
   expected disk, written data on the disk (then expected). */
void breq_check(struct rig *r, struct breq *q, uint32_t len);
/* virtq_get() one completion, ledger and check it; returns the request. */
struct breq *rig_get_one(struct rig *r);
/* Submit one request, kick, wait (1 s), get and check it. */
void rig_io(struct rig *r, uint32_t type, uint64_t sector, uint32_t nsect, int shape, uint32_t seed);
/* The disk equals what the test expects. */
void rig_assert_disk(const struct rig *r);

/* The byte at disk offset off in the initial pattern. */
uint8_t disk_pattern(uint64_t off);

/* ---- small utilities ------------------------------------------------------------ */

void sleep_us(unsigned us);
/* Poll cond (a function of ctx) every 100 us for up to limit_us: 1 if it held. */
int wait_until(int (*cond)(void *ctx), void *ctx, unsigned limit_us);

/* ---- the groups (one per file) --------------------------------------------------- */

int core_group_init(void);
int core_group_io(void);
int core_group_config(void);
int core_group_faults(void);
int core_group_waits(void);
int core_group_ooo(void);
int core_group_spec(void);
int core_group_scan(void);
int core_group_pci(void);

#endif
