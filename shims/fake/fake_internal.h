/* SPDX-License-Identifier: MIT */
/* fake_internal.h — what the fake's own files share; not for users.  Cross-file
   helpers carry the fk_ prefix; the file that defines each is named above
   its prototype. */
#ifndef VIRTQ_FAKE_INTERNAL_H
#define VIRTQ_FAKE_INTERNAL_H

#include "virtq_fake.h"

#include <pthread.h>
#include <stdarg.h>

/* Spec sections named in violation messages (VirtIO 1.2). */
#define S_STATUS "2.1 \"Device Status Field\""
#define S_FEATURES "2.2 \"Feature Bits\""
#define S_CONFIG "2.5 \"Device Configuration Space\""
#define S_SPLIT "2.7 \"Split Virtqueues\""
#define S_FRAMING "2.7.4 \"Message Framing\""
#define S_DESC "2.7.5 \"The Virtqueue Descriptor Table\""
#define S_INDIRECT "2.7.5.3 \"Indirect Descriptors\""
#define S_AVAIL "2.7.6 \"The Virtqueue Available Ring\""
#define S_USED_SUPP "2.7.7 \"Used Buffer Notification Suppression\""
#define S_AVAIL_SUPP "2.7.10 \"Available Buffer Notification Suppression\""
#define S_SUPPLY "2.7.13 \"Supplying Buffers to The Device\""
#define S_INIT "3.1 \"Device Initialization\""
#define S_REGS "4.2.2 \"MMIO Device Register Layout\""
#define S_VQCFG "4.2.3.2 \"Virtqueue Configuration\""
#define S_NOTIFY "4.2.3.3 \"Available Buffer Notifications\""
#define S_LEGACY "4.2.4 \"Legacy interface\""
#define S_RESERVED "6 \"Reserved Feature Bits\""
/* The packed ring ("Packed Virtqueues", VirtIO 1.2 section 2.8). */
#define S_PACKED "2.8 \"Packed Virtqueues\""
#define S_P_WRAP "2.8.1 \"Driver and Device Ring Wrap Counters\""
#define S_P_ELEM "2.8.4 \"Element Address and Length\""
#define S_P_NEXT "2.8.6 \"Next Flag: Descriptor Chaining\""
#define S_P_EVENT "2.8.10 \"Driver and Device Event Suppression\""
#define S_P_VQ "2.8.11 \"Driver Requirements: Virtqueues\""
#define S_P_FORMAT "2.8.13 \"The Virtqueue Descriptor Format\""
#define S_P_EVFMT "2.8.14 \"Event Suppression Structure Format\""
#define S_P_TABLE "2.8.16 \"Driver Requirements: The Virtqueue Descriptor Table\""
#define S_P_SG "2.8.17 \"Driver Requirements: Scatter-Gather Support\""
#define S_P_IND_FLAG "2.8.7 \"Indirect Flag: Scatter-Gather Support\""
#define S_P_PLACE "2.8.21.1 \"Placing Available Buffers Into The Descriptor Ring\""
#define S_P_INDIRECT "2.8.19 \"Driver Requirements: Indirect Descriptors\""

#define ST_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define ST_DRIVER VIRTIO_STATUS_DRIVER
#define ST_DRIVER_OK VIRTIO_STATUS_DRIVER_OK
#define ST_FEATURES_OK VIRTIO_STATUS_FEATURES_OK
#define ST_NEEDS_RESET VIRTIO_STATUS_NEEDS_RESET
#define ST_FAILED VIRTIO_STATUS_FAILED
#define ST_ALL (ST_ACK | ST_DRIVER | ST_DRIVER_OK | ST_FEATURES_OK | ST_NEEDS_RESET | ST_FAILED)

#define MAX_UNDELIVERED 8

/* ---- types ----------------------------------------------------------------- */

enum { REQ_PENDING, REQ_HELD, REQ_LOST };

/* One chain taken from the available ring.  pub.seg points into this
   allocation; ring[] lists the descriptor-table entries the chain owns. */
struct fake_req {
    struct virtq_fake_req pub;
    struct fake_req *next; /* on the queue's parked list */
    uint32_t epoch;        /* the queue setup it belongs to */
    uint16_t nring;
    uint16_t ndesc; /* packed: ring descriptors the buffer took */
    uint8_t state;
    uint16_t *ring;
};

struct fake_queue {
    uint16_t num_max, num;
    uint8_t ready, broken, suppress, force_irq;
    uint64_t desc_addr, driver_addr, device_addr; /* modern registers */
    uint32_t pfn, align;                          /* legacy registers */
    uint32_t epoch;
    /* the live ring */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail; /* next available entry the device takes */
    uint16_t seen_avail; /* avail.idx last read */
    uint16_t used_idx;   /* the device's used.idx */
    uint16_t batch_old;  /* used_idx when the current batch began */
    uint32_t bad_flags;  /* last invalid avail.flags reported (+1), 0 none */
    uint8_t *owned;      /* [num]: descriptor is in flight */
    uint32_t *visit;     /* [num]: chain-walk stamps (loop detection) */
    uint32_t stamp;
    struct virtq_fake_seg *scratch_seg; /* [num]: the chain being walked */
    uint16_t *scratch_ring;             /* [num] */
    struct fake_req **pending;          /* [num]: taken, not yet served */
    int npending;
    struct fake_req *parked; /* held by the model or swallowed */
    int fault, fault_count;
    struct virtq_fake_queue_stats st;
    /* The packed ring (fake_packed_*.c), when VIRTIO_F_RING_PACKED is
       negotiated.  A position is pos | wrap << 15, as in the event
       suppression "desc" field.  owned[] is then indexed by Buffer ID. */
    uint8_t packed;
    uint8_t nocheck;     /* a fault (or a reported driver error) spoilt the
                            ring state: stop checking the driver against it */
    struct pvirtq_desc *pdesc;
    struct pvirtq_event_suppress *pdrv, *pdev; /* Driver / Device Area */
    uint16_t avail_pw;   /* next descriptor the device reads */
    uint16_t used_pw;    /* where the next used descriptor goes */
    uint16_t batch_pw;   /* used_pw when the current batch began */
    uint32_t bad_drv;    /* last invalid driver event flags reported (+1) */
};

struct virtq_fake_dev {
    pthread_mutex_t lock; /* recursive: models may call back in */
    int depth;
    int slot;
    uintptr_t base;
    int version;
    uint32_t device_id, vendor_id;
    uint64_t offered;
    int nq;
    struct fake_queue q[VIRTQ_FAKE_MAX_QUEUES];
    uint8_t *config;
    uint32_t config_len;
    struct virtq_fake_cfg_field *fields;
    int nfields;
    const struct virtq_fake_model *model;
    void *model_ctx;
    /* registers */
    uint32_t status, isr, generation;
    uint32_t dev_sel, drv_sel, queue_sel, page_size;
    uint8_t dev_sel_written, dev_sel_fresh, drv_sel_written, drv_high_garbage;
    uint8_t fo_unchecked; /* FEATURES_OK written, status not read back yet */
    uint8_t refuse_fo;
    uint8_t reset_stuck; /* test switch: a Status write of 0 does nothing */
    uint8_t want_packed; /* test switch: FEATURES_OK needs RING_PACKED if offered */
    uint64_t drv_features, negotiated;
    uint32_t flap;
    /* completion */
    enum virtq_fake_mode mode;
    uint64_t rng;
    /* interrupt line */
    virtq_fake_irq_fn irq_fn;
    void *irq_ctx;
    int connected;
    int raise_pending;
    /* device thread */
    pthread_t thread;
    int thread_running, thread_stop;
    uint32_t max_delay_us;
    pthread_mutex_t kick_lock;
    pthread_cond_t kick_cond;
    uint32_t kicks;
    /* violations waiting for a thread that may run the handler */
    char undelivered[MAX_UNDELIVERED][VIRTQ_FAKE_MSG_MAX];
    int nundelivered;
    unsigned violations;
    struct virtq_fake_stats st;
};

/* ---- shared between the fake's files (file that defines each) ---- */


/* fake_vio.c */
void fk_vio_deliver(const char *msg);
void fk_dev_vio_v(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt,
                      va_list ap);
void fk_vio(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt, ...);

/* fake_lock.c */
void fk_dev_lock(struct virtq_fake_dev *d);
void fk_dev_unlock(struct virtq_fake_dev *d);

/* fake_registry.c */
int fk_registry_add(struct virtq_fake_dev *d, uintptr_t base);
void fk_registry_remove(struct virtq_fake_dev *d);
struct virtq_fake_dev *fk_lookup(uintptr_t addr);

/* fake_util.c */
uint64_t fk_rng_next(struct virtq_fake_dev *d);
int fk_is_pow2(uint32_t x);
void *fk_xcalloc(size_t n, size_t size);
int fk_has_feat(const struct virtq_fake_dev *d, int bit);

/* fake_irq.c */
void fk_raise_irq(struct virtq_fake_dev *d, uint32_t bits);
void fk_set_needs_reset(struct virtq_fake_dev *d);
void fk_break_queue(struct virtq_fake_dev *d, struct fake_queue *q);

/* fake_queue.c */
void fk_req_release(struct fake_queue *q, struct fake_req *r);
void fk_queue_teardown(struct fake_queue *q, int drop_held);
uint16_t *fk_avail_event_ptr(struct fake_queue *q);
uint16_t *fk_used_event_ptr(struct fake_queue *q);
void fk_publish_notify_wish(struct virtq_fake_dev *d, struct fake_queue *q);
int fk_queue_activate(struct virtq_fake_dev *d, int qi, uint64_t desc, uint64_t avail,
                          uint64_t used);
void fk_queue_defaults(struct fake_queue *q);
void fk_dev_reset(struct virtq_fake_dev *d);

/* fake_walk.c */
struct fake_req *fk_walk_chain(struct virtq_fake_dev *d, int qi, uint16_t head);

/* fake_split.c */
int fk_can_serve(const struct virtq_fake_dev *d, const struct fake_queue *q);
int fk_pop_avail(struct virtq_fake_dev *d, int qi);
void fk_put_used(struct fake_queue *q, uint32_t id, uint32_t len);
void fk_finish_req(struct virtq_fake_dev *d, struct fake_queue *q, struct fake_req *r, uint32_t len);
void fk_batch_begin(struct fake_queue *q);
void fk_batch_end(struct virtq_fake_dev *d, int qi, struct fake_queue *q);
int fk_complete_some(struct virtq_fake_dev *d, int qi, int n, int random);
int fk_take_fault(struct fake_queue *q, int fault);

/* fake_complete.c */
int fk_serve_queue(struct virtq_fake_dev *d, int qi);
void fk_notify(struct virtq_fake_dev *d, uint32_t val);

/* fake_packed_queue.c: the packed ring's memory, positions, notifications */
uint16_t fk_pw_add(const struct fake_queue *q, uint16_t pw, uint32_t n);
uint32_t fk_pw_dist(const struct fake_queue *q, uint16_t a, uint16_t b);
int fk_packed_activate(struct virtq_fake_dev *d, int qi, uint64_t desc, uint64_t drv, uint64_t dev);
void fk_packed_notify_wish(struct virtq_fake_dev *d, struct fake_queue *q);
void fk_packed_notify_data(struct virtq_fake_dev *d, int qi, uint32_t data, int exact);
void fk_packed_default(struct virtq_fake_dev *d);

/* fake_packed_walk.c: taking available descriptors */
int fk_packed_pop(struct virtq_fake_dev *d, int qi);

/* fake_packed_used.c: used descriptors, faults, used buffer notifications */
void fk_packed_put_used(struct virtq_fake_dev *d, struct fake_queue *q, uint32_t id, uint32_t len,
                        uint16_t ndesc);
void fk_packed_finish_req(struct virtq_fake_dev *d, struct fake_queue *q, struct fake_req *r,
                          uint32_t len);
void fk_packed_batch_end(struct virtq_fake_dev *d, int qi, struct fake_queue *q);

/* fake_status.c */
void fk_status_write(struct virtq_fake_dev *d, uint32_t val);
void fk_driver_features_write(struct virtq_fake_dev *d, uint32_t val);

/* fake_pci.c: the virtio-pci front end; 1 when addr is one of its
   windows (configuration space or BAR), the access then done. */
int fk_pci_read(uintptr_t addr, int width, uint32_t *val);
int fk_pci_write(uintptr_t addr, uint32_t val, int width);

/* fake_cache.c: the device's accesses to buffer memory when the
   non-coherent cache is modelled (1: done through the model; 0: the mode
   is off, access the memory directly).  kind/buf/qi/head name the buffer
   in reports (head -1: none). */
int fk_cache_dev_read(const char *kind, const void *buf, int qi, int head, const void *src,
                      void *dst, size_t n);
int fk_cache_dev_write(const char *kind, const void *buf, int qi, int head, void *dst,
                       const void *src, size_t n);
void fk_cache_flush(void);

/* fake_config.c */
uint32_t fk_cfg_read(struct virtq_fake_dev *d, uint32_t off, int width);
void fk_cfg_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val, int width);

/* Report a violation that belongs to no device (or to the fake CPU): the
   message is recorded and handed to the handler at once, so call it with
   no fake lock held. */
void virtq_fake__violation_now(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The fake CPU: a device raised its (connected) interrupt line. */
void virtq_fake__cpu_raise(void);
/* An "instruction boundary" on the calling thread: take a pending
   interrupt if this thread is the CPU and interrupts are unmasked. */
void virtq_fake__cpu_boundary(void);
/* Number of devices whose interrupt line reaches the fake CPU. */
int virtq_fake__irq_lines_connected(void);

#endif
