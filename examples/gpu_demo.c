/* SPDX-License-Identifier: MIT */
/* gpu_demo: virtio-gpu 2D scanout on a board (examples/boards/), through virtq.h and the
 * portable driver in examples/drivers/virtio_gpu.c.
 *
 *   1. init the GPU while waits spin (no interrupt is wired yet), read the
 *      display size, create the framebuffer resource, attach it, scan it out;
 *      a cursor resource on the cursor queue
 *   2. wire the interrupt (after every device finished init), then wait
 *      with WFI; or block under the scheduler (OS); or keep spinning (SPIN)
 *   3. draw the test pattern (8 colour bars, a 16-step grey ramp, a frame
 *      counter panel, an orange box), flush it, print `PATTERN READY ...`
 *   4. animate: frames with full-frame flushes (fenced), then a flush storm
 *      of damage-rectangle flushes; `FINAL READY ...`; FIGURE lines
 *   5. tear down (scanout off, cursor off, detach, unref; an unref of a
 *      resource that does not exist must come back as the named error)
 *
 * Knobs, read from RAM at GPU_KNOB_ADDR so a test sets them with
 * `-device loader,addr=...,data=...,data-len=4` (0 = default):
 *   +0  0x47505500 | mode: 1 SPIN, 2 WFI, 4 OS (the wait strategy used for
 *       everything after init); 0 or no magic: WFI for drawing, then the
 *       storm again under OS inside the scheduler
 *   +4  1: after each `... READY` line wait for a byte 'c' on the UART (the
 *       test takes a screendump meanwhile), at most HOLD_MAX_US
 *   +8  flushes in the storm (default 2000)
 *   +12 frames with full-frame flushes (default 60)
 * In OS mode a second task spins on memory without ever yielding, as a busy
 * program would, so the GPU task only gets the CPU through the scheduler.
 */
#include "board_api.h"
#include "sched.h"
/* The one translation unit with virtq's implementation; the board's shims
 * come from VIRTQ_CONFIG_FILE="virtq_board.h" (given to every file). */
#define VIRTQ_IMPLEMENTATION
#if defined(GPU_DEMO_MEMORY_SPIN)
/* Control experiment (make gpu-spin-control), never a way to drive a
 * device: in SPIN mode every wait polls the used ring from memory only,
 * with no device register read and no clock read in the loop.  If this
 * completes a flush storm, the emulator needs nothing from a spinning
 * guest to run its bottom halves (QEMU 7.2: it does complete; see the
 * README's gpu_demo section). */
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS | VIRTQ_WAIT_CUSTOM)
#define VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us)                                   \
    do {                                                                           \
        for (unsigned n_ = 0; n_ < 100000u && !virtq_has_used(vq); n_++)            \
            __asm__ volatile("" ::: "memory");                                    \
    } while (0)
#endif
#include "virtq.h"
#include "examples/drivers/virtio_gpu.h"
#include "board_virtio.h"

#include <stdio.h>

/* 112 MiB into RAM: above the image, below QEMU's DTB on every board. */
#define GPU_KNOB_ADDR (BOARD_RAM_BASE + 0x07000000u)
#define GPU_KNOB_MAGIC 0x47505500u
#define MODE_DEFAULT 0
#define MODE_SPIN VIRTQ_WAIT_SPIN
#define MODE_WFI VIRTQ_WAIT_WFI
#define MODE_OS VIRTQ_WAIT_OS

#define MAX_W 1920u
#define MAX_H 1200u
#define FB_RES 1u
#define CURSOR_RES 2u
#define BOGUS_RES 99u
#define BOX_SIZE 48u
#define HOLD_MAX_US 60000000u
#define STORM_DEFAULT 2000u
#define FULL_FRAMES_DEFAULT 60u
#define STACK_BYTES 16384

static uint32_t fb[MAX_W * MAX_H] __attribute__((aligned(4096)));
static uint32_t cursor_img[VIRTIO_GPU_CURSOR_SIZE * VIRTIO_GPU_CURSOR_SIZE]
    __attribute__((aligned(4096)));
static uint8_t ctrl_ring[VIRTIO_GPU_RING_BYTES] __attribute__((aligned(VIRTIO_GPU_RING_ALIGN)));
static uint8_t cursor_ring[VIRTIO_GPU_RING_BYTES] __attribute__((aligned(VIRTIO_GPU_RING_ALIGN)));
static uint8_t stacks[2][STACK_BYTES] __attribute__((aligned(16)));

static struct virtq_dev dev;
static struct virtio_gpu gpu;
static board_virtio_slot slot;
static uint32_t W, H;
static uint32_t mode, hold, storm_flushes, full_frames;
static uint32_t frame;          /* frames drawn so far */
static uint32_t flushes;        /* RESOURCE_FLUSH commands answered */
static volatile int load_stop;
static volatile uint64_t load_count;

extern char __end[];

/* ---- helpers ------------------------------------------------------------ */

static const char *mode_name(uint32_t m)
{
    switch (m) {
#if defined(GPU_DEMO_MEMORY_SPIN)
    case MODE_SPIN: return "memory-only spin (control)";
#else
    case MODE_SPIN: return "SPIN";
#endif
    case MODE_WFI: return "WFI";
    case MODE_OS: return "OS";
    default: return "WFI+OS";
    }
}

static void check(int rc, const char *what)
{
    if (rc != VIRTQ_OK)
        board_fail("%s: %s (%d) timeouts=%lu", what, virtio_gpu_strerror(rc), rc,
                   (unsigned long)gpu.stats.timeouts);
}

/* Sleep about us without holding the CPU: a task sleeps in the scheduler,
 * the boot context in wfi bounded by the alarm. */
static void pause_us(uint64_t us)
{
    if (sched_self() >= 0) {
        (void)sched_sleep_us(us);
        return;
    }
    uintptr_t s = board_irq_save();
    board_alarm_us(board_now_us() + us);
    board_wfi();
    board_irq_restore(s);
}

/* Let the host look at the screen: it sends 'c' when its screendump is
 * written.  Polls the UART every millisecond, sleeping in between, so QEMU's
 * main loop (which writes the screendump) is never crowded out. */
static void hold_for_host(void)
{
    uint64_t end = board_now_us() + HOLD_MAX_US;

    if (!hold)
        return;
    while (board_now_us() < end) {
        int c = board_uart_getc();
        if (c == 'c')
            return;
        pause_us(1000);
    }
    board_fail("no go-ahead from the host within %u s", HOLD_MAX_US / 1000000u);
}

/* ---- drawing ----------------------------------------------------------- */

/* 0x00RRGGBB in B8G8R8X8 memory order (bytes B, G, R, X). */
static const uint32_t bar_colour[8] = {
    0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
};
#define BOX_COLOUR 0xff8000u
#define BOX_EDGE 0x000000u
#define PANEL_BG 0x000040u
#define DIGIT_FG 0xffffffu

static uint32_t bars_h(void) { return H * 2u / 3u; }

/* The static scene: bars in the top two thirds, a grey ramp below. */
static uint32_t scene_pixel(uint32_t x, uint32_t y)
{
    if (y < bars_h())
        return bar_colour[x * 8u / W];
    return (x * 16u / W) * 17u * 0x010101u;
}

static void restore_rect(const struct virtio_gpu_rect *r)
{
    for (uint32_t y = r->y; y < r->y + r->height; y++)
        for (uint32_t x = r->x; x < r->x + r->width; x++)
            fb[y * W + x] = scene_pixel(x, y);
}

static void fill_rect(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t c)
{
    for (uint32_t y = y0; y < y0 + h; y++)
        for (uint32_t x = x0; x < x0 + w; x++)
            fb[y * W + x] = c;
}

/* The box: orange, 2-pixel black edge; moves inside the bars. */
static struct { uint32_t x, y; int dx, dy; } box;

static struct virtio_gpu_rect box_rect(void)
{
    struct virtio_gpu_rect r = {box.x, box.y, BOX_SIZE, BOX_SIZE};
    return r;
}

static void draw_box(void)
{
    fill_rect(box.x, box.y, BOX_SIZE, BOX_SIZE, BOX_EDGE);
    fill_rect(box.x + 2, box.y + 2, BOX_SIZE - 4, BOX_SIZE - 4, BOX_COLOUR);
}

static void move_box(void)
{
    int32_t x = (int32_t)box.x + box.dx, y = (int32_t)box.y + box.dy;
    int32_t xmax = (int32_t)(W - BOX_SIZE), ymax = (int32_t)(bars_h() - BOX_SIZE);

    if (x < 0 || x > xmax) {
        box.dx = -box.dx;
        x = (int32_t)box.x + box.dx;
    }
    if (y < 0 || y > ymax) {
        box.dy = -box.dy;
        y = (int32_t)box.y + box.dy;
    }
    box.x = (uint32_t)x;
    box.y = (uint32_t)y;
}

/* Frame counter: six digits, 5x7 font scaled 3x, on a dark panel in the
 * bottom-left corner of the ramp. */
static const uint8_t font[10][7] = {
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},
};
#define DIGITS 6u
#define SCALE 3u
#define PANEL_W (DIGITS * 6u * SCALE + 2u * SCALE)
#define PANEL_H (7u * SCALE + 2u * SCALE)

static struct virtio_gpu_rect panel_rect(void)
{
    struct virtio_gpu_rect r = {16, H - 16 - PANEL_H, PANEL_W, PANEL_H};
    return r;
}

static void draw_counter(uint32_t n)
{
    struct virtio_gpu_rect p = panel_rect();

    fill_rect(p.x, p.y, p.width, p.height, PANEL_BG);
    for (uint32_t i = 0; i < DIGITS; i++) {
        uint32_t d = n % 10u, x0 = p.x + SCALE + (DIGITS - 1u - i) * 6u * SCALE;
        n /= 10u;
        for (uint32_t row = 0; row < 7u; row++)
            for (uint32_t col = 0; col < 5u; col++)
                if (font[d][row] & (0x10u >> col))
                    fill_rect(x0 + col * SCALE, p.y + SCALE + row * SCALE, SCALE, SCALE,
                              DIGIT_FG);
    }
}

static struct virtio_gpu_rect rect_union(struct virtio_gpu_rect a, struct virtio_gpu_rect b)
{
    uint32_t x0 = a.x < b.x ? a.x : b.x, y0 = a.y < b.y ? a.y : b.y;
    uint32_t x1 = a.x + a.width > b.x + b.width ? a.x + a.width : b.x + b.width;
    uint32_t y1 = a.y + a.height > b.y + b.height ? a.y + a.height : b.y + b.height;
    struct virtio_gpu_rect r = {x0, y0, x1 - x0, y1 - y0};
    return r;
}

static void flush(const struct virtio_gpu_rect *r, const char *what)
{
    check(virtio_gpu_flush_rect(&gpu, FB_RES, r, W * 4u), what);
    flushes++;
}

/* One animation step; returns the damaged box area (old and new box). */
static struct virtio_gpu_rect step(void)
{
    struct virtio_gpu_rect old = box_rect();

    restore_rect(&old);
    move_box();
    draw_box();
    frame++;
    draw_counter(frame);
    return rect_union(old, box_rect());
}

static void report_ready(const char *what)
{
    board_printf("%s READY frame=%lu box=%lu,%lu,%u,%u res=%lux%lu\n", what,
                 (unsigned long)frame, (unsigned long)box.x, (unsigned long)box.y, BOX_SIZE,
                 BOX_SIZE, (unsigned long)W, (unsigned long)H);
}

/* ---- phases ------------------------------------------------------------- */

static void phase_pattern(void)
{
    struct virtio_gpu_rect full = {0, 0, W, H};

    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            fb[y * W + x] = scene_pixel(x, y);
    box.x = W / 2u - BOX_SIZE / 2u;
    box.y = bars_h() / 2u - BOX_SIZE / 2u;
    box.dx = 7;
    box.dy = 5;
    draw_box();
    draw_counter(frame);
    flush(&full, "pattern flush");
    report_ready("PATTERN");
    hold_for_host();
}

/* Full-frame flushes, every command fenced. */
static void phase_full(void)
{
    struct virtio_gpu_rect full = {0, 0, W, H};
    uint64_t fence0 = virtio_gpu_fence_done(&gpu); /* the cursor's three */
    uint64_t t0 = board_now_us(), dt;

    virtio_gpu_set_fence(&gpu, 1);
    for (uint32_t i = 0; i < full_frames; i++) {
        (void)step();
        flush(&full, "full-frame flush");
    }
    virtio_gpu_set_fence(&gpu, 0);
    dt = board_now_us() - t0;
    /* Two fenced commands (transfer, flush) per frame, answered in order. */
    if (virtio_gpu_fence_done(&gpu) != fence0 + 2u * full_frames)
        board_fail("fences: last answered %llu, want %llu",
                   (unsigned long long)virtio_gpu_fence_done(&gpu),
                   (unsigned long long)(fence0 + 2u * full_frames));
    board_figure("full_frame_fps", dt ? (long long)(full_frames * 1000000ull / dt) : 0, "fps");
    board_figure("full_frame_w", W, "px");
    board_figure("full_frame_h", H, "px");
}

/* The storm: damage rectangles only (box area and counter panel), one
 * transfer+flush each, until `count` flushes were answered.  FIGURE keys
 * start with prefix. */
static void figure2(const char *prefix, const char *key, long long value, const char *unit)
{
    char k[64];

    snprintf(k, sizeof(k), "%s%s", prefix, key);
    board_figure(k, value, unit);
}

static void phase_storm(uint32_t count, const char *prefix)
{
    uint32_t start = flushes, frames = 0;
    uint64_t t0 = board_now_us(), dt;

    while (flushes - start < count) {
        struct virtio_gpu_rect dmg = step(), p = panel_rect();
        flush(&dmg, "box flush");
        flush(&p, "counter flush");
        frames++;
    }
    dt = board_now_us() - t0;
    figure2(prefix, "small_rect_fps", dt ? (long long)(frames * 1000000ull / dt) : 0, "fps");
    figure2(prefix, "storm_flushes", flushes - start, "count");
    figure2(prefix, "storm_flushes_per_s",
            dt ? (long long)((flushes - start) * 1000000ull / dt) : 0, "flushes/s");
}

static void phase_render(void)
{
    phase_pattern();
    phase_full();
    phase_storm(storm_flushes, "");
    report_ready("FINAL");
    hold_for_host();
}

static void phase_teardown(void)
{
    struct virtio_gpu_rect none = {0, 0, 0, 0};
    int rc;

    /* An error response comes back as the error it names. */
    rc = virtio_gpu_resource_unref(&gpu, BOGUS_RES);
    if (rc != -VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID)
        board_fail("unref of resource %u: got %s (%d), want "
                   "VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID",
                   BOGUS_RES, virtio_gpu_strerror(rc), rc);
    board_printf("unref of unknown resource %u: %s (as expected)\n", BOGUS_RES,
                 virtio_gpu_strerror(rc));
    check(virtio_gpu_update_cursor(&gpu, 0, 0, 0, 0, 0, 0), "cursor off");
    check(virtio_gpu_set_scanout(&gpu, 0, 0, &none), "scanout off");
    check(virtio_gpu_detach_backing(&gpu, FB_RES), "detach fb");
    check(virtio_gpu_detach_backing(&gpu, CURSOR_RES), "detach cursor");
    check(virtio_gpu_resource_unref(&gpu, FB_RES), "unref fb");
    check(virtio_gpu_resource_unref(&gpu, CURSOR_RES), "unref cursor");
    if (gpu.stats.timeouts || gpu.stats.proto_errors || gpu.stats.late)
        board_fail("timeouts=%lu proto_errors=%lu late=%lu",
                   (unsigned long)gpu.stats.timeouts, (unsigned long)gpu.stats.proto_errors,
                   (unsigned long)gpu.stats.late);
    board_figure("commands", gpu.stats.commands, "count");
    board_figure("cursor_commands", gpu.stats.cursor_cmds, "count");
    board_figure("flushes", flushes, "count");
    board_figure("irqs", dev.irqs, "count");
    board_figure("timeouts", gpu.stats.timeouts, "count");
    board_pass();
}

/* ---- tasks (OS strategy) ------------------------------------------------- */

static void load_task(void *arg)
{
    (void)arg;
    while (!load_stop)
        load_count++; /* memory only, never yields: a busy program */
    sched_exit();
}

static void gpu_task(void *arg)
{
    (void)arg;
    /* Under the scheduler a task blocks on the channel, woken by the
     * interrupt handler (virtq_dev_isr), never wfi. */
    check(virtq_dev_set_wait(&dev, VIRTQ_WAIT_OS, &gpu), "set wait OS");
    if (mode == MODE_OS)
        phase_render();
    else
        phase_storm(storm_flushes, "os_");
    load_stop = 1;
    board_figure("load_loops_k", (long long)(load_count / 1000u), "count");
    phase_teardown();
}

/* ---- init and wiring ----------------------------------------------------- */

static void gpu_irq(void *ctx, int irq)
{
    (void)irq;
    (void)virtio_gpu_isr((struct virtio_gpu *)ctx);
}

static void read_knobs(void)
{
    volatile uint32_t *k = (volatile uint32_t *)(uintptr_t)GPU_KNOB_ADDR;

    if ((uintptr_t)__end > GPU_KNOB_ADDR)
        board_fail("image ends at %p, past the knob address 0x%x", (void *)__end,
                   GPU_KNOB_ADDR);
    mode = MODE_DEFAULT;
    if ((k[0] & 0xffffff00u) == GPU_KNOB_MAGIC) {
        mode = k[0] & 0xffu;
        hold = k[1];
        storm_flushes = k[2];
        full_frames = k[3];
    }
    if (mode != MODE_DEFAULT && mode != MODE_SPIN && mode != MODE_WFI && mode != MODE_OS)
        board_fail("bad mode knob %lu", (unsigned long)mode);
    if (storm_flushes == 0)
        storm_flushes = STORM_DEFAULT;
    if (full_frames == 0)
        full_frames = FULL_FRAMES_DEFAULT;
}

static void init_gpu(void)
{
    struct virtio_gpu_rect full, cur = {0, 0, VIRTIO_GPU_CURSOR_SIZE, VIRTIO_GPU_CURSOR_SIZE};
    char where[32];
    int rc;

    if (board_virtio_find(VIRTIO_ID_GPU, 0, &slot) != 0)
        board_fail("no virtio-gpu device (add -device virtio-gpu-device or virtio-gpu-pci)");
    if ((rc = board_virtio_probe(&dev, &slot)) != VIRTQ_OK)
        board_fail("probe: %s%s%s", virtq_strerror(rc), dev.why ? ": " : "",
                   dev.why ? dev.why : "");
#if defined(GPU_DEMO_MEMORY_SPIN)
    if (mode == MODE_SPIN)
        check(virtq_dev_set_wait(&dev, VIRTQ_WAIT_CUSTOM, NULL), "set wait memory-only spin");
#endif
    /* Waits spin until the interrupt is wired (virtq's default after probe). */
    check(virtio_gpu_init(&gpu, &dev, ctrl_ring, cursor_ring), "init");
    board_tag_dev(&dev);   /* transport= ring= mmio= as negotiated */
    board_printf("gpu: %s irq %d %s, features 0x%llx, %lu scanout(s)\n",
                 board_virtio_where(&slot, where, sizeof where), slot.irq,
                 board_virtio_iface(&dev), (unsigned long long)dev.features,
                 (unsigned long)gpu.num_scanouts);
    /* A display change may be pending from before we came (no interrupt
     * yet: the handler reads the config space itself). */
    rc = virtio_gpu_handle_events(&gpu);
    if (rc < 0)
        board_fail("display events: %s", virtio_gpu_strerror(rc));
    board_printf("gpu: display event %s\n", rc ? "handled" : "none pending");
    rc = virtio_gpu_display_size(&gpu, 0, &W, &H);
    if (rc != VIRTQ_OK)
        board_fail("scanout 0: %s", virtio_gpu_strerror(rc));
    board_printf("gpu: display 0 is %lux%lu\n", (unsigned long)W, (unsigned long)H);
    if (W > MAX_W || H > MAX_H) {
        board_printf("gpu: larger than the %ux%u framebuffer; using that\n", MAX_W, MAX_H);
        W = W > MAX_W ? MAX_W : W;
        H = H > MAX_H ? MAX_H : H;
    }
    if (W < 2u * BOX_SIZE || H < 4u * BOX_SIZE)
        board_fail("display %lux%lu too small", (unsigned long)W, (unsigned long)H);

    check(virtio_gpu_resource_create_2d(&gpu, FB_RES, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
          "create framebuffer");
    check(virtio_gpu_attach_backing_buf(&gpu, FB_RES, fb, W * H * 4u), "attach framebuffer");
    full.x = 0;
    full.y = 0;
    full.width = W;
    full.height = H;
    check(virtio_gpu_set_scanout(&gpu, 0, FB_RES, &full), "set scanout");

    /* Cursor: a white cross with a black outline, hot spot in the middle. */
    for (uint32_t y = 0; y < VIRTIO_GPU_CURSOR_SIZE; y++)
        for (uint32_t x = 0; x < VIRTIO_GPU_CURSOR_SIZE; x++) {
            uint32_t dx = x > 32 ? x - 32 : 32 - x, dy = y > 32 ? y - 32 : 32 - y;
            uint32_t c = 0; /* transparent */
            if ((dx <= 1 && dy <= 12) || (dy <= 1 && dx <= 12))
                c = 0xffffffffu;
            else if ((dx <= 2 && dy <= 13) || (dy <= 2 && dx <= 13))
                c = 0xff000000u;
            cursor_img[y * VIRTIO_GPU_CURSOR_SIZE + x] = c;
        }
    /* "Configure mouse cursor": the fill must have completed, which only a
     * fenced command guarantees (a device may answer before it is done). */
    virtio_gpu_set_fence(&gpu, 1);
    check(virtio_gpu_resource_create_2d(&gpu, CURSOR_RES, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
                                        VIRTIO_GPU_CURSOR_SIZE, VIRTIO_GPU_CURSOR_SIZE),
          "create cursor");
    check(virtio_gpu_attach_backing_buf(&gpu, CURSOR_RES, cursor_img, sizeof(cursor_img)),
          "attach cursor");
    check(virtio_gpu_transfer_to_host_2d(&gpu, CURSOR_RES, &cur, 0), "cursor transfer");
    virtio_gpu_set_fence(&gpu, 0);
    check(virtio_gpu_update_cursor(&gpu, 0, CURSOR_RES, 32, 32, W / 4u, H / 4u),
          "update cursor");
    for (uint32_t i = 1; i <= 8; i++)
        check(virtio_gpu_move_cursor(&gpu, 0, W / 4u + 8u * i, H / 4u + 4u * i), "move cursor");
}

/* Every device finished init: now route its interrupt (field notes 000/001:
 * a handler wired earlier could see an interrupt before DRIVER_OK). */
static void wire_irq(void)
{
    if (board_irq_register(slot.irq, gpu_irq, &gpu) != 0 || board_irq_enable(slot.irq) != 0)
        board_fail("cannot wire irq %d", slot.irq);
    board_interrupts_on();
    virtq_dev_irq_routed(&dev, 1);
}

int main(void)
{
    board_set_name("gpu_demo");
    read_knobs();
    board_printf("gpu_demo: wait strategy %s, storm %lu flushes, %lu full frames%s\n",
                 mode_name(mode), (unsigned long)storm_flushes, (unsigned long)full_frames,
                 hold ? ", holding for the host" : "");
    board_virtio_report();
    init_gpu();

    if (mode != MODE_SPIN)
        wire_irq();

    switch (mode) {
    case MODE_SPIN:
        phase_render();
        phase_teardown();
        break;
    case MODE_WFI:
        check(virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL), "set wait WFI");
        phase_render();
        phase_teardown();
        break;
    default: /* MODE_DEFAULT: draw under WFI, then the storm under OS */
        check(virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL), "set wait WFI");
        phase_render();
        /* fall through */
    case MODE_OS:
        if (sched_create(gpu_task, NULL, stacks[0], STACK_BYTES) < 0 ||
            sched_create(load_task, NULL, stacks[1], STACK_BYTES) < 0)
            board_fail("sched_create");
        sched_start();
    }
    return 0;
}
