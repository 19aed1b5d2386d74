/* SPDX-License-Identifier: MIT */
/* virtio_blk.h — a portable virtio-blk driver on virtq.h.
 *
 * No board code, no allocation, no libc: the caller gives every byte of
 * memory (ring, slots, request pool) and picks how waits block through the
 * virtq_dev (virtq_dev_set_wait), so the same calls work while spinning in
 * early boot, sleeping in wfi once the interrupt is routed, or blocking a
 * task under a scheduler.  Spec: VirtIO 1.2 "Block Device".
 *
 *   static uint8_t ring[VIRTQ_RING_BYTES(256, VIRTQ_ALIGN_LEGACY)]
 *       __attribute__((aligned(4096)));
 *   static struct virtq_slot slots[256];
 *   static struct vblk_req reqs[40];
 *   struct virtq_dev dev; struct vblk blk;
 *   struct vblk_params p = { ring, sizeof ring, slots, 256, reqs, 40, 0, 0 };
 *
 *   virtq_mmio_probe(&dev, base);              // a virtio-mmio slot
 *   vblk_init(&blk, &dev, &p);                 // features, queue, DRIVER_OK
 *   vblk_read(&blk, 0, buf, 4096);             // blocking, bounded
 *
 * What the driver honours:
 *   capacity   requests past the end fail with VBLK_ERANGE, never reach
 *              the device.
 *   blk_size   (VIRTIO_BLK_F_BLK_SIZE) the logical block: sector and length
 *              of reads and writes must be whole blocks (VIRTQ_EINVAL), as
 *              a device with a larger logical block would refuse them.
 *   seg_max    (VIRTIO_BLK_F_SEG_MAX) data descriptors per request; 0 is
 *              taken as 1, as Linux does.
 *   size_max   (VIRTIO_BLK_F_SIZE_MAX) bytes per descriptor, whole sectors;
 *              below one sector (0 included) it is taken as 4 KiB, Linux's
 *              floor (vhost-user-blk exports offer 0).  A longer
 *              segment is split over several descriptors; when the pieces
 *              exceed seg_max (or VBLK_MAX_SEGS) the async call refuses with
 *              VBLK_E2BIG and the blocking calls split the transfer into
 *              several requests.
 *   RO         (VIRTIO_BLK_F_RO) writes fail at once with VBLK_EROFS.
 *   FLUSH      (VIRTIO_BLK_F_FLUSH) vblk_flush() sends VIRTIO_BLK_T_FLUSH;
 *              without it there is no cache the driver could flush and
 *              vblk_flush() returns VBLK_OK ("Device Operation": a device
 *              that offers no FLUSH gives the driver no way to make writes
 *              stable).
 *
 * Requests: each one owns a struct vblk_req from the caller's pool: its
 * 16-byte header, its status byte and its indirect table, so no DMA buffer
 * is shared between requests and any number (up to the pool and the ring)
 * can be in flight.  Non-coherent DMA: virtq_add() cleans every segment
 * for the device; the driver invalidates the status byte, the ID and a
 * blocking read's data for the CPU before reading them; the status and
 * ID own their cache lines.  Multi-segment requests use one indirect descriptor
 * when VIRTIO_F_INDIRECT_DESC was negotiated, a direct chain otherwise (or
 * when the ring has room and the request has a single data segment).
 * The header sits alone in the first descriptor and the status byte alone
 * in the last, the framing legacy devices without ANY_LAYOUT require.
 *
 * Concurrency: like virtq itself the driver takes no locks.  Use one
 * struct vblk from one context at a time (a task, or the boot code); the
 * device's interrupt handler only calls virtq_dev_isr(), which never
 * touches the queue.
 *
 * Errors: negative codes, VIRTQ_E* (virtq.h) or VBLK_E* below;
 * vblk_strerror() names both.
 */
#ifndef VIRTIO_BLK_H_INCLUDED
#define VIRTIO_BLK_H_INCLUDED

#include "virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire ("Block Device"), spelled as the spec ------------------------ */
#ifndef VIRTIO_BLK_F_SIZE_MAX
#define VIRTIO_BLK_F_SIZE_MAX 1
#endif
#ifndef VIRTIO_BLK_F_SEG_MAX
#define VIRTIO_BLK_F_SEG_MAX 2
#endif
#ifndef VIRTIO_BLK_F_RO
#define VIRTIO_BLK_F_RO 5
#endif
#ifndef VIRTIO_BLK_F_BLK_SIZE
#define VIRTIO_BLK_F_BLK_SIZE 6
#endif
#ifndef VIRTIO_BLK_F_FLUSH
#define VIRTIO_BLK_F_FLUSH 9
#endif
#ifndef VIRTIO_BLK_T_IN
#define VIRTIO_BLK_T_IN 0u
#endif
#ifndef VIRTIO_BLK_T_OUT
#define VIRTIO_BLK_T_OUT 1u
#endif
#ifndef VIRTIO_BLK_T_FLUSH
#define VIRTIO_BLK_T_FLUSH 4u
#endif
#ifndef VIRTIO_BLK_T_GET_ID
#define VIRTIO_BLK_T_GET_ID 8u
#endif
#ifndef VIRTIO_BLK_S_OK
#define VIRTIO_BLK_S_OK 0u
#endif
#ifndef VIRTIO_BLK_S_IOERR
#define VIRTIO_BLK_S_IOERR 1u
#endif
#ifndef VIRTIO_BLK_S_UNSUPP
#define VIRTIO_BLK_S_UNSUPP 2u
#endif

#define VBLK_SECTOR 512u  /* the protocol's unit, whatever blk_size says */
#define VBLK_ID_BYTES 20u /* GET_ID: NUL-padded, no NUL when 20 long */

/* Data descriptors one request can carry (after size_max splitting).  A
   fixed constant: it sizes struct vblk_req, so every file must agree. */
#define VBLK_MAX_SEGS 32u
/* Bytes per data descriptor when the device sets no size_max. */
#define VBLK_DEFAULT_SEG_BYTES (4u * 1024u * 1024u)
/* size_max used when the device's is below a sector (Linux's block layer
   raises a segment limit below a page to a page). */
#define VBLK_MIN_SIZE_MAX 4096u
/* Bound on one blocking call's wait when vblk_params.timeout_us is 0. */
#define VBLK_DEFAULT_TIMEOUT_US 5000000u

/* Driver errors, below virtq's range. */
#define VBLK_EIO (-20)       /* the device answered VIRTIO_BLK_S_IOERR */
#define VBLK_EUNSUPP (-21)   /* the device answered VIRTIO_BLK_S_UNSUPP */
#define VBLK_EROFS (-22)     /* write to a read-only device (not sent) */
#define VBLK_ERANGE (-23)    /* past the capacity (not sent) */
#define VBLK_E2BIG (-24)     /* more descriptors than seg_max/VBLK_MAX_SEGS */
#define VBLK_ECANCELED (-25) /* handed back unfinished by vblk_reset() */
#define VBLK_EPROTO (-26)    /* bad status byte or bad config from the device */

/* vblk_submit() flags. */
#define VBLK_NOKICK 1u /* queue only; vblk_kick() publishes the batch */

/* The request header, device-readable ("Device Operation"). */
struct vblk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#if defined(__GNUC__) || defined(__clang__)
#define VBLK__ALIGN_DMA __attribute__((aligned(VIRTQ_DMA_ALIGN)))
#else
#define VBLK__ALIGN_DMA /* place the pool on a VIRTQ_DMA_ALIGN boundary yourself */
#endif

/* One request's memory.  Give vblk_init() an array of them; one is in use
   from submit until its completion is taken.  Fields are private.  What
   the device writes (status, id) starts a cache line (VIRTQ_DMA_ALIGN)
   that nothing else shares, so on a non-coherent platform the CPU's
   writes to the other fields while the request is in flight (state) can
   never be written back over it. */
struct vblk_req { /* NOLINT(clang-analyzer-optin.performance.Padding): status, id own a cache line */
    struct virtq_desc table[VBLK_MAX_SEGS + 2u]; /* indirect table (first: aligned) */
    struct vblk_hdr hdr;                         /* device-readable */
    uint8_t state;                               /* VBLK__R_* */
    uint8_t sync;                                /* owned by a blocking call */
    uint8_t pad_[2];
    int result;
    void *tag;
    struct vblk_req *next; /* free list or done list */
    /* device-writable, in lines of their own (the struct ends with them) */
    uint8_t status VBLK__ALIGN_DMA; /* 1 byte */
    uint8_t id[VBLK_ID_BYTES];      /* vblk_get_id()'s buffer: the request owns it */
} VBLK__ALIGN_DMA;

/* Memory and knobs for vblk_init(). */
struct vblk_params {
    void *ring;               /* ring memory, 4096-aligned (legacy needs it) */
    size_t ring_bytes;        /* >= VIRTQ_RING_BYTES(queue_size, VIRTQ_ALIGN_LEGACY) */
    struct virtq_slot *slots; /* queue_size entries */
    uint32_t queue_size;      /* entries wished; the device may give fewer */
    struct vblk_req *reqs;    /* request pool, VIRTQ_DMA_ALIGN-aligned (an array is) */
    unsigned nreqs;           /* requests that can be in flight at once */
    uint64_t refuse;          /* feature bits not to accept (tests, A/B) */
    uint32_t timeout_us;      /* bound per blocking wait; 0: the default */
};

struct vblk_stats {
    uint32_t submitted;  /* requests added to the ring */
    uint32_t completed;  /* completions taken from the ring */
    uint32_t errors;     /* completions with a non-OK status */
    uint32_t timeouts;   /* blocking calls that ran out of time */
    uint32_t indirect;   /* requests sent as one indirect descriptor */
    uint32_t split;      /* extra descriptors made by size_max splitting */
};

/* A virtio-blk device.  Read the fields freely; change them only through
   the calls below. */
struct vblk {
    struct virtq_dev *dev;
    struct virtq vq;
    struct vblk_req *reqs;
    unsigned nreqs;
    unsigned inflight;        /* requests the device holds */
    struct vblk_req *free_list;
    struct vblk_req *done_head, *done_tail; /* async completions not yet taken */
    uint64_t capacity;        /* 512-byte sectors */
    uint32_t blk_size;        /* logical block in bytes (512 if not offered) */
    uint32_t size_max;        /* 0: not negotiated */
    uint32_t seg_max;         /* 0: not negotiated */
    uint32_t max_segs;        /* data descriptors per request we build */
    uint32_t seg_bytes;       /* bytes per data descriptor we build */
    uint32_t max_transfer;    /* bytes per request (blocking calls split at it) */
    uint32_t timeout_us;
    void *ring;               /* the queue's memory and slots, kept for */
    struct virtq_slot *slots; /* vblk_queue_reset()'s setup again      */
    uint32_t queue_size;
    uint8_t read_only, has_flush, indirect, ready;
    struct vblk_stats stats;
};

/* Initialise a probed device (virtq_mmio_probe) as virtio-blk: reset,
   negotiate SIZE_MAX, SEG_MAX, RO, BLK_SIZE, FLUSH, INDIRECT_DESC,
   EVENT_IDX (minus p->refuse), set up queue 0, read and check the config,
   DRIVER_OK.  The device's wait strategy is left as it is.
   VIRTQ_ENODEV: not a block device.  VIRTQ_EINVAL: bad params (ring too
   small or misaligned, pool misaligned or empty).  VBLK_EPROTO: the
   device's config is unusable (blk_size larger than one request can
   carry); the device is then marked FAILED.  Advisory limits are taken as
   Linux takes them (seg_max 0 -> 1, size_max below 512 -> 4096).
   vhost-user backends need a modern transport: over legacy virtio-mmio
   qemu-storage-daemon's export never completes a request (the wait then
   ends with VIRTQ_ETIMEDOUT). */
int vblk_init(struct vblk *b, struct virtq_dev *dev, const struct vblk_params *p);

/* ---- blocking calls: each wait bounded by timeout_us ------------------- */
/* Work from any context the device's wait strategy suits (SPIN before
   interrupts, WFI once routed, OS in a task).  On VIRTQ_ETIMEDOUT the
   request stays with the device, and so does its buffer, until the device
   completes it (the driver then drops it) or vblk_reset() takes it back. */

/* Read/write bytes (a multiple of blk_size) at sector; large transfers
   are split into requests of at most max_transfer bytes. */
int vblk_read(struct vblk *b, uint64_t sector, void *buf, size_t bytes);
int vblk_write(struct vblk *b, uint64_t sector, const void *buf, size_t bytes);
/* One request of any type over caller segments (multi-segment I/O). */
int vblk_request(struct vblk *b, uint32_t type, uint64_t sector, const struct virtq_buf *segs,
                 unsigned nseg);
int vblk_flush(struct vblk *b);
/* The device ID string ("serial"), NUL-terminated in id[0..20]. */
int vblk_get_id(struct vblk *b, char id[VBLK_ID_BYTES + 1u]);

/* ---- asynchronous calls ------------------------------------------------ */

/* Queue one request: type VIRTIO_BLK_T_IN/OUT (segs: the data, a multiple
   of 512 and of blk_size), _FLUSH (no segs) or _GET_ID (one 20-byte seg).
   tag (any value) comes back from vblk_poll()/vblk_complete() exactly once,
   also after vblk_reset() (result VBLK_ECANCELED).  Kicks the device unless
   flags has VBLK_NOKICK.  VIRTQ_ENOSPC: no free request or descriptors now
   (take a completion and retry); VBLK_EROFS, VBLK_ERANGE, VBLK_E2BIG,
   VIRTQ_EINVAL: refused, nothing queued.  The segments' memory belongs to
   the device until the tag comes back; on a non-coherent platform call
   virtq_dma_sync_for_cpu() on an IN or GET_ID request's segments then,
   before reading them (the blocking calls do it themselves), and keep
   each segment in cache lines of its own (VIRTQ_DMA_ALIGN). */
int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, const struct virtq_buf *segs,
                unsigned nseg, void *tag, unsigned flags);
/* Publish queued requests and notify the device if it wants it. */
int vblk_kick(struct vblk *b);
/* Take one finished async request without waiting: VBLK_OK with *tag and
   *result (VBLK_OK or a negative code), or VIRTQ_EAGAIN. */
int vblk_poll(struct vblk *b, void **tag, int *result);
/* As vblk_poll(), waiting up to timeout_us for one: VIRTQ_ETIMEDOUT, or
   VIRTQ_EAGAIN at once when no async request is in flight. */
int vblk_complete(struct vblk *b, void **tag, int *result, uint32_t timeout_us);

/* Async requests submitted and not yet taken (in flight or done). */
unsigned vblk_pending(const struct vblk *b);

/* Reset the device and take every request back: async ones come out of
   vblk_poll() with VBLK_ECANCELED, blocking or timed-out ones are freed.
   The device is dead afterwards; vblk_init() it again to reuse it. */
int vblk_reset(struct vblk *b);

/* VIRTIO_F_RING_RESET (virtio-pci; negotiated whenever offered): reset the
   request queue of the running device, take every request back as
   vblk_reset() does (async ones out of vblk_poll() with VBLK_ECANCELED;
   completions already posted keep their result) and set the queue up
   again on the same memory.  The device stays live: no re-init.
   VIRTQ_ENOTSUP when not negotiated (always on virtio-mmio).
   VIRTQ_ETIMEDOUT when the device never finishes the reset: nothing is
   taken back (the device may still own the buffers), the queue stays as
   it was; vblk_reset() is the way out that takes everything back. */
int vblk_queue_reset(struct vblk *b);

const char *vblk_strerror(int err);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* VIRTIO_BLK_H_INCLUDED */
