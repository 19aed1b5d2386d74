/* fake.c — the fake virtio-mmio device: registers, status machine, the
   device side of the split ring, completion modes, fault injection and
   violation reporting.  See virtq_fake.h for the contract. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Spec sections named in violation messages (VirtIO 1.2). */
#define S_STATUS "2.1 \"Device Status Field\""
#define S_FEATURES "2.2 \"Feature Bits\""
#define S_CONFIG "2.5 \"Device Configuration Space\""
#define S_SPLIT "2.7 \"Split Virtqueues\""
#define S_FRAMING "2.7.4 \"Message Framing\""
#define S_DESC "2.7.5 \"The Virtqueue Descriptor Table\""
#define S_INDIRECT "2.7.5.3 \"Indirect Descriptors\""
#define S_AVAIL "2.7.6 \"The Virtqueue Available Ring\""
#define S_USED_SUPP "2.7.7 \"Used Buffer Notification Suppression\""
#define S_AVAIL_SUPP "2.7.10 \"Available Buffer Notification Suppression\""
#define S_SUPPLY "2.7.13 \"Supplying Buffers to The Device\""
#define S_INIT "3.1 \"Device Initialization\""
#define S_REGS "4.2.2 \"MMIO Device Register Layout\""
#define S_VQCFG "4.2.3.2 \"Virtqueue Configuration\""
#define S_NOTIFY "4.2.3.3 \"Available Buffer Notifications\""
#define S_LEGACY "4.2.4 \"Legacy interface\""
#define S_RESERVED "6 \"Reserved Feature Bits\""

#define ST_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define ST_DRIVER VIRTIO_STATUS_DRIVER
#define ST_DRIVER_OK VIRTIO_STATUS_DRIVER_OK
#define ST_FEATURES_OK VIRTIO_STATUS_FEATURES_OK
#define ST_NEEDS_RESET VIRTIO_STATUS_NEEDS_RESET
#define ST_FAILED VIRTIO_STATUS_FAILED
#define ST_ALL (ST_ACK | ST_DRIVER | ST_DRIVER_OK | ST_FEATURES_OK | ST_NEEDS_RESET | ST_FAILED)

#define MAX_UNDELIVERED 8

/* ---- types ----------------------------------------------------------------- */

enum { REQ_PENDING, REQ_HELD, REQ_LOST };

/* One chain taken from the available ring.  pub.seg points into this
   allocation; ring[] lists the descriptor-table entries the chain owns. */
struct fake_req {
    struct virtq_fake_req pub;
    struct fake_req *next; /* on the queue's parked list */
    uint32_t epoch;        /* the queue setup it belongs to */
    uint16_t nring;
    uint8_t state;
    uint16_t *ring;
};

struct fake_queue {
    uint16_t num_max, num;
    uint8_t ready, broken, suppress, force_irq;
    uint64_t desc_addr, driver_addr, device_addr; /* modern registers */
    uint32_t pfn, align;                          /* legacy registers */
    uint32_t epoch;
    /* the live ring */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail; /* next available entry the device takes */
    uint16_t seen_avail; /* avail.idx last read */
    uint16_t used_idx;   /* the device's used.idx */
    uint16_t batch_old;  /* used_idx when the current batch began */
    uint32_t bad_flags;  /* last invalid avail.flags reported (+1), 0 none */
    uint8_t *owned;      /* [num]: descriptor is in flight */
    uint32_t *visit;     /* [num]: chain-walk stamps (loop detection) */
    uint32_t stamp;
    struct virtq_fake_seg *scratch_seg; /* [num]: the chain being walked */
    uint16_t *scratch_ring;             /* [num] */
    struct fake_req **pending;          /* [num]: taken, not yet served */
    int npending;
    struct fake_req *parked; /* held by the model or swallowed */
    int fault, fault_count;
    struct virtq_fake_queue_stats st;
};

struct virtq_fake_dev {
    pthread_mutex_t lock; /* recursive: models may call back in */
    int depth;
    int slot;
    uintptr_t base;
    int version;
    uint32_t device_id, vendor_id;
    uint64_t offered;
    int nq;
    struct fake_queue q[VIRTQ_FAKE_MAX_QUEUES];
    uint8_t *config;
    uint32_t config_len;
    struct virtq_fake_cfg_field *fields;
    int nfields;
    const struct virtq_fake_model *model;
    void *model_ctx;
    /* registers */
    uint32_t status, isr, generation;
    uint32_t dev_sel, drv_sel, queue_sel, page_size;
    uint8_t dev_sel_written, dev_sel_fresh, drv_sel_written, drv_high_garbage;
    uint8_t fo_unchecked; /* FEATURES_OK written, status not read back yet */
    uint8_t refuse_fo;
    uint8_t reset_stuck; /* test switch: a Status write of 0 does nothing */
    uint64_t drv_features, negotiated;
    uint32_t flap;
    /* completion */
    enum virtq_fake_mode mode;
    uint64_t rng;
    /* interrupt line */
    virtq_fake_irq_fn irq_fn;
    void *irq_ctx;
    int connected;
    int raise_pending;
    /* device thread */
    pthread_t thread;
    int thread_running, thread_stop;
    uint32_t max_delay_us;
    pthread_mutex_t kick_lock;
    pthread_cond_t kick_cond;
    uint32_t kicks;
    /* violations waiting for a thread that may run the handler */
    char undelivered[MAX_UNDELIVERED][VIRTQ_FAKE_MSG_MAX];
    int nundelivered;
    unsigned violations;
    struct virtq_fake_stats st;
};

/* ---- violations ---------------------------------------------------------------- */

static pthread_mutex_t vio_lock = PTHREAD_MUTEX_INITIALIZER;
static virtq_fake_violation_fn vio_fn;
static void *vio_ctx;
static unsigned vio_count;
static char vio_last[VIRTQ_FAKE_MSG_MAX];

static void vio_record(const char *msg)
{
    pthread_mutex_lock(&vio_lock);
    vio_count++;
    snprintf(vio_last, sizeof vio_last, "%s", msg);
    pthread_mutex_unlock(&vio_lock);
}

static void vio_deliver(const char *msg)
{
    virtq_fake_violation_fn fn;
    void *ctx;
    pthread_mutex_lock(&vio_lock);
    fn = vio_fn;
    ctx = vio_ctx;
    pthread_mutex_unlock(&vio_lock);
    if (fn != NULL) {
        fn(ctx, msg);
        return;
    }
    fprintf(stderr, "%s\n", msg);
    abort();
}

void virtq_fake_set_violation_handler(virtq_fake_violation_fn fn, void *ctx)
{
    pthread_mutex_lock(&vio_lock);
    vio_fn = fn;
    vio_ctx = ctx;
    pthread_mutex_unlock(&vio_lock);
}

unsigned virtq_fake_violation_count(void)
{
    unsigned n;
    pthread_mutex_lock(&vio_lock);
    n = vio_count;
    pthread_mutex_unlock(&vio_lock);
    return n;
}

const char *virtq_fake_last_violation(void)
{
    return vio_last;
}

void virtq_fake_clear_violations(void)
{
    pthread_mutex_lock(&vio_lock);
    vio_count = 0;
    vio_last[0] = '\0';
    pthread_mutex_unlock(&vio_lock);
}

void virtq_fake__violation_now(const char *fmt, ...)
{
    char msg[VIRTQ_FAKE_MSG_MAX];
    int n = snprintf(msg, sizeof msg, "fake: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    vio_record(msg);
    vio_deliver(msg);
}

/* Record a violation on d (lock held); it is handed to the handler when
   the outermost lock is released on a thread other than the device's. */
static void dev_vio_v(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt,
                      va_list ap)
{
    char msg[VIRTQ_FAKE_MSG_MAX];
    size_t n = (size_t)snprintf(msg, sizeof msg, "fake: %s%s", sec ? sec : "", sec ? ": " : "");
    if (n < sizeof msg)
        n += (size_t)vsnprintf(msg + n, sizeof msg - n, fmt, ap);
    if (n < sizeof msg) {
        if (qi >= 0)
            snprintf(msg + n, sizeof msg - n, " [dev %#lx q%d]", (unsigned long)d->base, qi);
        else
            snprintf(msg + n, sizeof msg - n, " [dev %#lx]", (unsigned long)d->base);
    }
    vio_record(msg);
    d->violations++;
    d->st.violations++;
    if (d->nundelivered < MAX_UNDELIVERED)
        memcpy(d->undelivered[d->nundelivered++], msg, sizeof msg);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void vio(struct virtq_fake_dev *d, int qi, const char *sec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dev_vio_v(d, qi, sec, fmt, ap);
    va_end(ap);
}

/* ---- locking: deliveries happen after the outermost unlock -------------------------- */

static void dev_lock(struct virtq_fake_dev *d)
{
    pthread_mutex_lock(&d->lock);
    d->depth++;
}

static void dev_unlock(struct virtq_fake_dev *d)
{
    char msgs[MAX_UNDELIVERED][VIRTQ_FAKE_MSG_MAX];
    int nmsg = 0, raise, connected, i;
    virtq_fake_irq_fn fn;
    void *ctx;
    if (--d->depth > 0) {
        pthread_mutex_unlock(&d->lock);
        return;
    }
    if (!(d->thread_running && pthread_equal(pthread_self(), d->thread))) {
        nmsg = d->nundelivered;
        memcpy(msgs, d->undelivered, sizeof msgs[0] * (size_t)nmsg);
        d->nundelivered = 0;
    }
    raise = d->raise_pending;
    d->raise_pending = 0;
    fn = d->irq_fn;
    ctx = d->irq_ctx;
    connected = d->connected;
    pthread_mutex_unlock(&d->lock);
    for (i = 0; i < nmsg; i++)
        vio_deliver(msgs[i]);
    if (raise) {
        if (fn != NULL)
            fn(d, ctx);
        if (connected)
            virtq_fake__cpu_raise();
    }
}

void virtq_fake_lock(struct virtq_fake_dev *dev)
{
    dev_lock(dev);
}

void virtq_fake_unlock(struct virtq_fake_dev *dev)
{
    dev_unlock(dev);
}

void virtq_fake_violation(struct virtq_fake_dev *dev, const char *fmt, ...)
{
    va_list ap;
    if (dev == NULL)
        return;
    dev_lock(dev);
    va_start(ap, fmt);
    dev_vio_v(dev, -1, NULL, fmt, ap);
    va_end(ap);
    dev_unlock(dev);
}

unsigned virtq_fake_dev_violation_count(struct virtq_fake_dev *dev)
{
    unsigned n;
    dev_lock(dev);
    n = dev->violations;
    dev_unlock(dev);
    return n;
}

/* ---- the device table ------------------------------------------------------------------ */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virtq_fake_dev *reg_tab[VIRTQ_FAKE_MAX_DEVICES];

static struct virtq_fake_dev *lookup(uintptr_t addr)
{
    struct virtq_fake_dev *d = NULL;
    int i;
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && addr >= reg_tab[i]->base && addr - reg_tab[i]->base < VIRTQ_FAKE_STRIDE) {
            d = reg_tab[i];
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    return d;
}

int virtq_fake__irq_lines_connected(void)
{
    int i, n = 0;
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && __atomic_load_n(&reg_tab[i]->connected, __ATOMIC_RELAXED))
            n++;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

struct virtq_fake_dev *virtq_fake_find(uintptr_t base)
{
    struct virtq_fake_dev *d = lookup(base);
    return d && d->base == base ? d : NULL;
}

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t rng_next(struct virtq_fake_dev *d)
{
    /* xorshift64*: deterministic per seed, good enough to shuffle. */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

static int is_pow2(uint32_t x)
{
    return x != 0u && (x & (x - 1u)) == 0u;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "fake: out of memory\n");
        abort();
    }
    return p;
}

/* Features the ring runs with: modern ones are fixed at FEATURES_OK;
   a legacy device uses the guest features as written. */
static uint64_t feats(const struct virtq_fake_dev *d)
{
    return d->version == 1 ? d->drv_features : d->negotiated;
}

static int has_feat(const struct virtq_fake_dev *d, int bit)
{
    return (feats(d) & VIRTQ_FEATURE(bit)) != 0;
}

static const char *reg_name(uint32_t off)
{
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return "MagicValue";
    case VIRTIO_MMIO_VERSION: return "Version";
    case VIRTIO_MMIO_DEVICE_ID: return "DeviceID";
    case VIRTIO_MMIO_VENDOR_ID: return "VendorID";
    case VIRTIO_MMIO_DEVICE_FEATURES: return "DeviceFeatures";
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: return "DeviceFeaturesSel";
    case VIRTIO_MMIO_DRIVER_FEATURES: return "DriverFeatures";
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: return "DriverFeaturesSel";
    case VIRTIO_MMIO_GUEST_PAGE_SIZE: return "GuestPageSize";
    case VIRTIO_MMIO_QUEUE_SEL: return "QueueSel";
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return "QueueNumMax";
    case VIRTIO_MMIO_QUEUE_NUM: return "QueueNum";
    case VIRTIO_MMIO_QUEUE_ALIGN: return "QueueAlign";
    case VIRTIO_MMIO_QUEUE_PFN: return "QueuePFN";
    case VIRTIO_MMIO_QUEUE_READY: return "QueueReady";
    case VIRTIO_MMIO_QUEUE_NOTIFY: return "QueueNotify";
    case VIRTIO_MMIO_INTERRUPT_STATUS: return "InterruptStatus";
    case VIRTIO_MMIO_INTERRUPT_ACK: return "InterruptACK";
    case VIRTIO_MMIO_STATUS: return "Status";
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return "QueueDescLow";
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return "QueueDescHigh";
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return "QueueDriverLow";
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return "QueueDriverHigh";
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return "QueueDeviceLow";
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return "QueueDeviceHigh";
    case VIRTIO_MMIO_CONFIG_GENERATION: return "ConfigGeneration";
    default: return NULL;
    }
}

/* ---- interrupts ------------------------------------------------------------------------------ */

/* Set InterruptStatus bits and raise the line (delivered at unlock). */
static void raise_irq(struct virtq_fake_dev *d, uint32_t bits)
{
    d->isr |= bits;
    d->raise_pending = 1;
    d->st.irqs++;
    if (bits & VIRTIO_MMIO_INT_CONFIG)
        d->st.config_irqs++;
}

/* "Device Status Field": DEVICE_NEEDS_RESET, then (once DRIVER_OK is set)
   a configuration change notification. */
static void set_needs_reset(struct virtq_fake_dev *d)
{
    if (d->status & ST_NEEDS_RESET)
        return;
    d->status |= ST_NEEDS_RESET;
    if (d->status & ST_DRIVER_OK)
        raise_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

/* A queue the driver corrupted: stop serving it until reset (QEMU's
   virtio_error() does the same). */
static void break_queue(struct virtq_fake_dev *d, struct fake_queue *q)
{
    q->broken = 1;
    set_needs_reset(d);
}

/* ---- queue memory --------------------------------------------------------------------------------- */

static void req_release(struct fake_queue *q, struct fake_req *r)
{
    int i;
    if (q->owned != NULL && r->epoch == q->epoch)
        for (i = 0; i < r->nring; i++)
            q->owned[r->ring[i]] = 0;
    free(r);
}

/* Drop everything the queue holds; held requests stay parked for the
   model unless drop_held (reset, destroy). */
static void queue_teardown(struct fake_queue *q, int drop_held)
{
    struct fake_req **pp = &q->parked;
    int i;
    for (i = 0; i < q->npending; i++)
        free(q->pending[i]);
    q->npending = 0;
    while (*pp) {
        struct fake_req *r = *pp;
        if (drop_held || r->state != REQ_HELD) {
            *pp = r->next;
            free(r);
        } else {
            pp = &r->next;
        }
    }
    free(q->owned);
    free(q->visit);
    free(q->scratch_seg);
    free(q->scratch_ring);
    free(q->pending);
    q->owned = NULL;
    q->visit = NULL;
    q->scratch_seg = NULL;
    q->scratch_ring = NULL;
    q->pending = NULL;
    q->desc = NULL;
    q->avail = NULL;
    q->used = NULL;
    q->ready = 0;
    q->broken = 0;
    q->force_irq = 0;
    q->epoch++;
}

static uint16_t *avail_event_ptr(struct fake_queue *q)
{
    return (uint16_t *)&q->used->ring[q->num];
}

static uint16_t *used_event_ptr(struct fake_queue *q)
{
    return &q->avail->ring[q->num];
}

/* Tell the driver whether to notify ("Available Buffer Notification
   Suppression"): used.flags without EVENT_IDX, avail_event with it. */
static void publish_notify_wish(struct virtq_fake_dev *d, struct fake_queue *q)
{
    /* Seq_cst stores here and seq_cst loads of avail.idx after: our flag
       store is ordered before the re-check (a store-load pair, which a
       release/acquire pair does not order). */
    if (!q->ready)
        return;
    if (has_feat(d, VIRTIO_F_EVENT_IDX)) {
        uint16_t ev = (uint16_t)(q->suppress ? q->last_avail - 1u : q->last_avail);
        __atomic_store_n(avail_event_ptr(q), ev, __ATOMIC_SEQ_CST);
    } else {
        __atomic_store_n(&q->used->flags, (uint16_t)(q->suppress ? VIRTQ_USED_F_NO_NOTIFY : 0),
                         __ATOMIC_SEQ_CST);
    }
}

/* Bring a queue live over desc/avail/used (host addresses).  Returns 0, or
   -1 (queue stays off) after a violation. */
static int queue_activate(struct virtq_fake_dev *d, int qi, uint64_t desc, uint64_t avail,
                          uint64_t used)
{
    struct fake_queue *q = &d->q[qi];
    const char *sec = d->version == 1 ? S_LEGACY : S_VQCFG;
    if (!is_pow2(q->num) || q->num > q->num_max) {
        vio(d, qi, S_SPLIT, "queue enabled with Queue Size %u (QueueNumMax %u, must be a power of 2)",
            q->num, q->num_max);
        return -1;
    }
    if (desc == 0 || avail == 0 || used == 0) {
        vio(d, qi, sec, "queue enabled with a zero address (descriptor %#llx, driver %#llx, device %#llx)",
            (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return -1;
    }
    if ((desc & 15u) || (avail & 1u) || (used & 3u)) {
        vio(d, qi, S_SPLIT,
            "misaligned ring: descriptor table %#llx (16), available ring %#llx (2), used ring %#llx (4)",
            (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return -1;
    }
    q->desc = (struct virtq_desc *)(uintptr_t)desc;
    q->avail = (struct virtq_avail *)(uintptr_t)avail;
    q->used = (struct virtq_used *)(uintptr_t)used;
    /* The driver zeroes the queue memory before handing it over
       ("Virtqueue Configuration"); used.flags must start at 0. */
    if (__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) != 0)
        vio(d, qi, S_AVAIL_SUPP, "used.flags is %#x when the queue is enabled: the driver MUST initialize it to 0",
            __atomic_load_n(&q->used->flags, __ATOMIC_RELAXED));
    q->last_avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    q->used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_RELAXED);
    if (q->last_avail != 0 || q->used_idx != 0)
        vio(d, qi, sec, "queue memory not zeroed when enabled: avail.idx %u, used.idx %u (both start at 0)",
            q->last_avail, q->used_idx);
    q->seen_avail = q->last_avail;
    q->owned = xcalloc(q->num, 1);
    q->visit = xcalloc(q->num, sizeof *q->visit);
    q->scratch_seg = xcalloc(q->num, sizeof *q->scratch_seg);
    q->scratch_ring = xcalloc(q->num, sizeof *q->scratch_ring);
    q->pending = xcalloc(q->num, sizeof(struct fake_req *));
    q->stamp = 0;
    q->bad_flags = 0;
    q->ready = 1;
    publish_notify_wish(d, q);
    return 0;
}

/* ---- reset -------------------------------------------------------------------------------------------- */

static void queue_defaults(struct fake_queue *q)
{
    q->num = q->num_max;
    q->desc_addr = q->driver_addr = q->device_addr = 0;
    q->pfn = 0;
    q->align = 4096;
    q->fault = VIRTQ_FAKE_FAULT_NONE;
    q->fault_count = 0;
}

static void dev_reset(struct virtq_fake_dev *d)
{
    int i;
    if (d->model && d->model->reset)
        d->model->reset(d, d->model_ctx);
    for (i = 0; i < d->nq; i++) {
        queue_teardown(&d->q[i], 1);
        queue_defaults(&d->q[i]);
    }
    d->status = 0;
    d->isr = 0;
    d->dev_sel = d->drv_sel = 0;
    d->dev_sel_written = d->dev_sel_fresh = d->drv_sel_written = d->drv_high_garbage = 0;
    d->fo_unchecked = 0;
    d->drv_features = d->negotiated = 0;
    d->flap = 0;
    d->st.resets++;
}

/* ---- chain walking ("The Virtqueue Descriptor Table") --------------------------------------------------- */

struct walk {
    struct virtq_fake_dev *d;
    struct fake_queue *q;
    int qi;
    uint16_t nseg;  /* descriptors carrying data (chain length) */
    uint16_t nring; /* descriptor-table entries used */
    int seen_write;
    uint64_t readable, writable;
};

static void load_desc(const void *p, struct virtq_desc *out)
{
    /* One copy; the driver may scribble afterwards, we never re-read. */
    memcpy(out, p, sizeof *out);
}

/* Add one data descriptor; where names it for messages. */
static int walk_seg(struct walk *w, const struct virtq_desc *dsc, const char *where, unsigned idx)
{
    struct virtq_fake_seg *s;
    int writable = (dsc->flags & VIRTQ_DESC_F_WRITE) != 0;
    if (w->nseg >= w->q->num) {
        vio(w->d, w->qi, S_INDIRECT, "descriptor chain longer than Queue Size %u", w->q->num);
        return -1;
    }
    if (dsc->addr == 0) {
        vio(w->d, w->qi, S_DESC, "%s %u has address 0", where, idx);
        return -1;
    }
    if (!writable && w->seen_write) {
        vio(w->d, w->qi, S_FRAMING, "readable %s %u after a writable one", where, idx);
        return -1;
    }
    w->seen_write |= writable;
    if (writable)
        w->writable += dsc->len;
    else
        w->readable += dsc->len;
    if (w->readable + w->writable > 0xffffffffull) {
        vio(w->d, w->qi, S_DESC, "descriptor chain longer than 2^32 bytes in total");
        return -1;
    }
    s = &w->q->scratch_seg[w->nseg++];
    s->addr = (void *)(uintptr_t)dsc->addr;
    s->len = dsc->len;
    s->writable = (uint8_t)writable;
    return 0;
}

static int walk_indirect(struct walk *w, const struct virtq_desc *ind, unsigned at)
{
    const unsigned char *table = (const unsigned char *)(uintptr_t)ind->addr;
    uint32_t n, i = 0, steps = 0;
    if (!has_feat(w->d, VIRTIO_F_INDIRECT_DESC)) {
        vio(w->d, w->qi, S_INDIRECT,
            "descriptor %u sets VIRTQ_DESC_F_INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated", at);
        return -1;
    }
    if (ind->flags & VIRTQ_DESC_F_NEXT) {
        vio(w->d, w->qi, S_INDIRECT, "descriptor %u sets both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT", at);
        return -1;
    }
    if (ind->len == 0 || (ind->len % 16u) != 0) {
        vio(w->d, w->qi, S_INDIRECT, "indirect table length %u (descriptor %u) is not a non-zero multiple of 16",
            ind->len, at);
        return -1;
    }
    if (ind->addr == 0) {
        vio(w->d, w->qi, S_DESC, "descriptor %u points at an indirect table at address 0", at);
        return -1;
    }
    n = ind->len / 16u;
    for (;;) {
        struct virtq_desc t;
        if (i >= n) {
            vio(w->d, w->qi, S_INDIRECT, "indirect descriptor next %u is beyond the table of %u (descriptor %u)",
                i, n, at);
            return -1;
        }
        if (++steps > n) {
            vio(w->d, w->qi, S_DESC, "indirect descriptor chain loops (table of descriptor %u)", at);
            return -1;
        }
        load_desc(table + (size_t)16u * i, &t);
        if (t.flags & VIRTQ_DESC_F_INDIRECT) {
            vio(w->d, w->qi, S_INDIRECT, "indirect descriptor %u sets VIRTQ_DESC_F_INDIRECT (nested table)", i);
            return -1;
        }
        if (walk_seg(w, &t, "indirect descriptor", i) < 0)
            return -1;
        if (!(t.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = t.next;
    }
}

/* Walk the chain at head; NULL after reporting a violation. */
static struct fake_req *walk_chain(struct virtq_fake_dev *d, int qi, uint16_t head)
{
    struct fake_queue *q = &d->q[qi];
    struct walk w = {d, q, qi, 0, 0, 0, 0, 0};
    struct fake_req *r;
    uint16_t idx = head;
    size_t size;
    int indirect = 0;
    if (++q->stamp == 0) {
        memset(q->visit, 0, sizeof *q->visit * q->num);
        q->stamp = 1;
    }
    for (;;) {
        struct virtq_desc dsc;
        if (idx >= q->num) {
            vio(d, qi, S_DESC, "descriptor next %u is beyond Queue Size %u (chain at head %u)", idx, q->num, head);
            return NULL;
        }
        if (q->visit[idx] == q->stamp) {
            vio(d, qi, S_DESC, "descriptor chain at head %u loops back to descriptor %u", head, idx);
            return NULL;
        }
        q->visit[idx] = q->stamp;
        if (q->owned[idx]) {
            vio(d, qi, S_SUPPLY, "descriptor %u is made available again while still in flight (chain at head %u)",
                idx, head);
            return NULL;
        }
        q->scratch_ring[w.nring++] = idx;
        load_desc(&q->desc[idx], &dsc);
        if (dsc.flags & VIRTQ_DESC_F_INDIRECT) {
            if (walk_indirect(&w, &dsc, idx) < 0)
                return NULL;
            indirect = 1;
            break;
        }
        if (walk_seg(&w, &dsc, "descriptor", idx) < 0)
            return NULL;
        if (!(dsc.flags & VIRTQ_DESC_F_NEXT))
            break;
        idx = dsc.next;
    }
    size = sizeof *r + sizeof(struct virtq_fake_seg) * w.nseg + sizeof(uint16_t) * w.nring;
    r = xcalloc(1, size);
    memcpy(r + 1, q->scratch_seg, sizeof(struct virtq_fake_seg) * w.nseg);
    r->pub.seg = (const struct virtq_fake_seg *)(r + 1);
    r->ring = (uint16_t *)((struct virtq_fake_seg *)(r + 1) + w.nseg);
    memcpy(r->ring, q->scratch_ring, sizeof(uint16_t) * w.nring);
    r->pub.queue = qi;
    r->pub.head = head;
    r->pub.nseg = w.nseg;
    r->pub.readable = (uint32_t)w.readable;
    r->pub.writable = (uint32_t)w.writable;
    r->nring = w.nring;
    r->epoch = q->epoch;
    r->state = REQ_PENDING;
    for (idx = 0; idx < w.nring; idx++)
        q->owned[r->ring[idx]] = 1;
    q->st.popped++;
    if (indirect)
        q->st.indirect++;
    if (w.nseg > q->st.max_chain)
        q->st.max_chain = w.nseg;
    return r;
}

/* ---- the available ring ------------------------------------------------------------------------------------- */

static int can_serve(const struct virtq_fake_dev *d, const struct fake_queue *q)
{
    return q->ready && !q->broken && (d->status & ST_DRIVER_OK) && !(d->status & ST_NEEDS_RESET);
}

static void check_avail_flags(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    uint16_t f = __atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED);
    int event = has_feat(d, VIRTIO_F_EVENT_IDX);
    if ((event ? f != 0 : f > 1) && q->bad_flags != (uint32_t)f + 1u) {
        q->bad_flags = (uint32_t)f + 1u;
        vio(d, qi, S_USED_SUPP, "avail.flags is %#x: the driver MUST set it to %s", f,
            event ? "0 when VIRTIO_F_EVENT_IDX is negotiated" : "0 or 1");
    }
}

/* Take every new chain into q->pending.  Returns the number taken. */
static int pop_avail(struct virtq_fake_dev *d, int qi)
{
    struct fake_queue *q = &d->q[qi];
    int n = 0;
    if (!can_serve(d, q))
        return 0;
    for (;;) {
        /* 2.7.13: the driver's barrier before its idx store pairs with
           this acquire; ring entries and descriptors are read after it. */
        uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
        if ((int16_t)(idx - q->seen_avail) < 0) {
            vio(d, qi, S_AVAIL, "avail.idx went back from %u to %u: the driver MUST NOT decrement it",
                q->seen_avail, idx);
            break_queue(d, q);
            return n;
        }
        if ((uint16_t)(idx - q->last_avail) > q->num) {
            vio(d, qi, S_SUPPLY, "avail.idx %u is %u entries past the %u the device has taken: more than Queue Size %u",
                idx, (uint16_t)(idx - q->last_avail), q->last_avail, q->num);
            break_queue(d, q);
            return n;
        }
        q->seen_avail = idx;
        check_avail_flags(d, qi, q);
        while (q->last_avail != idx) {
            uint16_t slot = q->last_avail;
            uint16_t head = __atomic_load_n(&q->avail->ring[slot & (q->num - 1u)], __ATOMIC_RELAXED);
            struct fake_req *r;
            q->last_avail++;
            if (head >= q->num) {
                vio(d, qi, S_AVAIL, "available ring entry %u names head %u, beyond Queue Size %u", slot, head,
                    q->num);
                break_queue(d, q);
                return n;
            }
            r = walk_chain(d, qi, head);
            if (r == NULL) {
                break_queue(d, q);
                return n;
            }
            q->pending[q->npending++] = r;
            n++;
        }
        /* Re-arm, then look once more: a chain published before the
           driver could see avail_event would otherwise wait for a notify
           that never comes (the device's half of 2.7.10). */
        if (!has_feat(d, VIRTIO_F_EVENT_IDX) || q->suppress)
            break;
        publish_notify_wish(d, q);
        if (__atomic_load_n(&q->avail->idx, __ATOMIC_SEQ_CST) == q->last_avail)
            break;
    }
    return n;
}

/* ---- the used ring ------------------------------------------------------------------------------------------- */

static void put_used(struct fake_queue *q, uint32_t id, uint32_t len)
{
    struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1u)];
    __atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
    q->used_idx++;
    /* "The Virtqueue Used Ring": id and len before used.idx (release);
       seq_cst also orders it before batch_end()'s loads of the driver's
       used_event/flags. */
    __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_SEQ_CST);
    q->st.completed++;
}

/* A descriptor inside an in-flight chain, not its head. */
static uint32_t pick_non_head(struct fake_queue *q, const struct fake_req *self)
{
    const struct fake_req *r;
    uint32_t i;
    int k;
    if (self->nring >= 2)
        return self->ring[1];
    for (k = 0; k < q->npending; k++)
        if (q->pending[k]->nring >= 2)
            return q->pending[k]->ring[1];
    for (r = q->parked; r; r = r->next)
        if (r->nring >= 2 && r->epoch == q->epoch)
            return r->ring[1];
    /* Only one-descriptor chains in flight: any index that is no head. */
    for (i = 0; i < q->num; i++) {
        int head = (i == self->pub.head);
        for (k = 0; k < q->npending && !head; k++)
            head = (i == q->pending[k]->pub.head);
        if (!head)
            return i;
    }
    return q->num;
}

static int take_fault(struct fake_queue *q, int fault)
{
    if (q->fault != fault || q->fault_count <= 0)
        return 0;
    if (--q->fault_count == 0)
        q->fault = VIRTQ_FAKE_FAULT_NONE;
    return 1;
}

/* Write the used element(s) for r, with any armed fault, and free it. */
static void finish_req(struct virtq_fake_dev *d, struct fake_queue *q, struct fake_req *r, uint32_t len)
{
    uint32_t id = r->pub.head;
    int twice = 0;
    uint16_t extra = 0;
    switch (q->fault_count > 0 ? q->fault : VIRTQ_FAKE_FAULT_NONE) {
    case VIRTQ_FAKE_FAULT_COMPLETE_TWICE:
        twice = take_fault(q, q->fault);
        break;
    case VIRTQ_FAKE_FAULT_ID_RANGE:
        if (take_fault(q, q->fault))
            id = (uint32_t)q->num + r->pub.head;
        break;
    case VIRTQ_FAKE_FAULT_ID_HIGH:
        if (take_fault(q, q->fault))
            id = r->pub.head | 0x10000u;
        break;
    case VIRTQ_FAKE_FAULT_ID_NOT_HEAD:
        if (take_fault(q, q->fault))
            id = pick_non_head(q, r);
        break;
    case VIRTQ_FAKE_FAULT_LEN_OVER:
        if (take_fault(q, q->fault) && r->pub.writable < 0xffffffffu)
            len = r->pub.writable + 1u;
        break;
    case VIRTQ_FAKE_FAULT_USED_IDX_JUMP:
        if (take_fault(q, q->fault))
            extra = q->num;
        break;
    case VIRTQ_FAKE_FAULT_USED_IDX_AHEAD:
        if (take_fault(q, q->fault))
            extra = 1;
        break;
    case VIRTQ_FAKE_FAULT_IGNORE_NO_INTERRUPT:
        if (take_fault(q, q->fault))
            q->force_irq = 1;
        break;
    default:
        break;
    }
    put_used(q, id, len);
    if (twice)
        put_used(q, id, len);
    if (extra) {
        q->used_idx = (uint16_t)(q->used_idx + extra);
        __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_SEQ_CST);
    }
    (void)d;
    req_release(q, r);
}

static void batch_begin(struct fake_queue *q)
{
    q->batch_old = q->used_idx;
}

/* After a batch of used elements: interrupt unless the driver asked not
   to be ("Used Buffer Notification Suppression"). */
static void batch_end(struct virtq_fake_dev *d, int qi, struct fake_queue *q)
{
    int want;
    if (q->used_idx == q->batch_old && !q->force_irq)
        return;
    /* Our used.idx store (seq_cst, put_used) before these seq_cst loads
       of the driver's used_event/flags: the store-load pair that would
       otherwise lose an interrupt. */
    check_avail_flags(d, qi, q);
    if (q->force_irq) {
        want = 1;
        q->force_irq = 0;
    } else if (has_feat(d, VIRTIO_F_EVENT_IDX)) {
        uint16_t ev = __atomic_load_n(used_event_ptr(q), __ATOMIC_SEQ_CST);
        want = virtq_need_event(ev, q->used_idx, q->batch_old);
    } else {
        want = !(__atomic_load_n(&q->avail->flags, __ATOMIC_SEQ_CST) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    q->batch_old = q->used_idx;
    if (want) {
        q->st.irqs++;
        raise_irq(d, VIRTIO_MMIO_INT_VRING);
    } else {
        q->st.irqs_suppressed++;
    }
}

static void park(struct fake_queue *q, struct fake_req *r, int state)
{
    r->state = (uint8_t)state;
    r->next = q->parked;
    q->parked = r;
}

/* Serve one taken request: the model, then the used element. */
static void serve_req(struct virtq_fake_dev *d, int qi, struct fake_req *r)
{
    struct fake_queue *q = &d->q[qi];
    uint32_t w = 0;
    if (take_fault(q, VIRTQ_FAKE_FAULT_NEVER_COMPLETE)) {
        park(q, r, REQ_LOST);
        return;
    }
    if (d->model && d->model->request)
        w = d->model->request(d, d->model_ctx, &r->pub);
    if (w == VIRTQ_FAKE_HELD) {
        park(q, r, REQ_HELD);
        return;
    }
    if (w > r->pub.writable) {
        vio(d, qi, NULL, "model %s says it wrote %u bytes into %u writable ones",
            d->model && d->model->name ? d->model->name : "?", w, r->pub.writable);
        w = r->pub.writable;
    }
    finish_req(d, q, r, w);
}

static struct fake_req *take_pending(struct virtq_fake_dev *d, struct fake_queue *q, int random)
{
    int k = 0;
    struct fake_req *r;
    if (random || d->mode == VIRTQ_FAKE_OUT_OF_ORDER)
        k = (int)(rng_next(d) % (uint64_t)q->npending);
    else if (d->mode == VIRTQ_FAKE_REVERSED)
        k = q->npending - 1;
    r = q->pending[k];
    memmove(&q->pending[k], &q->pending[k + 1], sizeof(struct fake_req *) * (size_t)(q->npending - k - 1));
    q->npending--;
    return r;
}

/* Complete up to n (n < 0: all) taken requests as one batch. */
static int complete_some(struct virtq_fake_dev *d, int qi, int n, int random)
{
    struct fake_queue *q = &d->q[qi];
    int k = 0;
    if (!can_serve(d, q))
        return 0;
    batch_begin(q);
    while ((n < 0 || k < n) && q->npending > 0 && can_serve(d, q)) {
        serve_req(d, qi, take_pending(d, q, random));
        k++;
    }
    batch_end(d, qi, q);
    return k;
}

/* ---- notify and the completion modes ------------------------------------------------------------------------- */

static int serve_queue(struct virtq_fake_dev *d, int qi)
{
    int n = pop_avail(d, qi);
    if (d->mode == VIRTQ_FAKE_SYNC && !d->thread_running)
        complete_some(d, qi, -1, 0);
    return n;
}

static void kick_thread(struct virtq_fake_dev *d)
{
    pthread_mutex_lock(&d->kick_lock);
    d->kicks++;
    pthread_cond_signal(&d->kick_cond);
    pthread_mutex_unlock(&d->kick_lock);
}

static void notify(struct virtq_fake_dev *d, uint32_t val)
{
    uint32_t qi = val & 0xffffu;
    struct fake_queue *q;
    if (val >> 16)
        vio(d, -1, S_NOTIFY, "QueueNotify %#x: without VIRTIO_F_NOTIFICATION_DATA the value is the queue index",
            val);
    if (!(d->status & ST_DRIVER_OK)) {
        vio(d, -1, S_INIT, "QueueNotify for queue %u before DRIVER_OK (status %#x)", qi, d->status);
        return;
    }
    if ((int)qi >= d->nq || !d->q[qi].ready) {
        vio(d, -1, S_NOTIFY, "QueueNotify names queue %u, which is %s", qi,
            (int)qi >= d->nq ? "not there" : "not enabled");
        return;
    }
    q = &d->q[qi];
    q->st.notifies++;
    if (q->suppress)
        q->st.notifies_suppressed++;
    if (d->thread_running) {
        kick_thread(d);
        return;
    }
    if (serve_queue(d, (int)qi) == 0)
        q->st.notifies_empty++;
}

/* ---- the status machine ("Device Initialization", "Device Status Field") ------------------------------------------ */

static int accept_features(struct virtq_fake_dev *d, uint64_t acc)
{
    uint64_t extra = acc & ~d->offered;
    int ok = 1;
    if (extra || d->drv_high_garbage) {
        vio(d, -1, S_FEATURES, "the driver accepted feature bits %#llx%s that the device did not offer",
            (unsigned long long)extra, d->drv_high_garbage ? " (and bits above 63)" : "");
        ok = 0;
    }
    if (d->version == 2 && (d->offered & VIRTQ_FEATURE(VIRTIO_F_VERSION_1)) &&
        !(acc & VIRTQ_FEATURE(VIRTIO_F_VERSION_1))) {
        vio(d, -1, S_RESERVED, "the driver did not accept VIRTIO_F_VERSION_1, which the device offers");
        ok = 0;
    }
    if (ok && d->model && d->model->features_ok && !d->model->features_ok(d, d->model_ctx, acc))
        ok = 0;
    return ok;
}

static void status_write(struct virtq_fake_dev *d, uint32_t val)
{
    uint32_t old = d->status, added, cleared;
    d->st.status_writes++;
    if (val == 0) {
        if (!d->reset_stuck) /* stuck: the reset never completes */
            dev_reset(d);
        return;
    }
    if (val & ~ST_ALL)
        vio(d, -1, S_STATUS, "status %#x sets undefined bits", val);
    cleared = old & ~val & ~(uint32_t)ST_NEEDS_RESET;
    if (cleared)
        vio(d, -1, S_STATUS, "status %#x clears bit(s) %#x: the driver MUST NOT clear a status bit (write 0 to reset)",
            val, cleared);
    added = val & ~old;
    if (added & ST_NEEDS_RESET) {
        vio(d, -1, S_STATUS, "the driver set DEVICE_NEEDS_RESET, a bit only the device sets");
        val &= ~(uint32_t)ST_NEEDS_RESET;
        added &= ~(uint32_t)ST_NEEDS_RESET;
    }
    if ((added & ST_DRIVER) && !(val & ST_ACK))
        vio(d, -1, S_INIT, "DRIVER set before ACKNOWLEDGE (status %#x -> %#x)", old, val);
    if ((added & ST_FEATURES_OK) && d->version == 2) {
        if (!(val & ST_DRIVER) || !(val & ST_ACK)) {
            vio(d, -1, S_INIT, "FEATURES_OK set before ACKNOWLEDGE and DRIVER (status %#x -> %#x)", old, val);
            val &= ~(uint32_t)ST_FEATURES_OK;
        } else if (!accept_features(d, d->drv_features) || d->refuse_fo)
            val &= ~(uint32_t)ST_FEATURES_OK; /* refused: the bit does not stick */
        else
            d->negotiated = d->drv_features;
        d->fo_unchecked = 1;
    }
    if ((old & ST_FAILED) && (added & ~(uint32_t)ST_FAILED))
        vio(d, -1, S_STATUS, "status bits %#x set after FAILED: the driver MUST reset the device before re-initializing",
            added & ~(uint32_t)ST_FAILED);
    if (added & ST_DRIVER_OK) {
        if (!(val & ST_DRIVER) || !(val & ST_ACK))
            vio(d, -1, S_INIT, "DRIVER_OK set before ACKNOWLEDGE and DRIVER (status %#x -> %#x)", old, val);
        if (d->version == 2) {
            if (!(val & ST_FEATURES_OK))
                vio(d, -1, S_INIT, "DRIVER_OK set without FEATURES_OK (status %#x -> %#x)", old, val);
            else if (d->fo_unchecked)
                vio(d, -1, S_INIT,
                    "DRIVER_OK set without re-reading the status after FEATURES_OK (the device may refuse it)");
        } else {
            (void)accept_features(d, d->drv_features);
        }
    }
    d->status = val | (old & ST_NEEDS_RESET);
}

/* ---- register access ("MMIO Device Register Layout") ----------------------------------------------------------------- */

static struct fake_queue *sel_queue(struct virtq_fake_dev *d)
{
    return d->queue_sel < (uint32_t)d->nq ? &d->q[d->queue_sel] : NULL;
}

/* A register the other interface version has. */
static int wrong_layout(struct virtq_fake_dev *d, uint32_t off, int legacy_reg)
{
    if ((d->version == 1) == legacy_reg)
        return 0;
    vio(d, -1, legacy_reg ? S_LEGACY : S_REGS, "%s is a %s register; this is a %s device", reg_name(off),
        legacy_reg ? "legacy-only" : "modern-only", d->version == 1 ? "legacy (version 1)" : "modern (version 2)");
    return 1;
}

/* Queue registers may be written only while setting queues up. */
static void setup_window(struct virtq_fake_dev *d, const char *what)
{
    uint32_t need = d->version == 2 ? ST_FEATURES_OK : ST_DRIVER;
    if ((d->status & need) && !(d->status & ST_DRIVER_OK))
        return;
    vio(d, (int)d->queue_sel, S_INIT, "%s written outside virtqueue setup (status %#x): after %s and before DRIVER_OK",
        what, d->status, d->version == 2 ? "FEATURES_OK" : "DRIVER");
}

static struct fake_queue *queue_for_write(struct virtq_fake_dev *d, uint32_t off)
{
    struct fake_queue *q = sel_queue(d);
    if (q == NULL)
        vio(d, -1, S_VQCFG, "%s written for queue %u, which does not exist (QueueNumMax reads 0)", reg_name(off),
            d->queue_sel);
    return q;
}

/* ---- config space ---- */

static const struct virtq_fake_cfg_field *cfg_field(const struct virtq_fake_dev *d, uint32_t off)
{
    int i;
    for (i = 0; i < d->nfields; i++)
        if (off >= d->fields[i].off && off < (uint32_t)d->fields[i].off + d->fields[i].size)
            return &d->fields[i];
    return NULL;
}

/* 0 if the access may proceed. */
static int cfg_check(struct virtq_fake_dev *d, uint32_t off, int width, int write)
{
    const char *what = write ? "write" : "read";
    const struct virtq_fake_cfg_field *f;
    if (off + (uint32_t)width > d->config_len) {
        vio(d, -1, S_REGS, "%d-bit config %s at offset %#x, beyond the %u-byte configuration space", width * 8, what,
            off, d->config_len);
        return -1;
    }
    if (d->version == 2 && (off % (uint32_t)width) != 0)
        vio(d, -1, S_REGS, "%d-bit config %s at offset %#x is not aligned", width * 8, what, off);
    if (d->nfields == 0)
        return 0;
    f = cfg_field(d, off);
    if (f == NULL) {
        vio(d, -1, S_REGS, "config %s at offset %#x, which the device type does not describe", what, off);
        return 0;
    }
    if (d->version == 2) {
        int ew = f->width == 8 ? 4 : f->width;
        if (width != ew || off + (uint32_t)width > (uint32_t)f->off + f->size || (off - f->off) % (uint32_t)ew)
            vio(d, -1, S_REGS, "%d-bit config %s at offset %#x: the field at %#x takes %d-bit accesses",
                width * 8, what, off, f->off, ew * 8);
    }
    if (f->feature >= 0 && !(d->offered & VIRTQ_FEATURE(f->feature)))
        vio(d, -1, S_CONFIG, "config field at offset %#x accessed, but its feature bit %d is not offered", f->off,
            f->feature);
    if (write && !f->writable)
        vio(d, -1, S_CONFIG, "the driver wrote config field at offset %#x, which is read-only", f->off);
    return 0;
}

static uint32_t cfg_read(struct virtq_fake_dev *d, uint32_t off, int width)
{
    uint32_t v = 0;
    d->st.config_reads++;
    if (d->flap > 0) {
        d->flap--;
        d->generation++;
    }
    if (cfg_check(d, off, width, 0) < 0)
        return 0;
    memcpy(&v, d->config + off, (size_t)width); /* little-endian host */
    return v;
}

static void cfg_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val, int width)
{
    if (cfg_check(d, off, width, 1) < 0)
        return;
    if (d->model && d->model->config_write)
        d->model->config_write(d, d->model_ctx, off, val, width);
    else
        memcpy(d->config + off, &val, (size_t)width);
}

/* ---- control registers ---- */

static uint32_t reg_read32(struct virtq_fake_dev *d, uint32_t off)
{
    struct fake_queue *q = sel_queue(d);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return (uint32_t)d->version;
    case VIRTIO_MMIO_DEVICE_ID: return d->device_id;
    case VIRTIO_MMIO_VENDOR_ID: return d->vendor_id;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        d->st.feature_reads++;
        if (!d->dev_sel_written)
            vio(d, -1, S_REGS, "DeviceFeatures read before any write to DeviceFeaturesSel");
        else if (!d->dev_sel_fresh)
            d->st.stale_feature_reads++;
        d->dev_sel_fresh = 0;
        if (d->dev_sel == 0)
            return (uint32_t)d->offered;
        if (d->dev_sel == 1 && d->version == 2)
            return (uint32_t)(d->offered >> 32);
        return 0; /* legacy devices (like QEMU's) show only bits 0-31 */
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        if (q == NULL)
            return 0;
        if (d->version == 1 && q->pfn != 0)
            vio(d, (int)d->queue_sel, S_LEGACY, "QueueNumMax read while QueuePFN is set (the queue is in use)");
        return q->num_max;
    case VIRTIO_MMIO_QUEUE_READY:
        if (wrong_layout(d, off, 0))
            return 0;
        return q ? q->ready : 0;
    case VIRTIO_MMIO_QUEUE_PFN:
        if (wrong_layout(d, off, 1))
            return 0;
        return q ? q->pfn : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->isr;
    case VIRTIO_MMIO_STATUS:
        d->fo_unchecked = 0;
        return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        if (wrong_layout(d, off, 0))
            return 0;
        d->st.generation_reads++;
        return d->generation;
    default:
        if (reg_name(off) != NULL)
            vio(d, -1, S_REGS, "read of write-only register %s", reg_name(off));
        else
            vio(d, -1, S_REGS, "read at offset %#x, which the register layout does not describe", off);
        return 0;
    }
}

static void queue_addr_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    struct fake_queue *q;
    uint64_t *a;
    if (wrong_layout(d, off, 0) || (q = queue_for_write(d, off)) == NULL)
        return;
    setup_window(d, reg_name(off));
    if (q->ready) {
        vio(d, (int)d->queue_sel, S_REGS, "%s written while QueueReady is 1", reg_name(off));
        return;
    }
    a = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW ? &q->desc_addr
        : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->driver_addr : &q->device_addr;
    if (off & 4u)
        *a = (*a & 0xffffffffull) | ((uint64_t)val << 32);
    else
        *a = (*a & ~0xffffffffull) | val;
}

static void reg_write32(struct virtq_fake_dev *d, uint32_t off, uint32_t val)
{
    struct fake_queue *q;
    int qi = (int)d->queue_sel;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        d->dev_sel = val;
        d->dev_sel_written = d->dev_sel_fresh = 1;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        d->drv_sel = val;
        d->drv_sel_written = 1;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (!d->drv_sel_written)
            vio(d, -1, S_REGS, "DriverFeatures written before any write to DriverFeaturesSel");
        if (!(d->status & ST_DRIVER) || (d->status & ST_DRIVER_OK) ||
            (d->version == 2 && (d->status & ST_FEATURES_OK)))
            vio(d, -1, S_INIT, "DriverFeatures written outside feature negotiation (status %#x): after DRIVER, before %s",
                d->status, d->version == 2 ? "FEATURES_OK" : "DRIVER_OK");
        if (d->drv_sel == 0)
            d->drv_features = (d->drv_features & ~0xffffffffull) | val;
        else if (d->drv_sel == 1)
            d->drv_features = (d->drv_features & 0xffffffffull) | ((uint64_t)val << 32);
        else if (val != 0)
            d->drv_high_garbage = 1;
        return;
    case VIRTIO_MMIO_GUEST_PAGE_SIZE:
        if (wrong_layout(d, off, 1))
            return;
        if (!is_pow2(val))
            vio(d, -1, S_LEGACY, "GuestPageSize %u is not a power of 2", val);
        else
            d->page_size = val;
        return;
    case VIRTIO_MMIO_QUEUE_SEL:
        d->queue_sel = val;
        return;
    case VIRTIO_MMIO_QUEUE_NUM:
        if ((q = queue_for_write(d, off)) == NULL)
            return;
        setup_window(d, "QueueNum");
        if (q->ready)
            vio(d, qi, d->version == 1 ? S_LEGACY : S_REGS, "QueueNum written while the queue is enabled");
        else if (val > q->num_max)
            vio(d, qi, S_REGS, "QueueNum %u exceeds QueueNumMax %u", val, q->num_max);
        else if (!is_pow2(val))
            vio(d, qi, S_SPLIT, "QueueNum %u: a split queue's size is a power of 2", val);
        else
            q->num = (uint16_t)val;
        return;
    case VIRTIO_MMIO_QUEUE_ALIGN:
        if (wrong_layout(d, off, 1) || (q = queue_for_write(d, off)) == NULL)
            return;
        setup_window(d, "QueueAlign");
        if (!is_pow2(val) || val < 4u)
            vio(d, qi, S_LEGACY, "QueueAlign %u is not a power of 2 (>= 4)", val);
        else
            q->align = val;
        return;
    case VIRTIO_MMIO_QUEUE_PFN: {
        uint64_t desc, avail, used;
        if (wrong_layout(d, off, 1) || (q = queue_for_write(d, off)) == NULL)
            return;
        if (val == 0) { /* the driver stops using the queue */
            queue_teardown(q, 0);
            q->pfn = 0;
            return;
        }
        setup_window(d, "QueuePFN");
        if (q->ready) {
            vio(d, qi, S_LEGACY, "QueuePFN written while the queue is in use (write 0 first)");
            return;
        }
        if (d->page_size == 0) {
            vio(d, qi, S_LEGACY, "QueuePFN written before GuestPageSize");
            return;
        }
        desc = (uint64_t)val * d->page_size;
        avail = desc + 16u * (uint64_t)q->num;
        used = (avail + 6u + 2u * (uint64_t)q->num + q->align - 1u) & ~((uint64_t)q->align - 1u);
        if (queue_activate(d, qi, desc, avail, used) == 0)
            q->pfn = val;
        return;
    }
    case VIRTIO_MMIO_QUEUE_READY:
        if (wrong_layout(d, off, 0) || (q = queue_for_write(d, off)) == NULL)
            return;
        if (val == 0) {
            queue_teardown(q, 0);
            return;
        }
        setup_window(d, "QueueReady");
        if (val != 1)
            vio(d, qi, S_REGS, "QueueReady written with %u (0 or 1)", val);
        else if (!q->ready)
            (void)queue_activate(d, qi, q->desc_addr, q->driver_addr, q->device_addr);
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        notify(d, val);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        if (val & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
            vio(d, -1, S_REGS, "InterruptACK %#x sets undefined bits", val);
        d->isr &= ~val;
        return;
    case VIRTIO_MMIO_STATUS:
        status_write(d, val);
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        queue_addr_write(d, off, val);
        return;
    default:
        if (reg_name(off) != NULL)
            vio(d, -1, S_REGS, "write to read-only register %s", reg_name(off));
        else
            vio(d, -1, S_REGS, "write at offset %#x, which the register layout does not describe", off);
        return;
    }
}

static uint32_t width_mask(int width)
{
    return width >= 4 ? 0xffffffffu : ((1u << (8 * width)) - 1u);
}

static int bad_width(int width)
{
    return width != 1 && width != 2 && width != 4;
}

uint32_t virtq_fake_mmio_read(uintptr_t addr, int width)
{
    struct virtq_fake_dev *d;
    uint32_t off, v;
    virtq_fake__cpu_boundary();
    d = bad_width(width) ? NULL : lookup(addr);
    if (d == NULL) {
        virtq_fake__violation_now("%d-bit MMIO read at %#lx: %s", width * 8, (unsigned long)addr,
                                  bad_width(width) ? "no such access width" : "no fake device there");
        return 0;
    }
    off = (uint32_t)(addr - d->base);
    dev_lock(d);
    if (off >= VIRTIO_MMIO_CONFIG) {
        v = cfg_read(d, off - VIRTIO_MMIO_CONFIG, width);
    } else {
        if (width != 4 || (off & 3u))
            vio(d, -1, S_REGS, "%d-bit read at offset %#x: control registers take aligned 32-bit accesses only",
                width * 8, off);
        v = (reg_read32(d, off & ~3u) >> (8u * (off & 3u))) & width_mask(width);
    }
    dev_unlock(d);
    return v;
}

void virtq_fake_mmio_write(uintptr_t addr, uint32_t val, int width)
{
    struct virtq_fake_dev *d;
    uint32_t off;
    virtq_fake__cpu_boundary();
    d = bad_width(width) ? NULL : lookup(addr);
    if (d == NULL) {
        virtq_fake__violation_now("%d-bit MMIO write of %#x at %#lx: %s", width * 8, val, (unsigned long)addr,
                                  bad_width(width) ? "no such access width" : "no fake device there");
        return;
    }
    off = (uint32_t)(addr - d->base);
    val &= width_mask(width);
    dev_lock(d);
    if (off >= VIRTIO_MMIO_CONFIG) {
        cfg_write(d, off - VIRTIO_MMIO_CONFIG, val, width);
    } else {
        if (width != 4 || (off & 3u))
            vio(d, -1, S_REGS, "%d-bit write at offset %#x: control registers take aligned 32-bit accesses only",
                width * 8, off);
        else
            reg_write32(d, off, val);
    }
    dev_unlock(d);
}

/* ---- the device thread ------------------------------------------------------------------------------------------- */

static void sleep_us(uint32_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

static void *dev_thread(void *arg)
{
    struct virtq_fake_dev *d = arg;
    uint32_t seen = 0;
    dev_lock(d);
    while (!d->thread_stop) {
        int qi, did = 0;
        uint32_t delay = 0;
        for (qi = 0; qi < d->nq; qi++) {
            if (!can_serve(d, &d->q[qi]))
                continue;
            pop_avail(d, qi);
            if (d->q[qi].npending > 0 && complete_some(d, qi, 1, 1) > 0)
                did = 1;
        }
        if (did && d->max_delay_us)
            delay = (uint32_t)(rng_next(d) % ((uint64_t)d->max_delay_us + 1u));
        dev_unlock(d); /* interrupts are delivered here, on this thread */
        if (did) {
            sleep_us(delay);
        } else {
            struct timespec ts;
            pthread_mutex_lock(&d->kick_lock);
            if (d->kicks == seen) {
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&d->kick_cond, &d->kick_lock, &ts);
            }
            seen = d->kicks;
            pthread_mutex_unlock(&d->kick_lock);
        }
        dev_lock(d);
    }
    dev_unlock(d);
    return NULL;
}

int virtq_fake_start_thread(struct virtq_fake_dev *dev)
{
    int rc = 0;
    dev_lock(dev);
    if (!dev->thread_running) {
        dev->thread_stop = 0;
        /* The lock is held: the thread cannot run before thread_running says so. */
        if (pthread_create(&dev->thread, NULL, dev_thread, dev) != 0)
            rc = -1;
        else
            dev->thread_running = 1;
    }
    dev_unlock(dev);
    return rc;
}

void virtq_fake_stop_thread(struct virtq_fake_dev *dev)
{
    pthread_t t;
    dev_lock(dev);
    if (!dev->thread_running) {
        dev_unlock(dev);
        return;
    }
    dev->thread_stop = 1;
    t = dev->thread;
    dev_unlock(dev);
    kick_thread(dev);
    pthread_join(t, NULL);
    dev_lock(dev);
    dev->thread_running = 0;
    dev_unlock(dev); /* hands over what the thread found */
}

void virtq_fake_set_thread_delay(struct virtq_fake_dev *dev, uint32_t max_delay_us)
{
    dev_lock(dev);
    dev->max_delay_us = max_delay_us;
    dev_unlock(dev);
}

/* ---- create / destroy --------------------------------------------------------------------------------------------- */

struct virtq_fake_dev *virtq_fake_create(const struct virtq_fake_params *p)
{
    struct virtq_fake_dev *d;
    pthread_mutexattr_t ma;
    int i, slot = -1;
    uintptr_t base;
    if (p == NULL || (p->version != 0 && p->version != 1 && p->version != 2) || p->num_queues < 0 ||
        p->num_queues > VIRTQ_FAKE_MAX_QUEUES || p->config_len > VIRTQ_FAKE_CONFIG_MAX ||
        (p->config_len && p->config == NULL) || p->num_config_fields < 0 ||
        (p->num_config_fields && p->config_fields == NULL)) {
        fprintf(stderr, "fake: virtq_fake_create: bad parameters\n");
        return NULL;
    }
    for (i = 0; i < p->num_queues; i++)
        if (p->queue_num_max[i] > VIRTQ_MAX_SIZE) {
            fprintf(stderr, "fake: virtq_fake_create: QueueNumMax %u > %u\n", p->queue_num_max[i], VIRTQ_MAX_SIZE);
            return NULL;
        }
    d = xcalloc(1, sizeof *d);
    pthread_mutex_lock(&reg_lock);
    for (i = 0; i < VIRTQ_FAKE_MAX_DEVICES && slot < 0; i++)
        if (reg_tab[i] == NULL)
            slot = i;
    base = p->base;
    if (slot >= 0 && base == 0) { /* the lowest free default window */
        int k, taken;
        for (k = 0; k < 4 * VIRTQ_FAKE_MAX_DEVICES; k++) {
            base = VIRTQ_FAKE_BASE0 + (uintptr_t)k * VIRTQ_FAKE_STRIDE;
            for (taken = 0, i = 0; i < VIRTQ_FAKE_MAX_DEVICES; i++)
                taken |= reg_tab[i] && reg_tab[i]->base < base + VIRTQ_FAKE_STRIDE &&
                          base < reg_tab[i]->base + VIRTQ_FAKE_STRIDE;
            if (!taken)
                break;
        }
    }
    for (i = 0; slot >= 0 && i < VIRTQ_FAKE_MAX_DEVICES; i++)
        if (reg_tab[i] && reg_tab[i]->base < base + VIRTQ_FAKE_STRIDE && base < reg_tab[i]->base + VIRTQ_FAKE_STRIDE) {
            fprintf(stderr, "fake: virtq_fake_create: base %#lx overlaps the device at %#lx\n", (unsigned long)base,
                    (unsigned long)reg_tab[i]->base);
            slot = -2;
        }
    if (slot < 0) {
        pthread_mutex_unlock(&reg_lock);
        if (slot == -1)
            fprintf(stderr, "fake: virtq_fake_create: more than %d devices\n", VIRTQ_FAKE_MAX_DEVICES);
        free(d);
        return NULL;
    }
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&d->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&d->kick_cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    pthread_mutex_init(&d->kick_lock, NULL);
    d->slot = slot;
    d->base = base;
    d->version = p->version ? p->version : 2;
    d->device_id = p->device_id;
    d->vendor_id = p->vendor_id ? p->vendor_id : 0x554d4551u;
    d->offered = p->features;
    d->nq = p->num_queues;
    for (i = 0; i < d->nq; i++) {
        d->q[i].num_max = p->queue_num_max[i] ? p->queue_num_max[i] : 256;
        queue_defaults(&d->q[i]);
    }
    d->config_len = p->config_len;
    d->config = xcalloc(p->config_len ? p->config_len : 1, 1);
    if (p->config_len)
        memcpy(d->config, p->config, p->config_len);
    d->nfields = p->num_config_fields;
    if (d->nfields) {
        d->fields = xcalloc((size_t)d->nfields, sizeof *d->fields);
        memcpy(d->fields, p->config_fields, sizeof *d->fields * (size_t)d->nfields);
    }
    d->model = p->model;
    d->model_ctx = p->model_ctx;
    d->mode = VIRTQ_FAKE_SYNC;
    d->rng = 0x9e3779b97f4a7c15ull;
    d->max_delay_us = 200;
    reg_tab[slot] = d;
    pthread_mutex_unlock(&reg_lock);
    return d;
}

void virtq_fake_destroy(struct virtq_fake_dev *dev)
{
    int i;
    if (dev == NULL)
        return;
    virtq_fake_stop_thread(dev);
    pthread_mutex_lock(&reg_lock);
    reg_tab[dev->slot] = NULL;
    pthread_mutex_unlock(&reg_lock);
    dev_lock(dev);
    for (i = 0; i < dev->nq; i++)
        queue_teardown(&dev->q[i], 1);
    dev->raise_pending = 0;
    dev_unlock(dev); /* hands over undelivered violations */
    if (dev->model && dev->model->destroy)
        dev->model->destroy(dev->model_ctx);
    pthread_mutex_destroy(&dev->lock);
    pthread_mutex_destroy(&dev->kick_lock);
    pthread_cond_destroy(&dev->kick_cond);
    free(dev->fields);
    free(dev->config);
    free(dev);
}

/* ---- small public accessors ------------------------------------------------------------------------------------------ */

uintptr_t virtq_fake_base(const struct virtq_fake_dev *dev)
{
    return dev->base;
}

void *virtq_fake_model_ctx(const struct virtq_fake_dev *dev)
{
    return dev->model_ctx;
}

uint32_t virtq_fake_status(struct virtq_fake_dev *dev)
{
    uint32_t v;
    dev_lock(dev);
    v = dev->status;
    dev_unlock(dev);
    return v;
}

uint64_t virtq_fake_driver_features(struct virtq_fake_dev *dev)
{
    uint64_t v;
    dev_lock(dev);
    v = dev->drv_features;
    dev_unlock(dev);
    return v;
}

static int bad_queue(const struct virtq_fake_dev *dev, int q)
{
    return dev == NULL || q < 0 || q >= dev->nq;
}

int virtq_fake_queue_ready(struct virtq_fake_dev *dev, int q)
{
    int v;
    if (bad_queue(dev, q))
        return 0;
    dev_lock(dev);
    v = dev->q[q].ready;
    dev_unlock(dev);
    return v;
}

uint32_t virtq_fake_interrupt_status(struct virtq_fake_dev *dev)
{
    uint32_t v;
    dev_lock(dev);
    v = dev->isr;
    dev_unlock(dev);
    return v;
}

void virtq_fake_set_offered_features(struct virtq_fake_dev *dev, uint64_t features)
{
    dev_lock(dev);
    dev->offered = features;
    dev_unlock(dev);
}

void virtq_fake_refuse_features_ok(struct virtq_fake_dev *dev, int refuse)
{
    dev_lock(dev);
    dev->refuse_fo = (uint8_t)(refuse != 0);
    dev_unlock(dev);
}

void virtq_fake_stick_reset(struct virtq_fake_dev *dev, int stuck)
{
    dev_lock(dev);
    dev->reset_stuck = (uint8_t)(stuck != 0);
    dev_unlock(dev);
}

void virtq_fake_set_irq_callback(struct virtq_fake_dev *dev, virtq_fake_irq_fn fn, void *ctx)
{
    dev_lock(dev);
    dev->irq_fn = fn;
    dev->irq_ctx = ctx;
    dev_unlock(dev);
}

void virtq_fake_connect_irq(struct virtq_fake_dev *dev, int connected)
{
    dev_lock(dev);
    __atomic_store_n(&dev->connected, connected != 0, __ATOMIC_RELAXED);
    dev_unlock(dev);
}

void virtq_fake_raise_irq(struct virtq_fake_dev *dev, uint32_t int_bits)
{
    dev_lock(dev);
    raise_irq(dev, int_bits);
    dev_unlock(dev);
}

void virtq_fake_set_mode(struct virtq_fake_dev *dev, enum virtq_fake_mode mode, uint64_t seed)
{
    dev_lock(dev);
    dev->mode = mode;
    dev->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    dev_unlock(dev);
}

int virtq_fake_poll(struct virtq_fake_dev *dev, int q)
{
    int n;
    if (bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    n = dev->thread_running ? 0 : serve_queue(dev, q);
    dev_unlock(dev);
    return n;
}

int virtq_fake_step(struct virtq_fake_dev *dev, int q, int n)
{
    int k = -1;
    if (bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    if (!dev->thread_running) {
        if (dev->q[q].suppress)
            pop_avail(dev, q);
        k = complete_some(dev, q, n, 0);
    }
    dev_unlock(dev);
    return k;
}

int virtq_fake_pending(struct virtq_fake_dev *dev, int q)
{
    int n;
    if (bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    n = dev->q[q].npending;
    dev_unlock(dev);
    return n;
}

int virtq_fake_in_flight(struct virtq_fake_dev *dev, int q)
{
    const struct fake_req *r;
    int n;
    if (bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    n = dev->q[q].npending;
    for (r = dev->q[q].parked; r; r = r->next)
        n += r->epoch == dev->q[q].epoch;
    dev_unlock(dev);
    return n;
}

void virtq_fake_req_complete(struct virtq_fake_dev *dev, struct virtq_fake_req *req, uint32_t written)
{
    struct fake_req *r = (struct fake_req *)req, **pp = NULL;
    struct fake_queue *q = NULL;
    int qi;
    dev_lock(dev);
    /* Find it by address only: a stale pointer is never dereferenced. */
    for (qi = 0; qi < dev->nq && pp == NULL; qi++) {
        struct fake_req **p;
        for (p = &dev->q[qi].parked; *p; p = &(*p)->next)
            if (*p == r) {
                pp = p;
                q = &dev->q[qi];
                break;
            }
    }
    qi--;
    if (pp == NULL || r->state != REQ_HELD) {
        vio(dev, -1, NULL, "model completed a request it does not hold");
    } else {
        *pp = r->next;
        if (r->epoch != q->epoch || !can_serve(dev, q)) {
            req_release(q, r); /* the queue was reset or disabled meanwhile */
        } else {
            if (written > r->pub.writable) {
                vio(dev, qi, NULL, "model says it wrote %u bytes into %u writable ones", written, r->pub.writable);
                written = r->pub.writable;
            }
            batch_begin(q);
            finish_req(dev, q, r, written);
            batch_end(dev, qi, q);
        }
    }
    dev_unlock(dev);
}

uint32_t virtq_fake_req_read(const struct virtq_fake_req *req, uint32_t off, void *dst, uint32_t len)
{
    uint32_t done = 0;
    int i;
    for (i = 0; i < req->nseg && done < len; i++) {
        const struct virtq_fake_seg *s = &req->seg[i];
        uint32_t n;
        if (s->writable)
            break;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len - done ? s->len - off : len - done;
        memcpy((char *)dst + done, (const char *)s->addr + off, n);
        done += n;
        off = 0;
    }
    return done;
}

uint32_t virtq_fake_req_write(const struct virtq_fake_req *req, uint32_t off, const void *src, uint32_t len)
{
    uint32_t done = 0;
    int i;
    for (i = 0; i < req->nseg && done < len; i++) {
        const struct virtq_fake_seg *s = &req->seg[i];
        uint32_t n;
        if (!s->writable)
            continue;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len - done ? s->len - off : len - done;
        memcpy((char *)s->addr + off, (const char *)src + done, n);
        done += n;
        off = 0;
    }
    return done;
}

void virtq_fake_suppress_notify(struct virtq_fake_dev *dev, int q, int on)
{
    if (bad_queue(dev, q))
        return;
    dev_lock(dev);
    dev->q[q].suppress = (uint8_t)(on != 0);
    publish_notify_wish(dev, &dev->q[q]);
    dev_unlock(dev);
}

int virtq_fake_inject(struct virtq_fake_dev *dev, int q, enum virtq_fake_fault fault, int count)
{
    int i;
    if (dev == NULL || count < 0 || (unsigned)fault > (unsigned)VIRTQ_FAKE_FAULT_NEEDS_RESET)
        return -1;
    if (fault < VIRTQ_FAKE_FAULT_SPURIOUS_IRQ && fault != VIRTQ_FAKE_FAULT_NONE && bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    switch (fault) {
    case VIRTQ_FAKE_FAULT_SPURIOUS_IRQ:
        /* The line rises with nothing in InterruptStatus. */
        for (i = 0; i < count; i++) {
            dev->raise_pending = 1;
            dev->st.irqs++;
        }
        break;
    case VIRTQ_FAKE_FAULT_SPURIOUS_VRING:
        for (i = 0; i < count; i++)
            raise_irq(dev, VIRTIO_MMIO_INT_VRING);
        break;
    case VIRTQ_FAKE_FAULT_NEEDS_RESET:
        if (count > 0)
            set_needs_reset(dev);
        break;
    case VIRTQ_FAKE_FAULT_NONE:
        if (!bad_queue(dev, q)) {
            dev->q[q].fault = VIRTQ_FAKE_FAULT_NONE;
            dev->q[q].fault_count = 0;
        }
        break;
    default:
        dev->q[q].fault = count ? (int)fault : VIRTQ_FAKE_FAULT_NONE;
        dev->q[q].fault_count = count;
        break;
    }
    dev_unlock(dev);
    return 0;
}

int virtq_fake_queue_view(struct virtq_fake_dev *dev, int q, struct virtq_fake_queue_view *out)
{
    struct fake_queue *fq;
    int rc = -1;
    if (bad_queue(dev, q) || out == NULL)
        return -1;
    dev_lock(dev);
    fq = &dev->q[q];
    if (fq->ready) {
        out->desc = fq->desc;
        out->avail = fq->avail;
        out->used = fq->used;
        out->used_event = used_event_ptr(fq);
        out->avail_event = avail_event_ptr(fq);
        out->num = fq->num;
        out->last_avail = fq->last_avail;
        out->used_idx = fq->used_idx;
        rc = 0;
    }
    dev_unlock(dev);
    return rc;
}

int virtq_fake_push_used_raw(struct virtq_fake_dev *dev, int q, uint32_t id, uint32_t len)
{
    struct fake_queue *fq;
    int rc = -1;
    if (bad_queue(dev, q))
        return -1;
    dev_lock(dev);
    fq = &dev->q[q];
    if (fq->ready) {
        batch_begin(fq);
        put_used(fq, id, len);
        batch_end(dev, q, fq);
        rc = 0;
    }
    dev_unlock(dev);
    return rc;
}

int virtq_fake_config_set(struct virtq_fake_dev *dev, uint32_t off, const void *data, uint32_t len, int notify_driver)
{
    if (off > dev->config_len || len > dev->config_len - off)
        return -1;
    dev_lock(dev);
    memcpy(dev->config + off, data, len);
    dev->generation++;
    if (notify_driver && (dev->status & ST_DRIVER_OK))
        raise_irq(dev, VIRTIO_MMIO_INT_CONFIG);
    dev_unlock(dev);
    return 0;
}

uint8_t *virtq_fake_config_bytes(struct virtq_fake_dev *dev)
{
    return dev->config;
}

void virtq_fake_config_bump(struct virtq_fake_dev *dev)
{
    dev_lock(dev);
    dev->generation++;
    dev_unlock(dev);
}

void virtq_fake_config_flap(struct virtq_fake_dev *dev, uint32_t n)
{
    dev_lock(dev);
    dev->flap = n;
    dev_unlock(dev);
}

void virtq_fake_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_stats *out)
{
    int i;
    dev_lock(dev);
    *out = dev->st;
    for (i = 0; i < dev->nq; i++)
        out->q[i] = dev->q[i].st;
    dev_unlock(dev);
}

/* ---- low memory for legacy rings ------------------------------------------------------------------------------------ */

/* A legacy queue is named by a 32-bit page number, so its ring must lie
   below 2^44; host heap and PIE addresses do not.  Map pages low (below
   4 GiB, like a small board's RAM); the size sits in the first page. */
void *virtq_fake_lowmem_alloc(size_t bytes)
{
    size_t total = ((bytes + 4095u) & ~(size_t)4095u) + 4096u;
    uintptr_t hint;
    for (hint = 0x40000000u; hint < 0xf0000000u; hint += 0x01000000u) {
        void *p = mmap((void *)hint, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            continue;
        if ((uintptr_t)p + total <= 0x100000000ull) {
            *(size_t *)p = total;
            return (char *)p + 4096;
        }
        munmap(p, total);
    }
    return NULL;
}

void virtq_fake_lowmem_free(void *p)
{
    char *base;
    if (p == NULL)
        return;
    base = (char *)p - 4096;
    munmap(base, *(size_t *)base);
}
