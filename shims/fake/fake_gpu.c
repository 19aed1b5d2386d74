/* SPDX-License-Identifier: MIT */
/* fake_gpu.c — the virtio-gpu 2D model.  See fake_gpu.h.

   The wire format is read here byte by byte from the spec's layouts (not
   from the driver's header), so a driver that gets a struct wrong is caught
   rather than agreed with. */
#define _GNU_SOURCE
#include "fake_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_GPU_CFG "5.7.4 \"Device configuration layout\" (GPU Device)"
#define S_GPU_HDR "5.7.6.7 \"Device Operation: Request header\" (GPU Device)"
#define S_GPU_CTRL "5.7.6.8 \"Device Operation: controlq\" (GPU Device)"
#define S_GPU_CURSORQ "5.7.6.10 \"Device Operation: cursorq\" (GPU Device)"
#define S_GPU_CURSOR "5.7.6.6 \"Device Operation: Configure mouse cursor\" (GPU Device)"

/* Wire values ("Device Operation: Request header"). */
#define CMD_GET_DISPLAY_INFO 0x0100u
#define CMD_RESOURCE_CREATE_2D 0x0101u
#define CMD_RESOURCE_UNREF 0x0102u
#define CMD_SET_SCANOUT 0x0103u
#define CMD_RESOURCE_FLUSH 0x0104u
#define CMD_TRANSFER_TO_HOST_2D 0x0105u
#define CMD_RESOURCE_ATTACH_BACKING 0x0106u
#define CMD_RESOURCE_DETACH_BACKING 0x0107u
#define CMD_UPDATE_CURSOR 0x0300u
#define CMD_MOVE_CURSOR 0x0301u
#define RESP_OK_NODATA 0x1100u
#define RESP_OK_DISPLAY_INFO 0x1101u
#define RESP_ERR_UNSPEC 0x1200u
#define RESP_ERR_OUT_OF_MEMORY 0x1201u
#define RESP_ERR_INVALID_SCANOUT_ID 0x1202u
#define RESP_ERR_INVALID_RESOURCE_ID 0x1203u
#define RESP_ERR_INVALID_PARAMETER 0x1205u
#define FLAG_FENCE 1u
#define FLAG_INFO_RING_IDX 2u
#define F_CONTEXT_INIT 4
#define EVENT_DISPLAY 1u

/* Byte sizes of the requests and responses. */
#define HDR 24u
#define SZ_CREATE_2D 40u
#define SZ_UNREF 32u
#define SZ_SET_SCANOUT 48u
#define SZ_TRANSFER 56u
#define SZ_ATTACH 32u
#define SZ_MEM_ENTRY 16u
#define SZ_DETACH 32u
#define SZ_CURSOR 56u
#define SZ_DISPLAY_INFO (HDR + 16u * 24u)
#define MAX_ENTRIES 16384u /* QEMU's bound on nr_entries */
#define CFG_BYTES 16u

struct entry {
    uint8_t *addr; /* DMA address == host address on the host */
    uint32_t len;
};

struct res {
    uint32_t id, format, w, h;
    uint32_t *pix;        /* host copy, w * h */
    struct entry *backing;
    uint32_t nbacking;
    int settled;          /* its last create/attach/transfer was fenced */
    struct res *next;
};

struct rect {
    uint32_t x, y, w, h;
};

struct scanout {
    uint32_t mode_w, mode_h, enabled; /* what GET_DISPLAY_INFO reports */
    uint32_t res_id;                  /* 0: off */
    struct rect r;                    /* the resource rectangle shown */
    uint32_t *screen;                 /* r.w * r.h, as of the last flush */
};

struct gpu {
    struct virtq_fake_dev *dev;
    uint32_t num_scanouts;   /* as configured (may be out of spec on purpose) */
    uint32_t nscan;          /* usable: min(num_scanouts, 16) */
    struct scanout sc[VIRTQ_FAKE_GPU_MAX_SCANOUTS];
    struct res *res;
    uint64_t hostmem, max_hostmem;
    struct virtq_fake_gpu_cursor cursor;
    enum virtq_fake_gpu_fault fault;
    int fault_count;
    struct virtq_fake_gpu_stats st;
};

static const struct virtq_fake_cfg_field gpu_fields[] = {
    {0, 4, 4, 0, -1},  /* events_read: the driver MUST NOT write it */
    {4, 4, 4, 1, -1},  /* events_clear */
    {8, 4, 4, 0, -1},  /* num_scanouts */
    {12, 4, 4, 0, -1}, /* num_capsets */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static struct rect get_rect(const uint8_t *p)
{
    struct rect r = {le32(p), le32(p + 4), le32(p + 8), le32(p + 12)};
    return r;
}

static int format_ok(uint32_t f)
{
    switch (f) {
    case 1: case 2: case 3: case 4: case 67: case 68: case 121: case 134:
        return 1;
    default:
        return 0;
    }
}

/* r non-empty and inside a w x h area (64-bit sums: no wrap). */
static int rect_inside(struct rect r, uint32_t w, uint32_t h)
{
    return r.w && r.h && (uint64_t)r.x + r.w <= w && (uint64_t)r.y + r.h <= h;
}

static struct res *find(struct gpu *g, uint32_t id)
{
    struct res *r;
    for (r = g->res; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static void scanout_off(struct scanout *s)
{
    free(s->screen);
    s->screen = NULL;
    s->res_id = 0;
    memset(&s->r, 0, sizeof s->r);
}

static void res_free(struct gpu *g, struct res *r)
{
    uint32_t i;
    for (i = 0; i < g->nscan; i++)
        if (g->sc[i].res_id == r->id)
            scanout_off(&g->sc[i]); /* as QEMU: unref turns its scanouts off */
    g->hostmem -= (uint64_t)r->w * r->h * 4u;
    g->st.resources--;
    free(r->backing);
    free(r->pix);
    free(r);
}

static void free_all(struct gpu *g)
{
    while (g->res != NULL) {
        struct res *r = g->res;
        g->res = r->next;
        res_free(g, r);
    }
    memset(&g->cursor, 0, sizeof g->cursor);
}

/* Copy len bytes at backing offset off into dst; 0 when they all exist. */
static int backing_read(const struct res *r, uint64_t off, void *dst, uint32_t len)
{
    uint8_t *d = dst;
    uint32_t i;
    for (i = 0; i < r->nbacking && len > 0; i++) {
        const struct entry *e = &r->backing[i];
        if (off >= e->len) {
            off -= e->len;
            continue;
        }
        uint32_t n = e->len - (uint32_t)off < len ? e->len - (uint32_t)off : len;
        virtq_fake_dma_read(e->addr + off, d, n, e->addr); /* memory, as the device sees it */
        d += n;
        len -= n;
        off = 0;
    }
    return len == 0 ? 0 : -1;
}

/* ---- controlq commands: each returns the response type ------------------- */

static uint32_t do_create(struct gpu *g, const uint8_t *c, int fenced)
{
    uint32_t id = le32(c + 24), format = le32(c + 28), w = le32(c + 32), h = le32(c + 36);
    uint64_t bytes = (uint64_t)w * h * 4u;
    struct res *r;
    if (id == 0 || find(g, id) != NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (!format_ok(format) || w == 0 || h == 0)
        return RESP_ERR_INVALID_PARAMETER;
    if (bytes > g->max_hostmem - g->hostmem)
        return RESP_ERR_OUT_OF_MEMORY;
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->pix = calloc((size_t)w * h, 4)) == NULL) {
        free(r);
        return RESP_ERR_OUT_OF_MEMORY;
    }
    r->id = id;
    r->format = format;
    r->w = w;
    r->h = h;
    r->settled = fenced;
    r->next = g->res;
    g->res = r;
    g->hostmem += bytes;
    g->st.resources++;
    return RESP_OK_NODATA;
}

static uint32_t do_unref(struct gpu *g, const uint8_t *c)
{
    uint32_t id = le32(c + 24);
    struct res **pp;
    for (pp = &g->res; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct res *r = *pp;
            *pp = r->next;
            res_free(g, r);
            return RESP_OK_NODATA;
        }
    }
    return RESP_ERR_INVALID_RESOURCE_ID;
}

static uint32_t do_attach(struct gpu *g, const struct virtq_fake_req *req, const uint8_t *c,
                          int fenced)
{
    struct res *r = find(g, le32(c + 24));
    uint32_t n = le32(c + 28), i;
    struct entry *e;
    if (r == NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (r->backing != NULL)
        return RESP_ERR_UNSPEC; /* QEMU: already has backing */
    if (n == 0 || n > MAX_ENTRIES)
        return RESP_ERR_INVALID_PARAMETER;
    e = calloc(n, sizeof *e);
    if (e == NULL)
        return RESP_ERR_OUT_OF_MEMORY;
    for (i = 0; i < n; i++) {
        uint8_t m[SZ_MEM_ENTRY];
        virtq_fake_req_read(req, SZ_ATTACH + i * SZ_MEM_ENTRY, m, sizeof m);
        e[i].addr = (uint8_t *)(uintptr_t)le64(m);
        e[i].len = le32(m + 8);
        if (e[i].addr == NULL || e[i].len == 0) {
            free(e);
            return RESP_ERR_INVALID_PARAMETER;
        }
    }
    r->backing = e;
    r->nbacking = n;
    r->settled = fenced;
    return RESP_OK_NODATA;
}

static uint32_t do_detach(struct gpu *g, const uint8_t *c)
{
    struct res *r = find(g, le32(c + 24));
    if (r == NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (r->backing == NULL)
        return RESP_ERR_UNSPEC;
    free(r->backing);
    r->backing = NULL;
    r->nbacking = 0;
    return RESP_OK_NODATA;
}

/* Copy rectangle rr (resource coordinates) of r onto scanout s's screen. */
static void present(struct scanout *s, const struct res *r, struct rect rr)
{
    uint32_t x0 = rr.x > s->r.x ? rr.x : s->r.x, y0 = rr.y > s->r.y ? rr.y : s->r.y;
    uint64_t x1 = (uint64_t)rr.x + rr.w, y1 = (uint64_t)rr.y + rr.h, y;
    if (x1 > (uint64_t)s->r.x + s->r.w)
        x1 = (uint64_t)s->r.x + s->r.w;
    if (y1 > (uint64_t)s->r.y + s->r.h)
        y1 = (uint64_t)s->r.y + s->r.h;
    if (x1 <= x0 || y1 <= y0)
        return;
    for (y = y0; y < y1; y++)
        memcpy(&s->screen[(y - s->r.y) * s->r.w + (x0 - s->r.x)], &r->pix[y * r->w + x0],
               (size_t)(x1 - x0) * 4u);
}

static uint32_t do_set_scanout(struct gpu *g, const uint8_t *c)
{
    struct rect rr = get_rect(c + 24);
    uint32_t sid = le32(c + 40), id = le32(c + 44);
    struct scanout *s;
    struct res *r;
    if (sid >= g->nscan)
        return RESP_ERR_INVALID_SCANOUT_ID;
    s = &g->sc[sid];
    if (id == 0) {
        scanout_off(s);
        return RESP_OK_NODATA;
    }
    r = find(g, id);
    if (r == NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    /* "Scanout rectangles must be completely covered by the underlying
       resource." */
    if (!rect_inside(rr, r->w, r->h))
        return RESP_ERR_INVALID_PARAMETER;
    scanout_off(s);
    s->screen = calloc((size_t)rr.w * rr.h, 4);
    if (s->screen == NULL)
        return RESP_ERR_OUT_OF_MEMORY;
    s->res_id = id;
    s->r = rr;
    present(s, r, rr); /* the display shows the resource from now on */
    return RESP_OK_NODATA;
}

static uint32_t do_transfer(struct gpu *g, const uint8_t *c, int fenced)
{
    struct rect rr = get_rect(c + 24);
    uint64_t off = le64(c + 40), stride;
    struct res *r = find(g, le32(c + 48));
    uint32_t y;
    if (r == NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (r->backing == NULL)
        return RESP_ERR_UNSPEC;
    if (!rect_inside(rr, r->w, r->h))
        return RESP_ERR_INVALID_PARAMETER;
    /* Row i of the box comes from offset + i * stride of the backing, as
       QEMU reads it; stride is the resource's line. */
    stride = (uint64_t)r->w * 4u;
    for (y = 0; y < rr.h; y++)
        if (backing_read(r, off + y * stride, &r->pix[(rr.y + y) * r->w + rr.x], rr.w * 4u) < 0)
            return RESP_ERR_INVALID_PARAMETER;
    g->st.transfer_bytes += (uint64_t)rr.w * rr.h * 4u;
    r->settled = fenced;
    return RESP_OK_NODATA;
}

static uint32_t do_flush(struct gpu *g, const uint8_t *c)
{
    struct rect rr = get_rect(c + 24);
    struct res *r = find(g, le32(c + 40));
    uint32_t i;
    if (r == NULL)
        return RESP_ERR_INVALID_RESOURCE_ID;
    if (!rect_inside(rr, r->w, r->h))
        return RESP_ERR_INVALID_PARAMETER;
    for (i = 0; i < g->nscan; i++)
        if (g->sc[i].res_id == r->id)
            present(&g->sc[i], r, rr);
    g->st.flushes++;
    return RESP_OK_NODATA;
}

static void display_info(struct gpu *g, uint8_t *resp)
{
    uint32_t i;
    for (i = 0; i < g->nscan; i++) {
        uint8_t *m = resp + HDR + (size_t)24u * i;
        put32(m + 8, g->sc[i].mode_w);
        put32(m + 12, g->sc[i].mode_h);
        put32(m + 16, g->sc[i].enabled);
    }
}

/* The readable size a command must have, 0 for one we do not know. */
static uint32_t cmd_size(uint32_t type, const struct virtq_fake_req *req)
{
    uint8_t n[4];
    switch (type) {
    case CMD_GET_DISPLAY_INFO: return HDR;
    case CMD_RESOURCE_CREATE_2D: return SZ_CREATE_2D;
    case CMD_RESOURCE_UNREF: return SZ_UNREF;
    case CMD_SET_SCANOUT: /* both 48 bytes */
    case CMD_RESOURCE_FLUSH: return SZ_SET_SCANOUT;
    case CMD_TRANSFER_TO_HOST_2D: return SZ_TRANSFER;
    case CMD_RESOURCE_DETACH_BACKING: return SZ_DETACH;
    case CMD_RESOURCE_ATTACH_BACKING:
        if (req->readable < SZ_ATTACH)
            return SZ_ATTACH;
        virtq_fake_req_read(req, 28, n, 4);
        return le32(n) > MAX_ENTRIES ? SZ_ATTACH : SZ_ATTACH + le32(n) * SZ_MEM_ENTRY;
    default: return 0;
    }
}

static const char *cmd_name(uint32_t type)
{
    static const char *const n[] = {"GET_DISPLAY_INFO", "RESOURCE_CREATE_2D", "RESOURCE_UNREF",
                                    "SET_SCANOUT", "RESOURCE_FLUSH", "TRANSFER_TO_HOST_2D",
                                    "RESOURCE_ATTACH_BACKING", "RESOURCE_DETACH_BACKING"};
    return type >= 0x100u && type <= 0x107u ? n[type - 0x100u] : "an unknown command";
}

static int fault_take(struct gpu *g, enum virtq_fake_gpu_fault f)
{
    if (g->fault != f || g->fault_count <= 0)
        return 0;
    if (--g->fault_count == 0)
        g->fault = VIRTQ_FAKE_GPU_FAULT_NONE;
    return 1;
}

/* One controlq command's header, as the device read it. */
struct ctrl_cmd {
    uint8_t c[SZ_TRANSFER]; /* the readable bytes (as many as fit) */
    uint32_t type, flags;
    uint64_t fence;
    int fenced, bad;
};

/* Read the header and check it ("Device Operation: Request header"):
   short requests and INFO_RING_IDX without CONTEXT_INIT are violations. */
static void ctrl_header(struct gpu *g, struct virtq_fake_req *req, struct ctrl_cmd *k)
{
    memset(k, 0, sizeof *k);
    if (req->readable < HDR) {
        virtq_fake_violation(g->dev, "%s: controlq request of %u readable bytes, shorter than the 24-byte header",
                             S_GPU_HDR, req->readable);
        g->st.bad++;
        k->bad = 1;
    } else {
        virtq_fake_req_read(req, 0, k->c, req->readable < sizeof k->c ? req->readable
                                                                     : (uint32_t)sizeof k->c);
        k->type = le32(k->c);
        k->flags = le32(k->c + 4);
        k->fence = le64(k->c + 8);
    }
    k->fenced = (k->flags & FLAG_FENCE) != 0;
    if (k->fenced) {
        g->st.fenced++;
        g->st.last_fence = k->fence;
    }
    if ((k->flags & FLAG_INFO_RING_IDX) &&
        !(virtq_fake_driver_features(g->dev) & VIRTQ_FEATURE(F_CONTEXT_INIT))) {
        virtq_fake_violation(g->dev, "%s: VIRTIO_GPU_FLAG_INFO_RING_IDX without VIRTIO_GPU_F_CONTEXT_INIT",
                             S_GPU_HDR);
        g->st.bad++;
    }
}

/* Run a well-formed command; the response type. */
static uint32_t ctrl_execute(struct gpu *g, struct virtq_fake_req *req, const struct ctrl_cmd *k,
                             uint8_t *resp)
{
    switch (k->type) {
    case CMD_GET_DISPLAY_INFO:
        display_info(g, resp);
        return RESP_OK_DISPLAY_INFO;
    case CMD_RESOURCE_CREATE_2D: return do_create(g, k->c, k->fenced);
    case CMD_RESOURCE_UNREF: return do_unref(g, k->c);
    case CMD_RESOURCE_ATTACH_BACKING: return do_attach(g, req, k->c, k->fenced);
    case CMD_RESOURCE_DETACH_BACKING: return do_detach(g, k->c);
    case CMD_SET_SCANOUT: return do_set_scanout(g, k->c);
    case CMD_TRANSFER_TO_HOST_2D: return do_transfer(g, k->c, k->fenced);
    case CMD_RESOURCE_FLUSH: return do_flush(g, k->c);
    default: return RESP_ERR_UNSPEC; /* 3D, blob, EDID...: not offered */
    }
}

/* Fill the response header, with the test faults a broken device would
   answer with. */
static void ctrl_answer(struct gpu *g, const struct ctrl_cmd *k, uint32_t rtype, uint8_t *resp)
{
    if (rtype == RESP_OK_DISPLAY_INFO && fault_take(g, VIRTQ_FAKE_GPU_FAULT_BAD_MODE)) {
        put32(resp + HDR + 8, 0);
        put32(resp + HDR + 12, 0);
        put32(resp + HDR + 16, 1);
    }
    if ((rtype == RESP_OK_NODATA || rtype == RESP_OK_DISPLAY_INFO) &&
        fault_take(g, VIRTQ_FAKE_GPU_FAULT_WRONG_TYPE))
        rtype = rtype == RESP_OK_NODATA ? RESP_OK_DISPLAY_INFO : RESP_OK_NODATA;
    if ((rtype == RESP_OK_NODATA || rtype == RESP_OK_DISPLAY_INFO) &&
        fault_take(g, VIRTQ_FAKE_GPU_FAULT_ERROR))
        rtype = RESP_ERR_UNSPEC;
    put32(resp, rtype);
    /* "If the driver sets VIRTIO_GPU_FLAG_FENCE ... the device MUST set
       VIRTIO_GPU_FLAG_FENCE in the response, copy fence_id" (2D commands
       finish before they are answered, so every fence is already done). */
    if (k->fenced && !fault_take(g, VIRTQ_FAKE_GPU_FAULT_NO_FENCE)) {
        put32(resp + 4, FLAG_FENCE);
        put64(resp + 8, fault_take(g, VIRTQ_FAKE_GPU_FAULT_FENCE_ID) ? k->fence + 1u : k->fence);
        memcpy(resp + 16, k->c + 16, 4); /* ctx_id */
    }
    if (rtype >= RESP_ERR_UNSPEC) {
        g->st.errors++;
        g->st.last_error = rtype;
    }
}

static uint32_t ctrl_request(struct gpu *g, struct virtq_fake_req *req)
{
    struct ctrl_cmd k;
    uint8_t resp[SZ_DISPLAY_INFO];
    uint32_t want, rlen, rtype;

    /* 1. The header. */
    g->st.cmds++;
    memset(resp, 0, sizeof resp);
    ctrl_header(g, req, &k);
    /* 2. Room for the answer, and the command's exact size. */
    rlen = k.type == CMD_GET_DISPLAY_INFO ? SZ_DISPLAY_INFO : HDR;
    if (req->writable < rlen) {
        virtq_fake_violation(g->dev, "%s: %s with a %u-byte response buffer; its response takes %u", S_GPU_CTRL,
                             cmd_name(k.type), req->writable, rlen);
        g->st.bad++;
        return 0; /* no room for any answer the driver could read */
    }
    want = k.bad ? 0 : cmd_size(k.type, req);
    if (!k.bad && want != 0 && req->readable != want) {
        virtq_fake_violation(g->dev, "%s: %s of %u readable bytes; the command is %u bytes", S_GPU_CTRL,
                             cmd_name(k.type), req->readable, want);
        g->st.bad++;
        k.bad = 1;
    }
    if (k.type >= 0x100u && k.type <= 0x10fu)
        g->st.by_type[k.type - 0x100u]++;
    /* 3. Run it, then answer. */
    rtype = k.bad ? RESP_ERR_INVALID_PARAMETER : ctrl_execute(g, req, &k, resp);
    if (rtype != RESP_OK_DISPLAY_INFO)
        rlen = HDR;
    ctrl_answer(g, &k, rtype, resp);
    if (fault_take(g, VIRTQ_FAKE_GPU_FAULT_SHORT))
        rlen = 8;
    return virtq_fake_req_write(req, 0, resp, rlen);
}

/* ---- cursorq ------------------------------------------------------------- */

static uint32_t cursor_request(struct gpu *g, struct virtq_fake_req *req)
{
    uint8_t c[SZ_CURSOR], resp[HDR];
    uint32_t type, sid;
    if (req->readable != SZ_CURSOR) {
        virtq_fake_violation(g->dev, "%s: cursorq request of %u readable bytes; struct virtio_gpu_update_cursor is 56",
                             S_GPU_CURSORQ, req->readable);
        g->st.bad++;
        return 0;
    }
    virtq_fake_req_read(req, 0, c, sizeof c);
    type = le32(c);
    sid = le32(c + 24);
    if (type != CMD_UPDATE_CURSOR && type != CMD_MOVE_CURSOR) {
        virtq_fake_violation(g->dev, "%s: command %#x on the cursorq (only UPDATE_CURSOR, MOVE_CURSOR)",
                             S_GPU_CURSORQ, type);
        g->st.bad++;
    } else if (sid >= g->nscan) {
        virtq_fake_violation(g->dev, "%s: cursor on scanout %u of %u", S_GPU_CURSORQ, sid, g->nscan);
        g->st.bad++;
    } else if (type == CMD_MOVE_CURSOR) {
        g->st.cursor_moves++;
        g->cursor.scanout_id = sid;
        g->cursor.x = le32(c + 28);
        g->cursor.y = le32(c + 32);
    } else {
        uint32_t id = le32(c + 40);
        struct res *r = find(g, id);
        g->st.cursor_updates++;
        if (id != 0 && r == NULL) {
            virtq_fake_violation(g->dev, "%s: UPDATE_CURSOR with resource %u, which does not exist", S_GPU_CURSORQ,
                                 id);
            g->st.bad++;
        } else if (r != NULL && (r->w != VIRTQ_FAKE_GPU_CURSOR || r->h != VIRTQ_FAKE_GPU_CURSOR)) {
            virtq_fake_violation(g->dev, "%s: cursor resource %u is %ux%u; it must be 64x64", S_GPU_CURSOR, id, r->w,
                                 r->h);
            g->st.bad++;
        } else if (r != NULL && !r->settled) {
            virtq_fake_violation(g->dev, "%s: cursor resource %u used before its fill was fenced "
                                 "(VIRTIO_GPU_FLAG_FENCE on the last create/attach/transfer)", S_GPU_CURSOR, id);
            g->st.bad++;
        } else {
            g->cursor.resource_id = id;
            g->cursor.scanout_id = sid;
            g->cursor.x = le32(c + 28);
            g->cursor.y = le32(c + 32);
            g->cursor.hot_x = le32(c + 44);
            g->cursor.hot_y = le32(c + 48);
            if (r != NULL)
                memcpy(g->cursor.image, r->pix, sizeof g->cursor.image);
        }
    }
    /* QEMU answers nothing on the cursorq; a driver that asks for the
       spec's OK_NODATA gets it. */
    if (req->writable == 0)
        return 0;
    if (req->writable < HDR) {
        virtq_fake_violation(g->dev, "%s: a %u-byte response buffer on the cursorq (a response is 24)",
                             S_GPU_CURSORQ, req->writable);
        g->st.bad++;
        return 0;
    }
    memset(resp, 0, sizeof resp);
    put32(resp, RESP_OK_NODATA);
    return virtq_fake_req_write(req, 0, resp, HDR);
}

/* ---- model hooks ----------------------------------------------------------- */

static uint32_t gpu_request(struct virtq_fake_dev *dev, void *ctx, struct virtq_fake_req *req)
{
    struct gpu *g = ctx;
    (void)dev;
    return req->queue == 1 ? cursor_request(g, req) : ctrl_request(g, req);
}

static void gpu_reset(struct virtq_fake_dev *dev, void *ctx)
{
    struct gpu *g = ctx;
    (void)dev;
    free_all(g); /* as QEMU: a reset destroys every resource */
}

/* events_clear: write-to-clear bits of events_read ("Device configuration
   fields"); the field itself reads back 0. */
static void gpu_config_write(struct virtq_fake_dev *dev, void *ctx, uint32_t off, uint32_t val, int width)
{
    uint8_t *cfg = virtq_fake_config_bytes(dev);
    (void)ctx;
    (void)width; /* the core checked the width against the field table */
    if (off == 4) {
        uint8_t ev[4];
        put32(ev, le32(cfg) & ~val);
        virtq_fake_config_set(dev, 0, ev, 4, 0);
    }
}

static void gpu_destroy(void *ctx)
{
    struct gpu *g = ctx;
    uint32_t i;
    free_all(g);
    for (i = 0; i < VIRTQ_FAKE_GPU_MAX_SCANOUTS; i++)
        scanout_off(&g->sc[i]);
    free(g);
}

static const struct virtq_fake_model gpu_model = {
    .name = "gpu",
    .request = gpu_request,
    .reset = gpu_reset,
    .config_write = gpu_config_write,
    .destroy = gpu_destroy,
};

struct virtq_fake_dev *virtq_fake_gpu_create(const struct virtq_fake_gpu_params *p)
{
    struct virtq_fake_params fp;
    uint8_t cfg[CFG_BYTES];
    struct gpu *g;
    if (p == NULL) {
        fprintf(stderr, "fake: virtq_fake_gpu_create: no parameters\n");
        return NULL;
    }
    g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->num_scanouts = p->num_scanouts ? p->num_scanouts : 1u;
    g->nscan = g->num_scanouts > VIRTQ_FAKE_GPU_MAX_SCANOUTS ? VIRTQ_FAKE_GPU_MAX_SCANOUTS : g->num_scanouts;
    g->sc[0].mode_w = p->width ? p->width : 1024u;
    g->sc[0].mode_h = p->height ? p->height : 768u;
    g->sc[0].enabled = 1;
    g->max_hostmem = p->max_hostmem ? p->max_hostmem : 256u << 20;

    memset(cfg, 0, sizeof cfg);
    put32(cfg + 8, g->num_scanouts);
    memset(&fp, 0, sizeof fp);
    fp.version = p->version ? p->version : 2;
    fp.device_id = VIRTIO_ID_GPU;
    fp.features = p->features;
    if (fp.version == 2)
        fp.features |= VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    fp.num_queues = 2;
    fp.queue_num_max[0] = p->queue_num_max ? p->queue_num_max : 64;
    fp.queue_num_max[1] = 16;
    fp.config = cfg;
    fp.config_len = sizeof cfg;
    fp.config_fields = gpu_fields;
    fp.num_config_fields = (int)(sizeof gpu_fields / sizeof gpu_fields[0]);
    fp.base = p->base;
    fp.model = &gpu_model;
    fp.model_ctx = g;
    g->dev = virtq_fake_create(&fp);
    if (g->dev == NULL) {
        free(g);
        return NULL;
    }
    return g->dev;
}

void virtq_fake_gpu_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_gpu_stats *out)
{
    const struct gpu *g = virtq_fake_model_ctx(dev);
    virtq_fake_lock(dev);
    *out = g->st;
    virtq_fake_unlock(dev);
}

int virtq_fake_gpu_set_mode(struct virtq_fake_dev *dev, uint32_t scanout, uint32_t width, uint32_t height,
                            int enabled)
{
    struct gpu *g = virtq_fake_model_ctx(dev);
    uint8_t ev[4];
    if (scanout >= g->nscan)
        return -1;
    virtq_fake_lock(dev);
    g->sc[scanout].mode_w = width;
    g->sc[scanout].mode_h = height;
    g->sc[scanout].enabled = enabled ? 1u : 0u;
    put32(ev, le32(virtq_fake_config_bytes(dev)) | EVENT_DISPLAY);
    virtq_fake_config_set(dev, 0, ev, 4, 1); /* configuration change interrupt */
    virtq_fake_unlock(dev);
    return 0;
}

int virtq_fake_gpu_screen(struct virtq_fake_dev *dev, uint32_t scanout, uint32_t *out, size_t max_pixels,
                          uint32_t *width, uint32_t *height)
{
    struct gpu *g = virtq_fake_model_ctx(dev);
    int rc = -1;
    virtq_fake_lock(dev);
    if (scanout < g->nscan && g->sc[scanout].res_id != 0 &&
        (size_t)g->sc[scanout].r.w * g->sc[scanout].r.h <= max_pixels) {
        const struct scanout *s = &g->sc[scanout];
        memcpy(out, s->screen, (size_t)s->r.w * s->r.h * 4u);
        *width = s->r.w;
        *height = s->r.h;
        rc = 0;
    }
    virtq_fake_unlock(dev);
    return rc;
}

int virtq_fake_gpu_resource_pixel(struct virtq_fake_dev *dev, uint32_t resource_id, uint32_t x, uint32_t y,
                                  uint32_t *px)
{
    struct gpu *g = virtq_fake_model_ctx(dev);
    const struct res *r;
    int rc = -1;
    virtq_fake_lock(dev);
    r = find(g, resource_id);
    if (r != NULL && x < r->w && y < r->h) {
        *px = r->pix[y * r->w + x];
        rc = 0;
    }
    virtq_fake_unlock(dev);
    return rc;
}

int virtq_fake_gpu_resource_exists(struct virtq_fake_dev *dev, uint32_t resource_id, int *backed)
{
    struct gpu *g = virtq_fake_model_ctx(dev);
    const struct res *r;
    virtq_fake_lock(dev);
    r = find(g, resource_id);
    if (r != NULL && backed != NULL)
        *backed = r->backing != NULL;
    virtq_fake_unlock(dev);
    return r != NULL;
}

void virtq_fake_gpu_get_cursor(struct virtq_fake_dev *dev, struct virtq_fake_gpu_cursor *out)
{
    const struct gpu *g = virtq_fake_model_ctx(dev);
    virtq_fake_lock(dev);
    *out = g->cursor;
    virtq_fake_unlock(dev);
}

void virtq_fake_gpu_inject(struct virtq_fake_dev *dev, enum virtq_fake_gpu_fault fault, int count)
{
    struct gpu *g = virtq_fake_model_ctx(dev);
    virtq_fake_lock(dev);
    g->fault = count > 0 ? fault : VIRTQ_FAKE_GPU_FAULT_NONE;
    g->fault_count = count > 0 ? count : 0;
    virtq_fake_unlock(dev);
}
