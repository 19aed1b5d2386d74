/* SPDX-License-Identifier: MIT */
/* blk_demo: the virtio-blk driver on a board (examples/boards/) through all three of virtq's
 * wait strategies, each on the path where it belongs.
 *
 *   phase spin  early init, no interrupt configured: find the device, init
 *               the driver, capacity and serial, write a pattern as one
 *               multi-segment request, flush, read it back, a few QD1 reads.
 *   phase wfi   after every device finished init: the interrupt controller
 *               routes the blk IRQ, interrupts are on, waits sleep in wfi.
 *               Second pattern (32 requests in flight), then the
 *               measurements on the board's tick counter:
 *               sequential read with large requests (MiB/s), 4 KiB random
 *               reads at queue depth 1 and 32 (IOPS), kicks and interrupts
 *               per request.
 *   phase os    a preemptive round-robin scheduler on the board's tick: the
 *               blk task blocks in sched_wait_seq() on each request and the
 *               device interrupt wakes it, while a counter task keeps
 *               running.  Third pattern, every pattern re-verified.
 *
 * Output: `PATTERN blk_demo region=<phase> seed=0x.. sector=N count=M`
 * lines (the host re-derives the bytes and checks the disk image),
 * `FIGURE blk_demo <key>=<value> <unit>` lines, and a last line
 * `RESULT blk_demo PASS|FAIL ...`.
 *
 * Sizes: BLK_DEMO_QUICK=1 shrinks the measurements for the test matrix;
 * `make demo` runs the full ones.
 */
#include "board_api.h"
#include "sched.h"

/* The OS strategy's block, instrumented: still sched_wait_seq(), but it
 * counts the waits that really slept and whether the counter task ran
 * while they did.  (virtq_board.h leaves a hook defined here alone.) */
static int demo_os_wait(void *chan, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) \
    demo_os_wait((ctx), (seqptr), (seen), (timeout_us))

#define VIRTQ_IMPLEMENTATION
#include "virtq.h" /* with -DVIRTQ_CONFIG_FILE='"virtq_board.h"' */

#include "examples/drivers/virtio_blk.h"
#include "board_virtio.h"

#include <stdio.h>
#include <string.h>

#ifndef BLK_DEMO_QUICK
#define BLK_DEMO_QUICK 0
#endif
#if BLK_DEMO_QUICK
#define SEQ_MIB 8u
#define QD1_OPS 300u
#define QD32_OPS 1000u
#define SPIN_OPS 100u
#define OS_OPS 200u
#define OS_SEQ_MIB 8u
#else
#define SEQ_MIB 64u
#define QD1_OPS 2000u
#define QD32_OPS 8000u
#define SPIN_OPS 500u
#define OS_OPS 1000u
#define OS_SEQ_MIB 32u
#endif

#define NAME "blk_demo"
#define QUEUE_SIZE 256u      /* QEMU's default virtio-blk queue size */
#define NREQS 48u            /* 32 in flight for QD32, plus headroom */
#define QD 32u
#define IO_BYTES 4096u
#define SEQ_REQ_BYTES (4u << 20) /* fewer round trips: 4 MiB beat 1 MiB against U-Boot */
#define SEQ_DEPTH 4u
#define SEQ_SEGS 16u         /* 256 KiB pieces: a page-list style request */
#define OS_REQ_BYTES (1u << 20) /* the OS phase's blocking reads */
#define SEQ_ROUNDS 5u        /* warm sequential passes; the figure is their median */
#define PAT_SECTORS 256u     /* 128 KiB per pattern region */
#define PAT_SEGS 8u
#define WAIT_US 5000000u     /* bound for every wait in the demo */

enum { REGION_SPIN, REGION_WFI, REGION_OS, REGIONS };
static const char *const region_name[REGIONS] = {"spin", "wfi", "os"};
static const uint64_t region_sector[REGIONS] = {2048, 4096, 6144};

/* ---- device state (static: no malloc anywhere) -------------------------- */
static uint8_t ring[VIRTQ_RING_BYTES(QUEUE_SIZE, VIRTQ_ALIGN_LEGACY)]
    __attribute__((aligned(4096)));
static struct virtq_slot slots[QUEUE_SIZE];
static struct vblk_req reqs[NREQS];
static struct virtq_dev dev;
static struct vblk blk;
static board_virtio_slot slot;

static uint8_t seq_buf[SEQ_DEPTH][SEQ_REQ_BYTES] __attribute__((aligned(4096)));
static uint8_t io_buf[QD][IO_BYTES] __attribute__((aligned(4096)));
/* DMA buffers start and end on a cache line (VIRTQ_DMA_ALIGN): with
   non-coherent DMA a line shared with other data is not safe. */
static uint64_t pat_buf[PAT_SECTORS * 64u] __attribute__((aligned(VIRTQ_DMA_ALIGN)));
static uint64_t check_buf[PAT_SECTORS * 64u] __attribute__((aligned(VIRTQ_DMA_ALIGN)));
static uint64_t seed;
static int wrote[REGIONS];

/* ---- small helpers ------------------------------------------------------ */

static void fail_rc(const char *what, int rc)
{
    board_fail("%s: %s (%d)", what, vblk_strerror(rc), rc);
}

/* FIGURE with three decimals, from integers (num/den). */
static void figure_milli(const char *key, uint64_t num, uint64_t den, const char *unit)
{
    uint64_t v = den ? num * 1000u / den : 0;
    board_printf("FIGURE %s %s=%llu.%03llu %s\n", NAME, key, (unsigned long long)(v / 1000u),
                 (unsigned long long)(v % 1000u), unit);
}

static const char *wait_name(int w)
{
    switch (w) {
    case VIRTQ_WAIT_SPIN: return "SPIN";
    case VIRTQ_WAIT_WFI: return "WFI";
    case VIRTQ_WAIT_OS: return "OS";
    default: return "?";
    }
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* The pattern: 64-bit little-endian word k of sector s.  tests/blk/
 * check_image.py computes the same. */
static uint64_t pat_word(uint64_t rseed, uint64_t s, unsigned k)
{
    return mix64(rseed ^ (s * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)k * 0xbf58476d1ce4e5b9ull));
}

static uint64_t region_seed(int r) { return seed + (uint64_t)r; }

static void pat_fill(uint64_t *buf, int r)
{
    for (unsigned s = 0; s < PAT_SECTORS; s++)
        for (unsigned k = 0; k < 64; k++)
            buf[s * 64u + k] = pat_word(region_seed(r), region_sector[r] + s, k);
}

static void pat_verify(const uint64_t *buf, int r, const char *when)
{
    for (unsigned s = 0; s < PAT_SECTORS; s++)
        for (unsigned k = 0; k < 64; k++)
            if (buf[s * 64u + k] != pat_word(region_seed(r), region_sector[r] + s, k))
                board_fail("pattern %s: mismatch at sector %llu word %u (%s)", region_name[r],
                           (unsigned long long)(region_sector[r] + s), k, when);
}

static void pat_announce(int r)
{
    board_printf("PATTERN %s region=%s seed=0x%016llx sector=%llu count=%u\n", NAME,
                 region_name[r], (unsigned long long)region_seed(r),
                 (unsigned long long)region_sector[r], PAT_SECTORS);
}

/* A pseudo-random 4 KiB-aligned sector (and blk_size-aligned) inside the disk. */
static uint64_t rng_state;
static uint64_t random_sector(void)
{
    uint64_t blocks = blk.capacity / (IO_BYTES / VBLK_SECTOR);
    rng_state += 0x9e3779b97f4a7c15ull;
    return (mix64(rng_state) % blocks) * (IO_BYTES / VBLK_SECTOR);
}

/* Counters for one measured run. */
struct run {
    uint64_t t0, ticks;
    uint32_t kicks0, irqs0, kicks, irqs;
    uint32_t reqs;
};

static void run_begin(struct run *m)
{
    m->kicks0 = dev.notifies;
    m->irqs0 = dev.irqs;
    m->t0 = board_now_ticks();
}

static void run_end(struct run *m, uint32_t reqs)
{
    m->ticks = board_now_ticks() - m->t0;
    if (m->ticks == 0)
        m->ticks = 1;
    m->kicks = dev.notifies - m->kicks0;
    m->irqs = dev.irqs - m->irqs0;
    m->reqs = reqs;
}

static void run_figures(const char *prefix, const struct run *m)
{
    char key[48];
    snprintf(key, sizeof key, "%s_kicks_per_req", prefix);
    figure_milli(key, m->kicks, m->reqs, "count");
    snprintf(key, sizeof key, "%s_irqs_per_req", prefix);
    figure_milli(key, m->irqs, m->reqs, "count");
}

static void iops_figure(const char *key, const struct run *m)
{
    board_figure(key, (long long)((uint64_t)m->reqs * board_ticks_hz() / m->ticks), "IOPS");
}

/* ---- measurements (blocking and async) ----------------------------------- */

static void qd1_reads(uint32_t ops, struct run *m)
{
    run_begin(m);
    for (uint32_t i = 0; i < ops; i++) {
        int rc = vblk_read(&blk, random_sector(), io_buf[0], IO_BYTES);
        if (rc != VIRTQ_OK)
            fail_rc("qd1 read", rc);
    }
    run_end(m, ops);
}

/* Keep up to depth async requests in flight until ops completed.  Freed
 * buffer indices come back as tags; completions found together are
 * resubmitted as one batch with one kick. */
static void async_run(uint32_t ops, unsigned depth, uint32_t bytes, unsigned nseg,
                      uint8_t (*bufs)[SEQ_REQ_BYTES], int sequential, struct run *m)
{
    unsigned free_idx[QD], nfree = 0;
    uint32_t issued = 0, done = 0;
    uint64_t next_sector = 0;

    for (unsigned i = 0; i < depth; i++)
        free_idx[nfree++] = i;
    run_begin(m);
    while (done < ops) {
        int queued = 0;
        while (nfree > 0 && issued < ops) {
            unsigned b = free_idx[--nfree];
            uint8_t *base = bufs ? bufs[b] : io_buf[b];
            struct virtq_buf segs[SEQ_SEGS];
            uint64_t sector;
            for (unsigned s = 0; s < nseg; s++) {
                segs[s].addr = base + s * (bytes / nseg);
                segs[s].len = bytes / nseg;
            }
            if (sequential) {
                sector = next_sector;
                next_sector += bytes / VBLK_SECTOR;
            } else {
                sector = random_sector();
            }
            int rc = vblk_submit(&blk, VIRTIO_BLK_T_IN, sector, segs, nseg,
                                 (void *)(uintptr_t)(b + 1u), VBLK_NOKICK);
            if (rc != VIRTQ_OK)
                fail_rc("async submit", rc);
            issued++;
            queued++;
        }
        if (queued) {
            int rc = vblk_kick(&blk);
            if (rc != VIRTQ_OK)
                fail_rc("kick", rc);
        }
        void *tag;
        int result;
        int rc = vblk_complete(&blk, &tag, &result, WAIT_US);
        while (rc == VIRTQ_OK) {
            if (result != VIRTQ_OK)
                fail_rc("async read result", result);
            free_idx[nfree++] = (unsigned)((uintptr_t)tag - 1u);
            done++;
            rc = vblk_poll(&blk, &tag, &result);
        }
        if (rc != VIRTQ_EAGAIN)
            fail_rc("async complete", rc);
    }
    run_end(m, ops);
}

/* SEQ_ROUNDS sequential passes; the median pass's ticks (m: the last pass). */
static uint64_t median_ticks(uint32_t nreq, uint32_t bytes, unsigned nseg, struct run *m)
{
    uint64_t t[SEQ_ROUNDS];
    for (unsigned r = 0; r < SEQ_ROUNDS; r++) {
        async_run(nreq, SEQ_DEPTH, bytes, nseg, seq_buf, 1, m);
        unsigned i = r;
        for (; i > 0 && t[i - 1] > m->ticks; i--) /* insertion sort */
            t[i] = t[i - 1];
        t[i] = m->ticks;
    }
    return t[SEQ_ROUNDS / 2u];
}

/* ---- pattern regions ----------------------------------------------------- */

/* Spin phase: one request over PAT_SEGS segments whose buffers lie in
 * memory in reverse order, so a device that ignored segment order would
 * write the wrong bytes. */
static void pattern_spin(void)
{
    static uint64_t scattered[PAT_SECTORS * 64u] __attribute__((aligned(VIRTQ_DMA_ALIGN)));
    const unsigned seg_words = PAT_SECTORS * 64u / PAT_SEGS;
    struct virtq_buf segs[PAT_SEGS];
    int rc;

    pat_fill(pat_buf, REGION_SPIN);
    for (unsigned i = 0; i < PAT_SEGS; i++) {
        unsigned slot_i = PAT_SEGS - 1u - i;
        memcpy(&scattered[slot_i * seg_words], &pat_buf[i * seg_words], seg_words * 8u);
        segs[i].addr = &scattered[slot_i * seg_words];
        segs[i].len = seg_words * 8u;
    }
    pat_announce(REGION_SPIN);
    rc = vblk_request(&blk, VIRTIO_BLK_T_OUT, region_sector[REGION_SPIN], segs, PAT_SEGS);
    if (rc != VIRTQ_OK)
        fail_rc("multi-segment write", rc);
    rc = vblk_flush(&blk);
    if (rc != VIRTQ_OK)
        fail_rc("flush", rc);
    memset(check_buf, 0, sizeof check_buf);
    rc = vblk_read(&blk, region_sector[REGION_SPIN], check_buf, sizeof check_buf);
    if (rc != VIRTQ_OK)
        fail_rc("read back", rc);
    pat_verify(check_buf, REGION_SPIN, "spin read-back");
    wrote[REGION_SPIN] = 1;
    board_printf("blk: spin: wrote %u KiB as one %u-segment request (%s), flushed, "
                 "read back: ok\n", PAT_SECTORS / 2u, PAT_SEGS,
                 blk.indirect ? "indirect" : "direct chain");
}

/* Wfi phase: the region as 32 x 4 KiB writes in flight at once, one kick. */
static void pattern_wfi(void)
{
    const unsigned n = PAT_SECTORS * VBLK_SECTOR / IO_BYTES;
    const unsigned words = IO_BYTES / 8u;
    unsigned done = 0;
    void *tag;
    int result, rc;

    pat_fill(pat_buf, REGION_WFI);
    pat_announce(REGION_WFI);
    for (unsigned i = 0; i < n; i++) {
        struct virtq_buf seg = {&pat_buf[i * words], IO_BYTES};
        rc = vblk_submit(&blk, VIRTIO_BLK_T_OUT,
                         region_sector[REGION_WFI] + i * (IO_BYTES / VBLK_SECTOR), &seg, 1,
                         (void *)(uintptr_t)(i + 1u), VBLK_NOKICK);
        if (rc != VIRTQ_OK)
            fail_rc("async write submit", rc);
    }
    if ((rc = vblk_kick(&blk)) != VIRTQ_OK)
        fail_rc("kick", rc);
    while (done < n) {
        rc = vblk_complete(&blk, &tag, &result, WAIT_US);
        if (rc != VIRTQ_OK)
            fail_rc("async write complete", rc);
        if (result != VIRTQ_OK)
            fail_rc("async write result", result);
        done++;
    }
    if ((rc = vblk_flush(&blk)) != VIRTQ_OK)
        fail_rc("flush", rc);
    memset(check_buf, 0, sizeof check_buf);
    if ((rc = vblk_read(&blk, region_sector[REGION_WFI], check_buf, sizeof check_buf)) != 0)
        fail_rc("read back", rc);
    pat_verify(check_buf, REGION_WFI, "wfi read-back");
    wrote[REGION_WFI] = 1;
    board_printf("blk: wfi: wrote %u KiB as %u requests in flight at once, flushed, "
                 "read back: ok\n", PAT_SECTORS / 2u, n);
}

/* A write to a read-only disk must fail at once, not hang. */
static void readonly_checks(void)
{
    struct virtq_buf seg = {io_buf[0], IO_BYTES};
    int rc = vblk_write(&blk, 0, io_buf[0], IO_BYTES);
    if (rc != VBLK_EROFS)
        board_fail("write to a read-only disk returned %d, want VBLK_EROFS", rc);
    rc = vblk_submit(&blk, VIRTIO_BLK_T_OUT, 0, &seg, 1, NULL, 0);
    if (rc != VBLK_EROFS)
        board_fail("async write to a read-only disk returned %d, want VBLK_EROFS", rc);
    board_printf("blk: read-only: writes refused with \"%s\", as they must be\n",
                 vblk_strerror(rc));
}

static void reverify(int r, const char *when)
{
    int rc;
    if (!wrote[r])
        return;
    memset(check_buf, 0, sizeof check_buf);
    rc = vblk_read(&blk, region_sector[r], check_buf, sizeof check_buf);
    if (rc != VIRTQ_OK)
        fail_rc("re-verify read", rc);
    pat_verify(check_buf, r, when);
}

static void print_serial(void)
{
    char id[VBLK_ID_BYTES + 1];
    int rc = vblk_get_id(&blk, id);
    if (rc != VIRTQ_OK)
        fail_rc("GET_ID", rc);
    board_printf("blk: serial=\"%s\"\n", id);
}

/* ---- phase 1: spin --------------------------------------------------------- */

static void phase_spin(void)
{
    char where[32];
    struct run m;
    int rc;

    board_printf("blk_demo: phase=spin: early init, no interrupt configured\n");
    if (board_virtio_find(VIRTIO_ID_BLOCK, 0, &slot) != 0)
        board_fail("no virtio-blk device (virtio-mmio slots, PCI bus 0)");
    rc = board_virtio_probe(&dev, &slot);
    if (rc != VIRTQ_OK)
        board_fail("probe: %s%s%s", virtq_strerror(rc), dev.why ? ": " : "",
                   dev.why ? dev.why : "");
    if ((rc = virtq_dev_set_wait(&dev, VIRTQ_WAIT_SPIN, NULL)) != VIRTQ_OK)
        fail_rc("set_wait spin", rc);
    board_printf("blk: %s irq %d, %s\n", board_virtio_where(&slot, where, sizeof where),
                 slot.irq, board_virtio_iface(&dev));

    struct vblk_params p = {ring, sizeof ring, slots, QUEUE_SIZE, reqs, NREQS, 0, WAIT_US};
    rc = vblk_init(&blk, &dev, &p);
    if (rc != VIRTQ_OK)
        fail_rc("vblk_init", rc);
    board_tag_dev(&dev);   /* transport= ring= mmio= as negotiated */
    board_printf("blk: features offered 0x%llx, negotiated 0x%llx: indirect=%d event_idx=%d "
                 "flush=%d ro=%d\n", (unsigned long long)dev.device_features,
                 (unsigned long long)dev.features, blk.indirect,
                 (dev.features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX)) != 0, blk.has_flush,
                 blk.read_only);
    board_printf("blk: capacity=%llu sectors (%llu MiB) blk_size=%lu seg_max=%lu "
                 "size_max=%lu queue=%u max_transfer=%lu\n",
                 (unsigned long long)blk.capacity, (unsigned long long)(blk.capacity / 2048u),
                 (unsigned long)blk.blk_size, (unsigned long)blk.seg_max,
                 (unsigned long)blk.size_max, (unsigned)blk.vq.num,
                 (unsigned long)blk.max_transfer);
    board_figure("capacity", (long long)blk.capacity, "sectors");
    if (blk.capacity < region_sector[REGION_OS] + PAT_SECTORS)
        board_fail("disk too small: %llu sectors", (unsigned long long)blk.capacity);
    print_serial();

    if (blk.read_only)
        readonly_checks();
    else
        pattern_spin();

    qd1_reads(SPIN_OPS, &m);
    board_printf("blk: spin: wait=%s, %u QD1 reads\n", wait_name(dev.wait), SPIN_OPS);
    iops_figure("spin_qd1", &m);
    run_figures("spin_qd1", &m);
    /* Nothing was routed: no interrupt can have been taken. */
    if (dev.irqs != 0)
        board_fail("spin phase took %lu device interrupts", (unsigned long)dev.irqs);
}

/* ---- phase 2: wfi ------------------------------------------------------------ */

static void blk_isr(void *ctx, int irq)
{
    (void)irq;
    (void)virtq_dev_isr((struct virtq_dev *)ctx);
}

static void phase_wfi(void)
{
    struct run m;
    uint32_t irqs0;
    int rc;

    /* Every device finished init (DRIVER_OK) above; only now is the
     * interrupt wired: handler, controller source, core, then tell virtq. */
    if (board_irq_register(slot.irq, blk_isr, &dev) != 0 || board_irq_enable(slot.irq) != 0)
        board_fail("cannot wire irq %d", slot.irq);
    board_interrupts_on();
    virtq_dev_irq_routed(&dev, 1);
    if ((rc = virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL)) != VIRTQ_OK)
        fail_rc("set_wait wfi", rc);
    board_printf("blk_demo: phase=wfi: irq %d routed, interrupts on, wait=%s\n", slot.irq,
                 wait_name(dev.wait));
    irqs0 = dev.irqs;

    if (!blk.read_only)
        pattern_wfi();
    reverify(REGION_SPIN, "wfi");

    /* Sequential read with large requests. */
    uint32_t seq_bytes = SEQ_REQ_BYTES;
    unsigned nseg = SEQ_SEGS;
    if (seq_bytes > blk.max_transfer)
        seq_bytes = blk.max_transfer - blk.max_transfer % IO_BYTES;
    /* Fewer, larger segments if seg_max/size_max want it. */
    while (nseg > 1 && nseg * ((seq_bytes / nseg + blk.seg_bytes - 1) / blk.seg_bytes) >
                           blk.max_segs)
        nseg /= 2;
    uint64_t total = (uint64_t)SEQ_MIB << 20;
    if (total > blk.capacity * VBLK_SECTOR)
        total = blk.capacity * VBLK_SECTOR;
    uint32_t nreq = (uint32_t)(total / seq_bytes);
    /* The first pass over a fresh image also measures the host filling
     * its page cache; then SEQ_ROUNDS warm passes, and seq_read is their
     * median, as bench-uboot takes the median of U-Boot's warm rounds. */
    async_run(nreq, SEQ_DEPTH, seq_bytes, nseg, seq_buf, 1, &m);
    board_printf("blk: wfi: sequential read %llu MiB in %lu KiB requests of %u segments, "
                 "%u in flight: once cold, then %u times with a warm host cache\n",
                 (unsigned long long)(((uint64_t)nreq * seq_bytes) >> 20),
                 (unsigned long)(seq_bytes / 1024u), nseg, SEQ_DEPTH, SEQ_ROUNDS);
    figure_milli("seq_read_cold", (uint64_t)nreq * seq_bytes * board_ticks_hz(),
                 m.ticks << 20, "MiB/s");
    figure_milli("seq_read", (uint64_t)nreq * seq_bytes * board_ticks_hz(),
                 median_ticks(nreq, seq_bytes, nseg, &m) << 20, "MiB/s");
    run_figures("seq", &m);

    qd1_reads(QD1_OPS, &m);
    board_printf("blk: wfi: %u random 4 KiB reads at QD1\n", QD1_OPS);
    iops_figure("qd1", &m);
    run_figures("qd1", &m);

    async_run(QD32_OPS, QD, IO_BYTES, 1, NULL, 0, &m);
    board_printf("blk: wfi: %u random 4 KiB reads at QD32\n", QD32_OPS);
    iops_figure("qd32", &m);
    run_figures("qd32", &m);

    if (dev.irqs == irqs0)
        board_fail("wfi phase: no device interrupt was taken");
    board_figure("wfi_irqs", dev.irqs - irqs0, "count");
}

/* ---- phase 2b: queue reset (VIRTIO_F_RING_RESET; QEMU offers it over PCI) ---- */

/* "Virtqueue Reset" on the running device, then reads on the queue set up
 * again on the same memory, without a device re-init.  The queue is idle
 * at the reset: QEMU 7.2's virtio-blk has no per-queue reset handler, so a
 * read still in its AIO when the queue is reset completes into the
 * re-enabled ring afterwards (virtq then latches the queue broken: an id
 * not in flight).  Requests in flight across a reset, each handed back
 * exactly once, are tested against the fake device (tests/blk). */
static void phase_ring_reset(void)
{
    struct run m;
    int rc;

    if (!(dev.features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET))) {
        board_printf("blk_demo: phase=ring_reset: not negotiated (never on virtio-mmio)\n");
        return;
    }
    qd1_reads(QD, &m);   /* the queue was just busy; now it is idle */
    if (vblk_pending(&blk) != 0)
        board_fail("ring_reset: %u requests pending before the reset", vblk_pending(&blk));
    if ((rc = vblk_queue_reset(&blk)) != VIRTQ_OK)
        fail_rc("queue reset", rc);
    reverify(REGION_SPIN, "ring_reset");
    qd1_reads(QD, &m);
    board_printf("blk: ring_reset: queue 0 reset and set up again, %u reads and the "
                 "spin region re-read after it: ok\n", (unsigned)QD);
    board_figure("ring_resets", 1, "count");
}

/* ---- phase 3: os (scheduler) ---------------------------------------------------- */

static uint8_t blk_stack[16384] __attribute__((aligned(16)));
static uint8_t count_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t counter;
static int os_chan; /* the channel blk tasks block on */

static uint32_t os_blocks;          /* waits that slept until a wake-up */
static uint32_t os_blocks_counted;  /* ... during which the counter advanced */
static uint32_t os_wait_timeouts;

static int demo_os_wait(void *chan, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    uint64_t c0 = counter;
    int r = sched_wait_seq(chan, seq, seen, timeout_us);
    if (r == SCHED_OK) {
        os_blocks++;
        os_blocks_counted += counter != c0;
    } else if (r == SCHED_ETIMEDOUT) {
        os_wait_timeouts++;
    }
    return r;
}

static void counter_task(void *arg)
{
    (void)arg;
    for (;;)
        counter++; /* never yields: only the tick and the blk IRQ preempt it */
}

static void blk_task(void *arg)
{
    uint32_t irqs0 = dev.irqs;
    sched_stats s0, s1;
    struct run m;
    int rc;

    (void)arg;
    sched_get_stats(&s0);
    board_printf("blk_demo: phase=os: scheduler running (tick %u us), task %d, wait=%s\n",
                 SCHED_TICK_US, sched_self(), wait_name(dev.wait));
    /* Issued after the timer and the scheduler run: must complete. */
    print_serial();
    if (!blk.read_only) {
        pat_fill(pat_buf, REGION_OS);
        pat_announce(REGION_OS);
        if ((rc = vblk_write(&blk, region_sector[REGION_OS], pat_buf, sizeof pat_buf)) != 0)
            fail_rc("os write", rc);
        if ((rc = vblk_flush(&blk)) != VIRTQ_OK)
            fail_rc("os flush", rc);
        wrote[REGION_OS] = 1;
    } else {
        readonly_checks();
    }
    for (int r = 0; r < REGIONS; r++)
        reverify(r, "os");

    run_begin(&m);
    for (uint32_t i = 0; i < OS_OPS; i++) {
        rc = vblk_read(&blk, random_sector(), io_buf[0], IO_BYTES);
        if (rc != VIRTQ_OK)
            fail_rc("os read", rc);
    }
    run_end(&m, OS_OPS);
    board_printf("blk: os: %u blocking random 4 KiB reads\n", OS_OPS);
    iops_figure("os_qd1", &m);
    run_figures("os_qd1", &m);

    /* Large blocking reads: each takes long enough that the counter task
     * gets the CPU while the blk task sleeps. */
    run_begin(&m);
    for (uint32_t i = 0; i < OS_SEQ_MIB; i++) {
        rc = vblk_read(&blk, (uint64_t)i * (OS_REQ_BYTES / VBLK_SECTOR), seq_buf[0],
                       OS_REQ_BYTES);
        if (rc != VIRTQ_OK)
            fail_rc("os 1 MiB read", rc);
    }
    run_end(&m, OS_SEQ_MIB);
    board_printf("blk: os: %u blocking 1 MiB reads\n", OS_SEQ_MIB);
    figure_milli("os_seq_read", (uint64_t)OS_SEQ_MIB * board_ticks_hz(), m.ticks, "MiB/s");

    sched_get_stats(&s1);
    board_printf("blk: os: in this phase the blk task slept %lu times until the device "
                 "interrupt woke it, and the counter task ran during %lu of those sleeps "
                 "(counter=%llu)\n", (unsigned long)os_blocks,
                 (unsigned long)os_blocks_counted, (unsigned long long)counter);
    board_figure("os_blocks", os_blocks, "count");
    board_figure("os_blocks_other_task_ran", os_blocks_counted, "count");
    board_figure("os_task_wakes", s1.wakes - s0.wakes, "count");
    board_figure("os_ctx_switches", s1.switches - s0.switches, "count");
    if (dev.irqs == irqs0)
        board_fail("os phase: no device interrupt was taken");
    if (os_blocks == 0 || s1.wakes == s0.wakes)
        board_fail("os phase: the device interrupt never woke a blocked task");
    if (os_blocks_counted == 0)
        board_fail("os phase: the counter task never ran while the blk task was blocked");
    if (os_wait_timeouts != 0)
        board_fail("os phase: %lu waits timed out", (unsigned long)os_wait_timeouts);
    if (blk.stats.timeouts != 0)
        board_fail("%lu blocking calls timed out", (unsigned long)blk.stats.timeouts);
    board_figure("requests", blk.stats.submitted, "count");
    board_figure("indirect_requests", blk.stats.indirect, "count");
    board_pass();
}

static void phase_os(void)
{
    int rc = virtq_dev_set_wait(&dev, VIRTQ_WAIT_OS, &os_chan);
    if (rc != VIRTQ_OK)
        fail_rc("set_wait os", rc);
    if (sched_create(blk_task, NULL, blk_stack, sizeof blk_stack) < 0 ||
        sched_create(counter_task, NULL, count_stack, sizeof count_stack) < 0)
        board_fail("sched_create failed");
    sched_start();
}

int main(void)
{
    board_set_name(NAME);
    board_printf("virtq blk_demo on %s%s\n", board_platform(),
                 BLK_DEMO_QUICK ? " [quick sizes]" : "");
    seed = mix64(board_now_ticks() ^ 0x5eed5eed5eedull);
    rng_state = seed;
    phase_spin();
    phase_wfi();
    phase_ring_reset();
    phase_os();
}
