/* SPDX-License-Identifier: MIT */
/* virtio_gpu.h — a portable virtio-gpu 2D driver on virtq.h.
 *
 * What it drives ("GPU Device" in the VirtIO spec): the control queue (2D
 * commands: GET_DISPLAY_INFO, RESOURCE_CREATE_2D, RESOURCE_UNREF,
 * SET_SCANOUT, RESOURCE_FLUSH, TRANSFER_TO_HOST_2D, RESOURCE_ATTACH_BACKING,
 * RESOURCE_DETACH_BACKING), the cursor queue (UPDATE_CURSOR, MOVE_CURSOR),
 * fenced commands (VIRTIO_GPU_FLAG_FENCE) and the display-change event in
 * config space.  No 3D (virgl), no blob resources, no EDID.
 *
 * Portable C99: no board code, no registers (virtq does the transport), no
 * allocation.  The caller gives the device (probed with virtq_mmio_probe()),
 * two ring areas and the struct virtio_gpu; framebuffers are caller memory.
 *
 * Commands are synchronous: each call submits, waits (bounded, with the
 * device's wait strategy: see virtq_dev_set_wait()) and checks the answer.
 * virtio_gpu_flush_rect() puts TRANSFER_TO_HOST_2D and RESOURCE_FLUSH on the
 * ring together behind one notification, which halves the round trips of a
 * frame update.
 *
 * Errors: VIRTQ_E* from virtq (timeouts, a broken queue, bad arguments), or
 *   VIRTIO_GPU_EPROTO       the device answered outside the protocol (wrong
 *                           response type for the command, short response,
 *                           fence not echoed, bad config value)
 *   -VIRTIO_GPU_RESP_ERR_*  the device answered with that error response,
 *                           e.g. -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
 *                           virtio_gpu_strerror() names it.
 *
 * Interrupts: call virtio_gpu_isr() from the device's interrupt handler (it
 * calls virtq_dev_isr() and notes configuration changes), and
 * virtio_gpu_handle_events() from task context: it reads events_read, and
 * on VIRTIO_GPU_EVENT_DISPLAY clears it and re-reads the display info.
 *
 * One struct virtio_gpu is used from one context at a time (no locking).
 */
#ifndef VIRTIO_GPU_H
#define VIRTIO_GPU_H

#include "virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format ("GPU Device"; names as the spec's virtio_gpu.h) -------- */

/* Feature bits ("Feature bits"). */
#define VIRTIO_GPU_F_VIRGL 0
#define VIRTIO_GPU_F_EDID 1
#define VIRTIO_GPU_F_RESOURCE_UUID 2
#define VIRTIO_GPU_F_RESOURCE_BLOB 3
#define VIRTIO_GPU_F_CONTEXT_INIT 4

/* Config space ("Device configuration layout"). */
#define VIRTIO_GPU_EVENT_DISPLAY (1u << 0)
struct virtio_gpu_config {
    uint32_t events_read;
    uint32_t events_clear;
    uint32_t num_scanouts;
    uint32_t num_capsets;
};
#define VIRTIO_GPU_CONFIG_EVENTS_READ 0u
#define VIRTIO_GPU_CONFIG_EVENTS_CLEAR 4u
#define VIRTIO_GPU_CONFIG_NUM_SCANOUTS 8u
#define VIRTIO_GPU_CONFIG_NUM_CAPSETS 12u

/* Queues ("Virtqueues"). */
#define VIRTIO_GPU_CONTROLQ 0
#define VIRTIO_GPU_CURSORQ 1

/* Request and response types ("Device Operation: Request header"). */
enum virtio_gpu_ctrl_type {
    /* 2d commands */
    VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    VIRTIO_GPU_CMD_RESOURCE_UNREF,
    VIRTIO_GPU_CMD_SET_SCANOUT,
    VIRTIO_GPU_CMD_RESOURCE_FLUSH,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
    VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
    VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    VIRTIO_GPU_CMD_GET_CAPSET,
    VIRTIO_GPU_CMD_GET_EDID,
    VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
    /* cursor commands */
    VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
    VIRTIO_GPU_CMD_MOVE_CURSOR,
    /* success responses */
    VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
    VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
    VIRTIO_GPU_RESP_OK_CAPSET_INFO,
    VIRTIO_GPU_RESP_OK_CAPSET,
    VIRTIO_GPU_RESP_OK_EDID,
    VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
    VIRTIO_GPU_RESP_OK_MAP_INFO,
    /* error responses */
    VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
    VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
    VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
    VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
    VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
    VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
};

#define VIRTIO_GPU_FLAG_FENCE (1u << 0)
#define VIRTIO_GPU_FLAG_INFO_RING_IDX (1u << 1)

struct virtio_gpu_ctrl_hdr {
    uint32_t type;
    uint32_t flags;
    uint64_t fence_id;
    uint32_t ctx_id;
    uint8_t ring_idx;
    uint8_t padding[3];
};

struct virtio_gpu_rect {
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
};

#define VIRTIO_GPU_MAX_SCANOUTS 16
struct virtio_gpu_display_one {
    struct virtio_gpu_rect r;
    uint32_t enabled;
    uint32_t flags;
};
struct virtio_gpu_resp_display_info {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_display_one pmodes[VIRTIO_GPU_MAX_SCANOUTS];
};

/* Pixel formats ("VIRTIO_GPU_CMD_RESOURCE_CREATE_2D"): byte order in
   memory, e.g. B8G8R8X8 is bytes B, G, R, X = little-endian 0xXXRRGGBB. */
enum virtio_gpu_formats {
    VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM = 1,
    VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM = 2,
    VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM = 3,
    VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM = 4,
    VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM = 67,
    VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM = 68,
    VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM = 121,
    VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM = 134
};

struct virtio_gpu_resource_create_2d {
    struct virtio_gpu_ctrl_hdr hdr;
    uint32_t resource_id;
    uint32_t format;
    uint32_t width;
    uint32_t height;
};

struct virtio_gpu_resource_unref {
    struct virtio_gpu_ctrl_hdr hdr;
    uint32_t resource_id;
    uint32_t padding;
};

struct virtio_gpu_set_scanout {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_rect r;
    uint32_t scanout_id;
    uint32_t resource_id;
};

struct virtio_gpu_resource_flush {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_rect r;
    uint32_t resource_id;
    uint32_t padding;
};

struct virtio_gpu_transfer_to_host_2d {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_rect r;
    uint64_t offset;
    uint32_t resource_id;
    uint32_t padding;
};

struct virtio_gpu_resource_attach_backing {
    struct virtio_gpu_ctrl_hdr hdr;
    uint32_t resource_id;
    uint32_t nr_entries;
};

struct virtio_gpu_mem_entry {
    uint64_t addr;
    uint32_t length;
    uint32_t padding;
};

struct virtio_gpu_resource_detach_backing {
    struct virtio_gpu_ctrl_hdr hdr;
    uint32_t resource_id;
    uint32_t padding;
};

/* Cursor queue ("Device Operation: cursorq"): 64x64 cursor images. */
struct virtio_gpu_cursor_pos {
    uint32_t scanout_id;
    uint32_t x;
    uint32_t y;
    uint32_t padding;
};

struct virtio_gpu_update_cursor {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_cursor_pos pos;
    uint32_t resource_id;
    uint32_t hot_x;
    uint32_t hot_y;
    uint32_t padding;
};
#define VIRTIO_GPU_CURSOR_SIZE 64u

/* ---- driver --------------------------------------------------------------- */

/* Error from the driver itself (see the top of this file). */
#define VIRTIO_GPU_EPROTO (-32)

/* Ring entries asked for per queue (the device may offer fewer). */
#ifndef VIRTIO_GPU_QUEUE_SIZE
#define VIRTIO_GPU_QUEUE_SIZE 16u
#endif
/* Bytes of ring memory per queue: give two areas of this size, aligned to
   4096 (enough for a legacy device as well as a modern one). */
#define VIRTIO_GPU_RING_BYTES VIRTQ_RING_BYTES(VIRTIO_GPU_QUEUE_SIZE, VIRTQ_ALIGN_LEGACY)
#define VIRTIO_GPU_RING_ALIGN 4096u
/* Default bound on one command's round trip (virtio_gpu_set_timeout()). */
#ifndef VIRTIO_GPU_TIMEOUT_US
#define VIRTIO_GPU_TIMEOUT_US 2000000u
#endif
/* Requests that can be in flight on the control queue at once. */
#define VIRTIO_GPU_NREQ 4

/* CPU address to device address for the backing pages written into
   RESOURCE_ATTACH_BACKING (virtq converts ring buffers itself). */
#ifndef VIRTIO_GPU_VIRT_TO_DMA
#define VIRTIO_GPU_VIRT_TO_DMA(p) ((uint64_t)(uintptr_t)(p))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VIRTIO_GPU__ALIGN_DMA __attribute__((aligned(VIRTQ_DMA_ALIGN)))
#else
#define VIRTIO_GPU__ALIGN_DMA /* place struct virtio_gpu on a VIRTQ_DMA_ALIGN boundary yourself */
#endif

/* One control-queue request: the command and the response the device
   writes.  Device-visible; lives inside struct virtio_gpu.  Private.  The
   response starts a cache line (VIRTQ_DMA_ALIGN) and ends the struct, so
   on a non-coherent platform the CPU's writes to the other fields while
   the request is in flight (in_flight) are never written back over it. */
struct virtio_gpu_req { /* NOLINT(clang-analyzer-optin.performance.Padding): resp owns its cache lines */
    union {
        struct virtio_gpu_ctrl_hdr hdr;
        struct virtio_gpu_resource_create_2d create_2d;
        struct virtio_gpu_resource_unref unref;
        struct virtio_gpu_set_scanout set_scanout;
        struct virtio_gpu_resource_flush flush;
        struct virtio_gpu_transfer_to_host_2d transfer;
        struct virtio_gpu_resource_detach_backing detach;
        struct {
            struct virtio_gpu_resource_attach_backing hdr;
            struct virtio_gpu_mem_entry entry; /* the one-entry case */
        } attach;
    } cmd;
    uint32_t cmd_len;   /* bytes of cmd sent */
    uint32_t resp_len;  /* bytes of resp posted */
    uint32_t used_len;  /* bytes the device wrote */
    uint32_t ok_type;   /* the success response this command expects */
    uint8_t in_flight;  /* on the ring, cookie not yet back */
    uint8_t done;       /* completed since submitted */
    uint8_t abandoned;  /* its wait timed out; reaped as "late" */
    uint8_t pad_;
    union {
        struct virtio_gpu_ctrl_hdr hdr;
        struct virtio_gpu_resp_display_info display_info;
    } resp VIRTIO_GPU__ALIGN_DMA; /* device-writable */
} VIRTIO_GPU__ALIGN_DMA;

/* Backings attached with virtio_gpu_attach_backing_buf() the driver keeps
   track of, so it can clean their pixels for the device before each
   transfer (non-coherent DMA; "Device Operation: controlq", as Linux's
   virtio-gpu syncs a resource's pages before TRANSFER_TO_HOST_2D). */
#ifndef VIRTIO_GPU_MAX_BACKINGS
#define VIRTIO_GPU_MAX_BACKINGS 4
#endif
struct virtio_gpu_backing {
    void *buf;            /* NULL: slot free */
    uint32_t len;
    uint32_t resource_id;
};

/* Counters (read freely). */
struct virtio_gpu_stats {
    uint32_t commands;      /* control commands completed */
    uint32_t cursor_cmds;   /* cursor commands completed */
    uint32_t err_resps;     /* error responses received */
    uint32_t proto_errors;  /* VIRTIO_GPU_EPROTO answers */
    uint32_t timeouts;      /* waits that ran out */
    uint32_t late;          /* completions that arrived after a timeout */
    uint32_t config_irqs;   /* configuration change interrupts seen */
    uint32_t display_events; /* VIRTIO_GPU_EVENT_DISPLAY handled */
};

struct virtio_gpu {
    struct virtq_dev *dev;
    struct virtq ctrlq;
    struct virtq cursorq;
    struct virtq_slot ctrl_slots[VIRTIO_GPU_QUEUE_SIZE];
    struct virtq_slot cursor_slots[VIRTIO_GPU_QUEUE_SIZE];
    struct virtio_gpu_req req[VIRTIO_GPU_NREQ];
    struct virtio_gpu_update_cursor cursor_cmd; /* device-readable */
    uint8_t cursor_busy;                        /* cursor_cmd on the ring */
    uint8_t fence_all;                          /* fence every command */
    uint8_t pad_[2];
    uint32_t timeout_us;
    uint32_t num_scanouts;                      /* from config space */
    uint64_t next_fence;                        /* last fence id sent */
    uint64_t fence_done;                        /* last fence id answered */
    volatile uint32_t config_pending;           /* set by virtio_gpu_isr() */
    uint32_t display_gen;                       /* bumped per display info read */
    struct virtio_gpu_display_one modes[VIRTIO_GPU_MAX_SCANOUTS];
    struct virtio_gpu_backing backing[VIRTIO_GPU_MAX_BACKINGS];
    struct virtio_gpu_stats stats;
};

/* Initialise the device dev (already probed with virtq_mmio_probe(); must
   be a GPU): reset, negotiate (no optional features), set up the control
   and cursor queues over ctrl_ring and cursor_ring (VIRTIO_GPU_RING_BYTES
   each, VIRTIO_GPU_RING_ALIGN-aligned), DRIVER_OK, then GET_DISPLAY_INFO.
   The wait strategy is the device's (SPIN right after probe).
   VIRTQ_ENODEV: not a GPU.  VIRTIO_GPU_EPROTO: num_scanouts not 1..16. */
int virtio_gpu_init(struct virtio_gpu *g, struct virtq_dev *dev, void *ctrl_ring,
                    void *cursor_ring);

/* Bound on each command's round trip (0 restores the default). */
void virtio_gpu_set_timeout(struct virtio_gpu *g, uint32_t timeout_us);

/* Fence every following control command (on != 0): each carries
   VIRTIO_GPU_FLAG_FENCE and a new fence id, and its response must echo
   both.  virtio_gpu_fence_done() is the last fence id answered. */
void virtio_gpu_set_fence(struct virtio_gpu *g, int on);
uint64_t virtio_gpu_fence_done(const struct virtio_gpu *g);

/* GET_DISPLAY_INFO: refresh the modes of every scanout. */
int virtio_gpu_get_display_info(struct virtio_gpu *g);
/* The last display info of scanout: VIRTQ_OK and the size when it is
   enabled, VIRTQ_ENODEV when disabled, VIRTQ_EINVAL for a bad scanout. */
int virtio_gpu_display_size(const struct virtio_gpu *g, uint32_t scanout, uint32_t *width,
                            uint32_t *height);

/* 2D resources. */
int virtio_gpu_resource_create_2d(struct virtio_gpu *g, uint32_t resource_id, uint32_t format,
                                  uint32_t width, uint32_t height);
int virtio_gpu_resource_unref(struct virtio_gpu *g, uint32_t resource_id);
/* Attach nr caller entries (device addresses; the array must stay put
   until the call returns), or one buffer (converted with
   VIRTIO_GPU_VIRT_TO_DMA).  Non-coherent DMA: the driver cleans the pixels
   of a backing attached with _buf before each transfer from it (up to
   VIRTIO_GPU_MAX_BACKINGS such backings at a time; detach or unref forgets
   one); for one attached with entries, or beyond that number, clean what
   you drew yourself with virtq_dma_sync_for_device(p, len, false). */
int virtio_gpu_attach_backing(struct virtio_gpu *g, uint32_t resource_id,
                              const struct virtio_gpu_mem_entry *entries, uint32_t nr);
int virtio_gpu_attach_backing_buf(struct virtio_gpu *g, uint32_t resource_id, void *buf,
                                  uint32_t len);
int virtio_gpu_detach_backing(struct virtio_gpu *g, uint32_t resource_id);
/* resource_id 0 disables the scanout. */
int virtio_gpu_set_scanout(struct virtio_gpu *g, uint32_t scanout_id, uint32_t resource_id,
                           const struct virtio_gpu_rect *r);
int virtio_gpu_transfer_to_host_2d(struct virtio_gpu *g, uint32_t resource_id,
                                   const struct virtio_gpu_rect *r, uint64_t offset);
int virtio_gpu_resource_flush(struct virtio_gpu *g, uint32_t resource_id,
                              const struct virtio_gpu_rect *r);
/* Both of the above for rectangle r of a linear backing with stride bytes
   per line and 4 bytes per pixel, behind one notification.
   Non-coherent DMA: the device reads the backing outside any descriptor;
   the driver cleans a _buf backing's rows the transfer reads (see
   virtio_gpu_attach_backing), and syncs its own commands, mem entries and
   responses. */
int virtio_gpu_flush_rect(struct virtio_gpu *g, uint32_t resource_id,
                          const struct virtio_gpu_rect *r, uint32_t stride);

/* Cursor queue: show resource_id (64x64, 0 hides) with hot spot (hot_x,
   hot_y) at (x, y) of scanout; move it.  Waits until the device took it. */
int virtio_gpu_update_cursor(struct virtio_gpu *g, uint32_t scanout_id, uint32_t resource_id,
                             uint32_t hot_x, uint32_t hot_y, uint32_t x, uint32_t y);
int virtio_gpu_move_cursor(struct virtio_gpu *g, uint32_t scanout_id, uint32_t x, uint32_t y);

/* From the device's interrupt handler: virtq_dev_isr() plus a note of
   configuration changes.  Returns the VIRTIO_MMIO_INT_* bits seen. */
uint32_t virtio_gpu_isr(struct virtio_gpu *g);
/* From task context: read events_read; on VIRTIO_GPU_EVENT_DISPLAY write
   events_clear and refresh the display info.  1: the display changed (read
   the new sizes), 0: no event, or a negative error.  Works without
   interrupts too (it always looks at the config space). */
int virtio_gpu_handle_events(struct virtio_gpu *g);

/* A name for any code these functions return. */
const char *virtio_gpu_strerror(int err);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* VIRTIO_GPU_H */
