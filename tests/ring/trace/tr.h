/* SPDX-License-Identifier: MIT */
/* tests/ring/trace/tr.h — the access-tracing harness (issue 15: breaks no
 * other test notices).
 *
 * tr_impl.c holds virtq's implementation and is compiled with clang's
 * ThreadSanitizer instrumentation (-fsanitize=thread -mllvm
 * -tsan-distinguish-volatile=1) but linked WITHOUT the TSan runtime:
 * tr_rt.c supplies the __tsan_* entry points itself.  So every memory
 * access virtq's code makes arrives here before it happens, tagged plain,
 * volatile or atomic (with its memory order), with its address and width.
 * Barriers (VIRTQ_MB... hooks or, in the atomics build, C11 fences), MMIO
 * registers, the clock, the OS wait and the fake CPU (irq mask, wfi) are
 * hooks too.  The log of what touched the ring memory, in program order,
 * lets a test say *where* a barrier sits relative to an index access,
 * whether an access is volatile, and run a device action at an exact point
 * of virtq's code (e.g. right after the re-check load of used.idx).
 *
 * Three builds of tr_impl.c share the tests (tr_config says which):
 *   vol      volatile accesses, barrier hooks, a clock: every strategy
 *   atomics  VIRTQ_USE_ATOMICS=1 with the shim's own C11 fences (seen as
 *            __tsan_atomic_thread_fence), a clock
 *   noclock  no VIRTQ_NOW_US: spin waits bounded by VIRTQ_SPINS_PER_US
 */
#ifndef TR_H
#define TR_H

#include <stddef.h>
#include <stdint.h>

#define TR_CFG_VOL 1
#define TR_CFG_ATOMICS 2
#define TR_CFG_NOCLOCK 3
extern const int tr_config;
extern const unsigned tr_spins_per_us;

/* ---- hooks the implementation calls (tr_rt.c) --------------------------- */
enum tr_bar { TR_MB, TR_RMB, TR_WMB, TR_DMA_MB, TR_DMA_RMB, TR_DMA_WMB, TR_BAR_KINDS };
void tr_barrier(int kind);
uint32_t tr_mmio_read(uintptr_t addr, int width);
void tr_mmio_write(uintptr_t addr, uint32_t val, int width);
uint64_t tr_now_us(void);
int tr_os_wait(void *ctx, const volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
void tr_os_wake(void *ctx);
unsigned long tr_irq_save(void);
void tr_irq_restore(unsigned long flags);
void tr_wfi(void);
void tr_wfi_alarm(uint64_t deadline_us);
void tr_relax(void);

/* ---- the event log -------------------------------------------------------- */
enum tr_ev {
    EV_LOAD,
    EV_STORE,
    EV_RMW,     /* atomic read-modify-write */
    EV_BARRIER, /* a VIRTQ_* barrier hook: arg = enum tr_bar */
    EV_FENCE,   /* a C11 fence: arg = memory order */
    EV_MMIO_R,  /* arg = register offset */
    EV_MMIO_W,
    EV_NOW,
    EV_OS_WAIT,
    EV_IRQ_SAVE,
    EV_IRQ_RESTORE,
    EV_WFI,
    EV_RELAX
};
enum tr_flavor { FL_PLAIN, FL_VOLATILE, FL_ATOMIC };
#define TR_MO_RELAXED 0
#define TR_MO_ACQUIRE 2
#define TR_MO_RELEASE 3
#define TR_MO_SEQ_CST 5

struct tr_event {
    enum tr_ev ev;
    enum tr_flavor fl;
    int mo;        /* atomics: memory order */
    int arg;       /* barrier kind, fence order, register offset */
    uintptr_t addr;
    unsigned size;
    int region;    /* which watched region the address is in */
};

/* Watched memory: only accesses inside a region are logged (and checked). */
#define TR_REGION_RING 1
#define TR_REGION_SEQ 2
#define TR_REGION_TABLE 3
void tr_watch(int region, const void *p, size_t len);
void tr_unwatch_all(void);

#define TR_LOG_MAX 65536
extern struct tr_event tr_log[TR_LOG_MAX];
extern unsigned tr_nlog;
void tr_log_clear(void);
const char *tr_event_str(const struct tr_event *e, char *buf, size_t len);

/* A device action run at the next logged event (or hook) after the one the
   trigger matched: "right after that access happened". */
typedef int (*tr_trigger_fn)(const struct tr_event *e, void *ctx); /* 1: fire */
typedef void (*tr_action_fn)(void *ctx);
void tr_set_action(tr_trigger_fn trig, tr_action_fn act, void *ctx);
unsigned tr_action_runs(void);

/* ---- the register-level device (virtio-mmio v2, one queue) ----------------- */
#define TR_BASE ((uintptr_t)0x10001000u)
struct tr_regs {
    uint32_t status, isr, qsel, qnum, qready, dfsel, gfsel;
    uint32_t desc[2], driver[2], device[2];
    uint64_t offered, accepted;
    uint32_t notifies, acks, isr_reads;
    int needs_reset_on_driver_ok; /* DRIVER_OK written: status gets NEEDS_RESET */
    int early_irqs;               /* every status write before DRIVER_OK raises */
};
extern struct tr_regs tr_dev_regs;
void tr_regs_reset(uint64_t offered);

/* ---- the clock, OS wait and fake CPU ----------------------------------------- */
extern uint64_t tr_clock;            /* the fake clock, us */
extern uint64_t tr_clock_step;       /* added at every tr_now_us() */
/* At the first tr_now_us() reading >= tr_deadline_at (0: off), run
   tr_deadline_fn first: something that happens exactly at the deadline. */
extern uint64_t tr_deadline_at;
extern void (*tr_deadline_fn)(void *ctx);
extern void *tr_deadline_ctx;
extern unsigned tr_os_blocked;       /* OS waits entered with *seq == seen */
extern unsigned tr_os_waits;
extern uint64_t tr_os_until_max;     /* latest tr_clock + timeout an OS wait asked for */
extern int tr_irq_masked;            /* fake CPU: interrupts masked */
extern int tr_irq_pending;           /* fake CPU: the device line is up */
extern void (*tr_cpu_isr)(void *ctx);/* runs when pending and unmasked */
extern void *tr_cpu_isr_ctx;
extern unsigned tr_wfi_slept;        /* wfis that slept to their alarm */
extern unsigned tr_wfi_woken;        /* wfis ended by a pending interrupt */
extern uint64_t tr_alarm;
extern unsigned long tr_relaxes;
/* Raise the device interrupt on the fake CPU: taken now unless masked. */
void tr_cpu_raise(void);
void tr_reset_all(void);

#endif
