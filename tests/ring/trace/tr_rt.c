/* SPDX-License-Identifier: MIT */
/* tests/ring/trace/tr_rt.c — the runtime of the tracing harness: the
   __tsan_* entry points the instrumented implementation calls (logging,
   then doing the access), the register-level device, the clock, the OS
   wait and the fake CPU.  Not instrumented itself. */
#include <stdio.h>
#include <string.h>

#include "tr.h"
#include "virtq.h"

/* ---- regions and the log ------------------------------------------------------- */

#define MAX_REGIONS 8
static struct {
    int id;
    uintptr_t lo, hi;
} regions[MAX_REGIONS];
static int nregions;

struct tr_event tr_log[TR_LOG_MAX];
unsigned tr_nlog;

static tr_trigger_fn trig_fn;
static tr_action_fn act_fn;
static void *act_ctx;
static int act_pending, in_action;
static unsigned act_runs;

void tr_watch(int region, const void *p, size_t len)
{
    if (nregions < MAX_REGIONS) {
        regions[nregions].id = region;
        regions[nregions].lo = (uintptr_t)p;
        regions[nregions].hi = (uintptr_t)p + len;
        nregions++;
    }
}

void tr_unwatch_all(void) { nregions = 0; }
void tr_log_clear(void) { tr_nlog = 0; }

void tr_set_action(tr_trigger_fn trig, tr_action_fn act, void *ctx)
{
    trig_fn = trig;
    act_fn = act;
    act_ctx = ctx;
    act_pending = 0;
    act_runs = 0;
}

unsigned tr_action_runs(void) { return act_runs; }

static int region_of(uintptr_t a, unsigned size)
{
    int i;
    for (i = 0; i < nregions; i++)
        if (a >= regions[i].lo && a + size <= regions[i].hi)
            return regions[i].id;
    return 0;
}

/* Every logged event and every hook passes here: a pending action runs
   first (the event it follows has happened by now), then the trigger
   looks at this event. */
static void record(enum tr_ev ev, enum tr_flavor fl, int mo, int arg, uintptr_t addr, unsigned size)
{
    struct tr_event e;
    if (in_action)
        return; /* the device's own calls into virtq are not the driver's */
    e.ev = ev;
    e.fl = fl;
    e.mo = mo;
    e.arg = arg;
    e.addr = addr;
    e.size = size;
    e.region = size ? region_of(addr, size) : 0;
    if (size && e.region == 0)
        return; /* private state: not watched */
    if (act_pending) {
        act_pending = 0;
        in_action = 1;
        act_fn(act_ctx);
        act_runs++;
        in_action = 0;
    }
    if (tr_nlog < TR_LOG_MAX)
        tr_log[tr_nlog++] = e;
    if (trig_fn != NULL && act_fn != NULL && trig_fn(&e, act_ctx)) {
        act_pending = 1;
        trig_fn = NULL; /* once */
    }
}

const char *tr_event_str(const struct tr_event *e, char *buf, size_t len)
{
    static const char *const ev[] = {"load", "store", "rmw", "barrier", "fence", "mmio-r",
                                     "mmio-w", "now", "os-wait", "irq-save", "irq-restore",
                                     "wfi", "relax"};
    static const char *const fl[] = {"plain", "volatile", "atomic"};
    static const char *const bar[] = {"MB", "RMB", "WMB", "DMA_MB", "DMA_RMB", "DMA_WMB"};
    if (e->ev == EV_BARRIER)
        snprintf(buf, len, "barrier %s", bar[e->arg]);
    else if (e->ev == EV_FENCE)
        snprintf(buf, len, "fence mo=%d", e->arg);
    else if (e->size)
        snprintf(buf, len, "%s %s%d/%u region %d +%#lx", ev[e->ev], fl[e->fl],
                 e->fl == FL_ATOMIC ? e->mo : -1, e->size, e->region,
                 (unsigned long)e->addr);
    else
        snprintf(buf, len, "%s %#x", ev[e->ev], (unsigned)e->arg);
    return buf;
}

/* ---- the ThreadSanitizer entry points --------------------------------------------- */
/* Plain, volatile and unaligned accesses are only logged (the instrumented
   code does the access itself); atomics are logged and done here. */
#define PLAIN(n)                                                                            \
    void __tsan_read##n(void *a);                                                           \
    void __tsan_write##n(void *a);                                                          \
    void __tsan_unaligned_read##n(void *a);                                                 \
    void __tsan_unaligned_write##n(void *a);                                                \
    void __tsan_read##n(void *a) { record(EV_LOAD, FL_PLAIN, 0, 0, (uintptr_t)a, n); }        \
    void __tsan_write##n(void *a) { record(EV_STORE, FL_PLAIN, 0, 0, (uintptr_t)a, n); }      \
    void __tsan_unaligned_read##n(void *a) { record(EV_LOAD, FL_PLAIN, 0, 0, (uintptr_t)a, n); } \
    void __tsan_unaligned_write##n(void *a) { record(EV_STORE, FL_PLAIN, 0, 0, (uintptr_t)a, n); }
#define VOLAT(n)                                                                            \
    void __tsan_volatile_read##n(void *a);                                                  \
    void __tsan_volatile_write##n(void *a);                                                 \
    void __tsan_unaligned_volatile_read##n(void *a);                                        \
    void __tsan_unaligned_volatile_write##n(void *a);                                       \
    void __tsan_volatile_read##n(void *a) { record(EV_LOAD, FL_VOLATILE, 0, 0, (uintptr_t)a, n); } \
    void __tsan_volatile_write##n(void *a) { record(EV_STORE, FL_VOLATILE, 0, 0, (uintptr_t)a, n); } \
    void __tsan_unaligned_volatile_read##n(void *a)                                         \
    {                                                                                       \
        record(EV_LOAD, FL_VOLATILE, 0, 0, (uintptr_t)a, n);                                \
    }                                                                                       \
    void __tsan_unaligned_volatile_write##n(void *a)                                        \
    {                                                                                       \
        record(EV_STORE, FL_VOLATILE, 0, 0, (uintptr_t)a, n);                               \
    }
PLAIN(1)
PLAIN(2)
PLAIN(4)
PLAIN(8)
PLAIN(16)
VOLAT(1)
VOLAT(2)
VOLAT(4)
VOLAT(8)
VOLAT(16)

#define ATOM(n, T)                                                                          \
    T __tsan_atomic##n##_load(const volatile T *a, int mo);                                 \
    void __tsan_atomic##n##_store(volatile T *a, T v, int mo);                              \
    T __tsan_atomic##n##_fetch_add(volatile T *a, T v, int mo);                             \
    T __tsan_atomic##n##_exchange(volatile T *a, T v, int mo);                              \
    T __tsan_atomic##n##_load(const volatile T *a, int mo)                                  \
    {                                                                                       \
        record(EV_LOAD, FL_ATOMIC, mo, 0, (uintptr_t)a, n / 8);                             \
        return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                        \
    }                                                                                       \
    void __tsan_atomic##n##_store(volatile T *a, T v, int mo)                               \
    {                                                                                       \
        record(EV_STORE, FL_ATOMIC, mo, 0, (uintptr_t)a, n / 8);                            \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                           \
    }                                                                                       \
    T __tsan_atomic##n##_fetch_add(volatile T *a, T v, int mo)                              \
    {                                                                                       \
        record(EV_RMW, FL_ATOMIC, mo, 0, (uintptr_t)a, n / 8);                              \
        return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                  \
    }                                                                                       \
    T __tsan_atomic##n##_exchange(volatile T *a, T v, int mo)                               \
    {                                                                                       \
        record(EV_RMW, FL_ATOMIC, mo, 0, (uintptr_t)a, n / 8);                              \
        return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                 \
    }
ATOM(8, uint8_t)
ATOM(16, uint16_t)
ATOM(32, uint32_t)
ATOM(64, uint64_t)

void __tsan_atomic_thread_fence(int mo);
void __tsan_atomic_signal_fence(int mo);
void __tsan_init(void);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);
void __tsan_atomic_thread_fence(int mo)
{
    record(EV_FENCE, FL_ATOMIC, mo, mo, 0, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
void __tsan_atomic_signal_fence(int mo) { (void)mo; }
void __tsan_init(void) {}
void __tsan_func_entry(void *pc) { (void)pc; }
void __tsan_func_exit(void) {}

/* ---- hooks ---------------------------------------------------------------------- */

void tr_barrier(int kind)
{
    record(EV_BARRIER, FL_PLAIN, 0, kind, 0, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

struct tr_regs tr_dev_regs;

void tr_regs_reset(uint64_t offered)
{
    memset(&tr_dev_regs, 0, sizeof tr_dev_regs);
    tr_dev_regs.offered = offered;
}

uint32_t tr_mmio_read(uintptr_t addr, int width)
{
    struct tr_regs *r = &tr_dev_regs;
    uint32_t off = (uint32_t)(addr - TR_BASE);
    record(EV_MMIO_R, FL_VOLATILE, 0, (int)off, 0, 0);
    (void)width;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return 2;
    case VIRTIO_MMIO_DEVICE_ID: return VIRTIO_ID_BLOCK;
    case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551u;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return (uint32_t)(r->offered >> (r->dfsel ? 32 : 0));
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return r->qsel == 0 ? 256u : 0u;
    case VIRTIO_MMIO_QUEUE_READY: return r->qsel == 0 ? r->qready : 0u;
    case VIRTIO_MMIO_INTERRUPT_STATUS: r->isr_reads++; return r->isr;
    case VIRTIO_MMIO_STATUS: return r->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;
    default: return 0;
    }
}

void tr_mmio_write(uintptr_t addr, uint32_t val, int width)
{
    struct tr_regs *r = &tr_dev_regs;
    uint32_t off = (uint32_t)(addr - TR_BASE);
    record(EV_MMIO_W, FL_VOLATILE, 0, (int)off, 0, 0);
    (void)width;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: r->dfsel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: r->gfsel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (r->gfsel)
            r->accepted = (r->accepted & 0xffffffffu) | ((uint64_t)val << 32);
        else
            r->accepted = (r->accepted & ~(uint64_t)0xffffffffu) | val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL: r->qsel = val; break;
    case VIRTIO_MMIO_QUEUE_NUM: r->qnum = val; break;
    case VIRTIO_MMIO_QUEUE_READY: r->qready = val; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: r->desc[0] = val; break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: r->desc[1] = val; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: r->driver[0] = val; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: r->driver[1] = val; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: r->device[0] = val; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: r->device[1] = val; break;
    case VIRTIO_MMIO_QUEUE_NOTIFY: r->notifies++; break;
    case VIRTIO_MMIO_INTERRUPT_ACK: r->acks++; r->isr &= ~val; break;
    case VIRTIO_MMIO_STATUS:
        if (val == 0) {
            r->status = 0;
            r->qready = 0;
            r->isr = 0;
        } else {
            r->status = val;
            if ((val & VIRTIO_STATUS_DRIVER_OK) && r->needs_reset_on_driver_ok)
                r->status |= VIRTIO_STATUS_NEEDS_RESET;
            if (!(val & VIRTIO_STATUS_DRIVER_OK) && r->early_irqs) {
                /* A device raising its line during initialisation, on a
                   board that wired the interrupt before DRIVER_OK. */
                r->isr |= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
                tr_cpu_raise();
            }
        }
        break;
    default: break;
    }
}

uint64_t tr_clock, tr_clock_step = 1;
uint64_t tr_deadline_at;
void (*tr_deadline_fn)(void *ctx);
void *tr_deadline_ctx;

uint64_t tr_now_us(void)
{
    uint64_t now;
    tr_clock += tr_clock_step;
    now = tr_clock;
    if (tr_deadline_at != 0 && now >= tr_deadline_at && tr_deadline_fn != NULL) {
        void (*fn)(void *) = tr_deadline_fn;
        tr_deadline_fn = NULL;
        in_action = 1;
        fn(tr_deadline_ctx);
        in_action = 0;
    }
    record(EV_NOW, FL_PLAIN, 0, 0, 0, 0);
    return now;
}

unsigned tr_os_blocked, tr_os_waits;
uint64_t tr_os_until_max;

/* Futex semantics with nobody else to wake it: if *seq still equals seen,
   the caller sleeps its whole timeout (the clock jumps) and times out. */
int tr_os_wait(void *ctx, const volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    (void)ctx;
    record(EV_OS_WAIT, FL_PLAIN, 0, 0, 0, 0);
    tr_os_waits++;
    if (tr_clock + timeout_us > tr_os_until_max)
        tr_os_until_max = tr_clock + timeout_us;
    if (*seq != seen)
        return 0;
    tr_os_blocked++;
    tr_clock += timeout_us;
    return 1;
}

void tr_os_wake(void *ctx) { (void)ctx; }

int tr_irq_masked, tr_irq_pending;
void (*tr_cpu_isr)(void *ctx);
void *tr_cpu_isr_ctx;
unsigned tr_wfi_slept, tr_wfi_woken;
uint64_t tr_alarm;
unsigned long tr_relaxes;

static void cpu_take(void)
{
    if (tr_irq_pending && !tr_irq_masked && tr_cpu_isr != NULL) {
        int saved = in_action;
        tr_irq_pending = 0;
        in_action = 1;
        tr_cpu_isr(tr_cpu_isr_ctx);
        in_action = saved;
    }
}

void tr_cpu_raise(void)
{
    tr_irq_pending = 1;
    cpu_take();
}

unsigned long tr_irq_save(void)
{
    unsigned long old = (unsigned long)tr_irq_masked;
    record(EV_IRQ_SAVE, FL_PLAIN, 0, 0, 0, 0);
    tr_irq_masked = 1;
    return old;
}

void tr_irq_restore(unsigned long flags)
{
    record(EV_IRQ_RESTORE, FL_PLAIN, 0, 0, 0, 0);
    tr_irq_masked = (int)flags;
    cpu_take();
}

/* Wakes at once for a pending interrupt (even masked, as RISC-V and Arm
   do); else sleeps to the alarm (the clock jumps there). */
void tr_wfi(void)
{
    record(EV_WFI, FL_PLAIN, 0, 0, 0, 0);
    if (tr_irq_pending) {
        tr_wfi_woken++;
        return;
    }
    tr_wfi_slept++;
    if (tr_alarm > tr_clock)
        tr_clock = tr_alarm;
}

void tr_wfi_alarm(uint64_t deadline_us) { tr_alarm = deadline_us; }

void tr_relax(void)
{
    tr_relaxes++;
    record(EV_RELAX, FL_PLAIN, 0, 0, 0, 0);
}

void tr_reset_all(void)
{
    tr_unwatch_all();
    tr_log_clear();
    tr_set_action(NULL, NULL, NULL);
    tr_regs_reset(0);
    tr_clock = 1000;
    tr_clock_step = 1;
    tr_deadline_at = 0;
    tr_deadline_fn = NULL;
    tr_os_blocked = tr_os_waits = 0;
    tr_os_until_max = 0;
    tr_irq_masked = tr_irq_pending = 0;
    tr_cpu_isr = NULL;
    tr_wfi_slept = tr_wfi_woken = 0;
    tr_alarm = 0;
    tr_relaxes = 0;
}
