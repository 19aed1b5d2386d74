/* SPDX-License-Identifier: MIT */
/* virtio_gpu.c — portable virtio-gpu 2D driver on virtq.h (see virtio_gpu.h).
 *
 * Every control command is one chain: the command (device-readable; for
 * RESOURCE_ATTACH_BACKING the mem entries follow as a second readable
 * segment), then the response (device-writable).  The answer is checked
 * against the command before it counts: used length, response type, error
 * responses, fence echo ("Device Operation: Request header"). */
#include "virtio_gpu.h"

/* The wire layouts, byte for byte ("Device Operation: Request header" and
   the command structs that follow it). */
#define VIRTIO_GPU__SIZE(t, n) typedef char virtio_gpu__size_##t[sizeof(struct t) == (n) ? 1 : -1]
VIRTIO_GPU__SIZE(virtio_gpu_ctrl_hdr, 24);
VIRTIO_GPU__SIZE(virtio_gpu_resp_display_info, 408);
VIRTIO_GPU__SIZE(virtio_gpu_resource_create_2d, 40);
VIRTIO_GPU__SIZE(virtio_gpu_resource_unref, 32);
VIRTIO_GPU__SIZE(virtio_gpu_set_scanout, 48);
VIRTIO_GPU__SIZE(virtio_gpu_resource_flush, 48);
VIRTIO_GPU__SIZE(virtio_gpu_transfer_to_host_2d, 56);
VIRTIO_GPU__SIZE(virtio_gpu_resource_attach_backing, 32);
VIRTIO_GPU__SIZE(virtio_gpu_mem_entry, 16);
VIRTIO_GPU__SIZE(virtio_gpu_resource_detach_backing, 32);
VIRTIO_GPU__SIZE(virtio_gpu_update_cursor, 56);
VIRTIO_GPU__SIZE(virtio_gpu_config, 16);

/* Largest width/height an enabled scanout may report before we call the
   display info broken (QEMU's own limit is 16384). */
#define VIRTIO_GPU__MAX_DIM 16384u

static void gpu__zero(void *p, size_t n)
{
    volatile uint8_t *b = (volatile uint8_t *)p; /* no libc in freestanding builds */
    while (n--)
        *b++ = 0;
}

static int gpu__ok(const struct virtio_gpu *g)
{
    return g != NULL && g->dev != NULL;
}

/* ---- completions ---------------------------------------------------------- */

/* Take every used buffer of both queues and mark its request done.  A
   cookie that is not one of ours cannot happen (virtq hands back exactly
   what was added); the check keeps a corrupted struct from being written
   through. */
static int gpu__reap(struct virtio_gpu *g)
{
    void *cookie;
    uint32_t len;
    int rc;

    while ((rc = virtq_get(&g->ctrlq, &cookie, &len)) == VIRTQ_OK) {
        struct virtio_gpu_req *r = (struct virtio_gpu_req *)cookie;
        if (r < &g->req[0] || r >= &g->req[VIRTIO_GPU_NREQ] || !r->in_flight)
            return VIRTQ_EBROKEN;
        /* Non-coherent DMA: drop the CPU's stale copy of the response
           (virtq_get bounds len by resp_len; a no-op when coherent). */
        virtq_dma_sync_for_cpu(&r->resp, r->resp_len);
        r->used_len = len;
        r->in_flight = 0;
        r->done = 1;
        if (r->abandoned) {
            r->abandoned = 0; /* its caller already got ETIMEDOUT */
            g->stats.late++;
        }
    }
    if (rc != VIRTQ_EAGAIN)
        return rc;
    while ((rc = virtq_get(&g->cursorq, &cookie, &len)) == VIRTQ_OK) {
        if (cookie != (void *)&g->cursor_cmd || !g->cursor_busy)
            return VIRTQ_EBROKEN;
        g->cursor_busy = 0;
    }
    return rc == VIRTQ_EAGAIN ? VIRTQ_OK : rc;
}

/* Check one answered request against its command. */
static int gpu__check(struct virtio_gpu *g, struct virtio_gpu_req *r)
{
    struct virtio_gpu_ctrl_hdr h;

    if (r->used_len < sizeof(struct virtio_gpu_ctrl_hdr)) {
        g->stats.proto_errors++;
        return VIRTIO_GPU_EPROTO;
    }
    h = r->resp.hdr; /* one copy: the device cannot change it under us */
    if (h.type >= 0x1200u && h.type <= 0x12ffu) {
        g->stats.err_resps++;
        return -(int)h.type;
    }
    if (h.type != r->ok_type ||
        (h.type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO &&
         r->used_len < sizeof(struct virtio_gpu_resp_display_info))) {
        g->stats.proto_errors++;
        return VIRTIO_GPU_EPROTO;
    }
    /* A fenced command's response must carry the flag and the same id
       ("If the driver sets VIRTIO_GPU_FLAG_FENCE ..."). */
    if (r->cmd.hdr.flags & VIRTIO_GPU_FLAG_FENCE) {
        if (!(h.flags & VIRTIO_GPU_FLAG_FENCE) || h.fence_id != r->cmd.hdr.fence_id) {
            g->stats.proto_errors++;
            return VIRTIO_GPU_EPROTO;
        }
        if (h.fence_id > g->fence_done)
            g->fence_done = h.fence_id;
    }
    g->stats.commands++;
    return VIRTQ_OK;
}

/* ---- submission --------------------------------------------------------- */

/* A free request with its command header filled in, or NULL. */
static struct virtio_gpu_req *gpu__req(struct virtio_gpu *g, uint32_t type, uint32_t cmd_len,
                                       uint32_t ok_type, int slot)
{
    struct virtio_gpu_req *r;
    int i, seen = 0;

    for (i = 0; i < VIRTIO_GPU_NREQ; i++) {
        r = &g->req[i];
        if (r->in_flight)
            continue;
        if (seen++ < slot)
            continue; /* a batch takes distinct free requests */
        gpu__zero(&r->cmd, sizeof(r->cmd));
        gpu__zero(&r->resp, sizeof(r->resp));
        r->cmd.hdr.type = type;
        if (g->fence_all) {
            r->cmd.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
            r->cmd.hdr.fence_id = ++g->next_fence;
        }
        r->cmd_len = cmd_len;
        r->resp_len = ok_type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO
                          ? (uint32_t)sizeof(struct virtio_gpu_resp_display_info)
                          : (uint32_t)sizeof(struct virtio_gpu_ctrl_hdr);
        r->ok_type = ok_type;
        r->used_len = 0;
        r->done = 0;
        r->abandoned = 0;
        return r;
    }
    return NULL;
}

/* Put n prepared requests on the control queue behind one notification,
   wait for all of them (each wait bounded), then check each answer; the
   first failure is returned.  extra/extra_len: a second readable segment
   for the first request (attach backing entries). */
static int gpu__run(struct virtio_gpu *g, struct virtio_gpu_req **rs, int n, const void *extra,
                    uint32_t extra_len)
{
    int i, rc = VIRTQ_EINVAL, added = 0;

    for (i = 0; i < n; i++) {
        struct virtq_buf b[3];
        unsigned out = 0;
        b[out].addr = &rs[i]->cmd;
        b[out++].len = rs[i]->cmd_len;
        if (i == 0 && extra != NULL) {
            b[out].addr = (void *)(uintptr_t)extra; /* device-readable only */
            b[out++].len = extra_len;
        }
        b[out].addr = &rs[i]->resp;
        b[out].len = rs[i]->resp_len;
        rc = virtq_add(&g->ctrlq, b, out, 1, rs[i]);
        if (rc != VIRTQ_OK)
            break;
        rs[i]->in_flight = 1;
        added++;
    }
    if (added == 0)
        return rc;
    /* Whatever was added must go out, or its cookie would wait forever. */
    {
        int krc = virtq_dev_kick(g->dev, &g->ctrlq);
        if (krc != VIRTQ_OK)
            return krc;
    }
    for (;;) {
        int pending = 0;
        rc = gpu__reap(g);
        if (rc != VIRTQ_OK)
            return rc;
        for (i = 0; i < added; i++)
            pending += !rs[i]->done;
        if (pending == 0)
            break;
        rc = virtq_wait(g->dev, &g->ctrlq, g->timeout_us);
        if (rc == VIRTQ_ETIMEDOUT) {
            g->stats.timeouts++;
            for (i = 0; i < added; i++)
                if (!rs[i]->done)
                    rs[i]->abandoned = 1; /* reaped (and counted late) later */
            return rc;
        }
        if (rc != VIRTQ_OK)
            return rc;
    }
    rc = added < n ? VIRTQ_ENOSPC : VIRTQ_OK;
    for (i = added; i-- > 0;) {
        int c = gpu__check(g, rs[i]);
        if (c != VIRTQ_OK)
            rc = c; /* ends at the first (lowest) failing request */
    }
    return rc;
}

static int gpu__one(struct virtio_gpu *g, struct virtio_gpu_req *r)
{
    return gpu__run(g, &r, 1, NULL, 0);
}

/* Get a request after reaping late completions; NULL leaves *rc set. */
static struct virtio_gpu_req *gpu__begin(struct virtio_gpu *g, uint32_t type, uint32_t cmd_len,
                                         uint32_t ok_type, int *rc)
{
    struct virtio_gpu_req *r;

    if (!gpu__ok(g)) {
        *rc = VIRTQ_EINVAL;
        return NULL;
    }
    *rc = gpu__reap(g);
    if (*rc != VIRTQ_OK)
        return NULL;
    r = gpu__req(g, type, cmd_len, ok_type, 0);
    if (r == NULL)
        *rc = VIRTQ_EBUSY; /* every request still out after timeouts */
    return r;
}

static int gpu__rect_ok(const struct virtio_gpu_rect *r)
{
    return r != NULL && r->width != 0u && r->height != 0u &&
           r->x <= UINT32_MAX - r->width && r->y <= UINT32_MAX - r->height;
}

/* ---- init and display info -------------------------------------------- */

int virtio_gpu_init(struct virtio_gpu *g, struct virtq_dev *dev, void *ctrl_ring,
                    void *cursor_ring)
{
    uint32_t n;
    int rc;

    if (g == NULL || dev == NULL || ctrl_ring == NULL || cursor_ring == NULL ||
        ((uintptr_t)ctrl_ring % VIRTIO_GPU_RING_ALIGN) != 0u ||
        ((uintptr_t)cursor_ring % VIRTIO_GPU_RING_ALIGN) != 0u)
        return VIRTQ_EINVAL;
    if (dev->device_id != VIRTIO_ID_GPU)
        return VIRTQ_ENODEV;
    gpu__zero(g, sizeof(*g));
    g->dev = dev;
    g->timeout_us = VIRTIO_GPU_TIMEOUT_US;

    /* "Device Initialization": no optional GPU features (2D only); EVENT_IDX
       when offered, to exercise notification suppression. */
    rc = virtq_dev_begin(dev);
    if (rc == VIRTQ_OK)
        rc = virtq_dev_negotiate(dev, VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX), 0);
    if (rc != VIRTQ_OK)
        return rc;
    rc = virtq_dev_config_read32(dev, VIRTIO_GPU_CONFIG_NUM_SCANOUTS, &n);
    if (rc != VIRTQ_OK)
        return rc;
    if (n < 1u || n > VIRTIO_GPU_MAX_SCANOUTS) {
        virtq_dev_fail(dev); /* "Device configuration layout": 1..16 */
        g->stats.proto_errors++;
        return VIRTIO_GPU_EPROTO;
    }
    g->num_scanouts = n;
    rc = virtq_dev_queue_setup(dev, &g->ctrlq, VIRTIO_GPU_CONTROLQ, VIRTIO_GPU_QUEUE_SIZE,
                               ctrl_ring, g->ctrl_slots);
    if (rc == VIRTQ_OK)
        rc = virtq_dev_queue_setup(dev, &g->cursorq, VIRTIO_GPU_CURSORQ, VIRTIO_GPU_QUEUE_SIZE,
                                   cursor_ring, g->cursor_slots);
    if (rc != VIRTQ_OK) {
        virtq_dev_fail(dev);
        return rc;
    }
    rc = virtq_dev_driver_ok(dev);
    if (rc != VIRTQ_OK)
        return rc;
    return virtio_gpu_get_display_info(g);
}

void virtio_gpu_set_timeout(struct virtio_gpu *g, uint32_t timeout_us)
{
    if (g != NULL)
        g->timeout_us = timeout_us ? timeout_us : VIRTIO_GPU_TIMEOUT_US;
}

void virtio_gpu_set_fence(struct virtio_gpu *g, int on)
{
    if (g != NULL)
        g->fence_all = on ? 1u : 0u;
}

uint64_t virtio_gpu_fence_done(const struct virtio_gpu *g)
{
    return g != NULL ? g->fence_done : 0u;
}

int virtio_gpu_get_display_info(struct virtio_gpu *g)
{
    struct virtio_gpu_display_one m[VIRTIO_GPU_MAX_SCANOUTS];
    struct virtio_gpu_req *r;
    uint32_t i;
    int rc;

    r = gpu__begin(g, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr),
                   VIRTIO_GPU_RESP_OK_DISPLAY_INFO, &rc);
    if (r == NULL)
        return rc;
    rc = gpu__one(g, r);
    if (rc != VIRTQ_OK)
        return rc;
    /* Copy once, validate, then publish: scanouts past num_scanouts do not
       exist; an enabled one needs a sane size. */
    for (i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
        m[i] = r->resp.display_info.pmodes[i];
        if (i >= g->num_scanouts) {
            gpu__zero(&m[i], sizeof(m[i]));
            continue;
        }
        if (m[i].enabled &&
            (m[i].r.width == 0u || m[i].r.height == 0u || m[i].r.width > VIRTIO_GPU__MAX_DIM ||
             m[i].r.height > VIRTIO_GPU__MAX_DIM)) {
            g->stats.proto_errors++;
            return VIRTIO_GPU_EPROTO;
        }
    }
    for (i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
        g->modes[i] = m[i];
    g->display_gen++;
    return VIRTQ_OK;
}

int virtio_gpu_display_size(const struct virtio_gpu *g, uint32_t scanout, uint32_t *width,
                            uint32_t *height)
{
    if (!gpu__ok(g) || scanout >= g->num_scanouts)
        return VIRTQ_EINVAL;
    if (!g->modes[scanout].enabled)
        return VIRTQ_ENODEV;
    if (width != NULL)
        *width = g->modes[scanout].r.width;
    if (height != NULL)
        *height = g->modes[scanout].r.height;
    return VIRTQ_OK;
}

/* ---- 2D commands --------------------------------------------------------- */

int virtio_gpu_resource_create_2d(struct virtio_gpu *g, uint32_t resource_id, uint32_t format,
                                  uint32_t width, uint32_t height)
{
    struct virtio_gpu_req *r;
    int rc;

    /* Resource id 0 means "none" in SET_SCANOUT and UPDATE_CURSOR. */
    if (resource_id == 0u || width == 0u || height == 0u)
        return VIRTQ_EINVAL;
    r = gpu__begin(g, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
                   sizeof(struct virtio_gpu_resource_create_2d), VIRTIO_GPU_RESP_OK_NODATA, &rc);
    if (r == NULL)
        return rc;
    r->cmd.create_2d.resource_id = resource_id;
    r->cmd.create_2d.format = format;
    r->cmd.create_2d.width = width;
    r->cmd.create_2d.height = height;
    return gpu__one(g, r);
}

/* ---- backing memory the driver cleans for the device ------------------------ */

static struct virtio_gpu_backing *gpu__backing(struct virtio_gpu *g, uint32_t resource_id)
{
    unsigned i;
    for (i = 0; i < VIRTIO_GPU_MAX_BACKINGS; i++)
        if (g->backing[i].buf != NULL && g->backing[i].resource_id == resource_id)
            return &g->backing[i];
    return NULL;
}

static void gpu__backing_forget(struct virtio_gpu *g, uint32_t resource_id)
{
    struct virtio_gpu_backing *b = gpu__backing(g, resource_id);
    if (b != NULL)
        b->buf = NULL;
}

/* Before a transfer: the bytes [off, off + len) of the resource's _buf
   backing (clipped to it) reach memory (non-coherent DMA; a no-op when
   coherent or when the driver does not know the backing). */
static void gpu__backing_clean(struct virtio_gpu *g, uint32_t resource_id, uint64_t off, uint64_t len)
{
    const struct virtio_gpu_backing *b = gpu__backing(g, resource_id);
    if (b == NULL || off >= b->len)
        return;
    if (len > b->len - off)
        len = b->len - off;
    virtq_dma_sync_for_device((const uint8_t *)b->buf + off, (size_t)len, false);
}

static int gpu__id_cmd(struct virtio_gpu *g, uint32_t type, uint32_t resource_id)
{
    struct virtio_gpu_req *r;
    int rc;

    /* UNREF and DETACH_BACKING share the layout {hdr, resource_id, pad}. */
    r = gpu__begin(g, type, sizeof(struct virtio_gpu_resource_unref), VIRTIO_GPU_RESP_OK_NODATA,
                   &rc);
    if (r == NULL)
        return rc;
    r->cmd.unref.resource_id = resource_id;
    return gpu__one(g, r);
}

int virtio_gpu_resource_unref(struct virtio_gpu *g, uint32_t resource_id)
{
    int rc = gpu__id_cmd(g, VIRTIO_GPU_CMD_RESOURCE_UNREF, resource_id);
    if (rc == VIRTQ_OK)
        gpu__backing_forget(g, resource_id); /* unref detaches the backing too */
    return rc;
}

int virtio_gpu_detach_backing(struct virtio_gpu *g, uint32_t resource_id)
{
    int rc = gpu__id_cmd(g, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, resource_id);
    if (rc == VIRTQ_OK)
        gpu__backing_forget(g, resource_id);
    return rc;
}

int virtio_gpu_attach_backing(struct virtio_gpu *g, uint32_t resource_id,
                              const struct virtio_gpu_mem_entry *entries, uint32_t nr)
{
    struct virtio_gpu_req *r;
    int rc;

    if (entries == NULL || nr == 0u || nr > UINT32_MAX / sizeof(*entries))
        return VIRTQ_EINVAL;
    r = gpu__begin(g, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
                   sizeof(struct virtio_gpu_resource_attach_backing), VIRTIO_GPU_RESP_OK_NODATA,
                   &rc);
    if (r == NULL)
        return rc;
    r->cmd.attach.hdr.resource_id = resource_id;
    r->cmd.attach.hdr.nr_entries = nr;
    return gpu__run(g, &r, 1, entries, nr * (uint32_t)sizeof(*entries));
}

int virtio_gpu_attach_backing_buf(struct virtio_gpu *g, uint32_t resource_id, void *buf,
                                  uint32_t len)
{
    struct virtio_gpu_req *r;
    int rc;

    if (buf == NULL || len == 0u)
        return VIRTQ_EINVAL;
    /* Command and its one entry in a single readable segment (the framing
       does not matter to the device: "Message Framing"). */
    r = gpu__begin(g, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, sizeof(r->cmd.attach),
                   VIRTIO_GPU_RESP_OK_NODATA, &rc);
    if (r == NULL)
        return rc;
    r->cmd.attach.hdr.resource_id = resource_id;
    r->cmd.attach.hdr.nr_entries = 1;
    r->cmd.attach.entry.addr = VIRTIO_GPU_VIRT_TO_DMA(buf);
    r->cmd.attach.entry.length = len;
    rc = gpu__one(g, r);
    if (rc == VIRTQ_OK && gpu__backing(g, resource_id) == NULL) {
        unsigned i;
        for (i = 0; i < VIRTIO_GPU_MAX_BACKINGS; i++)
            if (g->backing[i].buf == NULL) {
                g->backing[i].buf = buf;
                g->backing[i].len = len;
                g->backing[i].resource_id = resource_id;
                break;
            }
    }
    return rc;
}

int virtio_gpu_set_scanout(struct virtio_gpu *g, uint32_t scanout_id, uint32_t resource_id,
                           const struct virtio_gpu_rect *rect)
{
    struct virtio_gpu_req *r;
    int rc;

    /* Disabling (resource 0) may pass an empty rectangle. */
    if (rect == NULL || (resource_id != 0u && !gpu__rect_ok(rect)))
        return VIRTQ_EINVAL;
    r = gpu__begin(g, VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout),
                   VIRTIO_GPU_RESP_OK_NODATA, &rc);
    if (r == NULL)
        return rc;
    r->cmd.set_scanout.r = *rect;
    r->cmd.set_scanout.scanout_id = scanout_id;
    r->cmd.set_scanout.resource_id = resource_id;
    return gpu__one(g, r);
}

static void gpu__fill_transfer(struct virtio_gpu_req *r, uint32_t resource_id,
                               const struct virtio_gpu_rect *rect, uint64_t offset)
{
    r->cmd.transfer.r = *rect;
    r->cmd.transfer.offset = offset;
    r->cmd.transfer.resource_id = resource_id;
}

static void gpu__fill_flush(struct virtio_gpu_req *r, uint32_t resource_id,
                            const struct virtio_gpu_rect *rect)
{
    r->cmd.flush.r = *rect;
    r->cmd.flush.resource_id = resource_id;
}

int virtio_gpu_transfer_to_host_2d(struct virtio_gpu *g, uint32_t resource_id,
                                   const struct virtio_gpu_rect *rect, uint64_t offset)
{
    struct virtio_gpu_req *r;
    int rc;

    if (!gpu__rect_ok(rect))
        return VIRTQ_EINVAL;
    r = gpu__begin(g, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
                   sizeof(struct virtio_gpu_transfer_to_host_2d), VIRTIO_GPU_RESP_OK_NODATA, &rc);
    if (r == NULL)
        return rc;
    gpu__fill_transfer(r, resource_id, rect, offset);
    /* Without the stride, every byte from offset on may be read. */
    gpu__backing_clean(g, resource_id, offset, UINT64_MAX);
    return gpu__one(g, r);
}

int virtio_gpu_resource_flush(struct virtio_gpu *g, uint32_t resource_id,
                              const struct virtio_gpu_rect *rect)
{
    struct virtio_gpu_req *r;
    int rc;

    if (!gpu__rect_ok(rect))
        return VIRTQ_EINVAL;
    r = gpu__begin(g, VIRTIO_GPU_CMD_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush),
                   VIRTIO_GPU_RESP_OK_NODATA, &rc);
    if (r == NULL)
        return rc;
    gpu__fill_flush(r, resource_id, rect);
    return gpu__one(g, r);
}

int virtio_gpu_flush_rect(struct virtio_gpu *g, uint32_t resource_id,
                          const struct virtio_gpu_rect *rect, uint32_t stride)
{
    struct virtio_gpu_req *rs[2];
    int rc;

    if (!gpu__rect_ok(rect) || stride == 0u)
        return VIRTQ_EINVAL;
    rs[0] = gpu__begin(g, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
                       sizeof(struct virtio_gpu_transfer_to_host_2d), VIRTIO_GPU_RESP_OK_NODATA,
                       &rc);
    if (rs[0] == NULL)
        return rc;
    rs[1] = gpu__req(g, VIRTIO_GPU_CMD_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush),
                     VIRTIO_GPU_RESP_OK_NODATA, 1);
    if (rs[1] == NULL)
        return VIRTQ_EBUSY;
    /* The device takes the chains in ring order, so the flush shows the
       transferred pixels. */
    gpu__fill_transfer(rs[0], resource_id, rect, (uint64_t)rect->y * stride + (uint64_t)rect->x * 4u);
    gpu__fill_flush(rs[1], resource_id, rect);
    /* The rows the transfer reads: height - 1 strides and one row. */
    gpu__backing_clean(g, resource_id, rs[0]->cmd.transfer.offset,
                       (uint64_t)(rect->height - 1u) * stride + (uint64_t)rect->width * 4u);
    return gpu__run(g, rs, 2, NULL, 0);
}

/* ---- cursor queue --------------------------------------------------------- */

static int gpu__cursor(struct virtio_gpu *g, uint32_t type, uint32_t scanout_id,
                       uint32_t resource_id, uint32_t hot_x, uint32_t hot_y, uint32_t x, uint32_t y)
{
    struct virtq_buf b;
    int rc;

    if (!gpu__ok(g))
        return VIRTQ_EINVAL;
    rc = gpu__reap(g);
    if (rc != VIRTQ_OK)
        return rc;
    if (g->cursor_busy)
        return VIRTQ_EBUSY; /* an earlier one timed out and is still out */
    gpu__zero(&g->cursor_cmd, sizeof(g->cursor_cmd));
    g->cursor_cmd.hdr.type = type;
    g->cursor_cmd.pos.scanout_id = scanout_id;
    g->cursor_cmd.pos.x = x;
    g->cursor_cmd.pos.y = y;
    g->cursor_cmd.resource_id = resource_id;
    g->cursor_cmd.hot_x = hot_x;
    g->cursor_cmd.hot_y = hot_y;
    /* "cursorq": the device answers nothing; the used buffer is the ack. */
    b.addr = &g->cursor_cmd;
    b.len = (uint32_t)sizeof(g->cursor_cmd);
    rc = virtq_add(&g->cursorq, &b, 1, 0, &g->cursor_cmd);
    if (rc != VIRTQ_OK)
        return rc;
    g->cursor_busy = 1;
    rc = virtq_dev_kick(g->dev, &g->cursorq);
    if (rc != VIRTQ_OK)
        return rc;
    for (;;) {
        rc = gpu__reap(g);
        if (rc != VIRTQ_OK)
            return rc;
        if (!g->cursor_busy)
            break;
        rc = virtq_wait(g->dev, &g->cursorq, g->timeout_us);
        if (rc == VIRTQ_ETIMEDOUT)
            g->stats.timeouts++;
        if (rc != VIRTQ_OK)
            return rc;
    }
    g->stats.cursor_cmds++;
    return VIRTQ_OK;
}

int virtio_gpu_update_cursor(struct virtio_gpu *g, uint32_t scanout_id, uint32_t resource_id,
                             uint32_t hot_x, uint32_t hot_y, uint32_t x, uint32_t y)
{
    if (hot_x >= VIRTIO_GPU_CURSOR_SIZE || hot_y >= VIRTIO_GPU_CURSOR_SIZE)
        return VIRTQ_EINVAL;
    return gpu__cursor(g, VIRTIO_GPU_CMD_UPDATE_CURSOR, scanout_id, resource_id, hot_x, hot_y,
                       x, y);
}

int virtio_gpu_move_cursor(struct virtio_gpu *g, uint32_t scanout_id, uint32_t x, uint32_t y)
{
    return gpu__cursor(g, VIRTIO_GPU_CMD_MOVE_CURSOR, scanout_id, 0, 0, 0, x, y);
}

/* ---- interrupts and events ------------------------------------------------ */

uint32_t virtio_gpu_isr(struct virtio_gpu *g)
{
    uint32_t st;

    if (!gpu__ok(g))
        return 0;
    st = virtq_dev_isr(g->dev);
    if (st & VIRTIO_MMIO_INT_CONFIG) {
        g->config_pending = 1;
        g->stats.config_irqs++;
    }
    return st;
}

int virtio_gpu_handle_events(struct virtio_gpu *g)
{
    uint32_t ev;
    int rc;

    if (!gpu__ok(g))
        return VIRTQ_EINVAL;
    g->config_pending = 0; /* before the read: a later event sets it again */
    rc = virtq_dev_config_read32(g->dev, VIRTIO_GPU_CONFIG_EVENTS_READ, &ev);
    if (rc != VIRTQ_OK)
        return rc;
    if (!(ev & VIRTIO_GPU_EVENT_DISPLAY))
        return 0;
    /* "Device Operation: Configuration": clear the event, then ask for
       the new display info. */
    rc = virtq_dev_config_write32(g->dev, VIRTIO_GPU_CONFIG_EVENTS_CLEAR,
                                  VIRTIO_GPU_EVENT_DISPLAY);
    if (rc != VIRTQ_OK)
        return rc;
    g->stats.display_events++;
    rc = virtio_gpu_get_display_info(g);
    return rc != VIRTQ_OK ? rc : 1;
}

/* ---- names ------------------------------------------------------------------ */

const char *virtio_gpu_strerror(int err)
{
    switch (err) {
    case VIRTIO_GPU_EPROTO:
        return "device broke the virtio-gpu protocol";
    case -VIRTIO_GPU_RESP_ERR_UNSPEC:
        return "VIRTIO_GPU_RESP_ERR_UNSPEC";
    case -VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY:
        return "VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY";
    case -VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID:
        return "VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID";
    case -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID:
        return "VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID";
    case -VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID:
        return "VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID";
    case -VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER:
        return "VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER";
    default:
        if (err <= -0x1200 && err >= -0x12ff)
            return "VIRTIO_GPU_RESP_ERR_* (unknown error response)";
        return virtq_strerror(err);
    }
}
