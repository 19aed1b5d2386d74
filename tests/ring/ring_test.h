/* SPDX-License-Identifier: MIT */
/* tests/ring/ring_test.h — shared pieces of the split-ring unit tests.
 *
 * The tests drive virtq's ring directly: the test plays the device by
 * reading the descriptor table and available ring and writing used
 * elements and used.idx into the ring memory (rt_dev_*).  No MMIO here.
 * Everything checks against the VirtIO spec ("Split Virtqueues") and the
 * contract written in src/api.h, never against virtq's own code paths.
 */
#ifndef RING_TEST_H
#define RING_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define VIRTQ_PUBLISH_DEFER 1 /* the publish in two steps is tested here */
#include "virtq.h"
#include "../common/vq_test.h"

/* Largest ring the snapshot helper handles (the device and the free-list
   checker take any size up to VIRTQ_MAX_SIZE). */
#define RT_MAX_NUM 256u
/* Longest chain the test device records. */
#define RT_MAX_SEG 256u

#define RT_F_INDIRECT VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC)
#define RT_F_EVENT_IDX VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)
#define RT_F_ORDER_PLATFORM VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM)
#define RT_F_PACKED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)

/* ---- ring memory ------------------------------------------------------- */

/* A queue over heap memory sized exactly virtq_ring_bytes() (and slots
   exactly num entries), so ASan flags any access past either. */
struct rt_ring {
    struct virtq vq;
    void *mem;
    struct virtq_slot *slots;
    size_t bytes;
    uint32_t num, align;
    uint64_t features;
};

void *rt_aligned_alloc(size_t align, size_t size);
void rt_aligned_free(void *p);
/* Allocate, fill with garbage, virtq_init (asserting VIRTQ_OK). */
void rt_ring_init(struct rt_ring *r, uint32_t num, uint32_t align, uint64_t features);
void rt_ring_free(struct rt_ring *r);

/* ---- the device played by the test ------------------------------------ */

struct rt_seg {
    uint64_t addr;
    uint32_t len;
    int write;
};

/* One chain as the device sees it, after validation. */
struct rt_chain {
    uint16_t head;
    uint16_t ndesc;   /* ring descriptors the chain occupies */
    int indirect;     /* the head is an indirect table */
    unsigned nseg;    /* segments, readable ones first */
    unsigned nout;    /* readable segments */
    uint64_t wlen;    /* writable bytes */
    struct rt_seg seg[RT_MAX_SEG];
};

struct rt_dev {
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    volatile uint16_t *used_event;  /* &avail->ring[num] */
    volatile uint16_t *avail_event; /* &used->ring[num] */
    uint16_t num;
    int event_idx;     /* VIRTIO_F_EVENT_IDX negotiated */
    int indirect;      /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint16_t last_avail; /* next avail entry the device takes */
    uint16_t used_idx;   /* next used entry the device fills */
    uint16_t used_pub;   /* used.idx as last written */
    unsigned long pops, flushes, irqs;
};

/* Take the ring addresses the transport would hand a device.  The ring
   must be fresh (all indices 0). */
void rt_dev_attach(struct rt_dev *d, const struct virtq *vq, uint64_t features);
/* Published chains not yet taken (avail.idx - last_avail). */
unsigned rt_dev_avail(const struct rt_dev *d);
/* Take one published chain and check it against the spec's driver rules
   (a violation fails the test).  1 with *c filled, 0 when none. */
int rt_dev_pop(struct rt_dev *d, struct rt_chain *c);
/* Write a used element at the device's next used slot (not yet visible). */
void rt_dev_use(struct rt_dev *d, uint32_t id, uint32_t len);
/* Publish the used elements (write used.idx).  Returns 1 when the device
   must interrupt per "Used Buffer Notification Suppression" (computed by
   enumeration, independently of virtq_need_event()). */
int rt_dev_flush(struct rt_dev *d);
void rt_dev_set_avail_event(struct rt_dev *d, uint16_t v);
void rt_dev_set_no_notify(struct rt_dev *d, int on);
/* Pop, use with len, flush: one whole round trip on the device side for
   every published chain.  Returns the number completed. */
unsigned rt_dev_complete_all(struct rt_dev *d, uint32_t len);

/* Is e in the 16-bit window [old, new_idx)?  By enumeration. */
int rt_in_window(uint16_t e, uint16_t new_idx, uint16_t old);

/* ---- invariants and snapshots ------------------------------------------ */

/* The private free list and the in-flight chains (heads with a cookie,
   walked through the private links for ndesc entries) partition the ring
   exactly: every descriptor in one of them, none twice, free list acyclic
   of length num_free.  Returns the number of in-flight heads. */
unsigned rt_check_freelist(const struct virtq *vq);

/* VIRTQ_LOG and VIRTQ_ASSERT of the implementation (t_main.c). */
extern char rt_last_log[256];
void rt_log(const char *fmt, ...);
void rt_assert_failed(const char *what, const char *file, int line);

/* Everything a failed call must leave alone, byte for byte: the struct
   virtq, the slot array and the whole ring memory (descriptor table, free
   descriptors included, avail and used rings, padding).  Free descriptors
   are the driver's, but docs/HARDENING.md promises a refused call writes
   nothing at all. */
struct rt_snap {
    struct virtq vq;
    struct virtq_slot slot[RT_MAX_NUM];
    unsigned char mem[VIRTQ_RING_BYTES(RT_MAX_NUM, VIRTQ_ALIGN_LEGACY)];
    size_t mem_len;
};
void rt_snap_take(struct rt_snap *s, const struct virtq *vq);
void rt_snap_check(const struct rt_snap *s, const struct virtq *vq);

/* ---- barrier hooks --------------------------------------------------------- */

/* t_main.c builds virtq with VIRTQ_MB/RMB/WMB and the DMA forms routed
   through rt_barrier(): a real fence, a count per kind, and an optional
   hook that runs at that exact point of virtq's code.  A hook can check
   what virtq already stored and play a device acting right then. */
enum rt_barrier_kind { RT_MB, RT_RMB, RT_WMB, RT_DMA_MB, RT_DMA_RMB, RT_DMA_WMB, RT_BARRIER_KINDS };
void rt_barrier(enum rt_barrier_kind kind);
extern unsigned long rt_barrier_count[RT_BARRIER_KINDS];
extern void (*rt_barrier_hook)(enum rt_barrier_kind kind, void *ctx);
extern void *rt_barrier_ctx;
void rt_barrier_reset(void);

/* ---- misc ---------------------------------------------------------------- */

/* xorshift32: deterministic, seedable. */
uint32_t rt_rand(uint32_t *state);
/* Round one request trip: add one readable byte, publish, device pops and
   uses it, driver gets it.  n times.  Moves every index by n. */
void rt_advance(struct virtq *vq, struct rt_dev *d, unsigned long n);

/* ---- the randomised driver/device simulation (sim.c) ------------------- */

enum rt_order { RT_ORDER_FIFO, RT_ORDER_REVERSE, RT_ORDER_SHUFFLE };

struct rt_sim_opts {
    uint32_t num;
    uint32_t align;          /* VIRTQ_ALIGN_MODERN (0: the same) or _LEGACY */
    uint64_t features;
    unsigned long total;     /* requests to submit */
    uint32_t seed;
    unsigned max_chain;      /* 1..4 segments per request */
    unsigned indirect_pct;   /* share of requests added indirect */
    enum rt_order order;     /* which held chain the device completes next */
    unsigned lag;            /* device holds up to this many before completing */
    unsigned event_slack;    /* device sets avail_event up to this far ahead */
    int intr_games;          /* driver randomly disables/enables interrupts */
};

struct rt_sim_result {
    unsigned long submitted, completed, publishes, kicks, flushes, irqs;
    unsigned long indirect, enospc, wraps, max_outstanding;
};

void rt_sim_run(const struct rt_sim_opts *o, struct rt_sim_result *res);

/* ---- test groups ---------------------------------------------------------- */

int rt_group_layout(void);
int rt_group_add(void);
int rt_group_publish(void);
int rt_group_get(void);
int rt_group_wrap(void);
int rt_group_ooo(void);
int rt_group_intr(void);
int rt_group_detach(void);
int rt_group_order(void);
int rt_group_submit(void);

#endif
