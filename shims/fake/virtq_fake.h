/* SPDX-License-Identifier: MIT */
/* virtq_fake.h — a host-side fake virtio-mmio device that checks the driver.

   The fake plays the device side of virtio-mmio (legacy v1 and modern v2)
   and of the split and packed virtqueues, on a Linux host, for tests.  Every register
   access, status transition, descriptor chain, index and flag the driver
   produces is checked against the VirtIO 1.2 spec; a broken rule is reported
   as a violation that names the spec section, e.g.

     fake: 2.7.4 "Message Framing": readable descriptor 3 after a writable one [dev 0x10001000 q0]

   Host test code only: C11, pthreads, malloc.  Link libvirtq_fake.a
   (mk/fake.mk builds it) and build the translation unit that defines
   VIRTQ_IMPLEMENTATION like this:

     #define VIRTQ_IMPLEMENTATION
     #include "virtq_fake.h"        // first: it points virtq.h's shims at the fake
     #include "virtq.h"             // (already included by virtq_fake.h; harmless)

   Wiring a driver to it:

     static void my_irq(struct virtq_fake_dev *fd, void *ctx) { virtq_dev_isr(ctx); }

     static uint8_t disk[64 * 512];
     struct virtq_dev vdev;
     struct virtq_fake_blk_params bp = { .version = 2, .image = disk,
         .image_bytes = sizeof disk, .features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX) };
     struct virtq_fake_dev *fd = virtq_fake_blk_create(&bp);
     virtq_fake_set_irq_callback(fd, my_irq, &vdev);  // the "interrupt handler"
     virtq_mmio_probe(&vdev, virtq_fake_base(fd));     // the driver now talks to the fake
     ... virtq_dev_begin, _negotiate, _queue_setup (legacy rings from
         virtq_fake_lowmem_alloc), _driver_ok, virtq_add, _dev_kick, _wait, _get ...
     virtq_fake_destroy(fd);

   Interrupts are edge-like: each raise is one callback (or one pending
   interrupt on the fake CPU); InterruptStatus keeps its bits until the
   driver writes InterruptACK.

   What the shims do (all defined below, each only if not defined already):

     VIRTQ_MMIO_READ8/16/32(addr), VIRTQ_MMIO_WRITE8/16/32(addr, v)
         -> virtq_fake_mmio_read/write(): the device registered at that address
            answers; an address no fake device owns is a violation.
     VIRTQ_NOW_US()          CLOCK_MONOTONIC in microseconds.
     VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us), VIRTQ_OS_WAKE(ctx)
         -> a futex-like wait on a struct virtq_fake_os channel (or a global one
            when ctx is NULL): block while *seqptr == seen, 0 when woken or the
            value changed, 1 on timeout.
     VIRTQ_IRQ_SAVE(), VIRTQ_IRQ_RESTORE(flags), VIRTQ_WFI(), VIRTQ_WFI_ALARM_US(t)
         -> one fake CPU.  SAVE masks its interrupts and returns the previous
            mask; RESTORE puts it back and, when unmasked with an interrupt
            pending, runs the handler set by virtq_fake_cpu_set_isr() right
            there, like a CPU taking the trap.  WFI sleeps until an interrupt is
            pending (even while masked, like RISC-V wfi) or the alarm deadline
            (a VIRTQ_NOW_US() value; 0 disarms) has passed.  A device raises the
            fake CPU's interrupt only after virtq_fake_connect_irq(dev, 1): an
            unconnected device is a board that never routed its IRQ, and wfi
            then wakes only for the alarm.  A wfi that nothing can ever end (no
            alarm, nothing pending, no device connected) is reported as a
            violation instead of hanging the test; so is one that sleeps longer
            than the wfi limit (virtq_fake_cpu_set_wfi_limit_us) with no alarm.
            The CPU is the thread that called virtq_fake_cpu_set_isr(): an
            interrupt raised on that thread while unmasked runs the handler at
            once; one raised on another thread (the device thread) stays pending
            until the CPU thread next passes an "instruction boundary": SAVE,
            RESTORE, WFI or any fake MMIO access.
     VIRTQ_WAIT              SPIN | WFI | OS, so every strategy is built in.
     VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes), VIRTQ_DMA_SYNC_FOR_CPU(p, len)
         -> virtq_fake_dma_sync_for_device/_cpu(): nothing unless the
            non-coherent cache is modelled (virtq_fake_cache_enable, below);
            then clean (and invalidate) / invalidate the lines of [p, p+len).

   Threads and callbacks: each device has one lock.  Interrupt callbacks,
   the fake CPU's handler and the violation handler are called with no fake
   lock held, so they may call back into the fake (virtq_dev_isr() does MMIO).
   A violation found on the device thread (virtq_fake_start_thread) is
   recorded at once and handed to the violation handler by the next fake call
   made on another thread, so a handler that longjmps (cmocka's fail_msg)
   always runs on the test's own thread.

   What happens after a violation: the action is counted and the message kept
   (virtq_fake_violation_count / virtq_fake_last_violation).  Register writes
   are mostly applied anyway (the fake is a permissive device that tells on
   the driver), except those that cannot be: an oversized QueueNum is
   ignored, QueueReady stays 0, a notify before DRIVER_OK is dropped, a
   refused FEATURES_OK does not stick.  A bad available ring or descriptor
   chain latches that queue broken (no more processing) and, like QEMU's
   virtio_error(), sets DEVICE_NEEDS_RESET and raises a configuration change
   interrupt once DRIVER_OK is set; a reset clears it.  Device models report
   request-level violations and then complete the request with an error.

   The packed ring ("Packed Virtqueues").  A modern device whose features
   include VIRTIO_F_RING_PACKED (set it in params.features, or run the test
   with VIRTQ_FAKE_RING=packed in the environment: then every modern device
   created offers it and refuses FEATURES_OK without it, so a whole binary
   runs packed or fails) plays the packed device side once the driver
   accepts it, on MMIO and PCI alike: queue addresses are the descriptor
   ring and the driver and device event suppression structures; Queue Size
   need not be a power of 2.  The device reads descriptors in ring order
   with its wrap counter, follows NEXT lists and packed indirect tables,
   writes one used descriptor per buffer (Buffer ID, len, AVAIL = USED =
   its wrap counter, WRITE when len > 0) in completion order and skips the
   list's other descriptors; it interrupts as the Driver Event Suppression
   structure says (ENABLE, DISABLE, or DESC with EVENT_IDX: when a used
   descriptor covers that position) and writes its own structure for the
   driver's kick decision (DISABLE while virtq_fake_suppress_notify is on;
   DESC at the next descriptor it reads with EVENT_IDX; else ENABLE).
   Checked on the driver: zeroed descriptor ring and alignment at enable;
   a list whose first descriptor is available before the rest; AVAIL/USED
   saying "used in this lap" where the device used nothing (a wrong wrap
   counter); lists longer than Queue Size or than the free ring space;
   elements of address 0 or length 0; readable after writable; INDIRECT
   without the feature, with NEXT or inside a NEXT list; flags other than
   WRITE in an indirect table; a Buffer ID made available while in flight;
   a descriptor changed after it was made available and before it was
   used; reserved or invalid driver event flags; NOTIFICATION_DATA not
   naming the next descriptor not yet made available.
   virtq_fake_queue_view() fails on a packed queue (its pointers are split
   ones); virtq_fake_push_used_raw() writes one used descriptor at the
   device's used position and moves it on by one. */
#ifndef VIRTQ_FAKE_H_INCLUDED
#define VIRTQ_FAKE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the shim entry points (what the macros below call) ---------------- */

uint32_t virtq_fake_mmio_read(uintptr_t addr, int width);            /* width 1, 2, 4 */
void virtq_fake_mmio_write(uintptr_t addr, uint32_t val, int width); /* width 1, 2, 4 */
uint64_t virtq_fake_now_us(void);
int virtq_fake_os_wait(void *ctx, const volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
void virtq_fake_os_wake(void *ctx);
unsigned long virtq_fake_cpu_irq_save(void);
void virtq_fake_cpu_irq_restore(unsigned long flags);
void virtq_fake_cpu_wfi(void);
void virtq_fake_cpu_alarm_us(uint64_t deadline_us);
void virtq_fake_dma_sync_for_device(const void *p, size_t len, int device_writes);
void virtq_fake_dma_sync_for_cpu(const void *p, size_t len);

#ifdef __cplusplus
} /* extern "C" */
#endif

#if defined(VIRTQ_IMPLEMENTATION_INCLUDED) && !defined(VIRTQ_FAKE_SHIMS)
#error "virtq_fake.h: include it before virtq.h in the VIRTQ_IMPLEMENTATION file"
#endif
#define VIRTQ_FAKE_SHIMS 1

#ifndef VIRTQ_MMIO_READ8
#define VIRTQ_MMIO_READ8(addr) ((uint8_t)virtq_fake_mmio_read((uintptr_t)(addr), 1))
#endif
#ifndef VIRTQ_MMIO_READ16
#define VIRTQ_MMIO_READ16(addr) ((uint16_t)virtq_fake_mmio_read((uintptr_t)(addr), 2))
#endif
#ifndef VIRTQ_MMIO_READ32
#define VIRTQ_MMIO_READ32(addr) ((uint32_t)virtq_fake_mmio_read((uintptr_t)(addr), 4))
#endif
#ifndef VIRTQ_MMIO_WRITE8
#define VIRTQ_MMIO_WRITE8(addr, v) virtq_fake_mmio_write((uintptr_t)(addr), (uint8_t)(v), 1)
#endif
#ifndef VIRTQ_MMIO_WRITE16
#define VIRTQ_MMIO_WRITE16(addr, v) virtq_fake_mmio_write((uintptr_t)(addr), (uint16_t)(v), 2)
#endif
#ifndef VIRTQ_MMIO_WRITE32
#define VIRTQ_MMIO_WRITE32(addr, v) virtq_fake_mmio_write((uintptr_t)(addr), (uint32_t)(v), 4)
#endif
#ifndef VIRTQ_NOW_US
#define VIRTQ_NOW_US() virtq_fake_now_us()
#endif
#ifndef VIRTQ_OS_WAIT
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    virtq_fake_os_wait((ctx), (seqptr), (seen), (timeout_us))
#endif
#ifndef VIRTQ_OS_WAKE
#define VIRTQ_OS_WAKE(ctx) virtq_fake_os_wake(ctx)
#endif
#ifndef VIRTQ_IRQ_SAVE
#define VIRTQ_IRQ_SAVE() virtq_fake_cpu_irq_save()
#endif
#ifndef VIRTQ_IRQ_RESTORE
#define VIRTQ_IRQ_RESTORE(flags) virtq_fake_cpu_irq_restore(flags)
#endif
#ifndef VIRTQ_WFI
#define VIRTQ_WFI() virtq_fake_cpu_wfi()
#endif
#ifndef VIRTQ_WFI_ALARM_US
#define VIRTQ_WFI_ALARM_US(deadline_us) virtq_fake_cpu_alarm_us(deadline_us)
#endif
#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_DEVICE
#define VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes) \
    virtq_fake_dma_sync_for_device((const void *)(p), (size_t)(len), (device_writes) ? 1 : 0)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_CPU
#define VIRTQ_DMA_SYNC_FOR_CPU(p, len) virtq_fake_dma_sync_for_cpu((const void *)(p), (size_t)(len))
#endif

/* The wire structs (struct virtq_desc ...), feature and status bits. */
#include "virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits -------------------------------------------------------------- */

#define VIRTQ_FAKE_MAX_DEVICES 16
#define VIRTQ_FAKE_MAX_QUEUES 8
#define VIRTQ_FAKE_BASE0 ((uintptr_t)0x10001000u) /* first default base */
#define VIRTQ_FAKE_STRIDE 0x1000u                  /* register window per device */
#define VIRTQ_FAKE_CONFIG_MAX (VIRTQ_FAKE_STRIDE - VIRTIO_MMIO_CONFIG)
#define VIRTQ_FAKE_MSG_MAX 256                     /* longest violation message */

struct virtq_fake_dev; /* opaque */

/* ---- device models ---------------------------------------------------------
   The core fake knows registers, status, features and the split ring; a
   model gives a device type its meaning (blk here; gpu, net later).  The
   core walks and validates each chain, then hands the model a request: its
   segments in chain order, device-readable ones first.  Addresses are host
   pointers (DMA address == host address on the host). */

struct virtq_fake_seg {
    void *addr;
    uint32_t len;
    uint8_t writable; /* VIRTQ_DESC_F_WRITE */
};

struct virtq_fake_req {
    int queue;
    uint16_t head;       /* the chain's head descriptor (the used id); packed: the Buffer ID */
    uint16_t nseg;
    const struct virtq_fake_seg *seg;
    uint32_t readable;   /* total device-readable bytes */
    uint32_t writable;   /* total device-writable bytes */
};

/* Model return value: "I keep this request and complete it later with
   virtq_fake_req_complete()" (e.g. a net receive buffer waiting for a
   packet).  A held request must be forgotten by the model's reset hook. */
#define VIRTQ_FAKE_HELD 0xffffffffu

struct virtq_fake_model {
    const char *name;
    /* Serve one request; return the bytes written into the writable
       segments (the used len; at most req->writable) or VIRTQ_FAKE_HELD.
       Called with the device lock held, from whichever thread completes. */
    uint32_t (*request)(struct virtq_fake_dev *dev, void *ctx, struct virtq_fake_req *req);
    /* Optional: the driver reset the device (status 0). */
    void (*reset)(struct virtq_fake_dev *dev, void *ctx);
    /* Optional: the driver set FEATURES_OK with these bits; return 0 to
       refuse (the bit does not stick).  Legacy: called at DRIVER_OK. */
    int (*features_ok)(struct virtq_fake_dev *dev, void *ctx, uint64_t accepted);
    /* Optional: a config-space write (after the width and field checks).
       Without it the bytes are stored as written. */
    void (*config_write)(struct virtq_fake_dev *dev, void *ctx, uint32_t off, uint32_t val,
                         int width);
    /* Optional: at virtq_fake_destroy(), to free ctx. */
    void (*destroy)(void *ctx);
};

/* One field of the model's config space, for the access-width rules of
   "MMIO Device Register Layout" (8-bit fields by 8-bit accesses, 16 by 16,
   32- and 64-bit fields by aligned 32-bit accesses) and for "Device
   Configuration Space" (an optional field is read only if its feature bit
   is offered).  Without a field table only alignment and bounds are checked. */
struct virtq_fake_cfg_field {
    uint16_t off;
    uint16_t size;   /* bytes: e.g. 8 for a le64, 6 for u8 mac[6] */
    uint8_t width;   /* element width: 1, 2, 4 or 8 */
    uint8_t writable;
    int16_t feature; /* feature bit that makes the field exist, or -1 */
};

struct virtq_fake_params {
    int version;          /* 1 legacy, 2 modern (0 means 2) */
    uint32_t device_id;   /* VIRTIO_ID_*; 0 is an empty slot */
    uint32_t vendor_id;   /* 0 means 0x554d4551 ("QEMU") */
    uint64_t features;    /* offered */
    int num_queues;       /* 0..VIRTQ_FAKE_MAX_QUEUES */
    uint16_t queue_num_max[VIRTQ_FAKE_MAX_QUEUES]; /* 0 means 256 */
    const void *config;   /* initial config space (copied), config_len bytes */
    uint32_t config_len;  /* <= VIRTQ_FAKE_CONFIG_MAX */
    const struct virtq_fake_cfg_field *config_fields; /* optional */
    int num_config_fields;
    uintptr_t base;       /* 0: the next free VIRTQ_FAKE_BASE0 + i * VIRTQ_FAKE_STRIDE */
    const struct virtq_fake_model *model; /* NULL: requests complete with len 0 */
    void *model_ctx;
};

/* ---- devices ------------------------------------------------------------ */

/* Create a device and map it at its base.  NULL on bad params (also
   reported on stderr) or when the base is taken or the table is full. */
struct virtq_fake_dev *virtq_fake_create(const struct virtq_fake_params *p);
/* Stop its thread, unmap it, free it (and its model via model->destroy). */
void virtq_fake_destroy(struct virtq_fake_dev *dev);
uintptr_t virtq_fake_base(const struct virtq_fake_dev *dev);
struct virtq_fake_dev *virtq_fake_find(uintptr_t base); /* by base, or NULL */
void *virtq_fake_model_ctx(const struct virtq_fake_dev *dev);

/* Device state as the device sees it. */
uint32_t virtq_fake_status(struct virtq_fake_dev *dev);
uint64_t virtq_fake_driver_features(struct virtq_fake_dev *dev); /* accepted */
int virtq_fake_queue_ready(struct virtq_fake_dev *dev, int q);
uint32_t virtq_fake_interrupt_status(struct virtq_fake_dev *dev);

/* Test switches. */
void virtq_fake_set_offered_features(struct virtq_fake_dev *dev, uint64_t features);
void virtq_fake_refuse_features_ok(struct virtq_fake_dev *dev, int refuse);
/* A reset that never finishes: while stuck, a Status write of 0 changes
   nothing and Status keeps reading its old value, so the driver's bounded
   wait for 0 ("Device Reset") has to give up. */
void virtq_fake_stick_reset(struct virtq_fake_dev *dev, int stuck);

/* ---- violations ------------------------------------------------------------ */

/* Called for every violation with the message.  The default (fn NULL)
   prints it to stderr and abort()s. */
typedef void (*virtq_fake_violation_fn)(void *ctx, const char *msg);
void virtq_fake_set_violation_handler(virtq_fake_violation_fn fn, void *ctx);
unsigned virtq_fake_violation_count(void);         /* since the last clear */
const char *virtq_fake_last_violation(void);       /* "" when none; valid until the next */
void virtq_fake_clear_violations(void);
unsigned virtq_fake_dev_violation_count(struct virtq_fake_dev *dev);
/* Report one (for models): "fake: " is prepended, the device appended. */
void virtq_fake_violation(struct virtq_fake_dev *dev, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- interrupts ------------------------------------------------------------ */

/* Called (no fake lock held) each time the device raises its interrupt,
   from the thread that completed the work: the notifying driver thread in
   synchronous mode, the thread calling virtq_fake_step(), or the device
   thread. */
typedef void (*virtq_fake_irq_fn)(struct virtq_fake_dev *dev, void *ctx);
void virtq_fake_set_irq_callback(struct virtq_fake_dev *dev, virtq_fake_irq_fn fn, void *ctx);
/* Route the device's interrupt line to the fake CPU (1) or not (0, the
   default: a board that never enabled the IRQ). */
void virtq_fake_connect_irq(struct virtq_fake_dev *dev, int connected);
/* Set InterruptStatus bits and raise the line, whatever the state. */
void virtq_fake_raise_irq(struct virtq_fake_dev *dev, uint32_t int_bits);

/* ---- completion modes --------------------------------------------------------- */

enum virtq_fake_mode {
    VIRTQ_FAKE_SYNC = 0,         /* complete everything on notify (default) */
    VIRTQ_FAKE_DEFERRED = 1,     /* queue up; virtq_fake_step() completes in order */
    VIRTQ_FAKE_OUT_OF_ORDER = 2, /* queue up; step() picks pseudo-randomly (seeded) */
    VIRTQ_FAKE_REVERSED = 3      /* queue up; step() completes the newest first */
};
void virtq_fake_set_mode(struct virtq_fake_dev *dev, enum virtq_fake_mode mode, uint64_t seed);
/* Take new chains from the available ring (a device may poll; this is
   how a test serves a queue whose notifications it suppressed). Returns
   the number taken; in SYNC mode they are completed too. */
int virtq_fake_poll(struct virtq_fake_dev *dev, int q);
/* Complete up to n queued requests (n < 0: all) as one batch, then decide
   once whether to interrupt.  Polls first when the queue's notifications
   are suppressed.  Returns the number served (-1 while the device thread
   runs: it owns completion then). */
int virtq_fake_step(struct virtq_fake_dev *dev, int q, int n);
/* Requests taken from the ring and queued for step() (deferred modes). */
int virtq_fake_pending(struct virtq_fake_dev *dev, int q);
/* Every request the device still owns: queued, held by the model, or
   swallowed by VIRTQ_FAKE_FAULT_NEVER_COMPLETE. */
int virtq_fake_in_flight(struct virtq_fake_dev *dev, int q);
/* Concurrent mode: a device thread polls every ready queue and completes
   requests in random order (seeded by virtq_fake_set_mode), sleeping a
   random 0..max_delay_us (default 200) between completions, raising
   interrupts from that thread.  0 on success. */
void virtq_fake_set_thread_delay(struct virtq_fake_dev *dev, uint32_t max_delay_us);
int virtq_fake_start_thread(struct virtq_fake_dev *dev);
void virtq_fake_stop_thread(struct virtq_fake_dev *dev);
/* The device lock, for models that touch their own state from outside a
   callback (a test thread feeding a net model a packet): callbacks run
   with it held, and it nests.  Interrupts raised meanwhile are delivered
   at the outermost unlock. */
void virtq_fake_lock(struct virtq_fake_dev *dev);
void virtq_fake_unlock(struct virtq_fake_dev *dev);
/* Let a model finish a request it returned VIRTQ_FAKE_HELD for. */
void virtq_fake_req_complete(struct virtq_fake_dev *dev, struct virtq_fake_req *req,
                             uint32_t written);
/* Byte-stream helpers for models: copy from the device-readable bytes /
   into the device-writable bytes at a stream offset (the chain's framing
   does not matter, "Message Framing").  Return the bytes copied. */
uint32_t virtq_fake_req_read(const struct virtq_fake_req *req, uint32_t off, void *dst,
                             uint32_t len);
uint32_t virtq_fake_req_write(const struct virtq_fake_req *req, uint32_t off, const void *src,
                              uint32_t len);

/* ---- notification suppression by the device ------------------------------------ */

/* Ask the driver not to notify queue q: VIRTQ_USED_F_NO_NOTIFY in
   used.flags, or with EVENT_IDX an avail_event left behind the ring.  Off
   (the default) keeps avail_event at the next index the device will take. */
void virtq_fake_suppress_notify(struct virtq_fake_dev *dev, int q, int on);

/* ---- fault injection --------------------------------------------------------------- */

/* On a packed queue each fault has its packed form: ID_RANGE Queue Size +
   id; ID_HIGH id | 0x8000; ID_NOT_HEAD a Buffer ID the device does not
   hold; COMPLETE_TWICE the same used descriptor again at the next
   position (a repeat); USED_IDX_JUMP the used descriptor one position past
   where it belongs (a skip: the driver sees nothing, a stall it must bound);
   USED_IDX_AHEAD the next position also marked used in this lap, its id and
   len left as found (a flag pair contradicting the ring).  After one of the
   last three the fake stops checking the driver against its own ring state. */
enum virtq_fake_fault {
    VIRTQ_FAKE_FAULT_NONE = 0,
    /* Per completion on queue q, for the next count requests: */
    VIRTQ_FAKE_FAULT_NEVER_COMPLETE,   /* taken from the ring, never used */
    VIRTQ_FAKE_FAULT_COMPLETE_TWICE,   /* the same {id, len} written twice */
    VIRTQ_FAKE_FAULT_ID_RANGE,         /* id = Queue Size + head */
    VIRTQ_FAKE_FAULT_ID_HIGH,          /* id = head | 0x10000 (low 16 bits valid) */
    VIRTQ_FAKE_FAULT_ID_NOT_HEAD,      /* id = a descriptor inside an in-flight chain */
    VIRTQ_FAKE_FAULT_LEN_OVER,         /* len = writable bytes + 1 */
    VIRTQ_FAKE_FAULT_USED_IDX_JUMP,    /* used.idx advances by Queue Size + 1 */
    VIRTQ_FAKE_FAULT_USED_IDX_AHEAD,   /* used.idx advances by 2 for one element */
    VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT, /* interrupt although suppressed */
    /* Immediate, count times (q ignored): */
    VIRTQ_FAKE_FAULT_SPURIOUS_IRQ,     /* raise the line with InterruptStatus 0 */
    VIRTQ_FAKE_FAULT_SPURIOUS_VRING,   /* InterruptStatus "used buffer", none used */
    VIRTQ_FAKE_FAULT_NEEDS_RESET       /* set DEVICE_NEEDS_RESET, config interrupt */
};
/* Arm a fault (replacing the queue's previous one); count 0 disarms.
   0 on success, -1 on a bad argument. */
int virtq_fake_inject(struct virtq_fake_dev *dev, int q, enum virtq_fake_fault fault, int count);

/* ---- scribbling: the queue as the device sees it -------------------------------------- */

struct virtq_fake_queue_view {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t *used_event;  /* &avail->ring[num] */
    uint16_t *avail_event; /* &used->ring[num] */
    uint16_t num;
    uint16_t last_avail;   /* next available entry the device takes */
    uint16_t used_idx;     /* the device's used.idx */
};
/* 0 and *out filled when queue q is live, else -1. */
int virtq_fake_queue_view(struct virtq_fake_dev *dev, int q, struct virtq_fake_queue_view *out);
/* A packed queue as the device sees it (positions are pos | wrap << 15,
   wrap counters starting at 1): 0 and *out filled when queue q is live
   and packed, else -1. */
struct virtq_fake_packed_view {
    struct pvirtq_desc *desc;             /* the descriptor ring */
    struct pvirtq_event_suppress *driver; /* Driver Event Suppression */
    struct pvirtq_event_suppress *device; /* Device Event Suppression (ours) */
    uint16_t num;
    uint16_t next_avail; /* the next descriptor the device reads */
    uint16_t next_used;  /* where the device writes its next used descriptor */
};
int virtq_fake_packed_view(struct virtq_fake_dev *dev, int q, struct virtq_fake_packed_view *out);
/* Write a used element {id, len} and advance used.idx by one, then decide
   on an interrupt as for a real completion.  0, or -1 if q is not live. */
int virtq_fake_push_used_raw(struct virtq_fake_dev *dev, int q, uint32_t id, uint32_t len);

/* ---- config space ----------------------------------------------------------------------- */

/* Change config bytes as the device (bumps ConfigGeneration; notify != 0
   also raises a configuration change interrupt once DRIVER_OK is set). */
int virtq_fake_config_set(struct virtq_fake_dev *dev, uint32_t off, const void *data,
                          uint32_t len, int notify);
uint8_t *virtq_fake_config_bytes(struct virtq_fake_dev *dev); /* the live bytes */
void virtq_fake_config_bump(struct virtq_fake_dev *dev);      /* ConfigGeneration++ */
/* Make the next n config-space reads each change ConfigGeneration, so a
   driver's generation-checked read retries (n large: it never settles). */
void virtq_fake_config_flap(struct virtq_fake_dev *dev, uint32_t n);

/* ---- counters ------------------------------------------------------------------------------ */

struct virtq_fake_queue_stats {
    uint32_t notifies;            /* QueueNotify writes naming this queue */
    uint32_t notifies_suppressed; /* ... while the device had asked for none */
    uint32_t notifies_empty;      /* ... that brought no new buffer */
    uint32_t popped;              /* chains taken from the available ring */
    uint32_t completed;           /* used elements written */
    uint32_t irqs;                /* used-buffer interrupts raised */
    uint32_t irqs_suppressed;     /* completion batches the driver asked not to hear of */
    uint32_t indirect;            /* chains with an indirect table */
    uint32_t max_chain;           /* most descriptors in one chain */
};
struct virtq_fake_stats {
    uint32_t irqs;             /* times the line was raised (all causes) */
    uint32_t config_irqs;      /* configuration change interrupts */
    uint32_t resets;           /* status 0 writes */
    uint32_t status_writes;
    uint32_t config_reads;
    uint32_t generation_reads;
    uint32_t feature_reads;
    uint32_t stale_feature_reads; /* DeviceFeatures read twice with no new select */
    uint32_t violations;
    struct virtq_fake_queue_stats q[VIRTQ_FAKE_MAX_QUEUES];
};
void virtq_fake_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_stats *out);

/* ---- memory a legacy device can address -------------------------------------------------

   A legacy (version 1) queue is given as a 32-bit page number (QueuePFN),
   so its ring must sit below 2^44; host heap and program addresses do not.
   This returns zeroed, 4096-aligned memory below 4 GiB (NULL if none). */
void *virtq_fake_lowmem_alloc(size_t bytes);
void virtq_fake_lowmem_free(void *p);

/* ---- non-coherent DMA: a write-back data cache over buffer memory ---------------------------

   Off by default (the fake is then a cache-coherent platform).  When on,
   the fake models one CPU data cache, write-back and not coherent with the
   device, over *buffer* memory: the bytes the device reads and writes
   through a descriptor (virtq_fake_req_read/_write), indirect tables and
   gpu backing pages.  Ring memory (descriptor table, available and used
   rings) stays coherent, as the driver must map it: with the split ring's
   16/2/4 alignment ("Split Virtqueues") the used ring shares a cache line
   with the end of the available ring, each written by a different side,
   and a packed ring's descriptors ("Packed Virtqueues") are rewritten in
   place by both, so no clean/invalidate sequence can keep a ring right.

   The model, per VIRTQ_FAKE_CACHE_LINE-byte line:
     - the CPU's copy is the host memory the driver reads and writes
       directly; the device's view ("memory") is a shadow copy inside the
       fake.  A line enters the model the first time a sync hook or the
       device touches it, with memory = the CPU's copy (clean);
     - driver writes stay in the CPU copy (the line is dirty) until
       VIRTQ_DMA_SYNC_FOR_DEVICE cleans the line (the whole line is
       written to memory); device_writes != 0 also invalidates it;
     - device writes go to memory only and reach the CPU's copy when
       VIRTQ_DMA_SYNC_FOR_CPU invalidates the line (memory is then read
       back into the whole line);
     - at arbitrary moments (each time the device or a sync hook touches a
       line; a seeded PRNG decides, so a run reproduces from its seed) a
       dirty line may be evicted (written back whole, over anything the
       device wrote in it) and a clean line dropped and refilled from
       memory (device writes then show early; a driver must not count on
       either).
   Reported as violations ("fake: cache: ..."), each naming the buffer
   (its address, the offset in it, and the queue and head of the request)
   or the byte:
     - the device reads a byte the driver wrote and never cleaned (a stale
       read by the device: SYNC_FOR_DEVICE missing);
     - the device touches a line no sync hook ever covered;
     - the device writes into a line the CPU holds dirty (written since it
       was handed over: its write-back would destroy the device's data; a
       buffer that shares a cache line with data the CPU writes while the
       request is in flight);
     - the CPU wrote a line it had handed over for the device to write,
       found when it invalidates it;
     - the device wrote bytes the driver never invalidated before it
       handed the line to the device again or before
       virtq_fake_cache_check(): whatever the driver read there was stale
       (SYNC_FOR_CPU missing after virtq_get).
   The host cannot see a CPU load, so a stale read by the driver is found
   by that last rule, not at the load; in the model the load returns the
   old bytes, so the driver's result is wrong as well.  Limits: a CPU
   write of the value a byte already held is invisible (it matters only
   on a line whose memory the device changed and the driver never
   invalidated, which is reported anyway); with the device thread
   (virtq_fake_start_thread) refills happen only on the thread that
   enabled the model (a refill rewrites the CPU's bytes), and the device
   thread reads the CPU's bytes to tell dirty lines, a race the hardware
   does not have (fine for the x86 host tests, not for a TSan build);
   ASan red zones inside a line are skipped.
   Reports found while the device runs are delivered when the fake's
   lock is released or at the next sync hook. */
#define VIRTQ_FAKE_CACHE_LINE 64
/* Start modelling (forgetting every line and counter); seed 0 picks a
   fixed one.  The calling thread is the CPU. */
void virtq_fake_cache_enable(uint64_t seed);
/* Chance in percent, at each arbitrary moment, that a dirty line is
   evicted / a clean line refilled (default 25 and 25). */
void virtq_fake_cache_set_rates(unsigned evict_pct, unsigned refill_pct);
/* Report every line whose device-written bytes the driver never
   invalidated; returns the number of reports. */
unsigned virtq_fake_cache_check(void);
/* virtq_fake_cache_check(), then stop modelling and forget every line. */
unsigned virtq_fake_cache_disable(void);
int virtq_fake_cache_enabled(void);
struct virtq_fake_cache_stats {
    uint32_t lines;       /* lines in the model */
    uint32_t cleans;      /* lines cleaned by SYNC_FOR_DEVICE */
    uint32_t invalidates; /* lines invalidated (SYNC_FOR_DEVICE with device_writes, SYNC_FOR_CPU) */
    uint32_t evictions;   /* dirty lines written back at an arbitrary moment */
    uint32_t refills;     /* clean lines refilled at an arbitrary moment */
    uint32_t dev_reads;   /* device reads through the model (per line touched) */
    uint32_t dev_writes;  /* device writes through the model (per line touched) */
    uint32_t stale;       /* stale reads found (device or driver) */
    uint32_t reports;     /* every report */
};
void virtq_fake_cache_get_stats(struct virtq_fake_cache_stats *out);
/* For models that read driver memory outside a request's chain (gpu
   backing pages): copy n bytes at src as the device sees them (through
   the modelled cache when it is on); buf names the buffer in reports. */
void virtq_fake_dma_read(const void *src, void *dst, size_t n, const void *buf);

/* ---- the fake CPU (WFI strategy) --------------------------------------------------------- */

/* Register the interrupt handler; the calling thread becomes the CPU and
   interrupts are unmasked. */
void virtq_fake_cpu_set_isr(void (*fn)(void *ctx), void *ctx);
/* Forget the handler, pending interrupts, mask, alarm and counters. */
void virtq_fake_cpu_reset(void);
int virtq_fake_cpu_pending(void);
/* A wfi with no alarm that sleeps this long is a violation (default 2 s). */
void virtq_fake_cpu_set_wfi_limit_us(uint64_t us);
struct virtq_fake_cpu_stats {
    uint32_t isr_runs;
    uint32_t wfi_calls;
    uint32_t wfi_irq_wakes;   /* woke for a pending interrupt */
    uint32_t wfi_alarm_wakes; /* woke for the alarm */
    uint32_t wfi_stuck;       /* would have slept forever (violation) */
};
void virtq_fake_cpu_get_stats(struct virtq_fake_cpu_stats *out);

/* ---- the OS wait channel ------------------------------------------------------------------ */

struct virtq_fake_os;
struct virtq_fake_os *virtq_fake_os_create(void);
void virtq_fake_os_destroy(struct virtq_fake_os *os);
struct virtq_fake_os_stats {
    uint32_t waits, wakes, timeouts;
};
void virtq_fake_os_get_stats(struct virtq_fake_os *os, struct virtq_fake_os_stats *out);

/* ---- the virtio-pci front end ------------------------------------------------------------------ */

/* A virtio-pci face for a modern fake device (any model: blk, gpu, net;
   detach it before destroying the device): configuration space behind a fake ECAM window (pass
   virtq_fake_pci_cfg() to virtq_pci_probe), one 64-bit memory BAR 4 of
   16 KiB holding common cfg (0x0), ISR (0x1000), device cfg (0x2000) and
   notify (0x3000, multiplier 4), unassigned until the driver writes it
   (virtq_pci_assign_bars).  transitional: device id 0x1000 + type - 1,
   type in the Subsystem ID, and an I/O BAR 0, as QEMU's root-bus default.
   It checks natural-width common cfg access, queue_enable (1, once, after
   the ring addresses), the notification address and width, and BAR
   accesses with memory decode off. */
#define VIRTQ_FAKE_PCI_MAX 8
#define VIRTQ_FAKE_PCI_ECAM ((uintptr_t)0x30000000u) /* slot i at + i * 0x8000 */
struct virtq_fake_pci;
struct virtq_fake_pci *virtq_fake_pci_attach(struct virtq_fake_dev *dev, int transitional);
void virtq_fake_pci_detach(struct virtq_fake_pci *fp);
uintptr_t virtq_fake_pci_cfg(const struct virtq_fake_pci *fp);
struct virtq_fake_dev *virtq_fake_pci_dev(const struct virtq_fake_pci *fp);
/* The 256 bytes of configuration space: corrupt them to play a device
   with a bad capability list (header at 0, capabilities at 0x40 common,
   0x50 notify, 0x64 isr, 0x74 device). */
uint8_t *virtq_fake_pci_config_space(struct virtq_fake_pci *fp);
/* Hostile common configuration behaviour (bits). */
#define VIRTQ_FAKE_PCI_QSIZE_STUCK 1u  /* queue_size ignores the driver's write */
#define VIRTQ_FAKE_PCI_ENABLE_STUCK 2u /* queue_enable never reads back 1 */
#define VIRTQ_FAKE_PCI_NOFF_HUGE 4u    /* queue_notify_off 0xffff: beyond the notify structure */
#define VIRTQ_FAKE_PCI_RESET_STUCK 8u  /* queue_reset reads 1 for good: the queue never lets go */
void virtq_fake_pci_set_hostile(struct virtq_fake_pci *fp, unsigned modes);
/* How often the driver wrote queue_enable for queue q. */
unsigned virtq_fake_pci_enable_writes(struct virtq_fake_pci *fp, int q);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* VIRTQ_FAKE_H_INCLUDED */
