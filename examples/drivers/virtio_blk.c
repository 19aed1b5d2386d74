/* SPDX-License-Identifier: MIT */
/* virtio_blk.c — portable virtio-blk driver on virtq.h (see virtio_blk.h).
 * Spec: VirtIO 1.2 "Block Device".  Freestanding C99: no libc calls. */
#include "virtio_blk.h"

/* Request states. */
#define VBLK__R_FREE 0u
#define VBLK__R_INFLIGHT 1u /* the device has it */
#define VBLK__R_DONE 2u     /* completed; waiting to be taken */
#define VBLK__R_ORPHAN 3u   /* its blocking caller timed out: drop on completion */

#define VBLK__STATUS_UNSET 0xffu /* no device writes this: "status never written" */

/* struct virtio_blk_config offsets ("Device configuration layout"). */
#define VBLK__CFG_CAPACITY 0u
#define VBLK__CFG_SIZE_MAX 8u
#define VBLK__CFG_SEG_MAX 12u
#define VBLK__CFG_BLK_SIZE 20u

#define VBLK__F(bit) VIRTQ_FEATURE(bit)

/* ---- request pool -------------------------------------------------------- */

static struct vblk_req *vblk__alloc(struct vblk *b)
{
    struct vblk_req *r = b->free_list;
    if (r != NULL) {
        b->free_list = r->next;
        r->next = NULL;
    }
    return r;
}

static void vblk__free(struct vblk *b, struct vblk_req *r)
{
    r->state = VBLK__R_FREE;
    r->sync = 0;
    r->tag = NULL;
    r->next = b->free_list;
    b->free_list = r;
}

static void vblk__done_push(struct vblk *b, struct vblk_req *r)
{
    r->state = VBLK__R_DONE;
    r->next = NULL;
    if (b->done_tail != NULL)
        b->done_tail->next = r;
    else
        b->done_head = r;
    b->done_tail = r;
}

static int vblk__in_pool(const struct vblk *b, const struct vblk_req *r)
{
    uintptr_t p = (uintptr_t)r, lo = (uintptr_t)b->reqs;
    return p >= lo && p < lo + (uintptr_t)b->nreqs * sizeof(*r) &&
           (p - lo) % sizeof(*r) == 0u;
}

/* ---- completions ------------------------------------------------------------ */

static int vblk__status_result(uint8_t st)
{
    switch (st) {
    case VIRTIO_BLK_S_OK: return VIRTQ_OK;
    case VIRTIO_BLK_S_IOERR: return VBLK_EIO;
    case VIRTIO_BLK_S_UNSUPP: return VBLK_EUNSUPP;
    default: return VBLK_EPROTO; /* unset or unknown: the device broke the rule */
    }
}

/* Move every used buffer off the ring into its request.  The used length
   is not trusted for anything: legacy devices are allowed to report odd
   values ("Legacy Interface: Device Operation"), and the status byte says
   what happened. */
static int vblk__reap(struct vblk *b)
{
    unsigned n;
    for (n = 0; n <= b->vq.num; n++) {
        void *cookie;
        struct vblk_req *r;
        int rc = virtq_get(&b->vq, &cookie, NULL);
        if (rc == VIRTQ_EAGAIN)
            return VIRTQ_OK;
        if (rc != VIRTQ_OK)
            return rc;
        r = (struct vblk_req *)cookie;
        if (!vblk__in_pool(b, r) || (r->state != VBLK__R_INFLIGHT && r->state != VBLK__R_ORPHAN)) {
            virtq_break(&b->vq); /* cannot happen unless memory was corrupted */
            return VIRTQ_EBROKEN;
        }
        b->inflight--;
        b->stats.completed++;
        /* Non-coherent DMA: drop the CPU's stale copy of what the device
           wrote into the request (status, and GET_ID's id, which follows
           it) before reading it (a no-op on coherent platforms). */
        virtq_dma_sync_for_cpu(&r->status, (size_t)(r->id + VBLK_ID_BYTES - &r->status));
        r->result = vblk__status_result(*(volatile uint8_t *)&r->status);
        if (r->result != VIRTQ_OK)
            b->stats.errors++;
        if (r->state == VBLK__R_ORPHAN)
            vblk__free(b, r);
        else if (r->sync)
            r->state = VBLK__R_DONE; /* its blocking caller takes it */
        else
            vblk__done_push(b, r);
    }
    return VIRTQ_OK;
}

/* Wait (bounded) for the next used buffer and take it.  Interrupts stay
   suppressed except while a wait sleeps: virtq_wait() re-arms them before
   it blocks, and they go off again here, so a burst of completions costs
   at most one interrupt per sleep. */
static int vblk__wait_reap(struct vblk *b, uint32_t timeout_us)
{
    int rc = virtq_wait(b->dev, &b->vq, timeout_us);
    virtq_disable_intr(&b->vq);
    if (rc != VIRTQ_OK)
        return rc;
    return vblk__reap(b);
}

/* ---- building a request -------------------------------------------------------- */

static int vblk__check_io(const struct vblk *b, uint32_t type, uint64_t sector,
                          const struct virtq_buf *segs, unsigned nseg, uint64_t *bytes)
{
    uint64_t total = 0, sectors;
    unsigned i;
    if (type == VIRTIO_BLK_T_GET_ID && nseg == 0u)
        return VIRTQ_OK; /* vblk_get_id(): into the request's own buffer */
    if (nseg == 0u || segs == NULL)
        return VIRTQ_EINVAL;
    for (i = 0; i < nseg; i++) {
        if (segs[i].addr == NULL || segs[i].len == 0u)
            return VIRTQ_EINVAL;
        total += segs[i].len;
    }
    if (type == VIRTIO_BLK_T_GET_ID)
        return (nseg == 1u && total == VBLK_ID_BYTES) ? VIRTQ_OK : VIRTQ_EINVAL;
    /* "Device Operation": data in multiples of 512; and whole logical
       blocks, which a device with a larger blk_size insists on. */
    if (total % b->blk_size != 0u || sector % (b->blk_size / VBLK_SECTOR) != 0u)
        return VIRTQ_EINVAL;
    if (type == VIRTIO_BLK_T_OUT && b->read_only)
        return VBLK_EROFS; /* "Device Initialization": writes would fail */
    sectors = total / VBLK_SECTOR;
    if (sectors > b->capacity || sector > b->capacity - sectors)
        return VBLK_ERANGE; /* the driver must not go past capacity */
    *bytes = total;
    return VIRTQ_OK;
}

/* Fill bufs[] with header, data (split at seg_bytes) and status; returns
   the number of entries or VBLK_E2BIG. */
static int vblk__build(const struct vblk *b, struct vblk_req *r, const struct virtq_buf *segs,
                       unsigned nseg, struct virtq_buf *bufs, unsigned *split)
{
    unsigned n = 1, i;
    bufs[0].addr = &r->hdr;
    bufs[0].len = (uint32_t)sizeof(r->hdr);
    *split = 0;
    for (i = 0; i < nseg; i++) {
        uint8_t *p = (uint8_t *)segs[i].addr;
        uint32_t left = segs[i].len;
        while (left > 0u) {
            uint32_t chunk = left < b->seg_bytes ? left : b->seg_bytes;
            if (n - 1u >= b->max_segs)
                return VBLK_E2BIG;
            bufs[n].addr = p;
            bufs[n].len = chunk;
            n++;
            p += chunk;
            left -= chunk;
        }
    }
    *split = (n - 1u) - nseg; /* descriptors added by size_max splitting */
    bufs[n].addr = &r->status;
    bufs[n].len = 1;
    return (int)(n + 1u);
}

/* Queue one request (no kick).  The request comes from the pool; sync marks
   it as a blocking call's. */
/* vblk__queue, step 1: is this request type valid here, with these
   segments?  FLUSH's sector becomes 0 ("Device Operation": unused). */
static int vblk__check_request(const struct vblk *b, uint32_t type, uint64_t *sector,
                               const struct virtq_buf *segs, unsigned nseg)
{
    uint64_t bytes = 0;
    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
    case VIRTIO_BLK_T_GET_ID:
        return vblk__check_io(b, type, *sector, segs, nseg, &bytes);
    case VIRTIO_BLK_T_FLUSH:
        if (nseg != 0u)
            return VIRTQ_EINVAL;
        if (!b->has_flush)
            return VIRTQ_ENOTSUP;
        *sector = 0;
        return VIRTQ_OK;
    default:
        return VIRTQ_EINVAL;
    }
}

/* vblk__queue, step 3: the chain (header, data, status) into the ring.
   Readable: header (+ data for OUT); writable: data for IN/GET_ID, status.
   Indirect when negotiated and the request has several data segments, or
   when the ring has no room for a direct chain ("Indirect Descriptors":
   one ring entry however long the request). */
static int vblk__add(struct vblk *b, struct vblk_req *r, uint32_t type,
                     const struct virtq_buf *bufs, unsigned nbuf)
{
    unsigned ndata = nbuf - 2u;
    unsigned writable = (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) ? ndata + 1u : 1u;
    int rc;
    if (b->indirect && (ndata > 1u || virtq_num_free(&b->vq) < nbuf)) {
        rc = virtq_add_indirect(&b->vq, bufs, nbuf - writable, writable, r->table, r);
        if (rc == VIRTQ_OK)
            b->stats.indirect++;
        return rc;
    }
    return virtq_add(&b->vq, bufs, nbuf - writable, writable, r);
}

static int vblk__queue(struct vblk *b, uint32_t type, uint64_t sector,
                       const struct virtq_buf *segs, unsigned nseg, void *tag, int sync,
                       struct vblk_req **out)
{
    struct virtq_buf bufs[VBLK_MAX_SEGS + 2u], own;
    struct vblk_req *r;
    unsigned split = 0;
    int rc, n;

    /* 1. The request, checked. */
    if (b == NULL || !b->ready)
        return VIRTQ_EINVAL;
    rc = vblk__check_request(b, type, &sector, segs, nseg);
    if (rc != VIRTQ_OK)
        return rc;
    /* 2. A request slot and its segments. */
    r = vblk__alloc(b);
    if (r == NULL)
        return VIRTQ_ENOSPC;
    if (type == VIRTIO_BLK_T_GET_ID && nseg == 0u) {
        /* The request's own buffer, not the caller's stack: after a timeout
           the device may still write it, and the request outlives the call. */
        own.addr = r->id;
        own.len = VBLK_ID_BYTES;
        segs = &own;
        nseg = 1;
    }
    n = vblk__build(b, r, segs, nseg, bufs, &split);
    if (n < 0) {
        vblk__free(b, r);
        return n;
    }
    r->hdr.type = type; /* little-endian CPU: virtq.h refuses big-endian */
    r->hdr.reserved = 0;
    r->hdr.sector = sector;
    r->status = VBLK__STATUS_UNSET;
    r->result = VIRTQ_OK;
    r->tag = tag;
    r->sync = (uint8_t)(sync != 0);
    /* 3. Into the ring (not yet published). */
    rc = vblk__add(b, r, type, bufs, (unsigned)n);
    if (rc != VIRTQ_OK) {
        vblk__free(b, r);
        return rc;
    }
    r->state = VBLK__R_INFLIGHT;
    b->inflight++;
    b->stats.submitted++;
    b->stats.split += split;
    *out = r;
    return VIRTQ_OK;
}

/* ---- init ---------------------------------------------------------------------------- */

static int vblk__pow2(uint32_t v) { return v != 0u && (v & (v - 1u)) == 0u; }

/* vblk_init, step 0: the caller's parameters, and the Queue Size they
   allow (a power of two, at most VIRTQ_MAX_SIZE); 0 when they are bad. */
static uint32_t vblk__check_params(const struct vblk *b, const struct virtq_dev *dev,
                                   const struct vblk_params *p)
{
    uint32_t qs;
    if (b == NULL || dev == NULL || p == NULL || p->ring == NULL || p->slots == NULL ||
        p->reqs == NULL || p->nreqs == 0u || p->queue_size < 4u ||
        ((uintptr_t)p->reqs & (VIRTQ_DMA_ALIGN - 1u)) != 0u || ((uintptr_t)p->ring & 4095u) != 0u)
        return 0;
    qs = p->queue_size > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : p->queue_size;
    while (!vblk__pow2(qs))
        qs &= qs - 1u;
    /* Legacy needs the 4096 layout, which is also big enough for modern. */
    if (p->ring_bytes < VIRTQ_RING_BYTES(qs, VIRTQ_ALIGN_LEGACY))
        return 0;
    return qs;
}

/* vblk_init, step 2: config, validated before use ("Device configuration
   layout"); the negotiated features say which fields exist. */
static int vblk__read_config(struct vblk *b, struct virtq_dev *dev)
{
    uint64_t cap = 0;
    uint32_t v;
    int rc;
    rc = virtq_dev_config_read64(dev, VBLK__CFG_CAPACITY, &cap);
    if (rc != VIRTQ_OK)
        return rc;
    b->capacity = cap;
    b->blk_size = VBLK_SECTOR;
    if (dev->features & VBLK__F(VIRTIO_BLK_F_BLK_SIZE)) {
        rc = virtq_dev_config_read32(dev, VBLK__CFG_BLK_SIZE, &v);
        if (rc != VIRTQ_OK)
            return rc;
        /* Advisory ("does not affect the units used"): a nonsense value is
           ignored rather than trusted. */
        if (vblk__pow2(v) && v >= VBLK_SECTOR && v <= (2u << 20))
            b->blk_size = v;
    }
    if (dev->features & VBLK__F(VIRTIO_BLK_F_SIZE_MAX)) {
        rc = virtq_dev_config_read32(dev, VBLK__CFG_SIZE_MAX, &v);
        if (rc != VIRTQ_OK)
            return rc;
        /* Advisory, and treated as Linux treats it: a limit below one
           sector (0 included, as qemu-storage-daemon's vhost-user-blk
           export offers) sizes nothing, so the block layer's floor of one
           4 KiB page is used; from a sector up it is honoured, in whole
           sectors. */
        if (v < VBLK_SECTOR)
            v = VBLK_MIN_SIZE_MAX;
        b->size_max = v;
    }
    if (dev->features & VBLK__F(VIRTIO_BLK_F_SEG_MAX)) {
        rc = virtq_dev_config_read32(dev, VBLK__CFG_SEG_MAX, &v);
        if (rc != VIRTQ_OK)
            return rc;
        /* Advisory: Linux uses at least one segment "whatever they
           say", and so does this driver (a request then carries one
           data descriptor). */
        if (v == 0u)
            v = 1u;
        b->seg_max = v;
    }
    b->read_only = (dev->features & VBLK__F(VIRTIO_BLK_F_RO)) != 0u;
    b->has_flush = (dev->features & VBLK__F(VIRTIO_BLK_F_FLUSH)) != 0u;
    b->indirect = (dev->features & VBLK__F(VIRTIO_F_INDIRECT_DESC)) != 0u;

    return VIRTQ_OK;
}

/* vblk_init, step 3b: how big one request may be, from the queue size and
   the device's advisory limits. */
static int vblk__size_limits(struct vblk *b, uint32_t num)
{
    /* Descriptors per request: a chain (or an indirect table) may not be
       longer than the Queue Size ("The Virtqueue Descriptor Table"). */
    b->max_segs = VBLK_MAX_SEGS;
    if (b->seg_max != 0u && b->seg_max < b->max_segs)
        b->max_segs = b->seg_max;
    if (num - 2u < b->max_segs)
        b->max_segs = num - 2u;
    b->seg_bytes = VBLK_DEFAULT_SEG_BYTES;
    if (b->size_max != 0u && b->size_max < b->seg_bytes)
        b->seg_bytes = b->size_max - b->size_max % VBLK_SECTOR; /* whole sectors */
    {
        uint64_t mt = (uint64_t)b->max_segs * b->seg_bytes;
        if (mt > 0x40000000u)
            mt = 0x40000000u;
        b->max_transfer = (uint32_t)(mt - mt % b->blk_size);
    }
    if (b->max_transfer == 0u)
        return VBLK_EPROTO; /* blk_size above what one request can carry */
    return VIRTQ_OK;
}

int vblk_init(struct vblk *b, struct virtq_dev *dev, const struct vblk_params *p)
{
    uint64_t wanted;
    uint32_t qs;
    unsigned i;
    int rc;

    /* 0. Parameters and driver state. */
    qs = vblk__check_params(b, dev, p);
    if (qs == 0u)
        return VIRTQ_EINVAL;
    if (dev->device_id != VIRTIO_ID_BLOCK)
        return VIRTQ_ENODEV;
    for (i = 0; i < sizeof(*b); i++)
        ((uint8_t *)b)[i] = 0;
    b->dev = dev;
    b->reqs = p->reqs;
    b->nreqs = p->nreqs;
    b->timeout_us = p->timeout_us ? p->timeout_us : VBLK_DEFAULT_TIMEOUT_US;
    for (i = p->nreqs; i-- > 0u;) {
        p->reqs[i].state = VBLK__R_FREE;
        p->reqs[i].next = b->free_list;
        b->free_list = &p->reqs[i];
    }

    /* 1. "Device Initialization": reset, ACKNOWLEDGE, DRIVER, features.
       RO is accepted whenever offered: a driver that ignored it would send
       writes that can only fail. */
    rc = virtq_dev_begin(dev);
    if (rc != VIRTQ_OK)
        return rc;
    wanted = VBLK__F(VIRTIO_BLK_F_SIZE_MAX) | VBLK__F(VIRTIO_BLK_F_SEG_MAX) |
             VBLK__F(VIRTIO_BLK_F_BLK_SIZE) | VBLK__F(VIRTIO_BLK_F_FLUSH) |
             VBLK__F(VIRTIO_F_INDIRECT_DESC) | VBLK__F(VIRTIO_F_EVENT_IDX) |
             VBLK__F(VIRTIO_F_RING_RESET);
    wanted &= ~p->refuse;
    wanted |= VBLK__F(VIRTIO_BLK_F_RO);
    rc = virtq_dev_negotiate(dev, wanted, 0);
    if (rc != VIRTQ_OK)
        return rc;

    /* 2. Config. */
    rc = vblk__read_config(b, dev);
    if (rc != VIRTQ_OK)
        goto fail;

    /* 3. The request queue, and the request size it allows. */
    b->ring = p->ring;
    b->slots = p->slots;
    b->queue_size = qs;
    rc = virtq_dev_queue_setup(dev, &b->vq, 0, qs, p->ring, p->slots);
    if (rc != VIRTQ_OK)
        goto fail;
    if (b->vq.num < 4u) {
        rc = VIRTQ_ENOSPC; /* header + data + status need room */
        goto fail;
    }
    rc = vblk__size_limits(b, b->vq.num);
    if (rc != VIRTQ_OK)
        goto fail;
    /* Quiet until a wait asks for an interrupt (see vblk__wait_reap). */
    virtq_disable_intr(&b->vq);

    /* 4. DRIVER_OK. */
    rc = virtq_dev_driver_ok(dev);
    if (rc != VIRTQ_OK)
        goto fail;
    b->ready = 1;
    return VIRTQ_OK;
fail:
    virtq_dev_fail(dev);
    return rc;
}

/* ---- blocking calls ---------------------------------------------------------------- */

/* After a blocking IN or GET_ID request: the data the device wrote into
   the caller's segments, for the CPU (non-coherent DMA; the async calls
   leave this to their caller, see vblk_submit). */
static void vblk__sync_in(uint32_t type, const struct virtq_buf *segs, unsigned nseg)
{
    unsigned i;
    if (type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_GET_ID)
        return;
    for (i = 0; i < nseg; i++)
        virtq_dma_sync_for_cpu(segs[i].addr, segs[i].len);
}

/* Submit one request as a blocking call and wait for it.  ENOSPC (async
   requests hold the pool or the ring) waits for a completion and retries. */
static int vblk__sync(struct vblk *b, uint32_t type, uint64_t sector,
                      const struct virtq_buf *segs, unsigned nseg, uint8_t *id_out)
{
    struct vblk_req *r = NULL;
    unsigned tries;
    int rc;

    for (tries = 0;; tries++) {
        rc = vblk__queue(b, type, sector, segs, nseg, NULL, 1, &r);
        if (rc != VIRTQ_ENOSPC)
            break;
        /* Only completions free space; none can come with nothing in flight,
           and each round takes at least one, so this loop is bounded. */
        if (b->inflight == 0u || tries > b->nreqs + b->vq.num)
            return VIRTQ_ENOSPC;
        rc = vblk__wait_reap(b, b->timeout_us);
        if (rc != VIRTQ_OK) {
            if (rc == VIRTQ_ETIMEDOUT)
                b->stats.timeouts++;
            return rc;
        }
    }
    if (rc != VIRTQ_OK)
        return rc;
    rc = vblk_kick(b);
    /* Every round consumes at least one used buffer, and at most
       inflight of them come before ours: bounded. */
    for (tries = 0; rc == VIRTQ_OK && r->state != VBLK__R_DONE; tries++) {
        rc = vblk__reap(b);
        if (rc != VIRTQ_OK || r->state == VBLK__R_DONE)
            break;
        if (tries > b->nreqs + b->vq.num) {
            rc = VIRTQ_ETIMEDOUT;
            break;
        }
        rc = vblk__wait_reap(b, b->timeout_us);
    }
    if (r->state == VBLK__R_DONE) {
        unsigned i;
        rc = r->result;
        if (rc == VIRTQ_OK)
            vblk__sync_in(type, segs, nseg);
        if (id_out != NULL && rc == VIRTQ_OK) /* r->id: synced by vblk__reap */
            for (i = 0; i < VBLK_ID_BYTES; i++)
                id_out[i] = r->id[i];
        vblk__free(b, r);
        return rc;
    }
    /* Timed out or broken: the device still owns the request.  It is
       dropped when it completes, or handed back by vblk_reset(). */
    r->state = VBLK__R_ORPHAN;
    if (rc == VIRTQ_ETIMEDOUT)
        b->stats.timeouts++;
    return rc;
}

int vblk_request(struct vblk *b, uint32_t type, uint64_t sector, const struct virtq_buf *segs,
                 unsigned nseg)
{
    return vblk__sync(b, type, sector, segs, nseg, NULL);
}

static int vblk__rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf, size_t bytes)
{
    uint8_t *p = (uint8_t *)buf;
    if (b == NULL || !b->ready || buf == NULL || bytes == 0u)
        return VIRTQ_EINVAL;
    if (type == VIRTIO_BLK_T_OUT && b->read_only)
        return VBLK_EROFS;
    if (bytes % b->blk_size != 0u)
        return VIRTQ_EINVAL;
    if ((uint64_t)bytes / VBLK_SECTOR > b->capacity ||
        sector > b->capacity - (uint64_t)bytes / VBLK_SECTOR)
        return VBLK_ERANGE; /* checked whole, so no part is done */
    while (bytes > 0u) {
        size_t chunk = bytes < b->max_transfer ? bytes : b->max_transfer;
        struct virtq_buf seg;
        int rc;
        seg.addr = p;
        seg.len = (uint32_t)chunk;
        rc = vblk__sync(b, type, sector, &seg, 1, NULL);
        if (rc != VIRTQ_OK)
            return rc;
        p += chunk;
        sector += chunk / VBLK_SECTOR;
        bytes -= chunk;
    }
    return VIRTQ_OK;
}

int vblk_read(struct vblk *b, uint64_t sector, void *buf, size_t bytes)
{
    return vblk__rw(b, VIRTIO_BLK_T_IN, sector, buf, bytes);
}

int vblk_write(struct vblk *b, uint64_t sector, const void *buf, size_t bytes)
{
    /* The device only reads it; the segment type has no const. */
    return vblk__rw(b, VIRTIO_BLK_T_OUT, sector, (void *)(uintptr_t)buf, bytes);
}

int vblk_flush(struct vblk *b)
{
    if (b == NULL || !b->ready)
        return VIRTQ_EINVAL;
    if (!b->has_flush)
        return VIRTQ_OK; /* no FLUSH offered: nothing the driver can flush */
    return vblk__sync(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL);
}

int vblk_get_id(struct vblk *b, char id[VBLK_ID_BYTES + 1u])
{
    uint8_t raw[VBLK_ID_BYTES];
    unsigned i;
    int rc;
    if (id == NULL)
        return VIRTQ_EINVAL;
    for (i = 0; i < VBLK_ID_BYTES; i++)
        raw[i] = 0;
    rc = vblk__sync(b, VIRTIO_BLK_T_GET_ID, 0, NULL, 0, raw);
    /* NUL-padded, no terminator when 20 long: always terminate here. */
    for (i = 0; i < VBLK_ID_BYTES; i++)
        id[i] = (char)raw[i];
    id[VBLK_ID_BYTES] = '\0';
    return rc;
}

/* ---- asynchronous calls ----------------------------------------------------------------- */

int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, const struct virtq_buf *segs,
                unsigned nseg, void *tag, unsigned flags)
{
    struct vblk_req *r = NULL;
    int rc;
    if (type == VIRTIO_BLK_T_GET_ID && nseg == 0u)
        return VIRTQ_EINVAL; /* async GET_ID needs the caller's 20 bytes */
    rc = vblk__queue(b, type, sector, segs, nseg, tag, 0, &r);
    if (rc != VIRTQ_OK)
        return rc;
    return (flags & VBLK_NOKICK) ? VIRTQ_OK : vblk_kick(b);
}

int vblk_kick(struct vblk *b)
{
    if (b == NULL || !b->ready)
        return VIRTQ_EINVAL;
    return virtq_dev_kick(b->dev, &b->vq);
}

static int vblk__take(struct vblk *b, void **tag, int *result)
{
    struct vblk_req *r = b->done_head;
    if (r == NULL)
        return VIRTQ_EAGAIN;
    b->done_head = r->next;
    if (b->done_head == NULL)
        b->done_tail = NULL;
    *tag = r->tag;
    *result = r->result;
    vblk__free(b, r);
    return VIRTQ_OK;
}

int vblk_poll(struct vblk *b, void **tag, int *result)
{
    int rc;
    if (b == NULL || tag == NULL || result == NULL)
        return VIRTQ_EINVAL;
    if (b->done_head == NULL && b->ready) {
        rc = vblk__reap(b);
        if (rc != VIRTQ_OK)
            return rc;
    }
    return vblk__take(b, tag, result);
}

/* Async requests the device still holds. */
static unsigned vblk__async_inflight(const struct vblk *b)
{
    unsigned i, n = 0;
    for (i = 0; i < b->nreqs; i++)
        n += b->reqs[i].state == VBLK__R_INFLIGHT && !b->reqs[i].sync;
    return n;
}

int vblk_complete(struct vblk *b, void **tag, int *result, uint32_t timeout_us)
{
    unsigned tries;
    int rc = vblk_poll(b, tag, result);
    /* Each round takes at least one used buffer: bounded by what is in
       flight. */
    for (tries = 0; rc == VIRTQ_EAGAIN && tries <= b->nreqs + b->vq.num; tries++) {
        if (!b->ready || vblk__async_inflight(b) == 0u)
            return VIRTQ_EAGAIN; /* nothing could ever complete */
        rc = vblk__wait_reap(b, timeout_us);
        if (rc != VIRTQ_OK) {
            if (rc == VIRTQ_ETIMEDOUT)
                b->stats.timeouts++;
            return rc;
        }
        rc = vblk__take(b, tag, result);
    }
    return rc;
}

unsigned vblk_pending(const struct vblk *b)
{
    unsigned i, n = 0;
    if (b == NULL)
        return 0;
    for (i = 0; i < b->nreqs; i++)
        n += (b->reqs[i].state == VBLK__R_INFLIGHT || b->reqs[i].state == VBLK__R_DONE) &&
             !b->reqs[i].sync;
    return n;
}

/* Once the device let go of the ring (device or queue reset), hand every
   request still on it back: async ones cancelled, blocking ones freed. */
static void vblk__take_back(struct vblk *b)
{
    void *cookie;
    unsigned n;
    for (n = 0; n <= b->vq.num; n++) {
        struct vblk_req *r;
        if (virtq_detach(&b->vq, &cookie) != VIRTQ_OK)
            break;
        r = (struct vblk_req *)cookie;
        if (!vblk__in_pool(b, r))
            continue;
        b->inflight--;
        if (r->state == VBLK__R_INFLIGHT && !r->sync) {
            r->result = VBLK_ECANCELED;
            vblk__done_push(b, r);
        } else {
            vblk__free(b, r); /* orphaned blocking call */
        }
    }
}

int vblk_reset(struct vblk *b)
{
    int rc;
    if (b == NULL || b->dev == NULL)
        return VIRTQ_EINVAL;
    /* Completions the device already posted keep their real result. */
    if (b->ready)
        (void)vblk__reap(b);
    b->ready = 0;
    /* After the reset reads back 0 the device no longer touches the ring
       or the buffers ("Device Reset"), so every request can come back. */
    rc = virtq_dev_reset(b->dev);
    if (rc != VIRTQ_OK)
        return rc;
    vblk__take_back(b);
    return VIRTQ_OK;
}

int vblk_queue_reset(struct vblk *b)
{
    int rc;
    if (b == NULL || b->dev == NULL || !b->ready)
        return VIRTQ_EINVAL;
    if (!(b->dev->features & VBLK__F(VIRTIO_F_RING_RESET)))
        return VIRTQ_ENOTSUP;
    (void)vblk__reap(b); /* posted completions keep their real result */
    /* 1. "Virtqueue Reset": once queue_reset reads back 0 the device has
          let go of this queue's ring and buffers. */
    rc = virtq_dev_queue_reset(b->dev, &b->vq);
    if (rc != VIRTQ_OK)
        return rc;
    /* 2. Every request comes back exactly once. */
    vblk__take_back(b);
    /* 3. "Virtqueue Re-enable": set the queue up again, same memory. */
    rc = virtq_dev_queue_setup(b->dev, &b->vq, 0, b->queue_size, b->ring, b->slots);
    if (rc != VIRTQ_OK) {
        b->ready = 0;
        return rc;
    }
    virtq_disable_intr(&b->vq); /* quiet until a wait asks, as after init */
    return VIRTQ_OK;
}

const char *vblk_strerror(int err)
{
    switch (err) {
    case VBLK_EIO: return "device I/O error";
    case VBLK_EUNSUPP: return "request unsupported by the device";
    case VBLK_EROFS: return "device is read-only";
    case VBLK_ERANGE: return "beyond the device capacity";
    case VBLK_E2BIG: return "too many segments for the device";
    case VBLK_ECANCELED: return "cancelled by reset";
    case VBLK_EPROTO: return "device broke the blk protocol";
    default: return virtq_strerror(err);
    }
}
