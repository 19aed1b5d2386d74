/* SPDX-License-Identifier: MIT */
/* virtq board layer: preemptive round-robin scheduler (see sched.h). */
#include "sched.h"

#include "board_api.h"

#include <picotls.h>

enum task_state {
    TASK_FREE = 0,
    TASK_READY,
    TASK_RUNNING,
    TASK_SLEEPING,   /* waiting for its deadline only        */
    TASK_BLOCKED,    /* waiting on chan, bounded by deadline */
    TASK_EXITED
};

#define STACK_CANARY 0x5afec0deu
/* Words of canary at the bottom of each stack, checked at every switch.  A
 * band rather than one word: frames with large locals can step over a single
 * word without writing it. */
#define CANARY_WORDS 32

typedef struct sched_task {
    board_frame frame;             /* first: 16-byte aligned, trap.S saves here */
    enum task_state state;
    sched_fn fn;
    void *arg;
    void *chan;
    uint64_t deadline_us;          /* BOARD_NEVER when not waiting on time */
    int wake_result;               /* SCHED_OK or SCHED_ETIMEDOUT */
    volatile uint32_t *canary;     /* CANARY_WORDS at the stack's bottom */
} sched_task;

static sched_task tasks[SCHED_MAX_TASKS];
static int current = -1;           /* -1: boot context / idle loop */
static int started;
static uint64_t next_tick_us = BOARD_NEVER;
static board_frame *idle_frame;
static sched_stats stats;

static int is_waiting(const sched_task *t)
{
    return t->state == TASK_SLEEPING || t->state == TASK_BLOCKED;
}

static uint64_t deadline_after(uint64_t us)
{
    uint64_t now = board_now_us();

    return us >= BOARD_NEVER - now ? BOARD_NEVER : now + us;
}

/* Earliest time the scheduler must look again: the next tick or the first
 * timed-out waiter.  Interrupts masked. */
static uint64_t next_deadline(void)
{
    uint64_t next = next_tick_us;

    for (int i = 0; i < SCHED_MAX_TASKS; i++)
        if (is_waiting(&tasks[i]) && tasks[i].deadline_us < next)
            next = tasks[i].deadline_us;
    return next;
}

/* Overflow checks at every switch: the saved sp must lie above the canary
 * band, and the band must be intact.  Neither sees an overflow that came
 * and went between two switches without touching the band, so size stacks
 * with margin. */
static void check_stack(int id)
{
    const sched_task *t = &tasks[id];

    if (board_frame_sp(&t->frame) < (uintptr_t)(t->canary + CANARY_WORDS))
        board_fail("sched: task %d overflowed its stack (sp 0x%lx)", id,
                   (unsigned long)board_frame_sp(&t->frame));
    for (int i = 0; i < CANARY_WORDS; i++)
        if (t->canary[i] != STACK_CANARY)
            board_fail("sched: task %d overflowed its stack (canary)", id);
}

static void task_entry(void *p)
{
    sched_task *t = p;

    t->fn(t->arg);
    sched_exit();
}

int sched_create(sched_fn fn, void *arg, void *stack, size_t stack_size)
{
    uintptr_t lo, top, tls_bytes;
    uintptr_t s;
    int id = -1;

    if (!fn || !stack)
        return SCHED_EINVAL;
    tls_bytes = ((uintptr_t)_tls_size() + 15u) & ~(uintptr_t)15u;
    lo = ((uintptr_t)stack + 15u) & ~(uintptr_t)15u;
    top = ((uintptr_t)stack + stack_size) & ~(uintptr_t)15u;
    if (top < lo || top - lo < SCHED_MIN_STACK + tls_bytes + 4u * CANARY_WORDS)
        return SCHED_EINVAL;

    s = board_irq_save();
    for (int i = 0; i < SCHED_MAX_TASKS; i++) {
        if (i != current &&
            (tasks[i].state == TASK_FREE || tasks[i].state == TASK_EXITED)) {
            id = i;
            break;
        }
    }
    if (id < 0) {
        board_irq_restore(s);
        return SCHED_ENOSPC;
    }
    sched_task *t = &tasks[id];
    /* TLS block at the top, stack grows down below it, canary at the end. */
    top -= tls_bytes;
    _init_tls((void *)top);
    t->canary = (volatile uint32_t *)lo;
    for (int i = 0; i < CANARY_WORDS; i++)
        t->canary[i] = STACK_CANARY;
    board_frame_init(&t->frame, task_entry, t, top, (void *)top);
    t->fn = fn;
    t->arg = arg;
    t->chan = NULL;
    t->deadline_us = BOARD_NEVER;
    t->wake_result = SCHED_OK;
    t->state = TASK_READY;
    board_irq_restore(s);
    return id;
}

/* Switch hook, runs at the end of a trap with interrupts masked: pick the
 * next ready task after the current one (the current one last). */
static board_frame *sched_switch(board_frame *cur)
{
    int live = 0, next = -1;
    int start = current < 0 ? 0 : current + 1;

    if (current < 0) {
        idle_frame = cur;
    } else {
        check_stack(current);
        if (tasks[current].state == TASK_RUNNING)
            tasks[current].state = TASK_READY;
    }
    for (int k = 0; k < SCHED_MAX_TASKS; k++) {
        int i = (start + k) % SCHED_MAX_TASKS;
        enum task_state st = tasks[i].state;
        if (st != TASK_FREE && st != TASK_EXITED)
            live++;
        if (next < 0 && st == TASK_READY)
            next = i;
    }
    if (next < 0) {
        if (live == 0)
            board_fail("sched: every task exited, nothing left to run");
        if (current >= 0) {
            stats.switches++;
            stats.idle_entries++;
        }
        current = -1;
        return idle_frame;
    }
    if (next != current)
        stats.switches++;
    current = next;
    tasks[next].state = TASK_RUNNING;
    check_stack(next);
    return &tasks[next].frame;
}

/* Timer hook: time out waiters, preempt on the tick, say when to look
 * again.  Interrupt context. */
static uint64_t sched_tick(uint64_t now)
{
    int resched = 0;

    for (int i = 0; i < SCHED_MAX_TASKS; i++) {
        sched_task *t = &tasks[i];
        if (is_waiting(t) && t->deadline_us <= now) {
            if (t->state == TASK_BLOCKED) {
                t->wake_result = SCHED_ETIMEDOUT;
                stats.timeouts++;
            }
            t->state = TASK_READY;
            t->deadline_us = BOARD_NEVER;
            resched = 1;
        }
    }
    if (now >= next_tick_us) {
        stats.ticks++;
        next_tick_us = now + SCHED_TICK_US;
        resched = 1;
    }
    if (resched)
        board_request_switch();
    return next_deadline();
}

void sched_start(void)
{
    int any = 0;

    if (started || board_in_trap())
        board_fail("sched_start: called twice or from an interrupt");
    for (int i = 0; i < SCHED_MAX_TASKS; i++)
        any |= tasks[i].state == TASK_READY;
    if (!any)
        board_fail("sched_start: no task to run");

    (void)board_irq_save();
    started = 1;
    board_set_sched_hooks(sched_switch, sched_tick);
    next_tick_us = board_now_us() + SCHED_TICK_US;
    board_sched_timer_at(next_tick_us);
    board_interrupts_on();
    board_switch_now();
    /* Idle: back here only when no task is ready.  Every wfi is bounded by
     * the tick; with interrupts enabled the handler may switch to a task
     * that became ready, and the loop resumes here when all block again. */
    for (;;)
        board_wfi();
}

void sched_yield(void)
{
    if (current >= 0 && !board_in_trap())
        board_switch_now();
}

int sched_sleep_us(uint64_t us)
{
    uintptr_t s;

    if (current < 0 || board_in_trap())
        return SCHED_EPERM;
    s = board_irq_save();
    tasks[current].deadline_us = deadline_after(us);
    tasks[current].state = TASK_SLEEPING;
    board_sched_timer_at(next_deadline());
    board_switch_now();
    board_irq_restore(s);
    return SCHED_OK;
}

void sched_exit(void)
{
    if (current < 0 || board_in_trap())
        board_fail("sched_exit: called outside a task");
    (void)board_irq_save();
    tasks[current].state = TASK_EXITED;
    board_switch_now();
    board_fail("sched_exit: an exited task was resumed");
}

int sched_wait_seq(void *chan, volatile uint32_t *seq, uint32_t seen,
                   uint64_t timeout_us)
{
    uintptr_t s;
    sched_task *t;
    int r;

    if (!chan || !seq)
        return SCHED_EINVAL;
    if (current < 0 || board_in_trap())
        return SCHED_EPERM;
    /* Masked from the check to the block: a wake cannot slip in between. */
    s = board_irq_save();
    if (*seq != seen) {
        board_irq_restore(s);
        return SCHED_CHANGED;
    }
    if (timeout_us == 0) {
        board_irq_restore(s);
        return SCHED_ETIMEDOUT;
    }
    t = &tasks[current];
    t->chan = chan;
    t->deadline_us = deadline_after(timeout_us);
    t->wake_result = SCHED_OK;
    t->state = TASK_BLOCKED;
    board_sched_timer_at(next_deadline());
    board_switch_now();            /* returns once woken or timed out */
    r = t->wake_result;
    t->chan = NULL;
    board_irq_restore(s);
    return r;
}

void sched_wake(void *chan)
{
    uintptr_t s = board_irq_save();
    int woken = 0;

    for (int i = 0; i < SCHED_MAX_TASKS; i++) {
        sched_task *t = &tasks[i];
        if (t->state == TASK_BLOCKED && t->chan == chan) {
            t->state = TASK_READY;
            t->deadline_us = BOARD_NEVER;
            t->wake_result = SCHED_OK;
            woken++;
        }
    }
    stats.wakes += (uint32_t)woken;
    /* From an interrupt this switches when the trap returns; from a task,
     * at the next tick or yield. */
    if (woken)
        board_request_switch();
    board_irq_restore(s);
}

int sched_self(void) { return current; }

int sched_running(void) { return started; }

void sched_get_stats(sched_stats *out)
{
    uintptr_t s = board_irq_save();

    *out = stats;
    board_irq_restore(s);
}
