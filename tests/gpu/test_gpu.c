/* SPDX-License-Identifier: MIT */
/* test_gpu.c — the portable virtio-gpu driver (examples/drivers/virtio_gpu.c)
   against the fake device's gpu model (shims/fake/fake_gpu.c), cmocka,
   ASan+UBSan.

   The fake checks every register access, chain and command size against
   the spec, keeps 2D resources and a "screen" per scanout in host memory,
   and each test asserts no violation was reported (except where one is
   provoked on purpose).  Covered: init on legacy and modern devices; a
   framebuffer drawn, transferred and flushed, the screen compared pixel by
   pixel, full-frame and damage-rectangle flushes, scatter-gather backing;
   every error response returned as the error it names; fenced commands and
   a device that gets fences wrong; wrong response types, short responses,
   a broken display info; display-change events through the interrupt and
   by polling; the cursor queue; timeouts, late completions and a full
   request table; the SPIN, WFI and OS wait strategies against a device
   thread; bad arguments and bad config. */
#define _GNU_SOURCE /* usleep, rand_r under -std=c11 */
#define VIRTQ_IMPLEMENTATION
#include "virtq_fake.h" /* first: points virtq.h's shims at the fake */
#include "virtq.h"

#include "fake_blk.h"
#include "fake_gpu.h"
#include "virtq_fake_cmocka.h"
#include "examples/drivers/virtio_gpu.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define FB_W 160u
#define FB_H 96u
#define FB_RES 7u
#define CUR_RES 8u
#define SHORT_US 20000u /* timeout for waits that are meant to run out */

/* Below 4 GiB: a legacy QueuePFN is a 32-bit page number. */
static uint8_t *ctrl_ring, *cursor_ring;
/* Backing memory the device reads owns its cache lines (VIRTQ_DMA_ALIGN). */
static uint32_t fb[FB_W * FB_H] __attribute__((aligned(VIRTQ_DMA_ALIGN)));
static uint32_t screen[FB_W * FB_H];
static uint32_t cursor_img[64 * 64] __attribute__((aligned(VIRTQ_DMA_ALIGN)));

static struct virtq_fake_dev *fd;
static struct virtq_dev vdev;
static struct virtio_gpu gpu;

#define assert_clean() virtq_fake_assert_clean()

static int setup(void **state)
{
    (void)state;
    virtq_fake_set_violation_handler(virtq_fake_count_violations, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    return 0;
}

static struct virtq_fake_dev *make_gpu(int version, uint32_t w, uint32_t h)
{
    struct virtq_fake_gpu_params p;
    memset(&p, 0, sizeof p);
    p.version = version;
    p.width = w;
    p.height = h;
    p.features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX);
    return virtq_fake_gpu_create(&p);
}

/* A device, probed and initialised by the driver. */
static void env_up(int version)
{
    fd = make_gpu(version, FB_W, FB_H);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(virtio_gpu_init(&gpu, &vdev, ctrl_ring, cursor_ring), VIRTQ_OK);
}

static void env_down(void)
{
    virtq_fake_destroy(fd);
    fd = NULL;
    virtq_fake_cpu_reset();
}

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed)
{
    return (x * 0x01020305u) ^ (y * 0x00a0b0c1u) ^ seed;
}

static void draw(uint32_t seed)
{
    for (uint32_t y = 0; y < FB_H; y++)
        for (uint32_t x = 0; x < FB_W; x++)
            fb[y * FB_W + x] = pattern(x, y, seed);
}

/* Framebuffer resource, backed by fb, on scanout 0. */
static void fb_up(void)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                                   FB_W, FB_H), VIRTQ_OK);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, FB_RES, fb, sizeof fb), VIRTQ_OK);
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &full), VIRTQ_OK);
}

static void grab_screen(void)
{
    uint32_t w = 0, h = 0;
    assert_int_equal(virtq_fake_gpu_screen(fd, 0, screen, FB_W * FB_H, &w, &h), 0);
    assert_int_equal(w, FB_W);
    assert_int_equal(h, FB_H);
}

/* ---- init ------------------------------------------------------------------ */

static void init_modern_and_legacy(void **state)
{
    uint32_t w, h;
    (void)state;
    for (int version = 1; version <= 2; version++) {
        fd = make_gpu(version, 800, 600);
        assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
        assert_int_equal(virtio_gpu_init(&gpu, &vdev, ctrl_ring, cursor_ring), VIRTQ_OK);
        assert_int_equal(vdev.version, version);
        assert_true(vdev.features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
        assert_int_equal(virtq_fake_status(fd) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
        assert_int_equal(virtq_fake_queue_ready(fd, 0), 1);
        assert_int_equal(virtq_fake_queue_ready(fd, 1), 1);
        assert_int_equal(gpu.num_scanouts, 1);
        /* init read the display info */
        assert_int_equal(virtio_gpu_display_size(&gpu, 0, &w, &h), VIRTQ_OK);
        assert_int_equal(w, 800);
        assert_int_equal(h, 600);
        assert_int_equal(virtio_gpu_display_size(&gpu, 1, &w, &h), VIRTQ_EINVAL);
        assert_int_equal(gpu.stats.commands, 1);
        assert_clean();
        env_down();
    }
}

static void init_rejects_bad_devices(void **state)
{
    struct virtq_fake_blk_params bp;
    static uint8_t disk[4096];
    uint8_t n[4];
    (void)state;
    /* Not a GPU. */
    memset(&bp, 0, sizeof bp);
    bp.image = disk;
    bp.image_bytes = sizeof disk;
    fd = virtq_fake_blk_create(&bp);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(virtio_gpu_init(&gpu, &vdev, ctrl_ring, cursor_ring), VIRTQ_ENODEV);
    assert_int_equal(virtq_fake_status(fd), 0); /* untouched */
    env_down();
    /* num_scanouts out of 1..16: config validated before use. */
    for (int bad = 0; bad < 2; bad++) {
        uint32_t v = bad ? 17u : 0u;
        fd = make_gpu(2, 64, 64);
        memcpy(n, &v, 4);
        assert_int_equal(virtq_fake_config_set(fd, VIRTIO_GPU_CONFIG_NUM_SCANOUTS, n, 4, 0), 0);
        assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
        assert_int_equal(virtio_gpu_init(&gpu, &vdev, ctrl_ring, cursor_ring), VIRTIO_GPU_EPROTO);
        assert_true(virtq_fake_status(fd) & VIRTIO_STATUS_FAILED);
        env_down();
    }
    /* Rings must be 4096-aligned (legacy layout). */
    fd = make_gpu(1, 64, 64);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    assert_int_equal(virtio_gpu_init(&gpu, &vdev, ctrl_ring + 16, cursor_ring), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_init(&gpu, NULL, ctrl_ring, cursor_ring), VIRTQ_EINVAL);
    assert_int_equal(virtq_fake_status(fd), 0);
    assert_clean();
    env_down();
}

/* ---- drawing ------------------------------------------------------------------ */

static void full_frame_reaches_the_screen(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    struct virtq_fake_gpu_stats st;
    (void)state;
    env_up(2);
    fb_up();
    draw(1);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    /* Drawing without a flush changes nothing on screen. */
    draw(2);
    grab_screen();
    for (uint32_t i = 0; i < FB_W * FB_H; i++)
        assert_int_equal(screen[i], pattern(i % FB_W, i / FB_W, 1));
    /* Transfer alone updates the resource, not the screen; flush shows it. */
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, FB_RES, &full, 0), VIRTQ_OK);
    grab_screen();
    assert_int_equal(screen[5], pattern(5, 0, 1));
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_OK);
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    virtq_fake_gpu_get_stats(fd, &st);
    assert_int_equal(st.flushes, 2);
    assert_int_equal(st.by_type[VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D - 0x100], 2);
    assert_int_equal(st.transfer_bytes, 2u * sizeof fb);
    assert_clean();
    env_down();
}

/* Damage rectangles: only the rectangle changes on screen, and its
   transfer offset addresses (x, y) of the backing. */
static void damage_rect_updates_only_the_rect(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H}, r = {37, 21, 19, 13};
    (void)state;
    env_up(1);
    fb_up();
    draw(10);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    draw(20);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &r, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    for (uint32_t y = 0; y < FB_H; y++)
        for (uint32_t x = 0; x < FB_W; x++) {
            int in = x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
            if (screen[y * FB_W + x] != pattern(x, y, in ? 20 : 10))
                fail_msg("pixel (%u,%u) is %#x, want the %s frame", x, y, screen[y * FB_W + x],
                         in ? "new" : "old");
        }
    /* A rectangle on the last column and row. */
    r.x = FB_W - 1;
    r.y = FB_H - 1;
    r.width = 1;
    r.height = 1;
    fb[FB_W * FB_H - 1] = 0xdeadbeefu;
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &r, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    assert_int_equal(screen[FB_W * FB_H - 1], 0xdeadbeefu);
    assert_clean();
    env_down();
}

/* Backing in three pieces cut mid-line; a transfer straddles the cuts. */
static void scatter_gather_backing(void **state)
{
    struct virtio_gpu_mem_entry e[3];
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    uint8_t *p = (uint8_t *)fb;
    uint32_t cut1 = 4096u + 12u, cut2 = 30000u, total = (uint32_t)sizeof fb;
    uint32_t px = 0;
    (void)state;
    env_up(2);
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
                                                   FB_W, FB_H), VIRTQ_OK);
    memset(e, 0, sizeof e);
    e[0].addr = (uint64_t)(uintptr_t)p;
    e[0].length = cut1;
    e[1].addr = (uint64_t)(uintptr_t)(p + cut1);
    e[1].length = cut2 - cut1;
    e[2].addr = (uint64_t)(uintptr_t)(p + cut2);
    e[2].length = total - cut2;
    assert_int_equal(virtio_gpu_attach_backing(&gpu, FB_RES, e, 3), VIRTQ_OK);
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &full), VIRTQ_OK);
    draw(33);
    /* Backing given as entries: the driver does not know it, so the
       caller cleans its pixels (non-coherent DMA; a no-op when coherent). */
    virtq_dma_sync_for_device(fb, sizeof fb, false);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    assert_int_equal(virtq_fake_gpu_resource_pixel(fd, FB_RES, 5, 40, &px), 0);
    assert_int_equal(px, pattern(5, 40, 33));
    assert_clean();
    env_down();
}

/* ---- error responses ------------------------------------------------------------- */

static void error_responses_are_named(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H}, out = {FB_W - 8, 0, 16, 8};
    struct virtq_fake_gpu_stats st;
    int rc;
    (void)state;
    env_up(2);
    rc = virtio_gpu_resource_unref(&gpu, 99);
    assert_int_equal(rc, -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    assert_string_equal(virtio_gpu_strerror(rc), "VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID");
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, 0x77, FB_W, FB_H),
                     -VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    assert_string_equal(virtio_gpu_strerror(-VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER),
                        "VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER");
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                                   FB_W, FB_H), VIRTQ_OK);
    /* The same id again. */
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                                   4, 4), -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    /* Transfer before any backing: QEMU and the fake say UNSPEC. */
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, FB_RES, &full, 0),
                     -VIRTIO_GPU_RESP_ERR_UNSPEC);
    assert_string_equal(virtio_gpu_strerror(-VIRTIO_GPU_RESP_ERR_UNSPEC), "VIRTIO_GPU_RESP_ERR_UNSPEC");
    assert_int_equal(virtio_gpu_detach_backing(&gpu, FB_RES), -VIRTIO_GPU_RESP_ERR_UNSPEC);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, FB_RES, fb, sizeof fb), VIRTQ_OK);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, FB_RES, fb, sizeof fb),
                     -VIRTIO_GPU_RESP_ERR_UNSPEC); /* already backed */
    /* Scanout 3 of 1, and a rectangle the resource does not cover. */
    rc = virtio_gpu_set_scanout(&gpu, 3, FB_RES, &full);
    assert_int_equal(rc, -VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
    assert_string_equal(virtio_gpu_strerror(rc), "VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID");
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &out),
                     -VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &out),
                     -VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES + 1, &full, FB_W * 4u),
                     -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    /* Transfer past the backing's end (offset one line too far). */
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, FB_RES, &full, FB_W * 4u),
                     -VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    /* Out of host memory. */
    rc = virtio_gpu_resource_create_2d(&gpu, 50, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16384, 16384);
    assert_int_equal(rc, -VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    assert_string_equal(virtio_gpu_strerror(rc), "VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY");
    /* Unknown error response types still name themselves as such. */
    assert_string_equal(virtio_gpu_strerror(-0x1234), "VIRTIO_GPU_RESP_ERR_* (unknown error response)");
    assert_string_equal(virtio_gpu_strerror(VIRTQ_ETIMEDOUT), virtq_strerror(VIRTQ_ETIMEDOUT));
    /* After all that, the resource still works and errors were counted. */
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &full), VIRTQ_OK);
    assert_int_equal(virtio_gpu_detach_backing(&gpu, FB_RES), VIRTQ_OK);
    assert_int_equal(virtio_gpu_resource_unref(&gpu, FB_RES), VIRTQ_OK);
    assert_int_equal(virtq_fake_gpu_resource_exists(fd, FB_RES, NULL), 0);
    /* unref turned the scanout off */
    assert_int_equal(virtq_fake_gpu_screen(fd, 0, screen, FB_W * FB_H, &out.width, &out.height), -1);
    virtq_fake_gpu_get_stats(fd, &st);
    assert_int_equal(gpu.stats.err_resps, 13);
    assert_int_equal(st.errors, 13);
    assert_int_equal(gpu.stats.proto_errors, 0);
    assert_clean();
    env_down();
}

static void bad_arguments_send_nothing(void **state)
{
    struct virtio_gpu_rect empty = {0, 0, 0, 4}, wrap = {UINT32_MAX - 2, 0, 8, 8}, ok = {0, 0, 4, 4};
    struct virtio_gpu_mem_entry e = {0, 0, 0};
    struct virtq_fake_gpu_stats before, after;
    (void)state;
    env_up(2);
    virtq_fake_gpu_get_stats(fd, &before);
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, 0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4),
                     VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, 3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 4),
                     VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, 3, &empty, 64), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, 3, &wrap, 64), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, 3, &ok, 0), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, 3, NULL, 64), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, 3, &empty, 0), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, 3, &wrap), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, 3, &empty), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, 3, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_attach_backing(&gpu, 3, &e, 0), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_attach_backing(&gpu, 3, NULL, 1), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, 3, NULL, 16), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_update_cursor(&gpu, 0, 3, 64, 0, 0, 0), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_get_display_info(NULL), VIRTQ_EINVAL);
    assert_int_equal(virtio_gpu_handle_events(NULL), VIRTQ_EINVAL);
    virtq_fake_gpu_get_stats(fd, &after);
    assert_int_equal(after.cmds, before.cmds); /* nothing reached the device */
    assert_int_equal(after.cursor_updates, 0);
    /* Disabling a scanout needs no rectangle. */
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, 0, &empty), VIRTQ_OK);
    assert_clean();
    env_down();
}

/* ---- fences ------------------------------------------------------------------------ */

static void fenced_commands(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    struct virtq_fake_gpu_stats st;
    (void)state;
    env_up(2);
    fb_up();
    assert_int_equal(virtio_gpu_fence_done(&gpu), 0);
    virtio_gpu_set_fence(&gpu, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    /* 20 commands, 20 fences, answered in order */
    assert_int_equal(virtio_gpu_fence_done(&gpu), 20);
    virtq_fake_gpu_get_stats(fd, &st);
    assert_int_equal(st.fenced, 20);
    assert_int_equal(st.last_fence, 20);
    /* A device that does not echo the fence, or echoes the wrong id. */
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_NO_FENCE, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTIO_GPU_EPROTO);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_FENCE_ID, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTIO_GPU_EPROTO);
    assert_int_equal(virtio_gpu_fence_done(&gpu), 20); /* neither counted as done */
    assert_int_equal(gpu.stats.proto_errors, 2);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_OK);
    assert_int_equal(virtio_gpu_fence_done(&gpu), 23);
    /* Unfenced commands carry no fence, so none is checked or counted. */
    virtio_gpu_set_fence(&gpu, 0);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_NO_FENCE, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_OK);
    virtq_fake_gpu_get_stats(fd, &st);
    assert_int_equal(st.fenced, 23);
    assert_int_equal(virtio_gpu_fence_done(&gpu), 23);
    assert_clean();
    env_down();
}

/* ---- a device that answers wrongly --------------------------------------------- */

static void wrong_answers_are_protocol_errors(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    uint32_t w, h;
    (void)state;
    env_up(2);
    fb_up();
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_WRONG_TYPE, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTIO_GPU_EPROTO);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_WRONG_TYPE, 1);
    assert_int_equal(virtio_gpu_get_display_info(&gpu), VIRTIO_GPU_EPROTO);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_SHORT, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTIO_GPU_EPROTO);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_SHORT, 1);
    assert_int_equal(virtio_gpu_get_display_info(&gpu), VIRTIO_GPU_EPROTO);
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_ERROR, 1);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), -VIRTIO_GPU_RESP_ERR_UNSPEC);
    /* An enabled 0x0 scanout: rejected, the old modes kept. */
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_BAD_MODE, 1);
    assert_int_equal(virtio_gpu_get_display_info(&gpu), VIRTIO_GPU_EPROTO);
    assert_int_equal(virtio_gpu_display_size(&gpu, 0, &w, &h), VIRTQ_OK);
    assert_int_equal(w, FB_W);
    assert_int_equal(h, FB_H);
    assert_int_equal(gpu.stats.proto_errors, 5);
    /* In a batch (transfer + flush) the failing one is reported. */
    virtq_fake_gpu_inject(fd, VIRTQ_FAKE_GPU_FAULT_SHORT, 1);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTIO_GPU_EPROTO);
    /* And the device is usable after each. */
    draw(5);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    assert_clean();
    env_down();
}

/* ---- display-change events --------------------------------------------------------- */

static void irq_to_gpu_isr(struct virtq_fake_dev *d, void *ctx)
{
    (void)d;
    (void)virtio_gpu_isr((struct virtio_gpu *)ctx);
}

static void display_change_event(void **state)
{
    uint32_t w, h, ev;
    (void)state;
    env_up(2);
    virtq_fake_set_irq_callback(fd, irq_to_gpu_isr, &gpu);
    assert_int_equal(virtio_gpu_handle_events(&gpu), 0); /* nothing pending */
    assert_int_equal(virtq_fake_gpu_set_mode(fd, 0, 1280, 800, 1), 0);
    assert_int_equal(gpu.config_pending, 1); /* the config interrupt was seen */
    assert_int_equal(gpu.stats.config_irqs, 1);
    assert_int_equal(virtio_gpu_handle_events(&gpu), 1);
    assert_int_equal(gpu.config_pending, 0);
    assert_int_equal(virtio_gpu_display_size(&gpu, 0, &w, &h), VIRTQ_OK);
    assert_int_equal(w, 1280);
    assert_int_equal(h, 800);
    memcpy(&ev, virtq_fake_config_bytes(fd) + VIRTIO_GPU_CONFIG_EVENTS_READ, 4);
    assert_int_equal(ev, 0); /* events_clear cleared it */
    assert_int_equal(virtio_gpu_handle_events(&gpu), 0);
    /* Display unplugged: found by polling too, no interrupt needed. */
    virtq_fake_set_irq_callback(fd, NULL, NULL);
    assert_int_equal(virtq_fake_gpu_set_mode(fd, 0, 1280, 800, 0), 0);
    assert_int_equal(virtio_gpu_handle_events(&gpu), 1);
    assert_int_equal(virtio_gpu_display_size(&gpu, 0, &w, &h), VIRTQ_ENODEV);
    assert_int_equal(gpu.stats.display_events, 2);
    assert_clean();
    env_down();
}

/* ---- cursor --------------------------------------------------------------------- */

static void cursor_queue(void **state)
{
    struct virtio_gpu_rect r = {0, 0, 64, 64};
    struct virtq_fake_gpu_cursor c;
    struct virtq_fake_stats fs;
    (void)state;
    env_up(2);
    for (uint32_t i = 0; i < 64 * 64; i++)
        cursor_img[i] = 0xff000000u | i;
    /* "Configure mouse cursor": fill the resource with fenced commands. */
    virtio_gpu_set_fence(&gpu, 1);
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, CUR_RES, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
                                                   64, 64), VIRTQ_OK);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, CUR_RES, cursor_img, sizeof cursor_img),
                     VIRTQ_OK);
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, CUR_RES, &r, 0), VIRTQ_OK);
    virtio_gpu_set_fence(&gpu, 0);
    assert_int_equal(virtio_gpu_update_cursor(&gpu, 0, CUR_RES, 3, 4, 100, 50), VIRTQ_OK);
    virtq_fake_gpu_get_cursor(fd, &c);
    assert_int_equal(c.resource_id, CUR_RES);
    assert_int_equal(c.x, 100);
    assert_int_equal(c.y, 50);
    assert_int_equal(c.hot_x, 3);
    assert_int_equal(c.hot_y, 4);
    assert_memory_equal(c.image, cursor_img, sizeof cursor_img);
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(virtio_gpu_move_cursor(&gpu, 0, i, 2 * i), VIRTQ_OK);
    virtq_fake_gpu_get_cursor(fd, &c);
    assert_int_equal(c.x, 39);
    assert_int_equal(c.y, 78);
    assert_int_equal(c.resource_id, CUR_RES);
    assert_int_equal(gpu.stats.cursor_cmds, 41);
    virtq_fake_get_stats(fd, &fs);
    assert_int_equal(fs.q[1].completed, 41);
    /* Hide it. */
    assert_int_equal(virtio_gpu_update_cursor(&gpu, 0, 0, 0, 0, 0, 0), VIRTQ_OK);
    virtq_fake_gpu_get_cursor(fd, &c);
    assert_int_equal(c.resource_id, 0);
    assert_clean();
    /* The fake tells on a driver that skips the fence. */
    r.width = 8;
    assert_int_equal(virtio_gpu_transfer_to_host_2d(&gpu, CUR_RES, &r, 0), VIRTQ_OK);
    assert_int_equal(virtio_gpu_update_cursor(&gpu, 0, CUR_RES, 0, 0, 1, 1), VIRTQ_OK);
    assert_int_equal(virtq_fake_violation_count(), 1);
    assert_non_null(strstr(virtq_fake_last_violation(), "Configure mouse cursor"));
    virtq_fake_clear_violations();
    env_down();
}

/* ---- timeouts and late completions --------------------------------------------- */

static void timeout_then_late_completion(void **state)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    (void)state;
    env_up(2);
    fb_up();
    virtio_gpu_set_timeout(&gpu, SHORT_US);
    /* The device holds the requests: the wait runs out, bounded. */
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_ETIMEDOUT);
    assert_int_equal(gpu.stats.timeouts, 1);
    assert_int_equal(virtq_fake_pending(fd, 0), 2);
    /* They complete later; the next command reaps them as late. */
    assert_int_equal(virtq_fake_step(fd, 0, -1), 2);
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_OK);
    assert_int_equal(gpu.stats.late, 2);
    /* A request the device never completes keeps its slot: after every
       slot is lost, the driver says busy instead of reusing live memory. */
    virtio_gpu_set_timeout(&gpu, 0);
    assert_int_equal(gpu.timeout_us, VIRTIO_GPU_TIMEOUT_US);
    virtio_gpu_set_timeout(&gpu, SHORT_US);
    assert_int_equal(virtq_fake_inject(fd, 0, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, VIRTIO_GPU_NREQ), 0);
    for (int i = 0; i < VIRTIO_GPU_NREQ; i++)
        assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtio_gpu_resource_flush(&gpu, FB_RES, &full), VIRTQ_EBUSY);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_EBUSY);
    assert_int_equal(gpu.stats.timeouts, 1 + VIRTIO_GPU_NREQ);
    /* The cursor queue times out the same way and then says busy. */
    assert_int_equal(virtq_fake_inject(fd, 1, VIRTQ_FAKE_FAULT_NEVER_COMPLETE, 1), 0);
    assert_int_equal(virtio_gpu_move_cursor(&gpu, 0, 1, 1), VIRTQ_ETIMEDOUT);
    assert_int_equal(virtio_gpu_move_cursor(&gpu, 0, 1, 1), VIRTQ_EBUSY);
    assert_clean();
    env_down();
}

/* ---- wait strategies against a device thread ------------------------------------ */

/* A device thread that completes in ring order (the fake's own thread picks
   at random, and the gpu model executes a command when it completes it; a
   real GPU processes the controlq in order, and drivers rely on it:
   TRANSFER_TO_HOST_2D then RESOURCE_FLUSH go out back to back).  Interrupts
   are raised from this thread. */
static int dev_stop;
static pthread_t dev_thread;

static void *inorder_device(void *arg)
{
    unsigned seed = 77;
    (void)arg;
    while (!__atomic_load_n(&dev_stop, __ATOMIC_ACQUIRE)) {
        int n = virtq_fake_step(fd, 0, 1) + virtq_fake_step(fd, 1, 1);
        usleep(n ? (useconds_t)(rand_r(&seed) % 100u) : 20u);
    }
    return NULL;
}

static void device_thread_start(void)
{
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    __atomic_store_n(&dev_stop, 0, __ATOMIC_RELEASE);
    assert_int_equal(pthread_create(&dev_thread, NULL, inorder_device, NULL), 0);
}

static void device_thread_stop(void)
{
    __atomic_store_n(&dev_stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(dev_thread, NULL), 0);
}

static void cpu_isr(void *ctx)
{
    (void)virtio_gpu_isr((struct virtio_gpu *)ctx);
}

/* 300 damage flushes and a moving cursor; the screen checked at the end. */
static void storm(void)
{
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    fb_up();
    draw(0);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    for (uint32_t i = 1; i <= 300; i++) {
        struct virtio_gpu_rect r = {(i * 7u) % (FB_W - 8u), (i * 3u) % (FB_H - 8u), 8, 8};
        for (uint32_t y = r.y; y < r.y + 8u; y++)
            for (uint32_t x = r.x; x < r.x + 8u; x++)
                fb[y * FB_W + x] = i;
        assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &r, FB_W * 4u), VIRTQ_OK);
        if (i % 10u == 0)
            assert_int_equal(virtio_gpu_move_cursor(&gpu, 0, i, i), VIRTQ_OK);
    }
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    assert_int_equal(gpu.stats.timeouts, 0);
    assert_int_equal(gpu.stats.late, 0);
}

static void wait_spin_threaded(void **state)
{
    (void)state;
    env_up(2);
    device_thread_start();
    storm();
    device_thread_stop();
    assert_int_equal(vdev.irqs, 0);
    assert_clean();
    env_down();
}

static void wait_wfi_threaded(void **state)
{
    struct virtq_fake_cpu_stats cs;
    (void)state;
    env_up(1);
    /* Wired after init: handler, route, then tell virtq. */
    virtq_fake_cpu_set_isr(cpu_isr, &gpu);
    virtq_fake_connect_irq(fd, 1);
    virtq_dev_irq_routed(&vdev, 1);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_WFI, NULL), VIRTQ_OK);
    device_thread_start();
    storm();
    device_thread_stop();
    virtq_fake_cpu_get_stats(&cs);
    assert_true(cs.wfi_calls > 0);
    assert_true(cs.wfi_irq_wakes > 0);
    assert_int_equal(cs.wfi_stuck, 0);
    assert_true(vdev.irqs > 0);
    assert_clean();
    env_down();
}

static void wait_os_threaded(void **state)
{
    struct virtq_fake_os *os = virtq_fake_os_create();
    struct virtq_fake_os_stats st;
    (void)state;
    assert_non_null(os);
    env_up(2);
    virtq_fake_set_irq_callback(fd, irq_to_gpu_isr, &gpu);
    assert_int_equal(virtq_dev_set_wait(&vdev, VIRTQ_WAIT_OS, os), VIRTQ_OK);
    device_thread_start();
    storm();
    /* A display change while the thread runs is seen and handled. */
    assert_int_equal(virtq_fake_gpu_set_mode(fd, 0, FB_W / 2, FB_H / 2, 1), 0);
    assert_int_equal(virtio_gpu_handle_events(&gpu), 1);
    device_thread_stop();
    virtq_fake_os_get_stats(os, &st);
    assert_true(st.waits > 0);
    assert_true(st.wakes > 0);
    assert_true(vdev.irqs > 0);
    assert_int_equal(gpu.stats.config_irqs, 1);
    assert_clean();
    env_down();
    virtq_fake_os_destroy(os);
}

/* ---- non-coherent DMA: the fake's modelled write-back cache --------------------- */

/* A functional test with the fake modelling a non-coherent data cache over
   buffer memory (seeded).  The data must stay right and the fake silent,
   and the model must have been exercised both ways. */
static void in_cache_mode(void (*fn)(void **), uint64_t seed)
{
    setup(NULL);
    virtq_fake_cache_enable(seed);
    fn(NULL);
    virtq_fake_cache_assert_exercised(1);
}

static void cache_full_frame(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        in_cache_mode(full_frame_reaches_the_screen, seed);
}

static void cache_damage_rect(void **state)
{
    (void)state;
    in_cache_mode(damage_rect_updates_only_the_rect, 4);
}

static void cache_scatter_gather(void **state)
{
    (void)state;
    in_cache_mode(scatter_gather_backing, 5);
}

static void cache_errors_fences_cursor(void **state)
{
    (void)state;
    in_cache_mode(error_responses_are_named, 6);
    in_cache_mode(fenced_commands, 7);
    in_cache_mode(cursor_queue, 8);
}

/* The device completes from its own thread while the driver spins,
   sleeps in wfi or blocks in the OS wait: 300 damage rectangles. */
static void threaded_in_cache_mode(void **state)
{
    (void)state;
    in_cache_mode(wait_spin_threaded, 10);
    in_cache_mode(wait_wfi_threaded, 11);
    in_cache_mode(wait_os_threaded, 12);
}

/* A backing attached as entries, drawn and not cleaned by its caller:
   the device transfers what memory holds, and the fake names the backing
   and the offset it read stale.  The same pixel through a _buf backing
   the driver knows reaches the screen. */
static void cache_reports_uncleaned_pixels(void **state)
{
    struct virtio_gpu_mem_entry e;
    struct virtio_gpu_rect full = {0, 0, FB_W, FB_H};
    char expect[96];
    (void)state;
    virtq_fake_cache_enable(9);
    virtq_fake_cache_set_rates(0, 0); /* no eviction to rescue it */
    env_up(2);
    assert_int_equal(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
                                                   FB_W, FB_H), VIRTQ_OK);
    memset(&e, 0, sizeof e);
    e.addr = (uint64_t)(uintptr_t)fb;
    e.length = sizeof fb;
    assert_int_equal(virtio_gpu_attach_backing(&gpu, FB_RES, &e, 1), VIRTQ_OK);
    assert_int_equal(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &full), VIRTQ_OK);
    draw(1);
    virtq_dma_sync_for_device(fb, sizeof fb, false);
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    assert_clean();
    fb[3 * FB_W + 2] ^= 0x00ff00ffu; /* drawn, never cleaned */
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    assert_int_equal(virtq_fake_violation_count(), 1);
    snprintf(expect, sizeof expect, "backing %p offset %u", (void *)fb, (3u * FB_W + 2u) * 4u);
    assert_non_null(strstr(virtq_fake_last_violation(), expect));
    assert_non_null(strstr(virtq_fake_last_violation(), "VIRTQ_DMA_SYNC_FOR_DEVICE"));
    grab_screen();
    assert_int_equal(screen[3 * FB_W + 2], pattern(2, 3, 1)); /* the old pixel */
    virtq_fake_clear_violations();
    /* Now through attach_backing_buf: the driver cleans the rows. */
    assert_int_equal(virtio_gpu_detach_backing(&gpu, FB_RES), VIRTQ_OK);
    assert_int_equal(virtio_gpu_attach_backing_buf(&gpu, FB_RES, fb, sizeof fb), VIRTQ_OK);
    fb[5 * FB_W + 7] ^= 0x00ff00ffu;
    assert_int_equal(virtio_gpu_flush_rect(&gpu, FB_RES, &full, FB_W * 4u), VIRTQ_OK);
    grab_screen();
    assert_memory_equal(screen, fb, sizeof fb);
    assert_clean();
    env_down();
    virtq_fake_cache_set_rates(25, 25);
    assert_int_equal(virtq_fake_cache_disable(), 0);
    assert_clean();
}

int main(int argc, char **argv)
{
    int rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(init_modern_and_legacy, setup),
        cmocka_unit_test_setup(init_rejects_bad_devices, setup),
        cmocka_unit_test_setup(full_frame_reaches_the_screen, setup),
        cmocka_unit_test_setup(damage_rect_updates_only_the_rect, setup),
        cmocka_unit_test_setup(scatter_gather_backing, setup),
        cmocka_unit_test_setup(error_responses_are_named, setup),
        cmocka_unit_test_setup(bad_arguments_send_nothing, setup),
        cmocka_unit_test_setup(fenced_commands, setup),
        cmocka_unit_test_setup(wrong_answers_are_protocol_errors, setup),
        cmocka_unit_test_setup(display_change_event, setup),
        cmocka_unit_test_setup(cursor_queue, setup),
        cmocka_unit_test_setup(timeout_then_late_completion, setup),
        cmocka_unit_test_setup(wait_spin_threaded, setup),
        cmocka_unit_test_setup(wait_wfi_threaded, setup),
        cmocka_unit_test_setup(wait_os_threaded, setup),
        cmocka_unit_test_setup(cache_full_frame, setup),
        cmocka_unit_test_setup(cache_damage_rect, setup),
        cmocka_unit_test_setup(cache_scatter_gather, setup),
        cmocka_unit_test_setup(cache_errors_fences_cursor, setup),
        cmocka_unit_test_setup(threaded_in_cache_mode, setup),
        cmocka_unit_test_setup(cache_reports_uncleaned_pixels, setup),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]); /* e.g. 'cache_*' */
    ctrl_ring = virtq_fake_lowmem_alloc(VIRTIO_GPU_RING_BYTES);
    cursor_ring = virtq_fake_lowmem_alloc(VIRTIO_GPU_RING_BYTES);
    if (ctrl_ring == NULL || cursor_ring == NULL) {
        fprintf(stderr, "test_gpu: no memory below 4 GiB for legacy rings\n");
        return 1;
    }
    rc = cmocka_run_group_tests_name("gpu", tests, NULL, NULL);
    virtq_fake_lowmem_free(ctrl_ring);
    virtq_fake_lowmem_free(cursor_ring);
    return rc;
}
