/* SPDX-License-Identifier: MIT */
/* fuzz_mmio.c - libFuzzer target: the virtio-mmio transport and device
 * status machine against a register file that answers with fuzzer bytes.
 *
 * VIRTQ_MMIO_READ8/16/32 and VIRTQ_MMIO_WRITE8/16/32 are defined before
 * virtq.h is included, so every register access lands in fz_read() /
 * fz_write() below.  The register file plays a device whose behaviour the
 * input chooses: bad magic, any version and device id, any offered
 * features, QueueNumMax 0 / huge / odd, QueueReady that does not stick or
 * is already set, ConfigGeneration that flaps, a status that refuses
 * FEATURES_OK, resets slowly or never, shows NEEDS_RESET at any time or
 * reads as garbage, InterruptStatus garbage, and a device that completes
 * (honestly or not) the requests the driver kicks.
 *
 * The driver runs probe -> begin -> negotiate -> queue_setup -> driver_ok
 * (sometimes out of order, which must be refused), then config reads of
 * every width, config writes, adds and kicks, bounded virtq_wait() (SPIN,
 * VIRTQ_SPINS_PER_US 1), get, isr and check, and finally reset + detach.
 *
 * Oracles (abort with a message on failure):
 *   - each call returns a documented code, and the one the register values
 *     it saw imply (probe's ENODEV/ENOTSUP, begin's ETIMEDOUT, negotiate's
 *     ENOTSUP/EIO, queue_setup's EINVAL/EBUSY/ENODEV/EIO, config EINVAL/EIO);
 *   - on success the values are sane: features a subset of those offered and
 *     of wanted|required(|VERSION_1); queue size a power of two no larger than
 *     QueueNumMax, the size asked for (so within the ring memory given) and
 *     32768; queue addresses inside that memory;
 *   - status writes only add one bit at a time and follow "Device
 *     Initialization": ACKNOWLEDGE, DRIVER, features, FEATURES_OK (modern),
 *     queue registers, DRIVER_OK; no notification before DRIVER_OK;
 *     refused calls write no register;
 *   - config reads return the bytes of one stable generation;
 *   - every register access is in the register window and aligned; the
 *     number of accesses per input is bounded (no unbounded loop);
 *   - every cookie comes back at most once, and after reset + detach
 *     exactly once.
 *
 * Input: a fixed header (see struct profile / read_profile()), then a
 * script of driver operations; when the device needs a dynamic choice
 * (flapping generation, NEEDS_RESET, garbage) it takes the next input
 * byte too.  Reads past the end give 0, which always means "behave".
 */
#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Features virtq never negotiates over virtio-mmio in this build. */
#define MMIO_UNSUPPORTED \
    (VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) | VIRTQ_FEATURE(VIRTIO_F_RING_RESET))

static uint32_t fz_read(uintptr_t a, unsigned width);
static void fz_write(uintptr_t a, uint32_t v, unsigned width);
static uint64_t fz_dma(const void *p);

#define VIRTQ_MMIO_READ8(a) ((uint8_t)fz_read((a), 1))
#define VIRTQ_MMIO_READ16(a) ((uint16_t)fz_read((a), 2))
#define VIRTQ_MMIO_READ32(a) fz_read((a), 4)
#define VIRTQ_MMIO_WRITE8(a, v) fz_write((a), (uint8_t)(v), 1)
#define VIRTQ_MMIO_WRITE16(a, v) fz_write((a), (uint16_t)(v), 2)
#define VIRTQ_MMIO_WRITE32(a, v) fz_write((a), (uint32_t)(v), 4)
/* Legacy QueuePFN is 32 bits: give the ring a low bus address. */
#define VIRTQ_VIRT_TO_DMA(p) fz_dma(p)
#define VIRTQ_SPINS_PER_US 1u
#define VIRTQ_RESET_POLLS 200u
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
#define VQ_TEST_NAME "fuzz_mmio"
#include "../common/vq_test.h"

/* InterruptStatus bits the spec defines ("MMIO Device Register Layout"). */
#define INT_DEFINED (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)


#define BASE ((uintptr_t)0x0a000000u)
#define DMA_BASE 0x10000000u
#define MAX_ACCESSES 4000000u
#define NQ 4u
#define MAXREQ 512u

/* Status behaviours. */
#define S_REFUSE_FOK 1u   /* clears FEATURES_OK */
#define S_NEVER_RESET 2u  /* a write of 0 is ignored */
#define S_SLOW_RESET 4u   /* reads old status for a while after reset */
#define S_NEEDS_RESET 8u  /* may set NEEDS_RESET on any status read */
#define S_GARBAGE 16u     /* status reads may return any byte */
/* Generation behaviours. */
enum { G_STABLE, G_FLAP, G_GARBAGE };
/* QueueReady behaviours. */
enum { Q_STICKS, Q_NEVER, Q_LIVE, Q_GARBAGE };

struct input {
    const uint8_t *p;
    size_t n;
};

static struct input in;

static uint8_t u8(void)
{
    if (in.n == 0)
        return 0;
    in.n--;
    return *in.p++;
}
static uint16_t u16(void)
{
    uint16_t lo = u8();
    return (uint16_t)(lo | (uint16_t)(u8() << 8));
}
static uint32_t u32(void)
{
    uint32_t lo = u16();
    return lo | ((uint32_t)u16() << 16);
}
static uint64_t u64(void)
{
    uint64_t lo = u32();
    return lo | ((uint64_t)u32() << 32);
}

/* ---- the register file ---------------------------------------------------- */

static struct regs {
    /* profile */
    uint32_t magic, version, device_id, vendor;
    uint64_t offered;
    uint32_t qmax[NQ];
    uint8_t status_mode, gen_mode, ready_mode, int_garbage, completes, boot_status;
    uint8_t cfg[32];
    uint32_t slow_reads;
    /* state */
    uint32_t status, reset_pending, dfsel, drvsel, qsel, gen, int_status;
    uint64_t drv_features;
    int drv_features_written[2];
    struct {
        uint32_t num, ready, pfn, align, page;
        uint32_t desc[2], driver[2], device[2];
    } q[NQ];
    /* driver-side observations for the oracles */
    unsigned accesses, writes;
    uint32_t last_status_read, fok_reread;
    int fok_pending;
    int saw_bad_status;
    uint32_t intent; /* status bits the driver added since the last reset */
    int fok_before_queue, queue_regs_written, driver_ok_written;
    uint32_t last_int_read, last_qmax_read, last_ready_read;
    unsigned notifies, int_reads;
    uint32_t last_notify;
    /* the device's view of queue 0 once live */
    uint8_t *ring;
    size_t ring_bytes;
    uint16_t dev_avail, dev_used;
} R;

/* Garbage status reads hide from us what the driver believes it set, so
   the initialization-order oracles only hold for other devices. */
static int strict(void) { return !(R.status_mode & S_GARBAGE); }

static uint8_t *dma_base_ptr; /* host address that DMA_BASE stands for */

static uint64_t fz_dma(const void *p)
{
    return (uint64_t)((uintptr_t)p - (uintptr_t)dma_base_ptr) + DMA_BASE;
}

static uint8_t cfg_byte(uint32_t off, uint32_t gen)
{
    return (uint8_t)(R.cfg[off & 31u] ^ (uint8_t)(gen * 0x9du) ^ (uint8_t)(off >> 5));
}

static void device_reset(void)
{
    unsigned i;
    R.status = 0;
    R.intent = 0;
    R.drv_features = 0;
    R.drv_features_written[0] = R.drv_features_written[1] = 0;
    R.int_status = 0;
    R.fok_before_queue = R.queue_regs_written = R.driver_ok_written = 0;
    for (i = 0; i < NQ; i++) {
        R.q[i].ready = R.ready_mode == Q_LIVE ? 1u : 0u;
        R.q[i].pfn = R.ready_mode == Q_LIVE ? 1u : 0u;
        R.q[i].num = 0;
    }
    R.dev_avail = R.dev_used = 0;
}

/* The driver's queue 0 as the device sees it (NULL until set up). */
static struct virtq *live_vq;

/* The device uses one published buffer: honestly, or with a bad element. */
static void device_complete(int hostile)
{
    struct virtq *vq = live_vq;
    uint16_t head;
    if (vq == NULL || !R.driver_ok_written)
        return;
    if (hostile) {
        vq->used->ring[u8() & vq->mask].id = u32();
        vq->used->ring[u8() & vq->mask].len = u32();
        vq->used->idx = (uint16_t)(vq->used->idx + (u8() & 3u));
        R.int_status |= VIRTIO_MMIO_INT_VRING;
        return;
    }
    if (R.dev_avail == vq->avail->idx)
        return;
    head = vq->avail->ring[R.dev_avail & vq->mask];
    R.dev_avail++;
    vq->used->ring[R.dev_used & vq->mask].id = head;
    vq->used->ring[R.dev_used & vq->mask].len = 0;
    R.dev_used++;
    vq->used->idx = R.dev_used;
    R.int_status |= VIRTIO_MMIO_INT_VRING;
}

static uint32_t status_read(void)
{
    uint32_t v;
    if (R.reset_pending) {
        if (R.reset_pending > 1u) {
            R.reset_pending--;
            return R.status; /* still resetting */
        }
        R.reset_pending = 0;
        device_reset();
    }
    /* NEEDS_RESET only on a device in use: after a reset, status reads 0. */
    if ((R.status_mode & S_NEEDS_RESET) && R.status != 0u && u8() == 0x40u)
        R.status |= VIRTIO_STATUS_NEEDS_RESET;
    v = R.status;
    if ((R.status_mode & S_GARBAGE) && (u8() & 0x0fu) == 0x0fu)
        v = u8();
    if (v & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
        R.saw_bad_status = 1;
    if (R.fok_pending) {
        R.fok_reread = v; /* the read-back that decides negotiate's result */
        R.fok_pending = 0;
    }
    R.last_status_read = v;
    return v;
}

static uint32_t fz_read(uintptr_t a, unsigned width)
{
    uint32_t off = (uint32_t)(a - BASE), v = 0, i;
    CHECK(a >= BASE && a - BASE < 0x1000u, "read outside the register window (%#lx)",
          (unsigned long)a);
    CHECK((off & (width - 1u)) == 0u, "unaligned %u-byte read at %#x", width, off);
    CHECK(++R.accesses < MAX_ACCESSES, "unbounded register access loop");
    if (off >= VIRTIO_MMIO_CONFIG) {
        uint32_t gen = R.gen;
        for (i = 0; i < width; i++)
            v |= (uint32_t)cfg_byte(off - VIRTIO_MMIO_CONFIG + i, gen) << (8u * i);
        return v;
    }
    CHECK(width == 4u, "%u-byte read of register %#x", width, off);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return R.magic;
    case VIRTIO_MMIO_VERSION: return R.version;
    case VIRTIO_MMIO_DEVICE_ID: return R.device_id;
    case VIRTIO_MMIO_VENDOR_ID: return R.vendor;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return R.dfsel == 0u ? (uint32_t)R.offered
               : R.dfsel == 1u ? (uint32_t)(R.offered >> 32) : 0u;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        R.last_qmax_read = R.qsel < NQ ? R.qmax[R.qsel] : 0u;
        return R.last_qmax_read;
    case VIRTIO_MMIO_QUEUE_READY:
        if (R.qsel >= NQ || R.ready_mode == Q_NEVER)
            v = 0;
        else if (R.ready_mode == Q_GARBAGE)
            v = u8() & 1u ? R.q[R.qsel].ready : u32();
        else
            v = R.q[R.qsel].ready;
        R.last_ready_read = v;
        return v;
    case VIRTIO_MMIO_QUEUE_PFN: return R.qsel < NQ ? R.q[R.qsel].pfn : 0u;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        if (R.completes) {
            uint8_t b = u8();
            if (b & 1u)
                device_complete(0);
            else if (b == 0xfeu)
                device_complete(1);
        }
        v = R.int_status;
        if (R.int_garbage)
            v = u32();
        R.last_int_read = v;
        R.int_reads++;
        return v;
    case VIRTIO_MMIO_STATUS: return status_read();
    case VIRTIO_MMIO_CONFIG_GENERATION:
        CHECK(R.version != 1u, "legacy device asked for ConfigGeneration");
        if (R.gen_mode == G_FLAP && (u8() & 1u))
            R.gen++;
        else if (R.gen_mode == G_GARBAGE)
            R.gen = u32();
        return R.gen;
    default:
        FAIL("read of write-only or unknown register %#x", off);
    }
    return 0;
}

static void status_write(uint32_t v)
{
    if (v == 0u) {
        if (R.status_mode & S_NEVER_RESET)
            return; /* ignored: reads stay non-zero */
        /* A slow reset keeps reading the old (non-zero) status a while. */
        R.reset_pending = (R.status_mode & S_SLOW_RESET) && R.status != 0u ? R.slow_reads + 1u : 1u;
        return;
    }
    if (v & VIRTIO_STATUS_FEATURES_OK)
        R.fok_pending = 1; /* the next read is negotiate's read-back */
    {
        /* virtq__add_status: read, OR one bit, write back. */
        uint32_t added = v & ~R.last_status_read;
        CHECK((v & R.last_status_read) == R.last_status_read, "status write %#x clears bits of %#x",
              v, R.last_status_read);
        CHECK(added == 0u || (added & (added - 1u)) == 0u, "status write %#x adds several bits to %#x",
              v, R.last_status_read);
        switch (added) {
        case 0: break;
        case VIRTIO_STATUS_ACKNOWLEDGE: break;
        case VIRTIO_STATUS_DRIVER:
            if (R.status_mode & S_GARBAGE)
                break;
            CHECK(R.intent & VIRTIO_STATUS_ACKNOWLEDGE, "DRIVER before ACKNOWLEDGE");
            break;
        case VIRTIO_STATUS_FEATURES_OK:
            if (R.status_mode & S_GARBAGE)
                break; /* garbage reads make the driver's view unknowable */
            CHECK(R.version != 1u, "FEATURES_OK written to a legacy device");
            CHECK(R.intent & VIRTIO_STATUS_DRIVER, "FEATURES_OK before DRIVER");
            CHECK(R.drv_features_written[0] && R.drv_features_written[1],
                  "FEATURES_OK before the driver features were written");
            break;
        case VIRTIO_STATUS_DRIVER_OK:
            R.driver_ok_written = 1;
            if (R.status_mode & S_GARBAGE)
                break;
            CHECK(R.intent & VIRTIO_STATUS_DRIVER, "DRIVER_OK before DRIVER");
            CHECK(R.drv_features_written[0] && R.drv_features_written[1],
                  "DRIVER_OK before the features were written");
            CHECK(R.version == 1u || (R.intent & VIRTIO_STATUS_FEATURES_OK),
                  "DRIVER_OK without FEATURES_OK");
            break;
        case VIRTIO_STATUS_FAILED: break;
        default: FAIL("status write %#x adds bit %#x", v, added);
        }
        R.intent |= added;
    }
    R.status = v;
    if ((R.status_mode & S_REFUSE_FOK) && (v & VIRTIO_STATUS_FEATURES_OK))
        R.status &= ~VIRTIO_STATUS_FEATURES_OK;
}

static void queue_reg(void)
{
    if (strict())
        CHECK(R.version == 1u || (R.intent & VIRTIO_STATUS_FEATURES_OK),
          "queue registers written before FEATURES_OK");
    CHECK(!R.driver_ok_written || !strict(), "queue registers written after DRIVER_OK");
    R.queue_regs_written = 1;
}

static void fz_write(uintptr_t a, uint32_t v, unsigned width)
{
    uint32_t off = (uint32_t)(a - BASE);
    CHECK(a >= BASE && a - BASE < 0x1000u, "write outside the register window (%#lx)",
          (unsigned long)a);
    CHECK((off & (width - 1u)) == 0u, "unaligned %u-byte write at %#x", width, off);
    CHECK(++R.accesses < MAX_ACCESSES, "unbounded register access loop");
    R.writes++;
    if (off >= VIRTIO_MMIO_CONFIG)
        return; /* config writes: accepted, not modelled */
    CHECK(width == 4u, "%u-byte write of register %#x", width, off);
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: R.dfsel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: R.drvsel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (strict()) {
            CHECK(R.intent & VIRTIO_STATUS_DRIVER, "features written before DRIVER");
            CHECK(!(R.intent & VIRTIO_STATUS_FEATURES_OK), "features written after FEATURES_OK");
        }
        CHECK(R.drvsel <= 1u, "driver feature select %u", R.drvsel);
        if (R.drvsel == 0u)
            R.drv_features = (R.drv_features & ~(uint64_t)0xffffffffu) | v;
        else
            R.drv_features = (R.drv_features & 0xffffffffu) | ((uint64_t)v << 32);
        R.drv_features_written[R.drvsel] = 1;
        break;
    case VIRTIO_MMIO_QUEUE_SEL: R.qsel = v; break;
    case VIRTIO_MMIO_QUEUE_NUM:
        queue_reg();
        CHECK(R.qsel < NQ, "QueueNum for missing queue %u", R.qsel);
        R.q[R.qsel].num = v;
        break;
    case VIRTIO_MMIO_GUEST_PAGE_SIZE:
        CHECK(R.version == 1u, "GuestPageSize written to a modern device");
        queue_reg();
        R.q[0].page = v; /* device-wide, kept in q[0] */
        break;
    case VIRTIO_MMIO_QUEUE_ALIGN:
        CHECK(R.version == 1u, "QueueAlign written to a modern device");
        queue_reg();
        R.q[R.qsel % NQ].align = v;
        break;
    case VIRTIO_MMIO_QUEUE_PFN:
        CHECK(R.version == 1u, "QueuePFN written to a modern device");
        queue_reg();
        CHECK(R.q[0].page == 4096u, "QueuePFN before GuestPageSize");
        R.q[R.qsel % NQ].pfn = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        CHECK(R.version != 1u, "QueueReady written to a legacy device");
        queue_reg();
        R.q[R.qsel % NQ].ready = v;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: queue_reg(); R.q[R.qsel % NQ].desc[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: queue_reg(); R.q[R.qsel % NQ].desc[1] = v; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: queue_reg(); R.q[R.qsel % NQ].driver[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: queue_reg(); R.q[R.qsel % NQ].driver[1] = v; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: queue_reg(); R.q[R.qsel % NQ].device[0] = v; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: queue_reg(); R.q[R.qsel % NQ].device[1] = v; break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        CHECK(R.driver_ok_written || !strict(),
              "notification before DRIVER_OK (Device Initialization)");
        R.notifies++;
        R.last_notify = v;
        if (R.completes && (u8() & 1u))
            device_complete(0);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        /* "MMIO Device Register Layout": undefined bits are ignored, so
           exactly the defined ones read are acknowledged. */
        CHECK(v == (R.last_int_read & INT_DEFINED) && v != 0u, "acked %#x, InterruptStatus read %#x",
              v, R.last_int_read);
        R.int_status &= ~v;
        break;
    case VIRTIO_MMIO_STATUS: status_write(v); break;
    default: FAIL("write to read-only or unknown register %#x", off);
    }
}

/* ---- the driver side ------------------------------------------------------- */

static struct virtq_dev dev;
static struct virtq vq;
static struct virtq_slot slots[VIRTQ_MAX_SIZE];
static uint8_t reqstate[MAXREQ]; /* 0 unused, 1 in flight, 2 back */
static unsigned nreq, inflight;

static int is_pow2(uint32_t x) { return x && !(x & (x - 1u)); }

static void check_probe(int rc)
{
    int want;
    if (R.magic != VIRTIO_MMIO_MAGIC)
        want = VIRTQ_ENODEV;
    else if (R.version != 1u && R.version != 2u)
        want = VIRTQ_ENOTSUP;
    else if (R.device_id == 0u)
        want = VIRTQ_ENODEV;
    else
        want = VIRTQ_OK;
    CHECK(rc == want, "probe = %d, want %d (magic %#x version %u id %u)", rc, want, R.magic,
          R.version, R.device_id);
    CHECK(R.writes == 0u, "probe wrote a register");
    if (rc == VIRTQ_OK)
        CHECK(dev.version == R.version && dev.device_id == R.device_id &&
                  dev.vendor_id == R.vendor && dev.base == BASE,
              "probe recorded the wrong identity");
}

/* Calls that must be refused before touching the device. */
static void refused(int rc, const char *what)
{
    CHECK(rc == VIRTQ_EINVAL, "%s out of order = %d, want EINVAL", what, rc);
}

static void take(void *cookie)
{
    uintptr_t k = (uintptr_t)cookie - 1u;
    CHECK(k < nreq, "foreign cookie");
    CHECK(reqstate[k] == 1u, "cookie %lu came back twice", (unsigned long)k);
    reqstate[k] = 2;
    inflight--;
}

static void op_config(uint8_t kind)
{
    uint32_t off = u16() & 0x1fffu, len = 0, width = 1, i;
    uint8_t *buf;
    int rc, bad;
    unsigned g_before;
    switch (kind % 6u) {
    case 0: len = 1; width = 1; break;
    case 1: len = 2; width = 2; break;
    case 2: len = 4; width = 4; break;
    case 3: len = 8; width = 4; break;
    case 4: /* mostly short: a retried long read costs 2 accesses a byte */
        len = u16();
        len &= (len & 0x8000u) ? 0x1fffu : 0xffu;
        width = 1;
        break;
    default: {
        uint32_t w0 = R.writes;
        rc = virtq_dev_config_write32(&dev, off, u32());
        bad = (off & 3u) != 0u || off > 0xefcu;
        CHECK(rc == (bad ? VIRTQ_EINVAL : VIRTQ_OK), "config_write32(%#x) = %d", off, rc);
        CHECK(bad ? R.writes == w0 : R.writes == w0 + 1u, "config_write32 write count");
        return;
    }
    }
    buf = (uint8_t *)malloc(len ? len : 1u); /* exact size: ASan sees overruns */
    if (buf == NULL)
        abort();
    memset(buf, 0xcc, len ? len : 1u);
    g_before = R.accesses;
    switch (kind % 6u) {
    case 0: { uint8_t v; rc = virtq_dev_config_read8(&dev, off, &v); if (!rc) memcpy(buf, &v, 1); break; }
    case 1: { uint16_t v; rc = virtq_dev_config_read16(&dev, off, &v); if (!rc) memcpy(buf, &v, 2); break; }
    case 2: { uint32_t v; rc = virtq_dev_config_read32(&dev, off, &v); if (!rc) memcpy(buf, &v, 4); break; }
    case 3: { uint64_t v; rc = virtq_dev_config_read64(&dev, off, &v); if (!rc) memcpy(buf, &v, 8); break; }
    default: rc = virtq_dev_config_read_bytes(&dev, off, buf, len); break;
    }
    bad = len == 0u || (off & (width - 1u)) != 0u || off > 0xf00u || len > 0xf00u - off;
    if (bad) {
        CHECK(rc == VIRTQ_EINVAL, "config read off %#x len %u = %d, want EINVAL", off, len, rc);
        CHECK(R.accesses == g_before, "refused config read touched the device");
    } else if (rc == VIRTQ_ENOTSUP) {
        /* virtq_init() refuses a packed ring; negotiate passes the bit on
           when the caller wants it. */
        CHECK(dev.features & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED), "queue_setup ENOTSUP");
    } else if (rc == VIRTQ_EIO) {
        CHECK(R.gen_mode != G_STABLE && R.version != 1u, "config read EIO with a stable generation");
    } else {
        CHECK(rc == VIRTQ_OK, "config read = %d", rc);
        /* One generation: the bytes of the generation the driver saw last. */
        for (i = 0; i < len; i++)
                CHECK(buf[i] == cfg_byte(off + i, R.gen), "config byte %u of %#x/%u torn", i,
                      off, len);
    }
    free(buf);
}

static void op_add_kick(int queue_live)
{
    struct virtq_buf b[2];
    uint8_t s = u8();
    unsigned n = 1u + (s & 1u), out = (s >> 1) & 1u, notifies = R.notifies;
    uint32_t want_notify;
    int rc;
    if (!queue_live || nreq >= MAXREQ)
        return;
    if (out > n)
        out = n;
    b[0].addr = (void *)(uintptr_t)0x1000u;
    b[0].len = 1u + u8();
    b[1].addr = (void *)(uintptr_t)0x2000u;
    b[1].len = 1u + u8();
    rc = virtq_add(&vq, b, out, n - out, (void *)(uintptr_t)(nreq + 1u));
    CHECK(rc == VIRTQ_OK || (rc == VIRTQ_ENOSPC && n <= vq.num) ||
              (rc == VIRTQ_EINVAL && n > vq.num) || (rc == VIRTQ_EBROKEN && virtq_is_broken(&vq)),
          "add(%u of %u) = %d", n, vq.num, rc);
    if (rc == VIRTQ_OK) {
        reqstate[nreq++] = 1;
        inflight++;
    }
    if (s & 4u) {
        rc = virtq_dev_kick(&dev, &vq);
        CHECK(rc == VIRTQ_OK || (rc == VIRTQ_EBROKEN && virtq_is_broken(&vq)), "kick = %d", rc);
        /* With VIRTIO_F_NOTIFICATION_DATA the write carries the published
           avail index above the queue number ("Available Buffer
           Notifications"). */
        want_notify = (R.drv_features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA))
                          ? ((uint32_t)vq.index | ((uint32_t)vq.published_idx << 16))
                          : (uint32_t)vq.index;
        CHECK(R.notifies == notifies || (R.notifies == notifies + 1u && R.last_notify == want_notify),
              "kick notified %u times, value %#x, want %#x", R.notifies - notifies, R.last_notify,
              want_notify);
    }
}

static void op_wait(int queue_live)
{
    uint32_t timeout = u8();
    unsigned before = R.accesses;
    int rc;
    if (!queue_live)
        return;
    rc = virtq_wait(&dev, &vq, timeout);
    CHECK(rc == VIRTQ_OK || rc == VIRTQ_ETIMEDOUT || rc == VIRTQ_EBROKEN, "wait = %d", rc);
    /* Bounded: one status poll per spin and a few more. */
    CHECK(R.accesses - before <= (timeout * VIRTQ_SPINS_PER_US + 2u) * 2u + 4u,
          "wait(%u us) made %u register accesses", timeout, R.accesses - before);
    if (rc == VIRTQ_OK)
        CHECK(virtq_has_used(&vq) == 1, "wait said OK with nothing used");
    if (rc == VIRTQ_ETIMEDOUT)
        CHECK(virtq_has_used(&vq) == 0, "wait timed out with a used buffer pending");
    if (rc == VIRTQ_EBROKEN)
        CHECK(virtq_is_broken(&vq), "wait said EBROKEN, queue not broken");
}

static void op_get(int queue_live)
{
    void *c;
    uint32_t len;
    int rc;
    if (!queue_live)
        return;
    rc = virtq_get(&vq, &c, &len);
    CHECK(rc == VIRTQ_OK || rc == VIRTQ_EAGAIN || rc == VIRTQ_EBROKEN, "get = %d", rc);
    if (rc == VIRTQ_OK)
        take(c);
}

static void op_isr(void)
{
    uint32_t irqs = dev.irqs, spurious = dev.spurious, st;
    unsigned reads = R.int_reads;
    st = virtq_dev_isr(&dev);
    CHECK(R.int_reads == reads + 1u, "isr read InterruptStatus %u times", R.int_reads - reads);
    if ((R.last_int_read & INT_DEFINED) == 0u || !(dev.state & VIRTQ__D_DRIVER_OK)) {
        CHECK(st == 0u && dev.spurious == spurious + 1u && dev.irqs == irqs,
              "isr before DRIVER_OK or with no defined cause must count as spurious");
    } else {
        CHECK(st == (R.last_int_read & INT_DEFINED) && dev.irqs == irqs + 1u, "isr = %#x, read %#x",
              st, R.last_int_read);
        if (st & VIRTIO_MMIO_INT_CONFIG)
            CHECK(!(R.last_status_read & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ||
                      virtq_dev_check(&dev) == VIRTQ_EBROKEN,
                  "config interrupt with NEEDS_RESET did not break the device");
    }
}

static void read_profile(void)
{
    uint8_t b = u8(), qm;
    unsigned i;
    R.magic = (b & 7u) == 7u ? u32() : VIRTIO_MMIO_MAGIC;
    switch ((b >> 3) & 3u) {
    case 0: R.version = 2; break;
    case 1: R.version = 1; break;
    case 2: R.version = 3; break;
    default: R.version = u32(); break;
    }
    R.completes = (b >> 5) & 1u;
    R.int_garbage = (b >> 6) & 1u;
    R.boot_status = (b >> 7) & 1u;
    R.device_id = u8();
    R.vendor = 0x554d4551u;
    R.offered = u64();
    for (i = 0; i < 2; i++) {
        qm = u8();
        R.qmax[i] = qm == 0u ? 0u : qm == 1u ? 0xffffffffu : qm == 2u ? 0x10000u
                    : qm == 3u ? 0x8001u : qm;
    }
    b = u8();
    R.status_mode = b & 31u;
    R.ready_mode = (uint8_t)((b >> 5) & 3u);
    R.gen_mode = (uint8_t)(u8() % 3u);
    R.slow_reads = u8() * 2u; /* past VIRTQ_RESET_POLLS (200) when large */
    for (i = 0; i < sizeof(R.cfg); i++)
        R.cfg[i] = u8();
    R.gen = u8();
    device_reset();
    if (R.status_mode & S_NEVER_RESET)
        R.status = VIRTIO_STATUS_ACKNOWLEDGE;
    if (R.boot_status) /* left set by an earlier user, e.g. firmware */
        R.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t misuse, *mem = NULL;
    uint64_t wanted, required, req;
    uint32_t num_wish, qnum, align, steps;
    uint16_t qidx;
    size_t bytes;
    int rc, queue_live = 0, want, setup_failed = 0;
    unsigned k;

    in.p = data;
    in.n = size;
    memset(&R, 0, sizeof(R));
    memset(&dev, 0, sizeof(dev));
    memset(&vq, 0, sizeof(vq));
    live_vq = NULL;
    nreq = inflight = 0;
    read_profile();
    misuse = u8();
    wanted = u64();
    required = (misuse & 0x80u) ? u64() : 0u;
    num_wish = u16();
    qidx = (uint16_t)(u8() % 3u);

    /* Probe. */
    if (misuse & 0x40u) {
        uint8_t b8;
        uint16_t b16;
        uint32_t b32;
        uint64_t b64;
        refused(virtq_mmio_probe(NULL, BASE), "probe(NULL)");
        refused(virtq_mmio_probe(&dev, 0), "probe(base 0)");
        /* Every device call on a NULL (or never probed) device. */
        refused(virtq_dev_reset(NULL), "reset(NULL)");
        refused(virtq_dev_begin(&dev), "begin(unprobed)");
        refused(virtq_dev_negotiate(NULL, 0, 0), "negotiate(NULL)");
        refused(virtq_dev_queue_setup(NULL, &vq, 0, 8, slots, slots), "queue_setup(NULL)");
        refused(virtq_dev_driver_ok(NULL), "driver_ok(NULL)");
        virtq_dev_fail(NULL);
        virtq_dev_notify(NULL, &vq);
        refused(virtq_dev_kick(NULL, &vq), "kick(NULL, unset queue)");
        CHECK(virtq_dev_isr(NULL) == 0u, "isr(NULL)");
        refused(virtq_dev_check(NULL), "check(NULL)");
        refused(virtq_dev_config_read8(NULL, 0, &b8), "config_read8(NULL)");
        refused(virtq_dev_config_read16(&dev, 0, &b16), "config_read16(unprobed)");
        refused(virtq_dev_config_read32(NULL, 0, &b32), "config_read32(NULL)");
        refused(virtq_dev_config_read64(NULL, 0, &b64), "config_read64(NULL)");
        refused(virtq_dev_config_read_bytes(NULL, 0, &b8, 1), "config_read_bytes(NULL)");
        refused(virtq_dev_config_write32(NULL, 0, 0), "config_write32(NULL)");
        virtq_dev_irq_routed(NULL, 1);
        refused(virtq_dev_set_wait(NULL, VIRTQ_WAIT_SPIN, NULL), "set_wait(NULL)");
        refused(virtq_wait(NULL, &vq, 1), "wait(NULL)");
        CHECK(R.accesses == 0u, "a call on a NULL or unprobed device touched registers");
    }
    rc = virtq_mmio_probe(&dev, BASE);
    check_probe(rc);
    if (rc != VIRTQ_OK)
        return 0;

    /* Ring memory: exactly what the wish needs, so ASan sees overruns. */
    align = R.version == 1u ? VIRTQ_ALIGN_LEGACY : VIRTQ_ALIGN_MODERN;
    qnum = num_wish > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : num_wish;
    bytes = VIRTQ_RING_BYTES(qnum ? qnum : 1u, align);
    if (posix_memalign((void **)&mem, 4096, bytes) != 0)
        abort();
    dma_base_ptr = mem;
    R.ring = mem;
    R.ring_bytes = bytes;

    if (misuse & 1u) {
        unsigned w = R.writes;
        refused(virtq_dev_queue_setup(&dev, &vq, qidx, num_wish, mem, slots), "queue_setup");
        refused(virtq_dev_driver_ok(&dev), "driver_ok");
        CHECK(R.writes == w, "a refused call wrote a register");
    }

    /* Begin: reset (bounded), ACKNOWLEDGE, DRIVER, features. */
    want = (R.status_mode & S_NEVER_RESET) ||
                   ((R.status_mode & S_SLOW_RESET) && R.status != 0u &&
                    R.slow_reads + 1u > VIRTQ_RESET_POLLS)
               ? VIRTQ_ETIMEDOUT
               : VIRTQ_OK;
    rc = virtq_dev_begin(&dev);
    if (R.status_mode & S_GARBAGE)
        CHECK(rc == VIRTQ_OK || rc == VIRTQ_ETIMEDOUT, "begin = %d", rc);
    else
        CHECK(rc == want, "begin = %d, want %d", rc, want);
    if (rc != VIRTQ_OK)
        goto out;
    CHECK(dev.device_features == R.offered, "device_features %#llx, offered %#llx",
          (unsigned long long)dev.device_features, (unsigned long long)R.offered);

    if (misuse & 2u) {
        unsigned w = R.writes;
        refused(virtq_dev_queue_setup(&dev, &vq, qidx, num_wish, mem, slots),
                "queue_setup before negotiate");
        CHECK(R.writes == w, "a refused call wrote a register");
    }

    /* Negotiate. */
    req = required | (R.version >= 2u ? VIRTQ_FEATURE(VIRTIO_F_VERSION_1) : 0u);
    rc = virtq_dev_negotiate(&dev, wanted, required);
    /* virtq never accepts what it cannot drive: the packed ring (not built
       in here) and, on virtio-mmio, RING_RESET (no QueueReset register). */
    if (req & (~R.offered | MMIO_UNSUPPORTED)) {
        CHECK(rc == VIRTQ_ENOTSUP, "negotiate without a required bit = %d", rc);
        CHECK(!strict() || (R.intent & VIRTIO_STATUS_FAILED), "refused negotiation did not set FAILED");
        goto out;
    }
    CHECK(R.drv_features == (R.offered & (wanted | req) & ~MMIO_UNSUPPORTED),
          "driver features %#llx", (unsigned long long)R.drv_features);
    CHECK((R.drv_features & ~R.offered) == 0u && (R.drv_features & ~(wanted | req)) == 0u,
          "accepted a feature not offered or not wanted");
    if (R.version >= 2u && !(R.fok_reread & VIRTIO_STATUS_FEATURES_OK)) {
        CHECK(rc == VIRTQ_EIO, "FEATURES_OK refused but negotiate = %d", rc);
        CHECK(!strict() || (R.intent & VIRTIO_STATUS_FAILED), "refused FEATURES_OK did not set FAILED");
        refused(virtq_dev_queue_setup(&dev, &vq, qidx, num_wish, mem, slots),
                "queue_setup after failed negotiation");
        goto out;
    }
    CHECK(rc == VIRTQ_OK, "negotiate = %d", rc);
    CHECK(dev.features == R.drv_features, "dev.features differs from what was written");
    if (misuse & 4u)
        refused(virtq_dev_negotiate(&dev, wanted, required), "second negotiate");

    /* Queue setup. */
    R.last_qmax_read = 0xdeadbeefu;
    rc = virtq_dev_queue_setup(&dev, &vq, qidx, num_wish, mem, slots);
    if (num_wish == 0u) {
        CHECK(rc == VIRTQ_EINVAL, "queue_setup(num 0) = %d", rc);
    } else if (rc == VIRTQ_EBUSY) {
        CHECK(R.ready_mode == Q_LIVE || R.ready_mode == Q_GARBAGE, "EBUSY on an idle queue");
    } else if (rc == VIRTQ_ENODEV) {
        CHECK(R.last_qmax_read == 0u, "ENODEV with QueueNumMax %u", R.last_qmax_read);
    } else if (rc == VIRTQ_ENOTSUP) {
        /* virtq_init() refuses a packed ring; negotiate passes the bit on
           when the caller wants it. */
        CHECK(dev.features & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED), "queue_setup ENOTSUP");
    } else if (rc == VIRTQ_EIO) {
        void *c;
        struct virtq_buf b = {&c, 1};
        bool kick = true;
        CHECK(R.version == 2u && R.ready_mode != Q_STICKS, "EIO with a QueueReady that sticks");
        /* The queue is unusable and the device FAILED (api.h). */
        CHECK(virtq_add(&vq, &b, 1, 0, &c) == VIRTQ_EINVAL &&
                  virtq_publish(&vq, &kick) == VIRTQ_EINVAL && !kick &&
                  virtq_get(&vq, &c, NULL) == VIRTQ_EINVAL && virtq_has_used(&vq) &&
                  virtq_enable_intr(&vq) && virtq_detach(&vq, &c) == VIRTQ_EINVAL &&
                  virtq_num_free(&vq) == 0u,
              "a queue whose setup failed still works");
        CHECK(!strict() || (R.intent & VIRTIO_STATUS_FAILED),
              "setup failed but the device is not FAILED");
        setup_failed = 1;
    } else {
        uint32_t n = vq.num;
        CHECK(rc == VIRTQ_OK, "queue_setup = %d", rc);
        CHECK(R.ready_mode != Q_LIVE, "set up a queue that was already live");
        CHECK(is_pow2(n) && n <= R.last_qmax_read && n <= qnum && n <= VIRTQ_MAX_SIZE,
              "queue size %u (max %u, wish %u)", n, R.last_qmax_read, num_wish);
        /* The largest power of two allowed: no smaller. */
        CHECK(2u * n > (qnum < R.last_qmax_read ? qnum : R.last_qmax_read),
              "queue size %u needlessly small", n);
        CHECK(VIRTQ_RING_BYTES(n, align) <= bytes, "ring needs more memory than given");
        CHECK(R.qsel == qidx && R.q[qidx].num == n, "QueueSel %u / QueueNum %u", R.qsel,
              R.q[qidx].num);
        if (R.version == 1u) {
            CHECK(R.q[qidx].pfn == DMA_BASE / 4096u && R.q[qidx].align == 4096u,
                  "legacy PFN %#x align %u", R.q[qidx].pfn, R.q[qidx].align);
        } else {
            uint64_t d = R.q[qidx].desc[0] | (uint64_t)R.q[qidx].desc[1] << 32;
            uint64_t a = R.q[qidx].driver[0] | (uint64_t)R.q[qidx].driver[1] << 32;
            uint64_t u = R.q[qidx].device[0] | (uint64_t)R.q[qidx].device[1] << 32;
            CHECK(d == DMA_BASE && a == DMA_BASE + 16u * n && u >= a + 6u + 2u * n &&
                      u % 4u == 0u && u + 6u + 8u * n <= DMA_BASE + bytes,
                  "queue addresses outside the ring memory");
            CHECK(R.q[qidx].ready == 1u, "QueueReady not written");
            CHECK(R.last_ready_read == 1u, "queue set up though QueueReady read back %#x",
                  R.last_ready_read);
        }
        queue_live = 1;
        if (qidx == 0u)
            live_vq = &vq;
    }

    /* DRIVER_OK. */
    if (misuse & 32u)
        op_isr(); /* an interrupt before DRIVER_OK: acknowledged, not trusted */
    if (misuse & 8u)
        goto out; /* a driver that gives up before DRIVER_OK */
    rc = virtq_dev_driver_ok(&dev);
    if (setup_failed)
        CHECK(rc == VIRTQ_EINVAL, "driver_ok after a failed queue setup = %d", rc);
    else
        CHECK(rc == VIRTQ_OK || (rc == VIRTQ_EBROKEN && R.saw_bad_status), "driver_ok = %d", rc);
    if (rc != VIRTQ_OK)
        queue_live = 0; /* a driver must not use a device that needs a reset */
    if (misuse & 16u)
        CHECK(virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL) == VIRTQ_ENOTSUP &&
                  virtq_dev_set_wait(&dev, 3, NULL) == VIRTQ_EINVAL &&
                  virtq_dev_set_wait(&dev, VIRTQ_WAIT_SPIN, NULL) == VIRTQ_OK,
              "set_wait results");

    /* Operate. */
    for (steps = 0; steps < 64u && in.n > 0u; steps++) {
        uint8_t op = u8();
        switch (op % 8u) {
        case 0: op_config((uint8_t)(op >> 3)); break;
        case 1: case 2: op_add_kick(queue_live); break;
        case 3: op_wait(queue_live); break;
        case 4: op_get(queue_live); break;
        case 5: op_isr(); break;
        case 6:
            rc = virtq_dev_check(&dev);
            CHECK(rc == VIRTQ_OK || (rc == VIRTQ_EBROKEN && R.saw_bad_status), "check = %d", rc);
            break;
        default: virtq_dev_irq_routed(&dev, op & 8u); break;
        }
    }

out:
    /* Reset; once the device really is reset, every cookie comes back. */
    rc = virtq_dev_reset(&dev);
    CHECK(rc == VIRTQ_OK || rc == VIRTQ_ETIMEDOUT, "reset = %d", rc);
    if (rc == VIRTQ_OK && vq.num != 0u && !setup_failed) {
        void *c;
        for (k = 0; k <= vq.num + 1u; k++) {
            rc = virtq_detach(&vq, &c);
            if (rc != VIRTQ_OK)
                break;
            take(c);
        }
        CHECK(rc == VIRTQ_EAGAIN, "detach did not finish (%d)", rc);
        CHECK(inflight == 0u, "%u cookies lost", inflight);
    }
    live_vq = NULL;
    free(mem);
    return 0;
}
