/* SPDX-License-Identifier: MIT */
/* fake_gpu.h — a virtio-gpu 2D model for the fake device ("GPU Device").

   A host-memory GPU: 2D resources are pixel arrays in host memory, each
   scanout has a "screen" (what the display shows after the last
   RESOURCE_FLUSH), and the cursor queue moves a cursor.  Two queues:
   controlq (0) and cursorq (1).  Config space: events_read, events_clear
   (write-to-clear), num_scanouts, num_capsets (0).

   Control commands are read as byte streams ("Message Framing"): the
   24-byte header, the command's struct, for ATTACH_BACKING the mem entries,
   then the response goes into the device-writable bytes.  Answers follow
   "Device Operation: controlq" and what QEMU does:

     GET_DISPLAY_INFO       the modes (virtq_fake_gpu_set_mode() changes one)
     RESOURCE_CREATE_2D     id 0 or in use: ERR_INVALID_RESOURCE_ID; unknown
                            format or a zero size: ERR_INVALID_PARAMETER;
                            over max_hostmem: ERR_OUT_OF_MEMORY
     RESOURCE_UNREF         unknown id: ERR_INVALID_RESOURCE_ID; turns off
                            the scanouts that showed it
     RESOURCE_ATTACH_BACKING  unknown id: ERR_INVALID_RESOURCE_ID; already
                            backed: ERR_UNSPEC; nr_entries 0 or over 16384,
                            or an entry with address 0 or length 0:
                            ERR_INVALID_PARAMETER
     RESOURCE_DETACH_BACKING  unknown id: ERR_INVALID_RESOURCE_ID; not
                            backed: ERR_UNSPEC
     SET_SCANOUT            scanout >= num_scanouts: ERR_INVALID_SCANOUT_ID;
                            resource 0 turns it off; unknown resource:
                            ERR_INVALID_RESOURCE_ID; the rectangle must be
                            non-empty and inside the resource:
                            ERR_INVALID_PARAMETER
     TRANSFER_TO_HOST_2D    copies rows from the backing (row i of the
                            rectangle at offset + i * width * 4) into the
                            resource; unknown id: ERR_INVALID_RESOURCE_ID; no
                            backing: ERR_UNSPEC; rectangle outside the
                            resource or bytes past the backing:
                            ERR_INVALID_PARAMETER
     RESOURCE_FLUSH         copies the rectangle to every scanout showing the
                            resource; unknown id: ERR_INVALID_RESOURCE_ID;
                            rectangle outside it: ERR_INVALID_PARAMETER
     anything else          ERR_UNSPEC
   A fenced request (VIRTIO_GPU_FLAG_FENCE) gets the flag and its fence_id
   back ("Device Operation: Request header").

   Violations (reported, then answered ERR_INVALID_PARAMETER or, without
   room for a response, with nothing): a request shorter than the header, a command
   whose readable bytes are not exactly its struct (plus nr_entries mem
   entries), a response buffer shorter than the response, a readable byte
   after a writable one is the core's business; VIRTIO_GPU_FLAG_INFO_RING_IDX
   without VIRTIO_GPU_F_CONTEXT_INIT; on the cursorq a command that is not
   UPDATE_CURSOR / MOVE_CURSOR or not 56 bytes, a scanout id out of range,
   and an UPDATE_CURSOR naming a resource that does not exist, is not 64x64,
   or whose last create/attach/transfer was not fenced ("Device Operation:
   Configure mouse cursor": the driver makes sure the fill completed, using
   VIRTIO_GPU_FLAG_FENCE).  cursorq commands are answered with nothing
   (used len 0) as QEMU does, or OK_NODATA when a 24-byte writable buffer
   is given.

   Order: a command runs when the core completes it.  In VIRTQ_FAKE_SYNC
   and VIRTQ_FAKE_DEFERRED (virtq_fake_step()) that is ring order, as on
   QEMU, which processes the controlq in order; drivers rely on that (a
   TRANSFER_TO_HOST_2D and the RESOURCE_FLUSH that shows it go out back to
   back).  The random-order modes and virtq_fake_start_thread() run commands
   out of order, which no real GPU does: for a device thread, call
   virtq_fake_step() from a thread of your own (tests/gpu/test_gpu.c). */
#ifndef VIRTQ_FAKE_GPU_H_INCLUDED
#define VIRTQ_FAKE_GPU_H_INCLUDED

#include "virtq_fake.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTQ_FAKE_GPU_MAX_SCANOUTS 16
#define VIRTQ_FAKE_GPU_CURSOR 64u /* cursor resources are 64x64 */

struct virtq_fake_gpu_params {
    int version;             /* 1 legacy, 2 modern (0 means 2) */
    uintptr_t base;          /* 0: the next free fake base */
    uint64_t features;       /* offered on top of VERSION_1 (modern) */
    uint32_t num_scanouts;   /* 0 means 1; stored as given otherwise */
    uint32_t width, height;  /* scanout 0's mode (0 means 1024x768), enabled */
    uint16_t queue_num_max;  /* controlq (0 means 64); the cursorq has 16 */
    uint64_t max_hostmem;    /* bytes of resources (0 means 256 MiB) */
};

/* Wrong answers on the controlq, to test the driver's checks; each armed
   for a number of responses (virtq_fake_gpu_inject). */
enum virtq_fake_gpu_fault {
    VIRTQ_FAKE_GPU_FAULT_NONE = 0,
    VIRTQ_FAKE_GPU_FAULT_NO_FENCE,    /* fenced request, flag not echoed */
    VIRTQ_FAKE_GPU_FAULT_FENCE_ID,    /* fenced request, fence_id + 1 */
    VIRTQ_FAKE_GPU_FAULT_WRONG_TYPE,  /* OK_NODATA <-> OK_DISPLAY_INFO */
    VIRTQ_FAKE_GPU_FAULT_SHORT,       /* only 8 bytes of the response */
    VIRTQ_FAKE_GPU_FAULT_ERROR,       /* ERR_UNSPEC instead of success */
    VIRTQ_FAKE_GPU_FAULT_BAD_MODE     /* display info: enabled 0x0 scanout 0 */
};

struct virtq_fake_gpu_stats {
    uint32_t cmds;            /* controlq requests */
    uint32_t by_type[16];     /* controlq 2D commands, by type - 0x100 */
    uint32_t errors;          /* error responses sent */
    uint32_t last_error;      /* last error response type */
    uint32_t fenced;          /* fenced requests */
    uint64_t last_fence;      /* fence_id of the last fenced request */
    uint32_t flushes;         /* RESOURCE_FLUSH answered OK */
    uint64_t transfer_bytes;  /* bytes copied by TRANSFER_TO_HOST_2D */
    uint32_t cursor_updates, cursor_moves;
    uint32_t resources;       /* live resources */
    uint32_t bad;             /* violations reported by the model */
};

struct virtq_fake_gpu_cursor {
    uint32_t resource_id;     /* 0: hidden */
    uint32_t scanout_id, x, y, hot_x, hot_y;
    uint32_t image[VIRTQ_FAKE_GPU_CURSOR * VIRTQ_FAKE_GPU_CURSOR]; /* at UPDATE */
};

/* A fake device with the gpu model; free it with virtq_fake_destroy(). */
struct virtq_fake_dev *virtq_fake_gpu_create(const struct virtq_fake_gpu_params *p);
void virtq_fake_gpu_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_gpu_stats *out);

/* Change scanout's mode as the display would (a window resized, a monitor
   plugged): sets VIRTIO_GPU_EVENT_DISPLAY in events_read and raises a
   configuration change interrupt.  0, or -1 for a bad scanout. */
int virtq_fake_gpu_set_mode(struct virtq_fake_dev *dev, uint32_t scanout, uint32_t width,
                            uint32_t height, int enabled);

/* What scanout shows: a copy of its screen (the rectangle given to
   SET_SCANOUT, as of the last flush) into out (max_pixels), its size in
   *width and *height.  0; -1 when the scanout is off or out is too small. */
int virtq_fake_gpu_screen(struct virtq_fake_dev *dev, uint32_t scanout, uint32_t *out,
                          size_t max_pixels, uint32_t *width, uint32_t *height);
/* Pixel (x, y) of a resource's host copy; 0 and *px, or -1. */
int virtq_fake_gpu_resource_pixel(struct virtq_fake_dev *dev, uint32_t resource_id, uint32_t x,
                                  uint32_t y, uint32_t *px);
/* 1 when the resource exists (and *backed says if it has backing), else 0. */
int virtq_fake_gpu_resource_exists(struct virtq_fake_dev *dev, uint32_t resource_id, int *backed);
void virtq_fake_gpu_get_cursor(struct virtq_fake_dev *dev, struct virtq_fake_gpu_cursor *out);

/* Arm a wrong answer for the next count controlq responses (0 disarms). */
void virtq_fake_gpu_inject(struct virtq_fake_dev *dev, enum virtq_fake_gpu_fault fault, int count);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif
