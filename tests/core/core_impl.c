/* SPDX-License-Identifier: MIT */
/* core_impl.c — the one translation unit with virtq's implementation.

   The fake's shims (virtq_fake.h) are used as they are, except that the
   32-bit MMIO accesses pass through a small interposer (counting, and
   overridable register reads), and the two blocking primitives and the
   clock can run a test hook first: between virtq's last "nothing yet"
   check and its block, where a lost wake-up would happen. */
#include <stdint.h>

uint32_t core_mmio_read32(uintptr_t addr);
void core_mmio_write32(uintptr_t addr, uint32_t val);
int core_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
void core_wfi(void);
uint64_t core_now_us(void);

#define VIRTQ_MMIO_READ32(a) core_mmio_read32((uintptr_t)(a))
#define VIRTQ_MMIO_WRITE32(a, v) core_mmio_write32((uintptr_t)(a), (uint32_t)(v))
#define VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us) core_os_wait((ctx), (seqptr), (seen), (timeout_us))
#define VIRTQ_WFI() core_wfi()
#define VIRTQ_NOW_US() core_now_us()
/* Every strategy built in, CUSTOM too (run by tests through a hook). */
struct virtq_dev;
struct virtq;
void core_custom_wait(struct virtq_dev *dev, struct virtq *vq, uint64_t remaining_us);
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS | VIRTQ_WAIT_CUSTOM)
#define VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us) core_custom_wait((dev), (vq), (remaining_us))

/* Both transports: the dispatch on dev->transport is what runs. */
#define VIRTQ_TRANSPORTS (VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI)
#define VIRTQ_IMPLEMENTATION
#include "virtq_fake.h" /* first: the fake's shims for everything else */
#include "virtq.h"

#include "core.h"

#define MAX_OVERRIDES 4

static struct {
    uintptr_t ov_addr[MAX_OVERRIDES];
    uint32_t ov_val[MAX_OVERRIDES];
    int nov;
    core_hook_fn os_hook, wfi_hook, now_hook;
    void *os_ctx, *wfi_ctx, *now_ctx;
    unsigned now_skip;
} ip;

/* Per-window write counts and per-address read counts, cleared per test
   (a few devices' registers each; a full table stops counting new keys,
   which makes a count assertion fail rather than pass). */
#define MAX_TRACK 512
static uintptr_t wr_base[MAX_TRACK], rd_addr[MAX_TRACK];
static unsigned wr_count[MAX_TRACK], rd_count[MAX_TRACK];
static unsigned hook_runs;
static pthread_mutex_t ip_lock = PTHREAD_MUTEX_INITIALIZER;

static void bump(uintptr_t *keys, unsigned *counts, uintptr_t key)
{
    int i;
    pthread_mutex_lock(&ip_lock);
    for (i = 0; i < MAX_TRACK; i++) {
        if (keys[i] == key || keys[i] == 0) {
            keys[i] = key;
            counts[i]++;
            break;
        }
    }
    pthread_mutex_unlock(&ip_lock);
}

static unsigned lookup_count(const uintptr_t *keys, const unsigned *counts, uintptr_t key)
{
    unsigned n = 0;
    int i;
    pthread_mutex_lock(&ip_lock);
    for (i = 0; i < MAX_TRACK; i++)
        if (keys[i] == key)
            n = counts[i];
    pthread_mutex_unlock(&ip_lock);
    return n;
}

uint32_t core_mmio_read32(uintptr_t addr)
{
    uint32_t v = virtq_fake_mmio_read(addr, 4); /* the fake still sees the access */
    int i;
    bump(rd_addr, rd_count, addr);
    pthread_mutex_lock(&ip_lock);
    for (i = 0; i < ip.nov; i++)
        if (ip.ov_addr[i] == addr)
            v = ip.ov_val[i];
    pthread_mutex_unlock(&ip_lock);
    return v;
}

void core_mmio_write32(uintptr_t addr, uint32_t val)
{
    bump(wr_base, wr_count, addr & ~(uintptr_t)(VIRTQ_FAKE_STRIDE - 1u));
    virtq_fake_mmio_write(addr, val, 4);
}

void core_mmio_reset(void)
{
    pthread_mutex_lock(&ip_lock);
    memset(wr_base, 0, sizeof wr_base);
    memset(rd_addr, 0, sizeof rd_addr);
    memset(wr_count, 0, sizeof wr_count);
    memset(rd_count, 0, sizeof rd_count);
    ip.nov = 0;
    ip.os_hook = ip.wfi_hook = ip.now_hook = NULL;
    hook_runs = 0;
    pthread_mutex_unlock(&ip_lock);
}

unsigned core_mmio_writes(uintptr_t base)
{
    return lookup_count(wr_base, wr_count, base);
}

unsigned core_mmio_reads(uintptr_t addr)
{
    return lookup_count(rd_addr, rd_count, addr);
}

void core_mmio_override(uintptr_t addr, uint32_t val)
{
    pthread_mutex_lock(&ip_lock);
    if (ip.nov < MAX_OVERRIDES) {
        ip.ov_addr[ip.nov] = addr;
        ip.ov_val[ip.nov] = val;
        ip.nov++;
    }
    pthread_mutex_unlock(&ip_lock);
}

void core_set_os_wait_hook(core_hook_fn fn, void *ctx)
{
    pthread_mutex_lock(&ip_lock);
    ip.os_hook = fn;
    ip.os_ctx = ctx;
    pthread_mutex_unlock(&ip_lock);
}

void core_set_wfi_hook(core_hook_fn fn, void *ctx)
{
    pthread_mutex_lock(&ip_lock);
    ip.wfi_hook = fn;
    ip.wfi_ctx = ctx;
    pthread_mutex_unlock(&ip_lock);
}

void core_arm_now_hook(core_hook_fn fn, void *ctx, unsigned skip)
{
    pthread_mutex_lock(&ip_lock);
    ip.now_hook = fn;
    ip.now_ctx = ctx;
    ip.now_skip = skip;
    pthread_mutex_unlock(&ip_lock);
}

unsigned core_hook_runs(void)
{
    unsigned n;
    pthread_mutex_lock(&ip_lock);
    n = hook_runs;
    pthread_mutex_unlock(&ip_lock);
    return n;
}

static void run_hook(core_hook_fn *which, void **ctxp)
{
    core_hook_fn fn;
    void *ctx;
    pthread_mutex_lock(&ip_lock);
    fn = *which;
    ctx = *ctxp;
    if (fn != NULL)
        hook_runs++;
    pthread_mutex_unlock(&ip_lock);
    if (fn != NULL)
        fn(ctx);
}

int core_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    run_hook(&ip.os_hook, &ip.os_ctx);
    return virtq_fake_os_wait(ctx, seq, seen, timeout_us);
}

uint64_t core_now_us(void)
{
    core_hook_fn fn = NULL;
    void *ctx = NULL;
    pthread_mutex_lock(&ip_lock);
    if (ip.now_hook != NULL && ip.now_skip-- == 0) {
        fn = ip.now_hook; /* one shot */
        ctx = ip.now_ctx;
        ip.now_hook = NULL;
        hook_runs++;
    }
    pthread_mutex_unlock(&ip_lock);
    if (fn != NULL)
        fn(ctx);
    return virtq_fake_now_us();
}

void core_wfi(void)
{
    run_hook(&ip.wfi_hook, &ip.wfi_ctx);
    virtq_fake_cpu_wfi();
}

/* The implementation's bounds, for tests that check a loop stops there. */
const unsigned core_config_retries = VIRTQ_CONFIG_RETRIES;
const unsigned core_reset_polls = VIRTQ_RESET_POLLS;

/* VIRTQ_WAIT_CUSTOM: the test's function, called once per wait round. */
static core_custom_fn custom_fn;
static void *custom_ctx;

void core_set_custom_wait(core_custom_fn fn, void *ctx)
{
    custom_fn = fn;
    custom_ctx = ctx;
}

void core_custom_wait(struct virtq_dev *dev, struct virtq *vq, uint64_t remaining_us)
{
    if (custom_fn != NULL)
        custom_fn(custom_ctx, dev, vq, remaining_us);
}
