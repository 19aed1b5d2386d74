/* SPDX-License-Identifier: MIT */
/* fake_blk.c — the virtio-blk model.  See fake_blk.h. */
#define _GNU_SOURCE
#include "fake_blk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BLK "5.2.6 \"Device Operation\" (Block Device)"
#define S_BLK_LEGACY "5.2.6.3 \"Legacy Interface: Framing Requirements\" (Block Device)"
#define S_BLK_FEAT "5.2.3 \"Feature bits\" (Block Device)"

#define CFG_BYTES 36u

struct blk {
    struct virtq_fake_dev *dev;
    uint8_t *image;
    uint64_t image_bytes;
    int version;
    int read_only;
    uint32_t size_max, seg_max;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct virtq_fake_blk_stats st;
};

/* The fields of struct virtio_blk_config up to num_queues, with the
   feature bit that makes each exist. */
static const struct virtq_fake_cfg_field blk_fields[] = {
    {0, 8, 8, 0, -1},                          /* capacity */
    {8, 4, 4, 0, VIRTIO_BLK_F_SIZE_MAX},       /* size_max */
    {12, 4, 4, 0, VIRTIO_BLK_F_SEG_MAX},       /* seg_max */
    {16, 2, 2, 0, VIRTIO_BLK_F_GEOMETRY},      /* geometry.cylinders */
    {18, 1, 1, 0, VIRTIO_BLK_F_GEOMETRY},      /* geometry.heads */
    {19, 1, 1, 0, VIRTIO_BLK_F_GEOMETRY},      /* geometry.sectors */
    {20, 4, 4, 0, VIRTIO_BLK_F_BLK_SIZE},      /* blk_size */
    {24, 1, 1, 0, VIRTIO_BLK_F_TOPOLOGY},      /* physical_block_exp */
    {25, 1, 1, 0, VIRTIO_BLK_F_TOPOLOGY},      /* alignment_offset */
    {26, 2, 2, 0, VIRTIO_BLK_F_TOPOLOGY},      /* min_io_size */
    {28, 4, 4, 0, VIRTIO_BLK_F_TOPOLOGY},      /* opt_io_size */
    {32, 1, 1, 1, VIRTIO_BLK_F_CONFIG_WCE},    /* writeback */
    {33, 1, 1, 0, -1},                         /* unused0 */
    {34, 2, 2, 0, VIRTIO_BLK_F_MQ},            /* num_queues */
};

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    int i;
    for (i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int negotiated(struct virtq_fake_dev *dev, int bit)
{
    return (virtq_fake_driver_features(dev) & VIRTQ_FEATURE(bit)) != 0;
}

/* The capacity as the config space says now (sectors). */
static uint64_t capacity(struct virtq_fake_dev *dev)
{
    const uint8_t *c = virtq_fake_config_bytes(dev) + VIRTIO_BLK_CFG_CAPACITY;
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | c[i];
    return v;
}

/* End the request with status st as the last writable byte. */
static uint32_t finish(struct blk *b, const struct virtq_fake_req *req, uint8_t st, uint32_t data_written)
{
    b->st.last_status = st;
    if (st == VIRTIO_BLK_S_IOERR)
        b->st.ioerr++;
    else if (st == VIRTIO_BLK_S_UNSUPP)
        b->st.unsupp++;
    if (req->writable == 0)
        return 0;
    virtq_fake_req_write(req, req->writable - 1u, &st, 1);
    return data_written + 1u;
}

static uint32_t bad(struct blk *b, const struct virtq_fake_req *req)
{
    b->st.bad++;
    return finish(b, req, VIRTIO_BLK_S_IOERR, 0);
}

/* Count and bound the data segments: readable bytes after the header,
   writable bytes before the status. */
static int check_segments(struct blk *b, const struct virtq_fake_req *req)
{
    uint32_t roff = 0, woff = 0, nseg = 0;
    int i, seg_max = negotiated(b->dev, VIRTIO_BLK_F_SEG_MAX);
    int size_max = negotiated(b->dev, VIRTIO_BLK_F_SIZE_MAX);
    for (i = 0; i < req->nseg; i++) {
        const struct virtq_fake_seg *s = &req->seg[i];
        int data;
        if (s->writable) {
            data = woff < req->writable - 1u; /* some byte before the status */
            woff += s->len;
        } else {
            data = roff + s->len > sizeof(struct virtio_blk_outhdr);
            roff += s->len;
        }
        if (!data)
            continue;
        nseg++;
        if (size_max && s->len > b->size_max) {
            virtq_fake_violation(b->dev, "%s: segment %d of %u bytes exceeds size_max %u", S_BLK, i, s->len,
                                 b->size_max);
            return -1;
        }
    }
    if (seg_max && nseg > b->seg_max) {
        virtq_fake_violation(b->dev, "%s: request with %u data segments, more than seg_max %u", S_BLK, nseg,
                             b->seg_max);
        return -1;
    }
    return 0;
}

static int legacy_framing_ok(struct blk *b, const struct virtq_fake_req *req)
{
    const struct virtq_fake_seg *first = &req->seg[0], *last = &req->seg[req->nseg - 1];
    if (first->writable || first->len != sizeof(struct virtio_blk_outhdr)) {
        virtq_fake_violation(b->dev, "%s: the header must be one 16-byte device-readable descriptor (got %u bytes%s)",
                             S_BLK_LEGACY, first->len, first->writable ? ", writable" : "");
        return 0;
    }
    if (!last->writable || last->len != 1u || req->nseg < 2) {
        virtq_fake_violation(b->dev, "%s: the status must be a separate 1-byte device-writable descriptor (got %u bytes%s)",
                             S_BLK_LEGACY, last->len, last->writable ? "" : ", readable");
        return 0;
    }
    return 1;
}

static uint32_t blk_request(struct virtq_fake_dev *dev, void *ctx, struct virtq_fake_req *req)
{
    struct blk *b = ctx;
    struct virtio_blk_outhdr h;
    uint32_t data_r, data_w, len;
    uint64_t off;
    if (req->readable < sizeof h) {
        virtq_fake_violation(dev, "%s: request without a 16-byte device-readable header (%u readable bytes)", S_BLK,
                             req->readable);
        return bad(b, req);
    }
    if (req->writable < 1u) {
        virtq_fake_violation(dev, "%s: request without a device-writable status byte at the end", S_BLK);
        b->st.bad++;
        return 0;
    }
    virtq_fake_req_read(req, 0, &h, sizeof h);
    b->st.last_type = h.type;
    data_r = req->readable - (uint32_t)sizeof h;
    data_w = req->writable - 1u;
    if (b->version == 1 && !negotiated(dev, VIRTIO_F_ANY_LAYOUT) && !legacy_framing_ok(b, req))
        return bad(b, req);
    if (check_segments(b, req) < 0)
        return bad(b, req);
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        int in = h.type == VIRTIO_BLK_T_IN;
        if (in ? data_r != 0 : data_w != 0) {
            virtq_fake_violation(dev, "%s: %s request with %u device-%s data bytes (its data is device-%s)", S_BLK,
                                 in ? "VIRTIO_BLK_T_IN" : "VIRTIO_BLK_T_OUT", in ? data_r : data_w,
                                 in ? "readable" : "writable", in ? "writable" : "readable");
            return bad(b, req);
        }
        len = in ? data_w : data_r;
        if (len % VIRTIO_BLK_SECTOR != 0) {
            virtq_fake_violation(dev, "%s: %s data of %u bytes is not a multiple of 512", S_BLK,
                                 in ? "VIRTIO_BLK_T_IN" : "VIRTIO_BLK_T_OUT", len);
            return bad(b, req);
        }
        if (h.sector > capacity(dev) || len / VIRTIO_BLK_SECTOR > capacity(dev) - h.sector)
            return finish(b, req, VIRTIO_BLK_S_IOERR, 0);
        off = h.sector * VIRTIO_BLK_SECTOR;
        if (in) {
            b->st.reads++;
            b->st.bytes_read += len;
            virtq_fake_req_write(req, 0, b->image + off, len);
            return finish(b, req, VIRTIO_BLK_S_OK, len);
        }
        b->st.writes++;
        if (b->read_only) /* "MUST NOT write any data" */
            return finish(b, req, VIRTIO_BLK_S_IOERR, 0);
        b->st.bytes_written += len;
        virtq_fake_req_read(req, sizeof h, b->image + off, len);
        return finish(b, req, VIRTIO_BLK_S_OK, 0);
    }
    case VIRTIO_BLK_T_FLUSH:
        b->st.flushes++;
        if (h.sector != 0) {
            virtq_fake_violation(dev, "%s: VIRTIO_BLK_T_FLUSH with sector %llu (the driver MUST set it to 0)", S_BLK,
                                 (unsigned long long)h.sector);
            return bad(b, req);
        }
        return finish(b, req, VIRTIO_BLK_S_OK, 0);
    case VIRTIO_BLK_T_GET_ID:
        b->st.get_ids++;
        if (data_r != 0 || data_w != VIRTIO_BLK_ID_BYTES) {
            virtq_fake_violation(dev, "%s: VIRTIO_BLK_T_GET_ID with %u readable and %u writable data bytes (20 writable)",
                                 S_BLK, data_r, data_w);
            return bad(b, req);
        }
        virtq_fake_req_write(req, 0, b->serial, VIRTIO_BLK_ID_BYTES);
        return finish(b, req, VIRTIO_BLK_S_OK, VIRTIO_BLK_ID_BYTES);
    default:
        return finish(b, req, VIRTIO_BLK_S_UNSUPP, 0);
    }
}

static void blk_destroy(void *ctx)
{
    free(ctx);
}

static const struct virtq_fake_model blk_model = {
    .name = "blk",
    .request = blk_request,
    .destroy = blk_destroy,
};

struct virtq_fake_dev *virtq_fake_blk_create(const struct virtq_fake_blk_params *p)
{
    struct virtq_fake_params fp;
    uint8_t cfg[CFG_BYTES];
    struct blk *b;
    uint16_t qmax;
    if (p == NULL || (p->image == NULL && p->image_bytes) || p->image_bytes % VIRTIO_BLK_SECTOR ||
        (p->serial && strlen(p->serial) > VIRTIO_BLK_ID_BYTES)) {
        fprintf(stderr, "fake: virtq_fake_blk_create: bad parameters\n");
        return NULL;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    qmax = p->queue_num_max ? p->queue_num_max : 128;
    b->image = p->image;
    b->image_bytes = p->image_bytes;
    b->version = p->version ? p->version : 2;
    b->read_only = p->read_only;
    b->size_max = p->size_max ? p->size_max : 65536u;
    b->seg_max = p->seg_max ? p->seg_max : (qmax > 2 ? qmax - 2u : 1u);
    strncpy(b->serial, p->serial ? p->serial : "virtq-fake-blk", sizeof b->serial);

    memset(cfg, 0, sizeof cfg);
    put_le(cfg + VIRTIO_BLK_CFG_CAPACITY, p->image_bytes / VIRTIO_BLK_SECTOR, 8);
    put_le(cfg + VIRTIO_BLK_CFG_SIZE_MAX, b->size_max, 4);
    put_le(cfg + VIRTIO_BLK_CFG_SEG_MAX, b->seg_max, 4);
    put_le(cfg + VIRTIO_BLK_CFG_BLK_SIZE, p->blk_size ? p->blk_size : 512u, 4);

    memset(&fp, 0, sizeof fp);
    fp.version = b->version;
    fp.device_id = VIRTIO_ID_BLOCK;
    fp.features = p->features | VIRTQ_FEATURE(VIRTIO_BLK_F_SIZE_MAX) | VIRTQ_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
                  VIRTQ_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VIRTQ_FEATURE(VIRTIO_BLK_F_FLUSH);
    if (p->read_only)
        fp.features |= VIRTQ_FEATURE(VIRTIO_BLK_F_RO);
    if (fp.version == 2)
        fp.features |= VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    fp.num_queues = 1;
    fp.queue_num_max[0] = qmax;
    fp.config = cfg;
    fp.config_len = sizeof cfg;
    fp.config_fields = blk_fields;
    fp.num_config_fields = (int)(sizeof blk_fields / sizeof blk_fields[0]);
    fp.base = p->base;
    fp.model = &blk_model;
    fp.model_ctx = b;
    b->dev = virtq_fake_create(&fp);
    if (b->dev == NULL) {
        free(b);
        return NULL;
    }
    return b->dev;
}

void virtq_fake_blk_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_blk_stats *out)
{
    const struct blk *b = virtq_fake_model_ctx(dev);
    virtq_fake_lock(dev); /* the device thread may be serving */
    *out = b->st;
    virtq_fake_unlock(dev);
}

int virtq_fake_blk_set_capacity(struct virtq_fake_dev *dev, uint64_t sectors)
{
    struct blk *b = virtq_fake_model_ctx(dev);
    uint8_t le[8];
    if (sectors * VIRTIO_BLK_SECTOR > b->image_bytes)
        return -1;
    put_le(le, sectors, 8);
    return virtq_fake_config_set(dev, VIRTIO_BLK_CFG_CAPACITY, le, 8, 1);
}
