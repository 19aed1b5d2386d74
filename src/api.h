/* SPDX-License-Identifier: MIT */
/* ---- api.h: public types and functions ---------------------------------- */

/* Error codes.  Every function that can fail returns int: VIRTQ_OK or one of
   these, never anything else; an answer it also gives goes through an
   out-parameter (virtq_publish's *notify).  Questions return bool and never
   fail (virtq_has_used, virtq_enable_intr*, virtq_is_broken); each says
   what it answers for a NULL or broken queue.  A failed call changes no
   state, except that a protocol violation by the device latches the queue
   broken (VIRTQ_EBROKEN from then on). */
#define VIRTQ_OK 0
#define VIRTQ_EINVAL (-1)    /* bad argument from the caller */
#define VIRTQ_ENOSPC (-2)    /* not enough free descriptors right now */
#define VIRTQ_EAGAIN (-3)    /* nothing to return yet (no used buffer) */
#define VIRTQ_EBROKEN (-4)   /* device broke the protocol or needs reset */
#define VIRTQ_ETIMEDOUT (-5) /* a bounded wait ran out */
#define VIRTQ_ENOTSUP (-6)   /* feature or strategy not negotiated/built */
#define VIRTQ_ENODEV (-7)    /* no virtio device (bad magic, empty slot) */
#define VIRTQ_EIO (-8)       /* device refused: FEATURES_OK, QueueReady... */
#define VIRTQ_EBUSY (-9)     /* queue already live on the device */

/* Used-ring alignment, the second argument of virtq_ring_bytes(): modern
   devices need 4 ("Virtqueue alignment"), legacy ones the QueueAlign the
   driver wrote (virtq writes 4096).  The ring base must be aligned to 16
   (modern) or to the legacy alignment. */
#define VIRTQ_ALIGN_MODERN 4u
#define VIRTQ_ALIGN_LEGACY 4096u
#define VIRTQ_MAX_SIZE 32768u /* largest split-ring Queue Size */

#define VIRTQ__ALIGN_UP(x, a) (((x) + ((a) - 1u)) & ~((size_t)(a) - 1u))
/* Bytes of device-visible ring memory for a queue of num entries: the
   descriptor table and the available ring (with used_event), then the used
   ring (with avail_event) at the next multiple of align.  Usable in a static
   array size.  Legacy: "Legacy Interfaces: A Note on Virtqueue Layout". */
#define VIRTQ_RING_BYTES(num, align)                                         \
    (VIRTQ__ALIGN_UP((size_t)16u * (num) + 6u + (size_t)2u * (num), (align)) + \
     VIRTQ__ALIGN_UP(6u + (size_t)8u * (num), (align)))

/* Why a queue is broken (virtq_broken_reason()).  The first reason sticks
   until virtq_detach() has emptied the queue. */
enum virtq_broken_reason {
    VIRTQ_BROKEN_NONE = 0,      /* not broken */
    VIRTQ_BROKEN_USED_IDX,      /* used.idx moved past what was published */
    VIRTQ_BROKEN_USED_ID,       /* a used id >= Queue Size (all 32 bits) */
    VIRTQ_BROKEN_NOT_IN_FLIGHT, /* a used id that is no in-flight chain head:
                                   a chain's middle, a free one, a double */
    VIRTQ_BROKEN_UNPUBLISHED,   /* a used id added but not yet published */
    VIRTQ_BROKEN_USED_LEN,      /* used len beyond the writable bytes posted */
    VIRTQ_BROKEN_DEVICE,        /* the device set NEEDS_RESET or FAILED */
    VIRTQ_BROKEN_CALLER,        /* virtq_break() */
    VIRTQ_BROKEN_DETACH         /* virtq_detach() is handing cookies back */
};

/* Ring kinds, also the VIRTQ_RINGS compile-time mask (implementation file
   only; default VIRTQ_RING_SPLIT).  With VIRTQ_RING_PACKED built in, the
   packed ring is negotiated whenever the device offers it. */
#define VIRTQ_RING_SPLIT 1
#define VIRTQ_RING_PACKED 2

/* Bytes of a packed ring of num entries (any num in 1..32768): descriptor
   ring (16 per entry, 16-aligned), then the driver and the device event
   suppression structures (4 each): "Structure Size and Alignment".  Never
   more than VIRTQ_RING_BYTES(num, align) for the same num, so memory sized
   for a split ring always fits a packed one. */
#define VIRTQ_PACKED_RING_BYTES(num) ((size_t)16u * (num) + 8u)

/* One caller-supplied scatter-gather segment. */
struct virtq_buf {
    void *addr;   /* CPU address; VIRTQ_VIRT_TO_DMA() makes it a DMA one */
    uint32_t len; /* bytes, > 0 */
};

/* Driver-private bookkeeping for one descriptor (split) or one buffer id
   (packed: tail is 1 until the buffer is published, next links the
   unpublished ones, pos keeps the oldest one's head flags).  Kept outside the device-
   visible table, so a device scribbling over shared memory cannot steer
   the driver.  Allocate one per ring entry; treat as opaque. */
struct virtq_slot {
    void *cookie;  /* head of an in-flight chain: the caller's cookie */
    uint32_t wlen; /* head: writable bytes posted (bounds used.len) */
    uint16_t next; /* free-list and chain link */
    uint16_t ndesc; /* head: descriptors in the chain */
    uint16_t pos;  /* head: its avail index (published yet?) */
    uint16_t tail; /* head: last descriptor of the chain */
};

/* A split or packed virtqueue.  Public so callers can place it
   statically; fields are private (read them through the functions below).
   The layout is the same whatever VIRTQ_RINGS says.  A packed ring reuses
   the fields: desc is the descriptor ring (struct pvirtq_desc), avail the
   driver and used the device event suppression structure; avail_idx,
   published_idx, kicked_idx and last_used are ring positions with the wrap counter in
   bit 15 (the event suppression "desc" encoding); mask is the number of
   the batch being added, align and avail_event the flags and the place
   of the head virtq_publish() makes available (ring_packed.h). */
struct virtq {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    struct virtq_slot *slot;
    uint16_t *used_event;  /* &avail->ring[num] */
    uint16_t *avail_event; /* &used->ring[num] */
    uint16_t num;          /* Queue Size, a power of two */
    uint16_t num_free;     /* descriptors on the free list */
    uint16_t free_head;    /* first free descriptor (valid if num_free) */
    uint16_t avail_idx;    /* next avail index to fill (private copy) */
    uint16_t published_idx; /* avail.idx as last written by virtq_publish() */
    uint16_t last_used;    /* next used index to consume */
    uint16_t flags;        /* VIRTQ__Q_* */
    uint16_t index;        /* queue index on its device */
    uint16_t detach_pos;   /* scan cursor for virtq_detach() */
    uint16_t mask;         /* num - 1 */
    uint16_t broken_reason; /* enum virtq_broken_reason */
    uint16_t kicked_idx;   /* while a decision is owed: published_idx at the last one */
    uint32_t align;        /* used-ring alignment given to virtq_init() */
    uintptr_t notify;      /* transport: where this queue's notifications go (PCI) */
    void *user;            /* free for the caller */
};

/* --- ring: memory ------------------------------------------------------- */

/* Bytes of ring memory for num entries (0 if num is not a power of two in
   1..32768 or align is not a power of two >= 4). */
VIRTQ_API size_t virtq_ring_bytes(uint32_t num, uint32_t align);

/* Bytes of packed ring memory for num entries (0 unless 1 <= num <=
   32768: "Packed virtqueues support up to 2^15 entries each", any count).
   Inline, so a split-only build carries none of it. */
static inline size_t virtq_packed_ring_bytes(uint32_t num)
{
    return (num == 0u || num > 32768u) ? 0u : VIRTQ_PACKED_RING_BYTES(num);
}

/* Lay a queue of num entries over mem (VIRTQ_RING_BYTES(num, align) bytes,
   zeroed here) and slots (num entries).  features: the negotiated feature
   bits; the ring uses INDIRECT_DESC, EVENT_IDX and ORDER_PLATFORM.  With
   RING_PACKED it lays a packed ring (VIRTQ_PACKED_RING_BYTES(num) bytes,
   16-aligned, num need not be a power of two, align is not used), or
   returns VIRTQ_ENOTSUP when the packed ring is not built in; a packed-only
   build returns VIRTQ_ENOTSUP without it. */
VIRTQ_API int virtq_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                         struct virtq_slot *slots, uint64_t features);

/* --- ring: submit --------------------------------------------------------- */

/* Add one request: out device-readable segments then in device-writable
   ones (bufs[0..out+in)), as a descriptor chain.  cookie (non-NULL) comes
   back from virtq_get() or virtq_detach() exactly once.  The request is
   not visible to the device until virtq_publish().
   VIRTQ_EINVAL: NULL/zero-length segment, no segments, cookie NULL, more
   segments than the ring, a chain over 2^32 - 1 bytes in total.
   VIRTQ_ENOSPC: not enough free descriptors now (retry after virtq_get()).
   A refused add changes no byte of ring memory or private state. */
VIRTQ_API int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                        unsigned in, void *cookie);

/* As virtq_add(), but the segments go into table (caller memory, out+in
   entries, 16-byte aligned, left untouched by the caller until the cookie
   comes back) and use one ring descriptor.  VIRTQ_ENOTSUP unless
   VIRTIO_F_INDIRECT_DESC was negotiated. */
VIRTQ_API int virtq_add_indirect(struct virtq *vq, const struct virtq_buf *bufs,
                                 unsigned out, unsigned in, struct virtq_desc *table,
                                 void *cookie);

/* Make every added request visible (write avail.idx) and decide whether the
   device must be notified: *notify is true when it must be, false when the
   device asked not to be, nothing was new, or the call failed.  VIRTQ_OK,
   VIRTQ_EINVAL (NULL vq or notify, queue not initialised) or VIRTQ_EBROKEN.
   virtq_dev_kick() does both. */
VIRTQ_API int virtq_publish(struct virtq *vq, bool *notify);

/* virtq_publish() in two steps, as Linux's virtqueue_add() and
   virtqueue_kick_prepare() split it: virtq_publish_defer() makes every added
   request visible now and owes the kick decision; virtq_kick_prepare() makes
   it, for everything published since the last decision, with the same full
   barrier.  Work done in between (taking used buffers, say) overlaps the
   wait for the avail.idx store that the barrier would otherwise spend
   alone: with two CPUs polling one queue a request at a time, that wait
   is the cost of the request.
   A decision is owed until virtq_kick_prepare() or virtq_publish() makes
   it, and a driver MUST make it before it waits for the device, or a
   device that went idle is never notified.  Defers add up: one while a
   decision is owed publishes the new requests too, and the decision covers
   all of them, as Linux's adds do until its kick_prepare.
   virtq_publish_defer(): VIRTQ_OK (also when nothing was added),
   VIRTQ_EINVAL (NULL vq, queue not initialised), VIRTQ_EBROKEN, or
   VIRTQ_EBUSY when the requests owed a decision would come to more than a
   ring's worth (Queue Size chains; packed: descriptors), which keeps the
   decision's window exact: make the decision, then defer again (nothing is
   published by the refused call).  virtq_kick_prepare():
   as virtq_publish() (*notify false when no decision was owed); it
   publishes nothing.  Built with VIRTQ_PUBLISH_DEFER 1 only. */
#if VIRTQ_PUBLISH_DEFER
VIRTQ_API int virtq_publish_defer(struct virtq *vq);
VIRTQ_API int virtq_kick_prepare(struct virtq *vq, bool *notify);
#endif

/* virtq_add() then virtq_publish() in one call, for a driver that makes
   each request visible as it adds it (the cheapest path for one request
   at a time; batches add several, then publish once).  *notify as for
   virtq_publish(); false when the add was refused, which changes nothing
   (same errors as virtq_add(), and VIRTQ_EINVAL for a NULL notify). */
VIRTQ_API int virtq_submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                           unsigned in, void *cookie, bool *notify);

/* --- ring: complete ------------------------------------------------------- */

/* Take one used buffer: *cookie and *len (bytes the device wrote; len may be
   NULL).  VIRTQ_EAGAIN when there is none.  Every used element is checked
   (manual: "Hardening"); a bad one latches the queue broken. */
VIRTQ_API int virtq_get(struct virtq *vq, void **cookie, uint32_t *len);

/* Does virtq_get() have something to report?  false only when its next
   call would return VIRTQ_EAGAIN.  true when a used buffer waits, and also
   when the queue is broken or unusable (NULL, not initialised): virtq_get()
   then returns the error, so a poll loop `while (!virtq_has_used(q))`
   never spins on a dead queue. */
VIRTQ_API bool virtq_has_used(const struct virtq *vq);

/* Used-buffer notification suppression: a hint to the device, which may
   still interrupt.  virtq_enable_intr() re-arms and then re-checks the used
   ring: true means do not sleep, call virtq_get(): buffers arrived
   meanwhile (no interrupt may come for them), or the queue is broken or
   unusable (nothing re-armed; virtq_get() reports the error).  false:
   nothing pending, an interrupt will come.  _delayed (EVENT_IDX) asks for
   the interrupt only after about 3/4 of the outstanding buffers are used
   and returns true only when more than that many are already used (or on
   a broken queue); without EVENT_IDX it is virtq_enable_intr().
   _after(vq, n) (EVENT_IDX) asks for the interrupt when the n-th buffer
   from now is used (n clamped to what is published and not yet taken;
   0 and 1 are virtq_enable_intr()) and returns true when n are already
   used.  On a packed ring n counts descriptors, so with longer chains the
   interrupt comes earlier, never later.  Pick n so that what stays in
   flight covers your wake-up time: the device then never runs dry and
   needs no kick (BENCHMARKS.md, "Sleeping"); without EVENT_IDX it is
   virtq_enable_intr().  Either delayed re-arm asks for one interrupt, at
   that buffer: virtq_get() may take what is already used before sleeping,
   and leaves the event where it is (after virtq_enable_intr() each get
   asks for the next buffer instead; moved back like that, a delayed event
   could fall behind the device and its interrupt would not come).  Re-arm
   again before the next sleep, as always. */
VIRTQ_API void virtq_disable_intr(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr_delayed(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr_after(struct virtq *vq, unsigned n);

/* --- ring: state and teardown --------------------------------------------- */

/* true when vq is latched broken (every call fails with VIRTQ_EBROKEN until
   virtq_detach() has handed back every cookie) or vq is NULL. */
VIRTQ_API bool virtq_is_broken(const struct virtq *vq);
/* Why: VIRTQ_BROKEN_NONE while the queue works (and for NULL), else the
   first violation seen.  VIRTQ_LOG, when defined, also prints it. */
VIRTQ_API enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq);
/* Latch the queue broken yourself (reason VIRTQ_BROKEN_CALLER). */
VIRTQ_API void virtq_break(struct virtq *vq);
/* Descriptors free right now (0 for NULL): a chain of n segments fits
   when n <= this (an indirect add needs 1). */
VIRTQ_API unsigned virtq_num_free(const struct virtq *vq);

/* Legacy devices often put junk in used.len for buffers they only read
   ("The Virtqueue Used Ring", legacy note; e.g. a net transmit queue).
   With ignore set, virtq_get() skips the length bound on this queue and
   the len it reports means nothing.  Every other check stays.  Call after
   setup (virtq_init clears it). */
VIRTQ_API void virtq_ignore_used_len(struct virtq *vq, bool ignore);

/* --- data buffers on a non-coherent platform -------------------------------- */

/* The implementation file's VIRTQ_DMA_SYNC_FOR_DEVICE / _FOR_CPU, callable
   from any file (drivers are often built apart from the implementation).
   virtq_add() already syncs every segment for the device; call
   virtq_dma_sync_for_cpu() on the writable bytes of a request after
   virtq_get() returned it and before reading them, and
   virtq_dma_sync_for_device() on memory the device reads outside a
   descriptor (a gpu resource's backing pages) before it does.  Data
   buffers only: ring memory must be coherent. */
VIRTQ_API void virtq_dma_sync_for_device(const void *p, size_t len, bool device_writes);
VIRTQ_API void virtq_dma_sync_for_cpu(const void *p, size_t len);

/* After the device was reset (it no longer touches the ring): hand back one
   in-flight or unpublished cookie per call; VIRTQ_EAGAIN when none is left,
   at which point the ring is empty, un-broken and ready for reuse. */
VIRTQ_API int virtq_detach(struct virtq *vq, void **cookie);

/* --- device and transport --------------------------------------------------- */

/* Transports (also the VIRTQ_TRANSPORTS compile-time selector bits; the
   implementation file builds in only those, default MMIO). */
#define VIRTQ_TRANSPORT_MMIO 1
#define VIRTQ_TRANSPORT_PCI 2

/* Wait strategies (also the VIRTQ_WAIT compile-time selector bits). */
#define VIRTQ_WAIT_SPIN 1
#define VIRTQ_WAIT_WFI 2
#define VIRTQ_WAIT_OS 4
#define VIRTQ_WAIT_CUSTOM 8

/* One virtio device.  Public so it can be placed statically; read fields
   freely, write them only through the functions below. */
struct virtq_dev {
    uintptr_t base;           /* MMIO base address (PCI: the common configuration) */
    uint8_t transport;        /* VIRTQ_TRANSPORT_*, recorded by the probe */
    uint8_t version;          /* 1 legacy, 2 modern (virtio-mmio's Version; PCI: 2) */
    uint8_t wait;             /* VIRTQ_WAIT_* in use */
    uint8_t state;            /* VIRTQ__D_* */
    uint32_t device_id;       /* VIRTIO_ID_* */
    uint32_t vendor_id;
    uint32_t early;           /* interrupts before DRIVER_OK (also in spurious) */
    uint64_t device_features; /* offered (after virtq_dev_begin) */
    uint64_t features;        /* negotiated (after virtq_dev_negotiate) */
    void *os_ctx;             /* VIRTQ_WAIT_OS: the channel tasks block on */
    volatile uint32_t wake_seq; /* bumped by virtq_dev_isr(): futex word */
    uint32_t irqs;            /* interrupts taken by virtq_dev_isr() */
    uint32_t notifies;        /* queue notifications written */
    uint32_t spurious;        /* interrupts with no status bit, or early */
    void *user;               /* free for the caller */
    const char *why;          /* why the last probe or queue setup failed, or NULL */
    /* virtio-pci only (virtq_pci_probe), CPU addresses of the structures: */
    uintptr_t pci_cfg;        /* the function's configuration-space handle */
    uintptr_t notify_base;    /* notification structure */
    uintptr_t isr;            /* ISR status byte */
    uintptr_t device_cfg;     /* device-specific configuration (0: none) */
    uint32_t notify_len;      /* bytes of the notification structure */
    uint32_t notify_mult;     /* notify_off_multiplier */
    uint32_t common_len;      /* bytes of the common configuration */
    uint32_t device_cfg_len;  /* bytes of the device-specific configuration */
};

/* Probe a virtio-mmio slot: magic, version (1 or 2), device id.  Touches
   no status.  VIRTQ_ENODEV: no device, or an empty slot (id 0). */
VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base);

/* One populated virtio-mmio slot, as virtq_mmio_scan() reports it. */
struct virtq_mmio_slot {
    uintptr_t base;     /* the slot's MMIO base */
    unsigned slot;      /* its index in the window */
    uint32_t device_id; /* VIRTIO_ID_* (never 0: empty slots are skipped) */
    uint8_t version;    /* 1 legacy, 2 modern */
};

/* Probe count slots at base, base + stride, ... (virtq_mmio_probe() each:
   magic, version, id; no status touched) and report every populated one in
   found[0..max), lowest address first.  Returns how many (0 when none), or
   VIRTQ_EINVAL (stride 0, found NULL with max > 0).  VIRTQ_ENOTSUP when
   the MMIO transport is not built in (VIRTQ_TRANSPORTS), here and below. */
VIRTQ_API int virtq_mmio_scan(uintptr_t base, uintptr_t stride, unsigned count,
                              struct virtq_mmio_slot *found, unsigned max);

/* Probe into dev the nth (0 = first) slot of that window holding a device
   of device_id (VIRTIO_ID_*): VIRTQ_OK, ready for virtq_dev_begin();
   VIRTQ_ENODEV when there is none; VIRTQ_EINVAL for NULL dev, stride 0 or
   id 0. */
VIRTQ_API int virtq_mmio_find(struct virtq_dev *dev, uintptr_t base, uintptr_t stride,
                              unsigned count, uint32_t device_id, unsigned nth);

/* virtio-pci modern ("Virtio Over PCI Bus"; build with VIRTQ_TRANSPORT_PCI
   in VIRTQ_TRANSPORTS, else these return VIRTQ_ENOTSUP).  cfg is the function's configuration-space handle
   given to VIRTQ_PCI_CFG_READ/WRITE*; with the default ECAM shim it is the
   function's ECAM address, VIRTQ_PCI_ECAM(base, bus, device, function). */
#define VIRTQ_PCI_ECAM(base, bus, device, function)                                   \
    ((uintptr_t)(base) + ((uintptr_t)(bus) << 20) + ((uintptr_t)(device) << 15) + \
     ((uintptr_t)(function) << 12))

/* Probe a virtio-pci function whose memory BARs are assigned: identity
   (vendor 0x1af4; modern ids 0x1040+, transitional 0x1000..0x103f with the
   type from the Subsystem ID), then the capability list.  Every value read
   from the device is checked; on failure dev->why names the capability and
   field, and dev is left unprobed.  Enables memory decode and bus
   mastering.  VIRTQ_ENODEV: not a virtio function; VIRTQ_ENOTSUP: a
   legacy-only device (no virtio capabilities); VIRTQ_EIO: a required
   structure missing or unusable, or a malformed capability list. */
VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg);

/* Optional, for firmware that enumerates nothing itself (e.g. QEMU -bios
   none): size the function's memory BARs (32- and 64-bit; I/O BARs and the
   expansion ROM are left alone) and assign them from [*next, end), each
   aligned to its size, then enable memory decode and bus mastering.  *next
   advances past what was used.  VIRTQ_ENOSPC: the window is too small
   (memory decode stays off, *next unchanged); VIRTQ_ENODEV: no function,
   or not a type-0 header. */
VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end);

/* VIRTIO_F_RING_RESET (PCI only): reset one queue while the device runs.
   Afterwards take every cookie back with virtq_detach() and set the queue
   up again with virtq_dev_queue_setup().  VIRTQ_ENOTSUP: not negotiated
   (never on virtio-mmio); VIRTQ_ETIMEDOUT: the reset did not complete. */
VIRTQ_API int virtq_dev_queue_reset(struct virtq_dev *dev, struct virtq *vq);

/* Reset the device and wait (bounded) until its status reads 0. */
VIRTQ_API int virtq_dev_reset(struct virtq_dev *dev);

/* Start initialisation: reset, ACKNOWLEDGE, DRIVER, read the offered
   features into dev->device_features. */
VIRTQ_API int virtq_dev_begin(struct virtq_dev *dev);

/* Accept wanted & offered (plus VERSION_1 on a modern device, where it is
   required), minus what virtq cannot drive (VIRTIO_F_RING_PACKED);
   VIRTQ_ENOTSUP and status FAILED when a required bit is not offered or
   not supported; modern: set FEATURES_OK and read it back (VIRTQ_EIO if the
   device refuses). */
VIRTQ_API int virtq_dev_negotiate(struct virtq_dev *dev, uint64_t wanted, uint64_t required);

/* Set up queue index over caller memory (see virtq_init(); legacy needs a
   4096-aligned mem whose page number fits 32 bits).  This starts vq
   afresh: after a reset, take every cookie back with virtq_detach() first,
   or those requests are dropped.  num is a wish: the queue gets min(num, QueueNumMax)
   rounded down to a power of two.  VIRTQ_ENODEV: the queue does not exist;
   VIRTQ_EBUSY: it is already live; VIRTQ_EIO: QueueReady did not stick:
   vq is then unusable (every call on it fails with VIRTQ_EINVAL until a
   setup succeeds) and the device is FAILED, as after virtq_dev_fail(). */
VIRTQ_API int virtq_dev_queue_setup(struct virtq_dev *dev, struct virtq *vq, uint16_t index,
                                    uint32_t num, void *mem, struct virtq_slot *slots);

/* Finish initialisation (DRIVER_OK).  Interrupts before this are ignored. */
VIRTQ_API int virtq_dev_driver_ok(struct virtq_dev *dev);

/* Mark the device FAILED (the driver gave up on it).  Until virtq_dev_begin()
   resets it, negotiation, queue setup and DRIVER_OK refuse with EINVAL. */
VIRTQ_API void virtq_dev_fail(struct virtq_dev *dev);

/* Publish vq and notify the device if it asked for it: virtq_publish()
   then virtq_dev_notify().  Returns virtq_publish()'s VIRTQ_OK, VIRTQ_EINVAL
   or VIRTQ_EBROKEN; whether a notification was written is not reported
   (dev->notifies counts them). */
VIRTQ_API int virtq_dev_kick(struct virtq_dev *dev, struct virtq *vq);
/* Write vq's queue notification unconditionally (after your own
   virtq_publish() said *notify).  Does nothing for a bad dev or NULL vq. */
VIRTQ_API void virtq_dev_notify(struct virtq_dev *dev, const struct virtq *vq);

/* Interrupt handler helper: read and acknowledge InterruptStatus, wake the
   waiters, note NEEDS_RESET.  Returns the VIRTQ_ISR_* bits seen (0: not
   this device's interrupt, or before DRIVER_OK); bits the spec does not
   define are ignored (neither acknowledged nor reported), and a status
   with none of the defined ones counts as spurious. */
VIRTQ_API uint32_t virtq_dev_isr(struct virtq_dev *dev);

/* VIRTQ_EBROKEN when the device set NEEDS_RESET or FAILED, else VIRTQ_OK. */
VIRTQ_API int virtq_dev_check(struct virtq_dev *dev);

/* Device-specific configuration space, read with the field's own width
   ("Device Configuration Space") and, on a modern device, retried until
   ConfigGeneration is stable (bounded: VIRTQ_EIO).  The bytes form reads
   byte by byte inside one generation; after VIRTQ_EIO its buffer holds
   an unstable mix (the fixed-width forms leave *val untouched). */
VIRTQ_API int virtq_dev_config_read8(struct virtq_dev *dev, uint32_t off, uint8_t *val);
VIRTQ_API int virtq_dev_config_read16(struct virtq_dev *dev, uint32_t off, uint16_t *val);
VIRTQ_API int virtq_dev_config_read32(struct virtq_dev *dev, uint32_t off, uint32_t *val);
VIRTQ_API int virtq_dev_config_read64(struct virtq_dev *dev, uint32_t off, uint64_t *val);
VIRTQ_API int virtq_dev_config_read_bytes(struct virtq_dev *dev, uint32_t off, void *buf,
                                          uint32_t len);
/* Writes with the field's own width, like the reads (a 64-bit field as two
   32-bit writes, low word first); VIRTQ_EINVAL for a misaligned or
   out-of-range offset.  Only fields the device type calls writable. */
VIRTQ_API int virtq_dev_config_write8(struct virtq_dev *dev, uint32_t off, uint8_t val);
VIRTQ_API int virtq_dev_config_write16(struct virtq_dev *dev, uint32_t off, uint16_t val);
VIRTQ_API int virtq_dev_config_write32(struct virtq_dev *dev, uint32_t off, uint32_t val);
VIRTQ_API int virtq_dev_config_write64(struct virtq_dev *dev, uint32_t off, uint64_t val);

/* --- waiting ----------------------------------------------------------------- */

/* The board routed and enabled this device's interrupt (PLIC, GIC...).  WFI
   waits fall back to spinning until this is said: a wfi with no interrupt
   routed would sleep forever. */
VIRTQ_API void virtq_dev_irq_routed(struct virtq_dev *dev, bool routed);

/* Choose how waits on this device block: VIRTQ_WAIT_SPIN (the default from
   probe on), _WFI, _OS (os_ctx: the channel for VIRTQ_OS_WAIT/WAKE) or
   _CUSTOM.  VIRTQ_ENOTSUP when that strategy is not built in (VIRTQ_WAIT). */
VIRTQ_API int virtq_dev_set_wait(struct virtq_dev *dev, int strategy, void *os_ctx);

/* Wait until vq has a used buffer (then virtq_get() returns it), bounded by
   timeout_us: VIRTQ_OK, VIRTQ_ETIMEDOUT (queue untouched and consistent),
   or VIRTQ_EBROKEN (queue broken or device NEEDS_RESET). */
VIRTQ_API int virtq_wait(struct virtq_dev *dev, struct virtq *vq, uint32_t timeout_us);

/* --- misc ---------------------------------------------------------------------- */

/* A short English name for an error code. */
VIRTQ_API const char *virtq_strerror(int err);
