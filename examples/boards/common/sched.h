/* SPDX-License-Identifier: MIT */
/* virtq board layer: a tiny preemptive round-robin scheduler.
 *
 * Static task table, caller-provided stacks, no malloc.  A CLINT timer tick
 * (SCHED_TICK_US) preempts the running task; sched_yield() gives the CPU up
 * early.  Each task has its own trap frame, so a switch from the timer
 * interrupt never shares state between tasks, and its own picolibc TLS block
 * (errno) carved from the top of its stack.
 *
 * Blocking is futex-like: sched_wait_seq() sleeps only while a sequence
 * counter still holds the value the caller saw, with the check done under
 * the interrupt mask, so a sched_wake() from an interrupt handler that lands
 * between the caller's check and the block is never lost.  This is the pair
 * virtq's OS wait strategy calls: the interrupt handler bumps the counter
 * and wakes the channel; the driver waits on it.
 *
 * Under the scheduler a task must never `wfi` to wait for a device (field
 * note 000): the tick would switch away mid-poll.  It blocks here instead;
 * the idle loop is the only place that executes wfi.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifndef SCHED_MAX_TASKS
#define SCHED_MAX_TASKS 8
#endif
#ifndef SCHED_TICK_US
#define SCHED_TICK_US 1000u
#endif
/* Smallest stack sched_create accepts; the TLS block and a 128-byte canary
 * band come on top.  Each switch checks the saved sp and the band, which
 * catches a task that is deep when preempted or that wrote the band, not
 * every overflow: size stacks with margin. */
#define SCHED_MIN_STACK 1024u

/* Return values.  >= 0 means "look at your condition again". */
#define SCHED_OK        0    /* woken by sched_wake (or sleep finished)   */
#define SCHED_CHANGED   1    /* *seq != seen on entry: did not block      */
#define SCHED_ETIMEDOUT (-1) /* the timeout passed without a wake         */
#define SCHED_EPERM     (-2) /* not called from a task (boot or interrupt) */
#define SCHED_EINVAL    (-3) /* bad argument                              */
#define SCHED_ENOSPC    (-4) /* task table full                           */

typedef void (*sched_fn)(void *arg);

/* Create a runnable task running fn(arg) on stack[0..stack_size).  Returning
 * from fn is sched_exit().  Callable before sched_start() or from a task.
 * Returns the task id (0..SCHED_MAX_TASKS-1) or a negative SCHED_E*. */
int sched_create(sched_fn fn, void *arg, void *stack, size_t stack_size);

/* Start the tick, turn interrupts on (board_interrupts_on()) and run the
 * tasks; the calling (boot) context becomes the idle loop, which sleeps in
 * wfi.  Call it after every device finished its init.  Never returns; if
 * every task has exited, the run ends with `RESULT <name> FAIL`: the
 * program's last task is expected to end it with board_pass/board_fail. */
void sched_start(void) __attribute__((noreturn));

/* Give the CPU to the next runnable task (no-op outside a task). */
void sched_yield(void);

/* Sleep at least us microseconds.  SCHED_OK, or SCHED_EPERM outside a task. */
int sched_sleep_us(uint64_t us);

/* End the calling task.  Its slot and stack may then be reused. */
void sched_exit(void) __attribute__((noreturn));

/* Block the calling task on chan while *seq == seen, at most timeout_us.
 *   SCHED_CHANGED    *seq != seen already: returned at once
 *   SCHED_OK         woken by sched_wake(chan) (re-check *seq: wakes may be
 *                    shared or spurious)
 *   SCHED_ETIMEDOUT  timeout_us passed (0 = check only, never block)
 *   SCHED_EPERM      called outside a task (before sched_start, from the
 *                    idle loop or from an interrupt handler)
 *   SCHED_EINVAL     chan or seq is NULL */
int sched_wait_seq(void *chan, volatile uint32_t *seq, uint32_t seen,
                   uint64_t timeout_us);

/* Make every task blocked on chan runnable.  Callable from tasks and from
 * interrupt handlers; it never blocks.  Bump the sequence counter first. */
void sched_wake(void *chan);

/* Id of the calling task, or -1 outside a task. */
int sched_self(void);
/* 1 once sched_start() ran. */
int sched_running(void);

typedef struct sched_stats {
    uint32_t switches;   /* times a different context was resumed       */
    uint32_t ticks;      /* preemption ticks taken                       */
    uint32_t wakes;      /* tasks made runnable by sched_wake            */
    uint32_t timeouts;   /* sched_wait_seq calls that timed out          */
    uint32_t idle_entries; /* times the idle loop was resumed            */
} sched_stats;
void sched_get_stats(sched_stats *out);

#endif /* SCHED_H */
