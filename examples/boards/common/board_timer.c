/* SPDX-License-Identifier: MIT */
/* The alarm and the scheduler tick on one comparator (board_timer.h): each
 * user keeps its own deadline in counter ticks (BOARD_NEVER when idle) and
 * the comparator gets the earlier.  Board-neutral: the hardware is behind
 * board__timer_hw(). */
#include "board_timer.h"

static uint64_t alarm_at = BOARD_NEVER;
static uint64_t sched_at = BOARD_NEVER;
static board_tick_fn sched_tick_fn;
static board_switch_fn sched_switch_fn;
static uint32_t timer_irqs, alarm_fires;

/* Interrupts masked. */
static void timer_program(void)
{
    board__timer_hw(alarm_at < sched_at ? alarm_at : sched_at);
}

void board__timer_start(void)
{
    alarm_at = BOARD_NEVER;
    sched_at = BOARD_NEVER;
    timer_program();
}

/* One of the two deadlines moves: masked, so the ISR never sees half. */
static void set_deadline(uint64_t *at, uint64_t ticks)
{
    uintptr_t s = board_irq_save();

    *at = ticks;
    timer_program();
    board_irq_restore(s);
}

void board_alarm_us(uint64_t deadline_us)
{
    set_deadline(&alarm_at, board__us_to_ticks(deadline_us));
}

void board_alarm_cancel(void)
{
    set_deadline(&alarm_at, BOARD_NEVER);
}

int board_alarm_pending(void)
{
    return alarm_at != BOARD_NEVER;
}

void board_set_sched_hooks(board_switch_fn sw, board_tick_fn tick)
{
    uintptr_t s = board_irq_save();

    sched_switch_fn = sw;
    sched_tick_fn = tick;
    board_irq_restore(s);
}

board_switch_fn board__switch_hook(void) { return sched_switch_fn; }

void board_sched_timer_at(uint64_t deadline_us)
{
    set_deadline(&sched_at, board__us_to_ticks(deadline_us));
}

void board__timer_isr(void)
{
    uint64_t now = board_now_ticks();

    timer_irqs++;
    if (alarm_at <= now) {
        alarm_at = BOARD_NEVER;   /* one-shot: the wfi it bounded has woken */
        alarm_fires++;
    }
    if (sched_at <= now) {
        sched_at = BOARD_NEVER;
        if (sched_tick_fn) {
            uint64_t next = board__us_to_ticks(sched_tick_fn(board__ticks_to_us(now)));
            if (next < sched_at)
                sched_at = next;
        }
    }
    timer_program();   /* moves the comparator ahead or disarms: the line drops */
}

void board__timer_stats(board_stats *out)
{
    out->timer_irqs = timer_irqs;
    out->alarm_fires = alarm_fires;
}
